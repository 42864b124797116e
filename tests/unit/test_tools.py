"""Tool calling and structured output, per wire family: what goes on the wire, and how the
calls are read back, whole and streamed.

Wire shapes are written by hand from each provider's documentation (cited per test), never
from the manifests: OpenAI chat (platform.openai.com/docs/api-reference/chat/create), Mistral
(openapi.yaml ToolChoiceEnum; index-less streamed calls), Anthropic (docs tool-use and
streaming: tool_use blocks, input_json_delta), Gemini (content.proto FunctionCall /
FunctionResponse / FunctionCallingConfig), Cohere v2 (docs.cohere.com/reference/chat and
chat-stream: tool-call-start / -delta / -end).
"""

from __future__ import annotations

import json

import pytest

from ailib import ManifestError, Message, Tool, ToolCall
from ailib.errors import OutputJSONError, ParameterError, ToolArgumentsError, UnsupportedError

from .unit_support import collect, contents, data_event, json_response, sse_body, sse_response

WEATHER = Tool(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = Tool("get_time", "", {"type": "object", "properties": {}})


def openai_completion(message: dict, finish: str = "tool_calls") -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


CALL_PARIS = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


# --- OpenAI chat: request -------------------------------------------------------------


async def test_openai_tools_and_choice_on_the_wire(make_client):
    client, server = await make_client(
        "openai/gpt-4o", json_response(200, openai_completion({"content": "hi"}, "stop"))
    )
    await client.chat().user("Weather in Paris?").tools([WEATHER, TIME]).tool_choice("auto").execute()
    body = server.body()
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        },
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
    ]
    assert body["tool_choice"] == "auto"


