"""Test-wide settings.

In CI (``CI`` set, as ``.ci/run`` is run), hypothesis explores a fixed, reproducible set of
examples (``derandomize``): a landing is never refused because a random seed happened on a
bug unrelated to the change, and a red run can be replayed exactly. Locally each run
explores new examples, which is where new bugs are found.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

#: pytester: the conformance plugin's own tests run the suite in-process (tests/harness/suite_run.py)
pytest_plugins = ["pytester"]

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


#: ``record_property`` name of a line a test wants in the CI output whatever the verbosity
#: (the mutation self-test's kill rate). Read from the test reports, which reach the
#: controlling process under pytest-xdist too, and printed outside output capture.
SUMMARY_LINE = "ailib_summary_line"
_summary_lines: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _summary_lines.extend(value for name, value in report.user_properties if name == SUMMARY_LINE)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _summary_lines:
        terminalreporter.write_line(line)
