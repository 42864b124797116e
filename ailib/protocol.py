"""Read AI-Protocol provider manifests (upstream's v1 and v2 formats) as ailib manifests.

The AI-Lib runtimes load provider manifests from the AI-Protocol repository
(``v1/providers/<id>.yaml``, ``v2/providers/<id>.yaml``, or the built ``dist/`` JSON).
``AiClient.create("openai/gpt-4o", manifests_dir=<such a tree>)`` reads them through this
module: a file with a ``protocol_version`` is an AI-Protocol manifest; it is checked for
the fields AI-Protocol itself requires (``id``, ``protocol_version``, ``endpoint.base_url``,
as upstream's loader compliance cases load-001..003 do) and converted into ailib's own
manifest, which then goes through ailib's schema like any other.

Converting is a translation, not a guess. What ailib needs and the upstream file does not
say is a :class:`Gap`, and each gap has one of three consequences:

``fatal``        the client cannot be built (no chat path, no wire family): loading raises
                 :class:`~ailib.errors.ManifestError` naming the file and the upstream field;
``unsupported``  one capability is switched off, with the gap as its reason (a parameter
                 with no mapping, streaming with no event rules), so the client refuses it
                 before sending instead of sending something unfounded;
``family``       the value is the wire family's own definition, not a per-provider fact
                 (e.g. the model goes in the body's ``model`` field of an OpenAI-style
                 request, OpenAI's response text is ``choices[0].message.content``): it is
                 filled from :data:`FAMILY_DEFAULTS` and reported.

``python -m ailib.protocol DIR`` prints, per file, its format and its gaps.

Vocabulary mapped here (upstream -> ailib): ``payload_format`` / ``streaming.decoder.strategy``
/ ``endpoints.chat.adapter`` -> family; ``termination.mapping`` (upstream's standard reasons
``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``, ``refusal``, ``pause_turn``,
``other``) -> ``finish_reasons``; ``response_paths.usage`` (one object) -> usage fields read
under the AI-Lib standard names ``prompt_tokens`` / ``completion_tokens`` / ``total_tokens``,
which is how the AI-Lib runtimes read that object; ``streaming.event_map`` rules -> stream
routes (a rule matching ``$.<field> == 'X'`` is route ``X`` keyed on that field).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ManifestError

#: where an AI-Protocol tree keeps provider files, in the order the AI-Lib runtimes look
#: (ai-lib-python 1.2.0 ``ProtocolLoader``: dist/v2, dist/v1, v2, v1)
LAYOUTS = (
    Path("dist") / "v2" / "providers",
    Path("dist") / "v1" / "providers",
    Path("v2") / "providers",
    Path("v1") / "providers",
)
SUFFIXES = (".yaml", ".yml", ".json")

_FAMILY_WORDS = {
    "openai_style": "openai-chat",
    "openai": "openai-chat",
    "openai_chat": "openai-chat",
    "sse_ignore_comments": "openai-chat",
    "anthropic_style": "anthropic-messages",
    "anthropic": "anthropic-messages",
    "anthropic_event_stream": "anthropic-messages",
    "gemini_style": "gemini",
    "gemini": "gemini",
    "gemini_generate": "gemini",
    "cohere_v2": "cohere-v2",
    "cohere": "cohere-v2",
    "replicate_style": "replicate",
    "replicate": "replicate",
}

#: What each wire family defines for every provider that speaks it (the family's own
#: documentation, which ailib's codec for it implements): used only where an upstream file
#: names the family but not the value, and always reported as a ``family`` gap.
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    # https://platform.openai.com/docs/api-reference/chat/create (request and response objects)
    "openai-chat": {
        "model_field": "model",
        "stream_field": "stream",
        "response": {"content": "choices.0.message.content", "finish_reason": "choices.0.finish_reason"},
        "usage": "usage",
        "errors": {"message": "error.message", "type": "error.type", "code": "error.code"},
        "done_marker": "[DONE]",  # a stream ends with `data: [DONE]`
    },
    # https://docs.anthropic.com/en/api/messages
    "anthropic-messages": {
        "model_field": "model",
        "stream_field": "stream",
        "response": {"content": "content[type=text].text", "finish_reason": "stop_reason"},
        "usage": "usage",
        "errors": {"message": "error.message", "type": "error.type"},
    },
    # https://ai.google.dev/api/generate-content (model in the URL, streaming by URL)
    "gemini": {
        "model_field": None,
        "stream_field": None,
        "response": {"content": "candidates.0.content.parts.0.text", "finish_reason": "candidates.0.finishReason"},
        "roles": {"assistant": "model"},  # Content.role is "user" or "model"
        "usage": None,
        "errors": {"message": "error.message", "type": "error.status"},
    },
    # https://docs.cohere.com/reference/chat
    "cohere-v2": {
        "model_field": "model",
        "stream_field": "stream",
        "response": {"content": "message.content.0.text", "finish_reason": "finish_reason"},
        "usage": None,
        "errors": {"message": "message"},
    },
    # https://replicate.com/docs/reference/http#predictions.create
    "replicate": {
        "model_field": None,
        "stream_field": "stream",
        "response": {"content": "output", "finish_reason": "status"},
        "usage": None,
        "errors": {"message": "detail"},
    },
}

#: upstream's standard termination reasons -> ailib's finish reasons
_TERMINATION = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "stop": "stop",
    "max_tokens": "length",
    "length": "length",
    "tool_use": "tool_calls",
    "tool_calls": "tool_calls",
    "refusal": "content_filter",
    "content_filter": "content_filter",
    "pause_turn": "other",
    "other": "other",
}
#: ailib parameter -> upstream's standard parameter name(s)
_PARAMETERS = {
    "temperature": ("temperature",),
    "top_p": ("top_p",),
    "max_tokens": ("max_tokens",),
    "stop": ("stop_sequences", "stop"),
}
_USAGE_NAMES = ("prompt_tokens", "completion_tokens", "total_tokens")
_ERROR_CLASSES = frozenset(
    {
        "invalid_request",
        "authentication",
        "permission_denied",
        "not_found",
        "request_too_large",
        "rate_limited",
        "quota_exhausted",
        "server_error",
        "overloaded",
        "timeout",
        "conflict",
        "cancelled",
        "unknown",
    }
)
UPSTREAM = "https://github.com/ailib-official/ai-protocol"
_DOLLAR_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BRACE_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)\}")
_ROUTE_MATCH = re.compile(r"\$\.([A-Za-z_][A-Za-z0-9_.]*)\s*==\s*'([^']*)'")


@dataclass(frozen=True)
class Gap:
    """One thing ailib needs that the upstream file does not say (or says unusably)."""

    ours: str  # the field of ailib's manifest, e.g. "$.capabilities.stop"
    upstream: str  # where upstream would say it, e.g. "$.parameter_mappings.stop_sequences"
    consequence: str  # "fatal" | "unsupported" | "family"
    reason: str

    def __str__(self) -> str:
        return f"{self.upstream} -> {self.ours} [{self.consequence}]: {self.reason}"


@dataclass
class Conversion:
    """An upstream file read as ailib's manifest data, with what could not be carried over."""

    file: str
    provider: str
    protocol_version: str
    data: dict[str, Any]
    gaps: list[Gap] = field(default_factory=list)

    @property
    def fatal(self) -> list[Gap]:
        return [g for g in self.gaps if g.consequence == "fatal"]


