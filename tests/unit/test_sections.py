"""Manifest sections compile once, at load, into typed values that cannot change afterwards.

The expected values are the manifests' own text (``manifests/*.yaml``), written out here.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml

from ailib import ManifestError, UnsupportedError
from ailib import manifest as manifests
from ailib.codecs import CODECS
from ailib.sections import Auth, Endpoint, StreamSpec, UrlVariable

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def _data(provider: str) -> dict:
    return yaml.safe_load((MANIFESTS / f"{provider}.yaml").read_text(encoding="utf-8"))


def test_endpoint_auth_and_query_of_a_manifest_with_url_variables():
    m = manifests.load("azure")
    assert m.endpoint == Endpoint(
        base_url="https://{resource}.openai.azure.com/openai/deployments/{model}",
        chat_path="/chat/completions",
        stream_path="/chat/completions",  # no stream_path: streams go to the chat path
        query={"api-version": "2024-10-21"},
        stream_query={"api-version": "2024-10-21"},
        variables={
            "resource": UrlVariable(
                "resource",
                "AZURE_OPENAI_RESOURCE",
                "Azure OpenAI resource name (the {resource} in https://{resource}.openai.azure.com)",
            )
        },
    )
    assert m.auth is not None
    assert (m.auth.env, m.auth.alt_env, m.auth.placement) == ("AZURE_OPENAI_API_KEY", ("AZURE_OPENAI_KEY",), "header")
    assert m.env_vars() == ["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY", "AZURE_API_KEY"]  # then <PROVIDER>_API_KEY


def test_a_stream_path_and_stream_query_apply_to_streams_only():
    endpoint = manifests.load("gemini").endpoint
    assert endpoint is not None
    assert (endpoint.chat_path, endpoint.stream_path) == (
        "/models/{model}:generateContent",
        "/models/{model}:streamGenerateContent",
    )
    assert (dict(endpoint.query), dict(endpoint.stream_query)) == ({}, {"alt": "sse"})
    auth = manifests.load("gemini").auth
    assert auth == Auth("GEMINI_API_KEY", "header", "x-goog-api-key", "", ("GOOGLE_API_KEY",))


def test_auth_placement_is_a_header_or_a_query_parameter():
    section = {"env": "P_KEY", "placement": "cookie", "name": "key"}
    with pytest.raises(ValueError, match="cookie"):
        Auth.compile(section)
    assert Auth.compile({**section, "placement": "query"}).placement == "query"


def test_stream_section_of_a_two_step_stream():
    stream = manifests.load("replicate").stream
    assert isinstance(stream, StreamSpec)
    assert (stream.mode, stream.start_url, stream.follow_domains) == (
        "sse",
        "urls.stream",
        ("replicate.com", "replicate.net"),
    )
    assert stream.read_start_url is not None
    assert stream.read_start_url({"urls": {"stream": "https://stream.replicate.com/v1/x"}}) == (
        "https://stream.replicate.com/v1/x"
    )
    assert stream.read_start_url({"urls": {}}) is None


@pytest.mark.parametrize(
    ("event_type", "mode"), [("sse", "sse"), ("none", "none"), ("field:type", "field"), (None, "none")]
)
def test_stream_mode_follows_event_type(event_type, mode):
    data = _data("openai")
    if event_type is None:
        data["stream"].pop("event_type", None)
    else:
        data["stream"]["event_type"] = event_type
    stream = manifests.parse_manifest(data, "openai.yaml").stream
    assert stream.mode == mode
    assert (stream.route_key is None) == (mode == "none")


def test_sections_cannot_be_changed_after_load():
    m = manifests.load("openai")
    assert m.endpoint is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.endpoint.base_url = "https://elsewhere.example"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.request = m.request  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.request.parameters["temperature"] = m.request.parameters["top_p"]  # type: ignore[index]
    with pytest.raises(TypeError):
        m.finish_reasons["stop"] = "length"  # type: ignore[index]


def test_sections_are_copies_not_views_of_the_raw_data():
    data = _data("gemini")
    m = manifests.parse_manifest(copy.deepcopy(data), "gemini.yaml")
    m.data["endpoint"]["stream_query"]["alt"] = "json"
    m.data["finish_reasons"]["STOP"] = "length"
    m.data["request"]["parameters"].pop("temperature")
    assert m.endpoint is not None and m.endpoint.stream_query["alt"] == "sse"
    assert m.finish_reasons["STOP"] == "stop"
    assert "temperature" in m.request.parameters


def test_errors_and_tools_sections():
    m = manifests.load("openai")
    body = {"error": {"message": "bad key", "type": "invalid_request_error", "code": "invalid_api_key"}}
    assert (m.errors.message(body), m.errors.type(body), m.errors.code(body)) == (
        "bad key",
        "invalid_request_error",
        "invalid_api_key",
    )
    assert m.tools.choice["required"] == "required"
    assert manifests.load("together").tools.call_index is True
    assert manifests.load("openai").tools.call_index is False


def test_a_provider_without_chat_has_no_endpoint_but_keeps_its_key_names():
    no_chat = next(m for m in map(manifests.load, manifests.available()) if not m.chat_supported)
    assert no_chat.endpoint is None
    assert no_chat.env_vars()[-1] == f"{no_chat.id.upper().replace('-', '_')}_API_KEY"
    with pytest.raises(UnsupportedError, match="has no chat API"):
        CODECS["openai-chat"](no_chat, "some-model")  # a codec needs an endpoint to send to


def test_a_bad_start_url_is_a_manifest_error_naming_the_field():
    data = _data("replicate")
    data["stream"]["start_url"] = "urls..stream"
    with pytest.raises(ManifestError) as info:
        manifests.parse_manifest(data, "replicate.yaml")
    assert info.value.file == "replicate.yaml"
    assert info.value.path.startswith("$.stream.start_url")
