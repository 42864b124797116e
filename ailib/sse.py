"""Incremental server-sent-events decoder, as the WHATWG HTML standard specifies it.

Providers stream chat deltas as SSE. The decoder takes raw bytes as they come off
the network, split anywhere (inside a line, inside a CRLF pair, inside a UTF-8
character), and yields complete events. It follows the spec's parsing rules:
lines end in LF, CRLF or CR; a line starting with ``:`` is a comment (keep-alive);
``field: value`` loses one leading space; several ``data`` lines join with LF; a
blank line dispatches; an event with no data is not dispatched; a final event
without its trailing blank line is still delivered at end of stream (as the
providers that omit it expect, although the spec would drop it).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is ``"message"`` when the stream names none."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed bytes with :meth:`feed`, then call :meth:`flush` at end of stream."""

    __slots__ = ("_utf8", "_buffer", "_pending_cr", "_data", "_event", "_id", "_retry")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._pending_cr = False
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one network read and return the events it completed."""
        text = self._utf8.decode(chunk)
        if not text:
            return []
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":
                text = text[1:]
        if text.endswith("\r"):
            # A CR at the end may be the first half of CRLF: treat it as the line end
            # now and swallow a following LF in the next read.
            self._pending_cr = True
        buffer = self._buffer + text
        if "\r" in buffer:
            buffer = buffer.replace("\r\n", "\n").replace("\r", "\n")
        lines = buffer.split("\n")
        self._buffer = lines.pop()
        return list(self._lines(lines))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: deliver a last event that had no trailing blank line."""
        rest = self._utf8.decode(b"", final=True)
        lines = [self._buffer + rest] if (self._buffer or rest) else []
        self._buffer = ""
        events = list(self._lines(lines))
        if self._data:
            events.extend(self._dispatch())
        return events

    def _lines(self, lines: list[str]) -> Iterator[ServerSentEvent]:
        for line in lines:
            if not line:
                yield from self._dispatch()
                continue
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry":
                if value.isascii() and value.isdigit():
                    self._retry = int(value)

    def _dispatch(self) -> Iterator[ServerSentEvent]:
        if not self._data:
            self._event = ""
            return
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        yield ServerSentEvent(data, self._event or "message", self._id, self._retry)
        self._data = []
        self._event = ""
