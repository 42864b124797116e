"""Each official SDK, unchanged (default base URL, default headers, default request body),
against the simulator as a server on 127.0.0.1: its requests are accepted, and it parses the
answers to what the oracle reads from the same bytes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.simulator import SimulatorServer

from .adapters import ADAPTERS
from .support import CONTRACTS, loopback_client, oracle_reading

# the provider each SDK is the official client of, and the model it is called with
PROVIDER = {"openai": "openai", "anthropic": "anthropic", "google-genai": "gemini", "cohere": "cohere",
            "mistralai": "mistral"}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONTRACTS, chunk_delay=0) as running:
        yield running


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_sdk_default_request_is_accepted_and_parsed(adapter: Any, stream: bool, server: SimulatorServer) -> None:
    http = pytest.importorskip(adapter.http_module, reason=f"{adapter.http_module} comes with the {adapter.name} SDK")
    provider = PROVIDER[adapter.name]
    client = adapter.client(loopback_client(http, server.port))
    before = len(server.log)
    got = adapter.call(client, str(CONTRACTS[provider]["model"]), stream)
    _, response = server.log[-1]
    assert len(server.log) == before + 1
    assert response.status == 200, f"{adapter.name} default request refused: {response.text[:300]}"
    want = oracle_reading(str(CONTRACTS[provider]["family"]), response.body, stream)
    assert want.content, "the simulator answered without text"
    assert (got.content, getattr(got.finish, "value", got.finish)) == (want.content, want.finish)
    assert (got.prompt_tokens, got.completion_tokens) == (want.prompt_tokens, want.completion_tokens)
