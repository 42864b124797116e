"""Manifest loading and validation: every shipped manifest loads; broken ones fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ailib import AiClient, ManifestError
from ailib import manifest as manifests
from ailib.codecs import CODECS
from ailib.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
SHIPPED = sorted(p.stem for p in MANIFESTS.glob("*.yaml"))


def test_the_reference_manifests_are_there():
    assert {"openai", "anthropic", "gemini", "cohere"} <= set(SHIPPED)
    assert manifests.available() == SHIPPED
    assert manifests.default_manifests_dir().resolve() == MANIFESTS.resolve()


@pytest.mark.parametrize("provider", SHIPPED)
def test_every_shipped_manifest_loads(provider):
    m = manifests.load(provider)
    assert m.id == provider
    assert m.file == f"{provider}.yaml"
    assert m.docs_url.startswith("https://")
    if m.chat_supported:
        assert m.family in CODECS
        assert m.response is not None
        assert m.default_model
        assert m.auth is not None and m.auth.env
        assert set(m.parameters) <= {"temperature", "top_p", "max_tokens", "stop"}
        if m.capability("streaming").supported:
            assert m.routes
    else:
        assert m.chat_reason


def test_count_of_loaded_manifests():
    loaded = [manifests.load(p) for p in manifests.available()]
    assert len(loaded) == len(list(MANIFESTS.glob("*.yaml"))) >= 4


def test_loading_is_cached_per_file():
    assert manifests.load("openai") is manifests.load("openai")


# --- broken manifests --------------------------------------------------------------


def write_variant(tmp_path: Path, edit, name: str = "openai") -> Path:
    data = yaml.safe_load((MANIFESTS / "openai.yaml").read_text(encoding="utf-8"))
    data["id"] = name
    edit(data)
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def assert_one_line(error: ManifestError, file: str, path: str, *reason_words: str) -> None:
    text = str(error)
    assert "\n" not in text and "\r" not in text
    assert file in text
    assert path in text
    for word in reason_words:
        assert word in text, text
    assert (error.file, error.path) == (file, path)
    assert error.reason and error.reason in text


async def test_misspelled_parameter_field(tmp_path):
    def edit(d):
        d["request"]["parameters"]["temperature"] = {"fild": "temperature"}

    root = write_variant(tmp_path, edit)
    with pytest.raises(ManifestError) as info:
        await AiClient.create("openai/gpt-4o", api_key="k", manifests_dir=root)
    assert_one_line(info.value, "openai.yaml", "$.request.parameters.temperature")
    assert "fild" in info.value.reason or "'field'" in info.value.reason


@pytest.mark.parametrize(
    ("edit", "path", "word"),
    [
        (
            lambda d: d["response"].__setitem__("content", "choices..0.message.content"),
            "$.response.content",
            "choices..0",
        ),
        (
            lambda d: d["stream"]["routes"]["*"].__setitem__("content", "choices.0.delta content"),
            "$.stream.routes.*.content",
            "delta content",
        ),
        (
            lambda d: d["request"]["parameters"]["stop"].__setitem__("max_items", "four"),
            "$.request.parameters.stop.max_items",
            "four",
        ),
        (
            lambda d: d["request"]["parameters"]["top_p"].__setitem__("max", "1"),
            "$.request.parameters.top_p.max",
            "'1'",
        ),
        (lambda d: d["request"]["parameters"].__setitem__("seed", {"field": "seed"}), "$.request.parameters", "seed"),
        (lambda d: d.__setitem__("family", "openai-compatible"), "$.family", "openai-compatible"),
        (lambda d: d["auth"].__setitem__("placement", "cookie"), "$.auth.placement", "cookie"),
        (lambda d: d["finish_reasons"].__setitem__("stop", "done"), "$.finish_reasons.stop", "done"),
        (lambda d: d["errors"]["classes"].__setitem__("server_error", "boom"), "$.errors.classes.server_error", "boom"),
        (lambda d: d["endpoint"].__setitem__("base_url", "ftp://api.openai.com"), "$.endpoint.base_url", "ftp://"),
        (lambda d: d["response"].__setitem__("contnt", "choices.0.message.content"), "$.response", "contnt"),
        (lambda d: d["stream"]["routes"]["*"].__setitem__("ende", True), "$.stream.routes.*", "ende"),
        (lambda d: d.pop("docs_url"), "$", "docs_url"),
        (lambda d: d.__setitem__("colour", "blue"), "$", "colour"),
    ],
)
async def test_schema_errors_name_file_path_and_reason(tmp_path, edit, path, word):
    root = write_variant(tmp_path, edit)
    with pytest.raises(ManifestError) as info:
        manifests.load("openai", root)
    assert_one_line(info.value, "openai.yaml", path, word)


async def test_capability_without_a_mapped_field(tmp_path):
    root = write_variant(tmp_path, lambda d: d["request"]["parameters"].pop("stop"))
    with pytest.raises(ManifestError) as info:
        manifests.load("openai", root)
    assert_one_line(info.value, "openai.yaml", "$.request.parameters.stop")


async def test_streaming_declared_without_routes(tmp_path):
    root = write_variant(tmp_path, lambda d: d.pop("stream"))
    with pytest.raises(ManifestError) as info:
        manifests.load("openai", root)
    assert_one_line(info.value, "openai.yaml", "$.stream")


async def test_id_must_match_file_name(tmp_path):
    data = (MANIFESTS / "openai.yaml").read_text(encoding="utf-8")
    (tmp_path / "other.yaml").write_text(data, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        manifests.load("other", tmp_path)
    assert_one_line(info.value, "other.yaml", "$.id", "openai")


async def test_invalid_yaml_names_file_and_line(tmp_path):
    text = (MANIFESTS / "openai.yaml").read_text(encoding="utf-8").replace("chat: true", "chat: [true", 1)
    (tmp_path / "openai.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        manifests.load("openai", tmp_path)
    text = str(info.value)
    assert "\n" not in text and "openai.yaml" in text and "line" in text


@pytest.mark.parametrize("content", ["- a\n- b\n", "just a string\n", ""])
async def test_top_level_must_be_a_mapping(tmp_path, content):
    (tmp_path / "openai.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        manifests.load("openai", tmp_path)
    assert_one_line(info.value, "openai.yaml", "$")


async def test_fixed_manifest_loads_after_a_broken_one(tmp_path):
    root = write_variant(tmp_path, lambda d: d.__setitem__("family", "nope"))
    with pytest.raises(ManifestError):
        manifests.load("openai", root)
    write_variant(tmp_path, lambda d: d["endpoint"].__setitem__("base_url", "https://proxy.example.com/v1"))
    client = await AiClient.create("openai/gpt-4o", api_key="k", manifests_dir=root)
    assert str(client.chat().user("x").build().url) == "https://proxy.example.com/v1/chat/completions"
    await client.aclose()


async def test_manifests_dir_from_environment(tmp_path, monkeypatch):
    write_variant(
        tmp_path, lambda d: d["endpoint"].__setitem__("base_url", "https://env.example.com/v1"), name="envonly"
    )
    monkeypatch.setenv("AILIB_MANIFESTS_DIR", str(tmp_path))
    client = await AiClient.create("envonly/m", api_key="k")
    assert str(client.chat().user("x").build().url) == "https://env.example.com/v1/chat/completions"
    await client.aclose()
    with pytest.raises(ConfigurationError):
        await AiClient.create("openai/gpt-4o", api_key="k")  # not in that directory


def test_manifest_error_is_one_line_even_for_a_multiline_reason():
    error = ManifestError("x.yaml", "$.a", "first\nsecond")
    assert "x.yaml" in str(error) and "$.a" in str(error)
