"""Replicate predictions for language models: one ``input`` object with a flat
``prompt`` (and ``system_prompt``), since Replicate's chat models take text, not a
message list. Earlier turns are written into the prompt as a transcript.

Streaming is two-step and described in the manifest (``stream.start_url``): the
prediction is created with ``"stream": true`` and its ``urls.stream`` is then read
as SSE with ``output`` (plain text), ``error`` and ``done`` events."""

from __future__ import annotations

from typing import Any

from ..paths import PathConflict
from ..types import Message, MessageRole
from .base import Codec


class ReplicateCodec(Codec):
    family = "replicate"

    def encode_messages(self, messages: list[Message], body: dict[str, Any]) -> None:
        system = [m.content for m in messages if m.role is MessageRole.SYSTEM]
        turns = [m for m in messages if m.role is not MessageRole.SYSTEM]
        inputs = body.setdefault("input", {})
        if not isinstance(inputs, dict):
            raise PathConflict(f"'input' already holds a {type(inputs).__name__}")
        if len(turns) == 1:
            inputs["prompt"] = turns[0].content
        else:
            names = {MessageRole.USER: "User", MessageRole.ASSISTANT: "Assistant"}
            transcript = [f"{names[m.role]}: {m.content}" for m in turns]
            inputs["prompt"] = "\n\n".join(transcript) + "\n\nAssistant:"
        if system:
            inputs["system_prompt"] = "\n\n".join(system)
