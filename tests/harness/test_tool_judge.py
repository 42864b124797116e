"""The judge of the tool scenarios: the oracle reads tool calls the slow, obvious way, and
tool_checks catches wrong wire shapes. Inputs and expected values are written by hand from
the providers' documented formats (see conformance/tools.yaml for the citations)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from conformance import oracle
from conformance.runtimes.base import Outcome
from conformance.scenarios import load_scenarios
from conformance.tool_checks import check_tool_request, check_tool_response


def _sse(*events: tuple[str | None, dict]) -> str:
    out = []
    for name, data in events:
        out.append((f"event: {name}\n" if name else "") + "data: " + json.dumps(data) + "\n\n")
    return "".join(out)


def scenario(sid: str):
    return next(s for s in load_scenarios() if s.id == sid)


def test_oracle_reads_mistral_whole_calls_without_index():
    delta = {
        "tool_calls": [
            {"id": "a", "function": {"name": "plus", "arguments": '{"a": 1}'}},
            {"id": "b", "function": {"name": "minus", "arguments": '{"b": 2}'}},
        ]
    }
    text = _sse((None, {"choices": [{"index": 0, "delta": delta, "finish_reason": "tool_calls"}]}))
    reading = oracle.read_stream("openai-chat", text)
    assert reading.tool_calls == [["a", "plus", '{"a": 1}'], ["b", "minus", '{"b": 2}']]
    assert reading.raw_finish == "tool_calls"


def test_oracle_reads_anthropic_blocks_after_a_text_block():
    text = _sse(
        ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
            },
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"x"'}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ": 1}"}},
        ),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}},
        ),
    )
    reading = oracle.read_stream("anthropic-messages", text)
    assert reading.content == "Hi"
    assert reading.tool_calls == [["t", "f", '{"x": 1}']]
    assert reading.tool_pieces == [2]


def test_oracle_reads_cohere_tool_call_events_and_gemini_parts():
    text = _sse(
        (
            "tool-call-start",
            {
                "type": "tool-call-start",
                "index": 0,
                "delta": {"message": {"tool_calls": {"id": "c", "function": {"name": "f", "arguments": ""}}}},
            },
        ),
        (
            "tool-call-delta",
            {
                "type": "tool-call-delta",
                "index": 0,
                "delta": {"message": {"tool_calls": {"function": {"arguments": "{}"}}}},
            },
        ),
        ("message-end", {"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}),
    )
    assert oracle.read_stream("cohere-v2", text).tool_calls == [["c", "f", "{}"]]
    body = {
        "candidates": [
            {"content": {"parts": [{"functionCall": {"name": "g", "args": {"y": 2}}}]}, "finishReason": "STOP"}
        ]
    }
    assert oracle.read_response("gemini", body).tool_calls == [[None, "g", '{"y": 2}']]


def test_request_check_catches_wrong_tool_shapes_and_choice_words():
    s = scenario("tool_choice_required")
    schema = s.tools[0][2]
    good = {
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "description": s.tools[0][1], "parameters": schema},
            }
        ],
        "tool_choice": "required",
    }
    assert check_tool_request("openai", "openai-chat", s, good) == []
    assert check_tool_request("mistral", "openai-chat", s, {**good, "tool_choice": "any"}) == []
    problems = check_tool_request("openai", "openai-chat", s, {**good, "tool_choice": "any"})
    assert problems and "tool_choice on the wire 'any'" in problems[0]
    anthropic_shaped = {
        "tools": [{"name": "get_weather", "description": s.tools[0][1], "input_schema": schema}],
        "tool_choice": {"type": "any"},
    }
    assert any("not all {type: function" in p for p in check_tool_request("openai", "openai-chat", s, anthropic_shaped))
    assert check_tool_request("anthropic", "anthropic-messages", s, anthropic_shaped) == []
    no_description = {**anthropic_shaped, "tools": [{"name": "get_weather", "input_schema": schema}]}
    assert check_tool_request("anthropic", "anthropic-messages", s, no_description)  # the caller's text was lost


def test_request_check_catches_a_tool_result_without_its_call_id():
    s = scenario("tool_result")
    messages = [
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_w1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"temp_c": 18, "sky": "clear"}'},
    ]
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": s.tools[0][1], "parameters": s.tools[0][2]},
        }
    ]
    problems = check_tool_request("openai", "openai-chat", s, {"messages": messages, "tools": tools})
    want = (
        'openai/tool_result: tool results on the wire [(None, \'{"temp_c": 18, "sky": "clear"}\')] '
        '!= sent [(\'call_w1\', \'{"temp_c": 18, "sky": "clear"}\')]'
    )
    assert problems == [want]


@pytest.mark.parametrize("merged", [True, False])
def test_response_check_catches_merged_or_wrong_pieces(merged):
    s = scenario("tool_stream")
    reading = oracle.Reading(tool_calls=[["c", "get_weather", '{"city": "Paris"}']], tool_pieces=[3])
    pieces = ['{"city": "Paris"}'] if merged else ['{"city"', ': "Paris"', "}"]
    events = [("tool_call_delta", (0, "c" if i == 0 else None, None, p)) for i, p in enumerate(pieces)]
    outcome = Outcome(
        events=[
            *events,
            ("tool_call", ("c", "get_weather", {"city": "Paris"})),
            ("finish", ("tool_calls", "tool_calls")),
        ]
    )
    problems = check_tool_response("openai/tool_stream", s, outcome, reading)
    assert (problems != []) is merged
    if merged:
        assert "came in 3 pieces but the client merged them" in problems[0]
    wrong = replace(outcome, events=[*events, ("tool_call", ("c", "get_weather", {"city": "Rome"}))])
    assert any("!= the answer's" in p for p in check_tool_response("x", s, wrong, reading))
