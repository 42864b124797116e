"""Requests the real APIs reject are rejected, with the family's documented error body.

Expected texts and statuses follow the providers' API references and error pages:
OpenAI (platform.openai.com/docs/guides/error-codes), Anthropic (docs.anthropic.com/en/api/errors),
Gemini (ai.google.dev/gemini-api/docs/troubleshooting), Cohere (docs.cohere.com/reference/errors),
Replicate (problem+json bodies with title/detail/status)."""

from __future__ import annotations

from .support import (
    ANTHROPIC_URL,
    COHERE_URL,
    GEMINI_URL,
    KEY,
    OPENAI_URL,
    anthropic,
    call,
    cohere,
    gemini,
    openai,
    replicate,
)

# --- auth -------------------------------------------------------------------------------


def test_openai_missing_key() -> None:
    response = call(OPENAI_URL, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, {})
    assert response.status == 401
    error = response.json()["error"]
    assert error["message"].startswith("You didn't provide an API key.")
    assert error["type"] == "invalid_request_error"


def test_openai_key_without_bearer_scheme_is_rejected() -> None:
    response = openai(headers={"authorization": KEY})
    assert response.status == 401


def test_anthropic_accepts_the_newest_sdk_default_headers() -> None:
    # anthropic 2.x sends "Authorization: Bearer <key>" and anthropic-version 2026-10-21
    body = {"model": "claude-3-5-sonnet-latest", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    for headers in (
        {"anthropic-version": "2023-06-01", "authorization": f"Bearer {KEY}"},
        {"anthropic-version": "2026-10-21", "x-api-key": KEY},
    ):
        assert call(ANTHROPIC_URL, body, headers).status == 200
    assert call(ANTHROPIC_URL, body, {"anthropic-version": "2099-01-01", "x-api-key": KEY}).status == 400


def test_anthropic_missing_key() -> None:
    body = {"model": "claude-3-5-sonnet-latest", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    for headers in ({"anthropic-version": "2023-06-01"},):
        response = call(ANTHROPIC_URL, body, headers)
        assert response.status == 401
        assert response.json() == {
            "type": "error",
            "error": {"type": "authentication_error", "message": "x-api-key header is required"},
            "request_id": response.json()["request_id"],
        }
        assert response.json()["request_id"].startswith("req_")


def test_anthropic_empty_key_is_invalid() -> None:
    response = anthropic(headers={"x-api-key": ""})
    assert response.status == 401
    assert response.json()["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}


def test_anthropic_version_header_is_required() -> None:
    body = {"model": "claude-3-5-sonnet-latest", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    response = call(ANTHROPIC_URL, body, {"x-api-key": KEY})
    assert response.status == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }


def test_gemini_missing_key_is_permission_denied_and_an_empty_key_is_invalid() -> None:
    missing = call(GEMINI_URL, {"contents": [{"parts": [{"text": "hi"}]}]}, {})
    assert missing.status == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    assert missing.json()["error"]["code"] == 403
    empty = gemini(headers={"x-goog-api-key": ""})
    assert empty.status == 400
    error = empty.json()["error"]
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"


def test_cohere_missing_and_malformed_key() -> None:
    missing = call(COHERE_URL, {"model": "command-r", "messages": [{"role": "user", "content": "hi"}]}, {})
    assert missing.status == 401
    assert missing.json()["message"] == "no api key supplied"
    bad = cohere(headers={"authorization": "Token abc"})
    assert bad.status == 401
    assert bad.json()["message"] == "invalid api token"


def test_replicate_missing_token() -> None:
    response = replicate(headers={"authorization": ""})
    assert response.status == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unauthenticated"
    assert response.json()["status"] == 401


# --- body -------------------------------------------------------------------------------


def test_body_not_json_is_400_in_every_family() -> None:
    headers = {
        "authorization": f"Bearer {KEY}",
        "x-api-key": KEY,
        "anthropic-version": "2023-06-01",
        "x-goog-api-key": KEY,
    }
    for url in (OPENAI_URL, ANTHROPIC_URL, GEMINI_URL, COHERE_URL):
        response = call(url, b"{not json", headers)
        assert response.status == 400, url
    openai_error = call(OPENAI_URL, b"{not json", headers).json()["error"]
    assert openai_error["message"].startswith("We could not parse the JSON body of your request.")
    assert (
        call(GEMINI_URL, b"{not json", headers).json()["error"]["message"].startswith("Invalid JSON payload received.")
    )


def test_model_missing() -> None:
    response = openai({"model": None})
    assert response.status == 400
    assert response.json()["error"]["message"] == "you must provide a model parameter"
    body = {"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    response = call(ANTHROPIC_URL, body, {"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    assert response.status == 400
    assert response.json()["error"]["message"] == "model: Field required"
    response = call(COHERE_URL, {"messages": [{"role": "user", "content": "hi"}]}, {"authorization": f"Bearer {KEY}"})
    assert response.status == 400


def test_openai_rejects_an_unrecognized_argument() -> None:
    response = openai({"temprature": 0.5})
    assert response.status == 400
    error = response.json()["error"]
    assert error["message"] == "Unrecognized request argument supplied: temprature"
    assert error["type"] == "invalid_request_error"


def test_anthropic_rejects_extra_inputs() -> None:
    response = anthropic({"stop": ["END"]})
    assert response.status == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "stop: Extra inputs are not permitted",
    }


def test_gemini_rejects_unknown_names_at_top_level_and_in_generation_config() -> None:
    top = gemini({"temperature": 0.5})
    assert top.status == 400
    assert (
        top.json()["error"]["message"]
        == 'Invalid JSON payload received. Unknown name "temperature": Cannot find field.'
    )
    nested = gemini({"generationConfig": {"max_tokens": 5}})
    assert nested.status == 400
    assert nested.json()["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"max_tokens\" at 'generation_config': Cannot find field."
    )


def test_gemini_accepts_snake_case_names_like_googles_json_parser() -> None:
    response = gemini(
        {"system_instruction": {"parts": [{"text": "Be brief."}]}, "generation_config": {"temperature": 0.2}}
    )
    assert response.status == 200


def test_cohere_rejects_unknown_fields() -> None:
    response = cohere({"top_p": 0.5})
    assert response.status == 400
    assert "top_p" in response.json()["message"]


def test_parameter_of_the_wrong_type() -> None:
    response = openai({"temperature": "hot"})
    assert response.status == 400
    error = response.json()["error"]
    assert error["message"] == "Invalid type for 'temperature': expected a decimal, but got a string instead."
    assert error["param"] == "temperature" and error["code"] == "invalid_type"
    response = openai({"max_completion_tokens": 5.5})
    assert (
        response.json()["error"]["message"]
        == "Invalid type for 'max_completion_tokens': expected an integer, but got a decimal instead."
    )
    response = anthropic({"max_tokens": "10"})
    assert response.status == 400
    assert response.json()["error"]["message"] == "max_tokens: Input should be a valid integer"
    response = anthropic({"stop_sequences": "END"})
    assert response.json()["error"]["message"] == "stop_sequences: Input should be a valid list"
    response = gemini({"generationConfig": {"maxOutputTokens": "ten"}})
    assert response.status == 400
    assert (
        response.json()["error"]["message"]
        == "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), \"ten\""
    )
    response = cohere({"temperature": True})
    assert response.status == 400


def test_openai_accepts_stop_as_a_string_and_a_list() -> None:
    assert openai({"stop": "END"}).status == 200
    assert openai({"stop": ["END", "STOP"]}).status == 200
    assert openai({"stop": 5}).status == 400


def test_anthropic_max_tokens_is_required() -> None:
    body = {"model": "claude-3-5-sonnet-latest", "messages": [{"role": "user", "content": "hi"}]}
    response = call(ANTHROPIC_URL, body, {"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    assert response.status == 400
    assert response.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}


def test_anthropic_system_role_in_messages_is_rejected() -> None:
    response = anthropic({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]})
    assert response.status == 400
    assert 'Unexpected role "system"' in response.json()["error"]["message"]


def test_openai_messages_checks() -> None:
    assert openai({"messages": []}).json()["error"]["code"] == "empty_array"
    bad_role = openai({"messages": [{"role": "bot", "content": "hi"}]})
    assert bad_role.status == 400
    assert bad_role.json()["error"]["param"] == "messages[0].role"
    missing = call(OPENAI_URL, {"model": "gpt-4o"}, {"authorization": f"Bearer {KEY}"})
    assert missing.json()["error"]["message"] == "Missing required parameter: 'messages'."


def test_openai_stream_options_need_stream() -> None:
    response = openai({"stream_options": {"include_usage": True}})
    assert response.status == 400
    assert response.json()["error"]["param"] == "stream_options"
    assert openai({"stream": True, "stream_options": {"include_usage": True}}).status == 200


def test_gemini_roles_are_user_and_model() -> None:
    response = gemini({"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]})
    assert response.status == 400
    assert response.json()["error"]["message"] == "Please use a valid role: user, model."
    assert gemini({"contents": []}).status == 400


def test_replicate_prompt_is_required_and_typed() -> None:
    response = replicate({"prompt": ""})
    assert response.status == 422
    assert response.json()["invalid_fields"][0]["field"] == "prompt"
    typed = replicate({"max_tokens": "many"})
    assert typed.status == 422
    assert typed.json()["invalid_fields"][0] == {
        "type": "invalid_type",
        "field": "max_tokens",
        "description": "Invalid type. Expected: integer, given: string",
    }
