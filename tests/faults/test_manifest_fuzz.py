"""Bad manifests, fuzzed: a broken manifest is a ManifestError, never anything else.

Hypothesis takes shipped manifests of every wire family (and one without chat), breaks
them at random places -- a key deleted, a value of the wrong type, an unknown key, a
path like ``a..b`` or ``[x``, a huge or negative number, an empty string, None, nested
lists, unicode, line breaks, an odd ``chat:``, capabilities that contradict the
parameters -- and checks the loader's contract:

* ``parse_manifest`` returns a Manifest or raises :class:`ManifestError`, whose ``str``
  is one line naming the file and a ``$``-path;
* ``load_file`` on a file whose text or bytes were corrupted does the same (never a
  UnicodeDecodeError, a YAML error, a KeyError...);
* a manifest that loads is usable: creating a client, building requests (with and
  without parameters, streaming or not) and decoding an answer raise nothing but
  :class:`AiLibError` subclasses -- a half-loaded manifest would fail here.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ailib import AiClient, AiLibError, ManifestError
from ailib import manifest as manifests
from ailib.errors import ConfigurationError

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
#: One manifest per wire family, plus variants: URL variables (azure), an error field in
#: the response (minimax), a default parameter (anthropic), no chat API (jina).
SOURCES = ["openai", "anthropic", "gemini", "cohere", "replicate", "azure", "minimax", "jina"]
TEXTS = {name: (MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8") for name in SOURCES}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
DATA_JSON = {name: json.dumps(data) for name, data in DATA.items()}

#: ``AILIB_FUZZ_SCALE=10`` runs ten times the examples (a deeper local run).
SCALE = float(os.environ.get("AILIB_FUZZ_SCALE", "1"))
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)

# --- what a mutation may put into a manifest ----------------------------------------------

GARBAGE_PATHS = [
    "a..b",
    "[x",
    "0.",
    ".a",
    "a.",
    "",
    " ",
    "a b",
    "choices.0.delta content",
    "x[",
    "x[]",
    "x[!]",
    "a[b=]",
    "a[b][c]",
    "a[*].b[*]",
    "choices.-1",
    "choices.0x1",
    "é.ü",
    "a\nb",
    "a.b\n",
    "\n",
    "a/b",
    "$.a",
    "a[?]",
    "0",
    "00.01",
    "9" * 40,
    "a" * 500,
    "__class__.__init__",
    "'a'",
    '"a"',
    "{model}",
    "a[b=c=d]",
    "a[b=\u00e9]",
]
GARBAGE_STRINGS = [
    "",
    " ",
    "\t",
    "\n",
    "\r\n",
    "x\ny",
    "\u2028",
    "\x00",
    "\x7f",
    "é",
    "中文",
    "😀",
    "\ufeff",
    "null",
    "true",
    "1",
    "-1",
    "1e999",
    "NaN",
    "https://",
    "https://[x",
    "https://0.",
    "https://{model.x}",
    "https://{0}",
    "https://{}",
    "https://{resource}",
    "http://a:99999999",
    "https://a/\x00",
    "https://ex\u00e4mple.com",
    "ftp://x",
    "/",
    "//",
    "/{model}",
    "/a b",
    "Bearer ",
    "field:a..b",
    "field:",
    "sse",
    "none",
    "[DONE]",
    "none\n",
    "openai",
    "openai-chat",
    "anthropic-messages",
    "gemini",
    "cohere-v2",
    "replicate",
    "a" * 300,
    "OPENAI_API_KEY\n",
    "x-api-key",
    "a:b",
    "a b",
    "content-length",
    "stop",
    "other",
    "temperature",
    "2024-10-21",
]
NUMBERS = st.sampled_from(
    [
        0,
        -1,
        1,
        2,
        10**400,
        -(10**400),
        2**63,
        1e308,
        -1e308,
        float("inf"),
        float("-inf"),
        float("nan"),
        0.5,
        -0.0,
        True,
        False,
    ]
)
SCALARS = st.one_of(
    st.none(),
    NUMBERS,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(GARBAGE_STRINGS + GARBAGE_PATHS),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(st.sampled_from(["", "a", "x\ny", "*", "field", "supported", "reason"]), st.text(max_size=6)),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=6,
)
ODD_CHAT = st.sampled_from(
    [
        False,
        None,
        0,
        1,
        "true",
        "yes",
        [],
        {},
        [True],
        {"supported": False},
        {"reason": "no chat API here at all"},
        {"supported": True, "reason": "a long enough reason"},
        {"supported": False, "reason": "short"},
        {"supported": False, "reason": "a long enough reason", "extra": 1},
        {"supported": "false", "reason": "x" * 20},
    ]
)
ODD_CAPABILITY = st.sampled_from(
    [
        True,
        False,
        None,
        "true",
        {"supported": False, "reason": "not offered by this API"},
        {"supported": True},
        {"supported": False},
        {"supported": False, "reason": ""},
        [],
    ]
)
CAPABILITY_NAMES = [
    "streaming",
    "system_messages",
    "multi_turn",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "usage_in_stream",
    "reasoning",
    "tools",
    "",
]
PARAMETER_NAMES = ["temperature", "top_p", "max_tokens", "stop", "seed", ""]
FIELD_SPECS = st.one_of(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(
                [
                    *GARBAGE_PATHS,
                    "messages.t",
                    "model.x",
                    "stream",
                    "model",
                    "input",
                    "input.x",
                    "messages",
                    "contents.0",
                ]
            )
        }
    ),
    st.fixed_dictionaries(
        {"field": st.just("x")},
        optional={
            "min": NUMBERS,
            "max": NUMBERS,
            "max_items": NUMBERS,
            "join": st.sampled_from(["", ",", None, 1]),
            "exclusive_min": st.booleans(),
            "exclusive_max": NUMBERS,
        },
    ),
    VALUES,
)


def locations(data: Any, at: tuple = ()) -> list[tuple]:
    """Every key path in ``data`` (the root is ``()``)."""
    out = [at]
    if isinstance(data, dict):
        for key, value in data.items():
            out += locations(value, (*at, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += locations(value, (*at, index))
    return out


def parent_of(data: Any, where: tuple) -> Any:
    for key in where[:-1]:
        data = data[key]
    return data


def retype(value: Any) -> Any:
    """The same content with a different JSON type."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return [[k, v] for k, v in value.items()]
    return 0


