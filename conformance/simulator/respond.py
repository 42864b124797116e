"""``respond``: one request in, one simulated provider answer out (no I/O)."""

from __future__ import annotations

import json
import re
from typing import Any

from .answer import count_words, generate
from .contracts import Route, routes, split_url
from .core import SimRequest, SimResponse, digest, dumps
from .families import FAMILIES, Exchange, Family
from .families.replicate import Replicate
from .faults import ERROR_FAULTS, HTML_502, REDIRECT_TARGET, check_fault
from .profiles import profile_for
from .streams import render, to_chunks
from .tools import plan_calls, read_offer, structured_answer, tool_response


def _no_contract(request: SimRequest, why: str) -> SimResponse:
    body = {"error": {"message": f"simulator: {why}: {request.method} {request.url}", "type": "not_found"}}
    return SimResponse(404, {"content-type": "application/json"}, [dumps(body).encode("utf-8")])


def _find_route(
    contracts: dict[str, dict[str, Any]], request: SimRequest
) -> tuple[Route | None, dict[str, str], str | None]:
    """(route, URL variables, problem): problem is None on a match, ``query`` when only the
    query differs, ``path`` when only the host is known, ``host`` when nothing matches."""
    host, path, query = split_url(request.url)
    served = routes(contracts)
    for route in served:
        found = route.match(host, path, query)
        if found is not None:
            return route, found, None
    for route in served:  # another path the API serves the same way (Gemini /v1, DeepSeek /v1 and /beta)
        for alias, documented in (profile_for(route.contract_id).for_model("").get("path_aliases") or {}).items():
            if path.startswith(alias):
                found = route.match(host, documented + path[len(alias) :], query)
                if found is not None:
                    return route, found, None
    for route in served:
        found = route.match(host, path, list(route.query) + query)
        if found is not None:
            return route, found, "query"
    for route in served:
        if route.host_matches(host):
            return route, {}, "path"
    return None, {}, "host"


def _check_auth(family: Family, ex: Exchange) -> SimResponse | None:
    auth = ex.contract.get("auth") or {}
    if auth.get("query"):
        _, _, query = split_url(ex.request.url)
        value = dict(query).get(str(auth["query"]))
        if value is None:
            return family.missing_auth(ex)
        if not value.strip():
            return family.invalid_auth(ex)
        ex.extra["api_key"] = value
        return None
    if auth.get("header"):
        raw = ex.request.headers.get(str(auth["header"]).lower())
        if raw is None:  # another placement the API documents as accepted (e.g. Anthropic's bearer token)
            for other in ex.behaviour.get("accepted_auth") or []:
                raw = ex.request.headers.get(str(other["header"]).lower())
                if raw is not None:
                    auth = other
                    break
        if raw is None:
            return family.missing_auth(ex)
        fmt = str(auth.get("format") or "{key}")
        pattern = re.escape(fmt).replace(re.escape("{key}"), "(?P<key>.*)")
        m = re.fullmatch(pattern, raw.strip(), re.IGNORECASE | re.DOTALL)
        if m is None or not m.group("key").strip() or m.group("key") != m.group("key").strip():
            return family.invalid_auth(ex)
        ex.extra["api_key"] = m.group("key")
    return None


def _check_headers(family: Family, ex: Exchange) -> SimResponse | None:
    accepted = [str(v) for v in ex.behaviour.get("accepted_versions") or []]
    for name, value in (ex.contract.get("headers") or {}).items():
        have = ex.request.headers.get(str(name).lower())
        if have is None:
            return family.missing_header(ex, str(name))
        if str(value) and have.strip() != str(value) and have.strip() not in accepted:
            return family.invalid_header(ex, str(name), have)
    return None


