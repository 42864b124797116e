"""Helpers shared by the adapters of foreign runtimes (ai-lib-python, the openai SDK).

A foreign runtime is judged, not trusted: anything it raises becomes an :class:`ErrorInfo`
that says which runtime raised what, while doing what, and where in its own code, so a
cell's detail reads "ai-lib-python raised KeyError('choices') while parsing the response
(ai_lib_python/client/core.py:412 in _parse_response)" instead of a traceback.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import PurePath

from .base import ErrorInfo


def installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def where_in(package: str, exc: BaseException) -> tuple[str | None, str | None]:
    """``("ai_lib_python/client/core.py:412 in _parse_response", "client/core.py")`` for the
    innermost frame of ``exc``'s traceback inside ``package``, or ``(None, None)``."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        parts = PurePath(frame.filename).parts
        if package in parts:
            found = frame
    if found is None:
        return None, None
    parts = PurePath(found.filename).parts
    rel = "/".join(parts[parts.index(package) :])
    return f"{rel}:{found.lineno} in {found.name}", "/".join(parts[parts.index(package) + 1 :])


def short(exc: BaseException, limit: int = 200) -> str:
    """``KeyError('choices')``: the exception's type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > limit:
        first = first[: limit - 1] + "…"
    if isinstance(exc, KeyError) and exc.args:
        return repr(exc)
    return f"{type(exc).__name__}({first!r})" if first else f"{type(exc).__name__}()"


def foreign_error(runtime: str, exc: BaseException, doing: str, package: str | None = None) -> ErrorInfo:
    """An exception the runtime raised that is not one of its documented errors."""
    location, _ = where_in(package, exc) if package else (None, None)
    cause = exc.__cause__ or exc.__context__
    text = f"{runtime} raised {short(exc)} while {doing}"
    if location:
        text += f" ({location})"
    if cause is not None and cause is not exc:
        text += f", caused by {short(cause)}"
    return ErrorInfo.unclassified(type(exc).__name__, text)


@contextmanager
def environ(name: str, value: str) -> Iterator[None]:
    """Set one environment variable for the duration of a block (a runtime reads it at creation)."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old
