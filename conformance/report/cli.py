"""Command line: ``python -m conformance.report build|compare|ai-protocol``.

Errors in the input (missing file, invalid results, wrong previous report) exit
with status 2 and a one-paragraph message rather than a traceback: this runs in CI
and the message is what the person reading the log needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .model import ResultsError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance.report", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build capability-matrix.md/.json/.html from a results file")
    b.add_argument("results", help="results JSON written by the conformance pytest plugin")
    b.add_argument("--out", required=True, help="output directory (created if missing)")
    b.add_argument(
        "--previous", help="previous capability-matrix.json, to add a 'Changes since previous report' section"
    )

    c = sub.add_parser("compare", help="compare results of several runtimes (comparison.md/.html)")
    c.add_argument("results", nargs="+", help="results JSON files, one per runtime, in column order")
    c.add_argument("--out", required=True, help="output directory (created if missing)")

    a = sub.add_parser("ai-protocol", help="audit of AI-Protocol manifests (ai-protocol-audit.md/.json/.html)")
    a.add_argument("results", help="results JSON of a run with --manifests ai-protocol:DIR")
    a.add_argument("--manifests", required=True, help="the AI-Protocol tree that run judged")
    a.add_argument("--out", required=True, help="output directory (created if missing)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            from .builder import build

            paths = build(args.results, args.out, previous=args.previous)
        elif args.command == "ai-protocol":
            from .ai_protocol import write as audit

            paths = audit(args.results, args.manifests, args.out)
        else:
            from .comparison import write

            paths = write(args.results, args.out)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0
