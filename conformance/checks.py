"""The two sides of the contract for one cell.

Request side: what the client put on the wire, compared with the provider's documented
contract (``evidence/facts/<id>.yaml``): URL, auth placement, required headers, model,
stream flag, conversation layout, and each parameter under its documented name.
Response side: what the client reported, compared with what the recorded response
says when read by :mod:`conformance.oracle`.

Every problem is one line naming provider, scenario and field.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from . import oracle
from .contract import MISSING, dig
from .runtimes.base import Outcome
from .scenarios import Scenario
from .tool_checks import check_tool_request, check_tool_response, involves_tools


def _body(request: Any) -> Any:
    raw = request.body
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return MISSING


def request_json(request: Any) -> Any:
    """The JSON body of a request as sent (None when it has none or it is not JSON)."""
    body = _body(request)
    return None if body is MISSING else body


def expected_url(contract: dict[str, Any], stream: bool) -> str:
    url = contract.get("stream_url") if stream and contract.get("stream_url") else contract["url"]
    url = url.replace("{model}", quote(contract["model"], safe="/"))
    variables = list((contract.get("variables") or {}).values())
    if "{" in url and len(variables) == 1:  # e.g. Azure's {resource}, set from its env variable
        url = re.sub(r"\{[a-z_]+\}", variables[0], url)
    return url


def check_request(provider: str, scenario: Scenario, contract: dict[str, Any], request: Any, api_key: str) -> list[str]:
    """Problems with the first request of a cell, judged against the documented contract."""
    where = f"{provider}/{scenario.id}"
    problems: list[str] = []
    family = contract["family"]
    stream = scenario.stream
    want = urlsplit(expected_url(contract, stream))
    got = urlsplit(request.uri)
    if (got.scheme, got.netloc, got.path) != (want.scheme, want.netloc, want.path):
        problems.append(
            f"{where}: URL {got.scheme}://{got.netloc}{got.path} != documented {want.scheme}://{want.netloc}{want.path}"
        )
    got_query = dict(parse_qsl(got.query))
    for key, value in parse_qsl(want.query):
        if got_query.get(key) != value:
            problems.append(f"{where}: query parameter {key}={got_query.get(key)!r}, documented {value!r}")
    headers = {k.lower(): v for k, v in request.headers.items()}
    auth = contract.get("auth") or {}
    if "header" in auth:
        name = auth["header"].lower()
        expected = auth.get("format", "{key}").replace("{key}", api_key)
        if headers.get(name) != expected:
            shown = "absent" if name not in headers else "present but not in the documented format"
            problems.append(f"{where}: auth header {auth['header']} {shown} (documented: {auth.get('format')})")
    elif "query" in auth and got_query.get(auth["query"]) != api_key:
        problems.append(f"{where}: auth query parameter {auth['query']} missing")
    for name, value in (contract.get("headers") or {}).items():
        if headers.get(name.lower()) != str(value):
            problems.append(f"{where}: header {name}={headers.get(name.lower())!r}, documented {value!r}")
    body = _body(request)
    if body is MISSING:
        return [*problems, f"{where}: request body is not JSON"]
    if contract.get("model_in", "body") == "body":
        field = contract.get("model_field", "model")
        if dig(body, field) != contract["model"]:
            problems.append(f"{where}: body field {field}={dig(body, field)!r}, expected model {contract['model']!r}")
    stream_field = (contract.get("stream") or {}).get("field")
    if stream_field:
        flag = dig(body, stream_field)
        if stream and flag is not True:
            problems.append(f"{where}: stream flag {stream_field}={flag!r}, documented true for streams")
        if not stream and flag not in (MISSING, False, None):
            problems.append(f"{where}: stream flag {stream_field}={flag!r} on a non-stream call")
    problems += _check_conversation(where, family, scenario, body)
    if involves_tools(scenario):
        problems += check_tool_request(provider, family, scenario, body)
    fields = contract.get("fields") or {}
    for name in contract.get("required") or []:
        if name in fields and dig(body, fields[name]) is MISSING:
            problems.append(f"{where}: required field {fields[name]} ({name}) missing")
    for name, value in scenario.parameters.items():
        problems += _check_parameter(where, name, value, fields.get(name), body)
    return problems


def _check_parameter(where: str, name: str, value: Any, field: str | None, body: dict[str, Any]) -> list[str]:
    if field is None:
        return [f"{where}: {name} was sent but the provider documents no such parameter"]
    got = dig(body, field)
    if got is MISSING:
        top = sorted(body) if isinstance(body, dict) else []
        return [
            f"{where}: parameter {name} dropped: documented field '{field}' missing from the request body (top-level fields: {', '.join(top)})"
        ]
    if isinstance(value, list) and isinstance(got, str):
        got = got.split(",")
    if got != value:
        return [f"{where}: parameter {name}: field '{field}'={got!r}, sent {value!r}"]
    return []


def _check_conversation(where: str, family: str, scenario: Scenario, body: dict[str, Any]) -> list[str]:
    want = list(scenario.messages)
    if any(role in ("assistant_tool_calls", "tool") for role, _ in want):
        # tool turns have no plain-text form: tool_checks judges the whole history then
        want = [(role, text) for role, text in want if role not in ("assistant_tool_calls", "tool")]
        turns = [t for t in oracle.conversation(family, body) if t[0] in ("system", "user") and t[1]]
        return [] if turns == want else [f"{where}: text turns on the wire {turns!r:.160} != sent {want!r:.160}"]
    turns = oracle.conversation(family, body)
    if family == "replicate":
        prompt = dict(turns).get("prompt") or ""
        system = dict(turns).get("system")
        problems = [
            f"{where}: prompt lacks the {role} turn {text!r}"
            for role, text in want
            if role != "system" and text not in prompt
        ]
        sys_want = "\n\n".join(t for r, t in want if r == "system") or None
        if system != sys_want:
            problems.append(f"{where}: system_prompt={system!r}, expected {sys_want!r}")
        return problems
    if turns != want:
        return [f"{where}: conversation on the wire {turns!r} != sent {want!r} (roles or system placement wrong)"]
    return []


def check_same_body(provider: str, scenario: Scenario, request: Any, recorded: Any) -> list[str]:
    """The request body must equal the recorded one, so review of a cassette reviews the wire."""
    now, then = _body(request), _body(recorded)
    if now == then:
        return []
    diffs = []
    for key in sorted(set(now) | set(then)) if isinstance(now, dict) and isinstance(then, dict) else ["<body>"]:
        a, b = (now.get(key, MISSING), then.get(key, MISSING)) if key != "<body>" else (now, then)
        if a != b:
            diffs.append(f"{key}: now {json.dumps(a, default=repr)[:80]}, recorded {json.dumps(b, default=repr)[:80]}")
    return [f"{provider}/{scenario.id}: request body differs from the cassette: " + "; ".join(diffs)]


def reading_of(family: str, body: str, stream: bool) -> oracle.Reading:
    if stream:
        return oracle.read_stream(family, body)
    return oracle.read_response(family, json.loads(body))


def check_response(
    provider: str, scenario: Scenario, family: str, outcome: Outcome, reading: oracle.Reading
) -> list[str]:
    where = f"{provider}/{scenario.id}"
    problems: list[str] = []
    if outcome.error is not None:
        return [f"{where}: unexpected {outcome.error.type}: {outcome.error.message}"]
    if outcome.content != reading.content:
        problems.append(f"{where}: content {outcome.content!r:.80} != response text {reading.content!r:.80}")
    if scenario.stream:
        problems += _check_events(where, scenario, outcome, reading)
    else:
        if outcome.finish_reason != reading.finish:
            problems.append(
                f"{where}: finish_reason {outcome.finish_reason!r} != {reading.finish!r} (raw {reading.raw_finish!r})"
            )
        if scenario.call != "guide_example":
            if outcome.raw_finish_reason != reading.raw_finish:
                problems.append(f"{where}: raw_finish_reason {outcome.raw_finish_reason!r} != {reading.raw_finish!r}")
            problems += _check_usage(where, "usage", outcome.usage or {}, reading)
    if scenario.call == "stats":
        stats = outcome.stats or {}
        problems += _check_usage(where, "stats", stats, reading)
        if not (isinstance(stats.get("latency_ms"), float) and stats["latency_ms"] > 0):
            problems.append(f"{where}: stats.latency_ms={stats.get('latency_ms')!r}, expected a positive duration")
    if involves_tools(scenario):
        problems += check_tool_response(where, scenario, outcome, reading)
    expect = scenario.expect
    if "finish_reason" in expect:
        got = outcome.finish_reason if not scenario.stream else _finish(outcome)[0]
        if got != expect["finish_reason"]:
            problems.append(f"{where}: finish_reason {got!r}, expected {expect['finish_reason']!r}")
    if "content_excludes" in expect and expect["content_excludes"] in (outcome.content or ""):
        problems.append(f"{where}: content contains {expect['content_excludes']!r}, which the answer must not hold")
    return problems


def _check_usage(where: str, what: str, got: dict[str, Any], reading: oracle.Reading) -> list[str]:
    problems = []
    for name in ("prompt_tokens", "completion_tokens"):
        want = getattr(reading, name)
        if got.get(name) != want:
            problems.append(f"{where}: {what}.{name}={got.get(name)!r}, response says {want!r}")
    total = reading.total_tokens
    if total is None and reading.prompt_tokens is not None and reading.completion_tokens is not None:
        total = reading.prompt_tokens + reading.completion_tokens
    if got.get("total_tokens") != total:
        problems.append(f"{where}: {what}.total_tokens={got.get('total_tokens')!r}, expected {total!r}")
    return problems


def _finish(outcome: Outcome) -> tuple[str | None, str | None]:
    finishes = [v for k, v in outcome.events if k == "finish"]
    return finishes[-1] if finishes else (None, None)


def _check_events(where: str, scenario: Scenario, outcome: Outcome, reading: oracle.Reading) -> list[str]:
    problems = []
    kinds = [k for k, _ in outcome.events]
    if not kinds or kinds[-1] != "finish" or kinds.count("finish") != 1:
        problems.append(f"{where}: stream must end with exactly one finish event, got {kinds[-3:]}")
    usage_at = [i for i, k in enumerate(kinds) if k == "usage"]
    if len(usage_at) > 1:
        problems.append(f"{where}: {len(usage_at)} usage events, usage must appear at most once")
    deltas_at = [i for i, k in enumerate(kinds) if k in ("content", "reasoning")]
    if usage_at and deltas_at and usage_at[0] < deltas_at[-1]:
        problems.append(f"{where}: usage event before the last delta")
    if "usage_events" in scenario.expect and len(usage_at) != scenario.expect["usage_events"]:
        problems.append(f"{where}: {len(usage_at)} usage events, expected {scenario.expect['usage_events']}")
    if usage_at:
        problems += _check_usage(where, "usage event", outcome.events[usage_at[0]][1], reading)
    reason, raw = _finish(outcome)
    if reason != reading.finish or raw != reading.raw_finish:
        problems.append(
            f"{where}: finish ({reason!r}, raw {raw!r}) != response ({reading.finish!r}, raw {reading.raw_finish!r})"
        )
    if "".join(reading.deltas) and len([k for k in kinds if k == "content"]) < 2 and len(reading.deltas) >= 2:
        problems.append(f"{where}: {len(reading.deltas)} deltas in the response but the client merged them")
    return problems


#: The AI-Protocol standard error classes: code, retryable, fallbackable (shared/providers.md).
STANDARD_ERRORS = {
    "invalid_request": ("E1001", False, False),
    "authentication": ("E1002", False, True),
    "permission_denied": ("E1003", False, False),
    "not_found": ("E1004", False, False),
    "request_too_large": ("E1005", False, False),
    "rate_limited": ("E2001", True, True),
    "quota_exhausted": ("E2002", False, True),
    "server_error": ("E3001", True, True),
    "overloaded": ("E3002", True, True),
    "timeout": ("E3003", True, True),
    "conflict": ("E4001", True, False),
    "cancelled": ("E4002", False, False),
    "unknown": ("E9999", False, False),
}


def error_reading(family: str, body: str) -> oracle.Reading:
    """The provider's own error message in an HTTP error body (None for non-JSON pages)."""
    reading = oracle.Reading()
    try:
        data = json.loads(body)
    except ValueError:
        return reading
    reading.error = oracle.error_message(family, data)
    return reading


