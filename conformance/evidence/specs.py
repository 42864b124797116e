"""The providers' own API descriptions (``--specs DIR``, default ``../shared/specs``), compiled once.

Which file describes which provider, and which operation of it is chat, is data
(:data:`SOURCES`). From the operation the request, response, stream-chunk and error schemas
are found the way a reader of the spec finds them (``requestBody`` / ``responses``), so a
schema is never named by hand where the spec itself says it.

Loading a 3 MB OpenAPI document takes most of a second with PyYAML's C parser; a parsed,
normalised document is therefore cached on disk (``$XDG_CACHE_HOME/ailib-conformance``),
keyed by the spec file's path, size and modification time, and held in memory for the
session. Validators are compiled once per (provider, schema) and reused.

OpenAPI 3.0 idioms are normalised to JSON Schema 2020-12 before validation: ``nullable``
becomes a ``null`` alternative and boolean ``exclusiveMinimum``/``Maximum`` become numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

#: Default location of the specs: ``../shared/specs`` beside the project root.
DEFAULT_SPECS_DIR = Path(__file__).resolve().parents[3] / "shared" / "specs"

_URI = "urn:ailib-spec:"


@dataclass(frozen=True)
class SpecSource:
    """One provider's machine-readable description: ``file`` under the specs directory and
    the chat operation in it (``operation``: the OpenAPI path; ``proto`` for Gemini)."""

    file: str
    operation: str
    error: str | None = None  # the error component, where the operation's responses name none
    chunk: str | None = None  # the chunk component, where the operation names none
    response: str | None = None  # the response component, where the operation names none


#: Providers with a description of their own (see ``../shared/specs/README.md``).
SOURCES: dict[str, SpecSource] = {
    "openai": SpecSource("openai/openapi.yaml", "/chat/completions", error="ErrorResponse"),
    # Azure's 200 is oneOf(response, stream response) under application/json: named here.
    "azure": SpecSource(
        "azure/inference.json",
        "/deployments/{deployment-id}/chat/completions",
        chunk="createChatCompletionStreamResponse",
        response="createChatCompletionResponse",
    ),
    "together": SpecSource("together/openapi.yaml", "/chat/completions"),
    "mistral": SpecSource("mistral/openapi.yaml", "/v1/chat/completions"),
    "openrouter": SpecSource("openrouter/in.openapi.yaml", "/chat/completions"),
    # huggingface/openapi.json describes the TGI server, not the router.huggingface.co endpoint
    # the manifest calls (the specs README says the router has no spec): judged as OpenAI-compatible.
    "gemini": SpecSource("gemini/google/ai/generativelanguage/v1beta/generative_service.proto", "proto"),
}
#: OpenAI-compatible providers without a spec of their own are judged by OpenAI's.
BASELINE = "openai"
BASELINE_FAMILY = "openai-chat"


def specs_dir_status(directory: Path | None) -> str | None:
    """Why spec checks cannot run with ``directory`` (absent, empty), or None."""
    if directory is None:
        return "no specs directory (--specs empty, or not given and ../shared/specs does not exist)"
    if not directory.is_dir():
        return f"--specs {directory} does not exist"
    if not any(directory.iterdir()):
        return f"--specs {directory} is empty"
    return None


@dataclass
class Schemas:
    """The chat operation's schemas, as JSON pointers into the spec document."""

    request: str | None
    response: str | None
    chunk: str | None
    errors: dict[str, str] = field(default_factory=dict)  # status ("400", "default") -> pointer


