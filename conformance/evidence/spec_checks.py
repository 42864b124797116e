"""Request, response, chunk and error bodies, and manifest declarations, judged by the providers' specs.

Two kinds of check:

- :meth:`SpecJudge.check_exchange`: one cell's wire traffic (the request the client sent,
  the response in the cassette). The request must be valid against the provider's request
  schema and, in strict mode (the default), name no top-level field the spec does not name;
  values must respect the spec's ``minimum``/``maximum``/``enum``. The response body, every
  stream chunk and every error body must be valid against the spec's response / chunk /
  error schema: this judges the simulator that recorded them.
- :meth:`SpecJudge.check_manifest`: the manifest's declarations: each parameter's field
  exists in the request schema, declared ranges and stop limits agree with the spec's, and
  the finish-reason table covers the spec's finish-reason enum.

OpenAI-compatible providers without a spec of their own are judged by OpenAI's, plus the
extra fields their facts file lists under ``spec_extras`` (each with its citation).
Every problem names provider, scenario, field, spec file and schema location.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .facts import load_facts
from .specs import SOURCES, Spec, spec_for, specs_dir_status

_BOUNDS = (("min", "minimum"), ("max", "maximum"))


class SpecJudge:
    """The spec checks of one session (``specs_dir`` None or unusable: every check is skipped).

    ``observed_dir`` holds the real recordings a facts file may cite to show that a provider
    itself departs from its spec (``spec_deviations``); such a departure is accepted only
    when the cited recording shows the same violation at the same place."""

    def __init__(self, specs_dir: Path | None, observed_dir: Path | None = None, *, strict: bool = True) -> None:
        self.specs_dir = specs_dir
        self.observed_dir = observed_dir
        self.strict = strict
        self.skip_reason = specs_dir_status(specs_dir)
        self._memo: dict[tuple[Any, ...], list[Violation]] = {}
        #: departures accepted on documentation alone (not mechanically verifiable), by provider
        self.documentary: dict[str, set[str]] = {}

    def spec(self, provider: str, family: str) -> Spec | None:
        if self.skip_reason is not None or self.specs_dir is None:
            return None
        return spec_for(provider, family, self.specs_dir)

    def own_spec(self, provider: str) -> bool:
        return provider in SOURCES

    def extras(self, provider: str, part: str) -> tuple[str, ...]:
        """Fields the provider adds to OpenAI's schema, as its facts file documents them."""
        if self.own_spec(provider):
            return ()
        extras = (load_facts().get(provider) or {}).get("spec_extras") or {}
        return tuple(sorted(extras.get(part) or ()))

    # --- the request one cell sent ---------------------------------------------------
    def check_request(self, provider: str, family: str, scenario: str, body: Any) -> list[str] | None:
        """Problems with a request body (None when no spec judges this provider)."""
        spec = self.spec(provider, family)
        if spec is None or spec.schemas.request is None or not isinstance(body, dict):
            return None
        extras = self.extras(provider, "request")
        found = self._violations(spec, spec.schemas.request, body, self.strict, extras)
        found = self._unexcused(provider, "request", spec, spec.schemas.request, found)
        return [f"{provider}/{scenario}: request: {v}" for v in found]

    # --- what the simulator recorded -------------------------------------------------
    def check_response(
        self, provider: str, family: str, scenario: str, status: int, body: str, stream: bool
    ) -> list[str]:
        """Problems with one recorded answer: error body, stream chunks or response body,
        judged by the provider's own spec (providers judged by OpenAI's: not checked)."""
        spec = self.spec(provider, family) if self.own_spec(provider) else None
        if spec is None:
            return []
        out: list[str] = []

        def error_pointer(code: int) -> str | None:
            return spec.schemas.errors.get(str(code)) or spec.schemas.errors.get("default")

        if status >= 400:
            data = _json(body)
            pointer = error_pointer(status)
            if pointer and data is not None:
                found = self._unexcused(provider, "error", spec, pointer, self._violations(spec, pointer, data))
                out += [f"{provider}/{scenario}: HTTP {status} error body: {v}" for v in found]
            return out
        if stream:
            for index, chunk in enumerate(_chunks(body)):
                if "error" in chunk and not ({"choices", "candidates"} & set(chunk)):
                    pointer, part, what = error_pointer(500), "error", f"error event {index} in the stream"
                else:
                    pointer, part, what = spec.schemas.chunk, "chunk", f"stream chunk {index}"
                if pointer:
                    found = self._unexcused(provider, part, spec, pointer, self._violations(spec, pointer, chunk))
                    out += [f"{provider}/{scenario}: {what}: {v}" for v in found]
        elif spec.schemas.response:
            data = _json(body)
            if isinstance(data, dict) and "error" in data and not ({"choices", "candidates"} & set(data)):
                # An error object answered with 200 (the ok_error_body fault): judged as an
                # error body, like an error event inside a stream.
                pointer = error_pointer(500)
                if pointer:
                    found = self._unexcused(provider, "error", spec, pointer, self._violations(spec, pointer, data))
                    out += [f"{provider}/{scenario}: error object answered with 200: {v}" for v in found]
            elif data is not None:
                pointer = spec.schemas.response
                found = self._unexcused(provider, "response", spec, pointer, self._violations(spec, pointer, data))
                out += [f"{provider}/{scenario}: response body: {v}" for v in found]
        return out

    def _violations(
        self, spec: Spec, pointer: str, instance: Any, strict: bool = False, extras: tuple[str, ...] = ()
    ) -> list[Violation]:
        key = (spec.file, pointer, strict, extras, json.dumps(instance, sort_keys=True))
        found = self._memo.get(key)
        if found is None:
            validator = spec.validator(pointer)
            found = [v for e in _leaf_errors(validator.iter_errors(instance)) for v in Violation.of(spec, pointer, e)]
            if strict and isinstance(instance, dict):
                # Strict mode: no top-level field the schema does not name (the union of the
                # names of every branch; cheaper than unevaluatedProperties, same verdict here).
                unknown = sorted(set(instance) - spec.property_names(pointer) - set(extras))
                found += [
                    Violation(
                        name,
                        "unevaluatedProperties",
                        f"field {name}={json.dumps(instance[name], default=repr)[:60]}: not named by the spec "
                        f"(strict mode) (spec {spec.file}, schema {pointer})",
                    )
                    for name in unknown
                ]
            self._memo[key] = found
        return found

    def _unexcused(self, provider: str, part: str, spec: Spec, pointer: str, found: list[Violation]) -> list[Violation]:
        if not found:
            return found
        deviations = [
            d for d in (load_facts().get(provider) or {}).get("spec_deviations") or [] if d.get("part") == part
        ]
        if not deviations:
            return found
        out = []
        for violation in found:
            excuse = next((d for d in deviations if d.get("field") == violation.field), None)
            if excuse is None or not self._confirmed(provider, part, spec, pointer, excuse, violation):
                out.append(violation)
        return out

    def _confirmed(
        self, provider: str, part: str, spec: Spec, pointer: str, excuse: dict[str, Any], violation: Violation
    ) -> bool:
        """Does the cited recording show the provider itself breaking the spec the same way?
        (A documentation citation is accepted unverified and reported as such.)"""
        from .facts import parse_citation

        citation = parse_citation(excuse.get("evidence", ""))
        if citation.kind in ("doc", "sdk"):
            # Accepted, but only as documentation: the verdict says so (see ``documentary``).
            self.documentary.setdefault(provider, set()).add(f"{part} {violation.field} ({citation})")
            return True
        if citation.kind != "recording" or self.observed_dir is None:
            return False
        path = self.observed_dir / citation.ref
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if part == "request":
            instances = [((record.get("request") or {}).get("body"))]
            if record["response"]["status"] >= 400:
                return False  # a request the provider refused shows nothing accepted
            strict, extras = self.strict, self.extras(provider, "request")
        else:
            body = record["response"]["body_text"]
            instances = _chunks(body) if part == "chunk" else [_json(body)]
            strict, extras = False, ()
        for instance in instances:
            if isinstance(instance, dict):
                for seen in self._violations(spec, pointer, instance, strict, extras):
                    if seen.field == violation.field and seen.keyword == violation.keyword:
                        return True
        return False

    # --- the manifest's declarations -------------------------------------------------
    def check_manifest(self, manifest: Any) -> list[str] | None:
        """Problems with the manifest's parameter names, ranges and finish reasons (None: no spec)."""
        spec = self.spec(manifest.id, manifest.family)
        if spec is None or spec.schemas.request is None:
            return None
        where = f"{manifest.id}/spec"
        problems: list[str] = []
        extras = self.extras(manifest.id, "request")
        own = self.own_spec(manifest.id)
        for name, param in sorted(manifest.parameters.items()):
            field = param.field
            prop = spec.property_schema(spec.schemas.request, field)
            if prop is None:
                if field.split(".")[0] in extras:
                    continue
                problems.append(
                    f"{where}: manifest sends {name} as field '{field}', which the request schema "
                    f"{spec.where(spec.schemas.request)} does not name"
                )
                continue
            if own:  # OpenAI's ranges are not another provider's
                problems += _range_problems(where, spec, name, field, param, prop)
        if own:
            problems += self._finish_problems(where, spec, manifest)
        return problems

    def check_facts(self, provider: str, family: str) -> list[str]:
        """The facts file's parameter fields (what the simulator serves and the request checks
        hold the client to) must exist in the spec's request schema too."""
        spec = self.spec(provider, family)
        if spec is None or spec.schemas.request is None:
            return []
        fields = (load_facts().get(provider) or {}).get("fields") or {}
        extras = self.extras(provider, "request")
        return [
            f"{provider}/spec: evidence/facts/{provider}.yaml names {name} '{field}', which the request schema "
            f"{spec.where(spec.schemas.request)} does not name"
            for name, field in sorted(fields.items())
            if spec.property_schema(spec.schemas.request, field) is None and field.split(".")[0] not in extras
        ]

    def _finish_problems(self, where: str, spec: Spec, manifest: Any) -> list[str]:
        from .observed import STANDARD_FINISH

        declared = set(manifest.finish_reasons)
        enum, location = finish_enum(spec)
        missing = [value for value in enum if value not in declared]
        wrong = [
            f"{value} -> {manifest.finish_reasons[value]} (it means {STANDARD_FINISH[value]})"
            for value in enum
            if value in declared
            and value in STANDARD_FINISH
            and manifest.finish_reasons[value] != STANDARD_FINISH[value]
        ]
        if wrong:
            return [f"{where}: finish_reasons table maps {'; '.join(wrong)} ({spec.where(location)})"]
        if missing:
            text = (
                f"{where}: finish_reasons table lacks {', '.join(missing)} from the spec's finish-reason enum "
                f"({spec.where(location)}): they would be reported as 'other'"
            )
            return [text]
        return []


