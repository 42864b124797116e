"""Streamed tool-call fragments measured beside a text stream: what accumulating tool calls
costs per event, next to a content delta.

    python benchmarks/tool_stream.py               # N = 20 000 events, 15 repetitions
    python benchmarks/tool_stream.py --events 2000 --reps 5

For each wire family with fragment-wise tool calls (OpenAI chat's ``delta.tool_calls`` by
``index``, Anthropic's ``input_json_delta``, Cohere v2's ``tool-call-delta``) two streams of N
events are built with the same fragment text: one where every event is a content delta,
one where every event is a piece of one tool call's arguments. Each is fed to the client
in 4 KiB reads, the way a socket delivers it, at two levels:

- ``json.loads only``: parsing each event's JSON and nothing else, the part of the cost
  that the size and nesting of each provider's events set (a tool-call fragment's JSON is
  bigger than a text delta's);
- ``decoder``: ailib's stream decoder alone (SSE split, ``json.loads``, manifest routes,
  tool-call accumulation), no I/O;
- ``client``: ``AiClient.chat()...stream()`` end to end over an ``httpx.MockTransport``
  (no sockets: the loopback harness in run.py measures the network path for text).

The figure is the median CPU time of the process per event (``time.process_time``: on a
shared machine, time spent waiting for a core is not the client's), text and tool runs
interleaved so both see the same load; ``ratio`` is tool / text.
Every run checks its result: the text joins to what was sent, and the tool stream yields
exactly one completed call whose arguments are the fragments joined, so a decoder that
dropped or merged pieces could not look fast. Runs in this checkout's environment (no
competitors involved); prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

READ = 4096
WORDS = [f" w{i % 97}x" for i in range(97)]  # fragment text, 4-5 characters like real ones


def _data(obj: Any, event: str | None = None) -> bytes:
    line = b"data: " + json.dumps(obj, separators=(",", ":")).encode()
    return (b"event: " + event.encode() + b"\n" + line if event else line) + b"\n\n"


def openai_stream(n: int, tool: bool) -> bytes:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _data({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    parts = [chunk({"role": "assistant", "content": None if tool else ""})]
    if tool:
        first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
        parts.append(chunk({"tool_calls": [first]}))
    for i in range(n):
        piece = WORDS[i % 97]
        parts.append(
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} if tool else {"content": piece})
        )
    parts.append(chunk({}, "tool_calls" if tool else "stop"))
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def anthropic_stream(n: int, tool: bool) -> bytes:
    start = {"type": "message_start", "message": {"model": "claude", "usage": {"input_tokens": 1, "output_tokens": 1}}}
    block = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}} if tool else {"type": "text", "text": ""}
    parts = [
        _data(start, "message_start"),
        _data({"type": "content_block_start", "index": 0, "content_block": block}, "content_block_start"),
    ]
    for i in range(n):
        piece = WORDS[i % 97]
        delta = {"type": "input_json_delta", "partial_json": piece} if tool else {"type": "text_delta", "text": piece}
        parts.append(_data({"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"))
    parts.append(_data({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    stop = {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use" if tool else "end_turn"},
        "usage": {"output_tokens": n},
    }
    parts += [_data(stop, "message_delta"), _data({"type": "message_stop"}, "message_stop")]
    return b"".join(parts)


def cohere_stream(n: int, tool: bool) -> bytes:
    parts = [_data({"type": "message-start", "delta": {"message": {"role": "assistant"}}}, "message-start")]
    if tool:
        first = {"id": "f_1", "type": "function", "function": {"name": "f", "arguments": ""}}
        parts.append(
            _data(
                {"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": first}}}, "tool-call-start"
            )
        )
    for i in range(n):
        piece = WORDS[i % 97]
        if tool:
            data = {
                "type": "tool-call-delta",
                "index": 0,
                "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}},
            }
            parts.append(_data(data, "tool-call-delta"))
        else:
            parts.append(
                _data(
                    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}},
                    "content-delta",
                )
            )
    if tool:
        parts.append(_data({"type": "tool-call-end", "index": 0}, "tool-call-end"))
    end = {"type": "message-end", "delta": {"finish_reason": "TOOL_CALL" if tool else "COMPLETE"}}
    parts.append(_data(end, "message-end"))
    return b"".join(parts)


FAMILIES: dict[str, tuple[str, Callable[[int, bool], bytes]]] = {
    "openai-chat": ("openai/gpt-4o", openai_stream),
    "anthropic-messages": ("anthropic/claude-3-5-sonnet-latest", anthropic_stream),
    "cohere-v2": ("cohere/command-r", cohere_stream),
}


def _reads(body: bytes) -> list[bytes]:
    return [body[i : i + READ] for i in range(0, len(body), READ)]


def _check(events: list[Any], n: int, tool: bool) -> None:
    want = "".join(WORDS[i % 97] for i in range(n))
    if tool:
        calls = [e.as_tool_call for e in events if e.is_tool_call]
        if len(calls) != 1 or calls[0].raw_arguments != want:
            raise AssertionError(f"tool stream read wrong: {len(calls)} calls")
        pieces = sum(1 for e in events if e.is_tool_call_delta and e.as_tool_call_delta.arguments)
        if pieces != n:
            raise AssertionError(f"{pieces} argument pieces delivered, {n} sent")
    else:
        text = "".join(e.as_content_delta.text for e in events if e.is_content_delta)
        if text != want:
            raise AssertionError("text stream read wrong")


def time_decoder(model: str, body: bytes, n: int, tool: bool, reps: int) -> list[float]:
    from ailib import manifest
    from ailib.codecs import CODECS

    m = manifest.load(model.split("/", 1)[0])
    codec = CODECS[m.family](m, model.split("/", 1)[1])
    reads = _reads(body)
    times = []
    for rep in range(reps + 1):
        decoder = codec.stream_decoder()
        gc.disable()
        started = time.process_time()
        events = []
        for read in reads:
            events += decoder.feed(read)
        events += decoder.close()
        elapsed = time.process_time() - started
        gc.enable()
        _check(events, n, tool)
        if rep:  # the first run warms caches
            times.append(elapsed / n)
    return times


def time_client(model: str, body: bytes, n: int, tool: bool, reps: int) -> list[float]:
    import httpx

    from ailib import AiClient, Tool

    reads = _reads(body)

    async def chunks() -> Any:
        for read in reads:
            yield read

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())

    async def main() -> list[float]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = await AiClient.create(model, api_key="bench-not-a-key", http_client=http)
        times = []
        for rep in range(reps + 1):
            chat = client.chat().user("x")
            if tool:
                chat.tools([Tool("f")])
            gc.disable()
            started = time.process_time()
            events = [event async for event in chat.stream()]
            elapsed = time.process_time() - started
            gc.enable()
            _check(events, n, tool)
            if rep:
                times.append(elapsed / n)
        await http.aclose()
        return times

    return asyncio.run(main())


def time_parse(model: str, body: bytes, n: int, tool: bool, reps: int) -> list[float]:
    """``json.loads`` of every event's data alone: the part of the cost the wire format sets."""
    payloads = [line[6:] for line in body.split(b"\n") if line.startswith(b"data: ") and line != b"data: [DONE]"]
    loads = json.loads
    times = []
    for rep in range(reps + 1):
        gc.disable()
        started = time.process_time()
        for payload in payloads:
            loads(payload)
        elapsed = time.process_time() - started
        gc.enable()
        if rep:
            times.append(elapsed / n)
    return times


