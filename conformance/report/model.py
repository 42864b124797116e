"""Load a conformance results file, check it, and compute what every report shows.

The pytest plugin writes a results file (format 1, described by
``schema/results.schema.json``); every output of the report builder (Markdown,
JSON, HTML, drift, runtime comparison) is derived from the :class:`Matrix` built
here. Keeping the counting and flagging in one place is what guarantees that the
numbers in ``capability-matrix.md`` and ``capability-matrix.json`` can never
disagree.

Validation is strict on purpose: a report that silently drops a malformed cell
would look better than the run was. Unknown *extra* keys are accepted so the plugin
can grow; unknown *groups* are accepted and rendered after the known ones.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Column groups in display order. ``errors`` and ``faults`` are the error-handling columns.
GROUPS: tuple[str, ...] = (
    "chat",
    "parameters",
    "streaming",
    "stats",
    "tools",
    "structured",
    "errors",
    "faults",
    "spec",
    "observed",
)
ERROR_HANDLING_GROUPS: frozenset[str] = frozenset({"errors", "faults"})

#: Cell statuses the plugin writes, plus ``not_run`` for a provider x scenario pair with no cell.
STATUSES: tuple[str, ...] = ("pass", "fail", "unsupported", "not_applicable", "not_run")

#: Statuses that do not count towards "applicable": the scenario cannot or need not run
#: for this provider. ``not_run`` *is* applicable: a missing result must not raise the pass rate.
NOT_APPLICABLE_STATUSES: frozenset[str] = frozenset({"not_applicable", "unsupported"})

APPLICABLE_DEFINITION = (
    "applicable = every provider x scenario cell except those that are not applicable "
    "or unsupported (declared unsupported in the provider's manifest, or not in its documentation); "
    "cells that were not run count as applicable and not passed"
)

#: Flags raised when the manifest's declaration and the observed result disagree.
FLAG_DECLARED_BUT_FAILING = "declared_but_failing"
FLAG_WORKS_BUT_NOT_DECLARED = "works_but_not_declared"
FLAGS: tuple[str, ...] = (FLAG_DECLARED_BUT_FAILING, FLAG_WORKS_BUT_NOT_DECLARED)

RESULTS_FORMAT = 1

#: What a verdict rests on, strongest first: the provider's own spec, real recorded traffic,
#: documentation only (simulated from it), or nothing (assumed).
EVIDENCE_LEVELS: tuple[str, ...] = ("spec-checked", "observed", "documented", "assumed")


class ResultsError(ValueError):
    """The results file is missing, unreadable, or does not follow format 1."""


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    group: str
    capability: str | None

    @property
    def error_handling(self) -> bool:
        return self.group in ERROR_HANDLING_GROUPS


@dataclass(frozen=True, slots=True)
class Evidence:
    """How a provider's results were obtained: recordings against the simulator or the live API."""

    simulated: int
    live: int
    recorded_at: tuple[str, ...]
    client_versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    family: str
    docs_url: str | None
    status: str | None
    chat: bool
    chat_reason: str | None
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Cell:
    """One provider x scenario result; ``status == "not_run"`` when the results had no cell."""

    provider: str
    scenario: str
    status: str
    declared: bool | None = None
    evidence: str | None = None
    outcome: str | None = None
    detail: str | None = None
    response_fields: tuple[str, ...] | None = None
    evidence_level: str | None = None
    evidence_link: str | None = None

    @property
    def applicable(self) -> bool:
        return self.status not in NOT_APPLICABLE_STATUSES

    @property
    def flags(self) -> tuple[str, ...]:
        """Mismatches between the manifest's declaration and what was observed."""
        if self.declared is True and self.status == "fail":
            return (FLAG_DECLARED_BUT_FAILING,)
        if self.declared is False and self.status == "pass":
            return (FLAG_WORKS_BUT_NOT_DECLARED,)
        return ()


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts per status over some set of cells, and the applicable/passed pair derived from them."""

    counts: Mapping[str, int]

    @classmethod
    def of(cls, cells: Iterable[Cell]) -> Summary:
        counter = Counter(cell.status for cell in cells)
        return cls({status: counter.get(status, 0) for status in STATUSES})

    @property
    def passed(self) -> int:
        return self.counts["pass"]

    @property
    def failed(self) -> int:
        return self.counts["fail"]

    @property
    def applicable(self) -> int:
        return sum(n for status, n in self.counts.items() if status not in NOT_APPLICABLE_STATUSES)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def ratio(self) -> str:
        """``"passed/applicable"``, the compact form used in tables."""
        return f"{self.passed}/{self.applicable}"


@dataclass(frozen=True, slots=True)
class Matrix:
    """A validated results file, with providers sorted by id and scenarios in column order."""

    runtime: str
    runtime_version: str
    generated_at: str
    scenarios: tuple[Scenario, ...]
    providers: tuple[Provider, ...]
    cells: Mapping[tuple[str, str], Cell] = field(repr=False)
    source: str | None = None
    provider_facts: tuple[Mapping[str, Any], ...] = ()
    self_test: Mapping[str, Any] | None = None

    @property
    def runtime_label(self) -> str:
        return f"{self.runtime} {self.runtime_version}".strip()

    def cell(self, provider: str, scenario: str) -> Cell:
        return self.cells[(provider, scenario)]

    def row(self, provider: Provider) -> list[Cell]:
        return [self.cells[(provider.id, s.id)] for s in self.scenarios]

    def column(self, scenario: Scenario) -> list[Cell]:
        return [self.cells[(p.id, scenario.id)] for p in self.providers]

    def all_cells(self) -> list[Cell]:
        """Every provider x scenario pair, row by row, in display order."""
        return [c for p in self.providers for c in self.row(p)]

    def groups(self) -> list[tuple[str, list[Scenario]]]:
        """Consecutive column groups, in display order."""
        out: list[tuple[str, list[Scenario]]] = []
        for scenario in self.scenarios:
            if out and out[-1][0] == scenario.group:
                out[-1][1].append(scenario)
            else:
                out.append((scenario.group, [scenario]))
        return out

    def summary(self) -> Summary:
        return Summary.of(self.all_cells())

    def provider_summary(self, provider: Provider) -> Summary:
        return Summary.of(self.row(provider))

    def scenario_summary(self, scenario: Scenario) -> Summary:
        return Summary.of(self.column(scenario))

    def failures(self) -> list[Cell]:
        return [c for c in self.all_cells() if c.status == "fail"]

    def flagged(self, flag: str) -> list[Cell]:
        return [c for c in self.all_cells() if flag in c.flags]

    def evidence_counts(self, cells: Iterable[Cell] | None = None) -> dict[str, int]:
        """How many judged cells rest on each evidence level (cells without a level: not counted)."""
        counter = Counter(c.evidence_level for c in (self.all_cells() if cells is None else cells))
        return {level: counter.get(level, 0) for level in EVIDENCE_LEVELS}

    def families(self) -> list[str]:
        return sorted({p.family for p in self.providers})

    def scenario_by_id(self) -> dict[str, Scenario]:
        return {s.id: s for s in self.scenarios}


def load(path: str | Path) -> Matrix:
    """Read and validate a results file; raise :class:`ResultsError` saying what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: results file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read results file: {exc}") from None
    return from_dict(data, source=str(path))


