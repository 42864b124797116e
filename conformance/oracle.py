"""An independent reader of each wire family, written from the providers' documentation.

The suite must not take its expected values from the client it judges. This module
reads recorded requests and responses the slow, obvious way (no manifests, no
compiled paths) and says what a correct client has to report: the conversation the
request carried, and the content, finish reason and usage the response holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Raw finish values, as documented by each family, normalised to the OpenAI vocabulary.
FINISH = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "succeeded": "stop",
    "eos": "stop",
    "length": "length",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "TOOL_CALL": "tool_calls",
    "content_filter": "content_filter",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "refusal": "content_filter",
    "sensitive": "content_filter",
}


@dataclass
class Reading:
    """What a response says, independent of any client."""

    content: str = ""
    raw_finish: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    deltas: list[str] = field(default_factory=list)
    error: Any = None
    #: tool calls in the answer: [id, name, arguments JSON text], in order
    tool_calls: list[list[Any]] = field(default_factory=list)
    #: streams: how many pieces each call's arguments came in
    tool_pieces: list[int] = field(default_factory=list)

    @property
    def finish(self) -> str | None:
        return None if self.raw_finish is None else FINISH.get(self.raw_finish, "other")


# --- requests -----------------------------------------------------------------------


def conversation(family: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (role, text) turns a request carries, roles named system/user/assistant."""
    turns: list[tuple[str, str]] = []
    if family in ("openai-chat", "cohere-v2"):
        for m in body.get("messages", []):
            content = m.get("content")
            if isinstance(content, list):
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            turns.append((m.get("role"), content))
    elif family == "anthropic-messages":
        system = body.get("system")
        if isinstance(system, list):
            system = "\n\n".join(b.get("text", "") for b in system)
        if system:
            turns.append(("system", system))
        for m in body.get("messages", []):
            content = m.get("content")
            if isinstance(content, list):
                content = "".join(b.get("text", "") for b in content if b.get("type") == "text")
            turns.append((m.get("role"), content))
    elif family == "gemini":
        system = body.get("systemInstruction") or body.get("system_instruction")
        if system:
            turns.append(("system", "".join(p.get("text", "") for p in system.get("parts", []))))
        for c in body.get("contents", []):
            role = {"model": "assistant"}.get(c.get("role"), c.get("role"))
            turns.append((role, "".join(p.get("text", "") for p in c.get("parts", []))))
    elif family == "replicate":
        inputs = body.get("input", {})
        if inputs.get("system_prompt"):
            turns.append(("system", inputs["system_prompt"]))
        turns.append(("prompt", inputs.get("prompt")))
    return turns


# --- responses ----------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            p if isinstance(p, str) else p.get("text", "")
            for p in value
            if isinstance(p, str) or (isinstance(p, dict) and p.get("type", "text") == "text")
        )
    if isinstance(value, dict):
        return _text(value.get("content"))
    return ""


def _unwrap(obj: Any) -> Any:
    return obj["data"] if isinstance(obj, dict) and isinstance(obj.get("data"), dict) else obj


