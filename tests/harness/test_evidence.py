"""The evidence layer on its own: spec loading, strict request checks, spec departures, protos.

Expected values are written here by hand from the spec files and recordings in ../shared
(never read back from a manifest or from the code under test).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.evidence import spec_checks
from conformance.evidence.observed import DEFAULT_OBSERVED_DIR, observed_dir_status
from conformance.evidence.protos import camel, gemini_schemas
from conformance.evidence.spec_checks import SpecJudge
from conformance.evidence.specs import DEFAULT_SPECS_DIR, normalise, specs_dir_status

SPECS = Path(os.environ.get("AILIB_SPECS_DIR") or DEFAULT_SPECS_DIR)
OBSERVED = Path(os.environ.get("AILIB_OBSERVED_DIR") or DEFAULT_OBSERVED_DIR)
needs_specs = pytest.mark.skipif(specs_dir_status(SPECS) is not None, reason=f"no specs: {specs_dir_status(SPECS)}")
needs_both = pytest.mark.skipif(
    bool(specs_dir_status(SPECS) or observed_dir_status(OBSERVED)), reason="specs or recordings not available"
)

BASIC = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


def test_proto_field_names_are_lower_camel_case() -> None:
    assert camel("max_output_tokens") == "maxOutputTokens"
    assert camel("top_p") == "topP"
    assert camel("contents") == "contents"


@needs_specs
def test_gemini_protos_give_the_request_fields_and_the_finish_reason_enum() -> None:
    defs = gemini_schemas(SPECS / "gemini")["$defs"]
    config = defs["GenerationConfig"]["properties"]
    for name in ("temperature", "topP", "maxOutputTokens", "stopSequences"):
        assert name in config
    assert config["stopSequences"] == {"type": "array", "items": {"type": "string"}}
    names = defs["Candidate.FinishReason"]["anyOf"][0]["enum"]
    for value in ("STOP", "MAX_TOKENS", "SAFETY", "IMAGE_SAFETY", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"):
        assert value in names
    assert defs["GenerateContentRequest"]["required"] == ["contents"]  # the model is in the URL


def test_openapi_3_0_idioms_become_json_schema_2020_12() -> None:
    doc = {"a": {"type": "string", "nullable": True}, "b": {"type": "number", "minimum": 0, "exclusiveMinimum": True}}
    normalise(doc)
    assert doc["a"] == {"type": ["string", "null"]}
    assert doc["b"] == {"type": "number", "exclusiveMinimum": 0}


@needs_specs
def test_strict_mode_names_provider_scenario_field_spec_file_and_location() -> None:
    judge = SpecJudge(SPECS)
    assert judge.check_request("openai", "openai-chat", "basic", BASIC) == []
    problems = judge.check_request("openai", "openai-chat", "basic", {**BASIC, "max_tokenz": 5})
    assert len(problems) == 1
    text = problems[0]
    for part in (
        "openai/basic",
        "max_tokenz",
        "openai/openapi.yaml",
        "/components/schemas/CreateChatCompletionRequest",
    ):
        assert part in text, text
    assert (
        SpecJudge(SPECS, strict=False).check_request("openai", "openai-chat", "basic", {**BASIC, "max_tokenz": 5}) == []
    )


@needs_specs
def test_values_outside_the_spec_range_fail() -> None:
    problems = SpecJudge(SPECS).check_request("openai", "openai-chat", "temperature", {**BASIC, "temperature": 3})
    assert problems and "temperature" in problems[0] and "openai/openapi.yaml" in problems[0]


@needs_specs
def test_an_openai_compatible_provider_is_judged_by_openai_s_spec() -> None:
    problems = SpecJudge(SPECS).check_request("deepseek", "openai-chat", "basic", {**BASIC, "nucleus": 0.5})
    assert problems and "deepseek/basic" in problems[0] and "nucleus" in problems[0]
    assert SpecJudge(SPECS).check_request("anthropic", "anthropic-messages", "basic", BASIC) is None  # no spec


@needs_both
def test_a_spec_departure_is_accepted_only_where_the_cited_recording_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Mistral's spec requires `data` in a chat response; its real answers have none.
    answer = '{"id": "x", "object": "chat.completion", "model": "m", "created": 1, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}'
    facts = {"mistral": {"family": "openai-chat", "spec_deviations": []}}
    monkeypatch.setattr(spec_checks, "load_facts", lambda: facts)
    assert any(
        "'data' is a required property" in p
        for p in SpecJudge(SPECS, OBSERVED).check_response("mistral", "openai-chat", "basic", 200, answer, False)
    )
    facts["mistral"]["spec_deviations"] = [
        {"part": "response", "field": "data", "evidence": "recording: mistral__chat_nonstream_basic.json"}
    ]
    assert SpecJudge(SPECS, OBSERVED).check_response("mistral", "openai-chat", "basic", 200, answer, False) == []
    # citing a recording that does not show the departure excuses nothing
    facts["mistral"]["spec_deviations"] = [
        {"part": "response", "field": "data", "evidence": "recording: mistral__chat_stream_basic.json"}
    ]
    assert SpecJudge(SPECS, OBSERVED).check_response("mistral", "openai-chat", "basic", 200, answer, False) != []


def test_without_a_specs_directory_nothing_is_judged_and_the_reason_is_given(tmp_path: Path) -> None:
    judge = SpecJudge(tmp_path)
    assert judge.skip_reason == f"--specs {tmp_path} is empty"
    assert judge.check_request("openai", "openai-chat", "basic", {**BASIC, "max_tokenz": 5}) is None
