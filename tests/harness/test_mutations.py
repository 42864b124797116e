"""The harness measures its own sensitivity (conformance/evidence/mutations.py).

Every single-fact mutation of a manifest, and every mutation of the client's behaviour, in
the catalogue must be killed by a judge that does not depend on the manifest: the
provider's spec, its real recorded traffic, or (after re-recording from the simulator)
the spec / facts checks of the re-recorded requests. The kill rate is printed in the CI
output; a survivor is a bug in the harness.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.evidence.cells import EvidenceSettings
from conformance.evidence.mutations import CATALOGUE, Report, judge_mutation, run_catalogue
from conformance.evidence.observed import DEFAULT_OBSERVED_DIR, observed_dir_status
from conformance.evidence.specs import DEFAULT_SPECS_DIR, specs_dir_status
from tests.conftest import SUMMARY_LINE

from .suite_run import ROOT, output, run_suite

pytestmark = pytest.mark.no_cover  # the suite run in-process: the client paths its cells cover

SPECS = Path(os.environ.get("AILIB_SPECS_DIR") or DEFAULT_SPECS_DIR)
OBSERVED = Path(os.environ.get("AILIB_OBSERVED_DIR") or DEFAULT_OBSERVED_DIR)
MISSING = specs_dir_status(SPECS) or observed_dir_status(OBSERVED)

needs_evidence = pytest.mark.skipif(MISSING is not None, reason=f"evidence not available: {MISSING}")


@pytest.fixture(scope="module")
def report() -> Report:
    return run_catalogue(EvidenceSettings(SPECS, OBSERVED))


def test_the_catalogue_has_at_least_40_distinct_single_fact_mutations() -> None:
    ids = [m.id for m in CATALOGUE]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    kinds = Counter(m.field.split(".")[0] if not m.field.startswith("client") else "client" for m in CATALOGUE)
    # every kind the issue names: parameters, URL/auth, stream (done marker, paths, usage),
    # response paths, finish reasons, capabilities, errors, request layout, client behaviour
    for kind in (
        "request",
        "endpoint",
        "auth",
        "stream",
        "response",
        "finish_reasons",
        "capabilities",
        "errors",
        "client",
    ):
        assert kinds[kind] >= 1, kind


@needs_evidence
def test_every_mutation_is_killed_naming_provider_and_field(
    report: Report, record_property: Callable[[str, object], None]
) -> None:
    summary = report.summary()
    line = (
        f"mutation self-test: {summary['killed']} of {summary['mutations']} killed "
        f"({summary['kill_rate']:.0%}); survivors: {', '.join(summary['survivors']) or 'none'}"
    )
    record_property(SUMMARY_LINE, line)  # printed in the terminal summary (tests/conftest.py)
    for outcome in report.outcomes:
        if outcome.killed:
            # what killed it says which provider and which fact
            assert any(outcome.mutation.provider in p for p in outcome.problems), outcome
    assert summary["survivors"] == [], line


@needs_evidence
def test_rerecording_does_not_launder_a_wrong_manifest(report: Report) -> None:
    """Re-recorded from the simulator with the mutated manifest, the spec or real-traffic
    checks still fail on every mutation those sources can see: parameter names and ranges,
    done markers, content / usage / reasoning paths, finish tables, endpoint paths."""
    independent = {"spec", "observed"}
    seen_by_evidence = [
        o
        for o in report.outcomes
        if o.mutation.field.startswith(("request.parameters", "stream.done_marker", "response.", "finish_reasons"))
        or o.mutation.field.startswith("stream.routes")
        or o.mutation.field == "endpoint.chat_path"
    ]
    assert len(seen_by_evidence) >= 25
    laundered = [o.mutation.id for o in seen_by_evidence if not independent & set(o.killed_by)]
    assert laundered == []


@needs_evidence
def test_a_contradicted_fact_names_the_evidence() -> None:
    """A manifest fact a recording contradicts fails naming the recording file; one a spec
    contradicts names the spec file and schema location."""
    settings = EvidenceSettings(SPECS, OBSERVED)
    done = next(m for m in CATALOGUE if m.id == "perplexity.stream.done_marker=[DONE]")
    outcome = judge_mutation(done, settings)
    assert any("recording perplexity__chat_stream_" in p and ".json" in p for p in outcome.problems), outcome
    name = next(m for m in CATALOGUE if m.id == "openai.max_tokens.field=max_tokenz")
    outcome = judge_mutation(name, settings)
    assert any(
        "openai/openapi.yaml#/components/schemas/CreateChatCompletionRequest" in p and "max_tokenz" in p
        for p in outcome.problems
    ), outcome


def test_without_specs_or_recordings_the_evidence_cells_say_why(pytester: pytest.Pytester, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = run_suite(pytester, "-rs", "-k", "openai-spec_ or openai-observed_", "--specs", empty, "--observed", empty)
    out = output(run)
    assert run.ret == 0, out[-2000:]
    assert "4 skipped" in out, out[-2000:]
    assert f"spec checks skipped: --specs {empty} is empty" in out
    assert f"observed (real-traffic) checks skipped: --observed {empty} holds no recordings" in out


@needs_evidence
def test_end_to_end_a_rerecorded_wrong_manifest_still_fails_naming_the_evidence(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """As a user would: write a wrong fact into the manifest, re-record the cassettes from the
    simulator, run the suite. The spec and the real recordings still disagree, by name."""
    manifests, cassettes = tmp_path / "manifests", tmp_path / "cassettes"
    shutil.copytree(ROOT / "manifests", manifests)
    shutil.copytree(ROOT / "cassettes" / "openai", cassettes / "openai")
    openai = manifests / "openai.yaml"
    text = openai.read_text()
    text = text.replace("max_tokens: {field: max_completion_tokens, min: 1}", "max_tokens: {field: max_tokenz, min: 1}")
    text = text.replace('  done_marker: "[DONE]"\n', "")
    openai.write_text(text)
    options = ["--manifests", manifests, "--cassettes", cassettes, "--specs", SPECS, "--observed", OBSERVED]
    select = ["-k", "openai-max_tokens or openai-spec_declarations or openai-observed_"]
    before = (cassettes / "openai" / "max_tokens.yaml").read_text()
    run_suite(pytester, "--record-mode=rewrite", *options, *select)
    assert "max_tokenz" in (cassettes / "openai" / "max_tokens.yaml").read_text() != before  # re-recorded
    run = run_suite(pytester, *options, *select)
    out = output(run)
    assert run.ret == 1, out[-3000:]
    # the spec names the field, the file and the schema; the recordings name themselves
    assert "manifest sends max_tokens as field 'max_tokenz'" in out and "openai/openapi.yaml#/components" in out, out[
        -3000:
    ]
    assert "openai/max_tokens: request: field max_tokenz" in out, out[-3000:]
    assert "recording openai__chat_stream_" in out and "[DONE]" in out, out[-3000:]
