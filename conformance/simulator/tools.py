"""The simulated model's tool calls and structured answers, in each wire family's format.

What a request offers is read the way each provider documents it (never through ailib):

- openai-chat / cohere-v2: ``tools[].function {name, parameters}``, ``tool_choice`` ("auto",
  "none", "required"; Mistral and Fireworks "any"; Cohere "REQUIRED" / "NONE"; or
  ``{"type": "function", "function": {"name"}}``), ``response_format`` (``json_schema`` /
  ``json_object``), a ``role: tool`` message answering a call;
- anthropic-messages: ``tools[] {name, input_schema}``, ``tool_choice {type: auto | any |
  none | tool, name}``, ``tool_result`` blocks in the last user turn;
- gemini: ``tools[].functionDeclarations[] {name, parameters}``,
  ``toolConfig.functionCallingConfig {mode, allowedFunctionNames}``, ``functionResponse``
  parts, ``generationConfig.responseMimeType`` / ``responseSchema``.

The model calls every offered tool (or the one it is forced to), with arguments made from
each tool's schema; after a tool result it answers in text; with a response format it answers
with JSON. Answers and streams have the shapes of the real recordings in ../shared/realworld
(file names cited per family below).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .answer import Answer, count_words
from .core import SimResponse, alnum_id, created_from, dumps, sse, uuid_from
from .families.base import reshape


@dataclass
class Offer:
    tools: list[tuple[str, Any]] = field(default_factory=list)
    choice: str = "auto"  # auto | none | required | <tool name>
    answering: bool = False  # the last turn is a tool result
    structured: Any = None  # a JSON schema, True for JSON mode, None


@dataclass
class SimCall:
    id: str | None
    name: str
    arguments: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.arguments)


# --- reading a request ------------------------------------------------------------------


def _words(choice: Any) -> str:
    if isinstance(choice, str):
        word = choice.lower()
        return {"any": "required"}.get(word, word)
    return "auto"


def read_offer(family: str, body: Any) -> Offer:
    offer = Offer()
    if not isinstance(body, dict):
        return offer
    if family in ("openai-chat", "cohere-v2"):
        for tool in body.get("tools") or []:
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                offer.tools.append((fn["name"], fn.get("parameters") or {}))
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
            offer.choice = str(choice["function"].get("name"))
        else:
            offer.choice = _words(choice)
        messages = body.get("messages") or []
        offer.answering = bool(messages) and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool"
        fmt = body.get("response_format")
        if isinstance(fmt, dict):
            if fmt.get("type") == "json_schema":
                offer.structured = (fmt.get("json_schema") or {}).get("schema") or True
            elif fmt.get("type") == "json_object":
                offer.structured = fmt.get("json_schema") or True
    elif family == "anthropic-messages":
        for tool in body.get("tools") or []:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                offer.tools.append((tool["name"], tool.get("input_schema") or {}))
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            kind = choice.get("type")
            offer.choice = str(choice.get("name")) if kind == "tool" else _words(kind)
        messages = body.get("messages") or []
        last = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
        offer.answering = isinstance(last, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in last
        )
    elif family == "gemini":
        for tool in body.get("tools") or []:
            for decl in (tool.get("functionDeclarations") or []) if isinstance(tool, dict) else []:
                if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                    offer.tools.append((decl["name"], decl.get("parameters") or {}))
        config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
        allowed = config.get("allowedFunctionNames") or []
        offer.choice = str(allowed[0]) if len(allowed) == 1 else _words(config.get("mode"))
        contents = body.get("contents") or []
        parts = contents[-1].get("parts") if contents and isinstance(contents[-1], dict) else None
        offer.answering = isinstance(parts, list) and any(
            isinstance(p, dict) and "functionResponse" in p for p in parts
        )
        generation = body.get("generationConfig") or {}
        if generation.get("responseMimeType") == "application/json":
            offer.structured = generation.get("responseSchema") or generation.get("responseJsonSchema") or True
    return offer


# --- the simulated model ----------------------------------------------------------------


def sample(schema: Any) -> Any:
    """A value that fits ``schema`` (the JSON Schema / OpenAPI subset tools use)."""
    if not isinstance(schema, dict):
        return "Paris"
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        return {name: sample(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [sample(schema.get("items"))]
    return {"string": "Paris", "integer": 18, "number": 18.5, "boolean": True}.get(kind, "Paris")


def plan_calls(offer: Offer) -> list[tuple[str, dict[str, Any]]]:
    """(name, arguments) of each call the model makes: none after a tool result or with
    tool_choice none, the forced tool alone, else every offered tool (in order)."""
    if not offer.tools or offer.answering or offer.choice == "none":
        return []
    if offer.choice not in ("auto", "required"):
        return [(name, sample(schema)) for name, schema in offer.tools if name == offer.choice][:1]
    return [(name, sample(schema)) for name, schema in offer.tools]


def structured_text(structured: Any) -> str:
    """The answer of a structured-output request: JSON fitting the schema (JSON mode: an object)."""
    value = sample(structured) if isinstance(structured, dict) else {"answer": "Paris", "ready": True}
    return json.dumps(value)


def fragments(text: str, size: int = 7) -> list[str]:
    """Arguments text cut into pieces the way providers stream it (mid-token)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def completion_tokens(calls: list[SimCall]) -> int:
    return sum(count_words(c.name + " " + c.text) for c in calls)


