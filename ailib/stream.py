"""Turn a provider's byte stream into :class:`~ailib.types.StreamingEvent` objects.

One decoder serves every SSE wire family: the manifest's ``stream.routes`` say, per
event type, where content, reasoning, finish reason, usage and errors live, and the
getters are compiled at manifest load. Per event the work is: split SSE lines,
``json.loads``, and a handful of compiled lookups.

Ordering contract (what the conformance suite checks): content and reasoning deltas
are delivered as they arrive; usage is merged across events (providers spread it:
Anthropic sends input tokens first and output tokens last, Gemini repeats running
totals) and delivered once, followed by the finish event, when the stream ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import AiLibError, StreamProtocolError
from .manifest import Manifest
from .sse import Fields, SSEDecoder
from .tools import PieceReader, ToolCallAccumulator
from .types import ContentDelta, Finish, StreamingEvent, Usage

ErrorFactory = Callable[..., AiLibError]  # (body, status, *, raw_text=None) -> error

_CONTENT, _REASONING = StreamingEvent.CONTENT, StreamingEvent.REASONING
#: the end sentinel of OpenAI-style streams (platform.openai.com/docs/api-reference/chat-streaming)
_OPENAI_DONE = "[DONE]"


def as_text(value: Any) -> str | None:
    """Content as text: a string, or the ``text`` of typed chunks (Mistral, Replicate)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict) and item.get("type", "text") == "text" and isinstance(item.get("text"), str):
                parts.append(item["text"])
        return "".join(parts)
    return None


def _every_event_one_route(_name: str, _obj: Any) -> str:
    """The route key where a manifest routes nothing (``event_type: none``): never called,
    since such a stream reads every event with the ``*`` route."""
    return "*"


