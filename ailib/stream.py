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

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any

from .errors import AiLibError, StreamProtocolError
from .manifest import Extraction, Manifest
from .sse import Fields, SSEDecoder
from .tool_steps import ToolStep, compile_step
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


@dataclasses.dataclass(frozen=True, slots=True)
class _Route(Extraction):
    """A stream route with its tool-call reader compiled for one accumulator class."""

    #: ``None``: the route carries no tool calls, or the client reads none
    tool_step: ToolStep | None = None


_ROUTE_TABLES: dict[tuple[int, type[ToolCallAccumulator], bool], tuple[Manifest, dict[str, _Route]]] = {}


def _stream_routes(manifest: Manifest, accumulator: type[ToolCallAccumulator], tools: bool) -> dict[str, _Route]:
    """The manifest's stream routes with their tool readers, built once per manifest and
    accumulator class (compiling is for load time, not for every stream)."""
    key = (id(manifest), accumulator, tools)
    hit = _ROUTE_TABLES.get(key)
    if hit is not None and hit[0] is manifest:  # an id is reused only after its manifest is gone
        return hit[1]
    # the raw path text: a tool step compiles its own readers from it
    specs = (manifest.data.get("stream") or {}).get("routes") or {}
    names = [f.name for f in dataclasses.fields(Extraction)]
    table = {}
    for name, route in manifest.stream.routes.items():
        spec = specs.get(name) or {}
        step = (
            compile_step(spec["tool_calls"], spec.get("tool_index"), accumulator.continuation)
            if tools and route.tool_calls is not None and spec.get("tool_calls")
            else None
        )
        table[name] = _Route(**{n: getattr(route, n) for n in names}, tool_step=step)
    if len(_ROUTE_TABLES) >= 256:
        _ROUTE_TABLES.clear()
    _ROUTE_TABLES[key] = (manifest, table)
    return table


def _parsed(obj: Any) -> Any:
    """The "parser" of chunks that arrive parsed (a JSON-array body): they are used as is."""
    return obj


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
        # A plain dict, built once per manifest and accumulator class and shared by its
        # decoders: the per-event route lookup is a dict lookup, not a call through the
        # section's read-only view.
        self._routes = _stream_routes(manifest, tool_calls, tool_piece is not None)
        self._default = self._routes.get("*")
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
        #: the accumulator's calls by index, for the routes' compiled readers (none yet)
        self._calls: dict[Any, Any] = {}
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
        return self._events(fields, self._loads) if fields else []

    def feed_objects(self, objects: list[Any]) -> list[StreamingEvent]:
        """Events of already-parsed stream chunks (a JSON-array body instead of SSE)."""
        if self.error is not None:
            return []
        return self._events([(obj, "", None, None) for obj in objects], _parsed)

    def close(self) -> list[StreamingEvent]:
        """End of body: the last events, then usage and finish; raises if the stream broke."""
        out: list[StreamingEvent] = []
        if self.error is None and not self.ended:
            try:
                out = self._events(self._sse.flush_fields(), self._loads)
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

    def _events(self, sse_events: Iterable[Fields], loads: Callable[[Any], Any]) -> list[StreamingEvent]:
        # The per-event loop of every stream: names are bound to locals once per read,
        # and the extraction is inlined (one call per event, not one per field).
        out: list[StreamingEvent] = []
        routes, default, mode, done_marker = self._routes, self._default, self._mode, self._done_marker
        usage, calls = self.usage, self._calls
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
            step = route.tool_step
            if step is not None:
                # A continuation of a known call is read (and its event made) by the step;
                # what it returns is for the general reader.
                items = step(obj, calls, out)
                if items:
                    tools = self.tools or self._start_tools()
                    get_index = route.tool_index
                    tools.feed(items, get_index(obj) if get_index is not None else None, out)
                    calls = self._calls
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

    def _start_tools(self) -> ToolCallAccumulator:
        # Only routes with a tool step get here, and those exist only with a piece reader.
        assert self._tool_piece is not None
        tools = self.tools = self._tool_calls(self._tool_piece)
        self._calls = tools.by_index
        return tools

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
