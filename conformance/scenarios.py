"""Scenarios as data (``scenarios.yaml``) and which cells of the matrix need a cassette."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ailib.manifest import Manifest

SCENARIOS_FILE = Path(__file__).resolve().parent / "scenarios.yaml"
#: Capabilities a client must refuse before sending when a manifest declares them unsupported.
#: Cells judged from evidence (specs, real recordings) instead of a cassette of their own.
EVIDENCE_CALL = "evidence"
REFUSED_WHEN_UNSUPPORTED = {
    "system_messages",
    "multi_turn",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "streaming",
    "tools",
    "tool_choice_auto",
    "tool_choice_none",
    "tool_choice_required",
    "tool_choice_named",
    "structured_output",
    "json_mode",
}


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    group: str
    messages: tuple[tuple[str, str], ...]
    call: str
    capability: str | None = None
    via: str = "builder"
    parameters: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None
    max_retries: int = 0
    documented: str | None = None
    #: tools offered: (name, description, JSON Schema of the arguments)
    tools: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    tool_choice: str | None = None
    #: {"name", "schema"} for structured output, {"json_mode": True} for JSON mode
    response_format: dict[str, Any] | None = None

    @property
    def stream(self) -> bool:
        return self.call == "stream"


@cache
def load_scenarios(path: Path = SCENARIOS_FILE) -> tuple[Scenario, ...]:
    import yaml

    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = []
    table = data.get("tools") or {}
    for raw in data["scenarios"]:
        messages = tuple((role, text) for turn in raw["messages"] for role, text in turn.items())
        tools = tuple((name, table[name]["description"], table[name]["parameters"]) for name in raw.get("tools") or [])
        response_format = raw.get("response_format") or ({"json_mode": True} if raw.get("json_mode") else None)
        out.append(
            Scenario(
                id=raw["id"],
                title=raw["title"],
                group=raw["group"],
                messages=messages,
                call=raw["call"],
                capability=raw.get("capability"),
                via=raw.get("via", "builder"),
                parameters=raw.get("parameters") or {},
                expect=raw.get("expect") or {},
                fault=raw.get("fault"),
                max_retries=raw.get("max_retries", 0),
                documented=raw.get("documented"),
                tools=tools,
                tool_choice=raw.get("tool_choice"),
                response_format=response_format,
            )
        )
    return tuple(out)


def undocumented(scenario: Scenario, contract: dict[str, Any] | None) -> str | None:
    """Why the provider's documentation gives this scenario nothing to check, or None."""
    from .contract import MISSING, dig

    if scenario.documented and dig(contract or {}, scenario.documented) is MISSING:
        return (
            f"not documented by the provider: its contract has no {scenario.documented} "
            f"(no distinct error of this kind in its API reference)"
        )
    return None


def needs_cassette(manifest: Manifest, scenario: Scenario) -> bool:
    """A cell sends HTTP (and so has a cassette) when the provider has chat, declares the
    capability, and documents what the scenario checks."""
    from .contract import load_contracts

    if not manifest.chat_supported or scenario.call == EVIDENCE_CALL:
        return False
    if undocumented(scenario, load_contracts().get(manifest.id)):
        return False
    return scenario.capability is None or manifest.capability(scenario.capability).supported
