"""Run one cell of the matrix (provider × scenario) and judge it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ailib import manifest as manifests
from ailib.errors import AiLibError
from ailib.manifest import Manifest

from . import checks
from .cassettes import PLANTED_MARKER, ReadableSerializer, cassettes_dir, read_provenance, read_settled
from .contract import load_contracts
from .evidence.cells import EvidenceSettings, cell_level, unsupported_level
from .runtimes.base import Call, ErrorInfo, Outcome, Runtime
from .scenarios import (
    EVIDENCE_CALL,
    REFUSED_WHEN_UNSUPPORTED,
    Scenario,
    load_scenarios,
    needs_cassette,
    undocumented,
)


def planted_key(provider: str) -> str:
    """A recognisable fake key: tests search every output for it."""
    return f"{PLANTED_MARKER}{provider}-0123456789abcdef"


@dataclass
class CellResult:
    provider: str
    scenario: str
    status: str  # pass | fail | unsupported | not_applicable
    detail: str | None = None
    declared: bool | None = None
    evidence: str | None = None
    outcome: str | None = None
    response_fields: list[str] | None = None
    problems: list[str] = field(default_factory=list)
    reported_status: str | None = None  # what the results file says, when it differs from ``status``
    evidence_level: str | None = None  # spec-checked | observed | documented | assumed
    evidence_link: str | None = None  # the spec location, recording file or document it rests on

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("problems")
        data["status"] = data.pop("reported_status") or data["status"]
        return data


def cassette_path(provider: str, scenario: str) -> Path:
    return cassettes_dir() / provider / f"{scenario}.yaml"


def _response_fields(body: str, stream: bool) -> list[str] | None:
    import json

    if stream:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return sorted(data) if isinstance(data, dict) else None


@dataclass
class CellContext:
    """What the plugin hands the runner for one test."""

    runtime: Runtime
    http_client: Callable[[], Any]
    seen: list[Any]
    cassette: Any  # vcrpy Cassette, or None for cells that send nothing
    replaying: bool
    api_key: str
    max_retries: int = 0
    #: what a cassette recorded in this test will say it came from (``simulated`` / ``live``)
    recording_source: str = "simulated"
    evidence: EvidenceSettings | None = None


def run_cell(provider: str, scenario: Scenario, ctx: CellContext) -> CellResult:
    """Run and judge one cell. The key the runtime was given never appears in the result: a
    foreign runtime's (or a library's) message may quote a URL that carries it (``?key=``)."""
    result = _run_cell(provider, scenario, ctx)
    return _without_key(result, ctx.api_key)


def _without_key(result: CellResult, key: str) -> CellResult:
    from urllib.parse import quote

    if len(key) < 8:  # too short to be a key (tests' "k"): replacing it would garble the text
        return result
    forms = {key, quote(key, safe=""), quote(key)}

    def scrub(text: str) -> str:
        for form in forms:
            text = text.replace(form, "<api key>")
        return text

    result.problems = [scrub(p) for p in result.problems]
    result.detail = scrub(result.detail) if result.detail else result.detail
    return result


def _run_cell(provider: str, scenario: Scenario, ctx: CellContext) -> CellResult:
    try:
        manifest = manifests.load(provider)
    except AiLibError as exc:  # a manifest given with --manifests that ailib cannot use
        return _fail(CellResult(provider, scenario.id, "pass"), [f"{provider}: manifest unusable: {exc}"])
    declared = manifest.capability(scenario.capability).supported if scenario.capability else None
    result = CellResult(provider, scenario.id, "pass", declared=declared)
    blocked = runtime_blocked(ctx.runtime, provider)
    if blocked is not None:
        if not manifest.chat_supported:  # nothing to run for any runtime
            result.status, result.detail = "not_applicable", manifest.chat_reason
            return result
        return _fail(result, [blocked])  # the same detail in every cell of the provider: the report groups it
    if scenario.call == EVIDENCE_CALL:
        if not manifest.chat_supported:
            result.status, result.detail = "not_applicable", manifest.chat_reason
            return result
        return _evidence_cell(provider, scenario, manifest, ctx, result)
    call = _call(provider, scenario, manifest, ctx)
    if not manifest.chat_supported:
        outcome = run_runtime(ctx.runtime, call)
        result.status, result.detail = "not_applicable", manifest.chat_reason
        if outcome.rejected is None or ctx.seen:
            result.status = "fail"
            result.detail = f"{provider} has no chat API but the runtime did not refuse before sending"
            result.reported_status = "not_applicable"  # the test fails; the matrix has only n/a for such a provider
        return result
    reason = undocumented(scenario, load_contracts().get(provider))
    if reason:
        result.status, result.detail = "unsupported", reason
        return result
    lacking = runtime_lacks(ctx.runtime, scenario)
    if lacking:  # nothing to judge: neither a call nor a refusal can go through this runtime
        result.status, result.detail = "unsupported", lacking
        return result
    if not needs_cassette(manifest, scenario):
        return _unsupported(provider, scenario, manifest, ctx, call, result)
    path = cassette_path(provider, scenario.id)
    if ctx.replaying and not path.is_file():
        return _fail(result, [f"{provider}/{scenario.id}: missing cassette {path.relative_to(cassettes_dir().parent)}"])
    outcome = run_runtime(ctx.runtime, call)
    return _judge(provider, scenario, manifest, ctx, call, outcome, result, path)


def _evidence_cell(
    provider: str, scenario: Scenario, manifest: Manifest, ctx: CellContext, result: CellResult
) -> CellResult:
    from .evidence.cells import judge

    settings = ctx.evidence or EvidenceSettings(None, None)
    verdict = judge(provider, scenario.id, manifest, settings, cassettes_dir())
    result.status, result.detail = verdict.status, verdict.detail
    result.evidence_level, result.evidence_link = verdict.level, verdict.link
    if verdict.status == "fail":
        return _fail(result, verdict.problems)
    return result


def runtime_blocked(runtime: Runtime, provider: str) -> str | None:
    """Why ``runtime`` cannot run ``provider``'s cells here (not installed, cannot load it), or None."""
    name = getattr(runtime, "name", type(runtime).__name__)
    for check, what in (
        (runtime.unavailable, "is unavailable"),
        (lambda: runtime.supports(provider), f"cannot load {provider}"),
    ):
        try:
            reason = check()
        except Exception as exc:
            reason = f"{type(exc).__name__} while checking: {exc}"
        if reason:
            return f"not run: runtime {name} {what}: {reason}"
    return None


