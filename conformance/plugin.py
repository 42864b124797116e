"""pytest plugin of the conformance suite: options, cassette set-up, results, report.

It stays out of the test bodies (as pytest-recording does): the suite has a single
test function, parametrised here over every manifest × every scenario.

Options (besides pytest-recording's ``--record-mode=none|once|new_episodes|all|rewrite``):

``--runtime NAME``       which client is judged (default ``ailib``; see conformance/runtimes)
``--live``               record from the real providers with keys from the environment,
                         instead of from the provider simulator (``--live-*`` and
                         ``--dry-run``: see conformance/live)
``--matrix-report DIR``  after the run, write the results and the capability matrix to DIR
``--matrix-previous F``  compare with an earlier capability-matrix.json (drift section)
``--specs DIR``          the providers' API specs (default ../shared/specs when it exists)
``--observed DIR``       real recorded traffic (default ../shared/realworld when it exists)
``--spec-lax``           spec checks accept request fields the spec does not name
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ailib.errors import AiLibError

from . import cassettes as cassettes_module
from . import live as live_mode
from .cassettes import (
    ParsedCassettes,
    ReadableSerializer,
    capture_requests,
    cassettes_dir,
    load_replay_cassette,
    make_request_filter,
    make_response_filter,
    provenance_block,
    replay_client_factory,
    scrub_text,
    simulator_client_factory,
    update_provenance_index,
)
from .runner import CellContext, CellResult, planted_key
from .scenarios import Scenario, load_scenarios, needs_cassette

_RESULTS = pytest.StashKey[list]()
_EVIDENCE = pytest.StashKey[Any]()
_RECORDED = pytest.StashKey[dict]()
#: what this session changed in the process (environment, cassette directory), undone at its end
_SESSION_STATE = pytest.StashKey[pytest.MonkeyPatch]()
_PARSED = pytest.StashKey["ParsedCassettes"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "ailib conformance suite")
    group.addoption("--runtime", default="ailib", help="runtime adapter to judge (default: ailib)")
    group.addoption("--live", action="store_true", help="record from the real providers (needs their API keys)")
    group.addoption("--matrix-report", metavar="DIR", help="write results and the capability matrix to DIR")
    group.addoption("--cassettes", metavar="DIR", help="replay the cassettes in DIR (default: the shipped ones)")
    group.addoption(
        "--runtime-driver",
        metavar="COMMAND",
        help="judge an out-of-process runtime: COMMAND starts a driver speaking the JSON-lines protocol "
        "of conformance/runtimes/process_runtime.py (named by --runtime)",
    )
    group.addoption(
        "--ai-protocol-dir",
        metavar="DIR",
        help="upstream AI-Protocol tree the runtimes that read upstream manifests use "
        "(ai-lib-python-upstream, ai-lib-ts; default ../shared/ai-protocol)",
    )
    group.addoption(
        "--manifests",
        metavar="[ai-protocol:]DIR",
        help="judge the manifests in DIR instead of the project's (ai-protocol:DIR: an AI-Protocol tree, "
        "audited into DIR/../reports/ai-protocol or --matrix-report)",
    )
    group.addoption("--specs", metavar="DIR", help="providers' API specs to judge by (default: ../shared/specs)")
    group.addoption("--observed", metavar="DIR", help="real recordings to judge by (default: ../shared/realworld)")
    group.addoption(
        "--spec-lax", action="store_true", help="allow request fields the spec does not name (strict by default)"
    )
    group.addoption(
        "--matrix-previous",
        metavar="JSON",
        help="a previous capability-matrix.json: add what changed since (drift) to the report",
    )
    group.addoption(
        "--simulator-chunk-delay",
        type=float,
        default=0.002,
        metavar="SECONDS",
        help="recording from the simulator: pause between stream chunks, so the client reads them "
        "as separate network reads (default 0.002; the cassettes do not depend on it)",
    )
    live_mode.add_options(group)


#: HTTP libraries vcrpy tries to import every time a cassette is entered.
_VCR_OPTIONAL_LIBRARIES = (
    "botocore",
    "httplib2",
    "tornado",
    "aiohttp",
    "httpx_curl_cffi",
    "pyreqwest",
    "httpx2",
    "requests",
    "urllib3",
)


def _skip_absent_http_libraries(session: pytest.MonkeyPatch) -> None:
    """vcrpy re-imports the HTTP libraries it can patch on each cassette; a library that
    is not installed is searched for on disk each time (failed imports are not cached),
    which cost more than replaying the cassette. Record the absent ones as absent, for the session."""
    import importlib.util
    import sys

    for name in _VCR_OPTIONAL_LIBRARIES:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            session.setitem(sys.modules, name, None)  # "import name" now fails at once


def manifests_option(config: pytest.Config) -> tuple[str, Path] | None:
    """``("ai-protocol", DIR)`` or ``("ailib", DIR)`` from ``--manifests``, else None."""
    value = config.getoption("--manifests", None)
    if not value:
        return None
    kind, sep, path = value.partition(":")
    if not sep or kind not in ("ai-protocol", "ailib"):
        kind, path = "ailib", value
    return kind, Path(path).resolve()


def pytest_configure(config: pytest.Config) -> None:
    judged = manifests_option(config)
    if judged is not None and not judged[1].is_dir():
        raise pytest.UsageError(f"--manifests: {judged[1]} is not a directory")
    # What the options change outside this config (the environment the runtimes, their driver
    # processes and ailib's client read; the cassette directory) is set for this session only
    # and put back in pytest_unconfigure: a process may run the suite twice (pytester).
    session = config.stash[_SESSION_STATE] = pytest.MonkeyPatch()
    _skip_absent_http_libraries(session)
    if judged is not None:  # every manifest lookup (suite and ailib's client) reads this tree
        session.setenv("AILIB_MANIFESTS_DIR", str(judged[1]))
    if config.getoption("--cassettes", None):
        session.setattr(cassettes_module, "_chosen", Path(config.getoption("--cassettes")).resolve())
    if config.getoption("--record-mode", "none") not in (None, "none") or config.getoption("--live", None):
        # cells read each other's cassettes (cassettes.read_settled): while recording, one
        # may be absent for a moment, re-recorded by another worker
        session.setattr(cassettes_module, "_recording", True)
    if config.getoption("--runtime-driver", None):
        session.setenv("AILIB_RUNTIME_DRIVER", config.getoption("--runtime-driver"))
    upstream = config.getoption("--ai-protocol-dir", None)
    if upstream:
        session.setenv("AILIB_AI_PROTOCOL_DIR", str(Path(upstream).resolve()))
    config.stash[_RESULTS] = []
    config.stash[_RECORDED] = {}
    config.stash[_EVIDENCE] = evidence_settings(config)
    config.pluginmanager.register(_ResultsCollector(config.stash[_RESULTS]), "conformance-results")
    live_mode.configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION_STATE, None)
    if session is not None:
        session.undo()
        del config.stash[_SESSION_STATE]


def evidence_settings(config: pytest.Config) -> Any:
    """Where this session's specs and recordings are; an option given as an empty string
    or a missing directory leaves the checks skipped with the reason."""
    from .evidence.cells import EvidenceSettings
    from .evidence.observed import DEFAULT_OBSERVED_DIR
    from .evidence.specs import DEFAULT_SPECS_DIR

    def pick(option: str, default: Path) -> Path | None:
        given = config.getoption(option)
        if given is not None:
            return Path(given) if given else None
        return default if default.is_dir() else None

    return EvidenceSettings(
        pick("--specs", DEFAULT_SPECS_DIR),
        pick("--observed", DEFAULT_OBSERVED_DIR),
        strict=not config.getoption("--spec-lax"),
        runtime=config.getoption("--runtime"),
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash.get(_EVIDENCE, None)
    if settings is None:
        return []
    lines = [f"evidence: specs {settings.specs_dir or '-'}, observed {settings.observed_dir or '-'}"]
    return lines + settings.skipped()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    settings = config.stash.get(_EVIDENCE, None)
    if settings is not None and settings.skipped():
        terminalreporter.write_sep("-", "evidence checks not run")
        for line in settings.skipped():
            terminalreporter.write_line(line)


# --- collection --------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    from ailib import manifest as manifests

    cells = [(p, s) for p in manifests.available() for s in load_scenarios()]
    metafunc.parametrize("cell", cells, ids=[f"{p}-{s.id}" for p, s in cells])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from ailib import manifest as manifests

    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "cell" not in callspec.params:
            continue
        provider, scenario = callspec.params["cell"]
        try:
            manifest = manifests.load(provider)
        except AiLibError:  # an unusable manifest (--manifests): the cell fails with the reason
            continue
        if needs_cassette(manifest, scenario):
            item.add_marker(pytest.mark.vcr)


# --- vcr set-up ----------------------------------------------------------------------


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_serializer("yaml", ReadableSerializer)
    vcr.register_persister(_ProvenancePersister(config))


def parsed_cassettes(config: pytest.Config) -> ParsedCassettes:
    """The session's cassette parser, caching where pytest's cache provider would
    (``.pytest_cache/d/`` under the rootdir; the project runs without that plugin). No
    cache when the directory cannot be made."""
    parsed = config.stash.get(_PARSED, None)
    if parsed is None:
        cache = getattr(config, "cache", None)
        directory: Path | None
        try:
            if cache is not None:
                directory = cache.mkdir("conformance-cassettes")
            else:
                root = config.rootpath / ".pytest_cache"
                directory = root / "d" / "conformance-cassettes"
                directory.mkdir(parents=True, exist_ok=True)
                if not (root / ".gitignore").exists():  # as pytest's cache provider does
                    (root / ".gitignore").write_text("# Created by pytest automatically.\n*\n", encoding="utf-8")
        except OSError:
            directory = None
        parsed = ParsedCassettes(directory)
        config.stash[_PARSED] = parsed
    return parsed


class _ProvenancePersister:
    """Saves cassettes with their provenance block and remembers them for the index."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def load_cassette(self, cassette_path: str, serializer: Any) -> Any:
        from vcr.persisters.filesystem import FilesystemPersister

        live = live_mode.get(self.config)
        if live is not None and live.records(Path(cassette_path)):
            from vcr.cassette import CassetteNotFoundError

            raise CassetteNotFoundError(cassette_path)  # start empty; the old file stays until the new one is saved
        if serializer is ReadableSerializer:
            serializer = parsed_cassettes(self.config)
        return FilesystemPersister.load_cassette(cassette_path, serializer)

    def save_cassette(self, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serialize import serialize

        import ailib

        live = live_mode.get(self.config)
        if live is not None and not live.keeps_recording(Path(cassette_path)):
            return
        block = provenance_block(
            "live" if live else "simulated", f"{self.config.getoption('--runtime')} {ailib.__version__}"
        )
        if live is not None:
            block.update(live.provenance())
        path = Path(cassette_path)
        if not live:  # how much of the simulated behaviour is read from the provider's real traffic
            from .simulator import load_contracts
            from .simulator.profiles import profile_for

            model = str((load_contracts().get(path.parent.name) or {}).get("model") or "")
            block.update(profile_for(path.parent.name).provenance(model))
        path.parent.mkdir(parents=True, exist_ok=True)
        ReadableSerializer.provenance = block
        provider = path.parent.name
        secrets = (planted_key(provider), *_live_keys(provider)) if provider in _providers() else ()
        try:
            # Scrubbed as written: pretty-printing un-escapes JSON, so a key the filters
            # saw only as "\u0073k-..." would otherwise reach the file in clear.
            text = scrub_text(serialize(cassette_dict, serializer), secrets)
        finally:
            ReadableSerializer.provenance = None
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")  # an interrupted run leaves no torn cassette
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        self.config.stash[_RECORDED][str(path.relative_to(cassettes_dir()))] = block
        if live is not None:
            live.recorded(path, text)


def replays_in_process(request: pytest.FixtureRequest, record_mode: str) -> bool:
    """Whether this test's cassette is served to the runtime's client by a transport
    (:class:`conformance.cassettes.CassetteTransport`) rather than by vcrpy's patch of httpx:
    when replaying (not recording, not ``--live``) a runtime whose every request goes
    through the client the suite hands it (``uses_call_http_client``). Other runtimes
    (ai-lib-python builds its own clients) keep the patch."""
    if record_mode != "none" or request.config.getoption("--live") or request.config.getoption("--disable-recording"):
        return False
    return bool(getattr(request.getfixturevalue("runtime"), "uses_call_http_client", False))


@pytest.fixture
def vcr_markers(request: pytest.FixtureRequest, record_mode: str) -> list[Any]:
    """pytest-recording's markers of this test, none when it replays in process: its
    ``vcr`` fixture then patches nothing, and :func:`replay_cassette` holds the cassette."""
    markers = list(request.node.iter_markers(name="vcr"))
    if markers and replays_in_process(request, record_mode):
        return []
    return markers


@pytest.fixture
def replay_cassette(
    request: pytest.FixtureRequest,
    record_mode: str,
    vcr_cassette_dir: str,
    default_cassette_name: str,
) -> Any:
    """The cassette of a test that replays in process (see :func:`replays_in_process`),
    loaded with vcrpy's Cassette API and this test's ``vcr_config``; else None."""
    if request.node.get_closest_marker("vcr") is None or not replays_in_process(request, record_mode):
        return None
    path = Path(vcr_cassette_dir) / f"{default_cassette_name}.yaml"
    return load_replay_cassette(path, request.getfixturevalue("vcr_config"), request.config)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(cassettes_dir())


@pytest.fixture
def default_cassette_name(cell: tuple[str, Scenario]) -> str:
    provider, scenario = cell
    return f"{provider}/{scenario.id}"


@pytest.fixture
def wire() -> list[Any]:
    """Every request the runtime sent in this test, as sent (before scrubbing)."""
    return _Seen()


class _Seen(list):
    """vcrpy runs the request filter several times per send, each on a deep copy, so
    equal consecutive requests are kept once. (Sends are counted from the cassette:
    interactions played or recorded, see runner.sends.)"""

    def append(self, item: Any) -> None:  # type: ignore[override]
        if not self or (item.method, item.uri, item.body) != (self[-1].method, self[-1].uri, self[-1].body):
            super().append(item)


@pytest.fixture
def vcr_config(
    request: pytest.FixtureRequest, cell: tuple[str, Scenario], wire: list[Any], record_mode: str
) -> dict[str, Any]:
    provider, scenario = cell
    config: dict[str, Any] = {
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
    }
    live = live_mode.get(request.config)
    if live is not None:
        # replay what this run recorded before an interruption; record the rest without
        # pytest-recording's "rewrite", which deletes the old cassette before the call is made
        resumed = live.is_resumed(provider, scenario)
        config["record_mode"] = record_mode = "none" if resumed else "new_episodes"
    if record_mode == "none":  # replay writes nothing: capture requests, skip scrubbing
        config["before_record_request"] = capture_requests(wire)
        return config
    keys = (planted_key(provider), *_live_keys(provider))
    config["before_record_request"] = make_request_filter(lambda: keys, wire)
    config["before_record_response"] = make_response_filter(lambda: keys)
    return config


def _providers() -> list[str]:
    from ailib import manifest as manifests

    return manifests.available()


def _live_keys(provider: str) -> tuple[str, ...]:
    from ailib import manifest as manifests

    m = manifests.load(provider)
    return tuple(os.environ[name] for name in m.env_vars() if os.environ.get(name))


@pytest.fixture(scope="session")
def simulator(request: pytest.FixtureRequest, record_mode: str) -> Iterator[Any]:
    """The provider simulator, started only when recording without --live."""
    if record_mode == "none" or request.config.getoption("--live"):
        yield None
        return
    from .simulator import SimulatorServer, load_contracts

    with SimulatorServer(load_contracts(), chunk_delay=request.config.getoption("--simulator-chunk-delay")) as server:
        yield server


#: Hosts a replaying session may still connect to (tests that run their own loopback servers).
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(scope="session")
def offline(request: pytest.FixtureRequest, record_mode: str) -> Iterator[None]:
    """Replaying, the suite must not reach any remote host: block it once for the session
    (pytest-recording's blocker; loopback stays open), not per test."""
    if record_mode != "none" or request.config.getoption("--live"):
        yield
        return
    import socket

    from pytest_recording.network import blocking_context

    # blocking_context restores the socket module's original functions: keep (and put back)
    # a guard an enclosing session installed, when this one runs inside it (pytester).
    enclosing = socket.socket.connect, socket.socket.connect_ex, socket.socketpair
    try:
        with blocking_context(allowed_hosts=list(LOOPBACK)):
            yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.socketpair = enclosing  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def runtime(request: pytest.FixtureRequest) -> Any:
    from .runtimes import get_runtime

    return get_runtime(request.config.getoption("--runtime"))


@pytest.fixture
def cell_context(
    request: pytest.FixtureRequest,
    cell: tuple[str, Scenario],
    wire: list[Any],
    vcr: Any,
    replay_cassette: Any,
    record_mode: str,
    simulator: Any,
    runtime: Any,
    offline: None,
) -> CellContext:
    import httpx

    provider, scenario = cell
    live = live_mode.get(request.config)
    key = planted_key(provider)
    factory = None
    if live is not None:
        key, factory = live.enter_cell(request, provider, scenario)
    from .contract import load_contracts

    for name, value in ((load_contracts().get(provider) or {}).get("variables") or {}).items():
        if not (live and os.environ.get(name)):
            request.getfixturevalue("monkeypatch").setenv(name, value)
    if replay_cassette is not None:
        factory = replay_client_factory(replay_cassette)
    elif factory is None and simulator is not None:
        factory = simulator_client_factory(simulator.port, scenario.fault)
    elif factory is None:
        from ailib.client import default_ssl_context

        def factory():
            return httpx.AsyncClient(timeout=httpx.Timeout(60.0), verify=default_ssl_context())

    wire.clear()  # loading the cassette ran its recorded requests through the filter too
    replaying = record_mode == "none" or (live is not None and live.is_resumed(provider, scenario))
    return CellContext(
        runtime=runtime,
        http_client=factory,
        seen=wire,
        cassette=vcr if replay_cassette is None else replay_cassette,
        replaying=replaying,
        api_key=key,
        recording_source="live" if live is not None else "simulated",
        evidence=request.config.stash[_EVIDENCE],
    )


# --- results ---------------------------------------------------------------------------


def record_cell(item: pytest.Item, result: CellResult) -> None:
    item.user_properties.append(("conformance_cell", json.dumps(result.as_dict())))


class _ResultsCollector:
    """Gathers the cells from test reports: in the controller process under xdist, the
    reports (with their user_properties) of every worker arrive here."""

    def __init__(self, cells: list[dict[str, Any]]) -> None:
        self.cells = cells

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == "conformance_cell":
                self.cells.append(json.loads(value))


def _self_test(config: pytest.Config) -> dict[str, Any] | None:
    """The mutation self-test's kill rate, for the matrix page (run when the report is written).

    The catalogue mutates the project's own manifests: a run judging another manifest tree
    (``--manifests``) reports no kill rate rather than one measured on files it did not judge."""
    settings = config.stash[_EVIDENCE]
    if settings.spec_skip or settings.observed_skip or manifests_option(config) is not None:
        return None
    from .evidence.mutations import run_catalogue

    return run_catalogue(settings).summary()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    recorded = config.stash[_RECORDED]
    if recorded:
        update_provenance_index(recorded)
    out = config.getoption("--matrix-report")
    if out and not hasattr(config, "workerinput") and config.stash[_RESULTS]:
        from .results import write_results

        results_file = write_results(
            Path(out),
            config.getoption("--runtime"),
            config.stash[_RESULTS],
            previous=config.getoption("--matrix-previous"),
            evidence=config.stash[_EVIDENCE],
            self_test=_self_test(config),
        )
        judged = manifests_option(config)
        if judged is not None and judged[0] == "ai-protocol":
            from .report.ai_protocol import write as write_audit

            write_audit(results_file, judged[1], Path(out))
