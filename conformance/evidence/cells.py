"""The evidence cells of the matrix, and the evidence level every other cell rests on.

Four columns judge a provider by what the project did not write (scenarios with
``call: evidence`` in ``scenarios.yaml``):

- ``spec_declarations``: the manifest's parameter names, ranges and finish-reason table
  against the provider's spec;
- ``spec_wire``: every response body, stream chunk and error body in the provider's
  cassettes against its spec (this judges the simulator that recorded them);
- ``observed_replay``: each real recording replayed through the client, judged by its
  hand-checked ``expected``;
- ``observed_facts``: the provider facts the recordings show against the manifest.

Every scenario cell also gets an evidence level (:func:`cell_level`): ``spec-checked``
when the provider's spec validated its request, ``observed`` when real traffic of the
same kind exists for the provider, else the level of the facts it relies on
(``documented`` or ``assumed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .facts import ASSUMED, DOCUMENTED, OBSERVED, SPEC, citations
from .observed import (
    fact_problems,
    facts_file_problems,
    observed_dir_status,
    out_of_scope,
    recordings_of,
    replay,
)
from .spec_checks import SpecJudge


@dataclass
class EvidenceSettings:
    """Where the session's evidence is (None: not available) and how strict spec checks are."""

    specs_dir: Path | None
    observed_dir: Path | None
    strict: bool = True
    manifests_dir: str | None = None
    runtime: str = "ailib"  # the replay drives ailib itself: other runtimes get no replay verdict

    @cached_property
    def spec_judge(self) -> SpecJudge:
        return SpecJudge(self.specs_dir, self.observed_dir, strict=self.strict)

    @property
    def spec_skip(self) -> str | None:
        return self.spec_judge.skip_reason

    @property
    def observed_skip(self) -> str | None:
        return observed_dir_status(self.observed_dir)

    def skipped(self) -> list[str]:
        """One line per group of checks this session cannot run, with the reason."""
        out = []
        if self.spec_skip:
            out.append(f"spec checks skipped: {self.spec_skip}")
        if self.observed_skip:
            out.append(f"observed (real-traffic) checks skipped: {self.observed_skip}")
        return out


@dataclass
class Verdict:
    status: str  # pass | fail | not_applicable | not_run (skipped)
    detail: str | None = None
    problems: list[str] = field(default_factory=list)
    level: str | None = None
    link: str | None = None


def judge(provider: str, scenario: str, manifest: Any, settings: EvidenceSettings, cassettes: Path) -> Verdict:
    """The verdict of one evidence cell."""
    if scenario.startswith("spec_"):
        if settings.spec_skip:
            return Verdict("not_run", f"skipped: {settings.spec_skip}")
        if scenario == "spec_declarations":
            return _declarations(manifest, settings)
        return _wire(manifest, settings, cassettes)
    if settings.observed_skip:
        return Verdict("not_run", f"skipped: {settings.observed_skip}")
    if scenario == "observed_replay" and settings.runtime != "ailib":
        return Verdict("not_applicable", f"the real-traffic replay drives ailib, not runtime {settings.runtime}")
    records = [r for r in recordings_of(settings.observed_dir, provider) if not out_of_scope(r)]
    if not records:
        return Verdict("not_applicable", f"no real recording of {provider} in {settings.observed_dir}")
    problems: list[str] = []
    for rec in records:
        if scenario == "observed_replay":
            problems += replay(rec, settings.manifests_dir)
        else:
            problems += fact_problems(rec, manifest) + facts_file_problems(rec)
    if scenario == "observed_facts":
        problems += _citation_problems(provider, "recording", settings)
    files = ", ".join(r.file for r in records)
    return _verdict(problems, OBSERVED, files, f"{len(records)} recording(s): {files}")


def _citation_problems(provider: str, kind: str, settings: EvidenceSettings) -> list[str]:
    """Every ``spec:`` / ``recording:`` citation of the provider's facts must name evidence
    that exists: a spec file and a location in it, or a recording of this provider."""
    from .facts import load_facts, parse_citation

    problems = []
    for fact, cited in ((load_facts().get(provider) or {}).get("sources") or {}).items():
        for text in cited if isinstance(cited, list) else [cited]:
            citation = parse_citation(text)
            if citation.kind != kind:
                continue
            ref = citation.ref.split(" (", 1)[0]
            where = f"{provider}: facts file cites {kind} {ref!r} for {fact}"
            if kind == "recording":
                if ref not in {r.file for r in recordings_of(settings.observed_dir, provider)}:
                    problems.append(f"{where}, which is not a recording of {provider} in {settings.observed_dir}")
            elif settings.specs_dir is not None:
                file, _, pointer = ref.partition("#")
                if not (settings.specs_dir / file).is_file():
                    problems.append(f"{where}, which is not in {settings.specs_dir}")
                elif pointer and not _resolves(settings, provider, file, pointer):
                    problems.append(f"{where}: no schema at {pointer}")
    return problems


