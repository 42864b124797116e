"""Test-wide settings.

In CI (``CI`` set, as ``.ci/run`` is run), hypothesis explores a fixed, reproducible set of
examples (``derandomize``): a landing is never refused because a random seed happened on a
bug unrelated to the change, and a red run can be replayed exactly. Locally each run
explores new examples, which is where new bugs are found.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

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


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Make ``no_cover`` hold under pytest-xdist too.

    pytest-cov (7.1) pauses its worker's coverage for a ``no_cover`` test, but in an xdist
    worker it has also started a second one, early, while parsing ``-n`` (its
    ``pytest_load_initial_conftests`` takes the worker for a controller); stopping the first
    resumes the second, and the test is traced anyway (measured: the re-chunked replays took
    4x their untraced time). Inside pytest-cov's own wrapper, this stops whatever coverage is
    still running and restarts it after the test, through coverage's public API."""
    if item.get_closest_marker("no_cover") is None or "coverage" not in sys.modules:
        yield
        return
    import coverage

    stopped = []
    while (running := coverage.Coverage.current()) is not None:
        running.stop()
        stopped.append(running)
    try:
        yield
    finally:
        for cov in reversed(stopped):
            cov.start()
