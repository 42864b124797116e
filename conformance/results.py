"""Collect cell results into the results file the report builder reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ailib import manifest as manifests
from ailib.errors import AiLibError

from .cassettes import read_provenance
from .runner import cassette_path
from .scenarios import load_scenarios


def _describing_manifest(pid: str) -> manifests.Manifest:
    """The judged manifest; for one ailib cannot use (``--manifests``), the project's own
    describes the provider (name, family, docs) while every cell carries the reason."""
    try:
        return manifests.load(pid)
    except AiLibError:
        return manifests.load(pid, manifests._installed_manifests_dir())


def _usable_manifests() -> list[manifests.Manifest]:
    """The judged manifests ailib can read: the facts page states what a manifest says, so a
    file ailib cannot use (``--manifests``, its cells carry the reason) has no row there."""
    usable = []
    for pid in manifests.available():
        try:
            usable.append(manifests.load(pid))
        except AiLibError:
            continue
    return usable


def results_document(
    runtime: str,
    runtime_version: str,
    cells: list[dict[str, Any]],
    evidence: Any = None,
    self_test: dict[str, Any] | None = None,
) -> dict[str, Any]:
    providers = []
    for pid in manifests.available():
        m = _describing_manifest(pid)
        sources: dict[str, int] = {"simulated": 0, "live": 0}
        dates: set[str] = set()
        clients: set[str] = set()
        for scenario in load_scenarios():
            path = cassette_path(pid, scenario.id)
            block = read_provenance(path) if path.is_file() else None
            if block:
                sources[block["source"]] = sources.get(block["source"], 0) + 1
                dates.add(str(block["recorded"]))
                clients.add(str(block["client"]).rsplit(" ", 1)[-1])
        providers.append(
            {
                "id": pid,
                "name": m.name,
                "family": m.family,
                "docs_url": m.docs_url,
                "status": m.data.get("status", "active"),
                "chat": m.chat_supported,
                "chat_reason": m.chat_reason,
                "evidence": {
                    "simulated": sources["simulated"],
                    "live": sources["live"],
                    "recorded_at": sorted(dates),
                    "client_versions": sorted(clients),
                },
            }
        )
    scenarios = [{"id": s.id, "title": s.title, "group": s.group, "capability": s.capability} for s in load_scenarios()]
    order = {(c["provider"], c["scenario"]): c for c in cells}
    ordered = [order[(p["id"], s["id"])] for p in providers for s in scenarios if (p["id"], s["id"]) in order]
    facts: list[dict[str, Any]] = []
    # The facts page states what the judged manifests say, whichever runtime ran: it is
    # built with ailib's run (another runtime's report would carry the same page again).
    if evidence is not None and runtime == "ailib":
        from .evidence.provider_facts import all_provider_facts

        facts = all_provider_facts(_usable_manifests(), evidence.spec_judge, evidence.observed_dir)
    return {
        "format": 1,
        "runtime": runtime,
        "runtime_version": runtime_version,
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "scenarios": scenarios,
        "providers": providers,
        "cells": ordered,
        "provider_facts": facts,
        "self_test": self_test,
    }


def write_results(
    out_dir: Path,
    runtime_name: str,
    cells: list[dict[str, Any]],
    previous: str | None = None,
    evidence: Any = None,
    self_test: dict[str, Any] | None = None,
) -> Path:
    """Write ``results/<runtime>.json`` and build the matrix next to it."""
    from .runtimes import get_runtime

    runtime = get_runtime(runtime_name)
    doc = results_document(runtime.name, runtime.version, cells, evidence, self_test)
    target = out_dir if runtime_name == "ailib" else out_dir / runtime_name
    results_file = out_dir / "results" / f"{runtime_name}.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from .report import build

    build(results_file, target, previous=previous)
    from .report.diagnosis import write as write_diagnosis

    write_diagnosis(results_file, target)  # failures grouped by cause, next to the matrix
    return results_file