# --- answers per family -----------------------------------------------------------------


def tool_response(family: Any, ex: Any, ans: Answer, planned: list[tuple[str, dict[str, Any]]]) -> SimResponse:
    """The answer (whole or streamed) to a request on which the model calls tools."""
    name = family.name
    calls = [SimCall(_call_id(name, ex, i, n), n, args) for i, (n, args) in enumerate(planned)]
    out = completion_tokens(calls)
    if name == "openai-chat":
        events = _openai(family, ex, ans, calls, out)
    elif name == "anthropic-messages":
        events = _anthropic(family, ex, ans, calls, out)
    elif name == "gemini":
        events = _gemini(family, ex, ans, calls, out)
    else:
        events = _cohere(family, ex, ans, calls, out)
    if ex.stream:
        b = ex.behaviour
        if b.get("leading_comment"):  # the provider's opening comment (OpenRouter)
            eol = str(b.get("eol") or getattr(family, "eol", "\n"))
            events.insert(0, f"{b['leading_comment']}{eol}{eol}".encode())
        headers = {"content-type": str(b.get("sse_content_type") or family.sse_type), "cache-control": "no-cache"}
        return SimResponse(200, headers, [e for e in events])
    return SimResponse(200, {"content-type": family.json_type}, events)


def _whole_calls(ex: Any) -> bool:
    """The provider streams each call whole, without index (conformance/tools.yaml `stream`)."""
    from ..tool_checks import expectations

    return (expectations().get("providers", {}).get(ex.contract_id) or {}).get("stream") == "whole_calls"


def _call_id(family: str, ex: Any, i: int, name: str) -> str | None:
    seed = f"{ex.seed}{i}"
    if family == "anthropic-messages":
        return "toolu_01" + alnum_id(seed, 22)
    if family == "gemini":
        return None  # Gemini's functionCall carries no id (recording gemini__generate_nonstream_function_call)
    if family == "cohere-v2":
        return f"{name}_{alnum_id(seed, 12).lower()}"
    if _whole_calls(ex):
        return alnum_id(seed, 9)  # Mistral: 9 characters (mistral__chat_stream_parallel_toolcalls)
    return "call_" + alnum_id(seed, 24)


