"""The harness measures its own sensitivity: single-fact mutations that the judges must kill.

Each :class:`Mutation` changes one fact of one provider's manifest (a parameter name or
range, the URL or auth, the done marker, a usage or content path, the finish-reason
table, a capability flag, an error path, a stream-usage option) or one behaviour of the
client (patched in-process). A mutation is *killed* when an independent judge reports a
problem that names the provider and the mutated field (:attr:`Mutation.names`):

- ``spec``: the manifest's declarations against the provider's spec;
- ``observed``: the real recordings replayed through the mutated client, and the facts
  they show compared with the mutated manifest;
- ``re-recorded``: the mutated client run against the provider simulator in-process (as
  re-recording would), the request it sends judged by the spec (strict) and by the
  provider's facts file. The simulator serves the facts, not the manifest, so re-recording
  cannot launder a wrong manifest into a passing cassette.

A survivor is a bug in the harness. Run it with ``pytest tests/harness/test_mutations.py``
(prints the kill rate); the matrix report shows the same figure.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Mutation:
    id: str
    provider: str
    field: str  # what was changed: a manifest path, or "client: ..."
    edit: Edit | None = None
    patch: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
    names: tuple[str, ...] = ()  # a killing problem mentions one of these (besides the provider)
    scenarios: tuple[str, ...] = ("basic", "temperature", "max_tokens", "top_p", "stop", "stream", "stream_usage")


def _set(path: str, value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value

    return edit


def _delete(path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[key]
        node.pop(keys[-1], None)

    return edit


def _param(provider: str, name: str, key: str, value: Any, *names: str) -> Mutation:
    return Mutation(
        f"{provider}.{name}.{key}={value}",
        provider,
        f"request.parameters.{name}.{key}",
        _set(f"request.parameters.{name}.{key}", value),
        names=(name, str(value), *names),
    )


def _path(provider: str, dotted: str, value: Any, *names: str) -> Mutation:
    return Mutation(f"{provider}.{dotted}={value}", provider, dotted, _set(dotted, value), names=(*names,))


def _unsupported(provider: str, capability: str, *names: str) -> Mutation:
    """One fact: the capability is declared unsupported (and so, for a parameter, no longer mapped)."""
    declare = _set(f"capabilities.{capability}", {"supported": False, "reason": "declared unsupported by a mutation"})
    unmap = _delete(f"request.parameters.{capability}")

    def edit(data: dict[str, Any]) -> None:
        declare(data)
        if capability in ((data.get("request") or {}).get("parameters") or {}):
            unmap(data)

    return Mutation(
        f"{provider}.capabilities.{capability}=unsupported",
        provider,
        f"capabilities.{capability}",
        edit,
        names=(capability, *names),
    )


# --- client behaviour -----------------------------------------------------------------------


@contextlib.contextmanager
def _finish_as_other() -> Iterator[None]:
    from unittest import mock

    with mock.patch("ailib.codecs.base.Codec.normalise_finish", lambda self, raw: None if raw is None else "other"):
        yield


@contextlib.contextmanager
def _stream_usage_dropped() -> Iterator[None]:
    from unittest import mock

    from ailib.stream import StreamDecoder

    original = StreamDecoder.close

    def close(self: Any) -> Any:
        self.usage.clear()
        return original(self)

    with mock.patch.object(StreamDecoder, "close", close):
        yield


@contextlib.contextmanager
def _error_message_lost() -> Iterator[None]:
    from unittest import mock

    from ailib import classify

    original = classify.provider_error

    def provider_error(manifest: Any, body: Any, status: Any, **kw: Any) -> Any:
        return original(manifest, None, status, **{**kw, "raw_text": None})

    with mock.patch("ailib.codecs.base.provider_error", provider_error):
        yield


@contextlib.contextmanager
def _stop_dropped() -> Iterator[None]:
    from unittest import mock

    from ailib.codecs.base import Codec

    original = Codec.body

    def body(self: Any, request: Any, stream: bool) -> Any:
        out = original(self, request, stream)
        out.pop("stop", None)
        return out

    with mock.patch.object(Codec, "body", body):
        yield


@contextlib.contextmanager
def _done_marker_ignored() -> Iterator[None]:
    from unittest import mock

    from ailib.stream import StreamDecoder

    original = StreamDecoder.__init__

    def init(self: Any, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw)
        self._done_marker = object()  # never equal to any data line

    def not_json(self: Any, data: str) -> None:  # nor is an undeclared [DONE] recognised
        self._bad_json(data)

    with mock.patch.object(StreamDecoder, "__init__", init), mock.patch.object(StreamDecoder, "_not_json", not_json):
        yield


@contextlib.contextmanager
def _reasoning_as_content() -> Iterator[None]:
    from unittest import mock

    from ailib.stream import StreamDecoder

    original = StreamDecoder._events

    def events(self: Any, fields: Any) -> Any:
        from ailib.types import StreamingEvent

        out = original(self, fields)
        for event in out:
            if event.kind == StreamingEvent.REASONING:
                event.kind = StreamingEvent.CONTENT
        return out

    with mock.patch.object(StreamDecoder, "_events", events):
        yield


CATALOGUE: tuple[Mutation, ...] = (
    # parameter names
    _param("openai", "max_tokens", "field", "max_tokenz"),
    _param("openai", "temperature", "field", "temp"),
    _param("mistral", "top_p", "field", "topp"),
    _param("gemini", "max_tokens", "field", "generationConfig.maxTokens", "maxTokens"),
    _param("groq", "stop", "field", "stop_sequences"),
    _param("together", "temperature", "field", "temperature_value"),
    _param("openrouter", "max_tokens", "field", "max_output_tokens"),
    _param("deepseek", "top_p", "field", "nucleus"),
    _param("perplexity", "max_tokens", "field", "max_output"),
    # parameter ranges
    _param("openai", "temperature", "max", 1),
    _param("openai", "top_p", "min", 0.1),
    _param("openai", "stop", "max_items", 2),
    _param("mistral", "temperature", "max", 2.5),
    _param("azure", "top_p", "max", 0.95),
    # URL and auth
    _path("openai", "endpoint.chat_path", "/chat/completion", "/chat/completion", "path"),
    _path("anthropic", "endpoint.chat_path", "/message", "/message", "path"),
    _path("groq", "endpoint.base_url", "https://api.groq.com/v1", "/v1/chat/completions", "path"),
    _path("mistral", "endpoint.base_url", "https://api.mistral.com/v1", "api.mistral.com", "host", "URL"),
    _path("openai", "auth.name", "X-Api-Key", "auth", "Authorization"),
    _path("gemini", "auth.name", "x-api-key", "auth", "x-goog-api-key"),
    _path("anthropic", "auth.name", "Authorization", "auth", "x-api-key"),
    # done marker
    _path("perplexity", "stream.done_marker", "[DONE]", "done marker", "done_marker"),
    Mutation(
        "openai.stream.done_marker=none",
        "openai",
        "stream.done_marker",
        _delete("stream.done_marker"),
        names=("[DONE]", "done marker"),
    ),
    _path("cerebras", "stream.done_marker", "[DONE]", "done marker", "done_marker"),
    # usage and content paths
    _path("openai", "stream.routes.*.usage.prompt_tokens", "usage.input_tokens", "prompt_tokens"),
    _path("anthropic", "response.content", "content.0.txt", "content"),
    _path("gemini", "response.usage.completion_tokens", "usageMetadata.candidateTokenCount", "completion_tokens"),
    _path("groq", "response.content", "choices.0.message.text", "content"),
    _path("mistral", "stream.routes.*.content", "choices.0.delta.text", "content"),
    _path("xai", "response.reasoning", "choices.0.message.reasoning", "reasoning"),
    _path("groq", "stream.routes.*.reasoning", "choices.0.delta.reasoning_content", "reasoning"),
    _path("zhipu", "response.content", "choices.0.message.answer", "content"),
    _path("cohere", "response.content", "message.content.0.txt", "content"),
    # finish-reason tables
    Mutation(
        "openai.finish_reasons-content_filter",
        "openai",
        "finish_reasons.content_filter",
        _delete("finish_reasons.content_filter"),
        names=("content_filter", "finish"),
    ),
    Mutation(
        "gemini.finish_reasons-SAFETY",
        "gemini",
        "finish_reasons.SAFETY",
        _delete("finish_reasons.SAFETY"),
        names=("SAFETY", "finish"),
    ),
    _path("anthropic", "finish_reasons.max_tokens", "stop", "finish", "max_tokens"),
    _path("openai", "finish_reasons.length", "stop", "finish", "length"),
    # capability flags
    _unsupported("perplexity", "stop", "stop"),
    _unsupported("openai", "temperature", "temperature"),
    _unsupported("groq", "streaming", "stream", "error"),
    _unsupported("deepseek", "top_p", "top_p"),
    _unsupported("together", "usage_in_stream", "usage"),
    # error paths
    _path("openai", "errors.message", "error.msg", "error message", "error"),
    Mutation(
        "groq.stream.routes.*.error=x_groq.error",
        "groq",
        "stream.routes.*.error",
        _set("stream.routes.*.error", "x_groq.error"),
        names=("error",),
    ),
    _path("gemini", "errors.message", "error.text", "error message", "error"),
    _path("anthropic", "errors.message", "error.msg", "error message", "error"),
    # stream-usage options
    Mutation(
        "openai.request.stream_extras=none",
        "openai",
        "request.stream_extras",
        _delete("request.stream_extras"),
        names=("usage", "stream_options"),
    ),
    _path("groq", "stream.routes.*.usage.prompt_tokens", "usage.prompt_tokens", "prompt_tokens"),
    # request layout
    _path("deepseek", "request.model_field", "model_name", "model"),
    _path("openai", "request.stream_field", "streaming", "stream"),
    # client behaviour
    Mutation(
        "client.finish_reasons_as_other",
        "openai",
        "client: finish reason normalisation",
        patch=_finish_as_other,
        names=("finish",),
    ),
    Mutation(
        "client.stream_usage_dropped", "groq", "client: stream usage", patch=_stream_usage_dropped, names=("tokens",)
    ),
    Mutation(
        "client.error_message_lost",
        "openai",
        "client: error message",
        patch=_error_message_lost,
        names=("error message", "error"),
    ),
    Mutation("client.stop_dropped", "openai", "client: stop parameter", patch=_stop_dropped, names=("stop",)),
    Mutation(
        "client.done_marker_ignored",
        "openai",
        "client: done marker",
        patch=_done_marker_ignored,
        names=("DONE", "JSON"),
    ),
    Mutation(
        "client.reasoning_as_content",
        "groq",
        "client: reasoning deltas",
        patch=_reasoning_as_content,
        names=("content",),
    ),
)


# --- running -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    mutation: Mutation
    killed_by: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def killed(self) -> bool:
        return bool(self.killed_by)


@dataclass
class Report:
    outcomes: list[Outcome]

    @property
    def killed(self) -> int:
        return sum(1 for o in self.outcomes if o.killed)

    def summary(self) -> dict[str, Any]:
        total = len(self.outcomes)
        return {
            "mutations": total,
            "killed": self.killed,
            "kill_rate": round(self.killed / total, 4) if total else 0.0,
            "survivors": [o.mutation.id for o in self.outcomes if not o.killed],
        }


def _manifest_file(provider: str) -> Path:
    from ailib import manifest as manifests

    return Path(manifests.default_manifests_dir()) / f"{provider}.yaml"


@contextlib.contextmanager
def mutated_manifests(mutation: Mutation) -> Iterator[str | None]:
    """A directory holding the mutated manifest (None for a client mutation)."""
    if mutation.edit is None:
        yield None
        return
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(_manifest_file(mutation.provider).read_text(encoding="utf-8"), Loader=loader)
    data = copy.deepcopy(data)
    mutation.edit(data)
    with tempfile.TemporaryDirectory(prefix="ailib-mutation-") as tmp:
        (Path(tmp) / f"{mutation.provider}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        yield tmp


def judge_mutation(mutation: Mutation, settings: Any) -> Outcome:
    """Apply one mutation alone and collect what each judge says about it."""
    from ailib import manifest as manifests

    from .observed import fact_problems, out_of_scope, recordings_of, replay

    outcome = Outcome(mutation)
    patch = mutation.patch() if mutation.patch is not None else contextlib.nullcontext()
    with mutated_manifests(mutation) as tmp, patch:
        try:
            manifest = manifests.load(mutation.provider, tmp)
        except Exception as exc:
            outcome.killed_by.append("manifest schema")
            outcome.problems.append(f"{mutation.provider}: {type(exc).__name__}: {exc}")
            return outcome
        found: dict[str, list[str]] = {"spec": [], "observed": [], "re-recorded": []}
        found["spec"] += settings.spec_judge.check_manifest(manifest) or []
        for rec in recordings_of(settings.observed_dir, mutation.provider):
            if out_of_scope(rec):
                continue
            found["observed"] += replay(rec, tmp)
            found["observed"] += fact_problems(rec, manifest)
        found["re-recorded"] += rerecord_problems(mutation, manifest, tmp, settings)
    for judge, problems in found.items():
        naming = [p for p in problems if _names(p, mutation)]
        if naming:
            outcome.killed_by.append(judge)
            outcome.problems += naming[:3]
    return outcome


def _names(problem: str, mutation: Mutation) -> bool:
    text = problem.lower()
    return mutation.provider in text and any(n.lower() in text for n in mutation.names)


def rerecord_problems(mutation: Mutation, manifest: Any, manifests_dir: str | None, settings: Any) -> list[str]:
    """Record the scenarios from the simulator with the mutated client (in-process), then judge
    the requests by the spec (strict) and the provider's facts file, and the answers by what
    the simulator's answer says (the oracle), as the suite would after re-recording."""
    from ..runner import run_async

    return run_async(_rerecord(mutation, manifest, manifests_dir, settings))


