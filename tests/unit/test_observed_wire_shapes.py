"""Wire shapes that real traffic showed and the manifests missed (issue 10), with bodies written
here by hand in the shape the recordings in ../shared/realworld show:

- Gemini ``streamGenerateContent`` without ``alt=sse``: one JSON array of chunks, enums as numbers;
- Groq: a failure inside a 200 stream as ``event: error`` with ``{"error": {message, type, code}}``;
- OpenRouter: the upstream's HTTP status as a numeric ``code`` inside a stream error;
- Perplexity, Cerebras, Writer: streams that end without ``data: [DONE]``;
- Anthropic ``model_context_window_exceeded`` and Gemini's newer finish reasons.
"""

from __future__ import annotations

import json

import httpx
import pytest

from ailib import AiClient, manifest
from ailib.errors import AiLibError


async def _stream(model: str, body: str, content_type: str = "text/event-stream") -> tuple[str, list, Exception | None]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body.encode())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = await AiClient.create(model, api_key="k-test", http_client=http, max_retries=0)
    text, events, error = "", [], None
    try:
        async for event in client.chat().user("Hi").stream():
            events.append(event)
            if event.is_content_delta:
                text += event.as_content_delta.text
    except AiLibError as exc:
        error = exc
    await http.aclose()
    return text, events, error


async def test_a_gemini_stream_as_one_json_array_with_integer_enums() -> None:
    chunks = [
        {"candidates": [{"content": {"parts": [{"text": "Once"}], "role": "model"}}]},
        {
            "candidates": [{"content": {"parts": [{"text": " upon"}], "role": "model"}, "finishReason": 1}],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6},
        },
    ]
    body = json.dumps(chunks, indent=2).replace("\n", "\r\n")
    text, events, error = await _stream("gemini/gemini-x", body, "application/json; charset=UTF-8")
    assert error is None
    assert text == "Once upon"
    usage = next(e.as_usage for e in events if e.kind == "usage")
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 2, 6)
    finish = events[-1].as_finish
    assert (finish.reason, finish.raw_reason) == ("stop", "1")


async def test_a_groq_error_event_inside_a_200_stream_carries_the_provider_message() -> None:
    body = (
        "event: error\n"
        'data: {"error":{"message":"tool call validation failed: age must be an integer",'
        '"type":"invalid_request_error","code":"tool_use_failed"}}\n\n'
    )
    text, _, error = await _stream("groq/llama-x", body)
    assert text == ""
    assert error is not None and str(error).startswith("tool call validation failed: age must be an integer")


async def test_an_openrouter_stream_error_with_a_numeric_code_is_classified_by_that_status() -> None:
    body = (
        'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        'data: {"error":{"message":"Provider returned error","code":502}}\n\n'
    )
    text, _, error = await _stream("openrouter/some/model", body)
    assert text == "Hel"
    assert error is not None and error.error_class == "server_error" and error.status_code is None


@pytest.mark.parametrize("provider", ["perplexity", "cerebras", "writer"])
async def test_streams_that_end_without_a_done_marker_finish_cleanly(provider: str) -> None:
    body = (
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\r\n\r\n'
        'data: {"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],'
        '"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\r\n\r\n'
    )
    text, events, error = await _stream(f"{provider}/m", body)
    assert error is None and text == "Hi!"
    assert events[-1].as_finish.reason == "stop"


def test_finish_reasons_the_providers_added_are_mapped() -> None:
    assert manifest.load("anthropic").finish_reasons["model_context_window_exceeded"] == "length"
    gemini = manifest.load("gemini").finish_reasons
    assert gemini["IMAGE_PROHIBITED_CONTENT"] == "content_filter"
    assert gemini["UNEXPECTED_TOOL_CALL"] == "other"
    assert gemini["TOO_MANY_TOOL_CALLS"] == "other"


def test_parameter_names_the_evidence_shows() -> None:
    assert manifest.load("baidu").parameters["max_tokens"].field == "max_tokens"
    assert manifest.load("perplexity").parameters["stop"].field == "stop"