def is_protocol(data: Any) -> bool:
    """An AI-Protocol manifest (ailib's own manifests have no ``protocol_version``)."""
    return isinstance(data, dict) and ("protocol_version" in data or "$schema" in data)


# --- finding files ------------------------------------------------------------------------


def find_file(root: str | os.PathLike[str], provider: str) -> Path | None:
    """The upstream file for ``provider`` under an AI-Protocol tree (or a flat directory)."""
    base = Path(root)
    for layout in (Path("."), *LAYOUTS):
        for suffix in SUFFIXES:
            candidate = base / layout / f"{provider}{suffix}"
            if candidate.is_file() and (layout != Path(".") or suffix != ".yaml"):
                return candidate
    return None


def available(root: str | os.PathLike[str]) -> list[str]:
    """Provider ids with an AI-Protocol file under ``root``'s provider directories."""
    base = Path(root)
    found = {p.stem for layout in LAYOUTS for s in SUFFIXES for p in (base / layout).glob(f"*{s}")}
    return sorted(found)


def display_name(path: str | os.PathLike[str]) -> str:
    """``v1/providers/openai.yaml`` for a file in a provider directory, else its name."""
    p = Path(path)
    if p.parent.name == "providers":
        return "/".join(p.parts[-3:])
    return p.name


