"""Injected faults: error bodies per family, and broken streams."""

from __future__ import annotations

import json

import pytest

from conformance.simulator import FAULTS

from .support import anthropic, cohere, gemini, json_events, openai, parse_sse, replicate, replicate_get, synthetic

ERROR_STATUS = {
    "error_400": 400, "error_401": 401, "error_403": 403, "error_404": 404, "error_413": 413, "error_429": 429,
    "error_429_no_retry_after": 429, "error_429_quota": 429, "error_500": 500, "error_502": 502, "error_503": 503,
    "error_504": 504, "error_529": 529, "error_html_502": 502,
}  # fmt: skip

STREAM_FAULTS = [
    "stream_error_event", "stream_cut", "stream_no_done", "stream_no_finish_no_done", "stream_invalid_json",
    "stream_keepalive", "stream_empty_choices", "stream_utf8_split", "stream_long_event",
]  # fmt: skip
#: Hostile servers (issue 12): a redirect elsewhere, a 200 that is an error, and two stream faults.
HOSTILE_FAULTS = ["redirect_cross_origin", "ok_error_body", "stream_after_terminal", "stream_trickle"]


def test_fault_list_is_complete_and_described() -> None:
    assert set(FAULTS) == set(ERROR_STATUS) | set(STREAM_FAULTS) | set(HOSTILE_FAULTS)
    assert all(isinstance(text, str) and text for text in FAULTS.values())


def test_unknown_fault_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown simulator fault"):
        openai(fault="error_999")


FAMILY_CALLS = {"openai": openai, "anthropic": anthropic, "gemini": gemini, "cohere": cohere, "replicate": replicate}


@pytest.mark.parametrize("fault", [f for f in ERROR_STATUS if f != "error_html_502"])
@pytest.mark.parametrize("family", list(FAMILY_CALLS))
def test_error_fault_status_and_body_shape(family: str, fault: str) -> None:
    response = FAMILY_CALLS[family](fault=fault)
    body = response.json()
    if (
        family == "gemini" and fault == "error_401"
    ):  # a bad key is a 400 (gemini__error_400_stream_request_sse_content_type.json)
        assert response.status == 400 and body["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        return
    assert response.status == ERROR_STATUS[fault]
    if family == "openai":
        assert set(body["error"]) == {"message", "type", "param", "code"}
    elif family == "anthropic":
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    elif family == "gemini":
        assert body["error"]["code"] == ERROR_STATUS[fault] and body["error"]["status"] and body["error"]["message"]
    elif family == "cohere":
        assert body["message"]
    else:
        assert body["status"] == ERROR_STATUS[fault] and body["title"] and body["detail"]
    if fault == "error_429":
        assert response.headers["retry-after"] == "1"
    else:
        assert "retry-after" not in response.headers


def test_openai_error_types_follow_the_error_codes_guide() -> None:
    assert openai(fault="error_401").json()["error"]["code"] == "invalid_api_key"
    rate = openai(fault="error_429").json()["error"]
    assert rate["code"] == "rate_limit_exceeded"
    quota = openai(fault="error_429_quota").json()["error"]
    assert quota["type"] == "insufficient_quota" and quota["code"] == "insufficient_quota"
    assert "exceeded your current quota" in quota["message"]
    assert openai(fault="error_500").json()["error"]["type"] == "server_error"


def test_anthropic_error_types_follow_the_errors_page() -> None:
    expected = {
        "error_400": "invalid_request_error", "error_401": "authentication_error", "error_403": "permission_error",
        "error_404": "not_found_error", "error_413": "request_too_large", "error_429": "rate_limit_error",
        "error_429_quota": "billing_error", "error_500": "api_error", "error_504": "timeout_error",
        "error_529": "overloaded_error",
    }  # fmt: skip
    for fault, etype in expected.items():
        assert anthropic(fault=fault).json()["error"]["type"] == etype, fault
    assert "credit balance" in anthropic(fault="error_429_quota").json()["error"]["message"]


def test_a_contract_can_give_the_providers_own_error_wording() -> None:
    error = synthetic("mistrallike", fault="error_429_quota").json()["error"]
    assert error == {
        "message": "Insufficient Balance",
        "type": "unknown_error",
        "param": None,
        "code": "invalid_request_error",
    }
    assert synthetic("mistrallike", fault="error_429").json()["error"]["code"] == "rate_limit_exceeded"


def test_gemini_statuses() -> None:
    assert gemini(fault="error_429").json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert "spending cap" in gemini(fault="error_429_quota").json()["error"]["message"]
    assert gemini(fault="error_503").json()["error"]["status"] == "UNAVAILABLE"
    assert gemini(fault="error_500").json()["error"]["status"] == "INTERNAL"
    assert gemini(fault="error_504").json()["error"]["status"] == "DEADLINE_EXCEEDED"


def test_529_for_other_families_is_an_overloaded_503_style_body() -> None:
    assert openai(fault="error_529").json() == openai(fault="error_503").json()
    assert gemini(fault="error_529").json()["error"]["message"] == gemini(fault="error_503").json()["error"]["message"]


@pytest.mark.parametrize("family", list(FAMILY_CALLS))
def test_html_502(family: str) -> None:
    response = FAMILY_CALLS[family](fault="error_html_502")
    assert response.status == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.body
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.body)


