"""Send a built request: auth applied at the last moment, retries, deadlines, origins.

The API key lives in a :class:`Secret` whose ``repr`` and ``str`` are redacted, so
it cannot reach a log line, a traceback's locals display or an exception message by
accident; it is placed on the request only when sending, and only to the origin
(scheme, host, port) of the endpoint the manifest and ``base_url`` name. Redirects are
never left to httpx (which forwards every header but ``Authorization`` to any host a
3xx names): a same-origin 307/308 (or any redirect of a GET) is followed here, anything
else is refused with :class:`~ailib.errors.RedirectError`. With query-string auth, the
URL of a request is masked as soon as it is sent, so no ``.request.url`` of a response
or an httpx exception holds the key.

Each attempt is bounded by an overall deadline (connect, headers and, for
:meth:`Transport.fetch`, the body together) besides httpx's per-read timeout, so a
server that trickles one byte a second cannot stretch a call. Retries follow the
standard classes: only ``retryable`` errors are retried, with exponential backoff
and full jitter, waiting at least as long as ``Retry-After`` asks. ``sleep`` and
``random`` are injectable so tests run retries on a fake clock.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from .errors import (
    AiLibError,
    ClientClosedError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServerError,
    StreamProtocolError,
)

if TYPE_CHECKING:
    from .codecs.base import Codec

logger = logging.getLogger("ailib")


async def _sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported when a retry first waits rather than at ``import ailib``
    (httpx does not need asyncio, and importing it is a sizeable part of the import time)."""
    import asyncio

    await asyncio.sleep(seconds)


