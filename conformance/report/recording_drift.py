"""What a new recording says differently from the one it replaced: the live run's drift report.

:mod:`conformance.report.drift` compares two *reports* (cell statuses, top-level response
fields). After a live re-recording the better evidence is the cassettes themselves: for each
re-recorded cell, the committed (simulated) recording against the live one, compared by
*shape*, never by value (texts and token counts always differ):

* the response fields: every JSON path, lists folded to ``[]``; in a stream, per event
  (``message_delta: usage.output_tokens``), so a field that moved between events shows;
* where usage is reported: the paths naming usage or tokens, and for streams in which event
  and at which position (first, middle, last) they come;
* the status, the content type and the response header names;
* error bodies: the shape of an error answer, and a status that turned into one.

This is the input for correcting a manifest or a simulator profile: a field that vanished,
usage that moved, an error body the simulator shapes differently.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from .drift import FieldChange


@dataclass(frozen=True, slots=True)
class ResponseShape:
    status: int
    content_type: str
    headers: frozenset[str]
    fields: frozenset[str]
    usage: tuple[str, ...]

    @property
    def error(self) -> bool:
        return self.status >= 400


def _paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        out: set[str] = set()
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.add(path)
            out |= _paths(item, path)
        return out
    if isinstance(value, list):
        out = set()
        for item in value:
            out |= _paths(item, f"{prefix}[]")
        return out
    return set()


def _usage_paths(paths: set[str]) -> set[str]:
    """The top of each usage branch: ``usage`` rather than ``usage.prompt_tokens`` when both are there."""
    hits = {p for p in paths if any("usage" in part.lower() or "token" in part.lower() for part in p.split("."))}
    return {p for p in hits if not any(p.startswith((h + ".", h + "[]")) for h in hits if h != p)}


def _sse_events(text: str) -> list[tuple[str, Any]]:
    """(event name or ``data``, parsed data or the raw text) for each event of an SSE body."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "data", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if not data:
            continue
        raw = "\n".join(data)
        try:
            events.append((name, json.loads(raw)))
        except ValueError:
            events.append((name, raw))
    return events


def _stream_shape(events: list[tuple[str, Any]]) -> tuple[set[str], list[str]]:
    fields: set[str] = set()
    usage: list[str] = []
    for index, (name, data) in enumerate(events):
        if not isinstance(data, (dict, list)):
            fields.add(f"{name}: {data if data == '[DONE]' else '<text>'}")
            continue
        paths = _paths(data)
        fields |= {f"{name}: {p}" for p in paths}
        position = "last" if index == len(events) - 1 else "first" if index == 0 else "middle"
        for p in sorted(_usage_paths(paths)):
            where = f"{name}@{position}: {p}"
            if where not in usage:
                usage.append(where)
    return fields, usage


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body or ""


def response_shape(response: dict[str, Any]) -> ResponseShape:
    """The shape of one recorded vcrpy response (as :class:`ReadableSerializer` loads it)."""
    headers = {str(k).lower(): (v[0] if isinstance(v, list) and v else v) for k, v in response["headers"].items()}
    ctype = str(headers.get("content-type") or "").split(";")[0].strip()
    text = _text(response["body"]["string"])
    fields: set[str] = set()
    usage: list[str] = []
    if "event-stream" in ctype:
        fields, usage = _stream_shape(_sse_events(text))
    else:
        try:
            data = json.loads(text) if text else None
        except ValueError:
            fields = {"<not JSON>"}
        else:
            if isinstance(data, list) and all(isinstance(d, dict) for d in data):  # a JSON-array stream
                fields, usage = _stream_shape([("item", d) for d in data])
            elif data is not None:
                fields = _paths(data)
                usage = sorted(_usage_paths(fields))
    return ResponseShape(
        status=int(response["status"]["code"]),
        content_type=ctype,
        headers=frozenset(headers),
        fields=frozenset(fields),
        usage=tuple(usage),
    )


def _change(provider: str, scenario: str, before: frozenset[str], after: frozenset[str]) -> FieldChange | None:
    if before == after:
        return None
    return FieldChange(provider, scenario, tuple(sorted(after - before)), tuple(sorted(before - after)))