@pytest.mark.parametrize(
    ("model", "choice", "wire"),
    [
        ("openai/gpt-4o", "required", "required"),
        ("openai/gpt-4o", "none", "none"),
        ("openai/gpt-4o", "get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        ("mistral/mistral-small-latest", "required", "any"),  # Mistral ToolChoiceEnum: any = must call
    ],
)
async def test_tool_choice_words_per_provider(make_client, model, choice, wire):
    client, server = await make_client(model, json_response(200, openai_completion({"content": "x"}, "stop")))
    await client.chat().user("x").tools([WEATHER]).tool_choice(choice).execute()
    assert server.body()["tool_choice"] == wire


async def test_tool_round_trip_messages_openai(make_client):
    answer = openai_completion({"content": None, "tool_calls": [CALL_PARIS]})
    client, server = await make_client("openai/gpt-4o", [json_response(200, answer), json_response(200, answer)])
    response = await client.chat().user("Weather in Paris?").tools([WEATHER]).execute()
    await (
        client.chat()
        .messages(
            [
                Message.user("Weather in Paris?"),
                Message.assistant(tool_calls=response.tool_calls),
                Message.tool(response.tool_calls[0].id, '{"temp_c": 18}'),
            ]
        )
        .tools([WEATHER])
        .execute()
    )
    assert server.body()["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL_PARIS]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 18}'},
    ]


async def test_together_sends_tool_calls_back_with_their_index(make_client):
    # together/openapi.yaml: ChatCompletionAssistantMessageParam.tool_calls items are ToolChoice,
    # required [id, type, function, index]; Together's own answers carry index (recording
    # ../shared/realworld/together__chat_nonstream_toolcall.json)
    second = dict(CALL_PARIS, id="call_2", function={"name": "get_time", "arguments": "{}"})
    answer = openai_completion({"content": None, "tool_calls": [CALL_PARIS, second]})
    model = "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"
    client, server = await make_client(model, [json_response(200, answer), json_response(200, answer)])
    response = await client.chat().user("Weather and time?").tools([WEATHER, TIME]).execute()
    turns = [Message.user("Weather and time?"), Message.assistant(tool_calls=response.tool_calls)]
    turns += [Message.tool("call_1", '{"temp_c": 18}'), Message.tool("call_2", "noon")]
    await client.chat().messages(turns).tools([WEATHER, TIME]).execute()
    assert server.body()["messages"][1]["tool_calls"] == [
        {"index": 0, **CALL_PARIS},
        {"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]


# --- OpenAI chat: response ------------------------------------------------------------


async def test_openai_response_tool_calls(make_client):
    client, _ = await make_client(
        "openai/gpt-4o", json_response(200, openai_completion({"content": None, "tool_calls": [CALL_PARIS]}))
    )
    response = await client.chat().user("Weather in Paris?").tools([WEATHER]).execute()
    assert response.tool_calls == [ToolCall("call_1", "get_weather", {"city": "Paris"})]
    call = response.tool_calls[0]
    assert (call.id, call.name, call.arguments, call.raw_arguments) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
        '{"city": "Paris"}',
    )
    assert response.finish_reason == "tool_calls"
    assert response.content == ""


async def test_invalid_json_arguments_raise_typed_error_with_the_raw_text(make_client):
    broken = {**CALL_PARIS, "function": {"name": "get_weather", "arguments": '{"city": "Par'}}
    client, _ = await make_client("openai/gpt-4o", json_response(200, openai_completion({"tool_calls": [broken]})))
    response = await client.chat().user("x").tools([WEATHER]).execute()
    call = response.tool_calls[0]
    assert call.raw_arguments == '{"city": "Par'
    with pytest.raises(ToolArgumentsError) as info:
        call.arguments  # noqa: B018
    assert info.value.raw_arguments == '{"city": "Par'
    assert info.value.tool_name == "get_weather"
    assert "get_weather" in str(info.value)


async def test_arguments_that_are_json_but_not_an_object_are_an_error():
    with pytest.raises(ToolArgumentsError, match="not an object"):
        ToolCall("c", "f", raw_arguments="[1, 2]").arguments  # noqa: B018
    assert ToolCall("c", "f", raw_arguments="").arguments == {}  # a tool without arguments


# --- OpenAI chat: streams -------------------------------------------------------------


async def test_openai_stream_arguments_split_across_chunks(make_client):
    events = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": "{}"},
                    }
                ]
            }
        ),
        chunk({}, "tool_calls"),
        "data: [DONE]",
    ]
    client, _ = await make_client(
        "openai/gpt-4o",
        sse_response(sse_body(data_event(e) if isinstance(e, dict) else e for e in events), chunks=[40, 300, 301, 700]),
    )
    got = await collect(client.chat().user("x").tools([WEATHER, TIME]).stream())
    deltas = [e.as_tool_call_delta for e in got if e.is_tool_call_delta]
    assert [(d.index, d.id, d.name, d.arguments) for d in deltas] == [
        (0, "call_1", "get_weather", ""),
        (0, None, None, '{"ci'),
        (0, None, None, 'ty": "Paris"}'),
        (1, "call_2", "get_time", "{}"),
    ]
    calls = [e.as_tool_call for e in got if e.is_tool_call]
    assert calls == [ToolCall("call_1", "get_weather", {"city": "Paris"}), ToolCall("call_2", "get_time", {})]
    kinds = [e.kind for e in got]
    assert kinds[-1] == "finish" and got[-1].as_finish.reason == "tool_calls"
    assert max(i for i, k in enumerate(kinds) if k == "tool_call") < kinds.index("finish")


async def test_mistral_stream_whole_calls_without_index(make_client):
    """Mistral sends parallel calls whole, in one chunk, without `index`."""
    calls = [
        {"id": "a1", "function": {"name": "plus", "arguments": '{"a": 1, "b": 2}'}},
        {"id": "b2", "function": {"name": "minus", "arguments": '{"a": 2, "b": 1}'}},
    ]
    body = sse_body(
        [
            data_event(chunk({"role": "assistant", "content": ""})),
            data_event(chunk({"tool_calls": calls}, "tool_calls")),
            "data: [DONE]",
        ]
    )
    client, _ = await make_client("mistral/mistral-large-latest", sse_response(body))
    got = await collect(client.chat().user("x").tools([Tool("plus"), Tool("minus")]).stream())
    assert [(c.id, c.name, c.arguments) for c in (e.as_tool_call for e in got if e.is_tool_call)] == [
        ("a1", "plus", {"a": 1, "b": 2}),
        ("b2", "minus", {"a": 2, "b": 1}),
    ]
    assert [e.as_tool_call_delta.index for e in got if e.is_tool_call_delta] == [0, 1]


