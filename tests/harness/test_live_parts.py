"""The parts of a live run, one at a time: endpoints, 429 waits, per-provider slots, the plan, drift."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpcore
import pytest

from conformance.live.plan import make_plan
from conformance.live.route import CellTraffic, Endpoint, LiveRoute, ProviderSlots
from conformance.live.scheduling import provider_of
from conformance.report.recording_drift import compare_recordings
from conformance.scenarios import load_scenarios

from .suite_run import run_suite

# --- endpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "url", "prefix"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", ""),
        ("https://gateway.example.com/openai/", "https://gateway.example.com/openai", "/openai"),
        ("https://gateway.example.com:443", "https://gateway.example.com", ""),
    ],
)
def test_endpoint_parses_an_origin_and_a_path_prefix(given: str, url: str, prefix: str) -> None:
    endpoint = Endpoint.parse(given)
    assert (endpoint.url, endpoint.prefix) == (url, prefix)


@pytest.mark.parametrize(
    "bad", ["127.0.0.1:8080", "ftp://host", "http://", "http://user:secret@host", "http://host/?a=b", "http://h:99999"]
)
def test_endpoint_refuses_what_is_not_an_origin(bad: str) -> None:
    with pytest.raises(ValueError, match="http"):
        Endpoint.parse(bad)


# --- the route: endpoint override and 429 waits -----------------------------------------


class _Pool:
    """Answers with the given (status, headers) in turn and keeps what it was sent."""

    def __init__(self, *answers: tuple[int, list[tuple[bytes, bytes]]]) -> None:
        self.answers = list(answers)
        self.sent: list[Any] = []

    async def handle_async_request(self, request: Any) -> Any:
        self.sent.append(request)
        status, headers = self.answers.pop(0)
        return httpcore.Response(status, headers=headers, content=b"{}")

    async def aclose(self) -> None:
        pass


def _request() -> Any:
    return httpcore.Request(
        "POST",
        "https://api.openai.com/v1/chat/completions?x=1",
        headers=[(b"Host", b"api.openai.com"), (b"Authorization", b"Bearer k")],
        content=b'{"model": "m"}',
    )


def _route(pool: _Pool, endpoint: str | None, max_wait: float = 60.0) -> tuple[LiveRoute, CellTraffic, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    traffic = CellTraffic()
    route = LiveRoute(pool, Endpoint.parse(endpoint) if endpoint else None, traffic, max_wait=max_wait, sleep=sleep)
    return route, traffic, slept


def test_an_endpoint_override_keeps_path_query_and_host_header() -> None:
    pool = _Pool((200, []))
    route, traffic, _ = _route(pool, "http://127.0.0.1:9/prefix")
    asyncio.run(route.handle_async_request(_request()))
    sent = pool.sent[0]
    assert (sent.url.scheme, sent.url.host, sent.url.port) == (b"http", b"127.0.0.1", 9)
    assert sent.url.target == b"/prefix/v1/chat/completions?x=1"
    assert (b"Host", b"api.openai.com") in sent.headers
    assert traffic.endpoint == "http://127.0.0.1:9"


def test_without_override_the_endpoint_is_the_providers_origin() -> None:
    pool = _Pool((200, []))
    route, traffic, _ = _route(pool, None)
    asyncio.run(route.handle_async_request(_request()))
    assert traffic.endpoint == "https://api.openai.com"


def test_a_429_is_waited_out_as_retry_after_says_and_sent_again() -> None:
    pool = _Pool((429, [(b"Retry-After", b"3")]), (429, []), (200, []))
    route, traffic, slept = _route(pool, None)
    response = asyncio.run(route.handle_async_request(_request()))
    assert response.status == 200
    assert slept == [3.0, 4.0]  # Retry-After, then the doubled back-off of a 429 that says nothing (2 s, 4 s)
    assert traffic.waits == [3.0, 4.0] and len(pool.sent) == 3


def test_a_retry_after_beyond_the_limit_is_handed_to_the_client() -> None:
    pool = _Pool((429, [(b"retry-after", b"3600")]))
    route, traffic, slept = _route(pool, None, max_wait=120)
    response = asyncio.run(route.handle_async_request(_request()))
    assert response.status == 429 and slept == []
    assert traffic.gave_up == "429 asked to wait 3600 s, more than --live-max-wait 120 s"


# --- per-provider slots -------------------------------------------------------------------


def test_provider_slots_bound_cells_per_provider(tmp_path: Path) -> None:
    slots = ProviderSlots(tmp_path, limit=2, poll=0.01)
    first, second = slots.acquire("openai"), slots.acquire("openai")
    with pytest.raises(TimeoutError, match="openai"):
        slots.acquire("openai", timeout=0.1)
    other = slots.acquire("anthropic", timeout=0.1)  # another provider has its own slots
    first()
    third = slots.acquire("openai", timeout=0.5)
    for release in (second, third, other):
        release()


def test_a_slot_is_held_across_processes(tmp_path: Path) -> None:
    """An xdist worker is another process: the slot it holds must be held for this one too."""
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sys, fcntl; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX);"
         "print('held', flush=True); sys.stdin.read()"), str(tmp_path / "openai.0.lock")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(TimeoutError):
            ProviderSlots(tmp_path, limit=1, poll=0.01).acquire("openai", timeout=0.2)
    finally:
        holder.communicate("")  # the holder exits: its lock goes with it
    ProviderSlots(tmp_path, limit=1).acquire("openai", timeout=1)()


# --- xdist scheduling ---------------------------------------------------------------------


def test_a_cells_provider_is_read_from_its_test_id() -> None:
    providers = ["open", "openai", "groq"]
    assert provider_of("conformance/test_conformance.py::test_scenario[openai-stream_usage]", providers) == "openai"
    assert provider_of("conformance/test_conformance.py::test_scenario[open-basic]", providers) == "open"
    assert provider_of("conformance/test_cassettes.py::test_no_secret_in_cassettes", providers) is None
    assert provider_of("conformance/test_conformance.py::test_scenario[mistral-basic]", providers) is None


# --- the plan -------------------------------------------------------------------------------


def test_the_plan_skips_faults_missing_keys_and_what_is_over_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenarios = {s.id: s for s in load_scenarios()}
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    recorded = tmp_path / "openai-system.yaml"
    recorded.write_text("provenance:\n  source: live\n  run: r7\ninteractions: []\n")
    earlier = tmp_path / "openai-top_p.yaml"
    earlier.write_text("provenance:\n  source: live\n  run: r6\ninteractions: []\n")
    paths = {"system": recorded, "top_p": earlier}
    cells = [("openai", scenarios[s]) for s in ("basic", "error_400", "system", "top_p", "stream")]
    cells.append(("groq", scenarios["basic"]))
    plan = make_plan(cells, run_id="r7", max_cells=2, cassette=lambda p, s: paths.get(s, tmp_path / "none.yaml"))
    assert [(c.name, c.kind) for c in plan.cells] == [
        ("openai/basic", "call"),
        ("openai/error_400", "simulated"),
        ("openai/system", "resumed"),  # recorded by this run before: not sent again, not counted
        ("openai/top_p", "call"),  # recorded by another run: called again
        ("openai/stream", "over_budget"),
        ("groq/basic", "no_key"),
    ]
    assert plan.cells[-1].reason == "--live: set GROQ_API_KEY to record groq"


# --- options -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--live", "--live-endpoint", "nosuch=http://127.0.0.1:1"], "unknown provider 'nosuch'"),
        (["--dry-run"], "--dry-run only apply with --live"),
        (["--live", "--live-concurrency", "0"], "--live-concurrency 0: must be at least 1"),
    ],
)
def test_bad_live_options_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    run = run_suite(pytester, "--collect-only", *args)
    assert run.ret == 4, "\n".join(run.outlines[-30:])
    assert message in "\n".join(run.errlines), "\n".join(run.errlines[-30:])


# --- drift between two recordings --------------------------------------------------------


def _cassette(status: int, body: str, content_type: str = "application/json", **headers: str) -> dict[str, Any]:
    response = {
        "status": {"code": status, "message": ""},
        "headers": {"content-type": [content_type], **{k: [v] for k, v in headers.items()}},
        "body": {"string": body.encode()},
    }
    return {"interactions": [{"request": {}, "response": response}]}


def test_drift_finds_usage_that_moved_between_stream_events() -> None:
    before = (
        'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'
        'data: {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}\n\n'
        "data: [DONE]\n\n"
    )
    after = (
        'data: {"choices": [{"delta": {"content": "Hi"}}], "usage": {"prompt_tokens": 1}}\n\n'
        'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'
    )
    drift = compare_recordings(
        "p", "s", _cassette(200, before, "text/event-stream"), _cassette(200, after, "text/event-stream")
    )
    assert drift.usage == (("data@middle: usage",), ("data@first: usage",))
    assert drift.fields is not None
    assert "data: [DONE]" in drift.fields.vanished and "data: choices[].finish_reason" in drift.fields.appeared


def test_drift_reports_an_error_answer_with_its_body_shape_and_headers() -> None:
    ok = json.dumps({"id": "x", "choices": [{"message": {"content": "Hi"}}], "usage": {"total_tokens": 3}})
    error = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}})
    drift = compare_recordings("p", "s", _cassette(200, ok), _cassette(400, error, **{"retry-after": "1"}))
    assert drift.status == (200, 400) and drift.fields is None
    assert drift.error_body is not None and "error.type" in drift.error_body.appeared
    assert "usage.total_tokens" in drift.error_body.vanished
    assert drift.headers is not None and drift.headers.appeared == ("retry-after",)
    assert not drift.empty


def test_the_same_shape_is_no_drift_and_no_baseline_is_said() -> None:
    a = _cassette(200, json.dumps({"id": "1", "text": "Hello"}))
    b = _cassette(200, json.dumps({"id": "2", "text": "Bonjour, longer"}))
    assert compare_recordings("p", "s", a, b).empty
    assert not compare_recordings("p", "s", None, b).baseline
