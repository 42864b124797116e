"""The run journal: one JSON line per thing a live run did, shared by every process of the run.

It is what makes a long, paid run legible afterwards (which cells were recorded, replayed
because an earlier attempt had recorded them, skipped and why, how long 429s were waited
out) and what the drift report is built from. Lines are appended under an ``flock`` and
flushed to disk one by one, so a run killed half-way keeps everything it did before.
Nothing secret goes in: cell names, endpoints (origins only), waits, response shapes.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def entries(self) -> list[dict[str, Any]]:
        """Every complete line (a line cut by a kill mid-write is ignored)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def latest_by_cell(self, event: str) -> dict[str, dict[str, Any]]:
        """The last entry of kind ``event`` for each cell, in the order cells first appeared."""
        latest: dict[str, dict[str, Any]] = {}
        for entry in self.entries():
            if entry.get("event") == event:
                latest[entry["cell"]] = entry
        return latest
