"""Generate upstream AI-Protocol manifests (the format ai-lib-python reads) from ours.

ai-lib-python 1.2.0 loads a provider with ``ProtocolLoader.load_provider(id)``, which looks
under a base directory (``AiClientBuilder.protocol_path(...)``, else ``$AI_PROTOCOL_DIR`` /
``$AI_PROTOCOL_PATH``, else ``./ai-protocol`` and two parent folders, else the upstream
repository on GitHub) for, in order, ``dist/v2/providers/<id>.json``,
``dist/v1/providers/<id>.json``, ``v2/providers/<id>.{json,yaml}``, ``v1/providers/<id>.{json,yaml}``,
and validates the mapping with its pydantic ``ProtocolManifest`` (the v1 layout; unknown
keys are allowed). This module writes ``dist/v1/providers/<id>.json`` files in that layout,
generated from the project's own manifests (``manifests/<id>.yaml``), so the conformance
suite can point ai-lib-python at exactly the providers ailib is judged on.

Only what ai-lib-python's chat path reads, plus the upstream siblings that say the same
thing, is generated:

==========================  ============================================================
ours                        upstream v1
==========================  ============================================================
endpoint.base_url           endpoint.base_url (``{var}`` placeholders other than
                            ``{model}`` filled from the variable's environment variable
                            when it is set, as ailib does at call time)
endpoint.chat_path + query  endpoints.chat.path (static query appended, as upstream does
                            for Azure's api-version); ``{model}`` is left in place, as in
                            upstream's Gemini manifest
endpoint.stream_path        endpoints.chat_stream.path (ai-lib-python ignores it)
auth                        auth: ``bearer`` (Authorization + "Bearer "), ``bearer`` with
                            ``header``/``prefix`` (another header or prefix), ``api_key``
                            with ``header`` (a bare key in a header), ``query_param`` with
                            ``param_name``; ``token_env`` = our ``env``
headers                     auth.extra_headers ([{name, value}], upstream's place for them)
request.parameters          parameter_mappings: temperature, top_p, max_tokens and
                            stop -> ``stop_sequences`` (upstream's standard name);
                            request.stream_field -> ``stream``
response                    response_paths: content, reasoning_content, finish_reason,
                            usage (the object holding the usage fields)
stream                      streaming: decoder (format, prefix, done_signal, strategy by
                            wire family, as upstream names them), content_path and
                            usage_path for OpenAI-style streams, and an
                            ``event_map`` with one rule per route and extraction
capabilities                capabilities.streaming
==========================  ============================================================

Paths are rewritten into upstream's JSONPath-like syntax: ``choices.0.delta.content`` ->
``choices[0].delta.content`` (``$.``-prefixed inside ``event_map``). Upstream paths have
no item filters, so ours (``parts[!thought]``, ``content[type=text]``) become ``[*]``
(the first item that has the rest of the path), and where ours lists alternative paths
for a field, upstream's single path is the first (event_map gets one rule per
alternative); the generated manifest says so in
``x_ailib_notes``; a reasoning path that would then equal the content path (Gemini's
``parts[thought]`` vs ``parts[!thought]``) is left out. Routes picked by the SSE event name are matched on the event's
``type`` field, which carries the same name in the two families that use them
(Anthropic messages, Cohere v2), as upstream's own rules do.

This is a generator, not a copy: nothing here comes from the upstream files.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from ailib import manifest as manifests
from ailib.manifest import Manifest

PROTOCOL_VERSION = "1.5"
#: where ai-lib-python looks first among the layouts this module can write
LAYOUT = Path("dist") / "v1" / "providers"

#: decoder settings per wire family, in upstream's vocabulary
_DECODERS: dict[str, dict[str, str]] = {
    "openai-chat": {"format": "sse", "strategy": "openai_chat"},
    "anthropic-messages": {"format": "anthropic_sse", "strategy": "anthropic_event_stream"},
    "gemini": {"format": "sse", "strategy": "gemini_generate"},
    "cohere-v2": {"format": "sse", "strategy": "cohere_v2"},
    "replicate": {"format": "sse"},
}
#: our parameter name -> upstream's standard parameter name
_PARAMETERS = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens", "stop": "stop_sequences"}
_STATUS = {"active": "stable"}
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)\}")


def upstream_path(path: str | None, *, dollar: bool = False) -> str | None:
    """``choices.0.delta.content`` -> ``choices[0].delta.content`` (``$.`` first when ``dollar``)."""
    if not path:
        return None
    out = ""
    for segment in path.split("."):
        key, _, flt = segment.partition("[")
        if key.isdigit():
            out += f"[{key}]"
        else:
            out += ("." if out else "") + key
        if flt:
            out += "[*]"
    return f"$.{out}" if dollar else out


def alternatives(paths: str | list[str] | None) -> list[str]:
    """Our manifests may give a field as a list of paths, the first that has a value wins."""
    if not paths:
        return []
    return [paths] if isinstance(paths, str) else [p for p in paths if p]


def _first(paths: str | list[str] | None, notes: list[str], what: str) -> str | None:
    """Upstream has one path per field: the first alternative, with a note when others are dropped."""
    found = alternatives(paths)
    if len(found) > 1:
        notes.append(f"{what}: only the first of {found} (upstream takes one path)")
    return found[0] if found else None


def _usage_object(usage: dict[str, Any] | None) -> str | None:
    """The object holding the usage fields: the longest common parent of their (first) paths."""
    parents = [alternatives(p)[0].split(".")[:-1] for p in (usage or {}).values() if alternatives(p)]
    if not parents:
        return None
    common: list[str] = []
    for parts in zip(*parents, strict=False):  # prefixes of unequal length
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return ".".join(common) or None


def _has_filter(path: str | None) -> bool:
    return bool(path) and "[" in path  # type: ignore[operator]


def _section(manifest: Manifest, name: str) -> dict[str, Any]:
    """A section of the manifest as written (this module translates the text, not the
    compiled sections); empty where the manifest has none."""
    value = manifest.data.get(name)
    return value if isinstance(value, dict) else {}


def _fill_variables(url: str, manifest: Manifest) -> str:
    variables = _section(manifest, "endpoint").get("variables") or {}

    def fill(match: re.Match[str]) -> str:
        spec = variables.get(match[1])
        value = os.environ.get(spec["env"]) if spec else None
        return value if value else match[0]

    return _VAR.sub(fill, url)


def _with_query(path: str, query: dict[str, Any] | None) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _auth(manifest: Manifest) -> dict[str, Any] | None:
    auth = _section(manifest, "auth")
    if not auth:
        return None
    out: dict[str, Any] = {}
    env = auth.get("env")
    if env:
        out["token_env"] = env
    name, prefix = auth.get("name", ""), auth.get("prefix")
    if auth.get("placement") == "query":
        out.update(type="query_param", param_name=name)
    elif prefix:
        out["type"] = "bearer"
        if name.lower() != "authorization":
            out["header"] = name
        if prefix.strip() != "Bearer" or name.lower() != "authorization":
            out["prefix"] = prefix.strip()
    else:
        out.update(type="api_key", header=name)
    headers = manifest.data.get("headers") or {}
    if headers:
        out["extra_headers"] = [{"name": k, "value": str(v)} for k, v in headers.items()]
    return out


def _event_map(manifest: Manifest, notes: list[str]) -> list[dict[str, Any]]:
    stream = _section(manifest, "stream")
    if stream.get("start_url"):
        notes.append(
            f"two-step stream (stream URL at {stream['start_url']} in the first answer) has no upstream equivalent"
        )
    event_type = stream.get("event_type", "none")
    rules: list[dict[str, Any]] = []
    for route, spec in (stream.get("routes") or {}).items():
        if route == "*":
            where: list[str] = []
        elif event_type == "sse":
            where = [f"$.type == '{route}'"]
        elif str(event_type).startswith("field:"):
            where = [f"$.{event_type[len('field:') :]} == '{route}'"]
        else:
            where = []

        def rule(emit: str, fields: dict[str, str | None], where: list[str] = where) -> None:
            fields = {k: v for k, v in fields.items() if v}
            if not fields and emit != "StreamEnd":
                return
            present = [f"exists({p})" for p in fields.values()]
            # ai-lib-python's selector splits on '||' before '&&': never mix them in one rule
            if where:
                match = " && ".join(where + (present if len(present) == 1 else []))
            else:
                match = " || ".join(present) or "exists($)"
            rules.append({"match": match, "emit": emit, "fields": fields})

        if spec.get("text"):
            notes.append(
                f"route {route!r} carries plain-text event data, which upstream event_map rules (JSON paths) cannot read"
            )
        for err in alternatives(spec.get("error")):  # one rule per alternative: the first matching wins
            rule("StreamError", {"error": upstream_path(err, dollar=True)})
        contents = [upstream_path(p, dollar=True) for p in alternatives(spec.get("content"))]
        for content in contents:
            rule("PartialContentDelta", {"content": content})
        for reasoning in alternatives(spec.get("reasoning")):
            thinking = upstream_path(reasoning, dollar=True)
            if thinking not in contents:  # a filter was all that told them apart
                rule("ThinkingDelta", {"thinking": thinking})
        finish = upstream_path(
            _first(spec.get("finish_reason"), notes, f"stream route {route!r} finish_reason"), dollar=True
        )
        usage = upstream_path(_usage_object(spec.get("usage")), dollar=True)
        if finish or usage:
            rule("Metadata", {"finish_reason": finish, "usage": usage})
        if spec.get("end"):
            rule("StreamEnd", {})
    return rules


def to_protocol(manifest: Manifest) -> dict[str, Any]:
    """The upstream v1 manifest for one of ours (a JSON-ready mapping)."""
    endpoint = _section(manifest, "endpoint")
    base_url = _fill_variables(endpoint.get("base_url", ""), manifest)
    notes: list[str] = [f"generated by conformance/runtimes/protocol_manifests.py from manifests/{manifest.id}.yaml"]
    doc: dict[str, Any] = {
        "id": manifest.id,
        "protocol_version": PROTOCOL_VERSION,
        "name": manifest.name,
        "status": _STATUS.get(manifest.data.get("status", "active"), manifest.data.get("status", "active")),
        "official_url": manifest.data.get("docs_url"),
        "endpoint": {"base_url": base_url, "protocol": urlsplit(base_url).scheme or "https"},
    }
    auth = _auth(manifest)
    if auth:
        doc["auth"] = auth
    if not manifest.chat_supported:
        notes.append(f"no chat API: {manifest.chat_reason}")
    if endpoint.get("chat_path"):
        doc["endpoints"] = {
            "chat": {"path": _with_query(endpoint["chat_path"], endpoint.get("query")), "method": "POST"}
        }
        if endpoint.get("stream_path") or endpoint.get("stream_query"):
            stream_path = endpoint.get("stream_path") or endpoint["chat_path"]
            query = {**(endpoint.get("query") or {}), **(endpoint.get("stream_query") or {})}
            doc["endpoints"]["chat_stream"] = {"path": _with_query(stream_path, query), "method": "POST"}
    request = _section(manifest, "request")
    mappings = {
        _PARAMETERS[name]: spec["field"]
        for name, spec in (request.get("parameters") or {}).items()
        if name in _PARAMETERS and spec.get("field")
    }
    if request.get("stream_field"):
        mappings["stream"] = request["stream_field"]
    doc["parameter_mappings"] = mappings
    response = manifest.data.get("response") or {}
    if response:
        paths = {
            "content": upstream_path(_first(response.get("content"), notes, "response content")),
            "reasoning_content": upstream_path(_first(response.get("reasoning"), notes, "response reasoning")),
            "finish_reason": upstream_path(_first(response.get("finish_reason"), notes, "response finish_reason")),
            "usage": upstream_path(_usage_object(response.get("usage"))),
        }
        if paths["reasoning_content"] == paths["content"]:
            paths["reasoning_content"] = None
            notes.append(
                "reasoning left out: it differs from content only by an item filter, which upstream paths lack"
            )
        doc["response_paths"] = {k: v for k, v in paths.items() if v}
        if any(_has_filter(p) for k in ("content", "reasoning") for p in alternatives(response.get(k))):
            notes.append("item filters in paths are written as [*] (upstream paths have no filters)")
    stream = _section(manifest, "stream")
    if stream:
        decoder = {"format": "sse", "delimiter": "\n\n", "prefix": "data: ", **_DECODERS.get(manifest.family, {})}
        if stream.get("done_marker"):
            decoder["done_signal"] = stream["done_marker"]
        streaming: dict[str, Any] = {"decoder": decoder, "event_map": _event_map(manifest, notes)}
        star = (stream.get("routes") or {}).get("*") or {}
        if manifest.family == "openai-chat" and star:
            streaming["content_path"] = upstream_path(_first(star.get("content"), notes, "stream content"))
            usage = _usage_object(star.get("usage"))
            if usage:
                streaming["usage_path"] = upstream_path(usage)
        doc["streaming"] = streaming
    doc["capabilities"] = {"streaming": manifest.capability("streaming").supported}
    doc["x_ailib_notes"] = notes
    return doc


def write_provider(target: str | os.PathLike[str], provider: str, manifests_dir: str | None = None) -> Path:
    """Write (or rewrite) ``<target>/dist/v1/providers/<provider>.json``; return its path."""
    doc = to_protocol(manifests.load(provider, manifests_dir))
    path = Path(target) / LAYOUT / f"{provider}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_all(target: str | os.PathLike[str], manifests_dir: str | None = None) -> list[Path]:
    """Generate every provider's manifest into ``target`` (a directory for ``AI_PROTOCOL_DIR``)."""
    return [write_provider(target, pid, manifests_dir) for pid in manifests.available(manifests_dir)]


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance.runtimes.protocol_manifests OUT_DIR``: write them all."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m conformance.runtimes.protocol_manifests OUT_DIR", file=sys.stderr)
        return 2
    for path in write_all(args[0]):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
