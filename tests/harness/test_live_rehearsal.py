"""A live re-recording, rehearsed end to end against the simulator in server mode on loopback.

The suite runs as a person with keys would run it (``pytest conformance/ --live ...``), but
``--live-endpoint-all`` sends every request to a local :class:`SimulatorServer`: real
sockets, keys from the environment, the live HTTP client, timeouts, 429 waits, scrubbing,
provenance, resume and drift report are the code a real run uses. Cassettes go to a scratch
copy, never over the committed ones. Expectations are written here by hand (which providers,
which variables, what a scenario sends) or observed on the simulator's side of the socket.

The runs are pytest sessions in this process (pytester, see suite_run.py), with the keys in
this process's environment for the test's duration; the resumed run's cells go to two xdist
workers, and the run that is interrupted is a process of its own, because it is killed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cassettes import ReadableSerializer, read_provenance
from conformance.live.rehearse import without_provider_keys
from conformance.simulator import SimulatorServer, load_contracts

from .suite_run import ROOT, SUITE, printed, run_suite

pytestmark = pytest.mark.slow

RUN_ID = "rehearsal-1"
#: One provider of every wire family (openai-chat, anthropic-messages, gemini, cohere-v2,
#: replicate: the key in a header, as a bearer token or in the query), and groq, whose key is left out.
PROVIDERS = ("anthropic", "cohere", "gemini", "groq", "openai", "replicate")
#: The variable each provider's documentation names for its key.
KEY_VARIABLES = {
    "anthropic": "ANTHROPIC_API_KEY",
    "cohere": "COHERE_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "openai": "OPENAI_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
}
KEYS = {p: f"live-rehearsal-{p}-{secrets.token_hex(12)}" for p in KEY_VARIABLES}
#: Scenarios a live provider can be asked for (no injected fault) — scenarios.yaml, by hand.
LIVE_SCENARIOS = {
    "basic",
    "system",
    "multi_turn",
    "switching",
    "temperature",
    "max_tokens",
    "top_p",
    "stop",
    "stream",
    "stream_usage",
    "stats",
    # tools and structured output: asked of every provider whose manifest declares them
    "tool_call",
    "tool_parallel",
    "tool_result",
    "tool_choice_required",
    "tool_choice_none",
    "tool_choice_named",
    "tool_stream",
    "tool_stream_parallel",
    "structured_output",
    "json_mode",
}
SELECT = " or ".join(f"{p}-" for p in PROVIDERS)
DEADLINE = 120  # seconds the interrupted run may take to reach its 429: the rehearsal is bounded


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rehearsal's made-up keys in the environment, and no other: a developer's real keys
    must not reach the rehearsal."""
    for name in set(os.environ) - set(without_provider_keys(dict(os.environ))):
        monkeypatch.delenv(name)
    for provider, key in KEYS.items():
        monkeypatch.setenv(KEY_VARIABLES[provider], key)


def _suite(pytester: pytest.Pytester, cassettes: Path, *extra: str | Path, xdist: bool = False) -> pytest.RunResult:
    return run_suite(pytester, "-k", SELECT, "--cassettes", cassettes, *extra, xdist=xdist)


def _statuses(result: pytest.RunResult) -> dict[tuple[str, str], str]:
    """Each cell's status, as the session's results file has it (from the cells' reports)."""
    cells = [
        json.loads(value)
        for report in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        for name, value in report.user_properties
        if name == "conformance_cell"
    ]
    return {(c["provider"], c["scenario"]): c["status"] for c in cells}


def _live_cassettes(cassettes: Path) -> dict[str, Path]:
    out = {}
    for path in sorted(cassettes.rglob("*.yaml")):
        block = read_provenance(path) if path.name != "PROVENANCE.yaml" else None
        if block and block.get("source") == "live" and block.get("run") == RUN_ID:
            out[f"{path.parent.name}/{path.stem}"] = path
    return out


def _journal(report: Path) -> list[dict[str, Any]]:
    path = report / RUN_ID / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _sent_since(server: SimulatorServer, start: int) -> list[tuple[str, int]]:
    return [(req.url.split("/")[2], resp.status) for req, resp in server.log[start:]]


def _max_tokens_sent(body: Any) -> int | None:
    """A max-tokens value anywhere in a request body: a key naming both 'max' and 'token'."""
    if isinstance(body, dict):
        for key, value in body.items():
            if "max" in key.lower() and "token" in key.lower() and isinstance(value, int):
                return value
            found = _max_tokens_sent(value)
            if found is not None:
                return found
    return None


@pytest.fixture
def scratch(tmp_path: Path) -> dict[str, Path]:
    cassettes = tmp_path / "cassettes"
    for provider in PROVIDERS:
        shutil.copytree(ROOT / "cassettes" / provider, cassettes / provider)
    # The committed openai/basic recording, changed the way a real provider might differ:
    # a field the simulator never sent, and no usage. The drift report must find both.
    basic = cassettes / "openai" / "basic.yaml"
    doc = yaml.safe_load(basic.read_text())
    answer = json.loads(doc["interactions"][-1]["response"]["body"]["string"])
    answer.pop("usage")
    answer["simulator_only"] = True
    doc["interactions"][-1]["response"]["body"]["string"] = json.dumps(answer)
    basic.write_text(yaml.safe_dump(doc, sort_keys=False))
    return {"cassettes": cassettes, "report": tmp_path / "live", "matrix": tmp_path / "matrix", "root": tmp_path}


