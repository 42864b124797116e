"""Pluggable runtimes: the AI-Protocol manifest generator, the adapters' configuration, and
that a runtime which is missing, cannot load a provider or blows up gives reported cells,
never a crashed session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ailib import manifest as manifests
from conformance.runner import CellContext, run_cell, run_runtime, runtime_blocked
from conformance.runtimes import RUNTIMES, get_runtime
from conformance.runtimes.base import Call, Outcome
from conformance.runtimes.protocol_manifests import LAYOUT, to_protocol, upstream_path, write_all
from conformance.runtimes.support import foreign_error
from conformance.scenarios import load_scenarios

from .suite_run import output, run_suite

pytestmark = pytest.mark.no_cover  # the suite run in-process: the client paths its cells cover

# --- fake runtimes ----------------------------------------------------------------------


class MissingRuntime:
    name = "fake-missing"
    version = "0"

    def unavailable(self) -> str | None:
        return "fake-client is not installed (pip install fake-client)"

    def supports(self, provider: str) -> str | None:
        raise AssertionError("supports() must not be asked when the runtime is unavailable")

    async def run(self, call: Call) -> Outcome:
        raise AssertionError("run() must not be called when the runtime is unavailable")


class OpenAIOnlyRuntime(MissingRuntime):
    name = "fake-openai-only"

    def unavailable(self) -> str | None:
        return None

    def supports(self, provider: str) -> str | None:
        return None if provider == "openai" else "speaks only OpenAI"


class ExplodingRuntime(OpenAIOnlyRuntime):
    name = "fake-exploding"

    def supports(self, provider: str) -> str | None:
        return None

    async def run(self, call: Call) -> Outcome:
        raise KeyError("choices")


def _ctx(runtime: object) -> CellContext:
    return CellContext(runtime=runtime, http_client=lambda: None, seen=[], cassette=None, replaying=True, api_key="k")  # type: ignore[arg-type]


def _scenario(sid: str):
    return next(s for s in load_scenarios() if s.id == sid)


def _no_chat_provider() -> str:
    return next(p for p in manifests.available() if not manifests.load(p).chat_supported)


# --- the manifest generator -------------------------------------------------------------


def test_upstream_paths() -> None:
    assert upstream_path("choices.0.delta.content") == "choices[0].delta.content"
    assert upstream_path("choices.0.delta.content", dollar=True) == "$.choices[0].delta.content"
    assert upstream_path("content[type=text].text") == "content[*].text"
    assert upstream_path("candidates.0.content.parts[!thought].text") == "candidates[0].content.parts[*].text"
    assert upstream_path(None) is None


def test_openai_manifest_in_upstream_format() -> None:
    doc = to_protocol(manifests.load("openai"))
    assert doc["id"] == "openai" and doc["endpoint"]["base_url"] == "https://api.openai.com/v1"
    assert doc["endpoints"]["chat"] == {"path": "/chat/completions", "method": "POST"}
    assert doc["auth"] == {"type": "bearer", "token_env": "OPENAI_API_KEY"}
    assert doc["parameter_mappings"] == {
        "temperature": "temperature",
        "top_p": "top_p",
        "max_tokens": "max_completion_tokens",
        "stop_sequences": "stop",
        "stream": "stream",
    }
    assert doc["response_paths"] == {
        "content": "choices[0].message.content",
        "reasoning_content": "choices[0].message.reasoning_content",
        "finish_reason": "choices[0].finish_reason",
        "usage": "usage",
    }
    streaming = doc["streaming"]
    assert streaming["decoder"]["strategy"] == "openai_chat" and streaming["decoder"]["done_signal"] == "[DONE]"
    assert streaming["content_path"] == "choices[0].delta.content" and streaming["usage_path"] == "usage"
    assert {
        "match": "exists($.choices[0].delta.content)",
        "emit": "PartialContentDelta",
        "fields": {"content": "$.choices[0].delta.content"},
    } in streaming["event_map"]


def test_anthropic_manifest_header_auth_and_event_routes() -> None:
    doc = to_protocol(manifests.load("anthropic"))
    assert doc["auth"] == {
        "type": "api_key",
        "header": "x-api-key",
        "token_env": "ANTHROPIC_API_KEY",
        "extra_headers": [{"name": "anthropic-version", "value": "2023-06-01"}],
    }
    assert doc["parameter_mappings"]["stop_sequences"] == "stop_sequences"
    assert doc["streaming"]["decoder"]["format"] == "anthropic_sse"
    rules = {(r["emit"], r["match"]) for r in doc["streaming"]["event_map"]}
    assert ("PartialContentDelta", "$.type == 'content_block_delta' && exists($.delta.text)") in rules
    assert ("Metadata", "$.type == 'message_delta'") in rules
    assert ("StreamEnd", "$.type == 'message_stop'") in rules
    # no rule mixes '||' and '&&': ai-lib-python's selector would split it wrongly
    assert not any("||" in m and "&&" in m for _, m in rules)


def test_gemini_manifest_keeps_what_upstream_can_say() -> None:
    doc = to_protocol(manifests.load("gemini"))
    assert doc["endpoints"]["chat"]["path"] == "/models/{model}:generateContent"
    assert doc["endpoints"]["chat_stream"]["path"] == "/models/{model}:streamGenerateContent?alt=sse"
    assert doc["parameter_mappings"]["temperature"] == "generationConfig.temperature"
    assert "stream" not in doc["parameter_mappings"]  # Gemini has no stream flag
    # thought parts differ from text parts only by a filter: reasoning cannot be told apart
    assert "reasoning_content" not in doc["response_paths"]
    assert any("reasoning left out" in n for n in doc["x_ailib_notes"])


def test_azure_manifest_fills_url_variables_and_static_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", "myres")
    doc = to_protocol(manifests.load("azure"))
    assert doc["endpoint"]["base_url"] == "https://myres.openai.azure.com/openai/deployments/{model}"
    assert doc["endpoints"]["chat"]["path"] == "/chat/completions?api-version=2024-10-21"
    assert doc["auth"] == {"type": "api_key", "header": "api-key", "token_env": "AZURE_OPENAI_API_KEY"}


def test_write_all_writes_the_layout_ai_lib_python_reads_first(tmp_path: Path) -> None:
    paths = write_all(tmp_path)
    assert len(paths) == len(manifests.available())
    for path in paths:
        assert path.parent == tmp_path / LAYOUT
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["id"] == path.stem
        if manifests.load(path.stem).chat_supported:
            assert doc["endpoint"]["base_url"].startswith("https://") and doc["endpoints"]["chat"]["path"]


def test_ai_lib_python_loads_every_generated_manifest(tmp_path: Path) -> None:
    pytest.importorskip("ai_lib_python")
    from ai_lib_python.pipeline import Pipeline
    from ai_lib_python.protocol import ProtocolLoader

    write_all(tmp_path)
    loader = ProtocolLoader(base_path=tmp_path, fallback_to_github=False)
    for pid in manifests.available():
        loaded = asyncio.run(loader.load_provider(pid))
        assert loaded.id == pid
        Pipeline.from_manifest(loaded)


def test_ai_lib_python_sends_parameters_under_the_generated_names(tmp_path: Path) -> None:
    pytest.importorskip("ai_lib_python")
    from ai_lib_python import AiClient

    write_all(tmp_path)

    async def payload() -> dict:
        client = await AiClient.builder().model("openai/gpt-4o").protocol_path(str(tmp_path)).api_key("k").build()
        try:
            return client.chat().user("hi").temperature(0.5).max_tokens(5).stop(["END"]).build_payload()
        finally:
            await client.close()

    body = asyncio.run(payload())
    assert body["max_completion_tokens"] == 5 and body["stop"] == ["END"] and body["temperature"] == 0.5


# --- the openai SDK adapter's configuration ----------------------------------------------


def test_openai_sdk_configuration_from_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.runtimes.openai_sdk_runtime import (
        OpenAISdkRuntime,
        client_settings,
        request_arguments,
        status_class,
    )

    settings, auth = client_settings(manifests.load("openai"), "gpt-4o", "sk")
    assert settings["base_url"] == "https://api.openai.com/v1" and settings["api_key"] == "sk" and auth is None
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", "myres")
    settings, auth = client_settings(manifests.load("azure"), "dep", "sk")
    assert settings["base_url"] == "https://myres.openai.azure.com/openai/deployments/dep"
    assert settings["default_query"] == {"api-version": "2024-10-21"} and auth == {"api-key": "sk"}

    call = Call(
        provider="openai",
        model="gpt-4o",
        api_key="sk",
        messages=[("user", "hi")],
        parameters={"max_tokens": 5, "top_p": 0.9},
        mode="stream",
    )
    kwargs = request_arguments(manifests.load("openai"), call)
    assert kwargs["max_completion_tokens"] == 5 and kwargs["top_p"] == 0.9 and "max_tokens" not in kwargs
    assert kwargs["stream"] is True and kwargs["stream_options"] == {"include_usage": True}
    assert [status_class(s) for s in (401, 418, 503, 599)] == [
        "authentication",
        "invalid_request",
        "overloaded",
        "server_error",
    ]
    reason = OpenAISdkRuntime().supports("anthropic")
    assert reason and "only the OpenAI chat wire format" in reason
    assert OpenAISdkRuntime().supports("openai") is None


# --- unavailable / unsupported / exploding runtimes: reported, never a crash -----------------


def test_unavailable_runtime_gives_failed_cells_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RUNTIMES, "fake-missing", f"{__name__}:MissingRuntime")
    runtime = get_runtime("fake-missing")
    result = run_cell("openai", _scenario("basic"), _ctx(runtime))
    assert result.status == "fail"
    assert result.detail == (
        "not run: runtime fake-missing is unavailable: fake-client is not installed (pip install fake-client)"
    )
    no_chat = _no_chat_provider()
    assert run_cell(no_chat, _scenario("basic"), _ctx(runtime)).status == "not_applicable"


def test_unsupported_provider_gives_failed_cells_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RUNTIMES, "fake-openai-only", f"{__name__}:OpenAIOnlyRuntime")
    runtime = get_runtime("fake-openai-only")
    assert runtime_blocked(runtime, "openai") is None
    details = {run_cell("anthropic", s, _ctx(runtime)).detail for s in load_scenarios()}
    assert details == {"not run: runtime fake-openai-only cannot load anthropic: speaks only OpenAI"}


def test_an_exception_out_of_run_becomes_the_outcome_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RUNTIMES, "fake-exploding", f"{__name__}:ExplodingRuntime")
    call = Call(
        provider="openai", model="gpt-4o", api_key="k", messages=[("user", "hi")], parameters={}, mode="execute"
    )
    outcome = run_runtime(get_runtime("fake-exploding"), call)
    assert outcome.error is not None and outcome.error.type == "KeyError"
    assert outcome.error.message == "runtime fake-exploding raised KeyError('choices') out of run()"


def _parse_response(data: dict) -> str:
    return data["choices"][0]


def test_foreign_exceptions_say_what_where_and_while_doing_what() -> None:
    try:
        _parse_response({})
    except KeyError as exc:
        info = foreign_error("some-runtime", exc, "parsing the response", "harness")
    assert info.error_class is None and info.type == "KeyError"
    assert info.message.startswith(
        "some-runtime raised KeyError('choices') while parsing the response (harness/test_runtimes.py:"
    )
    assert info.message.endswith(" in _parse_response)")


@pytest.mark.slow
def test_a_session_with_an_unavailable_runtime_reports_and_builds_the_matrix(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through pytest, as a user runs it: cells fail with the reason, the report is written."""
    monkeypatch.setitem(RUNTIMES, "fake-missing", "tests.harness.test_runtimes:MissingRuntime")
    no_chat = _no_chat_provider()
    result = run_suite(
        pytester,
        "-k",
        f"openai-basic or openai-stream or {no_chat}-basic",
        "--runtime",
        "fake-missing",
        f"--matrix-report={tmp_path}",
    )
    out, err = output(result), "\n".join(result.errlines)
    assert result.ret == 1, out[-3000:] + err[-3000:]
    assert "INTERNALERROR" not in out + err and " error" not in result.outlines[-1]
    assert "not run: runtime fake-missing is unavailable: fake-client is not installed" in out
    results = json.loads((tmp_path / "results" / "fake-missing.json").read_text(encoding="utf-8"))
    cells = {(c["provider"], c["scenario"]): c for c in results["cells"]}
    assert cells[("openai", "basic")]["status"] == "fail"
    assert cells[("openai", "basic")]["detail"].startswith("not run: runtime fake-missing is unavailable")
    assert cells[(no_chat, "basic")]["status"] == "not_applicable"
    assert (tmp_path / "fake-missing" / "capability-matrix.md").is_file()
