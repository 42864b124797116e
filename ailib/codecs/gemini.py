"""Google Gemini ``generateContent``: turns are ``contents`` of ``parts`` with roles
``user`` and ``model``; the system prompt is ``systemInstruction``; the model is in
the URL, and streaming is a different method (``streamGenerateContent?alt=sse``).

Tools are ``tools: [{functionDeclarations: [...]}]``; ``tool_choice`` is
``toolConfig.functionCallingConfig`` (``mode`` AUTO / NONE / ANY, ``allowedFunctionNames``
to force one); the model's calls are ``functionCall`` parts (``name``, ``args`` object, whole,
never fragments) and results go back as ``functionResponse`` parts, which name the function
(``FunctionResponse.name`` is required, ``id`` optional). Structured output is
``generationConfig.responseMimeType`` + ``responseJsonSchema`` (content.proto, generative_service.proto
``GenerationConfig`` in googleapis ``google/ai/generativelanguage/v1beta``).

Schemas travel as JSON Schema, unchanged: ``FunctionDeclaration.parameters_json_schema`` (JSON
``parametersJsonSchema``) and ``GenerationConfig.responseJsonSchema`` take a
``google.protobuf.Value`` in JSON Schema form (content.proto, generative_service.proto). The older
``parameters`` / ``responseSchema`` take the proto's ``Schema`` message, whose ``type`` is the
``Type`` enum (``OBJECT``, ``STRING``, ...), not JSON Schema's lowercase names."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ManifestError, ParameterError
from ..tools import gemini_piece
from ..types import Message, MessageRole, ResponseFormat, Tool, ToolCall
from .base import Codec


class GeminiCodec(Codec):
    family = "gemini"
    tool_piece = staticmethod(gemini_piece)
    tool_ids_required = False

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        system = [m.content for m in messages if m.role is MessageRole.SYSTEM]
        roles = self._roles
        contents: list[dict[str, Any]] = []
        calls: tuple[ToolCall, ...] = ()  # the last model turn's calls, which tool messages answer
        answered = 0
        for m in messages:
            if m.role is MessageRole.SYSTEM:
                continue
            if m.role is MessageRole.TOOL:
                part = {"functionResponse": self._function_response(m, calls, answered)}
                answered += 1
                last = contents[-1] if contents else None
                if last is not None and last["parts"] and "functionResponse" in last["parts"][-1]:
                    last["parts"].append(part)  # results of parallel calls: one turn
                else:
                    contents.append({"role": roles[MessageRole.USER], "parts": [part]})
                continue
            parts: list[dict[str, Any]] = [{"text": m.content}] if m.content or not m.tool_calls else []
            for call in m.tool_calls:
                function: dict[str, Any] = {"name": call.name, "args": call.arguments}
                if call.id:
                    function["id"] = call.id
                parts.append({"functionCall": function})
            if m.tool_calls:
                calls, answered = m.tool_calls, 0
            contents.append({"role": roles[m.role], "parts": parts})
        body["contents"] = contents
        if system:
            body["systemInstruction"] = {"parts": [{"text": text} for text in system]}

    def _function_response(self, message: Message, calls: tuple[ToolCall, ...], answered: int) -> dict[str, Any]:
        """Gemini names the function a result is for; calls often have no id, so a result
        answers the call with its id, else the call at its position after the model's turn."""
        call = next((c for c in calls if message.tool_call_id and c.id == message.tool_call_id), None)
        if call is None and message.tool_call_id is None and answered < len(calls):
            call = calls[answered]
        if call is None:
            raise ParameterError(
                f"{self.provider}: tool result {message.tool_call_id!r} answers no tool call of the "
                "assistant turn before it (Gemini needs the function's name)",
                provider=self.provider,
            )
        try:
            value = json.loads(message.content)
        except ValueError:
            value = message.content
        out: dict[str, Any] = {"name": call.name, "response": value if isinstance(value, dict) else {"result": value}}
        if call.id:
            out["id"] = call.id
        return out

    def encode_tool_list(self, tools: list[Tool], body: dict[str, Any]) -> None:
        declarations = []
        for t in tools:
            declaration: dict[str, Any] = {"name": t.name}
            if t.description:
                declaration["description"] = t.description
            declaration["parametersJsonSchema"] = dict(t.parameters)
            declarations.append(declaration)
        body["tools"] = [{"functionDeclarations": declarations}]

    def encode_tool_choice(self, value: Any, choice: str, body: dict[str, Any]) -> None:
        if value is True:  # a tool's name: a call is required, limited to that function
            mode = self.manifest.tools.choice.get("required")
            if mode is None:
                raise ManifestError(
                    self.manifest.file, "$.tools.choice", "named: true needs the `required` word (Gemini mode ANY)"
                )
            config: dict[str, Any] = {"mode": mode, "allowedFunctionNames": [choice]}
        else:
            config = {"mode": value}
        body["toolConfig"] = {"functionCallingConfig": config}

    def encode_response_format(self, wanted: ResponseFormat, body: dict[str, Any]) -> None:
        config = body.setdefault("generationConfig", {})
        config["responseMimeType"] = "application/json"
        if wanted.json_schema is not None:
            config["responseJsonSchema"] = dict(wanted.json_schema)
