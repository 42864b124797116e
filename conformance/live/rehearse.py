"""Rehearse a live re-recording offline: ``python -m conformance.live.rehearse [pytest args]``.

Starts the provider simulator in server mode on 127.0.0.1, copies the committed cassettes
to a scratch directory, gives every provider a made-up key, and runs the suite exactly as a
live run (``--live``) with ``--live-endpoint-all`` pointing at the simulator. Real sockets,
timeouts, 429 waits, scrubbing, provenance, the journal and the drift report all run; no
request leaves the machine and the committed cassettes are not touched. Extra arguments go to
pytest (``-k 'openai- or anthropic-'``, ``--dry-run``, ``--live-max-cells 20``, ``-n 2``).
``--out DIR`` keeps the results in DIR (default: a new temporary directory).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def without_provider_keys(env: dict[str, str]) -> dict[str, str]:
    """``env`` without any variable a manifest reads a key from: a rehearsal never holds a real key."""
    from ailib import manifest as manifests

    names = {name for p in manifests.available() for name in manifests.load(p).env_vars()}
    return {k: v for k, v in env.items() if k not in names}


def rehearsal_keys() -> dict[str, str]:
    """A made-up key for every provider, under the first variable its manifest reads."""
    from ailib import manifest as manifests

    return {manifests.load(p).env_vars()[0]: f"rehearsal-key-{p}" for p in manifests.available()}


def main(argv: list[str]) -> int:
    out = None
    if argv[:1] == ["--out"] and len(argv) > 1:
        out, argv = Path(argv[1]), argv[2:]
    out = out or Path(tempfile.mkdtemp(prefix="ailib-live-rehearsal-"))
    cassettes = out / "cassettes"
    if not cassettes.exists():
        shutil.copytree(ROOT / "cassettes", cassettes)
    from ..simulator import SimulatorServer, load_contracts

    env = {**without_provider_keys(dict(os.environ)), **rehearsal_keys(), "AILIB_CASSETTES_DIR": str(cassettes)}
    with SimulatorServer(load_contracts(), log_size=10) as server:
        command = [
            sys.executable, "-m", "pytest", "conformance/test_conformance.py", "--live",
            "--live-endpoint-all", server.base_url, "--live-report", str(out / "live"),
            "--matrix-report", str(out / "matrix"), *argv,
        ]  # fmt: skip
        print("rehearsal:", " ".join(command[1:]), flush=True)
        code = subprocess.call(command, cwd=ROOT, env=env)
    print(f"rehearsal results in {out}: cassettes/, live/<run id>/ (journal, drift.md), matrix/")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
