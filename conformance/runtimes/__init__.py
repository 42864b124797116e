"""Runtime adapters, selected with ``pytest conformance/ --runtime NAME``."""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: name -> "module:Class". Add an adapter here (see README, "Adding a runtime adapter").
#: Adapters import the client they wrap lazily, so an uninstalled one is reported, not a crash.
RUNTIMES = {
    "ailib": "conformance.runtimes.ailib_runtime:AilibRuntime",
    "ai-lib-python": "conformance.runtimes.ai_lib_python_runtime:AiLibPythonRuntime",
    "ai-lib-python-upstream": "conformance.runtimes.ai_lib_python_runtime:AiLibPythonUpstreamRuntime",
    "openai-sdk": "conformance.runtimes.openai_sdk_runtime:OpenAISdkRuntime",
    "ai-lib-ts": "conformance.runtimes.ai_lib_ts_runtime:AiLibTsRuntime",
}


def get_runtime(name: str) -> Any:
    if name not in RUNTIMES:
        raise KeyError(f"unknown runtime {name!r}; known: {', '.join(sorted(RUNTIMES))}")
    module, _, cls = RUNTIMES[name].partition(":")
    return getattr(import_module(module), cls)()
