"""The public value types' own rules: what they refuse, how they compare, how they print.

Each of these was exercised only incidentally (by the property tests, which are not traced
for coverage); here each rule is stated once, with the input that shows it.
"""

from __future__ import annotations

import pytest

from ailib import Message, Tool, ToolCall
from ailib.errors import ParameterError
from ailib.stream import as_text
from ailib.types import ContentDelta, MessageRole, StreamingEvent, ToolCallDelta

# --- Tool ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", None, 3])
def test_a_tool_needs_a_name(name: object) -> None:
    with pytest.raises(ParameterError, match="Tool name must be a non-empty string"):
        Tool(name, "d")  # type: ignore[arg-type]


def test_a_tool_description_must_be_text() -> None:
    with pytest.raises(ParameterError, match=r"Tool 'get_weather': description must be a string"):
        Tool("get_weather", 42)  # type: ignore[arg-type]


def test_tool_parameters_must_be_a_schema_object() -> None:
    with pytest.raises(ParameterError, match=r"Tool 'get_weather': parameters must be a JSON Schema object"):
        Tool("get_weather", "d", ["city"])  # type: ignore[arg-type]


def test_tool_parameters_must_be_json_data() -> None:
    with pytest.raises(ParameterError, match=r"Tool 'get_weather': parameters is not JSON data"):
        Tool("get_weather", "d", {"type": "object", "enum": {1, 2}})


# --- ToolCall -----------------------------------------------------------------------------


def test_tool_calls_compare_by_id_name_and_parsed_arguments() -> None:
    a = ToolCall("call_1", "get_weather", raw_arguments='{"city": "Paris"}')
    assert a == ToolCall("call_1", "get_weather", {"city": "Paris"})  # same JSON, other spacing
    assert a != ToolCall("call_2", "get_weather", {"city": "Paris"})
    assert a != ToolCall("call_1", "get_time", {"city": "Paris"})
    assert a != ToolCall("call_1", "get_weather", {"city": "Rome"})
    assert a != ("call_1", "get_weather", {"city": "Paris"})  # not a ToolCall: not equal, no error


def test_tool_calls_with_invalid_json_compare_by_their_text() -> None:
    broken = ToolCall("call_1", "f", raw_arguments='{"city": "Par')
    assert broken == ToolCall("call_1", "f", raw_arguments='{"city": "Par')
    assert broken != ToolCall("call_1", "f", raw_arguments='{"city": "Rom')


def test_a_tool_call_repr_shows_invalid_arguments_without_raising() -> None:
    shown = repr(ToolCall("call_1", "f", raw_arguments='{"a": '))
    assert shown == "ToolCall(id='call_1', name='f', arguments=<invalid JSON '{\"a\": '>)"


def test_a_tool_call_delta_repr_names_every_field() -> None:
    assert repr(ToolCallDelta(1, None, None, '"Par')) == "ToolCallDelta(index=1, id=None, name=None, arguments='\"Par')"


# --- Message ------------------------------------------------------------------------------


def test_a_message_role_given_as_text_becomes_the_enum_member() -> None:
    assert Message("user", "hi").role is MessageRole.USER  # type: ignore[arg-type]


def test_a_message_keeps_its_tool_calls_as_a_tuple() -> None:
    call = ToolCall("call_1", "f", {})
    message = Message(MessageRole.ASSISTANT, "", [call])  # type: ignore[arg-type]
    assert message.tool_calls == (call,)
    assert isinstance(message.tool_calls, tuple)  # frozen: a caller's list cannot change it later


# --- StreamingEvent -----------------------------------------------------------------------


def test_a_reasoning_delta_is_not_content() -> None:
    event = StreamingEvent.reasoning_delta("thinking")
    assert event.is_reasoning_delta and not event.is_content_delta
    assert event.content is None
    assert event.as_reasoning_delta.content == "thinking"  # ContentDelta.content: the text


def test_events_of_different_kinds_are_not_equal() -> None:
    assert StreamingEvent.content_delta("x") != StreamingEvent.reasoning_delta("x")
    assert StreamingEvent.content_delta("x") != "x"
    assert StreamingEvent.content_delta("x") == StreamingEvent(StreamingEvent.CONTENT, ContentDelta("x"))


def test_tool_call_delta_events_compare_field_by_field() -> None:
    def delta(arguments: str) -> StreamingEvent:
        return StreamingEvent(StreamingEvent.TOOL_CALL_DELTA, ToolCallDelta(0, "call_1", "f", arguments))

    assert delta('{"a"') == delta('{"a"')
    assert delta('{"a"') != delta('{"b"')


def test_event_repr_shows_the_kind_and_what_it_carries() -> None:
    assert repr(StreamingEvent.content_delta("Hi")) == "StreamingEvent(content_delta, 'Hi')"
    call = ToolCall("call_1", "f", {"a": 1})
    assert repr(StreamingEvent(StreamingEvent.TOOL_CALL, call)) == f"StreamingEvent(tool_call, {call!r})"


# --- stream content as text ---------------------------------------------------------------


def test_typed_content_chunks_are_read_as_their_text() -> None:
    # Mistral's typed content chunks (docs.mistral.ai: "content": [{"type": "text", "text": ...}])
    chunks = ["a", {"type": "text", "text": "b"}, {"text": "c"}, {"type": "image_url", "image_url": "u"}, 7]
    assert as_text(chunks) == "abc"


@pytest.mark.parametrize("value", [None, "text"])
def test_text_and_none_are_read_as_they_are(value: str | None) -> None:
    assert as_text(value) == value


def test_content_that_is_neither_text_nor_chunks_is_no_text() -> None:
    assert as_text({"text": "a"}) is None
    assert as_text(12) is None
