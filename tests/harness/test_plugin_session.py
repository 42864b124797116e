"""The plugin's options hold for its own session only: one process can run the suite twice,
with different options, and is left as it was (what pytester runs of the suite rely on)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from pytest_recording.network import blocking_context

from conformance import cassettes

from .suite_run import ROOT, output, run_suite

pytestmark = [pytest.mark.slow, pytest.mark.no_cover]  # each test runs the suite (in this process)

VARIABLES = ("AILIB_MANIFESTS_DIR", "AILIB_RUNTIME_DRIVER", "AILIB_AI_PROTOCOL_DIR")


def _process_state() -> tuple[object, ...]:
    return (
        {name: os.environ.get(name) for name in VARIABLES},
        cassettes.cassettes_dir(),
        socket.socket.connect,
        socket.socket.connect_ex,
        {name: sys.modules.get(name, "absent") for name in ("requests", "aiohttp", "botocore", "tornado")},
    )


def test_two_sessions_in_one_process_each_see_their_own_options(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = _process_state()
    scratch = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes" / "openai", scratch / "openai")
    (scratch / "openai" / "basic.yaml").unlink()
    manifests = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", manifests)

    # a session with every option that reaches beyond the config: the cassette is missing there
    first = run_suite(
        pytester, "-k", "openai-basic", "--cassettes", scratch, "--manifests", manifests,
        "--runtime-driver", "no-such-driver", "--ai-protocol-dir", tmp_path,
    )  # fmt: skip
    assert first.ret == 1 and "missing cassette" in output(first), output(first)[-2000:]
    assert _process_state() == before

    # the next session replays the shipped cassettes with the project's manifests, inside a
    # session that blocks the network itself (the conformance suite's own, under xdist)
    with blocking_context(allowed_hosts=["127.0.0.1"]):
        guarded = _process_state()
        second = run_suite(pytester, "-k", "openai-basic")
        assert second.ret == 0, output(second)[-2000:]
        assert _process_state() == guarded
    assert _process_state() == before


def test_the_options_reach_the_session_that_was_given_them(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """Seen from inside the inner session: the environment the runtimes read, and the cassettes."""
    manifests = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", manifests)
    pytester.makepyfile(
        test_seen=f"""
        import os
        from conformance.cassettes import cassettes_dir

        def test_seen():
            assert os.environ["AILIB_MANIFESTS_DIR"] == {str(manifests)!r}
            assert os.environ["AILIB_RUNTIME_DRIVER"] == "drive me"
            assert os.environ["AILIB_AI_PROTOCOL_DIR"] == {str(tmp_path)!r}
            assert str(cassettes_dir()) == {str(tmp_path)!r}
        """
    )
    run = pytester.runpytest_inprocess(
        "-p", "conformance.plugin", "-p", "no:xdist", "-o", "asyncio_default_fixture_loop_scope=function", "--manifests", str(manifests), "--runtime-driver", "drive me",
        "--ai-protocol-dir", str(tmp_path), "--cassettes", str(tmp_path),
    )  # fmt: skip
    run.assert_outcomes(passed=1)
