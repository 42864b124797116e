"""Reading another cell's cassette while a session re-records it (conformance.cassettes.read_settled).

Seen before the fix: under `--record-mode=rewrite -n 2`, about one run in five failed a cell
that compares with, or judges, a cassette another worker had just deleted to record it again.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conformance import cassettes


def test_recording_waits_for_a_cassette_being_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cassettes, "_recording", True)
    path = tmp_path / "basic.yaml"
    writer = threading.Timer(0.3, path.write_text, args=("interactions: []\n",))
    writer.start()
    try:
        assert cassettes.read_settled(path) == "interactions: []\n"
    finally:
        writer.cancel()


def test_recording_gives_up_on_a_cassette_that_does_not_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cassettes, "_recording", True)
    monkeypatch.setattr(cassettes, "RECORDING_WAIT_S", 0.2)
    started = time.monotonic()
    assert cassettes.read_settled(tmp_path / "gone.yaml") is None
    assert time.monotonic() - started >= 0.2


def test_replaying_an_absent_cassette_is_absent_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cassettes, "_recording", False)
    done = threading.Event()
    result: list[str | None] = []
    reader = threading.Thread(target=lambda: (result.append(cassettes.read_settled(tmp_path / "x.yaml")), done.set()))
    reader.start()
    assert done.wait(5), "replay waited for a cassette that is not there"
    assert result == [None]
