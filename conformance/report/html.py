"""``capability-matrix.html``: one self-contained page for browsing the matrix.

Self-contained means no network at all — inline CSS and JS, system fonts, no CDN —
so the file can be attached to a CI run or opened from disk years later.

Safety: every piece of text from the results file is escaped with :func:`esc`, which
covers both element content and attribute values; the script reads cell data from
``data-*`` attributes and writes it with ``textContent``, so a failure detail that
contains ``<script>`` is shown, never run. Links are only made for http(s) URLs.

The filters operate on the rendered table and mirror their state in the URL fragment
(``#status=fail&family=openai-chat``), so a filtered view can be linked to — and so
the browser test can check the script with a plain ``chromium --dump-dom``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from . import wording
from .drift import Changes
from .model import (
    APPLICABLE_DEFINITION,
    FLAG_DECLARED_BUT_FAILING,
    FLAG_WORKS_BUT_NOT_DECLARED,
    FLAGS,
    STATUSES,
    Cell,
    Matrix,
    Provider,
    Scenario,
)


def esc(text: object) -> str:
    """Escape for HTML text *and* double- or single-quoted attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


def link(url: str | None, text: str) -> str:
    """An anchor for http(s) URLs only: a ``javascript:`` docs URL must not become clickable."""
    if url and url.lower().startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)


BASE_CSS = """
:root { --pass:#cdebd0; --pass-ink:#1b5e20; --fail:#f9d0d0; --fail-ink:#a4000f; --unsup:#e4e4e8; --unsup-ink:#555;
        --na-a:#f4f4f4; --na-b:#e9e9e9; --ink:#1d1d1f; --muted:#5f6368; --line:#d0d4da; --head:#f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem 1.25rem 4rem; color: var(--ink); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
.generated { color: var(--muted); margin: 0 0 .5rem; }
.summary { font-size: 1.05rem; margin: .25rem 0; } .definition { color: var(--muted); margin: 0 0 1rem; }
table { border-collapse: separate; border-spacing: 0; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); }
.plain { border-top: 1px solid var(--line); border-left: 1px solid var(--line); }
.plain th, .plain td { padding: .3rem .55rem; text-align: left; vertical-align: top; }
.plain thead th { background: var(--head); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: .92em; }
ul.cells { padding-left: 1.25rem; } ul.cells li { margin: .2rem 0; }
.muted { color: var(--muted); }
"""

