"""Run the conformance suite in this process, as ``pytest conformance/...`` would, with pytester.

The inner session is a new pytest config over the checkout's ``conformance/`` (its rootdir,
``pyproject.toml`` and root ``conftest.py`` are the ones a user's run reads), started from
pytester's scratch directory. Options go on the command line (``--cassettes``,
``--manifests``, ...), not through this process's environment: the plugin sets what it
needs for its session and puts it back (conformance/plugin.py, ``pytest_unconfigure``).
Cassettes a test changes or re-records are scratch copies under ``tmp_path``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Imported here, once per process, rather than by each inner session: pytester drops what an
# inner session imported when it ends, so each would import (and assertion-rewrite) the suite
# again, and lose the caches of what never changes between sessions (parsed specs, scenarios).
import conformance.evidence.mutations
import conformance.evidence.specs
import conformance.simulator
import conformance.test_cassettes
import conformance.test_conformance  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "conformance" / "test_conformance.py"
#: pytester gives the inner session a scratch HOME; the parsed-spec cache stays the user's
_CACHE_HOME = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


def run_suite(
    pytester: pytest.Pytester, *args: str | Path, suite: str | Path = SUITE, xdist: bool = False
) -> pytest.RunResult:
    """The suite's result, run in this process: its cells too, unless ``xdist`` (then ``-n N``
    in ``args`` runs them in worker processes, as a user's ``-n`` would)."""
    options = ["-q", "--no-header", "-p", "no:randomly", *([] if xdist else ["-p", "no:xdist"])]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", _CACHE_HOME)
        return pytester.runpytest_inprocess(str(suite), *options, *(str(a) for a in args))


def output(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines)


def printed(result: pytest.RunResult) -> str:
    """Everything the session wrote, standard output and error."""
    return "\n".join([*result.outlines, *result.errlines])