@dataclass(frozen=True)
class Violation:
    """One schema violation: where in the instance, which keyword, and a readable line."""

    field: str  # instance path, array indices as *
    keyword: str
    text: str

    @classmethod
    def of(cls, spec: Spec, pointer: str, error: Any) -> list[Violation]:
        """The violation, located: a required error at the missing field."""
        base = "/".join("*" if isinstance(p, int) else str(p) for p in error.absolute_path)
        keyword = str(error.validator)
        text = _describe(spec, pointer, error)
        if keyword == "required":
            match = re.match(r"'([^']+)' is a required property", error.message)
            if match:
                return [cls(_join(base, match.group(1)), keyword, text)]
        return [cls(base, keyword, text)]

    def __str__(self) -> str:
        return self.text


def finish_enum(spec: Spec) -> tuple[list[str], str | None]:
    """The spec's finish-reason values (strings) and where they are defined."""
    if spec.source.operation == "proto":
        node = spec.resolve("/$defs/Candidate.FinishReason")
        return [v for v in node["anyOf"][0]["enum"]], "/$defs/Candidate.FinishReason"
    pointer = spec.schemas.response
    if pointer is None:
        return [], None
    choices = spec.property_schema(pointer, "choices")
    items = spec.resolve_ref((choices or {}).get("items") or {})
    reason = _find(spec, items, "finish_reason")
    values = _enum_values(spec, reason)
    return [v for v in values if isinstance(v, str)], f"{pointer}/properties/choices/items/properties/finish_reason"


