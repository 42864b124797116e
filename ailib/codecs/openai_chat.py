"""OpenAI Chat Completions and the many services that copy it: ``messages`` with a
``role`` and a string ``content``; system prompts are messages too."""

from __future__ import annotations

from typing import Any

from ..types import Message
from .base import Codec


class OpenAIChatCodec(Codec):
    family = "openai-chat"

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        roles = self._roles
        body["messages"] = [{"role": roles[m.role], "content": m.content} for m in messages]
