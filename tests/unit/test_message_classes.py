"""Where a provider answers with an ambiguous status, the manifest may name words of its
message that decide the class (errors.message_classes); the status still wins otherwise."""

from __future__ import annotations

import httpx
import pytest

from ailib import AiClient
from ailib.errors import AiLibError, AuthenticationError, InvalidRequestError


async def _error(status: int, body: dict) -> Exception:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body)))
    client = await AiClient.create("xai/grok-3", api_key="xai-test", http_client=http, max_retries=0)
    with pytest.raises(AiLibError) as caught:
        await client.chat().user("Hello").execute()
    return caught.value


async def test_xai_bad_key_on_a_400_is_authentication() -> None:
    # xAI's answer to a wrong key: HTTP 400, {"code": ..., "error": "Incorrect API key provided: ..."}
    error = await _error(
        400,
        {
            "code": "Client specified an invalid argument",
            "error": "Incorrect API key provided: xa***st. You can obtain an API key from https://console.x.ai.",
        },
    )
    assert isinstance(error, AuthenticationError)
    assert (error.status_code, error.code, error.fallbackable) == (400, "E1002", True)
    assert "Incorrect API key provided" in str(error)


async def test_other_400s_stay_invalid_request() -> None:
    error = await _error(
        400, {"code": "Client specified an invalid argument", "error": "temperature must be at most 2"}
    )
    assert isinstance(error, InvalidRequestError)


async def test_message_words_do_not_override_a_clear_status() -> None:
    error = await _error(500, {"error": "Incorrect API key cache exploded"})
    assert error.error_class == "server_error"
