"""Runtime adapters, selected with ``pytest conformance/ --runtime NAME``."""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: name -> "module:Class". Add an adapter here (see README, "Adding a runtime").
RUNTIMES = {
    "ailib": "conformance.runtimes.ailib_runtime:AilibRuntime",
}


def get_runtime(name: str) -> Any:
    if name not in RUNTIMES:
        raise KeyError(f"unknown runtime {name!r}; known: {', '.join(sorted(RUNTIMES))}")
    module, _, cls = RUNTIMES[name].partition(":")
    return getattr(import_module(module), cls)()