def _find(spec: Spec, node: Any, key: str) -> Any:
    from .specs import _find_property

    return _find_property(spec, node, key)


def _enum_values(spec: Spec, node: Any) -> list[Any]:
    node = spec.resolve_ref(node)
    if not isinstance(node, dict):
        return []
    if "enum" in node:
        return list(node["enum"])
    out: list[Any] = []
    for branch in [*(node.get("anyOf") or []), *(node.get("oneOf") or []), *(node.get("allOf") or [])]:
        out += _enum_values(spec, branch)
    return out


def _numbers(spec: Spec, node: Any, key: str) -> list[float]:
    node = spec.resolve_ref(node)
    if not isinstance(node, dict):
        return []
    found = [node[key]] if isinstance(node.get(key), (int, float)) and not isinstance(node.get(key), bool) else []
    for branch in [*(node.get("anyOf") or []), *(node.get("oneOf") or []), *(node.get("allOf") or [])]:
        found += _numbers(spec, branch, key)
    return found


def _range_problems(where: str, spec: Spec, name: str, field: str, param: Any, prop: Any) -> list[str]:
    problems = []
    location = f"{spec.where(spec.schemas.request)} property {field}"
    for mine, theirs in _BOUNDS:
        spec_values = _numbers(spec, prop, theirs) + _numbers(spec, prop, "exclusive" + theirs.capitalize())
        declared = getattr(param, mine, None)
        if spec_values and declared is None:
            problems.append(f"{where}: {name} declares no {mine}, the spec's {theirs} is {spec_values[0]} ({location})")
        elif spec_values and declared not in spec_values:
            problems.append(f"{where}: {name} {mine}={declared}, the spec's {theirs} is {spec_values[0]} ({location})")
    if name == "stop":
        limits = _numbers(spec, prop, "maxItems")
        declared = getattr(param, "max_items", None)
        if limits and declared is not None and declared != max(limits):
            problems.append(f"{where}: stop max_items={declared}, the spec's maxItems is {max(limits)} ({location})")
    return problems


def _leaf_errors(errors: Any) -> list[Any]:
    """The errors in a stable order (by instance path), at most five per instance."""
    return sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message))[:5]


def _describe(spec: Spec, pointer: str, error: Any) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    schema_path = "/".join(str(p) for p in error.schema_path)
    value = json.dumps(error.instance, default=repr)[:60]
    message = error.message if len(error.message) < 160 else error.message[:157] + "..."
    return f"field {path}={value}: {message} (spec {spec.file}, schema {pointer} at {schema_path})"


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _chunks(body: str) -> list[Any]:
    """The JSON payloads of an SSE body (``data:`` lines; [DONE] and broken JSON skipped: the
    cell's own checks judge framing)."""
    out = []
    for line in body.splitlines():
        if line.startswith("data:"):
            data = _json(line[5:].strip())
            if isinstance(data, dict):
                out.append(data)
    return out
