"""Smoke test of the benchmark harness (benchmarks/): no timing, only correctness.

Starts the loopback OpenAI-style server that ``python benchmarks/run.py`` measures
against, streams a few hundred chunks through ailib and through the harness's own
runtime adapters, and checks that every delta arrives, in order, with nothing lost
or merged. A benchmark whose harness drops data would report nonsense speeds.
"""

from __future__ import annotations

import importlib.util
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from ailib import AiClient

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
N = 300


@pytest.fixture(scope="module")
def bench():
    """benchmarks/loopback_server.py and bench_worker.py, loaded from their files (benchmarks/
    is a folder of scripts, not a package; bench_worker imports loopback_server by name)."""
    return _load_script("loopback_server"), _load_script("bench_worker")


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(bench):
    loopback_server, _ = bench
    with loopback_server.LoopbackServer(ttl=60, prerender=(N,)) as srv:
        yield srv


def expected_text(loopback_server, n: int) -> str:
    return "".join(loopback_server.delta_text(i) for i in range(n))


async def test_ailib_stream_from_the_loopback_server_is_complete(bench, server):
    loopback_server, _ = bench
    async with await AiClient.create("openai/gpt-4o-mini", api_key="sk-test", base_url=server.base_url) as client:
        stream = client.chat().user(loopback_server.prompt(N)).stream()
        events = [event async for event in stream]
        answer = await client.chat().user("Say something.").execute()
    deltas = [e.as_content_delta.text for e in events if e.is_content_delta]
    assert len(deltas) == N
    assert "".join(deltas) == expected_text(loopback_server, N)
    assert [e.kind for e in events[-2:]] == ["usage", "finish"]
    assert events[-2].as_usage.completion_tokens == N
    assert events[-1].as_finish.reason == "stop"
    assert stream.stats is not None and stream.stats.completion_tokens == N
    assert answer.content == loopback_server.NONSTREAM_TEXT


def test_expected_matches_what_the_server_renders(bench):
    loopback_server, _ = bench
    body = loopback_server.render_stream(5).decode()
    assert body.startswith("HTTP/1.1 200 OK\r\n") and body.endswith("data: [DONE]\n\n\r\n0\r\n\r\n")
    text = expected_text(loopback_server, 5)
    assert loopback_server.expected(5) == {"deltas": 5, "chars": len(text), "crc32": zlib.crc32(text.encode())}
    assert loopback_server.chunk_count({"messages": [{"role": "user", "content": loopback_server.prompt(42)}]}) == 42


@pytest.mark.parametrize("runtime", ["socket", "httpx", "ailib", "ailib-fast", "httpx-aiohttp"])
async def test_harness_runtime_collects_every_delta(bench, server, runtime):
    loopback_server, bench_worker = bench
    needs = {"ailib-fast": "httpx_aiohttp", "httpx-aiohttp": "httpx_aiohttp"}.get(runtime)
    if needs and importlib.util.find_spec(needs) is None:
        pytest.skip(f"{needs} is not installed (ailib[fast])")
    rt = bench_worker.RUNTIMES[runtime]()
    await rt.setup(server.base_url)
    try:
        result = await bench_worker.measure_stream(rt, N)
        requests = await bench_worker.measure_requests(rt, concurrency=4, duration=0.05)
    finally:
        await rt.close()
    assert {k: result[k] for k in ("deltas", "chars", "crc32")} == loopback_server.expected(N)
    assert requests["requests"] > 0 and requests["errors"] == 0 and requests["wrong"] == 0


def test_tool_stream_benchmark_reads_every_fragment():
    """benchmarks/tool_stream.py checks each run (one call, every fragment, the text joined):
    a small run of every family and level must pass those checks and give a ratio."""
    spec = importlib.util.spec_from_file_location("tool_stream", BENCHMARKS / "tool_stream.py")
    assert spec is not None and spec.loader is not None
    tool_stream = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool_stream)
    rows = tool_stream.measure(200, 1)
    assert {(r["family"], r["level"]) for r in rows} == {
        (family, level)
        for family in ("openai-chat", "anthropic-messages", "cohere-v2")
        for level in ("json.loads only", "decoder", "client")
    }
    assert all(r["ratio"] > 0 for r in rows)
    with pytest.raises(AssertionError, match="tool stream read wrong"):
        tool_stream._check([], 3, True)
