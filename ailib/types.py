"""Value types of the public API: messages, responses, usage, stats, stream events.

Plain ``__slots__`` classes rather than dataclasses with validation: a stream makes
one event per delta, so creating one must cost no more than a small tuple.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Normalised finish reasons, the vocabulary Python users know from the OpenAI API.
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "other")


class MessageRole(str, enum.Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call: its name, what it does, and a JSON Schema of its arguments."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def __post_init__(self) -> None:
        from .errors import ParameterError

        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"Tool name must be a non-empty string, got {self.name!r:.60}")
        if not isinstance(self.description, str):
            raise ParameterError(f"Tool {self.name!r}: description must be a string")
        if not isinstance(self.parameters, Mapping):
            raise ParameterError(f"Tool {self.name!r}: parameters must be a JSON Schema object (a dict)")
        _check_json(self.parameters, f"Tool {self.name!r}: parameters")


def _check_json(value: Any, what: str) -> None:
    """``value`` must be JSON data: it is sent as is, and a set or a NaN would fail late."""
    from .errors import ParameterError

    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ParameterError(f"{what} is not JSON data: {exc}") from None


_UNPARSED: Any = object()


class ToolCall:
    """One call the model asked for. ``arguments`` is the provider's JSON parsed to a dict
    (on first read); ``raw_arguments`` is the text as the provider sent it. Arguments that
    are not a JSON object raise :class:`~ailib.errors.ToolArgumentsError` carrying that text,
    rather than turning into an empty dict nobody asked for."""

    __slots__ = ("_arguments", "id", "name", "raw_arguments")

    def __init__(
        self,
        id: str | None,
        name: str | None,
        arguments: Mapping[str, Any] | None = None,
        *,
        raw_arguments: str | None = None,
    ) -> None:
        self.id = id
        self.name = name
        if arguments is not None:
            self._arguments: Any = dict(arguments)
            if raw_arguments is None:
                _check_json(self._arguments, f"ToolCall {name!r}: arguments")
                raw_arguments = json.dumps(self._arguments)
            self.raw_arguments = raw_arguments
        else:
            self._arguments = _UNPARSED
            self.raw_arguments = raw_arguments if raw_arguments is not None else ""

    @property
    def arguments(self) -> dict[str, Any]:
        if self._arguments is _UNPARSED:
            self._arguments = parse_arguments(self.raw_arguments, self.name)
        result: dict[str, Any] = self._arguments
        return result

    def __repr__(self) -> str:
        try:
            shown = repr(self.arguments)
        except ValueError:
            shown = f"<invalid JSON {self.raw_arguments[:60]!r}>"
        return f"ToolCall(id={self.id!r}, name={self.name!r}, arguments={shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ToolCall):
            return NotImplemented
        if (self.id, self.name) != (other.id, other.name):
            return False
        try:
            return self.arguments == other.arguments
        except ValueError:
            return self.raw_arguments == other.raw_arguments

    __hash__ = None  # type: ignore[assignment]


def parse_arguments(raw: str, tool: str | None) -> dict[str, Any]:
    """A tool call's arguments text as a dict. An empty text is a call without arguments
    (some services send ``""`` for a tool that takes none); anything else must be a JSON object."""
    from .errors import ToolArgumentsError

    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser's depth
        raise ToolArgumentsError(
            f"tool call {tool!r}: arguments are not valid JSON ({exc}): {raw[:80]!r}",
            raw_arguments=raw,
            tool_name=tool,
        ) from None
    if not isinstance(value, dict):
        raise ToolArgumentsError(
            f"tool call {tool!r}: arguments are JSON {type(value).__name__}, not an object: {raw[:80]!r}",
            raw_arguments=raw,
            tool_name=tool,
        )
    return value


class ToolCallDelta:
    """A piece of a streamed tool call. ``index`` is the call's position among this
    response's tool calls (0, 1, ...), whatever the provider numbers; ``id`` and ``name``
    come with the first piece of a call, ``arguments`` is a fragment of its JSON text."""

    __slots__ = ("arguments", "id", "index", "name")

    def __init__(self, index: int, id: str | None, name: str | None, arguments: str) -> None:
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments

    def __repr__(self) -> str:
        return f"ToolCallDelta(index={self.index}, id={self.id!r}, name={self.name!r}, arguments={self.arguments!r})"


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """Structured output: ``json_schema`` (with ``name`` and ``strict``), or plain JSON mode
    (``json_schema`` None)."""

    json_schema: Mapping[str, Any] | None = None
    name: str = "response"
    strict: bool = True


@dataclass(frozen=True, slots=True)
class Message:
    role: MessageRole
    content: str
    #: assistant turns: the tool calls the model made
    tool_calls: tuple[ToolCall, ...] = ()
    #: tool turns: the id of the call this message answers
    tool_call_id: str | None = None

    def __post_init__(self) -> None:
        # MessageRole is a str enum, so Message("system", ...) reads naturally; the codecs
        # compare roles by identity, so a plain string is turned into the member here.
        if not isinstance(self.role, MessageRole):
            object.__setattr__(self, "role", MessageRole(self.role))
        if self.tool_calls.__class__ is not tuple:
            object.__setattr__(self, "tool_calls", tuple(self.tool_calls))

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(MessageRole.SYSTEM, text)

    @classmethod
    def user(cls, text: str) -> Message:
        return cls(MessageRole.USER, text)

    @classmethod
    def assistant(cls, text: str = "", *, tool_calls: Sequence[ToolCall] | None = None) -> Message:
        """The model's turn: its text, and the tool calls it made (``response.tool_calls``)."""
        return cls(MessageRole.ASSISTANT, text, tuple(tool_calls or ()))

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> Message:
        """The result of the tool call ``tool_call_id``, as text (often JSON)."""
        return cls(MessageRole.TOOL, content, (), tool_call_id)


