"""The simulator against real traffic: for every provider with real recordings in
``../shared/realworld`` (``$AILIB_REALWORLD_DIR``), the recorded request is replayed against
the simulator and the two answers are compared for structure: stream framing (line endings,
comments), done marker, which chunks carry text and usage, chunk keys, in-stream error form,
error bodies and statuses. Values are not compared. The expected side is always the
recording; nothing here is read from the profiles the simulator follows."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import pytest

from conformance.simulator import SimRequest, SimResponse, load_contracts, respond

from .realworld_shapes import (
    REALWORLD_DIR,
    ChatStreamShape,
    chat_stream_shape,
    error_skeleton,
    load_recordings,
    provider_of,
    sse_blocks,
)

CONTRACTS = load_contracts()
RECORDINGS = load_recordings()
pytestmark = pytest.mark.skipif(
    not RECORDINGS, reason=f"no real recordings at {REALWORLD_DIR} (set AILIB_REALWORLD_DIR)"
)

STATUS_FAULTS = {
    400: "error_400",
    401: "error_401",
    403: "error_403",
    404: "error_404",
    429: "error_429",
    500: "error_500",
}


def _model_of(record: dict[str, Any]) -> str:
    body = record["request"].get("body")
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        return body["model"]
    path = record["request"]["url"].split("?")[0]
    if "/models/" in path:  # Gemini .../models/<model>:generateContent, Replicate .../models/<o>/<n>/predictions
        return path.split("/models/")[1].split(":")[0].removesuffix("/predictions")
    if "/deployments/" in path:  # Azure: .../deployments/<deployment>/chat/completions
        return path.split("/deployments/")[1].split("/")[0]
    return str(record.get("model") or "")


def simulate(record: dict[str, Any], fault: str | None = None) -> SimResponse:
    """The recorded request, sent to the provider's documented URL (the recordings' hosts and
    paths vary: Azure resources, DeepSeek's /v1 and /beta aliases) with a planted key."""
    cid = provider_of(record)
    contract = CONTRACTS[cid]
    stream = bool(record.get("streaming"))
    template = str(contract.get("stream_url") if stream and contract.get("stream_url") else contract["url"])
    for name, spec in (contract.get("variables") or {}).items():
        value = spec.get("value", spec.get("example", spec.get("default"))) if isinstance(spec, dict) else spec
        template = template.replace("{" + name + "}", str(value))
    url = template.replace("{model}", quote(_model_of(record), safe=""))
    auth = contract.get("auth") or {}
    headers = {"content-type": "application/json"}
    if auth.get("header"):
        headers[str(auth["header"]).lower()] = str(auth.get("format") or "{key}").replace("{key}", "sim-check-key-01")
    else:
        url += ("&" if "?" in url else "?") + f"{auth['query']}=sim-check-key-01"
    for name, value in (contract.get("headers") or {}).items():
        headers[str(name).lower()] = str(value)
    body = record["request"].get("body")
    if isinstance(body, dict) and contract.get("model_in", "body") == "body" and "model" not in body:
        body = {**body, "model": _model_of(record)}  # Azure's recorded clients named the deployment only
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return respond(CONTRACTS, SimRequest(record["request"].get("method", "POST"), url, headers, raw), fault=fault)


def _uses_tools(record: dict[str, Any]) -> bool:
    body = record["request"].get("body")
    return isinstance(body, dict) and bool(body.get("tools"))