class _RedactQueryKeys(logging.Filter):
    """httpx logs every request URL (``HTTP Request: POST https://...``) at INFO. For a
    manifest that places the key in the query, mask that parameter's value there."""

    def __init__(self) -> None:
        super().__init__()
        self._names: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, name: str) -> None:
        if name not in self._names:
            self._names.add(name)
            names = "|".join(re.escape(quote(n, safe="")) for n in sorted(self._names))
            self._pattern = re.compile(rf"([?&](?:{names})=)[^&#\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is not None:
            message = record.getMessage()
            redacted = self._pattern.sub(r"\1***", message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_QUERY_KEY_FILTER = _RedactQueryKeys()


def _hex(value: int, width: int) -> str:
    """A regex matching ``value`` as ``width`` hex digits in either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{width}x}")


def _escaped_pattern(value: str) -> re.Pattern[str]:
    """Every way a server may quote ``value`` back: each character as itself, JSON-escaped
    (``\\uXXXX``, ``\\/``, ``\\"``, also escaped twice over), or percent-encoded (``%XX``)."""
    parts = []
    for ch in value:
        options = [re.escape(ch), rf"\\+u{_hex(ord(ch), 4)}"]
        if ord(ch) < 0x80:
            options.append(f"%{_hex(ord(ch), 2)}")
        if ch in '/"\\':
            options.append(rf"\\+{re.escape(ch)}")
        parts.append("(?:" + "|".join(options) + ")")
    return re.compile("".join(parts))


class Secret:
    """An API key that never shows itself."""

    __slots__ = ("_pattern", "_value")

    def __init__(self, value: str) -> None:
        self._value = value
        self._pattern: re.Pattern[str] | None = None

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str, mark: str = "***") -> str:
        """``text`` with the key replaced by ``mark``: providers sometimes quote a key back,
        as it is or escaped (a JSON ``\\/`` or ``\\u00xx``, a ``%xx`` of a URL)."""
        value = self._value
        if not value:
            return text
        if value in text:
            text = text.replace(value, mark)
        if "\\" in text or "%" in text:
            if self._pattern is None:
                self._pattern = _escaped_pattern(value)
            text = self._pattern.sub(mark, text)
        return text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass
class RetryPolicy:
    """How many times and how long to wait. Delays: ``base * 2**attempt``, capped, jittered."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, error: AiLibError) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        backoff = min(self.max_delay, self.base_delay * 2.0**attempt) * self.random()
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            return max(error.retry_after, backoff)
        return backoff


#: Redirect statuses that keep the method and body (RFC 9110 15.4.8/15.4.9): the only
#: ones a POST may follow. A GET (Replicate's stream) may follow any of them.
_KEEP_METHOD = (307, 308)
_MAX_REDIRECTS = 3


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the scheme's default port made explicit."""
    port = url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def _deadline_of(timeout: httpx.Timeout) -> float | None:
    """The whole-call bound a timeout implies: its longest phase (``timeout=3`` -> 3 s)."""
    values = [float(v) for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v is not None]
    return max(values) if values else None


class Transport:
    """Owns nothing but the policy; the ``httpx.AsyncClient`` belongs to :class:`AiClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        codec: Codec,
        key: Secret,
        policy: RetryPolicy,
        timeout: httpx.Timeout | None = None,
        *,
        max_body_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.http = http
        self.codec = codec
        self.policy = policy
        self.max_body_bytes = max_body_bytes
        self.closed = False
        self._key = key
        self._timeout = timeout
        self._templates: dict[tuple[Any, ...], tuple[httpx.URL, httpx.Headers] | None] = {}
        auth = codec.manifest.auth
        self._auth_placement = auth.placement if auth else "header"
        self._auth_name = auth.name if auth else "Authorization"
        self._auth_prefix = auth.prefix if auth else ""
        self.origin = origin(httpx.URL(codec.url(False)[0]))
        # Hosts besides the endpoint's own that the provider documents for follow-up URLs
        # (Replicate's urls.stream): reached over https only.
        self._follow_domains = codec.manifest.stream.follow_domains
        if self._auth_placement == "query":
            _QUERY_KEY_FILTER.add(self._auth_name)
            logging.getLogger("httpx").addFilter(_QUERY_KEY_FILTER)

    @property
    def timeout(self) -> httpx.Timeout:
        return self._timeout if self._timeout is not None else self.http.timeout

    @property
    def deadline(self) -> float | None:
        """Seconds one attempt may take in all (connect, headers, body)."""
        return _deadline_of(self.timeout)

    def may_follow(self, url: httpx.URL) -> bool:
        """A follow-up URL the provider named: the endpoint's own origin, or https (on its
        default port) to a domain the manifest documents for it (``stream.follow_domains``)."""
        if origin(url) == self.origin:
            return True
        host = url.host
        return (
            url.scheme == "https"
            and url.port in (None, 443)
            and any(host == d or host.endswith("." + d) for d in self._follow_domains)
        )

    def build(self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any) -> httpx.Request:
        content = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        http = self.http
        if not (http.params or http.cookies):
            template = self._template(method, url, query, headers)
            if template is not None:
                # The request build_request() would make, from parts merged once per
                # URL and header set (see _template); the key is added per request.
                target, merged = template
                merged = httpx.Headers(merged)
                if self._auth_placement == "header":
                    merged.update({self._auth_name: self._auth_prefix + self._key.reveal()})
                timeout = self._timeout if self._timeout is not None else http.timeout
                return httpx.Request(
                    method, target, content=content, headers=merged, extensions={"timeout": timeout.as_dict()}
                )
        headers = dict(headers)
        params = dict(query)
        if self._auth_placement == "header":
            headers[self._auth_name] = self._auth_prefix + self._key.reveal()
        else:
            params[self._auth_name] = self._key.reveal()
        request = http.build_request(method, url, params=params or None, headers=headers, content=content)
        if self._timeout is not None:
            request.extensions["timeout"] = self._timeout.as_dict()
        return request

    def _template(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[httpx.URL, httpx.Headers] | None:
        """The merged URL and headers (without the key header) for these parts, cached.

        Building an ``httpx.Request`` from a URL string parses the string every time,
        and merging the client's headers normalises them every time: most of the cost
        of a request. Both depend only on the parts and on ``client.headers``, which is
        part of the cache key, so a change to it still applies to the next request.
        Client-level params or cookies bypass this (``build`` lets httpx merge them).
        """
        client_headers = tuple(self.http.headers.raw)
        key = (method, url, tuple(query.items()), tuple(headers.items()), client_headers)
        if key in self._templates:
            return self._templates[key]
        template: tuple[httpx.URL, httpx.Headers] | None
        if self._auth_placement == "header" and any(name.lower() == self._auth_name.lower() for name in headers):
            template = None  # the key would replace a header of the same name in place: use the plain path
        else:
            params = dict(query)
            if self._auth_placement != "header":
                params[self._auth_name] = self._key.reveal()
            target = self.http.build_request(method, url, params=params or None).url
            merged = httpx.Headers(self.http.headers)
            merged.update(headers)
            template = (target, merged)
        if len(self._templates) >= 32:
            self._templates.clear()
        self._templates[key] = template
        return template

    async def open(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> httpx.Response:
        """Send with retries; return a 2xx response whose body is not read yet. Each attempt,
        up to the response headers, is bounded by the deadline."""
        response, _ = await self._send(method, url, query, headers, body, read=False)
        return response

    async def fetch(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[httpx.Response, bytes]:
        """Send with retries and read the whole 2xx body; each attempt (connect, headers
        and body together) is bounded by the deadline."""
        return await self._send(method, url, query, headers, body, read=True)

    async def _send(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any, *, read: bool
    ) -> tuple[httpx.Response, bytes]:
        if self.closed or self.http.is_closed:
            raise ClientClosedError(
                f"the {self.codec.provider} client is closed (used after aclose())", provider=self.codec.provider
            )
        attempt = 0
        while True:
            result = await self._attempt(method, url, query, headers, body, read)
            if not isinstance(result, AiLibError):
                return result
            wait = self.policy.delay(attempt, result)
            if wait is None:
                raise result  # outside any except block: no httpx exception (and its URL) attached
            logger.info("%s: %s, retry %d in %.2fs", self.codec.provider, result.error_class, attempt + 1, wait)
            attempt += 1
            await self.policy.sleep(wait)

    async def _attempt(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any, read: bool
    ) -> tuple[httpx.Response, bytes] | AiLibError:
        deadline = self.deadline
        if deadline is None:
            return await self._exchange(method, url, query, headers, body, read)
        import anyio  # httpx's own dependency; imported when a first request is sent

        result: tuple[httpx.Response, bytes] | AiLibError | None = None
        with anyio.move_on_after(deadline):
            result = await self._exchange(method, url, query, headers, body, read)
        if result is None:
            return RequestTimeoutError(
                f"no complete answer within the {deadline:g} s deadline of the call", provider=self.codec.provider
            )
        return result

    async def _exchange(
        self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any, read: bool
    ) -> tuple[httpx.Response, bytes] | AiLibError:
        """One attempt: send, follow same-origin redirects, read the body if asked."""
        provider = self.codec.provider
        request = self.build(method, url, query, headers, body)
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                response = await self.http.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as exc:
                return RequestTimeoutError(f"{type(exc).__name__}: no answer within the timeout", provider=provider)
            except httpx.HTTPError as exc:
                return ServerError(f"connection failed: {type(exc).__name__}", provider=provider)
            except RuntimeError:
                if not self.http.is_closed:
                    raise
                return ClientClosedError(f"the http_client of this {provider} client is closed", provider=provider)
            finally:
                self._mask(request)
            status = response.status_code
            logger.debug("%s %s%s -> %d", request.method, request.url.host, request.url.path, status)
            if status < 300:
                if not read:
                    return response, b""
                try:
                    return response, await self.read_body(response)
                finally:
                    await response.aclose()
            if status >= 400:
                return await self._error_from(response)
            await response.aclose()  # a 3xx body is never read, let alone parsed as an answer
            target = self._redirect(request, response)
            if isinstance(target, AiLibError):
                return target
            method = request.method if status in _KEEP_METHOD else "GET"
            request = self.build(method, str(target), {}, headers, body if method != "GET" else None)
        return RedirectError(f"more than {_MAX_REDIRECTS} redirects", provider=provider, status_code=status)

    def _redirect(self, request: httpx.Request, response: httpx.Response) -> httpx.URL | AiLibError:
        """Where a 3xx may be followed with the key: the same origin, with the method kept
        (a POST only on 307/308). Anything else is refused, naming the status and host."""
        provider, status = self.codec.provider, response.status_code
        location = response.headers.get("location")
        try:
            target = request.url.join(location) if location else None
        except httpx.InvalidURL:
            target = None
        if target is None:
            return RedirectError(
                f"HTTP {status} redirect without a usable Location", provider=provider, status_code=status
            )
        if origin(target) != self.origin:
            return RedirectError(
                f"HTTP {status} redirect to another origin ({target.scheme}://{target.host}) refused: "
                "the API key is only sent to the endpoint's own origin",
                provider=provider,
                status_code=status,
            )
        if request.method != "GET" and status not in _KEEP_METHOD:
            return RedirectError(
                f"HTTP {status} redirect of a {request.method} (it would become a GET) refused",
                provider=provider,
                status_code=status,
            )
        if self._auth_placement == "query":
            target = target.copy_remove_param(self._auth_name)
        return target

    def _mask(self, request: httpx.Request) -> None:
        """Query-string auth: once sent, the request (and every response or httpx error
        that refers to it) shows the key parameter as ``***``."""
        if self._auth_placement == "query" and self._auth_name in request.url.params:
            request.url = request.url.copy_set_param(self._auth_name, "***")

    async def read_body(self, response: httpx.Response) -> bytes:
        """The whole body, at most :attr:`max_body_bytes`; any failure a typed error."""
        provider, limit = self.codec.provider, self.max_body_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise ResponseTooLargeError(
                f"response body of {int(length)} bytes exceeds the limit of {limit}", provider=provider
            )
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLargeError(f"response body exceeds the limit of {limit} bytes", provider=provider)
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise RequestTimeoutError("read timed out", provider=provider) from None
        except httpx.DecodingError:
            encoding = response.headers.get("content-encoding", "?")
            raise StreamProtocolError(
                f"response body does not decode (content-encoding {encoding})", provider=provider
            ) from None
        except httpx.HTTPError as exc:
            raise StreamProtocolError(f"response body interrupted: {type(exc).__name__}", provider=provider) from None
        return b"".join(chunks)

    async def _error_from(self, response: httpx.Response) -> AiLibError:
        try:
            raw = await self.read_body(response)
        except AiLibError:
            raw = b""
        finally:
            await response.aclose()
        text = self._key.redact(raw.decode("utf-8", errors="replace"))  # some providers quote the rejected key back
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        from .classify import parse_retry_after

        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return self.codec.error(body, response.status_code, raw_text=text, retry_after=retry_after)
