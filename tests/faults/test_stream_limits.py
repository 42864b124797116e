"""A very long stream event and UTF-8 split across TCP writes, on a real socket.

The loopback server writes with TCP_NODELAY, so its small writes reach the client as
separate reads; a spy on the SSE decoder records what the client really got, so each
test can show that the case it is about (an event spread over many reads, a character
cut in two) actually happened.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc

import httpx
import pytest

from ailib import AiClient
from ailib.sse import SSEDecoder

from .faults_support import OPENAI_FINISH, SSE_HEADERS, Exchange, Loopback, openai_delta, sse

KEY = "sk-faults-limits-0123456789abcdef"
MIB = 1024 * 1024
#: Characters of 1, 2, 3 and 4 bytes in UTF-8.
ALPHABET = 'aé中😀 Zß€𝄞\n"\\'


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every chunk the client's SSE decoder was fed, in order."""
    seen: list[bytes] = []
    original = SSEDecoder.feed_fields

    def spy(self: SSEDecoder, chunk: bytes):
        seen.append(bytes(chunk))
        return original(self, chunk)

    monkeypatch.setattr(SSEDecoder, "feed_fields", spy)
    return seen


def starts_inside_a_character(chunk: bytes) -> bool:
    """The chunk begins with a UTF-8 continuation byte: the read before it ended mid-character."""
    return bool(chunk) and chunk[0] & 0xC0 == 0x80


def text_of_bytes(size: int) -> str:
    """About ``size`` bytes of UTF-8 text mixing 1- to 4-byte characters."""
    unit = ALPHABET * 64
    repeat = size // len(unit.encode()) + 1
    text = unit * repeat
    encoded = text.encode()[:size]
    return encoded.decode("utf-8", errors="ignore")


async def stream_text(url: str, model: str = "openai/gpt-4o") -> tuple[str, list]:
    client = await AiClient.create(model, api_key=KEY, base_url=url, timeout=httpx.Timeout(10.0), max_retries=0)
    try:
        events = [event async for event in client.chat().user("Hi").stream()]
    finally:
        await client.aclose()
    text = "".join(e.as_content_delta.text for e in events if e.is_content_delta)
    return text, events


async def test_one_mebibyte_delta_in_small_writes_is_exact_and_memory_stays_bounded(reads):
    content = text_of_bytes(MIB)
    event = openai_delta(content)
    assert len(event) > MIB
    writes = 0

    async def huge_event(exchange: Exchange) -> None:
        nonlocal writes
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("<"))
        view = memoryview(event)
        step = 4093  # odd: the write boundaries fall inside multi-byte characters
        for offset in range(0, len(event), step):
            exchange.writer.write(view[offset : offset + step])
            writes += 1
            if writes % 16 == 0:
                await exchange.writer.drain()
        await exchange.send(openai_delta(">") + OPENAI_FINISH)

    async with Loopback(huge_event) as server:
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            text, events = await stream_text(server.url + "/v1")
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
    assert text == "<" + content + ">"
    assert [e.kind for e in events][-1] == "finish"
    assert writes > 200
    assert len(reads) > 4, "the event reached the client in several reads"
    assert any(starts_inside_a_character(chunk) for chunk in reads)
    assert peak < 20 * len(event), f"peak {peak / MIB:.1f} MiB for a {len(event) / MIB:.1f} MiB event"


async def test_long_event_through_anthropic_routes_is_exact():
    content = text_of_bytes(256 * 1024)

    async def anthropic_stream(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        body = (
            sse(
                {"type": "message_start", "message": {"model": "claude", "usage": {"input_tokens": 1}}}, "message_start"
            )
            + sse(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": content}},
                "content_block_delta",
            )
            + sse(
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
                "message_delta",
            )
            + sse({"type": "message_stop"}, "message_stop")
        )
        for offset in range(0, len(body), 1021):
            exchange.writer.write(body[offset : offset + 1021])
        await exchange.writer.drain()

    async with Loopback(anthropic_stream) as server:
        text, events = await stream_text(server.url + "/v1", "anthropic/claude-3-5-sonnet-latest")
    assert text == content
    assert [e.kind for e in events][-2:] == ["usage", "finish"]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
async def test_multibyte_characters_split_across_tcp_writes(reads, line_end):
    pieces = ["héllo ", "中文", "😀👍🏽", " 𝄞 ", "ß€", "ok"]
    body = b"".join(openai_delta(p) for p in pieces) + OPENAI_FINISH
    body = body.replace(b"\n", line_end)
    # Cut just after the first byte of every multi-byte character (and between CR and LF).
    cuts = sorted(
        {i + 1 for i, byte in enumerate(body) if byte >= 0xC0} | {i + 1 for i, b in enumerate(body) if b == 13}
    )

    async def split_writes(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        start = 0
        for cut in [*cuts, len(body)]:
            await exchange.send(body[start:cut])
            start = cut
            await asyncio.sleep(0.002)  # let the client read before the next write

    async with Loopback(split_writes) as server:
        text, events = await stream_text(server.url + "/v1")
    assert text == "".join(pieces)
    assert [e.as_content_delta.text for e in events if e.is_content_delta] == pieces
    assert "\ufffd" not in text
    assert sum(starts_inside_a_character(chunk) for chunk in reads) >= 3, "reads really ended inside characters"


async def test_multibyte_characters_split_in_a_sync_json_body():
    content = "naïve 中文 😀 " * 50
    body = json.dumps(
        {
            "id": "c1",
            "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        },
        ensure_ascii=False,
    ).encode()

    async def split_body(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, {"content-type": "application/json", "content-length": str(len(body))})
        for offset in range(0, len(body), 7):
            await exchange.send(body[offset : offset + 7])

    async with Loopback(split_body) as server:
        client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=server.url + "/v1", max_retries=0)
        response = await client.chat().user("Hi").execute()
        await client.aclose()
    assert response.content == content


async def test_invalid_utf8_in_a_stream_is_replaced_not_raised():
    async def bad_bytes(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("ok ").replace(b"ok ", b"ok \xff\xfe"))
        await exchange.send(OPENAI_FINISH)

    async with Loopback(bad_bytes) as server:
        text, _ = await stream_text(server.url + "/v1")
    assert text == "ok \ufffd\ufffd"
