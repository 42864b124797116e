"""Each official SDK, unchanged (default base URL, default headers, default request body),
against the simulator as a server on 127.0.0.1: its requests are accepted, and it parses the
answers to what the oracle reads from the same bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.simulator import SimulatorServer

from .adapters import ADAPTERS
from .support import CONTRACTS, loopback_client, oracle_reading

# cohere 7.3's own models still read pydantic's deprecated __fields__
pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated:DeprecationWarning")

# (SDK, base URL or None for the SDK's default, provider, model): each SDK unchanged against
# its own provider, then against the real-shaped answers of other providers and models
# (no [DONE] and CRLF on Perplexity, reasoning fields, usage on every chunk, typed parts,
# thinking tokens)
CASES = [
    ("openai", None, "openai", "gpt-4o"),
    ("anthropic", None, "anthropic", "claude-3-5-sonnet-latest"),
    ("google-genai", None, "gemini", "gemini-2.0-flash"),
    ("cohere", None, "cohere", "command-r-plus-08-2024"),
    ("mistralai", None, "mistral", "mistral-small-latest"),
    ("openai", "https://api.perplexity.ai", "perplexity", "sonar"),
    ("openai", "https://api.cerebras.ai/v1", "cerebras", "gpt-oss-120b"),
    ("openai", "https://api.x.ai/v1", "xai", "grok-2"),
    ("openai", "https://openrouter.ai/api/v1", "openrouter", "moonshotai/kimi-k2-0905"),
    ("openai", "https://api.groq.com/openai/v1", "groq", "llama-3.3-70b-versatile"),
    ("openai", "https://api.together.xyz/v1", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    ("mistralai", None, "mistral", "magistral-medium-latest"),
    ("google-genai", None, "gemini", "gemini-2.5-flash"),
]
ADAPTER = {a.name: a for a in ADAPTERS}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONTRACTS, chunk_delay=0) as running:
        yield running


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("sdk", "base_url", "provider", "model"), CASES, ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CASES])
def test_sdk_default_request_is_accepted_and_parsed(
    sdk: str, base_url: str | None, provider: str, model: str, stream: bool, server: SimulatorServer
) -> None:
    adapter = ADAPTER[sdk]
    http = pytest.importorskip(
        adapter.http_module,
        reason=f"the {sdk} SDK is not installed (no {adapter.http_module}; pip install -e '.[sdks]')",
    )
    client = adapter.client(loopback_client(http, server.port), base_url)
    before = len(server.log)
    got = adapter.call(client, model, stream)
    _, response = server.log[-1]
    assert len(server.log) == before + 1
    assert response.status == 200, f"{sdk} default request refused: {response.text[:300]}"
    want = oracle_reading(str(CONTRACTS[provider]["family"]), response.body, stream)
    assert want.content, "the simulator answered without text"
    assert (got.content, getattr(got.finish, "value", got.finish)) == (want.content, want.finish)
    assert (got.prompt_tokens, got.completion_tokens) == (want.prompt_tokens, want.completion_tokens)