def test_stream_faults_do_not_touch_non_stream_requests() -> None:
    for fault in STREAM_FAULTS:
        assert openai(fault=fault).body == openai().body


# --- stream faults, per family -----------------------------------------------------------


def _openai_stream(fault: str):
    return openai({"stream": True, "stream_options": {"include_usage": True}}, fault=fault)


def test_openai_stream_error_event() -> None:
    response = _openai_stream("stream_error_event")
    assert response.status == 200
    chunks = json_events(response)
    assert chunks[-1]["error"]["type"] == "server_error"
    assert sum(1 for c in chunks if c.get("choices") and c["choices"][0]["delta"].get("content")) == 3
    assert b"[DONE]" not in response.body


def test_anthropic_stream_error_event_is_overloaded() -> None:
    events = parse_sse(anthropic({"stream": True}, fault="stream_error_event").body).events
    assert events[-1].event == "error"
    assert events[-1].json() == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert "message_stop" not in [e.event for e in events]


def test_groq_reports_a_stream_error_as_an_error_event() -> None:
    # groq__chat_stream_only_error_event.json: "event: error" with {"error": {...}} as its data
    last = parse_sse(synthetic("groqlike", {"stream": True}, fault="stream_error_event").body).events[-1]
    assert last.event == "error"
    assert last.json()["error"]["message"]


