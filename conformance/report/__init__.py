"""Report builder for the conformance suite: results file -> capability matrix.

The pytest plugin writes a results file (format 1, ``schema/results.schema.json``);
this package turns it into ``capability-matrix.md`` / ``.json`` / ``.html`` (with an
optional drift section against a previous report) and compares runs of the suite
against several runtimes.

    python -m conformance.report build RESULTS.json --out reports/ [--previous OLD.json]
    python -m conformance.report compare R1.json R2.json --out reports/

Importing this package is cheap: ``tabulate`` and ``jsonschema`` are imported only
when a report is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .model import Matrix, ResultsError, load

__all__ = ["Matrix", "ResultsError", "build", "build_comparison", "load"]


def build(results: str | Path | Matrix, out_dir: str | Path, previous: str | Path | None = None) -> list[Path]:
    """Write the capability-matrix report set; see :func:`conformance.report.builder.build`."""
    from .builder import build as _build

    return _build(results, out_dir, previous=previous)


def build_comparison(results: Sequence[str | Path | Matrix], out_dir: str | Path) -> list[Path]:
    """Write ``comparison.md`` and ``comparison.html`` for several runtimes' results."""
    from .comparison import write

    return write(results, out_dir)
