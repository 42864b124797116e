"""Every failure a caller sees is an ``AiLibError`` naming the provider: broken bodies,
bodies that do not decode, a closed client, wrong argument types, and 200 answers that
are not answers (an error object, nothing at all, ``{}``, ``[]``, ``null``)."""

from __future__ import annotations

import math

import httpx
import pytest

from ailib import AiClient, Message
from ailib.errors import (
    AiLibError,
    ClientClosedError,
    ConfigurationError,
    ParameterError,
    StreamProtocolError,
)

from .faults_support import OPENAI_FINISH, SSE_HEADERS, Exchange, Loopback, openai_delta

KEY = "sk-typed-failures-0123456789abcdef"


async def client_at(url: str, model: str = "openai/gpt-4o", **kwargs) -> AiClient:
    kwargs.setdefault("timeout", 5.0)
    return await AiClient.create(model, api_key=KEY, base_url=url, max_retries=0, **kwargs)


async def call_error(client: AiClient, call: str) -> BaseException:
    """The exception ``execute()`` or reading a ``stream()`` to its end raises."""
    try:
        if call == "execute":
            await client.chat().user("Hi").execute()
        else:
            async for _ in client.chat().user("Hi").stream():
                pass
    except Exception as exc:  # any exception: the tests check its type
        return exc
    finally:
        await client.aclose()
    pytest.fail(f"{call}() did not fail")


def assert_typed(error: BaseException, provider: str = "openai") -> None:
    assert isinstance(error, AiLibError), f"{type(error).__name__}: {error}"
    assert error.provider == provider


# --- transport failures in the middle of a body ----------------------------------------


async def test_connection_closed_mid_body_of_execute():
    async def short_body(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, {"content-type": "application/json", "content-length": "500"})
        await exchange.send(b'{"choices": [{"message": {"content": "hel')  # then the connection closes

    async with Loopback(short_body) as server:
        client = await client_at(server.url + "/v1")
        with pytest.raises(StreamProtocolError) as info:
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert_typed(info.value)
    assert "RemoteProtocolError" in str(info.value)


@pytest.mark.parametrize("call", ["execute", "stream"])
async def test_gzip_that_does_not_decode(call):
    async def bad_gzip(exchange: Exchange) -> None:
        await exchange.read_request()
        ctype = "application/json" if call == "execute" else "text/event-stream"
        await exchange.respond(200, b"\x1f\x8b\x08\x00 this is not gzip at all", ctype, {"content-encoding": "gzip"})

    async with Loopback(bad_gzip) as server:
        error = await call_error(await client_at(server.url + "/v1"), call)
    assert_typed(error)
    assert "decode" in str(error)


async def test_use_after_aclose():
    client = await AiClient.create("openai/gpt-4o", api_key=KEY, max_retries=0)
    await client.aclose()
    with pytest.raises(ClientClosedError) as info:
        await client.chat().user("Hi").execute()
    assert_typed(info.value)
    with pytest.raises(ClientClosedError):
        async for _ in client.chat().user("Hi").stream():
            pass


async def test_a_closed_caller_http_client():
    http = httpx.AsyncClient()
    client = await AiClient.create("anthropic/claude-3-5-sonnet-latest", api_key=KEY, http_client=http)
    await http.aclose()
    with pytest.raises(ClientClosedError) as info:
        await client.chat().user("Hi").execute()
    assert_typed(info.value, "anthropic")


