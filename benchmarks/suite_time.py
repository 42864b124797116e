"""How long the conformance suite takes, serially, with the project's own interpreter.

    python benchmarks/suite_time.py                 # 3 runs of `pytest conformance/`, medians
    python benchmarks/suite_time.py --reps 5 --budget 10 -- -k openai   # extra pytest arguments after --

Prints, per run, the wall time and the CPU time the pytest process used (user + system,
from ``resource.getrusage`` of the child), then the medians and the load average: on a
shared machine the CPU time is the figure to compare, the wall time says what a reader
waits. Exits 1 when the median wall time is over ``--budget`` seconds (default 10, the
project's target for the whole suite), so CI can hold the line.

Bytecode: with ``PYTHONDONTWRITEBYTECODE`` set, every run recompiles and assertion-rewrites
every imported module (about a second here); ``--bytecode`` unsets it for the runs, after
one warm-up run that writes the caches, to measure the suite rather than the compiler.
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(python: str, extra: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "pytest", "conformance/", "-q", "-p", "no:randomly", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds (median wall time)")
    parser.add_argument("--bytecode", action="store_true", help="allow .pyc caches (warm-up run first)")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        run_once(args.python, args.pytest_args, env)
    walls, cpus = [], []
    for rep in range(1, args.reps + 1):
        wall, cpu, code = run_once(args.python, args.pytest_args, env)
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {rep}: wall {wall:.2f} s, cpu {cpu:.2f} s, pytest exit {code}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"median: wall {wall:.2f} s, cpu {cpu:.2f} s (load average {load}; {os.cpu_count()} cores)")
    if wall > args.budget:
        print(f"over budget: {wall:.2f} s > {args.budget:g} s")
        return 1
    print(f"within budget ({args.budget:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
