"""Errors as each provider really sends them; expected bodies are written from the recordings
and public reports named beside each test."""

from __future__ import annotations

from typing import Any

from conformance.cassettes import make_response_filter

from .support import CONTRACTS, call

KEY = "test-key-0123456789"


def chat(provider: str, fault: str | None = None, headers: dict[str, str] | None = None) -> Any:
    contract = CONTRACTS[provider]
    body = {"model": contract["model"], "messages": [{"role": "user", "content": "Hello"}]}
    h = {"authorization": f"Bearer {KEY}", "content-type": "application/json", **(headers or {})}
    return call(contract["url"], body, h, fault=fault)


def test_mistral_bad_key() -> None:
    # https://github.com/cline/cline/issues/13288: 401, {"detail":"Invalid API Key"}
    response = chat("mistral", fault="error_401")
    assert response.status == 401
    assert response.json() == {"detail": "Invalid API Key"}


def test_openrouter_errors_carry_numeric_codes() -> None:
    # openrouter__error_401_no_auth.json, openrouter__error_429_rate_limited.json
    response = chat("openrouter", fault="error_401")
    assert response.status == 401
    assert response.json() == {"error": {"message": "No cookie auth credentials found", "code": 401}}
    limited = chat("openrouter", fault="error_429").json()
    assert limited["error"]["code"] == 429 and isinstance(limited["error"]["message"], str)


def test_deepseek_bad_key() -> None:
    # github.com/deepseek-ai/DeepSeek-R1/issues/82: type authentication_error, code invalid_request_error
    error = chat("deepseek", fault="error_401").json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_request_error"
    assert error["message"].startswith("Authentication Fails")
    assert KEY not in error["message"]


def test_openai_rate_limit_and_request_id_headers() -> None:
    # platform.openai.com/docs/guides/rate-limits: x-ratelimit-* on the answer
    response = chat("openai", fault="error_429")
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-request-id"].startswith("req_")
    assert "x-ratelimit-remaining-requests" not in chat("openai", fault="error_500").headers


def test_anthropic_rate_limit_headers() -> None:
    contract = CONTRACTS["anthropic"]
    body = {"model": contract["model"], "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    response = call(contract["url"], body, headers, fault="error_429")
    assert response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert response.headers["request-id"].startswith("req_")


def test_cassettes_keep_request_ids_and_drop_volatile_headers() -> None:
    recorded = {
        "status": {"code": 429, "message": "Too Many Requests"},
        "headers": {"x-request-id": ["req_abc"], "request-id": ["req_def"], "date": ["Mon"], "retry-after": ["1"]},
        "body": {"string": "{}"},
    }
    kept = make_response_filter(lambda: ())(recorded)["headers"]
    assert kept == {"x-request-id": ["req_abc"], "request-id": ["req_def"], "retry-after": ["1"]}
