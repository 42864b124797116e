"""Group a runtime's failed cells by cause, so one bug does not hide the rest.

A failed cell's detail is a ``"; "``-joined list of problems, each written by the check
that found it ("openai/basic: body field model='openai/gpt-4o', expected model 'gpt-4o'").
:func:`causes` turns one problem into a cause: a short, provider-independent label
("request model carries the provider prefix") plus the request/response field it is about,
so the same bug in 37 providers is one line with 37 x N cells.

Causes are of two kinds. A *root* cause is something the runtime did (a wrong URL, a
missing header, a dropped parameter, a value read from the wrong place). A *consequence*
is what replay made of it: a request that differs from the recorded one gets no answer
("can't play back this request"), so the error and content checks after it fail too.
A cell is counted under all its root causes; under a consequence only when it has no root
cause, so "no recorded interaction" never buries the wrong URL that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WHERE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+: ")


@dataclass(frozen=True, slots=True)
class Cause:
    label: str
    about: str  # the wire field or behaviour, e.g. "request.model", "request.header.anthropic-version"
    root: bool = True


@dataclass
class Group:
    cause: Cause
    cells: list[tuple[str, str]] = field(default_factory=list)  # (provider, scenario)
    example: str = ""

    @property
    def providers(self) -> list[str]:
        return sorted({p for p, _ in self.cells})


def _model(m: re.Match[str]) -> Cause:
    got, want = m["got"], m["want"]
    if got and want and got.endswith("/" + want):
        return Cause("request model carries the provider prefix", "request.model")
    return Cause(f"request model field {m['field']} not the model name", "request.model")


def _body_diff(m: re.Match[str]) -> Cause:
    now, recorded = m["now"].strip('"'), m["rec"].strip('"')
    if m["k"] == "model" and recorded and now.endswith("/" + recorded):
        return Cause("request model carries the provider prefix", "request.model")
    return Cause(f"request body differs from the recording in {m['k']}", f"request.body.{m['k']}")


#: (pattern over one problem without its "provider/scenario: " prefix, cause builder)
RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Cause]], ...] = (
    (
        re.compile(r"manifest unusable: (?P<file>[^:]+): (?P<field>[^:]+): (?P<why>.*)"),
        lambda m: Cause(f"manifest unusable: {m['field']} ({_short(m['why'])})", "manifest"),
    ),
    (
        re.compile(r"not run: runtime (?P<rt>\S+) (?P<what>is unavailable|cannot load \S+): (?P<why>.*)"),
        lambda m: Cause(
            "runtime not run: "
            + ("unavailable" if "unavailable" in m["what"] else "cannot load the provider's manifest")
            + f" ({_short(_WHERE.sub('', m['why']), 90)})",
            "runtime",
        ),
    ),
    (
        re.compile(r"body field (?P<field>\S+)=(?P<q>['\"]?)(?P<got>[^'\"]*)(?P=q), expected model '(?P<want>[^']*)'"),
        _model,
    ),
    (
        re.compile(r"URL (?P<got>\S+) != documented (?P<want>\S+)"),
        lambda m: Cause(_url_cause(m["got"], m["want"]), "request.url"),
    ),
    (
        re.compile(r"query parameter (?P<k>\S+)=(?P<got>\S+), documented"),
        lambda m: Cause(f"query parameter {m['k']} wrong or missing", f"request.query.{m['k']}"),
    ),
    (
        re.compile(r"auth header (?P<h>\S+) absent"),
        lambda m: Cause(f"no {m['h']} auth header", f"request.auth.{m['h'].lower()}"),
    ),
    (
        re.compile(r"auth header (?P<h>\S+) present but not in the documented format \(documented: (?P<f>.*)\)"),
        lambda m: Cause(
            f"auth header {m['h']} not in the documented format {m['f']}", f"request.auth.{m['h'].lower()}"
        ),
    ),
    (
        re.compile(r"auth query parameter (?P<k>\S+) missing"),
        lambda m: Cause(f"no auth query parameter {m['k']}", f"request.auth.{m['k']}"),
    ),
    (
        re.compile(r"header (?P<h>\S+)=None, documented"),
        lambda m: Cause(f"no {m['h']} header", f"request.header.{m['h'].lower()}"),
    ),
    (
        re.compile(r"header (?P<h>\S+)=.*, documented"),
        lambda m: Cause(f"wrong {m['h']} header value", f"request.header.{m['h'].lower()}"),
    ),
    (
        re.compile(r"stream flag (?P<f>\S+)=.*documented true"),
        lambda m: Cause(f"stream flag {m['f']} not set on streams", "request.stream"),
    ),
    (
        re.compile(r"stream flag (?P<f>\S+)=.* on a non-stream call"),
        lambda m: Cause(f"stream flag {m['f']} set on non-stream calls", "request.stream"),
    ),
    (
        re.compile(r"required field (?P<f>\S+) \((?P<n>\w+)\) missing"),
        lambda m: Cause(f"required field {m['f']} ({m['n']}) not sent", f"request.{m['n']}"),
    ),
    (
        re.compile(r"parameter (?P<n>\w+) dropped: documented field '(?P<f>[^']+)'"),
        lambda m: Cause(f"{m['n']} not sent as documented field {m['f']}", f"request.parameter.{m['n']}"),
    ),
    (
        re.compile(r"parameter (?P<n>\w+): field '(?P<f>[^']+)'="),
        lambda m: Cause(f"{m['n']} sent with a changed value", f"request.parameter.{m['n']}"),
    ),
    (
        re.compile(r"(?P<n>\w+) was sent but the provider documents no such parameter"),
        lambda m: Cause(
            f"{m['n']} sent although the provider documents no such parameter", f"request.parameter.{m['n']}"
        ),
    ),
    (
        re.compile(r"the manifest rejects (?P<n>\w+), but the provider documents it as '(?P<f>[^']+)'"),
        lambda m: Cause(f"{m['n']} refused although documented (as {m['f']})", f"request.parameter.{m['n']}"),
    ),
    (
        re.compile(r"refused before sending although declared supported"),
        lambda m: Cause("call refused before sending although declared supported", "capability"),
    ),
    (
        re.compile(r"did not refuse before sending"),
        lambda m: Cause("unsupported call sent instead of refused", "capability"),
    ),
    (
        re.compile(r"conversation on the wire|system_prompt="),
        lambda m: Cause("conversation (roles or system placement) not as documented", "request.messages"),
    ),
    (
        re.compile(
            r"^(?:request body differs from the cassette: )?(?P<k>[A-Za-z_][\w.]*): now (?P<now>.*), recorded (?P<rec>.*)"
        ),
        _body_diff,
    ),
    (re.compile(r"request body is not JSON"), lambda m: Cause("request body is not JSON", "request.body")),
    (
        re.compile(r"the runtime sent no request(?: \((?P<why>.*)\))?$"),
        lambda m: Cause("no request sent" + (f": {_generic(m['why'])}" if m["why"] else ""), "request"),
    ),
    (
        re.compile(r"^content .* != response text"),
        lambda m: Cause("content not read from the response", "response.content"),
    ),
    (
        re.compile(r"streamed text .* != non-stream text"),
        lambda m: Cause("streamed text differs from the response text", "stream.content"),
    ),
    (
        re.compile(r"raw_finish_reason"),
        lambda m: Cause("raw finish reason not the provider's", "response.finish_reason"),
    ),
    (
        re.compile(r"finish_reason (?P<got>'[^']*'|None)(?: \(raw [^)]*\))?,? (?:!=|expected) (?P<want>'[^']*'|None)"),
        lambda m: Cause(f"finish reason {m['got']} where {m['want']} expected", "response.finish_reason"),
    ),
    (
        re.compile(r"(?P<what>usage|stats)\.(?P<n>\w+)=None, (response says|expected)"),
        lambda m: Cause(f"{m['what']}.{m['n']} not reported", f"response.{m['what']}.{m['n']}"),
    ),
    (
        re.compile(r"(?P<what>usage|stats)\.(?P<n>\w+)=\S+, (response says|expected)"),
        lambda m: Cause(f"{m['what']}.{m['n']} wrong", f"response.{m['what']}.{m['n']}"),
    ),
    (
        re.compile(r"stream must end with exactly one finish event"),
        lambda m: Cause("stream does not end with one finish event", "stream.finish"),
    ),
    (re.compile(r"usage events?"), lambda m: Cause("stream usage events not as the stream says", "stream.usage")),
    (
        re.compile(r"deltas in the response but the client merged them"),
        lambda m: Cause("stream deltas merged", "stream.content"),
    ),
    (
        re.compile(r"error class (?P<got>\S+) \((?P<t>[^)]*)\), expected '(?P<want>\w+)'"),
        lambda m: Cause(f"error classified {m['got']} where {m['want']} expected", "error.class"),
    ),
    (
        re.compile(r"expected an? (?P<want>\w+) error, the call succeeded"),
        lambda m: Cause(f"no error raised where {m['want']} expected", "error.class"),
    ),
    (re.compile(r"error\.status_code=None"), lambda m: Cause("error carries no HTTP status", "error.status_code")),
    (
        re.compile(r"error\.retry_after=None"),
        lambda m: Cause("Retry-After not carried on the error", "error.retry_after"),
    ),
    (
        re.compile(r"error message lacks the provider's text"),
        lambda m: Cause("error message lacks the provider's text", "error.message"),
    ),
    (re.compile(r"request\(s\) sent, expected"), lambda m: Cause("retry count not as the scenario expects", "retry")),
    (re.compile(r"waited .* Retry-After asked"), lambda m: Cause("back-off does not honour Retry-After", "retry")),
    (re.compile(r"deltas before the error"), lambda m: Cause("deltas before a stream error lost", "stream.error")),
    (re.compile(r"missing cassette"), lambda m: Cause("no recording for this cell", "cassette", root=False)),
)

#: problems that replay makes of an earlier difference (see module doc)
#: a request replay could not answer: what the runtime reported next is not about the provider
_NO_REPLAY = re.compile(r"can't play back this request|CannotOverwriteExistingCassette|no recorded interaction")
CONSEQUENCES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"can't play back this request|CannotOverwriteExistingCassette"),
        "request not in the recording (no answer replayed)",
    ),
    (re.compile(r"recorded interaction\(s\) never used"), "recorded interactions left unused"),
    (re.compile(r"the runtime's error was"), "runtime error after an earlier problem"),
)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _generic(text: str, limit: int = 110) -> str:
    """A message without its values and code locations, so the same failure reads the same."""
    text = re.sub(r"\s*\((?:at |[\w./-]+\.(?:py|js|mjs|ts):\d+).*$", "", text)
    text = re.sub(r'\\"(?:[^"\\]|\\.)*?\\"', "…", text)
    text = re.sub(r"'[^'\s]*'|\"[^\"\s]*\"", "'…'", text)  # values, not messages
    return _short(re.sub(r"\d+", "N", text), limit)


def _url_cause(got: str, want: str) -> str:
    from urllib.parse import urlsplit

    g, w = urlsplit(got), urlsplit(want)
    if g.netloc != w.netloc:
        return f"request host {g.netloc}, documented {w.netloc}"
    return f"request path {g.path}, documented {w.path}"


_BODY_DIFF_MORE = re.compile(r"^[A-Za-z_][\w.]*: now .*, recorded ")


def split_problems(detail: str | None) -> list[str]:
    """A cell's problems: its detail is joined with "; ", which a problem's own text may also
    contain; a piece is a new problem when it starts with "provider/scenario: " (or is the
    next field of a request-body difference)."""
    out: list[str] = []
    for piece in (detail or "").split("; "):
        if out and not _WHERE.match(piece) and not _BODY_DIFF_MORE.match(piece):
            out[-1] += "; " + piece
        elif piece.strip():
            out.append(piece)
    return out


def causes(problem: str) -> Cause:
    """The cause of one problem line (its "provider/scenario: " prefix is ignored)."""
    text = _WHERE.sub("", problem.strip())
    if _NO_REPLAY.search(text):
        return Cause("request not in the recording (no answer replayed)", "replay", root=False)
    for pattern, build in RULES:
        found = pattern.search(text)
        if found:
            return build(found)
    for pattern, label in CONSEQUENCES:
        if pattern.search(text):
            return Cause(label, "replay", root=False)
    return Cause(_generic(text, 70), "other")


def cell_causes(detail: str | None) -> list[Cause]:
    """A failed cell's causes: its root causes, or its consequences when it has none."""
    found: dict[Cause, None] = {}
    for problem in split_problems(detail):
        found.setdefault(causes(problem))
    roots = [c for c in found if c.root]
    if any(c.about == "replay" for c in found):  # nothing was replayed: only the request can be judged
        roots = [c for c in roots if c.about.startswith("request") or c.about in ("manifest", "runtime")]
    return roots or list(found)


