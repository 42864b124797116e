"""Both sides of the tool and structured-output scenarios.

Request side: the tools, tool_choice, tool turns and response format on the wire, judged
against ``conformance/tools.yaml`` (written from the providers' docs, specs and recordings),
never against the manifests. Response side: the tool calls and parsed JSON the runtime
reported, judged against what :mod:`conformance.oracle` reads from the recorded answer.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .oracle import Reading
from .runtimes.base import Outcome
from .scenarios import Scenario

TOOLS_FILE = Path(__file__).resolve().parent / "tools.yaml"


@cache
def expectations() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(TOOLS_FILE.read_text(encoding="utf-8"))
    return data


def involves_tools(scenario: Scenario) -> bool:
    return bool(scenario.tools or scenario.response_format) or any(
        role in ("assistant_tool_calls", "tool") for role, _ in scenario.messages
    )


def _named(template: Any, name: str) -> Any:
    if template == "$name":
        return name
    if isinstance(template, dict):
        return {k: _named(v, name) for k, v in template.items()}
    if isinstance(template, list):
        return [_named(v, name) for v in template]
    return template


def _choice_values(provider: str, family: str, choice: str | None) -> list[Any]:
    data = expectations()
    fam = data["families"][family]
    word = choice or "auto"
    if word in ("auto", "none", "required"):
        own = (data.get("providers", {}).get(provider) or {}).get("choice") or {}
        values: list[Any] = own.get(word, fam["choice"][word])
        return values if choice else [None, *values]
    return [_named(fam["named"], word)]


def _args(text: Any) -> Any:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text) if isinstance(text, str) and text.strip() else {}
    except ValueError:
        return text


def check_tool_request(provider: str, family: str, scenario: Scenario, body: dict[str, Any]) -> list[str]:
    where = f"{provider}/{scenario.id}"
    problems: list[str] = []
    wanted = scenario.response_format
    forced = family == "anthropic-messages" and wanted is not None and not wanted.get("json_mode")
    offered = list(scenario.tools)
    if forced:
        assert wanted is not None
        offered.append((wanted["name"], None, wanted["schema"]))
    problems += _check_tools(where, family, offered, body)
    choice = scenario.tool_choice if not forced else (wanted or {}).get("name")
    if offered or choice:
        got = _choice_on_wire(family, body)
        allowed = _choice_values(provider, family, choice)
        if got not in allowed:
            problems.append(
                f"{where}: tool_choice on the wire {got!r}, documented {allowed!r} for {choice or 'auto'!r}"
            )
    problems += _check_tool_turns(where, family, scenario, body)
    if wanted is not None and not forced:
        problems += _check_format(where, family, wanted, body)
    return problems


def _check_tools(where: str, family: str, offered: list[tuple[str, Any, Any]], body: dict[str, Any]) -> list[str]:
    if family == "gemini":
        declared = [d for t in body.get("tools") or [] for d in (t.get("functionDeclarations") or [])]
        got = [(d.get("name"), d.get("description"), d.get("parameters")) for d in declared]
    elif family == "anthropic-messages":
        got = [(t.get("name"), t.get("description"), t.get("input_schema")) for t in body.get("tools") or []]
    else:
        items = body.get("tools") or []
        if any(t.get("type") != "function" for t in items):
            return [f"{where}: tools on the wire {items!r:.120} are not all {{type: function, function: ...}}"]
        got = [
            (t["function"].get("name"), t["function"].get("description"), t["function"].get("parameters"))
            for t in items
        ]
    want = [(name, description, schema) for name, description, schema in offered]
    # a description is optional on the wire; the caller's one must not be lost or changed
    same = len(got) == len(want) and all(
        g[0] == w[0] and g[2] == w[2] and (w[1] is None or g[1] == w[1]) for g, w in zip(got, want, strict=True)
    )
    return [] if same else [f"{where}: tools on the wire {got!r:.200} != offered {want!r:.200}"]


def _choice_on_wire(family: str, body: dict[str, Any]) -> Any:
    if family == "gemini":
        config = (body.get("toolConfig") or {}).get("functionCallingConfig")
        if config is None:
            return None
        return config.get("mode") if set(config) == {"mode"} else config
    return body.get("tool_choice")


def _check_tool_turns(where: str, family: str, scenario: Scenario, body: dict[str, Any]) -> list[str]:
    calls = [c for role, v in scenario.messages if role == "assistant_tool_calls" for c in v]
    results = [v for role, v in scenario.messages if role == "tool"]
    if not calls and not results:
        return []
    want_calls = [(c["id"], c["name"], c["arguments"]) for c in calls]
    names = {c["id"]: c["name"] for c in calls}
    if family == "anthropic-messages":
        blocks = [b for m in body.get("messages", []) if isinstance(m.get("content"), list) for b in m["content"]]
        got_calls = [(b.get("id"), b.get("name"), b.get("input")) for b in blocks if b.get("type") == "tool_use"]
        got_results = [(b.get("tool_use_id"), b.get("content")) for b in blocks if b.get("type") == "tool_result"]
        want_results = [(r["id"], r["content"]) for r in results]
    elif family == "gemini":
        parts = [p for c in body.get("contents", []) for p in c.get("parts", [])]
        calls_on_wire = [p["functionCall"] for p in parts if "functionCall" in p]
        # FunctionCall.id is optional in content.proto: judged where the client sent one
        want_calls = [
            (c["id"] if i < len(calls_on_wire) and "id" in calls_on_wire[i] else None, c["name"], c["arguments"])
            for i, c in enumerate(calls)
        ]
        got_calls = [(fc.get("id"), fc.get("name"), fc.get("args")) for fc in calls_on_wire]
        got_results = [
            (p["functionResponse"].get("name"), p["functionResponse"].get("response"))
            for p in parts
            if "functionResponse" in p
        ]
        want_results = [(names.get(r["id"]), _as_object(r["content"])) for r in results]
    else:
        messages = body.get("messages", [])
        got_calls = [
            (c.get("id"), (c.get("function") or {}).get("name"), _args((c.get("function") or {}).get("arguments")))
            for m in messages
            if m.get("role") == "assistant"
            for c in m.get("tool_calls") or []
        ]
        got_results = [(m.get("tool_call_id"), m.get("content")) for m in messages if m.get("role") == "tool"]
        want_results = [(r["id"], r["content"]) for r in results]
    problems = []
    if got_calls != want_calls:
        problems.append(
            f"{where}: the model's tool calls in the history {got_calls!r:.160} != sent {want_calls!r:.160}"
        )
    if got_results != want_results:
        problems.append(f"{where}: tool results on the wire {got_results!r:.160} != sent {want_results!r:.160}")
    return problems


def _as_object(text: str) -> Any:
    """Gemini's functionResponse.response is a JSON object (content.proto FunctionResponse)."""
    value = _args(text)
    return value if isinstance(value, dict) else {"result": value}


