"""Cassettes a reviewer can read, that never hold a secret, and that say where they came from.

* Serializer: vcrpy's YAML layout, but JSON bodies pretty-printed and SSE bodies kept
  as literal blocks, so a re-recording diff shows what really changed.
* Scrubbing: credentials are replaced in headers and query strings before a request is
  stored, key-shaped strings are removed from bodies, and volatile headers (dates,
  user-agent) are dropped from both sides. Request ids are kept: they are not secret and
  are what a provider's support asks for. The text finally written is
  scrubbed once more (:func:`scrub_text`): pretty-printing a JSON body turns an escaped
  key (``\\u0073k-...``) back into a plain one.
* Provenance: each cassette carries ``provenance: {source, recorded, client}`` and the
  index ``cassettes/PROVENANCE.yaml`` lists them all.
* Routing: when recording from the provider simulator, sockets go to 127.0.0.1 below
  vcrpy's layer, so the cassette keeps the provider's real URL.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import yaml

#: the cassettes shipped inside an installed harness (``pip install ailib-conformance``)
_PACKAGED = Path(__file__).resolve().parent / "_data" / "cassettes"
#: ``$AILIB_CASSETTES_DIR`` (or ``--cassettes DIR``) lets tests re-record into a scratch copy or
#: replay another library; else the installed copy's, else the checkout's ``cassettes/``.
CASSETTES_DIR = Path(
    os.environ.get("AILIB_CASSETTES_DIR")
    or (_PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parent.parent / "cassettes")
)
PROVENANCE_FILE = CASSETTES_DIR / "PROVENANCE.yaml"
#: ``--cassettes DIR``: set by the plugin for one pytest session, put back when it ends
_chosen: Path | None = None


def cassettes_dir() -> Path:
    """Where this session replays (and records) cassettes."""
    return _chosen or CASSETTES_DIR


#: set by the plugin for a session that records (``--record-mode`` other than none, ``--live``)
_recording = False
#: how long a recording session waits for another cell's cassette to be written again
RECORDING_WAIT_S = 30.0


def read_settled(path: Path) -> str | None:
    """The text of a cassette another cell owns (a cell compares with it; an evidence cell
    judges it), or None where there is none.

    While a session records, the owner may be re-recording it on another xdist worker at
    this moment: pytest-recording's ``rewrite`` deletes the file before the call, and the
    new one appears (whole: saves are atomic) when that cell ends. So an absent file is
    waited for, up to :data:`RECORDING_WAIT_S`; replaying, absent means absent."""
    import time

    deadline = time.monotonic() + (RECORDING_WAIT_S if _recording else 0.0)
    while True:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


#: Request headers that carry credentials: value replaced, name kept (shows auth placement).
SECRET_HEADERS = {"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization"}
SECRET_QUERY = {"key", "api_key", "api-key", "access_token"}
#: Headers that change on every call and say nothing about the contract.
VOLATILE_HEADERS = {
    "date",
    "user-agent",
    "accept-encoding",
    "connection",
    "content-length",
    "transfer-encoding",
    "host",
    "cf-ray",
    "set-cookie",
    "server",
    "openai-processing-ms",
    "x-stainless-retry-count",
    "keep-alive",
    "via",
    "alt-svc",
    "x-envoy-upstream-service-time",
    "x-ailib-sim-fault",
}
REDACTED = "REDACTED"
#: Strings shaped like provider keys (OpenAI sk-, Anthropic sk-ant-, Google AIza, HF hf_, xAI xai-, Groq gsk_, Replicate r8_).
KEY_PATTERN = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}|hf_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}"
    r"|gsk_[A-Za-z0-9]{20,}|r8_[A-Za-z0-9]{20,}"
    # a bearer token, but not the redaction mark nor an environment variable's name (JINA_API_KEY)
    r"|Bearer\s+(?!REDACTED\b)(?![A-Z][A-Z0-9_]*\b)[A-Za-z0-9._\-]{12,})"
)


def scrub_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without the secrets (also JSON-escaped or percent-encoded) nor key-shaped strings."""
    from ailib.transport import Secret

    for secret in secrets:
        if secret:
            text = Secret(secret).redact(text, REDACTED)
    return KEY_PATTERN.sub(REDACTED, text)


