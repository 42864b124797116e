"""What changed since a previous report: cell statuses and the response fields providers send.

The comparison reads the previous run's ``capability-matrix.json`` (the builder's own
output, not the raw results file) because that is the artefact that gets published
and kept: one file per release is enough to diff against.

Response-field drift is only reported for cells that have a recorded response in
both runs. A cell that failed before sending, or a new scenario, has no fields to
compare, and calling all of its fields "appeared" would bury the real signal: a
provider adding or removing a top-level key in a response it already sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import Matrix, ResultsError, load_schema

REPORT_KIND = "ailib-capability-matrix"
REPORT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class StatusChange:
    provider: str
    scenario: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class FieldChange:
    provider: str
    scenario: str
    appeared: tuple[str, ...]
    vanished: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Changes:
    previous_generated_at: str
    previous_runtime: str
    status_changes: tuple[StatusChange, ...]
    field_changes: tuple[FieldChange, ...]
    providers_added: tuple[str, ...]
    providers_removed: tuple[str, ...]
    scenarios_added: tuple[str, ...]
    scenarios_removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (
            self.status_changes
            or self.field_changes
            or self.providers_added
            or self.providers_removed
            or self.scenarios_added
            or self.scenarios_removed
        )


def load_previous(path: str | Path) -> dict[str, Any]:
    """Read a previous ``capability-matrix.json`` and check it is one (same kind and format)."""
    import jsonschema

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: previous report not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read previous report: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != REPORT_KIND:
        raise ResultsError(
            f"{path}: not a capability-matrix.json report (pass the previous report's "
            "capability-matrix.json, not a raw results file)"
        )
    if data.get("format") != REPORT_FORMAT:
        raise ResultsError(f"{path}: report format {data.get('format')!r} is not supported (expected {REPORT_FORMAT})")
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(load_schema("capability-matrix.schema.json")).iter_errors(data)
    )
    if error is not None:
        where = "/".join(map(str, error.absolute_path))
        raise ResultsError(f"{path}: previous report does not match its schema at /{where}: {error.message}")
    return data


def compare(matrix: Matrix, previous: dict[str, Any]) -> Changes:
    """Differences between ``matrix`` and a previous report, in display order."""
    before = {(c["provider"], c["scenario"]): c for c in previous["cells"]}
    prev_providers = [p["id"] for p in previous["providers"]]
    prev_scenarios = [s["id"] for s in previous["scenarios"]]
    providers = [p.id for p in matrix.providers]
    scenarios = [s.id for s in matrix.scenarios]

    status_changes: list[StatusChange] = []
    field_changes: list[FieldChange] = []
    for cell in matrix.all_cells():
        old = before.get((cell.provider, cell.scenario))
        if old is None:
            continue
        if old["status"] != cell.status:
            status_changes.append(StatusChange(cell.provider, cell.scenario, old["status"], cell.status))
        if old["response_fields"] is not None and cell.response_fields is not None:
            old_fields, new_fields = set(old["response_fields"]), set(cell.response_fields)
            if old_fields != new_fields:
                field_changes.append(
                    FieldChange(
                        cell.provider,
                        cell.scenario,
                        appeared=tuple(sorted(new_fields - old_fields)),
                        vanished=tuple(sorted(old_fields - new_fields)),
                    )
                )

    runtime = previous["runtime"]
    return Changes(
        previous_generated_at=previous["generated_at"],
        previous_runtime=f"{runtime['name']} {runtime['version']}".strip(),
        status_changes=tuple(status_changes),
        field_changes=tuple(field_changes),
        providers_added=tuple(p for p in providers if p not in prev_providers),
        providers_removed=tuple(p for p in prev_providers if p not in providers),
        scenarios_added=tuple(s for s in scenarios if s not in prev_scenarios),
        scenarios_removed=tuple(s for s in prev_scenarios if s not in scenarios),
    )
