"""Run the conformance suite in this process, as ``pytest conformance/...`` would, with pytester.

The inner session is a new pytest config over the checkout's ``conformance/`` (its rootdir,
``pyproject.toml`` and root ``conftest.py`` are the ones a user's run reads), started from
pytester's scratch directory. Options go on the command line (``--cassettes``,
``--manifests``, ...), never through this process's environment: the plugin sets what it
needs for its session and puts it back (conformance/plugin.py, ``pytest_unconfigure``).
Cassettes a test changes or re-records are scratch copies under ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "conformance" / "test_conformance.py"


def run_suite(pytester: pytest.Pytester, *args: str | Path, suite: Path = SUITE) -> pytest.RunResult:
    """The suite's result in this process; ``-p no:xdist``: the cells run here, not in workers."""
    return pytester.runpytest_inprocess(
        str(suite), "-q", "--no-header", "-p", "no:xdist", "-p", "no:randomly", *(str(a) for a in args)
    )


def output(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines)