async def test_stream_with_a_finish_reason_after_each_call(make_client):
    """Together repeats finish_reason after each of several calls: each is delivered once."""
    events = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c0",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Boston"}'},
                    }
                ]
            },
            "tool_calls",
        ),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Chicago"}'},
                    }
                ]
            },
            "tool_calls",
        ),
    ]
    client, _ = await make_client("together/m", sse_response(sse_body([*map(data_event, events), "data: [DONE]"])))
    got = await collect(client.chat().user("x").tools([WEATHER]).stream())
    assert [e.as_tool_call.arguments["city"] for e in got if e.is_tool_call] == ["Boston", "Chicago"]


# --- Anthropic ------------------------------------------------------------------------


ANTHROPIC_STREAM = [
    (
        "message_start",
        {"type": "message_start", "message": {"model": "claude", "usage": {"input_tokens": 20, "output_tokens": 1}}},
    ),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Checking."}},
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
        },
    ),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ""}},
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": "Pa'},
        },
    ),
    ("ping", {"type": "ping"}),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": 'ris"}'}},
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 30}}),
    ("message_stop", {"type": "message_stop"}),
]


async def test_anthropic_stream_input_json_delta(make_client):
    body = sse_body(data_event(obj, name) for name, obj in ANTHROPIC_STREAM)
    client, _ = await make_client("anthropic/claude-3-5-sonnet-latest", sse_response(body, chunks=[500, 900]))
    got = await collect(client.chat().user("x").tools([WEATHER]).stream())
    assert contents(got) == "Checking."
    assert [
        (d.index, d.id, d.name, d.arguments) for d in (e.as_tool_call_delta for e in got if e.is_tool_call_delta)
    ] == [
        (0, "toolu_1", "get_weather", ""),
        (0, None, None, '{"city": "Pa'),
        (0, None, None, 'ris"}'),
    ]
    kinds = [e.kind for e in got]
    # delivered at its content_block_stop, before the message's end
    assert kinds.index("tool_call") < kinds.index("usage")
    assert [e.as_tool_call for e in got if e.is_tool_call] == [ToolCall("toolu_1", "get_weather", {"city": "Paris"})]


async def test_anthropic_request_tools_choice_and_tool_results(make_client):
    answer = {
        "type": "message",
        "model": "claude",
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 6},
    }
    client, server = await make_client(
        "anthropic/claude-3-5-sonnet-latest", [json_response(200, answer), json_response(200, answer)]
    )
    response = (
        await client.chat().system("terse").user("Weather?").tools([WEATHER, TIME]).tool_choice("required").execute()
    )
    assert server.body()["tools"][0] == {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    assert server.body()["tool_choice"] == {"type": "any"}
    assert response.content == "Let me check."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("toolu_1", "get_weather", {"city": "Paris"}),
        ("toolu_2", "get_time", {}),
    ]
    assert response.finish_reason == "tool_calls"
    await (
        client.chat()
        .messages(
            [
                Message.user("Weather?"),
                Message.assistant("Let me check.", tool_calls=response.tool_calls),
                Message.tool("toolu_1", "18C"),
                Message.tool("toolu_2", "noon"),
            ]
        )
        .tools([WEATHER, TIME])
        .tool_choice("get_time")
        .execute()
    )
    body = server.body()
    assert body["tool_choice"] == {"type": "tool", "name": "get_time"}
    assert body["messages"] == [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [  # parallel results: one user turn
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "noon"},
            ],
        },
    ]