# --- reading -------------------------------------------------------------------------------


def check_required(data: Any, file: str) -> None:
    """AI-Protocol's own required fields: ``id``, ``protocol_version``, ``endpoint.base_url``
    (the v1.0/1.1 layout keeps ``base_url`` at the top level). Names every missing one."""
    if not isinstance(data, dict):
        raise ManifestError(file, "$", f"expected a mapping at the top level, got {type(data).__name__}")
    missing: list[str] = []
    if not isinstance(data.get("id"), str) or not data["id"]:
        missing.append("$.id")
    if not isinstance(data.get("protocol_version"), (str, int, float)) or isinstance(
        data.get("protocol_version"), bool
    ):
        missing.append("$.protocol_version")
    endpoint = data.get("endpoint")
    base = endpoint.get("base_url") if isinstance(endpoint, dict) else None
    if not isinstance(base, str) and not isinstance(data.get("base_url"), str):
        missing.append("$.endpoint.base_url")
    if missing:
        raise ManifestError(file, missing[0], f"required AI-Protocol field(s) missing: {', '.join(missing)}")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def ours_path(path: Any) -> str | None:
    """Upstream JSONPath-like ``$.choices[0].delta.content`` -> ``choices.0.delta.content``;
    ``[*]`` (every candidate) reads the first. None for a literal (no ``$.`` and no dot path)."""
    if not isinstance(path, str) or not path.strip():
        return None
    text = path.strip()
    if text.startswith("$."):
        text = text[2:]
    elif text.startswith("$") or " " in text or not re.fullmatch(r"[A-Za-z0-9_.\[\]*]+", text):
        return None
    text = re.sub(r"\[(\d+|\*)\]", lambda m: "." + ("0" if m[1] == "*" else m[1]), text)
    return text.strip(".") or None


def _family(data: dict[str, Any], gaps: list[Gap]) -> str | None:
    endpoints = _mapping(data.get("endpoints"))
    chat = _mapping(endpoints.get("chat"))
    decoder = _mapping(_mapping(data.get("streaming")).get("decoder"))
    families = data.get("api_families")
    request_format = (
        _mapping(_mapping(families).get("chat")).get("request_format") if isinstance(families, dict) else None
    )
    for where, word in (
        ("$.payload_format", data.get("payload_format")),
        ("$.streaming.decoder.strategy", decoder.get("strategy")),
        ("$.endpoints.chat.adapter", chat.get("adapter")),
        ("$.api_families.chat.request_format", request_format),
    ):
        if isinstance(word, str) and word in _FAMILY_WORDS:
            return _FAMILY_WORDS[word]
        if isinstance(word, str) and where == "$.payload_format":
            gaps.append(Gap("$.family", where, "fatal", f"payload format {word!r} is no wire family ailib speaks"))
            return None
    gaps.append(
        Gap(
            "$.family",
            "$.payload_format",
            "fatal",
            "no payload_format, streaming.decoder.strategy or endpoints.chat.adapter names the wire family",
        )
    )
    return None


