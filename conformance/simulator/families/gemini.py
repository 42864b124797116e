"""Google Gemini ``generateContent`` / ``streamGenerateContent``.

Docs: https://ai.google.dev/api/generate-content (request, GenerateContentResponse,
``alt=sse`` streaming), https://ai.google.dev/gemini-api/docs/troubleshooting (error
statuses). Google's JSON parser accepts both lowerCamelCase and snake_case field names and
rejects unknown ones ("Unknown name ... Cannot find field")."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ..answer import Answer
from ..core import Event, SimResponse, alnum_id, dumps, dumps_pretty, dumps_spaced, sse, text_of
from .base import Exchange, Family, StreamPlan

TOP_FIELDS = {
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "model",
}
GENERATION_FIELDS = {
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
    "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
    "thinkingConfig", "imageConfig", "mediaResolution",
}  # fmt: skip

_PROTO_TYPE = {
    "number": "TYPE_FLOAT",
    "integer": "TYPE_INT32",
    "boolean": "TYPE_BOOL",
    "string": "TYPE_STRING",
    "stops": "TYPE_STRING",
}

# kind -> (status, rpc status, message)
_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_request": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "auth": (
        401,
        "UNAUTHENTICATED",
        (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
            "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
        ),
    ),
    "permission": (403, "PERMISSION_DENIED", "The caller does not have permission"),
    "not_found": (
        404,
        "NOT_FOUND",
        (
            "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call "
            "ListModels to see the list of available models and their supported methods."
        ),
    ),
    "too_large": (413, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 20971520 bytes."),
    "rate_limit": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "quota": (
        429,
        "RESOURCE_EXHAUSTED",
        (
            "Your project has exceeded its monthly spending cap. Please go to AI Studio at https://ai.studio/spend to "
            "manage your project spend cap."
        ),
    ),
    "server": (
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    "bad_gateway": (502, "INTERNAL", "Bad Gateway"),
    "overloaded": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "gateway_timeout": (504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
    "overloaded_529": (529, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _pick(obj: dict[str, Any], name: str) -> Any:
    """A field by its camelCase or snake_case name."""
    if name in obj:
        return obj[name]
    return obj.get(snake(name))


class Gemini(Family):
    name = "gemini"
    json_type = "application/json; charset=UTF-8"
    sse_type = "text/event-stream"
    finish_values: ClassVar[dict[str, str]] = {"natural": "STOP", "length": "MAX_TOKENS", "stop_sequence": "STOP"}
    eol = "\r\n"

    def error(
        self, ex: Exchange, kind: str, status: int | None = None, message: str | None = None, **info: Any
    ) -> SimResponse:
        default_status, rpc, default_message = _ERRORS[kind]
        override = self.documented_error(ex, kind) if message is None else {}
        rpc = override.get("type", rpc)
        message = override.get("message", message)
        status = status or default_status
        text = (
            message if message is not None else default_message.format(model=ex.model or ex.contract.get("model", ""))
        )
        error: dict[str, Any] = {"code": status, "message": text, "status": info.get("rpc", rpc)}
        details = info.get("details")
        if details is None and kind == "rate_limit":
            details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]
        if details is None and kind == "quota":
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [
                        {"description": "Gemini API billing", "url": "https://ai.google.dev/gemini-api/docs/billing"}
                    ],
                }
            ]
        if details:
            error["details"] = details
        content_type = self.json_type
        if ex.route_kind == "stream_url":  # a JSON error body on the stream URL, labelled as its stream
            content_type = str(ex.behaviour.get("stream_error_content_type") or content_type)
        return SimResponse(
            status, {"content-type": content_type}, [(dumps_pretty({"error": error}) + "\n").encode("utf-8")]
        )

    def missing_auth(self, ex: Exchange) -> SimResponse:
        return self.error(
            ex,
            "permission",
            message="Method doesn't allow unregistered callers (callers without established identity). Please use "
            "API Key or other form of API consumer identity to call this API.",
        )

    def invalid_auth(self, ex: Exchange) -> SimResponse:
        return self.error(
            ex,
            "invalid_request",
            message="API key not valid. Please pass a valid API key.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )

    def not_found_url(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "not_found", message="Method not found.")

    def invalid_json(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "invalid_request", message="Invalid JSON payload received. Unexpected token.")

    def unknown_field(self, ex: Exchange, path: str) -> SimResponse:
        parent, _, name = path.rpartition(".")
        where = f" at '{snake(parent)}'" if parent else ""
        return self.error(
            ex,
            "invalid_request",
            message=f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.',
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {
                            "field": snake(parent) if parent else "",
                            "description": f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.',
                        }
                    ],
                }
            ],
        )

    def missing_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(
            ex,
            "invalid_request",
            message=f"* GenerateContentRequest.{snake(path)}: {snake(path.split('.')[-1])} is required\n",
        )

    def wrong_type(self, ex: Exchange, path: str, kind: str, value: Any) -> SimResponse:
        shown = value if isinstance(value, str) else dumps(value)
        proto = _PROTO_TYPE.get(kind, "TYPE_MESSAGE")
        where = ".".join(snake(p) for p in path.split("."))
        return self.error(ex, "invalid_request", message=f"Invalid value at '{where}' ({proto}), \"{shown}\"")

    def known_fields(self, ex: Exchange) -> set[str]:
        return TOP_FIELDS | {snake(n) for n in TOP_FIELDS}

    def typed_fields(self, ex: Exchange) -> dict[str, str]:
        out = {"contents": "array", "systemInstruction": "object", "generationConfig": "object"}
        gc = {
            "temperature": "number",
            "topP": "number",
            "topK": "integer",
            "maxOutputTokens": "integer",
            "candidateCount": "integer",
            "seed": "integer",
            "presencePenalty": "number",
            "frequencyPenalty": "number",
            "stopSequences": "stops",
        }
        config = (
            "generation_config" if isinstance(ex.body, dict) and "generation_config" in ex.body else "generationConfig"
        )
        for name, kind in gc.items():
            out[f"{config}.{name}"] = kind
            out[f"{config}.{snake(name)}"] = kind
        return out

    def validate_conversation(self, ex: Exchange) -> SimResponse | None:
        body = ex.body
        config = _pick(body, "generationConfig")
        if isinstance(config, dict):
            known = GENERATION_FIELDS | {snake(n) for n in GENERATION_FIELDS}
            for name in config:
                if name not in known:
                    return self.unknown_field(ex, f"generationConfig.{name}")
        contents = _pick(body, "contents")
        if not contents:
            return self.error(
                ex, "invalid_request", message="* GenerateContentRequest.contents: contents is not specified\n"
            )
        for i, content in enumerate(contents):
            if not isinstance(content, dict):
                return self.wrong_type(ex, f"contents.{i}", "object", content)
            role = content.get("role")
            if role not in (None, "", "user", "model"):
                return self.error(ex, "invalid_request", message="Please use a valid role: user, model.")
            parts = content.get("parts")
            if not isinstance(parts, list) or not parts:
                return self.error(
                    ex,
                    "invalid_request",
                    message=f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n",
                )
        system = _pick(body, "systemInstruction")
        if system is not None and not (isinstance(system, dict) and isinstance(system.get("parts"), list)):
            return self.error(
                ex,
                "invalid_request",
                message="* GenerateContentRequest.system_instruction.parts: parts must be a list\n",
            )
        return None

    def conversation(self, ex: Exchange) -> tuple[list[str], str]:
        body = ex.body
        texts = []
        system = _pick(body, "systemInstruction")
        if isinstance(system, dict):
            texts.extend(text_of(p) for p in system.get("parts") or [])
        last_user = ""
        for content in _pick(body, "contents") or []:
            text = "\n".join(text_of(p) for p in content.get("parts") or [])
            texts.append(text)
            if content.get("role") in (None, "", "user"):
                last_user = text
        return texts, last_user

    def response_id(self, ex: Exchange) -> str:
        return alnum_id(ex.seed, 22)

    def usage(self, ans: Answer, final: bool = True, thoughts: int = 0) -> dict[str, Any]:
        """usageMetadata; thinking models (Gemini 2.5) add thoughtsTokenCount, which counts
        in totalTokenCount but not in candidatesTokenCount."""
        usage: dict[str, Any] = {"promptTokenCount": ans.prompt_tokens}
        if final:
            usage["candidatesTokenCount"] = ans.completion_tokens
            usage["totalTokenCount"] = ans.total_tokens + thoughts
        else:
            usage["totalTokenCount"] = ans.prompt_tokens + thoughts
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": ans.prompt_tokens}]
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return usage

    @staticmethod
    def thoughts(ex: Exchange, ans: Answer) -> int:
        """Tokens a thinking model spent before answering (a fixed share of the prompt)."""
        return 3 * ans.prompt_tokens + 7 if ex.behaviour.get("thoughts_token_count") else 0

    def complete(self, ex: Exchange, ans: Answer) -> SimResponse:
        body = {
            "candidates": [
                {
                    "content": {"parts": [{"text": ans.text}], "role": "model"},
                    "finishReason": self.finish_value(ans),
                    "index": 0,
                }
            ],
            "usageMetadata": self.usage(ans, thoughts=self.thoughts(ex, ans)),
            "modelVersion": ex.model,
            "responseId": self.response_id(ex),
        }
        return SimResponse(200, {"content-type": self.json_type}, [(dumps_pretty(body) + "\n").encode("utf-8")])

    def chunks(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[tuple[str, dict[str, Any]]]:
        """(kind, GenerateContentResponse) per stream event."""
        out: list[tuple[str, dict[str, Any]]] = []
        last = len(ans.deltas) - 1
        for n, piece in enumerate(ans.deltas):
            if plan.error and n == plan.error_after:
                return [*out, ("error", self.stream_error_obj())]
            candidate: dict[str, Any] = {"content": {"parts": [{"text": piece}], "role": "model"}}
            final = n == last and plan.finish
            if final:
                candidate["finishReason"] = self.finish_value(ans)
                candidate["index"] = 0
            obj: dict[str, Any] = {"candidates": [candidate]}
            if ex.stream_usage:
                obj["usageMetadata"] = self.usage(ans, final=final, thoughts=self.thoughts(ex, ans))
            obj["modelVersion"] = ex.model
            obj["responseId"] = self.response_id(ex)
            out.append(("delta", obj))
            if plan.empty_choices and not final:
                extra = {
                    "usageMetadata": self.usage(ans, final=False, thoughts=self.thoughts(ex, ans)),
                    "modelVersion": ex.model,
                    "responseId": self.response_id(ex),
                }
                out.append(("other", extra))
        if plan.error:
            out.append(("error", self.stream_error_obj()))
        elif not ans.deltas and plan.finish:  # nothing generated (e.g. max_tokens 0): one event with the finish
            obj = {
                "candidates": [
                    {
                        "content": {"parts": [{"text": ""}], "role": "model"},
                        "finishReason": self.finish_value(ans),
                        "index": 0,
                    }
                ],
                "usageMetadata": self.usage(ans, thoughts=self.thoughts(ex, ans)),
                "modelVersion": ex.model,
                "responseId": self.response_id(ex),
            }
            out.append(("tail", obj))
        return out

    def stream_events(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[Event]:
        if ex.extra.get("json_array"):
            return self.json_array_events(ex, ans)
        return [Event(kind, sse(dumps_spaced(obj), eol=self.eol)) for kind, obj in self.chunks(ex, ans, plan)]

    def json_array_events(self, ex: Exchange, ans: Answer) -> list[Event]:
        """streamGenerateContent without ``alt=sse``: one JSON array, written element by element."""
        objs = [obj for _, obj in self.chunks(ex, ans, StreamPlan())]
        events = []
        for n, obj in enumerate(objs):
            text = ("[" if n == 0 else "\n,\r\n") + dumps_pretty(obj)
            events.append(Event("delta", text.encode("utf-8")))
        events.append(Event("done", b"]"))
        return events

    def stream_error_obj(self) -> dict[str, Any]:
        return {"error": {"code": 500, "message": _ERRORS["server"][2], "status": "INTERNAL"}}

    def stream_error_body(self, ex: Exchange) -> list[Event]:
        return [Event("error", sse(dumps_spaced(self.stream_error_obj()), eol=self.eol))]
