"""The static gates of `.ci/gates` fail CI on a lint, format or type error, and pass a clean tree.

The type gates are two: mypy --strict and pyright's basic mode (basedpyright), which read
some code differently (pyright narrows a subscript on assignment, mypy does not).

Each case runs the real script on a scratch project (the repository's pyproject.toml, so the
same rule set and mypy settings, and a two-module package) with one deliberate error in it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not all((BIN / tool).exists() for tool in ("ruff", "mypy", "basedpyright")),
    reason="the lint extra (ruff, mypy, basedpyright) is not installed in this environment: pip install -e '.[lint]'",
)

CLEAN = '''"""A module that passes every gate."""

from __future__ import annotations


def total(values: list[int]) -> int:
    """The sum of the values."""
    return sum(values)
'''


PYRIGHT_ONLY_IMPORTS = "from __future__ import annotations\n\nfrom typing import Any\n"
TAGGED = '''

def tagged(values: list[int]) -> dict[str, Any]:
    """The values under a tag."""
    out: dict[str, Any] = {}
    out["tags"] = {"kind": "sum"}
    out["tags"]["values"] = values
    return out
'''


def scratch_project(tmp_path: Path, module: str = CLEAN) -> Path:
    project = tmp_path / "project"
    (project / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "gates", project / ".ci" / "gates")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    package = project / "ailib"
    package.mkdir()
    (package / "__init__.py").write_text('"""Scratch package."""\n')
    (package / "values.py").write_text(module)
    return project


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every scratch project: the standard library's stubs are checked
    once, not in each run (each project's own modules are still checked: their paths differ)."""
    return tmp_path_factory.mktemp("mypy_cache")


def run_gates(project: Path, mypy_cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(project / ".ci" / "gates")],
        env={**os.environ, "GATES_ROOT": str(project), "GATES_BIN": str(BIN), "MYPY_CACHE_DIR": str(mypy_cache)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_clean_tree_passes(tmp_path: Path, mypy_cache: Path) -> None:
    run = run_gates(scratch_project(tmp_path), mypy_cache)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gates passed" in run.stdout


@pytest.mark.parametrize(
    ("gate", "module"),
    [
        (
            "ruff check",
            CLEAN.replace("from __future__ import annotations\n", "from __future__ import annotations\n\nimport os\n"),
        ),
        (
            "ruff check",
            CLEAN
            + "\n\ndef first(values: list[int]) -> int:\n    for v in values:\n        return v\n    return 0\n\n\nzip([1], [2])\n",
        ),
        ("ruff format --check", CLEAN.replace("return sum(values)", "return sum( values )")),
        ("mypy --strict ailib", CLEAN.replace("return sum(values)", "return str(sum(values))")),
        ("mypy --strict ailib", CLEAN + "\n\ndef untyped(values):\n    return values\n"),
        # mypy --strict passes this (a subscript of a dict[str, Any] stays Any); pyright
        # narrows out["tags"] to dict[str, str] and refuses the list stored into it
        ("pyright basic ailib", CLEAN.replace("from __future__ import annotations\n", PYRIGHT_ONLY_IMPORTS) + TAGGED),
    ],
    ids=["unused-import", "zip-without-strict", "format", "wrong-return-type", "untyped-def", "pyright-narrowing"],
)
def test_a_deliberate_error_fails_its_gate(tmp_path: Path, gate: str, module: str, mypy_cache: Path) -> None:
    run = run_gates(scratch_project(tmp_path, module), mypy_cache)
    assert run.returncode != 0, run.stdout + run.stderr
    assert f"gate failed: {gate}" in run.stderr, run.stdout + run.stderr