def check_error(
    provider: str,
    scenario: Scenario,
    family: str,
    outcome: Outcome,
    reading: oracle.Reading,
    status: int,
    body: str,
    waits: list[float],
    requests: int,
) -> list[str]:
    where = f"{provider}/{scenario.id}"
    expect = scenario.expect
    error = outcome.error
    if error is None:
        return [f"{where}: expected a {expect['error']} error, the call succeeded"]
    problems = []
    if expect["error"] != "any" and error.error_class != expect["error"]:
        problems.append(f"{where}: error class {error.error_class!r} ({error.type}), expected {expect['error']!r}")
    standard = STANDARD_ERRORS.get(error.error_class or "")
    if standard and (error.code, error.retryable, error.fallbackable) != standard:
        problems.append(
            f"{where}: {error.error_class} must be code={standard[0]} retryable={standard[1]} "
            f"fallbackable={standard[2]}, got {error.code}/{error.retryable}/{error.fallbackable}"
        )
    if status >= 400 and error.status_code != status:
        problems.append(f"{where}: error.status_code={error.status_code!r}, response status {status}")
    message = reading.error.get("message") if isinstance(reading.error, dict) else reading.error
    if message and message[:60] not in error.message:
        problems.append(f"{where}: error message lacks the provider's text {message[:60]!r}")
    if scenario.stream and outcome.content != "".join(reading.deltas):
        problems.append(f"{where}: deltas before the error {outcome.content!r:.60} != {''.join(reading.deltas)!r:.60}")
    if "retry_after" in expect and error.retry_after != expect["retry_after"]:
        problems.append(
            f"{where}: error.retry_after={error.retry_after!r}, Retry-After header said {expect['retry_after']}"
        )
    if "requests" in expect and requests != expect["requests"]:
        problems.append(
            f"{where}: {requests} request(s) sent, expected {expect['requests']} (max_retries={scenario.max_retries})"
        )
    if "min_wait" in expect and sum(waits) < expect["min_wait"]:
        problems.append(
            f"{where}: waited {sum(waits):.2f}s in all before retrying, Retry-After asked {expect['min_wait']}s"
        )
    return problems
