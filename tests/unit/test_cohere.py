"""cohere-v2 family through the cohere manifest.

Fixtures follow https://docs.cohere.com/reference/chat and
https://docs.cohere.com/reference/chat-stream (v2).
"""

from __future__ import annotations

import pytest

from ailib.errors import AiLibError, ParameterError

from .unit_support import PLANTED_KEY, collect, contents, data_event, json_response, sse_body, sse_response

RESPONSE = {
    "id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
    "finish_reason": "COMPLETE",
    "message": {"role": "assistant", "content": [{"type": "text", "text": "LLMs are large language models."}]},
    "usage": {
        "billed_units": {"input_tokens": 17, "output_tokens": 7},
        "tokens": {"input_tokens": 83, "output_tokens": 7},
    },
}


def stream_events(finish: str = "COMPLETE", done: bool = True) -> list[str]:
    events = [
        data_event(
            {
                "id": "29f14a5a-11de-4cae-9800-25e4747408ea",
                "type": "message-start",
                "delta": {
                    "message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
                },
            },
            "message-start",
        ),
        data_event(
            {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}},
            "content-start",
        ),
        data_event(
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hello"}}}}, "content-delta"
        ),
        data_event(
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": " there"}}}},
            "content-delta",
        ),
        data_event({"type": "content-end", "index": 0}, "content-end"),
        data_event(
            {
                "type": "message-end",
                "delta": {
                    "finish_reason": finish,
                    "usage": {
                        "billed_units": {"input_tokens": 3, "output_tokens": 2},
                        "tokens": {"input_tokens": 69, "output_tokens": 2},
                    },
                },
            },
            "message-end",
        ),
    ]
    return events + (["data: [DONE]"] if done else [])


async def test_request_url_auth_and_body(make_client):
    client, server = await make_client("cohere/command-r-plus-08-2024", json_response(200, RESPONSE))
    await (
        client.chat()
        .system("Be kind.")
        .user("Hi")
        .assistant("Hello")
        .user("What is an LLM?")
        .temperature(0.3)
        .top_p(0.75)
        .max_tokens(200)
        .stop(["\n"])
        .execute()
    )
    request = server.requests[0]
    assert str(request.url) == "https://api.cohere.com/v2/chat"
    assert request.headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert server.body() == {
        "model": "command-r-plus-08-2024",
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "What is an LLM?"},
        ],
        "temperature": 0.3,
        "p": 0.75,
        "max_tokens": 200,
        "stop_sequences": ["\n"],
    }


async def test_stream_request(make_client):
    client, server = await make_client("cohere/command-r-plus-08-2024", sse_response(sse_body(stream_events())))
    await collect(client.chat().user("Hi").stream())
    assert str(server.requests[0].url) == "https://api.cohere.com/v2/chat"
    assert server.body()["stream"] is True


@pytest.mark.parametrize("value", [0.0, 1.0, 0.995])
async def test_p_range_is_cohere_s(make_client, value):
    # Cohere documents p between 0.01 and 0.99
    client, server = await make_client("cohere/command-r-plus-08-2024", json_response(200, RESPONSE))
    with pytest.raises(ParameterError):
        await client.chat().user("Hi").top_p(value).execute()
    assert server.calls == 0


async def test_response_parsed_with_token_counts_not_billed_units(make_client):
    client, _ = await make_client("cohere/command-r-plus-08-2024", json_response(200, RESPONSE))
    response = await client.chat().user("Hi").execute()
    assert response.content == "LLMs are large language models."
    assert (response.finish_reason, response.raw_finish_reason) == ("stop", "COMPLETE")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (83, 7, 90)
    # the response names no model: the requested one is reported
    assert response.model == "command-r-plus-08-2024"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("TOOL_CALL", "tool_calls"),
        ("ERROR", "other"),
    ],
)
async def test_finish_reasons(make_client, raw, normalised):
    client, _ = await make_client(
        "cohere/command-r-plus-08-2024", json_response(200, {**RESPONSE, "finish_reason": raw})
    )
    response = await client.chat().user("Hi").execute()
    assert (response.finish_reason, response.raw_finish_reason) == (normalised, raw)


@pytest.mark.parametrize("done", [True, False])
async def test_stream_decoded(make_client, done):
    client, _ = await make_client(
        "cohere/command-r-plus-08-2024", sse_response(sse_body(stream_events("MAX_TOKENS", done=done)))
    )
    stream = client.chat().user("Hi").stream()
    events = await collect(stream)
    assert [e.kind for e in events] == ["content_delta", "content_delta", "usage", "finish"]
    assert contents(events) == "Hello there"
    usage = events[2].as_usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (69, 2, 71)
    assert (events[3].as_finish.reason, events[3].as_finish.raw_reason) == ("length", "MAX_TOKENS")
    assert stream.stats.total_tokens == 71


async def test_stream_error_in_message_end_raises_with_the_providers_text(make_client):
    events = [
        *stream_events()[:3],
        data_event(
            {
                "type": "message-end",
                "delta": {"finish_reason": "ERROR", "error": "model overloaded mid-generation, please retry"},
            },
            "message-end",
        ),
    ]
    client, _ = await make_client("cohere/command-r-plus-08-2024", sse_response(sse_body(events)))
    seen = []
    with pytest.raises(AiLibError) as info:
        async for event in client.chat().user("Hi").stream():
            seen.append(event)
    assert contents(seen) == "Hello"
    assert info.value.provider == "cohere"
    assert "model overloaded mid-generation" in str(info.value)
