"""The harness installed as its users get it: the client's wheel and the harness's wheel
(packaging/ailib-conformance) built from this checkout, installed into a fresh venv, and the
suite run from an empty directory through the ``pytest11`` entry point, on the manifests
shipped in the client's wheel and the cassettes shipped in the harness's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AILIB_", "PYTEST_", "VIRTUAL_ENV"))}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with both wheels installed (dependencies from the package index)."""
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheels),
            ".",
            "packaging/ailib-conformance",
        ],
        ROOT,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], base)
    assert made.returncode == 0, made.stderr[-2000:]
    python = venv / "bin" / "python"
    done = _run([str(python), "-m", "pip", "install", "-q", *map(str, sorted(wheels.glob("*.whl")))], base)
    assert done.returncode == 0, done.stderr[-2000:]
    return base


def test_wheels_split_client_and_harness(installed: Path) -> None:
    (client,) = (installed / "wheels").glob("ailib-*.whl")
    (harness,) = (installed / "wheels").glob("ailib_conformance-*.whl")
    client_top = {name.split("/")[0] for name in zipfile.ZipFile(client).namelist()}
    assert client_top == {"ailib", "ailib-0.1.0.dist-info"}  # no conformance package, no test files
    names = zipfile.ZipFile(harness).namelist()
    assert "ailib_conformance/_data/cassettes/openai/basic.yaml" in names
    assert "ailib_conformance/scenarios.yaml" in names
    assert "ailib_conformance/runtimes/ai_lib_ts_driver.mjs" in names
    assert not [n for n in names if "__pycache__" in n]
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ailib_conformance = ailib_conformance.plugin" in zipfile.ZipFile(harness).read(entry).decode()


def test_suite_runs_from_an_empty_directory(installed: Path) -> None:
    empty = installed / "empty"
    empty.mkdir()
    python = installed / "venv" / "bin" / "python"
    run = _run(
        [str(python), "-m", "pytest", "--pyargs", "ailib_conformance", "-q", "-p", "no:cacheprovider",
         "--matrix-report=reports"],
        empty,
    )  # fmt: skip
    tail = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in tail and "failed" not in tail
    matrix = json.loads((empty / "reports" / "capability-matrix.json").read_text(encoding="utf-8"))
    assert len(matrix["providers"]) == 37
    # the suite found its cassettes inside the installed package, not in a checkout
    assert not (empty / "cassettes").exists()


def test_options_point_it_at_another_runtime_and_cassettes(installed: Path, tmp_path: Path) -> None:
    python = installed / "venv" / "bin" / "python"
    cassettes = tmp_path / "mine"
    (cassettes / "openai").mkdir(parents=True)
    (cassettes / "openai" / "basic.yaml").write_bytes((ROOT / "cassettes" / "openai" / "basic.yaml").read_bytes())
    run = _run(
        [str(python), "-m", "pytest", "--pyargs", "ailib_conformance.test_conformance", "-q", "-p", "no:cacheprovider",
         "-k", "openai-basic or openai-system", "--cassettes", str(cassettes),
         "--runtime", "ailib_conformance.runtimes.ailib_runtime:AilibRuntime"],
        tmp_path,
    )  # fmt: skip
    out = run.stdout
    assert "1 failed, 1 passed" in out, out[-3000:]
    assert "openai-system" in out and "missing cassette" in out  # only basic was given in --cassettes
