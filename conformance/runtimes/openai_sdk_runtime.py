"""Adapter for the official ``openai`` Python SDK (``AsyncOpenAI``), pinned in the
``runtimes`` extra, for the providers that speak the OpenAI chat wire format (manifest
family ``openai-chat``).

The SDK knows nothing of manifests, so the adapter configures it from ours the way a user
pointing the SDK at an OpenAI-compatible provider would, and nothing more:

* ``base_url``: the manifest's ``endpoint.base_url`` (``{model}`` and environment variables
  filled in, as a user writes their deployment URL), extended by the part of ``chat_path``
  before ``/chat/completions`` (the SDK always appends that path); a chat path that does not
  end in ``/chat/completions`` cannot be expressed and the URL check reports it.
  ``default_query``: the manifest's static query (Azure's ``api-version``).
* auth: ``api_key`` is the key; ``Authorization: Bearer`` is the SDK's own header. For any
  other header or prefix, or a query key, the client subclass overrides the SDK's
  ``_auth_headers`` and ``_validate_headers`` hooks (as ``AsyncAzureOpenAI`` does for ``api-key``) to send the header the
  manifest names instead, or nothing (the key then goes in ``default_query``). The
  manifest's static ``headers`` go in ``default_headers``, ``stream_headers`` /
  ``sync_headers`` in ``extra_headers``.
* ``http_client=`` the Call's factory (so cassettes replay), ``max_retries=`` the Call's.
* parameters under the manifest's field names: ``temperature``, ``top_p``, ``stop``,
  ``max_tokens`` or ``max_completion_tokens`` are SDK keyword arguments; any other field
  goes in ``extra_body``. Streams add the manifest's ``stream_extras``
  (``stream_options={"include_usage": True}``) when it asks for them.
* The SDK checks no capability: what a manifest declares unsupported is sent anyway.

What the SDK returns is reported as it is: ``finish_reason`` is the wire value (the SDK
does not map it), so it is both the finish and the raw reason; ``usage`` is ``None`` when
the response has none; stream chunks become events in the order the SDK yields them
(content, finish, then usage from the last chunk; usage before finish when one chunk
carries both). The SDK has no call statistics, so
``stats`` is ``None``.

Errors: the SDK has no standard error classes. The adapter's own mapping, from the HTTP
status of an ``APIStatusError``, is :data:`STATUS_CLASSES` (other 4xx -> invalid_request,
other 5xx -> server_error), and each class gets the AI-Protocol code / retryable /
fallbackable of :data:`CLASS_SEMANTICS`; ``retry_after`` is the response's ``Retry-After``
header, as the SDK reads it for its own retries. An error event inside a stream (the SDK
raises a bare ``APIError``) and connection errors have no status and so no class. Back-off
waits are computed by the SDK (``_calculate_retry_timeout``) and recorded instead of slept.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .base import Call, ErrorInfo, Outcome, with_http_client
from .support import foreign_error, installed_version

DISTRIBUTION = "openai"
RUNTIME = "openai-sdk"
_INSTALL = "pip install 'ailib[runtimes]'"
_CHAT = "/chat/completions"
#: the SDK's own keyword arguments of chat.completions.create that parameters map onto
_SDK_KWARGS = {"temperature", "top_p", "stop", "max_tokens", "max_completion_tokens"}
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)\}")

#: the adapter's HTTP status -> error class mapping (the SDK has none)
STATUS_CLASSES = {
    400: "invalid_request",
    401: "authentication",
    403: "permission_denied",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    413: "request_too_large",
    422: "invalid_request",
    429: "rate_limited",
    500: "server_error",
    502: "server_error",
    503: "overloaded",
    504: "timeout",
    529: "overloaded",
}
#: AI-Protocol standard semantics per class: code, retryable, fallbackable
CLASS_SEMANTICS = {
    "invalid_request": ("E1001", False, False),
    "authentication": ("E1002", False, True),
    "permission_denied": ("E1003", False, False),
    "not_found": ("E1004", False, False),
    "request_too_large": ("E1005", False, False),
    "rate_limited": ("E2001", True, True),
    "quota_exhausted": ("E2002", False, True),
    "server_error": ("E3001", True, True),
    "overloaded": ("E3002", True, True),
    "timeout": ("E3003", True, True),
    "conflict": ("E4001", True, False),
}


def status_class(status: int) -> str:
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    return "server_error" if status >= 500 else "invalid_request"


def _fill(url: str, manifest: Any, model: str) -> str:
    import os

    variables = manifest.endpoint.variables

    def fill(match: re.Match[str]) -> str:
        if match[1] == "model":
            return model
        variable = variables.get(match[1])
        return os.environ.get(variable.env, match[0]) if variable else match[0]

    return _VAR.sub(fill, url)


def client_settings(manifest: Any, model: str, api_key: str) -> tuple[dict[str, Any], dict[str, str] | None]:
    """Keyword arguments for ``AsyncOpenAI`` (besides ``http_client`` and ``max_retries``), and
    the auth headers to send instead of the SDK's ``Authorization: Bearer`` (None: the SDK's)."""
    endpoint = manifest.endpoint
    base_url = _fill(endpoint.base_url, manifest, model).rstrip("/")
    chat_path = endpoint.chat_path
    if chat_path.endswith(_CHAT):
        base_url += chat_path[: -len(_CHAT)]
    headers = {k: str(v) for k, v in manifest.headers.common.items()}
    query = dict(endpoint.query)
    auth = manifest.auth
    name, prefix = (auth.name, auth.prefix) if auth else ("Authorization", "")
    auth_headers: dict[str, str] | None = None
    if auth and auth.placement == "query":
        query[name] = api_key
        auth_headers = {}
    elif not (name.lower() == "authorization" and (prefix or "").strip() == "Bearer"):
        auth_headers = {name: f"{prefix or ''}{api_key}"}
    settings = {
        "api_key": api_key,
        "base_url": base_url,
        "default_headers": headers or None,
        "default_query": query or None,
    }
    return settings, auth_headers


def request_arguments(manifest: Any, call: Call) -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create``, from the manifest's names."""
    request = manifest.request
    roles = dict(request.roles)
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": [_message(roles, role, value) for role, value in call.messages],
    }
    _tool_arguments(manifest, call, kwargs)
    extra: dict[str, Any] = {}
    values = {**request.defaults, **call.parameters}
    for name, value in values.items():
        spec = manifest.parameters.get(name)
        field = spec.field if spec else name
        if spec and spec.join and isinstance(value, list):
            value = spec.join.join(value)
        if field in _SDK_KWARGS:
            kwargs[field] = value
        else:
            extra[field] = value
    stream = call.mode == "stream"
    if stream:
        kwargs["stream"] = True
        for name, value in request.stream_extras.items():
            if name == "stream_options":
                kwargs["stream_options"] = value
            else:
                extra[name] = value
    per_call = manifest.headers.stream if stream else manifest.headers.sync
    if per_call:
        kwargs["extra_headers"] = {k: str(v) for k, v in per_call.items()}
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def _message(roles: dict[str, str], role: str, value: Any) -> dict[str, Any]:
    """One history turn in the SDK's ChatCompletionMessageParam form."""
    if role == "assistant_tool_calls":
        calls = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
            }
            for c in value
        ]
        return {"role": roles.get("assistant", "assistant"), "content": None, "tool_calls": calls}
    if role == "tool":
        return {"role": "tool", "tool_call_id": value["id"], "content": value["content"]}
    return {"role": roles.get(role, role), "content": value}


