"""What every wire family shares: the request context, the validation walk and the hooks a
family fills in (error bodies, conversation layout, answer and stream shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..answer import Answer
from ..core import MISSING, Event, SimRequest, SimResponse, get_path, is_int, is_number, json_type_name, text_of

# kinds of the four chat parameters the contracts map with `fields`
PARAM_KINDS = {"temperature": "number", "top_p": "number", "max_tokens": "integer", "stop": "stops"}


@dataclass
class Exchange:
    """One request being answered, with what the simulator found out about it."""

    request: SimRequest
    contract_id: str
    contract: dict[str, Any]
    route_kind: str
    url_vars: dict[str, str]
    fault: str | None
    seed: str
    body: Any = None
    stream: bool = False
    model: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def quirks(self) -> set[str]:
        return set(self.contract.get("quirks") or [])

    @property
    def behaviour(self) -> dict[str, Any]:
        """The provider's profile quirks that apply to this request's model (profiles.yaml;
        a contract given in code may carry its own ``profile`` entry instead)."""
        from ..profiles import parse_profiles, profile_for

        inline = self.contract.get("profile")
        if isinstance(inline, dict):
            profile = parse_profiles({self.contract_id: inline}, "inline profile")[self.contract_id]
        else:
            profile = profile_for(self.contract_id)
        return profile.for_model(self.model)

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.contract.get("fields") or {})

    def param(self, name: str) -> Any:
        """A chat parameter's value at the contract's path, or MISSING."""
        path = self.fields.get(name)
        if path is None or not isinstance(self.body, dict):
            return MISSING
        return get_path(self.body, path)

    @property
    def stream_spec(self) -> dict[str, Any]:
        spec = self.contract.get("stream")
        return spec if isinstance(spec, dict) else {}

    @property
    def usage_mode(self) -> tuple[str, str | None]:
        """("always" | "never" | "on_request", path of the flag for on_request)."""
        usage = str(self.stream_spec.get("usage", "always"))
        if usage.startswith("on_request"):
            _, _, path = usage.partition(":")
            return "on_request", path.strip() or None
        return (usage if usage in ("always", "never") else "always"), None

    @property
    def stream_usage(self) -> bool:
        """Whether this stream reports usage at all."""
        mode, path = self.usage_mode
        if mode == "never":
            return False
        if mode == "on_request":
            return bool(path) and isinstance(self.body, dict) and get_path(self.body, path) is True
        return True

    @property
    def url_path(self) -> str:
        from ..contracts import split_url

        return split_url(self.request.url)[1]


@dataclass
class StreamPlan:
    """How the family should render a stream (normal unless a fault says otherwise)."""

    finish: bool = True
    done: bool = True
    error: bool = False
    error_after: int = 3
    empty_choices: bool = False


class Family:
    """Base class of the family simulators."""

    name = ""
    json_type = "application/json"
    sse_type = "text/event-stream; charset=utf-8"
    rejects_unknown_fields = True
    json_deltas = True  # False when delta events carry plain text (Replicate)
    stop_may_be_string = False
    finish_values: ClassVar[dict[str, str]] = {"natural": "stop", "length": "length", "stop_sequence": "stop"}

    # --- hooks every family fills in --------------------------------------------------
    def error(
        self, ex: Exchange, kind: str, status: int | None = None, message: str | None = None, **info: Any
    ) -> SimResponse:
        raise NotImplementedError

    def known_fields(self, ex: Exchange) -> set[str]:
        return set()

    def typed_fields(self, ex: Exchange) -> dict[str, str]:
        """Dotted body path -> kind (number, integer, boolean, string, stops, array, object)."""
        return {}

    def conversation(self, ex: Exchange) -> tuple[list[str], str]:
        """(every text the prompt holds, incl. system; the last user message's text)."""
        raise NotImplementedError

    def complete(self, ex: Exchange, ans: Answer) -> SimResponse:
        raise NotImplementedError

    def stream_events(self, ex: Exchange, ans: Answer, plan: StreamPlan) -> list[Event]:
        raise NotImplementedError

    # --- error descriptions (each family says them its own way) --------------------------
    @staticmethod
    def documented_error(ex: Exchange, kind: str) -> dict[str, str]:
        """A provider's own wording for an error kind, from the optional contract key
        ``errors: {<kind>: {message, type, code}}`` (e.g. ``quota`` for a service whose
        billing error differs from its family's)."""
        errors = ex.contract.get("errors")
        spec = errors.get(kind) if isinstance(errors, dict) else None
        return {k: str(v) for k, v in spec.items() if v is not None} if isinstance(spec, dict) else {}

    def missing_auth(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "auth", message="missing credentials")

    def invalid_auth(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "auth")

    def missing_header(self, ex: Exchange, name: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{name}: header is required")

    def invalid_header(self, ex: Exchange, name: str, value: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{name}: invalid header value {value!r}")

    def not_found_url(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "not_found", message=f"Invalid URL ({ex.request.method} {ex.url_path})")

    def invalid_json(self, ex: Exchange) -> SimResponse:
        return self.error(ex, "invalid_request", message="the request body is not valid JSON")

    def unknown_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"unknown field: {path}")

    def missing_field(self, ex: Exchange, path: str) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{path} is required")

    def wrong_type(self, ex: Exchange, path: str, kind: str, value: Any) -> SimResponse:
        return self.error(ex, "invalid_request", message=f"{path} must be of type {kind}, got {json_type_name(value)}")

    def fault_error(self, ex: Exchange, status: int, kind: str) -> SimResponse:
        if kind == "auth" and ex.behaviour.get("bad_key_status"):  # e.g. Gemini: 400 API_KEY_INVALID
            return self.invalid_auth(ex)
        response = self.error(ex, kind, status=status)
        if ex.fault == "error_429":
            response.headers["retry-after"] = "1"
        else:
            response.headers.pop("retry-after", None)
        if kind == "rate_limit":
            response.headers.update(ex.behaviour.get("rate_limit_headers") or {})
        return response

    def ok_error(self, ex: Exchange) -> SimResponse:
        """ok_error_body: the family's error object for a server failure, sent with 200."""
        response = self.error(ex, "server", status=200)
        response.headers.pop("retry-after", None)
        return response

    @staticmethod
    def profile_error_body(
        ex: Exchange, kind: str, status: int, message: str, *, etype: str | None = None, code: Any = None
    ) -> Any:
        """The provider's own error body for ``kind`` from its profile's ``error_body``
        templates, or None for the family's. ``{message}`` and ``{status}`` are filled in;
        ``{type}`` and ``{code}`` take the family's type and code for the kind, and a key
        whose value is ``{code}`` is left out when that code is not a string (a provider
        whose spec types the code as a string never sends null or a number there)."""
        templates = ex.behaviour.get("error_body") or {}
        template = templates.get(kind, templates.get("*"))
        if template is None:
            return None

        def fill(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items() if v != "{code}" or isinstance(code, str)}
            if value == "{status}":
                return status
            if value == "{code}":
                return code
            if isinstance(value, str):
                return value.replace("{message}", message).replace("{type}", etype or "")
            return value

        return fill(template)

    @staticmethod
    def profile_error_words(ex: Exchange, kind: str) -> dict[str, str]:
        """The provider's own message/type/code for an error kind (profile ``error_messages``)."""
        words = (ex.behaviour.get("error_messages") or {}).get(kind)
        return {k: str(v) for k, v in words.items()} if isinstance(words, dict) else {}

    def stream_error_body(self, ex: Exchange) -> list[Event]:
        raise NotImplementedError

    def keepalive(self, ex: Exchange) -> list[bytes]:
        """The comment a busy provider sends between events: its profile's
        ``keepalive_comment`` (null: it never sends one), else the family's ``: keep-alive``."""
        from ..core import comment

        b = ex.behaviour
        eol = str(b.get("eol") or getattr(self, "eol", "\n"))
        if "keepalive_comment" not in b:
            return [comment("keep-alive", eol=eol)]
        text = b["keepalive_comment"]
        return [f"{text}{eol}{eol}".encode()] if text else []

    # --- shared walk ----------------------------------------------------------------------
    def finish_value(self, ans: Answer) -> str:
        return self.finish_values[ans.finish]

    def check_type(self, kind: str, value: Any) -> bool:
        if kind == "number":
            return is_number(value)
        if kind == "integer":
            return is_int(value)
        if kind == "boolean":
            return isinstance(value, bool)
        if kind == "string":
            return isinstance(value, str)
        if kind == "array":
            return isinstance(value, list)
        if kind == "object":
            return isinstance(value, dict)
        if kind == "stops":
            if isinstance(value, str):
                return self.stop_may_be_string
            return isinstance(value, list) and all(isinstance(s, str) for s in value)
        return True

    def contract_typed_fields(self, ex: Exchange) -> dict[str, str]:
        out = {}
        for name, path in ex.fields.items():
            if name in PARAM_KINDS and path:
                out[str(path)] = PARAM_KINDS[name]
        spec = ex.stream_spec
        if spec.get("field"):
            out[str(spec["field"])] = "boolean"
        mode, path = ex.usage_mode
        if mode == "on_request" and path:
            out[path] = "boolean"
        return out

    def contract_top_fields(self, ex: Exchange) -> set[str]:
        """Top-level body names the contract itself uses (parameter paths, stream flag,
        usage flag, model field): these are never 'unknown'."""
        names = {str(p).split(".")[0] for p in ex.fields.values() if p}
        spec = ex.stream_spec
        if spec.get("field"):
            names.add(str(spec["field"]).split(".")[0])
        _, path = ex.usage_mode
        if path:
            names.add(path.split(".")[0])
        if ex.contract.get("model_in", "body") == "body":
            names.add(str(ex.contract.get("model_field") or "model").split(".")[0])
        return names

    def model_field(self, ex: Exchange) -> str | None:
        if ex.contract.get("model_in", "body") != "body":
            return None
        return str(ex.contract.get("model_field") or "model")

    def validate(self, ex: Exchange) -> SimResponse | None:
        body = ex.body
        if not isinstance(body, dict):
            return self.invalid_json(ex)
        if self.rejects_unknown_fields:
            known = self.known_fields(ex) | self.contract_top_fields(ex)
            for name in body:
                if name not in known:
                    return self.unknown_field(ex, name)
        model_path = self.model_field(ex)
        if model_path is not None:
            model = get_path(body, model_path)
            if model is MISSING or model is None or model == "":
                return self.missing_field(ex, model_path)
            if not isinstance(model, str):
                return self.wrong_type(ex, model_path, "string", model)
            ex.model = model
        else:
            ex.model = ex.url_vars.get("model") or str(ex.contract.get("model") or "")
        typed = {**self.typed_fields(ex), **self.contract_typed_fields(ex)}
        for path, kind in typed.items():
            value = get_path(body, path)
            if value is MISSING or value is None:
                continue
            if not self.check_type(kind, value):
                return self.wrong_type(ex, path, kind, value)
        for name in ex.contract.get("required") or []:
            path = ex.fields.get(name, name)
            if get_path(body, path) in (MISSING, None):
                return self.missing_field(ex, path)
        return self.validate_conversation(ex)

    def validate_conversation(self, ex: Exchange) -> SimResponse | None:
        return None

    def is_stream(self, ex: Exchange) -> bool:
        if ex.route_kind == "stream_url":
            return True
        flag = ex.stream_spec.get("field")
        return bool(flag) and isinstance(ex.body, dict) and get_path(ex.body, str(flag)) is True

    def stops(self, ex: Exchange) -> list[str]:
        value = ex.param("stop")
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [s for s in value if isinstance(s, str)]
        return []

    def max_tokens(self, ex: Exchange) -> int | None:
        value = ex.param("max_tokens")
        return value if is_int(value) else None


def _parents(obj: Any, parts: list[str]) -> list[dict[str, Any]]:
    """The objects at a dotted path's parent; a list on the way stands for each element."""
    found = [obj]
    for part in parts:
        nxt: list[Any] = []
        for item in found:
            items = item if isinstance(item, list) else [item]
            nxt.extend(i[part] for i in items if isinstance(i, dict) and part in i)
        found = nxt
    out: list[dict[str, Any]] = []
    for item in found:
        out.extend(i for i in (item if isinstance(item, list) else [item]) if isinstance(i, dict))
    return out


def reshape(obj: dict[str, Any], omit: list[str], add: dict[str, Any]) -> dict[str, Any]:
    """A provider's own answer shape (profile ``omit_keys`` / ``add_keys``): keys its answers
    never hold are removed, keys they hold on top of the family's are added where their parent
    exists and does not hold them already. An added value ``"{name}"`` is the parent's own ``name`` (e.g. a choice's
    ``finish_reason``, a usage's ``prompt_tokens``)."""
    for path in omit:
        *parent, name = path.split(".")
        for holder in _parents(obj, parent):
            holder.pop(name, None)
    for path, value in add.items():
        *parent, name = path.split(".")
        for holder in _parents(obj, parent):
            if name in holder:
                continue
            if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
                holder[name] = holder.get(value[1:-1])
            else:
                holder[name] = value
    return obj


def messages_conversation(body: dict[str, Any]) -> tuple[list[str], str]:
    """(every text of an OpenAI-shaped ``messages`` list, the last user message's text):
    the conversation reader of the families whose requests carry ``messages`` turns."""
    texts, last_user = [], ""
    for message in body.get("messages") or []:
        text = text_of(message.get("content"))
        texts.append(text)
        if message.get("role") == "user":
            last_user = text
    return texts, last_user