class StreamDecoder:
    """Feed raw bytes; collect events; :meth:`close` at end of body."""

    def __init__(
        self,
        manifest: Manifest,
        make_error: ErrorFactory,
        loads: Callable[[Any], Any] = json.loads,
        redact: Callable[[str], str] | None = None,
        tool_piece: PieceReader | None = None,
        tool_calls: type[ToolCallAccumulator] = ToolCallAccumulator,
        max_event_size: int | None = None,
    ) -> None:
        self._sse = SSEDecoder(max_event_size)
        spec = manifest.stream
        # A plain dict per decoder: the per-event route lookup is a dict lookup, not a call
        # through the section's read-only view.
        self._routes = dict(spec.routes)
        self._default = spec.routes.get("*")
        self._route_key = spec.route_key or _every_event_one_route
        self._mode = spec.mode
        self._done_marker = spec.done_marker
        self._ends_at_finish = spec.ends_at_finish
        self._finish_map = manifest.finish_reasons
        self._make_error = make_error
        self._loads = loads
        self._redact = redact
        self._provider = manifest.id
        self._tool_piece = tool_piece
        self._tool_calls = tool_calls
        #: made at the first tool-call piece: a stream without tool calls never builds one
        self.tools: ToolCallAccumulator | None = None
        self.usage: dict[str, int] = {}
        self.raw_finish: str | None = None
        self.model: str | None = None
        self.ended = False
        self.error: AiLibError | None = None

    def feed(self, chunk: bytes) -> list[StreamingEvent]:
        """Events completed by this chunk. After a provider error, :attr:`error` is set;
        after the terminal event, :attr:`ended` is, and nothing more is read."""
        if self.error is not None or self.ended:
            return []
        try:
            fields = self._sse.feed_fields(chunk)
        except AiLibError as exc:  # an event over the size limit
            self._fail(exc)
            return []
        return self._events(fields) if fields else []

    def feed_objects(self, objects: list[Any]) -> list[StreamingEvent]:
        """Events of already-parsed stream chunks (a JSON-array body instead of SSE)."""
        if self.error is not None:
            return []
        dumps = json.dumps
        return self._events([(dumps(obj), "", None, None) for obj in objects])

    def close(self) -> list[StreamingEvent]:
        """End of body: the last events, then usage and finish; raises if the stream broke."""
        out: list[StreamingEvent] = []
        if self.error is None and not self.ended:
            try:
                out = self._events(self._sse.flush_fields())
            except AiLibError as exc:  # the last, unterminated event is over the size limit
                self._fail(exc)
        if self.error is not None:
            return out
        if self.raw_finish is None and not self.ended:
            self.error = StreamProtocolError(
                "stream ended without a finish reason or done marker (cut off?)", provider=self._provider
            )
            return out
        if self.tools is not None:
            self.tools.flush(out)
        if self.usage:
            out.append(StreamingEvent(StreamingEvent.USAGE, Usage(**self.usage)))
        raw = self.raw_finish
        out.append(
            StreamingEvent(StreamingEvent.FINISH, Finish(self._finish_map.get(raw, "other") if raw else None, raw))
        )
        return out

    def _events(self, sse_events: list[Fields]) -> list[StreamingEvent]:
        # The per-event loop of every stream: names are bound to locals once per read,
        # and the extraction is inlined (one call per event, not one per field).
        out: list[StreamingEvent] = []
        routes, default, mode, done_marker, loads = (
            self._routes,
            self._default,
            self._mode,
            self._done_marker,
            self._loads,
        )
        usage = self.usage
        for data, event, _, _ in sse_events:
            if data == done_marker:
                self.ended = True
                break  # the terminal event: whatever follows it is not part of the answer
            if mode == "sse":
                # Route by the SSE event name before parsing: ignored events (ping) cost nothing.
                route = routes.get(event) or default
                if route is None:
                    continue
                if route.text:
                    if data:
                        out.append(StreamingEvent(_CONTENT, ContentDelta(data)))
                    if route.end:
                        self.ended = True
                        break
                    continue
                try:
                    obj = loads(data)
                except ValueError:
                    self._not_json(data)
                    break
            else:
                try:
                    obj = loads(data)
                except ValueError:
                    self._not_json(data)
                    break
                route = default if mode == "none" else (routes.get(self._route_key(event, obj)) or default)
                if route is None:
                    continue
            err = route.error(obj)
            if err:
                # A plain-string error value is the provider's text (Cohere's delta.error),
                # which the manifest's errors.message path may not reach.
                self.error = self._make_error(obj, None, raw_text=err if err.__class__ is str else None)
                break
            text = route.content(obj)
            if text:
                if text.__class__ is not str:
                    text = as_text(text)
                if text:
                    out.append(StreamingEvent(_CONTENT, ContentDelta(text)))
            thought = route.reasoning(obj)
            if thought:
                if thought.__class__ is not str:
                    thought = as_text(thought)
                if thought:
                    out.append(StreamingEvent(_REASONING, ContentDelta(thought)))
            get_calls = route.tool_calls
            if get_calls is not None:
                items = get_calls(obj)
                if items:
                    tools = self.tools or self._start_tools()
                    if tools is not None:
                        get_index = route.tool_index
                        tools.feed(items, get_index(obj) if get_index is not None else None, out)
            if route.tool_end and self.tools is not None and route.tool_index is not None:
                self.tools.end(route.tool_index(obj), out)
            finish = route.finish_reason(obj) or route.finish_default
            if finish:
                self.raw_finish = finish if finish.__class__ is str else str(finish)
                if self.tools is not None:  # the calls so far are complete (OpenAI-style streams)
                    self.tools.flush(out)
            for name, getter in route.usage:
                value = getter(obj)
                if value.__class__ is int:  # a token count; anything else is not one (or absent)
                    usage[name] = value
            if self.model is None:
                self.model = route.model(obj)
            if route.end or (finish and self._ends_at_finish):
                self.ended = True  # the terminal event: what follows it is not part of the answer
                break
        return out

    def _fail(self, error: AiLibError) -> None:
        error.provider = self._provider
        self.error = error

    def _start_tools(self) -> ToolCallAccumulator | None:
        if self._tool_piece is None:
            return None
        self.tools = self._tool_calls(self._tool_piece)
        return self.tools

    def _not_json(self, data: str) -> None:
        """An event that is not JSON ends the reading (checked only once parsing failed, so the
        per-event path pays nothing): OpenAI's ``[DONE]`` sentinel is a clean end, the terminal
        event, even where the manifest declares no done marker, since a server may send it
        anyway; anything else is a protocol error."""
        if data.strip() == _OPENAI_DONE:
            self.ended = True
        else:
            self._bad_json(data)

    def _bad_json(self, data: str) -> None:
        if self._redact is not None:  # redact before cutting: a cut key would no longer match
            data = self._redact(data)
        self.error = StreamProtocolError(f"invalid JSON in stream event: {data[:80]!r}", provider=self._provider)
