"""Incremental server-sent-events decoder, as the WHATWG HTML standard specifies it.

Providers stream chat deltas as SSE. The decoder takes raw bytes as they come off
the network, split anywhere (inside a line, inside a CRLF pair, inside a UTF-8
character), and yields complete events. It follows the spec's parsing rules:
lines end in LF, CRLF or CR; a line starting with ``:`` is a comment (keep-alive);
``field: value`` loses one leading space; several ``data`` lines join with LF; a
blank line dispatches; an event with no data is not dispatched; a final event
without its trailing blank line is still delivered at end of stream (as the
providers that omit it expect, although the spec would drop it).

The work is linear in the input: a line that spans many reads is kept as a list of
pieces and joined once, when its end arrives (re-joining and re-scanning the whole
pending text on every read made a long line quadratic). An optional ``max_event_size``
bounds the characters one event may hold, pending line included: past it,
:class:`~ailib.errors.ResponseTooLargeError`.
"""

from __future__ import annotations

import codecs
import sys
from dataclasses import dataclass

from .errors import ResponseTooLargeError


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is ``"message"`` when the stream names none."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


#: ``(data, event, id, retry)``: the fields of one dispatched event.
Fields = tuple[str, str, "str | None", "int | None"]


class SSEDecoder:
    """Feed bytes with :meth:`feed`, then call :meth:`flush` at end of stream."""

    __slots__ = (
        "_buffer",
        "_data",
        "_data_counted",
        "_data_size",
        "_event",
        "_fast_max",
        "_id",
        "_limit",
        "_pending",
        "_pending_cr",
        "_pending_size",
        "_retry",
        "_utf8",
    )

    def __init__(self, max_event_size: int | None = None) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""  # the start of an unfinished line, when it came in one read
        self._pending: list[str] = []  # ... or its pieces, when it spans several
        self._pending_size = 0
        self._limit = max_event_size
        # the longest one-event read the fast path takes: "data: " + the limit + "\n\n"
        self._fast_max = max_event_size + 8 if max_event_size is not None else sys.maxsize
        self._data_counted = 0  # how many of _data's lines _data_size has counted
        self._data_size = 0
        self._pending_cr = False
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one network read and return the events it completed."""
        return [ServerSentEvent(*fields) for fields in self.feed_fields(chunk)]

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: deliver a last event that had no trailing blank line."""
        return [ServerSentEvent(*fields) for fields in self.flush_fields()]

    # The same, as plain ``(data, event, id, retry)`` tuples: what a stream decoder
    # reads per event, without building a ServerSentEvent for each.
    def feed_fields(self, chunk: bytes) -> list[Fields]:
        text = self._utf8.decode(chunk)
        if not text:
            return []
        if (
            text[-2:] == "\n\n"
            and text[:6] == "data: "
            and not self._buffer
            and not self._pending
            and not self._data
            and not self._pending_cr
            and text.find("\n") == len(text) - 2
            and "\r" not in text
        ):
            # The usual read when a provider sends one event per chunk: exactly one
            # whole single-line "data:" event, nothing pending. What the general path
            # below returns, without splitting lines.
            if len(text) > self._fast_max:
                self._too_large()
            fields = (text[6:-2], self._event or "message", self._id, self._retry)
            self._event = ""
            return [fields]
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        if text[-1:] == "\r":
            # A CR at the end may be the first half of CRLF: treat it as the line end
            # now and swallow a following LF in the next read.
            self._pending_cr = True
        if "\n" not in text and "\r" not in text:
            # No line ends here: keep the piece; the line is joined once, when it ends.
            if self._buffer:
                self._pending.append(self._buffer)
                self._buffer = ""
            self._pending.append(text)
            self._pending_size += len(text)
            if self._limit is not None and self._pending_size + self._data_size > self._limit:
                self._too_large()
            return []
        if self._pending:
            if self._buffer:
                self._pending.append(self._buffer)
            self._pending.append(text)
            buffer = "".join(self._pending)
            self._pending = []
            self._pending_size = 0
        else:
            buffer = self._buffer + text if self._buffer else text
        if "\r" in buffer:
            buffer = buffer.replace("\r\n", "\n").replace("\r", "\n")
        lines = buffer.split("\n")
        self._buffer = lines.pop()
        if self._limit is not None and len(buffer) + self._data_size > self._limit:
            self._check_lines(lines)  # only a read bigger than the limit can complete a too-big event
        events = self._lines(lines) if lines else []
        if self._limit is not None:
            self._check_size()
        return events

    def _check_size(self) -> None:
        """The event being collected (its data lines, and the line still open) within the limit."""
        data = self._data
        if not data:
            self._data_counted = self._data_size = 0
        elif self._data_counted < len(data):
            self._data_size += sum(len(line) for line in data[self._data_counted :])
            self._data_counted = len(data)
        self._pending_size = len(self._buffer)
        if self._data_size + self._pending_size > (self._limit or 0):
            self._too_large()

    def _check_lines(self, lines: list[str]) -> None:
        """The events these lines complete, or keep open, within the limit (lines counted whole)."""
        size = self._data_size
        for line in lines:
            size = size + len(line) if line else 0
            if size > (self._limit or 0):
                self._too_large()

    def _too_large(self) -> None:
        self._pending, self._buffer, self._data = [], "", []
        raise ResponseTooLargeError(f"a stream event exceeds the limit of {self._limit} characters")

    def flush_fields(self) -> list[Fields]:
        rest = self._utf8.decode(b"", final=True)
        line = "".join(self._pending) + self._buffer + rest
        lines = [line] if line else []
        if self._limit is not None:
            self._check_lines(lines)
        self._buffer, self._pending, self._pending_size = "", [], 0
        events = self._lines(lines)
        if self._data:
            events.append(self._dispatch())
        return events

    def _lines(self, lines: list[str]) -> list[Fields]:
        events: list[Fields] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(self._dispatch())
                    data = self._data
                else:
                    self._event = ""
                continue
            if line[:6] == "data: ":  # the usual line, read without partition()
                data.append(line[6:])
                continue
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                self._retry = int(value)
        return events

    def _dispatch(self) -> Fields:
        data = self._data
        fields = (data[0] if len(data) == 1 else "\n".join(data), self._event or "message", self._id, self._retry)
        self._data = []
        self._data_counted = self._data_size = 0
        self._event = ""
        return fields
