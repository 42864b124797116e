"""``capability-matrix.json``: the machine-readable report, described by
``schema/capability-matrix.schema.json``.

It is not a copy of the results file: the grid is complete (missing pairs appear as
``not_run``), counts per provider and per scenario are precomputed, declaration
mismatches are flagged, and the evidence wording is included so tools that
republish the data say the same thing as the Markdown and HTML reports.

Output is deterministic: keys in a fixed order, lists in display order, no clock.
"""

from __future__ import annotations

import json
from typing import Any

from . import wording
from .drift import REPORT_FORMAT, REPORT_KIND, Changes
from .model import APPLICABLE_DEFINITION, ERROR_HANDLING_GROUPS, FLAGS, GROUPS, Cell, Matrix, Summary


def to_dict(matrix: Matrix, changes: Changes | None = None) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    summary = matrix.summary()
    return {
        "kind": REPORT_KIND,
        "format": REPORT_FORMAT,
        "generated_at": matrix.generated_at,
        "runtime": {"name": matrix.runtime, "version": matrix.runtime_version},
        "definitions": {
            "applicable": APPLICABLE_DEFINITION,
            "statuses": dict(wording.LABELS),
            "evidence_levels": dict(wording.LEVEL_LABELS),
            "flags": dict(wording.FLAG_LABELS),
            "error_handling_groups": [g for g in GROUPS if g in ERROR_HANDLING_GROUPS],
        },
        "summary": {
            **_summary(summary),
            "providers": len(matrix.providers),
            "providers_without_chat": sum(1 for p in matrix.providers if not p.chat),
            "scenarios": len(matrix.scenarios),
            "flags": {flag: len(matrix.flagged(flag)) for flag in FLAGS},
            "evidence_levels": matrix.evidence_counts(),
        },
        "self_test": None if matrix.self_test is None else dict(matrix.self_test),
        "groups": [
            {
                "id": group,
                "title": wording.group_title(group),
                "error_handling": scenarios[0].error_handling,
                "scenarios": [s.id for s in scenarios],
            }
            for group, scenarios in matrix.groups()
        ],
        "scenarios": [
            {
                "id": s.id,
                "title": s.title,
                "group": s.group,
                "capability": s.capability,
                "summary": _summary(matrix.scenario_summary(s)),
            }
            for s in matrix.scenarios
        ],
        "providers": [
            {
                "id": p.id,
                "name": p.name,
                "family": p.family,
                "docs_url": p.docs_url,
                "status": p.status,
                "chat": p.chat,
                "chat_reason": p.chat_reason,
                "evidence": {
                    "kind": wording.evidence_kind(p.evidence),
                    "simulated": p.evidence.simulated,
                    "live": p.evidence.live,
                    "recorded_at": list(p.evidence.recorded_at),
                    "client_versions": list(p.evidence.client_versions),
                    "description": wording.provider_evidence(p.evidence),
                },
                "summary": _summary(matrix.provider_summary(p)),
                "evidence_levels": matrix.evidence_counts(matrix.row(p)),
                "flags": {flag: [c.scenario for c in matrix.row(p) if flag in c.flags] for flag in FLAGS},
            }
            for p in matrix.providers
        ],
        "cells": [_cell(c) for c in matrix.all_cells()],
        "changes": None if changes is None else _changes(changes),
    }


def render(matrix: Matrix, changes: Changes | None = None) -> str:
    """Serialised report; ``ensure_ascii=False`` keeps provider text readable in diffs."""
    return json.dumps(to_dict(matrix, changes), indent=2, ensure_ascii=False) + "\n"


def _summary(summary: Summary) -> dict[str, Any]:
    return {"passed": summary.passed, "applicable": summary.applicable, "counts": dict(summary.counts)}


def _cell(cell: Cell) -> dict[str, Any]:
    return {
        "provider": cell.provider,
        "scenario": cell.scenario,
        "status": cell.status,
        "declared": cell.declared,
        "evidence": cell.evidence,
        "outcome": cell.outcome,
        "detail": cell.detail,
        "response_fields": None if cell.response_fields is None else list(cell.response_fields),
        "flags": list(cell.flags),
        "evidence_level": cell.evidence_level,
        "evidence_link": cell.evidence_link,
    }


def _changes(changes: Changes) -> dict[str, Any]:
    return {
        "previous_generated_at": changes.previous_generated_at,
        "previous_runtime": changes.previous_runtime,
        "status_changes": [
            {"provider": c.provider, "scenario": c.scenario, "from": c.before, "to": c.after}
            for c in changes.status_changes
        ],
        "field_changes": [
            {"provider": c.provider, "scenario": c.scenario, "appeared": list(c.appeared), "vanished": list(c.vanished)}
            for c in changes.field_changes
        ],
        "providers_added": list(changes.providers_added),
        "providers_removed": list(changes.providers_removed),
        "scenarios_added": list(changes.scenarios_added),
        "scenarios_removed": list(changes.scenarios_removed),
    }