def _tool_arguments(manifest: Any, call: Call, kwargs: dict[str, Any]) -> None:
    """tools / tool_choice / response_format as the SDK takes them; tool_choice words are the
    manifest's (as parameter names are), since the SDK knows only OpenAI's."""
    if call.tools:
        kwargs["tools"] = [
            {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
            for name, description, schema in call.tools
        ]
    choice = call.tool_choice
    if choice is not None:
        words = manifest.tools.choice
        if choice in ("auto", "none", "required"):
            kwargs["tool_choice"] = words.get(choice, choice)
        else:
            kwargs["tool_choice"] = {"type": "function", "function": {"name": choice}}
    wanted = call.response_format
    if wanted and wanted.get("json_mode"):
        kwargs["response_format"] = {"type": "json_object"}
    elif wanted:
        spec = {"name": wanted["name"], "schema": wanted["schema"], "strict": True}
        kwargs["response_format"] = {"type": "json_schema", "json_schema": spec}


def _arguments(text: Any) -> Any:
    """A call's arguments as a dict, or the raw text where they are not JSON (the SDK keeps text)."""
    try:
        return json.loads(text) if text and text.strip() else {}
    except (TypeError, ValueError):
        return text


def _dump(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": getattr(usage, "prompt_tokens", None),
        "completion_tokens": getattr(usage, "completion_tokens", None),
        "total_tokens": getattr(usage, "total_tokens", None),
    }


class OpenAISdkRuntime:
    name = RUNTIME
    uses_call_http_client = True  # replayed through the Call's client, not vcrpy's patch

    @property
    def version(self) -> str:  # type: ignore[override]
        return installed_version(DISTRIBUTION)

    def unavailable(self) -> str | None:
        try:
            import openai  # noqa: F401
        except Exception as exc:
            return f"the openai SDK cannot be imported ({type(exc).__name__}: {exc}); install it with {_INSTALL}"
        return None

    def supports(self, provider: str) -> str | None:
        from ailib import manifest as manifests

        family = manifests.load(provider).family
        if family != "openai-chat":
            return f"openai SDK speaks only the OpenAI chat wire format (openai-chat); {provider} is {family}"
        return None

    async def run(self, call: Call) -> Outcome:
        return await with_http_client(call, self._run)

    async def _run(self, call: Call, http: Any) -> Outcome:
        import openai

        from ailib import manifest as manifests

        waits = call.waits

        manifest = manifests.load(call.provider)
        settings, auth_headers = client_settings(manifest, call.model, call.api_key)

        class Client(openai.AsyncOpenAI):
            def _auth_headers(self, security: Any) -> dict[str, str]:
                return super()._auth_headers(security) if auth_headers is None else auth_headers

            def _validate_headers(self, headers: Any, custom_headers: Any) -> None:
                if auth_headers is None:
                    super()._validate_headers(headers, custom_headers)

            async def _sleep_for_retry(
                self, *, retries_taken: int, max_retries: int, options: Any, response: Any
            ) -> None:
                waits.append(
                    self._calculate_retry_timeout(
                        max_retries - retries_taken, options, response.headers if response else None
                    )
                )

        doing = "creating the client"
        try:
            client = Client(**settings, http_client=http, max_retries=call.max_retries)
            kwargs = request_arguments(manifest, call)
            doing = "running the chat call"
            if call.mode == "stream":
                return await self._stream(client, kwargs)
            completion = await client.chat.completions.create(**kwargs)
            doing = "reading the response"
            choice = completion.choices[0]
            finish = choice.finish_reason
            calls = choice.message.tool_calls or []
            content = choice.message.content
            return Outcome(
                tool_calls=[(c.id, c.function.name, _arguments(c.function.arguments)) for c in calls],
                parsed=_arguments(content) if call.response_format and content else None,
                content=content,
                finish_reason=finish,
                raw_finish_reason=finish,
                usage=_dump(completion.usage),
                stats=None,
            )
        except openai.OpenAIError as exc:
            return Outcome(error=_error(exc, doing))
        except Exception as exc:
            return Outcome(error=foreign_error("openai SDK", exc, doing, "openai"))

    async def _stream(self, client: Any, kwargs: dict[str, Any]) -> Outcome:
        import openai
        from openai.lib.streaming.chat import ChatCompletionStreamState

        outcome = Outcome()
        # the SDK's own accumulation of streamed tool calls (what its .stream() helper uses)
        state = ChatCompletionStreamState(input_tools=kwargs["tools"]) if "tools" in kwargs else None
        try:
            stream = await client.chat.completions.create(**kwargs)
            async for chunk in stream:
                finish = None
                for choice in chunk.choices or []:
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    if delta is not None and delta.content:
                        outcome.events.append(("content", delta.content))
                    for piece in (delta.tool_calls or []) if delta is not None else []:
                        fn = piece.function
                        outcome.events.append(
                            ("tool_call_delta", (piece.index, piece.id, fn and fn.name, (fn and fn.arguments) or ""))
                        )
                    finish = choice.finish_reason if choice.finish_reason is not None else finish
                # one chunk has no order of its own: its usage is put before its finish reason
                if chunk.usage is not None:
                    outcome.events.append(("usage", _dump(chunk.usage)))
                if state is not None:
                    state.handle_chunk(chunk)
                if finish is not None:
                    if state is not None:
                        outcome.events += _completed_calls(state, outcome.events)
                    outcome.events.append(("finish", (finish, finish)))
        except openai.OpenAIError as exc:
            outcome.error = _error(exc, "reading the stream")
        except Exception as exc:
            outcome.error = foreign_error("openai SDK", exc, "reading the stream", "openai")
        outcome.content = "".join(v for k, v in outcome.events if k == "content")
        return outcome


def _completed_calls(state: Any, events: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """At a finish reason: the calls the SDK's stream state has put together that were not
    reported yet (the SDK has no "tool call complete" event of its own)."""
    done = sum(1 for k, _ in events if k == "tool_call")
    choices = state.current_completion_snapshot.choices
    calls = (choices[0].message.tool_calls or []) if choices else []
    return [("tool_call", (c.id, c.function.name, _arguments(c.function.arguments))) for c in calls[done:]]


def _error(exc: Any, doing: str) -> ErrorInfo:
    import openai

    if isinstance(exc, openai.APIStatusError):
        cls = status_class(exc.status_code)
        code, retryable, fallbackable = CLASS_SEMANTICS.get(cls, (None, None, None))
        retry_after = None
        header = exc.response.headers.get("retry-after")
        if header is not None:
            try:
                retry_after = float(header)
            except ValueError:
                retry_after = None
        return ErrorInfo(
            type=type(exc).__name__,
            error_class=cls,
            code=code,
            status_code=exc.status_code,
            retryable=retryable,
            fallbackable=fallbackable,
            message=str(exc),
            retry_after=retry_after,
        )
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIConnectionError):
        body = getattr(exc, "body", None)
        return ErrorInfo.unclassified(
            type(exc).__name__, f"{exc.message} (error body {body!r})" if body else exc.message
        )
    return foreign_error("openai SDK", exc, doing, "openai")
