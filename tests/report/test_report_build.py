"""The report builder: Markdown, JSON (+ schema), HTML, drift, runtime comparison, CLI.

Expected numbers are computed from the raw synthetic results in
``report_synthetic.expected_counts``, not through the builder's model, so a
counting bug cannot agree with itself.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.report import ResultsError, build, build_comparison, load
from conformance.report.markdown import md_text

from . import report_synthetic as synth

REPO = Path(__file__).resolve().parents[2]
PACKAGE_SCHEMA = REPO / "conformance" / "report" / "schema" / "capability-matrix.schema.json"
PUBLISHED_SCHEMA = REPO / "reports" / "schema" / "capability-matrix.schema.json"


@pytest.fixture(scope="module")
def results() -> dict:
    return synth.make_results()


@pytest.fixture(scope="module")
def built(results, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("report")
    build(synth.write(results, work / "results.json"), work / "out")
    return work / "out"


def matrix_rows(md: str) -> list[list[str]]:
    """Data rows of the table under '## Matrix', split into stripped cells."""
    section = md.split("## Matrix", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]  # skip header + rule


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_has_every_provider_row_sorted(built, results):
    rows = matrix_rows((built / "capability-matrix.md").read_text(encoding="utf-8"))
    assert len(rows) == 37
    assert [r[0] for r in rows] == sorted(p["id"] for p in results["providers"])
    assert all(len(r) == len(results["scenarios"]) + 2 for r in rows)


def test_markdown_summary_and_per_provider_numbers(built, results):
    md = (built / "capability-matrix.md").read_text(encoding="utf-8")
    expected = synth.expected_counts(results)
    assert f"**{expected['passed']} of {expected['applicable']} applicable cells passed**" in md
    assert "applicable = every provider x scenario cell except those that are not applicable or unsupported" in md
    for row in matrix_rows(md):
        pid, passed = row[0], row[-1]
        if pid in synth.NO_CHAT:
            assert passed == "not applicable"
            assert set(row[1:-1]) == {"⬜"}
        else:
            e = expected["per_provider"][pid]
            assert passed == f"{e['passed']}/{e['applicable']}"


def test_markdown_legend_columns_grouped_and_symbols(built, results):
    md = (built / "capability-matrix.md").read_text(encoding="utf-8")
    legend = md.split("## Legend", 1)[1].split("\n## ", 1)[0]
    for symbol, meaning in (
        ("✅", "pass"),
        ("❌", "fail"),
        ("➖", "unsupported"),
        ("⬜", "not applicable"),
        ("·", "not run"),
    ):
        assert re.search(rf"\| {re.escape(symbol)}\s+\| {meaning}", legend), (symbol, meaning)
    header = [h.strip() for h in md.split("## Matrix", 1)[1].split("\n| Provider", 1)[1].split("\n", 1)[0].split("|")]
    columns = [h for h in header if h and h != "Passed"]
    expected_order = [s["id"] for g in synth.GROUP_ORDER for s in synth.SCENARIOS if s["group"] == g]
    assert columns == expected_order
    # spot checks of cells planted in the fixture
    rows = {r[0]: r for r in matrix_rows(md)}
    col = {sid: i + 1 for i, sid in enumerate(expected_order)}
    assert rows["openai"][col["temperature"]] == "✅"
    assert rows["mistral"][col["basic"]] == "❌"
    assert rows["xai"][col["timeout"]] == "·"


def test_markdown_failures_flags_and_evidence_wording(built, results):
    md = (built / "capability-matrix.md").read_text(encoding="utf-8")
    expected = synth.expected_counts(results)
    assert f"## Failures ({expected['fail_cells']})" in md
    assert f"### Declared but failing ({len(expected['declared_but_failing'])})" in md
    assert f"### Works but not declared ({len(expected['works_but_not_declared'])})" in md
    declared = md.split("### Declared but failing", 1)[1].split("###", 1)[0]
    assert re.search(r"\| groq\s+\| top_p\s+\|.*\| rejected\s+\| simulated\s+\| 400: top_p is not supported", declared)
    works = md.split("### Works but not declared", 1)[1].split("##", 1)[0]
    assert re.search(r"\| cohere\s+\| stop\s+\|", works)
    # The hostile detail is escaped, not raw HTML, and does not break the table.
    assert '\\<script\\>alert("x")\\</script\\> \\| & more' in md
    assert "<script>" not in md
    # Evidence: simulated results are attributed to the simulator, never to the provider.
    assert "simulated (provider simulator), 13 recordings, recorded 2026-11-20, 2026-11-23; client 0.1.0" in md
    assert "live (provider API), 2 recordings" in md  # openai has two live recordings in the fixture
    for word in ("called", "calls", "contacted", "queried"):
        assert word not in md.lower()


def test_markdown_lists_providers_without_chat(built):
    md = (built / "capability-matrix.md").read_text(encoding="utf-8")
    section = md.split("## Providers without a chat API", 1)[1].split("\n## ", 1)[0]
    for pid, reason in synth.NO_CHAT.items():
        assert f"**{pid}**" in section and reason in section


# --- JSON + schema ----------------------------------------------------------------------------


def test_json_validates_against_published_schema(built):
    report = json.loads((built / "capability-matrix.json").read_text(encoding="utf-8"))
    for schema_path in (PACKAGE_SCHEMA, PUBLISHED_SCHEMA, built / "schema" / "capability-matrix.schema.json"):
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(report)


def test_published_schema_copies_are_identical(built):
    package = PACKAGE_SCHEMA.read_bytes()
    assert PUBLISHED_SCHEMA.read_bytes() == package, "reports/schema/ is stale: copy the package schema over it"
    assert (built / "schema" / "capability-matrix.schema.json").read_bytes() == package


def test_schema_rejects_a_broken_report(built):
    report = json.loads((built / "capability-matrix.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8")))
    broken = copy.deepcopy(report)
    broken["cells"][0]["status"] = "passed"
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(report)
    broken["providers"][0]["summary"]["extra"] = 1
    assert not validator.is_valid(broken)


def test_json_content(built, results):
    report = json.loads((built / "capability-matrix.json").read_text(encoding="utf-8"))
    expected = synth.expected_counts(results)
    assert report["kind"] == "ailib-capability-matrix" and report["format"] == 1
    assert report["generated_at"] == results["generated_at"]
    assert report["runtime"] == {"name": "ailib", "version": "0.1.0"}
    assert (report["summary"]["passed"], report["summary"]["applicable"]) == (
        expected["passed"],
        expected["applicable"],
    )
    assert report["summary"]["providers"] == 37 and report["summary"]["providers_without_chat"] == 2
    assert len(report["cells"]) == 37 * len(synth.SCENARIOS)  # complete grid, not_run filled in
    assert report["changes"] is None
    providers = {p["id"]: p for p in report["providers"]}
    for pid, e in expected["per_provider"].items():
        assert (providers[pid]["summary"]["passed"], providers[pid]["summary"]["applicable"]) == (
            e["passed"],
            e["applicable"],
        )
    assert providers["groq"]["flags"]["declared_but_failing"].count("top_p") == 1
    assert "stop" in providers["cohere"]["flags"]["works_but_not_declared"]
    assert providers["openai"]["evidence"]["kind"] == "mixed"
    assert providers["ai21"]["evidence"]["kind"] == "simulated"
    flagged = sorted((c["provider"], c["scenario"]) for c in report["cells"] if "declared_but_failing" in c["flags"])
    assert flagged == expected["declared_but_failing"]
    xai_timeout = [c for c in report["cells"] if (c["provider"], c["scenario"]) == ("xai", "timeout")]
    assert xai_timeout[0]["status"] == "not_run"
    scen = {s["id"]: s for s in report["scenarios"]}
    for s in synth.SCENARIOS:
        column = [c for c in report["cells"] if c["scenario"] == s["id"]]
        assert scen[s["id"]]["summary"]["passed"] == sum(c["status"] == "pass" for c in column)
    assert [g["id"] for g in report["groups"]] == synth.GROUP_ORDER
    assert [g["error_handling"] for g in report["groups"]] == [False, False, False, False, True, True]


# --- determinism ------------------------------------------------------------------------------


def test_building_twice_gives_identical_bytes(results, tmp_path):
    source = synth.write(results, tmp_path / "results.json")
    build(source, tmp_path / "a")
    build(source, tmp_path / "b")
    for name in (
        "capability-matrix.md",
        "capability-matrix.json",
        "capability-matrix.html",
        "schema/capability-matrix.schema.json",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_input_order_does_not_matter_and_generated_at_is_the_only_volatile_line(results, tmp_path):
    shuffled = copy.deepcopy(results)
    shuffled["providers"].reverse()
    shuffled["cells"].reverse()
    shuffled["generated_at"] = "2027-01-01T00:00:00Z"
    build(synth.write(results, tmp_path / "r1.json"), tmp_path / "a")
    build(synth.write(shuffled, tmp_path / "r2.json"), tmp_path / "b")
    for name in ("capability-matrix.md", "capability-matrix.json", "capability-matrix.html"):
        a = (tmp_path / "a" / name).read_text(encoding="utf-8").splitlines()
        b = (tmp_path / "b" / name).read_text(encoding="utf-8").splitlines()
        assert len(a) == len(b)
        differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        assert len(differing) == 1, (name, differing)
        assert "2026-11-23T14:00:00Z" in differing[0][0] and "2027-01-01T00:00:00Z" in differing[0][1]


# --- drift ------------------------------------------------------------------------------------


def test_drift_reports_status_and_field_changes(results, tmp_path):
    build(synth.write(results, tmp_path / "old.json"), tmp_path / "reports")
    new = copy.deepcopy(results)
    new["generated_at"] = "2026-12-01T09:00:00Z"
    synth.set_cell(
        new,
        "openai",
        "temperature",
        status="fail",
        detail="temperature ignored",
        response_fields=["choices", "id", "model", "system_fingerprint"],
    )  # +system_fingerprint, -usage
    synth.set_cell(new, "cohere", "stop", response_fields=["finish_reason", "id", "message", "meta"])
    # previous is the file this build overwrites: it must be read first
    build(
        synth.write(new, tmp_path / "new.json"),
        tmp_path / "reports",
        previous=tmp_path / "reports" / "capability-matrix.json",
    )

    report = json.loads((tmp_path / "reports" / "capability-matrix.json").read_text(encoding="utf-8"))
    changes = report["changes"]
    assert changes["previous_generated_at"] == "2026-11-23T14:00:00Z"
    assert changes["status_changes"] == [
        {"provider": "openai", "scenario": "temperature", "from": "pass", "to": "fail"}
    ]
    fields = {(c["provider"], c["scenario"]): c for c in changes["field_changes"]}
    assert fields[("openai", "temperature")]["appeared"] == ["system_fingerprint"]
    assert fields[("openai", "temperature")]["vanished"] == ["usage"]
    assert fields[("cohere", "stop")] == {
        "provider": "cohere",
        "scenario": "stop",
        "appeared": ["meta"],
        "vanished": [],
    }
    assert len(fields) == 2
    jsonschema.validate(report, json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8")))

    md = (tmp_path / "reports" / "capability-matrix.md").read_text(encoding="utf-8")
    section = md.split("## Changes since previous report", 1)[1]
    assert re.search(r"\| openai\s+\| temperature\s+\| ✅ pass\s+\| ❌ fail\s+\|", section)
    assert re.search(r"\| openai\s+\| temperature\s+\| system_fingerprint\s+\| usage\s+\|", section)
    html = (tmp_path / "reports" / "capability-matrix.html").read_text(encoding="utf-8")
    assert 'id="changes"' in html and "system_fingerprint" in html


def test_drift_without_changes_and_with_new_scenario(results, tmp_path):
    build(synth.write(results, tmp_path / "old.json"), tmp_path / "v1")
    build(tmp_path / "old.json", tmp_path / "v2", previous=tmp_path / "v1" / "capability-matrix.json")
    assert "No changes." in (tmp_path / "v2" / "capability-matrix.md").read_text(encoding="utf-8")

    more = copy.deepcopy(results)
    more["scenarios"].append({"id": "tools", "title": "Tool calls", "group": "chat", "capability": "tools"})
    build(
        synth.write(more, tmp_path / "more.json"), tmp_path / "v3", previous=tmp_path / "v1" / "capability-matrix.json"
    )
    changes = json.loads((tmp_path / "v3" / "capability-matrix.json").read_text(encoding="utf-8"))["changes"]
    assert changes["scenarios_added"] == ["tools"]
    assert changes["status_changes"] == []  # a new column is not 37 status changes


def test_previous_must_be_a_report_not_results(results, tmp_path):
    source = synth.write(results, tmp_path / "results.json")
    with pytest.raises(ResultsError, match=r"not a capability-matrix\.json report"):
        build(source, tmp_path / "out", previous=source)


# --- HTML -------------------------------------------------------------------------------------


def test_html_is_self_contained_and_escapes_provider_text(built):
    html = (built / "capability-matrix.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<script\b", html, re.IGNORECASE)) == 1  # only the page's own inline script
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | &amp; more" in html
    assert "OpenRouter &lt;b&gt;beta&lt;/b&gt;" in html and "<b>beta" not in html
    assert "javascript:" not in html  # a non-http docs URL is shown as text, never linked
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html.replace('href="https://docs.example', ""))
    assert "<link" not in html and "@import" not in html and "@font-face" not in html
    assert html.count('<tr class="provider') == 37


def test_html_no_chat_providers_are_one_cell(built):
    html = (built / "capability-matrix.html").read_text(encoding="utf-8")
    for pid, reason in synth.NO_CHAT.items():
        row = re.search(rf'<tr class="provider no-chat" data-provider="{pid}".*?</tr>', html).group(0)
        assert row.count("<td") == 2  # the colspan cell and the Passed cell
        assert f'colspan="{len(synth.SCENARIOS)}"' in row and reason in row


# --- results validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["cells"][0].update(status="passed"), "not a valid results file"),
        (lambda r: r.update(format=2), "format 2 is not supported"),
        (lambda r: r["cells"][0].update(provider="nope"), "unknown provider 'nope'"),
        (lambda r: r["cells"].append(dict(r["cells"][0])), "duplicate cell"),
        (lambda r: r["providers"].append(dict(r["providers"][0])), "duplicate provider id"),
        (lambda r: synth.set_cell(r, "elevenlabs", "basic", status="pass"), "no chat API"),
        (lambda r: r["providers"][0].pop("evidence"), "'evidence' is a required property"),
    ],
)
def test_invalid_results_are_rejected_with_a_clear_message(results, tmp_path, mutate, message):
    bad = copy.deepcopy(results)
    mutate(bad)
    with pytest.raises(ResultsError, match=re.escape(message)):
        load(synth.write(bad, tmp_path / "bad.json"))


# --- comparison -------------------------------------------------------------------------------


def test_comparison_of_runtimes(results, tmp_path):
    other = copy.deepcopy(results)
    other.update(runtime="otherlib", runtime_version="2.3", generated_at="2026-11-24T08:00:00Z")
    for cell in other["cells"]:
        if cell["provider"] == "gemini" and cell["status"] != "not_applicable":
            cell.update(status="fail", detail="ImportError: otherlib has no gemini adapter", evidence=None)
    other["providers"] = [p for p in other["providers"] if p["id"] != "xai"]
    other["cells"] = [c for c in other["cells"] if c["provider"] != "xai"]
    paths = build_comparison(
        [synth.write(results, tmp_path / "a.json"), synth.write(other, tmp_path / "b.json")], tmp_path / "out"
    )
    assert [p.name for p in paths] == ["comparison.md", "comparison.html"]
    md = paths[0].read_text(encoding="utf-8")
    expected = synth.expected_counts(results)["per_provider"]
    e = expected["openai"]
    assert re.search(rf"\| openai\s+\|\s+{e['passed']}/{e['applicable']} \|\s+{e['passed']}/{e['applicable']} \|", md)
    assert re.search(r"\| gemini\s+\|\s+\d+/\d+ \|\s+0/\d+ ⚠ \|", md)
    assert re.search(r"\| xai\s+\|\s+\d+/\d+ \|\s+— \|", md)
    assert re.search(r"\| elevenlabs\s+\|\s+n/a \|\s+n/a \|", md)
    assert "**otherlib 2.3** × **gemini**: could not use the provider" in md
    assert "ImportError: otherlib has no gemini adapter" in md
    html = paths[1].read_text(encoding="utf-8")
    assert "otherlib 2.3" in html and "ImportError: otherlib has no gemini adapter" in html
    assert "<script" not in html


def test_comparison_keeps_two_runs_of_one_runtime_apart(results, tmp_path):
    source = synth.write(results, tmp_path / "a.json")
    md = build_comparison([source, source], tmp_path / "out")[0].read_text(encoding="utf-8")
    assert re.search(r"\| Provider\s+\|\s+ailib 0\.1\.0 \|\s+ailib 0\.1\.0 \(2\) \|", md)


# --- CLI --------------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conformance.report", *args],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_build_and_compare(results, tmp_path):
    source = synth.write(results, tmp_path / "results.json")
    done = run_cli("build", str(source), "--out", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reports" / "capability-matrix.html").exists()
    done = run_cli(
        "build",
        str(source),
        "--out",
        str(tmp_path / "reports"),
        "--previous",
        str(tmp_path / "reports" / "capability-matrix.json"),
    )
    assert done.returncode == 0, done.stderr
    assert "## Changes since previous report" in (tmp_path / "reports" / "capability-matrix.md").read_text("utf-8")
    done = run_cli("compare", str(source), str(source), "--out", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reports" / "comparison.md").exists() and (tmp_path / "reports" / "comparison.html").exists()


def test_cli_reports_bad_input_without_traceback(tmp_path):
    done = run_cli("build", str(tmp_path / "missing.json"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "results file not found" in done.stderr and "Traceback" not in done.stderr


def test_import_is_light():
    code = "import sys, conformance.report; print(sorted(m for m in ('tabulate', 'jsonschema') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, check=False, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stderr


# --- properties -------------------------------------------------------------------------------


@given(st.text())
def test_md_text_keeps_tables_intact(text):
    out = md_text(text)
    assert "\n" not in out and "\r" not in out
    assert not re.search(r"(?<!\\)(\\\\)*[|<>`]", out)  # every table/HTML/code metacharacter is escaped