def _openai(family: Any, ex: Any, ans: Answer, calls: list[SimCall], out: int) -> list[bytes]:
    """Non-stream: message.tool_calls with arguments as a JSON string (openai__chat_nonstream_toolcall).
    Stream: the first piece of each call has index, id, type, name and "" arguments, then
    argument fragments by index (openai__chat_stream_forced_toolcall, together__chat_stream_
    parallel_toolcalls); Mistral sends each call whole, without index, all in the finish chunk
    (mistral__chat_stream_parallel_toolcalls). A forced call finishes `stop` on OpenAI itself
    (openai__chat_stream_forced_toolcall), `tool_calls` elsewhere."""
    cid, created = "chatcmpl-" + alnum_id(ex.seed, 29), created_from(ex.seed)
    forced = family.is_openai(ex) and len(calls) == 1 and read_offer("openai-chat", ex.body).choice == calls[0].name
    finish = "stop" if forced else "tool_calls"
    usage = {"prompt_tokens": ans.prompt_tokens, "completion_tokens": out, "total_tokens": ans.prompt_tokens + out}
    wire = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.text}} for c in calls]
    if not ex.stream:
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": wire}
        if family.is_openai(ex):
            message.update(refusal=None, annotations=[])
        body = {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": ex.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage,
        }
        if family.is_openai(ex):
            body["service_tier"] = "default"
        body["system_fingerprint"] = "fp_" + ex.seed[-10:]
        body["model"] = family.echoed_model(ex)
        b = ex.behaviour
        reshape(body, list(b.get("omit_keys") or []), dict(b.get("add_keys") or {}))
        return [dumps(family.wrap(ex, body)).encode("utf-8")]

    openai = family.is_openai(ex)
    mode, _ = ex.usage_mode
    written = [0]
    # the provider's profile: framing, end marker, usage placement, its own chunk keys
    b = ex.behaviour
    eol = str(b.get("eol") or "\n")
    placement = family.usage_placement(ex)
    omitted, added = list(b.get("omit_keys") or []), dict(b.get("add_chunk_keys") or {})

    def chunk(delta: dict[str, Any] | None, finish_reason: str | None = None, **extra: Any) -> bytes:
        """A chunk with the keys the family's text chunks carry (OpenAI's own: service_tier,
        usage null on every chunk when usage was asked for, obfuscation padding)."""
        obj: dict[str, Any] = {
            "id": cid,
            "object": str(b.get("chunk_object") or "chat.completion.chunk"),
            "created": created,
            "model": family.echoed_model(ex),
        }
        if openai:
            obj["service_tier"] = "default"
        obj["system_fingerprint"] = "fp_" + ex.seed[-10:]
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        obj["choices"] = [] if delta is None else [choice]
        if ex.stream_usage and mode == "on_request" and "usage" not in extra:
            obj["usage"] = None
        obj.update(extra)
        reshape(obj, omitted, added)
        if openai:
            obj["obfuscation"] = alnum_id(ex.seed + str(written[0]), 4 + written[0] % 9)
        written[0] += 1
        return sse(dumps(family.wrap(ex, obj)), eol=eol)

    finish_extra: dict[str, Any] = {}
    if placement & {"finish_chunk", "every_chunk_cumulative"}:
        finish_extra["usage"] = usage
    if "x_groq" in placement:
        finish_extra["x_groq"] = {"id": "req_" + ex.seed[:26], "usage": usage}
    if _whole_calls(ex):
        events = [chunk({"role": "assistant", "content": ""})]
        whole = [{"id": c.id, "function": {"name": c.name, "arguments": c.text}} for c in calls]
        events.append(chunk({"tool_calls": whole}, finish, **finish_extra))
    else:
        events = []
        for i, c in enumerate(calls):
            first = {"index": i, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}}
            # the first call starts in the role chunk (openai__chat_stream_forced_toolcall)
            head: dict[str, Any] = {"tool_calls": [first]}
            if i == 0:
                head = {"role": "assistant", "content": None, **head, **({"refusal": None} if openai else {})}
            events.append(chunk(head))
            events += [chunk({"tool_calls": [{"index": i, "function": {"arguments": f}}]}) for f in fragments(c.text)]
        events.append(chunk({}, finish, **finish_extra))
    if "separate_chunk" in placement:
        events.append(chunk(None, usage=usage))
    if "usage_choice_chunk" in placement:
        events.append(chunk({"role": "assistant", "content": ""}, usage=usage))
    if b.get("done_marker", "no_done_marker" not in ex.quirks):
        events.append(sse("[DONE]", eol=eol))
    return events