async def test_anthropic_structured_output_is_a_forced_tool(make_client):
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    answer = {
        "type": "message",
        "content": [{"type": "tool_use", "id": "t", "name": "person", "input": {"name": "Ada"}}],
        "stop_reason": "tool_use",
        "usage": {},
    }
    client, server = await make_client("anthropic/claude-3-5-sonnet-latest", json_response(200, answer))
    response = await client.chat().user("x").response_format(json_schema=schema, name="person").execute()
    assert server.body()["tools"] == [
        {"name": "person", "description": "Answer with this JSON structure.", "input_schema": schema}
    ]
    assert server.body()["tool_choice"] == {"type": "tool", "name": "person"}
    assert response.parsed == {"name": "Ada"}
    assert response.tool_calls == []
    with pytest.raises(UnsupportedError, match="anthropic does not support JSON mode"):
        client.chat().user("x").json_mode().build()


# --- Gemini ---------------------------------------------------------------------------


async def test_gemini_function_calls_and_responses(make_client):
    answer = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                        {"functionCall": {"name": "get_time", "args": {}}},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7},
    }
    client, server = await make_client(
        "gemini/gemini-2.0-flash", [json_response(200, answer), json_response(200, answer)]
    )
    response = await client.chat().user("Weather?").tools([WEATHER, TIME]).tool_choice("get_weather").execute()
    body = server.body()
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "parametersJsonSchema": WEATHER.parameters,
                },
                {"name": "get_time", "parametersJsonSchema": {"type": "object", "properties": {}}},
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        (None, "get_weather", {"city": "Paris"}),
        (None, "get_time", {}),
    ]
    assert response.finish_reason == "stop"  # Gemini says STOP for a function call
    # no ids: each result answers the call at its position
    await (
        client.chat()
        .messages(
            [
                Message.user("Weather?"),
                Message.assistant(tool_calls=response.tool_calls),
                Message.tool(None, '{"temp_c": 18}'),  # type: ignore[arg-type]
                Message.tool(None, "noon"),  # type: ignore[arg-type]
            ]
        )
        .tools([WEATHER, TIME])
        .execute()
    )
    assert server.body()["contents"] == [
        {"role": "user", "parts": [{"text": "Weather?"}]},
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_time", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp_c": 18}}},
                {"functionResponse": {"name": "get_time", "response": {"result": "noon"}}},
            ],
        },
    ]


async def test_gemini_stream_whole_function_call_parts(make_client):
    events = [
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
                    }
                }
            ]
        },
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2, "totalTokenCount": 3},
        },
    ]
    client, _ = await make_client("gemini/gemini-2.0-flash", sse_response(sse_body(map(data_event, events))))
    got = await collect(client.chat().user("x").tools([WEATHER]).stream())
    assert [e.kind for e in got][:2] == ["tool_call_delta", "tool_call"]  # delivered as it arrives
    assert got[1].as_tool_call == ToolCall(None, "get_weather", {"city": "Paris"})


async def test_gemini_structured_output_and_json_mode(make_client):
    answer = {"candidates": [{"content": {"parts": [{"text": '{"name": "Ada"}'}]}, "finishReason": "STOP"}]}
    client, server = await make_client("gemini/gemini-2.0-flash", [json_response(200, answer)] * 2)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    response = await client.chat().user("x").response_format(json_schema=schema).execute()
    assert server.body()["generationConfig"] == {"responseMimeType": "application/json", "responseJsonSchema": schema}
    assert response.parsed == {"name": "Ada"}
    await client.chat().user("x").json_mode().execute()
    assert server.body()["generationConfig"] == {"responseMimeType": "application/json"}


# --- Cohere v2 ------------------------------------------------------------------------


