"""Gemini's protos as JSON Schema: just enough of proto3 for the chat messages.

The Gemini REST API is the proto3 JSON mapping of ``google.ai.generativelanguage.v1beta``:
field names in lowerCamelCase, enums as their names (or numbers), 64-bit integers as
strings or numbers, ``google.protobuf.Struct`` as any object. No protoc is available here,
so this reads the ``.proto`` files directly: messages (nested too), enums, ``oneof``,
``repeated``, ``map<,>`` and the ``REQUIRED`` field behaviour. Everything else (options,
services, reserved ranges) is skipped.

Google's JSON error envelope ``{"error": {code, message, status, details}}`` is not defined
in any proto (``../shared/specs/README.md``); :func:`gemini_schemas` builds it from
``google.rpc.Status`` plus ``status``, the name of a ``google.rpc.Code``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?|[{}\[\]();=<>,]')
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "bytes": {"type": "string"},
    "bool": {"type": "boolean"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "int32": {"type": "integer"},
    "uint32": {"type": "integer"},
    "sint32": {"type": "integer"},
    "fixed32": {"type": "integer"},
    "sfixed32": {"type": "integer"},
    "int64": {"type": ["integer", "string"]},
    "uint64": {"type": ["integer", "string"]},
    "sint64": {"type": ["integer", "string"]},
    "fixed64": {"type": ["integer", "string"]},
    "sfixed64": {"type": ["integer", "string"]},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Any": {"type": "object"},
    "google.protobuf.Duration": {"type": "string"},
    "google.protobuf.Timestamp": {"type": "string"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object"},
    "google.type.Date": {"type": "object"},
}


def camel(name: str) -> str:
    """proto3 JSON name of a field: ``max_output_tokens`` -> ``maxOutputTokens``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _TOKEN.findall(_COMMENT.sub("", text))
        self.pos = 0
        self.package = ""
        self.messages: dict[str, list[dict[str, Any]]] = {}  # full name -> fields
        self.enums: dict[str, list[tuple[str, int]]] = {}

    def next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def skip_statement(self) -> None:
        depth = 0
        while self.pos < len(self.tokens):
            token = self.next()
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth <= 0:
                    return
            elif token == ";" and depth == 0:
                return

    def parse(self) -> None:
        while self.pos < len(self.tokens):
            token = self.peek()
            if token == "package":
                self.next()
                self.package = self.next()
                self.next()
            elif token == "message":
                self.next()
                self.message(self.package)
            elif token == "enum":
                self.next()
                self.enum(self.package)
            else:
                self.skip_statement()

    def message(self, scope: str) -> None:
        name = f"{scope}.{self.next()}"
        self.next()  # {
        fields: list[dict[str, Any]] = []
        self.messages[name] = fields
        while self.peek() != "}":
            token = self.peek()
            if token == "message":
                self.next()
                self.message(name)
            elif token == "enum":
                self.next()
                self.enum(name)
            elif token == "oneof":
                self.next()
                self.next()  # oneof name
                self.next()  # {
                while self.peek() != "}":
                    if self.peek() == "option":
                        self.skip_statement()
                    else:
                        fields.append(self.field(name))
                self.next()
            elif token in ("option", "reserved", "extensions"):
                self.skip_statement()
            elif token == ";":
                self.next()
            else:
                fields.append(self.field(name))
        self.next()  # }

    def field(self, scope: str) -> dict[str, Any]:
        label = None
        if self.peek() in ("repeated", "optional"):
            label = self.next()
        kind = self.next()
        key = value = None
        if kind == "map":
            self.next()  # <
            key = self.next()
            self.next()  # ,
            value = self.next()
            self.next()  # >
        name = self.next()
        self.next()  # =
        self.next()  # number
        required = False
        if self.peek() == "[":
            start = self.pos
            while self.next() != "]":
                pass
            required = "REQUIRED" in self.tokens[start : self.pos]
        self.next()  # ;
        return {
            "name": name,
            "type": value if kind == "map" else kind,
            "map": key is not None,
            "repeated": label == "repeated",
            "required": required,
            "scope": scope,
        }

    def enum(self, scope: str) -> None:
        name = f"{scope}.{self.next()}"
        self.next()  # {
        values: list[tuple[str, int]] = []
        while self.peek() != "}":
            token = self.next()
            if token in ("option", "reserved"):
                self.pos -= 1
                self.skip_statement()
                continue
            if self.peek() == "=":
                self.next()
                number = int(self.next())
                if self.peek() == "[":
                    while self.next() != "]":
                        pass
                values.append((token, number))
            if self.peek() == ";":
                self.next()
        self.next()
        self.enums[name] = values


