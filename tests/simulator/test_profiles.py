"""The behaviour profiles: every quirk cites where it was seen, and the citations resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.simulator.profiles import (
    EVIDENCE_FAMILY,
    EVIDENCE_OBSERVED,
    PROFILES_FILE,
    ProfileError,
    load_profiles,
    parse_profiles,
    profile_for,
)

from .realworld_shapes import REALWORLD_DIR, load_recordings, provider_of

SPECS_DIR = REALWORLD_DIR.parent / "specs"
PROFILES = load_profiles()
CITATIONS = sorted({(p.provider, q.name, c) for p in PROFILES.values() for q in p.quirks for c in q.cite})


def test_a_quirk_without_a_citation_is_refused() -> None:
    with pytest.raises(ProfileError, match=r"acme\.quirks\.done_marker: no citation"):
        parse_profiles({"acme": {"quirks": {"done_marker": {"value": False}}}})
    with pytest.raises(ProfileError, match="no citation"):
        parse_profiles({"acme": {"quirks": {"done_marker": {"value": False, "cite": []}}}})


def test_an_unknown_quirk_is_refused() -> None:
    with pytest.raises(ProfileError, match=r"acme\.quirks\.teleport: unknown quirk"):
        parse_profiles({"acme": {"quirks": {"teleport": {"value": True, "cite": ["x.json"]}}}})


def test_the_profiles_file_parses_and_every_quirk_cites() -> None:
    assert PROFILES, f"no profile in {PROFILES_FILE}"
    for profile in PROFILES.values():
        for quirk in profile.quirks:
            assert quirk.cite, f"{profile.provider}.{quirk.name}"


@pytest.mark.parametrize(("provider", "quirk", "cite"), CITATIONS, ids=lambda v: str(v)[:50])
def test_every_citation_resolves(provider: str, quirk: str, cite: str) -> None:
    """A recording exists (and is the provider's own); a spec location names a file under
    ../shared/specs that holds the cited text; anything else is a public https URL."""
    if cite.startswith("https://"):
        return
    if cite.startswith("specs/"):
        if not SPECS_DIR.is_dir():
            pytest.skip(f"no specs at {SPECS_DIR}")
        file, _, anchor = cite.removeprefix("specs/").partition("#")
        path = SPECS_DIR / file
        assert path.is_file(), f"{provider}.{quirk}: {cite}: no such spec file"
        assert anchor and anchor in path.read_text(encoding="utf-8"), f"{provider}.{quirk}: {cite}: text not found"
        return
    if not REALWORLD_DIR.is_dir():
        pytest.skip(f"no recordings at {REALWORLD_DIR}")
    path = REALWORLD_DIR / cite
    assert path.is_file(), f"{provider}.{quirk}: {cite}: no such recording"
    import json

    owner = provider_of(json.loads(path.read_text(encoding="utf-8")))
    assert owner == provider, f"{provider}.{quirk}: {cite} is a recording of {owner}"


def test_profile_recordings_exist() -> None:
    if not REALWORLD_DIR.is_dir():
        pytest.skip(f"no recordings at {REALWORLD_DIR}")
    names = {name for name, _ in load_recordings()}
    for profile in PROFILES.values():
        missing = [r for r in profile.recordings if r not in names]
        assert not missing, f"{profile.provider}: {missing}"


def test_evidence_levels() -> None:
    assert profile_for("perplexity").evidence == EVIDENCE_OBSERVED
    block = profile_for("perplexity").provenance("sonar")
    assert "perplexity__chat_stream_sonar_search_results.json" in block["profile_recordings"]
    assert {"no [DONE]", "CRLF line endings", "usage on every chunk, cumulative"} <= set(block["profile_notes"])
    # nothing real is recorded for Baidu: it is played as its family and says so
    assert profile_for("baidu").evidence == EVIDENCE_FAMILY
    assert profile_for("baidu").provenance() == {"profile": "family-default"}


def test_recorded_cassettes_state_their_profile_evidence() -> None:
    from conformance.cassettes import CASSETTES_DIR, read_provenance

    for path in sorted(Path(CASSETTES_DIR).glob("*/basic.yaml")):
        block = read_provenance(path) or {}
        if block.get("source") != "simulated":
            continue
        assert block.get("profile") == profile_for(path.parent.name).evidence, path


def test_model_scoped_quirks() -> None:
    cerebras = profile_for("cerebras")
    assert cerebras.for_model("gpt-oss-120b")["reasoning_field"] == "reasoning"
    assert "reasoning_field" not in cerebras.for_model("llama-3.3-70b")
    openrouter = profile_for("openrouter")
    assert openrouter.for_model("deepseek/deepseek-r1")["stream_usage"] == "separate_chunk"
    assert openrouter.for_model("moonshotai/kimi-k2-0905")["stream_usage"] == "usage_choice_chunk"


def test_reshape_removes_and_adds_keys_where_their_parent_is() -> None:
    from conformance.simulator.families.base import reshape

    body = {
        "system_fingerprint": "fp",
        "choices": [{"finish_reason": "stop", "logprobs": None, "message": {"tool_calls": [1]}}],
        "usage": {"prompt_tokens": 7},
    }
    reshape(
        body,
        ["system_fingerprint", "choices.logprobs"],
        {"choices.native_finish_reason": "{finish_reason}", "choices.message.tool_calls": None,
         "usage.prompt_cache_miss_tokens": "{prompt_tokens}", "x.y": 1},
    )  # fmt: skip
    assert body == {
        "choices": [{"finish_reason": "stop", "message": {"tool_calls": [1]}, "native_finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "prompt_cache_miss_tokens": 7},
    }
