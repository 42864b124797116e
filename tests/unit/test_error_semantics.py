"""What an error means, beyond its status: an explicit rate-limit code beats words in the
message, and a context-length error is ``request_too_large`` (E1005) on every provider,
so a caller can catch it and trim. Also: protocol-wide sane parameter ranges, refused
before sending even where a manifest declares no bounds.

Bodies are the providers' own, as seen in public issue threads (cited per case).
"""

from __future__ import annotations

import pytest

from ailib import errors as E
from ailib import manifest as manifests

from .unit_support import json_response

# OpenAI's 429 for a per-minute limit: the code says rate limit, the text mentions billing.
OPENAI_RATE_LIMIT = {
    "error": {
        "message": "Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, "
        "Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits "
        "to learn more. You can increase your rate limit by adding a payment method to your account at "
        "https://platform.openai.com/account/billing.",
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
OPENAI_QUOTA = {
    "error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
}


async def error_of(make_client, model: str, status: int, body: object) -> E.AiLibError:
    client, _ = await make_client(model, json_response(status, body), max_retries=0)
    with pytest.raises(E.AiLibError) as info:
        await client.chat().user("Hi").execute()
    return info.value


async def test_explicit_rate_limit_code_beats_billing_words(make_client):
    error = await error_of(make_client, "openai/gpt-4o", 429, OPENAI_RATE_LIMIT)
    assert type(error) is E.RateLimitedError
    assert (error.code, error.retryable) == ("E2001", True)


async def test_quota_code_is_still_quota(make_client):
    error = await error_of(make_client, "openai/gpt-4o", 429, OPENAI_QUOTA)
    assert type(error) is E.QuotaExhaustedError and not error.retryable


async def test_words_still_decide_where_no_code_does(make_client):
    """Gemini's 429 is RESOURCE_EXHAUSTED (a status word) for both; its text tells them apart."""
    body = {
        "error": {
            "code": 429,
            "message": "Your project has exceeded its monthly spending cap. Please go to AI Studio.",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    error = await error_of(make_client, "gemini/gemini-2.0-flash", 429, body)
    assert type(error) is E.QuotaExhaustedError


CONTEXT_LENGTH = [
    # OpenAI: code context_length_exceeded (AI-Protocol v2 providers/openai.yaml by_error_code)
    (
        "openai/gpt-4o",
        {
            "error": {
                "message": "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 130000 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    ),
    # an OpenAI-compatible server with the same words but no code (AstrBotDevs/AstrBot#1)
    (
        "deepseek/deepseek-chat",
        {
            "error": {
                "message": "This model's maximum context length is 65536 tokens. However, you requested "
                "70000 tokens (69000 in the messages, 1000 in the completion).",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_request_error",
            }
        },
    ),
    # Anthropic (anthropics/claude-code#59696)
    (
        "anthropic/claude-3-5-sonnet-latest",
        {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "prompt is too long: 208656 tokens > 200000 maximum"},
        },
    ),
    # Gemini (google-gemini/gemini-cli#4231)
    (
        "gemini/gemini-2.0-flash",
        {
            "error": {
                "code": 400,
                "message": "The input token count (3475108) exceeds the maximum number of tokens allowed (1048576).",
                "status": "INVALID_ARGUMENT",
            }
        },
    ),
    # OpenRouter's canonical error type (specs/openrouter ApiErrorType)
    (
        "openrouter/openai/gpt-4o",
        {"error": {"message": "Input is too long for this model", "code": "context_length_exceeded"}},
    ),
]


@pytest.mark.parametrize(("model", "body"), CONTEXT_LENGTH, ids=[m.split("/")[0] for m, _ in CONTEXT_LENGTH])
async def test_context_length_errors_are_request_too_large(make_client, model, body):
    error = await error_of(make_client, model, 400, body)
    assert type(error) is E.RequestTooLargeError, f"{type(error).__name__}: {error}"
    assert (error.error_class, error.code, error.retryable) == ("request_too_large", "E1005", False)
    assert error.status_code == 400


async def test_an_ordinary_400_stays_invalid_request(make_client):
    body = {"error": {"message": "'messages' must contain at least one message", "type": "invalid_request_error"}}
    error = await error_of(make_client, "openai/gpt-4o", 400, body)
    assert type(error) is E.InvalidRequestError


# --- sane ranges on every chat provider ----------------------------------------------------

CHAT_PROVIDERS = [p for p in manifests.available() if manifests.load(p).chat_supported]
INSANE = [("temperature", -1), ("temperature", -0.01), ("top_p", 5), ("top_p", -0.1), ("top_p", 1.01)]
INSANE += [("max_tokens", 0), ("max_tokens", -5)]


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_values_no_provider_accepts_are_refused_everywhere(make_client, provider, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", "myresource")
    manifest = manifests.load(provider)
    client, server = await make_client(f"{provider}/{manifest.default_model or 'm'}", json_response(200, {}))
    for name, value in INSANE:
        if name not in manifest.parameters:
            continue
        with pytest.raises(E.ParameterError) as info:
            await getattr(client.chat().user("Hi"), name)(value).execute()
        assert name in str(info.value)
    assert server.calls == 0


@pytest.mark.parametrize("provider", ["openai", "replicate", "lepton", "together"])
async def test_edges_of_the_sane_ranges_still_pass(make_client, provider):
    manifest = manifests.load(provider)
    codec_body = []
    client, _ = await make_client(f"{provider}/{manifest.default_model or 'm'}", json_response(200, {}))
    for name, value in (("temperature", 0), ("top_p", 0), ("top_p", 1), ("max_tokens", 1)):
        if name in manifest.parameters:
            codec_body.append(getattr(client.chat().user("Hi"), name)(value).build())
    assert codec_body
