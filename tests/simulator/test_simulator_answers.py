"""Non-stream answers: the documented shapes, the reply, stop / max_tokens and usage.

Prompt tokens are whitespace-separated words over every message (system included):
"Hello, world!" is 2, "You are terse." is 3. The reply is 24 words with END as word 14."""

from __future__ import annotations

import re

from .support import anthropic, cohere, gemini, openai, replicate, synthetic

SYSTEM = "You are terse."


def _openai_text(response) -> str:
    return response.json()["choices"][0]["message"]["content"]


def test_reply_properties() -> None:
    text = _openai_text(openai())
    words = text.split()
    assert len(words) >= 15
    assert "END" in words[6:]
    non_ascii = [c for c in text if ord(c) > 127]
    assert non_ascii == ["é"]


def test_reply_is_deterministic_and_depends_on_the_last_user_message() -> None:
    first = openai()
    assert first.body == openai().body
    texts = {_openai_text(openai({"messages": [{"role": "user", "content": f"question {n}"}]})) for n in range(12)}
    assert len(texts) > 1
    earlier = openai({"messages": [{"role": "user", "content": "question 1"}, {"role": "assistant", "content": "a"},
                                   {"role": "user", "content": "question 2"}]})  # fmt: skip
    assert _openai_text(earlier) == _openai_text(openai({"messages": [{"role": "user", "content": "question 2"}]}))


def test_same_text_in_every_family_for_the_same_message() -> None:
    expected = _openai_text(openai())
    assert anthropic().json()["content"][0]["text"] == expected
    assert gemini().json()["candidates"][0]["content"]["parts"][0]["text"] == expected
    assert cohere().json()["message"]["content"][0]["text"] == expected


