"""OpenAI Chat Completions and the services that copy it.

Docs: https://platform.openai.com/docs/api-reference/chat/create (request, response and
chunk objects), https://platform.openai.com/docs/guides/error-codes (error bodies)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..answer import Answer, split_deltas
from ..core import (
    Event,
    SimResponse,
    alnum_id,
    created_from,
    dumps,
    dumps_pretty,
    get_path,
    json_type_name,
    sse,
)
from .base import Exchange, Family, StreamPlan, messages_conversation, reshape

# documented top-level fields of POST /v1/chat/completions
OPENAI_FIELDS = {
    "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias",
    "logprobs", "max_completion_tokens", "max_tokens", "metadata", "modalities", "n",
    "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key", "reasoning_effort",
    "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user",
    "verbosity", "web_search_options",
}  # fmt: skip

# fields compatible services document on top of OpenAI's (accepted for them, not for OpenAI)
COMPAT_FIELDS = {
    "top_k", "min_p", "repetition_penalty", "safe_prompt", "random_seed", "enable_thinking", "thinking",
    "reasoning", "search_domain_filter", "search_recency_filter", "return_images",
    "return_related_questions", "do_sample", "request_id", "transforms", "models", "route", "provider",
    "prompt_mode", "documents",
}  # fmt: skip

ROLES = ("system", "assistant", "user", "function", "tool", "developer")

#: OpenAI's words for JSON types in its "Invalid type" messages.
_TYPE_WORDS = {
    "number": "a decimal",
    "integer": "an integer",
    "boolean": "a boolean",
    "string": "a string",
    "array": "an array",
    "object": "an object",
}
_EXPECTED = {**_TYPE_WORDS, "stops": "one of a string or array of strings"}
_GOT = {**_TYPE_WORDS, "null": "null"}

_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
    "you're accessing the API from your browser and are prompted for a username. You can obtain an API key "
    "from https://platform.openai.com/account/api-keys."
)
_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)

# kind -> (status, type, code, message)
_ERRORS: dict[str, tuple[int, str, Any, str]] = {
    "invalid_request": (400, "invalid_request_error", None, "Invalid request: the simulator was asked to reject it."),
    "auth": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    "permission": (
        403,
        "request_forbidden",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    "not_found": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    "too_large": (
        413,
        "invalid_request_error",
        "request_too_large",
        "Request too large: the request body exceeds the maximum size.",
    ),
    "rate_limit": (
        429,
        "requests",
        "rate_limit_exceeded",
        (
            "Rate limit reached for {model} in organization org-simulator on requests per min (RPM): Limit 3, Used 3, "
            "Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more."
        ),
    ),
    "quota": (
        429,
        "insufficient_quota",
        "insufficient_quota",
        (
            "You exceeded your current quota, please check your plan and billing details. For more information on "
            "this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
        ),
    ),
    "server": (500, "server_error", None, "The server had an error while processing your request. Sorry about that!"),
    "bad_gateway": (502, "cf_bad_gateway", 502, "Bad gateway."),
    "overloaded": (503, "server_error", None, "The server is overloaded or not ready yet."),
    "gateway_timeout": (504, "cf_gateway_timeout", 504, "Gateway timeout."),
    "overloaded_529": (529, "server_error", None, "The server is overloaded or not ready yet."),
}


def _mask(key: str) -> str:
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


class OpenAIChat(Family):
    name = "openai-chat"
    json_type = "application/json"
    sse_type = "text/event-stream; charset=utf-8"
    stop_may_be_string = True
    finish_values: ClassVar[dict[str, str]] = {"natural": "stop", "length": "length", "stop_sequence": "stop"}

    # --- helpers -------------------------------------------------------------------------
    @staticmethod
    def is_openai(ex: Exchange) -> bool:
        """OpenAI itself (extra documented keys in its answers, strict field list)."""
        from ..contracts import split_url

        return split_url(str(ex.contract.get("url", "")))[0] == "api.openai.com"

    def wrap(self, ex: Exchange, obj: dict[str, Any]) -> dict[str, Any]:
        return {"data": obj} if "wrapped_in_data" in ex.quirks else obj

    # --- errors --------------------------------------------------------------------------
    def error(
        self, ex: Exchange, kind: str, status: int | None = None, message: str | None = None, **info: Any
    ) -> SimResponse:
        default_status, etype, code, default_message = _ERRORS[kind]
        override = {**self.documented_error(ex, kind), **self.profile_error_words(ex, kind)} if message is None else {}
        if override:
            etype = override.get("type", etype)
            code = override.get("code", code)
            default_message = override.get("message", default_message).replace("{", "{{").replace("}", "}}")
        key = ex.extra.get("api_key") or "sk-simulator-key"
        text = (
            message
            if message is not None
            else default_message.format(model=ex.model or ex.contract.get("model", ""), key=_mask(key))
        )
        status = status or default_status
        body = self.profile_error_body(ex, kind, status, text) or {
            "error": {
                "message": text,
                "type": info.get("type", etype),
                "param": info.get("param"),
                "code": info.get("code", code),
            }
        }
        headers = {"content-type": self.json_type, "x-request-id": "req_" + ex.seed[:32]}
        return SimResponse(status, headers, [dumps_pretty(body).encode("utf-8") + b"\n"])

    def missing_auth(self, ex: Exchange) -> SimResponse:
        auth = ex.contract.get("auth") or {}
        if str(auth.get("header", "")).lower() == "authorization":
            return self.error(ex, "auth", message=_MISSING_KEY, code=None)
        name = auth.get("header") or auth.get("query")
        return self.error(
            ex, "auth", message=f"Access denied: no valid API key was provided in {name}.", code="invalid_api_key"
        )

    def invalid_auth(self, ex: Exchange) -> SimResponse:
        if self.profile_error_words(ex, "auth"):  # the provider's own bad-key wording
            return self.error(ex, "auth")
        return self.missing_auth(ex)

    def missing_header(self, ex: Exchange, name: str) -> SimResponse:
        return self.error(
            ex, "invalid_request", message=f"Missing required header: '{name}'.", code="missing_required_header"
        )

    def invalid_header(self, ex: Exchange, name: str, value: str) -> SimResponse:
        return self.error(
            ex, "invalid_request", message=f"Invalid value for header '{name}': '{value}'.", code="invalid_value"
        )

    def not_found_url(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "not_found", message=f"Invalid URL ({ex.request.method} {ex.url_path})", code=None)

    def invalid_json(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "invalid_request", message=_BAD_JSON)

    def unknown_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"Unrecognized request argument supplied: {path}")

    def missing_field(self, ex: Exchange, path: str) -> SimResponse:
        if path == "model":
            return self.error(ex, "invalid_request", message="you must provide a model parameter")
        return self.error(
            ex,
            "invalid_request",
            message=f"Missing required parameter: '{path}'.",
            param=path,
            code="missing_required_parameter",
        )

    def wrong_type(self, ex: Exchange, path: str, kind: str, value: Any) -> SimResponse:
        got = _GOT.get(json_type_name(value), json_type_name(value))
        return self.error(
            ex,
            "invalid_request",
            message=f"Invalid type for '{path}': expected {_EXPECTED.get(kind, kind)}, but got {got} instead.",
            param=path,
            code="invalid_type",
        )

    # --- request -------------------------------------------------------------------------
    def known_fields(self, ex: Exchange) -> set[str]:
        extra = set(ex.behaviour.get("extra_request_fields") or ())  # a provider's own documented fields
        return (OPENAI_FIELDS if self.is_openai(ex) else OPENAI_FIELDS | COMPAT_FIELDS) | extra

    def typed_fields(self, ex: Exchange) -> dict[str, str]:
        return {
            "model": "string",
            "messages": "array",
            "temperature": "number",
            "top_p": "number",
            "max_tokens": "integer",
            "max_completion_tokens": "integer",
            "n": "integer",
            "seed": "integer",
            "presence_penalty": "number",
            "frequency_penalty": "number",
            "stream": "boolean",
            "stop": "stops",
            "stream_options": "object",
            "stream_options.include_usage": "boolean",
            "logprobs": "boolean",
            "top_logprobs": "integer",
            "user": "string",
            "tools": "array",
            "response_format": "object",
        }

    def validate_conversation(self, ex: Exchange) -> SimResponse | None:
        body = ex.body
        messages = body.get("messages")
        if messages is None:
            return self.missing_field(ex, "messages")
        if not messages:
            return self.error(
                ex,
                "invalid_request",
                message="Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param="messages",
                code="empty_array",
            )
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                return self.wrong_type(ex, where, "object", message)
            role = message.get("role")
            if role is None:
                return self.missing_field(ex, f"{where}.role")
            if role not in ROLES:
                supported = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
                return self.error(
                    ex,
                    "invalid_request",
                    message=f"Invalid value: '{role}'. Supported values are: {supported}.",
                    param=f"{where}.role",
                    code="invalid_value",
                )
            content = message.get("content", None)
            if "content" not in message and role in ("system", "developer", "user", "tool"):
                return self.missing_field(ex, f"{where}.content")
            if content is not None and not isinstance(content, (str, list)):
                return self.error(
                    ex,
                    "invalid_request",
                    message=f"Invalid type for '{where}.content': expected one of a string or array of objects, "
                    f"but got {_GOT.get(json_type_name(content), 'a value')} instead.",
                    param=f"{where}.content",
                    code="invalid_type",
                )
        stream_flag = ex.stream_spec.get("field") or "stream"
        if "stream_options" in body and body.get(stream_flag) is not True:
            return self.error(
                ex,
                "invalid_request",
                message="The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
            )
        return None

    def conversation(self, ex: Exchange) -> tuple[list[str], str]:
        return messages_conversation(ex.body)

    # --- answers -------------------------------------------------------------------------
    def ids(self, ex: Exchange) -> tuple[str, int, str]:
        return "chatcmpl-" + alnum_id(ex.seed, 29), created_from(ex.seed), "fp_" + ex.seed[-10:]

    @staticmethod
    def echoed_model(ex: Exchange) -> str:
        """The model id the answer names: a dated snapshot where the provider echoes one."""
        return str((ex.behaviour.get("model_echo") or {}).get(ex.model, ex.model))

    def finish_value(self, ans: Answer, ex: Exchange | None = None) -> str:
        natural = ex.behaviour.get("finish_reason_natural") if ex is not None and ex.stream else None
        if natural and ans.finish == "natural":
            return str(natural)
        return self.finish_values[ans.finish]

    def usage(self, ex: Exchange, ans: Answer, completion: int | None = None) -> dict[str, Any]:
        done = ans.completion_tokens if completion is None else completion
        usage: dict[str, Any] = {
            "prompt_tokens": ans.prompt_tokens,
            "completion_tokens": done,
            "total_tokens": ans.prompt_tokens + done,
        }
        if self.is_openai(ex):
            usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
            usage["completion_tokens_details"] = {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            }
        if ans.reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": ans.reasoning_tokens}
        return usage

    def complete(self, ex: Exchange, ans: Answer) -> SimResponse:
        cid, created, fingerprint = self.ids(ex)
        message: dict[str, Any] = {"role": "assistant", "content": ans.text}
        if ans.reasoning:
            message[str(ex.behaviour.get("reasoning_field") or "reasoning_content")] = ans.reasoning
        if self.is_openai(ex):
            message["refusal"] = None
            message["annotations"] = []
        body: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": self.echoed_model(ex),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_value(ans)}],
            "usage": self.usage(ex, ans),
        }
        if self.is_openai(ex):
            body["service_tier"] = "default"
        body["system_fingerprint"] = fingerprint
        if "x_groq" in str(ex.behaviour.get("stream_usage")):
            body["x_groq"] = {"id": "req_" + ex.seed[:26]}
        reshape(body, list(ex.behaviour.get("omit_keys") or []), dict(ex.behaviour.get("add_keys") or {}))
        body = self.wrap(ex, body)
        text = dumps_pretty(body) + "\n" if self.is_openai(ex) else dumps(body)
        headers = {"content-type": self.json_type, "x-request-id": "req_" + ex.seed[:32]}
        return SimResponse(200, headers, [text.encode("utf-8")])

    @staticmethod
    def usage_placement(ex: Exchange) -> set[str]:
        """Where this stream carries usage (empty: nowhere). The contract says whether usage is
        sent; the profile says where it goes, and may send it unasked or move it when asked."""
        b = ex.behaviour
        if not (ex.stream_usage or b.get("usage_unasked")):
            return set()
        asked = isinstance(ex.body, dict) and get_path(ex.body, "stream_options.include_usage") is True
        where = b.get("usage_when_asked") if asked and "usage_when_asked" in b else b.get("stream_usage")
        where = where or "separate_chunk"
        return set(where if isinstance(where, list) else [where])

    def stream_events(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[Event]:
        """The chunks of a stream, shaped by the provider's profile: what the first and the
        finish chunk carry, where usage goes, how the stream ends (see profiles.yaml)."""
        b = ex.behaviour
        cid, created, fingerprint = self.ids(ex)
        openai = self.is_openai(ex)
        eol = str(b.get("eol") or "\n")
        placement = self.usage_placement(ex)
        usage_null = bool(placement & {"separate_chunk", "finish_chunk"}) and ex.usage_mode[0] == "on_request"
        cumulative = bool(b.get("cumulative_message"))
        every_role = bool(b.get("role_every_chunk"))
        reasoning_field = str(b.get("reasoning_field") or "reasoning_content")
        parts = bool(b.get("content_parts"))
        model = self.echoed_model(ex)
        omitted = list(b.get("omit_keys") or [])
        added = dict(b.get("add_chunk_keys") or {})
        events: list[Event] = []
        so_far: list[str] = []

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": str(b.get("chunk_object") or "chat.completion.chunk"),
                "created": created,
                "model": model,
            }
            if openai:
                obj["service_tier"] = "default"
            obj["system_fingerprint"] = fingerprint
            obj["choices"] = choices
            if usage_null:
                obj["usage"] = None  # OpenAI sends "usage": null on every chunk when asked for usage
            if "every_chunk_cumulative" in placement and choices:
                obj["usage"] = self.usage(ex, ans, completion=len(so_far))
            obj.update(extra)
            reshape(obj, omitted, added)
            if openai:  # stream_options.include_obfuscation (default on): padding of varying length
                obj["obfuscation"] = alnum_id(ex.seed + str(len(events)), 4 + len(events) % 9)
            return sse(dumps(self.wrap(ex, obj)), eol=eol)

        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {"index": 0}
            if cumulative:
                out["message"] = {"role": "assistant", "content": "".join(so_far)}
            out.update({"delta": delta, "logprobs": None, "finish_reason": finish})
            return out

        def text(piece: str) -> Any:
            return [{"type": "text", "text": piece}] if parts else piece

        if b.get("prompt_filter_first_chunk"):
            events.append(Event("head", sse(dumps(_prompt_filter_chunk()), eol=eol)))
        deltas = list(ans.deltas)
        finish_text = deltas.pop() if b.get("finish_chunk_text") and deltas and plan.finish and not plan.error else None
        first: dict[str, Any] = dict(b.get("first_delta") or {"role": "assistant", "content": ""})
        if ans.reasoning:
            first = {"role": "assistant", "content": None, reasoning_field: ""}
        if openai:
            first["refusal"] = None
        extra = {"x_groq": {"id": "req_" + ex.seed[:26]}} if "x_groq" in placement else {}
        if b.get("first_chunk_text") and deltas and not ans.reasoning:
            so_far.append(deltas.pop(0))
            first["content"] = text(so_far[-1])
            events.append(Event("delta", chunk([choice(first)], **extra)))
        else:
            events.append(Event("head", chunk([choice(first)], **extra)))
        if ans.reasoning:
            for piece in split_deltas(ans.reasoning):
                events.append(Event("delta", chunk([choice({"content": None, reasoning_field: piece})])))
        for n, piece in enumerate(deltas):
            if plan.error and n == plan.error_after:
                return events + self.stream_error_body(ex)
            so_far.append(piece)
            delta: dict[str, Any] = {"role": "assistant"} if every_role else {}
            delta["content"] = text(piece)
            if ans.reasoning:
                delta[reasoning_field] = None
            events.append(Event("delta", chunk([choice(delta)])))
            if plan.empty_choices:
                events.append(Event("other", chunk([])))
        if plan.error:
            return events + self.stream_error_body(ex)
        if plan.finish:
            usage = self.usage(ex, ans)
            extra = {}
            if "finish_chunk" in placement or "every_chunk_cumulative" in placement:
                extra["usage"] = usage
            if "x_groq" in placement:
                timing = {"queue_time": 0.01, "prompt_time": 0.002, "completion_time": 0.05, "total_time": 0.052}
                extra["x_groq"] = {"id": "req_" + ex.seed[:26], "usage": {**usage, **timing}}
            finish_delta: dict[str, Any] = dict(b.get("finish_delta", {} if openai else {"content": ""}))
            if finish_text is not None:
                so_far.append(finish_text)
                finish_delta["content"] = text(finish_text)
            events.append(Event("tail", chunk([choice(finish_delta, self.finish_value(ans, ex))], **extra)))
            if "separate_chunk" in placement:
                events.append(Event("tail", chunk([], usage=usage)))
            if "usage_choice_chunk" in placement:
                last = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                events.append(Event("tail", chunk([last], usage=usage)))
        if plan.done and b.get("done_marker", "no_done_marker" not in ex.quirks):
            events.append(Event("done", sse("[DONE]", eol=eol)))
        return events

    def stream_error_body(self, ex: Exchange) -> list[Event]:
        """An error inside a 200 stream, in the provider's form (profile ``stream_error``)."""
        form = ex.behaviour.get("stream_error")
        eol = str(ex.behaviour.get("eol") or "\n")
        message = "The server had an error while processing your request. Sorry about that!"
        if form == "event_error":  # Groq: a named error event
            error = {"error": {"message": message, "type": "internal_server_error", "status_code": 500}}
            return [Event("error", sse(dumps(error), event="error", eol=eol))]
        if form == "chunk_error_finish_stop":  # OpenRouter: an error object on a chunk that says "stop"
            cid, created, _ = self.ids(ex)
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.echoed_model(ex),
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "stop"}],
                "error": {"message": "Provider returned error", "code": 502},
            }
            return [Event("error", sse(dumps(chunk), eol=eol))]
        error = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
        return [Event("error", sse(dumps(error), eol=eol))]


def _prompt_filter_chunk() -> dict[str, Any]:
    """Azure's first chunk: the prompt's content-filter verdict, with empty id and model."""
    safe = {"filtered": False, "severity": "safe"}
    verdict = {name: dict(safe) for name in ("hate", "self_harm", "sexual", "violence")}
    return {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": verdict}],
    }
