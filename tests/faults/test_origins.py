"""The API key goes to the endpoint's origin and nowhere else.

Two loopback servers on different ports are two origins (RFC 6454: scheme, host, port).
The first answers with a redirect (or, for Replicate, a ``urls.stream``) naming the
second; the second records whatever reaches it. httpx itself strips only
``Authorization`` on a cross-origin redirect, so a caller's own
``httpx.AsyncClient(follow_redirects=True)`` would forward ``x-api-key``,
``x-goog-api-key`` and ``api-key``; the client must not let it.
"""

from __future__ import annotations

import httpx
import pytest

from ailib import AiClient
from ailib.errors import AiLibError, RedirectError

from .faults_support import SSE_HEADERS, Exchange, Loopback, sse

KEY = "sk-origins-0123456789abcdefABCDEF"

#: provider -> (model, path prefix of base_url, the header the key travels in)
PROVIDERS = {
    "openai": ("openai/gpt-4o", "/v1", "authorization"),
    "anthropic": ("anthropic/claude-3-5-sonnet-latest", "/v1", "x-api-key"),
    "gemini": ("gemini/gemini-2.0-flash", "/v1beta", "x-goog-api-key"),
    "azure": ("azure/my-deployment", "/openai/deployments/my-deployment", "api-key"),
}

OPENAI_OK = {
    "id": "c1",
    "object": "chat.completion",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}


def answer_for(provider: str) -> dict:
    if provider == "anthropic":
        return {
            "type": "message",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    if provider == "gemini":
        return {"candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"}, "finishReason": "STOP"}]}
    return OPENAI_OK


def redirecting(target: str, status: int = 307):
    async def handler(exchange: Exchange) -> None:
        request = await exchange.read_request()
        await exchange.respond(status, b"", headers={"location": target + request.target})

    return handler


async def record(exchange: Exchange) -> None:
    await exchange.read_request()
    await exchange.respond(200, OPENAI_OK)


@pytest.fixture(autouse=True)
def _azure_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", "myresource")


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_cross_origin_redirect_is_refused_even_by_a_following_http_client(provider, status):
    model, prefix, header = PROVIDERS[provider]
    async with Loopback(record) as elsewhere, Loopback(redirecting(elsewhere.url, status)) as endpoint:
        http = httpx.AsyncClient(follow_redirects=True, timeout=5)
        client = await AiClient.create(
            model, api_key=KEY, base_url=endpoint.url + prefix, http_client=http, max_retries=0
        )
        with pytest.raises(RedirectError) as info:
            await client.chat().user("Hi").execute()
        await http.aclose()
    assert endpoint.requests[0].headers[header].endswith(KEY)  # the endpoint itself did get the key
    assert elsewhere.requests == []  # nothing at all reached the other origin
    assert info.value.provider == provider and info.value.status_code == status
    assert "127.0.0.1" in str(info.value) and KEY not in str(info.value)
    assert isinstance(info.value, AiLibError) and info.value.error_class == "unknown"


