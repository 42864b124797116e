"""``reports/ai-protocol/``: an audit of upstream's AI-Protocol manifests.

``pytest conformance/ --manifests ai-protocol:DIR --matrix-report=reports/ai-protocol/`` runs
every scenario through ailib's engine on the manifests in DIR (ailib reads them through
:mod:`ailib.protocol`), judged against the documented contracts, never against the
manifests. This module turns that run into ``ai-protocol-audit.{md,json,html}``: per upstream
manifest file, what ailib could not carry over from it (:class:`ailib.protocol.Gap`), and
which of its facts are wrong: the failed cells grouped by cause
(:mod:`conformance.report.diagnosis`), each with the upstream field to change and the
evidence that says so: the documented contract (``conformance/evidence/facts/<id>.yaml`` and the
documentation URL it was written from), the place in a provider's published API spec
(``../shared/specs``) and the real recordings (``../shared/realworld``) that show the
documented value.

Evidence sources are a list (:data:`EVIDENCE_SOURCES`) of functions ``(provider, cause,
example) -> [str]``: the evidence layer (spec and observed checks) plugs in by appending
to it.

    python -m conformance.report ai-protocol reports/ai-protocol/results/ailib.json \\
        --manifests ../shared/ai-protocol --out reports/ai-protocol/
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .diagnosis import Cause, Group, diagnose
from .html import esc, link, page
from .markdown import md_text

SHARED = Path(__file__).resolve().parents[3] / "shared"
CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"

#: where in an upstream manifest each kind of fact lives (cause.about prefix -> fields)
UPSTREAM_FIELDS = (
    ("request.url", "endpoint.base_url and endpoints.chat.path (v1) / endpoint.chat (v2)"),
    ("request.query", "endpoint.base_url / endpoints.chat.path (query)"),
    ("request.auth", "auth (v1) / endpoint.auth (v2): type, header, prefix, param_name"),
    ("request.header", "auth.extra_headers"),
    ("request.model", "(runtime: the model name must be sent without the provider prefix)"),
    ("request.parameter", "parameter_mappings (v1) / parameters (v2)"),
    ("request.body.stream_options", "streaming: no upstream field asks for usage in streams (stream_options)"),
    (
        "request.body",
        "parameter_mappings (v1) / parameters (v2); a difference from the recorded request, not a documented fact: check the provider accepts it",
    ),
    ("request.stream", "parameter_mappings.stream / endpoints.chat_stream"),
    ("request.messages", "payload_format / system message mapping"),
    ("response.content", "response_paths.content"),
    ("response.finish_reason", "termination.source_field and termination.mapping"),
    ("response.usage", "response_paths.usage"),
    ("response.stats", "response_paths.usage"),
    ("stream", "streaming.event_map / streaming.decoder"),
    ("error", "error_classification and features.response_mapping.error"),
    ("capability", "capabilities / parameter_mappings"),
    ("manifest", "(see the field named in the cause)"),
)


def upstream_field(cause: Cause) -> str:
    return next((f for prefix, f in UPSTREAM_FIELDS if cause.about.startswith(prefix)), "")


# --- evidence ---------------------------------------------------------------------------------

_DOCUMENTED = (
    re.compile(r"documented https?://(?P<host>[^/\s]+)(?P<path>/\S*)?"),
    re.compile(r"documented field '(?P<term>[^']+)'"),
    re.compile(r"documents it as '(?P<term>[^']+)'"),
    re.compile(r"auth header (?P<term>\S+)"),
    re.compile(r"^header (?P<term>\S+)="),
    re.compile(r"auth query parameter (?P<term>\S+)"),
)


def documented_term(cause: Cause, example: str) -> str | None:
    """The documented value a problem names (host, path, header, field), to look up in evidence."""
    for pattern in _DOCUMENTED:
        found = pattern.search(example)
        if not found:
            continue
        groups = found.groupdict()
        if "host" in groups:
            return groups["host"] if cause.label.startswith("request host") else (groups.get("path") or groups["host"])
        return groups["term"].split(".")[-1]
    return None


@lru_cache(maxsize=1)
def _contracts() -> dict[str, dict[str, Any]]:
    from ..contract import load_contracts

    return load_contracts()


def contract_evidence(provider: str, cause: Cause, example: str) -> list[str]:
    contract = _contracts().get(provider) or {}
    if not contract:
        return []
    key = cause.about.split(".")[1] if cause.about.startswith("request.") else None
    shown = {"url": contract.get("url"), "auth": contract.get("auth"), "header": contract.get("headers")}.get(key or "")
    where = f"conformance/evidence/facts/{provider}.yaml" + (f" ({key}: {json.dumps(shown)})" if shown else "")
    return [f"documented contract {where}, written from {contract.get('docs', 'the provider docs')}"]


@lru_cache(maxsize=1)
def _recordings() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    root = SHARED / "realworld"
    for path in sorted(root.glob("*.json")) if root.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        provider = str(data.get("provider") or path.name.split("__")[0])
        out.setdefault(provider, []).append((path.name, data))
    return out


def recording_evidence(provider: str, cause: Cause, example: str) -> list[str]:
    term = documented_term(cause, example)
    if not term:
        return []
    found = []
    for name, data in _recordings().get(provider, []):
        request = data.get("request") or {}
        for part, value in (
            ("request.url", request.get("url")),
            ("request.headers", request.get("headers")),
            ("request.body", request.get("body")),
        ):
            if term.lower() in json.dumps(value).lower():
                found.append(f"real recording ../shared/realworld/{name} ({part} has {term!r})")
                break
        if len(found) == 2:
            break
    return found


@lru_cache(maxsize=64)
def _spec_files(provider: str) -> tuple[Path, ...]:
    root = SHARED / "specs" / provider
    return tuple(sorted(p for p in root.rglob("*") if p.is_file())) if root.is_dir() else ()


def spec_evidence(provider: str, cause: Cause, example: str) -> list[str]:
    term = documented_term(cause, example)
    if not term or len(term) < 3:
        return []
    for path in _spec_files(provider):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if term in line:
                return [f"API spec ../shared/specs/{path.relative_to(SHARED / 'specs')}:{number} has {term!r}"]
    return []


#: ``(provider, cause, example problem) -> evidence lines``; append a source to add one
EVIDENCE_SOURCES: list[Callable[[str, Cause, str], list[str]]] = [contract_evidence, spec_evidence, recording_evidence]


def evidence(provider: str, cause: Cause, example: str) -> list[str]:
    return [line for source in EVIDENCE_SOURCES for line in source(provider, cause, example)]


# --- the audit -------------------------------------------------------------------------------


@dataclass
class Fact:
    cause: Cause
    cells: int
    scenarios: list[str]
    example: str
    fix: str
    evidence: list[str]


@dataclass
class ManifestAudit:
    provider: str
    file: str | None
    protocol_version: str | None
    usable: str  # "usable" | "unusable: ..." | "no chat API" | "no file"
    passed: int
    applicable: int
    gaps: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)


def audit(results: dict[str, Any], manifests_dir: Path) -> list[ManifestAudit]:
    from ailib import protocol
    from ailib.errors import ManifestError

    cells = results["cells"]
    out = []
    for provider in sorted({c["provider"] for c in cells}):
        mine = [c for c in cells if c["provider"] == provider]
        applicable = [c for c in mine if c["status"] in ("pass", "fail")]
        path = protocol.find_file(manifests_dir, provider)
        item = ManifestAudit(
            provider,
            protocol.display_name(path) if path else None,
            None,
            "no file",
            sum(c["status"] == "pass" for c in applicable),
            len(applicable),
        )
        if path is not None:
            import yaml

            try:
                conv = protocol.convert(yaml.safe_load(path.read_text(encoding="utf-8")), item.file or path.name)
            except ManifestError as exc:
                item.usable = f"refused: {exc}"
            else:
                item.protocol_version = conv.protocol_version
                item.gaps = [str(g) for g in conv.gaps]
                if conv.fatal:
                    item.usable = "unusable: " + "; ".join(str(g) for g in conv.fatal)
                elif conv.data.get("chat") is not True:
                    item.usable = "no chat API in the file"
                else:
                    item.usable = "usable"
        for group in diagnose(mine):
            item.facts.append(_fact(provider, group))
        out.append(item)
    return out


def _fact(provider: str, group: Group) -> Fact:
    return Fact(
        cause=group.cause,
        cells=len(group.cells),
        scenarios=sorted({s for _, s in group.cells}),
        example=group.example,
        fix=upstream_field(group.cause),
        evidence=evidence(provider, group.cause, group.example),
    )


def to_json(audits: list[ManifestAudit], results: dict[str, Any], manifests_dir: Path) -> dict[str, Any]:
    return {
        "format": 1,
        "manifests_dir": _shown(manifests_dir),
        "engine": f"{results.get('runtime')} {results.get('runtime_version')}",
        "generated_at": results.get("generated_at"),
        "manifests": [
            {
                "provider": a.provider,
                "file": a.file,
                "protocol_version": a.protocol_version,
                "usable": a.usable,
                "passed": a.passed,
                "applicable": a.applicable,
                "gaps": a.gaps,
                "wrong_facts": [
                    {
                        "cause": f.cause.label,
                        "about": f.cause.about,
                        "root_cause": f.cause.root,
                        "cells": f.cells,
                        "scenarios": f.scenarios,
                        "example": f.example,
                        "upstream_field": f.fix,
                        "evidence": f.evidence,
                    }
                    for f in a.facts
                ],
            }
            for a in audits
        ],
    }


def _shown(path: Path) -> str:
    """A path as seen from the repository (``../shared/ai-protocol``): reports stay machine-independent."""
    import os

    try:
        return os.path.relpath(path.resolve(), Path(__file__).resolve().parents[2])
    except ValueError:
        return str(path)


def render_markdown(doc: dict[str, Any]) -> str:
    items = doc["manifests"]
    wrong = sum(1 for m in items if m["wrong_facts"])
    out = [
        "# AI-Protocol manifest audit",
        "",
        (
            f"Generated at {doc['generated_at']}. Upstream manifests from `{md_text(doc['manifests_dir'])}`, run "
            f"through every conformance scenario with {md_text(doc['engine'])}'s engine (read by `ailib.protocol`), "
            "judged against the documented facts (`conformance/evidence/facts/`), not against the manifests."
        ),
        "",
        (
            f"{len(items)} manifests; {wrong} with at least one wrong or missing fact. Per manifest: the file read, "
            "what ailib could not carry over from it (gaps), and each wrong fact with the cells it fails, "
            "the upstream field to change and the evidence."
        ),
        "",
        "| provider | file | cells passed | wrong facts |",
        "| --- | --- | ---: | ---: |",
    ]
    for m in items:
        out.append(
            f"| [{m['provider']}](#{m['provider']}) | {md_text(m['file'] or '—')} | "
            f"{m['passed']}/{m['applicable']} | {len(m['wrong_facts'])} |"
        )
    for m in items:
        out += ["", f"## {m['provider']}", ""]
        out.append(
            f"File `{m['file'] or '—'}` (protocol {m['protocol_version'] or '—'}): {md_text(m['usable'])}. "
            f"Cells passed: {m['passed']}/{m['applicable']}."
        )
        if m["gaps"]:
            out += ["", "What ailib needs and the file does not say:", ""]
            out += [f"- {md_text(g)}" for g in m["gaps"]]
        if m["wrong_facts"]:
            out += ["", "Wrong facts:", ""]
        for f in m["wrong_facts"]:
            kind = "" if f["root_cause"] else " (consequence)"
            out.append(
                f"- **{md_text(f['cause'])}**{kind}: {f['cells']} cells ({md_text(', '.join(f['scenarios'][:6]))}"
                + (", …" if len(f["scenarios"]) > 6 else "")
                + ")"
            )
            if f["upstream_field"]:
                out.append(f"  - upstream field: {md_text(f['upstream_field'])}")
            out.append(f"  - example: {md_text(f['example'])}")
            out += [f"  - evidence: {md_text(e)}" for e in f["evidence"]]
    return "\n".join(out) + "\n"


def render_html(doc: dict[str, Any]) -> str:
    items = doc["manifests"]
    body = [
        "<h1>AI-Protocol manifest audit</h1>",
        (
            f'<p class="generated">Generated at {esc(doc["generated_at"])}. Manifests from <code>{esc(doc["manifests_dir"])}'
            f"</code>, run with {esc(doc['engine'])}'s engine, judged against the documented contracts.</p>"
        ),
        (
            '<table class="plain"><thead><tr><th>provider</th><th>file</th><th>cells passed</th><th>wrong facts</th>'
            "</tr></thead><tbody>"
        ),
    ]
    for m in items:
        body.append(
            f'<tr><th scope="row"><a href="#{esc(m["provider"])}">{esc(m["provider"])}</a></th>'
            f"<td>{esc(m['file'] or '—')}</td><td>{m['passed']}/{m['applicable']}</td>"
            f"<td>{len(m['wrong_facts'])}</td></tr>"
        )
    body.append("</tbody></table>")
    for m in items:
        body.append(f'<h2 id="{esc(m["provider"])}">{esc(m["provider"])}</h2>')
        body.append(
            f"<p>File <code>{esc(m['file'] or '—')}</code> (protocol {esc(m['protocol_version'] or '—')}): "
            f"{esc(m['usable'])}. Cells passed: {m['passed']}/{m['applicable']}.</p>"
        )
        if m["gaps"]:
            body.append("<details><summary>What ailib needs and the file does not say</summary><ul>")
            body.extend(f"<li><code>{esc(g)}</code></li>" for g in m["gaps"])
            body.append("</ul></details>")
        if m["wrong_facts"]:
            body.append("<ul>")
        for f in m["wrong_facts"]:
            evidence = "".join(f"<li>{_linked(e)}</li>" for e in f["evidence"])
            body.append(
                f"<li><strong>{esc(f['cause'])}</strong>{'' if f['root_cause'] else ' (consequence)'}: "
                f"{f['cells']} cells<ul>"
                + (f"<li>upstream field: {esc(f['upstream_field'])}</li>" if f["upstream_field"] else "")
                + f"<li>example: {esc(f['example'])}</li>{evidence}</ul></li>"
            )
        if m["wrong_facts"]:
            body.append("</ul>")
    return page("AI-Protocol manifest audit", "\n".join(body))


def _linked(text: str) -> str:
    url = re.search(r"https://\S+", text)
    if not url:
        return esc(text)
    return esc(text[: url.start()]) + link(url[0], url[0]) + esc(text[url.end() :])


def write(results_file: str | Path, manifests_dir: str | Path, out_dir: str | Path) -> list[Path]:
    results = json.loads(Path(results_file).read_text(encoding="utf-8"))
    root = Path(manifests_dir)
    doc = to_json(audit(results, root), results, root)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "ai-protocol-audit.json", out / "ai-protocol-audit.md", out / "ai-protocol-audit.html"]
    paths[0].write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(render_markdown(doc), encoding="utf-8")
    paths[2].write_text(render_html(doc), encoding="utf-8")
    return paths
