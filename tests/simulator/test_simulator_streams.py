"""Streams: each family's documented SSE framing and event order, quirks and usage placement."""

from __future__ import annotations

from .support import (
    anthropic,
    cohere,
    gemini,
    json_events,
    openai,
    parse_sse,
    replicate,
    replicate_get,
    synthetic,
)


def _openai_text() -> str:
    return openai().json()["choices"][0]["message"]["content"]


def test_openai_stream_framing_and_order() -> None:
    response = openai({"stream": True})
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert len(response.chunks) > 3
    assert response.body.endswith(b"data: [DONE]\n\n")
    assert all(block.startswith(b"data: ") for block in response.body.split(b"\n\n") if block)
    chunks = json_events(response)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == _openai_text()
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    # no usage unless asked for with stream_options.include_usage
    assert all("usage" not in c for c in chunks)


def test_openai_stream_usage_on_request() -> None:
    chunks = json_events(
        openai({"stream": True, "stream_options": {"include_usage": True}, "max_completion_tokens": 5})
    )
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"]["prompt_tokens"] == 2
    assert last["usage"]["completion_tokens"] == 5
    assert last["usage"]["total_tokens"] == 7
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert all(c["usage"] is None for c in chunks[:-1])


def test_openai_deltas_are_word_sized() -> None:
    chunks = json_events(openai({"stream": True}))
    deltas = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert deltas[:3] == ["Hello", " from", " the"]
    assert len(deltas) == 24


def test_usage_always_comes_in_a_last_chunk_with_empty_choices() -> None:
    chunks = json_events(synthetic("quirky", {"stream": True}))
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 2
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks[:-1])  # no "usage": null unless asked for


def test_usage_in_finish_chunk_quirk() -> None:
    chunks = json_events(synthetic("mistrallike", {"stream": True, "max_tokens": 5}))
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "length"
    assert last["usage"] == {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}
    assert sum(1 for c in chunks if "usage" in c) == 1


def test_usage_never() -> None:
    chunks = json_events(synthetic("wrapped", {"stream": True}))
    assert all("usage" not in c["data"] for c in chunks)


def test_keepalive_reasoning_and_no_done_quirks() -> None:
    response = synthetic("quirky", {"stream": True})
    parsed = parse_sse(response.body)
    assert "keep-alive" in parsed.comments
    assert response.body.startswith(b": keep-alive\n\n")
    assert b"[DONE]" not in response.body
    chunks = [e.json() for e in parsed.events]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    reasoning = [d["reasoning_content"] for d in deltas if d.get("reasoning_content")]
    content_at = next(i for i, d in enumerate(deltas) if d.get("content"))
    reasoning_at = next(i for i, d in enumerate(deltas) if d.get("reasoning_content"))
    assert reasoning and reasoning_at < content_at
    assert "".join(d.get("content") or "" for d in deltas) == _openai_text()


def test_usage_in_x_groq_quirk() -> None:
    chunks = json_events(synthetic("groqlike", {"stream": True}))
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["x_groq"]["usage"]["total_tokens"] == 26
    assert all("usage" not in c for c in chunks)


def test_wrapped_in_data_stream() -> None:
    chunks = json_events(synthetic("wrapped", {"stream": True}))
    assert all(set(c) == {"data"} for c in chunks)
    assert chunks[-1]["data"]["choices"][0]["finish_reason"] == "stop"


