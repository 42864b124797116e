"""Anthropic Messages: the system prompt is a top-level ``system`` field, not a
message, and the conversation holds only ``user`` and ``assistant`` turns."""

from __future__ import annotations

from typing import Any

from ..types import Message, MessageRole
from .base import Codec


class AnthropicMessagesCodec(Codec):
    family = "anthropic-messages"

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        system = [m.content for m in messages if m.role is MessageRole.SYSTEM]
        if system:
            body["system"] = "\n\n".join(system)
        roles = self._roles
        body["messages"] = [
            {"role": roles[m.role], "content": m.content} for m in messages if m.role is not MessageRole.SYSTEM
        ]
