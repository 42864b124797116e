"""openai-chat family through the openai manifest: request, response, stream.

Fixtures follow https://platform.openai.com/docs/api-reference/chat/create and
https://platform.openai.com/docs/api-reference/chat-streaming.
"""

from __future__ import annotations

import json

import httpx
import pytest

from ailib import ChatResponse, Message
from ailib.errors import ServerError, StreamProtocolError

from .unit_support import PLANTED_KEY, collect, contents, data_event, json_response, sse_body, sse_response

COMPLETION = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1677652288,
    "model": "gpt-4o-2024-08-06",
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello there, how may I assist you today?", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
}


def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
    return {
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
        **extra,
    }


USAGE_CHUNK = {
    "id": "chatcmpl-123",
    "object": "chat.completion.chunk",
    "created": 1694268190,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}

STREAM = [
    data_event(chunk({"role": "assistant", "content": ""})),
    data_event(chunk({"content": "Hello"})),
    data_event(chunk({"content": " world"})),
    data_event(chunk({}, "stop")),
    data_event(USAGE_CHUNK),
    "data: [DONE]",
]


# --- request -----------------------------------------------------------------------


async def test_request_url_headers_and_full_body(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    await (
        client.chat()
        .system("Be brief.")
        .user("Hi")
        .assistant("Hello!")
        .user("Again")
        .temperature(0.7)
        .top_p(0.9)
        .max_tokens(100)
        .stop(["\n\n", "END"])
        .execute()
    )
    assert server.calls == 1
    request = server.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert PLANTED_KEY not in str(request.url)
    assert server.body() == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Again"},
        ],
        "temperature": 0.7,
        "top_p": 0.9,
        # max_tokens is deprecated for current models in favour of max_completion_tokens
        "max_completion_tokens": 100,
        "stop": ["\n\n", "END"],
    }


async def test_minimal_body_has_no_unset_parameters_and_no_stream_flag(make_client):
    client, server = await make_client("openai/gpt-4o-mini", json_response(200, COMPLETION))
    await client.chat().user("Hi").execute()
    assert server.body() == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


async def test_stream_request_sets_stream_flag_and_asks_for_usage(make_client):
    client, server = await make_client("openai/gpt-4o", sse_response(sse_body(STREAM)))
    await collect(client.chat().user("Hi").stream())
    body = server.body()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert str(server.requests[0].url) == "https://api.openai.com/v1/chat/completions"
    assert server.requests[0].headers["accept"] == "text/event-stream"


async def test_model_keeps_everything_after_the_first_slash(make_client):
    client, server = await make_client("openai/ft:gpt-4o-mini:acme/custom:7p4l", json_response(200, COMPLETION))
    assert client.model == "ft:gpt-4o-mini:acme/custom:7p4l"
    await client.chat().user("x").execute()
    assert server.body()["model"] == "ft:gpt-4o-mini:acme/custom:7p4l"


async def test_messages_builder_and_message_objects(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    history = [Message.system("s"), Message.user("u"), Message.assistant("a")]
    await client.chat().messages(history).user("next").execute()
    assert server.body()["messages"] == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "next"},
    ]


async def test_build_returns_the_request_without_sending(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    request = client.chat().user("Hi").temperature(0).build()
    assert isinstance(request, httpx.Request)
    assert server.calls == 0
    assert request.method == "POST"
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert json.loads(request.content) == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0,
    }
    streaming = client.chat().user("Hi").build(stream=True)
    assert json.loads(streaming.content)["stream"] is True
    assert server.calls == 0


async def test_base_url_override(make_client):
    client, server = await make_client(
        "openai/gpt-4o", json_response(200, COMPLETION), base_url="http://localhost:8080/v1/"
    )
    await client.chat().user("x").execute()
    assert str(server.requests[0].url) == "http://localhost:8080/v1/chat/completions"


async def test_non_ascii_text_is_sent_as_utf8_json(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    await client.chat().user("Grüße, 世界 🙂").execute()
    assert server.body()["messages"][0]["content"] == "Grüße, 世界 🙂"


# --- response ----------------------------------------------------------------------


async def test_response_parsed(make_client):
    client, _ = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    response = await client.chat().user("Hi").execute()
    assert isinstance(response, ChatResponse)
    assert response.content == "Hello there, how may I assist you today?"
    assert response.finish_reason == "stop"
    assert response.raw_finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (9, 12, 21)
    assert response.model == "gpt-4o-2024-08-06"
    assert response.reasoning is None
    assert response.raw == COMPLETION


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("content_filter", "content_filter"),
        ("something_new", "other"),
    ],
)
async def test_finish_reasons_normalised(make_client, raw, normalised):
    body = json.loads(json.dumps(COMPLETION))
    body["choices"][0]["finish_reason"] = raw
    client, _ = await make_client("openai/gpt-4o", json_response(200, body))
    response = await client.chat().user("Hi").execute()
    assert (response.finish_reason, response.raw_finish_reason) == (normalised, raw)


async def test_tool_call_response_has_empty_content(make_client):
    body = json.loads(json.dumps(COMPLETION))
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }
    body["choices"][0]["finish_reason"] = "tool_calls"
    client, _ = await make_client("openai/gpt-4o", json_response(200, body))
    response = await client.chat().user("Hi").execute()
    assert response.content == ""
    assert response.finish_reason == "tool_calls"


async def test_reasoning_content_is_kept_out_of_content(make_client):
    body = json.loads(json.dumps(COMPLETION))
    body["choices"][0]["message"]["reasoning_content"] = "The user greets me."
    client, _ = await make_client("openai/gpt-4o", json_response(200, body))
    response = await client.chat().user("Hi").execute()
    assert response.content == "Hello there, how may I assist you today?"
    assert response.reasoning == "The user greets me."


