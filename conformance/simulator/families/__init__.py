"""One simulator per wire family, keyed by the contracts' ``family`` value."""

from __future__ import annotations

from .anthropic_messages import AnthropicMessages
from .base import Exchange, Family, StreamPlan
from .cohere_v2 import CohereV2
from .gemini import Gemini
from .openai_chat import OpenAIChat
from .replicate import Replicate

FAMILIES: dict[str, Family] = {
    family.name: family for family in (OpenAIChat(), AnthropicMessages(), Gemini(), CohereV2(), Replicate())
}
# spellings used elsewhere for the same wire formats
FAMILIES["openai-compatible"] = FAMILIES["openai-chat"]
FAMILIES["cohere"] = FAMILIES["cohere-v2"]

__all__ = ["FAMILIES", "Exchange", "Family", "StreamPlan"]
