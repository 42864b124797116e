"""Test-wide settings.

In CI (``CI`` set, as ``.ci/run`` is run), hypothesis explores a fixed, reproducible set of
examples (``derandomize``): a landing is never refused because a random seed happened on a
bug unrelated to the change, and a red run can be replayed exactly. Locally each run
explores new examples, which is where new bugs are found.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_terminal_summary(terminalreporter, config) -> None:  # type: ignore[no-untyped-def]
    """Lines a test wants in the CI output whatever the verbosity (the mutation self-test's
    kill rate), printed outside pytest's output capture."""
    for line in getattr(config, "ailib_summary_lines", []):
        terminalreporter.write_line(line)
