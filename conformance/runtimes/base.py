"""The seam between the conformance suite and the client it judges.

A runtime adapter turns one scenario call into an :class:`Outcome`. The suite only
ever talks to this interface, so the same scenarios and cassettes judge ailib, the
official ai-lib-python runtime or the openai SDK. Adapters must send their HTTP
through httpx (vcrpy replays cassettes at httpx's transport layer) and use the
``http_client`` the suite hands them where the runtime accepts one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


@dataclass
class Call:
    provider: str
    model: str
    api_key: str
    messages: list[tuple[str, str]]
    parameters: dict[str, Any]
    mode: str  # execute | stats | stream | guide_example
    via: str = "builder"  # builder | messages
    http_client: Callable[[], httpx.AsyncClient] = httpx.AsyncClient
    max_retries: int = 0
    #: filled by the adapter with each back-off wait (seconds) instead of sleeping, where it can
    waits: list[float] = field(default_factory=list)
    #: tools offered: (name, description, JSON Schema); tool_choice; response_format
    #: ({"name", "schema"} or {"json_mode": True})
    tools: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    tool_choice: str | None = None
    response_format: dict[str, Any] | None = None


@dataclass
class ErrorInfo:
    type: str
    error_class: str | None
    code: str | None
    status_code: int | None
    retryable: bool | None
    fallbackable: bool | None
    message: str
    retry_after: float | None = None

    @classmethod
    def unclassified(cls, type_name: str, message: str) -> ErrorInfo:
        """An error the runtime gave no class, code, status or retry semantics for."""
        return cls(type_name, None, None, None, None, None, message)


@dataclass
class Outcome:
    content: str | None = None
    finish_reason: str | None = None
    raw_finish_reason: str | None = None
    usage: dict[str, int | None] | None = None
    #: ("content"|"reasoning"|"usage"|"finish", value), ("tool_call_delta", (index, id, name, fragment)),
    #: ("tool_call", (id, name, arguments dict or raw text))
    events: list[tuple[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    rejected: str | None = None  # refused before sending, with the runtime's reason
    #: the answer's tool calls: (id, name, arguments as a dict, or the raw text when not JSON)
    tool_calls: list[tuple[Any, Any, Any]] | None = None
    #: structured output parsed by the runtime
    parsed: Any = None


class Runtime(Protocol):
    """Optional: ``uses_call_http_client = True`` says every request the runtime sends goes
    through ``Call.http_client``; cassettes then replay to that client through a transport
    (conformance/cassettes.py ``CassetteTransport``) instead of vcrpy patching httpx for
    each test. A runtime that builds its own clients leaves it unset and is patched."""

    name: str
    version: str

    def unavailable(self) -> str | None:
        """Why this runtime cannot run here (not installed, ...), or None."""

    def supports(self, provider: str) -> str | None:
        """Why this runtime cannot load ``provider``, or None."""

    async def run(self, call: Call) -> Outcome:
        """Run one call. Never raises for provider or caller errors: they go in ``Outcome``."""


def apply_call(chat: Any, call: Call, message: Any, turn: Callable[[str, Any], Any] | None = None) -> Any:
    """Put a call's conversation and parameters on an AI-Lib chat builder (the API that
    ailib and ai-lib-python share); ``message`` is the runtime's ``Message`` class, ``turn``
    builds a history turn where the runtime spells tool turns its own way."""
    if call.via == "messages":
        make = turn or (lambda role, value: _message(message, role, value))
        chat.messages([make(role, value) for role, value in call.messages])
    else:
        for role, text in call.messages:
            getattr(chat, role)(text)
    for name, value in call.parameters.items():
        getattr(chat, name)(value)
    return chat


def _message(message: Any, role: str, value: Any) -> Any:
    """One history turn: text roles, the model's tool calls, or a tool's result."""
    if role == "assistant_tool_calls":
        from ailib import ToolCall

        return message.assistant(tool_calls=[ToolCall(c["id"], c["name"], c["arguments"]) for c in value])
    if role == "tool":
        return message.tool(value["id"], value["content"])
    return getattr(message, role)(value)


async def with_http_client(call: Call, run: Callable[[Call, httpx.AsyncClient], Awaitable[Outcome]]) -> Outcome:
    """``run(call, client)`` with the suite's HTTP client for this call, closed afterwards."""
    http = call.http_client()
    try:
        return await run(call, http)
    finally:
        await http.aclose()