def _resolve(kind: str, scope: str, known: set[str]) -> str | None:
    """Full name of ``kind`` seen from ``scope`` (innermost scope first, as protoc does)."""
    parts = scope.split(".")
    while parts:
        candidate = ".".join([*parts, kind])
        if candidate in known:
            return candidate
        parts.pop()
    return kind if kind in known else None


def parse_protos(files: list[Path]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[tuple[str, int]]]]:
    messages: dict[str, list[dict[str, Any]]] = {}
    enums: dict[str, list[tuple[str, int]]] = {}
    for path in files:
        parser = _Parser(path.read_text(encoding="utf-8"))
        parser.parse()
        messages.update(parser.messages)
        enums.update(parser.enums)
    return messages, enums


def gemini_schemas(root: Path) -> dict[str, Any]:
    """``{"$defs": {<short name>: schema}}`` for the v1beta generative service, read from
    ``root`` (the ``specs/gemini`` directory holding ``google/...``)."""
    v1beta = root / "google" / "ai" / "generativelanguage" / "v1beta"
    rpc = root / "google" / "rpc"
    files = sorted(v1beta.glob("*.proto")) + [p for p in (rpc / "status.proto", rpc / "code.proto") if p.is_file()]
    messages, enums = parse_protos(files)
    known = set(messages) | set(enums)
    defs: dict[str, Any] = {}

    def short(full: str) -> str:
        for prefix in ("google.ai.generativelanguage.v1beta.", "google.rpc."):
            if full.startswith(prefix):
                return full[len(prefix) :]
        return full

    for full, values in enums.items():
        names = [n for n, _ in values]
        defs[short(full)] = {"anyOf": [{"enum": names}, {"enum": [v for _, v in values]}]}
    for full, fields in messages.items():
        props: dict[str, Any] = {}
        required: list[str] = []
        for f in fields:
            kind = f["type"]
            if kind in _SCALARS:
                schema = dict(_SCALARS[kind])
            else:
                target = _resolve(kind, f["scope"], known)
                schema = {"$ref": f"#/$defs/{short(target)}"} if target else {}
            if f["map"]:
                schema = {"type": "object", "additionalProperties": schema}
            elif f["repeated"]:
                schema = {"type": "array", "items": schema}
            props[camel(f["name"])] = schema
            if f["required"]:
                required.append(camel(f["name"]))
        defs[short(full)] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            defs[short(full)]["required"] = required
    # The model is a path parameter of generateContent: the body need not repeat it.
    request = defs.get("GenerateContentRequest")
    if request and "model" in request.get("required", []):
        request["required"] = [r for r in request["required"] if r != "model"]
    status = dict(defs.get("Status") or {"type": "object", "properties": {}})
    status = {**status, "properties": {**status.get("properties", {}), "status": {"$ref": "#/$defs/Code"}}}
    status["additionalProperties"] = False
    defs["ErrorStatus"] = status
    defs["ErrorEnvelope"] = {
        "type": "object",
        "properties": {"error": {"$ref": "#/$defs/ErrorStatus"}},
        "required": ["error"],
        "additionalProperties": False,
    }
    return {"$defs": defs}
