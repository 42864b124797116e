"""Deadlines and limits hold against servers that trickle, keep streams alive with
comments only, hold the connection after the answer, or send far too much.

* ``timeout`` bounds a call as a whole, not only each read: a server sending one byte
  every 0.1 s never trips a 0.5 s read timeout, but must not stretch a 0.5 s call.
* A stream that brings bytes but no event (comments, keep-alives, a trickled event) for
  longer than ``idle_timeout`` ends with a typed timeout.
* After the terminal event the client stops reading: a held-open connection does not turn
  a complete answer into a timeout, and nothing sent after it is delivered.
* The SSE decoder is linear; one event and one body have size limits with a typed error;
  a manifest file is size-checked before YAML parses it.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from ailib import AiClient
from ailib.errors import ManifestError, RequestTimeoutError, ResponseTooLargeError
from ailib.manifest import load_file
from ailib.sse import SSEDecoder

from .faults_support import OPENAI_FINISH, SSE_HEADERS, Exchange, Loopback, openai_delta, sse

KEY = "sk-deadlines-0123456789abcdef"
#: Slack for a loaded 2-core CI box.
SLACK = 1.5


async def client_at(url: str, model: str = "openai/gpt-4o", **kwargs) -> AiClient:
    kwargs.setdefault("timeout", 0.5)
    return await AiClient.create(model, api_key=KEY, base_url=url, max_retries=0, **kwargs)


async def stream_timeout(handler, **kwargs) -> float:
    """Seconds until streaming from ``handler`` ends in a RequestTimeoutError."""
    async with Loopback(handler) as server:
        client = await client_at(server.url + "/v1", **kwargs)
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError):
            async for _ in client.chat().user("Hi").stream():
                pass
        elapsed = time.perf_counter() - started
        await client.aclose()
    return elapsed


# --- the whole call is bounded ------------------------------------------------------------


async def test_a_body_trickled_a_byte_at_a_time_cannot_stretch_the_call():
    body = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"' + b"x" * 200 + b'"}}]}'

    async def trickle(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, {"content-type": "application/json", "content-length": str(len(body))})
        for byte in body:  # 20+ s in all, each byte well inside the read timeout
            await exchange.send(bytes([byte]))
            await asyncio.sleep(0.1)

    async with Loopback(trickle) as server:
        client = await client_at(server.url + "/v1")
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as info:
            await client.chat().user("Hi").execute()
        elapsed = time.perf_counter() - started
        await client.aclose()
    assert 0.4 <= elapsed < 0.5 + SLACK, elapsed
    assert "deadline" in str(info.value) and info.value.provider == "openai"


async def test_headers_trickled_a_byte_at_a_time_cannot_stretch_opening_a_stream():
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-padding: " + b"p" * 100 + b"\r\n\r\n"

    async def trickle_head(exchange: Exchange) -> None:
        await exchange.read_request()
        for byte in head:
            await exchange.send(bytes([byte]))
            await asyncio.sleep(0.1)

    elapsed = await stream_timeout(trickle_head)
    assert elapsed < 0.5 + SLACK, elapsed


async def test_each_retry_gets_its_own_deadline():
    async def stall(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.stall()

    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    async with Loopback(stall) as server:
        client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=server.url + "/v1", timeout=0.3)
        client.retry_policy.sleep = no_sleep
        with pytest.raises(RequestTimeoutError):
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert len(server.requests) == 3 and len(waits) == 2  # max_retries=2: timeouts are retryable


# --- streams: idle limit, terminal event ----------------------------------------------------


async def test_a_comment_only_stream_ends_at_the_idle_limit():
    async def keepalives(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("Hi"))
        while True:  # never an event again, but never silent for a read timeout either
            await exchange.send(b": keep-alive\n\n")
            await asyncio.sleep(0.1)

    async with Loopback(keepalives) as server:
        client = await client_at(server.url + "/v1", timeout=5.0, idle_timeout=0.5)
        deltas = []
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as info:
            async for event in client.chat().user("Hi").stream():
                deltas.append(event.as_content_delta.text)
        elapsed = time.perf_counter() - started
        await client.aclose()
    assert deltas == ["Hi"]
    assert "idle" in str(info.value)
    assert 0.5 <= elapsed < 0.5 + SLACK, elapsed


async def test_an_event_trickled_forever_ends_at_the_idle_limit():
    async def endless_event(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(b'data: {"choices":[{"index":0,"delta":{"content":"')
        while True:
            await exchange.send(b"a")
            await asyncio.sleep(0.05)

    elapsed = await stream_timeout(endless_event, timeout=5.0, idle_timeout=0.5)
    assert elapsed < 0.5 + SLACK, elapsed


async def test_the_default_idle_limit_is_the_read_timeout():
    client = await AiClient.create("openai/gpt-4o", api_key=KEY, timeout=7.0)
    assert client.idle_timeout == 7.0
    await client.aclose()


def anthropic_stream(text: str) -> bytes:
    return (
        sse({"type": "message_start", "message": {"model": "claude", "usage": {"input_tokens": 3}}}, "message_start")
        + sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            "content_block_delta",
        )
        + sse(
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
            "message_delta",
        )
        + sse({"type": "message_stop"}, "message_stop")
    )


def gemini_chunk(text: str, finish: str | None = None) -> bytes:
    candidate: dict = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    obj: dict = {"candidates": [candidate], "modelVersion": "gemini-2.0-flash"}
    if finish:
        obj["usageMetadata"] = {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}
    return sse(obj)


#: provider -> (model, base path, the whole answer up to its terminal event, then more after it)
TERMINATED = {
    "openai": ("openai/gpt-4o", "/v1", openai_delta("Hello") + OPENAI_FINISH, openai_delta("AFTER-END")),
    "anthropic": (
        "anthropic/claude-3-5-sonnet-latest",
        "/v1",
        anthropic_stream("Hello"),
        sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "AFTER-END"}},
            "content_block_delta",
        ),
    ),
    "gemini": (
        "gemini/gemini-2.0-flash",
        "/v1beta",
        gemini_chunk("Hel") + gemini_chunk("lo", "STOP"),
        gemini_chunk("AFTER-END"),
    ),
    "replicate": (
        "replicate/meta/meta-llama-3-8b-instruct",
        "/v1",
        sse("Hel", "output") + sse("lo", "output") + sse("{}", "done"),
        sse("AFTER-END", "output"),
    ),
}


@pytest.mark.parametrize("provider", sorted(TERMINATED))
@pytest.mark.parametrize("same_write", [False, True], ids=["then", "same-write"])
async def test_terminal_event_then_a_held_connection_finishes_cleanly(provider, same_write):
    model, prefix, answer, after = TERMINATED[provider]
    closed_by_client = asyncio.Event()

    async def hold(exchange: Exchange) -> None:
        request = await exchange.read_request()
        if request.method == "POST" and provider == "replicate":
            stream_url = f"http://127.0.0.1:{exchange.writer.get_extra_info('sockname')[1]}/v1/files/p1"
            await exchange.respond(201, {"id": "p1", "status": "starting", "urls": {"stream": stream_url}})
            return
        await exchange.head(200, SSE_HEADERS)
        if same_write:
            await exchange.send(answer + after)
        else:
            await exchange.send(answer)
            await asyncio.sleep(0.05)
            await exchange.send(after)
        if await exchange.reader.read() == b"":  # held open until the client hangs up
            closed_by_client.set()

    async with Loopback(hold) as server:
        client = await client_at(server.url + prefix, model)
        stream = client.chat().user("Hi").stream()
        started = time.perf_counter()
        events = [event async for event in stream]
        elapsed = time.perf_counter() - started
        await asyncio.wait_for(closed_by_client.wait(), 2)
        await client.aclose()
    text = "".join(e.as_content_delta.text for e in events if e.is_content_delta)
    assert text == "Hello"  # nothing after the terminal event is content
    assert events[-1].kind == "finish"
    assert stream.stats is not None
    assert elapsed < 0.5, elapsed  # well inside the 0.5 s read timeout: no waiting for the close


# --- sizes ---------------------------------------------------------------------------------------


def test_the_sse_decoder_is_linear_in_a_line_without_newline():
    """16 MiB in 4 KiB reads: re-joining the pending line on every read would copy ~32 GB."""
    decoder = SSEDecoder()
    chunk = b"x" * 4096
    started = time.process_time()
    decoder.feed_fields(b"data: ")
    for _ in range(16 * 256):
        assert decoder.feed_fields(chunk) == []
    events = decoder.feed_fields(b"\n\n")
    elapsed = time.process_time() - started
    assert len(events) == 1 and len(events[0][0]) == 16 * 1024 * 1024
    assert elapsed < 2.0, elapsed


@pytest.mark.parametrize(
    "pieces",
    [
        [b"data: " + b"x" * 3000 + b"\n\n"],  # one read, one line
        [b"data: ", *([b"x" * 100] * 30), b"\n\n"],  # one line over many reads
        [b"data: abc\n" * 400, b"\n"],  # many data lines in one event
        [b"data: abc\r" * 200, b"data: abc\r" * 200, b"\r"],  # CR line ends
    ],
)
def test_an_event_over_the_size_limit_is_a_typed_error(pieces):
    decoder = SSEDecoder(max_event_size=1024)
    with pytest.raises(ResponseTooLargeError):
        for piece in pieces:
            decoder.feed_fields(piece)


def test_events_under_the_limit_pass_however_many():
    decoder = SSEDecoder(max_event_size=1024)
    events = []
    for _ in range(1000):
        events += decoder.feed_fields(b"data: " + b"y" * 900 + b"\n\n")
        events += decoder.feed_fields(b"data: " + b"z" * 500 + b"\ndata: " + b"z" * 400 + b"\n\n")
    assert len(events) == 2000


async def test_a_stream_event_over_the_clients_limit():
    async def big_event(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("ok"))
        await asyncio.sleep(0.05)  # its own read: what came before the big event is delivered
        await exchange.send(openai_delta("x" * 8192))
        await exchange.send(OPENAI_FINISH)

    async with Loopback(big_event) as server:
        client = await client_at(server.url + "/v1", max_event_size=4096)
        deltas = []
        with pytest.raises(ResponseTooLargeError) as info:
            async for event in client.chat().user("Hi").stream():
                deltas.append(event.as_content_delta.text)
        await client.aclose()
    assert deltas == ["ok"]
    assert info.value.provider == "openai" and not info.value.retryable


async def test_a_never_terminated_line_over_the_limit():
    """A line that never ends (the body closes without its newline) is size-checked as it grows."""

    async def big_tail(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("ok"))
        for _ in range(8):  # 8 KiB in one line, in pieces, never terminated
            await exchange.send(b"x" * 1000)

    async with Loopback(big_tail) as server:
        client = await client_at(server.url + "/v1", max_event_size=4096)
        with pytest.raises(ResponseTooLargeError) as info:
            async for _ in client.chat().user("Hi").stream():
                pass
        await client.aclose()
    assert info.value.provider == "openai"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_body_over_the_clients_limit(declared):
    body = b'{"choices":[{"index":0,"message":{"content":"' + b"x" * 10_000 + b'"},"finish_reason":"stop"}]}'

    async def big_body(exchange: Exchange) -> None:
        await exchange.read_request()
        if declared:
            await exchange.respond(200, body, "application/json")
        else:
            await exchange.head(200, {"content-type": "application/json"})  # read until close
            for i in range(0, len(body), 1000):
                await exchange.send(body[i : i + 1000])

    async with Loopback(big_body) as server:
        client = await client_at(server.url + "/v1", max_body_bytes=4096)
        with pytest.raises(ResponseTooLargeError) as info:
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert "4096" in str(info.value) and info.value.provider == "openai"


def test_a_huge_manifest_file_is_refused_before_yaml_parses_it(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("id: huge\nlist:\n" + "  - [a, b, c, d, e, f, g, h]\n" * 120_000, encoding="utf-8")
    assert path.stat().st_size > 3_000_000
    started = time.perf_counter()
    with pytest.raises(ManifestError) as info:
        load_file(path)
    assert time.perf_counter() - started < 0.5
    assert "bytes" in str(info.value) and "huge.yaml" in str(info.value)
