"""AI-Protocol (upstream) manifests read by ailib: upstream's loader compliance cases, and
what ailib needs that an upstream file lacks, reported per file.

Upstream's protocol-loading cases live in the ai-protocol repository under
``tests/compliance/cases/01-protocol-loading/load-valid-provider.yaml`` (load-001: a valid
v1.5 OpenAI manifest loads, id ``openai``, protocol_version ``1.5``; load-002: the same for
Anthropic; load-003: a file missing ``id``, ``protocol_version`` and ``endpoint`` fails
validation with at least one error). The manifests below are written here in the layout
those cases use (``endpoint.chat``, ``endpoint.auth``, capabilities as a list, v2-style
``parameters``); when a checkout of upstream's cases is at hand (``$AI_PROTOCOL_DIR`` with
``tests/compliance``), ``test_upstream_protocol_loading_cases`` runs them all as written.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import yaml

from ailib import AiClient, manifest, protocol
from ailib.errors import ManifestError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "ai-protocol"

VALID_OPENAI_15 = """\
id: openai
protocol_version: "1.5"
name: "OpenAI (compliance)"
status: stable
endpoint:
  base_url: "https://api.openai.com/v1"
  chat: "/chat/completions"
  auth: {type: bearer, header: Authorization, prefix: Bearer}
api_families:
  chat: {request_format: openai, response_format: openai}
capabilities: [chat, streaming, tools]
parameters:
  temperature: {type: float, range: [0.0, 2.0]}
  max_tokens: {type: integer, min: 1}
  top_p: {type: float, range: [0.0, 1.0]}
  stream: {type: boolean}
streaming:
  decoder: {format: sse, strategy: openai_chat, done_signal: "[DONE]", prefix: "data: "}
  event_map:
    - {match: "$.choices[0].delta.content", emit: PartialContentDelta, extract: {content: "$.choices[0].delta.content"}}
    - {match: "$.choices[0].finish_reason", emit: StreamEnd, extract: {finish_reason: "$.choices[0].finish_reason"}}
error_classification:
  by_http_status: {"400": invalid_request, "401": authentication, "429": rate_limited}
"""

VALID_ANTHROPIC_15 = """\
id: anthropic
protocol_version: "1.5"
name: "Anthropic (compliance)"
endpoint:
  base_url: "https://api.anthropic.com"
  chat: "/v1/messages"
  auth: {type: custom_header, header: x-api-key}
api_families:
  chat: {request_format: anthropic, response_format: anthropic}
capabilities: [chat, streaming]
parameters:
  max_tokens: {type: integer, min: 1, max: 8192}
streaming:
  decoder: {format: anthropic_sse, strategy: anthropic_event_stream}
  event_map:
    - match: "$.type == 'content_block_delta' && $.delta.type == 'text_delta'"
      emit: PartialContentDelta
      extract: {content: "$.delta.text"}
    - match: "$.type == 'message_delta'"
      emit: StreamEnd
      extract: {finish_reason: "$.delta.stop_reason"}