def from_dict(data: Any, source: str | None = None) -> Matrix:
    """Validate an already-parsed results document and build the :class:`Matrix`."""
    where = f"{source}: " if source else ""
    _validate_schema(data, where)

    scenarios = [
        Scenario(id=s["id"], title=s["title"], group=s["group"], capability=s["capability"]) for s in data["scenarios"]
    ]
    _unique((s.id for s in scenarios), "scenario", where)
    scenarios = _column_order(scenarios)

    providers = sorted(
        (
            Provider(
                id=p["id"],
                name=p["name"],
                family=p["family"],
                docs_url=p["docs_url"],
                status=p["status"],
                chat=p["chat"],
                chat_reason=p["chat_reason"],
                evidence=Evidence(
                    simulated=p["evidence"]["simulated"],
                    live=p["evidence"]["live"],
                    recorded_at=tuple(sorted(set(p["evidence"]["recorded_at"]))),
                    client_versions=tuple(sorted(set(p["evidence"]["client_versions"]))),
                ),
            )
            for p in data["providers"]
        ),
        key=lambda p: p.id,
    )
    _unique((p.id for p in providers), "provider", where)

    provider_ids = {p.id: p for p in providers}
    scenario_ids = {s.id for s in scenarios}
    cells: dict[tuple[str, str], Cell] = {}
    for index, raw in enumerate(data["cells"]):
        key = (raw["provider"], raw["scenario"])
        if raw["provider"] not in provider_ids:
            raise ResultsError(f"{where}cells[{index}]: unknown provider {raw['provider']!r}")
        if raw["scenario"] not in scenario_ids:
            raise ResultsError(f"{where}cells[{index}]: unknown scenario {raw['scenario']!r}")
        if key in cells:
            raise ResultsError(f"{where}cells[{index}]: duplicate cell for {key[0]} x {key[1]}")
        if not provider_ids[raw["provider"]].chat and raw["status"] != "not_applicable":
            raise ResultsError(
                f"{where}cells[{index}]: provider {raw['provider']!r} has no chat API, "
                f"so its cells must be not_applicable, not {raw['status']!r}"
            )
        fields = raw["response_fields"]
        cells[key] = Cell(
            provider=raw["provider"],
            scenario=raw["scenario"],
            status=raw["status"],
            declared=raw["declared"],
            evidence=raw["evidence"],
            outcome=raw["outcome"],
            detail=raw["detail"],
            response_fields=None if fields is None else tuple(sorted(set(fields))),
            evidence_level=raw.get("evidence_level"),
            evidence_link=raw.get("evidence_link"),
        )

    # Fill the gaps so every consumer can index the full grid. A provider without chat
    # is not applicable everywhere whether or not the plugin wrote its cells.
    for provider in providers:
        for scenario in scenarios:
            key = (provider.id, scenario.id)
            if key not in cells:
                status = "not_run" if provider.chat else "not_applicable"
                detail = None if provider.chat else provider.chat_reason
                cells[key] = Cell(provider=provider.id, scenario=scenario.id, status=status, detail=detail)

    return Matrix(
        runtime=data["runtime"],
        runtime_version=data["runtime_version"],
        generated_at=data["generated_at"],
        scenarios=tuple(scenarios),
        providers=tuple(providers),
        cells=cells,
        source=source,
        provider_facts=tuple(data.get("provider_facts") or ()),
        self_test=data.get("self_test"),
    )


