"""The structure of a provider answer, read the same way from a real recording and from the
simulator: stream framing, done marker, comments, which chunk carries the first and the last
text, where usage goes, the keys chunks and error bodies have. Values (texts, ids, counts)
are not compared: the simulated model says other things than the real one."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REALWORLD_DIR = Path(
    os.environ.get("AILIB_REALWORLD_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "realworld"
)

# provider names of the recordings -> provider ids of the project
ALIASES = {"google-gemini": "gemini", "zai-zhipu": "zhipu", "azure-openai": "azure"}


def load_recordings() -> list[tuple[str, dict[str, Any]]]:
    """(file name, recording) of every real recording, or [] when the directory is absent."""
    if not REALWORLD_DIR.is_dir():
        return []
    return [(p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(REALWORLD_DIR.glob("*.json"))]


def provider_of(record: dict[str, Any]) -> str:
    name = str(record.get("provider", ""))
    return ALIASES.get(name, name)


def sse_blocks(text: str) -> list[tuple[str | None, str, bool]]:
    """(event name, data, is a comment) per SSE block (WHATWG line rules)."""
    out: list[tuple[str | None, str, bool]] = []
    name: str | None = None
    data: list[str] = []
    comment = False
    for line in [*text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), ""]:
        if line == "":
            if data or name:
                out.append((name, "\n".join(data), False))
            elif comment:
                out.append((None, "", True))
            name, data, comment = None, [], False
        elif line.startswith(":"):
            comment = True
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
    return out


def _has_text(delta: Any) -> bool:
    content = delta.get("content") if isinstance(delta, dict) else None
    if isinstance(content, list):
        return any(isinstance(p, dict) and p.get("text") for p in content)
    return bool(content)


@dataclass
class ChatStreamShape:
    """The structure of an openai-chat family stream."""

    crlf: bool = False
    done: bool = False
    comments: bool = False
    first_has_text: bool = False
    finish_has_text: bool = False
    usage: set[str] = field(default_factory=set)
    chunk_keys: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    error_event: str | None = None
    prompt_filter_first: bool = False


def chat_stream_shape(text: str) -> ChatStreamShape:
    shape = ChatStreamShape(crlf="\r\n" in text)
    seen_choice = False
    for name, data, is_comment in sse_blocks(text):
        if is_comment:
            shape.comments = True
            continue
        if data.strip() == "[DONE]":
            shape.done = True
            continue
        try:
            obj = json.loads(data)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        if obj.get("error"):
            shape.error_event = (
                "event_error" if name == "error" else ("chunk_error" if obj.get("choices") else "data_error")
            )
            continue
        if "prompt_filter_results" in obj and not obj.get("choices"):
            shape.prompt_filter_first = not seen_choice
            continue
        shape.chunk_keys |= set(obj)
        shape.objects.add(str(obj.get("object")))
        choices = obj.get("choices") or []
        usage = bool(obj.get("usage"))
        if (obj.get("x_groq") or {}).get("usage"):
            shape.usage.add("x_groq")
        if not choices:
            if usage:
                shape.usage.add("separate_chunk")
            continue
        c = choices[0]
        if not seen_choice:
            shape.first_has_text = _has_text(c.get("delta"))
            seen_choice = True
        if c.get("finish_reason"):
            shape.finish_has_text = _has_text(c.get("delta"))
            if usage:
                shape.usage.add("finish_chunk")
        elif usage:
            shape.usage.add("content_chunk" if _has_text(c.get("delta")) or not seen_choice else "usage_choice_chunk")
    if shape.usage >= {"content_chunk", "finish_chunk"}:
        shape.usage = (shape.usage - {"content_chunk", "finish_chunk"}) | {"every_chunk"}
    return shape


def error_skeleton(body: Any) -> set[str]:
    """The key paths of an error body down to the error object's own keys (``error.message``),
    not into free-form metadata or details."""
    out: set[str] = set()
    if not isinstance(body, dict):
        return out
    for key, value in body.items():
        out.add(key)
        if key == "error" and isinstance(value, dict):
            out |= {f"error.{k}" for k in value if k not in ("metadata", "details", "param", "failed_generation")}
    return out - {"request_id", "user_id", "id"}
