"""Find, load and validate provider manifests, and compile them for fast use.

A manifest is data: the JSON Schema in ``manifests/schema`` says what it may hold,
and this module turns a valid file into a :class:`Manifest` whose sections are typed,
frozen values (see :mod:`ailib.sections`) and whose paths are already compiled to getters
(see :mod:`ailib.paths`): the client reads fields, never a section by key per call. Loading is cached per file, so
creating many clients for one provider reads and validates the YAML once.

``yaml`` and ``jsonschema`` are imported on first load, not at ``import ailib``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from . import paths, protocol
from .errors import ConfigurationError, ManifestError
from .sections import (
    Auth,
    Capability,
    Endpoint,
    ErrorSpec,
    HeaderSpec,
    Parameter,
    RequestSpec,
    StreamSpec,
    ToolsSpec,
    frozen_map,
)

USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens")
PARAMETERS = ("temperature", "top_p", "max_tokens", "stop")
#: ``.tool_choice()`` words; each is a capability ``tool_choice_<word>`` derived from ``tools.choice``.
TOOL_CHOICES = ("auto", "none", "required", "named")

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_manifests_dir() -> Path:
    """``$AILIB_MANIFESTS_DIR``, else the copy inside an installed wheel, else the checkout's."""
    env = os.environ.get("AILIB_MANIFESTS_DIR")
    if env:
        return Path(env)
    return _installed_manifests_dir()


@lru_cache(maxsize=1)
def _installed_manifests_dir() -> Path:
    bundled = _PACKAGE_DIR / "_manifests"
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / "manifests"