def read_response(family: str, body: Any) -> Reading:
    """Content, finish and usage of a non-streaming JSON answer."""
    r = Reading()
    if family == "openai-chat":
        body = _unwrap(body)
        choice = (body.get("choices") or [{}])[0]
        r.content = _text(choice.get("message"))
        r.raw_finish = choice.get("finish_reason")
        r.tool_calls = _function_calls((choice.get("message") or {}).get("tool_calls"))
        usage = body.get("usage") or {}
        r.prompt_tokens, r.completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
        r.total_tokens = usage.get("total_tokens")
    elif family == "anthropic-messages":
        r.content = "".join(b.get("text", "") for b in body.get("content", []) if b.get("type") == "text")
        r.raw_finish = body.get("stop_reason")
        r.tool_calls = [
            [b.get("id"), b.get("name"), json.dumps(b.get("input"))]
            for b in body.get("content", [])
            if b.get("type") == "tool_use"
        ]
        usage = body.get("usage") or {}
        r.prompt_tokens, r.completion_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    elif family == "gemini":
        cand = (body.get("candidates") or [{}])[0]
        r.content = "".join(p.get("text", "") for p in cand.get("content", {}).get("parts", []) if not p.get("thought"))
        r.raw_finish = cand.get("finishReason")
        r.tool_calls = _gemini_calls(cand)
        usage = body.get("usageMetadata") or {}
        r.prompt_tokens, r.completion_tokens = usage.get("promptTokenCount"), usage.get("candidatesTokenCount")
        r.total_tokens = usage.get("totalTokenCount")
    elif family == "cohere-v2":
        msg = body.get("message") or {}
        r.content = "".join(b.get("text", "") for b in msg.get("content", []) if b.get("type") == "text")
        r.raw_finish = body.get("finish_reason")
        r.tool_calls = _function_calls(msg.get("tool_calls"))
        tokens = (body.get("usage") or {}).get("tokens") or {}
        r.prompt_tokens, r.completion_tokens = tokens.get("input_tokens"), tokens.get("output_tokens")
    elif family == "replicate":
        out = body.get("output")
        r.content = "".join(out) if isinstance(out, list) else (out or "")
        r.raw_finish = body.get("status")
        metrics = body.get("metrics") or {}
        r.prompt_tokens, r.completion_tokens = metrics.get("input_token_count"), metrics.get("output_token_count")
    return r


def _function_calls(items: Any) -> list[list[Any]]:
    """OpenAI / Cohere v2: [{id, type: function, function: {name, arguments (JSON text)}}]."""
    return [[c.get("id"), c["function"].get("name"), c["function"].get("arguments")] for c in items or []]


def _gemini_calls(candidate: dict[str, Any]) -> list[list[Any]]:
    """Gemini: functionCall parts {name, args object, id?}, each a whole call."""
    return [
        [p["functionCall"].get("id"), p["functionCall"].get("name"), json.dumps(p["functionCall"].get("args") or {})]
        for p in candidate.get("content", {}).get("parts", [])
        if "functionCall" in p
    ]


class _Calls:
    """Streamed tool calls put together: by index where the provider numbers them, else a
    piece with an id starts a call (Mistral) and one without continues the last."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []
        self.pieces: list[int] = []
        self.by_index: dict[Any, int] = {}

    def add(self, index: Any, call_id: Any, name: Any, arguments: Any) -> None:
        if index is not None and index in self.by_index:
            at = self.by_index[index]
        elif index is None and call_id is None and self.calls:
            at = len(self.calls) - 1
        else:
            self.calls.append([call_id, name, ""])
            self.pieces.append(0)
            at = len(self.calls) - 1
            if index is not None:
                self.by_index[index] = at
        if arguments:
            self.calls[at][2] += arguments
            self.pieces[at] += 1


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event name, data) pairs of an SSE body: the plain reading of the spec."""
    events, name, data = [], "message", []
    for line in [*text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), ""]:
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "data":
                data.append(value)
            elif key == "event":
                name = value
    return events