"""

# upstream's mock-invalid: a name and a status, nothing else
INVALID = 'name: "Invalid Provider"\nstatus: "stable"\nprotocol_version_missing: true\n'


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "v1" / "providers" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_v15_openai_file_loads(tmp_path: Path) -> None:  # upstream load-001
    path = _write(tmp_path, "openai.yaml", VALID_OPENAI_15)
    data = yaml.safe_load(VALID_OPENAI_15)
    conv = protocol.convert(data, "openai.yaml")
    assert (conv.provider, conv.protocol_version) == ("openai", "1.5")
    assert conv.fatal == []
    loaded = manifest.load_file(path)
    assert loaded.id == "openai"
    assert loaded.family == "openai-chat"
    assert loaded.file == "v1/providers/openai.yaml"
    assert loaded.data["auth"] == {
        "env": "OPENAI_API_KEY",
        "placement": "header",
        "name": "Authorization",
        "prefix": "Bearer ",
    }
    assert loaded.parameters["temperature"].max == 2.0
    # the file maps no stop parameter: the client refuses stop, the reason names the file's field
    assert not loaded.capability("stop").supported
    assert "stop_sequences" in (loaded.capability("stop").reason or "")


def test_valid_v15_anthropic_file_loads(tmp_path: Path) -> None:  # upstream load-002
    path = _write(tmp_path, "anthropic.yaml", VALID_ANTHROPIC_15)
    loaded = manifest.load_file(path)
    assert (loaded.id, loaded.family) == ("anthropic", "anthropic-messages")
    assert loaded.data["endpoint"]["base_url"] == "https://api.anthropic.com"
    assert loaded.data["endpoint"]["chat_path"] == "/v1/messages"
    assert loaded.data["auth"]["name"] == "x-api-key" and "prefix" not in loaded.data["auth"]
    # routes keyed on the event's "type" field, as the match expressions say
    assert loaded.data["stream"]["event_type"] == "field:type"
    assert loaded.data["stream"]["routes"]["content_block_delta"]["content"] == "delta.text"
    assert loaded.data["stream"]["routes"]["message_delta"]["finish_reason"] == "delta.stop_reason"


def test_file_missing_required_fields_is_refused_naming_them(tmp_path: Path) -> None:  # upstream load-003
    path = _write(tmp_path, "invalid.yaml", 'id: invalid\nname: "Invalid Provider"\n$schema: "v1.json"\n')
    with pytest.raises(ManifestError) as info:
        manifest.load_file(path)
    assert info.value.file == "v1/providers/invalid.yaml"
    assert info.value.path == "$.protocol_version"
    assert "$.endpoint.base_url" in info.value.reason
    with pytest.raises(ManifestError) as info:
        protocol.convert(yaml.safe_load(INVALID), "mock-invalid.yaml")
    assert info.value.path == "$.id"
    assert "$.id" in str(info.value) and "$.protocol_version" in str(info.value)


async def test_client_created_from_an_ai_protocol_tree(tmp_path: Path) -> None:
    _write(tmp_path, "openai.yaml", VALID_OPENAI_15)
    client = await AiClient.create("openai/gpt-4o", manifests_dir=tmp_path, api_key="sk-test")
    try:
        assert client.manifest.file == "v1/providers/openai.yaml"
        assert client.model == "gpt-4o"
    finally:
        await client.aclose()
    assert manifest.available(tmp_path) == ["openai"]


def test_v2_file_is_preferred_to_v1(tmp_path: Path) -> None:
    _write(tmp_path, "openai.yaml", VALID_OPENAI_15)
    v2 = tmp_path / "v2" / "providers" / "openai.yaml"
    v2.parent.mkdir(parents=True)
    v2.write_text(VALID_OPENAI_15.replace('"1.5"', '"2.0"'), encoding="utf-8")
    assert protocol.find_file(tmp_path, "openai") == v2


def test_what_ailib_needs_and_the_file_lacks_is_reported(tmp_path: Path) -> None:
    conv = protocol.convert(yaml.safe_load(VALID_OPENAI_15), "openai.yaml")
    gaps = {(g.upstream, g.consequence) for g in conv.gaps}
    # no termination mapping, no response paths: reported, the latter filled from the wire format
    assert ("$.termination.mapping", "unsupported") in gaps
    assert ("$.response_paths.content", "family") in gaps
    assert ("$.parameters.stop_sequences", "unsupported") in gaps


def test_a_file_without_a_wire_family_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = VALID_OPENAI_15.replace("request_format: openai", "request_format: nobody").replace(
        "strategy: openai_chat", "strategy: custom"
    )
    path = _write(tmp_path, "openai.yaml", text)
    with pytest.raises(ManifestError) as info:
        manifest.load_file(path)
    assert info.value.path == "$.payload_format"
    assert "$.family" in info.value.reason


def test_a_file_with_no_chat_endpoint_is_a_provider_without_chat(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        id: jina
        protocol_version: "1.5"
        endpoint: {base_url: "https://api.jina.ai"}
        auth: {type: bearer, token_env: JINA_API_KEY}
        endpoints:
          embeddings: {path: /v1/embeddings}
    """)
    loaded = manifest.load_file(_write(tmp_path, "jina.yaml", text))
    assert not loaded.chat_supported
    assert "embeddings" in (loaded.chat_reason or "")


# --- upstream's own files -------------------------------------------------------------------


@pytest.fixture
def shared_tree() -> Path:
    if not (SHARED / "v1" / "providers").is_dir():
        pytest.skip(f"upstream AI-Protocol manifests not found at {SHARED}")
    return SHARED


def test_upstream_files_translate_faithfully(shared_tree: Path) -> None:
    v1 = manifest.load_file(shared_tree / "v1" / "providers" / "anthropic.yaml")
    v2 = manifest.load_file(shared_tree / "v2" / "providers" / "anthropic.yaml")
    # v1 says `auth: {type: bearer}`, v2 says `custom_header` x-api-key: each is read as written
    assert (v1.data["auth"]["name"], v1.data["auth"].get("prefix")) == ("Authorization", "Bearer ")
    assert (v2.data["auth"]["name"], v2.data["auth"].get("prefix")) == ("x-api-key", None)
    assert v1.data["headers"] == {"anthropic-version": "2023-06-01"}
    gemini = manifest.load_file(shared_tree / "v1" / "providers" / "gemini.yaml")
    assert gemini.data["auth"] == {"env": "GEMINI_API_KEY", "placement": "query", "name": "key"}
    assert "chat_stream" in (gemini.capability("streaming").reason or "")


