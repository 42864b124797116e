"""The suite must catch what it exists to catch: run it as a user would, on broken input.

Each run is the suite's own pytest session, in this process (pytester, see suite_run.py),
pointed with ``--manifests`` / ``--cassettes`` at scratch copies.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from conformance.cassettes import scan_for_secrets

from .suite_run import ROOT, output, run_suite

pytestmark = [pytest.mark.slow, pytest.mark.no_cover]  # each test runs (part of) the suite


def test_broken_parameter_name_fails_the_request_contract(pytester: pytest.Pytester, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", manifests)
    openai = manifests / "openai.yaml"
    openai.write_text(
        openai.read_text().replace("{field: temperature, min: 0, max: 2}", "{field: temprature, min: 0, max: 2}")
    )
    run = run_suite(pytester, "-k", "openai-temperature", "--manifests", manifests)
    out = output(run)
    assert run.ret == 1, out[-2000:]
    assert "openai/temperature: parameter temperature dropped: documented field 'temperature'" in out, out[-2000:]


def test_a_missing_cassette_fails_with_its_path(pytester: pytest.Pytester, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes" / "anthropic", cassettes / "anthropic")
    (cassettes / "anthropic" / "stop.yaml").unlink()
    run = run_suite(pytester, "-k", "anthropic-stop", "--cassettes", cassettes)
    out = output(run)
    assert run.ret == 1, out[-2000:]
    assert "missing cassette" in out and "anthropic/stop.yaml" in out, out[-2000:]


def test_an_unused_cassette_fails_with_its_path(pytester: pytest.Pytester, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", cassettes)
    shutil.copy(cassettes / "openai" / "basic.yaml", cassettes / "openai" / "no_such_scenario.yaml")
    run = run_suite(
        pytester, "--cassettes", cassettes, "-k", "belongs_to_a_cell", suite=ROOT / "conformance" / "test_cassettes.py"
    )
    out = output(run)
    assert run.ret == 1, out[-2000:]
    assert "openai/no_such_scenario.yaml" in out, out[-2000:]


def test_secret_scanner_finds_a_planted_key(tmp_path: Path) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text("headers:\n  authorization: Bearer REDACTED\n")
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text('body: |\n  {"api_key": "sk-proj-abcdefghijklmnopqrstuvwxyz"}\n')
    planted = tmp_path / "planted.yaml"
    planted.write_text("x-api-key: ailib-planted-key-anthropic-0123\n")
    assert scan_for_secrets([clean]) == []
    assert [line.split(":")[1] for line in scan_for_secrets([leaky, planted])] == ["2", "1"]


#: Every wire family (openai-chat, anthropic-messages, gemini, cohere-v2, replicate), and the
#: openai-chat providers whose simulator profiles do the most (perplexity, openrouter, mistral, ...).
RERECORDED = ["openai", "anthropic", "gemini", "cohere", "replicate", "deepseek", "groq", "sensenova",
              "perplexity", "openrouter", "mistral"]  # fmt: skip


# Not traced for coverage: it runs the whole suite against the simulator, the client paths
# the replayed cells already cover; tracing would add half again to the longest test.
@pytest.mark.no_cover
def test_rerecording_from_the_simulator_reproduces_the_cassettes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """--record-mode=rewrite against the simulator gives the committed cassettes back, dates aside."""
    cassettes = tmp_path / "cassettes"
    for provider in RERECORDED:
        shutil.copytree(ROOT / "cassettes" / provider, cassettes / provider)
    started = time.time()
    run = run_suite(
        pytester,
        "--record-mode=rewrite",
        "--cassettes",
        cassettes,
        "--simulator-chunk-delay=0",  # pacing only: a cassette holds the whole body (a third of this test's time)
        "-k",
        " or ".join(f"{p}-" for p in RERECORDED),
    )
    assert run.ret == 0, output(run)[-3000:]

    def strip(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.strip().startswith("recorded:")]

    differing = []
    for fresh in sorted(cassettes.glob("*/*.yaml")):
        rel = fresh.relative_to(cassettes)
        committed = ROOT / "cassettes" / rel
        if not committed.is_file() or strip(fresh.read_text()) != strip(committed.read_text()):
            differing.append(str(rel))
    assert not differing, "re-recorded cassettes differ from the committed ones: " + ", ".join(differing)
    # and every one was written again (the copies keep the committed files' times)
    stale = [str(p.relative_to(cassettes)) for p in cassettes.glob("*/*.yaml") if p.stat().st_mtime < started]
    assert not stale, "cassettes not re-recorded: " + ", ".join(stale)
    # the index lists each of them with the provenance the committed index gives it
    index = yaml.load((cassettes / "PROVENANCE.yaml").read_text(), Loader=yaml.CSafeLoader)["cassettes"]
    committed_index = yaml.load((ROOT / "cassettes" / "PROVENANCE.yaml").read_text(), Loader=yaml.CSafeLoader)[
        "cassettes"
    ]
    assert set(index) == {p.relative_to(cassettes).as_posix() for p in cassettes.glob("*/*.yaml")}
    assert {k: {**v, "recorded": None} for k, v in index.items()} == {
        k: {**committed_index[k], "recorded": None} for k in index
    }
