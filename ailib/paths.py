"""Compile manifest paths into plain Python getters, once per manifest.

A manifest says where a value lives with a dotted path such as
``choices.0.delta.content`` or ``candidates.0.content.parts[!thought].text``.
Interpreting that string for every stream event would put a small parser on the
hottest path of the client, so each path is turned into a Python function at load
time: ``d["choices"][0]["delta"]["content"]`` wrapped in one ``try``.

Each key is tested with ``in`` before it is read: on a stream most lookups miss
(an event carries no usage, no error, no reasoning), and a raised ``KeyError``
costs several times a lookup.

Grammar (checked by the manifest schema before it reaches this module)::

    path    := segment ("." segment)*
    segment := key | index | key "[" filter "]"
    filter  := "*" | name | "!" name | name "=" value

A filter selects the items of a list; the rest of the path is read from each item
and the string results are joined (used for content blocks and parts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Getter = Callable[[Any], Any]

_SEGMENT = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_\-]*|\d+)(?:\[(?P<filter>[^\]]+)\])?$")
_LOOKUP_ERRORS = "(KeyError, IndexError, TypeError)"


def _none(_: Any) -> None:
    return None


def _access(segment: str) -> str:
    return f"[{int(segment)}]" if segment.isdigit() else f"[{segment!r}]"


def _condition(flt: str) -> str:
    if flt == "*":
        return "True"
    if flt.startswith("!"):
        return f"not _x.get({flt[1:]!r})"
    if "=" in flt:
        name, value = flt.split("=", 1)
        return f"_x.get({name!r}) == {value!r}"
    return f"_x.get({flt!r})"


def parse(path: str) -> list[tuple[str, str | None]]:
    """Split a path into ``(key, filter)`` pairs; raise ``ValueError`` if malformed."""
    parts = []
    for raw in path.split("."):
        match = _SEGMENT.match(raw)
        if not match:
            raise ValueError(f"bad path segment {raw!r} in {path!r}")
        parts.append((match["key"], match["filter"]))
    if sum(1 for _, flt in parts if flt) > 1:
        raise ValueError(f"at most one [filter] per path: {path!r}")
    return parts


def _chain(var: str, keys: list[str], bail: str, indent: str) -> str:
    """Statements that read ``keys`` from ``var`` in place. An index needs a list:
    a string there is a wrong type (``"xyz"[0]`` would read a character)."""
    lines: list[str] = []
    run = ""
    for key in keys:
        if key.isdigit():
            if run:
                lines.append(f"{var} = {var}{run}")
                run = ""
            lines.append(f"if {var}.__class__ is not list:\n{indent}    {bail}")
            run += _access(key)
        else:
            if run:
                lines.append(f"{var} = {var}{run}")
                run = ""
            # Test the key first: a missing key is the usual case on a stream (most
            # events carry no usage, error or reasoning), and raising and catching
            # KeyError costs several times a lookup. Same result: a key that is not
            # there gives None, and a type that cannot hold keys still raises TypeError.
            lines.append(f"if {key!r} not in {var}:\n{indent}    {bail}")
            lines.append(f"{var} = {var}[{key!r}]")
    if run:
        lines.append(f"{var} = {var}{run}")
    return "".join(f"{indent}{line}\n" for line in lines or ["pass"])


def compile_path(path: str | None) -> Getter:
    """Return a function ``f(obj) -> value | None`` reading ``path`` from parsed JSON."""
    if not path:
        return _none
    segments = parse(path)
    head: list[str] = []
    tail: list[str] = []
    flt: str | None = None
    for key, seg_filter in segments:
        if flt is None:
            head.append(key)
            if seg_filter:
                flt = seg_filter
        else:
            tail.append(key)
    if flt is None:
        src = (
            "def _get(d):\n"
            f"    try:\n{_chain('d', head, 'return None', '        ')}        return d\n"
            f"    except {_LOOKUP_ERRORS}:\n        return None\n"
        )
    else:
        src = (
            "def _get(d):\n"
            f"    try:\n{_chain('d', head, 'return None', '        ')}"
            f"    except {_LOOKUP_ERRORS}:\n        return None\n"
            "    if d.__class__ is not list:\n        return None\n"
            "    out = []\n"
            "    for _x in d:\n"
            f"        if isinstance(_x, dict) and {_condition(flt)}:\n"
            f"            v = _x\n"
            f"            try:\n{_chain('v', tail, 'continue', '                ')}"
            f"            except {_LOOKUP_ERRORS}:\n                continue\n"
            "            if v is not None:\n                out.append(v)\n"
            "    if not out:\n        return None\n"
            "    return ''.join(out) if all(isinstance(v, str) for v in out) else out\n"
        )
    namespace: dict[str, Any] = {}
    exec(compile(src, f"<manifest path {path}>", "exec"), namespace)
    getter: Getter = namespace["_get"]
    getter.__doc__ = f"Read {path!r}."
    return getter


class PathConflict(ValueError):
    """:func:`set_path` met a value that is not an object where the path goes on."""


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at dotted ``path`` in ``target``, creating nested objects."""
    keys = path.split(".")
    node = target
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):  # another field already put a list or a string there
            raise PathConflict(f"{path!r} goes through {key!r}, which already holds a {type(node).__name__}")
    node[keys[-1]] = value