def diagnose(cells: Iterable[dict[str, Any]]) -> list[Group]:
    """Failed cells grouped by cause, biggest group first (then by label)."""
    groups: dict[Cause, Group] = {}
    for cell in cells:
        if cell.get("status") != "fail":
            continue
        for cause in cell_causes(cell.get("detail")):
            group = groups.setdefault(cause, Group(cause))
            group.cells.append((cell["provider"], cell["scenario"]))
            if not group.example:
                group.example = next(
                    (_WHERE.sub("", p) for p in split_problems(cell.get("detail")) if causes(p) == cause), ""
                )
    return sorted(groups.values(), key=lambda g: (-len(g.cells), g.cause.label))


def summary_lines(groups: list[Group], limit: int | None = None) -> list[str]:
    """``"request model carries the provider prefix: 1189 cells (37 providers)"``."""
    out = []
    for g in groups[:limit]:
        n = len(g.providers)
        out.append(f"{g.cause.label}: {len(g.cells)} cells ({n} provider{'s' if n != 1 else ''})")
    return out


def render_markdown(runtime: str, groups: list[Group]) -> str:
    """``diagnosis.md``: every cause of a runtime's failed cells, biggest first."""
    cells = {c for g in groups for c in g.cells}
    out = [
        f"# {runtime}: failures by cause",
        "",
        f"{len(cells)} failed cells, {len(groups)} causes. A cell counts under each cause found in it; a request "
        "replay could not answer counts only where nothing in the request explains it (marked consequence).",
        "",
        "| cause | cells | providers | example |",
        "| --- | ---: | ---: | --- |",
    ]
    for g in groups:
        kind = "" if g.cause.root else " (consequence)"
        example = g.example.replace("|", "\\|").replace("\n", " ")[:200]
        label = g.cause.label.replace("|", "\\|")
        out.append(f"| {label}{kind} | {len(g.cells)} | {len(g.providers)} | {example} |")
    return "\n".join(out) + "\n"


def write(results_file: Path, out_dir: Path) -> list[Path]:
    """``diagnosis.md`` and ``diagnosis.json`` for one results file, in ``out_dir``."""
    import json

    doc = json.loads(results_file.read_text(encoding="utf-8"))
    groups = diagnose(doc["cells"])
    label = f"{doc['runtime']} {doc.get('runtime_version', '')}".strip()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "runtime": label,
        "causes": [
            {
                "cause": g.cause.label,
                "about": g.cause.about,
                "root_cause": g.cause.root,
                "cells": len(g.cells),
                "providers": g.providers,
                "example": g.example,
            }
            for g in groups
        ],
    }
    paths = [out_dir / "diagnosis.md", out_dir / "diagnosis.json"]
    paths[0].write_text(render_markdown(label, groups), encoding="utf-8")
    paths[1].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