def _stream(family: Family, ex: Exchange, ans: Any) -> SimResponse:
    if ex.extra.get("json_array"):  # Gemini streamGenerateContent without alt=sse
        events = family.stream_events(ex, ans, None)  # type: ignore[arg-type]
        return SimResponse(200, {"content-type": family.json_type}, [e.raw for e in events])
    events = render(family, ex, ans, ex.fault)
    headers = {
        "content-type": str(ex.behaviour.get("sse_content_type") or family.sse_type),
        "cache-control": "no-cache",
    }
    return SimResponse(200, headers, to_chunks(events, ex.fault))


def respond(contracts: dict[str, dict[str, Any]], request: SimRequest, fault: str | None = None) -> SimResponse:
    """Answer ``request`` as the provider whose contract URL it targets would.

    ``fault`` (one of :data:`FAULTS`, or None) replaces the answer with an injected error or
    changes the stream; an unknown fault name raises ValueError."""
    fault = check_fault(fault)
    seed = digest(request.method, request.url, request.body)
    host, path, _ = split_url(request.url)

    get_match = Replicate.match_get(contracts, request, host, path)
    if get_match is not None:
        cid, kind, token_data = get_match
        url_vars: dict[str, str] = {}
        problem = None
        contract = contracts[cid]
    else:
        route, url_vars, problem = _find_route(contracts, request)
        if route is None:
            return _no_contract(request, "no provider contract serves this host")
        cid, kind, contract, token_data = route.contract_id, route.kind, route.contract, None

    family = FAMILIES.get(str(contract.get("family")))
    if family is None:
        body = f"simulator: wire family {contract.get('family')!r} of {cid} is not simulated\n"
        return SimResponse(501, {"content-type": "text/plain; charset=utf-8"}, [body.encode("utf-8")])
    ex = Exchange(request, cid, contract, kind, url_vars, fault, seed)

    if problem == "path":
        return family.not_found_url(ex)
    if problem == "query":
        if family.name == "gemini" and kind == "stream_url":
            ex.extra["json_array"] = True
        else:
            return family.not_found_url(ex)

    if kind != "stream_get":  # stream URLs are pre-signed; everything else needs the key
        denied = _check_auth(family, ex) or _check_headers(family, ex)
        if denied is not None:
            return denied

    if fault in ERROR_FAULTS:
        status, error_kind = ERROR_FAULTS[fault]
        return family.fault_error(ex, status, error_kind)
    if fault == "error_html_502":
        return SimResponse(502, {"content-type": "text/html"}, [HTML_502.encode("utf-8")])
    if fault == "redirect_cross_origin":
        return SimResponse(307, {"location": REDIRECT_TARGET + path, "content-length": "0"}, [b""])
    if fault == "ok_error_body":
        return family.ok_error(ex)

    if token_data is not None:  # Replicate GET urls.get / urls.stream
        ans = Replicate.answer_from_token(token_data)
        ex.model = str(token_data.get("m") or "")
        ex.extra["token"] = path.rsplit("/", 1)[-1]
        if kind == "stream_get":
            ex.stream = True
            return _stream(family, ex, ans)
        return family.complete(ex, ans)

    if request.method != "POST":
        return family.not_found_url(ex)
    try:
        ex.body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return family.invalid_json(ex)
    rejected = family.validate(ex)
    if rejected is not None:
        return rejected

    ex.stream = family.is_stream(ex) or bool(ex.extra.get("json_array"))
    texts, last_user = family.conversation(ex)
    ans = generate(
        last_user,
        sum(count_words(t) for t in texts),
        stop=family.stops(ex),
        max_tokens=family.max_tokens(ex),
        reasoning=family.name == "openai-chat" and bool(ex.behaviour.get("reasoning_field")),
    )
    offer = read_offer(family.name, ex.body)
    planned = plan_calls(offer)
    if planned and not ex.fault:
        return tool_response(family, ex, ans, planned)
    if offer.structured is not None and not offer.tools:
        ans = structured_answer(ans, offer.structured)
    if not ex.stream:
        return family.complete(ex, ans)
    if getattr(family, "two_step_stream", False):
        return family.start_stream(ex, ans)  # type: ignore[attr-defined]
    return _stream(family, ex, ans)