def _validate_schema(data: Any, where: str) -> None:
    import jsonschema  # imported here: only report building needs it

    if isinstance(data, dict) and data.get("format") not in (None, RESULTS_FORMAT):
        raise ResultsError(
            f"{where}results format {data.get('format')!r} is not supported (this builder reads format {RESULTS_FORMAT})"
        )
    validator = jsonschema.Draft202012Validator(load_schema("results.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise ResultsError(f"{where}not a valid results file (format {RESULTS_FORMAT}):\n" + "\n".join(lines) + more)


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped inside this package (``schema/<name>``)."""
    from importlib.resources import files

    return json.loads(files(__package__).joinpath("schema", name).read_text(encoding="utf-8"))


def _unique(ids: Iterable[str], what: str, where: str) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise ResultsError(f"{where}duplicate {what} id {ident!r}")
        seen.add(ident)


def _column_order(scenarios: list[Scenario]) -> list[Scenario]:
    """Known groups in :data:`GROUPS` order, unknown ones after; input order within a group."""
    first_seen: dict[str, int] = {}
    for index, scenario in enumerate(scenarios):
        first_seen.setdefault(scenario.group, index)

    def group_rank(group: str) -> tuple[int, int]:
        return (GROUPS.index(group), 0) if group in GROUPS else (len(GROUPS), first_seen[group])

    return sorted(scenarios, key=lambda s: group_rank(s.group))  # sorted() is stable: keeps input order