async def test_cohere_stream_tool_plan_and_calls(make_client):
    def ev(kind: str, **fields):
        return data_event({"type": kind, **fields}, kind)

    events = [
        ev("message-start", delta={"message": {"role": "assistant", "tool_plan": "", "tool_calls": []}}),
        ev("tool-plan-delta", delta={"message": {"tool_plan": "I will look."}}),
        ev(
            "tool-call-start",
            index=0,
            delta={
                "message": {
                    "tool_calls": {"id": "t0", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
                }
            },
        ),
        ev("tool-call-delta", index=0, delta={"message": {"tool_calls": {"function": {"arguments": '{"city":'}}}}),
        ev("tool-call-delta", index=0, delta={"message": {"tool_calls": {"function": {"arguments": ' "Tokyo"}'}}}}),
        ev("tool-call-end", index=0),
        ev(
            "message-end",
            delta={"finish_reason": "TOOL_CALL", "usage": {"tokens": {"input_tokens": 9, "output_tokens": 8}}},
        ),
        "data: [DONE]",
    ]
    client, server = await make_client("cohere/command-r", sse_response(sse_body(events)))
    got = await collect(client.chat().user("x").tools([WEATHER]).tool_choice("required").stream())
    assert server.body()["tool_choice"] == "REQUIRED"
    assert contents(got) == ""
    assert "".join(e.as_reasoning_delta.text for e in got if e.is_reasoning_delta) == "I will look."
    kinds = [e.kind for e in got]
    assert kinds.index("tool_call") < kinds.index("usage")
    assert [e.as_tool_call for e in got if e.is_tool_call] == [ToolCall("t0", "get_weather", {"city": "Tokyo"})]
    assert got[-1].as_finish.reason == "tool_calls"


async def test_cohere_refuses_a_named_tool_choice(make_client):
    client, server = await make_client("cohere/command-r", json_response(200, {}))
    with pytest.raises(UnsupportedError, match="REQUIRED or NONE"):
        await client.chat().user("x").tools([WEATHER]).tool_choice("get_weather").execute()
    assert server.calls == 0


# --- structured output (OpenAI shape) and refusals ------------------------------------


async def test_openai_response_format_and_parsed(make_client):
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    client, server = await make_client(
        "openai/gpt-4o", [json_response(200, openai_completion({"content": '{"n": 3}'}, "stop"))] * 3
    )
    response = await client.chat().user("x").response_format(json_schema=schema, name="count", strict=True).execute()
    assert server.body()["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "count", "schema": schema, "strict": True},
    }
    assert response.parsed == {"n": 3}
    await client.chat().user("x").json_mode().execute()
    assert server.body()["response_format"] == {"type": "json_object"}


async def test_structured_output_that_is_not_json_is_a_typed_error(make_client):
    client, _ = await make_client(
        "openai/gpt-4o", json_response(200, openai_completion({"content": "Sure! {n: 3}"}, "stop"))
    )
    with pytest.raises(OutputJSONError) as info:
        await client.chat().user("x").json_mode().execute()
    assert info.value.raw_text == "Sure! {n: 3}"


@pytest.mark.parametrize(
    ("model", "build", "reason"),
    [
        ("replicate/meta/meta-llama-3-8b-instruct", lambda c: c.tools([WEATHER]), "replicate does not support tools"),
        ("perplexity/sonar", lambda c: c.tools([WEATHER]), "perplexity does not support tools"),
        ("together/m", lambda c: c.tools([WEATHER]).tool_choice("none"), "tool_choice 'none'"),
        ("deepseek/deepseek-chat", lambda c: c.response_format(json_schema={"type": "object"}), "no JSON schema"),
        (
            "replicate/meta/meta-llama-3-8b-instruct",
            lambda c: c.messages([Message.tool("x", "y")]),
            "does not support tool calls",
        ),
    ],
)
async def test_refused_before_sending_with_the_manifests_reason(make_client, model, build, reason):
    client, server = await make_client(model, json_response(200, {}))
    with pytest.raises(UnsupportedError, match=reason):
        await build(client.chat().user("x")).execute()
    assert server.calls == 0


async def test_caller_mistakes_are_parameter_errors(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, {}))
    with pytest.raises(ParameterError, match="neither auto, none, required nor one of the tools"):
        client.chat().user("x").tools([WEATHER]).tool_choice("get_wether").build()
    with pytest.raises(ParameterError, match=r"needs \.tools"):
        client.chat().user("x").tool_choice("auto").build()
    with pytest.raises(ParameterError, match="unique"):
        client.chat().user("x").tools([WEATHER, WEATHER]).build()
    with pytest.raises(ParameterError, match="Tool objects"):
        client.chat().user("x").tools([{"name": "f"}])  # type: ignore[list-item]
    with pytest.raises(ParameterError, match="needs the id"):
        client.chat().messages([Message.user("x"), Message.tool(None, "y")]).build()  # type: ignore[arg-type]
    assert server.calls == 0


