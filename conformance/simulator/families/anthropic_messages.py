"""Anthropic Messages.

Docs: https://docs.anthropic.com/en/api/messages (request and Message object),
https://docs.anthropic.com/en/api/messages-streaming (event flow),
https://docs.anthropic.com/en/api/errors (error types and bodies)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..answer import Answer
from ..core import Event, SimResponse, alnum_id, comment, dumps, sse, text_of
from .base import Exchange, Family, StreamPlan

ANTHROPIC_FIELDS = {
    "model", "messages", "max_tokens", "metadata", "stop_sequences", "stream", "system", "temperature",
    "thinking", "tool_choice", "tools", "top_k", "top_p", "service_tier", "container", "mcp_servers",
    "context_management",
}  # fmt: skip

_VALID = {
    "number": "Input should be a valid number",
    "integer": "Input should be a valid integer",
    "boolean": "Input should be a valid boolean",
    "string": "Input should be a valid string",
    "array": "Input should be a valid list",
    "object": "Input should be a valid dictionary",
    "stops": "Input should be a valid list",
}

# kind -> (status, error type, message)
_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_request": (400, "invalid_request_error", "Invalid request: the simulator was asked to reject it."),
    "auth": (401, "authentication_error", "invalid x-api-key"),
    "permission": (403, "permission_error", "Your API key does not have permission to use the specified resource."),
    "not_found": (404, "not_found_error", "model: {model}"),
    "too_large": (413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
    "rate_limit": (
        429,
        "rate_limit_error",
        (
            "This request would exceed the rate limit for your organization of 50 requests per minute. For details, "
            "refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage."
        ),
    ),
    "quota": (
        429,
        "billing_error",
        (
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
            "purchase credits."
        ),
    ),
    "server": (500, "api_error", "Internal server error"),
    "bad_gateway": (502, "api_error", "Bad gateway"),
    "overloaded": (503, "overloaded_error", "Overloaded"),
    "gateway_timeout": (504, "timeout_error", "Request timed out"),
    "overloaded_529": (529, "overloaded_error", "Overloaded"),
}


class AnthropicMessages(Family):
    name = "anthropic-messages"
    json_type = "application/json"
    sse_type = "text/event-stream; charset=utf-8"
    finish_values: ClassVar[dict[str, str]] = {
        "natural": "end_turn",
        "length": "max_tokens",
        "stop_sequence": "stop_sequence",
    }

    def error(
        self, ex: Exchange, kind: str, status: int | None = None, message: str | None = None, **info: Any
    ) -> SimResponse:
        default_status, etype, default_message = _ERRORS[kind]
        override = self.documented_error(ex, kind) if message is None else {}
        etype = override.get("type", etype)
        message = override.get("message", message)
        text = (
            message if message is not None else default_message.format(model=ex.model or ex.contract.get("model", ""))
        )
        request_id = "req_011C" + alnum_id(ex.seed, 20)
        body = {"type": "error", "error": {"type": info.get("type", etype), "message": text}, "request_id": request_id}
        headers = {"content-type": self.json_type, "request-id": request_id}
        if (status or default_status) == 529 or kind == "overloaded_529":
            headers["x-should-retry"] = "true"
        return SimResponse(status or default_status, headers, [dumps(body).encode("utf-8")])

    def missing_auth(self, ex: Exchange) -> SimResponse:
        name = (ex.contract.get("auth") or {}).get("header", "x-api-key")
        return self.error(ex, "auth", message=f"{name} header is required")

    def invalid_auth(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "auth", message="invalid x-api-key")

    def missing_header(self, ex: Exchange, name: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{name}: header is required")

    def invalid_header(self, ex: Exchange, name: str, value: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{name}: invalid version {value}")

    def not_found_url(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "not_found", message="Not Found")

    def invalid_json(self, ex: Exchange) -> SimResponse:
        return self.error(
            ex, "invalid_request", message="There was an error parsing the body of your request: it is not valid JSON."
        )

    def unknown_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{path}: Extra inputs are not permitted")

    def missing_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{path}: Field required")

    def wrong_type(self, ex: Exchange, path: str, kind: str, value: Any) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{path}: {_VALID.get(kind, 'Input is invalid')}")

    def known_fields(self, ex: Exchange) -> set[str]:
        return set(ANTHROPIC_FIELDS)

    def typed_fields(self, ex: Exchange) -> dict[str, str]:
        return {
            "model": "string",
            "messages": "array",
            "max_tokens": "integer",
            "temperature": "number",
            "top_p": "number",
            "top_k": "integer",
            "stop_sequences": "stops",
            "stream": "boolean",
            "metadata": "object",
            "tools": "array",
        }

    def validate_conversation(self, ex: Exchange) -> SimResponse | None:
        body = ex.body
        messages = body.get("messages")
        if messages is None:
            return self.missing_field(ex, "messages")
        system = body.get("system")
        if system is not None and not isinstance(system, (str, list)):
            return self.error(ex, "invalid_request", message="system: Input should be a valid list")
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                return self.error(ex, "invalid_request", message=f"messages.{i}: Input should be a valid dictionary")
            role = message.get("role")
            if role is None:
                return self.missing_field(ex, f"messages.{i}.role")
            if role == "system":
                return self.error(
                    ex,
                    "invalid_request",
                    message='messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                    'parameter, not "system" as an input message role.',
                )
            if role not in ("user", "assistant"):
                return self.error(
                    ex, "invalid_request", message=f"messages.{i}.role: Input should be 'user' or 'assistant'"
                )
            if "content" not in message:
                return self.missing_field(ex, f"messages.{i}.content")
            if not isinstance(message["content"], (str, list)):
                return self.error(ex, "invalid_request", message=f"messages.{i}.content: Input should be a valid list")
        if not messages:
            return self.error(ex, "invalid_request", message="messages: at least one message is required")
        return None

    def conversation(self, ex: Exchange) -> tuple[list[str], str]:
        body = ex.body
        texts = [text_of(body["system"])] if body.get("system") else []
        last_user = ""
        for message in body.get("messages") or []:
            text = text_of(message.get("content"))
            texts.append(text)
            if message.get("role") == "user":
                last_user = text
        return texts, last_user

    def msg_id(self, ex: Exchange) -> str:
        return "msg_01" + alnum_id(ex.seed, 22)

    def usage(self, ans: Answer, output_tokens: int | None = None) -> dict[str, Any]:
        return {
            "input_tokens": ans.prompt_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": ans.completion_tokens if output_tokens is None else output_tokens,
            "service_tier": "standard",
            "inference_geo": "not_available",
        }

    def complete(self, ex: Exchange, ans: Answer) -> SimResponse:
        body = {
            "id": self.msg_id(ex),
            "type": "message",
            "role": "assistant",
            "model": ex.model,
            "content": [{"type": "text", "text": ans.text}],
            "stop_reason": self.finish_value(ans),
            "stop_sequence": ans.stop_sequence,
            "stop_details": None,
            "usage": self.usage(ans),
        }
        headers = {"content-type": self.json_type, "request-id": "req_011C" + alnum_id(ex.seed, 20)}
        return SimResponse(200, headers, [dumps(body).encode("utf-8")])

    @staticmethod
    def event(name: str, data: dict[str, Any]) -> bytes:
        return sse(dumps(data), event=name)

    def stream_events(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[Event]:
        message = {
            "id": self.msg_id(ex),
            "type": "message",
            "role": "assistant",
            "model": ex.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "stop_details": None,
            "usage": self.usage(ans, output_tokens=1),
        }
        ev = self.event
        events = [
            Event("head", ev("message_start", {"type": "message_start", "message": message})),
            Event(
                "head",
                ev(
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                ),
            ),
            Event("other", ev("ping", {"type": "ping"})),
        ]
        for n, piece in enumerate(ans.deltas):
            if plan.error and n == plan.error_after:
                return events + self.stream_error_body(ex)
            data = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
            events.append(Event("delta", ev("content_block_delta", data)))
        if plan.error:
            return events + self.stream_error_body(ex)
        if plan.finish:
            events.append(Event("tail", ev("content_block_stop", {"type": "content_block_stop", "index": 0})))
            usage = self.usage(ans)
            for key in ("cache_creation", "service_tier", "inference_geo"):
                usage.pop(key)
            delta = {
                "type": "message_delta",
                "delta": {
                    "stop_reason": self.finish_value(ans),
                    "stop_sequence": ans.stop_sequence,
                    "stop_details": None,
                },
                "usage": usage,
            }
            events.append(Event("tail", ev("message_delta", delta)))
        if plan.done:
            events.append(Event("done", ev("message_stop", {"type": "message_stop"})))
        return events

    def stream_error_body(self, ex: Exchange) -> list[Event]:
        data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return [Event("error", self.event("error", data))]

    def keepalive(self, ex: Exchange) -> list[bytes]:
        return [comment("keep-alive"), self.event("ping", {"type": "ping"})]
