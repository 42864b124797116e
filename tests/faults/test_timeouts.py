"""Timeouts and connection failures on a real socket (127.0.0.1), not a mock transport.

Each case points a provider at a loopback server with ``base_url=`` and a 0.3 s
timeout, and checks the standard class ailib raises (AI-Protocol table: ``timeout``
E3003 and ``server_error`` E3001 are both retryable and fallbackable), that the call
gives up promptly, and that an abandoned stream's connection is really closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time

import httpx
import pytest

from ailib import AiClient
from ailib.errors import RequestTimeoutError, ServerError, StreamProtocolError

from .faults_support import OPENAI_FINISH, SSE_HEADERS, Exchange, Loopback, closed_port, openai_delta, sse

KEY = "sk-faults-timeouts-0123456789abcdef"
TIMEOUT = 0.3
#: Upper bound for "gave up promptly": the timeout plus generous slack for a loaded CI box.
PROMPT = 2.5


async def client_for(model: str, url: str, **kwargs) -> AiClient:
    kwargs.setdefault("timeout", httpx.Timeout(TIMEOUT))
    kwargs.setdefault("max_retries", 0)
    return await AiClient.create(model, api_key=KEY, base_url=url, **kwargs)


def assert_timeout_class(error: BaseException) -> None:
    assert type(error) is RequestTimeoutError, f"{type(error).__name__}: {error}"
    assert (error.error_class, error.code, error.retryable, error.fallbackable) == ("timeout", "E3003", True, True)


def assert_server_error_class(error: BaseException) -> None:
    assert isinstance(error, ServerError), f"{type(error).__name__}: {error}"
    assert (error.error_class, error.code, error.retryable, error.fallbackable) == ("server_error", "E3001", True, True)


# --- (a) the server accepts and never answers ----------------------------------------


async def silent(exchange: Exchange) -> None:
    await exchange.read_request()
    await exchange.stall()


@pytest.mark.parametrize(
    ("model", "path"),
    [("openai/gpt-4o", "/v1/chat/completions"), ("anthropic/claude-3-5-sonnet-latest", "/v1/messages")],
)
async def test_silent_server_is_a_timeout(model, path):
    async with Loopback(silent) as server:
        client = await client_for(model, server.url + "/v1")
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as info:
            await client.chat().user("Hi").execute()
        elapsed = time.perf_counter() - started
        await client.aclose()
    assert_timeout_class(info.value)
    assert info.value.provider == model.split("/")[0]
    assert TIMEOUT * 0.8 <= elapsed < PROMPT, elapsed
    assert [r.path for r in server.requests] == [path]  # the request did arrive: it was the answer that never came


async def test_silent_server_while_opening_a_stream_is_a_timeout():
    async with Loopback(silent) as server:
        client = await client_for("openai/gpt-4o", server.url + "/v1")
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as info:
            async for _ in client.chat().user("Hi").stream():
                pass
        elapsed = time.perf_counter() - started
        await client.aclose()
    assert_timeout_class(info.value)
    assert elapsed < PROMPT


async def test_body_that_stops_half_way_is_a_timeout():
    """Headers and half the JSON body arrive, then nothing: the read of the body times out."""

    async def half_body(exchange: Exchange) -> None:
        await exchange.read_request()
        body = b'{"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"hel'
        await exchange.head(200, {"content-type": "application/json", "content-length": str(len(body) + 40)})
        await exchange.send(body)
        await exchange.stall()

    async with Loopback(half_body) as server:
        client = await client_for("openai/gpt-4o", server.url + "/v1")
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as info:
            await client.chat().user("Hi").execute()
        elapsed = time.perf_counter() - started
        await client.aclose()
    assert_timeout_class(info.value)
    assert elapsed < PROMPT


async def test_timeouts_are_retried_then_reported_as_timeouts():
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    async with Loopback(silent) as server:
        client = await client_for("openai/gpt-4o", server.url + "/v1", max_retries=1)
        client.retry_policy.sleep = no_sleep
        with pytest.raises(RequestTimeoutError) as info:
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert_timeout_class(info.value)
    assert len(server.requests) == 2 and len(waits) == 1


# --- (b) a stream that stalls after two deltas ---------------------------------------


async def test_stream_that_stalls_yields_what_came_then_times_out():
    closed_by_client = asyncio.Event()

    async def two_deltas_then_stall(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("Hello"))
        await exchange.send(openai_delta(", wor"))
        # Stay silent; reading returns b"" only when the client gives up and closes the socket.
        if await exchange.reader.read() == b"":
            closed_by_client.set()

    async with Loopback(two_deltas_then_stall) as server:
        client = await client_for("openai/gpt-4o", server.url + "/v1")
        deltas: list[str] = []
        started = time.perf_counter()
        last_delta_at = started
        stream = client.chat().user("Hi").stream()
        with pytest.raises(RequestTimeoutError) as info:
            async for event in stream:
                if event.is_content_delta:
                    deltas.append(event.as_content_delta.text)
                    last_delta_at = time.perf_counter()
        stalled_for = time.perf_counter() - last_delta_at
        # The abandoned stream's connection is closed, not left hanging in the pool.
        await asyncio.wait_for(closed_by_client.wait(), PROMPT)
        await client.aclose()
    assert deltas == ["Hello", ", wor"]
    assert_timeout_class(info.value)
    assert "stalled" in str(info.value)
    assert TIMEOUT * 0.8 <= stalled_for < PROMPT, stalled_for
    assert stream.stats is None  # an interrupted stream reports no stats


async def test_anthropic_stream_that_stalls_after_message_start():
    async def stall_after_start(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(
            sse(
                {"type": "message_start", "message": {"model": "claude", "usage": {"input_tokens": 3}}}, "message_start"
            )
        )
        await exchange.send(
            sse(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
                "content_block_delta",
            )
        )
        await exchange.stall()

    async with Loopback(stall_after_start) as server:
        client = await client_for("anthropic/claude-3-5-sonnet-latest", server.url + "/v1")
        kinds = []
        with pytest.raises(RequestTimeoutError) as info:
            async for event in client.chat().user("Hi").stream():
                kinds.append(event.kind)
        await client.aclose()
    assert kinds == ["content_delta"]
    assert_timeout_class(info.value)


async def test_a_stream_that_keeps_sending_is_not_cut_by_the_read_timeout():
    """The read timeout is per read, not per stream: steady deltas spanning more than it pass."""

    async def slow_but_steady(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        for i in range(6):
            await exchange.send(openai_delta(str(i)))
            await asyncio.sleep(TIMEOUT / 3)
        await exchange.send(OPENAI_FINISH)

    async with Loopback(slow_but_steady) as server:
        client = await client_for("openai/gpt-4o", server.url + "/v1")
        started = time.perf_counter()
        text = "".join([e.as_content_delta.text async for e in client.chat().user("Hi").stream() if e.is_content_delta])
        elapsed = time.perf_counter() - started
        await client.aclose()
    assert text == "012345"
    assert elapsed > TIMEOUT  # longer than one read timeout in total


# --- (c) connection failures -----------------------------------------------------------


async def test_refused_connection_is_a_server_error():
    port = closed_port()
    client = await client_for("openai/gpt-4o", f"http://127.0.0.1:{port}/v1")
    started = time.perf_counter()
    with pytest.raises(ServerError) as info:
        await client.chat().user("Hi").execute()
    await client.aclose()
    assert type(info.value) is ServerError
    assert_server_error_class(info.value)
    assert "connection failed" in str(info.value) and "ConnectError" in str(info.value)
    assert time.perf_counter() - started < PROMPT


async def test_refused_connection_when_streaming_is_a_server_error():
    client = await client_for("gemini/gemini-2.0-flash", f"http://127.0.0.1:{closed_port()}/v1beta")
    with pytest.raises(ServerError) as info:
        async for _ in client.chat().user("Hi").stream():
            pass
    await client.aclose()
    assert type(info.value) is ServerError
    assert_server_error_class(info.value)


def _full_backlog() -> tuple[socket.socket, list[socket.socket]]:
    """A listener that never accepts, with its accept queue filled: further SYNs are dropped."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    return listener, fillers


