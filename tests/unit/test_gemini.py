"""gemini family through the gemini manifest.

Fixtures follow https://ai.google.dev/api/generate-content (GenerateContentResponse)
and the `alt=sse` streaming form of streamGenerateContent.
"""

from __future__ import annotations

import json

import pytest

from ailib.errors import AiLibError, ParameterError, StreamProtocolError

from .unit_support import PLANTED_KEY, collect, contents, data_event, json_response, sse_body, sse_response

RESPONSE = {
    "candidates": [
        {
            "content": {"parts": [{"text": "Hello! How can I help you today?"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}],
        }
    ],
    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 9, "totalTokenCount": 13},
    "modelVersion": "gemini-2.0-flash",
}

THINKING_RESPONSE = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {"text": "**Greeting** The user said hello.", "thought": True},
                    {"text": "Hi! "},
                    {"text": "What's up?"},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    # thinking models count thought tokens in the total: total != prompt + candidates
    "usageMetadata": {
        "promptTokenCount": 10,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 60,
    },
    "modelVersion": "gemini-2.5-flash",
}


def stream_chunk(text: str, finish: str | None = None, prompt: int = 4, candidates: int | None = None) -> dict:
    candidate: dict = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    usage = {"promptTokenCount": prompt, "totalTokenCount": prompt + (candidates or 0)}
    if candidates is not None:
        usage["candidatesTokenCount"] = candidates
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.0-flash"}


# Gemini streams use CRLF and end without a done marker.
STREAM = sse_body(
    [
        data_event(stream_chunk("The")),
        data_event(stream_chunk(" quick brown", candidates=3)),
        data_event(stream_chunk(" fox.", "STOP", candidates=5)),
    ],
    line_end="\r\n",
)


async def test_request_url_auth_header_and_nested_generation_config(make_client):
    client, server = await make_client("gemini/gemini-2.0-flash", json_response(200, RESPONSE))
    await (
        client.chat()
        .system("Answer in French.")
        .user("Hi")
        .assistant("Bonjour")
        .user("Again")
        .temperature(1.5)
        .top_p(0.95)
        .max_tokens(512)
        .stop(["END", "STOP"])
        .execute()
    )
    request = server.requests[0]
    assert (
        str(request.url) == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
    )
    assert request.headers["x-goog-api-key"] == PLANTED_KEY
    assert "authorization" not in request.headers
    assert PLANTED_KEY not in str(request.url)
    assert server.body() == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Bonjour"}]},
            {"role": "user", "parts": [{"text": "Again"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Answer in French."}]},
        "generationConfig": {
            "temperature": 1.5,
            "topP": 0.95,
            "maxOutputTokens": 512,
            "stopSequences": ["END", "STOP"],
        },
    }


async def test_model_is_in_the_url_not_the_body(make_client):
    client, server = await make_client("gemini/gemini-1.5-pro-002", json_response(200, RESPONSE))
    await client.chat().user("Hi").execute()
    assert server.requests[0].url.path == "/v1beta/models/gemini-1.5-pro-002:generateContent"
    body = server.body()
    assert "model" not in body and "generationConfig" not in body and "systemInstruction" not in body
    assert body == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


async def test_stream_request_uses_stream_method_and_alt_sse(make_client):
    client, server = await make_client("gemini/gemini-2.0-flash", sse_response(STREAM))
    await collect(client.chat().user("Hi").temperature(0).stream())
    request = server.requests[0]
    assert request.url.path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    assert dict(request.url.params) == {"alt": "sse"}
    assert request.headers["x-goog-api-key"] == PLANTED_KEY
    body = server.body()
    assert "stream" not in body  # the URL selects streaming
    assert body["generationConfig"] == {"temperature": 0}


async def test_stop_takes_at_most_five_sequences(make_client):
    client, server = await make_client("gemini/gemini-2.0-flash", json_response(200, RESPONSE))
    await client.chat().user("Hi").stop(["a", "b", "c", "d", "e"]).execute()
    assert server.body()["generationConfig"]["stopSequences"] == ["a", "b", "c", "d", "e"]
    with pytest.raises(ParameterError):
        await client.chat().user("Hi").stop(["a", "b", "c", "d", "e", "f"]).execute()
    assert server.calls == 1


async def test_response_parsed(make_client):
    client, _ = await make_client("gemini/gemini-2.0-flash", json_response(200, RESPONSE))
    response = await client.chat().user("Hi").execute()
    assert response.content == "Hello! How can I help you today?"
    assert (response.finish_reason, response.raw_finish_reason) == ("stop", "STOP")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (4, 9, 13)
    assert response.model == "gemini-2.0-flash"
    assert response.reasoning is None


async def test_thought_parts_are_reasoning_and_total_is_the_providers(make_client):
    client, _ = await make_client("gemini/gemini-2.5-flash", json_response(200, THINKING_RESPONSE))
    response = await client.chat().user("Hi").execute()
    assert response.content == "Hi! What's up?"
    assert response.reasoning == "**Greeting** The user said hello."
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (10, 20, 60)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("OTHER", "other"),
    ],
)
async def test_finish_reasons(make_client, raw, normalised):
    body = {**RESPONSE, "candidates": [{**RESPONSE["candidates"][0], "finishReason": raw}]}
    client, _ = await make_client("gemini/gemini-2.0-flash", json_response(200, body))
    response = await client.chat().user("Hi").execute()
    assert (response.finish_reason, response.raw_finish_reason) == (normalised, raw)


