"""The model id and URL variables cannot change where a request goes.

A model name is placed in URL paths (Gemini ``/models/{model}:generateContent``, Replicate
``/models/{owner}/{name}/predictions``, Azure ``/deployments/{model}``) and, for Lepton, in
the host (``https://{model}.lepton.run``); Azure's ``{resource}`` comes from the
environment. Dot segments would be resolved away by httpx (RFC 3986 5.2.4) and a ``#``,
``/``, ``@`` or ``.`` in a host part would pick another host: all are refused, or encoded
into their own segment, before anything is sent.
"""

from __future__ import annotations

import httpx
import pytest

from ailib import AiClient
from ailib.errors import ConfigurationError

KEY = "sk-url-building-0123456789abcdef"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", "myresource")


@pytest.mark.parametrize(
    "model",
    [
        "gemini/../../x",
        "gemini/..",
        "gemini/.",
        "gemini/a/../../../admin",
        "replicate/meta/../../../admin",
        "replicate/meta/./llama",
        "replicate/meta//llama",
        "openai//x",
        "openrouter/anthropic/",
        "azure/../../x",
        "lepton/../x",
    ],
)
async def test_dot_and_empty_segments_are_refused_at_create(model):
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create(model, api_key=KEY)
    assert "segment" in str(info.value)


@pytest.mark.parametrize(
    ("model", "path"),
    [
        # percent-encoded dots stay literal text inside the segment
        ("gemini/%2e%2e", "/v1beta/models/%252e%252e:generateContent"),
        ("gemini/x?alt=json#y", "/v1beta/models/x%3Falt%3Djson%23y:generateContent"),
        # Azure: the deployment is one segment, a '/' in it is encoded
        ("azure/a/b", "/openai/deployments/a%2Fb/chat/completions"),
        # Replicate documents owner/name as two segments
        ("replicate/meta/meta-llama-3-8b-instruct", "/v1/models/meta/meta-llama-3-8b-instruct/predictions"),
        ("gemini/gemini-1.5-pro..x", "/v1beta/models/gemini-1.5-pro..x:generateContent"),
    ],
)
async def test_model_names_stay_inside_their_path(model, path):
    client = await AiClient.create(model, api_key=KEY)
    request = client.chat().user("Hi").build()
    await client.aclose()
    assert request.url.raw_path.decode().split("?")[0] == path
    assert request.url.host in ("generativelanguage.googleapis.com", "myresource.openai.azure.com", "api.replicate.com")


@pytest.mark.parametrize(
    "model",
    ["lepton/evil.example#", "lepton/evil.example", "lepton/a@b", "lepton/a:80", "lepton/-x", "lepton/" + "a" * 64],
)
async def test_a_model_that_goes_into_the_host_must_be_one_dns_label(model):
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create(model, api_key=KEY)
    assert "DNS label" in str(info.value) and "{model}" in str(info.value)


async def test_a_valid_label_model_picks_its_subdomain():
    client = await AiClient.create("lepton/my-endpoint", api_key=KEY)
    request = client.chat().user("Hi").build()
    await client.aclose()
    assert request.url.host == "my-endpoint.lepton.run"


@pytest.mark.parametrize(
    "resource",
    ["evil.example#", "evil.example/x", "a.b", "x@attacker.example", "res:443", "re source", "ré"],
)
async def test_an_env_url_variable_in_the_host_is_validated(monkeypatch, resource):
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", resource)
    with pytest.raises(ConfigurationError) as info:
        await AiClient.create("azure/my-deployment", api_key=KEY)
    assert "$AZURE_OPENAI_RESOURCE" in str(info.value)


async def test_the_host_is_the_resource_for_a_valid_one():
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = await AiClient.create("azure/my-deployment", api_key=KEY, http_client=http)
    await client.chat().user("Hi").execute()
    assert seen[0].host == "myresource.openai.azure.com"
    assert seen[0].path == "/openai/deployments/my-deployment/chat/completions"