def test_tool_call_value_semantics():
    call = ToolCall("c1", "f", {"a": 1})
    assert call.raw_arguments == json.dumps({"a": 1})
    assert call == ToolCall("c1", "f", raw_arguments='{"a": 1}')
    assert repr(call) == "ToolCall(id='c1', name='f', arguments={'a': 1})"
    assert "invalid JSON" in repr(ToolCall("c", "f", raw_arguments="{"))


async def test_pieces_that_repeat_id_and_name_continue_one_call(make_client):
    """AI-Protocol compliance cases str-007 / str-008 (tests/compliance/cases/04-streaming/
    tool-accumulation.yaml in ailib-official/ai-protocol): every piece repeats index, id and
    name; the arguments are assembled into one call."""
    pieces = ['{"query":"', 'AI protocol","limit":', "10}"]
    events = [
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_abc", "type": "function", "function": {"name": "search", "arguments": p}}
                ]
            }
        )
        for p in pieces
    ]
    body = sse_body([*map(data_event, events), data_event(chunk({}, "tool_calls")), "data: [DONE]"])
    client, _ = await make_client("openai/gpt-4o", sse_response(body))
    got = await collect(client.chat().user("x").tools([Tool("search")]).stream())
    calls = [e.as_tool_call for e in got if e.is_tool_call]
    assert len(calls) == 1
    assert (calls[0].id, calls[0].name, calls[0].raw_arguments) == (
        "call_abc",
        "search",
        '{"query":"AI protocol","limit":10}',
    )
    assert calls[0].arguments == {"query": "AI protocol", "limit": 10}


def test_openai_continuation_shortcut_reads_odd_pieces_like_any_other():
    """A piece that continues a started call is read by subscripts in a function compiled per
    stream route (ailib.tool_steps); pieces that only look like one (a bool or float index,
    which hash like the int keys of started calls, an id or a name, a non-string or empty
    fragment, a non-dict item) must come out as the general reader makes them: through the
    accumulators alone, and through the OpenAI and Cohere stream decoders (Cohere: the index
    on the event, unless the piece has its own). Expected events written by hand."""
    from ailib import manifest
    from ailib.codecs import CODECS
    from ailib.tools import OpenAIToolCalls, ToolCallAccumulator, openai_piece

    def fn(args, **more):
        return {"function": {"arguments": args, **more}}

    pieces = [
        {"index": 1, "id": "b", **fn("", name="g")},  # call 0
        {"index": 0, "id": "a", **fn("", name="f")},  # call 1, the last started
        {"index": True, **fn("[T]")},  # not an index: continues the last call, not index 1
        {"index": 1.0, **fn("[F]")},  # likewise
        {"index": 1, **fn("[1]")},
        {"index": 0, **fn({"k": 1})},  # an object: dumped as JSON text
        {"index": 0, **fn("")},  # nothing to tell
        {"index": 0, "id": "a", **fn("[id]")},
        {"index": 1, **fn("[n]", name="g")},
        "not a call",
        {"index": 1},
    ]
    want_deltas = [
        (0, "b", "g", ""),
        (1, "a", "f", ""),
        (1, None, None, "[T]"),
        (1, None, None, "[F]"),
        (0, None, None, "[1]"),
        (1, None, None, '{"k": 1}'),
        (1, "a", None, "[id]"),
        (0, None, "g", "[n]"),
    ]
    for kind in (OpenAIToolCalls, ToolCallAccumulator):
        acc = kind(openai_piece)
        out: list = []
        for piece in pieces:
            acc.feed([piece], None, out)
        acc.flush(out)
        deltas = [(d.index, d.id, d.name, d.arguments) for d in (e.as_tool_call_delta for e in out[:-2])]
        assert deltas == want_deltas, kind.__name__
        calls = [(c.id, c.name, c.raw_arguments) for c in (e.as_tool_call for e in out[-2:])]
        assert calls == [("b", "g", "[1][n]"), ("a", "f", '[T][F]{"k": 1}[id]')], kind.__name__

    def cohere_event(piece):
        message = {"tool_calls": piece}
        return data_event({"type": "tool-call-delta", "index": 7, "delta": {"message": message}}, "tool-call-delta")

    # Cohere sends one object per event, with the call's index on the event (7 here): it is
    # used where the piece carries no index of its own, or one that is not an int (a bool,
    # a float), so those start call 7 where OpenAI's continue the last call.
    cohere_deltas = [d if d[3] not in ("[T]", "[F]") else (2, None, None, d[3]) for d in want_deltas]
    streams = {
        "openai": (
            [data_event(chunk({"tool_calls": [piece]})) for piece in pieces] + [data_event(chunk({}, "tool_calls"))],
            want_deltas,
            [("b", "g", "[1][n]"), ("a", "f", '[T][F]{"k": 1}[id]')],
        ),
        "cohere": (
            [cohere_event(piece) for piece in [*pieces, fn("[7]")]]
            + [data_event({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}, "message-end")],
            [*cohere_deltas, (2, None, None, "[7]")],
            [("b", "g", "[1][n]"), ("a", "f", '{"k": 1}[id]'), (None, None, "[T][F][7]")],
        ),
    }
    for provider, (events, deltas_want, calls_want) in streams.items():
        m = manifest.load(provider)
        decoder = CODECS[m.family](m, "m").stream_decoder()
        out = decoder.feed(sse_body(events)) + decoder.close()
        assert out[-1].as_finish.reason == "tool_calls"
        deltas = [
            (d.index, d.id, d.name, d.arguments) for d in (e.as_tool_call_delta for e in out if e.is_tool_call_delta)
        ]
        assert deltas == deltas_want, provider
        calls = [(c.id, c.name, c.raw_arguments) for c in (e.as_tool_call for e in out if e.is_tool_call)]
        assert calls == calls_want, provider