def _endpoint(data: dict[str, Any], gaps: list[Gap]) -> dict[str, Any]:
    endpoint = _mapping(data.get("endpoint"))
    base = str(endpoint.get("base_url") or data.get("base_url") or "")
    variables: dict[str, Any] = {}

    def dollar(m: re.Match[str]) -> str:
        variables[m[1].lower()] = {"env": m[1]}
        return "{" + m[1].lower() + "}"

    base = _DOLLAR_VAR.sub(dollar, base)
    endpoints = _mapping(data.get("endpoints"))
    chat: Any = endpoint.get("chat")
    where = "$.endpoint.chat"
    if not isinstance(chat, str):
        raw = endpoints.get("chat", endpoints.get("chat_completions_create"))
        chat = raw.get("path") if isinstance(raw, dict) else raw
        where = "$.endpoints.chat.path"
    out: dict[str, Any] = {"base_url": base}
    if not isinstance(chat, str) or not chat.startswith("/"):
        others = ", ".join(sorted(str(k) for k in endpoints)) or "none"
        gaps.append(Gap("$.chat", where, "unsupported", f"no chat endpoint path (endpoints: {others})"))
        return out
    chat = chat.replace("{model_id}", "{model}")
    path, _, query = chat.partition("?")
    out["chat_path"] = path
    if query:
        out["query"] = dict(part.partition("=")[::2] for part in query.split("&") if part)
    for name in _BRACE_VAR.findall(base + path):
        if name != "model" and name not in variables:
            gaps.append(Gap("$.endpoint.variables", where, "fatal", f"URL variable {{{name}}} has no stated source"))
    if variables:
        out["variables"] = variables
    stream = endpoints.get("chat_stream")
    stream_path = stream.get("path") if isinstance(stream, dict) else stream
    if isinstance(stream_path, str) and stream_path.startswith("/"):
        spath, _, squery = stream_path.replace("{model_id}", "{model}").partition("?")
        if spath != path:
            out["stream_path"] = spath
        if squery:
            pairs = (part.partition("=") for part in squery.split("&") if part)
            out["stream_query"] = {name: value for name, _, value in pairs}
    return out


def _auth(data: dict[str, Any], provider: str, gaps: list[Gap]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    auth = _mapping(data.get("auth")) or _mapping(_mapping(data.get("endpoint")).get("auth"))
    where = "$.auth" if data.get("auth") else "$.endpoint.auth"
    headers = {
        str(h["name"]): str(h["value"])
        for h in auth.get("extra_headers") or []
        if isinstance(h, dict) and "name" in h and "value" in h
    }
    if not auth:
        gaps.append(Gap("$.auth", where, "fatal", "no auth section"))
        return None, headers
    env = auth.get("token_env") or auth.get("key_env")
    if not isinstance(env, str) or not env:
        env = f"{provider.upper().replace('-', '_')}_API_KEY"  # the AI-Lib runtimes' convention
    kind = auth.get("type")
    if kind == "bearer":
        prefix = str(auth.get("prefix") or "Bearer").strip() + " "
        return {
            "env": env,
            "placement": "header",
            "name": str(auth.get("header") or "Authorization"),
            "prefix": prefix,
        }, headers
    if kind in ("api_key", "custom_header", "header"):
        name = auth.get("header") or auth.get("header_name")
        if not isinstance(name, str) or not name:
            gaps.append(Gap("$.auth.name", f"{where}.header", "fatal", f"auth type {kind!r} names no header"))
            return None, headers
        out = {"env": env, "placement": "header", "name": name}
        if auth.get("prefix"):
            out["prefix"] = str(auth["prefix"]).strip() + " "
        return out, headers
    if kind == "query_param":
        name = auth.get("param_name")
        if not isinstance(name, str) or not name:
            gaps.append(Gap("$.auth.name", f"{where}.param_name", "fatal", "query_param auth names no parameter"))
            return None, headers
        return {"env": env, "placement": "query", "name": name}, headers
    gaps.append(Gap("$.auth", f"{where}.type", "fatal", f"auth type {kind!r} is not one ailib can place"))
    return None, headers


def _parameters(data: dict[str, Any], gaps: list[Gap]) -> tuple[dict[str, Any], str | None]:
    """ailib parameters from v1 ``parameter_mappings`` or v2 ``parameters`` (field name ->
    {alias: standard name, range: [min, max]})."""
    out: dict[str, Any] = {}
    stream_field: str | None = None
    mappings = _mapping(data.get("parameter_mappings"))
    for ours, names in _PARAMETERS.items():
        for name in names:
            if isinstance(mappings.get(name), str):
                out[ours] = {"field": mappings[name]}
                break
    if isinstance(mappings.get("stream"), str):
        stream_field = mappings["stream"]
    for wire_name, spec in _mapping(data.get("parameters")).items():
        spec = _mapping(spec)
        standard = spec.get("alias") or wire_name
        known = next((k for k, names in _PARAMETERS.items() if standard in names), None)
        if standard == "stream":
            stream_field = str(wire_name)
        if known is None or known in out:
            continue
        param: dict[str, Any] = {"field": str(wire_name)}
        rng = spec.get("range")
        if isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, (int, float)) for v in rng):
            param["min"], param["max"] = rng
        for bound in ("min", "max"):
            if isinstance(spec.get(bound), (int, float)) and not isinstance(spec.get(bound), bool):
                param[bound] = spec[bound]
        out[known] = param
    where = "$.parameter_mappings" if mappings or not data.get("parameters") else "$.parameters"
    for ours, names in _PARAMETERS.items():
        if ours not in out:
            gaps.append(
                Gap(f"$.capabilities.{ours}", f"{where}.{names[0]}", "unsupported", f"no mapping for {names[0]}")
            )
    return out, stream_field


