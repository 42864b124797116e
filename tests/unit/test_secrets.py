"""The API key never appears in a message, a repr, or a log line."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import httpx
import pytest
import yaml

from ailib import AiClient, AiLibError, RetryPolicy
from ailib.errors import ConfigurationError
from ailib.session import session_of

from .unit_support import PLANTED_KEY, Server, collect, data_event, json_response, sse_body, sse_response

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"

OPENAI_OK = {
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
OPENAI_STREAM = sse_body(
    [data_event({"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}), "data: [DONE]"]
)


def leaks(*texts: str, key: str = PLANTED_KEY) -> list[str]:
    """The texts that contain the key (or a long part of it)."""
    needles = {key, key[4:], key[-16:]}
    return [t for t in texts if any(n in t for n in needles)]


def exception_texts(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error)), str(getattr(error, "message", ""))]


async def no_sleep(_: float) -> None:
    return None


async def client_for(model: str, answers, key: str = PLANTED_KEY, **kwargs) -> tuple[AiClient, Server]:
    server = Server(answers)
    client = await AiClient.create(
        model, api_key=key, http_client=httpx.AsyncClient(transport=httpx.MockTransport(server)), **kwargs
    )
    client.retry_policy = RetryPolicy(max_retries=2, sleep=no_sleep, random=lambda: 1.0)
    return client, server


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("ailib", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


async def test_no_key_in_logs_reprs_or_errors_across_a_session(debug_logs):
    texts: list[str] = []
    errors: list[BaseException] = []

    async def expect_error(awaitable) -> None:
        try:
            await awaitable
        except AiLibError as error:
            errors.append(error)
        else:  # pragma: no cover - each call below is meant to fail
            pytest.fail("expected an AiLibError")

    # success, streaming, retries, classified errors, timeouts, bad parameters
    client, _server = await client_for(
        "openai/gpt-4o",
        [
            json_response(500, {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}}),
            json_response(200, OPENAI_OK),
        ],
    )
    await client.chat().user("Hi").execute()
    texts += [
        repr(client),
        str(client),
        repr(client.retry_policy),
        repr(client.manifest),
        repr(session_of(client)),
        repr(session_of(client).transport),
        repr(session_of(client).codec),
    ]
    request = client.chat().user("Hi").build()
    texts += [repr(request), str(request.url)]

    client, _ = await client_for("openai/gpt-4o", sse_response(OPENAI_STREAM))
    stream = client.chat().user("Hi").stream()
    await collect(stream)
    texts.append(repr(stream.stats))

    for status, body in [
        (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        ),
        (
            429,
            {
                "error": {
                    "message": "Rate limit reached",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        (502, "<html><body>502 Bad Gateway</body></html>"),
    ]:
        answer = httpx.Response(status, text=body) if isinstance(body, str) else json_response(status, body)
        client, _ = await client_for("openai/gpt-4o", answer)
        await expect_error(client.chat().user("Hi").execute())

    client, _ = await client_for("anthropic/claude-3-5-sonnet-latest", [httpx.ReadTimeout("timed out")])
    await expect_error(client.chat().user("Hi").execute())
    client, _ = await client_for("gemini/gemini-2.0-flash", [httpx.ConnectError("connection refused")])
    await expect_error(client.chat().user("Hi").execute())
    client, _ = await client_for("cohere/command-r", json_response(200, {}))
    await expect_error(client.chat().user("Hi").temperature(5).execute())
    await expect_error(AiClient.create("openai/gpt-4o"))  # missing key

    assert len(errors) == 7
    for error in errors:
        texts += exception_texts(error)
    texts += [record.getMessage() for record in debug_logs.records]
    texts.append(debug_logs.text)
    assert any("api.openai.com" in t for t in texts), "the log capture saw the requests"
    assert leaks(*texts) == []


async def test_provider_echoing_the_key_is_redacted(debug_logs):
    body = {
        "error": {
            "message": f"Incorrect API key provided: {PLANTED_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    client, _ = await client_for("openai/gpt-4o", json_response(401, body))
    with pytest.raises(AiLibError) as info:
        await client.chat().user("Hi").execute()
    assert info.value.error_class == "authentication"
    assert "Incorrect API key provided" in str(info.value)
    assert leaks(*exception_texts(info.value), repr(info.value.body), debug_logs.text) == []


async def test_provider_echoing_the_key_in_a_non_json_body_is_redacted():
    client, _ = await client_for("cohere/command-r", httpx.Response(401, text=f"<html>bad token {PLANTED_KEY}</html>"))
    with pytest.raises(AiLibError) as info:
        await client.chat().user("Hi").execute()
    assert "bad token" in str(info.value)
    assert leaks(*exception_texts(info.value)) == []


@pytest.mark.parametrize(
    "bad_key",
    [
        PLANTED_KEY + "\u2019",  # a smart quote pasted with the key
        PLANTED_KEY + "\u200b",  # zero-width space
        "\u00a0" + PLANTED_KEY,
        PLANTED_KEY + "\n",  # read from a file with its newline
        PLANTED_KEY[:10] + "\r\nX-Injected: 1",
    ],
)
async def test_key_that_cannot_be_a_header_value_fails_cleanly(bad_key):
    with pytest.raises(ConfigurationError) as caught:
        client, _server = await client_for("openai/gpt-4o", json_response(200, OPENAI_OK), key=bad_key)
        await client.chat().user("Hi").execute()
    assert leaks(*exception_texts(caught.value), key=bad_key.strip()) == []
    assert "OPENAI_API_KEY" in str(caught.value) or "api_key" in str(caught.value)


async def test_key_from_env_that_cannot_be_a_header_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED_KEY + "\u2019")
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create("openai/gpt-4o")
    assert "OPENAI_API_KEY" in str(info.value)
    assert leaks(*exception_texts(info.value)) == []


async def test_key_in_a_url_query_stays_out_of_logs(tmp_path, debug_logs):
    """A manifest may place the key in the query (Gemini's `key=`): httpx logs URLs."""
    data = yaml.safe_load((MANIFESTS / "gemini.yaml").read_text(encoding="utf-8"))
    data["id"] = "gemquery"
    data["auth"].update(placement="query", name="key")
    (tmp_path / "gemquery.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    reply = {"candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"}, "finishReason": "STOP"}]}
    client, server = await client_for("gemquery/gemini-2.0-flash", json_response(200, reply), manifests_dir=tmp_path)
    assert (await client.chat().user("Hi").execute()).content == "ok"
    assert server.requests[0].url.params["key"] == PLANTED_KEY  # it is sent where the manifest says
    assert any("generateContent" in r.getMessage() for r in debug_logs.records)
    assert leaks(*(r.getMessage() for r in debug_logs.records), debug_logs.text) == []