def read_stream(family: str, text: str) -> Reading:
    """Content deltas, finish and usage of a streamed answer."""
    r = Reading()
    calls = _Calls()
    for name, data in sse_events(text):
        # The terminal event ends the answer; bytes after it are not part of it: OpenAI's
        # "data: [DONE]" (API reference, stream), Anthropic's message_stop (streaming
        # docs: the final event), Replicate's done (streaming guide), and Gemini's chunk
        # with a finishReason, its last (../shared/realworld/gemini__stream_sse_basic.json).
        if data == "[DONE]":
            break
        if family == "replicate":
            if name == "output":
                r.deltas.append(data)
            elif name in ("done", "error"):
                try:
                    obj = json.loads(data) if data.strip() else {}
                except ValueError:
                    r.error = {"invalid_json": data[:40]}
                    break
                if name == "error":  # {"detail": "..."}
                    r.error = {"message": obj.get("detail")} if isinstance(obj, dict) else obj
                    break
                r.raw_finish = (obj.get("reason") if isinstance(obj, dict) else None) or "succeeded"
                break
            continue
        try:
            obj = json.loads(data)
        except ValueError:
            r.error = {"invalid_json": data[:40]}
            break
        if family == "openai-chat":
            obj = _unwrap(obj)
            if obj.get("error"):
                r.error = obj["error"]
                break
            for choice in obj.get("choices") or []:
                delta = choice.get("delta")
                text_part = _text(delta) if delta is not None else ""
                if text_part:
                    r.deltas.append(text_part)
                for c in (delta or {}).get("tool_calls") or []:
                    fn = c.get("function") or {}
                    calls.add(c.get("index"), c.get("id"), fn.get("name"), fn.get("arguments"))
                if choice.get("finish_reason"):
                    r.raw_finish = choice["finish_reason"]
            usage = obj.get("usage") or (obj.get("x_groq") or {}).get("usage")
            if usage:
                r.prompt_tokens, r.completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
                r.total_tokens = usage.get("total_tokens")
        elif family == "anthropic-messages":
            kind = obj.get("type", name)
            if kind == "message_start":
                r.prompt_tokens = obj["message"].get("usage", {}).get("input_tokens")
            elif kind == "content_block_delta" and obj["delta"].get("type") == "text_delta":
                r.deltas.append(obj["delta"]["text"])
            elif kind == "content_block_start" and obj["content_block"].get("type") == "tool_use":
                block = obj["content_block"]
                calls.add(obj.get("index"), block.get("id"), block.get("name"), None)
            elif kind == "content_block_delta" and obj["delta"].get("type") == "input_json_delta":
                calls.add(obj.get("index"), None, None, obj["delta"].get("partial_json"))
            elif kind == "message_delta":
                r.raw_finish = obj["delta"].get("stop_reason")
                r.completion_tokens = obj.get("usage", {}).get("output_tokens")
            elif kind == "error":
                r.error = obj.get("error")
                break
            elif kind == "message_stop":
                break
        elif family == "gemini":
            if obj.get("error"):
                r.error = obj["error"]
                break
            cand = (obj.get("candidates") or [{}])[0]
            for p in cand.get("content", {}).get("parts", []):
                if p.get("text") and not p.get("thought"):
                    r.deltas.append(p["text"])
            for call_id, call_name, arguments in _gemini_calls(cand):
                calls.add(None, call_id if call_id else f"#{len(calls.calls)}", call_name, arguments)
            if cand.get("finishReason"):
                r.raw_finish = cand["finishReason"]
            usage = obj.get("usageMetadata")
            if usage:
                r.prompt_tokens, r.completion_tokens = usage.get("promptTokenCount"), usage.get("candidatesTokenCount")
                r.total_tokens = usage.get("totalTokenCount")
            if r.raw_finish:
                break
        elif family == "cohere-v2":
            kind = obj.get("type", name)
            if kind == "content-delta":
                piece = obj["delta"]["message"]["content"].get("text")
                if piece:
                    r.deltas.append(piece)
            elif kind in ("tool-call-start", "tool-call-delta"):
                c = obj["delta"]["message"]["tool_calls"]
                fn = c.get("function") or {}
                calls.add(obj.get("index"), c.get("id"), fn.get("name"), fn.get("arguments"))
            elif kind == "message-end":
                r.raw_finish = obj["delta"].get("finish_reason")
                tokens = (obj["delta"].get("usage") or {}).get("tokens") or {}
                r.prompt_tokens, r.completion_tokens = tokens.get("input_tokens"), tokens.get("output_tokens")
    r.content = "".join(r.deltas)
    r.tool_calls, r.tool_pieces = calls.calls, calls.pieces
    for call in r.tool_calls:  # Gemini calls without id were told apart by a placeholder
        if isinstance(call[0], str) and call[0].startswith("#"):
            call[0] = None
    return r


def error_message(family: str, body: Any) -> str | None:
    """The provider's message in a documented error body."""
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return err["message"]  # OpenAI, Anthropic, Gemini and most compatible services
    if isinstance(err, str):
        return err
    for key in ("message", "detail", "error_msg"):  # Cohere, Replicate, legacy APIs
        if isinstance(body.get(key), str):
            return body[key]
    return None
