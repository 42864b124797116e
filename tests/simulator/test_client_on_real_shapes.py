"""ailib on the real-shaped answers the profiles produce for models the cassettes do not use:
reasoning models (each provider's own reasoning field), Mistral's typed content parts, usage
on every chunk, Gemini 2.5 thinking tokens. The client must report what the oracle reads
from the same bytes; the wire facts themselves are asserted by hand from the recordings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ailib import AiClient
from conformance import oracle
from conformance.cassettes import simulator_client_factory
from conformance.simulator import SimulatorServer, load_contracts

from .support import parse_sse

CONTRACTS = load_contracts()

# (provider, model, what the stream must show on the wire, from the recording named)
CASES = [
    # cerebras__chat_stream_reasoning_no_done.json: delta.reasoning, no [DONE]
    ("cerebras", "gpt-oss-120b", lambda chunks, text: any("reasoning" in _delta(c) for c in chunks)),
    # groq__chat_stream_reasoning_field.json: delta.reasoning
    ("groq", "openai/gpt-oss-20b", lambda chunks, text: any("reasoning" in _delta(c) for c in chunks)),
    # zai__chat_stream_reasoning_glm45.json: delta.reasoning_content
    ("zhipu", "glm-4.5", lambda chunks, text: any("reasoning_content" in _delta(c) for c in chunks)),
    # xai__chat_stream_usage_every_chunk.json: usage on every chunk, cumulative, dated model
    ("xai", "grok-2", lambda chunks, text: all(c.get("usage") for c in chunks) and chunks[0]["model"] == "grok-2-1212"),
    # Mistral's spec: delta.content may be a list of typed chunks (ThinkChunk, TextChunk)
    ("mistral", "magistral-medium-latest", lambda chunks, text: any(isinstance(_delta(c).get("content"), list) for c in chunks)),
    # openrouter__chat_stream_kimi_k2.json: ": OPENROUTER PROCESSING" before the first event
    ("openrouter", "moonshotai/kimi-k2-0905", lambda chunks, text: text.startswith(": OPENROUTER PROCESSING")),
    # deepseek__chat_stream_*.json: no comment line in a normal stream
    ("deepseek", "deepseek-chat", lambda chunks, text: ": keep-alive" not in text),
    # gemini__stream_sse_thoughts_tokens.json: thoughtsTokenCount outside candidatesTokenCount
    ("gemini", "gemini-2.5-flash", lambda chunks, text: "thoughtsTokenCount" in json.dumps(chunks[-1])),
]  # fmt: skip


def _delta(chunk: dict[str, Any]) -> dict[str, Any]:
    choices = chunk.get("choices") or [{}]
    return choices[0].get("delta") or {}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONTRACTS, chunk_delay=0) as running:
        yield running


@pytest.mark.parametrize(("provider", "model", "shows"), CASES, ids=[f"{p}-{m}" for p, m, _ in CASES])
async def test_client_reads_the_real_shape(
    provider: str, model: str, shows: Any, server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (CONTRACTS[provider].get("variables") or {}).items():
        monkeypatch.setenv(name, str(value))
    family = str(CONTRACTS[provider]["family"])
    http = simulator_client_factory(server.port)()
    try:
        client = await AiClient.create(f"{provider}/{model}", api_key="sim-key-0123456789", http_client=http)
        texts = [
            e.as_content_delta.text async for e in client.chat().user("Hello, world!").stream() if e.is_content_delta
        ]
        _, streamed = server.log[-1]
        response = await client.chat().user("Hello, world!").execute()
        _, plain = server.log[-1]
    finally:
        await http.aclose()
    assert streamed.status == 200 and plain.status == 200
    text = streamed.text
    chunks = [json.loads(e.data) for e in parse_sse(streamed.body).events if e.data.startswith("{")]
    assert shows(chunks, text), f"{provider}/{model}: the real shape is missing from the simulated stream"
    want = oracle.read_stream(family, text)
    assert "".join(texts) == want.content
    assert response.content == oracle.read_response(family, json.loads(plain.body)).content
    assert response.content == want.content


async def test_client_reads_a_gemini_error_labelled_as_a_stream(server: SimulatorServer) -> None:
    """gemini__error_400_stream_request_sse_content_type.json: a bad key on the stream URL is
    a 400 whose JSON body comes as text/event-stream; the client still reports the error."""
    from ailib.errors import AiLibError

    http = simulator_client_factory(server.port, "error_401")()
    try:
        client = await AiClient.create("gemini/gemini-2.5-flash", api_key="sim-key-0123456789", http_client=http)
        with pytest.raises(AiLibError) as caught:
            async for _ in client.chat().user("Hello, world!").stream():
                pass
    finally:
        await http.aclose()
    _, response = server.log[-1]
    assert response.status == 400 and response.headers["content-type"] == "text/event-stream"
    assert caught.value.status_code == 400
    assert "API key not valid" in str(caught.value)
    assert caught.value.error_class == "authentication"