def test_compiled_continuation_events_are_the_events_the_constructors_make():
    """The compiled reader builds a continuation's event slot by slot (no __init__ call):
    every slot must hold what StreamingEvent(ToolCallDelta(...)) holds, so a slot added to
    either class and set in its __init__ fails here rather than going missing."""
    from ailib.tool_steps import compile_step
    from ailib.tools import OpenAIToolCalls, openai_piece
    from ailib.types import StreamingEvent, ToolCallDelta

    acc = OpenAIToolCalls(openai_piece)
    started: list = []
    acc.feed([{"index": 3, "id": "c", "function": {"name": "f", "arguments": ""}}], None, started)
    step = compile_step("choices.0.delta.tool_calls", None, OpenAIToolCalls.continuation)
    out: list = []
    event = {"choices": [{"delta": {"tool_calls": [{"index": 3, "function": {"arguments": '{"a"'}}]}}]}
    assert step(event, acc.by_index, out) is None
    want = StreamingEvent(StreamingEvent.TOOL_CALL_DELTA, ToolCallDelta(0, None, None, '{"a"'))
    (got,) = out

    def slots(obj):
        names = [n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())]
        assert names, type(obj)
        return {n: getattr(obj, n) for n in names}

    assert type(got) is StreamingEvent and type(got._payload) is ToolCallDelta
    assert {k: v for k, v in slots(got).items() if k != "_payload"} == {"kind": "tool_call_delta"}
    assert slots(got._payload) == slots(want._payload) == {"arguments": '{"a"', "id": None, "index": 0, "name": None}
    assert got == want
    acc.flush(out)
    assert out[-1].as_tool_call.raw_arguments == '{"a"'


def test_hostile_tool_inputs_are_typed_errors():
    with pytest.raises(ParameterError, match="non-empty string"):
        Tool("")
    with pytest.raises(ParameterError, match="not JSON data"):
        Tool("f", "", {"type": "object", "enum": {1, 2}})
    with pytest.raises(ParameterError, match="not JSON data"):
        ToolCall("c", "f", {"x": float("nan")})
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ToolArgumentsError):
        ToolCall("c", "f", raw_arguments=deep).arguments  # noqa: B018
    assert ParameterError.__mro__[1].__name__ == "AiLibError"


