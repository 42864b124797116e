"""The conformance suite: one test, parametrised over every provider × scenario.

Cells, scenarios and checks are data and helpers (scenarios.yaml, evidence/facts/,
checks.py); this file only runs a cell and reports it. Run ``pytest conformance/``.
"""

from __future__ import annotations

import pytest

from conformance.plugin import record_cell
from conformance.runner import CellContext, run_cell
from conformance.scenarios import Scenario


def test_scenario(request: pytest.FixtureRequest, cell: tuple[str, Scenario], cell_context: CellContext) -> None:
    provider, scenario = cell
    result = run_cell(provider, scenario, cell_context)
    record_cell(request.node, result)
    if result.status == "not_run":
        pytest.skip(result.detail or "not run")
    if result.status == "fail":
        pytest.fail("\n".join(result.problems) or result.detail or "failed", pytrace=False)
