"""``--live``: re-record cassettes from the real providers, or rehearse it against a local server.

A live run sends real HTTP with keys from the environment, through the same runtime adapter,
httpx client, scrubbing and provenance as any recording. What it adds is what a person
spending money needs (see :mod:`.plan`, :mod:`.route`, :mod:`.journal`):

``--live-endpoint PROVIDER=URL``  send PROVIDER's requests to URL instead (repeatable); the
                                  cassette keeps the provider's URL, the provenance names URL
``--live-endpoint-all URL``       the same for every provider (e.g. the simulator in server mode)
``--dry-run``                     list what would be sent, per provider, with max_tokens and a
                                  token estimate, and the providers skipped for a missing key
``--live-max-cells N``            call at most N cells in this invocation
``--live-concurrency N``          at most N cells of one provider at a time, across xdist workers
``--live-max-wait S``             longest Retry-After a 429 is waited out for (default 120 s)
``--live-timeout S``              HTTP timeout of each request (default 60 s)
``--live-run-id ID``              name the run; the same id again resumes an interrupted run
``--live-report DIR``             where the run journal and drift report go (default reports/live)

Under pytest-xdist (``-n N``) each provider's cells run on one worker (:mod:`.scheduling`);
every cell has its own cassette, so no two workers write one.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..cassettes import ReadableSerializer, cassettes_dir
from ..scenarios import Scenario
from .journal import Journal
from .plan import Plan, PlannedCell, capture_requests, key_variable, make_plan, render_plan
from .route import CellTraffic, Endpoint, LiveRoute, ProviderSlots

_SESSION = pytest.StashKey["LiveSession"]()
_RUN_ID_INPUT = "ailib_live_run_id"


def add_options(group: Any) -> None:
    group.addoption(
        "--live-endpoint",
        action="append",
        default=[],
        metavar="PROVIDER=URL",
        help="--live: send PROVIDER's requests to URL (repeatable); cassettes keep the provider's URL",
    )
    group.addoption("--live-endpoint-all", metavar="URL", help="--live: send every provider's requests to URL")
    group.addoption(
        "--dry-run", action="store_true", help="--live: list what would be sent and what it costs; send nothing"
    )
    group.addoption("--live-max-cells", type=int, metavar="N", help="--live: call at most N cells in this run")
    group.addoption(
        "--live-concurrency",
        type=int,
        default=1,
        metavar="N",
        help="--live: cells of one provider at a time (default 1)",
    )
    group.addoption(
        "--live-max-wait", type=float, default=120.0, metavar="S", help="--live: longest Retry-After waited out (120 s)"
    )
    group.addoption("--live-timeout", type=float, default=60.0, metavar="S", help="--live: HTTP timeout (60 s)")
    group.addoption("--live-run-id", metavar="ID", help="--live: the run's name; give it again to resume that run")
    group.addoption(
        "--live-report",
        default="reports/live",
        metavar="DIR",
        help="--live: run journal and drift report go to DIR/<run id>",
    )


_LIVE_ONLY = ("--live-endpoint", "--live-endpoint-all", "--dry-run", "--live-max-cells", "--live-run-id")


def configure(config: pytest.Config) -> None:
    """Register the live session when ``--live`` is given; refuse live options without it."""
    if not config.getoption("--live"):
        given = [o for o in _LIVE_ONLY if config.getoption(o)]
        if given:
            raise pytest.UsageError(f"{', '.join(given)} only apply with --live")
        return
    session = LiveSession(config)
    config.stash[_SESSION] = session
    config.pluginmanager.register(session, "conformance-live")


def get(config: pytest.Config) -> LiveSession | None:
    return config.stash.get(_SESSION, None)


#: The least value each numeric live option accepts.
_MINIMUMS: dict[str, float] = {
    "--live-max-cells": 0,
    "--live-concurrency": 1,
    "--live-max-wait": 0,
    "--live-timeout": 0.1,
}


def _parse_endpoints(config: pytest.Config) -> tuple[dict[str, Endpoint], Endpoint | None]:
    from ailib import manifest as manifests

    known = manifests.available()
    endpoints: dict[str, Endpoint] = {}
    for value in config.getoption("--live-endpoint"):
        provider, sep, url = value.partition("=")
        provider = provider.strip()
        if not sep or not provider:
            raise pytest.UsageError(f"--live-endpoint {value!r}: expected PROVIDER=URL")
        if provider not in known:
            raise pytest.UsageError(f"--live-endpoint {value!r}: unknown provider {provider!r}")
        try:
            endpoints[provider] = Endpoint.parse(url)
        except ValueError as exc:
            raise pytest.UsageError(f"--live-endpoint {provider}: {exc}") from None
    every = config.getoption("--live-endpoint-all")
    try:
        return endpoints, Endpoint.parse(every) if every else None
    except ValueError as exc:
        raise pytest.UsageError(f"--live-endpoint-all: {exc}") from None


def _run_id(config: pytest.Config) -> str:
    given = config.getoption("--live-run-id")
    workerinput = getattr(config, "workerinput", None)
    if not given and workerinput is not None:
        given = workerinput.get(_RUN_ID_INPUT)
    run_id = given or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    if not run_id.replace("-", "").replace("_", "").replace(".", "").isalnum() or run_id.startswith("."):
        raise pytest.UsageError(f"--live-run-id {run_id!r}: use letters, digits, '.', '-' and '_' only")
    return run_id


class LiveSession:
    """The live run of one pytest process: its plan, journal, per-provider slots and endpoints."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.endpoints, self.endpoint_all = _parse_endpoints(config)
        self.run_id = _run_id(config)
        for name, least in _MINIMUMS.items():
            value = config.getoption(name)
            if value is not None and value < least:
                raise pytest.UsageError(f"{name} {value}: must be at least {least}")
        if not config.getoption("--dry-run") and config.getoption("--record-mode") in (None, "none"):
            config.option.record_mode = "rewrite"  # --live records (each planned cell, see records())
        report = Path(config.getoption("--live-report"))
        self.directory = (report if report.is_absolute() else config.rootpath / report) / self.run_id
        self.journal = Journal(self.directory / "journal.jsonl")
        self.slots = ProviderSlots(self.directory / "locks", config.getoption("--live-concurrency"))
        workerinput = getattr(config, "workerinput", None)
        self.invocation = (workerinput or {}).get("testrunuid") or uuid.uuid4().hex[:12]
        self.started = time.time()
        self.plan: Plan | None = None
        self._cells: dict[str, PlannedCell] = {}
        self.traffic: CellTraffic | None = None
        self.dry_run_lines: list[str] = []

    # --- endpoints -----------------------------------------------------------------

    def endpoint_for(self, provider: str) -> Endpoint | None:
        return self.endpoints.get(provider) or self.endpoint_all

    def _endpoint_url(self, provider: str) -> str | None:
        endpoint = self.endpoint_for(provider)
        return endpoint.url if endpoint else None

    # --- collection ------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: every worker records under the controller's run id."""
        node.workerinput[_RUN_ID_INPUT] = self.run_id

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """xdist controller: each provider's cells to one worker."""
        from ailib import manifest as manifests

        from .scheduling import provider_scheduler

        return provider_scheduler(config, log, manifests.available())

    @pytest.hookimpl(trylast=True)  # after -k / -m deselection: plan what will really run
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        from ..runner import cassette_path

        cells: list[tuple[str, Scenario]] = []
        nodes: list[pytest.Item] = []
        for item in items:
            callspec = getattr(item, "callspec", None)
            if callspec is not None and "cell" in callspec.params:
                cells.append(callspec.params["cell"])
                nodes.append(item)
        self.plan = plan = make_plan(
            cells, run_id=self.run_id, max_cells=config.getoption("--live-max-cells"), cassette=cassette_path
        )
        self._cells = plan.by_name()
        if config.getoption("--dry-run"):
            self._dry_run(plan)
            config.hook.pytest_deselected(items=list(items))
            items[:] = []
            return
        for item, cell in zip(nodes, plan.cells, strict=True):
            if cell.kind in ("simulated", "no_key", "over_budget"):
                item.add_marker(pytest.mark.skip(reason=cell.reason or cell.kind))

    def _dry_run(self, plan: Plan) -> None:
        from ailib import manifest as manifests

        from ..runner import CellContext, _call, planted_key
        from ..runtimes import get_runtime

        runtime = get_runtime(self.config.getoption("--runtime"))

        def make_call(cell: PlannedCell, client: Callable[[], Any]) -> Any:
            ctx = CellContext(runtime, client, [], None, False, planted_key(cell.provider))
            return _call(cell.provider, cell.scenario, manifests.load(cell.provider), ctx)

        capture_requests(plan, runtime, make_call)
        self.dry_run_lines = render_plan(plan, self._endpoint_url)

    def _snapshot_baseline(self, cell: PlannedCell) -> None:
        """Keep the cassette this run replaces (the first attempt's copy wins, so a resumed
        run still compares with what was there before the run, not with its own recordings)."""
        from ..runner import cassette_path

        source = cassette_path(cell.provider, cell.scenario.id)
        target = self._baseline_path(cell.provider, cell.scenario.id)
        if not source.is_file() or target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "x", encoding="utf-8") as f:
                f.write(source.read_text(encoding="utf-8"))
        except FileExistsError:
            pass

    def _baseline_path(self, provider: str, scenario: str) -> Path:
        return self.directory / "baseline" / provider / f"{scenario}.yaml"

    # --- one cell ----------------------------------------------------------------------

    def planned(self, provider: str, scenario: Scenario) -> PlannedCell | None:
        return self._cells.get(f"{provider}/{scenario.id}")

    def records(self, path: Path) -> bool:
        """``path`` is the cassette of a cell this process calls the provider for."""
        try:
            relative = path.relative_to(cassettes_dir())
        except ValueError:
            return False
        cell = self._cells.get(relative.with_suffix("").as_posix())
        return cell is not None and cell.kind == "call"

    def is_resumed(self, provider: str, scenario: Scenario) -> bool:
        cell = self.planned(provider, scenario)
        return cell is not None and cell.kind == "resumed"

    def enter_cell(self, request: pytest.FixtureRequest, provider: str, scenario: Scenario) -> tuple[str, Any]:
        """(API key, HTTP client factory) for one cell; a cell that calls the provider holds
        one of its slots until the test ends."""
        from ..runner import planted_key

        variable, _ = key_variable(provider)
        key = os.environ[variable] if variable else planted_key(provider)
        cell = self.planned(provider, scenario)
        kind = cell.kind if cell else "offline"
        self.traffic = traffic = CellTraffic()
        if cell is not None and kind == "resumed":
            self._log("resumed", cell.name)
        elif cell is not None and kind == "call":
            request.addfinalizer(self.slots.acquire(provider))
            self._snapshot_baseline(cell)  # the cassette is still the old one: it is replaced when saved
        return key, self._client_factory(provider, traffic)

    def _client_factory(self, provider: str, traffic: CellTraffic) -> Callable[[], Any]:
        import httpx

        from ailib.client import default_ssl_context

        endpoint = self.endpoint_for(provider)
        timeout = self.config.getoption("--live-timeout")
        max_wait = self.config.getoption("--live-max-wait")

        def make() -> httpx.AsyncClient:
            transport = httpx.AsyncHTTPTransport(verify=default_ssl_context())
            transport._pool = LiveRoute(transport._pool, endpoint, traffic, max_wait=max_wait)  # type: ignore[assignment]
            return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout))

        return make

    # --- saving ------------------------------------------------------------------------

    def provenance(self) -> dict[str, Any]:
        """What a live cassette says beyond source/date/client: the endpoint really used, the run."""
        traffic = self.traffic or CellTraffic()
        return {"endpoint": traffic.endpoint or "unknown (no request reached the network layer)", "run": self.run_id}

    def keeps_recording(self, path: Path) -> bool:
        """Whether to save what a cell recorded: not a 429 the run gave up waiting for (the
        cassette it would replace stays, and resuming the run calls the cell again)."""
        traffic = self.traffic or CellTraffic()
        if traffic.gave_up is None:
            return True
        self._log("not_recorded", path.relative_to(cassettes_dir()).with_suffix("").as_posix(), reason=traffic.gave_up)
        return False

    def recorded(self, path: Path, text: str) -> None:
        """A cassette was written: journal it with what changed since the recording it replaced."""
        from ..report.recording_drift import compare_recordings

        relative = path.relative_to(cassettes_dir())
        provider, scenario = relative.parent.as_posix(), relative.stem
        baseline = self._baseline_path(provider, scenario)
        before = ReadableSerializer.deserialize(baseline.read_text(encoding="utf-8")) if baseline.is_file() else None
        drift = compare_recordings(provider, scenario, before, ReadableSerializer.deserialize(text))
        traffic = self.traffic or CellTraffic()
        self._log(
            "recorded", f"{provider}/{scenario}", endpoint=traffic.endpoint, waits=traffic.waits, drift=drift.as_dict()
        )

    def _log(self, event: str, cell: str, **details: Any) -> None:
        """One journal line: what happened to which cell, in which run, attempt and process."""
        self.journal.append(
            {
                "event": event,
                "cell": cell,
                "run": self.run_id,
                "invocation": self.invocation,
                "pid": os.getpid(),
                "time": time.time(),
                **details,
            }
        )

    # --- after the run -------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput") or self.config.getoption("--dry-run"):
            return
        recorded = self.journal.latest_by_cell("recorded")
        if recorded:
            write_drift_report(self.directory, self.run_id, recorded)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.config.getoption("--dry-run"):
            terminalreporter.section("live dry run")
            for line in self.dry_run_lines or ["no live cells collected (under xdist, run the dry run without -n)"]:
                write(line)
            return
        entries = [e for e in self.journal.entries() if e.get("time", 0) >= self.started]
        recorded = [e for e in entries if e["event"] == "recorded"]
        resumed = [e for e in entries if e["event"] == "resumed"]
        waits = [w for e in recorded for w in e.get("waits") or []]
        terminalreporter.section("live run")
        write(
            f"run {self.run_id}: {len(recorded)} cells recorded, {len(resumed)} replayed from earlier in the run, "
            f"{len(waits)} rate-limit waits ({sum(waits):g} s)"
        )
        for e in entries:
            if e["event"] == "not_recorded":
                write(f"  not recorded, call again by resuming: {e['cell']}: {e['reason']}")
        if self.plan is not None:
            for kind, label in (("no_key", "no key"), ("over_budget", "over budget"), ("simulated", "fault scenarios")):
                cells = self.plan.of_kind(kind)
                if cells:
                    write(f"skipped ({label}): {len(cells)} cells")
        write(f"journal: {self.journal.path}")
        if (self.directory / "drift.md").is_file():
            write(f"drift report: {self.directory / 'drift.md'}")
        write(f"an interrupted run continues with: --live-run-id {self.run_id}")


def write_drift_report(directory: Path, run_id: str, recorded: dict[str, dict[str, Any]]) -> Path:
    """``drift.md`` and ``drift.json`` of a run, from its journal's latest recording of each cell."""
    import json

    from ..report.recording_drift import RecordingDrift, drift_markdown

    drifts = [RecordingDrift.from_dict(e["drift"]) for e in recorded.values()]
    endpoints = sorted({str(e.get("endpoint")) for e in recorded.values()})
    waits = [w for e in recorded.values() for w in e.get("waits") or []]
    context = [
        (
            f"Run `{run_id}`: each re-recorded cassette compared with the recording it replaced, by the shape "
            "of the response it is judged on (fields, usage placement, status, headers, error bodies), never by value."
        ),
        "",
        f"Endpoints used: {', '.join(endpoints)}. Rate-limit waits: {len(waits)} ({sum(waits):g} s).",
    ]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "drift.md").write_text(drift_markdown(f"Live drift — run {run_id}", drifts, context), encoding="utf-8")
    data = {"run": run_id, "cells": [d.as_dict() for d in drifts]}
    (directory / "drift.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory / "drift.md"


__all__ = ["LiveSession", "add_options", "configure", "get", "write_drift_report"]