# --- vcrpy hooks -------------------------------------------------------------------


def capture_requests(seen: list[Any]) -> Callable[[Any], Any]:
    """Replay's ``before_record_request``: only remember what was sent (nothing is written)."""

    def before_record_request(request: Any) -> Any:
        seen.append(request)
        return request

    return before_record_request


def make_request_filter(secrets: Callable[[], tuple[str, ...]], seen: list[Any]) -> Callable[[Any], Any]:
    """``before_record_request``: remember the request as sent, return a scrubbed copy."""

    def before_record_request(request: Any) -> Any:
        seen.append(request)
        clean = copy.deepcopy(request)  # `request` is vcrpy's copy, but `seen` keeps it unscrubbed
        keys = secrets()
        for name in list(clean.headers):
            lower = name.lower()
            if lower in VOLATILE_HEADERS:
                del clean.headers[name]
            elif lower in SECRET_HEADERS:
                value = clean.headers[name]
                clean.headers[name] = "Bearer " + REDACTED if value.lower().startswith("bearer ") else REDACTED
        parts = urlsplit(clean.uri)
        if parts.query:
            query = [
                (k, REDACTED if k.lower() in SECRET_QUERY else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ]
            clean.uri = urlunsplit(parts._replace(query=urlencode(query)))
        if clean.body:
            body = clean.body.decode("utf-8") if isinstance(clean.body, bytes) else clean.body
            clean.body = scrub_text(body, keys).encode("utf-8")
        return clean

    return before_record_request


def make_response_filter(secrets: Callable[[], tuple[str, ...]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() not in VOLATILE_HEADERS}
        body = response["body"]["string"]
        if isinstance(body, bytes):  # vcrpy also runs this on responses loaded for replay
            response["body"]["string"] = scrub_text(body.decode("utf-8"), secrets()).encode("utf-8")
        else:
            response["body"]["string"] = scrub_text(body, secrets())
        return response

    return before_record_response


# --- serializer ----------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _pretty(body: Any, content_type: str = "") -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body or "event-stream" in content_type:
        return body
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False) + "\n"
    except ValueError:
        return body


class ReadableSerializer:
    """vcrpy serializer (module-like: ``serialize`` / ``deserialize``)."""

    provenance: dict[str, Any] | None = None

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        out: dict[str, Any] = {}
        if ReadableSerializer.provenance:
            out["provenance"] = ReadableSerializer.provenance
        interactions = []
        for item in cassette["interactions"]:
            req, resp = dict(item["request"]), dict(item["response"])
            req["headers"] = {k: v for k, v in sorted(req["headers"].items())}
            req["body"] = _pretty(req.get("body"))
            ctype = ""
            for k, v in resp["headers"].items():
                if k.lower() == "content-type":
                    ctype = v[0] if isinstance(v, list) else v
            resp["headers"] = {k: v for k, v in sorted(resp["headers"].items())}
            resp["body"] = {"string": _pretty(resp["body"]["string"], ctype)}
            interactions.append({"request": req, "response": resp})
        out["interactions"] = interactions
        out["version"] = cassette.get("version", 1)
        return yaml.dump(out, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        return ReadableSerializer.from_yaml(yaml.load(text, Loader=_Loader))

    @staticmethod
    def from_yaml(data: Any) -> dict[str, Any]:
        """The cassette from its parsed YAML: vcrpy's layout, bodies as bytes."""
        interactions = data.get("interactions", [])
        for item in interactions:
            body = item["request"].get("body")
            if isinstance(body, str):
                item["request"]["body"] = body.encode("utf-8")
            response_body = item["response"]["body"]
            if isinstance(response_body.get("string"), str):
                response_body["string"] = response_body["string"].encode("utf-8")
        return {"interactions": interactions, "version": data.get("version", 1)}


class ParsedCassettes:
    """A vcrpy serializer (``deserialize``) that keeps what parsing each cassette's YAML gave,
    between runs, in ``directory`` (pytest's cache): parsing was the largest cost of
    replaying a cell, and the cassettes rarely change between runs.

    An entry is keyed by a hash of the text and of the YAML library's version, so an
    edited or re-recorded cassette is parsed afresh and the result is always what
    :meth:`ReadableSerializer.deserialize` gives; the parsed data is stored with
    :mod:`marshal` (exact for YAML's plain types, unlike JSON). Without a directory, or
    when the cache cannot be written, it only parses."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def deserialize(self, text: str) -> dict[str, Any]:
        return ReadableSerializer.from_yaml(self.load_yaml(text))

    def load_yaml(self, text: str) -> Any:
        if self.directory is None:
            return yaml.load(text, Loader=_Loader)
        import hashlib
        import marshal

        key = hashlib.blake2b(f"{yaml.__version__} {_Loader.__name__}\n{text}".encode(), digest_size=20)
        entry = self.directory / f"{key.hexdigest()}.marshal"
        try:
            return marshal.loads(entry.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            pass
        data = yaml.load(text, Loader=_Loader)
        try:
            blob = marshal.dumps(data)
        except ValueError:  # a type marshal cannot store (a date): parsed each time
            return data
        partial = entry.with_name(f".{entry.name}.{os.getpid()}.partial")  # readers never see a torn entry
        try:
            partial.write_bytes(blob)
            os.replace(partial, entry)
        except OSError:
            pass
        return data


def read_provenance(path: Path) -> dict[str, Any] | None:
    """The provenance block at the top of a cassette, without parsing the interactions."""
    head = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("interactions:"):
                break
            head.append(line)
    return copy.deepcopy(_provenance_in("".join(head))) if head else None


@functools.lru_cache(maxsize=4096)
def _provenance_in(head: str) -> dict[str, Any] | None:
    """The provenance of a cassette's head, parsed once per session: a run reads each
    cassette's provenance up to three times (the cell, the library checks, the report)."""
    data = yaml.load(head, Loader=_Loader)
    return (data or {}).get("provenance")


def provenance_block(source: str, client: str) -> dict[str, Any]:
    return {"source": source, "recorded": dt.date.today().isoformat(), "client": client}


def update_provenance_index(entries: dict[str, dict[str, Any]]) -> None:
    """Merge newly recorded cassettes into ``cassettes/PROVENANCE.yaml`` (locked, sorted)."""
    import fcntl

    index = cassettes_dir() / PROVENANCE_FILE.name
    index.parent.mkdir(parents=True, exist_ok=True)
    with open(index, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        current = yaml.load(f.read() or "{}", Loader=_Loader) or {}
        cassettes = current.get("cassettes", {})
        cassettes.update(entries)
        doc = {
            "description": (
                "Where each cassette came from. source: simulated = recorded from the provider simulator "
                "in conformance/simulator (no provider was called); live = recorded from the provider's real API."
            ),
            "cassettes": dict(sorted(cassettes.items())),
        }
        f.seek(0)
        f.truncate()
        f.write(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=1000))


# --- routing to the simulator ------------------------------------------------------------


class SimulatorRoute:
    """Wraps an httpcore pool: every connection goes to the simulator on 127.0.0.1.

    Installed below vcrpy's patch point (``AsyncHTTPTransport.handle_async_request``),
    so vcrpy sees and records the provider's real URL; the ``Host`` header keeps the
    provider host, which is how the simulator knows whom to play.
    """

    def __init__(self, pool: Any, port: int, fault: str | None = None) -> None:
        self._pool = pool
        self._port = port
        self._fault = fault

    async def handle_async_request(self, request: Any) -> Any:
        import httpcore

        url = httpcore.URL(scheme=b"http", host=b"127.0.0.1", port=self._port, target=request.url.target)
        headers = list(request.headers)
        if self._fault:
            headers.append((b"x-ailib-sim-fault", self._fault.encode()))
        routed = httpcore.Request(
            request.method, url, headers=headers, content=request.stream, extensions=request.extensions
        )
        return await self._pool.handle_async_request(routed)

    async def aclose(self) -> None:
        await self._pool.aclose()


def simulator_client_factory(port: int, fault: str | None = None) -> Callable[[], Any]:
    import httpx

    def make() -> httpx.AsyncClient:
        from ailib.client import default_ssl_context

        transport = httpx.AsyncHTTPTransport(verify=default_ssl_context())
        transport._pool = SimulatorRoute(transport._pool, port, fault)  # type: ignore[assignment]
        return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10.0))

    return make


