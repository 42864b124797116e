"""Cohere Chat v2 (``POST /v2/chat``): the conversation is OpenAI-shaped (system
prompts are ``role: system`` messages); parameter names (``p``, ``stop_sequences``)
and the response/stream shapes differ and live in the manifest.

Tools and tool calls have the OpenAI shape (``tools[].function``, ``message.tool_calls``,
``role: tool`` messages with ``tool_call_id``); ``tool_choice`` takes ``REQUIRED`` or ``NONE``
(the manifest's words); structured output is ``response_format: {"type": "json_object",
"json_schema": ...}`` (https://docs.cohere.com/reference/chat, request body)."""

from __future__ import annotations

from typing import Any

from ..types import Message, MessageRole, ResponseFormat
from .openai_chat import OpenAIChatCodec


class CohereV2Codec(OpenAIChatCodec):
    family = "cohere-v2"

    def tool_turn(self, message: Message) -> dict[str, Any]:
        turn = super().tool_turn(message)
        if message.role is not MessageRole.TOOL and turn["content"] is None:
            del turn["content"]  # an assistant turn with tool calls only: no content field
        return turn

    def encode_response_format(self, wanted: ResponseFormat, body: dict[str, Any]) -> None:
        response_format: dict[str, Any] = {"type": "json_object"}
        if wanted.json_schema is not None:
            response_format["json_schema"] = dict(wanted.json_schema)
        body["response_format"] = response_format
