"""``provider-facts.md`` / ``.html``: the view people compare providers by.

One row per provider with the facts themselves (max-tokens parameter name, temperature and
top_p ranges, stop limit, stream usage, done marker, reasoning field, error body shape,
default model and whether it is still served), each with its evidence level and source.
"""

from __future__ import annotations

from typing import Any

from ..evidence.provider_facts import FACT_NAMES as FACTS
from .html import esc, page
from .markdown import md_text, table
from .model import Matrix

_BADGE = {"spec-checked": "S", "observed": "O", "documented": "D", "assumed": "A"}
LEGEND = (
    "Evidence: **S** spec-checked (the provider's own machine-readable spec), **O** observed in real "
    "recorded traffic, **D** documentation only, **A** assumed (no source). Sources are listed per "
    "provider below the table."
)


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(_BADGE, 0)
    for row in rows:
        for key, _ in FACTS:
            level = (row.get(key) or {}).get("level")
            if level in counts:
                counts[level] += 1
    return counts


def render_markdown(matrix: Matrix) -> str:
    rows = list(matrix.provider_facts)
    out = [
        f"# Provider facts — {md_text(matrix.runtime_label)}",
        "",
        f"Generated at: {md_text(matrix.generated_at)}",
        "",
    ]
    counts = _counts(rows)
    out += [LEGEND, "", "Facts by evidence: " + ", ".join(f"{n} {level}" for level, n in counts.items()) + ".", ""]
    body = []
    for row in rows:
        cells = [md_text(row["id"])]
        for key, _ in FACTS:
            fact = row.get(key) or {}
            cells.append(f"{md_text(str(fact.get('value')))} ({_BADGE.get(fact.get('level'), '?')})")
        body.append(cells)
    out += [table(body, ["Provider", *(title for _, title in FACTS)]), ""]
    out += ["## Sources", ""]
    for row in rows:
        out.append(f"### {md_text(row['id'])}")
        out.append("")
        for key, title in FACTS:
            fact = row.get(key) or {}
            out.append(f"- {title}: {fact.get('level')} — {md_text(fact.get('source') or 'no source')}")
        out.append("")
    return "\n".join(out)


def render_html(matrix: Matrix) -> str:
    rows = list(matrix.provider_facts)
    head = "".join(f"<th>{esc(title)}</th>" for _, title in FACTS)
    body = []
    for row in rows:
        tds = []
        for key, _ in FACTS:
            fact = row.get(key) or {}
            level = fact.get("level") or "assumed"
            tds.append(
                f'<td class="lv-{esc(level)}" title="{esc(level)}: {esc(fact.get("source") or "no source")}">'
                f"{esc(fact.get('value'))} <small>{_BADGE.get(level, '?')}</small></td>"
            )
        body.append(f'<tr><th scope="row">{esc(row["id"])}</th>{"".join(tds)}</tr>')
    counts = _counts(rows)
    html_body = (
        f"<h1>Provider facts — {esc(matrix.runtime_label)}</h1>"
        f"<p>Generated at {esc(matrix.generated_at)}. Evidence: S spec-checked, O observed in real traffic, "
        "D documentation only, A assumed. Hover a fact for its source.</p>"
        f"<p>Facts by evidence: {esc(', '.join(f'{n} {lv}' for lv, n in counts.items()))}.</p>"
        f'<table class="plain" id="provider-facts"><thead><tr><th>Provider</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    css = (
        "td.lv-spec-checked{background:#e3f4e3}td.lv-observed{background:#e6effb}"
        "td.lv-documented{background:#fbf6e0}td.lv-assumed{background:#f8e1e1}"
    )
    return page(f"Provider facts — {matrix.runtime_label}", html_body, css)
