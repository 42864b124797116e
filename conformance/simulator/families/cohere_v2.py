"""Cohere Chat API v2.

Docs: https://docs.cohere.com/reference/chat (request and response),
https://docs.cohere.com/reference/chat-stream and https://docs.cohere.com/docs/streaming
(named events message-start ... message-end), https://docs.cohere.com/reference/errors
(``{"message": ...}`` error bodies and their status codes)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..answer import Answer
from ..core import Event, SimResponse, dumps, json_type_name, sse, text_of, uuid_from
from .base import Exchange, Family, StreamPlan, messages_conversation

COHERE_FIELDS = {
    "model", "messages", "tools", "strict_tools", "documents", "citation_options", "response_format",
    "safety_mode", "max_tokens", "stop_sequences", "temperature", "seed", "frequency_penalty",
    "presence_penalty", "k", "p", "logprobs", "tool_choice", "thinking", "stream", "priority", "raw_prompting",
}  # fmt: skip

_TRIAL = (
    "You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at "
    "'https://dashboard.cohere.com/api-keys'. Contact us on 'https://discord.gg/XW44jPfYJu' or email us at "
    "support@cohere.com with any questions"
)

# kind -> (status, message)
_ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid request: the simulator was asked to reject it."),
    "auth": (401, "invalid api token"),
    "permission": (403, "You do not have permission to access this resource."),
    "not_found": (
        404,
        "model '{model}' not found, make sure the correct model ID was used and that you have access to the model.",
    ),
    "too_large": (413, "request entity too large: the request body exceeds the maximum size."),
    "rate_limit": (429, "You are using a Trial key, which is limited to 20 API calls / minute. " + _TRIAL),
    "quota": (429, "You are using a Trial key, which is limited to 1000 API calls / month. " + _TRIAL),
    "server": (500, "internal server error, this has been reported to our developers"),
    "bad_gateway": (502, "bad gateway"),
    "overloaded": (503, "service unavailable: the model is overloaded, please try again later"),
    "gateway_timeout": (504, "gateway timeout: the request took too long to complete"),
    "overloaded_529": (529, "service unavailable: the model is overloaded, please try again later"),
}

ROLES = ("user", "assistant", "system", "tool")


class CohereV2(Family):
    name = "cohere-v2"
    json_type = "application/json"
    sse_type = "text/event-stream"
    finish_values: ClassVar[dict[str, str]] = {
        "natural": "COMPLETE",
        "length": "MAX_TOKENS",
        "stop_sequence": "STOP_SEQUENCE",
    }

    def error(
        self, ex: Exchange, kind: str, status: int | None = None, message: str | None = None, **info: Any
    ) -> SimResponse:
        default_status, default_message = _ERRORS[kind]
        if message is None:
            message = self.documented_error(ex, kind).get("message")
        text = (
            message if message is not None else default_message.format(model=ex.model or ex.contract.get("model", ""))
        )
        body = {"id": uuid_from(ex.seed + "error"), "message": text}
        return SimResponse(status or default_status, {"content-type": self.json_type}, [dumps(body).encode("utf-8")])

    def missing_auth(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "auth", message="no api key supplied")

    def invalid_auth(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "auth", message="invalid api token")

    def missing_header(self, ex: Exchange, name: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"invalid request: missing required header {name}")

    def not_found_url(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "not_found", message="Not Found")

    def invalid_json(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "invalid_request", message="invalid request: could not parse the request body as JSON.")

    def unknown_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(
            ex, "invalid_request", message=f"invalid request: unknown field: parameter {path} is not a valid field"
        )

    def missing_field(self, ex: Exchange, path: str) -> SimResponse:
        if path == "model":
            return self.error(ex, "invalid_request", message="a model parameter is required for this endpoint.")
        return self.error(ex, "invalid_request", message=f"invalid request: {path} is required.")

    def wrong_type(self, ex: Exchange, path: str, kind: str, value: Any) -> SimResponse:
        expected = {"stops": "an array of strings", "number": "a number", "integer": "an integer"}.get(
            kind, f"a {kind}"
        )
        return self.error(
            ex, "invalid_request", message=f"invalid request: {path} must be {expected}, got {json_type_name(value)}."
        )

    def known_fields(self, ex: Exchange) -> set[str]:
        return set(COHERE_FIELDS)

    def typed_fields(self, ex: Exchange) -> dict[str, str]:
        return {
            "model": "string",
            "messages": "array",
            "temperature": "number",
            "p": "number",
            "k": "integer",
            "max_tokens": "integer",
            "stop_sequences": "stops",
            "seed": "integer",
            "frequency_penalty": "number",
            "presence_penalty": "number",
            "stream": "boolean",
        }

    def validate_conversation(self, ex: Exchange) -> SimResponse | None:
        messages = ex.body.get("messages")
        if not messages:
            return self.error(ex, "invalid_request", message="invalid request: messages must not be empty.")
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                return self.wrong_type(ex, f"messages[{i}]", "object", message)
            role = message.get("role")
            if role not in ROLES:
                return self.error(
                    ex,
                    "invalid_request",
                    message=f"invalid request: invalid role {role!r} in messages at index {i}. Role must be one of "
                    "the following: user, assistant, system, tool.",
                )
            if role in ("user", "system") and not text_of(message.get("content")):
                return self.error(ex, "invalid_request", message="message must not be empty in a turn")
        return None

    def conversation(self, ex: Exchange) -> tuple[list[str], str]:
        return messages_conversation(ex.body)

    def usage(self, ans: Answer, stream: bool = False, ex: Exchange | None = None) -> dict[str, Any]:
        """billed_units count what was sent and returned; tokens also count the model's own
        preamble and end token (profile ``billed_units_differ``), and are what the model used."""
        over = (ex.behaviour.get("billed_units_differ") if ex is not None else None) or {}
        billed = {"input_tokens": ans.prompt_tokens, "output_tokens": ans.completion_tokens}
        tokens = {
            "input_tokens": ans.prompt_tokens + int(over.get("input_overhead", 0)),
            "output_tokens": ans.completion_tokens + int(over.get("output_overhead", 0)),
        }
        usage: dict[str, Any] = {"billed_units": billed, "tokens": tokens}
        if stream:  # message-end also reports cached prompt tokens
            usage["cached_tokens"] = 0
        return usage

    def complete(self, ex: Exchange, ans: Answer) -> SimResponse:
        body = {
            "id": uuid_from(ex.seed),
            "message": {"role": "assistant", "content": [{"type": "text", "text": ans.text}]},
            "finish_reason": self.finish_value(ans),
            "usage": self.usage(ans, ex=ex),
        }
        return SimResponse(200, {"content-type": self.json_type}, [dumps(body).encode("utf-8")])

    @staticmethod
    def event(name: str, data: dict[str, Any]) -> bytes:
        return sse(dumps(data), event=name)

    def stream_events(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[Event]:
        ev = self.event
        start = {
            "id": uuid_from(ex.seed),
            "type": "message-start",
            "delta": {
                "message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
            },
        }
        events = [
            Event("head", ev("message-start", start)),
            Event(
                "head",
                ev(
                    "content-start",
                    {
                        "type": "content-start",
                        "index": 0,
                        "delta": {"message": {"content": {"type": "text", "text": ""}}},
                    },
                ),
            ),
        ]
        for n, piece in enumerate(ans.deltas):
            if plan.error and n == plan.error_after:
                return events + self.stream_error_body(ex)
            data = {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}}
            events.append(Event("delta", ev("content-delta", data)))
        if plan.error:
            return events + self.stream_error_body(ex)
        if plan.finish:
            events.append(Event("tail", ev("content-end", {"type": "content-end", "index": 0})))
            delta: dict[str, Any] = {"finish_reason": self.finish_value(ans)}
            if ex.stream_usage:
                delta["usage"] = self.usage(ans, stream=True, ex=ex)
            events.append(Event("tail", ev("message-end", {"type": "message-end", "delta": delta})))
        if plan.done and ex.behaviour.get("done_marker", "done_marker" in ex.quirks):
            events.append(Event("done", sse("[DONE]")))
        return events

    def stream_error_body(self, ex: Exchange) -> list[Event]:
        """Cohere's documented in-stream failure: message-end with finish_reason ERROR."""
        data = {"type": "message-end", "delta": {"error": _ERRORS["server"][1], "finish_reason": "ERROR"}}
        events = [Event("error", self.event("message-end", data))]
        if ex.behaviour.get("done_marker", "done_marker" in ex.quirks):
            events.append(Event("done", sse("[DONE]")))
        return events