def _usage(obj: str | None) -> dict[str, str]:
    return {name: f"{obj}.{name}" for name in _USAGE_NAMES} if obj else {}


def _response(data: dict[str, Any], family: str, gaps: list[Gap]) -> dict[str, Any]:
    paths = _mapping(data.get("response_paths"))
    defaults = FAMILY_DEFAULTS[family]
    out: dict[str, Any] = {}
    for ours, names in (
        ("content", ("content",)),
        ("finish_reason", ("finish_reason", "stop_reason")),
        ("reasoning", ("reasoning_content", "reasoning")),
    ):
        found = next((ours_path(paths[n]) for n in names if ours_path(paths.get(n))), None)
        if found:
            out[ours] = found
        elif ours in defaults["response"]:
            out[ours] = defaults["response"][ours]
            gaps.append(
                Gap(
                    f"$.response.{ours}",
                    f"$.response_paths.{names[0]}",
                    "family",
                    f"taken from the {family} wire format: {out[ours]}",
                )
            )
    usage = ours_path(paths.get("usage")) or defaults["usage"]
    if usage and not ours_path(paths.get("usage")):
        gaps.append(
            Gap("$.response.usage", "$.response_paths.usage", "family", f"taken from the {family} wire format: {usage}")
        )
    elif not usage:
        gaps.append(
            Gap("$.response.usage", "$.response_paths.usage", "unsupported", "no usage path: usage is reported absent")
        )
    out["usage"] = _usage(usage)
    if not out["usage"]:
        del out["usage"]
    return out


