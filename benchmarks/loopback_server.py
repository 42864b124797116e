"""A loopback OpenAI-style chat server for the benchmarks (standard library only).

Serves ``POST /v1/chat/completions`` on 127.0.0.1 only. The number of stream chunks
is the first number in the last message: ``"Stream 20000 chunks."`` streams 20 000
content deltas (100 when there is none). Every body is rendered once and cached, so
the server does almost no work per request and the client under test is what gets
measured.

The stream is what OpenAI sends: HTTP/1.1 chunked transfer encoding, one SSE event per
HTTP chunk, a first chunk carrying the role, N content chunks, a finish chunk, a usage
chunk with empty ``choices`` and ``data: [DONE]``. Every client gets the same bytes.

Bounded: it stops by itself after ``--ttl`` seconds, after ``--max-requests`` requests,
or when its standard input closes (the parent died), whichever comes first.

Run alone: ``python benchmarks/loopback_server.py`` prints ``PORT <n>`` and serves.
In-process: ``with LoopbackServer() as server: server.base_url(n)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import threading
import zlib

HOST = "127.0.0.1"
MODEL = "gpt-4o-mini"
_CREATED = 1_700_000_000
_ID = "chatcmpl-bench"

#: The non-streaming answer's content (and what a client must return for it).
NONSTREAM_TEXT = "Hello! This is a canned answer from the loopback benchmark server."

_WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do")


def delta_text(i: int) -> str:
    """The content of delta ``i`` (varied, short, like a token)."""
    return f" {_WORDS[i % len(_WORDS)]}{i % 97}"


def expected(n: int) -> dict[str, int]:
    """What a correct client collects from an n-chunk stream: delta count, length, crc32."""
    text = "".join(delta_text(i) for i in range(n))
    data = text.encode()
    return {"deltas": n, "chars": len(text), "crc32": zlib.crc32(data)}


def _chunk(obj: dict) -> bytes:
    event = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(event), event)


def _frame(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def render_stream(n: int) -> bytes:
    """The full HTTP response (head and chunked body) for an n-delta stream."""
    parts = [_chunk(_frame({"role": "assistant", "content": "", "refusal": None}))]
    parts.extend(_chunk(_frame({"content": delta_text(i)})) for i in range(n))
    parts.append(_chunk(_frame({}, "stop")))
    usage = {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n}
    parts.append(
        _chunk(
            {
                "id": _ID,
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": MODEL,
                "system_fingerprint": "fp_bench",
                "choices": [],
                "usage": usage,
            }
        )
    )
    done = b"data: [DONE]\n\n"
    parts.append(b"%x\r\n%s\r\n" % (len(done), done))
    parts.append(b"0\r\n\r\n")
    head = (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: text/event-stream; charset=utf-8\r\n"
        b"transfer-encoding: chunked\r\n"
        b"connection: keep-alive\r\n"
        b"x-request-id: req_bench\r\n"
        b"\r\n"
    )
    return head + b"".join(parts)


def render_json() -> bytes:
    body = json.dumps(
        {
            "id": _ID,
            "object": "chat.completion",
            "created": _CREATED,
            "model": MODEL,
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": NONSTREAM_TEXT, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 12,
                "completion_tokens": 14,
                "total_tokens": 26,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
        },
        separators=(",", ":"),
    ).encode()
    head = (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: application/json\r\n"
        b"content-length: %d\r\n"
        b"connection: keep-alive\r\n"
        b"x-request-id: req_bench\r\n"
        b"\r\n" % len(body)
    )
    return head + body


_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


class _Counter:
    def __init__(self, limit: int, on_limit) -> None:
        self.count = 0
        self.limit = limit
        self.on_limit = on_limit

    def hit(self) -> None:
        self.count += 1
        if self.count >= self.limit:
            self.on_limit()


class _HTTP(asyncio.Protocol):
    """A minimal HTTP/1.1 keep-alive server: enough for the clients under test."""

    def __init__(self, cache: dict, counter: _Counter) -> None:
        self._cache = cache
        self._counter = counter
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buf[:end].decode("latin-1")
            length = 0
            chunked = False
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip())
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            if chunked:  # no benchmarked client sends this; decode the simple case anyway
                term = self._buf.find(b"\r\n0\r\n\r\n", end)
                if term < 0:
                    return
                body = _dechunk(self._buf[end + 4 : term + 7])
                self._buf = self._buf[term + 7 :]
            else:
                if len(self._buf) < end + 4 + length:
                    return
                body = self._buf[end + 4 : end + 4 + length]
                self._buf = self._buf[end + 4 + length :]
            self._respond(head.split(" ", 2)[1], body)

    def _respond(self, path: str, body: bytes) -> None:
        assert self._transport is not None
        self._counter.hit()
        if not path.endswith("/chat/completions"):
            self._transport.write(_NOT_FOUND)
            return
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        if request.get("stream"):
            n = chunk_count(request)
            key = ("stream", n)
            if key not in self._cache:
                self._cache[key] = render_stream(n)
            self._transport.write(self._cache[key])
        else:
            self._transport.write(self._cache["json"])


_NUMBER = re.compile(r"\d+")


def chunk_count(request: dict) -> int:
    """How many deltas a stream request asks for: the first number in its last message."""
    try:
        content = request["messages"][-1]["content"]
    except (KeyError, IndexError, TypeError):
        return 100
    if isinstance(content, list):  # content parts
        content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    found = _NUMBER.search(str(content))
    return min(int(found.group()), 1_000_000) if found else 100


def prompt(n: int) -> str:
    return f"Stream {n} chunks."


def _dechunk(raw: bytes) -> bytes:
    out, pos = [], 0
    while True:
        crlf = raw.find(b"\r\n", pos)
        size = int(raw[pos:crlf], 16)
        if size == 0:
            return b"".join(out)
        out.append(raw[crlf + 2 : crlf + 2 + size])
        pos = crlf + 4 + size


async def serve(
    port: int = 0,
    ttl: float = 900.0,
    max_requests: int = 2_000_000,
    ready=None,
    stop: asyncio.Event | None = None,
    prerender: tuple[int, ...] = (),
) -> None:
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    counter = _Counter(max_requests, stop.set)
    # Render the measured streams before announcing the port: a body rendered on
    # first request would be timed as the client's.
    cache: dict = {"json": render_json(), **{("stream", n): render_stream(n) for n in prerender}}
    server = await loop.create_server(lambda: _HTTP(cache, counter), HOST, port, reuse_address=True, backlog=256)
    actual = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(actual)
    try:
        await asyncio.wait_for(stop.wait(), ttl)
    except asyncio.TimeoutError:
        pass
    finally:
        server.close()


class LoopbackServer:
    """The server in a background thread of this process (for tests and quick checks)."""

    def __init__(self, ttl: float = 300.0, prerender: tuple[int, ...] = ()) -> None:
        self._ttl = ttl
        self._prerender = tuple(prerender)
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bench-server", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await serve(0, self._ttl, ready=self._on_ready, stop=self._stop, prerender=self._prerender)

        asyncio.run(main())

    def _on_ready(self, port: int) -> None:
        self.port = port
        self._ready.set()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("benchmark server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ttl", type=float, default=900.0, help="stop after this many seconds")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--prerender", default="", help="comma-separated stream sizes to render at start")
    args = parser.parse_args()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def ready(port: int) -> None:
            print(f"PORT {port}", flush=True)

        # Stop when the parent closes our stdin (or dies).
        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read(1):
                    pass
            except (OSError, ValueError):
                pass
            loop.call_soon_threadsafe(stop.set)

        if not sys.stdin.isatty():
            threading.Thread(target=watch_stdin, daemon=True).start()
        prerender = tuple(int(x) for x in args.prerender.split(",") if x)
        await serve(args.port, args.ttl, args.max_requests, ready=ready, stop=stop, prerender=prerender)

    asyncio.run(run())
    os._exit(0)


if __name__ == "__main__":
    main()