def test_anthropic_event_sequence() -> None:
    response = anthropic({"stream": True, "stop_sequences": ["END"]})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = parse_sse(response.body).events
    names = [e.event for e in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    for event in events:  # the data's type repeats the event name
        assert event.json()["type"] == event.event
    start = events[0].json()["message"]
    assert start["role"] == "assistant" and start["content"] == []
    assert start["usage"]["input_tokens"] == 2
    text = "".join(e.json()["delta"]["text"] for e in events if e.event == "content_block_delta")
    assert text.endswith("the closing word ")
    delta = events[-2].json()
    assert delta["delta"]["stop_reason"] == "stop_sequence"
    assert delta["delta"]["stop_sequence"] == "END"
    assert delta["usage"]["output_tokens"] == 13


def test_cohere_event_sequence_with_done_marker() -> None:
    response = cohere({"stream": True, "max_tokens": 5})
    assert response.headers["content-type"] == "text/event-stream"
    parsed = parse_sse(response.body)
    names = [e.event for e in parsed.events]
    assert names[:2] == ["message-start", "content-start"]
    assert names[-3:] == ["content-end", "message-end", "message"]
    assert parsed.events[-1].data == "[DONE]"
    assert set(names[2:-3]) == {"content-delta"}
    text = "".join(e.json()["delta"]["message"]["content"]["text"] for e in parsed.events if e.event == "content-delta")
    assert text == "Hello from the café simulator:"
    end = parsed.events[-2].json()
    assert end["delta"]["finish_reason"] == "MAX_TOKENS"
    assert end["delta"]["usage"]["tokens"] == {"input_tokens": 2 + 62, "output_tokens": 5 + 1}
    assert end["delta"]["usage"]["billed_units"] == {"input_tokens": 2, "output_tokens": 5}


def test_cohere_without_done_marker_quirk() -> None:
    from .support import KEY, SYNTHETIC, call

    body = {"model": "command-r", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    response = call(SYNTHETIC["cohere_plain"]["url"], body, {"authorization": f"Bearer {KEY}"}, contracts=SYNTHETIC)
    assert b"[DONE]" not in response.body
    assert parse_sse(response.body).events[-1].event == "message-end"


def test_gemini_sse_stream() -> None:
    response = gemini({"generationConfig": {"maxOutputTokens": 5}}, stream=True)
    assert response.headers["content-type"] == "text/event-stream"
    assert b"\r\n\r\n" in response.body
    assert b"[DONE]" not in response.body
    events = parse_sse(response.body).events
    assert len(events) == 5
    candidates = [e.json()["candidates"][0] for e in events]
    assert [c.get("finishReason") for c in candidates] == [None] * 4 + ["MAX_TOKENS"]
    assert "".join(c["content"]["parts"][0]["text"] for c in candidates) == "Hello from the café simulator:"
    final = events[-1].json()["usageMetadata"]
    assert final["promptTokenCount"] == 2 and final["candidatesTokenCount"] == 5 and final["totalTokenCount"] == 7


def test_gemini_stream_without_alt_sse_is_a_json_array() -> None:
    from .support import KEY, call

    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    response = call(url, {"contents": [{"parts": [{"text": "Hello, world!"}]}]}, {"x-goog-api-key": KEY})
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    import json

    items = json.loads(response.body)
    assert isinstance(items, list) and len(items) == 24
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"


def test_replicate_two_step_stream() -> None:
    created = replicate({"max_tokens": 5}, stream=True)
    assert created.status == 201
    prediction = created.json()
    assert prediction["status"] == "starting"
    stream_url = prediction["urls"]["stream"]
    assert stream_url.startswith("https://stream.replicate.com/v1/files/")
    response = replicate_get(stream_url)
    assert response.status == 200
    assert (
        response.headers["content-type"] == "text/event-stream; charset=utf-8"
    )  # replicate__predictions_stream_sse.json
    events = parse_sse(response.body).events
    assert [e.event for e in events] == ["output"] * 5 + ["done"]
    assert "".join(e.data for e in events[:-1]) == "Hello from the café simulator:"
    assert events[-1].json() == {}
    assert all(e.id for e in events)


def test_stream_and_non_stream_texts_are_equal_in_every_family() -> None:
    expected = _openai_text()
    anthropic_text = "".join(
        e.json()["delta"]["text"]
        for e in parse_sse(anthropic({"stream": True}).body).events
        if e.event == "content_block_delta"
    )
    assert anthropic_text == expected
    gemini_text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in json_events(gemini(stream=True)))
    assert gemini_text == expected
    cohere_text = "".join(
        e.json()["delta"]["message"]["content"]["text"]
        for e in parse_sse(cohere({"stream": True}).body).events
        if e.event == "content-delta"
    )
    assert cohere_text == expected