def _resolves(settings: EvidenceSettings, provider: str, file: str, pointer: str) -> bool:
    from .specs import SOURCES, load_spec

    for name, source in SOURCES.items():
        if source.file == file and settings.specs_dir is not None:
            spec = load_spec(name, str(settings.specs_dir))
            try:
                return spec is not None and isinstance(spec.resolve(pointer), dict)
            except (KeyError, IndexError, ValueError):
                return False
    return False


def _verdict(problems: list[str], level: str, link: str, ok: str) -> Verdict:
    if problems:
        return Verdict("fail", "; ".join(problems), problems, level, link)
    return Verdict("pass", ok, [], level, link)


def _declarations(manifest: Any, settings: EvidenceSettings) -> Verdict:
    judge_ = settings.spec_judge
    problems = judge_.check_manifest(manifest)
    if problems is not None:
        problems += judge_.check_facts(manifest.id, manifest.family) + _citation_problems(manifest.id, "spec", settings)
    if problems is None:
        return Verdict("not_applicable", f"no machine-readable spec judges {manifest.id} ({manifest.family})")
    spec = judge_.spec(manifest.id, manifest.family)
    assert spec is not None
    how = "its own spec" if judge_.own_spec(manifest.id) else "OpenAI's spec (OpenAI-compatible)"
    return _verdict(
        problems,
        SPEC,
        spec.file,
        f"parameter names{' and ranges' if judge_.own_spec(manifest.id) else ''} agree with {how}: {spec.file}",
    )


def _wire(manifest: Any, settings: EvidenceSettings, cassettes: Path) -> Verdict:
    from ..cassettes import ReadableSerializer, read_settled

    judge_ = settings.spec_judge
    spec = judge_.spec(manifest.id, manifest.family) if judge_.own_spec(manifest.id) else None
    if spec is None:
        return Verdict(
            "not_applicable",
            f"{manifest.id} has no spec of its own: OpenAI's response schemas describe OpenAI's server, "
            "so only its requests are judged by it",
        )
    problems: list[str] = []
    count = 0
    for path in sorted((cassettes / manifest.id).glob("*.yaml")):
        text = read_settled(path)
        if text is None:  # removed while this ran (a recording session), not written again in time
            continue
        data = ReadableSerializer.deserialize(text)
        for interaction in data.get("interactions") or []:
            response = interaction["response"]
            body = response["body"]["string"]
            body = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
            ctype = " ".join(headers.get("content-type") or [])
            stream = "event-stream" in ctype or body.lstrip().startswith(("data:", "event:", ":"))
            count += 1
            problems += judge_.check_response(
                manifest.id, manifest.family, path.stem, response["status"]["code"], body, stream
            )
    ok = f"{count} recorded answers valid against {spec.file}"
    documentary = sorted(judge_.documentary.get(manifest.id, ()))
    if documentary:
        ok += "; departures accepted on documentation only (not verified): " + "; ".join(documentary)
    return _verdict(problems, SPEC, spec.file, ok)


# --- the evidence level of a scenario cell ----------------------------------------------------


def _fact_for(scenario: Any) -> str:
    if scenario.parameters:
        return f"fields.{next(iter(scenario.parameters))}"
    if scenario.stream:
        return "stream"
    if "error" in scenario.expect:
        return "errors"
    return "url"


def cell_level(
    provider: str, scenario: Any, settings: EvidenceSettings, family: str, request_checked: bool
) -> tuple[str, str | None]:
    """(level, link) for a scenario cell that was judged."""
    if request_checked:
        spec = settings.spec_judge.spec(provider, family)
        if spec is not None:
            return SPEC, f"{spec.file}#{spec.schemas.request}"
    kind = _kind(scenario)
    same_kind = [r for r in recordings_of(settings.observed_dir, provider) if _recording_kind(r) == kind]
    status = (scenario.fault or "").removeprefix("error_")
    same_status = [r for r in same_kind if status.isdigit() and r.status == int(status)]
    for rec in same_status or same_kind:
        return OBSERVED, rec.file
    return fact_level(provider, _fact_for(scenario))


def fact_level(provider: str, fact: str) -> tuple[str, str | None]:
    cited = citations(provider, fact)
    best = min(cited, key=lambda c: (SPEC, OBSERVED, DOCUMENTED, ASSUMED).index(c.level))
    return best.level, (best.ref or None)


def _kind(scenario: Any) -> str:
    if "error" in scenario.expect:
        return "error"
    return "stream" if scenario.stream else "execute"


def _recording_kind(rec: Any) -> str:
    if rec.status >= 400 or rec.expected.get("stream_error"):
        return "error"
    return "stream" if rec.streaming else "execute"


def unsupported_level(provider: str, capability: str) -> tuple[str, str | None]:
    """Evidence for a capability declared unsupported: a citation under ``unsupported.<name>``."""
    cited = citations(provider, f"unsupported.{capability}")
    best = cited[0]
    return best.level, (best.ref or None)
