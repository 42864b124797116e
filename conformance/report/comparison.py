"""``comparison.md`` / ``comparison.html``: the same suite run against several runtimes.

Each results file comes from one runtime (ailib or another client run through the
same conformance suite). The comparison shows, per provider, "passed/applicable"
for every runtime, so a gap is visible at a glance, and adds a note where a runtime
could not use a provider at all.

How a load failure is recognised: the results format has no dedicated field for it,
so the plugin marks every cell of a provider the runtime could not load as ``fail``
with the reason in ``detail``. A provider with failures and no pass at all is
reported in the notes with its distinct failure details (one detail shared by every
failed cell is the load-failure signature and is worded as such).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import model
from .diagnosis import Group, diagnose
from .html import esc, page
from .markdown import md_text, table
from .model import Matrix


@dataclass(frozen=True, slots=True)
class Note:
    runtime: str
    provider: str
    text: str


#: column titles for runtimes whose name alone would not say what was judged
RUNTIME_LABELS = {
    "ai-lib-python": "ai-lib-python (ours)",  # on manifests generated from ours
    "ai-lib-python-upstream": "ai-lib-python (upstream)",  # on upstream's AI-Protocol manifests
}
#: diagnosis groups shown per runtime
DIAGNOSIS_LIMIT = 12


@dataclass(frozen=True, slots=True)
class Comparison:
    runtimes: tuple[str, ...]
    matrices: tuple[Matrix, ...]
    providers: tuple[str, ...]
    notes: tuple[Note, ...]
    diagnoses: tuple[tuple[Group, ...], ...] = ()

    def cell(self, provider: str, index: int) -> tuple[str, str]:
        """``(text, css class)`` for one provider x runtime cell."""
        matrix = self.matrices[index]
        found = [p for p in matrix.providers if p.id == provider]
        if not found:
            return "—", "absent"
        if not found[0].chat:
            return "n/a", "na"
        summary = matrix.provider_summary(found[0])
        if summary.applicable == 0:
            return summary.ratio(), "na"
        if summary.passed == summary.applicable:
            return summary.ratio(), "full"
        if summary.passed == 0:
            return summary.ratio(), "none"
        return summary.ratio(), "partial"


def compare(matrices: Sequence[Matrix]) -> Comparison:
    if not matrices:
        raise model.ResultsError("compare needs at least one results file")
    labels: list[str] = []
    for m in matrices:
        base = m.runtime_label.replace(m.runtime, RUNTIME_LABELS.get(m.runtime, m.runtime), 1)
        label, n = base, 2
        while label in labels:  # two runs of the same runtime stay distinguishable
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    providers = sorted({p.id for m in matrices for p in m.providers})
    notes: list[Note] = []
    for provider in providers:
        for label, m in zip(labels, matrices, strict=True):
            found = [p for p in m.providers if p.id == provider]
            if not found or not found[0].chat:
                continue
            summary = m.provider_summary(found[0])
            if summary.passed or not summary.failed:
                continue
            details = Counter(c.detail or "no detail given" for c in m.row(found[0]) if c.status == "fail")
            if len(details) == 1:
                (detail,) = details
                text = f"could not use the provider (all {summary.failed} run cells failed): {detail}"
            else:
                shown = "; ".join(d for d, _ in sorted(details.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
                text = f"no scenario passed ({summary.failed} failed): {shown}"
            notes.append(Note(label, provider, text))
    diagnoses = tuple(tuple(diagnose(_cell_dicts(m))) for m in matrices)
    return Comparison(tuple(labels), tuple(matrices), tuple(providers), tuple(notes), diagnoses)


def _cell_dicts(matrix: Matrix) -> list[dict[str, str | None]]:
    return [
        {"provider": c.provider, "scenario": c.scenario, "status": c.status, "detail": c.detail}
        for c in matrix.cells.values()
    ]


def _diagnosis_lines(comparison: Comparison, index: int) -> list[tuple[str, str]]:
    """``(label with counts, example)`` for one runtime's biggest failure groups."""
    groups = comparison.diagnoses[index] if comparison.diagnoses else ()
    out = []
    for g in groups[:DIAGNOSIS_LIMIT]:
        n = len(g.providers)
        kind = "" if g.cause.root else " (consequence)"
        out.append((f"{g.cause.label}{kind}: {len(g.cells)} cells, {n} provider{'s' if n != 1 else ''}", g.example))
    if len(groups) > DIAGNOSIS_LIMIT:
        rest = sum(len(g.cells) for g in groups[DIAGNOSIS_LIMIT:])
        out.append((f"{len(groups) - DIAGNOSIS_LIMIT} more causes: {rest} cells", ""))
    return out