@dataclass(slots=True)
class Usage:
    """Token counts as the provider reports them. ``reasoning_tokens`` are the thinking tokens
    a reasoning model spent (OpenAI's ``completion_tokens_details.reasoning_tokens``, Gemini's
    ``thoughtsTokenCount``): billed, and, where the provider counts them apart from the answer
    (Gemini), what makes ``prompt + completion + reasoning`` add up to ``total_tokens``."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.total_tokens is None and self.prompt_tokens is not None and self.completion_tokens is not None:
            self.total_tokens = self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class ChatResponse:
    content: str
    finish_reason: str | None = None
    raw_finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    reasoning: str | None = None
    model: str | None = None
    raw: Any = field(default=None, repr=False)
    tool_calls: list[ToolCall] = field(default_factory=list)
    #: structured output (``.response_format()`` / ``.json_mode()``): the answer parsed as JSON
    parsed: Any = None


@dataclass(slots=True)
class CallStats:
    provider: str
    model: str
    latency_ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    time_to_first_token_ms: float | None = None
    reasoning_tokens: int | None = None


class ContentDelta:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @property
    def content(self) -> str:
        return self.text


class Finish:
    __slots__ = ("raw_reason", "reason")

    def __init__(self, reason: str | None, raw_reason: str | None) -> None:
        self.reason = reason
        self.raw_reason = raw_reason


class StreamingEvent:
    """One event of a stream. Exactly one of the ``is_*`` properties is true."""

    __slots__ = ("_payload", "kind")

    CONTENT, REASONING, USAGE, FINISH = "content_delta", "reasoning_delta", "usage", "finish"
    TOOL_CALL_DELTA, TOOL_CALL = "tool_call_delta", "tool_call"

    def __init__(self, kind: str, payload: Any) -> None:
        self.kind = kind
        self._payload = payload

    @classmethod
    def content_delta(cls, text: str) -> StreamingEvent:
        return cls(cls.CONTENT, ContentDelta(text))

    @classmethod
    def reasoning_delta(cls, text: str) -> StreamingEvent:
        return cls(cls.REASONING, ContentDelta(text))

    @property
    def is_content_delta(self) -> bool:
        return self.kind == "content_delta"

    @property
    def is_reasoning_delta(self) -> bool:
        return self.kind == "reasoning_delta"

    @property
    def is_usage(self) -> bool:
        return self.kind == "usage"

    @property
    def is_finish(self) -> bool:
        return self.kind == "finish"

    @property
    def is_tool_call_delta(self) -> bool:
        return self.kind == "tool_call_delta"

    @property
    def is_tool_call(self) -> bool:
        """Once per tool call, when the provider has sent all of it."""
        return self.kind == "tool_call"

    def _as(self, kind: str) -> Any:
        if self.kind != kind:
            raise TypeError(f"this is a {self.kind} event, not {kind}")
        return self._payload

    @property
    def as_content_delta(self) -> ContentDelta:
        payload: ContentDelta = self._as("content_delta")
        return payload

    @property
    def as_reasoning_delta(self) -> ContentDelta:
        payload: ContentDelta = self._as("reasoning_delta")
        return payload

    @property
    def as_usage(self) -> Usage:
        payload: Usage = self._as("usage")
        return payload

    @property
    def as_finish(self) -> Finish:
        payload: Finish = self._as("finish")
        return payload

    @property
    def as_tool_call_delta(self) -> ToolCallDelta:
        payload: ToolCallDelta = self._as("tool_call_delta")
        return payload

    @property
    def as_tool_call(self) -> ToolCall:
        payload: ToolCall = self._as("tool_call")
        return payload

    @property
    def content(self) -> str | None:
        return self._payload.text if self.kind == "content_delta" else None

    @property
    def raw_reason(self) -> str | None:
        return self._payload.raw_reason if self.kind == "finish" else None

    def __repr__(self) -> str:
        p = self._payload
        detail = p.text if isinstance(p, ContentDelta) else (p.reason if isinstance(p, Finish) else p)
        return f"StreamingEvent({self.kind}, {detail!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamingEvent) or other.kind != self.kind:
            return NotImplemented if not isinstance(other, StreamingEvent) else False
        a, b = self._payload, other._payload
        if isinstance(a, ContentDelta):
            return bool(a.text == b.text)
        if isinstance(a, Finish):
            return (a.reason, a.raw_reason) == (b.reason, b.raw_reason)
        if isinstance(a, ToolCallDelta):
            return (a.index, a.id, a.name, a.arguments) == (b.index, b.id, b.name, b.arguments)
        return bool(a == b)

    __hash__ = None  # type: ignore[assignment]