def _stream(data: dict[str, Any], family: str, endpoint: dict[str, Any], gaps: list[Gap]) -> dict[str, Any] | None:
    """Stream routes from ``streaming.event_map`` (and v1's ``content_path`` / ``usage_path``)."""
    streaming = _mapping(data.get("streaming"))
    decoder = _mapping(streaming.get("decoder"))
    event_map = streaming.get("event_map")
    rules: list[Any] = event_map if isinstance(event_map, list) else []
    routes: dict[str, dict[str, Any]] = {}
    keys: set[str] = set()

    def add(route: str, key: str, value: Any) -> None:
        spec = routes.setdefault(route, {})
        if key == "usage":
            spec.setdefault("usage", _usage(value))
        elif key == "end":
            spec["end"] = True
        elif key in spec and spec[key] != value:
            spec[key] = [*(spec[key] if isinstance(spec[key], list) else [spec[key]]), value]
        else:
            spec[key] = value

    for rule in rules:
        rule = _mapping(rule)
        match = str(rule.get("match") or "")
        found = _ROUTE_MATCH.search(match)
        route = "*"
        if found and "||" not in match:
            keys.add(found[1])
            route = found[2]
        fields = _mapping(rule.get("fields")) or _mapping(rule.get("extract"))
        emit = rule.get("emit")
        readers = {
            "PartialContentDelta": (("content", "content"),),
            "ThinkingDelta": (("thinking", "reasoning"),),
            "Metadata": (("finish_reason", "finish_reason"), ("stop_reason", "finish_reason"), ("usage", "usage")),
            "FinalCandidate": (("finish_reason", "finish_reason"),),
            "StreamEnd": (("finish_reason", "finish_reason"), ("usage", "usage")),
            "UsageReport": (("usage", "usage"),),
            "StreamError": (("error", "error"),),
        }.get(str(emit), ())
        for theirs, ours in readers:
            path = ours_path(fields.get(theirs))
            if path:
                add(route, ours, path)
        if emit == "StreamEnd" and route != "*":
            add(route, "end", True)
    if not rules and ours_path(streaming.get("content_path")):
        add("*", "content", ours_path(streaming["content_path"]))
        if ours_path(streaming.get("usage_path")):
            add("*", "usage", ours_path(streaming["usage_path"]))
    content = any("content" in spec for spec in routes.values())
    if not content:
        gaps.append(
            Gap("$.capabilities.streaming", "$.streaming.event_map", "unsupported", "no rule emits content deltas")
        )
        return None
    if family == "gemini" and "stream_path" not in endpoint:
        gaps.append(
            Gap(
                "$.capabilities.streaming",
                "$.endpoints.chat_stream.path",
                "unsupported",
                "Gemini streams on another URL, which is not given",
            )
        )
        return None
    if len(keys) > 1:
        gaps.append(
            Gap(
                "$.capabilities.streaming",
                "$.streaming.event_map",
                "unsupported",
                f"rules route on several fields {sorted(keys)}",
            )
        )
        return None
    stream: dict[str, Any] = {
        "format": "sse",
        "event_type": f"field:{keys.pop()}" if keys else "none",
        "routes": routes,
    }
    if isinstance(decoder.get("done_signal"), str):
        stream["done_marker"] = decoder["done_signal"]
    elif FAMILY_DEFAULTS[family].get("done_marker"):
        stream["done_marker"] = FAMILY_DEFAULTS[family]["done_marker"]
        gaps.append(
            Gap(
                "$.stream.done_marker",
                "$.streaming.decoder.done_signal",
                "family",
                f"taken from the {family} wire format: {stream['done_marker']}",
            )
        )
    return stream


def _finish_reasons(data: dict[str, Any], gaps: list[Gap]) -> dict[str, str]:
    mapping = _mapping(_mapping(data.get("termination")).get("mapping"))
    out = {str(raw): _TERMINATION.get(str(std), "other") for raw, std in mapping.items()}
    if not out:
        gaps.append(
            Gap(
                "$.finish_reasons",
                "$.termination.mapping",
                "unsupported",
                "no termination mapping: every finish reason is 'other'",
            )
        )
    return out


def _errors(data: dict[str, Any], family: str, gaps: list[Gap]) -> dict[str, Any]:
    mapping = _mapping(_mapping(_mapping(data.get("features")).get("response_mapping")).get("error"))
    out: dict[str, Any] = {}
    for ours, theirs in (("message", "message_path"), ("type", "type_path"), ("code", "code_path")):
        path = ours_path(mapping.get(theirs))
        if path:
            out[ours] = path
        elif ours in FAMILY_DEFAULTS[family]["errors"]:
            out[ours] = FAMILY_DEFAULTS[family]["errors"][ours]
    classes = {
        str(k): v
        for k, v in _mapping(_mapping(data.get("error_classification")).get("by_error_code")).items()
        if v in _ERROR_CLASSES
    }
    if classes:
        out["classes"] = classes
    return out