def runtime_lacks(runtime: Runtime, scenario: Scenario) -> str | None:
    """Why ``runtime`` has no API for what ``scenario`` needs (e.g. tools), or None. Optional
    in the Runtime protocol: ``lacks(scenario) -> str | None``."""
    lacks = getattr(runtime, "lacks", None)
    if lacks is None:
        return None
    reason = lacks(scenario)
    name = getattr(runtime, "name", type(runtime).__name__)
    return f"not judged with runtime {name}: {reason}" if reason else None


_LOOP: asyncio.AbstractEventLoop | None = None


def run_async(coro: Any) -> Any:
    """Run a coroutine on the session's event loop: a new loop per cell (``asyncio.run``)
    cost about as much as replaying the cell."""
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP.run_until_complete(coro)


def run_runtime(runtime: Runtime, call: Call) -> Outcome:
    """``runtime.run(call)``; an exception escaping it (adapters must not raise) becomes the outcome's error."""
    try:
        return run_async(runtime.run(call))
    except Exception as exc:
        name = getattr(runtime, "name", type(runtime).__name__)
        return Outcome(error=ErrorInfo.unclassified(type(exc).__name__, f"runtime {name} raised {exc!r} out of run()"))


def _call(provider: str, scenario: Scenario, manifest: Manifest, ctx: CellContext) -> Call:
    contract = load_contracts().get(provider) or {}
    return Call(
        provider=provider,
        model=contract.get("model") or manifest.default_model or "model",
        api_key=ctx.api_key,
        messages=list(scenario.messages),
        parameters=dict(scenario.parameters),
        mode=scenario.call,
        via=scenario.via,
        http_client=ctx.http_client,
        max_retries=scenario.max_retries,
        tools=list(scenario.tools),
        tool_choice=scenario.tool_choice,
        response_format=scenario.response_format,
    )


def _unsupported(
    provider: str, scenario: Scenario, manifest: Manifest, ctx: CellContext, call: Call, result: CellResult
) -> CellResult:
    reason = manifest.capability(scenario.capability or "").reason
    result.status, result.detail = "unsupported", reason
    result.evidence_level, result.evidence_link = unsupported_level(provider, scenario.capability or "")
    if scenario.capability not in REFUSED_WHEN_UNSUPPORTED:
        return result
    outcome = run_runtime(ctx.runtime, call)
    result.outcome = "rejected" if scenario.group == "parameters" else None
    if outcome.rejected is None or ctx.seen:
        return _fail(
            result,
            [
                (
                    f"{provider}/{scenario.id}: {scenario.capability} is declared unsupported, "
                    f"but the runtime did not refuse before sending"
                )
            ],
        )
    contract = load_contracts().get(provider) or {}
    for name in scenario.parameters:
        if name in (contract.get("fields") or {}):
            return _fail(
                result,
                [
                    (
                        f"{provider}/{scenario.id}: the manifest rejects {name}, "
                        f"but the provider documents it as {contract['fields'][name]!r}"
                    )
                ],
            )
    return result


