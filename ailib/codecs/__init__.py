"""One codec per wire family. A manifest names its family; nothing here names a provider."""

from __future__ import annotations

from .anthropic_messages import AnthropicMessagesCodec
from .base import ChatRequest, Codec
from .cohere_v2 import CohereV2Codec
from .gemini import GeminiCodec
from .openai_chat import OpenAIChatCodec
from .replicate import ReplicateCodec

CODECS: dict[str, type[Codec]] = {
    "openai-chat": OpenAIChatCodec,
    "anthropic-messages": AnthropicMessagesCodec,
    "gemini": GeminiCodec,
    "cohere-v2": CohereV2Codec,
    "replicate": ReplicateCodec,
}

__all__ = ["CODECS", "ChatRequest", "Codec"]