PLANTED_MARKER = "ailib-planted-key-"


def scan_for_secrets(paths: list[Path]) -> list[str]:
    """``file:line: text`` for every line holding a planted or key-shaped secret."""
    leaks = []
    for path in paths:
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if PLANTED_MARKER in line or KEY_PATTERN.search(line):
                leaks.append(f"{path}:{number}: {line.strip()[:80]}")
    return leaks


# --- replay without patching -----------------------------------------------------------


def load_replay_cassette(path: Path, vcr_config: dict[str, Any], pytestconfig: Any) -> Any:
    """The cassette at ``path``, loaded for replay with vcrpy's own Cassette API.

    The configuration is vcrpy's, merged as pytest-recording merges it (the suite's
    ``vcr_config``, the serializer and persister of ``pytest_recording_configure``), so
    matching, filters and loading are those of a patched replay; only the patching is left
    out: the runtime's client gets a :class:`CassetteTransport` instead."""
    from vcr import VCR
    from vcr.cassette import Cassette, CassetteContextDecorator

    vcr = VCR(record_mode="none")
    pytestconfig.hook.pytest_recording_configure(config=pytestconfig, vcr=vcr)
    merged = vcr.get_merged_config(path=str(path), **vcr_config)
    for name in CassetteContextDecorator._non_cassette_arguments:  # for use_cassette's wrapper only
        merged.pop(name, None)
    return Cassette.load(**merged)


