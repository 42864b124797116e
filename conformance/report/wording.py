"""Human-facing words and symbols, shared by the Markdown, HTML and JSON outputs.

One module so the three outputs never describe the same cell differently — above
all the evidence wording: a result recorded against the provider simulator must
never read as if the real provider had been called.
"""

from __future__ import annotations

from typing import Any

from .model import Cell, Evidence, Provider, Scenario

#: Markdown symbols (GitHub renders the emoji). The HTML page uses :data:`HTML_SYMBOLS`
#: instead because it cannot rely on an emoji font being installed.
SYMBOLS: dict[str, str] = {
    "pass": "✅",
    "fail": "❌",
    "unsupported": "➖",
    "not_applicable": "⬜",
    "not_run": "·",
}
HTML_SYMBOLS: dict[str, str] = {
    "pass": "✓",
    "fail": "✗",
    "unsupported": "–",
    "not_applicable": "",
    "not_run": "·",
}
LABELS: dict[str, str] = {
    "pass": "pass",
    "fail": "fail",
    "unsupported": "unsupported (declared in the manifest, or not in the provider's documentation; see the cell detail)",
    "not_applicable": "not applicable",
    "not_run": "not run (no result recorded)",
}
FLAG_LABELS: dict[str, str] = {
    "declared_but_failing": "declared but failing",
    "works_but_not_declared": "works but not declared",
}
GROUP_TITLES: dict[str, str] = {
    "chat": "Chat",
    "parameters": "Parameters",
    "streaming": "Streaming",
    "stats": "Usage stats",
    "tools": "Tools",
    "structured": "Structured output",
    "errors": "Error handling: errors",
    "faults": "Error handling: faults",
    "spec": "Provider spec",
    "observed": "Real traffic",
}
#: The evidence levels, as a reader should understand them.
LEVEL_LABELS: dict[str, str] = {
    "spec-checked": "spec-checked (validated against the provider's own machine-readable spec)",
    "observed": "observed (the provider's real recorded traffic shows it)",
    "documented": "simulated from documentation (the simulator serves what the docs say)",
    "assumed": "assumed (no source cited)",
}
CELL_EVIDENCE: dict[str | None, str] = {
    "simulated": "simulated (recorded against the provider simulator)",
    "live": "live (recorded against the provider's API)",
    None: "no recording (no cassette behind this result, e.g. rejected before sending)",
}
#: Evidence in lists and tables, where the legend explains the words.
SHORT_EVIDENCE: dict[str | None, str] = {"simulated": "simulated", "live": "live", None: "no recording"}
#: Beside a cell's symbol in the matrix grid when its recording came from the provider's API:
#: a live cell must be told apart from a simulated one at a glance, not only in its detail.
LIVE_MARK = "ᴸ"
LIVE_MARK_LABEL = "recorded live against the provider's API (unmarked cells: against the simulator)"


def cell_symbol(cell: Cell, symbols: dict[str, str]) -> str:
    """The grid symbol of a cell, with :data:`LIVE_MARK` when its evidence is live."""
    return symbols[cell.status] + (LIVE_MARK if cell.evidence == "live" else "")


def group_title(group: str) -> str:
    return GROUP_TITLES.get(group, group)


def provider_evidence(evidence: Evidence) -> str:
    """One line describing where a provider's results come from, e.g.
    ``"simulated (provider simulator), 12 recordings, recorded 2026-11-23; client 0.1.0"``."""
    parts: list[str] = []
    if evidence.simulated:
        parts.append(f"simulated (provider simulator), {_recordings(evidence.simulated)}")
    if evidence.live:
        parts.append(f"live (provider API), {_recordings(evidence.live)}")
    if not parts:
        return "no recordings"
    text = " + ".join(parts)
    if evidence.recorded_at:
        text += ", recorded " + _dates(evidence.recorded_at)
    if evidence.client_versions:
        text += "; client " + ", ".join(evidence.client_versions)
    return text


def evidence_kind(evidence: Evidence) -> str:
    """``simulated`` / ``live`` / ``mixed`` / ``none``: the short form used for filtering and JSON."""
    if evidence.simulated and evidence.live:
        return "mixed"
    if evidence.live:
        return "live"
    if evidence.simulated:
        return "simulated"
    return "none"


def cell_title(cell: Cell, scenario: Scenario, provider: Provider) -> str:
    """The plain-text explanation of one cell: the HTML tooltip and the detail panel's summary."""
    lines = [f"{provider.name} — {scenario.title}: {LABELS[cell.status]}"]
    if cell.detail:
        lines.append(cell.detail)
    if cell.outcome:
        lines.append(f"parameter outcome: {cell.outcome}")
    if cell.declared is not None:
        lines.append(f"manifest declares {scenario.capability or 'it'}: {'yes' if cell.declared else 'no'}")
    if cell.status not in ("not_run", "not_applicable"):
        lines.append(f"evidence: {CELL_EVIDENCE[cell.evidence]}")
    if cell.evidence_level:
        lines.append(
            f"rests on: {LEVEL_LABELS[cell.evidence_level]}"
            + (f" — {cell.evidence_link}" if cell.evidence_link else "")
        )
    for flag in cell.flags:
        lines.append(f"flag: {FLAG_LABELS[flag]}")
    return "\n".join(lines)


def _recordings(n: int) -> str:
    return f"{n} recording" + ("" if n == 1 else "s")


def _dates(dates: tuple[str, ...]) -> str:
    if len(dates) <= 3:
        return ", ".join(dates)
    return f"{dates[0]} … {dates[-1]} ({len(dates)} dates)"


def self_test_line(self_test: dict[str, Any]) -> str:
    """The mutation self-test's result in one sentence (Markdown and HTML say the same)."""
    survivors = ", ".join(self_test["survivors"])
    return (
        f"Mutation self-test: {self_test['killed']} of {self_test['mutations']} single-fact mutations killed "
        f"({self_test['kill_rate']:.0%})" + (f"; survivors: {survivors}" if survivors else "") + "."
    )