def _anthropic(family: Any, ex: Any, ans: Answer, calls: list[SimCall], out: int) -> list[bytes]:
    """tool_use blocks (anthropic__messages_nonstream_text_and_tool_use); streamed as
    content_block_start (input {}), input_json_delta fragments starting with "" and
    content_block_stop per block, then message_delta stop_reason tool_use
    (anthropic__messages_stream_forced_tool_use)."""
    msg_id = "msg_01" + alnum_id(ex.seed, 22)
    cache = {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    usage = {"input_tokens": ans.prompt_tokens, **cache, "output_tokens": out}
    # Left to choose, Claude says what it does before the calls (a text block first:
    # anthropic__messages_nonstream_text_and_tool_use, anthropic__messages_stream_tool_use_ruby);
    # a forced call comes alone (anthropic__messages_stream_forced_tool_use).
    choice = read_offer("anthropic-messages", ex.body).choice
    preface = "I'll look that up." if choice == "auto" else None
    tool_use = [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in calls]
    if not ex.stream:
        body = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": ex.model,
            "content": ([{"type": "text", "text": preface}] if preface else []) + tool_use,
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": usage,
        }
        return [dumps(body).encode("utf-8")]
    ev = family.event
    start = {"id": msg_id, "type": "message", "role": "assistant", "model": ex.model, "content": [],
             "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": ans.prompt_tokens, **cache, "output_tokens": 1}}  # fmt: skip
    events = [ev("message_start", {"type": "message_start", "message": start})]
    first = 0
    if preface:
        first = 1
        text = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        events += [ev("content_block_start", text), ev("ping", {"type": "ping"})]
        for piece in preface.split(" "):
            delta = {"type": "text_delta", "text": piece if piece == preface.split(" ")[0] else " " + piece}
            events.append(ev("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
        events.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
    for n, c in enumerate(calls):
        i = first + n  # the content block's index, counted over text blocks too
        block = {"type": "tool_use", "id": c.id, "name": c.name, "input": {}}
        events.append(ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": block}))
        for piece in ["", *fragments(c.text)]:
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append(ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}))
            if not piece:
                events.append(ev("ping", {"type": "ping"}))
        events.append(ev("content_block_stop", {"type": "content_block_stop", "index": i}))
    delta = {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": usage}
    events.append(ev("message_delta", delta))
    events.append(ev("message_stop", {"type": "message_stop"}))
    return events


def _gemini(family: Any, ex: Any, ans: Answer, calls: list[SimCall], out: int) -> list[bytes]:
    """functionCall parts, whole (``args`` object, no id), finishReason STOP
    (gemini__generate_nonstream_function_call); a stream sends them in one chunk, as the
    functionCall part of a GenerateContentResponse is never split."""
    usage = {
        "promptTokenCount": ans.prompt_tokens,
        "candidatesTokenCount": out,
        "totalTokenCount": ans.prompt_tokens + out,
    }
    parts = [{"functionCall": {"name": c.name, "args": c.arguments}} for c in calls]
    body = {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "modelVersion": ex.model,
        "responseId": alnum_id(ex.seed, 22),
    }
    if not ex.stream:
        return [(json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")]
    return [sse(dumps(body), eol="\r\n")]


def _cohere(family: Any, ex: Any, ans: Answer, calls: list[SimCall], out: int) -> list[bytes]:
    """message.tool_plan + message.tool_calls, finish_reason TOOL_CALL
    (cohere__chat_v2_nonstream_toolcall); streamed as message-start, tool-plan-delta pieces,
    then tool-call-start / tool-call-delta fragments / tool-call-end per call, each with
    ``index`` (cohere__chat_v2_stream_toolcalls)."""
    plan = "I will call " + " and ".join(c.name for c in calls) + "."
    counts = {"input_tokens": ans.prompt_tokens, "output_tokens": out}
    usage = {"billed_units": dict(counts), "tokens": dict(counts)}
    wire = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.text}} for c in calls]
    if not ex.stream:
        body = {
            "id": uuid_from(ex.seed),
            "message": {"role": "assistant", "tool_plan": plan, "tool_calls": wire},
            "finish_reason": "TOOL_CALL",
            "usage": usage,
        }
        return [dumps(body).encode("utf-8")]
    ev = family.event
    start = {"id": uuid_from(ex.seed), "type": "message-start",
             "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}  # fmt: skip
    events = [ev("message-start", start)]
    for word in plan.split(" "):
        piece = word if not events[1:] else " " + word
        events.append(ev("tool-plan-delta", {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": piece}}}))
    for i, c in enumerate(calls):
        first = {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}}
        events.append(
            ev("tool-call-start", {"type": "tool-call-start", "index": i, "delta": {"message": {"tool_calls": first}}})
        )
        for f in fragments(c.text):
            delta = {"message": {"tool_calls": {"function": {"arguments": f}}}}
            events.append(ev("tool-call-delta", {"type": "tool-call-delta", "index": i, "delta": delta}))
        events.append(ev("tool-call-end", {"type": "tool-call-end", "index": i}))
    end: dict[str, Any] = {"finish_reason": "TOOL_CALL"}
    if ex.stream_usage:
        end["usage"] = usage
    events.append(ev("message-end", {"type": "message-end", "delta": end}))
    if "done_marker" in ex.quirks:
        events.append(sse("[DONE]"))
    return events


def structured_answer(ans: Answer, structured: Any) -> Answer:
    """The model's answer as JSON text, streamed in word-sized deltas like any text."""
    return Answer(text=structured_text(structured), finish="natural", prompt_tokens=ans.prompt_tokens)