async def test_blocked_prompt_without_candidates_parses_to_empty_content(make_client):
    body = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}}
    client, _ = await make_client("gemini/gemini-2.0-flash", json_response(200, body))
    response = await client.chat().user("Hi").execute()
    assert response.content == ""
    assert response.finish_reason == "content_filter"  # the prompt was blocked: not an empty success
    assert response.usage.prompt_tokens == 8


async def test_candidate_with_null_parts_does_not_crash(make_client):
    body = {"candidates": [{"content": {"role": "model", "parts": None}, "finishReason": "MAX_TOKENS", "index": 0}]}
    client, _ = await make_client("gemini/gemini-2.5-flash", json_response(200, body))
    response = await client.chat().user("Hi").execute()
    assert response.content == ""
    assert response.finish_reason == "length"


async def test_stream_decoded_without_done_marker(make_client):
    client, _ = await make_client("gemini/gemini-2.0-flash", sse_response(STREAM))
    stream = client.chat().user("Hi").stream()
    events = await collect(stream)
    assert [e.kind for e in events] == ["content_delta"] * 3 + ["usage", "finish"]
    assert contents(events) == "The quick brown fox."
    usage = events[-2].as_usage
    # running totals: the last report wins
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 5, 9)
    assert (events[-1].as_finish.reason, events[-1].as_finish.raw_reason) == ("stop", "STOP")
    assert stream.stats.time_to_first_token_ms is not None


async def test_stream_thought_parts_are_reasoning(make_client):
    thought = {
        "candidates": [{"content": {"parts": [{"text": "pondering", "thought": True}], "role": "model"}, "index": 0}]
    }
    body = sse_body([data_event(thought), data_event(stream_chunk("Answer", "STOP", candidates=1))], line_end="\r\n")
    client, _ = await make_client("gemini/gemini-2.5-flash", sse_response(body))
    events = await collect(client.chat().user("Hi").stream())
    assert [e.kind for e in events] == ["reasoning_delta", "content_delta", "usage", "finish"]
    assert events[0].as_reasoning_delta.text == "pondering"


async def test_stream_single_event_without_trailing_blank_line_counts_first_token(make_client):
    body = ("data: " + json.dumps(stream_chunk("Only", "STOP", candidates=1))).encode()
    client, _ = await make_client("gemini/gemini-2.0-flash", sse_response(body))
    stream = client.chat().user("Hi").stream()
    events = await collect(stream)
    assert contents(events) == "Only"
    assert events[-1].as_finish.reason == "stop"
    # content was delivered, so there was a first token
    assert stream.stats.time_to_first_token_ms is not None


async def test_stream_error_object_raises_after_deltas(make_client):
    error = {
        "error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}
    }
    body = sse_body([data_event(stream_chunk("Par")), data_event(error)], line_end="\r\n")
    client, _ = await make_client("gemini/gemini-2.0-flash", sse_response(body))
    seen = []
    with pytest.raises(AiLibError) as info:
        async for event in client.chat().user("Hi").stream():
            seen.append(event)
    assert contents(seen) == "Par"
    assert info.value.error_class == "overloaded"
    assert "The model is overloaded" in str(info.value)


async def test_stream_ending_without_finish_reason_is_a_protocol_error(make_client):
    body = sse_body([data_event(stream_chunk("The")), data_event(stream_chunk(" end?"))], line_end="\r\n")
    client, _ = await make_client("gemini/gemini-2.0-flash", sse_response(body))
    with pytest.raises(StreamProtocolError):
        await collect(client.chat().user("Hi").stream())


async def test_message_objects_with_plain_string_roles(make_client):
    from ailib import Message

    client, server = await make_client("gemini/gemini-2.0-flash", json_response(200, RESPONSE))
    await (
        client.chat()
        .messages([Message("system", "Be brief."), Message("user", "Hi"), Message("assistant", "Yo")])
        .execute()
    )
    body = server.body()
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model"]