def _judge(
    provider: str,
    scenario: Scenario,
    manifest: Manifest,
    ctx: CellContext,
    call: Call,
    outcome: Outcome,
    result: CellResult,
    path: Path,
) -> CellResult:
    contract = load_contracts().get(provider)
    if contract is None or "no_chat" in contract:
        return _fail(result, [f"{provider}: no documented contract in conformance/evidence/facts/{provider}.yaml"])
    if outcome.rejected is not None:
        result.outcome = "rejected" if scenario.group == "parameters" else None
        return _fail(
            result,
            [f"{provider}/{scenario.id}: refused before sending although declared supported: {outcome.rejected}"],
        )
    if not ctx.seen:
        return _fail(
            result,
            [
                f"{provider}/{scenario.id}: the runtime sent no request"
                + (f" ({outcome.error.message})" if outcome.error else "")
            ],
        )
    if scenario.expect.get("finish_reason") == "length" and "no_length_finish" in (contract.get("quirks") or []):
        # The provider reports no truncation (e.g. Replicate's status is just "succeeded").
        scenario = dataclasses.replace(
            scenario, expect={k: v for k, v in scenario.expect.items() if k != "finish_reason"}
        )
        result.detail = f"{provider} documents no finish reason for truncation: finish_reason not checked"
    problems = checks.check_request(provider, scenario, contract, ctx.seen[0], ctx.api_key)
    spec_problems = None
    if ctx.evidence is not None:
        spec_problems = ctx.evidence.spec_judge.check_request(
            provider, manifest.family, scenario.id, checks.request_json(ctx.seen[0])
        )
        problems += spec_problems or []
    if scenario.group == "parameters":
        result.outcome = "dropped" if any(" dropped:" in p for p in problems) else "honoured"
    cassette = ctx.cassette
    if ctx.replaying:
        recorded = cassette.requests[0]
        problems += checks.check_same_body(provider, scenario, ctx.seen[0], recorded)
        if not cassette.all_played:
            problems.append(
                f"{provider}/{scenario.id}: {len(cassette) - cassette.play_count} recorded "
                f"interaction(s) never used in {path.name}"
            )
    body = cassette.responses[-1]["body"]["string"]
    body = body.decode("utf-8") if isinstance(body, bytes) else body
    family = contract["family"]
    try:
        status = cassette.responses[-1]["status"]["code"]
        # An error answer (any status, a redirect, or a 200 that is an error object) is read
        # for the provider's message; an answer or a stream, for its content.
        error_body = status >= 300 or ("error" in scenario.expect and not scenario.stream)
        reading = checks.error_reading(family, body) if error_body else checks.reading_of(family, body, scenario.stream)
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"{provider}/{scenario.id}: recorded response unreadable ({type(exc).__name__}: {exc})")
    else:
        if "error" in scenario.expect:
            problems += checks.check_error(
                provider, scenario, family, outcome, reading, status, body, call.waits, sends(ctx)
            )
        else:
            problems += checks.check_response(provider, scenario, family, outcome, reading)
        if "same_text_as" in scenario.expect:
            problems += _same_text(provider, scenario, family, outcome)
    result.response_fields = _response_fields(body, scenario.stream)
    if ctx.evidence is not None:
        result.evidence_level, result.evidence_link = cell_level(
            provider, scenario, ctx.evidence, manifest.family, spec_problems is not None
        )
    if not ctx.replaying and getattr(cassette, "dirty", False):  # recorded now: saved only after the test
        result.evidence = ctx.recording_source
    else:
        provenance = read_provenance(path) if path.is_file() else None
        result.evidence = (provenance or {}).get("source")
    error = outcome.error
    if problems and error is not None and error.error_class is None and not any(error.message in p for p in problems):
        # an unclassified error (often an exception inside the runtime): say what it was
        problems.append(f"{provider}/{scenario.id}: the runtime's error was {error.type}: {error.message}")
    if problems:
        return _fail(result, problems)
    return result


def sends(ctx: CellContext) -> int:
    """How many HTTP requests the runtime really sent: interactions played, or recorded."""
    return ctx.cassette.play_count if ctx.replaying else len(ctx.cassette.data)


def _same_text(provider: str, scenario: Scenario, family: str, outcome: Outcome) -> list[str]:
    other = scenario.expect["same_text_as"]
    path = cassette_path(provider, other)
    text = read_settled(path)
    if text is None:
        return [f"{provider}/{scenario.id}: cannot compare with {other}: no cassette {path.name}"]
    data = ReadableSerializer.deserialize(text)
    body = data["interactions"][-1]["response"]["body"]["string"]
    want = checks.reading_of(family, body, False).content
    if outcome.content != want:
        return [f"{provider}/{scenario.id}: streamed text {outcome.content!r:.60} != non-stream text {want!r:.60}"]
    return []


def _fail(result: CellResult, problems: list[str]) -> CellResult:
    result.status = "fail"
    result.problems = problems
    result.detail = "; ".join(problems)
    return result


def all_cells() -> list[tuple[str, Scenario]]:
    return [(p, s) for p in manifests.available() for s in load_scenarios()]
