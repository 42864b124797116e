"""Provider failures classified into the standard error classes (E1001 ... E9999).

Bodies follow each provider's documented error shape:
OpenAI https://platform.openai.com/docs/guides/error-codes,
Anthropic https://docs.anthropic.com/en/api/errors,
Gemini https://ai.google.dev/gemini-api/docs/troubleshooting,
Cohere https://docs.cohere.com/reference/errors.
"""

from __future__ import annotations

import httpx
import pytest

from ailib import AiLibError
from ailib import errors as E

from .unit_support import json_response

# The AI-Protocol table (/work/shared/providers.md): class -> (code, retryable, fallbackable)
STANDARD = {
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
SUBCLASS = {
    "invalid_request": E.InvalidRequestError,
    "authentication": E.AuthenticationError,
    "permission_denied": E.PermissionDeniedError,
    "not_found": E.NotFoundError,
    "request_too_large": E.RequestTooLargeError,
    "rate_limited": E.RateLimitedError,
    "quota_exhausted": E.QuotaExhaustedError,
    "server_error": E.ServerError,
    "overloaded": E.OverloadedError,
    "timeout": E.RequestTimeoutError,
    "conflict": E.ConflictError,
    "cancelled": E.RequestCancelledError,
    "unknown": E.UnknownError,
}

CLOUDFLARE_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)


def oai(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def ant(type_: str, message: str) -> dict:
    return {"type": "error", "error": {"type": type_, "message": message}}


def gem(code: int, status: str, message: str, reason: str | None = None) -> dict:
    error: dict = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message},
        ]
    return {"error": error}


def coh(message: str) -> dict:
    return {"id": "2b8a7c1e-0d6f-4c3a-9a57-5d1c1c2f9e10", "message": message}


