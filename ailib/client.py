"""``AiClient``: one provider, one model, one ``httpx.AsyncClient``.

Switching provider is a change of the model id only: ``"openai/gpt-4o"``,
``"anthropic/claude-3-5-sonnet"``, ``"gemini/gemini-2.0-flash"``. The text before the
first ``/`` picks the manifest; the rest is sent as the model name.
"""

from __future__ import annotations

import functools
import json
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

# The manifest loader, the codecs and the chat builder are imported by the first
# AiClient.create() / chat(), not by ``import ailib``: importing the package costs
# httpx plus ailib's small public types, not the machinery behind them.

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def split_model_id(model_id: str) -> tuple[str, str]:
    """``"openrouter/anthropic/claude-3.5-sonnet"`` -> ``("openrouter", "anthropic/claude-3.5-sonnet")``."""
    if not isinstance(model_id, str):
        raise ConfigurationError(f"model id must be a string like 'openai/gpt-4o', got {type(model_id).__name__}")
    provider, sep, model = model_id.partition("/")
    if not sep or not provider.strip() or not model.strip() or model_id != model_id.strip():
        raise ConfigurationError(f"malformed model id {model_id!r}: expected 'provider/model', e.g. 'openai/gpt-4o'")
    return provider, model


def _checked_key(key: str, source: str, provider: str) -> Secret:
    """A key goes into a header: whitespace, control or non-ASCII characters would make
    httpx or h11 fail later with an error that quotes the whole header value."""
    if not all("!" <= ch <= "~" for ch in key):
        raise ConfigurationError(
            f"the API key for {provider} from {source} contains whitespace, control or non-ASCII "
            "characters (a trailing newline or a pasted quote?)",
            provider=provider,
        )
    return Secret(key)


def resolve_api_key(manifest: manifests.Manifest, api_key: str | None) -> Secret:
    """An explicit key, else the manifest's variable(s), else ``<PROVIDER>_API_KEY``."""
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
        self,
        manifest: manifests.Manifest,
        model: str,
        transport: Transport,
        http: httpx.AsyncClient,
        owns_http: bool,
        loads: Callable[[Any], Any] = json.loads,
    ) -> None:
        self.manifest = manifest
        self.provider = manifest.id
        self.model = model
        self._transport = transport
        self._codec = transport.codec
        self._http = http
        self._owns_http = owns_http
        self._loads = loads

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
    ) -> AiClient:
        """Build a client for ``"provider/model"``.

        ``fast=True`` selects the optional fast path (``pip install ailib[fast]``):
        the aiohttp-backed httpx transport and orjson, behind the same httpx API.
        """
        provider, name = split_model_id(model)
        from . import manifest as manifests
        from .codecs import CODECS

        manifest = manifests.load(provider, manifests_dir)
        if not manifest.chat_supported:
            raise UnsupportedError(f"{provider} has no chat API: {manifest.chat_reason}", provider=provider)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        codec = CODECS[manifest.family](manifest, name, base_url)
        key = resolve_api_key(manifest, api_key)
        if timeout is not None and not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout)
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
            http_client, codec, key, RetryPolicy(max_retries=max_retries), timeout if not owns else None
        )
        return cls(manifest, name, transport, http_client, owns, loads)

    new = create
    from_model = create

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._transport.policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self._transport.policy = policy

    def chat(self) -> ChatRequestBuilder:
        from .chat import ChatRequestBuilder

        return ChatRequestBuilder(self)

    async def aclose(self) -> None:
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