async def test_redirect_from_https_to_http_of_the_same_host_is_refused():
    """A downgrade to plain http is another origin (scheme), even for the same host."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(308, headers={"location": "http://api.openai.com/v1/chat/completions"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
    client = await AiClient.create("openai/gpt-4o", api_key=KEY, http_client=http, max_retries=0)
    with pytest.raises(RedirectError) as info:
        await client.chat().user("Hi").execute()
    assert [str(r.url) for r in seen] == ["https://api.openai.com/v1/chat/completions"]
    assert "http://api.openai.com" in str(info.value)


async def test_same_origin_307_is_followed_with_the_key_and_the_body():
    async def handler(exchange: Exchange) -> None:
        request = await exchange.read_request()
        if request.path.endswith("/chat/completions"):
            await exchange.respond(307, b"", headers={"location": "/v2/moved"})
        else:
            await exchange.respond(200, OPENAI_OK)

    async with Loopback(handler) as server:
        client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=server.url + "/v1", max_retries=0)
        response = await client.chat().user("Hi").execute()
        await client.aclose()
    assert response.content == "ok"
    first, second = server.requests
    assert (second.method, second.path) == ("POST", "/v2/moved")
    assert second.headers["authorization"] == "Bearer " + KEY
    assert second.json() == first.json()


async def test_same_origin_302_of_a_post_is_refused_not_turned_into_a_get():
    async def handler(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.respond(302, b"", headers={"location": "/elsewhere"})

    async with Loopback(handler) as server:
        client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=server.url + "/v1", max_retries=0)
        with pytest.raises(RedirectError, match="302"):
            await client.chat().user("Hi").execute()
        await client.aclose()
    assert len(server.requests) == 1


async def test_a_redirect_body_is_never_read_as_an_answer():
    """A 3xx carrying a perfectly good answer body is still a redirect, not an answer."""

    async def handler(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.respond(300, OPENAI_OK)  # no Location at all

    async with Loopback(handler) as server:
        client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=server.url + "/v1", max_retries=0)
        with pytest.raises(RedirectError, match="300"):
            await client.chat().user("Hi").execute()
        with pytest.raises(RedirectError):
            async for _ in client.chat().user("Hi").stream():
                pass
        await client.aclose()


# --- Replicate: the create call names the URL the output streams from -----------------

REPLICATE = "replicate/meta/meta-llama-3-8b-instruct"


def replicate_creating(stream_url: str):
    async def handler(exchange: Exchange) -> None:
        request = await exchange.read_request()
        if request.method == "POST":
            body = {"id": "p1", "status": "starting", "urls": {"stream": stream_url.replace("{self}", "")}}
            await exchange.respond(201, body)
        else:
            await exchange.head(200, SSE_HEADERS)
            await exchange.send(sse("Hello", "output") + sse("{}", "done"))

    return handler


async def test_replicate_stream_url_on_another_origin_is_refused():
    async def streams(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(sse("stolen", "output") + sse("{}", "done"))

    async with Loopback(streams) as elsewhere, Loopback(replicate_creating(elsewhere.url + "/v1/files/p1")) as endpoint:
        client = await AiClient.create(REPLICATE, api_key=KEY, base_url=endpoint.url + "/v1", max_retries=0)
        with pytest.raises(RedirectError) as info:
            async for _ in client.chat().user("Hi").stream():
                pass
        await client.aclose()
    assert elsewhere.requests == []
    assert "urls.stream" in str(info.value) and info.value.provider == "replicate"


async def test_replicate_stream_url_on_the_endpoint_origin_is_followed():
    async with Loopback(replicate_creating("")) as endpoint:
        endpoint.handler = replicate_creating(endpoint.url + "/v1/files/p1")
        client = await AiClient.create(REPLICATE, api_key=KEY, base_url=endpoint.url + "/v1", max_retries=0)
        text = "".join([e.as_content_delta.text async for e in client.chat().user("Hi").stream() if e.is_content_delta])
        await client.aclose()
    assert text == "Hello"
    assert [(r.method, r.path) for r in endpoint.requests] == [
        ("POST", "/v1/models/meta/meta-llama-3-8b-instruct/predictions"),
        ("GET", "/v1/files/p1"),
    ]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        # hosts Replicate documents or was seen using for urls.stream, over https
        ("https://stream.replicate.com/v1/files/abc", True),
        ("https://streaming.api.replicate.com/v1/predictions/abc", True),
        ("https://streaming-api.svc.us.c.replicate.net/v1/streams/abc", True),
        # plain http, a look-alike domain, another host altogether
        ("http://stream.replicate.com/v1/files/abc", False),
        ("https://replicate.com.attacker.example/v1/files/abc", False),
        ("https://evilreplicate.com/v1/files/abc", False),
        ("https://attacker.example/v1/files/abc", False),
        ("https://api.replicate.com:8443/v1/files/abc", False),
    ],
)
async def test_replicate_stream_hosts(url, allowed):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.method == "POST":
            return httpx.Response(201, json={"id": "p1", "status": "starting", "urls": {"stream": url}})
        return httpx.Response(200, headers=SSE_HEADERS, content=sse("Hi", "output") + sse("{}", "done"))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
    client = await AiClient.create(REPLICATE, api_key=KEY, http_client=http, max_retries=0)
    if allowed:
        events = [e async for e in client.chat().user("Hi").stream()]
        assert [e.as_content_delta.text for e in events if e.is_content_delta] == ["Hi"]
        assert seen[1] == url
    else:
        with pytest.raises(RedirectError):
            async for _ in client.chat().user("Hi").stream():
                pass
        assert len(seen) == 1  # only the create call went out
