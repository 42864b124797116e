"""Tool calls on the wire: how each family shapes one call, and how streamed pieces add up.

Where the calls are (a response path, a stream route) is the manifest's business; what one
call looks like is the wire family's, and fits in one small function per family that turns
an item into a :data:`Piece`. The :class:`ToolCallAccumulator` then puts the pieces of a
stream together the same way for every family:

- a piece with an ``index`` continues the call at that index (OpenAI, and Anthropic and
  Cohere through the event's own index), unless it brings a different ``id``;
- a piece without an index but with an ``id`` starts a call (Mistral sends whole calls,
  several in one chunk, without ``index``);
- a piece with neither continues the last call;
- a ``complete`` piece is a whole call on its own (Gemini's ``functionCall`` parts).

A call is delivered (one ``tool_call`` event) when the provider says it is complete: at once
for whole calls, at the end event of its block (Anthropic ``content_block_stop``, Cohere
``tool-call-end``), at the finish reason, or at the end of the stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from .tool_steps import Continuation
from .types import StreamingEvent, ToolCall, ToolCallDelta

#: (provider index, id, name, arguments text or fragment, whole call?)
Piece = tuple[int | None, str | None, str | None, str | None, bool]
PieceReader = Callable[[Any], Piece | None]

_DELTA, _CALL = StreamingEvent.TOOL_CALL_DELTA, StreamingEvent.TOOL_CALL


def _text(value: Any) -> str | None:
    """Arguments as JSON text: a string as sent, an object (some services send one) dumped."""
    if value is None or value.__class__ is str:
        return value
    return json.dumps(value)


def _str(value: Any) -> str | None:
    return value if value.__class__ is str else None


def openai_piece(item: Any) -> Piece | None:
    """OpenAI chat (and Cohere v2): ``{"index", "id", "type": "function", "function": {"name", "arguments"}}``.
    On the per-event path of every tool stream: lookups inline, no helper calls."""
    if item.__class__ is not dict:
        return None
    function = item.get("function")
    if function.__class__ is not dict:
        return None
    index = item.get("index")
    call_id = item.get("id")
    name = function.get("name")
    arguments = function.get("arguments")
    return (
        index if index.__class__ is int else None,
        call_id if call_id.__class__ is str else None,
        name if name.__class__ is str else None,
        arguments if arguments is None or arguments.__class__ is str else json.dumps(arguments),
        False,
    )


def anthropic_piece(item: Any) -> Piece | None:
    """Anthropic: a ``tool_use`` content block (``id``, ``name``, ``input`` object) or, in a
    stream, an ``input_json_delta`` with a ``partial_json`` fragment. Text blocks are not calls.
    A stream's ``tool_use`` start carries ``input: {}`` as a placeholder: the input follows."""
    if item.__class__ is not dict:
        return None
    kind = item.get("type")
    if kind == "tool_use":
        value = item.get("input")
        return None, _str(item.get("id")), _str(item.get("name")), _text(value) if value else None, False
    if kind == "input_json_delta":
        return None, None, None, _str(item.get("partial_json")), False
    return None


def gemini_piece(item: Any) -> Piece | None:
    """Gemini: a ``functionCall`` object (``name``, ``args`` object, sometimes ``id``): always whole."""
    if item.__class__ is not dict:
        return None
    args = item.get("args")
    return None, _str(item.get("id")), _str(item.get("name")), json.dumps(args if args is not None else {}), True


def calls_of(items: Any, piece: PieceReader) -> list[ToolCall]:
    """The tool calls of a whole (non-streamed) answer: each item is one complete call."""
    if not items:
        return []
    calls = []
    for item in items if items.__class__ is list else (items,):
        part = piece(item)
        if part is not None:
            calls.append(ToolCall(part[1], part[2], raw_arguments=part[3] or ""))
    return calls


class _Pending:
    __slots__ = ("done", "id", "name", "ordinal", "parts")

    def __init__(self, ordinal: int) -> None:
        self.ordinal = ordinal
        self.id: str | None = None
        self.name: str | None = None
        self.parts: list[str] = []
        self.done = False


class ToolCallAccumulator:
    """Streamed tool-call pieces in, ``tool_call_delta`` and ``tool_call`` events out."""

    __slots__ = ("_by_id", "_calls", "_last", "_piece", "by_index")

    #: the family's usual piece, read by the stream route's compiled reader; None: every
    #: piece is read here
    continuation: ClassVar[Continuation | None] = None

    def __init__(self, piece: PieceReader) -> None:
        self._piece = piece
        self._calls: list[_Pending] = []
        #: calls by the provider's index (the compiled reader finds a continuation's call here)
        self.by_index: dict[int, _Pending] = {}
        self._by_id: dict[str, _Pending] = {}
        self._last: _Pending | None = None

    def feed(self, items: Any, event_index: Any, out: list[StreamingEvent]) -> None:
        for item in items if items.__class__ is list else (items,):
            self._one(item, event_index, out)

    def _one(self, item: Any, event_index: Any, out: list[StreamingEvent]) -> None:
        part = self._piece(item)
        if part is None:
            return
        index, call_id, name, arguments, whole = part
        if index is None and event_index.__class__ is int:
            index = event_index
        call = self.by_index.get(index) if index is not None and not whole else None
        if call is None or (call_id and call.id and call_id != call.id):
            call = self._call(index, call_id, whole)
        if call_id or name:
            if call.id is None:
                call.id = call_id
            if call.name is None:
                call.name = name
        elif not arguments:
            return  # an empty piece (Anthropic's first partial_json ""): nothing to tell
        if arguments:
            call.parts.append(arguments)
        out.append(StreamingEvent(_DELTA, ToolCallDelta(call.ordinal, call_id, name, arguments or "")))
        if whole:
            self._deliver(call, out)

    def _call(self, index: int | None, call_id: str | None, whole: bool) -> _Pending:
        if not whole:
            found: _Pending | None = None
            if index is not None:
                found = self.by_index.get(index)
            elif call_id is not None:
                found = self._by_id.get(call_id)
            else:
                found = self._last
            if found is not None and not (call_id and found.id and call_id != found.id):
                return found
        call = _Pending(len(self._calls))
        self._calls.append(call)
        if index is not None:
            self.by_index[index] = call
        if call_id is not None:
            self._by_id[call_id] = call
        self._last = call
        return call

    def end(self, event_index: Any, out: list[StreamingEvent]) -> None:
        """The provider closed the call at ``event_index`` (a block end event)."""
        call = self.by_index.get(event_index) if event_index.__class__ is int else None
        if call is not None and not call.done:
            self._deliver(call, out)

    def flush(self, out: list[StreamingEvent]) -> None:
        """Finish reason or end of stream: every call not yet delivered is complete."""
        for call in self._calls:
            if not call.done:
                self._deliver(call, out)

    @staticmethod
    def _deliver(call: _Pending, out: list[StreamingEvent]) -> None:
        call.done = True
        out.append(StreamingEvent(_CALL, ToolCall(call.id, call.name, raw_arguments="".join(call.parts))))


class OpenAIToolCalls(ToolCallAccumulator):
    """OpenAI-shaped calls (OpenAI chat, Cohere v2). Almost every piece of a stream is more
    arguments for a call already started (``{"index", "function": {"arguments"}}``, Cohere's
    index on the event): the stream decoder reads that piece through a function compiled
    from the route's path and this shape (:mod:`ailib.tool_steps`), which keeps a tool-call
    fragment about as cheap as a text delta; the rest goes the general way."""

    __slots__ = ()

    continuation = Continuation("function.arguments", "index", ("id", "function.name"))
