"""The providers' official SDKs as judges of the simulator and its cassettes.

Each adapter drives one SDK (openai, anthropic, google-genai, cohere, mistralai) through an
HTTP client whose transport either replays a recorded response (``replay``) or sends the
request to the simulator on 127.0.0.1 while keeping the provider's URL and ``Host``
(``loopback``). What the SDK parsed is compared with what ``conformance/oracle.py`` reads
from the same bytes: content, raw finish reason and token usage."""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import oracle
from conformance.cassettes import CASSETTES_DIR, ReadableSerializer
from conformance.scenarios import Scenario, load_scenarios
from conformance.simulator import load_contracts

CONTRACTS = load_contracts()
SCENARIOS = {s.id: s for s in load_scenarios()}
KEY = "sdk-judge-key-0123456789"


@dataclass
class Reading:
    """What a client reports: content, raw finish reason, prompt and completion tokens."""

    content: str
    finish: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


def oracle_reading(family: str, body: bytes, stream: bool) -> Reading:
    text = body.decode("utf-8")
    r = oracle.read_stream(family, text) if stream else oracle.read_response(family, json.loads(text))
    return Reading(r.content, r.raw_finish, r.prompt_tokens, r.completion_tokens)


# --- HTTP plumbing: the same code for httpx and httpx2 (anthropic, mistralai, google-genai) ----


def replay_client(http: Any, answer: Callable[[], tuple[int, dict[str, str], bytes]]) -> Any:
    """An HTTP client (of module ``http``: httpx or httpx2) that answers every request with
    the recorded response ``answer()`` gives then (status, headers, body): one client, and so
    one SDK client, can replay every cassette of its family in turn."""

    def handler(request: Any) -> Any:
        status, headers, body = answer()
        return http.Response(status, headers=headers, content=body, request=request)

    return http.Client(transport=http.MockTransport(handler))


def loopback_client(http: Any, port: int) -> Any:
    """An HTTP client that sends every request to the simulator on 127.0.0.1:``port``; the
    request keeps its ``Host`` header, which is how the simulator knows whom to play."""

    class Loopback(http.HTTPTransport):  # type: ignore[name-defined,misc]
        def handle_request(self, request: Any) -> Any:
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return super().handle_request(request)

    return http.Client(transport=Loopback())


# --- cassettes -----------------------------------------------------------------------------


@dataclass
class Recorded:
    """A cassette's first interaction; read from the file by :meth:`loaded` (collection only
    names the cassettes: every worker collects all of them, and only one replays each)."""

    provider: str
    scenario: Scenario
    path: Path
    request: dict[str, Any] = field(default_factory=dict)
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def loaded(self) -> Recorded:
        if self.body is not None:
            return self
        request, status, headers, body = _first_interaction(self.path)
        return dataclasses.replace(self, request=request, status=status, headers=headers, body=body)

    @property
    def family(self) -> str:
        return str(CONTRACTS[self.provider]["family"])

    @property
    def stream(self) -> bool:
        return self.scenario.call == "stream"

    @property
    def model(self) -> str:
        body = self.request.get("body")
        try:
            model = json.loads(body).get("model") if body else None
        except ValueError:
            model = None
        return str(model or CONTRACTS[self.provider].get("model") or "")

    def __str__(self) -> str:
        return f"{self.provider}/{self.scenario.id}"


def _first_interaction(path: Path) -> tuple[dict[str, Any], int, dict[str, str], bytes]:
    data = ReadableSerializer.deserialize(path.read_text(encoding="utf-8"))
    item = data["interactions"][0]
    response = item["response"]
    headers = {k: (v[0] if isinstance(v, list) else v) for k, v in response["headers"].items()}
    body = response["body"]["string"]
    return item["request"], int(response["status"]["code"]), headers, body


def cassettes(providers: Callable[[str], bool], kind: str) -> Iterator[Recorded]:
    """Recorded cassettes of the providers ``providers`` accepts: ``kind`` is ``success``
    (chat and stream scenarios without a fault) or ``error`` (an HTTP error scenario)."""
    for provider in sorted(p for p in CONTRACTS if providers(p) and (CASSETTES_DIR / p).is_dir()):
        for scenario in SCENARIOS.values():
            fault = scenario.fault or ""
            # a stream fault the provider may really send (comments, split reads, no [DONE])
            # still makes a success: the scenario expects no error. Data after the terminal
            # event is a hostile server's, not a provider's: what an SDK makes of it is not
            # a verdict on the cassette (the scenario judges that the client stops reading).
            benign = (
                fault.startswith("stream_")
                and "error" not in scenario.expect
                and "content_excludes" not in scenario.expect
            )
            if kind == "success" and ((fault and not benign) or scenario.call not in ("execute", "stats", "stream")):
                continue
            if kind == "error" and not (fault.startswith("error_") and "requests" not in scenario.expect):
                continue
            path = CASSETTES_DIR / provider / f"{scenario.id}.yaml"
            if path.is_file():
                yield Recorded(provider, scenario, path)


def family_is(*families: str) -> Callable[[str], bool]:
    """Providers of these wire families; a provider that wraps every answer in ``{"data": ...}``
    (SenseNova) speaks no family's shape on the wire, and no family SDK reads it."""

    def accept(provider: str) -> bool:
        contract = CONTRACTS[provider]
        return contract.get("family") in families and "wrapped_in_data" not in (contract.get("quirks") or [])

    return accept


def need(module: str) -> Any:
    """The SDK module, or skip: install the ``sdks`` extra (pip install -e '.[sdks]')."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.skip(f"the {module.split('.')[0]} SDK is not installed (pip install -e '.[sdks]')")
