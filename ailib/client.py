"""``AiClient``: one provider, one model, one ``httpx.AsyncClient``.

Switching provider is a change of the model id only: ``"openai/gpt-4o"``,
``"anthropic/claude-3-5-sonnet"``, ``"gemini/gemini-2.0-flash"``. The text before the
first ``/`` picks the manifest; the rest is sent as the model name.
"""

from __future__ import annotations

import functools
import json
import math
import os
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from .errors import ConfigurationError, UnsupportedError
from .transport import RetryPolicy, Secret, Transport

if TYPE_CHECKING:
    from . import manifest as manifests
    from .chat import ChatRequestBuilder
    from .session import ChatSession

# The manifest loader, the codecs and the chat builder are imported by the first
# AiClient.create() / chat(), not by ``import ailib``: importing the package costs
# httpx plus ailib's small public types, not the machinery behind them.

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Characters one stream event may hold (a 1 MiB delta is far inside it).
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
#: Bytes one (non-streaming) response body may hold.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


def _positive_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _checked_timeout(provider: str, timeout: object) -> httpx.Timeout | None:
    """``timeout`` as an ``httpx.Timeout``: a positive finite number of seconds, or one."""
    if timeout is None or isinstance(timeout, httpx.Timeout):
        return timeout
    if not _positive_number(timeout):
        raise ConfigurationError(
            f"timeout must be a positive number of seconds or an httpx.Timeout, got {timeout!r:.40}",
            provider=provider,
        )
    return httpx.Timeout(float(timeout))  # type: ignore[arg-type]