# Not traced for coverage: its sessions run the suite's cells, whose client paths the replayed
# cells already cover.
@pytest.mark.no_cover
def test_live_rerecording_rehearsed_on_loopback(
    pytester: pytest.Pytester, scratch: dict[str, Path], keys: None
) -> None:
    cassettes, report = scratch["cassettes"], scratch["report"]
    outputs: list[str] = []
    committed = {p: (ROOT / "cassettes" / p).stat().st_mtime for p in PROVIDERS}

    with SimulatorServer(load_contracts(), log_size=10_000) as server:
        endpoint = server.base_url
        live = ["--live", "--live-endpoint-all", endpoint, "--live-run-id", RUN_ID, "--live-report", str(report),
                "--live-timeout", "20"]  # fmt: skip

        # 1. the dry run: what would be sent, per provider; nothing is.
        dry_run = _suite(pytester, cassettes, *live, "--dry-run")
        dry = printed(dry_run)
        outputs.append(dry)
        assert dry_run.ret in (0, 5), dry[-3000:]  # 5: every test deselected
        assert server.log == [], "the dry run sent requests"
        listed = {m[1]: m[2] for m in re.finditer(r"^  cell (\S+) max_tokens=(\S+)", dry, re.MULTILINE)}
        providers = re.findall(r"^provider (\S+): \d+ cells, about \d+ tokens \([^)]+\), key from (\S+), endpoint (\S+)$",
                               dry, re.MULTILINE)  # fmt: skip
        assert {p for p, _, _ in providers} == set(KEY_VARIABLES), dry
        assert all(KEY_VARIABLES[p] == var and url == endpoint for p, var, url in providers), providers
        assert "skipped provider groq: no key (set GROQ_API_KEY)" in dry, dry
        assert {c.split("/")[1] for c in listed} <= LIVE_SCENARIOS
        assert {c.split("/")[1] for c in listed if c.startswith("openai/")} == LIVE_SCENARIOS
        assert all(listed[f"{p}/max_tokens"] == "5" for p in KEY_VARIABLES), listed  # the scenario asks for 5

        # 2. a live run, killed while it waits out a 429 (gemini's first request; Retry-After: 1).
        # A process of its own: SIGKILL is what is rehearsed (no cleanup, no finalizer runs).
        server.plan_faults("generativelanguage.googleapis.com", "error_429")
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "conformance/test_conformance.py", "-q", "--no-header", "-k", SELECT,
             "--cassettes", str(cassettes), *live, "-p", "no:xdist"],
            cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + DEADLINE
        while not any(resp.status == 429 for _, resp in server.log):
            assert process.poll() is None and time.monotonic() < deadline, "the run ended before its 429"
            time.sleep(0.02)
        time.sleep(0.3)  # inside the one-second wait
        os.killpg(process.pid, signal.SIGKILL)
        outputs.append(process.communicate(timeout=10)[0])
        first = _live_cassettes(cassettes)
        assert first and {c.split("/")[0] for c in first} <= {"anthropic", "cohere", "gemini"}, first
        assert not list(cassettes.rglob("*.partial")), "a torn cassette was left behind"
        assert (cassettes / "gemini" / "basic.yaml").is_file(), (
            "the interrupted call destroyed the cassette it replaces"
        )
        before_resume = {cell: path.read_bytes() for cell, path in first.items()}

        # 3. resume the run on two xdist workers, each provider on one; replicate is rate limited once.
        server.plan_faults("api.replicate.com", "error_429")
        start = len(server.log)
        resumed = _suite(pytester, cassettes, *live, "-n", "2", "--matrix-report", scratch["matrix"], xdist=True)
        outputs.append(printed(resumed))
        assert resumed.ret == 0, printed(resumed)[-4000:]
        sent = _sent_since(server, start)

    everything = _live_cassettes(cassettes)
    assert set(everything) == set(listed), "recorded cells differ from the dry run's listing"
    for cell, path in everything.items():  # the dry run's max_tokens is what was then sent
        body = json.loads(ReadableSerializer.deserialize(path.read_text())["interactions"][0]["request"]["body"])
        assert str(_max_tokens_sent(body)) == listed[cell].replace("none", "None"), (cell, listed[cell], body)
    journal = _journal(report)
    first_invocation = {e["invocation"] for e in journal if e["cell"] in first and e["event"] == "recorded"}
    now = [e for e in journal if e["event"] == "recorded" and e["invocation"] not in first_invocation]
    recorded_now = {e["cell"] for e in now}
    workers = {provider: {e["pid"] for e in now if e["cell"].startswith(provider + "/")} for provider in KEY_VARIABLES}
    assert all(len(pids) <= 1 for pids in workers.values()), f"a provider's cells ran on two workers: {workers}"
    assert len({pid for pids in workers.values() for pid in pids}) == 2, "the resumed run did not use both workers"
    resumed_now = {e["cell"] for e in journal if e["event"] == "resumed"}
    assert recorded_now.isdisjoint(first), "the resumed run called a cell recorded before the interruption"
    assert recorded_now | set(first) == set(listed)
    assert resumed_now == set(first)
    assert {cell: path.read_bytes() for cell, path in first.items()} == before_resume
    interactions = sum(
        len(ReadableSerializer.deserialize(everything[c].read_text())["interactions"]) for c in recorded_now
    )
    assert len(sent) == interactions + 1, "requests sent on resume: one per recorded interaction, plus the 429"

    # the 429 was waited out, not recorded: replicate's first request got 429, then the same cell 200
    assert sent.count(("api.replicate.com", 429)) == 1
    waited = [e for e in journal if e["event"] == "recorded" and e["waits"]]
    assert [(e["cell"].split("/")[0], e["waits"]) for e in waited] == [("replicate", [1.0])]
    statuses = [i["response"]["status"]["code"] for c in everything for i in
                ReadableSerializer.deserialize(everything[c].read_text())["interactions"]]  # fmt: skip
    assert 429 not in statuses

    # provenance: live, this run, the endpoint really used (the loopback server)
    for cell, path in everything.items():
        block = read_provenance(path) or {}
        assert (block["source"], block["run"], block["endpoint"]) == ("live", RUN_ID, endpoint), cell
        assert read_provenance(path) and "https://" in path.read_text(), f"{cell}: the provider's URL is kept"

    # the matrix marks those cells live, and only those
    matrix = json.loads((scratch["matrix"] / "capability-matrix.json").read_text())
    live_cells = {f"{c['provider']}/{c['scenario']}" for c in matrix["cells"] if c["evidence"] == "live"}
    assert live_cells == set(listed)
    markdown = (scratch["matrix"] / "capability-matrix.md").read_text()
    openai_row = next(line for line in markdown.splitlines() if line.startswith("| openai "))
    assert openai_row.count("ᴸ") == len(LIVE_SCENARIOS), openai_row

    # the drift report: the field the committed recording had and the live one has not, and usage
    drift = (report / RUN_ID / "drift.md").read_text()
    section = drift.split("## openai / basic", 1)[1].split("##", 1)[0]
    assert "vanished `simulator_only`" in section and "usage placement: — → `usage`" in section, drift
    assert f"{len(listed)} cells re-recorded: 1 differ" in drift, drift

    # scrubbed: no planted key in any file written or any line printed
    files = [p for p in scratch["root"].rglob("*") if p.is_file()]
    texts = [p.read_text(errors="replace") for p in files] + outputs
    leaks = [key for key in KEYS.values() for text in texts if key in text]
    assert not leaks, f"planted keys leaked: {sorted(set(leaks))}"
    assert all((ROOT / "cassettes" / p).stat().st_mtime == committed[p] for p in PROVIDERS)

    # 4. the live-recorded cassettes replay offline exactly like the simulated ones
    cells = [f"{SUITE}::test_scenario[{cell.replace('/', '-')}]" for cell in sorted(listed)]
    replay = run_suite(pytester, "--cassettes", cassettes, *cells[1:], suite=cells[0])
    assert replay.ret == 0, printed(replay)[-3000:]
    simulated = run_suite(pytester, *cells[1:], suite=cells[0])
    assert simulated.ret == 0, printed(simulated)[-3000:]
    assert {f"{p}/{s}" for p, s in _statuses(replay)} == set(listed)
    assert _statuses(replay) == _statuses(simulated)


def test_a_429_beyond_the_wait_limit_fails_the_cell_and_keeps_the_old_cassette(
    pytester: pytest.Pytester, tmp_path: Path, keys: None
) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes" / "openai", cassettes / "openai")
    before = (cassettes / "openai" / "basic.yaml").read_bytes()
    with SimulatorServer(load_contracts()) as server:
        server.plan_faults("api.openai.com", "error_429")  # Retry-After: 1, more than the run will wait
        run = run_suite(
            pytester, "-k", "openai-basic", "--cassettes", cassettes, "--live", "--live-endpoint-all",
            server.base_url, "--live-max-wait", "0.5", "--live-run-id", RUN_ID, "--live-report", tmp_path / "live",
        )  # fmt: skip
        assert [resp.status for _, resp in server.log] == [429]
    out = printed(run)
    assert run.ret == 1, out[-3000:]
    assert "not recorded, call again by resuming: openai/basic: 429 asked to wait 1 s" in out, out
    assert (cassettes / "openai" / "basic.yaml").read_bytes() == before
    assert [(e["event"], e["cell"]) for e in _journal(tmp_path / "live")] == [("not_recorded", "openai/basic")]