async def _rerecord(mutation: Mutation, manifest: Any, manifests_dir: str | None, settings: Any) -> list[str]:
    import httpx

    from ailib import AiClient, Message
    from ailib.errors import AiLibError

    from .. import checks
    from ..contract import load_contracts
    from ..scenarios import load_scenarios
    from ..simulator import SimRequest, respond

    contracts = load_contracts()
    contract = contracts.get(mutation.provider) or {}
    if not manifest.chat_supported or not contract:
        return []
    scenarios = {s.id: s for s in load_scenarios()}
    problems: list[str] = []
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = respond(
            contracts, SimRequest(request.method, str(request.url), dict(request.headers), request.content)
        )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    key = f"mutation-test-key-{mutation.provider}-0123456789"
    saved = {name: os.environ.get(name) for name in (contract.get("variables") or {})}
    os.environ.update({k: str(v) for k, v in (contract.get("variables") or {}).items()})
    try:
        for sid in mutation.scenarios:
            scenario = scenarios[sid]
            if scenario.capability and not manifest.capability(scenario.capability).supported:
                problems += _unsupported_problems(mutation.provider, scenario, contract)
                continue
            sent.clear()
            http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
            error: Any = None
            content, events = "", []
            try:
                client = await AiClient.create(
                    f"{mutation.provider}/{contract.get('model') or manifest.default_model}",
                    api_key=key,
                    http_client=http,
                    max_retries=0,
                    manifests_dir=manifests_dir,
                )
                builder = client.chat().messages([_message(Message, r, t) for r, t in scenario.messages])
                for name, value in scenario.parameters.items():
                    builder = getattr(builder, name)(value)
                if scenario.stream:
                    async for event in builder.stream():
                        if event.is_content_delta:
                            content += event.as_content_delta.text or ""
                        events.append(event.kind)
                else:
                    await builder.execute()
            except AiLibError as exc:
                error = exc
            except Exception as exc:
                error = exc
            finally:
                await http.aclose()
            where = f"{mutation.provider}/{sid} (re-recorded)"
            if not sent:
                problems.append(f"{where}: nothing was sent ({error})")
                continue
            request = _AsSent(sent[0])
            problems += checks.check_request(mutation.provider, scenario, contract, request, key)
            body = checks.request_json(request)
            problems += settings.spec_judge.check_request(mutation.provider, manifest.family, sid, body) or []
            if error is not None:
                problems.append(f"{where}: the call failed against the simulator: {error}")
            if "usage_events" in scenario.expect and events.count("usage") != scenario.expect["usage_events"]:
                problems.append(
                    f"{where}: {events.count('usage')} usage events, the facts say the provider sends usage"
                )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return problems


def _message(cls: Any, role: str, text: str) -> Any:
    return getattr(cls, role)(text)


def _unsupported_problems(provider: str, scenario: Any, contract: dict[str, Any]) -> list[str]:
    fields = contract.get("fields") or {}
    out = []
    for name in scenario.parameters:
        if name in fields:
            out.append(
                f"{provider}/{scenario.id}: the manifest rejects {name}, the provider documents it as {fields[name]!r}"
            )
    if scenario.stream and contract.get("url"):
        out.append(f"{provider}/{scenario.id}: the manifest declares streaming unsupported, the provider documents it")
    return out


class _AsSent:
    """An httpx request in the shape the request checks read (uri, headers, body)."""

    def __init__(self, request: Any) -> None:
        self.uri = str(request.url)
        self.headers = dict(request.headers)
        self.body = request.content
        self.method = request.method


def run_catalogue(settings: Any, catalogue: tuple[Mutation, ...] = CATALOGUE) -> Report:
    return Report([judge_mutation(m, settings) for m in catalogue])
