"""Where a live request goes and how it waits: the endpoint override, 429 waits, per-provider slots.

:class:`LiveRoute` wraps the httpcore connection pool of the suite's httpx client, *below*
vcrpy's patch point (``AsyncHTTPTransport.handle_async_request``), as
:class:`conformance.cassettes.SimulatorRoute` does for recording from the simulator. So:

* vcrpy records the provider's real URL even when ``--live-endpoint`` sends the bytes to
  another origin (the request keeps its ``Host`` header, as through a transparent proxy;
  the simulator in server mode reads it to know which provider to play), and the cassette
  replays offline like any other;
* a ``429`` is waited out here, honouring ``Retry-After``, and the request sent again:
  the cassette only ever holds the answer the provider gave once it was willing to answer,
  so the replayed cell judges the scenario, not the rate limit of the evening it was recorded.

:class:`ProviderSlots` bounds how many cells of one provider run at once, across processes
(pytest-xdist workers), with ``flock``-ed slot files.
"""

from __future__ import annotations

import asyncio
import fcntl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

#: How many times one request is sent again after a 429 before the 429 is handed to the client.
MAX_RATE_LIMIT_WAITS = 5
#: Wait after a 429 that says nothing (no ``Retry-After``): doubled each time.
FIRST_BACKOFF = 2.0


@dataclass
class Endpoint:
    """An origin (and optional path prefix) requests are sent to instead of the provider's own."""

    scheme: str
    host: str
    port: int
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """``http(s)://host[:port][/prefix]``; anything else raises ValueError naming the URL."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError(f"{url!r}: an endpoint is scheme://host[:port][/path] (no credentials, query or fragment)")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValueError(f"{url!r}: {exc}") from None
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}{port}{self.prefix}"


def origin_of(url: Any) -> str:
    """``scheme://host[:port]`` of an httpcore URL (no path, no credentials)."""
    scheme, host = url.scheme.decode("ascii"), url.host.decode("ascii")
    return Endpoint(scheme, host, url.port or (443 if scheme == "https" else 80)).url


@dataclass
class CellTraffic:
    """What the route saw for one cell: the endpoint it really used and every 429 wait."""

    endpoints: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    gave_up: str | None = None

    @property
    def endpoint(self) -> str | None:
        return self.endpoints[0] if self.endpoints else None


class LiveRoute:
    """httpcore pool wrapper: send to ``endpoint`` (or where the URL says) and wait out 429s."""

    def __init__(
        self,
        pool: Any,
        endpoint: Endpoint | None,
        traffic: CellTraffic,
        *,
        max_wait: float,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._pool = pool
        self._endpoint = endpoint
        self._traffic = traffic
        self._max_wait = max_wait
        self._sleep = sleep

    def _target(self, request: Any) -> Any:
        import httpcore

        if self._endpoint is None:
            return request
        e = self._endpoint
        url = httpcore.URL(
            scheme=e.scheme.encode(), host=e.host.encode(), port=e.port, target=e.prefix.encode() + request.url.target
        )
        return httpcore.Request(
            request.method, url, headers=request.headers, content=request.stream, extensions=request.extensions
        )

    async def handle_async_request(self, request: Any) -> Any:
        from ailib.classify import parse_retry_after

        routed = self._target(request)
        origin = origin_of(routed.url)
        if origin not in self._traffic.endpoints:
            self._traffic.endpoints.append(origin)
        backoff = FIRST_BACKOFF
        for attempt in range(MAX_RATE_LIMIT_WAITS + 1):
            response = await self._pool.handle_async_request(routed)
            if response.status != 429 or attempt == MAX_RATE_LIMIT_WAITS:
                return response
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
            asked = parse_retry_after(headers.get("retry-after"))
            wait = asked if asked is not None else backoff
            if wait > self._max_wait:
                self._traffic.gave_up = f"429 asked to wait {wait:g} s, more than --live-max-wait {self._max_wait:g} s"
                return response
            await response.aread()
            await response.aclose()
            self._traffic.waits.append(wait)
            await self._sleep(wait)
            backoff *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self._pool.aclose()


class ProviderSlots:
    """At most ``limit`` cells of one provider at a time, across every process of the run.

    Slot ``i`` of a provider is the ``flock`` on ``<directory>/<provider>.<i>.lock``: the
    lock belongs to the open file, so it is released when its holder closes it or dies
    (an interrupted worker never keeps a slot)."""

    def __init__(self, directory: Path, limit: int, poll: float = 0.05) -> None:
        if limit < 1:
            raise ValueError(f"per-provider concurrency must be at least 1, not {limit}")
        self.directory = directory
        self.limit = limit
        self.poll = poll

    def acquire(self, provider: str, timeout: float | None = None) -> Callable[[], None]:
        """Block until a slot of ``provider`` is free; return the function that frees it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for i in range(self.limit):
                handle: IO[str] = open(self.directory / f"{provider}.{i}.lock", "a+")  # noqa: SIM115
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                return handle.close
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no free slot for {provider} after {timeout} s (limit {self.limit})")
            time.sleep(self.poll)