class CassetteTransport(httpx.AsyncBaseTransport):
    """An httpx transport that answers from a vcrpy cassette and never sends anything.

    A replaying cell hands its runtime a client on this transport, instead of having vcrpy
    patch httpx (and every other HTTP library) for the test: entering and leaving that
    patch for each of ~1 900 cells cost as much as the replay itself. Each request goes
    through vcrpy's own httpx stub (the code its patch runs), so it is matched, filtered,
    counted and answered exactly as under the patch; a request the cassette does not hold
    raises vcrpy's ``CannotOverwriteExistingCassetteException`` (the cassette is
    write-protected in replay), and the stub's fallback, which would send it, refuses."""

    def __init__(self, cassette: Any) -> None:
        self.cassette = cassette

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from vcr.stubs.httpx_stubs import _vcr_handle_async_request

        response: httpx.Response = await _vcr_handle_async_request(self.cassette, _never_send, self, request, httpx)
        return response


async def _never_send(transport: CassetteTransport, request: httpx.Request) -> httpx.Response:
    raise RuntimeError(
        f"replay: {request.method} {request.url} is not in cassette {transport.cassette.path}; "
        "nothing is sent while replaying"
    )


def replay_client_factory(cassette: Any) -> Callable[[], Any]:
    """Clients for one replaying cell: each answers from ``cassette`` (see CassetteTransport)."""

    def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=CassetteTransport(cassette), timeout=httpx.Timeout(60.0))

    return make
