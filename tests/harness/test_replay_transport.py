"""Replay without vcrpy's per-test patch: a cassette served through the suite's own client.

The conformance suite replays a cell's cassette through an httpx transport driven by vcrpy's
Cassette API (conformance/cassettes.py ``CassetteTransport``) for runtimes that send through
the client the suite hands them; these tests hold it to what vcrpy's patch guaranteed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cassettes import (
    ParsedCassettes,
    ReadableSerializer,
    capture_requests,
    load_replay_cassette,
    replay_client_factory,
)

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "cassettes" / "openai" / "basic.yaml"


def _replay(pytestconfig: pytest.Config, seen: list[Any], path: Path = BASIC) -> Any:
    config = {
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
        "before_record_request": capture_requests(seen),
    }
    return load_replay_cassette(path, config, pytestconfig)


def _recorded() -> dict[str, Any]:
    """openai/basic's one interaction, read with plain YAML (not through the code under test)."""
    return yaml.safe_load(BASIC.read_text(encoding="utf-8"))["interactions"][0]


async def _send(cassette: Any, url: str, body: bytes) -> Any:
    async with replay_client_factory(cassette)() as client:
        return await client.post(url, content=body, headers={"content-type": "application/json"})


def test_a_recorded_request_gets_the_recorded_answer(pytestconfig: pytest.Config) -> None:
    recorded, seen = _recorded(), []
    cassette = _replay(pytestconfig, seen)
    seen.clear()
    response = asyncio.run(_send(cassette, recorded["request"]["uri"], recorded["request"]["body"].encode()))
    assert response.status_code == recorded["response"]["status"]["code"]
    assert response.text == recorded["response"]["body"]["string"]
    assert cassette.play_count == 1 and cassette.all_played
    assert [(r.method, r.uri) for r in seen][-1] == ("POST", recorded["request"]["uri"])


def test_a_request_not_in_the_cassette_fails_and_opens_no_socket(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    connects: list[Any] = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: connects.append(address))
    cassette = _replay(pytestconfig, [])
    with pytest.raises(CannotOverwriteExistingCassetteException, match="no recorded interaction matches"):
        asyncio.run(_send(cassette, "https://api.openai.com/v1/other", b"{}"))
    assert connects == [] and cassette.play_count == 0 and not cassette.all_played


def test_a_recorded_answer_is_played_once(pytestconfig: pytest.Config) -> None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    recorded = _recorded()
    cassette = _replay(pytestconfig, [])
    body = recorded["request"]["body"].encode()
    asyncio.run(_send(cassette, recorded["request"]["uri"], body))
    with pytest.raises(CannotOverwriteExistingCassetteException):
        asyncio.run(_send(cassette, recorded["request"]["uri"], body))
    assert cassette.play_count == 1


def test_parse_cache_gives_what_parsing_gives_and_follows_edits(tmp_path: Path) -> None:
    text = BASIC.read_text(encoding="utf-8")
    cache = ParsedCassettes(tmp_path)
    assert cache.deserialize(text) == ReadableSerializer.deserialize(text)  # parsed, stored
    assert len(list(tmp_path.glob("*.marshal"))) == 1
    assert cache.deserialize(text) == ReadableSerializer.deserialize(text)  # from the store
    edited = text.replace("Hello, world!", "Hello, cache!")
    assert edited != text
    assert cache.deserialize(edited) == ReadableSerializer.deserialize(edited)
    assert b"Hello, cache!" in cache.deserialize(edited)["interactions"][0]["request"]["body"]
    assert len(list(tmp_path.glob("*.marshal"))) == 2


RUNTIMES = '''
import httpx
from conformance.runtimes.base import ErrorInfo, Outcome


def _why(exc):
    """The exception and what caused it, through httpcore's task groups."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_why(e) for e in exc.exceptions)
    inner = exc.__cause__ or exc.__context__
    return str(exc) + (" <- " + _why(inner) if inner else "")


class OwnClient:
    """Sends through a client of its own, not the suite's: replayed through vcrpy's patch."""

    name, version = "own-client", "0"
    url = "https://api.openai.com/v1/chat/completions"

    def unavailable(self):
        return None

    def supports(self, provider):
        return None

    async def run(self, call):
        body = {"model": call.model, "messages": [{"role": r, "content": t} for r, t in call.messages]}
        try:
            async with httpx.AsyncClient() as client:
                response = await client.post(self.url, json=body, headers={"authorization": "Bearer " + call.api_key})
        except Exception as exc:
            return Outcome(error=ErrorInfo.unclassified(type(exc).__name__, "own client: " + _why(exc)))
        return Outcome(content=response.json()["choices"][0]["message"]["content"], finish_reason="stop")


class ClaimsTheSuitesClient(OwnClient):
    """Says it sends through the suite's client, but does not: nothing may leave the machine."""

    uses_call_http_client = True
    url = "https://192.0.2.1/v1/chat/completions"  # an address: no name lookup before the guard
'''


def _run_cell(tmp_path: Path, runtime: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "replay_runtimes.py").write_text(textwrap.dedent(RUNTIMES), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "--no-header",
            "conformance/test_conformance.py",
            "-k",
            "openai-basic",
            "--runtime",
            f"replay_runtimes:{runtime}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_runtime_with_its_own_client_is_replayed_through_the_patch(tmp_path: Path) -> None:
    run = _run_cell(tmp_path, "OwnClient")
    assert "sent no request" not in run.stdout and "Network is disabled" not in run.stdout, run.stdout[-3000:]
    assert "never used" not in run.stdout, run.stdout[-3000:]


@pytest.mark.slow
def test_a_request_around_the_suites_client_is_refused_by_the_network_guard(tmp_path: Path) -> None:
    run = _run_cell(tmp_path, "ClaimsTheSuitesClient")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "Network is disabled for host '192.0.2.1'" in run.stdout, run.stdout[-3000:]