def render_markdown(comparison: Comparison) -> str:
    out = ["# Runtime comparison", ""]
    out.append(
        "Results: "
        + "; ".join(
            f"{md_text(label)} generated at {md_text(m.generated_at)}"
            for label, m in zip(comparison.runtimes, comparison.matrices, strict=True)
        )
        + "."
    )
    out += [
        "",
        (
            f"Each cell is passed/applicable for that runtime ({md_text(model.APPLICABLE_DEFINITION)}). "
            "n/a: the provider has no chat API; —: the provider is not in that runtime's results."
        ),
        "",
    ]
    headers = ["Provider", *(md_text(r) for r in comparison.runtimes)]
    rows = []
    for provider in comparison.providers:
        row = [md_text(provider)]
        for index in range(len(comparison.runtimes)):
            text, _ = comparison.cell(provider, index)
            flagged = any(n.provider == provider and n.runtime == comparison.runtimes[index] for n in comparison.notes)
            row.append(text + (" ⚠" if flagged else ""))
        rows.append(row)
    rows.append(["**total**", *(f"**{m.summary().ratio()}**" for m in comparison.matrices)])
    out.append(table(rows, headers, colalign=["left", *(["right"] * len(comparison.runtimes))]))
    out += ["", "## Diagnosis: failures by cause", ""]
    out.append(
        "A failed cell counts under each cause found in it (a request replay could not answer counts only when "
        "nothing in the request explains it), so one bug does not hide the rest."
    )
    for index, label in enumerate(comparison.runtimes):
        out += ["", f"### {md_text(label)}", ""]
        lines = _diagnosis_lines(comparison, index)
        out += [
            f"- {md_text(text)}" + (f" (e.g. {md_text(example[:160])})" if example else "") for text, example in lines
        ]
        if not lines:
            out.append("No failures.")
    out += ["", f"## Notes ({len(comparison.notes)})", ""]
    if not comparison.notes:
        out.append("None.")
    for note in comparison.notes:
        out.append(f"- ⚠ **{md_text(note.runtime)}** × **{md_text(note.provider)}**: {md_text(note.text)}")
    return "\n".join(out) + "\n"


COMPARISON_CSS = """
.cmp td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cmp td.full { background: var(--pass); color: var(--pass-ink); }
.cmp td.partial { background: #fbeccb; color: #6b4a00; }
.cmp td.none { background: var(--fail); color: var(--fail-ink); font-weight: 700; }
.cmp td.na { background: repeating-linear-gradient(135deg, var(--na-a) 0 5px, var(--na-b) 5px 10px); color: var(--muted); }
.cmp td.absent { color: var(--muted); }
.cmp thead th { position: sticky; top: 0; }
.cmp tfoot td { font-weight: 700; background: var(--head); }
"""


def render_html(comparison: Comparison) -> str:
    body = ["<h1>Runtime comparison</h1>"]
    body.append(
        '<p class="generated">Results: '
        + "; ".join(
            f"{esc(label)} generated at {esc(m.generated_at)}"
            for label, m in zip(comparison.runtimes, comparison.matrices, strict=True)
        )
        + ".</p>"
    )
    body.append(
        f"<p>Each cell is passed/applicable for that runtime ({esc(model.APPLICABLE_DEFINITION)}). "
        "n/a: the provider has no chat API; —: the provider is not in that runtime's results.</p>"
    )
    body.append('<table class="plain cmp" id="comparison"><thead><tr><th>Provider</th>')
    body.extend(f"<th>{esc(r)}</th>" for r in comparison.runtimes)
    body.append("</tr></thead><tbody>")
    notes = {(n.provider, n.runtime): n.text for n in comparison.notes}
    for provider in comparison.providers:
        cells = []
        for index, runtime in enumerate(comparison.runtimes):
            text, css = comparison.cell(provider, index)
            note = notes.get((provider, runtime))
            title = f' title="{esc(note)}"' if note else ""
            cells.append(f'<td class="num {css}"{title}>{esc(text)}{" ⚠" if note else ""}</td>')
        body.append(f'<tr><th scope="row">{esc(provider)}</th>{"".join(cells)}</tr>')
    body.append("</tbody><tfoot><tr><td>total</td>")
    body.extend(f'<td class="num">{m.summary().ratio()}</td>' for m in comparison.matrices)
    body.append("</tr></tfoot></table>")
    body.append("<h2>Diagnosis: failures by cause</h2>")
    body.append(
        "<p>A failed cell counts under each cause found in it (a request replay could not answer counts only "
        "when nothing in the request explains it), so one bug does not hide the rest.</p>"
    )
    for index, label in enumerate(comparison.runtimes):
        body.append(f"<h3>{esc(label)}</h3>")
        lines = _diagnosis_lines(comparison, index)
        if not lines:
            body.append("<p>No failures.</p>")
            continue
        body.append('<ul class="diagnosis">')
        body.extend(f'<li title="{esc(example)}">{esc(text)}</li>' for text, example in lines)
        body.append("</ul>")
    body.append(f"<h2>Notes ({len(comparison.notes)})</h2>")
    if comparison.notes:
        body.append("<ul>")
        body.extend(
            f"<li>⚠ <strong>{esc(n.runtime)}</strong> × <strong>{esc(n.provider)}</strong>: {esc(n.text)}</li>"
            for n in comparison.notes
        )
        body.append("</ul>")
    else:
        body.append("<p>None.</p>")
    return page("Runtime comparison", "\n".join(body), COMPARISON_CSS)


def write(results: Sequence[str | Path | Matrix], out_dir: str | Path) -> list[Path]:
    matrices = [r if isinstance(r, Matrix) else model.load(r) for r in results]
    comparison = compare(matrices)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "comparison.md", out / "comparison.html"]
    paths[0].write_text(render_markdown(comparison), encoding="utf-8")
    paths[1].write_text(render_html(comparison), encoding="utf-8")
    return paths
