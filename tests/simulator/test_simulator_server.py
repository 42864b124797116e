"""The simulator over a real socket on 127.0.0.1, as the conformance harness uses it."""

from __future__ import annotations

import json

import httpx
import pytest

from conformance.simulator import SimulatorServer

from .support import CONTRACTS, KEY, SYNTHETIC


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(CONTRACTS) as running:
        yield running


def _post(server: SimulatorServer, host: str, path: str, body: dict, headers: dict | None = None) -> httpx.Response:
    with httpx.Client(timeout=10.0) as client:
        return client.post(
            f"http://127.0.0.1:{server.port}{path}", json=body, headers={"Host": host, **(headers or {})}
        )


def test_openai_non_stream_over_http(server: SimulatorServer) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello, world!"}]}
    response = _post(server, "api.openai.com", "/v1/chat/completions", body, {"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["object"] == "chat.completion"
    assert "é" in data["choices"][0]["message"]["content"]
    assert data["usage"]["prompt_tokens"] == 2


def test_stream_arrives_in_several_reads(server: SimulatorServer) -> None:
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hello, world!"}]}
    request_headers = {"Host": "api.openai.com", "Authorization": f"Bearer {KEY}"}
    url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
    with (
        httpx.Client(timeout=10.0) as client,
        client.stream("POST", url, json=body, headers=request_headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["transfer-encoding"] == "chunked"
        reads = list(response.iter_raw())
    assert len(reads) > 3
    raw = b"".join(reads)
    assert raw.endswith(b"data: [DONE]\n\n")
    first = json.loads(raw.split(b"\n\n")[0][len(b"data: ") :])
    assert first["choices"][0]["delta"]["role"] == "assistant"


def test_fault_header_over_http(server: SimulatorServer) -> None:
    body = {"model": "claude-3-5-sonnet-latest", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "x-ailib-sim-fault": "error_529"}
    response = _post(server, "api.anthropic.com", "/v1/messages", body, headers)
    assert response.status_code == 529
    assert response.json()["error"]["type"] == "overloaded_error"
    rate = _post(server, "api.anthropic.com", "/v1/messages", body, {**headers, "x-ailib-sim-fault": "error_429"})
    assert rate.status_code == 429 and rate.headers["retry-after"] == "1"


def test_unknown_fault_header_is_reported(server: SimulatorServer) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {KEY}", "x-ailib-sim-fault": "nope"}
    response = _post(server, "api.openai.com", "/v1/chat/completions", body, headers)
    assert response.status_code == 400
    assert "unknown simulator fault" in response.text


def test_utf8_split_reaches_the_client_as_separate_reads(server: SimulatorServer) -> None:
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hello, world!"}]}
    headers = {"Host": "api.openai.com", "Authorization": f"Bearer {KEY}", "x-ailib-sim-fault": "stream_utf8_split"}
    url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
    with httpx.Client(timeout=10.0) as client, client.stream("POST", url, json=body, headers=headers) as response:
        reads = list(response.iter_raw())
    joined = b"".join(reads)
    assert "café".encode() in joined
    cut = [r for r in reads if r.endswith(b"caf\xc3")]
    assert cut, "the character é was not split between two reads"


def test_replicate_two_step_stream_over_http() -> None:
    with SimulatorServer(SYNTHETIC) as server:
        headers = {"Authorization": f"Bearer {KEY}"}
        created = _post(server, "api.replicate.com", "/v1/models/meta/meta-llama-3-8b-instruct/predictions",
                        {"stream": True, "input": {"prompt": "Hello, world!", "max_tokens": 3}}, headers)  # fmt: skip
        assert created.status_code == 201
        stream_url = httpx.URL(created.json()["urls"]["stream"])
        with httpx.Client(timeout=10.0) as client:
            response = client.get(f"http://127.0.0.1:{server.port}{stream_url.raw_path.decode()}",
                                  headers={"Host": stream_url.host, "Accept": "text/event-stream"})  # fmt: skip
        assert response.status_code == 200
        assert response.text.count("event: output") == 3
        assert "event: done" in response.text
        assert len(server.log) == 2


def test_server_stops_cleanly() -> None:
    server = SimulatorServer(CONTRACTS)
    with server:
        port = server.port
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
