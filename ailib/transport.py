"""Send a built request: auth applied at the last moment, retries, timeouts.

The API key lives in a :class:`Secret` whose ``repr`` and ``str`` are redacted, so
it cannot reach a log line, a traceback's locals display or an exception message by
accident; it is placed on the request only when sending. Retries follow the
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

from .errors import AiLibError, ServerError, TimeoutError

if TYPE_CHECKING:
    from .codecs.base import Codec

logger = logging.getLogger("ailib")

_MISSING = object()


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


class Secret:
    """An API key that never shows itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with the key replaced by ``***``: providers sometimes quote a key back."""
        value = self._value
        return text.replace(value, "***") if value and value in text else text

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
        backoff = min(self.max_delay, self.base_delay * (2**attempt)) * self.random()
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            return max(error.retry_after, backoff)
        return backoff


class Transport:
    """Owns nothing but the policy; the ``httpx.AsyncClient`` belongs to :class:`AiClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        codec: Codec,
        key: Secret,
        policy: RetryPolicy,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.http = http
        self.codec = codec
        self.policy = policy
        self._key = key
        self._timeout = timeout
        self._templates: dict[tuple[Any, ...], tuple[httpx.URL, httpx.Headers] | None] = {}
        # Errors read from a 200 answer (an error field, an in-stream error event, a body
        # that is not JSON) are built by the codec, which must scrub the key from them too.
        codec.redact = key.redact
        auth = codec.manifest.auth
        self._auth_placement = auth.get("placement", "header")
        self._auth_name = auth.get("name", "Authorization")
        self._auth_prefix = auth.get("prefix", "")
        if self._auth_placement == "query":
            _QUERY_KEY_FILTER.add(self._auth_name)
            logging.getLogger("httpx").addFilter(_QUERY_KEY_FILTER)

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
        template = self._templates.get(key, _MISSING)
        if template is not _MISSING:
            return template
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
        """Send with retries; return a response with status < 400 whose body is not read yet."""
        attempt = 0
        while True:
            request = self.build(method, url, query, headers, body)
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TimeoutException as exc:
                error: AiLibError = TimeoutError(
                    f"{type(exc).__name__}: no answer within the timeout", provider=self.codec.provider
                )
            except httpx.TransportError as exc:
                error = ServerError(f"connection failed: {type(exc).__name__}", provider=self.codec.provider)
            else:
                logger.debug("%s %s%s -> %d", method, request.url.host, request.url.path, response.status_code)
                if response.status_code < 400:
                    return response
                error = await self._error_from(response)
            wait = self.policy.delay(attempt, error)
            if wait is None:
                raise error
            logger.info("%s: %s, retry %d in %.2fs", self.codec.provider, error.error_class, attempt + 1, wait)
            attempt += 1
            await self.policy.sleep(wait)

    async def _error_from(self, response: httpx.Response) -> AiLibError:
        try:
            raw = await response.aread()
        except httpx.HTTPError:
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