@st.composite
def mutated(draw: st.DrawFn, sources: list[str] = SOURCES) -> tuple[str, dict[str, Any], list[str]]:
    """A shipped manifest with one to four random mutations; also returns what was done."""

    def fresh(strategy: st.SearchStrategy[Any]) -> Any:
        # sampled_from hands out its own objects: a later mutation must not edit the constants
        return copy.deepcopy(draw(strategy))

    name = draw(st.sampled_from(sources))
    data = json.loads(DATA_JSON[name])  # a fresh copy, faster than deepcopy
    done: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        if not isinstance(data, dict):
            break
        op = draw(
            st.sampled_from(
                [
                    "delete",
                    "replace",
                    "path",
                    "retype",
                    "insert",
                    "number",
                    "nest",
                    "chat",
                    "capability",
                    "parameter",
                    "defaults",
                    "family",
                    "section",
                ]
            )
        )
        where = draw(st.sampled_from(locations(data)))
        if op == "chat":
            data["chat"] = fresh(ODD_CHAT)
        elif op == "capability":
            caps = data.setdefault("capabilities", {})
            if isinstance(caps, dict):
                caps[draw(st.sampled_from(CAPABILITY_NAMES))] = fresh(ODD_CAPABILITY)
        elif op == "parameter":
            request = data.get("request")
            if isinstance(request, dict) and isinstance(request.get("parameters"), dict):
                param = draw(st.sampled_from(PARAMETER_NAMES))
                if draw(st.booleans()):
                    request["parameters"].pop(param, None)
                else:
                    request["parameters"][param] = fresh(FIELD_SPECS)
        elif op == "defaults":
            request = data.get("request")
            if isinstance(request, dict):
                request["defaults"] = fresh(st.dictionaries(st.sampled_from(PARAMETER_NAMES), VALUES, max_size=2))
        elif op == "family":
            data["family"] = draw(
                st.sampled_from(
                    [
                        "openai-chat",
                        "anthropic-messages",
                        "gemini",
                        "cohere-v2",
                        "replicate",
                        "none",
                        "",
                        None,
                        "OPENAI-CHAT",
                    ]
                )
            )
        elif op == "section":
            section = draw(
                st.sampled_from(
                    [
                        "headers",
                        "stream_headers",
                        "sync_headers",
                        "body_extras",
                        "stream_extras",
                        "endpoint.query",
                        "endpoint.variables",
                        "errors.classes",
                        "finish_reasons",
                        "request.roles",
                        "auth",
                    ]
                )
            )
            *parents, last = section.split(".")
            node = data
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node[last] = fresh(
                    st.one_of(
                        st.dictionaries(
                            st.sampled_from([*GARBAGE_STRINGS, "x-ok", "a", "user", "env"]),
                            st.one_of(st.sampled_from(GARBAGE_STRINGS), VALUES),
                            max_size=3,
                        ),
                        VALUES,
                    )
                )
        elif not where:  # the root itself
            if op in ("replace", "retype"):
                data = fresh(VALUES) if op == "replace" else retype(data)
        else:
            parent = parent_of(data, where)
            key = where[-1]
            if op == "delete":
                del parent[key]
            elif op == "replace":
                parent[key] = fresh(VALUES)
            elif op == "path":
                parent[key] = draw(st.sampled_from(GARBAGE_PATHS))
            elif op == "retype":
                parent[key] = retype(parent[key])
            elif op == "number":
                parent[key] = fresh(NUMBERS)
            elif op == "nest":
                parent[key] = [[parent[key]]] if draw(st.booleans()) else {"": [parent[key], None]}
            elif op == "insert":
                target = parent[key] if isinstance(parent[key], dict) else parent
                if isinstance(target, dict):
                    target[draw(st.sampled_from(["colour", "", "x\ny", "é", "$ref", "1", "content ", "Content"]))] = (
                        fresh(VALUES)
                    )
                else:
                    target.insert(0, fresh(VALUES))
        done.append(f"{op} at {where!r}")
    return name, data, done


