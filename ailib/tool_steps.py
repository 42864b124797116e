"""The tool-call reader of one stream route, compiled once: the per-event tool path.

In a streamed tool call almost every event is more arguments text for a call already
started (OpenAI's ``{"index": 0, "function": {"arguments": "..."}}``). Reading that piece
the general way (a piece tuple, the accumulator's rules for ids, names and indexes) costs
more than the text delta next to it. So, like the manifest's paths (:mod:`ailib.paths`),
the reader is turned into one Python function, once (at the first stream of a manifest;
cached by path and shape), from two pieces of data:

- the route's ``tool_calls`` path and ``tool_index`` path (the manifest's);
- the family's :class:`Continuation`: where such a piece keeps its text, where its index
  is, and which keys make it more than a continuation (an ``id``, a ``name``: a start).

The function walks the route path, recognises a continuation of a known call by
subscripts inside one ``try`` (free in CPython 3.11 when nothing raises), appends the
fragment and its ``tool_call_delta`` event itself, and returns ``None``. Anything else (a
start, several calls in one event, an unknown index, a fragment that is not text, odd
types) is returned as is, for the accumulator's general reader: the compiled path is an
exact shortcut, never a second set of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import paths
from .types import StreamingEvent, ToolCallDelta

#: ``step(event, calls_by_index, out)``: ``None`` when the event has no tool-call pieces or
#: its piece was read here; otherwise the route's tool-call items, for the general reader
ToolStep = Callable[[Any, dict[Any, Any], list[StreamingEvent]], Any]


@dataclass(frozen=True, slots=True)
class Continuation:
    """What a family's continuation piece looks like, as dotted paths inside one item."""

    #: the arguments text fragment (``function.arguments``)
    arguments: str
    #: the call's index in the item (``index``); where absent, the event's ``tool_index``
    index: str | None
    #: present in a piece that starts a call (``id``, ``function.name``): not a continuation
    starts: tuple[str, ...] = ()


def _subscripts(var: str, path: str) -> str:
    return var + "".join(f"[{int(k)}]" if k.isdigit() else f"[{k!r}]" for k in path.split("."))


def _continuation(c: Continuation, tool_index: Any) -> str | None:
    """The source that reads a continuation piece from the items ``d`` of event ``e``, or
    None where it cannot be compiled (the general reader then reads every piece)."""
    if tool_index is not None and not _plain(tool_index):
        return None
    lines: list[str] = []
    holders = {"": "x"}

    def holder(prefix: str) -> str:
        """A variable holding the value at ``prefix`` in the item, read once."""
        if prefix not in holders:
            parent, _, key = prefix.rpartition(".")
            holders[prefix] = f"h{len(holders)}"
            lines.append(f"{holders[prefix]} = {_subscripts(holder(parent), key)}")
        return holders[prefix]

    def value(path: str) -> str:
        parent, _, key = path.rpartition(".")
        return _subscripts(holder(parent), key)

    for start in c.starts:  # a piece that starts a call is the general reader's
        parent, _, key = start.rpartition(".")
        lines.append(f"if {key!r} in {holder(parent)}:\n            return d")
    lines.append(f"a = {value(c.arguments)}")
    if tool_index is None:
        if c.index is None:
            return None  # no index to find the call by
        lines.append(f"i = {value(c.index)}")
    elif c.index is None:
        lines.append(f"i = {_subscripts('e', tool_index)}")
    else:  # the item's index, else the event's (Cohere)
        parent, _, key = c.index.rpartition(".")
        lines.append(
            f"if {key!r} in {holder(parent)}:\n            i = {value(c.index)}\n"
            f"        else:\n            i = {_subscripts('e', tool_index)}"
        )
    body = "".join(f"        {line}\n" for line in lines)
    return (
        "    try:\n"
        # one item: the event's list of one (ValueError: not one), or the object itself
        "        if d.__class__ is list:\n            (x,) = d\n"
        "        else:\n            x = d\n"
        f"{body}"
        "        call = calls[i]\n"
        "    except (KeyError, IndexError, TypeError, ValueError):\n        return d\n"
        # a bool or float index hashes like an int key; an object fragment is dumped
        "    if a.__class__ is not str or i.__class__ is not int:\n        return d\n"
        "    if a:\n"
        "        call.parts.append(a)\n"
        # The event, built slot by slot: a Python __init__ call per object would cost
        # about as much as the rest of this function (test_tools checks every slot).
        "        t = _new(_Delta)\n"
        "        t.index = call.ordinal\n"
        "        t.id = None\n"
        "        t.name = None\n"
        "        t.arguments = a\n"
        "        v = _new(_Event)\n"
        "        v.kind = _DELTA\n"
        "        v._payload = t\n"
        "        out.append(v)\n"
        "    return None\n"
    )


def _plain(spec: Any) -> bool:
    """A single path without a ``[filter]``: the only kind compiled inline."""
    return isinstance(spec, str) and all(flt is None for _, flt in paths.parse(spec))


def compile_step(tool_calls: Any, tool_index: Any, continuation: Continuation | None) -> ToolStep:
    """The reader of one route: ``tool_calls`` and ``tool_index`` as the manifest gives them
    (a path, a list of fallback paths, or None), ``continuation`` as the family's."""
    if isinstance(tool_calls, list):
        tool_calls = tuple(tool_calls)
    if isinstance(tool_index, list):
        tool_index = tuple(tool_index)
    return _compile(tool_calls, tool_index, continuation)


@lru_cache(maxsize=64)
def _compile(tool_calls: Any, tool_index: Any, continuation: Continuation | None) -> ToolStep:
    if not _plain(tool_calls):
        # A filter or fallback paths: the manifest's own getter, then the general reader.
        from .manifest import compile_paths

        get = compile_paths(list(tool_calls) if isinstance(tool_calls, tuple) else tool_calls)

        def general(event: Any, _calls: dict[Any, Any], _out: list[StreamingEvent]) -> Any:
            return get(event)

        return general
    keys = [key for key, _ in paths.parse(tool_calls)]
    keep_event = "    e = d  # the event, for its tool_index\n" if tool_index is not None and continuation else ""
    src = (
        "def _step(d, calls, out):\n"
        + keep_event
        + "    try:\n"
        + paths._chain("d", keys, "return None", "        ")
        + f"    except {paths._LOOKUP_ERRORS}:\n        return None\n"
    )
    read = _continuation(continuation, tool_index) if continuation is not None else None
    src += read if read is not None else "    return d\n"
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_Event": StreamingEvent,
        "_Delta": ToolCallDelta,
        "_DELTA": StreamingEvent.TOOL_CALL_DELTA,
    }
    exec(compile(src, f"<tool step {tool_calls}>", "exec"), namespace)
    step: ToolStep = namespace["_step"]
    step.__doc__ = f"Read the tool-call pieces at {tool_calls!r}."
    return step
