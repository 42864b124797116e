"""Parameter validation against each manifest, always before any request is sent."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from ailib import AiClient
from ailib.errors import AiLibError, ParameterError, UnsupportedError

from .unit_support import json_response

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
OK = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}

# (provider/model, setter, value) that each provider's documented range rejects
OUT_OF_RANGE = [
    ("openai/gpt-4o", "temperature", 2.01),
    ("openai/gpt-4o", "temperature", -0.5),
    ("openai/gpt-4o", "top_p", 1.5),
    ("openai/gpt-4o", "top_p", -0.1),
    ("openai/gpt-4o", "max_tokens", 0),
    ("openai/gpt-4o", "max_tokens", -10),
    ("anthropic/claude-3-5-sonnet-latest", "temperature", 1.2),
    ("anthropic/claude-3-5-sonnet-latest", "max_tokens", 0),
    ("gemini/gemini-2.0-flash", "temperature", 2.5),
    ("gemini/gemini-2.0-flash", "top_p", 1.01),
    ("gemini/gemini-2.0-flash", "max_tokens", 0),
    ("cohere/command-r-plus-08-2024", "temperature", 1.1),
    ("cohere/command-r-plus-08-2024", "top_p", 1.0),
    ("cohere/command-r-plus-08-2024", "max_tokens", 0),
]


@pytest.mark.parametrize(("model", "name", "value"), OUT_OF_RANGE)
async def test_out_of_range_rejected_before_sending(make_client, model, name, value):
    client, server = await make_client(model, json_response(200, OK))
    builder = getattr(client.chat().user("Hi"), name)(value)
    with pytest.raises(ParameterError) as info:
        await builder.execute()
    assert name in str(info.value)
    assert info.value.provider == model.split("/")[0]
    with pytest.raises(ParameterError):
        await anext(aiter(getattr(client.chat().user("Hi"), name)(value).stream()))
    with pytest.raises(ParameterError):
        getattr(client.chat().user("Hi"), name)(value).build()
    assert server.calls == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", 0),
        ("temperature", 2),
        ("temperature", 1),
        ("top_p", 0),
        ("top_p", 1.0),
        ("max_tokens", 1),
        ("max_tokens", 128000),
    ],
)
async def test_range_bounds_are_inclusive(make_client, name, value):
    client, server = await make_client("openai/gpt-4o", json_response(200, OK))
    await getattr(client.chat().user("Hi"), name)(value).execute()
    field = {"max_tokens": "max_completion_tokens"}.get(name, name)
    assert server.body()[field] == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("name", ["temperature", "top_p"])
async def test_non_finite_numbers_rejected(make_client, name, value):
    # NaN compares false against both bounds, and is not valid JSON either
    client, server = await make_client("openai/gpt-4o", json_response(200, OK))
    with pytest.raises(ParameterError):
        await getattr(client.chat().user("Hi"), name)(value).execute()
    assert server.calls == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", "0.5"),
        ("temperature", None),
        ("temperature", True),
        ("top_p", [0.5]),
        ("max_tokens", 1.5),
        ("max_tokens", 100.0),
        ("max_tokens", "100"),
        ("max_tokens", False),
        ("stop", [1, 2]),
        ("stop", ["ok", None]),
        ("stop", 5),
        ("stop", {"a": "b"}),
        ("stop", []),
    ],
)
async def test_wrong_types_rejected(make_client, name, value):
    client, server = await make_client("openai/gpt-4o", json_response(200, OK))
    with pytest.raises(ParameterError):
        await getattr(client.chat().user("Hi"), name)(value).execute()
    assert server.calls == 0


async def test_parameter_error_is_also_a_value_error(make_client):
    client, _ = await make_client("openai/gpt-4o", json_response(200, OK))
    with pytest.raises(ValueError, match="temperature"):
        await client.chat().user("Hi").temperature(9).execute()


@pytest.mark.parametrize(
    ("model", "limit"), [("openai/gpt-4o", 4), ("gemini/gemini-2.0-flash", 5), ("cohere/command-r-plus-08-2024", 5)]
)
async def test_stop_max_items(make_client, model, limit):
    answers = {  # each provider's own success shape (an empty answer is an error)
        "gemini": {"candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"}, "finishReason": "STOP"}]},
        "cohere": {
            "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
            "finish_reason": "COMPLETE",
        },
    }
    client, server = await make_client(model, json_response(200, answers.get(model.split("/")[0], OK)))
    with pytest.raises(ParameterError) as info:
        await client.chat().user("Hi").stop([f"s{i}" for i in range(limit + 1)]).execute()
    assert str(limit) in str(info.value)
    assert server.calls == 0
    await client.chat().user("Hi").stop([f"s{i}" for i in range(limit)]).execute()
    assert server.calls == 1


async def test_stop_accepts_a_single_string_and_tuples(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, OK))
    await client.chat().user("Hi").stop("END").execute()
    assert server.body()["stop"] == ["END"]
    await client.chat().user("Hi").stop(("A", "B")).execute()
    assert server.body()["stop"] == ["A", "B"]


async def test_builder_setters_chain_and_last_value_wins(make_client):
    client, server = await make_client("openai/gpt-4o", json_response(200, OK))
    builder = client.chat()
    for setter in (builder.system, builder.user, builder.assistant):
        assert setter("x") is builder
    assert builder.temperature(0.1) is builder and builder.top_p(0.2) is builder
    assert builder.max_tokens(3) is builder and builder.stop(["s"]) is builder
    assert builder.messages([]) is builder
    await builder.user("y").temperature(0.9).execute()
    assert server.body()["temperature"] == 0.9


@pytest.mark.parametrize(
    "build",
    [
        lambda c: c.chat(),  # no messages at all
        lambda c: c.chat().system("only a system prompt"),
        lambda c: c.chat().messages(["not a Message"]),
        lambda c: c.chat().user(None),
    ],
)
async def test_invalid_conversations_rejected_before_sending(make_client, build):
    client, server = await make_client("openai/gpt-4o", json_response(200, OK))
    with pytest.raises(ParameterError):
        await build(client).execute()
    assert server.calls == 0


# --- unsupported parameters and capabilities: a manifest that lacks them -----------


def limited_manifests(tmp_path: Path) -> Path:
    """A copy of openai.yaml without stop/top_p, system messages, multi-turn or streaming."""
    data = yaml.safe_load((MANIFESTS / "openai.yaml").read_text(encoding="utf-8"))
    data["id"] = "limited"
    for name in ("stop", "top_p"):
        del data["request"]["parameters"][name]
        data["capabilities"][name] = {"supported": False, "reason": f"the limited API has no {name} parameter"}
    data["capabilities"]["streaming"] = {"supported": False, "reason": "the limited API answers in one piece only"}
    data["capabilities"]["system_messages"] = {"supported": False, "reason": "the limited API takes no system prompt"}
    data["capabilities"]["multi_turn"] = {"supported": False, "reason": "the limited API takes one user message"}
    (tmp_path / "limited.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda c: c.chat().user("Hi").stop(["x"]), "no stop parameter"),
        (lambda c: c.chat().user("Hi").top_p(0.5), "no top_p parameter"),
        (lambda c: c.chat().system("s").user("Hi"), "no system prompt"),
        (lambda c: c.chat().user("Hi").assistant("a").user("again"), "one user message"),
    ],
)
async def test_unsupported_raises_before_any_request(make_client, tmp_path, build, reason):
    client, server = await make_client(
        "limited/model-1", json_response(200, OK), manifests_dir=limited_manifests(tmp_path)
    )
    with pytest.raises(UnsupportedError) as info:
        await build(client).execute()
    assert reason in str(info.value)
    assert info.value.provider == "limited"
    with pytest.raises(UnsupportedError):
        build(client).build()
    assert server.calls == 0
    # what is supported still works
    await client.chat().user("Hi").temperature(0.2).max_tokens(5).execute()
    assert server.body() == {
        "model": "model-1",
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0.2,
        "max_completion_tokens": 5,
    }


async def test_unsupported_streaming_raises_before_any_request(make_client, tmp_path):
    client, server = await make_client(
        "limited/model-1", json_response(200, OK), manifests_dir=limited_manifests(tmp_path)
    )
    with pytest.raises(UnsupportedError) as info:
        async for _ in client.chat().user("Hi").stream():
            pass
    assert "one piece only" in str(info.value)
    assert server.calls == 0


async def test_provider_without_chat_api_is_unsupported_at_create(tmp_path):
    (tmp_path / "imagesonly.yaml").write_text(
        "id: imagesonly\nname: Images Only\nfamily: none\ndocs_url: https://example.com/docs\n"
        "chat:\n  supported: false\n  reason: this service generates images and has no chat endpoint\n",
        encoding="utf-8",
    )
    with pytest.raises(UnsupportedError) as info:
        await AiClient.create("imagesonly/sdxl", api_key="k", manifests_dir=tmp_path)
    assert "no chat endpoint" in str(info.value)
    assert isinstance(info.value, AiLibError)
