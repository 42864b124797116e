"""The one exception hierarchy of ailib, documented in one place.

Every failure a caller can see is an :class:`AiLibError`. Provider failures are
classified into the AI-Protocol standard error classes (``E1001`` ... ``E9999``),
each with its own subclass, so callers can ``except RateLimitedError`` or branch
on ``.retryable`` / ``.fallbackable`` without knowing the provider. Problems the
caller or a manifest caused (bad model id, missing key, unsupported parameter,
broken manifest) have their own subclasses and are raised before any request.

No message built here ever contains an API key: messages carry the provider's own
error text, the provider id, the status and what the caller should change.
"""

from __future__ import annotations

from typing import Any


class AiLibError(Exception):
    """Base class. Carries the classification and the provider's own message."""

    error_class: str = "unknown"
    code: str = "E9999"
    retryable: bool = False
    fallbackable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        provider_code: str | None = None,
        provider_type: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.provider_code = provider_code
        self.provider_type = provider_type
        self.retry_after = retry_after
        self.body = body

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"provider={self.provider}" if self.provider else "",
                f"status={self.status_code}" if self.status_code is not None else "",
                f"{self.error_class} {self.code}",
            )
            if part
        )
        return f"{self.message} ({where})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, provider={self.provider!r}, "
            f"status_code={self.status_code!r}, error_class={self.error_class!r}, code={self.code!r})"
        )


class InvalidRequestError(AiLibError):
    error_class, code = "invalid_request", "E1001"


class AuthenticationError(AiLibError):
    error_class, code, fallbackable = "authentication", "E1002", True


class PermissionDeniedError(AiLibError):
    error_class, code = "permission_denied", "E1003"


class NotFoundError(AiLibError):
    error_class, code = "not_found", "E1004"


class RequestTooLargeError(AiLibError):
    error_class, code = "request_too_large", "E1005"


class RateLimitedError(AiLibError):
    error_class, code, retryable, fallbackable = "rate_limited", "E2001", True, True


class QuotaExhaustedError(AiLibError):
    error_class, code, fallbackable = "quota_exhausted", "E2002", True


class ServerError(AiLibError):
    error_class, code, retryable, fallbackable = "server_error", "E3001", True, True


class OverloadedError(AiLibError):
    error_class, code, retryable, fallbackable = "overloaded", "E3002", True, True


class RequestTimeoutError(AiLibError):
    """No answer (or no stream event) within the time allowed. Named so that it does not
    shadow the builtin ``TimeoutError`` in a module that imports it (as httpx's
    ``TimeoutException``)."""

    error_class, code, retryable, fallbackable = "timeout", "E3003", True, True


class ConflictError(AiLibError):
    error_class, code, retryable = "conflict", "E4001", True


class RequestCancelledError(AiLibError):
    """The provider reports the request cancelled (AI-Protocol ``cancelled``); not the
    builtin ``asyncio.CancelledError``, which ailib never catches or replaces."""

    error_class, code = "cancelled", "E4002"


class UnknownError(AiLibError):
    error_class, code = "unknown", "E9999"


class StreamProtocolError(ServerError):
    """The provider's stream broke its own format: cut off mid-event, invalid JSON,
    or ended with neither a finish reason nor a done marker. Retryable, like the
    transient server failure it almost always is."""


class ResponseTooLargeError(ServerError):
    """A response body or one stream event is larger than the client's limit
    (``max_body_bytes`` / ``max_event_bytes`` of ``AiClient.create``). Not retried: the
    same request would bring the same answer."""

    retryable = False


class RedirectError(AiLibError):
    """The endpoint answered with a redirect the client does not follow: to another
    origin, from https to http, or a POST turned into a GET. The API key is sent only to
    the endpoint's own origin, so such a redirect is refused rather than followed."""

    error_class, code = "unknown", "E9999"


# --- errors raised before any request: the caller or a manifest is at fault ------


class ConfigurationError(AiLibError, ValueError):
    """Unknown provider, malformed model id, missing API key or URL variable, an argument of
    ``AiClient.create`` of the wrong type or out of range. A ``ValueError`` too, where an
    ``except ValueError`` around configuration code expects it."""

    error_class, code = "invalid_request", "E1001"


class ClientClosedError(AiLibError, RuntimeError):
    """The client (or the ``http_client`` it was given) was closed with ``aclose()``. A
    ``RuntimeError`` too, as httpx's own error for a closed client is."""

    error_class, code = "invalid_request", "E1001"


class ParameterError(AiLibError, ValueError):
    """A chat parameter has the wrong type or lies outside the provider's documented range."""

    error_class, code = "invalid_request", "E1001"


class UnsupportedError(AiLibError):
    """The provider does not offer this (no chat API, or a parameter it does not take).
    Raised before sending, with the manifest's reason."""

    error_class, code = "invalid_request", "E1001"


