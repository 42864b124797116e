"""OpenAI Chat Completions and the many services that copy it: ``messages`` with a
``role`` and a string ``content``; system prompts are messages too.

Tools are ``{"type": "function", "function": {name, description, parameters}}``; the model's
calls come back in ``message.tool_calls`` with ``arguments`` as a JSON string, and a tool's
result is a ``{"role": "tool", "tool_call_id", "content"}`` message
(https://platform.openai.com/docs/api-reference/chat/create; ``ChatCompletionTool``,
``ChatCompletionMessageToolCall``, ``ChatCompletionRequestToolMessage`` in the OpenAPI spec)."""

from __future__ import annotations

from typing import Any

from ..tools import OpenAIToolCalls, openai_piece
from ..types import Message, MessageRole, ResponseFormat, Tool
from .base import Codec


class OpenAIChatCodec(Codec):
    family = "openai-chat"
    tool_piece = staticmethod(openai_piece)
    tool_calls = OpenAIToolCalls

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        roles = self._roles
        body["messages"] = [
            {"role": roles[m.role], "content": m.content}
            if not m.tool_calls and m.role is not MessageRole.TOOL
            else self.tool_turn(m)
            for m in messages
        ]

    def tool_turn(self, message: Message) -> dict[str, Any]:
        if message.role is MessageRole.TOOL:
            return {
                "role": self._roles[MessageRole.TOOL],
                "tool_call_id": message.tool_call_id,
                "content": message.content,
            }
        calls: list[dict[str, Any]] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw_arguments}}
            for c in message.tool_calls
        ]
        if self.manifest.tools.call_index:  # the calls carry their position (tools.call_index)
            calls = [{"index": i, **call} for i, call in enumerate(calls)]
        return {
            "role": self._roles[message.role],
            # OpenAI: content "is required unless tool_calls ... is specified"; null then
            "content": message.content or None,
            "tool_calls": calls,
        }

    def encode_tool_list(self, tools: list[Tool], body: dict[str, Any]) -> None:
        body["tools"] = [{"type": "function", "function": _function(t)} for t in tools]

    def encode_tool_choice(self, value: Any, choice: str, body: dict[str, Any]) -> None:
        if value is True:  # a tool's name
            body["tool_choice"] = {"type": "function", "function": {"name": choice}}
        elif value is not None:
            body["tool_choice"] = value

    def encode_response_format(self, wanted: ResponseFormat, body: dict[str, Any]) -> None:
        if wanted.json_schema is None:
            body["response_format"] = {"type": "json_object"}
        else:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": wanted.name, "schema": dict(wanted.json_schema), "strict": wanted.strict},
            }


def _function(tool: Tool) -> dict[str, Any]:
    """A tool as a JSON Schema function declaration (name, description if any, parameters)."""
    out: dict[str, Any] = {"name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["parameters"] = dict(tool.parameters)
    return out
