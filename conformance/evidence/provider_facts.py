"""The facts people compare providers by, one row per provider, each with what backs it.

Values come from the manifest (what the client does); the evidence level and source of
each value come from the judge's side: the provider's spec when it names the field or
bound, a real recording that shows it, else the citation in the provider's facts file
(documentation), else ``assumed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .facts import ASSUMED, OBSERVED, SPEC, citations, load_facts
from .observed import observed_facts, recordings_of
from .spec_checks import SpecJudge

FACT_NAMES: tuple[tuple[str, str], ...] = (
    ("max_tokens_param", "max-tokens parameter"),
    ("temperature_range", "temperature range"),
    ("top_p_range", "top_p range"),
    ("stop_limit", "stop limit"),
    ("stream_usage", "stream usage"),
    ("done_marker", "done marker"),
    ("reasoning_field", "reasoning field"),
    ("error_shape", "error body shape"),
    ("default_model", "default model"),
)


def _fact(value: Any, level: str, source: str | None) -> dict[str, Any]:
    return {"value": value, "level": level, "source": source}


def _cited(provider: str, fact: str) -> tuple[str, str | None]:
    best = citations(provider, fact)[0]
    return best.level, (str(best) if best.kind != "assumed" else None)


def _range(param: Any) -> str:
    if param is None:
        return "unsupported"
    low = "-inf" if param.min is None else f"{param.min:g}"
    high = "inf" if param.max is None else f"{param.max:g}"
    if param.min is None and param.max is None:
        return "no range enforced"
    return f"[{low}, {high}" + (")" if param.exclusive_max else "]")


def provider_facts(manifest: Any, judge: SpecJudge, observed_dir: Path | None) -> dict[str, Any]:
    pid = manifest.id
    spec = judge.spec(pid, manifest.family)
    records = recordings_of(observed_dir, pid)
    seen = [observed_facts(r) for r in records]
    params = manifest.parameters
    row: dict[str, Any] = {"id": pid, "name": manifest.name, "family": manifest.family}

    def from_spec(field: str | None) -> tuple[str, str] | None:
        if spec is None or field is None or spec.schemas.request is None:
            return None
        if spec.property_schema(spec.schemas.request, field) is None:
            return None
        return SPEC, f"{spec.file}#{spec.schemas.request} ({field})"

    def from_recordings(test: Any) -> tuple[str, str] | None:
        for facts in seen:
            if test(facts):
                return OBSERVED, f"recording: {facts['file']}"
        return None

    def decide(fact: str, *found: tuple[str, str] | None) -> tuple[str, str | None]:
        for item in found:
            if item is not None:
                return item
        return _cited(pid, fact)

    mt = params.get("max_tokens")
    field = mt.field if mt else None
    level, source = decide(
        "fields.max_tokens",
        from_spec(field),
        from_recordings(lambda f: field is not None and f.get("accepted", {}).get("max_tokens", ("",))[0] == field),
    )
    row["max_tokens_param"] = _fact(field or "unsupported", level, source)
    for name in ("temperature", "top_p"):
        param = params.get(name)
        own = judge.own_spec(pid) and param is not None
        level, source = decide(f"fields.{name}", from_spec(param.field) if own and param else None)
        row[f"{name}_range"] = _fact(_range(param), level, source)
    stop = params.get("stop")
    stop_value = "unsupported" if stop is None else (f"{stop.max_items} sequences" if stop.max_items else "no limit")
    level, source = decide(
        "unsupported.stop" if stop is None else "fields.stop",
        from_spec(stop.field) if stop is not None else None,
    )
    row["stop_limit"] = _fact(stop_value, level, source)
    extras = manifest.request.stream_extras
    if not manifest.capability("usage_in_stream").supported:
        usage = "none"
    elif "stream_options" in extras:
        usage = "on request"
    else:
        usage = "automatic"
    level, source = decide(
        "stream.usage",
        from_recordings(lambda f: "usage_placement" in f and (usage == "automatic") != f.get("usage_requested")),
    )
    placements = sorted({f["usage_placement"] for f in seen if "usage_placement" in f})
    row["stream_usage"] = _fact(usage + (f" ({', '.join(placements)})" if placements else ""), level, source)
    marker = manifest.stream.done_marker
    level, source = decide("quirks", from_recordings(lambda f: "done_marker" in f and f["done_marker"] == bool(marker)))
    row["done_marker"] = _fact(marker or "none", level, source)
    routes = (manifest.data.get("stream") or {}).get("routes") or {}
    reasoning = (routes.get("*") or {}).get("reasoning") or (manifest.data.get("response") or {}).get("reasoning")
    names = reasoning if isinstance(reasoning, list) else [reasoning] if reasoning else []
    level, source = decide(
        "quirks",
        from_recordings(
            lambda f: (
                "reasoning_field" in f
                and any(str(n).rsplit(".", 1)[-1] == f["reasoning_field"].split(".")[-1] for n in names)
            )
        ),
    )
    row["reasoning_field"] = _fact(", ".join(map(str, names)) or "none", level, source)
    message = (manifest.data.get("errors") or {}).get("message")  # the path as written
    by_status: dict[int, str] = {}
    for rec, facts in zip(records, seen, strict=True):
        if facts.get("error_shape"):
            by_status.setdefault(rec.status, facts["error_shape"])
    shapes = "; ".join(f"{status}: {shape}" for status, shape in sorted(by_status.items()))
    level, source = decide("errors", from_recordings(lambda f: bool(f.get("error_shape"))))
    row["error_shape"] = _fact(shapes or (f"message at {message}" if message else "unknown"), level, source)
    model = manifest.default_model
    served = None
    for rec in records:
        if rec.status < 400 and (rec.request_body.get("model") == model or rec.data.get("model") == model):
            served = (OBSERVED, f"recording: {rec.file}")
            break
    explicit = "default_model" in ((load_facts().get(pid) or {}).get("sources") or {})
    level, source = served or (_cited(pid, "default_model") if explicit else (ASSUMED, None))
    still = "served" if level != ASSUMED else "not checked"
    row["default_model"] = _fact(f"{model} ({still})", level, source)
    return row


def all_provider_facts(manifests: list[Any], judge: SpecJudge, observed_dir: Path | None) -> list[dict[str, Any]]:
    return [provider_facts(m, judge, observed_dir) for m in manifests if m.chat_supported]