def test_openai_shape_and_usage() -> None:
    response = openai(
        {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hello, world!"}]}
    )
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert re.fullmatch(r"chatcmpl-[A-Za-z0-9]+", body["id"])
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    # OpenAI answers with the dated snapshot it served (openai__chat_nonstream_toolcall.json)
    assert body["model"] == "gpt-4o-2024-08-06"
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == 5
    assert body["usage"]["completion_tokens"] == 24
    assert body["usage"]["total_tokens"] == 29


def test_openai_max_tokens_at_the_contract_field() -> None:
    body = openai({"max_completion_tokens": 5}).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == "Hello from the café simulator:"
    assert body["usage"]["completion_tokens"] == 5
    # `max_tokens` is valid for OpenAI but the contract maps max_tokens to max_completion_tokens
    assert openai({"max_tokens": 5}).json()["choices"][0]["finish_reason"] == "stop"


def test_openai_stop_sequence() -> None:
    body = openai({"stop": ["END"]}).json()
    content = body["choices"][0]["message"]["content"]
    assert "END" not in content
    assert content.endswith("the closing word ")
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == 13


def test_earliest_stop_sequence_wins_and_max_tokens_can_cut_first() -> None:
    content = _openai_text(openai({"stop": ["END", "café"]}))
    assert content == "Hello from the "
    body = openai({"stop": ["END"], "max_completion_tokens": 3}).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == "Hello from the"


def test_anthropic_shape_stop_and_max_tokens() -> None:
    body = anthropic({"system": SYSTEM}).json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_")
    assert body["content"][0]["type"] == "text"
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"]["input_tokens"] == 5 and body["usage"]["output_tokens"] == 24
    stopped = anthropic({"stop_sequences": ["END"]}).json()
    assert stopped["stop_reason"] == "stop_sequence"
    assert stopped["stop_sequence"] == "END"
    assert stopped["usage"]["output_tokens"] == 13
    short = anthropic({"max_tokens": 5}).json()
    assert short["stop_reason"] == "max_tokens"
    assert short["content"][0]["text"] == "Hello from the café simulator:"


def test_anthropic_system_as_blocks_counts_too() -> None:
    body = anthropic({"system": [{"type": "text", "text": SYSTEM}]}).json()
    assert body["usage"]["input_tokens"] == 5


def test_gemini_shape_stop_and_max_tokens() -> None:
    response = gemini({"systemInstruction": {"parts": [{"text": SYSTEM}]}})
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    candidate = body["candidates"][0]
    assert candidate["content"]["role"] == "model"
    assert candidate["finishReason"] == "STOP"
    assert body["usageMetadata"] == {
        "promptTokenCount": 5,
        "candidatesTokenCount": 24,
        "totalTokenCount": 29,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}],
    }
    assert body["modelVersion"] == "gemini-2.0-flash" and body["responseId"]
    stopped = gemini({"generationConfig": {"stopSequences": ["END"]}}).json()
    assert stopped["candidates"][0]["finishReason"] == "STOP"
    assert "END" not in stopped["candidates"][0]["content"]["parts"][0]["text"]
    short = gemini({"generationConfig": {"maxOutputTokens": 5}}).json()
    assert short["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert short["usageMetadata"]["candidatesTokenCount"] == 5


def test_gemini_multi_turn_reads_the_last_user_turn() -> None:
    contents = [
        {"role": "user", "parts": [{"text": "question 1"}]},
        {"role": "model", "parts": [{"text": "answer"}]},
        {"role": "user", "parts": [{"text": "Hello, world!"}]},
    ]
    body = gemini({"contents": contents}).json()
    assert body["candidates"][0]["content"]["parts"][0]["text"] == _openai_text(openai())
    assert body["usageMetadata"]["promptTokenCount"] == 5


def test_cohere_shape_stop_and_max_tokens() -> None:
    body = cohere(
        {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hello, world!"}]}
    ).json()
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"])
    assert body["message"]["role"] == "assistant"
    assert body["message"]["content"][0]["type"] == "text"
    assert body["finish_reason"] == "COMPLETE"
    # tokens count more than billed_units (cohere__chat_v2_nonstream_basic.json: 69/89 vs 7/88)
    assert body["usage"]["tokens"] == {"input_tokens": 5 + 62, "output_tokens": 24 + 1}
    assert body["usage"]["billed_units"] == {"input_tokens": 5, "output_tokens": 24}
    assert cohere({"stop_sequences": ["END"]}).json()["finish_reason"] == "STOP_SEQUENCE"
    assert cohere({"max_tokens": 5}).json()["finish_reason"] == "MAX_TOKENS"


def test_cohere_typed_content_parts() -> None:
    body = cohere({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hello, world!"}]}]}).json()
    assert body["message"]["content"][0]["text"] == _openai_text(openai())


def test_replicate_prediction_with_prefer_wait() -> None:
    response = replicate({"system_prompt": SYSTEM, "max_tokens": 5})
    assert response.status == 201
    body = response.json()
    assert body["status"] == "succeeded"
    assert "".join(body["output"]) == "Hello from the café simulator:"
    assert body["metrics"]["input_token_count"] == 5
    assert body["metrics"]["output_token_count"] == 5
    assert set(body["urls"]) >= {"get", "cancel", "stream"}


def test_replicate_stop_sequences_are_comma_separated() -> None:
    body = replicate({"stop_sequences": "café,END"}).json()
    assert "".join(body["output"]) == "Hello from the "


def test_replicate_without_wait_starts_and_can_be_fetched() -> None:
    from .support import replicate_get

    started = replicate(wait=False).json()
    assert started["status"] == "starting" and started["output"] is None
    fetched = replicate_get(started["urls"]["get"], auth=True)
    assert fetched.status == 200
    assert fetched.json()["status"] == "succeeded"
    assert "".join(fetched.json()["output"]) == _openai_text(openai())


def test_reasoning_content_quirk() -> None:
    body = synthetic("quirky").json()
    message = body["choices"][0]["message"]
    assert message["reasoning_content"]
    assert message["content"] == _openai_text(openai())


def test_wrapped_in_data_quirk() -> None:
    body = synthetic("wrapped", {"max_new_tokens": 5}).json()
    assert set(body) == {"data"}
    assert body["data"]["choices"][0]["finish_reason"] == "length"


def test_usage_in_x_groq_quirk_leaves_the_non_stream_usage_in_place() -> None:
    body = synthetic("groqlike").json()
    assert body["usage"]["total_tokens"] == 26
    assert body["x_groq"]["id"]
