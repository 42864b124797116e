"""Classify a provider failure (HTTP status + error body) into a standard error.

Order of evidence, most specific first: the provider's own error code or type when
the manifest maps it (``errors.classes``), then a code with a standard meaning
(:data:`~ailib.errors.STANDARD_CODES`, e.g. ``context_length_exceeded``), then the HTTP
status; where the status or type is ambiguous (400, ``invalid_request_error``, unknown) and
no error code decided, words of the provider's message
the manifest names (``errors.message_classes``, e.g. xAI's 400 "Incorrect API key"), then
standard words (:data:`~ailib.errors.STANDARD_MESSAGE_CLASSES`). A ``rate_limited`` that
came from the type or the status (Gemini's RESOURCE_EXHAUSTED, a bare 429) becomes
``quota_exhausted`` when the code or message speaks of quota or billing; one the
provider's own error code says (OpenAI's ``rate_limit_exceeded``, whose message also
mentions billing) stays ``rate_limited``: an explicit code beats words.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

from .errors import ERROR_CLASSES, STANDARD_CODES, STANDARD_MESSAGE_CLASSES, AiLibError, class_for_status
from .manifest import Manifest


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _status_in(code: str | None) -> int | None:
    """``code`` as an HTTP error status (``"502"`` -> 502), or None."""
    if code is not None and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    return None


def provider_error(
    manifest: Manifest,
    body: Any,
    status: int | None,
    *,
    raw_text: str | None = None,
    retry_after: float | None = None,
) -> AiLibError:
    """Build the typed error for ``body`` (parsed JSON, or None) and ``status``."""
    errors = manifest.errors
    message = _text(errors.message(body)) if body is not None else None
    ptype = _text(errors.type(body)) if body is not None else None
    pcode = _text(errors.code(body)) if body is not None else None
    if not message:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            message = body["error"]
        elif raw_text:
            snippet = " ".join(raw_text.split())[:200]
            message = f"non-JSON error body: {snippet}" if body is None else snippet
        else:
            message = "provider returned an error with no message"
    mapped = errors.classes
    by_code = mapped.get(pcode or "") or STANDARD_CODES.get(pcode or "")
    error_class = by_code or mapped.get(ptype or "") or STANDARD_CODES.get(ptype or "")
    if error_class is None:
        # An error inside a 200 stream: some providers carry the HTTP status the upstream
        # failed with as a numeric code (OpenRouter {"error": {"code": 502}}).
        judged = status if status is not None else _status_in(pcode)
        error_class = class_for_status(judged) if judged is not None else "server_error"
    if by_code is None and error_class in ("invalid_request", "unknown"):
        # An ambiguous status or type (a 400, Anthropic's invalid_request_error): the text may say more.
        words = message.lower()
        for table in (errors.message_classes, STANDARD_MESSAGE_CLASSES):
            named = next((c for text, c in table.items() if text.lower() in words), None)
            if named is not None:
                error_class = named
                break
    if error_class == "rate_limited" and by_code is None:
        haystack = " ".join(filter(None, (pcode, ptype, message))).lower()
        if any(marker.lower() in haystack for marker in errors.quota_markers):
            error_class = "quota_exhausted"
    cls = ERROR_CLASSES[error_class]
    return cls(
        message,
        provider=manifest.id,
        status_code=status,
        provider_code=pcode,
        provider_type=ptype,
        retry_after=retry_after,
        body=body,
    )
