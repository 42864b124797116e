"""Value types of the public API: messages, responses, usage, stats, stream events.

Plain ``__slots__`` classes rather than dataclasses with validation: a stream makes
one event per delta, so creating one must cost no more than a small tuple.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

#: Normalised finish reasons, the vocabulary Python users know from the OpenAI API.
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "other")


class MessageRole(str, enum.Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True)
class Message:
    role: MessageRole
    content: str

    def __post_init__(self) -> None:
        # MessageRole is a str enum, so Message("system", ...) reads naturally; the codecs
        # compare roles by identity, so a plain string is turned into the member here.
        if not isinstance(self.role, MessageRole):
            object.__setattr__(self, "role", MessageRole(self.role))

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(MessageRole.SYSTEM, text)

    @classmethod
    def user(cls, text: str) -> Message:
        return cls(MessageRole.USER, text)

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls(MessageRole.ASSISTANT, text)


@dataclass(slots=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

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


@dataclass(slots=True)
class CallStats:
    provider: str
    model: str
    latency_ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    time_to_first_token_ms: float | None = None


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

    def _as(self, kind: str) -> Any:
        if self.kind != kind:
            raise TypeError(f"this is a {self.kind} event, not {kind}")
        return self._payload

    @property
    def as_content_delta(self) -> ContentDelta:
        return self._as("content_delta")

    @property
    def as_reasoning_delta(self) -> ContentDelta:
        return self._as("reasoning_delta")

    @property
    def as_usage(self) -> Usage:
        return self._as("usage")

    @property
    def as_finish(self) -> Finish:
        return self._as("finish")

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
            return a.text == b.text
        if isinstance(a, Finish):
            return (a.reason, a.raw_reason) == (b.reason, b.raw_reason)
        return a == b

    __hash__ = None  # type: ignore[assignment]
