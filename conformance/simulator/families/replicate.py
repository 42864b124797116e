"""Replicate predictions for language models.

Docs: https://replicate.com/docs/reference/http#models.predictions.create (create a
prediction; ``Prefer: wait`` returns the finished prediction), https://replicate.com/docs/topics/predictions/streaming
(``urls.stream`` and its SSE events: ``output`` with plain-text data, ``error`` with JSON
``{"detail"}``, ``done`` with ``{}`` or ``{"reason"}``), errors are RFC 7807 problem
documents (``title``, ``detail``, ``status``).

The simulator is stateless: the prediction id is a token that encodes what is needed to
answer ``GET urls.get`` and ``GET urls.stream`` later (provider, reply, counts, model)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone
from typing import Any, ClassVar

from ..answer import Answer, full_reply
from ..core import Event, SimRequest, SimResponse, created_from, dumps, sse, text_of
from .base import Exchange, Family, StreamPlan

STREAM_HOST = "stream.replicate.com"
_GET_PATH = re.compile(r"/v1/(?P<what>files|predictions)/(?P<token>[a-z2-7]{8,})")

# kind -> (status, title, detail)
_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_request": (400, "Bad Request", "The request was rejected by the simulator."),
    "auth": (401, "Unauthenticated", "You did not pass a valid authentication token"),
    "permission": (403, "Forbidden", "You do not have permission to perform this action."),
    "not_found": (404, "Not found", "The requested resource could not be found."),
    "too_large": (413, "Request Entity Too Large", "The request body is too large."),
    "unprocessable": (422, "Input validation failed", "The input is not valid."),
    "rate_limit": (429, "Request was throttled.", "Request was throttled. Your rate limit resets in ~1s."),
    "quota": (
        429,
        "Insufficient credit",
        (
            "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to "
            "purchase credit. Once you purchase credit, please wait a few minutes before retrying."
        ),
    ),
    "server": (500, "Internal Server Error", "An unexpected error occurred."),
    "bad_gateway": (502, "Bad Gateway", "The upstream server returned an invalid response."),
    "overloaded": (503, "Service Unavailable", "The service is temporarily overloaded. Please try again later."),
    "gateway_timeout": (504, "Gateway Timeout", "The upstream server did not respond in time."),
    "overloaded_529": (529, "Service Unavailable", "The service is temporarily overloaded. Please try again later."),
}

_JSON_KIND = {"number": "number", "integer": "integer", "boolean": "boolean", "string": "string", "stops": "string"}


def encode_token(data: dict[str, Any]) -> str:
    """The prediction id: base32 of ``k.e.p.c.m`` (reply index, reply length, prompt
    tokens, contract id, model), lower-case like Replicate's ids."""
    raw = f"{data['k']}.{data['e']}.{data['p']}.{data['c']}.{data['m']}"
    return base64.b32encode(raw.encode("utf-8")).decode("ascii").rstrip("=").lower()


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode("utf-8")
        k, e, p, c, m = raw.split(".", 4)
        return {"k": int(k), "e": int(e), "p": int(p), "c": c, "m": m}
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Replicate(Family):
    name = "replicate"
    json_type = "application/json; charset=utf-8"  # as recorded (replicate__predictions_create_201.json)
    sse_type = "text/event-stream; charset=utf-8"  # as recorded (replicate__predictions_stream_sse.json)
    rejects_unknown_fields = False
    json_deltas = False
    stop_may_be_string = True
    two_step_stream = True
    # Replicate reports no finish reason; the prediction just succeeds
    finish_values: ClassVar[dict[str, str]] = {
        "natural": "succeeded",
        "length": "succeeded",
        "stop_sequence": "succeeded",
    }

    # --- extra routes: GET urls.get / urls.stream ---------------------------------------
    @staticmethod
    def match_get(
        contracts: dict[str, dict[str, Any]], request: SimRequest, host: str, path: str
    ) -> tuple[str, str, dict[str, Any]] | None:
        """(contract id, route kind, token data) for a GET of a prediction or its stream."""
        from ..contracts import split_url

        if request.method != "GET":
            return None
        m = _GET_PATH.fullmatch(path)
        if m is None:
            return None
        data = decode_token(m.group("token"))
        if not data or data.get("c") not in contracts:
            return None
        contract = contracts[data["c"]]
        if contract.get("family") != "replicate":
            return None
        api_host = split_url(str(contract.get("url", "")))[0]
        if m.group("what") == "files" and host in (STREAM_HOST, api_host):
            return data["c"], "stream_get", data
        if m.group("what") == "predictions" and host == api_host:
            return data["c"], "prediction_get", data
        return None

    # --- errors --------------------------------------------------------------------------
    def error(
        self, ex: Exchange, kind: str, status: int | None = None, message: str | None = None, **info: Any
    ) -> SimResponse:
        default_status, title, detail = _ERRORS[kind]
        override = self.documented_error(ex, kind) if message is None else {}
        title = override.get("type", title)
        message = override.get("message", message)
        status = status or default_status
        body: dict[str, Any] = {
            "title": info.get("title", title),
            "detail": message if message is not None else detail,
            "status": status,
        }
        if "invalid_fields" in info:
            body["invalid_fields"] = info["invalid_fields"]
        return SimResponse(status, {"content-type": "application/problem+json"}, [dumps(body).encode("utf-8")])

    def ok_error(self, ex: Exchange) -> SimResponse:
        """ok_error_body: Replicate reports a model failure inside a 200 prediction,
        ``status: "failed"`` with the message in ``error`` (HTTP API reference, prediction
        object); a problem+json body only comes with an error status."""
        body = {
            "id": ex.seed[:26],
            "model": ex.model,
            "input": {},
            "output": None,
            "error": "Prediction failed: the model raised an exception (CUDA out of memory)",
            "status": "failed",
        }
        return SimResponse(200, {"content-type": self.json_type}, [dumps(body).encode("utf-8")])

    def missing_auth(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "auth", message="You did not pass an authentication token")

    def invalid_json(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "invalid_request", message="The request body is not valid JSON.", title="Invalid JSON")

    def _invalid(self, ex: Exchange, field: str, kind: str, description: str) -> SimResponse:
        return self.error(
            ex,
            "unprocessable",
            message=f"- {field}: {description}\n",
            invalid_fields=[{"type": kind, "field": field, "description": description}],
        )

    def missing_field(self, ex: Exchange, path: str) -> SimResponse:
        field = path.removeprefix("input.")
        return self._invalid(ex, field, "required", f"{field} is required")

    def wrong_type(self, ex: Exchange, path: str, kind: str, value: Any) -> SimResponse:
        from ..core import json_type_name

        field = path.removeprefix("input.")
        expected = _JSON_KIND.get(kind, kind)
        return self._invalid(
            ex, field, "invalid_type", f"Invalid type. Expected: {expected}, given: {json_type_name(value)}"
        )

    # --- request -------------------------------------------------------------------------
    def typed_fields(self, ex: Exchange) -> dict[str, str]:
        return {
            "input": "object",
            "stream": "boolean",
            "webhook": "string",
            "input.prompt": "string",
            "input.system_prompt": "string",
        }

    def validate(self, ex: Exchange) -> SimResponse | None:
        response = super().validate(ex)
        if response is None and ex.route_kind == "url":
            ex.model = self.model_name(ex)
        return response

    def model_name(self, ex: Exchange) -> str:
        v = ex.url_vars
        if v.get("model"):
            return v["model"]
        if v.get("owner") and v.get("name"):
            return f"{v['owner']}/{v['name']}"
        return ex.model or str(ex.contract.get("model") or "")

    def validate_conversation(self, ex: Exchange) -> SimResponse | None:
        inputs = ex.body.get("input")
        if inputs is None:
            return self.missing_field(ex, "input")
        prompt = inputs.get("prompt")
        if prompt is None or prompt == "":
            return self.missing_field(ex, "input.prompt")
        return None

    def conversation(self, ex: Exchange) -> tuple[list[str], str]:
        inputs = ex.body.get("input") or {}
        texts = [text_of(inputs.get("system_prompt") or ""), text_of(inputs.get("prompt") or "")]
        return [t for t in texts if t], text_of(inputs.get("prompt") or "")

    def stops(self, ex: Exchange) -> list[str]:
        value = ex.param("stop")
        if isinstance(value, str):
            return [s for s in value.split(",") if s]
        if isinstance(value, list):
            return [s for s in value if isinstance(s, str) and s]
        return []

    # --- answers -------------------------------------------------------------------------
    def token(self, ex: Exchange, ans: Answer) -> str:
        if ex.extra.get("token"):
            return ex.extra["token"]
        return encode_token(
            {"c": ex.contract_id, "k": ans.code_index, "e": len(ans.text), "p": ans.prompt_tokens, "m": ex.model}
        )

    @staticmethod
    def answer_from_token(data: dict[str, Any]) -> Answer:
        text = full_reply(int(data.get("k", 0)))[: int(data.get("e", 0))]
        return Answer(
            text=text, finish="natural", prompt_tokens=int(data.get("p", 0)), code_index=int(data.get("k", 0))
        )

    def prediction(self, ex: Exchange, ans: Answer, *, done: bool) -> dict[str, Any]:
        from ..contracts import split_url

        pid = self.token(ex, ans)
        api_host = split_url(str(ex.contract.get("url", "")))[0] or "api.replicate.com"
        created = created_from(ex.seed)
        body: dict[str, Any] = {
            "id": pid,
            "model": ex.model,
            "version": "hidden",
            "input": (ex.body or {}).get("input", {}) if isinstance(ex.body, dict) else {},
            "logs": "",
            "output": list(ans.deltas) if done else None,
            "data_removed": False,
            "error": None,
            "status": "succeeded" if done else "starting",
            "created_at": _iso(created + 0.1234),
        }
        if done:
            n = ans.completion_tokens
            body["started_at"] = _iso(created + 0.2234)
            body["completed_at"] = _iso(created + 1.2234)
            body["metrics"] = {
                "input_token_count": ans.prompt_tokens,
                "output_token_count": n,
                "predict_time": 1.0,
                "time_to_first_token": 0.05,
                "tokens_per_second": float(n),
                "total_time": 1.1,
            }
        body["urls"] = {
            "cancel": f"https://{api_host}/v1/predictions/{pid}/cancel",
            "get": f"https://{api_host}/v1/predictions/{pid}",
            "stream": f"https://{STREAM_HOST}/v1/files/{pid}",
            "web": f"https://replicate.com/p/{pid}",
        }
        return body

    def complete(self, ex: Exchange, ans: Answer) -> SimResponse:
        """POST: with ``Prefer: wait`` the finished prediction, else a starting one (poll
        ``urls.get``). A GET of ``urls.get`` is always finished."""
        wait = "wait" in ex.request.headers.get("prefer", "").lower()
        done = ex.route_kind == "prediction_get" or wait
        status = 200 if ex.route_kind == "prediction_get" else 201
        body = self.prediction(ex, ans, done=done)
        return SimResponse(status, {"content-type": self.json_type}, [dumps(body).encode("utf-8")])

    def start_stream(self, ex: Exchange, ans: Answer) -> SimResponse:
        """POST with ``"stream": true``: the starting prediction whose ``urls.stream`` is read next."""
        body = self.prediction(ex, ans, done=False)
        body["stream"] = True  # a prediction created to stream says so (replicate__predictions_create_201.json)
        return SimResponse(201, {"content-type": self.json_type}, [dumps(body).encode("utf-8")])

    def stream_events(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[Event]:
        stamp = created_from(ex.seed)
        events: list[Event] = []
        for n, piece in enumerate(ans.deltas):
            if plan.error and n == plan.error_after:
                return events + self.stream_error_body(ex)
            events.append(Event("delta", sse(piece, event="output", id=f"{stamp}:{n}")))
        if plan.error:
            return events + self.stream_error_body(ex)
        # `done` is Replicate's finish and its end marker at once: only a stream without a
        # finish (stream_no_finish_no_done) lacks it
        if plan.finish:
            events.append(Event("done", sse("{}", event="done", id=f"{stamp}:{len(ans.deltas)}")))
        return events

    def stream_error_body(self, ex: Exchange) -> list[Event]:
        detail = {"detail": "Prediction failed: the model raised an error while generating output."}
        return [
            Event("error", sse(dumps(detail), event="error")),
            Event("done", sse(dumps({"reason": "error"}), event="done")),
        ]
