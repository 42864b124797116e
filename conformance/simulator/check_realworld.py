#!/usr/bin/env python3
"""Dev check: compare the simulator's answers with real recorded provider traffic.

For every recording in DIR (the ``realworld`` JSON files: one real request and the real
response), replay the recorded request against the simulator and compare the structure of
the two answers: status, content type, the set of JSON key paths (non-stream), and for
streams the SSE framing (line endings, done marker), the sequence of event kinds and the key
paths of each kind of event. Values (texts, ids, counts) are not compared.

    .venv/bin/python -m conformance.simulator.check_realworld /path/to/realworld [-v]

Not part of the test suite: the project never reads the recordings at test time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import SimRequest, load_contracts, respond
from .contracts import split_url

# provider names used by the recordings -> contract ids
ALIASES = {
    "google-gemini": "gemini",
    "zai-zhipu": "zhipu",
    "qwen-dashscope": "qwen",
    "fireworks-ai": "fireworks",
    "azure-openai": "azure",
}

STATUS_FAULTS = {
    400: "error_400", 401: "error_401", 403: "error_403", 404: "error_404", 413: "error_413", 429: "error_429",
    500: "error_500", 502: "error_502", 503: "error_503", 504: "error_504", 529: "error_529",
}  # fmt: skip

DROP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "user-agent"}


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value; list items are merged under ``[]``."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= key_paths(value, path)
    elif isinstance(obj, list):
        for item in obj:
            out |= key_paths(item, prefix + "[]")
    return out


def parse_sse(text: str) -> list[dict[str, Any]]:
    """Minimal WHATWG-style SSE split: events with name, data and comments."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {"event": None, "data": [], "comments": 0}
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if current["data"] or current["event"]:
                events.append({"event": current["event"], "data": "\n".join(current["data"])})
            elif current["comments"]:
                events.append({"event": ":comment", "data": ""})
            current = {"event": None, "data": [], "comments": 0}
            continue
        if line.startswith(":"):
            current["comments"] += 1
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            current["event"] = value
        elif name == "data":
            current["data"].append(value)
    if current["data"] or current["event"]:
        events.append({"event": current["event"], "data": "\n".join(current["data"]), "unterminated": True})
    return events


def event_kind(event: dict[str, Any]) -> str:
    """A structural label for one event: its name, or for unnamed JSON events what it holds."""
    data = event["data"]
    if event["event"]:
        return event["event"]
    if data.strip() == "[DONE]":
        return "[DONE]"
    try:
        obj = json.loads(data)
    except ValueError:
        return "data(text)"
    if isinstance(obj, dict) and isinstance(obj.get("data"), dict):
        obj = obj["data"]
    if not isinstance(obj, dict):
        return "data(json)"
    if "error" in obj:
        return "error"
    if "choices" in obj:
        choices = obj.get("choices") or []
        if not choices:
            return "chunk(no-choices" + (",usage" if obj.get("usage") else "") + ")"
        c = choices[0]
        delta = c.get("delta") or {}
        flags = [f for f, on in (
            ("role", "role" in delta),
            ("content", bool(delta.get("content"))),
            ("reasoning", bool(delta.get("reasoning_content"))),
            ("finish", c.get("finish_reason") is not None),
            ("usage", bool(obj.get("usage")) or bool((obj.get("x_groq") or {}).get("usage"))),
        ) if on]  # fmt: skip
        return "chunk(" + ",".join(flags) + ")"
    if "candidates" in obj:
        cand = (obj.get("candidates") or [{}])[0]
        return "candidates" + ("(finish)" if cand.get("finishReason") else "")
    return "data(json)"


def collapse(kinds: list[str]) -> list[str]:
    """Runs of the same kind count once (how many deltas a reply has is not structure)."""
    out: list[str] = []
    for kind in kinds:
        if not out or out[-1] != kind:
            out.append(kind)
    return out


def stream_shape(text: str) -> dict[str, Any]:
    events = parse_sse(text)
    kinds = [event_kind(e) for e in events]
    paths: dict[str, set[str]] = {}
    for event, kind in zip(events, kinds, strict=True):
        try:
            obj = json.loads(event["data"])
        except ValueError:
            continue
        paths.setdefault(kind, set()).update(key_paths(obj))
    return {
        "crlf": "\r\n" in text,
        "done": any(k == "[DONE]" for k in kinds),
        "sequence": collapse(kinds),
        "paths": paths,
    }


