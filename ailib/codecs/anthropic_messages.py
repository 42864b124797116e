"""Anthropic Messages: the system prompt is a top-level ``system`` field, not a
message, and the conversation holds only ``user`` and ``assistant`` turns.

Tools are ``{name, description, input_schema}``; the model's calls are ``tool_use`` content
blocks (``id``, ``name``, ``input`` object) and a tool's result goes back as a ``tool_result``
block in a user turn (results of parallel calls in one turn). There is no response-format
field: structured output is a forced call of a tool whose input schema is the wanted schema
(https://docs.anthropic.com/en/docs/build-with-claude/tool-use, "JSON mode")."""

from __future__ import annotations

from typing import Any

from ..errors import ParameterError
from ..tools import anthropic_piece
from ..types import ChatResponse, Message, MessageRole, ResponseFormat, Tool
from .base import Codec


class AnthropicMessagesCodec(Codec):
    family = "anthropic-messages"
    tool_piece = staticmethod(anthropic_piece)

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        system = [m.content for m in messages if m.role is MessageRole.SYSTEM]
        if system:
            body["system"] = "\n\n".join(system)
        roles = self._roles
        turns: list[dict[str, Any]] = []
        for m in messages:
            if m.role is MessageRole.SYSTEM:
                continue
            if m.role is MessageRole.TOOL:
                block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
                last = turns[-1] if turns else None
                if last is not None and last.get("_results"):  # parallel results: one user turn
                    last["content"].append(block)
                else:
                    turns.append({"role": roles[MessageRole.USER], "content": [block], "_results": True})
            elif m.tool_calls:
                blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
                blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
                turns.append({"role": roles[m.role], "content": blocks})
            else:
                turns.append({"role": roles[m.role], "content": m.content})
        for turn in turns:
            turn.pop("_results", None)
        body["messages"] = turns

    def encode_tool_list(self, tools: list[Tool], body: dict[str, Any]) -> None:
        body["tools"] = [_tool(t.name, t.description, t.parameters) for t in tools]

    def encode_tool_choice(self, value: Any, choice: str, body: dict[str, Any]) -> None:
        body["tool_choice"] = {"type": "tool", "name": choice} if value is True else value

    def encode_response_format(self, wanted: ResponseFormat, body: dict[str, Any]) -> None:
        assert wanted.json_schema is not None  # JSON mode without a schema is refused by the manifest
        if "tool_choice" in body:
            raise ParameterError(
                f"{self.provider}: structured output is a forced tool call, so it cannot be combined with tool_choice",
                provider=self.provider,
            )
        tools = body.setdefault("tools", [])
        if any(t.get("name") == wanted.name for t in tools):
            raise ParameterError(
                f"{self.provider}: response_format name {wanted.name!r} is also a tool's name", provider=self.provider
            )
        tools.append(_tool(wanted.name, "Answer with this JSON structure.", wanted.json_schema))
        body["tool_choice"] = {"type": "tool", "name": wanted.name}

    def structured(self, response: ChatResponse, wanted: ResponseFormat) -> None:
        """The answer is the input of the forced call; that call is not one of the caller's tools."""
        for call in response.tool_calls:
            if call.name == wanted.name:
                response.parsed = call.arguments
                response.tool_calls = [c for c in response.tool_calls if c is not call]
                return
        super().structured(response, wanted)


def _tool(name: str, description: str, schema: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if description:
        out["description"] = description
    out["input_schema"] = dict(schema)
    return out
