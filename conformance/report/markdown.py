"""``capability-matrix.md``: the report as it is read on GitHub and in code review.

Tables are built with ``tabulate`` (GitHub pipe format). Everything that comes from
the results file — names, titles, failure details — goes through :func:`md_text`,
because a detail containing ``|`` would break the table and one containing ``<tag>``
would be swallowed as HTML by GitHub's renderer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from . import wording
from .drift import Changes
from .model import APPLICABLE_DEFINITION, FLAG_DECLARED_BUT_FAILING, FLAG_WORKS_BUT_NOT_DECLARED, Cell, Matrix

_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|]|(?<!\w)_|_(?!\w)")


def md_text(text: str | None) -> str:
    """Text safe to put in a Markdown paragraph or table cell: escaped, on one line.

    Underscores inside words (``not_run``, ``error_429``) are left alone: GitHub does not
    treat them as emphasis, and escaping them would make the raw file hard to read.
    """
    if not text:
        return ""
    one_line = " ".join(text.split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), one_line)


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], colalign: Sequence[str] | None = None) -> str:
    """A GitHub pipe table.

    Column widths count code points even when the optional ``wcwidth`` package is
    installed: otherwise the padding around the emoji symbols — and so the bytes of
    the report — would depend on what else happens to be installed.
    """
    import tabulate as tabulate_module  # imported here: only report building needs it

    wide, tabulate_module.WIDE_CHARS_MODE = tabulate_module.WIDE_CHARS_MODE, False
    try:
        return tabulate_module.tabulate(
            rows,
            headers=headers,
            tablefmt="github",
            disable_numparse=True,  # "0.1.0" and "12/14" are labels, not numbers
            colalign=colalign,
        )
    finally:
        tabulate_module.WIDE_CHARS_MODE = wide


def render(matrix: Matrix, changes: Changes | None = None) -> str:
    summary = matrix.summary()
    no_chat = [p for p in matrix.providers if not p.chat]
    out: list[str] = []
    add = out.append

    add(f"# Capability matrix — {md_text(matrix.runtime_label)}")
    add("")
    add(f"Generated at: {md_text(matrix.generated_at)} (taken from the results file)")
    add("")
    add(
        f"**{summary.passed} of {summary.applicable} applicable cells passed** "
        f"({len(matrix.providers)} providers, {len(no_chat)} without a chat API; "
        f"{len(matrix.scenarios)} scenarios)."
    )
    add("")
    add(f"_Definition: {md_text(APPLICABLE_DEFINITION)}._")
    add("")
    counts = ", ".join(f"{wording.SYMBOLS[s]} {n} {wording.LABELS[s]}" for s, n in summary.counts.items())
    add(f"All cells: {counts}.")
    add("")
    levels = matrix.evidence_counts()
    add(
        "Verdicts rest on: "
        + ", ".join(f"{n} {md_text(wording.LEVEL_LABELS[level])}" for level, n in levels.items())
        + " (see *What the verdicts rest on*)."
    )
    add("")
    if matrix.self_test is not None:
        add(md_text(wording.self_test_line(dict(matrix.self_test))))
        add("")

    add("## Legend")
    add("")
    add(table([[wording.SYMBOLS[s], md_text(wording.LABELS[s])] for s in wording.SYMBOLS], ["Symbol", "Meaning"]))
    add("")
    add(
        "Evidence: _simulated_ results were recorded against the provider simulator, which serves the "
        "provider's documented wire contract; no request reached the provider. _live_ results were "
        "recorded against the provider's API."
        f" In the matrix, {wording.LIVE_MARK} after a symbol: {wording.LIVE_MARK_LABEL}."
    )
    add("")

    add("## Matrix")
    add("")
    add(
        "Columns by group: "
        + "; ".join(
            f"**{md_text(wording.group_title(group))}**: " + ", ".join(md_text(s.id) for s in scenarios)
            for group, scenarios in matrix.groups()
        )
        + "."
    )
    add("")
    headers = ["Provider", *(md_text(s.id) for s in matrix.scenarios), "Passed"]
    rows = []
    for provider in matrix.providers:
        cells = [wording.cell_symbol(c, wording.SYMBOLS) for c in matrix.row(provider)]
        passed = matrix.provider_summary(provider).ratio() if provider.chat else "not applicable"
        rows.append([md_text(provider.id), *cells, passed])
    add(table(rows, headers, colalign=["left", *(["center"] * len(matrix.scenarios)), "right"]))
    add("")

    add("## Scenarios")
    add("")
    add(
        table(
            [
                [
                    md_text(s.id),
                    md_text(s.title),
                    md_text(wording.group_title(s.group)),
                    md_text(s.capability) or "—",
                    matrix.scenario_summary(s).ratio(),
                ]
                for s in matrix.scenarios
            ],
            ["Scenario", "Title", "Group", "Capability", "Passed"],
        )
    )
    add("")

    add("## Providers and evidence")
    add("")
    add(
        table(
            [
                [
                    md_text(p.id),
                    md_text(p.name),
                    md_text(p.family),
                    md_text(p.status) or "—",
                    md_text(wording.provider_evidence(p.evidence)) if p.chat else "not applicable (no chat API)",
                ]
                for p in matrix.providers
            ],
            ["Provider", "Name", "Family", "Status", "Evidence"],
        )
    )
    add("")

    add("## What the verdicts rest on")
    add("")
    add(
        "Each judged cell carries the evidence its verdict rests on (the cell detail links it): the provider's "
        "own spec, its real recorded traffic, its documentation only (the simulator serves what the docs say), "
        "or nothing (assumed)."
        + (
            " The provider-facts page (`provider-facts.md`) lists the facts themselves."
            if matrix.provider_facts
            else ""
        )
    )
    add("")
    level_rows = []
    for p in matrix.providers:
        if p.chat:
            counts_ = matrix.evidence_counts(matrix.row(p))
            level_rows.append([md_text(p.id), *(str(n) for n in counts_.values())])
    add(table(level_rows, ["Provider", *wording.LEVEL_LABELS], colalign=["left", "right", "right", "right", "right"]))
    add("")

    if no_chat:
        add("## Providers without a chat API")
        add("")
        for p in no_chat:
            add(f"- **{md_text(p.id)}** ({md_text(p.name)}): {md_text(p.chat_reason) or 'no reason given'}")
        add("")

    failures = matrix.failures()
    add(f"## Failures ({len(failures)})")
    add("")
    add(_cell_table(matrix, failures))
    add("")

    add("## Declared vs observed")
    add("")
    add("Cells where the manifest's declaration and the observed result disagree.")
    add("")
    for flag, title in (
        (FLAG_DECLARED_BUT_FAILING, "Declared but failing"),
        (FLAG_WORKS_BUT_NOT_DECLARED, "Works but not declared"),
    ):
        flagged = matrix.flagged(flag)
        add(f"### {title} ({len(flagged)})")
        add("")
        add(_cell_table(matrix, flagged))
        add("")

    if changes is not None:
        out.extend(_changes(changes))

    return "\n".join(out).rstrip("\n") + "\n"


def _cell_table(matrix: Matrix, cells: list[Cell]) -> str:
    """Listed cells with their detail; evidence in its short form, explained in the legend."""
    if not cells:
        return "None."
    scenarios = matrix.scenario_by_id()
    return table(
        [
            [
                md_text(c.provider),
                md_text(c.scenario),
                md_text(scenarios[c.scenario].title),
                md_text(c.outcome) or "—",
                wording.SHORT_EVIDENCE[c.evidence],
                md_text(c.detail) or "—",
            ]
            for c in cells
        ],
        ["Provider", "Scenario", "Title", "Outcome", "Evidence", "Detail"],
    )


def _changes(changes: Changes) -> list[str]:
    out = ["## Changes since previous report", ""]
    out.append(
        f"Compared with the report for {md_text(changes.previous_runtime)} "
        f"generated at {md_text(changes.previous_generated_at)}."
    )
    out.append("")
    if changes.empty:
        out += ["No changes.", ""]
        return out
    for label, items in (
        ("Providers added", changes.providers_added),
        ("Providers removed", changes.providers_removed),
        ("Scenarios added", changes.scenarios_added),
        ("Scenarios removed", changes.scenarios_removed),
    ):
        if items:
            out += [f"{label}: " + ", ".join(md_text(i) for i in items) + ".", ""]
    out += [f"### Status changes ({len(changes.status_changes)})", ""]
    if changes.status_changes:
        out.append(
            table(
                [
                    [
                        md_text(c.provider),
                        md_text(c.scenario),
                        f"{wording.SYMBOLS[c.before]} {c.before}",
                        f"{wording.SYMBOLS[c.after]} {c.after}",
                    ]
                    for c in changes.status_changes
                ],
                ["Provider", "Scenario", "From", "To"],
            )
        )
    else:
        out.append("None.")
    out += ["", f"### Response fields ({len(changes.field_changes)})", ""]
    if changes.field_changes:
        out.append(
            table(
                [
                    [
                        md_text(c.provider),
                        md_text(c.scenario),
                        ", ".join(md_text(f) for f in c.appeared) or "—",
                        ", ".join(md_text(f) for f in c.vanished) or "—",
                    ]
                    for c in changes.field_changes
                ],
                ["Provider", "Scenario", "Appeared", "Vanished"],
            )
        )
    else:
        out.append("None.")
    out.append("")
    return out