class OutputJSONError(AiLibError, ValueError):
    """Text the provider returned as JSON is not the JSON asked for: a structured-output answer
    (``.response_format()`` / ``.json_mode()``) that does not parse. ``.raw_text`` keeps it."""

    def __init__(self, message: str, *, raw_text: str, provider: str | None = None) -> None:
        super().__init__(message, provider=provider)
        self.raw_text = raw_text


class ToolArgumentsError(OutputJSONError):
    """A tool call's arguments are not a JSON object. Raised when ``ToolCall.arguments`` is
    read, never replaced by ``{}``: ``.raw_arguments`` keeps the provider's text as sent."""

    def __init__(self, message: str, *, raw_arguments: str, tool_name: str | None, provider: str | None = None) -> None:
        super().__init__(message, raw_text=raw_arguments, provider=provider)
        self.raw_arguments = raw_arguments
        self.tool_name = tool_name


#: Every character ``str.splitlines`` breaks a line at, mapped to its escape.
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


class ManifestError(AiLibError):
    """A manifest file is invalid. Names the file, the JSON path and the reason, on one line:
    a line break inside a key or a reason (a YAML error's own) is shown escaped."""

    error_class, code = "invalid_request", "E1001"

    def __init__(self, file: str, path: str, reason: str) -> None:
        file, path, reason = (str(part).translate(_LINE_BREAKS) for part in (file, path, reason))
        super().__init__(f"{file}: {path}: {reason}")
        self.file, self.path, self.reason = file, path, reason

    def __str__(self) -> str:
        return self.message


#: Standard error classes by name, from the AI-Protocol table.
ERROR_CLASSES: dict[str, type[AiLibError]] = {
    cls.error_class: cls
    for cls in (
        InvalidRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RequestTooLargeError,
        RateLimitedError,
        QuotaExhaustedError,
        ServerError,
        OverloadedError,
        RequestTimeoutError,
        ConflictError,
        RequestCancelledError,
        UnknownError,
    )
}

#: HTTP status -> standard class, where the status alone decides. 402 Payment Required is
#: how DeepSeek, Cerebras and the Hugging Face router say the balance is exhausted.
STATUS_CLASSES: dict[int, str] = {
    400: "invalid_request",
    401: "authentication",
    402: "quota_exhausted",
    403: "permission_denied",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    413: "request_too_large",
    422: "invalid_request",
    429: "rate_limited",
    500: "server_error",
    502: "server_error",
    503: "overloaded",
    504: "timeout",
    529: "overloaded",
}


#: Provider error codes whose meaning is the same wherever they appear, checked after a
#: manifest's own ``errors.classes``. A context-length error is ``request_too_large``
#: (E1005), so a caller can catch it and trim the conversation.
#: - ``context_length_exceeded``: OpenAI's code (AI-Protocol v2 providers/openai.yaml
#:   ``by_error_code``); also OpenRouter's canonical ``ApiErrorType``
#:   (specs/openrouter/in.openapi.yaml, ApiErrorType), with ``token_limit_exceeded``.
STANDARD_CODES: dict[str, str] = {
    "context_length_exceeded": "request_too_large",
    "token_limit_exceeded": "request_too_large",
}

#: Words of a provider message that name the class where the status is ambiguous (a 400
#: without a code this client knows), checked after a manifest's ``errors.message_classes``.
#: - "maximum context length": OpenAI-compatible servers ("This model's maximum context
#:   length is 4097 tokens", e.g. github.com/AstrBotDevs/AstrBot/issues/1).
#: - "prompt is too long": Anthropic's 400 invalid_request_error ("prompt is too long:
#:   208656 tokens > 200000 maximum", github.com/anthropics/claude-code/issues/59696).
#: - "exceeds the maximum number of tokens allowed": Gemini's 400 INVALID_ARGUMENT ("The
#:   input token count (3475108) exceeds ...", github.com/google-gemini/gemini-cli/issues/4231).
STANDARD_MESSAGE_CLASSES: dict[str, str] = {
    "maximum context length": "request_too_large",
    "prompt is too long": "request_too_large",
    "exceeds the maximum number of tokens allowed": "request_too_large",
}


def class_for_status(status: int) -> str:
    """The standard class for an HTTP status (other 5xx are server errors)."""
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    return "server_error" if 500 <= status < 600 else "unknown"


# Written out (type checkers read a literal list); tests/unit/test_errors.py checks that
# every error class of this module is in it.
__all__ = [
    "ERROR_CLASSES",
    "STANDARD_CODES",
    "STANDARD_MESSAGE_CLASSES",
    "STATUS_CLASSES",
    "AiLibError",
    "AuthenticationError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "InvalidRequestError",
    "ManifestError",
    "NotFoundError",
    "OutputJSONError",
    "OverloadedError",
    "ParameterError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RedirectError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "ResponseTooLargeError",
    "ServerError",
    "StreamProtocolError",
    "ToolArgumentsError",
    "UnknownError",
    "UnsupportedError",
    "class_for_status",
]