class Spec:
    """One spec document, normalised, with compiled validators."""

    def __init__(self, provider: str, source: SpecSource, doc: dict[str, Any], path: Path) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.provider = provider
        self.source = source
        self.file = source.file
        self.path = path
        self.doc = doc
        self._uri = _URI + source.file
        self._registry = Registry().with_resource(self._uri, Resource(contents=doc, specification=DRAFT202012))
        self._validator_class = Draft202012Validator
        self._validators: dict[str, Any] = {}
        self._names: dict[str, frozenset[str]] = {}
        self.schemas = self._schemas()

    # --- finding the schemas --------------------------------------------------------
    def _schemas(self) -> Schemas:
        if self.source.operation == "proto":
            return Schemas(
                request="/$defs/GenerateContentRequest",
                response="/$defs/GenerateContentResponse",
                chunk="/$defs/GenerateContentResponse",
                errors={"default": "/$defs/ErrorEnvelope"},
            )
        op = self.doc["paths"][self.source.operation]["post"]
        request = _content_pointer(op.get("requestBody") or {}, "application/json")
        responses = op.get("responses") or {}
        ok = responses.get("200") or responses.get(200) or {}
        response = _content_pointer(ok, "application/json")
        if self.source.response:
            response = f"/components/schemas/{self.source.response}"
        chunk = _content_pointer(ok, "text/event-stream")
        if self.source.chunk:
            chunk = f"/components/schemas/{self.source.chunk}"
        elif chunk is not None:
            chunk = self._event_data(chunk)
        errors = {}
        for status, answer in responses.items():
            if str(status) != "200":
                pointer = _content_pointer(answer, "application/json")
                if pointer is not None:
                    errors[str(status)] = pointer
        if self.source.error:
            errors.setdefault("default", f"/components/schemas/{self.source.error}")
        return Schemas(request, response, chunk, errors)

    def _event_data(self, pointer: str) -> str:
        """An SSE schema that wraps the chunk in ``{data: ...}`` (Mistral, Together,
        OpenRouter): the chunk is the ``data`` property (of the branch that has one)."""
        schema = self.resolve(pointer)
        for index, branch in enumerate(schema.get("oneOf") or schema.get("anyOf") or []):
            target = self.resolve_ref(branch)
            if "data" in (target.get("properties") or {}):
                return self._data_property(target, branch.get("$ref"), f"{pointer}/oneOf/{index}")
        if "data" in (schema.get("properties") or {}):
            return self._data_property(schema, None, pointer)
        return pointer

    def _data_property(self, schema: dict[str, Any], ref: str | None, pointer: str) -> str:
        data = schema["properties"]["data"]
        if "$ref" in data:
            return data["$ref"].lstrip("#")
        return (ref.lstrip("#") if ref else pointer) + "/properties/data"

    def resolve(self, pointer: str) -> dict[str, Any]:
        node: Any = self.doc
        for part in pointer.strip("/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return self.resolve_ref(node)

    def resolve_ref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            node = self.resolve(node["$ref"].lstrip("#"))
            seen += 1
        return node

    # --- validation -----------------------------------------------------------------
    def validator(self, pointer: str) -> Any:
        """A compiled validator for the schema at ``pointer`` (compiled once, reused)."""
        found = self._validators.get(pointer)
        if found is None:
            schema = {"$ref": f"{self._uri}#{pointer}"}
            found = self._validators[pointer] = self._validator_class(schema, registry=self._registry)
        return found

    def property_names(self, pointer: str) -> frozenset[str]:
        """Every top-level property the object schema at ``pointer`` names, through ``$ref``
        and every ``allOf``/``anyOf``/``oneOf`` branch (what strict mode allows)."""
        found = self._names.get(pointer)
        if found is None:
            names: set[str] = set()
            stack = [self.resolve(pointer)]
            seen: set[int] = set()
            while stack:
                node = self.resolve_ref(stack.pop())
                if not isinstance(node, dict) or id(node) in seen:
                    continue
                seen.add(id(node))
                names.update(node.get("properties") or {})
                stack += [*(node.get("allOf") or []), *(node.get("anyOf") or []), *(node.get("oneOf") or [])]
            found = self._names[pointer] = frozenset(names)
        return found

    def property_schema(self, pointer: str, dotted: str) -> dict[str, Any] | None:
        """The schema of the body field at ``dotted`` under the object schema at ``pointer``
        (following ``$ref``, ``allOf`` and the non-null branch of ``anyOf``/``oneOf``)."""
        node: Any = self.resolve(pointer)
        for key in dotted.split("."):
            node = _find_property(self, node, key)
            if node is None:
                return None
        return node

    def where(self, pointer: str | None) -> str:
        return f"{self.file}#{pointer}" if pointer else self.file


def _content_pointer(holder: dict[str, Any], media: str) -> str | None:
    schema = ((holder.get("content") or {}).get(media) or {}).get("schema")
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema and len(schema) == 1:
        return str(schema["$ref"]).lstrip("#")
    return None


def _find_property(spec: Spec, node: Any, key: str) -> Any:
    node = spec.resolve_ref(node)
    if not isinstance(node, dict):
        return None
    props = node.get("properties") or {}
    if key in props:
        return spec.resolve_ref(props[key])
    for branch in [*(node.get("allOf") or []), *(node.get("anyOf") or []), *(node.get("oneOf") or [])]:
        found = _find_property(spec, branch, key)
        if found is not None:
            return found
    return None


# --- loading ------------------------------------------------------------------------------


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ailib-conformance" / "specs"


def _read_document(path: Path) -> dict[str, Any]:
    """The parsed, normalised document, from the disk cache when the file is unchanged."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|v1".encode()).hexdigest()[:24]
    cached = _cache_dir() / f"{path.stem}-{key}.pickle"
    try:
        with cached.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    if path.suffix == ".proto":
        from .protos import gemini_schemas

        doc: dict[str, Any] = gemini_schemas(path.parents[4])
    elif path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
    else:
        import yaml

        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    doc = normalise(doc)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cached)
    except OSError:
        pass  # a read-only home: parse every session
    return doc


def normalise(node: Any) -> Any:
    """OpenAPI 3.0 idioms as JSON Schema 2020-12 (in place; returns ``node``)."""
    if isinstance(node, dict):
        for value in node.values():
            normalise(value)
        for bound, edge in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(node.get(bound), bool):
                if node[bound] and edge in node:
                    node[bound] = node.pop(edge)
                else:
                    del node[bound]
        if node.get("nullable") is True:
            del node["nullable"]
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
                if "enum" in node and None not in node["enum"]:
                    node["enum"] = [*node["enum"], None]
            elif isinstance(kind, list):
                if "null" not in kind:
                    kind.append("null")
            else:
                inner = {k: node.pop(k) for k in list(node) if k in ("$ref", "allOf", "oneOf", "anyOf")}
                if inner:
                    node["anyOf"] = [inner, {"type": "null"}]
    elif isinstance(node, list):
        for value in node:
            normalise(value)
    elif hasattr(node, "isoformat"):  # YAML dates in examples: keep the document JSON-shaped
        return node
    return node


@cache
def load_spec(provider_source: str, specs_dir: str) -> Spec | None:
    """The compiled spec of ``SOURCES[provider_source]`` under ``specs_dir``, or None when
    its file is missing there."""
    source = SOURCES[provider_source]
    path = Path(specs_dir) / source.file
    if not path.is_file():
        return None
    return Spec(provider_source, source, _read_document(path), path)


def spec_for(provider: str, family: str, specs_dir: Path) -> Spec | None:
    """The spec that judges ``provider``: its own, else OpenAI's for an OpenAI-compatible one."""
    if provider in SOURCES:
        return load_spec(provider, str(specs_dir))
    if family == BASELINE_FAMILY:
        return load_spec(BASELINE, str(specs_dir))
    return None