# --- the contract ---------------------------------------------------------------------------


def assert_one_line(error: ManifestError, file: str) -> None:
    text = str(error)
    assert len(text.splitlines()) == 1 and "\n" not in text and "\r" not in text, repr(text)
    assert text.startswith(f"{file}: "), text
    assert error.file == file
    assert error.path.startswith("$") or error.path.startswith("line "), error.path
    assert error.path in text and error.reason in text


def parse_or_error(data: Any) -> manifests.Manifest | None:
    try:
        return manifests.parse_manifest(data, "x.yaml")
    except ManifestError as error:
        caught = error
    assert_one_line(caught, "x.yaml")
    assert caught.path.startswith("$"), caught.path
    return None


OPENAI_BODY = {
    "id": "c",
    "model": "m",
    "choices": [{"index": 0, "message": {"content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1},
}
SSE_BODY = b'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


def _answer(request: httpx.Request) -> httpx.Response:
    if b'"stream":true' in request.content or request.headers.get("accept") == "text/event-stream":
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=SSE_BODY)
    return httpx.Response(200, json=OPENAI_BODY)


async def _use(manifest: manifests.Manifest) -> None:
    """Everything a caller does with a freshly loaded manifest; only AiLibErrors may come out."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(_answer)) as http:
        with mock.patch.object(manifests, "load", return_value=manifest):
            try:
                client = await AiClient.create("fuzzed/some-model", api_key="sk-fuzz", http_client=http, max_retries=0)
            except AiLibError:
                return
        await _exercise(client)


async def _exercise(client: AiClient) -> None:
    builders = [
        lambda: client.chat().user("x"),
        lambda: client.chat().system("s").user("x").assistant("y").user("z"),
        lambda: client.chat().user("x").temperature(0.5).top_p(0.5).max_tokens(16).stop(["x"]),
    ]
    for make in builders:
        for stream in (False, True):
            with contextlib.suppress(AiLibError):
                make().build(stream=stream)
    with contextlib.suppress(AiLibError):
        await client.chat().user("x").execute()
    try:
        async for _ in client.chat().user("x").stream():
            pass
    except AiLibError:
        pass
    await client.aclose()


def assert_usable(manifest: manifests.Manifest) -> None:
    asyncio.run(_use(manifest))


# --- the tests ------------------------------------------------------------------------------


def test_the_sources_load_and_are_usable():
    for name in SOURCES:
        manifest = manifests.parse_manifest(copy.deepcopy(DATA[name]), f"{name}.yaml")
        assert_usable(manifest)
    assert {DATA[name]["family"] for name in SOURCES} == {
        "openai-chat",
        "anthropic-messages",
        "gemini",
        "cohere-v2",
        "replicate",
        "none",
    }


@pytest.mark.no_cover  # thousands of runs of the same lines: tracing them would triple its time, and coverage is measured by the plain tests
@pytest.mark.slow
@settings(FUZZ, max_examples=int(1200 * SCALE))
@given(mutated())
def test_mutated_manifest_is_a_manifest_or_a_manifest_error(case):
    _name, data, _done = case
    manifest = parse_or_error(data)
    event("still a valid manifest" if manifest is not None else "ManifestError")
    if manifest is not None:
        assert_usable(manifest)


# --- the file level: corrupted text and bytes ----------------------------------------------

YAML_TOKENS = [
    ":",
    ": ",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "#",
    "&a ",
    "*a",
    "*b",
    "!",
    "!!",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!timestamp ",
    "!!binary ",
    "!!set ",
    "!!map ",
    "!!str ",
    "!!python/object:os.system ",
    "<<: ",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "? ",
    "|\n",
    ">\n",
    "\t",
    "\n",
    "\r",
    "\n  ",
    "    ",
    "\\",
    "\\x",
    "\\u12",
    "2024-13-45",
    "2024-02-30T10:00:00Z",
    "9999-99-99 99:99:99",
    "1_000",
    "0x",
    "0o9",
    ".nan",
    ".inf",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "1e5",
    "é",
    "中",
    "😀",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x85",
    "[" * 200,
    "{a: " * 50,
]
BAD_BYTES = [
    b"\xff",
    b"\xfe",
    b"\xc3",
    b"\xe4\xb8",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x80",
    b"\xc0\xaf",
    b"\r",
    b"\x1b[31m",
]


@st.composite
def corrupted_file(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(SOURCES))
    raw = TEXTS[name].encode()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "insert", "bytes", "replace", "truncate", "indent", "duplicate"]))
        at = draw(st.integers(0, len(raw)))
        if op == "delete":
            raw = raw[:at] + raw[at + draw(st.integers(1, 40)) :]
        elif op == "insert":
            raw = raw[:at] + draw(st.sampled_from(YAML_TOKENS)).encode() + raw[at:]
        elif op == "bytes":
            raw = raw[:at] + draw(st.sampled_from(BAD_BYTES)) + raw[at:]
        elif op == "replace":
            raw = raw[:at] + draw(st.text(min_size=1, max_size=8)).encode() + raw[at + 1 :]
        elif op == "truncate":
            raw = raw[:at]
        elif op in ("indent", "duplicate"):
            lines = raw.split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            if op == "indent":
                lines[index] = draw(st.sampled_from([b"", b" ", b"  ", b"\t", b"      "])) + lines[index].lstrip()
            else:
                lines.insert(index, lines[index])
            raw = b"\n".join(lines)
    return name, raw


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corrupted")


def load_bytes(scratch: Path, name: str, raw: bytes) -> manifests.Manifest | None:
    """Write to a fresh directory (the loader caches by path, mtime and size) and load."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    path = folder / f"{name}.yaml"
    path.write_bytes(raw)
    try:
        return manifests.load_file(path)
    except ManifestError as error:
        assert_one_line(error, f"{name}.yaml")
        return None


@pytest.mark.no_cover  # thousands of runs of the same lines: tracing them would triple its time, and coverage is measured by the plain tests
@pytest.mark.slow
@settings(FUZZ, max_examples=int(800 * SCALE))
@given(corrupted_file())
def test_corrupted_file_is_a_manifest_or_a_manifest_error(scratch, case):
    name, raw = case
    manifest = load_bytes(scratch, name, raw)
    event("still a valid manifest" if manifest is not None else "ManifestError")
    if manifest is not None:
        assert_usable(manifest)


# Corruptions that random edits reach only rarely, each once for sure: all must fail to load.
YAML_CASES = {
    "bad int tag": (
        "temperature: {field: temperature, min: 0, max: 2}",
        "temperature: {field: temperature, min: !!int abc}",
    ),
    "bad float tag": ("min: 0, max: 2}", "min: !!float ., max: 2}"),
    "month 13": ("docs_url: https://platform.openai.com/docs/api-reference/chat/create", "docs_url: 2024-13-45"),
    "Feb 30 timestamp": ("default_model: gpt-4o", "default_model: 2024-02-30T10:00:00Z"),
    "bad timestamp tag": ("default_model: gpt-4o", "default_model: !!timestamp xyz"),
    "bad bool tag": ("chat: true", "chat: !!bool maybe"),
    "unquoted date in a query": (
        "chat_path: /chat/completions",
        "chat_path: /chat/completions\n  query: {v: 2024-10-21}",
    ),
    "date in body extras": ("model_field: model", "model_field: model\n  body_extras: {since: 2024-10-21}"),
    "set in body extras": ("model_field: model", "model_field: model\n  body_extras: !!set {a, b}"),
    "bytes in body extras": ("model_field: model", "model_field: model\n  body_extras: {blob: !!binary aGVsbG8=}"),
    "recursive alias": ("model_field: model", "model_field: model\n  body_extras: &x {self: *x}"),
    "recursive list alias": ("model_field: model", "model_field: model\n  body_extras: &y {a: [1, *y]}"),
    "int header name": ("chat: true", "chat: true\nheaders: {1: x}"),
    "int finish reason key": ("  stop: stop\n", "  stop: stop\n  404: other\n"),
    "deep nesting": ("chat: true", "chat: true\nnotes: " + "[" * 3000 + "]" * 3000),
    "deep mapping nesting": ("chat: true", "chat: true\nnotes: " + "{a: " * 2000 + "1" + "}" * 2000),
    "python tag": ("chat: true", "chat: !!python/object/apply:os.system [echo]"),
    "tab indentation": ("  base_url:", "\tbase_url:"),
    "NUL byte": ("chat: true", "chat: tr\x00ue"),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_yaml_corner_cases_are_manifest_errors(scratch, case):
    old, new = YAML_CASES[case]
    text = TEXTS["openai"]
    assert old in text
    path = Path(tempfile.mkdtemp(dir=scratch)) / "openai.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        manifests.load_file(path)
    assert_one_line(info.value, "openai.yaml")


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe" + TEXTS["openai"].encode("utf-16-le"),
        TEXTS["openai"].encode("latin-1", errors="replace")[:100] + b"\xe9",
        b"\xef\xbb\xbf" + TEXTS["openai"].encode(),
        b"",
        b"\x00" * 10,
        b"---\n...\n",
        b"[]",
        b"42",
        b"- a\n- b\n",
    ],
    ids=["utf16", "latin1", "bom", "empty", "nuls", "empty-document", "list", "number", "sequence"],
)
def test_undecodable_or_odd_files(scratch, raw):
    manifest = load_bytes(scratch, "openai", raw)
    if manifest is not None:
        assert_usable(manifest)


def test_a_valid_edit_of_the_same_size_is_picked_up(tmp_path):
    """The loader caches by (path, mtime, size): a fix of the same length must still be read."""
    path = tmp_path / "openai.yaml"
    path.write_text(TEXTS["openai"], encoding="utf-8")
    first = manifests.load_file(path)
    path.write_text(TEXTS["openai"].replace("default_model: gpt-4o", "default_model: gpt-4x"), encoding="utf-8")
    second = manifests.load_file(path)
    assert (first.default_model, second.default_model) == ("gpt-4o", "gpt-4x")


# --- specific consistency breaks that must be caught at load ---------------------------------


def _edited(name: str, edit) -> dict[str, Any]:
    data = copy.deepcopy(DATA[name])
    edit(data)
    return data


CONSISTENCY = {
    "chat true with family none": ("openai", lambda d: d.__setitem__("family", "none"), "$.family"),
    "default for an unmapped parameter": (
        "openai",
        lambda d: (
            d["request"]["parameters"].pop("stop"),
            d["capabilities"].__setitem__("stop", {"supported": False, "reason": "not offered here"}),
            d["request"].__setitem__("defaults", {"stop": ["x"]}),
        ),
        "$.request.defaults.stop",
    ),
    "newline in a key": ("openai", lambda d: d["finish_reasons"].__setitem__("a\nb", "nope"), "$.finish_reasons"),
    "int header name": ("openai", lambda d: d.__setitem__("headers", {1: "x"}), "$.headers"),
    "non-ASCII header value": (
        "anthropic",
        lambda d: d["headers"].__setitem__("anthropic-version", "2023–06–01"),
        "$.headers.anthropic-version",
    ),
    "CR LF in a header value": (
        "anthropic",
        lambda d: d["headers"].__setitem__("x-a", "1\r\nx-injected: 1"),
        "$.headers.x-a",
    ),
    "space in a header name": ("openai", lambda d: d.__setitem__("stream_headers", {"x a": "1"}), "$.stream_headers"),
    "non-ASCII auth prefix": ("openai", lambda d: d["auth"].__setitem__("prefix", "Bearer\u00a0"), "$.auth.prefix"),
    "auth header name with a colon": ("openai", lambda d: d["auth"].__setitem__("name", "x:key"), "$.auth.name"),
    "date in body extras": (
        "openai",
        lambda d: d["request"].__setitem__("body_extras", {"d": datetime.date(2024, 1, 1)}),
        "$.request.body_extras.d",
    ),
    "field:a..b event type": (
        "openai",
        lambda d: d["stream"].__setitem__("event_type", "field:a..b"),
        "$.stream.event_type",
    ),
}


@pytest.mark.parametrize("case", list(CONSISTENCY))
def test_inconsistent_manifest_fails_at_load(case):
    name, edit, path = CONSISTENCY[case]
    with pytest.raises(ManifestError) as info:
        manifests.parse_manifest(_edited(name, edit), "x.yaml")
    assert_one_line(info.value, "x.yaml")
    assert info.value.path.startswith(path), str(info.value)


def test_recursive_data_is_a_manifest_error():
    data = copy.deepcopy(DATA["openai"])
    extras: dict[str, Any] = {}
    extras["self"] = extras
    data["request"]["body_extras"] = extras
    with pytest.raises(ManifestError) as info:
        manifests.parse_manifest(data, "x.yaml")
    assert_one_line(info.value, "x.yaml")


#: Base URLs no request can be sent to: refused when the client is created.
BAD_URLS = [
    "https://{model.x}",
    "https://",
    "http://a:99999999",
    "https://a/\x00",
    "https://ex\u2028ample",
    "https://{0}",
    "https://{}",
    "https://{resource}",
    "https://{model",
]
#: Odd but sendable (httpx quotes or accepts them): whatever happens, only AiLibErrors.
ODD_URLS = ["https://{model[0]}", "https://[x", "https://0.", "https://a..b", "http://127.0.0.1:1"]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_unusable_base_url_is_refused_at_creation(url):
    async with httpx.AsyncClient(transport=httpx.MockTransport(_answer)) as http:
        with pytest.raises(ConfigurationError):  # from base_url=
            await AiClient.create("openai/gpt-4o", api_key="k", base_url=url, http_client=http)
        manifest = parse_or_error(_edited("openai", lambda d: d["endpoint"].__setitem__("base_url", url)))
        if manifest is not None:  # from the manifest
            with (
                mock.patch.object(manifests, "load", return_value=manifest),
                pytest.raises(ConfigurationError),
            ):
                await AiClient.create("openai/gpt-4o", api_key="k", http_client=http)


@pytest.mark.parametrize("url", ODD_URLS)
async def test_odd_base_url_raises_only_ailib_errors(url):
    async with httpx.AsyncClient(transport=httpx.MockTransport(_answer)) as http:
        try:
            client = await AiClient.create("openai/gpt-4o", api_key="k", base_url=url, http_client=http)
        except AiLibError:
            return
        await _exercise(client)


@pytest.mark.parametrize("text", ["!!int ", "!!float ", "id: !!int \n", "a: !!float\n"])
def test_empty_tagged_scalar_is_a_manifest_error(tmp_path, text):
    """Found by the corrupted-file fuzz in CI: PyYAML raises IndexError for these."""
    path = tmp_path / "openai.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError) as caught:
        manifests.load_file(path)
    assert str(caught.value).startswith("openai.yaml: ") and "\n" not in str(caught.value)