def request_for(record: dict[str, Any], contract: dict[str, Any]) -> tuple[SimRequest, str | None]:
    req = record["request"]
    headers = {k.lower(): str(v) for k, v in (req.get("headers") or {}).items() if k.lower() not in DROP_HEADERS}
    auth = contract.get("auth") or {}
    url = req["url"]
    if auth.get("header"):
        headers[str(auth["header"]).lower()] = str(auth.get("format") or "{key}").replace("{key}", "sim-check-key")
    elif auth.get("query"):
        url += ("&" if "?" in url else "?") + f"{auth['query']}=sim-check-key"
    for name, value in (contract.get("headers") or {}).items():
        headers.setdefault(str(name).lower(), str(value))
    body = req.get("body")
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    status = record["response"]["status"]
    fault = STATUS_FAULTS.get(status) if status >= 400 else None
    return SimRequest(req.get("method", "POST"), url, headers, raw), fault


def compare(record: dict[str, Any], contracts: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    provider = record.get("provider", "")
    cid = ALIASES.get(provider, provider)
    notes: list[str] = []
    contract = contracts.get(cid)
    if contract is None or contract.get("no_chat"):
        # an OpenAI-compatible service without a contract: a stand-in contract from the URL
        if record.get("api_family") not in ("openai-chat", "mistral"):
            return "skip", [f"no contract for provider {provider!r}"]
        host, path, _ = split_url(record["request"]["url"])
        contract = {"family": "openai-chat", "url": f"https://{host}{path}", "auth": {"header": "Authorization", "format": "Bearer {key}"},
                    "model_in": "body", "fields": {"max_tokens": "max_tokens", "stop": "stop"}, "stream": {"field": "stream", "usage": "always"}}  # fmt: skip
        cid = f"{provider}(stand-in)"
        contracts = {cid: contract}
        notes.append("no contract: compared with a stand-in openai-chat contract")
    request, fault = request_for(record, contract)
    sim = respond(contracts, request, fault=fault)
    real = record["response"]
    real_ct = (real.get("headers") or {}).get("content-type", "")
    if sim.status != real["status"]:
        notes.append(f"status: real {real['status']}, simulator {sim.status}: {sim.text[:300]}")
        return "DIFF", notes
    sim_ct = sim.headers.get("content-type", "")
    if sim_ct.lower() != real_ct.lower():
        notes.append(f"content-type: real {real_ct!r}, simulator {sim_ct!r}")
    real_text = real.get("body_text") or ""
    if record.get("streaming") and real["status"] < 400:
        r, s = stream_shape(real_text), stream_shape(sim.text)
        if r["crlf"] != s["crlf"]:
            notes.append(
                f"line endings: real {'CRLF' if r['crlf'] else 'LF'}, simulator {'CRLF' if s['crlf'] else 'LF'}"
            )
        if r["done"] != s["done"]:
            notes.append(f"[DONE] marker: real {r['done']}, simulator {s['done']}")
        if r["sequence"] != s["sequence"]:
            notes.append(f"event sequence:\n      real {' '.join(r['sequence'])}\n      sim  {' '.join(s['sequence'])}")
        for kind in sorted(set(r["paths"]) | set(s["paths"])):
            rp, sp = r["paths"].get(kind, set()), s["paths"].get(kind, set())
            if kind in r["paths"] and kind in s["paths"] and rp != sp:
                if rp - sp:
                    notes.append(f"{kind}: keys only in real: {sorted(rp - sp)}")
                if sp - rp:
                    notes.append(f"{kind}: keys only in simulator: {sorted(sp - rp)}")
    else:
        try:
            rj = json.loads(real_text)
            sj = sim.json()
        except ValueError as exc:
            notes.append(f"body is not JSON: {exc}")
            return "DIFF", notes
        rp, sp = key_paths(rj), key_paths(sj)
        if rp - sp:
            notes.append(f"keys only in real: {sorted(rp - sp)}")
        if sp - rp:
            notes.append(f"keys only in simulator: {sorted(sp - rp)}")
    return ("DIFF" if any(not n.startswith("no contract") for n in notes) else "same"), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="directory of realworld *.json recordings")
    parser.add_argument(
        "--contracts", type=Path, default=None, help="contracts directory (default: conformance/evidence/facts)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="one line per recording")
    args = parser.parse_args(argv)
    contracts = load_contracts(args.contracts)
    counts: dict[str, int] = {}
    for path in sorted(args.directory.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        verdict, notes = compare(record, contracts)
        counts[verdict] = counts.get(verdict, 0) + 1
        print(f"{verdict:5} {path.name}")
        if not args.quiet:
            for note in notes:
                print(f"      {note}")
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