async def test_connect_timeout_is_a_timeout():
    listener, fillers = _full_backlog()
    try:
        port = listener.getsockname()[1]
        client = await client_for("openai/gpt-4o", f"http://127.0.0.1:{port}/v1")
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as info:
            await client.chat().user("Hi").execute()
        elapsed = time.perf_counter() - started
        await client.aclose()
    finally:
        for sock in [*fillers, listener]:
            sock.close()
    if "ConnectTimeout" not in str(info.value):  # pragma: no cover - depends on the kernel's SYN handling
        pytest.skip(f"the full backlog did not hold the connect: {info.value}")
    assert_timeout_class(info.value)
    assert elapsed < PROMPT


async def test_server_that_hangs_up_without_answering_is_a_server_error():
    async def hang_up(exchange: Exchange) -> None:
        await exchange.read_request()  # then the connection closes with no response

    async with Loopback(hang_up) as server:
        client = await client_for("cohere/command-r", server.url)
        with pytest.raises(ServerError) as info:
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert_server_error_class(info.value)
    assert "connection failed" in str(info.value)


async def test_connection_reset_mid_stream_is_a_stream_error_after_the_deltas():
    async def reset_mid_stream(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("partial"))
        await exchange.send(b'data: {"choices":[{"index":0,"delta":{"content":"cut')
        await asyncio.sleep(0.05)
        sock = exchange.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        exchange.writer.transport.abort()

    async with Loopback(reset_mid_stream) as server:
        client = await client_for("openai/gpt-4o", server.url + "/v1")
        deltas = []
        with pytest.raises(StreamProtocolError) as info:
            async for event in client.chat().user("Hi").stream():
                deltas.append(event.as_content_delta.text)
        await client.aclose()
    assert deltas == ["partial"]
    assert_server_error_class(info.value)