MATRIX_CSS = """
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; margin: .75rem 0;
            padding: .5rem .75rem; background: var(--head); border: 1px solid var(--line); border-radius: 6px; }
.controls label { font-weight: 600; } .controls select { margin-left: .35rem; font: inherit; }
#shown { color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: .35rem .9rem; align-items: center; margin: 0; padding: 0; list-style: none; }
.legend .swatch { display: inline-block; min-width: 1.6em; text-align: center; margin-right: .3rem;
                  border: 1px solid var(--line); border-radius: 3px; padding: 0 .2em; }
.matrix-wrap { width: fit-content; max-width: 100%; overflow: auto; max-height: calc(100vh - 1rem); border: 1px solid var(--line); border-radius: 6px; }
#matrix thead { position: sticky; top: 0; z-index: 3; }
#matrix thead th { background: var(--head); font-weight: 600; }
#matrix thead tr.groups th { padding: .25rem .3rem; font-size: .85em; line-height: 1.2; vertical-align: bottom; }
#matrix thead tr.scenarios th { padding: .4rem .15rem; vertical-align: bottom; }
#matrix thead tr.scenarios th span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap;
                                     display: inline-block; max-height: 14rem; overflow: hidden; text-overflow: ellipsis; }
#matrix thead th.corner { position: sticky; left: 0; z-index: 4; text-align: left; min-width: 11rem; vertical-align: bottom; }
#matrix thead th.group-errors, #matrix thead th.group-faults { background: #f8eee4; }
#matrix tbody th { position: sticky; left: 0; z-index: 1; background: #fff; text-align: left; font-weight: 600;
                   padding: .15rem .5rem; white-space: nowrap; }
#matrix tbody th small { display: block; font-weight: 400; color: var(--muted); font-size: .78em; }
#matrix tbody tr:hover th, #matrix tbody tr:hover td.ratio { background: #eef3fb; }
#matrix td.cell { width: 2.2rem; min-width: 2.2rem; text-align: center; cursor: pointer; font-weight: 700; padding: .15rem .2rem; }
#matrix td.ratio { text-align: right; padding: 0 .5rem; white-space: nowrap; font-variant-numeric: tabular-nums; }
#matrix td.group-start, #matrix th.group-start { border-left: 2px solid #9aa3ad; }
.s-pass { background: var(--pass); color: var(--pass-ink); }
.s-fail { background: var(--fail); color: var(--fail-ink); }
.s-unsupported { background: var(--unsup); color: var(--unsup-ink); }
.s-not_applicable { background: repeating-linear-gradient(135deg, var(--na-a) 0 5px, var(--na-b) 5px 10px); color: var(--muted); }
.s-not_run { background: #fff; color: #999; }
td.na-row { text-align: left !important; font-weight: 400 !important; font-style: italic; padding-left: .75rem !important; }
td.flag-declared_but_failing { box-shadow: inset 0 0 0 2px #e06c00; }
td.flag-works_but_not_declared { box-shadow: inset 0 0 0 2px #1a66d2; }
td.cell.selected { outline: 3px solid #111; outline-offset: -3px; }
#matrix[data-focus="fail"] td.cell:not(.s-fail), #matrix[data-focus="unsupported"] td.cell:not(.s-unsupported),
#matrix[data-focus="not_run"] td.cell:not(.s-not_run), #matrix[data-focus="pass"] td.cell:not(.s-pass),
#matrix[data-focus="flag:declared_but_failing"] td.cell:not(.flag-declared_but_failing),
#matrix[data-focus="flag:works_but_not_declared"] td.cell:not(.flag-works_but_not_declared) { opacity: .3; }
#detail { position: fixed; right: 1rem; bottom: 1rem; width: min(30rem, calc(100vw - 2rem)); max-height: 60vh; overflow: auto;
          background: #fff; border: 1px solid #9aa3ad; border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.18);
          padding: .75rem 1rem; z-index: 10; }
#detail h2 { margin: 0 2rem .5rem 0; font-size: 1.05rem; }
#detail dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .75rem; margin: 0; }
#detail dt { color: var(--muted); } #detail dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
#detail button { position: absolute; top: .5rem; right: .5rem; font: inherit; cursor: pointer; }
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("matrix");
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var family = document.getElementById("filter-family");
  var status = document.getElementById("filter-status");
  var shown = document.getElementById("shown");
  var panel = document.getElementById("detail");
  var titles = {};
  Array.prototype.forEach.call(table.querySelectorAll("thead th[data-scenario]"), function (th) {
    titles[th.getAttribute("data-scenario")] = th.getAttribute("data-title");
  });

  function words(value) { return (value || "").split(" ").filter(Boolean); }

  function matches(row, f) {
    if (f.family && row.getAttribute("data-family") !== f.family) { return false; }
    if (!f.status) { return true; }
    if (f.status === "clean") { return row.getAttribute("data-clean") === "true"; }
    if (f.status.indexOf("flag:") === 0) { return words(row.getAttribute("data-flags")).indexOf(f.status.slice(5)) >= 0; }
    return words(row.getAttribute("data-statuses")).indexOf(f.status) >= 0;
  }

  function fromHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    return { family: params.get("family") || "", status: params.get("status") || "" };
  }

  function apply(f, writeHash) {
    family.value = f.family; status.value = f.status;
    // An unknown value in the fragment selects nothing: fall back to "all" rather than hiding everything.
    f = { family: family.value, status: status.value };
    var n = 0;
    rows.forEach(function (row) { var ok = matches(row, f); row.hidden = !ok; if (ok) { n += 1; } });
    table.setAttribute("data-focus", f.status);
    table.setAttribute("data-shown", String(n));
    shown.textContent = "Showing " + n + " of " + rows.length + " providers";
    if (writeHash) {
      var params = new URLSearchParams();
      if (f.status) { params.set("status", f.status); }
      if (f.family) { params.set("family", f.family); }
      var hash = params.toString();
      try { history.replaceState(null, "", hash ? "#" + hash : window.location.pathname + window.location.search); }
      catch (e) { /* some file:// contexts refuse replaceState; the filter still works */ }
    }
  }

  function field(dl, label, value) {
    if (!value) { return; }
    var dt = document.createElement("dt"); dt.textContent = label;
    var dd = document.createElement("dd"); dd.textContent = value;
    dl.appendChild(dt); dl.appendChild(dd);
  }

  function open(td) {
    var row = td.parentNode;
    var prev = table.querySelector("td.selected"); if (prev) { prev.classList.remove("selected"); }
    td.classList.add("selected");
    var scenario = td.getAttribute("data-scenario");
    panel.querySelector("h2").textContent = row.getAttribute("data-name") + " \\u2014 " + (titles[scenario] || "not applicable");
    var dl = panel.querySelector("dl"); dl.textContent = "";
    field(dl, "Provider", row.getAttribute("data-provider") + " (" + row.getAttribute("data-family") + ")");
    field(dl, "Scenario", scenario);
    field(dl, "Status", td.getAttribute("data-label"));
    field(dl, "Detail", td.getAttribute("data-detail"));
    field(dl, "Outcome", td.getAttribute("data-outcome"));
    field(dl, "Declared", td.getAttribute("data-declared"));
    field(dl, "Evidence", td.getAttribute("data-evidence"));
    field(dl, "Rests on", td.getAttribute("data-rests-on"));
    field(dl, "Provider evidence", row.getAttribute("data-evidence"));
    field(dl, "Response fields", td.getAttribute("data-fields"));
    field(dl, "Flags", td.getAttribute("data-flag-labels"));
    panel.hidden = false;
  }

  table.addEventListener("click", function (event) {
    var td = event.target.closest("td.cell");
    if (td) {
      open(td);
      // Scroll the matrix box, not the page, so the sticky header and first column stay in view.
      var wrap = table.parentNode;
      wrap.scrollTop = Math.max(0, td.offsetTop - wrap.clientHeight / 2);
      wrap.scrollLeft = Math.max(0, td.offsetLeft - wrap.clientWidth / 2);
    }
  });
  panel.querySelector("button").addEventListener("click", function () {
    panel.hidden = true;
    var prev = table.querySelector("td.selected"); if (prev) { prev.classList.remove("selected"); }
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { panel.hidden = true; } });
  family.addEventListener("change", function () { apply({ family: family.value, status: status.value }, true); });
  status.addEventListener("change", function () { apply({ family: family.value, status: status.value }, true); });
  // "#cell=<provider>/<scenario>" opens that cell's detail panel: a link to one result.
  function openFromHash() {
    var wanted = new URLSearchParams(window.location.hash.replace(/^#/, "")).get("cell");
    if (!wanted) { return; }
    var cut = wanted.indexOf("/");
    var provider = cut < 0 ? wanted : wanted.slice(0, cut), scenario = cut < 0 ? "" : wanted.slice(cut + 1);
    var row = rows.filter(function (r) { return r.getAttribute("data-provider") === provider; })[0];
    if (!row) { return; }
    var cells = Array.prototype.slice.call(row.querySelectorAll("td.cell"));
    var td = cells.filter(function (c) { return c.getAttribute("data-scenario") === scenario; })[0] || cells[0];
    if (td) {
      open(td);
      // Scroll the matrix box, not the page, so the sticky header and first column stay in view.
      var wrap = table.parentNode;
      wrap.scrollTop = Math.max(0, td.offsetTop - wrap.clientHeight / 2);
      wrap.scrollLeft = Math.max(0, td.offsetLeft - wrap.clientWidth / 2);
    }
  }

  window.addEventListener("hashchange", function () { apply(fromHash(), false); openFromHash(); });
  apply(fromHash(), false);
  openFromHash();
  document.documentElement.setAttribute("data-ready", "true");
})();
"""

STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("", "any"),
    ("fail", "with a failure"),
    ("unsupported", "with an unsupported cell"),
    ("not_run", "with a cell not run"),
    ("not_applicable", "with a not-applicable cell"),
    ("pass", "with a passing cell"),
    ("clean", "all applicable cells passed"),
    ("flag:" + FLAG_DECLARED_BUT_FAILING, "declared but failing"),
    ("flag:" + FLAG_WORKS_BUT_NOT_DECLARED, "works but not declared"),
)


def page(title: str, body: str, css: str = "", script: str = "") -> str:
    """A complete HTML document with everything inline."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{BASE_CSS}{css}</style>",
        "</head>",
        "<body>",
        body,
    ]
    if script:
        parts.append(f"<script>{script}</script>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render(matrix: Matrix, changes: Changes | None = None) -> str:
    summary = matrix.summary()
    no_chat = [p for p in matrix.providers if not p.chat]
    body: list[str] = []
    add = body.append

    add(f"<h1>Capability matrix — {esc(matrix.runtime_label)}</h1>")
    add(
        f'<p class="generated" id="generated-at">Generated at {esc(matrix.generated_at)} (taken from the results file)</p>'
    )
    add(
        f'<p class="summary" id="summary"><strong>{summary.passed} of {summary.applicable} applicable cells passed</strong>'
        f" — {len(matrix.providers)} providers ({len(no_chat)} without a chat API), {len(matrix.scenarios)} scenarios.</p>"
    )
    add(f'<p class="definition">Definition: {esc(APPLICABLE_DEFINITION)}.</p>')
    levels = matrix.evidence_counts()
    add(
        '<p class="levels" id="evidence-levels">Verdicts rest on: '
        + ", ".join(f"{n} {esc(level)}" for level, n in levels.items())
        + ' (<a href="#rests-on">per provider</a>'
        + ('; facts: <a href="provider-facts.html">provider facts</a>' if matrix.provider_facts else "")
        + ").</p>"
    )
    if matrix.self_test is not None:
        add(f'<p class="self-test" id="self-test">{esc(wording.self_test_line(dict(matrix.self_test)))}</p>')

    add('<div class="controls">')
    family_options = "".join(f'<option value="{esc(f)}">{esc(f)}</option>' for f in matrix.families())
    add(
        f'<label>Family<select id="filter-family"><option value="">all families</option>{family_options}</select></label>'
    )
    status_options = "".join(f'<option value="{esc(v)}">{esc(t)}</option>' for v, t in STATUS_FILTERS)
    add(f'<label>Providers<select id="filter-status">{status_options}</select></label>')
    add(f'<span id="shown">Showing {len(matrix.providers)} of {len(matrix.providers)} providers</span>')
    add('<ul class="legend" id="legend">')
    for status in STATUSES:
        add(
            f'<li><span class="swatch s-{status}">{esc(wording.HTML_SYMBOLS[status]) or "&nbsp;"}</span>'
            f"{esc(wording.LABELS[status])}</li>"
        )
    for flag in FLAGS:
        add(
            f'<li><span class="swatch flag-{flag}" style="box-shadow: inset 0 0 0 2px '
            f'{"#e06c00" if flag == FLAG_DECLARED_BUT_FAILING else "#1a66d2"}">&nbsp;</span>'
            f"{esc(wording.FLAG_LABELS[flag])}</li>"
        )
    add(f'<li><span class="swatch">{esc(wording.LIVE_MARK)}</span>{esc(wording.LIVE_MARK_LABEL)}</li>')
    add("</ul>")
    add("</div>")
    add(
        '<p class="muted">Click a cell for details (hover for a summary). Evidence: <em>simulated</em> results were '
        "recorded against the provider simulator, which serves the provider's documented wire contract — no request "
        "reached the provider; <em>live</em> results were recorded against the provider's API.</p>"
    )

    add(_matrix_table(matrix))
    add(_sections(matrix, no_chat))
    if changes is not None:
        add(_changes(changes))
    add(
        '<aside id="detail" hidden aria-live="polite"><button type="button" aria-label="Close">×</button>'
        "<h2></h2><dl></dl></aside>"
    )
    return page(f"Capability matrix — {matrix.runtime_label}", "\n".join(body), MATRIX_CSS, SCRIPT)


def _matrix_table(matrix: Matrix) -> str:
    groups = matrix.groups()
    starts = {scenarios[0].id for _, scenarios in groups}
    out = ['<div class="matrix-wrap"><table id="matrix">', "<thead>", '<tr class="groups">']
    out.append('<th class="corner" rowspan="2">Provider<br><small class="muted">family</small></th>')
    for group, scenarios in groups:
        out.append(
            f'<th class="group-start group-{esc(group)}" colspan="{len(scenarios)}" scope="colgroup">'
            f"{esc(wording.group_title(group))}</th>"
        )
    out.append('<th rowspan="2" title="passed / applicable">Passed</th>')
    out.append('</tr>\n<tr class="scenarios">')
    for s in matrix.scenarios:
        cls = ' class="group-start"' if s.id in starts else ""
        tip = f"{s.title} ({wording.group_title(s.group)}" + (f", capability {s.capability})" if s.capability else ")")
        out.append(
            f'<th{cls} scope="col" data-scenario="{esc(s.id)}" data-title="{esc(s.title)}" title="{esc(tip)}">'
            f"<span>{esc(s.id)}</span></th>"
        )
    out.append("</tr>\n</thead>\n<tbody>")
    for provider in matrix.providers:
        out.append(_row(matrix, provider, starts))
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _row(matrix: Matrix, provider: Provider, starts: set[str]) -> str:
    cells = matrix.row(provider)
    psum = matrix.provider_summary(provider)
    statuses = sorted({c.status for c in cells}, key=STATUSES.index)
    flags = sorted({f for c in cells for f in c.flags}, key=FLAGS.index)
    clean = provider.chat and psum.applicable > 0 and psum.passed == psum.applicable
    evidence = wording.provider_evidence(provider.evidence) if provider.chat else "not applicable (no chat API)"
    attrs = (
        f'class="provider{"" if provider.chat else " no-chat"}" data-provider="{esc(provider.id)}" '
        f'data-name="{esc(provider.name)}" data-family="{esc(provider.family)}" '
        f'data-statuses="{esc(" ".join(statuses))}" data-flags="{esc(" ".join(flags))}" '
        f'data-clean="{"true" if clean else "false"}" data-evidence="{esc(evidence)}"'
    )
    head = (
        f'<th scope="row" title="{esc(provider.name)} — {esc(provider.family)}&#10;{esc(evidence)}">'
        f"{link(provider.docs_url, provider.id)}<small>{esc(provider.family)}</small></th>"
    )
    if not provider.chat:
        reason = provider.chat_reason or "no chat API"
        body = (
            f'<td class="cell s-not_applicable na-row group-start" colspan="{len(cells)}" data-status="not_applicable" '
            f'data-label="not applicable" data-detail="{esc(reason)}" '
            f'title="{esc(provider.name)}: not applicable — {esc(reason)}">not applicable — {esc(reason)}</td>'
        )
        return f'<tr {attrs}>{head}{body}<td class="ratio">n/a</td></tr>'
    scenarios = matrix.scenario_by_id()
    tds = [_cell(provider, cell, scenarios[cell.scenario], cell.scenario in starts) for cell in cells]
    return f'<tr {attrs}>{head}{"".join(tds)}<td class="ratio">{psum.ratio()}</td></tr>'


def _cell(provider: Provider, cell: Cell, scenario: Scenario, group_start: bool) -> str:
    classes = ["cell", f"s-{cell.status}", *(f"flag-{f}" for f in cell.flags)]
    if cell.evidence == "live":
        classes.append("ev-live")
    if group_start:
        classes.append("group-start")
    attrs = [
        f'class="{" ".join(classes)}"',
        f'data-scenario="{esc(cell.scenario)}"',
        f'data-status="{cell.status}"',
        f'data-label="{esc(wording.LABELS[cell.status])}"',
        f'title="{esc(wording.cell_title(cell, scenario, provider))}"',
    ]
    if cell.detail:
        attrs.append(f'data-detail="{esc(cell.detail)}"')
    if cell.outcome:
        attrs.append(f'data-outcome="{esc(cell.outcome)}"')
    if cell.declared is not None:
        capability = f" ({esc(scenario.capability)})" if scenario.capability else ""
        attrs.append(f'data-declared="{"yes" if cell.declared else "no"}{capability}"')
    if cell.status not in ("not_run", "not_applicable"):
        attrs.append(f'data-evidence="{esc(wording.CELL_EVIDENCE[cell.evidence])}"')
    if cell.evidence_level:
        rests = wording.LEVEL_LABELS[cell.evidence_level] + (f" — {cell.evidence_link}" if cell.evidence_link else "")
        attrs.append(f'data-level="{esc(cell.evidence_level)}" data-rests-on="{esc(rests)}"')
    if cell.response_fields is not None:
        attrs.append(f'data-fields="{esc(", ".join(cell.response_fields) or "(none)")}"')
    if cell.flags:
        attrs.append(f'data-flag-labels="{esc(", ".join(wording.FLAG_LABELS[f] for f in cell.flags))}"')
    return f"<td {' '.join(attrs)}>{esc(wording.cell_symbol(cell, wording.HTML_SYMBOLS))}</td>"


def _cell_items(matrix: Matrix, cells: Iterable[Cell], table_id: str) -> str:
    """Listed cells with their detail; evidence in its short form, explained above the matrix."""
    scenarios = matrix.scenario_by_id()
    rows = [
        f"<tr><td>{esc(c.provider)}</td><td><code>{esc(c.scenario)}</code></td><td>{esc(scenarios[c.scenario].title)}</td>"
        f"<td>{esc(c.outcome or '—')}</td><td>{esc(wording.SHORT_EVIDENCE[c.evidence])}</td>"
        f'<td class="detail">{esc(c.detail or "—")}</td></tr>'
        for c in cells
    ]
    if not rows:
        return "<p>None.</p>"
    return (
        f'<table class="plain" id="{table_id}"><thead><tr><th>Provider</th><th>Scenario</th><th>Title</th>'
        "<th>Outcome</th><th>Evidence</th><th>Detail</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _sections(matrix: Matrix, no_chat: list[Provider]) -> str:
    out: list[str] = []
    failures = matrix.failures()
    out.append(f'<h2 id="failures">Failures ({len(failures)})</h2>')
    out.append(_cell_items(matrix, failures, "failure-list"))
    out.append('<h2 id="declared-vs-observed">Declared vs observed</h2>')
    out.append("<p>Cells where the manifest's declaration and the observed result disagree.</p>")
    for flag, title in (
        (FLAG_DECLARED_BUT_FAILING, "Declared but failing"),
        (FLAG_WORKS_BUT_NOT_DECLARED, "Works but not declared"),
    ):
        flagged = matrix.flagged(flag)
        out.append(f"<h3>{title} ({len(flagged)})</h3>")
        out.append(_cell_items(matrix, flagged, f"flag-{flag}"))

    out.append('<h2 id="evidence">Providers and evidence</h2>')
    out.append(
        '<table class="plain"><thead><tr><th>Provider</th><th>Name</th><th>Family</th><th>Status</th>'
        "<th>Passed</th><th>Evidence</th></tr></thead><tbody>"
    )
    for p in matrix.providers:
        evidence = wording.provider_evidence(p.evidence) if p.chat else "not applicable (no chat API)"
        ratio = matrix.provider_summary(p).ratio() if p.chat else "n/a"
        out.append(
            f"<tr><td>{link(p.docs_url, p.id)}</td><td>{esc(p.name)}</td><td>{esc(p.family)}</td>"
            f"<td>{esc(p.status or '—')}</td><td>{ratio}</td><td>{esc(evidence)}</td></tr>"
        )
    out.append("</tbody></table>")

    out.append('<h2 id="rests-on">What the verdicts rest on</h2>')
    out.append(
        '<table class="plain" id="evidence-level-table"><thead><tr><th>Provider</th>'
        + "".join(f"<th>{esc(level)}</th>" for level in wording.LEVEL_LABELS)
        + "</tr></thead><tbody>"
    )
    for p in matrix.providers:
        if p.chat:
            counts = matrix.evidence_counts(matrix.row(p))
            out.append(f"<tr><td>{esc(p.id)}</td>" + "".join(f"<td>{n}</td>" for n in counts.values()) + "</tr>")
    out.append("</tbody></table>")

    if no_chat:
        out.append('<h2 id="no-chat">Providers without a chat API</h2><ul>')
        for p in no_chat:
            out.append(
                f"<li><strong>{esc(p.id)}</strong> ({esc(p.name)}): {esc(p.chat_reason or 'no reason given')}</li>"
            )
        out.append("</ul>")

    out.append('<h2 id="scenarios">Scenarios</h2>')
    out.append(
        '<table class="plain"><thead><tr><th>Scenario</th><th>Title</th><th>Group</th><th>Capability</th>'
        "<th>Passed</th></tr></thead><tbody>"
    )
    for s in matrix.scenarios:
        out.append(
            f"<tr><td><code>{esc(s.id)}</code></td><td>{esc(s.title)}</td><td>{esc(wording.group_title(s.group))}</td>"
            f"<td>{esc(s.capability or '—')}</td><td>{matrix.scenario_summary(s).ratio()}</td></tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def _changes(changes: Changes) -> str:
    out = ['<h2 id="changes">Changes since previous report</h2>']
    out.append(
        f"<p>Compared with the report for {esc(changes.previous_runtime)} generated at "
        f"{esc(changes.previous_generated_at)}.</p>"
    )
    if changes.empty:
        out.append("<p>No changes.</p>")
        return "\n".join(out)
    for label, items in (
        ("Providers added", changes.providers_added),
        ("Providers removed", changes.providers_removed),
        ("Scenarios added", changes.scenarios_added),
        ("Scenarios removed", changes.scenarios_removed),
    ):
        if items:
            out.append(f"<p>{label}: {esc(', '.join(items))}.</p>")
    out.append(f"<h3>Status changes ({len(changes.status_changes)})</h3>")
    if changes.status_changes:
        out.append(
            '<table class="plain" id="status-changes"><thead><tr><th>Provider</th><th>Scenario</th>'
            "<th>From</th><th>To</th></tr></thead><tbody>"
        )
        for c in changes.status_changes:
            out.append(
                f"<tr><td>{esc(c.provider)}</td><td><code>{esc(c.scenario)}</code></td>"
                f'<td class="s-{c.before}">{esc(wording.LABELS[c.before])}</td>'
                f'<td class="s-{c.after}">{esc(wording.LABELS[c.after])}</td></tr>'
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>None.</p>")
    out.append(f"<h3>Response fields ({len(changes.field_changes)})</h3>")
    if changes.field_changes:
        out.append(
            '<table class="plain" id="field-changes"><thead><tr><th>Provider</th><th>Scenario</th>'
            "<th>Appeared</th><th>Vanished</th></tr></thead><tbody>"
        )
        for c in changes.field_changes:
            out.append(
                f"<tr><td>{esc(c.provider)}</td><td><code>{esc(c.scenario)}</code></td>"
                f"<td><code>{esc(', '.join(c.appeared) or '—')}</code></td>"
                f"<td><code>{esc(', '.join(c.vanished) or '—')}</code></td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>None.</p>")
    return "\n".join(out)
