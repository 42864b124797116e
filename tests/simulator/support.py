"""Helpers for the simulator tests: request builders and an SSE parser written from the
WHATWG spec (independent of both ailib's decoder and the simulator's own code)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.simulator import SimRequest, SimResponse, load_contracts, respond

CONTRACTS = load_contracts()

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
GEMINI_STREAM_URL = (
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
)
COHERE_URL = "https://api.cohere.com/v2/chat"
REPLICATE_URL = "https://api.replicate.com/v1/models/meta/meta-llama-3-8b-instruct/predictions"

KEY = "test-key-0123456789"

# Contracts written in the tests, so these do not depend on files other people edit:
# an openai-chat family service with each quirk, and a Replicate contract.
SYNTHETIC: dict[str, dict[str, Any]] = {
    "quirky": {
        "family": "openai-chat",
        "model": "quirk-1",
        "url": "https://api.quirky.example/v1/chat/completions",
        "auth": {"header": "Authorization", "format": "Bearer {key}"},
        "model_in": "body",
        "fields": {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_tokens", "stop": "stop"},
        "stream": {"field": "stream", "usage": "always"},
        "quirks": [],
        "profile": {
            "quirks": {
                "leading_comment": {"value": ": keep-alive", "cite": ["written in the test"]},
                "reasoning_field": {"value": "reasoning_content", "cite": ["written in the test"]},
                "done_marker": {"value": False, "cite": ["written in the test"]},
            }
        },
    },
    "mistrallike": {
        "family": "openai-chat",
        "model": "small",
        "url": "https://api.mistrallike.example/v1/chat/completions",
        "auth": {"header": "Authorization", "format": "Bearer {key}"},
        "model_in": "body",
        "fields": {"max_tokens": "max_tokens", "stop": "stop"},
        "stream": {"field": "stream", "usage": "always"},
        "quirks": [],
        "profile": {"quirks": {"stream_usage": {"value": "finish_chunk", "cite": ["written in the test"]}}},
        "errors": {
            "quota": {"message": "Insufficient Balance", "type": "unknown_error", "code": "invalid_request_error"}
        },
    },
    "groqlike": {
        "family": "openai-chat",
        "model": "llama-x",
        "url": "https://api.groqlike.example/openai/v1/chat/completions",
        "auth": {"header": "Authorization", "format": "Bearer {key}"},
        "model_in": "body",
        "fields": {"max_tokens": "max_completion_tokens", "stop": "stop"},
        "stream": {"field": "stream", "usage": "always"},
        "quirks": [],
        "profile": {
            "quirks": {
                "stream_usage": {"value": "x_groq", "cite": ["written in the test"]},
                "stream_error": {"value": "event_error", "cite": ["written in the test"]},
            }
        },
    },
    "wrapped": {
        "family": "openai-chat",
        "model": "wrap-1",
        "url": "https://api.wrapped.example/v1/llm/chat-completions",
        "auth": {"header": "Authorization", "format": "Bearer {key}"},
        "model_in": "body",
        "fields": {"max_tokens": "max_new_tokens", "stop": "stop"},
        "stream": {"field": "stream", "usage": "never"},
        "quirks": ["wrapped_in_data"],
    },
    "azurelike": {
        "family": "openai-chat",
        "model": "gpt-4o",
        "url": "https://{resource}.openai.azure.com/openai/deployments/{model}/chat/completions?api-version=2024-10-21",
        "variables": {"resource": "my-resource"},
        "auth": {"header": "api-key", "format": "{key}"},
        "model_in": "body",
        "fields": {"max_tokens": "max_completion_tokens", "stop": "stop"},
        "stream": {"field": "stream", "usage": "on_request:stream_options.include_usage"},
        "quirks": [],
    },
    "replicate": {
        "family": "replicate",
        "model": "meta/meta-llama-3-8b-instruct",
        "url": "https://api.replicate.com/v1/models/{model}/predictions",
        "auth": {"header": "Authorization", "format": "Bearer {key}"},
        "model_in": "url",
        "fields": {
            "temperature": "input.temperature",
            "top_p": "input.top_p",
            "max_tokens": "input.max_tokens",
            "stop": "input.stop_sequences",
        },
        "stream": {"field": "stream", "usage": "never"},
        "quirks": [],
    },
    "cohere_plain": {  # cohere-v2 without the done_marker quirk
        "family": "cohere-v2",
        "model": "command-r",
        "url": "https://api.cohere-plain.example/v2/chat",
        "auth": {"header": "Authorization", "format": "Bearer {key}"},
        "model_in": "body",
        "fields": {"max_tokens": "max_tokens", "stop": "stop_sequences"},
        "stream": {"field": "stream", "usage": "always"},
        "quirks": [],
    },
    "nochat": {"no_chat": "embeddings only"},
}


def call(url: str, body: Any, headers: dict[str, str] | None = None, *, fault: str | None = None,
         method: str = "POST", contracts: dict[str, Any] | None = None) -> SimResponse:  # fmt: skip
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return respond(
        contracts if contracts is not None else CONTRACTS, SimRequest(method, url, headers or {}, raw), fault=fault
    )


# --- per-family requests as a client following the docs would send them ----------------


def openai(
    body: dict[str, Any] | None = None, *, fault: str | None = None, headers: dict[str, str] | None = None
) -> SimResponse:
    b = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello, world!"}]}
    b.update(body or {})
    h = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    h.update(headers or {})
    return call(OPENAI_URL, b, h, fault=fault)


def anthropic(
    body: dict[str, Any] | None = None, *, fault: str | None = None, headers: dict[str, str] | None = None
) -> SimResponse:
    b = {
        "model": "claude-3-5-sonnet-latest",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello, world!"}],
    }
    b.update(body or {})
    h = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
    h.update(headers or {})
    return call(ANTHROPIC_URL, b, h, fault=fault)


def gemini(body: dict[str, Any] | None = None, *, stream: bool = False, fault: str | None = None,
           headers: dict[str, str] | None = None) -> SimResponse:  # fmt: skip
    b = {"contents": [{"role": "user", "parts": [{"text": "Hello, world!"}]}]}
    b.update(body or {})
    h = {"x-goog-api-key": KEY, "content-type": "application/json"}
    h.update(headers or {})
    return call(GEMINI_STREAM_URL if stream else GEMINI_URL, b, h, fault=fault)


def cohere(
    body: dict[str, Any] | None = None, *, fault: str | None = None, headers: dict[str, str] | None = None
) -> SimResponse:
    b = {"model": "command-r-plus-08-2024", "messages": [{"role": "user", "content": "Hello, world!"}]}
    b.update(body or {})
    h = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    h.update(headers or {})
    return call(COHERE_URL, b, h, fault=fault)


def synthetic(cid: str, body: dict[str, Any] | None = None, *, fault: str | None = None,
              headers: dict[str, str] | None = None, url: str | None = None) -> SimResponse:  # fmt: skip
    contract = SYNTHETIC[cid]
    b: dict[str, Any] = {"model": contract["model"], "messages": [{"role": "user", "content": "Hello, world!"}]}
    b.update(body or {})
    h = {"content-type": "application/json"}
    if contract["auth"]["header"].lower() == "authorization":
        h["authorization"] = f"Bearer {KEY}"
    else:
        h[contract["auth"]["header"].lower()] = KEY
    h.update(headers or {})
    return call(url or contract["url"], b, h, fault=fault, contracts=SYNTHETIC)


def replicate(inputs: dict[str, Any] | None = None, *, stream: bool = False, wait: bool = True, fault: str | None = None,
              headers: dict[str, str] | None = None) -> SimResponse:  # fmt: skip
    b: dict[str, Any] = {"input": {"prompt": "Hello, world!", **(inputs or {})}}
    if stream:
        b["stream"] = True
    h = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    if wait and not stream:
        h["prefer"] = "wait"
    h.update(headers or {})
    return call(REPLICATE_URL, b, h, fault=fault, contracts=SYNTHETIC)


def replicate_get(url: str, *, fault: str | None = None, auth: bool = False) -> SimResponse:
    h = {"accept": "text/event-stream"}
    if auth:
        h["authorization"] = f"Bearer {KEY}"
    return call(url, b"", h, fault=fault, method="GET", contracts=SYNTHETIC)


# --- SSE, from https://html.spec.whatwg.org/multipage/server-sent-events.html ----------


@dataclass
class SSE:
    event: str = "message"
    data: str = ""
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Parsed:
    events: list[SSE] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    # the text after the last complete event (non-empty when the body ends mid-event)
    trailing: str = ""


def parse_sse(body: bytes) -> Parsed:
    text = body.decode("utf-8")
    text = text.removeprefix("\ufeff")
    out = Parsed()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ends_clean = text.endswith(("\n", "\r"))
    if not ends_clean:
        out.trailing = lines[-1]
    lines = lines[:-1]  # an incomplete last line is not processed
    event, data, last_id, pending = "", [], None, []
    for line in lines:
        if line == "":
            if data:
                out.events.append(SSE(event or "message", "\n".join(data), last_id))
            event, data, pending = "", [], []
            continue
        pending.append(line)
        if line.startswith(":"):
            out.comments.append(line[1:].strip())
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
    if pending and not out.trailing:
        out.trailing = "\n".join(pending)
    return out


def json_events(response: SimResponse) -> list[Any]:
    """The JSON payloads of a stream, skipping a [DONE] marker."""
    return [e.json() for e in parse_sse(response.body).events if e.data != "[DONE]"]
