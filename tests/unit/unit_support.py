"""Helpers shared by the ailib unit tests (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx

#: A recognisable key: if it shows up in a message, repr or log line, a test catches it.
PLANTED_KEY = "sk-PLANTED-7f3a9c1e5b2d-DO-NOT-LEAK"


class FakeClock:
    """Injected as ``RetryPolicy.sleep``: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class Server:
    """A MockTransport handler that records requests and replays canned answers.

    ``answers`` is either one callable ``request -> httpx.Response`` or a list of
    responses / exceptions served in order (the last one repeats).
    """

    def __init__(self, answers: Callable[[httpx.Request], httpx.Response] | list[Any] | httpx.Response) -> None:
        self.answers = [answers] if isinstance(answers, httpx.Response) else answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: what arrived on the wire. The client masks a query-string key in its own
        # request object once it is sent, which must not change what the server saw.
        self.requests.append(
            httpx.Request(request.method, request.url, headers=request.headers, content=request.read())
        )
        if callable(self.answers):
            return self.answers(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, httpx.Response) and hasattr(answer, "_content"):
            # a canned answer may be served several times (retries): hand out a fresh copy
            answer = httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return answer

    @property
    def calls(self) -> int:
        return len(self.requests)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def sse_body(events: Iterable[str], line_end: str = "\n") -> bytes:
    """Frame SSE blocks (lines joined by LF, no trailing blank line) with ``line_end``."""
    return "".join(e.replace("\n", line_end) + line_end + line_end for e in events).encode()


def sse_response(body: bytes, chunks: list[int] | None = None) -> httpx.Response:
    """An event-stream response; ``chunks`` gives split offsets for the body stream."""
    if chunks is None:
        content: Any = body
    else:
        cuts = [0, *chunks, len(body)]
        content = _aiter([body[a:b] for a, b in itertools.pairwise(cuts)])
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=content)


async def _aiter(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def data_event(obj: Any, event: str | None = None) -> str:
    """One SSE block carrying ``obj`` as JSON, optionally with an ``event:`` name."""
    line = "data: " + json.dumps(obj, separators=(",", ":"))
    return f"event: {event}\n{line}" if event else line


async def collect(stream: Any) -> list[Any]:
    return [event async for event in stream]


def contents(events: list[Any]) -> str:
    return "".join(e.as_content_delta.text for e in events if e.is_content_delta)