CASES = [
    # --- openai -------------------------------------------------------------------
    (
        "openai",
        400,
        oai(
            "Invalid value for 'temperature': must be between 0 and 2.",
            "invalid_request_error",
            "invalid_value",
            "temperature",
        ),
        "invalid_request",
        "Invalid value for 'temperature'",
    ),
    (
        "openai",
        401,
        oai(
            "Incorrect API key provided: sk-abc12***...***wxyz. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        "authentication",
        "Incorrect API key provided",
    ),
    (
        "openai",
        403,
        oai("Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"),
        "permission_denied",
        "Country, region, or territory not supported",
    ),
    (
        "openai",
        404,
        oai(
            "The model `gpt-9` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
            "model",
        ),
        "not_found",
        "does not exist",
    ),
    (
        "openai",
        413,
        oai("Request too large for gpt-4o. Please reduce your prompt.", "invalid_request_error"),
        "request_too_large",
        "Request too large",
    ),
    (
        "openai",
        429,
        oai(
            "Rate limit reached for gpt-4o in organization org-abc on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
            "requests",
            "rate_limit_exceeded",
        ),
        "rate_limited",
        "Rate limit reached",
    ),
    (
        "openai",
        429,
        oai(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        "quota_exhausted",
        "exceeded your current quota",
    ),
    (
        "openai",
        500,
        oai("The server had an error while processing your request. Sorry about that!", "server_error"),
        "server_error",
        "The server had an error",
    ),
    ("openai", 502, CLOUDFLARE_502, "server_error", "502 Bad Gateway"),
    (
        "openai",
        503,
        oai("The engine is currently overloaded, please try again later.", "server_error"),
        "overloaded",
        "currently overloaded",
    ),
    ("openai", 503, oai("Slow Down: please reduce your request rate.", "requests"), "overloaded", "Slow Down"),
    ("openai", 504, "", "timeout", "504"),
    # --- anthropic ----------------------------------------------------------------
    (
        "anthropic",
        400,
        ant("invalid_request_error", "messages: at least one message is required"),
        "invalid_request",
        "at least one message is required",
    ),
    ("anthropic", 401, ant("authentication_error", "invalid x-api-key"), "authentication", "invalid x-api-key"),
    (
        "anthropic",
        402,
        ant("billing_error", "Your credit balance is too low to access the Anthropic API."),
        "quota_exhausted",
        "credit balance is too low",
    ),
    (
        "anthropic",
        403,
        ant("permission_error", "Your API key does not have permission to use the specified resource."),
        "permission_denied",
        "does not have permission",
    ),
    ("anthropic", 404, ant("not_found_error", "model: claude-9"), "not_found", "model: claude-9"),
    (
        "anthropic",
        413,
        ant("request_too_large", "Request exceeds the maximum allowed number of bytes."),
        "request_too_large",
        "maximum allowed number of bytes",
    ),
    (
        "anthropic",
        429,
        ant("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
        "rate_limited",
        "per-minute rate limit",
    ),
    ("anthropic", 500, ant("api_error", "Internal server error"), "server_error", "Internal server error"),
    ("anthropic", 502, CLOUDFLARE_502, "server_error", "502 Bad Gateway"),
    ("anthropic", 504, ant("timeout_error", "Request timed out"), "timeout", "Request timed out"),
    ("anthropic", 529, ant("overloaded_error", "Overloaded"), "overloaded", "Overloaded"),
    # --- gemini -------------------------------------------------------------------
    (
        "gemini",
        400,
        gem(400, "INVALID_ARGUMENT", 'Invalid JSON payload received. Unknown name "foo": Cannot find field.'),
        "invalid_request",
        "Invalid JSON payload",
    ),
    (
        "gemini",
        400,
        gem(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"),
        "authentication",
        "API key not valid",
    ),
    (
        "gemini",
        403,
        gem(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."),
        "permission_denied",
        "unregistered callers",
    ),
    (
        "gemini",
        404,
        gem(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta."),
        "not_found",
        "is not found",
    ),
    (
        "gemini",
        429,
        gem(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        "rate_limited",
        "Resource has been exhausted",
    ),
    (
        "gemini",
        429,
        gem(
            429,
            "RESOURCE_EXHAUSTED",
            "Your project has exceeded its monthly spending cap. Please go to billing to increase it.",
        ),
        "quota_exhausted",
        "spending cap",
    ),
    (
        "gemini",
        500,
        gem(500, "INTERNAL", "An internal error has occurred."),
        "server_error",
        "An internal error has occurred",
    ),
    ("gemini", 502, CLOUDFLARE_502, "server_error", "502 Bad Gateway"),
    (
        "gemini",
        503,
        gem(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        "overloaded",
        "The model is overloaded",
    ),
    ("gemini", 504, gem(504, "DEADLINE_EXCEEDED", "Deadline exceeded"), "timeout", "Deadline exceeded"),
    # --- cohere (status decides; quota by message) --------------------------------
    (
        "cohere",
        400,
        coh("invalid request: message must be at least 1 token long."),
        "invalid_request",
        "invalid request",
    ),
    ("cohere", 401, coh("invalid api token"), "authentication", "invalid api token"),
    ("cohere", 403, coh("Forbidden"), "permission_denied", "Forbidden"),
    (
        "cohere",
        404,
        coh("model 'command-x' not found, make sure the correct model ID was used."),
        "not_found",
        "not found",
    ),
    ("cohere", 413, coh("too many tokens: the request is too large"), "request_too_large", "too many tokens"),
    (
        "cohere",
        429,
        coh("You are past the per minute request limit, please wait and try again later."),
        "rate_limited",
        "per minute request limit",
    ),
    (
        "cohere",
        429,
        coh(
            "You are using a Trial key, which is limited to 1000 API calls / month. Please upgrade to a Production key."
        ),
        "quota_exhausted",
        "Trial key",
    ),
    (
        "cohere",
        500,
        coh("internal server error, this has been reported to our developers"),
        "server_error",
        "internal server error",
    ),
    ("cohere", 502, CLOUDFLARE_502, "server_error", "502 Bad Gateway"),
    ("cohere", 503, coh("service unavailable"), "overloaded", "service unavailable"),
    ("cohere", 504, coh("gateway timeout"), "timeout", "gateway timeout"),
]


def answer(status: int, body) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers={"content-type": "text/html"})
    return json_response(status, body)


MODELS = {
    "openai": "gpt-4o",
    "anthropic": "claude-3-5-sonnet-latest",
    "gemini": "gemini-2.0-flash",
    "cohere": "command-r-plus-08-2024",
}


@pytest.mark.parametrize(("provider", "status", "body", "expected", "snippet"), CASES)
async def test_error_class_from_status_and_body(make_client, provider, status, body, expected, snippet):
    client, server = await make_client(f"{provider}/{MODELS[provider]}", answer(status, body), max_retries=0)
    with pytest.raises(AiLibError) as info:
        await client.chat().user("Hi").execute()
    error = info.value
    assert type(error) is SUBCLASS[expected], f"{type(error).__name__}: {error}"
    code, retryable, fallbackable = STANDARD[expected]
    assert (error.error_class, error.code, error.retryable, error.fallbackable) == (
        expected,
        code,
        retryable,
        fallbackable,
    )
    assert error.status_code == status
    assert error.provider == provider
    assert snippet in str(error)
    assert "\n" not in str(error)
    assert server.calls == 1


@pytest.mark.parametrize(
    ("provider", "status", "body", "expected", "snippet"), [c for c in CASES if not hasattr(c, "marks")][:12]
)
async def test_stream_open_classifies_the_same_way(make_client, provider, status, body, expected, snippet):
    client, _ = await make_client(f"{provider}/{MODELS[provider]}", answer(status, body), max_retries=0)
    with pytest.raises(SUBCLASS[expected]) as info:
        async for _ in client.chat().user("Hi").stream():
            pass
    assert snippet in str(info.value)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (408, "timeout"),
        (409, "conflict"),
        (422, "invalid_request"),
        (418, "unknown"),
        (501, "server_error"),
        (529, "overloaded"),
        (599, "server_error"),
    ],
)
async def test_status_alone_decides_when_the_body_says_nothing(make_client, status, expected):
    client, _ = await make_client("cohere/command-r-plus-08-2024", httpx.Response(status), max_retries=0)
    with pytest.raises(SUBCLASS[expected]) as info:
        await client.chat().user("Hi").execute()
    assert info.value.status_code == status
    assert str(info.value)  # a message even without a body


def test_error_attributes_and_str_format():
    error = E.RateLimitedError("slow down", provider="openai", status_code=429)
    assert isinstance(error, AiLibError)
    text = str(error)
    assert "slow down" in text and "openai" in text and "429" in text and "E2001" in text
    assert "slow down" in repr(error) and "RateLimitedError" in repr(error)


def test_every_standard_class_has_a_subclass_with_the_table_values():
    for name, (code, retryable, fallbackable) in STANDARD.items():
        cls = E.ERROR_CLASSES[name]
        assert issubclass(cls, AiLibError)
        assert (cls.error_class, cls.code, cls.retryable, cls.fallbackable) == (name, code, retryable, fallbackable)
    assert E.STATUS_CLASSES[529] == "overloaded"


def test_caller_side_errors_are_ailib_errors():
    for cls in (E.ConfigurationError, E.ParameterError, E.UnsupportedError, E.ManifestError):
        assert issubclass(cls, AiLibError)
    assert issubclass(E.ParameterError, ValueError)


def test_no_error_class_shadows_a_builtin():
    """`from ailib.errors import *` must not replace TimeoutError, CancelledError, ... ."""
    import builtins

    shadowing = [name for name in E.__all__ if hasattr(builtins, name)]
    assert shadowing == []


def test_caller_side_errors_are_what_except_clauses_expect():
    assert issubclass(E.ConfigurationError, ValueError)
    assert issubclass(E.ParameterError, ValueError)
    assert issubclass(E.ClientClosedError, RuntimeError)
    assert issubclass(E.RequestTimeoutError, E.AiLibError) and not issubclass(E.RequestTimeoutError, TimeoutError)


def test_every_error_class_of_the_module_is_in_its_all():
    defined = {
        name
        for name, obj in vars(E).items()
        if isinstance(obj, type) and issubclass(obj, AiLibError) and obj.__module__ == E.__name__
    }
    assert len(defined) > 20
    assert defined <= set(E.__all__), sorted(defined - set(E.__all__))


def test_every_error_class_is_exported_from_the_package():
    import ailib

    classes = {name for name in E.__all__ if isinstance(getattr(E, name), type)}
    assert classes <= set(ailib.__all__), sorted(classes - set(ailib.__all__))
