"""Every recorded stream, re-chunked adversarially, must give exactly the events of a
whole-body replay: 1-byte reads, random splits (inside CRLF pairs, inside UTF-8
characters, inside JSON), and the whole body at once."""

from __future__ import annotations

import asyncio
import functools
import random
from pathlib import Path

import httpx
import pytest

from ailib import AiClient
from ailib.errors import AiLibError
from conformance.cassettes import CASSETTES_DIR, ReadableSerializer
from conformance.contract import load_contracts


def _stream_cassettes() -> list[Path]:
    out = []
    for path in sorted(CASSETTES_DIR.rglob("*.yaml")):
        if path.name == "PROVENANCE.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        if "text/event-stream" in text:
            out.append(path)
    return out


CASSETTES = _stream_cassettes()


@functools.cache
def _interactions(path: Path) -> list[dict]:
    """The cassette's interactions, parsed once for the five replays of its test (only read)."""
    return ReadableSerializer.deserialize(path.read_text(encoding="utf-8"))["interactions"]


def _splits(body: bytes, how: str, seed: int) -> list[bytes]:
    if how == "whole":
        return [body]
    if how == "bytes":
        return [body[i : i + 1] for i in range(len(body))]
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(body)), k=min(len(body) - 1, max(1, len(body) // 7))))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


async def _replay(path: Path, how: str, seed: int = 0) -> tuple[list, str | None]:
    provider = path.parent.name
    interactions = iter(_interactions(path))

    def handler(request: httpx.Request) -> httpx.Response:
        item = next(interactions)["response"]
        body = item["body"]["string"]
        body = body.encode("utf-8") if isinstance(body, str) else body
        headers = [
            (k, v) for k, values in item["headers"].items() for v in (values if isinstance(values, list) else [values])
        ]
        chunks = _splits(body, how, seed) if body else [b""]

        async def stream():
            for chunk in chunks:
                yield chunk

        return httpx.Response(item["status"]["code"], headers=headers, content=stream())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = load_contracts()[provider]["model"]
    client = await AiClient.create(f"{provider}/{model}", api_key="test-key", http_client=http, max_retries=0)
    events, error = [], None
    try:
        async for event in client.chat().user("Hello, world!").stream():
            events.append(event)
    except AiLibError as exc:
        error = f"{type(exc).__name__}: {exc.message}"
    finally:
        await http.aclose()
    return events, error


def test_there_are_stream_cassettes_to_check() -> None:
    assert len(CASSETTES) >= 30, f"only {len(CASSETTES)} stream cassettes found under {CASSETTES_DIR}"


# Not traced for coverage: each stream is replayed five times through code the conformance suite
# already covers replaying it once; tracing would quadruple this file's time.
@pytest.mark.no_cover
@pytest.mark.parametrize("path", CASSETTES, ids=[f"{p.parent.name}-{p.stem}" for p in CASSETTES])
def test_rechunked_stream_gives_the_same_events(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (load_contracts()[path.parent.name].get("variables") or {}).items():
        monkeypatch.setenv(name, value)  # e.g. Azure's resource name in the URL
    whole = asyncio.run(_replay(path, "whole"))
    assert whole[0] or whole[1], "the whole-body replay produced nothing"
    assert asyncio.run(_replay(path, "bytes")) == whole, "1-byte reads changed the events"
    for seed in range(3):
        assert asyncio.run(_replay(path, "random", seed)) == whole, f"random split (seed {seed}) changed the events"