async def test_execute_with_stats(make_client):
    client, _ = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    response, stats = await client.chat().user("Hi").execute_with_stats()
    assert response.content.startswith("Hello there")
    assert (stats.prompt_tokens, stats.completion_tokens, stats.total_tokens) == (9, 12, 21)
    assert stats.provider == "openai"
    assert stats.model == "gpt-4o"
    assert stats.latency_ms >= 0


async def test_non_json_200_body_is_an_ailib_error(make_client):
    client, _ = await make_client("openai/gpt-4o", httpx.Response(200, text="<html>proxy page</html>"))
    with pytest.raises(ServerError) as info:
        await client.chat().user("Hi").execute()
    assert info.value.provider == "openai"


# --- stream ------------------------------------------------------------------------


async def test_stream_decoded(make_client):
    client, _ = await make_client("openai/gpt-4o", sse_response(sse_body(STREAM)))
    stream = client.chat().user("Hi").stream()
    events = await collect(stream)
    assert [e.kind for e in events] == ["content_delta", "content_delta", "usage", "finish"]
    assert [e.as_content_delta.text for e in events[:2]] == ["Hello", " world"]
    assert [e.content for e in events[:2]] == ["Hello", " world"]
    assert events[0].is_content_delta and not events[0].is_usage
    usage = events[2].as_usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (9, 2, 11)
    assert events[3].is_finish
    assert events[3].as_finish.reason == "stop"
    assert events[3].as_finish.raw_reason == "stop"
    assert events[3].raw_reason == "stop"
    stats = stream.stats
    assert stats is not None
    assert (stats.prompt_tokens, stats.completion_tokens, stats.total_tokens) == (9, 2, 11)
    assert stats.provider == "openai" and stats.model == "gpt-4o"
    assert stats.time_to_first_token_ms is not None and 0 <= stats.time_to_first_token_ms <= stats.latency_ms


async def test_stream_event_accessors_reject_the_wrong_kind(make_client):
    client, _ = await make_client("openai/gpt-4o", sse_response(sse_body(STREAM)))
    events = await collect(client.chat().user("Hi").stream())
    with pytest.raises(TypeError):
        _ = events[0].as_finish
    with pytest.raises(TypeError):
        _ = events[-1].as_content_delta
    assert events[-1].content is None
    assert events[0].raw_reason is None


async def test_stream_with_keepalive_comments_and_crlf(make_client):
    body = sse_body([": keep-alive", *STREAM[:2], ": keep-alive", *STREAM[2:]], line_end="\r\n")
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    events = await collect(client.chat().user("Hi").stream())
    assert contents(events) == "Hello world"
    assert [e.kind for e in events][-2:] == ["usage", "finish"]


async def test_stream_reasoning_deltas(make_client):
    body = sse_body(
        [
            data_event(chunk({"role": "assistant", "reasoning_content": "Think"})),
            data_event(chunk({"reasoning_content": "ing."})),
            data_event(chunk({"content": "Answer"})),
            data_event(chunk({}, "stop")),
            "data: [DONE]",
        ]
    )
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    events = await collect(client.chat().user("Hi").stream())
    assert [e.kind for e in events] == ["reasoning_delta", "reasoning_delta", "content_delta", "finish"]
    assert "".join(e.as_reasoning_delta.text for e in events if e.is_reasoning_delta) == "Thinking."
    assert events[0].content is None  # reasoning never shows up as content
    assert contents(events) == "Answer"


async def test_stream_error_chunk_raises_after_earlier_deltas(make_client):
    body = sse_body(
        [
            data_event(chunk({"content": "Partial"})),
            data_event(
                {
                    "error": {
                        "message": "The server had an error while processing your request.",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
            ),
            data_event(chunk({"content": "never"})),
        ]
    )
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    seen = []
    with pytest.raises(ServerError) as info:
        async for event in client.chat().user("Hi").stream():
            seen.append(event)
    assert contents(seen) == "Partial"
    assert "The server had an error" in str(info.value)
    assert info.value.provider == "openai"


async def test_stream_cut_off_without_finish_or_done_raises_after_deltas(make_client):
    body = sse_body([data_event(chunk({"content": "Hel"})), data_event(chunk({"content": "lo"}))])
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    seen = []
    with pytest.raises(StreamProtocolError):
        async for event in client.chat().user("Hi").stream():
            seen.append(event)
    assert contents(seen) == "Hello"
    assert not any(e.is_finish for e in seen)


async def test_stream_with_invalid_json_event_raises(make_client):
    body = sse_body([data_event(chunk({"content": "ok"})), "data: {not json"])
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    seen = []
    with pytest.raises(StreamProtocolError):
        async for event in client.chat().user("Hi").stream():
            seen.append(event)
    assert contents(seen) == "ok"


async def test_stream_chunked_anywhere_gives_the_same_events(make_client):
    body = sse_body(STREAM)
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    reference = await collect(client.chat().user("Hi").stream())
    client, _ = await make_client("openai/gpt-4o", sse_response(body, chunks=list(range(1, len(body)))))
    assert await collect(client.chat().user("Hi").stream()) == reference


async def test_stream_answered_with_plain_json_still_yields_events(make_client):
    # a compatible server may ignore "stream": true and answer with one JSON body
    client, _ = await make_client("openai/gpt-4o", json_response(200, COMPLETION))
    events = await collect(client.chat().user("Hi").stream())
    assert contents(events) == "Hello there, how may I assist you today?"
    assert [e.kind for e in events][-2:] == ["usage", "finish"]
    assert events[-1].as_finish.reason == "stop"
