"""Failures grouped by cause (conformance/report/diagnosis.py) and the AI-Protocol audit
(conformance/report/ai_protocol.py). The problem lines are written by hand in the form the
checks write them; the expected causes are written by hand."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report import ai_protocol
from conformance.report.diagnosis import causes, cell_causes, diagnose, summary_lines


def _cell(provider: str, scenario: str, *problems: str) -> dict[str, object]:
    detail = "; ".join(f"{provider}/{scenario}: {p}" for p in problems)
    return {
        "provider": provider,
        "scenario": scenario,
        "status": "fail" if problems else "pass",
        "detail": detail or None,
    }


def test_one_bug_in_every_provider_is_one_line() -> None:
    cells = [
        _cell(p, s, f"body field model='{p}/m-1', expected model 'm-1'")
        for p in ("openai", "deepseek", "groq")
        for s in ("basic", "stream")
    ]
    cells.append(_cell("anthropic", "basic", "header anthropic-version=None, documented '2023-06-01'"))
    cells.append(_cell("anthropic", "stream", "header anthropic-version=None, documented '2023-06-01'"))
    cells.append(_cell("openai", "top_p"))  # a pass is not a cause
    assert summary_lines(diagnose(cells)) == [
        "request model carries the provider prefix: 6 cells (3 providers)",
        "no anthropic-version header: 2 cells (1 provider)",
    ]


def test_replay_consequences_do_not_bury_the_request_bug() -> None:
    detail = (
        "x/basic: URL https://api.x.cn/v1/chat != documented https://api.x.ai/v1/chat; "
        "x/basic: unexpected CannotOverwriteExistingCassetteException: can't play back this request; "
        "x/basic: error.status_code=None, response status 400"
    )
    assert [c.label for c in cell_causes(detail)] == ["request host api.x.cn, documented api.x.ai"]
    # with nothing to blame on the request, the consequence is what is shown
    only = "x/basic: unexpected CannotOverwriteExistingCassetteException: can't play back this request"
    assert [c.label for c in cell_causes(only)] == ["request not in the recording (no answer replayed)"]


def test_causes_name_the_field() -> None:
    assert causes("p/s: auth header x-api-key absent (documented: {key})").label == "no x-api-key auth header"
    assert causes("p/s: usage.prompt_tokens=None, response says 12").label == "usage.prompt_tokens not reported"
    cause = causes("p/s: parameter stop dropped: documented field 'stop_sequences' missing from the request body")
    assert (cause.label, cause.about) == ("stop not sent as documented field stop_sequences", "request.parameter.stop")
    assert causes("p/s: finish_reason 'other' != 'stop' (raw 'end_turn')").label == (
        "finish reason 'other' where 'stop' expected"
    )
    assert causes("p/s: finish_reason 'other', expected 'stop'").label == "finish reason 'other' where 'stop' expected"


def test_audit_names_the_upstream_field_and_the_evidence(tmp_path: Path) -> None:
    tree = tmp_path / "v1" / "providers"
    tree.mkdir(parents=True)
    (tree / "anthropic.yaml").write_text(
        "id: anthropic\nprotocol_version: '1.5'\nendpoint: {base_url: 'https://api.anthropic.com/v1'}\n"
        "auth: {type: bearer, token_env: ANTHROPIC_API_KEY}\npayload_format: anthropic_style\n"
        "endpoints: {chat: {path: /messages}}\n",
        encoding="utf-8",
    )
    results = {
        "runtime": "ailib",
        "runtime_version": "0",
        "generated_at": "2026-01-01T00:00:00Z",
        "cells": [
            _cell("anthropic", "basic", "auth header x-api-key absent (documented: {key})"),
            _cell("anthropic", "system"),
        ],
    }
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    paths = ai_protocol.write(tmp_path / "results.json", tmp_path, tmp_path / "out")
    doc = json.loads(paths[0].read_text(encoding="utf-8"))
    (item,) = doc["manifests"]
    assert (item["file"], item["protocol_version"], item["usable"]) == ("v1/providers/anthropic.yaml", "1.5", "usable")
    assert (item["passed"], item["applicable"]) == (1, 2)
    (fact,) = item["wrong_facts"]
    assert fact["cause"] == "no x-api-key auth header"
    assert fact["upstream_field"].startswith("auth (v1) / endpoint.auth (v2)")
    assert any("conformance/evidence/facts/anthropic.yaml" in e and "x-api-key" in e for e in fact["evidence"])
    assert any("$.termination.mapping" in g for g in item["gaps"])
    assert "no x-api-key auth header" in paths[1].read_text(encoding="utf-8")
    assert "no x-api-key auth header" in paths[2].read_text(encoding="utf-8")


def test_a_reason_with_a_semicolon_stays_one_cause() -> None:
    detail = (
        "not run: runtime openai-sdk cannot load anthropic: openai SDK speaks only the OpenAI chat wire format "
        "(openai-chat); anthropic is anthropic-messages"
    )
    (cause,) = cell_causes(detail)
    assert cause.label.startswith("runtime not run: cannot load the provider's manifest (openai SDK speaks only")
    two = "p/s: request body differs from the cassette: a: now 1, recorded 2; b: now 3, recorded 4"
    assert [c.label for c in cell_causes(two)] == [
        "request body differs from the recording in a",
        "request body differs from the recording in b",
    ]


def test_comparison_labels_both_ai_lib_python_runs_and_shows_causes(tmp_path: Path) -> None:
    import copy

    from conformance.report import build_comparison

    from .report_synthetic import make_results, write

    base = make_results()
    runs = []
    for runtime in ("ai-lib-python-upstream", "ai-lib-python"):
        other = copy.deepcopy(base)
        other.update(runtime=runtime, runtime_version="1.2.0")
        for cell in other["cells"]:
            if cell["status"] == "pass":
                p, s = cell["provider"], cell["scenario"]
                cell.update(status="fail", detail=f"{p}/{s}: body field model='{p}/m', expected model 'm'")
        runs.append(write(other, tmp_path / f"{runtime}.json"))
    md, html = (p.read_text(encoding="utf-8") for p in build_comparison(runs, tmp_path / "out"))
    assert "ai-lib-python (upstream) 1.2.0" in md and "ai-lib-python (ours) 1.2.0" in md
    passed = sum(c["status"] == "pass" for c in base["cells"])
    providers = len({c["provider"] for c in base["cells"] if c["status"] == "pass"})
    line = f"request model carries the provider prefix: {passed} cells, {providers} providers"
    assert md.count(line) == 2
    assert line in html


def test_each_runtime_run_publishes_its_diagnosis(tmp_path: Path) -> None:
    from conformance.report.diagnosis import write

    results = {
        "runtime": "ai-lib-ts",
        "runtime_version": "0.5.3",
        "cells": [
            _cell("anthropic", s, "header anthropic-version=None, documented '2023-06-01'") for s in ("basic", "stream")
        ]
        + [_cell("openai", "basic")],
    }
    source = tmp_path / "ai-lib-ts.json"
    source.write_text(json.dumps(results), encoding="utf-8")
    md, data = write(source, tmp_path / "out")
    assert "| no anthropic-version header | 2 | 1 | header anthropic-version=None, documented '2023-06-01' |" in (
        md.read_text(encoding="utf-8")
    )
    assert json.loads(data.read_text(encoding="utf-8"))["causes"][0]["providers"] == ["anthropic"]
