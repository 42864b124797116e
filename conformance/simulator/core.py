"""Request/response types and small helpers shared by the simulator's family modules.

Nothing here knows about a provider: the family modules say what the bodies look like and
the contracts say where each provider puts things.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimRequest:
    """One HTTP request as the simulator sees it (header names are lower-cased)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {str(k).lower(): str(v) for k, v in (self.headers or {}).items()}
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")
        elif self.body is None:
            self.body = b""


@dataclass
class SimResponse:
    """The simulator's answer: ``chunks`` joined are the body; a stream has several chunks,
    each of which the server writes (and flushes) on its own."""

    status: int
    headers: dict[str, str]
    chunks: list[bytes]

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Event:
    """One SSE event (or comment) of a stream, with the role it plays, so faults can cut,
    drop or break events without knowing the family:

    head   events before the first content delta (role chunk, message_start, ...)
    delta  one content (or reasoning) delta
    tail   events after the deltas that carry the finish reason / usage
    done   the end-of-stream marker (``data: [DONE]``, ``message_stop``, Replicate ``done``)
    error  an in-stream error
    other  anything else (keep-alive comments, empty-choices chunks, pings)
    """

    kind: str
    raw: bytes


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def get_path(obj: Any, dotted: str) -> Any:
    """The value at a dotted path (``generationConfig.maxOutputTokens``, ``input.prompt``,
    ``choices.0.delta``) or :data:`MISSING`."""
    cur = obj
    for part in dotted.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return MISSING
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit():
            index = int(part)
            if index >= len(cur):
                return MISSING
            cur = cur[index]
        else:
            return MISSING
    return cur


def dumps(obj: Any) -> str:
    """Compact JSON with raw UTF-8, the way the providers write their stream events."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def dumps_spaced(obj: Any) -> str:
    """JSON with ``": "`` after keys and no space after commas (Google's stream layout)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ": "))


def dumps_pretty(obj: Any) -> str:
    """Indented JSON, as OpenAI and Google write non-stream answers."""
    return json.dumps(obj, ensure_ascii=False, indent=2)


def sse(data: str | None = None, *, event: str | None = None, id: str | None = None, eol: str = "\n") -> bytes:
    """One server-sent event: optional ``event:`` and ``id:`` lines, one ``data:`` line per
    line of data, then a blank line."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if data is not None:
        for line in data.split("\n"):
            lines.append(f"data: {line}")
    return (eol.join(lines) + eol + eol).encode("utf-8")


def comment(text: str = "keep-alive", eol: str = "\n") -> bytes:
    """An SSE comment line (ignored by a conforming parser)."""
    return f": {text}{eol}{eol}".encode()


def digest(*parts: Any) -> str:
    """A stable hex digest of the parts: ids and timestamps derive from it, so recording the
    same request twice gives byte-identical cassettes."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            part = part.encode("utf-8")
        elif not isinstance(part, bytes):
            part = repr(part).encode("utf-8")
        h.update(part)
        h.update(b"\x00")
    return h.hexdigest()


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def alnum_id(seed: str, length: int) -> str:
    """A mixed-case alphanumeric id of ``length`` characters derived from a hex seed."""
    n = int(digest("alnum", seed), 16)
    out = []
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_ALNUM[r])
        if n == 0:
            n = int(digest("alnum-more", seed, len(out)), 16)
    return "".join(out)


def uuid_from(seed: str) -> str:
    h = digest("uuid", seed)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def created_from(seed: str) -> int:
    """A fixed Unix timestamp in late 2024, derived from the seed."""
    return 1_730_000_000 + int(seed[:6], 16) % 5_000_000


def json_type_name(value: Any) -> str:
    """The JSON type of a decoded value, as error messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text_of(content: Any) -> str:
    """The text of a message content: a string, or the ``text`` of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
        return "\n".join(parts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return ""
