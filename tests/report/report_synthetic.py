"""Synthetic results files (format 1) for the report builder tests.

Deterministic for a given seed, shaped like a real run: 37 providers in five wire
families, two of them without a chat API, every cell status, declared/observed
mismatches in both directions, a few missing cells (not run), hostile text in a
failure detail and a provider name, and scenarios listed out of group order so the
builder's column grouping is exercised.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

PROVIDER_IDS = [
    "ai21",
    "anthropic",
    "anyscale",
    "azure-openai",
    "baseten",
    "bedrock",
    "cerebras",
    "cloudflare",
    "cohere",
    "deepinfra",
    "deepseek",
    "fireworks",
    "friendli",
    "gemini",
    "groq",
    "huggingface",
    "hyperbolic",
    "lambda",
    "lepton",
    "mistral",
    "moonshot",
    "nebius",
    "novita",
    "nvidia",
    "octoai",
    "ollama",
    "openai",
    "openrouter",
    "perplexity",
    "replicate",
    "sambanova",
    "together",
    "upstage",
    "vertex",
    "xai",
    "assemblyai",
    "elevenlabs",
]
NO_CHAT = {
    "assemblyai": "speech-to-text API only; no chat endpoint",
    "elevenlabs": "text-to-speech API only; no chat endpoint",
}
FAMILIES = {
    "anthropic": "anthropic-messages",
    "bedrock": "anthropic-messages",
    "gemini": "gemini",
    "vertex": "gemini",
    "cohere": "cohere-v2",
    "replicate": "replicate",
}  # others: openai-chat

# Deliberately not in group order: the builder must group columns, keeping input order within a group.
SCENARIOS = [
    {"id": "basic", "title": "Basic chat", "group": "chat", "capability": None},
    {"id": "error_429", "title": "429 rate limited", "group": "errors", "capability": None},
    {"id": "temperature", "title": "temperature", "group": "parameters", "capability": "temperature"},
    {"id": "stream", "title": "Streaming", "group": "streaming", "capability": "streaming"},
    {"id": "system_prompt", "title": "System prompt", "group": "chat", "capability": "system_prompt"},
    {"id": "top_p", "title": "top_p", "group": "parameters", "capability": "top_p"},
    {"id": "max_tokens", "title": "max_tokens", "group": "parameters", "capability": "max_tokens"},
    {"id": "stop", "title": "stop sequences", "group": "parameters", "capability": "stop"},
    {"id": "stream_usage", "title": "Usage in stream", "group": "streaming", "capability": "stream_usage"},
    {"id": "usage", "title": "Token usage", "group": "stats", "capability": "usage"},
    {"id": "error_401", "title": "401 bad key", "group": "errors", "capability": None},
    {"id": "error_500", "title": "500 server error", "group": "errors", "capability": None},
    {"id": "timeout", "title": "Read timeout", "group": "faults", "capability": None},
    {"id": "truncated_stream", "title": "Truncated stream", "group": "faults", "capability": "streaming"},
    {"id": "multi_turn", "title": "Multi-turn", "group": "chat", "capability": None},
]
GROUP_ORDER = ["chat", "parameters", "streaming", "stats", "errors", "faults"]
HOSTILE_DETAIL = 'expected "choices" but got <script>alert("x")</script> | & more'
FIELDS = ["choices", "created", "id", "model", "object", "usage"]


def make_results(
    seed: int = 7, generated_at: str = "2026-11-23T14:00:00Z", runtime: str = "ailib", runtime_version: str = "0.1.0"
) -> dict[str, Any]:
    rng = random.Random(seed)
    providers = []
    cells = []
    # Input order of providers is shuffled: the builder sorts rows by id.
    ids = PROVIDER_IDS[:]
    rng.shuffle(ids)
    for _index, pid in enumerate(ids):
        chat = pid not in NO_CHAT
        name = pid.replace("-", " ").title()
        if pid == "openrouter":
            name = "OpenRouter <b>beta</b>"
        live = 2 if pid == "openai" else 0
        providers.append(
            {
                "id": pid,
                "name": name,
                "family": FAMILIES.get(pid, "openai-chat"),
                "docs_url": f"https://docs.example/{pid}" if pid != "lambda" else "javascript:alert(1)",
                "status": "active",
                "chat": chat,
                "chat_reason": None if chat else NO_CHAT[pid],
                "evidence": {
                    "simulated": 13 if chat else 0,
                    "live": live,
                    "recorded_at": ["2026-11-23", "2026-11-20"] if chat else [],
                    "client_versions": ["0.1.0"] if chat else [],
                },
            }
        )
        for scenario in SCENARIOS:
            sid, cap = scenario["id"], scenario["capability"]
            if not chat:
                cells.append(_cell(pid, sid, "not_applicable", None, None, None, NO_CHAT[pid], None))
                continue
            roll = rng.random()
            if roll < 0.04:
                continue  # not run: no cell at all
            if cap and roll < 0.20:
                cells.append(
                    _cell(pid, sid, "unsupported", False, None, None, f"manifest: {pid} does not support {cap}", None)
                )
                continue
            outcome = None
            if roll < 0.27:
                status, detail = "fail", f"{sid}: response did not match the contract"
                if scenario["group"] == "parameters":
                    outcome = "dropped"
            else:
                status, detail = "pass", None
                if scenario["group"] == "parameters":
                    outcome = "honoured"
            # Mostly declared; now and then a pass the manifest does not declare (works but not declared).
            declared = None if cap is None else not (status == "pass" and rng.random() < 0.03)
            fields = sorted([*rng.sample(FIELDS, 4), "choices"]) if status == "pass" else None
            evidence = "live" if (pid == "openai" and sid in ("basic", "stream")) else "simulated"
            cells.append(
                _cell(pid, sid, status, declared, evidence, outcome, detail, sorted(set(fields or [])) or None)
            )
    results = {
        "format": 1,
        "runtime": runtime,
        "runtime_version": runtime_version,
        "generated_at": generated_at,
        "scenarios": copy.deepcopy(SCENARIOS),
        "providers": providers,
        "cells": cells,
    }
    _plant_known_cases(results)
    return results


def _cell(provider, scenario, status, declared, evidence, outcome, detail, fields) -> dict[str, Any]:
    return {
        "provider": provider,
        "scenario": scenario,
        "status": status,
        "declared": declared,
        "evidence": evidence,
        "outcome": outcome,
        "detail": detail,
        "response_fields": fields,
    }


def _plant_known_cases(results: dict[str, Any]) -> None:
    """Fixed cells the tests rely on, whatever the random draw gave."""
    set_cell(
        results,
        "openai",
        "temperature",
        status="pass",
        declared=True,
        evidence="simulated",
        outcome="honoured",
        detail=None,
        response_fields=["choices", "id", "model", "usage"],
    )
    set_cell(
        results,
        "mistral",
        "basic",
        status="fail",
        declared=None,
        evidence="simulated",
        outcome=None,
        detail=HOSTILE_DETAIL,
        response_fields=None,
    )
    set_cell(
        results,
        "groq",
        "top_p",
        status="fail",
        declared=True,
        evidence="simulated",
        outcome="rejected",
        detail="400: top_p is not supported",
        response_fields=None,
    )  # declared but failing
    set_cell(
        results,
        "cohere",
        "stop",
        status="pass",
        declared=False,
        evidence="simulated",
        outcome="honoured",
        detail=None,
        response_fields=["finish_reason", "id", "message"],
    )  # works but not declared
    remove_cell(results, "xai", "timeout")  # not run


def find_cell(results: dict[str, Any], provider: str, scenario: str) -> dict[str, Any] | None:
    for cell in results["cells"]:
        if cell["provider"] == provider and cell["scenario"] == scenario:
            return cell
    return None


def set_cell(results: dict[str, Any], provider: str, scenario: str, **values: Any) -> None:
    cell = find_cell(results, provider, scenario)
    if cell is None:
        cell = _cell(provider, scenario, "pass", None, None, None, None, None)
        results["cells"].append(cell)
    cell.update(values)


def remove_cell(results: dict[str, Any], provider: str, scenario: str) -> None:
    results["cells"] = [c for c in results["cells"] if (c["provider"], c["scenario"]) != (provider, scenario)]


def write(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return path


def expected_counts(results: dict[str, Any]) -> dict[str, Any]:
    """Counts computed straight from the raw results, independently of the builder's model."""
    chat = {p["id"]: p["chat"] for p in results["providers"]}
    status = {(c["provider"], c["scenario"]): c["status"] for c in results["cells"]}
    per_provider: dict[str, dict[str, int]] = {}
    for pid, has_chat in chat.items():
        passed = applicable = 0
        failing = False
        for s in results["scenarios"]:
            st = status.get((pid, s["id"]), "not_run") if has_chat else "not_applicable"
            if st not in ("not_applicable", "unsupported"):
                applicable += 1
            passed += st == "pass"
            failing |= st == "fail"
        per_provider[pid] = {"passed": passed, "applicable": applicable, "failing": failing}
    return {
        "passed": sum(v["passed"] for v in per_provider.values()),
        "applicable": sum(v["applicable"] for v in per_provider.values()),
        "per_provider": per_provider,
        "failing_providers": sorted(p for p, v in per_provider.items() if v["failing"]),
        "fail_cells": sum(1 for c in results["cells"] if c["status"] == "fail"),
        "declared_but_failing": sorted(
            (c["provider"], c["scenario"]) for c in results["cells"] if c["declared"] is True and c["status"] == "fail"
        ),
        "works_but_not_declared": sorted(
            (c["provider"], c["scenario"]) for c in results["cells"] if c["declared"] is False and c["status"] == "pass"
        ),
    }
