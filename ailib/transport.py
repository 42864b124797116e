"""Send a built request: auth applied at the last moment, retries, timeouts.

The API key lives in a :class:`Secret` whose ``repr`` and ``str`` are redacted, so
it cannot reach a log line, a traceback's locals display or an exception message by
accident; it is placed on the request only when sending. Retries follow the
standard classes: only ``retryable`` errors are retried, with exponential backoff
and full jitter, waiting at least as long as ``Retry-After`` asks. ``sleep`` and
``random`` are injectable so tests run retries on a fake clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import httpx

from .classify import parse_retry_after
from .codecs.base import Codec
from .errors import AiLibError, ServerError, TimeoutError

logger = logging.getLogger("ailib")


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
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
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
        auth = codec.manifest.auth
        self._auth_placement = auth.get("placement", "header")
        self._auth_name = auth.get("name", "Authorization")
        self._auth_prefix = auth.get("prefix", "")
        if self._auth_placement == "query":
            _QUERY_KEY_FILTER.add(self._auth_name)
            logging.getLogger("httpx").addFilter(_QUERY_KEY_FILTER)

    def build(self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any) -> httpx.Request:
        headers = dict(headers)
        params = dict(query)
        if self._auth_placement == "header":
            headers[self._auth_name] = self._auth_prefix + self._key.reveal()
        else:
            params[self._auth_name] = self._key.reveal()
        content = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        extensions = {"timeout": self._timeout.as_dict()} if self._timeout is not None else None
        request = self.http.build_request(method, url, params=params or None, headers=headers, content=content)
        if extensions:
            request.extensions.update(extensions)
        return request

    async def open(self, method: str, url: str, query: dict[str, str], headers: dict[str, str], body: Any) -> httpx.Response:
        """Send with retries; return a response with status < 400 whose body is not read yet."""
        attempt = 0
        while True:
            request = self.build(method, url, query, headers, body)
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TimeoutException as exc:
                error: AiLibError = TimeoutError(f"{type(exc).__name__}: no answer within the timeout", provider=self.codec.provider)
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
        text = raw.decode("utf-8", errors="replace")
        key = self._key.reveal()
        if key and key in text:  # some providers quote the rejected key back in their message
            text = text.replace(key, "***")
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return self.codec.error(body, response.status_code, raw_text=text, retry_after=retry_after)