def _capabilities(
    data: dict[str, Any], params: dict[str, Any], stream: dict[str, Any] | None, gaps: list[Gap]
) -> dict[str, Any]:
    raw = data.get("capabilities")
    declared: set[str] = set()
    flags: dict[str, Any] = {}
    if isinstance(raw, list):
        declared = {str(c) for c in raw}
    elif isinstance(raw, dict):
        declared = {str(k) for k, v in raw.items() if v is True}
        declared |= {str(c) for key in ("required", "optional") for c in raw.get(key) or [] if isinstance(c, str)}
        flags = _mapping(raw.get("feature_flags"))
    caps: dict[str, Any] = {}
    unsupported = {
        g.ours.rsplit(".", 1)[-1]: g
        for g in gaps
        if g.consequence == "unsupported" and g.ours.startswith("$.capabilities.")
    }

    def off(name: str, reason: str) -> dict[str, Any]:
        return {"supported": False, "reason": reason}

    for name in ("temperature", "top_p", "max_tokens", "stop"):
        caps[name] = (
            True
            if name in params
            else off(name, f"AI-Protocol manifest, {unsupported[name].upstream}: {unsupported[name].reason}")
        )
    if stream is None:
        caps["streaming"] = off(
            "streaming", f"AI-Protocol manifest, {unsupported['streaming'].upstream}: {unsupported['streaming'].reason}"
        )
    elif "streaming" in declared:
        caps["streaming"] = True
    else:
        caps["streaming"] = off("streaming", "AI-Protocol manifest does not declare streaming")
        gaps.append(
            Gap("$.capabilities.streaming", "$.capabilities.streaming", "unsupported", "streaming not declared")
        )
    has_stream_usage = stream is not None and any("usage" in r for r in stream["routes"].values())
    if flags.get("streaming_usage") is False or not has_stream_usage:
        reason = (
            "feature_flags.streaming_usage is false"
            if flags.get("streaming_usage") is False
            else "no stream rule reads usage"
        )
        caps["usage_in_stream"] = off("usage_in_stream", f"AI-Protocol manifest: {reason}")
        gaps.append(Gap("$.capabilities.usage_in_stream", "$.streaming.event_map", "unsupported", reason))
    else:
        caps["usage_in_stream"] = True
    # Every wire family ailib speaks carries a system prompt and a conversation history.
    caps["system_messages"] = flags.get("system_messages") is not False or off(
        "system_messages", "feature_flags.system_messages is false"
    )
    caps["multi_turn"] = True
    caps["reasoning"] = "reasoning" in declared or off("reasoning", "AI-Protocol manifest does not declare reasoning")
    return caps


#: ailib's schema wants a default model; an upstream file without one gets this word, and the
#: model id (``"provider/model"``) always names the model anyway
NO_DEFAULT_MODEL = "unspecified"


def _default_model(data: dict[str, Any], gaps: list[Gap]) -> str:
    models = _mapping(_mapping(data.get("metadata")).get("models")) or _mapping(data.get("models"))
    named = data.get("default_model")
    if isinstance(named, str) and named:
        return named
    if models:
        return str(next(iter(models)))
    gaps.append(
        Gap("$.default_model", "$.metadata.models", "unsupported", "no model listed: the model id must name one")
    )
    return NO_DEFAULT_MODEL


