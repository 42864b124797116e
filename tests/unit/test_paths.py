"""ailib.paths: manifest paths compiled to getters."""

from __future__ import annotations

import pytest

from ailib.paths import compile_path, parse, set_path

OPENAI = {
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
BLOCKS = {
    "content": [
        {"type": "thinking", "thinking": "hmm"},
        {"type": "text", "text": "Hello, "},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
        {"type": "text", "text": "world"},
    ]
}
PARTS = {"parts": [{"text": "plan", "thought": True}, {"text": "A"}, {"text": "B", "thought": False}]}


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("model", OPENAI, "gpt-4o"),
        ("usage.total_tokens", OPENAI, 4),
        ("choices.0.message.content", OPENAI, "Hi"),
        ("choices.0.finish_reason", OPENAI, "stop"),
        ("a.1.b", {"a": [{"b": 1}, {"b": 2}]}, 2),
        ("a.0.0", {"a": [[7, 8]]}, 7),
        ("with-dash.x_y", {"with-dash": {"x_y": True}}, True),
        # a value that is present but falsy is returned as is, not turned into None
        ("a.b", {"a": {"b": 0}}, 0),
        ("a.b", {"a": {"b": ""}}, ""),
        ("a.b", {"a": {"b": False}}, False),
        ("a", {"a": {"b": 1}}, {"b": 1}),
    ],
)
def test_plain_paths_and_indices(path, data, expected):
    assert compile_path(path)(data) == expected


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        # string results are joined (content blocks, parts)
        ("content[*].type", BLOCKS, "thinkingtexttool_usetext"),
        ("content[type=text].text", BLOCKS, "Hello, world"),
        ("content[type=thinking].thinking", BLOCKS, "hmm"),
        ("content[type=image].text", BLOCKS, None),
        ("parts[thought].text", PARTS, "plan"),
        ("parts[!thought].text", PARTS, "AB"),
        ("content[name].name", BLOCKS, "f"),
        ("content[!name].type", BLOCKS, "thinkingtexttext"),
        ("content[!name].n", {"content": [{"n": 1}, {"n": 2, "name": "x"}, {"n": 3}]}, [1, 3]),
        # items without the tail are skipped; non-string results come back as a list
        ("content[*].id", BLOCKS, "t1"),
        ("x[*].n", {"x": [{"n": 1}, {"n": 2}, {"m": 3}]}, [1, 2]),
        ("x[*].n", {"x": []}, None),
        # non-dict items never match a filter
        ("x[*].n", {"x": ["s", 3, None, [1], {"n": "ok"}]}, "ok"),
        # a nested tail after the filter
        ("m.content[type=text].meta.lang", {"m": {"content": [{"type": "text", "meta": {"lang": "en"}}]}}, "en"),
        # a filter as the last segment selects the items themselves
        ("x[k=v]", {"x": [{"k": "v", "n": 1}, {"k": "w"}]}, [{"k": "v", "n": 1}]),
        # a filter with an index in its tail
        ("a[*].b.0", {"a": [{"b": ["x", "y"]}, {"b": ["z"]}]}, "xz"),
    ],
)
def test_filters(path, data, expected):
    assert compile_path(path)(data) == expected


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("missing", {}),
        ("a.b.c", {"a": {}}),
        ("choices.0.delta.content", {"choices": []}),
        ("choices.3", {"choices": [1]}),
        ("a.b", {"a": None}),
        ("a.0", {"a": {"0": "string key, not an index"}}),
        ("a.b", None),
        ("a.b", "text"),
        ("a.b", 42),
        ("a.b", [1, 2]),
        ("a.b", {"a": [{"b": 1}]}),  # a key looked up in a list
        ("a.b", {"a": "text"}),  # a key looked up in a string
        ("a.b", {"a": 5}),
        ("a.0", {"a": 5}),
        ("a.0", {"a": None}),
    ],
)
def test_missing_and_wrong_types_give_none(path, data):
    assert compile_path(path)(data) is None


@pytest.mark.parametrize("items", [None, 5, 1.5, True, {"b": "dict, not list"}, "a string"])
def test_filter_over_a_non_list_gives_none(items):
    """A filtered path over a value that is not a list is a wrong type: None, no exception."""
    assert compile_path("a[*].b")({"a": items}) is None
    assert compile_path("a[type=text].text")({"a": items}) is None
    assert compile_path("a[!thought].text")({"a": items}) is None


@pytest.mark.parametrize("text", ["xyz", ""])
def test_index_into_a_string_is_a_wrong_type(text):
    """An index selects a list item; a string where a list should be is a wrong type, not a character."""
    assert compile_path("a.0")({"a": text}) is None
    assert compile_path("choices.0")({"choices": text}) is None
    assert compile_path("a[*].b.0")({"a": [{"b": text}, {"b": ["ok"]}]}) == "ok"


def test_empty_path_reads_nothing():
    assert compile_path(None)({"a": 1}) is None
    assert compile_path("")({"a": 1}) is None


@pytest.mark.parametrize(
    "bad",
    ["a..b", ".a", "a.", "a b", "a[x", "a[]", "a[*].b[*]", "1a", "a.b$"],
)
def test_malformed_paths_are_rejected(bad):
    with pytest.raises(ValueError, match="path"):
        compile_path(bad)


def test_keys_are_quoted_not_evaluated():
    """A key is data, never code: names that look like Python stay literal keys."""
    assert compile_path("__class__")({"__class__": 1}) == 1
    assert compile_path("__class__")({}) is None
    assert compile_path("a[x=__import__].y")({"a": [{"x": "__import__", "y": 2}]}) == [2]


def test_parse_splits_segments():
    assert parse("a.b[type=text].c") == [("a", None), ("b", "type=text"), ("c", None)]
    assert parse("choices.0") == [("choices", None), ("0", None)]


def test_set_path_creates_nested_objects():
    body: dict = {"generationConfig": {"topP": 0.5}}
    set_path(body, "generationConfig.temperature", 0.1)
    set_path(body, "model", "m")
    set_path(body, "a.b.c", [1])
    assert body == {"generationConfig": {"topP": 0.5, "temperature": 0.1}, "model": "m", "a": {"b": {"c": [1]}}}
