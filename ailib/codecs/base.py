"""What every wire family shares: URL, headers, parameters, response and stream decoding.

A family codec only says how the conversation is laid out in the body
(:meth:`Codec.encode_messages`); everything else comes from the manifest.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from ..classify import provider_error
from ..errors import (
    AiLibError,
    ConfigurationError,
    ManifestError,
    OutputJSONError,
    ParameterError,
    StreamProtocolError,
    UnsupportedError,
)
from ..manifest import Manifest
from ..paths import PathConflict, set_path
from ..sections import Endpoint
from ..stream import StreamDecoder, as_text
from ..tools import PieceReader, ToolCallAccumulator, calls_of
from ..types import ChatResponse, Message, MessageRole, ResponseFormat, Tool, ToolCall, Usage


@dataclass(slots=True)
class ChatRequest:
    """What the caller asked for, before any provider naming is applied."""

    messages: list[Message]
    parameters: dict[str, Any] = field(default_factory=dict)
    tools: list[Tool] = field(default_factory=list)
    #: "auto" | "none" | "required" | a tool's name
    tool_choice: str | None = None
    response_format: ResponseFormat | None = None


_NUMBER = (int, float)
#: Ranges no provider goes beyond, checked even where a manifest declares no bounds:
#: sampling temperature is never negative, top_p is a probability mass, and at least
#: one token must be allowed (OpenAI, Anthropic, Gemini, Cohere API references).
_SANE_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, math.inf),
    "top_p": (0.0, 1.0),
    "max_tokens": (1, math.inf),
}
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _authority(template: str) -> str:
    """The ``host[:port]`` part of a URL template (where a variable would pick the host)."""
    rest = template.partition("://")[2]
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def check_model(provider: str, model: str) -> None:
    """A model name is placed in URL paths: no empty, ``.`` or ``..`` segment may change the path."""
    if not isinstance(model, str) or any(segment in ("", ".", "..") for segment in model.split("/")):
        raise ConfigurationError(
            f"{provider}: model name {model!r:.80} has an empty, '.' or '..' segment", provider=provider
        )


def check_type(provider: str, name: str, value: Any) -> Any:
    """``value`` if it has the type parameter ``name`` takes (a ``stop`` string becomes a
    list), else :class:`ParameterError`. Ranges are checked per provider, in the codec."""
    if name in ("temperature", "top_p"):
        if isinstance(value, bool) or not isinstance(value, _NUMBER):
            raise ParameterError(f"{name} must be a number, got {type(value).__name__}", provider=provider)
        if not math.isfinite(value):  # NaN passes every range comparison and is not JSON
            raise ParameterError(f"{name} must be a finite number, got {value!r}", provider=provider)
    elif name == "max_tokens":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"max_tokens must be an integer, got {type(value).__name__}", provider=provider)
    elif name == "stop":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
            raise ParameterError("stop must be a list of strings", provider=provider)
        if not value:
            raise ParameterError("stop must not be empty", provider=provider)
        value = list(value)
    return value


def _check_parameter(provider: str, name: str, value: Any, spec: Any) -> Any:
    value = check_type(provider, name, value)
    if name == "stop":
        if spec.max_items is not None and len(value) > spec.max_items:
            raise ParameterError(
                f"stop takes at most {spec.max_items} sequences for {provider}, got {len(value)}", provider=provider
            )
        return spec.join.join(value) if spec.join is not None else value
    sane = _SANE_RANGES.get(name)
    if sane is not None and not (sane[0] <= value <= sane[1]):
        raise ParameterError(
            f"{name}={value!r} is outside the range every provider accepts [{sane[0]}, {sane[1]}]", provider=provider
        )
    below = spec.min is not None and (value <= spec.min if spec.exclusive_min else value < spec.min)
    above = spec.max is not None and (value >= spec.max if spec.exclusive_max else value > spec.max)
    if below or above:
        low = "(-inf" if spec.min is None else ("(" if spec.exclusive_min else "[") + f"{spec.min}"
        high = "inf)" if spec.max is None else f"{spec.max}" + (")" if spec.exclusive_max else "]")
        raise ParameterError(
            f"{name}={value!r} is outside {provider}'s documented range {low}, {high}", provider=provider
        )
    return value


def _unchanged(text: str) -> str:
    return text


def _scrubbed(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` (parsed JSON) with ``redact`` applied to every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_scrubbed(k, redact): _scrubbed(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, redact) for v in value]
    return value


class Codec:
    """Encode a :class:`ChatRequest` for one provider and decode its answers."""

    family = ""
    #: How one tool call looks in this family (see :mod:`ailib.tools`); None: no tool calls.
    tool_piece: PieceReader | None = None
    #: puts streamed tool-call pieces together (a family may bring a faster one for its shape)
    tool_calls: type[ToolCallAccumulator] = ToolCallAccumulator
    #: a tool result names its call by id (Gemini's calls may have none: it matches by position)
    tool_ids_required = True

    def __init__(
        self,
        manifest: Manifest,
        model: str,
        base_url: str | None = None,
        *,
        redact: Callable[[str], str] = _unchanged,
    ) -> None:
        self.manifest = manifest
        #: removes the API key from provider text before it goes into an error (the client
        #: passes its key's scrubber; a codec built alone, as in tests, changes nothing)
        self.redact = redact
        self.model = model
        self.provider = manifest.id
        if manifest.endpoint is None:  # AiClient.create refuses such a provider first
            raise UnsupportedError(f"{manifest.id} has no chat API: {manifest.chat_reason}", provider=manifest.id)
        self.endpoint: Endpoint = manifest.endpoint
        self._base_url = self._resolve_base_url(base_url)
        self._query = dict(self.endpoint.query)
        self._stream_query = dict(self.endpoint.stream_query)
        self._roles = {
            MessageRole.SYSTEM: "system",
            MessageRole.USER: "user",
            MessageRole.ASSISTANT: "assistant",
            MessageRole.TOOL: "tool",
        }
        for role, name in manifest.request.roles.items():
            self._roles[MessageRole(role)] = name
        headers = manifest.headers
        self._headers = {
            stream: {
                "content-type": "application/json",
                "accept": "text/event-stream" if stream else "application/json",
                **headers.common,
                **(headers.stream if stream else headers.sync),
            }
            for stream in (False, True)
        }
        self._check_urls()

    # --- URL ----------------------------------------------------------------------
    def _resolve_base_url(self, override: str | None) -> str:
        """The base URL with its ``{variables}`` filled in. A value that lands in the host
        must be one DNS label (it cannot add a host, a port, a path or a ``#``); one in the
        path is percent-encoded into its segment."""
        template = (override or self.endpoint.base_url).rstrip("/")
        check_model(self.provider, self.model)
        host_part = _authority(template)
        values = {"model": self._url_value(host_part, "model", self.model, "the model id")}
        for name, variable in self.endpoint.variables.items():
            if "{" + name + "}" not in template:
                continue
            value = os.environ.get(variable.env)
            if not value:
                raise ConfigurationError(
                    f"{self.provider}: set {variable.env} (URL variable {{{name}}}) or pass base_url=",
                    provider=self.provider,
                )
            values[name] = self._url_value(host_part, name, value, f"${variable.env}")
        try:
            return template.format(**values)
        except (KeyError, IndexError) as exc:
            raise ConfigurationError(
                f"{self.provider}: base URL has an unknown variable {exc}", provider=self.provider
            ) from None
        except (ValueError, AttributeError) as exc:  # "https://{", "https://{model.x}"
            raise ConfigurationError(
                f"{self.provider}: base URL {template!r} is not a valid template: {exc}", provider=self.provider
            ) from None

    def _url_value(self, host_part: str, name: str, value: str, source: str) -> str:
        if "{" + name + "}" not in host_part:
            return quote(value, safe="")
        if not _DNS_LABEL.fullmatch(value):
            raise ConfigurationError(
                f"{self.provider}: {source} goes into the host name ({{{name}}}) and must be one DNS label "
                f"(letters, digits, inner hyphens, at most 63), got {value!r:.80}",
                provider=self.provider,
            )
        return value

    def _check_urls(self) -> None:
        """Fail when the client is created, not at the first request, on a URL httpx cannot
        send to (a control character, a bad IDNA host, no host, a port out of range)."""
        for stream in (False, True):
            url = self.url(stream)[0]
            try:
                parsed = httpx.URL(url)
            except httpx.InvalidURL as exc:
                reason = str(exc)
            else:
                port = parsed.port
                if parsed.scheme in ("http", "https") and parsed.host and (port is None or 0 < port < 65536):
                    continue
                reason = "an http(s) URL needs a host (and a port below 65536)"
            raise ConfigurationError(f"{self.provider}: cannot send to {url!r}: {reason}", provider=self.provider)

    def url(self, stream: bool) -> tuple[str, dict[str, str]]:
        endpoint = self.endpoint
        path = endpoint.stream_path if stream else endpoint.chat_path
        path = path.replace("{model}", quote(self.model, safe="/"))  # Replicate: owner/name
        return self._base_url + path, (self._stream_query if stream else self._query)

    def headers(self, stream: bool) -> dict[str, str]:
        """The request headers besides auth (a new dict: the caller may change it)."""
        return dict(self._headers[stream])

    # --- body ---------------------------------------------------------------------
    def body(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        self.check_messages(request.messages)
        spec = self.manifest.request
        body: dict[str, Any] = {}
        try:
            if spec.model_field:
                set_path(body, spec.model_field, self.model)
            self.encode_messages(request.messages, body)
            self._encode_tools(request, body)
            body.update(spec.body_extras)
            params = {**spec.defaults, **request.parameters}
            for name, value in params.items():
                param = spec.parameters.get(name)
                if param is None:
                    reason = self.manifest.capability(name).reason
                    raise UnsupportedError(f"{self.provider} does not support {name}: {reason}", provider=self.provider)
                set_path(body, param.field, _check_parameter(self.provider, name, value, param))
            if stream:
                if spec.stream_field:
                    set_path(body, spec.stream_field, True)
                for key, value in spec.stream_extras.items():
                    body[key] = value
        except PathConflict as exc:  # e.g. a parameter mapped to messages.x, or model_field: input
            raise ManifestError(self.manifest.file, "$.request", f"two body fields collide: {exc}") from None
        return body

    def check_messages(self, messages: list[Message]) -> None:
        if not messages:
            raise ParameterError("the conversation is empty: add a message with .user(...)", provider=self.provider)
        caps = self.manifest.capability
        tool_turns = False
        for message in messages:
            if not isinstance(message, Message) or not isinstance(message.content, str):
                raise ParameterError(
                    f"messages must be Message objects with text content, got {message!r:.80}", provider=self.provider
                )
            if message.role is MessageRole.TOOL or message.tool_calls:
                tool_turns = True
                self._check_tool_turn(message)
        if tool_turns:
            self.require("tools", "tool calls and tool results in the history")
        if any(m.role is MessageRole.SYSTEM for m in messages) and not caps("system_messages").supported:
            raise UnsupportedError(
                f"{self.provider} does not support system messages: {caps('system_messages').reason}",
                provider=self.provider,
            )
        if any(m.role is MessageRole.ASSISTANT for m in messages) and not caps("multi_turn").supported:
            raise UnsupportedError(
                f"{self.provider} does not support multi-turn history: {caps('multi_turn').reason}",
                provider=self.provider,
            )
        if all(m.role is MessageRole.SYSTEM for m in messages):
            raise ParameterError(
                "the conversation has only system messages: add a user message", provider=self.provider
            )

    def _check_tool_turn(self, message: Message) -> None:
        if message.role is MessageRole.TOOL and not isinstance(message.tool_call_id, str) and self.tool_ids_required:
            raise ParameterError(
                f"a tool message needs the id of the call it answers (Message.tool(call.id, ...)), "
                f"got {message.tool_call_id!r:.40}",
                provider=self.provider,
            )
        for call in message.tool_calls:
            if not isinstance(call, ToolCall) or not isinstance(call.name, str):
                raise ParameterError(
                    f"Message.assistant(tool_calls=...) takes ToolCall objects with a name, got {call!r:.80}",
                    provider=self.provider,
                )

    def require(self, capability: str, what: str) -> None:
        """Refuse before sending what the manifest declares unsupported, with its reason."""
        declared = self.manifest.capability(capability)
        if not declared.supported:
            raise UnsupportedError(
                f"{self.provider} does not support {what}: {declared.reason}", provider=self.provider
            )

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- tools and structured output ------------------------------------------------
    def _encode_tools(self, request: ChatRequest, body: dict[str, Any]) -> None:
        tools, choice, wanted = request.tools, request.tool_choice, request.response_format
        if tools:
            self.require("tools", "tools")
            names = [t.name for t in tools]
            if len(set(names)) != len(names):
                raise ParameterError(f"tool names must be unique, got {names}", provider=self.provider)
            self.encode_tool_list(tools, body)
        if choice is not None:
            self.encode_tool_choice(self._choice_value(choice, tools), choice, body)
        if wanted is not None:
            if wanted.json_schema is None:
                self.require("json_mode", "JSON mode")
            else:
                self.require("structured_output", "structured output with a JSON schema")
            self.encode_response_format(wanted, body)

    def _choice_value(self, choice: str, tools: list[Tool]) -> Any:
        """What the provider's field takes for ``choice``, per the manifest's ``tools.choice``."""
        if not isinstance(choice, str) or not choice:
            raise ParameterError(f"tool_choice must be a string, got {choice!r:.40}", provider=self.provider)
        if not tools:
            raise ParameterError(f"tool_choice({choice!r}) needs .tools([...])", provider=self.provider)
        word = choice if choice in ("auto", "none", "required") else "named"
        if word == "named" and choice not in {t.name for t in tools}:
            raise ParameterError(
                f"tool_choice {choice!r} is neither auto, none, required nor one of the tools "
                f"({', '.join(t.name for t in tools)})",
                provider=self.provider,
            )
        self.require(f"tool_choice_{word}", f"tool_choice {word!r}")
        return self.manifest.tools.choice[word]

    def encode_tool_list(self, tools: list[Tool], body: dict[str, Any]) -> None:
        raise UnsupportedError(f"{self.provider}: the {self.family} codec has no tools", provider=self.provider)

    def encode_tool_choice(self, value: Any, choice: str, body: dict[str, Any]) -> None:
        """``value`` is the manifest's word for ``choice`` (``True`` for a tool name)."""
        raise UnsupportedError(f"{self.provider}: the {self.family} codec has no tool_choice", provider=self.provider)

    def encode_response_format(self, wanted: ResponseFormat, body: dict[str, Any]) -> None:
        raise UnsupportedError(
            f"{self.provider}: the {self.family} codec has no structured output", provider=self.provider
        )

    def structured(self, response: ChatResponse, wanted: ResponseFormat) -> None:
        """Fill ``response.parsed``: the answer text is the JSON (families that answer otherwise override)."""
        response.parsed = self.parse_json(response.content)

    def parse_json(self, text: str) -> Any:
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise OutputJSONError(
                f"{self.provider}: structured output is not valid JSON ({exc}): {self.redact(text)[:80]!r}",
                raw_text=text,
                provider=self.provider,
            ) from None

    # --- responses ----------------------------------------------------------------
    def parse_response(self, data: Any) -> ChatResponse:
        """A 200 answer as a :class:`ChatResponse`. An answer that is an error object, or
        carries neither content nor a finish reason (``{}``, ``[]``, ``null``), raises:
        an empty reply must not pass for a successful one."""
        extract = self.manifest.response
        assert extract is not None
        if not isinstance(data, dict):
            snippet = self.redact(json.dumps(data, ensure_ascii=False))[:80]
            raise StreamProtocolError(
                f"answer is a JSON {type(data).__name__}, not an object: {snippet}", provider=self.provider
            )
        content = extract.content(data)
        raw = extract.finish_reason(data)
        if extract.error(data):
            raise self.error(data, 200)
        reasoning = extract.reasoning(data)
        tool_calls = (
            calls_of(extract.tool_calls(data), self.tool_piece)
            if extract.tool_calls is not None and self.tool_piece is not None
            else []
        )
        if content is None and raw is None and not tool_calls:
            # No answer at all: an error object in the provider's error shape (or the usual
            # top-level "error"), else nothing this client can read.
            if isinstance(self.manifest.errors.message(data), str) or data.get("error"):
                raise self.error(data, 200)
            if reasoning is None:
                snippet = self.redact(json.dumps(data, ensure_ascii=False))[:120]
                raise StreamProtocolError(
                    f"answer has no content, finish reason or error: {snippet}",
                    provider=self.provider,
                    status_code=200,
                )
        if raw is not None and not isinstance(raw, str):
            raw = str(raw)  # malformed, but still the provider's word: kept raw, normalised to "other"
        usage = {name: value for name, getter in extract.usage if (value := getter(data)).__class__ is int}
        return ChatResponse(
            content=as_text(content) or "",
            finish_reason=self.normalise_finish(raw),
            raw_finish_reason=raw,
            usage=Usage(**usage),
            reasoning=as_text(reasoning) if reasoning else None,
            model=extract.model(data) or self.model,
            raw=data,
            tool_calls=tool_calls,
        )

    def normalise_finish(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        return self.manifest.finish_reasons.get(raw, "other")

    def error(
        self, body: Any, status: int | None, *, raw_text: str | None = None, retry_after: float | None = None
    ) -> AiLibError:
        redact = self.redact
        if redact is not _unchanged:  # an answer may quote the key back: keep it out of the error
            body = _scrubbed(body, redact)
            raw_text = redact(raw_text) if raw_text else raw_text
        return provider_error(self.manifest, body, status, raw_text=raw_text, retry_after=retry_after)

    def stream_decoder(
        self, loads: Callable[[Any], Any] = json.loads, max_event_size: int | None = None
    ) -> StreamDecoder:
        return StreamDecoder(
            self.manifest, self.error, loads, self.redact, self.tool_piece, self.tool_calls, max_event_size
        )