def convert(data: dict[str, Any], file: str) -> Conversion:
    """Translate one upstream manifest (already parsed) into ailib manifest data."""
    check_required(data, file)
    provider = str(data["id"])
    gaps: list[Gap] = []
    endpoint = _endpoint(data, gaps)
    conv = Conversion(file, provider, str(data["protocol_version"]), {}, gaps)
    name = str(data.get("name") or provider)
    docs = data.get("official_url")
    docs_url = docs if isinstance(docs, str) and docs.startswith("https://") else UPSTREAM
    if "chat_path" not in endpoint:  # the file describes no chat API: a provider without chat
        reason = f"the AI-Protocol manifest {file} declares {gaps[-1].reason}"
        chat = {"supported": False, "reason": reason}
        conv.data = {"id": provider, "name": name, "family": "none", "docs_url": docs_url, "chat": chat}
        return conv
    family = _family(data, gaps)
    auth, headers = _auth(data, provider, gaps)
    if family is None or auth is None:
        return conv
    params, stream_field = _parameters(data, gaps)
    defaults = FAMILY_DEFAULTS[family]
    if stream_field is None and defaults["stream_field"]:
        stream_field = defaults["stream_field"]
        gaps.append(
            Gap(
                "$.request.stream_field",
                "$.parameter_mappings.stream",
                "family",
                f"taken from the {family} wire format: {stream_field}",
            )
        )
    request: dict[str, Any] = {
        "model_field": defaults["model_field"],
        "stream_field": stream_field,
        "parameters": params,
    }
    if defaults.get("roles"):
        request["roles"] = defaults["roles"]
    if family == "anthropic-messages":
        max_tokens = _mapping(_mapping(data.get("parameters")).get("max_tokens"))
        if max_tokens.get("required") is True:
            request["defaults"] = {"max_tokens": max_tokens.get("default", 1024)}
    stream = _stream(data, family, endpoint, gaps)
    out: dict[str, Any] = {
        "id": provider,
        "name": name,
        "family": family,
        "docs_url": docs_url,
        "chat": True,
        "notes": f"converted from the AI-Protocol manifest {file} (protocol_version {data['protocol_version']})",
        "endpoint": endpoint,
        "auth": auth,
        "request": request,
        "response": _response(data, family, gaps),
        "finish_reasons": _finish_reasons(data, gaps),
        "errors": _errors(data, family, gaps),
    }
    if headers:
        out["headers"] = headers
    out["default_model"] = _default_model(data, gaps)
    if stream is not None:
        out["stream"] = stream
    out["capabilities"] = _capabilities(data, params, stream, gaps)
    conv.data = out
    return conv


def to_manifest_data(data: dict[str, Any], file: str) -> dict[str, Any]:
    """ailib manifest data for an upstream file; a fatal gap raises :class:`ManifestError`."""
    conv = convert(data, file)
    if conv.fatal:
        first = conv.fatal[0]
        more = f" (and {len(conv.fatal) - 1} more)" if len(conv.fatal) > 1 else ""
        raise ManifestError(
            file, first.upstream, f"AI-Protocol manifest lacks what ailib needs for {first.ours}: {first.reason}{more}"
        )
    return conv.data


# --- a per-file report -------------------------------------------------------------------------


def check_tree(root: str | os.PathLike[str]) -> list[tuple[str, Conversion | ManifestError]]:
    """Every provider file under an AI-Protocol tree, converted or refused: (file, result)."""
    import yaml  # type: ignore[import-untyped, unused-ignore]

    out: list[tuple[str, Conversion | ManifestError]] = []
    base = Path(root)
    for layout in LAYOUTS:
        for path in sorted((base / layout).glob("*")):
            if path.suffix not in SUFFIXES:
                continue
            name = display_name(path)
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                out.append((name, convert(data, name)))
            except ManifestError as exc:
                out.append((name, exc))
            except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
                out.append((name, ManifestError(name, "$", f"cannot read: {exc}")))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m ailib.protocol DIR``: per upstream file, what ailib needs and it lacks."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m ailib.protocol AI_PROTOCOL_DIR", file=sys.stderr)
        return 2
    for name, result in check_tree(args[0]):
        if isinstance(result, ManifestError):
            print(f"{name}: refused: {result}")
            continue
        state = "unusable" if result.fatal else "usable"
        print(f"{name}: protocol {result.protocol_version}, {state}, {len(result.gaps)} gap(s)")
        for gap in result.gaps:
            print(f"  {gap}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