# --- wrong argument types, refused before any request -----------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"api_key": 12345}, "api_key"),
        ({"api_key": b"sk-bytes"}, "api_key"),
        ({"base_url": 8080}, "base_url"),
        ({"base_url": httpx.URL("https://x.example")}, "base_url"),
        ({"timeout": "3"}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"http_client": "client"}, "http_client"),
        ({"idle_timeout": -2}, "idle_timeout"),
        ({"max_event_size": 0}, "max_event_size"),
        ({"max_body_bytes": "1MB"}, "max_body_bytes"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"manifests_dir": 3}, "manifests_dir"),
        ({"fast": "yes"}, "fast"),
    ],
)
async def test_bad_create_arguments(kwargs, needle):
    kwargs.setdefault("api_key", KEY)
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create("openai/gpt-4o", **kwargs)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.messages(None),
        lambda b: b.messages("Hello"),
        lambda b: b.messages([{"role": "user", "content": "Hi"}]),
        lambda b: b.messages([Message.user(None)]),  # type: ignore[arg-type]
        lambda b: b.user(None),
        lambda b: b.system(42),
        lambda b: b.assistant(["a"]),
        lambda b: b.temperature("0.5"),
        lambda b: b.top_p(math.nan),
        lambda b: b.max_tokens(10.0),
        lambda b: b.stop(5),
    ],
)
async def test_bad_builder_arguments_are_refused_at_the_call(call):
    seen: list[httpx.Request] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(500)))
    client = await AiClient.create("openai/gpt-4o", api_key=KEY, http_client=http)
    builder = client.chat()
    with pytest.raises(ParameterError):
        call(builder)  # the builder call itself, not a later execute()
    assert seen == []


# --- 200 answers that are not answers -----------------------------------------------------

#: provider -> (model, an error object in its documented shape with the message "Overloaded now")
ERROR_OBJECTS = {
    "openai": ("openai/gpt-4o", {"error": {"message": "Overloaded now", "type": "server_error", "code": None}}),
    "anthropic": (
        "anthropic/claude-3-5-sonnet-latest",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded now"}},
    ),
    "gemini": (
        "gemini/gemini-2.0-flash",
        {"error": {"code": 503, "message": "Overloaded now", "status": "UNAVAILABLE"}},
    ),
    "cohere": ("cohere/command-r", {"message": "Overloaded now"}),
    "deepseek": ("deepseek/deepseek-chat", {"error": "Overloaded now"}),
}


@pytest.mark.parametrize("provider", sorted(ERROR_OBJECTS))
@pytest.mark.parametrize("call", ["execute", "stream"])
async def test_a_200_error_object_is_an_error_with_the_providers_message(provider, call):
    model, body = ERROR_OBJECTS[provider]

    async def answer(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.respond(200, body)

    async with Loopback(answer) as server:
        error = await call_error(await client_at(server.url + "/v1", model), call)
    assert_typed(error, provider)
    assert "Overloaded now" in error.message


@pytest.mark.parametrize("body", [b"{}", b"[]", b"null", b'"text"', b"42", b'{"id": "x", "object": "chat.completion"}'])
@pytest.mark.parametrize("model", ["openai/gpt-4o", "anthropic/claude-3-5-sonnet-latest", "gemini/gemini-2.0-flash"])
async def test_an_empty_200_answer_is_an_error_not_an_empty_response(model, body):
    async def answer(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.respond(200, body, "application/json")

    async with Loopback(answer) as server:
        client = await client_at(server.url + "/v1", model)
        with pytest.raises(StreamProtocolError) as info:
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert_typed(info.value, model.split("/")[0])


async def test_a_real_answer_with_empty_content_still_passes():
    """An empty string with a finish reason is an answer (e.g. max_tokens spent on reasoning)."""

    async def answer(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.respond(
            200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "length"}]}
        )

    async with Loopback(answer) as server:
        client = await client_at(server.url + "/v1")
        response = await client.chat().user("Hi").execute()
        await client.aclose()
    assert (response.content, response.finish_reason) == ("", "length")


async def test_a_stream_still_works_after_these_checks():
    async def stream(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("Hi") + OPENAI_FINISH)

    async with Loopback(stream) as server:
        client = await client_at(server.url + "/v1")
        text = "".join([e.as_content_delta.text async for e in client.chat().user("Hi").stream() if e.is_content_delta])
        await client.aclose()
    assert text == "Hi"