def measure(n: int, reps: int) -> list[dict[str, Any]]:
    rows = []
    for family, (model, render) in FAMILIES.items():
        text, tool = render(n, False), render(n, True)
        for level, timer in (("json.loads only", time_parse), ("decoder", time_decoder), ("client", time_client)):
            texts: list[float] = []
            tools: list[float] = []
            for _ in range(reps):  # interleaved, one repetition of each at a time
                texts += timer(model, text, n, False, 1)
                tools += timer(model, tool, n, True, 1)
            t_text, t_tool = statistics.median(texts), statistics.median(tools)
            rows.append(
                {
                    "family": family,
                    "level": level,
                    "text_us": t_text * 1e6,
                    "tool_us": t_tool * 1e6,
                    "ratio": t_tool / t_text,
                    "text_bytes_per_event": len(text) / n,
                    "tool_bytes_per_event": len(tool) / n,
                }
            )
    return rows


def table(rows: list[dict[str, Any]], n: int, reps: int) -> str:
    lines = [
        f"Streams of {n:,} events in {READ}-byte reads, median of {reps} repetitions (µs per event):",
        "",
        "| family | level | text delta | tool-call fragment | ratio | bytes/event text, tool |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['family']} | {r['level']} | {r['text_us']:.2f} | {r['tool_us']:.2f} | {r['ratio']:.2f}x "
            f"| {r['text_bytes_per_event']:.0f}, {r['tool_bytes_per_event']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = measure(args.events, args.reps)
    print(table(rows, args.events, args.reps))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