@dataclass(frozen=True, slots=True)
class Extraction:
    """Compiled getters for one response shape or one stream route."""

    content: paths.Getter
    reasoning: paths.Getter
    finish_reason: paths.Getter
    model: paths.Getter
    error: paths.Getter
    usage: tuple[tuple[str, paths.Getter], ...]
    end: bool = False
    text: bool = False
    finish_default: str | None = None
    #: tool calls (a list, or one object) in this response or stream event; ``None`` when the
    #: manifest names none, so the stream loop skips tool handling with one test
    tool_calls: paths.Getter | None = None
    #: the event-level index of the tool call an event continues (Anthropic, Cohere); None: none
    tool_index: paths.Getter | None = None
    #: this event completes the tool call at ``tool_index``
    tool_end: bool = False


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated provider manifest, compiled: each section is a typed, frozen value
    (:mod:`ailib.sections`) built once at load. ``data`` is the raw mapping as loaded, for
    tools that report on the manifest's text (the conformance harness); the client reads
    only the compiled sections."""

    id: str
    name: str
    family: str
    file: str
    data: dict[str, Any] = field(repr=False)
    chat_supported: bool = True
    chat_reason: str | None = None
    docs_url: str = ""
    default_model: str | None = None
    capabilities: Mapping[str, Capability] = field(default_factory=dict, repr=False)
    #: where requests go; None only for a provider without chat
    endpoint: Endpoint | None = field(default=None, repr=False)
    #: where the key comes from and goes; None only for a provider without chat
    auth: Auth | None = field(default=None, repr=False)
    headers: HeaderSpec = field(default_factory=HeaderSpec, repr=False)
    request: RequestSpec = field(default_factory=RequestSpec, repr=False)
    response: Extraction | None = field(default=None, repr=False)
    stream: StreamSpec = field(default_factory=StreamSpec, repr=False)
    #: the provider's finish reason -> the standard one
    finish_reasons: Mapping[str, str] = field(default_factory=dict, repr=False)
    errors: ErrorSpec = field(default_factory=ErrorSpec, repr=False)
    tools: ToolsSpec = field(default_factory=ToolsSpec, repr=False)

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """``request.parameters``: the parameters the provider takes, by name."""
        return self.request.parameters

    @property
    def routes(self) -> Mapping[str, Extraction]:
        """``stream.routes``: what to read from each kind of stream event."""
        return self.stream.routes

    def capability(self, name: str) -> Capability:
        return self.capabilities.get(name, Capability(False, f"{self.id} manifest does not declare '{name}'"))

    def env_vars(self) -> list[str]:
        """Where an API key may come from, in lookup order."""
        auth = self.auth
        names = [auth.env, *auth.alt_env] if auth else []
        fallback = f"{self.id.upper().replace('-', '_')}_API_KEY"
        return names + ([fallback] if fallback not in names else [])


# --- loading -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> Any:
    import json

    import jsonschema.validators

    schema_file = default_schema_file()
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def default_schema_file() -> Path:
    for candidate in (_PACKAGE_DIR / "_manifests" / "schema", _PACKAGE_DIR.parent / "manifests" / "schema"):
        if (candidate / "manifest.schema.json").is_file():
            return candidate / "manifest.schema.json"
    raise ManifestError("manifest.schema.json", "$", "schema file not found next to the manifests")


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


#: The largest manifest file read (today's are under 8 KB). Checked before YAML parses it:
#: a few MB of list-heavy YAML costs seconds and hundreds of MB to parse.
MAX_FILE_BYTES = 256 * 1024
_JSON_SCALARS = (str, int, float, bool, type(None))
MAX_DEPTH = 32
MAX_VALUES = 100_000


def _not_json(data: Any) -> tuple[list[Any], str] | None:
    """Where ``data`` stops being JSON data, and why; None if it is JSON data.

    YAML gives more than JSON: dates (an unquoted ``2024-10-21``), sets, bytes, non-string
    keys, and aliases that make a value contain itself. The schema does not see most of
    these, and the client would fail on them later (``json.dumps``, httpx headers).
    """
    stack: list[tuple[Any, list[Any], tuple[int, ...]]] = [(data, [], ())]
    count = 0
    while stack:
        value, at, ancestors = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return [], f"more than {MAX_VALUES} values (an alias that expands without end?)"
        if isinstance(value, _JSON_SCALARS):
            continue
        if not isinstance(value, (dict, list)):
            return at, f"{type(value).__name__} value {value!r:.40} is not JSON data (quote it)"
        if id(value) in ancestors:
            return at, "the value contains itself (a recursive YAML alias)"
        if len(ancestors) >= MAX_DEPTH:
            return at, f"nested more than {MAX_DEPTH} levels deep"
        inner = (*ancestors, id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return at, f"key {key!r} is a {type(key).__name__}, not a string (quote it)"
                stack.append((item, [*at, key], inner))
        else:
            stack.extend((item, [*at, index], inner) for index, item in enumerate(value))
    return None


def parse_manifest(data: Any, file: str) -> Manifest:
    """Validate ``data`` (a parsed manifest) and compile it. Raises :class:`ManifestError`."""
    import jsonschema.exceptions

    if not isinstance(data, dict):
        raise ManifestError(file, "$", f"expected a mapping at the top level, got {type(data).__name__}")
    problem = _not_json(data)
    if problem is not None:
        raise ManifestError(file, _json_path(problem[0]), problem[1])
    errors = list(_validator().iter_errors(data))
    if errors:
        # A property that fails inside an ``allOf`` also shows up as an "unevaluated"
        # property of its parent; that echo names the wrong path and the wrong reason.
        errors = [e for e in errors if e.validator != "unevaluatedProperties"] or errors
        best = jsonschema.exceptions.best_match(errors)
        reason = best.message if len(best.message) <= 200 else best.message[:197] + "..."
        raise ManifestError(file, _json_path(best.absolute_path), reason)
    try:
        return _compile(data, file)
    except ManifestError:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # a check the schema cannot express
        raise ManifestError(file, "$", str(exc)) from None


def compile_paths(spec: str | list[str] | None) -> paths.Getter:
    """A getter for one path, or for a list of fallback paths (the first value found wins)."""
    if not isinstance(spec, list):
        return paths.compile_path(spec)
    if len(spec) == 1:
        return paths.compile_path(spec[0])
    getters = tuple(paths.compile_path(p) for p in spec)

    def first(obj: Any) -> Any:
        for get in getters:
            value = get(obj)
            if value is not None:
                return value
        return None

    return first


def _extraction(spec: dict[str, Any], file: str, where: str) -> Extraction:
    def getter(key: str, path: str | list[str] | None, at: str) -> paths.Getter:
        try:
            return compile_paths(path)
        except ValueError as exc:
            raise ManifestError(file, f"{at}.{key}", str(exc)) from None

    usage = spec.get("usage") or {}
    tool_calls = spec.get("tool_calls")
    return Extraction(
        content=getter("content", spec.get("content"), where),
        reasoning=getter("reasoning", spec.get("reasoning"), where),
        finish_reason=getter("finish_reason", spec.get("finish_reason"), where),
        model=getter("model", spec.get("model"), where),
        error=getter("error", spec.get("error"), where),
        usage=tuple((name, getter(name, usage[name], f"{where}.usage")) for name in USAGE_FIELDS if name in usage),
        end=bool(spec.get("end", False)),
        text=bool(spec.get("text", False)),
        finish_default=spec.get("finish_default"),
        tool_calls=getter("tool_calls", tool_calls, where) if tool_calls else None,
        tool_index=getter("tool_index", spec.get("tool_index"), where) if spec.get("tool_index") else None,
        tool_end=bool(spec.get("tool_end", False)),
    )


def _route_key(event_type: str) -> Callable[[str, Any], str] | None:
    if event_type == "sse":
        return lambda sse_name, _obj: sse_name
    if event_type.startswith("field:"):
        read = paths.compile_path(event_type[len("field:") :])
        return lambda _name, obj: read(obj) or "*"
    return None


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")  # visible ASCII, space, tab: no line breaks


def _check_headers(data: dict[str, Any], file: str) -> None:
    """Header names and values must be sendable: httpx raises on non-ASCII values when it
    builds a request, and h11 on a line break or a bad name only when it sends one."""
    for section in ("headers", "stream_headers", "sync_headers"):
        for name, value in (data.get(section) or {}).items():
            if not _HEADER_NAME.fullmatch(name):
                raise ManifestError(file, f"$.{section}", f"{name!r} is not a valid HTTP header name")
            if not _HEADER_VALUE.fullmatch(value):
                raise ManifestError(
                    file,
                    f"$.{section}.{name}",
                    f"{value!r} cannot be sent in an HTTP header (line break, control or non-ASCII character)",
                )
    auth = data.get("auth") or {}
    if auth.get("placement") == "header":
        if not _HEADER_NAME.fullmatch(auth["name"]):
            raise ManifestError(file, "$.auth.name", f"{auth['name']!r} is not a valid HTTP header name")
        if not _HEADER_VALUE.fullmatch(auth.get("prefix", "")):
            raise ManifestError(
                file,
                "$.auth.prefix",
                f"{auth['prefix']!r} cannot be sent in an HTTP header (line break, control or non-ASCII character)",
            )


def _compile(data: dict[str, Any], file: str) -> Manifest:
    chat = data["chat"]
    caps = {
        name: Capability(True) if value is True else Capability(False, value["reason"])
        for name, value in (data.get("capabilities") or {}).items()
    }
    _tool_choice_capabilities(data, caps)
    default_model = data.get("default_model")
    common = {
        "id": data["id"],
        "name": data["name"],
        "family": data["family"],
        "file": file,
        "data": data,
        "docs_url": data["docs_url"],
        "default_model": default_model if isinstance(default_model, str) else None,
        "capabilities": frozen_map(caps),
        # what a provider without chat may still say: where its key would come from
        "auth": Auth.compile(data["auth"]) if data.get("auth") else None,
    }
    if chat is not True:
        return Manifest(**common, chat_supported=False, chat_reason=chat["reason"])
    if data["family"] == "none":
        raise ManifestError(file, "$.family", "chat: true needs a wire family ('none' is for providers without chat)")
    _check_headers(data, file)
    request = RequestSpec.compile(data["request"])
    params = request.parameters
    for name in request.defaults:
        if name not in params:
            raise ManifestError(file, f"$.request.defaults.{name}", "a default for a parameter with no mapped field")
    for name in PARAMETERS:
        declared = caps.get(name)
        if declared and declared.supported and name not in params:
            raise ManifestError(file, f"$.request.parameters.{name}", "capability declared but no field mapped")
        if name in params and declared and not declared.supported:
            raise ManifestError(file, f"$.capabilities.{name}", "declared unsupported but a field is mapped")
    stream = data.get("stream") or {}
    routes = {
        name: _extraction(spec, file, f"$.stream.routes.{name}") for name, spec in (stream.get("routes") or {}).items()
    }
    if caps.get("streaming", Capability(False)).supported and not routes:
        raise ManifestError(file, "$.stream", "streaming declared but no stream routes")
    _check_tool_paths(data, caps, routes, file)
    errors = data.get("errors") or {}
    return Manifest(
        **common,
        endpoint=Endpoint.compile(data["endpoint"]),
        headers=HeaderSpec.compile(data),
        request=request,
        response=_extraction(data["response"], file, "$.response"),
        stream=_stream_spec(stream, routes, file),
        finish_reasons=frozen_map(data.get("finish_reasons")),
        errors=ErrorSpec(
            message=compile_paths(errors.get("message")),
            type=compile_paths(errors.get("type")),
            code=compile_paths(errors.get("code")),
            classes=frozen_map(errors.get("classes")),
            message_classes=frozen_map(errors.get("message_classes")),
            quota_markers=tuple(errors.get("quota_markers") or ()),
        ),
        tools=ToolsSpec.compile(data.get("tools") or {}),
    )


def _stream_spec(stream: dict[str, Any], routes: dict[str, Extraction], file: str) -> StreamSpec:
    """``stream`` compiled: the route names, the route key and the start-URL path read once."""
    event_type = stream.get("event_type", "none")
    try:
        route_key = _route_key(event_type)
    except ValueError as exc:
        raise ManifestError(file, "$.stream.event_type", str(exc)) from None
    start_url = stream.get("start_url")
    try:
        read_start_url = paths.compile_path(start_url) if start_url else None
    except ValueError as exc:
        raise ManifestError(file, "$.stream.start_url", str(exc)) from None
    mode: Literal["sse", "field", "none"] = (
        "sse" if event_type == "sse" else "field" if event_type.startswith("field:") else "none"
    )
    return StreamSpec(
        mode=mode,
        routes=frozen_map(routes),
        route_key=route_key,
        done_marker=stream.get("done_marker"),
        ends_at_finish=bool(stream.get("ends_at_finish")),
        start_url=start_url,
        read_start_url=read_start_url,
        follow_domains=tuple(stream.get("follow_domains") or ()),
    )


def _tool_choice_capabilities(data: dict[str, Any], caps: dict[str, Capability]) -> None:
    """``tool_choice_<word>`` for each ``.tool_choice()`` word: supported when ``tools.choice``
    maps it, else unsupported with the manifest's reason (``tools.unsupported``)."""
    tools = caps.get("tools")
    section = data.get("tools") or {}
    choice, why = section.get("choice") or {}, section.get("unsupported") or {}
    for word in TOOL_CHOICES:
        if tools is None or not tools.supported:
            caps[f"tool_choice_{word}"] = Capability(
                False, tools.reason if tools else f"{data['id']} manifest does not declare 'tools'"
            )
        elif word in choice and choice[word] is not False:
            caps[f"tool_choice_{word}"] = Capability(True)
        else:
            reason = why.get(word) or f"{data['id']} manifest maps no tool_choice {word!r} (tools.choice)"
            caps[f"tool_choice_{word}"] = Capability(False, reason)


