"""A provider answer with values of the wrong type must not crash the client: token
counts that are not integers are absent, and a finish reason that is not a string is
kept (as text) and normalised to "other"."""

from __future__ import annotations

import json

import httpx

from ailib import AiClient


def _client(body: bytes, content_type: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, headers={"content-type": content_type}, content=body)
        )
    )


async def test_wrong_types_in_a_response() -> None:
    body = json.dumps(
        {
            "choices": [{"message": {"role": "assistant", "content": "Hi"}, "finish_reason": ["stop"]}],
            "usage": {"prompt_tokens": "5", "completion_tokens": 2.5, "total_tokens": True},
        }
    ).encode()
    client = await AiClient.create("openai/gpt-4o", api_key="k", http_client=_client(body, "application/json"))
    response, stats = await client.chat().user("Hello").execute_with_stats()
    assert response.content == "Hi"
    assert (response.finish_reason, response.raw_finish_reason) == ("other", "['stop']")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (
        None,
        None,
        None,
    )
    assert stats.total_tokens is None


async def test_wrong_types_in_a_stream() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": {"reason": "stop"}}]},
        {"choices": [], "usage": {"prompt_tokens": "5", "completion_tokens": 2, "total_tokens": None}},
    ]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    client = await AiClient.create(
        "openai/gpt-4o", api_key="k", http_client=_client(body.encode(), "text/event-stream")
    )
    events = [e async for e in client.chat().user("Hello").stream()]
    assert [e.kind for e in events] == ["content_delta", "usage", "finish"]
    usage = events[1].as_usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (None, 2)
    assert events[2].as_finish.reason == "other" and events[2].raw_reason == "{'reason': 'stop'}"
