"""Runtime adapters, selected with ``pytest conformance/ --runtime NAME``."""

from __future__ import annotations

import os
import shlex
from importlib import import_module
from typing import Any

#: name -> "module:Class" (relative to this package, or absolute). Add an adapter here (see
#: README, "Adding a runtime adapter"), or name one from outside: ``--runtime pkg.mod:Class``.
#: Adapters import the client they wrap lazily, so an uninstalled one is reported, not a crash.
RUNTIMES = {
    "ailib": ".ailib_runtime:AilibRuntime",
    "ai-lib-python": ".ai_lib_python_runtime:AiLibPythonRuntime",
    "ai-lib-python-upstream": ".ai_lib_python_runtime:AiLibPythonUpstreamRuntime",
    "openai-sdk": ".openai_sdk_runtime:OpenAISdkRuntime",
    "ai-lib-ts": ".ai_lib_ts_runtime:AiLibTsRuntime",
}


def get_runtime(name: str) -> Any:
    """The adapter for ``name``: a registered runtime, ``package.module:Class``, or, with
    ``$AILIB_RUNTIME_DRIVER`` (``--runtime-driver``), an out-of-process driver named ``name``."""
    driver = os.environ.get("AILIB_RUNTIME_DRIVER")
    if driver and name not in RUNTIMES:
        from .process_runtime import CommandRuntime

        return CommandRuntime(name, shlex.split(driver))
    target = RUNTIMES.get(name) or (name if ":" in name else None)
    if target is None:
        raise KeyError(f"unknown runtime {name!r}; known: {', '.join(sorted(RUNTIMES))}, or module:Class")
    module, _, cls = target.partition(":")
    return getattr(import_module(module, __package__), cls)()
