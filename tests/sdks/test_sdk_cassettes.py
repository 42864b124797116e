"""Every cassette of a family, read by that family's official SDK.

A success cassette must parse to the content, raw finish reason and token usage the oracle
reads from the same bytes; an error cassette must make the SDK raise its own HTTP error class
with the recorded status. An SDK that rejects a cassette is stricter than ailib, and the
cassette (so the simulator) is what is wrong."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import pytest

from .adapters import ADAPTERS
from .support import Recorded, cassettes, need, oracle_reading

# cohere 7.3's own models still read pydantic's deprecated __fields__
pytestmark = [
    pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated:DeprecationWarning"),
    # The SDKs judge the cassettes, not ailib: coverage (ailib's) has nothing to measure here,
    # and tracing the SDKs' calls would cost more than the replays themselves.
    pytest.mark.no_cover,
]

SUCCESS = [(a, c) for a in ADAPTERS for c in cassettes(a.accepts, "success")]
ERRORS = [(a, c) for a in ADAPTERS for c in cassettes(a.accepts, "error")]


def _id(value: Any) -> str:
    return getattr(value, "name", None) or str(value)


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # an SDK enum (FinishReason.STOP) as its wire value


#: What the shared clients' transports answer: the recording of the test that is running,
#: and how many requests were answered with it.
_ANSWERING: dict[str, Any] = {}


def _answer() -> tuple[int, dict[str, str], bytes]:
    recorded: Recorded = _ANSWERING["recorded"]
    _ANSWERING["served"] += 1
    return recorded.status, recorded.headers, recorded.body


@functools.cache
def _sdk_client(adapter: Any) -> Any:
    """One SDK client per adapter (per worker), over a transport that replays ``_ANSWERING``:
    building one costs up to ~150 ms (TLS contexts, pydantic set-up), a replayed call ~5 ms."""
    http = pytest.importorskip(
        adapter.http_module,
        reason=f"the {adapter.name} SDK is not installed (no {adapter.http_module}; pip install -e '.[sdks]')",
    )
    from .support import replay_client

    return adapter.client(replay_client(http, _answer))


def _replay(adapter: Any, recorded: Recorded) -> Any:
    client = _sdk_client(adapter)
    _ANSWERING.update(recorded=recorded, served=0)
    return client


@pytest.mark.parametrize(("adapter", "recorded"), SUCCESS, ids=[f"{a.name}-{c}" for a, c in SUCCESS])
def test_sdk_parses_the_success_cassette_like_the_oracle(adapter: Any, recorded: Recorded) -> None:
    recorded = recorded.loaded()
    client = _replay(adapter, recorded)
    got = adapter.call(client, recorded.model, recorded.stream)
    assert {"recorded": recorded, "served": 1} == _ANSWERING, f"{recorded}: not one request replayed"
    want = oracle_reading(recorded.family, recorded.body, recorded.stream)
    assert got.content == want.content, f"{recorded}: content"
    assert _plain(got.finish) == want.finish, f"{recorded}: finish reason"
    assert (got.prompt_tokens, got.completion_tokens) == (want.prompt_tokens, want.completion_tokens), (
        f"{recorded}: usage"
    )
    if not recorded.stream or recorded.scenario.expect.get("usage_events"):  # every reply that reports usage
        assert want.prompt_tokens is not None and want.completion_tokens is not None, f"{recorded}: no usage"


@pytest.mark.parametrize(("adapter", "recorded"), ERRORS, ids=[f"{a.name}-{c}" for a, c in ERRORS])
def test_sdk_raises_its_error_class_with_the_recorded_status(adapter: Any, recorded: Recorded) -> None:
    recorded = recorded.loaded()
    client = _replay(adapter, recorded)
    with pytest.raises(adapter.error_type()) as caught:
        adapter.call(client, recorded.model, stream=False)
    assert {"recorded": recorded, "served": 1} == _ANSWERING, f"{recorded}: not one request replayed"
    assert adapter.error_status(caught.value) == recorded.status, f"{recorded}: {caught.value!r}"


def test_every_family_has_cassettes_to_judge() -> None:
    """The parametrisation above is not empty for any SDK (a renamed family would empty it)."""
    for adapter in ADAPTERS:
        assert any(a is adapter for a, _ in SUCCESS), adapter.name
        assert any(a is adapter for a, _ in ERRORS), adapter.name


def test_a_swapped_anthropic_usage_body_fails_the_sdk_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately wrong body (Anthropic's usage under OpenAI's names) is caught: the SDK
    reads no input_tokens where every Anthropic reply has them."""
    need("anthropic")

    adapter, recorded = next((a, c.loaded()) for a, c in SUCCESS if a.name == "anthropic" and c.scenario.id == "basic")
    body = json.loads(recorded.body)
    body["usage"]["prompt_tokens"] = body["usage"].pop("input_tokens")
    body["usage"]["completion_tokens"] = body["usage"].pop("output_tokens")
    wrong = dataclasses.replace(recorded, body=json.dumps(body).encode())
    with pytest.raises(AssertionError):
        test_sdk_parses_the_success_cassette_like_the_oracle(adapter, wrong)


def test_a_comment_line_in_a_gemini_stream_fails_the_sdk_judge() -> None:
    """Why the simulator sends Gemini no keep-alive comment: Google's SDK cannot read one
    (and no recorded Gemini stream holds one)."""
    adapter, recorded = next(
        (a, c.loaded()) for a, c in SUCCESS if a.name == "google-genai" and c.scenario.id == "stream"
    )
    need("google.genai")
    wrong = dataclasses.replace(recorded, body=b": keep-alive\r\n\r\n" + recorded.body)
    with pytest.raises(Exception, match="parse"):
        test_sdk_parses_the_success_cassette_like_the_oracle(adapter, wrong)