def test_openrouter_reports_a_stream_error_on_a_chunk_that_says_stop() -> None:
    # openrouter__chat_stream_midstream_error_no_done.json
    from .support import call

    body = {"model": "openai/gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"authorization": "Bearer k-0123456789"}
    url = "https://openrouter.ai/api/v1/chat/completions"
    events = parse_sse(call(url, body, headers, fault="stream_error_event").body).events
    last = events[-1].json()
    assert last["error"]["code"] == 502
    assert last["choices"][0]["finish_reason"] == "stop"
    assert all(e.data != "[DONE]" for e in events)


def test_gemini_and_cohere_stream_error_events() -> None:
    last = json_events(gemini(stream=True, fault="stream_error_event"))[-1]
    assert last["error"]["status"] == "INTERNAL"
    events = parse_sse(cohere({"stream": True}, fault="stream_error_event").body).events
    assert events[-2].event == "message-end"
    assert events[-2].json()["delta"]["finish_reason"] == "ERROR"


def test_replicate_stream_error_event() -> None:
    url = replicate(stream=True).json()["urls"]["stream"]
    events = parse_sse(replicate_get(url, fault="stream_error_event").body).events
    assert [e.event for e in events[-2:]] == ["error", "done"]
    assert events[-2].json()["detail"]
    assert events[-1].json() == {"reason": "error"}


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere"])
def test_stream_cut_ends_mid_event(family: str) -> None:
    response = _stream(family, "stream_cut")
    parsed = parse_sse(response.body)
    assert parsed.trailing  # the body stops inside an event
    assert not response.body.endswith(b"\n\n")
    assert b"[DONE]" not in response.body
    text = response.body.decode("utf-8")
    for finish in ('"finish_reason":"stop"', "message_stop", '"finishReason"', "message-end"):
        assert finish not in text


def _stream(family: str, fault: str | None = None):
    if family == "openai":
        return _openai_stream(fault)
    if family == "anthropic":
        return anthropic({"stream": True}, fault=fault)
    if family == "gemini":
        return gemini(stream=True, fault=fault)
    if family == "cohere":
        return cohere({"stream": True}, fault=fault)
    url = replicate(stream=True).json()["urls"]["stream"]
    return replicate_get(url, fault=fault)


def test_stream_no_done() -> None:
    openai_body = _openai_stream("stream_no_done").body
    assert b'"finish_reason":"stop"' in openai_body and b"[DONE]" not in openai_body
    assert b'"usage":{"prompt_tokens"' in openai_body
    names = [e.event for e in parse_sse(anthropic({"stream": True}, fault="stream_no_done").body).events]
    assert "message_delta" in names and "message_stop" not in names
    cohere_body = cohere({"stream": True}, fault="stream_no_done").body
    assert b"message-end" in cohere_body and b"[DONE]" not in cohere_body
    # Gemini and Replicate have no end marker apart from their finish: unchanged
    assert gemini(stream=True, fault="stream_no_done").body == gemini(stream=True).body
    assert _stream("replicate", "stream_no_done").body == _stream("replicate").body


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere", "replicate"])
def test_stream_no_finish_no_done(family: str) -> None:
    response = _stream(family, "stream_no_finish_no_done")
    text = response.body.decode("utf-8")
    assert response.body.endswith((b"\n\n", b"\r\n\r\n"))
    for marker in (
        "[DONE]",
        '"finish_reason":"',
        "message_delta",
        "message_stop",
        "finishReason",
        "message-end",
        "event: done",
    ):
        assert marker not in text, marker
    assert len(parse_sse(response.body).events) > 3


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere", "replicate"])
def test_stream_invalid_json(family: str) -> None:
    response = _stream(family, "stream_invalid_json")
    events = parse_sse(response.body).events
    broken = []
    for event in events:
        if event.data == "[DONE]" or (family == "replicate" and event.event == "output"):
            continue
        try:
            json.loads(event.data)
        except ValueError:
            broken.append(event)
    assert len(broken) == 1
    assert response.body.endswith((b"\n\n", b"\r\n\r\n"))


def test_stream_keepalive() -> None:
    parsed = parse_sse(_openai_stream("stream_keepalive").body)
    assert len(parsed.comments) >= len(parsed.events)
    names = [e.event for e in parse_sse(anthropic({"stream": True}, fault="stream_keepalive").body).events]
    assert names.count("ping") > 10
    assert parse_sse(anthropic({"stream": True}, fault="stream_keepalive").body).comments
    # no recorded Gemini stream holds a comment line (gemini__stream_sse_*.json): none is added
    assert not parse_sse(gemini(stream=True, fault="stream_keepalive").body).comments


def test_stream_empty_choices() -> None:
    chunks = json_events(openai({"stream": True}, fault="stream_empty_choices"))
    empties = [c for c in chunks if c["choices"] == []]
    assert len(empties) >= 10
    assert all("usage" not in c for c in empties)
    usage_only = [c for c in json_events(gemini(stream=True, fault="stream_empty_choices")) if "candidates" not in c]
    assert usage_only and all("usageMetadata" in c for c in usage_only)


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere", "replicate"])
def test_stream_utf8_split(family: str) -> None:
    response = _stream(family, "stream_utf8_split")
    split = [i for i, chunk in enumerate(response.chunks) if _incomplete_utf8(chunk)]
    assert split, "no chunk ends inside a multi-byte character"
    assert response.body == _stream(family).body  # same bytes, different writes


def _incomplete_utf8(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere", "replicate"])
def test_stream_long_event(family: str) -> None:
    response = _stream(family, "stream_long_event")
    sizes = sorted(len(chunk) for chunk in response.chunks)
    assert sizes[-1] > 1024 * 1024
    assert sizes[-2] < 4096


def test_stream_long_event_content_is_one_mebibyte_delta() -> None:
    chunks = json_events(openai({"stream": True}, fault="stream_long_event"))
    deltas = [c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]]
    assert max(len(d) for d in deltas) == 1024 * 1024


def test_quirky_stream_fault_keeps_its_quirks() -> None:
    response = synthetic("quirky", {"stream": True}, fault="stream_no_finish_no_done")
    assert response.body.startswith(b": keep-alive")


# --- hostile servers ----------------------------------------------------------------------


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere", "replicate"])
def test_redirect_cross_origin_names_another_origin(family: str) -> None:
    response = FAMILY_CALLS[family](fault="redirect_cross_origin")
    assert response.status == 307 and response.body == b""
    assert response.headers["location"].startswith("https://attacker.example/")


@pytest.mark.parametrize(
    ("family", "message"),
    [
        ("openai", lambda b: b["error"]["message"]),
        ("anthropic", lambda b: b["type"] == "error" and b["error"]["message"]),
        ("gemini", lambda b: b["error"]["message"]),
        ("cohere", lambda b: b["message"]),
        ("replicate", lambda b: b["status"] == "failed" and b["error"]),
    ],
)
def test_ok_error_body_is_a_200_error_object(family: str, message) -> None:
    response = FAMILY_CALLS[family](fault="ok_error_body")
    assert response.status == 200
    assert message(response.json())


@pytest.mark.parametrize("family", ["openai", "anthropic", "gemini", "cohere", "replicate"])
def test_stream_after_terminal_adds_one_delta_after_the_end(family: str) -> None:
    plain, faulty = _stream(family).body, _stream(family, "stream_after_terminal").body
    assert faulty.startswith(plain)  # the whole answer, unchanged ...
    extra = faulty[len(plain) :]
    assert b"AFTER-END" in extra and extra.replace(b"\r\n", b"\n").count(b"\n\n") == 1  # ... then one event


def test_stream_trickle_writes_single_bytes_first() -> None:
    response = _openai_stream("stream_trickle")
    assert response.body == _openai_stream(None).body
    assert [len(c) for c in response.chunks[:200]] == [1] * 200
