"""AiClient.create: model ids, providers, keys, aliases, lifecycle."""

from __future__ import annotations

import httpx
import pytest

from ailib import AiClient
from ailib.client import split_model_id
from ailib.errors import AiLibError, ConfigurationError
from ailib.session import session_of

from .unit_support import PLANTED_KEY, Server, json_response

OK = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


def mock_http(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(server))


@pytest.mark.parametrize(
    ("model_id", "provider", "model"),
    [
        ("openai/gpt-4o", "openai", "gpt-4o"),
        ("openrouter/anthropic/claude-3.5-sonnet", "openrouter", "anthropic/claude-3.5-sonnet"),
        ("together/meta-llama/Llama-3.3-70B-Instruct-Turbo", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("gemini/gemini-2.0-flash", "gemini", "gemini-2.0-flash"),
    ],
)
def test_split_model_id(model_id, provider, model):
    assert split_model_id(model_id) == (provider, model)


@pytest.mark.parametrize(
    "bad", ["gpt-4o", "openai/", "/gpt-4o", "/", "", " openai/gpt-4o", "openai/gpt-4o ", "openai/  "]
)
async def test_malformed_model_ids(bad):
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create(bad, api_key="k")
    assert "provider/model" in str(info.value)


@pytest.mark.parametrize("bad", [None, 42, b"openai/gpt-4o", ("openai", "gpt-4o")])
async def test_non_string_model_ids(bad):
    with pytest.raises(ConfigurationError):
        await AiClient.create(bad, api_key="k")


@pytest.mark.parametrize("provider", ["nosuchprovider", "OPENAI", "..", "open ai", "openai.yaml"])
async def test_unknown_provider(provider):
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create(f"{provider}/some-model", api_key="k")
    assert repr(provider) in str(info.value)


async def test_unknown_provider_lists_the_known_ones():
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create("nosuchprovider/x", api_key="k")
    assert "openai" in str(info.value) and "anthropic" in str(info.value)


async def test_missing_key_names_the_env_var():
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create("openai/gpt-4o")
    assert "OPENAI_API_KEY" in str(info.value)
    assert info.value.provider == "openai"


@pytest.mark.parametrize(
    ("model", "env"),
    [
        ("anthropic/claude-3-5-sonnet-latest", "ANTHROPIC_API_KEY"),
        ("gemini/gemini-2.0-flash", "GEMINI_API_KEY"),
        ("cohere/command-r", "COHERE_API_KEY"),
    ],
)
async def test_missing_key_names_each_providers_env_var(model, env):
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create(model)
    assert env in str(info.value)


async def test_empty_key_counts_as_missing(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create("openai/gpt-4o", api_key="")
    assert "OPENAI_API_KEY" in str(info.value)


async def test_key_from_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    server = Server(json_response(200, OK))
    client = await AiClient.create("openai/gpt-4o", http_client=mock_http(server))
    await client.chat().user("Hi").execute()
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


async def test_explicit_key_beats_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    server = Server(json_response(200, OK))
    client = await AiClient.create("openai/gpt-4o", api_key="sk-explicit", http_client=mock_http(server))
    await client.chat().user("Hi").execute()
    assert server.requests[0].headers["authorization"] == "Bearer sk-explicit"


async def test_gemini_accepts_google_api_key_too(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "g-key")
    client = await AiClient.create("gemini/gemini-2.0-flash", http_client=mock_http(Server(json_response(200, {}))))
    assert client.chat().user("Hi").build().headers["x-goog-api-key"] == "g-key"


@pytest.mark.parametrize("factory", ["create", "new", "from_model"])
async def test_aliases(factory):
    server = Server(json_response(200, OK))
    client = await getattr(AiClient, factory)("openai/gpt-4o-mini", api_key="k", http_client=mock_http(server))
    assert isinstance(client, AiClient)
    assert (client.provider, client.model) == ("openai", "gpt-4o-mini")
    assert (await client.chat().user("Hi").execute()).content == "ok"


async def test_async_context_manager_closes_its_own_http_client():
    async with await AiClient.create("openai/gpt-4o", api_key="k") as client:
        assert isinstance(client, AiClient)
        http = session_of(client).transport.http
        assert not http.is_closed
    assert http.is_closed


async def test_a_callers_http_client_is_left_open():
    http = mock_http(Server(json_response(200, OK)))
    async with await AiClient.create("openai/gpt-4o", api_key="k", http_client=http) as client:
        await client.chat().user("Hi").execute()
    assert not http.is_closed
    await http.aclose()


async def test_aclose_is_safe_twice():
    client = await AiClient.create("openai/gpt-4o", api_key="k")
    await client.aclose()
    await client.aclose()


async def test_timeout_is_applied_to_requests():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return json_response(200, OK)

    client = await AiClient.create(
        "openai/gpt-4o", api_key="k", timeout=3.5, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    await client.chat().user("Hi").execute()
    assert seen == {"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}


async def test_repr_shows_provider_and_model_only():
    client = await AiClient.create("openai/gpt-4o", api_key=PLANTED_KEY)
    assert repr(client) == "AiClient(provider='openai', model='gpt-4o')"
    await client.aclose()


async def test_every_create_error_is_an_ailib_error():
    for args in (("bad",), ("nosuch/x",), ("openai/gpt-4o",)):
        with pytest.raises(AiLibError):
            await AiClient.create(*args)