def _check_format(where: str, family: str, wanted: dict[str, Any], body: dict[str, Any]) -> list[str]:
    json_mode = bool(wanted.get("json_mode"))
    if family == "gemini":
        config = body.get("generationConfig") or {}
        ok = config.get("responseMimeType") == "application/json" and (
            json_mode
            or config.get("responseSchema") == wanted["schema"]
            or config.get("responseJsonSchema") == wanted["schema"]
        )
        got: Any = config
    else:
        got = body.get("response_format")
        if family == "cohere-v2":
            ok = (
                isinstance(got, dict)
                and got.get("type") == "json_object"
                and (json_mode or got.get("json_schema") == wanted["schema"])
            )
        elif json_mode:
            ok = got == {"type": "json_object"}
        else:
            spec = (got or {}).get("json_schema") or {}
            ok = (
                (got or {}).get("type") == "json_schema"
                and spec.get("schema") == wanted["schema"]
                and spec.get("name") == wanted["name"]
            )
    return (
        []
        if ok
        else [
            f"{where}: response format on the wire {got!r:.160} is not the documented form for {'JSON mode' if json_mode else 'a JSON schema'}"
        ]
    )


# --- response side ------------------------------------------------------------------------


def check_tool_response(where: str, scenario: Scenario, outcome: Outcome, reading: Reading) -> list[str]:
    problems: list[str] = []
    want = [(c[0], c[1], _args(c[2])) for c in reading.tool_calls]
    wanted = scenario.response_format
    if wanted is not None:
        expected = _args(reading.content) if reading.content else (want[0][2] if want else None)
        if outcome.parsed != expected:
            problems.append(f"{where}: parsed {outcome.parsed!r:.80} != the answer's JSON {expected!r:.80}")
        return problems
    if scenario.stream:
        got = [tuple(v) for k, v in outcome.events if k == "tool_call"]
        problems += _check_pieces(where, outcome, reading)
    else:
        got = [tuple(c) for c in outcome.tool_calls or []]
    if got != want:
        problems.append(f"{where}: tool calls {got!r:.200} != the answer's {want!r:.200}")
    count = scenario.expect.get("tool_calls")
    if count is not None and len(want) != count:
        problems.append(f"{where}: the recorded answer has {len(want)} tool call(s), the scenario asks for {count}")
    return problems


def _check_pieces(where: str, outcome: Outcome, reading: Reading) -> list[str]:
    """Each call's streamed pieces: joined, its arguments; not merged where the provider split them."""
    pieces: dict[int, list[str]] = {}
    for kind, value in outcome.events:
        if kind == "tool_call_delta":
            pieces.setdefault(value[0], []).append(value[3])
    problems = []
    for i, call in enumerate(reading.tool_calls):
        got = pieces.get(i, [])
        if "".join(got) != (call[2] or ""):
            problems.append(f"{where}: tool call {i} deltas join to {''.join(got)!r:.80}, streamed {call[2]!r:.80}")
        elif reading.tool_pieces[i] >= 2 and sum(1 for p in got if p) < 2:
            problems.append(
                f"{where}: tool call {i} came in {reading.tool_pieces[i]} pieces but the client merged them"
            )
    kinds = [k for k, _ in outcome.events]
    if (
        "tool_call" in kinds
        and "finish" in kinds
        and max(i for i, k in enumerate(kinds) if k == "tool_call") > kinds.index("finish")
    ):
        problems.append(f"{where}: a tool call was delivered after the finish event")
    return problems
