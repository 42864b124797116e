"""The suite must catch what it exists to catch: run it as a user would, on broken input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cassettes import scan_for_secrets

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # each test runs the suite in a subprocess


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--no-header", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_broken_parameter_name_fails_the_request_contract(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", manifests)
    openai = manifests / "openai.yaml"
    openai.write_text(
        openai.read_text().replace("{field: temperature, min: 0, max: 2}", "{field: temprature, min: 0, max: 2}")
    )
    run = _pytest(
        "conformance/test_conformance.py", "-k", "openai-temperature", env={"AILIB_MANIFESTS_DIR": str(manifests)}
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert "openai/temperature: parameter temperature dropped: documented field 'temperature'" in run.stdout, (
        run.stdout[-2000:]
    )


def test_a_missing_cassette_fails_with_its_path(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", cassettes)
    (cassettes / "anthropic" / "stop.yaml").unlink()
    run = _pytest(
        "conformance/test_conformance.py", "-k", "anthropic-stop", env={"AILIB_CASSETTES_DIR": str(cassettes)}
    )
    assert run.returncode == 1
    assert "missing cassette" in run.stdout and "anthropic/stop.yaml" in run.stdout, run.stdout[-2000:]


def test_an_unused_cassette_fails_with_its_path(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", cassettes)
    shutil.copy(cassettes / "openai" / "basic.yaml", cassettes / "openai" / "no_such_scenario.yaml")
    run = _pytest("conformance/test_cassettes.py", env={"AILIB_CASSETTES_DIR": str(cassettes)})
    assert run.returncode == 1
    assert "openai/no_such_scenario.yaml" in run.stdout, run.stdout[-2000:]


def test_secret_scanner_finds_a_planted_key(tmp_path: Path) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text("headers:\n  authorization: Bearer REDACTED\n")
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text('body: |\n  {"api_key": "sk-proj-abcdefghijklmnopqrstuvwxyz"}\n')
    planted = tmp_path / "planted.yaml"
    planted.write_text("x-api-key: ailib-planted-key-anthropic-0123\n")
    assert scan_for_secrets([clean]) == []
    assert [line.split(":")[1] for line in scan_for_secrets([leaky, planted])] == ["2", "1"]


def test_rerecording_from_the_simulator_reproduces_the_cassettes(tmp_path: Path) -> None:
    """--record-mode=rewrite against the simulator gives the committed cassettes back, dates aside."""
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", cassettes)
    providers = ["openai", "anthropic", "gemini", "cohere", "replicate", "deepseek", "groq", "sensenova",
                 "perplexity", "openrouter", "mistral"]  # fmt: skip
    run = _pytest(
        "conformance/test_conformance.py",
        "--record-mode=rewrite",
        "-k",
        " or ".join(f"{p}-" for p in providers),
        env={"AILIB_CASSETTES_DIR": str(cassettes)},
    )
    assert run.returncode == 0, run.stdout[-3000:]
    differing = []
    for fresh in sorted(cassettes.rglob("*.yaml")):
        rel = fresh.relative_to(cassettes)
        if rel.parts[0] not in providers:
            continue
        committed = ROOT / "cassettes" / rel

        def strip(text: str) -> list[str]:
            return [line for line in text.splitlines() if not line.strip().startswith("recorded:")]

        if not committed.is_file() or strip(fresh.read_text()) != strip(committed.read_text()):
            differing.append(str(rel))
    assert not differing, "re-recorded cassettes differ from the committed ones: " + ", ".join(differing)
