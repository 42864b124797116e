"""The conformance suite: one test, parametrised over every provider × scenario.

Cells, scenarios and checks are data and helpers (scenarios.yaml, evidence/facts/,
checks.py); this file only runs a cell and reports it. Run ``pytest conformance/``.

The plugin's cassette fixtures are imported here so they win over pytest-recording's
whatever order the two plugins were loaded in (an installed harness loads both by entry point).
"""

from __future__ import annotations

import pytest

from .plugin import default_cassette_name, record_cell, vcr_cassette_dir, vcr_config, vcr_markers  # noqa: F401
from .runner import CellContext, run_cell
from .scenarios import Scenario


def test_scenario(request: pytest.FixtureRequest, cell: tuple[str, Scenario], cell_context: CellContext) -> None:
    provider, scenario = cell
    result = run_cell(provider, scenario, cell_context)
    record_cell(request.node, result)
    if result.status == "not_run":
        pytest.skip(result.detail or "not run")
    if result.status == "fail":
        pytest.fail("\n".join(result.problems) or result.detail or "failed", pytrace=False)