@dataclass(frozen=True, slots=True)
class RecordingDrift:
    """How one re-recorded cell differs from the recording it replaced (None: no difference)."""

    provider: str
    scenario: str
    baseline: bool  # False: there was no earlier recording to compare with
    interactions: tuple[int, int] | None = None
    status: tuple[int, int] | None = None
    content_type: tuple[str, str] | None = None
    fields: FieldChange | None = None
    error_body: FieldChange | None = None
    headers: FieldChange | None = None
    usage: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    @property
    def empty(self) -> bool:
        return self.baseline and not any(
            (self.interactions, self.status, self.content_type, self.fields, self.error_body, self.headers, self.usage)
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordingDrift:
        def change(d: dict[str, Any] | None) -> FieldChange | None:
            if d is None:
                return None
            return FieldChange(d["provider"], d["scenario"], tuple(d["appeared"]), tuple(d["vanished"]))

        def pair(d: Any) -> Any:
            return tuple(tuple(x) if isinstance(x, list) else x for x in d) if d is not None else None

        return cls(
            provider=data["provider"],
            scenario=data["scenario"],
            baseline=data["baseline"],
            interactions=pair(data.get("interactions")),
            status=pair(data.get("status")),
            content_type=pair(data.get("content_type")),
            fields=change(data.get("fields")),
            error_body=change(data.get("error_body")),
            headers=change(data.get("headers")),
            usage=pair(data.get("usage")),
        )


def compare_recordings(
    provider: str, scenario: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> RecordingDrift:
    """Compare two cassettes (``{"interactions": [...]}``) by the shape of their last response,
    the one a cell is judged on."""
    if before is None or not before.get("interactions"):
        return RecordingDrift(provider, scenario, baseline=False)
    old = response_shape(before["interactions"][-1]["response"])
    new = response_shape(after["interactions"][-1]["response"])
    counts = (len(before["interactions"]), len(after["interactions"]))
    body_change = _change(provider, scenario, old.fields, new.fields)
    return RecordingDrift(
        provider,
        scenario,
        baseline=True,
        interactions=counts if counts[0] != counts[1] else None,
        status=(old.status, new.status) if old.status != new.status else None,
        content_type=(old.content_type, new.content_type) if old.content_type != new.content_type else None,
        fields=body_change if not (old.error or new.error) else None,
        error_body=body_change if (old.error or new.error) else None,
        headers=_change(provider, scenario, old.headers, new.headers),
        usage=(old.usage, new.usage) if old.usage != new.usage else None,
    )


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(f"`{i}`" for i in items) if items else "—"


def drift_markdown(title: str, drifts: list[RecordingDrift], context: list[str]) -> str:
    """The drift report as Markdown: one section per cell that changed, then what had no baseline."""
    lines = [f"# {title}", "", *context, ""]
    changed = [d for d in drifts if not d.empty and d.baseline]
    same = [d for d in drifts if d.empty]
    new = [d for d in drifts if not d.baseline]
    lines.append(
        f"{len(drifts)} cells re-recorded: {len(changed)} differ from the committed recording, "
        f"{len(same)} have the same shape, {len(new)} had no earlier recording."
    )
    lines.append("")
    for d in changed:
        lines.append(f"## {d.provider} / {d.scenario}")
        lines.append("")
        if d.status:
            lines.append(f"- status: {d.status[0]} → {d.status[1]}")
        if d.content_type:
            lines.append(f"- content type: `{d.content_type[0]}` → `{d.content_type[1]}`")
        if d.interactions:
            lines.append(f"- requests: {d.interactions[0]} → {d.interactions[1]}")
        for label, change in (("response fields", d.fields), ("error body", d.error_body), ("headers", d.headers)):
            if change:
                lines.append(f"- {label}: appeared {_list(change.appeared)}; vanished {_list(change.vanished)}")
        if d.usage:
            lines.append(f"- usage placement: {_list(d.usage[0])} → {_list(d.usage[1])}")
        lines.append("")
    if new:
        lines.append("## No earlier recording")
        lines.append("")
        lines.append(", ".join(f"{d.provider}/{d.scenario}" for d in new))
        lines.append("")
    return "\n".join(lines)
