"""Google Gemini ``generateContent``: turns are ``contents`` of ``parts`` with roles
``user`` and ``model``; the system prompt is ``systemInstruction``; the model is in
the URL, and streaming is a different method (``streamGenerateContent?alt=sse``)."""

from __future__ import annotations

from typing import Any

from ..types import Message, MessageRole
from .base import Codec


class GeminiCodec(Codec):
    family = "gemini"

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        system = [m.content for m in messages if m.role is MessageRole.SYSTEM]
        roles = self._roles
        body["contents"] = [
            {"role": roles[m.role], "parts": [{"text": m.content}]}
            for m in messages
            if m.role is not MessageRole.SYSTEM
        ]
        if system:
            body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