def test_every_upstream_file_loads_or_is_refused_with_a_reason(shared_tree: Path) -> None:
    results = protocol.check_tree(shared_tree)
    assert len(results) == 41  # 37 v1 + 4 v2 files
    refused = {name: r for name, r in results if isinstance(r, ManifestError)}
    assert refused == {}  # every file has the required AI-Protocol fields
    unusable = {name: c.fatal[0].upstream for name, c in results if not isinstance(c, ManifestError) and c.fatal}
    assert unusable["v1/providers/ai21.yaml"] == "$.payload_format"  # 'ai21_style'
    assert unusable["v1/providers/replicate.yaml"] == "$.endpoints.chat.path"  # {owner} has no source


@pytest.mark.skipif(
    not os.environ.get("AI_PROTOCOL_DIR")
    or not (Path(os.environ.get("AI_PROTOCOL_DIR", ".")) / "tests" / "compliance").is_dir(),
    reason="upstream compliance cases need a checkout of ai-protocol in $AI_PROTOCOL_DIR (tests/compliance)",
)
def test_upstream_protocol_loading_cases() -> None:
    root = Path(os.environ["AI_PROTOCOL_DIR"]) / "tests" / "compliance"
    cases = [
        case
        for file in sorted((root / "cases" / "01-protocol-loading").glob("load-valid-provider.yaml"))
        for case in yaml.safe_load_all(file.read_text(encoding="utf-8"))
        if isinstance(case, dict) and (case.get("input") or {}).get("type") == "protocol_loading"
    ]
    assert cases
    for case in cases:
        data = yaml.safe_load((root / case["input"]["manifest_path"]).read_text(encoding="utf-8"))
        if case["expected"].get("valid"):
            conv = protocol.convert(data, case["input"]["manifest_path"])
            assert conv.provider == case["expected"]["provider_id"], case["id"]
            assert conv.protocol_version == case["expected"]["protocol_version"], case["id"]
        else:
            with pytest.raises(ManifestError):
                protocol.convert(data, case["input"]["manifest_path"])


# --- each translation rule, on small hand-written files -----------------------------------------

BASE = {"id": "p", "protocol_version": "1.5", "endpoint": {"base_url": "https://api.p.example/v1"}}


def _conv(**extra: object) -> protocol.Conversion:
    data = {**BASE, "payload_format": "openai_style", "auth": {"type": "bearer"}}
    data["endpoints"] = {"chat": {"path": "/chat"}}
    data.update(extra)
    return protocol.convert(data, "p.yaml")


def _fatal(conv: protocol.Conversion) -> list[tuple[str, str]]:
    return [(g.upstream, g.reason) for g in conv.fatal]


def test_auth_translations() -> None:
    assert _conv(auth={"type": "bearer", "token_env": "P_KEY"}).data["auth"] == {
        "env": "P_KEY", "placement": "header", "name": "Authorization", "prefix": "Bearer ",
    }  # fmt: skip
    assert _conv(auth={"type": "api_key", "header": "api-key", "prefix": "Token"}).data["auth"] == {
        "env": "P_API_KEY", "placement": "header", "name": "api-key", "prefix": "Token ",
    }  # fmt: skip
    assert _fatal(_conv(auth={"type": "custom_header"})) == [
        ("$.auth.header", "auth type 'custom_header' names no header")
    ]
    assert _fatal(_conv(auth={"type": "query_param"})) == [("$.auth.param_name", "query_param auth names no parameter")]
    assert _fatal(_conv(auth={"type": "oauth2"})) == [("$.auth.type", "auth type 'oauth2' is not one ailib can place")]
    assert _fatal(_conv(auth=None)) == [("$.endpoint.auth", "no auth section")]