def _check_tool_paths(
    data: dict[str, Any], caps: dict[str, Capability], routes: dict[str, Extraction], file: str
) -> None:
    """Declared tool support needs somewhere to read the calls from."""
    tools = caps.get("tools")
    if tools is None or not tools.supported:
        return
    if not (data.get("response") or {}).get("tool_calls"):
        raise ManifestError(file, "$.response.tool_calls", "tools declared but no path to the tool calls")
    if caps.get("streaming", Capability(False)).supported and not any(r.tool_calls for r in routes.values()):
        raise ManifestError(file, "$.stream.routes", "tools and streaming declared but no route reads tool_calls")


def load_file(path: str | os.PathLike[str]) -> Manifest:
    """Load one manifest file (YAML or JSON). Cached per file, until the file changes."""
    name = os.fspath(path)
    try:
        stat = os.stat(name)
    except OSError as exc:
        raise ManifestError(Path(name).name, "$", f"cannot read: {exc.strerror}") from None
    if stat.st_size > MAX_FILE_BYTES:
        raise ManifestError(
            Path(name).name, "$", f"file of {stat.st_size} bytes is larger than a manifest can be ({MAX_FILE_BYTES})"
        )
    return _load_cached(os.path.abspath(name), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _load_cached(path: str, _mtime: int, _size: int) -> Manifest:
    import yaml

    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "$"
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())  # a ReaderError has no .problem
        raise ManifestError(name, where, f"not valid YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(name, "$", f"cannot read: {exc}") from None
    except Exception as exc:
        # PyYAML's constructors let built-in errors through for scalars they cannot build
        # (`2024-13-45`, `!!int abc`, `!!int ` (IndexError), `!!bool maybe`) and for deep
        # nesting; which ones is an implementation detail, and a loader answers ManifestError.
        raise ManifestError(name, "$", f"not valid YAML: {type(exc).__name__}: {exc}") from None
    if protocol.is_protocol(data):  # an AI-Protocol (upstream) manifest: translated, gaps reported
        name = protocol.display_name(path)
        data = protocol.to_manifest_data(data, name)
    manifest = parse_manifest(data, name)
    expected_id = Path(path).stem
    if manifest.id != expected_id:
        raise ManifestError(name, "$.id", f"id {manifest.id!r} does not match the file name {expected_id!r}")
    return manifest


def available(manifests_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The provider ids with a manifest in ``manifests_dir``, sorted."""
    root = Path(manifests_dir) if manifests_dir else default_manifests_dir()
    return sorted({p.stem for p in root.glob("*.yaml")} | set(protocol.available(root)))


def load(provider: str, manifests_dir: str | os.PathLike[str] | None = None) -> Manifest:
    """Load the manifest of ``provider``; unknown ids raise :class:`ConfigurationError`."""
    root = os.fspath(manifests_dir) if manifests_dir else os.fspath(default_manifests_dir())
    if not isinstance(provider, str) or not paths._SEGMENT.match(provider) or "/" in provider:
        raise ConfigurationError(f"invalid provider id {provider!r}")
    path = os.path.join(root, f"{provider}.yaml")
    if not os.path.isfile(path):  # an AI-Protocol tree: v2/providers/<id>.yaml, v1/..., dist/...
        path = os.fspath(protocol.find_file(root, provider) or path)
    if not os.path.isfile(path):
        known = ", ".join(available(root)) or "none"
        raise ConfigurationError(
            f"unknown provider {provider!r}: no manifest {provider}.yaml in {root} (known: {known})"
        )
    return load_file(path)