def _check_arguments(
    provider: str,
    base_url: object,
    http_client: object,
    max_retries: object,
    idle_timeout: object,
    max_event_size: object,
    max_body_bytes: object,
    manifests_dir: object = None,
    fast: object = False,
) -> None:
    """Refuse wrong argument types at ``create()``, before anything is loaded or sent."""
    problem = None
    if manifests_dir is not None and not isinstance(manifests_dir, (str, os.PathLike)):
        problem = f"manifests_dir must be a path, got {type(manifests_dir).__name__}"
    elif not isinstance(fast, bool):
        problem = f"fast must be True or False, got {fast!r:.40}"
    elif base_url is not None and not isinstance(base_url, str):
        problem = f"base_url must be a string, got {type(base_url).__name__}"
    elif http_client is not None and not isinstance(http_client, httpx.AsyncClient):
        problem = f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}"
    elif not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        problem = f"max_retries must be a non-negative integer, got {max_retries!r:.40}"
    elif idle_timeout is not None and not _positive_number(idle_timeout):
        problem = f"idle_timeout must be a positive number of seconds, got {idle_timeout!r:.40}"
    else:
        for name, value in (("max_event_size", max_event_size), ("max_body_bytes", max_body_bytes)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problem = f"{name} must be a positive integer, got {value!r:.40}"
    if problem:
        raise ConfigurationError(problem, provider=provider)


def split_model_id(model_id: str) -> tuple[str, str]:
    """``"openrouter/anthropic/claude-3.5-sonnet"`` -> ``("openrouter", "anthropic/claude-3.5-sonnet")``.

    The model part may hold ``/`` (OpenRouter, Replicate ``owner/name``); the codec
    refuses empty, ``.`` and ``..`` segments (see :func:`ailib.codecs.base.check_model`).
    """
    if not isinstance(model_id, str):
        raise ConfigurationError(f"model id must be a string like 'openai/gpt-4o', got {type(model_id).__name__}")
    provider, sep, model = model_id.partition("/")
    if not sep or not provider.strip() or not model.strip() or model_id != model_id.strip():
        raise ConfigurationError(f"malformed model id {model_id!r}: expected 'provider/model', e.g. 'openai/gpt-4o'")
    return provider, model


def _checked_key(key: str, source: str, provider: str) -> Secret:
    """A key goes into a header: whitespace, control or non-ASCII characters would make
    httpx or h11 fail later with an error that quotes the whole header value."""
    if not isinstance(key, str):
        raise ConfigurationError(
            f"the API key for {provider} from {source} must be a string, got {type(key).__name__}", provider=provider
        )
    if not all("!" <= ch <= "~" for ch in key):
        raise ConfigurationError(
            f"the API key for {provider} from {source} contains whitespace, control or non-ASCII "
            "characters (a trailing newline or a pasted quote?)",
            provider=provider,
        )
    return Secret(key)


def resolve_api_key(manifest: manifests.Manifest, api_key: str | None) -> Secret:
    """An explicit key, else the manifest's variable(s), else ``<PROVIDER>_API_KEY``."""
    if api_key is not None and not isinstance(api_key, str):
        raise ConfigurationError(f"api_key must be a string, got {type(api_key).__name__}", provider=manifest.id)
    if api_key:
        return _checked_key(api_key, "api_key=", manifest.id)
    for name in manifest.env_vars():
        value = os.environ.get(name)
        if value:
            return _checked_key(value, name, manifest.id)
    names = manifest.env_vars()
    raise ConfigurationError(f"no API key for {manifest.id}: set {names[0]} (or pass api_key=)", provider=manifest.id)


class AiClient:
    """Create with ``await AiClient.create("provider/model")``; use as ``async with``."""

    def __init__(
        self, manifest: manifests.Manifest, session: ChatSession, http: httpx.AsyncClient, owns_http: bool
    ) -> None:
        self.manifest = manifest
        self.provider = manifest.id
        self.model = session.model
        #: what builders send through (codec, transport, JSON parser, stream limits);
        #: reached from outside only by :func:`ailib.session.session_of`
        self._session = session
        self._http = http
        self._owns_http = owns_http

    @classmethod
    async def create(
        cls,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        manifests_dir: str | os.PathLike[str] | None = None,
        fast: bool = False,
        idle_timeout: float | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> AiClient:
        """Build a client for ``"provider/model"``.

        ``timeout`` bounds each attempt as a whole (connect, headers and body of a
        non-streaming call; connect and headers of a stream) as well as each read.
        ``idle_timeout`` (default: the read timeout) ends a stream that brings bytes but
        no event, only comments or a trickle, for that long. ``max_event_size``
        (characters of one stream event) and ``max_body_bytes`` (one response body)
        bound what a server can make the client hold.

        ``fast=True`` selects the optional fast path (``pip install ailib[fast]``):
        the aiohttp-backed httpx transport and orjson, behind the same httpx API.
        """
        provider, name = split_model_id(model)
        _check_arguments(
            provider,
            base_url,
            http_client,
            max_retries,
            idle_timeout,
            max_event_size,
            max_body_bytes,
            manifests_dir,
            fast,
        )
        timeout = _checked_timeout(provider, timeout)
        from . import manifest as manifests
        from .codecs import CODECS

        manifest = manifests.load(provider, manifests_dir)
        if not manifest.chat_supported:
            raise UnsupportedError(f"{provider} has no chat API: {manifest.chat_reason}", provider=provider)
        key = resolve_api_key(manifest, api_key)
        # Errors the codec reads from a 200 answer (an error field, an in-stream error event,
        # a body that is not JSON) must not quote the key back: the codec gets its scrubber.
        codec = CODECS[manifest.family](manifest, name, base_url, redact=key.redact)
        loads: Callable[[Any], Any] = json.loads
        owns = http_client is None
        if http_client is None:
            http_client = (
                _fast_http_client(timeout)
                if fast
                else httpx.AsyncClient(timeout=timeout or DEFAULT_TIMEOUT, verify=default_ssl_context())
            )
        if fast:
            loads = _fast_loads()
        transport = Transport(
            http_client,
            codec,
            key,
            RetryPolicy(max_retries=max_retries),
            timeout if not owns else None,
            max_body_bytes=max_body_bytes,
        )
        from .session import ChatSession

        session = ChatSession(
            codec,
            transport,
            name,
            loads,
            max_event_size=max_event_size,
            idle_timeout=idle_timeout if idle_timeout is not None else transport.timeout.read,
        )
        return cls(manifest, session, http_client, owns)

    new = create
    from_model = create

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._session.transport.policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self._session.transport.policy = policy

    @property
    def max_event_size(self) -> int | None:
        """Characters one stream event may hold (``create(max_event_size=...)``)."""
        return self._session.max_event_size

    @max_event_size.setter
    def max_event_size(self, value: int | None) -> None:
        self._session.max_event_size = value

    @property
    def idle_timeout(self) -> float | None:
        """Seconds a stream may bring bytes but no event (``create(idle_timeout=...)``)."""
        return self._session.idle_timeout

    @idle_timeout.setter
    def idle_timeout(self, value: float | None) -> None:
        self._session.idle_timeout = value

    def chat(self) -> ChatRequestBuilder:
        """A new request builder; its terminal calls send through this client."""
        from .chat import ChatRequestBuilder

        return ChatRequestBuilder(self._session)

    async def aclose(self) -> None:
        """Close the client; a call made after this raises :class:`ClientClosedError`."""
        self._session.transport.closed = True
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AiClient(provider={self.provider!r}, model={self.model!r})"


@functools.lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process, shared by the clients ailib creates.

    httpx builds a new context (and re-reads the CA bundle, ~80 ms) for every
    ``AsyncClient()``; a program that creates a client per provider or per request
    should not pay that each time.
    """
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _fast_http_client(timeout: httpx.Timeout | None) -> httpx.AsyncClient:
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        raise ConfigurationError("fast=True needs the fast extra: pip install 'ailib[fast]'") from None
    return httpx.AsyncClient(transport=AiohttpTransport(), timeout=timeout or DEFAULT_TIMEOUT)


def _fast_loads() -> Callable[[Any], Any]:
    try:
        import orjson
    except ImportError:
        raise ConfigurationError("fast=True needs the fast extra: pip install 'ailib[fast]'") from None
    return orjson.loads
