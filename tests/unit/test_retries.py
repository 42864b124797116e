"""Retries: max_retries, exponential backoff with jitter, Retry-After; on a fake clock."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from ailib import RetryPolicy
from ailib import errors as E

from .unit_support import data_event, json_response, sse_body, sse_response

OK = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
RATE = {
    "error": {
        "message": "Rate limit reached for gpt-4o.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
QUOTA = {
    "error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
}
SERVER = {
    "error": {
        "message": "The server had an error while processing your request.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


async def test_retryable_errors_then_success(make_client, clock):
    client, server = await make_client(
        "openai/gpt-4o", [json_response(500, SERVER), json_response(429, RATE), json_response(200, OK)], max_retries=2
    )
    response = await client.chat().user("Hi").execute()
    assert response.content == "ok"
    assert server.calls == 3
    # exponential backoff from the default 0.5 s base, jitter pinned to 1.0
    assert clock.sleeps == [0.5, 1.0]
    # every attempt sends the same request
    assert len({r.content for r in server.requests}) == 1


@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
async def test_gives_up_after_max_retries(make_client, clock, max_retries):
    client, server = await make_client(
        "openai/gpt-4o", json_response(503, {"error": {"message": "busy", "type": "x"}}), max_retries=max_retries
    )
    with pytest.raises(E.OverloadedError):
        await client.chat().user("Hi").execute()
    assert server.calls == max_retries + 1
    assert clock.sleeps == [0.5 * 2**i for i in range(max_retries)]


async def test_backoff_is_capped_and_jittered(clock):
    policy = RetryPolicy(max_retries=10, base_delay=0.5, max_delay=8.0, sleep=clock.sleep, random=lambda: 0.25)
    error = E.ServerError("x")
    delays = [policy.delay(attempt, error) for attempt in range(10)]
    assert delays == [0.125, 0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert policy.delay(10, error) is None


async def test_default_jitter_stays_within_the_backoff():
    policy = RetryPolicy(max_retries=3)
    error = E.ServerError("x")
    for _ in range(50):
        delay = policy.delay(2, error)
        assert 0 <= delay <= 2.0


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": {"message": "bad", "type": "invalid_request_error", "param": None, "code": None}}),
        (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        ),
        (403, {"error": {"message": "forbidden", "type": "x", "param": None, "code": None}}),
        (
            404,
            {
                "error": {
                    "message": "no model",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            },
        ),
        (413, {"error": {"message": "too large", "type": "invalid_request_error", "param": None, "code": None}}),
        (429, QUOTA),
    ],
)
async def test_non_retryable_errors_are_never_retried(make_client, clock, status, body):
    client, server = await make_client(
        "openai/gpt-4o", json_response(status, body, headers={"retry-after": "1"}), max_retries=5
    )
    with pytest.raises(E.AiLibError) as info:
        await client.chat().user("Hi").execute()
    assert not info.value.retryable
    assert server.calls == 1
    assert clock.sleeps == []


async def test_retry_after_seconds_is_honoured(make_client, clock):
    client, server = await make_client(
        "openai/gpt-4o", [json_response(429, RATE, headers={"retry-after": "7"}), json_response(200, OK)], max_retries=2
    )
    await client.chat().user("Hi").execute()
    assert server.calls == 2
    assert clock.sleeps == [7.0]


async def test_retry_after_shorter_than_backoff_does_not_shorten_it(make_client, clock):
    client, _ = await make_client(
        "openai/gpt-4o",
        [json_response(429, RATE), json_response(429, RATE, headers={"retry-after": "0"}), json_response(200, OK)],
        max_retries=2,
    )
    await client.chat().user("Hi").execute()
    assert clock.sleeps == [0.5, 1.0]


async def test_retry_after_http_date_is_honoured(make_client, clock):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    client, server = await make_client(
        "openai/gpt-4o", [json_response(503, SERVER, headers={"retry-after": when}), json_response(200, OK)]
    )
    await client.chat().user("Hi").execute()
    assert server.calls == 2
    assert len(clock.sleeps) == 1 and 27 <= clock.sleeps[0] <= 31


async def test_retry_after_is_kept_on_the_error(make_client):
    client, _ = await make_client(
        "openai/gpt-4o", json_response(429, RATE, headers={"retry-after": "12"}), max_retries=0
    )
    with pytest.raises(E.RateLimitedError) as info:
        await client.chat().user("Hi").execute()
    assert info.value.retry_after == 12.0


async def test_anthropic_529_is_retried(make_client, clock):
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    ok = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "fine"}],
        "model": "claude-3-5-sonnet-20241022",
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    client, server = await make_client(
        "anthropic/claude-3-5-sonnet-latest", [json_response(529, overloaded), json_response(200, ok)]
    )
    assert (await client.chat().user("Hi").execute()).content == "fine"
    assert server.calls == 2 and clock.sleeps == [0.5]


async def test_timeouts_and_connection_errors_are_retried(make_client, clock):
    client, server = await make_client(
        "openai/gpt-4o", [httpx.ReadTimeout("timed out"), httpx.ConnectError("refused"), json_response(200, OK)]
    )
    assert (await client.chat().user("Hi").execute()).content == "ok"
    assert server.calls == 3
    assert clock.sleeps == [0.5, 1.0]


async def test_timeout_after_all_retries_is_a_timeout_error(make_client, clock):
    client, server = await make_client("openai/gpt-4o", [httpx.ConnectTimeout("slow")], max_retries=1)
    with pytest.raises(E.RequestTimeoutError) as info:
        await client.chat().user("Hi").execute()
    assert info.value.retryable
    assert server.calls == 2


async def test_stream_open_is_retried(make_client, clock):
    stream = sse_body(
        [
            data_event(
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "model": "gpt-4o",
                    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}],
                }
            ),
            "data: [DONE]",
        ]
    )
    client, server = await make_client("openai/gpt-4o", [json_response(500, SERVER), sse_response(stream)])
    events = [e async for e in client.chat().user("Hi").stream()]
    assert server.calls == 2
    assert events[0].as_content_delta.text == "hi"
    assert clock.sleeps == [0.5]


async def test_max_retries_argument_sets_the_policy(make_client):
    client, _ = await make_client("openai/gpt-4o", json_response(200, OK), max_retries=5)
    assert client.retry_policy.max_retries == 5


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
async def test_invalid_max_retries_rejected(bad):
    from ailib import AiClient

    with pytest.raises(E.ConfigurationError):
        await AiClient.create("openai/gpt-4o", api_key="k", max_retries=bad)
