"""Cohere Chat v2 (``POST /v2/chat``): the conversation is OpenAI-shaped (system
prompts are ``role: system`` messages); parameter names (``p``, ``stop_sequences``)
and the response/stream shapes differ and live in the manifest."""

from __future__ import annotations

from .openai_chat import OpenAIChatCodec


class CohereV2Codec(OpenAIChatCodec):
    family = "cohere-v2"
