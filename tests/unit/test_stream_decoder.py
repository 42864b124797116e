"""ailib.stream.StreamDecoder: byte chunking never changes the decoded events."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ailib import manifest as manifests
from ailib.codecs import CODECS
from ailib.errors import AiLibError
from ailib.types import Finish, StreamingEvent, Usage


def decoder(provider: str = "openai"):
    m = manifests.load(provider)
    return CODECS[m.family](m, "test-model").stream_decoder()


def run(chunks: list[bytes], provider: str = "openai") -> tuple[list[StreamingEvent], str | None]:
    d = decoder(provider)
    events: list[StreamingEvent] = []
    for chunk in chunks:
        events.extend(d.feed(chunk))
        if d.error is not None:
            break
    if d.error is None:
        events.extend(d.close())
    return events, (type(d.error).__name__ if d.error else None)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
DELTA = st.tuples(st.sampled_from(["content", "reasoning_content"]), TEXT)
FINISH = st.sampled_from(["stop", "length", "tool_calls", "content_filter", "function_call", "weird_new_reason"])
FINISH_NORMAL = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
}


def openai_chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


@st.composite
def openai_streams(draw):
    """(body bytes, expected events) for a random, well-formed OpenAI stream."""
    deltas = draw(st.lists(DELTA, max_size=8))
    finish = draw(FINISH)
    usage = draw(st.none() | st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)))
    done = draw(st.booleans())
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    objs = [openai_chunk({"role": "assistant", "content": ""})]
    objs += [openai_chunk({kind: text}) for kind, text in deltas]
    objs.append(openai_chunk({}, finish))
    if usage is not None:
        objs.append(
            {
                "id": "chatcmpl-x",
                "object": "chat.completion.chunk",
                "model": "gpt-4o",
                "choices": [],
                "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
            }
        )
    blocks = []
    for obj in objs:
        if draw(st.booleans()):
            blocks.append(": keep-alive")
        # pretty-printed JSON spreads one event over several data: lines
        indent = draw(st.sampled_from([None, 1]))
        text = json.dumps(obj, ensure_ascii=draw(st.booleans()), indent=indent)
        blocks.append("\n".join("data: " + line for line in text.split("\n")))
    if done:
        blocks.append("data: [DONE]")
    body = "".join(block.replace("\n", line_end) + line_end * 2 for block in blocks)
    if draw(st.booleans()):  # the last blank line may be missing
        body = body[: -len(line_end)]
    expected = [
        StreamingEvent.content_delta(text) if kind == "content" else StreamingEvent.reasoning_delta(text)
        for kind, text in deltas
        if text
    ]
    if usage is not None:
        expected.append(StreamingEvent(StreamingEvent.USAGE, Usage(usage[0], usage[1], sum(usage))))
    expected.append(StreamingEvent(StreamingEvent.FINISH, Finish(FINISH_NORMAL.get(finish, "other"), finish)))
    return body.encode("utf-8"), expected


@pytest.mark.no_cover  # thousands of runs of the same lines: tracing them would triple its time, and coverage is measured by the plain tests
@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=openai_streams(), data=st.data())
def test_openai_stream_any_chunking_gives_identical_events(stream, data):
    body, expected = stream
    whole, error = run([body])
    assert error is None
    assert whole == expected
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=16), label="cuts"))
    bounds = [0, *cuts, len(body)]
    assert run([body[a:b] for a, b in itertools.pairwise(bounds)]) == (whole, None)
    assert run([body[i : i + 1] for i in range(len(body))]) == (whole, None)


@pytest.mark.no_cover  # thousands of runs of the same lines: tracing them would triple its time, and coverage is measured by the plain tests
@settings(max_examples=500, deadline=None)
@given(prefix=st.lists(TEXT.filter(bool), min_size=1, max_size=4), data=st.data())
def test_error_mid_stream_is_reported_after_the_same_deltas_for_any_chunking(prefix, data):
    blocks = [f"data: {json.dumps(openai_chunk({'content': t}))}" for t in prefix]
    blocks.append(
        'data: {"error": {"message": "The server had an error", "type": "server_error", "param": null, "code": null}}'
    )
    blocks.append(f"data: {json.dumps(openai_chunk({'content': 'after'}))}")
    body = "".join(b + "\n\n" for b in blocks).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=8), label="cuts"))
    bounds = [0, *cuts, len(body)]
    events, error = run([body[a:b] for a, b in itertools.pairwise(bounds)])
    assert error == "ServerError"
    assert [e.as_content_delta.text for e in events] == prefix


def test_usage_is_merged_and_delivered_once_before_finish():
    # Anthropic spreads usage over message_start and message_delta
    body = (
        b'event: message_start\ndata: {"type":"message_start","message":{"model":"claude","usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    events, error = run([body], "anthropic")
    assert error is None
    assert [e.kind for e in events] == ["content_delta", "usage", "finish"]
    assert events[1].as_usage == Usage(5, 7, 12)


def test_empty_body_is_a_protocol_error():
    d = decoder()
    assert d.close() == []
    assert isinstance(d.error, AiLibError) and d.error.retryable


def test_done_marker_without_finish_reason_ends_cleanly():
    events, error = run([b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n'])
    assert error is None
    assert [e.kind for e in events] == ["content_delta", "finish"]
    assert events[-1].as_finish.raw_reason is None  # the provider named none


@pytest.mark.parametrize("provider", ["cerebras", "perplexity", "writer"])
def test_done_sentinel_ends_the_stream_where_the_manifest_declares_no_marker(provider):
    # These manifests declare no done marker (their recorded streams end without one), but a
    # server that sends OpenAI's `data: [DONE]` anyway must end the stream, not break it.
    body = (
        b'data: {"id":"x","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'
        b'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    events, error = run([body], provider)
    assert error is None
    assert [e.kind for e in events] == ["content_delta", "finish"]
    assert events[0].as_content_delta.text == "hi"
    assert events[-1].as_finish.raw_reason == "stop"


def test_done_sentinel_alone_ends_a_stream_without_finish_reason_and_nothing_after_it_is_read():
    body = b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\ndata: {"choices":[{"index":0,"delta":{"content":"late"}}]}\n\n'
    events, error = run([body], "cerebras")
    assert error is None
    assert [e.kind for e in events] == ["content_delta", "finish"]
    assert events[0].as_content_delta.text == "x"


def test_other_non_json_events_are_still_protocol_errors():
    _, error = run([b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE\n\n'], "cerebras")
    assert error == "StreamProtocolError"