def test_endpoint_translations() -> None:
    conv = _conv(
        endpoints={
            "chat": {"path": "/models/{model_id}:generate?api-version=1"},
            "chat_stream": {"path": "/models/{model_id}:stream?alt=sse"},
        }
    )
    endpoint = conv.data["endpoint"]
    assert endpoint["chat_path"] == "/models/{model}:generate" and endpoint["query"] == {"api-version": "1"}
    assert endpoint["stream_path"] == "/models/{model}:stream" and endpoint["stream_query"] == {"alt": "sse"}
    dollar = _conv(endpoint={"base_url": "https://${RESOURCE}.example/v1"})
    assert dollar.data["endpoint"]["base_url"] == "https://{resource}.example/v1"
    assert dollar.data["endpoint"]["variables"] == {"resource": {"env": "RESOURCE"}}
    legacy = protocol.convert(
        {"id": "p", "protocol_version": "1.1", "base_url": "https://api.p.example/v1", "auth": {"type": "bearer"},
         "payload_format": "openai_style", "endpoints": {"chat_completions_create": "/chat/completions"}},
        "p.yaml",
    )  # fmt: skip
    assert legacy.data["endpoint"] == {"base_url": "https://api.p.example/v1", "chat_path": "/chat/completions"}


def test_stream_translations() -> None:
    rules = [
        {"match": "exists($.a)", "emit": "PartialContentDelta", "fields": {"content": "$.a"}},
        {"match": "exists($.b)", "emit": "PartialContentDelta", "fields": {"content": "$.b[0].text"}},
        {"match": "exists($.u)", "emit": "Metadata", "fields": {"usage": "$.u"}},
    ]
    route = _conv(capabilities={"streaming": True}, streaming={"event_map": rules}).data["stream"]["routes"]["*"]
    assert route["content"] == ["a", "b.0.text"]  # alternatives, the first with a value wins
    assert route["usage"]["prompt_tokens"] == "u.prompt_tokens"
    v1 = _conv(
        capabilities=["streaming"], streaming={"content_path": "choices[0].delta.content", "usage_path": "usage"}
    )
    assert v1.data["stream"]["routes"]["*"]["content"] == "choices.0.delta.content"
    # no done_signal: OpenAI-style streams end with `data: [DONE]` (the family's own terminator), reported
    assert v1.data["stream"]["done_marker"] == "[DONE]"
    assert ("$.streaming.decoder.done_signal", "family") in {(g.upstream, g.consequence) for g in v1.gaps}
    assert v1.data["capabilities"]["usage_in_stream"] is True
    two_keys = [
        {"match": "$.type == 'x'", "emit": "PartialContentDelta", "fields": {"content": "$.t"}},
        {"match": "$.kind == 'y'", "emit": "PartialContentDelta", "fields": {"content": "$.t"}},
    ]
    caps = _conv(capabilities={"streaming": True}, streaming={"event_map": two_keys}).data["capabilities"]
    assert caps["streaming"]["supported"] is False and "several fields" in caps["streaming"]["reason"]
    undeclared = _conv(streaming={"content_path": "choices[0].delta.content"}).data["capabilities"]["streaming"]
    assert undeclared == {"supported": False, "reason": "AI-Protocol manifest does not declare streaming"}


def test_paths_and_models() -> None:
    assert protocol.ours_path("$.choices[*].delta.content") == "choices.0.delta.content"
    assert protocol.ours_path("end_turn") == "end_turn"  # a bare word is a one-key path
    assert protocol.ours_path("$") is None and protocol.ours_path("the end") is None and protocol.ours_path(3) is None
    assert _conv(default_model="p-large").data["default_model"] == "p-large"
    assert _conv(metadata={"models": {"p-1": {}, "p-2": {}}}).data["default_model"] == "p-1"
    assert _conv().data["default_model"] == protocol.NO_DEFAULT_MODEL


def test_flat_directory_and_non_mapping(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("{}", encoding="utf-8")
    assert protocol.find_file(tmp_path, "p") == tmp_path / "p.json"
    assert protocol.find_file(tmp_path, "q") is None
    assert protocol.display_name(tmp_path / "p.json") == "p.json"
    with pytest.raises(ManifestError, match=r"expected a mapping at the top level, got list"):
        protocol.convert([1], "p.yaml")  # type: ignore[arg-type]


def test_check_tree_and_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "openai.yaml", VALID_OPENAI_15)
    _write(tmp_path, "broken.yaml", "id: [unclosed\n")
    _write(tmp_path, "invalid.yaml", "protocol_version: '1.5'\n")
    _write(tmp_path, "notes.txt", "not a manifest")
    assert protocol.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("v1/providers/broken.yaml: refused: v1/providers/broken.yaml: $: cannot read:")
    assert out[1] == (
        "v1/providers/invalid.yaml: refused: v1/providers/invalid.yaml: $.id: "
        "required AI-Protocol field(s) missing: $.id, $.endpoint.base_url"
    )
    # stop, termination, default model, usage in streams; content, finish reason, usage from the family
    assert out[2] == "v1/providers/openai.yaml: protocol 1.5, usable, 7 gap(s)"
    assert all(line.startswith("  $.") for line in out[3:])
    assert protocol.main([]) == 2