async def test_hostile_tool_call_shapes_in_answers(make_client):
    weird = [
        "not a call",
        {"id": 5, "function": "nope"},
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}},  # an object, not text
        {"id": "d", "type": "function", "function": {"name": "g", "arguments": 7}},
    ]
    client, _ = await make_client("openai/gpt-4o", json_response(200, openai_completion({"tool_calls": weird})))
    response = await client.chat().user("x").tools([WEATHER]).execute()
    assert [(c.id, c.name) for c in response.tool_calls] == [("c", "f"), ("d", "g")]
    assert response.tool_calls[0].arguments == {"a": 1}
    with pytest.raises(ToolArgumentsError, match="not an object"):
        response.tool_calls[1].arguments  # noqa: B018


async def test_response_format_schema_must_be_json(make_client):
    client, _ = await make_client("openai/gpt-4o", json_response(200, {}))
    with pytest.raises(ParameterError, match="not JSON data"):
        client.chat().user("x").response_format(json_schema={"type": "object", "x": object()})


# --- the manifest side --------------------------------------------------------------------


def _openai_manifest() -> dict:
    import yaml

    from ailib.manifest import default_manifests_dir

    return yaml.safe_load((default_manifests_dir() / "openai.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("edit", "path", "word"),
    [
        (lambda d: d["tools"]["choice"].update(forced="any"), "$.tools.choice", "forced"),
        (lambda d: d["tools"]["choice"].update(named="yes"), "$.tools.choice.named", "boolean"),
        (lambda d: d["tools"].update(unsupported={"required": "no"}), "$.tools.unsupported.required", "short"),
        (lambda d: d["capabilities"].update(tools="yes"), "$.capabilities.tools", ""),
        (lambda d: d["response"].update(tool_calls="choices.0.[message]"), "$.response.tool_calls", ""),
        (lambda d: d["stream"]["routes"]["*"].update(tool_end="yes"), "$.stream.routes.*.tool_end", "boolean"),
    ],
)
def test_schema_checks_the_tool_fields(edit, path, word):
    from ailib.manifest import parse_manifest

    data = _openai_manifest()
    edit(data)
    with pytest.raises(ManifestError) as info:
        parse_manifest(data, "openai.yaml")
    assert info.value.path == path
    assert word in info.value.reason


def test_declared_tools_need_somewhere_to_read_calls_from():
    from ailib.manifest import parse_manifest

    data = _openai_manifest()
    del data["response"]["tool_calls"]
    with pytest.raises(ManifestError, match="no path to the tool calls"):
        parse_manifest(data, "openai.yaml")
    data = _openai_manifest()
    del data["stream"]["routes"]["*"]["tool_calls"]
    with pytest.raises(ManifestError, match="no route reads tool_calls"):
        parse_manifest(data, "openai.yaml")


def test_tool_choice_capabilities_come_from_the_choice_words():
    from ailib.manifest import parse_manifest

    data = _openai_manifest()
    del data["tools"]["choice"]["required"]
    data["tools"]["unsupported"] = {"required": "not in this provider's docs, for the test"}
    manifest = parse_manifest(data, "openai.yaml")
    assert manifest.capability("tool_choice_auto").supported
    assert manifest.capability("tool_choice_required").reason == "not in this provider's docs, for the test"
    data["capabilities"]["tools"] = {"supported": False, "reason": "no tools in this test manifest"}
    manifest = parse_manifest(data, "openai.yaml")
    assert manifest.capability("tool_choice_named").reason == "no tools in this test manifest"


async def test_a_manifest_with_named_but_no_required_word_is_a_manifest_error(tmp_path, make_client):
    import yaml

    from ailib.manifest import default_manifests_dir

    data = yaml.safe_load((default_manifests_dir() / "gemini.yaml").read_text(encoding="utf-8"))
    del data["tools"]["choice"]["required"]
    (tmp_path / "gemini.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    client, server = await make_client("gemini/gemini-2.0-flash", json_response(200, {}), manifests_dir=tmp_path)
    with pytest.raises(ManifestError, match="named: true needs the `required` word"):
        client.chat().user("x").tools([WEATHER]).tool_choice("get_weather").build()
    assert server.calls == 0