def _chat_streams() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """provider -> its recorded openai-chat family streams that answer with text (tool-call
    replies are another scenario's shape)."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for name, record in RECORDINGS:
        cid = provider_of(record)
        if cid not in CONTRACTS or CONTRACTS[cid].get("family") != "openai-chat":
            continue
        ok = record.get("streaming") and record["response"]["status"] == 200 and not _uses_tools(record)
        if (
            ok
            and (record.get("expected") or {}).get("content")
            and "error" not in record["response"]["body_text"][:200]
        ):
            out[cid].append((name, record))
    return out


CHAT_STREAMS = _chat_streams()


@pytest.mark.parametrize(("name", "record"), [r for rs in CHAT_STREAMS.values() for r in rs], ids=lambda v: str(v)[:60])
def test_stream_framing_and_usage_match_the_recording(name: str, record: dict[str, Any]) -> None:
    real = chat_stream_shape(record["response"]["body_text"])
    response = simulate(record)
    assert response.status == 200, response.text[:300]
    sim = chat_stream_shape(response.text)
    assert sim.crlf == real.crlf, f"{name}: line endings"
    assert sim.done == real.done, f"{name}: [DONE] marker"
    assert sim.prompt_filter_first == real.prompt_filter_first, f"{name}: Azure prompt_filter_results first chunk"
    assert sim.first_has_text == real.first_has_text, f"{name}: text in the first chunk"
    assert sim.usage == real.usage, f"{name}: usage placement"


@pytest.mark.parametrize("provider", sorted(CHAT_STREAMS))
def test_stream_chunks_hold_only_what_the_provider_sends(provider: str) -> None:
    """Over all of a provider's recordings: the simulator's chunks use no top-level key and
    no ``object`` the provider never sent, it sends comments and text in the finish chunk
    exactly when the provider does in some recording."""
    reals = [(name, chat_stream_shape(r["response"]["body_text"])) for name, r in CHAT_STREAMS[provider]]
    responses = [simulate(r) for _, r in CHAT_STREAMS[provider]]
    sims: list[ChatStreamShape] = [chat_stream_shape(r.text) for r in responses]
    real_types = {(r["response"].get("headers") or {}).get("content-type") for _, r in CHAT_STREAMS[provider]} - {None}
    if real_types:
        assert {r.headers["content-type"] for r in responses} <= real_types, f"{provider}: content-type"
    real_keys = set().union(*(s.chunk_keys for _, s in reals))
    real_objects = set().union(*(s.objects for _, s in reals))
    for sim in sims:
        assert sim.chunk_keys <= real_keys, f"{provider}: keys never seen in real chunks: {sim.chunk_keys - real_keys}"
        assert sim.objects <= real_objects, f"{provider}: object {sim.objects - real_objects}"
    assert any(s.comments for s in sims) == any(s.comments for _, s in reals), f"{provider}: comment lines"
    assert any(s.finish_has_text for s in sims) == any(s.finish_has_text for _, s in reals), (
        f"{provider}: text in the finish chunk"
    )


def _stream_errors() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, r)
        for name, r in RECORDINGS
        if r.get("streaming") and r["response"]["status"] == 200 and provider_of(r) in CONTRACTS
        and chat_stream_shape(r["response"]["body_text"]).error_event
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "record"), _stream_errors(), ids=lambda v: str(v)[:60])
def test_in_stream_error_has_the_recorded_form(name: str, record: dict[str, Any]) -> None:
    real = chat_stream_shape(record["response"]["body_text"])
    sim = chat_stream_shape(simulate(record, fault="stream_error_event").text)
    assert sim.error_event == real.error_event
    assert sim.done == real.done, f"{name}: [DONE] after an in-stream error"


def _errors() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, r)
        for name, r in RECORDINGS
        if r["response"]["status"] in STATUS_FAULTS and provider_of(r) in CONTRACTS
        and CONTRACTS[provider_of(r)].get("family")
    ]  # fmt: skip


def _is_bad_key(record: dict[str, Any]) -> bool:
    text = record["response"]["body_text"]
    return record["response"]["status"] == 401 or "API_KEY_INVALID" in text


@pytest.mark.parametrize(("name", "record"), _errors(), ids=lambda v: str(v)[:60])
def test_error_body_has_the_recorded_shape(name: str, record: dict[str, Any]) -> None:
    """An error of the recorded kind (a bad key for the bad-key recordings, else the
    recorded status) comes back with the recorded status and error-body keys."""
    status = record["response"]["status"]
    fault = "error_401" if _is_bad_key(record) else STATUS_FAULTS[status]
    response = simulate(record, fault=fault)
    assert response.status == status
    real = error_skeleton(json.loads(record["response"]["body_text"]))
    sim = error_skeleton(response.json())
    assert sim == real, f"{name}: simulator {sorted(sim)}, real {sorted(real)}"
    real_type = (record["response"].get("headers") or {}).get("content-type", "")
    if "event-stream" in real_type:  # an error on a stream request labelled as a stream (Gemini)
        assert response.headers["content-type"] == real_type


def _named_event_streams() -> list[tuple[str, dict[str, Any]]]:
    """Recorded text streams of the other families (Anthropic, Gemini with alt=sse, Cohere)."""
    out = []
    for name, r in RECORDINGS:
        cid = provider_of(r)
        family = (CONTRACTS.get(cid) or {}).get("family")
        if family in ("anthropic-messages", "gemini", "cohere-v2") and r.get("streaming"):
            text = r["response"]["body_text"]
            if r["response"]["status"] == 200 and not _uses_tools(r) and text.lstrip().startswith(("event:", "data:")):
                out.append((name, r))
    return out


def _by_provider(records: list[tuple[str, dict[str, Any]]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for name, record in records:
        out[provider_of(record)].append((name, record))
    return out


NAMED_STREAMS = _by_provider(_named_event_streams())


@pytest.mark.parametrize("provider", sorted(NAMED_STREAMS))
def test_named_event_stream_matches_the_recordings(provider: str) -> None:
    """Line endings and done marker of each recording; for each kind of event, the simulator
    uses only keys the provider sent in some recording, and every key the provider sent in
    all of them (the APIs grew fields over the years the recordings span)."""
    from conformance.simulator.check_realworld import stream_shape

    reals, sims = [], []
    for name, record in NAMED_STREAMS[provider]:
        real = stream_shape(record["response"]["body_text"])
        sim = stream_shape(simulate(record).text)
        assert sim["crlf"] == real["crlf"], f"{name}: line endings"
        assert sim["done"] == real["done"], f"{name}: [DONE] marker"
        reals.append(real)
        sims.append(sim)
    for kind in set().union(*(r["paths"] for r in reals)):
        if kind.startswith("content_block"):
            continue  # thinking / signature / tool blocks in real replies
        seen = [r["paths"][kind] for r in reals if kind in r["paths"]]
        sim_keys = set().union(*(s["paths"].get(kind, set()) for s in sims))
        if not sim_keys:
            continue
        assert sim_keys <= set().union(*seen), f"{provider} {kind}: never sent: {sim_keys - set().union(*seen)}"
        always = set.intersection(*seen)
        assert always <= sim_keys, f"{provider} {kind}: missing {always - sim_keys}"


# --- the comparison catches a wrong simulator ----------------------------------------------


def test_a_gemini_stream_framed_with_lf_fails_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.simulator.families.gemini import Gemini

    monkeypatch.setattr(Gemini, "eol", "\n")
    with pytest.raises(AssertionError, match="line endings"):
        test_named_event_stream_matches_the_recordings("gemini")


def test_anthropic_usage_under_openai_names_fails_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.simulator.families.anthropic_messages import AnthropicMessages

    real_usage = AnthropicMessages.usage

    def swapped(self: AnthropicMessages, ans: Any, output_tokens: int | None = None) -> dict[str, Any]:
        usage = real_usage(self, ans, output_tokens)
        usage["prompt_tokens"], usage["completion_tokens"] = usage.pop("input_tokens"), usage.pop("output_tokens")
        return usage

    monkeypatch.setattr(AnthropicMessages, "usage", swapped)
    with pytest.raises(AssertionError, match="never sent"):
        test_named_event_stream_matches_the_recordings("anthropic")


def _plain_answers() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for name, r in RECORDINGS:
        cid = provider_of(r)
        if cid in CONTRACTS and not r.get("streaming") and r["response"]["status"] == 200 and not _uses_tools(r):
            out[cid].append((name, r))
    return out


PLAIN = _plain_answers()


@pytest.mark.parametrize("provider", sorted(PLAIN))
def test_plain_answer_holds_only_what_the_provider_sends(provider: str) -> None:
    """A non-stream answer's top-level keys and its choice/message keys are ones the
    provider sent in some recording, and hold every key it sent in all of them."""
    from conformance.simulator.check_realworld import key_paths

    def shallow(body: Any) -> set[str]:
        return {p for p in key_paths(body) if p.count(".") <= 1 or p.startswith("choices[].message.")}

    reals = [shallow(json.loads(r["response"]["body_text"])) for _, r in PLAIN[provider]]
    sims = [shallow(simulate(r).json()) for _, r in PLAIN[provider]]
    seen, always = set().union(*reals), set.intersection(*reals)
    for sim in sims:
        assert sim <= seen, f"{provider}: never sent: {sorted(sim - seen)}"
        assert always <= sim, f"{provider}: missing: {sorted(always - sim)}"


def _accepted() -> list[tuple[str, dict[str, Any]]]:
    """Every recorded request the real provider answered with success (a Replicate stream
    GET needs its prediction first and is left out)."""
    return [
        (name, r)
        for name, r in RECORDINGS
        if provider_of(r) in CONTRACTS and CONTRACTS[provider_of(r)].get("family")
        and r["response"]["status"] < 400 and r["request"].get("method", "POST") == "POST"
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "record"), _accepted(), ids=lambda v: str(v)[:60])
def test_a_request_the_provider_accepted_is_accepted(name: str, record: dict[str, Any]) -> None:
    """What the real API accepted (typed content parts, tools, penalties, its own fields),
    the simulator accepts too."""
    response = simulate(record)
    assert response.status < 400, f"{name}: {response.text[:300]}"


def test_replicate_prediction_and_stream_match_the_recordings() -> None:
    """replicate__predictions_create_201.json then replicate__predictions_stream_sse.json:
    the created prediction holds every key the real one has (the API has added some since),
    and its stream URL serves the recorded event kinds, opening comment and done event."""
    from conformance.simulator.check_realworld import key_paths

    recordings = dict(RECORDINGS)
    create = recordings.get("replicate__predictions_create_201.json")
    stream = recordings.get("replicate__predictions_stream_sse.json")
    if create is None or stream is None:
        pytest.skip("the Replicate recordings are not there")
    created = simulate(create)
    assert created.status == create["response"]["status"]
    assert key_paths(json.loads(create["response"]["body_text"])) <= key_paths(created.json())
    url = created.json()["urls"]["stream"]
    served = respond(CONTRACTS, SimRequest("GET", url, {"accept": "text/event-stream"}, b""))
    real_text = stream["response"]["body_text"]
    assert served.headers["content-type"] == stream["response"]["headers"]["content-type"]
    real_blocks, sim_blocks = sse_blocks(real_text), sse_blocks(served.text)
    assert sim_blocks[0] == real_blocks[0] == (None, "", True), "an opening comment line"
    assert {b[0] for b in sim_blocks if not b[2]} == {b[0] for b in real_blocks if not b[2]}
    real_done = next(b[1] for b in real_blocks if b[0] == "done")
    assert next(b[1] for b in sim_blocks if b[0] == "done") == real_done


def _tool_streams() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, r)
        for name, r in RECORDINGS
        if (CONTRACTS.get(provider_of(r)) or {}).get("family") == "openai-chat" and r.get("streaming")
        and r["response"]["status"] == 200 and _uses_tools(r)
        and not chat_stream_shape(r["response"]["body_text"]).error_event
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "record"), _tool_streams(), ids=lambda v: str(v)[:60])
def test_tool_call_stream_framing_matches_the_recording(name: str, record: dict[str, Any]) -> None:
    """A recorded tool-call stream, replayed: the simulator's tool-call stream has the same
    line endings, end marker and opening comments (the tool-call chunks themselves are judged
    by the tool scenarios)."""
    real = chat_stream_shape(record["response"]["body_text"])
    response = simulate(record)
    assert response.status == 200, response.text[:300]
    sim = chat_stream_shape(response.text)
    assert (sim.crlf, sim.done, sim.comments) == (real.crlf, real.done, real.comments), name
