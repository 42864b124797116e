"""A small HTTP/1.1 server on 127.0.0.1 for the fault tests, run in the test's own event loop.

Each test hands :class:`Loopback` a handler ``async (Exchange) -> None`` that reads the
request and writes whatever bytes it likes (a stall, a cut-off stream, a huge event).
The server is bounded: a handler runs at most ``lifetime`` seconds, and leaving the
``async with`` block closes the listening socket and cancels every handler still
running, so a stalled connection never outlives its test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    418: "I'm a teapot",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Site Overloaded",
}


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Exchange:
    """One connection: the parsed request and the writer to answer on."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    request: Request | None = None

    async def read_request(self) -> Request:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        self.request = Request(method, target, headers, body)
        return self.request

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Status line and headers of a response whose body is streamed until the connection closes."""
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines += ["connection: close", "", ""]
        await self.send("\r\n".join(lines).encode("latin-1"))

    async def respond(
        self,
        status: int,
        body: bytes | str | Any,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(body, str):
            body, content_type = body.encode(), content_type or "text/plain; charset=utf-8"
        elif not isinstance(body, bytes):
            body, content_type = json.dumps(body).encode(), content_type or "application/json"
        all_headers = {"content-type": content_type or "application/octet-stream", "content-length": str(len(body))}
        all_headers.update(headers or {})
        await self.head(status, all_headers)
        await self.send(body)

    async def stall(self) -> None:
        """Keep the connection open and silent until the server is torn down."""
        await asyncio.Event().wait()


Handler = Callable[[Exchange], Awaitable[None]]


@dataclass
class Loopback:
    """``async with Loopback(handler) as server:`` then point a client at ``server.url``."""

    handler: Handler
    lifetime: float = 10.0
    exchanges: list[Exchange] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> Loopback:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:  # each write goes out as it is made: splits reach the client as splits
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        exchange = Exchange(reader, writer)
        self.exchanges.append(exchange)
        try:
            await asyncio.wait_for(self.handler(exchange), self.lifetime)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # Torn down by __aexit__. Not re-raised: asyncio's server callback would log
            # the cancelled task's exception as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @property
    def requests(self) -> list[Request]:
        return [e.request for e in self.exchanges if e.request is not None]

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        await self._server.wait_closed()


def sse(obj: Any, event: str | None = None) -> bytes:
    """One SSE block; JSON written with raw UTF-8 (multi-byte characters stay multi-byte on the wire)."""
    data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return ((f"event: {event}\n" if event else "") + f"data: {data}\n\n").encode()


def openai_delta(text: str) -> bytes:
    return sse(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        }
    )


OPENAI_FINISH = (
    sse(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    + b"data: [DONE]\n\n"
)

SSE_HEADERS = {"content-type": "text/event-stream"}


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
