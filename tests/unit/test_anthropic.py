"""anthropic-messages family through the anthropic manifest.

Fixtures follow https://docs.anthropic.com/en/api/messages and
https://docs.anthropic.com/en/api/messages-streaming.
"""

from __future__ import annotations

import pytest

from ailib.errors import OverloadedError, ParameterError

from .unit_support import PLANTED_KEY, collect, contents, data_event, json_response, sse_body, sse_response

MESSAGE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "Hello!"}],
    "model": "claude-3-5-sonnet-20241022",
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 6},
}

THINKING_MESSAGE = {
    **MESSAGE,
    "content": [
        {"type": "thinking", "thinking": "The user says hi.", "signature": "EqQBCgIYAhIM"},
        {"type": "text", "text": "Hi"},
        {"type": "text", "text": " there"},
    ],
}


def stream_events(stop_reason: str = "end_turn") -> list[str]:
    return [
        data_event(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-3-5-sonnet-20241022",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 25, "output_tokens": 1},
                },
            },
            "message_start",
        ),
        data_event(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        ),
        data_event({"type": "ping"}, "ping"),
        data_event(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
            "content_block_delta",
        ),
        data_event(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}},
            "content_block_delta",
        ),
        data_event({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        data_event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": 15},
            },
            "message_delta",
        ),
        data_event({"type": "message_stop"}, "message_stop"),
    ]


async def test_request_headers_auth_and_body(make_client):
    client, server = await make_client("anthropic/claude-3-5-sonnet-latest", json_response(200, MESSAGE))
    await (
        client.chat()
        .system("You are terse.")
        .user("Hi")
        .assistant("Hello")
        .user("Again")
        .temperature(0.3)
        .top_p(0.8)
        .max_tokens(256)
        .stop(["\n\nHuman:"])
        .execute()
    )
    request = server.requests[0]
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == PLANTED_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert server.body() == {
        "model": "claude-3-5-sonnet-latest",
        "system": "You are terse.",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Again"},
        ],
        "temperature": 0.3,
        "top_p": 0.8,
        "max_tokens": 256,
        "stop_sequences": ["\n\nHuman:"],
    }


async def test_max_tokens_is_always_sent_because_the_api_requires_it(make_client):
    client, server = await make_client("anthropic/claude-3-5-haiku-latest", json_response(200, MESSAGE))
    await client.chat().user("Hi").execute()
    body = server.body()
    assert isinstance(body["max_tokens"], int) and body["max_tokens"] >= 1
    assert "system" not in body
    assert body["messages"] == [{"role": "user", "content": "Hi"}]


async def test_several_system_messages_all_go_to_the_system_field(make_client):
    client, server = await make_client("anthropic/claude-3-5-sonnet-latest", json_response(200, MESSAGE))
    await client.chat().system("One.").user("Hi").system("Two.").execute()
    body = server.body()
    assert "One." in body["system"] and "Two." in body["system"]
    assert all(m["role"] in ("user", "assistant") for m in body["messages"])


async def test_stream_request(make_client):
    client, server = await make_client("anthropic/claude-3-5-sonnet-latest", sse_response(sse_body(stream_events())))
    await collect(client.chat().user("Hi").stream())
    request = server.requests[0]
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert server.body()["stream"] is True
    assert request.headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize("value", [1.01, 2, -0.1])
async def test_temperature_range_is_anthropics(make_client, value):
    client, server = await make_client("anthropic/claude-3-5-sonnet-latest", json_response(200, MESSAGE))
    with pytest.raises(ParameterError):
        await client.chat().user("Hi").temperature(value).execute()
    assert server.calls == 0


async def test_response_parsed(make_client):
    client, _ = await make_client("anthropic/claude-3-5-sonnet-latest", json_response(200, MESSAGE))
    response, stats = await client.chat().user("Hi").execute_with_stats()
    assert response.content == "Hello!"
    assert (response.finish_reason, response.raw_finish_reason) == ("stop", "end_turn")
    # Anthropic reports no total: it is input + output
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (12, 6, 18)
    assert (stats.prompt_tokens, stats.completion_tokens, stats.total_tokens) == (12, 6, 18)
    assert response.model == "claude-3-5-sonnet-20241022"
    assert response.reasoning is None


async def test_thinking_blocks_are_reasoning_not_content(make_client):
    client, _ = await make_client("anthropic/claude-3-7-sonnet-latest", json_response(200, THINKING_MESSAGE))
    response = await client.chat().user("Hi").execute()
    assert response.content == "Hi there"
    assert response.reasoning == "The user says hi."


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ],
)
async def test_finish_reasons(make_client, raw, normalised):
    client, _ = await make_client(
        "anthropic/claude-3-5-sonnet-latest", json_response(200, {**MESSAGE, "stop_reason": raw})
    )
    response = await client.chat().user("Hi").execute()
    assert (response.finish_reason, response.raw_finish_reason) == (normalised, raw)


async def test_stream_decoded(make_client):
    client, _ = await make_client(
        "anthropic/claude-3-5-sonnet-latest", sse_response(sse_body(stream_events("max_tokens")))
    )
    stream = client.chat().user("Hi").stream()
    events = await collect(stream)
    assert [e.kind for e in events] == ["content_delta", "content_delta", "usage", "finish"]
    assert contents(events) == "Hello!"
    usage = events[2].as_usage
    # input tokens come with message_start, output tokens with message_delta
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (25, 15, 40)
    assert (events[3].as_finish.reason, events[3].as_finish.raw_reason) == ("length", "max_tokens")
    assert stream.stats.total_tokens == 40


async def test_stream_thinking_deltas_are_reasoning(make_client):
    events = stream_events()
    events[3:3] = [
        data_event(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me see"}},
            "content_block_delta",
        ),
        data_event(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQB"}},
            "content_block_delta",
        ),
    ]
    client, _ = await make_client("anthropic/claude-3-7-sonnet-latest", sse_response(sse_body(events)))
    out = await collect(client.chat().user("Hi").stream())
    assert [e.kind for e in out] == ["reasoning_delta", "content_delta", "content_delta", "usage", "finish"]
    assert out[0].as_reasoning_delta.text == "Let me see"
    assert contents(out) == "Hello!"


async def test_stream_error_event_raises_overloaded_after_deltas(make_client):
    events = [
        *stream_events()[:4],
        data_event({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error"),
    ]
    client, _ = await make_client("anthropic/claude-3-5-sonnet-latest", sse_response(sse_body(events)))
    seen = []
    with pytest.raises(OverloadedError) as info:
        async for event in client.chat().user("Hi").stream():
            seen.append(event)
    assert contents(seen) == "Hello"
    assert "Overloaded" in str(info.value)
    assert info.value.retryable and info.value.provider == "anthropic"


async def test_message_objects_with_plain_string_roles(make_client):
    # MessageRole is a str enum: Message("system", ...) must mean the same as Message.system(...)
    from ailib import Message

    client, server = await make_client("anthropic/claude-3-5-sonnet-latest", json_response(200, MESSAGE))
    await (
        client.chat()
        .messages(
            [
                Message("system", "Be brief."),
                Message("user", "Hi"),
                Message("assistant", "Yo"),
                Message("user", "Again"),
            ]
        )
        .execute()
    )
    body = server.body()
    assert body["system"] == "Be brief."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    with pytest.raises(ValueError, match="wizard"):
        Message("wizard", "x")
