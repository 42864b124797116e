"""ailib: one chat API over 37 LLM providers, driven by provider manifests.

>>> client = await AiClient.create("openai/gpt-4o")
>>> response = await client.chat().user("Hello").execute()
"""

from __future__ import annotations

from .client import AiClient
from .errors import AiLibError, ManifestError
from .transport import RetryPolicy
from .types import CallStats, ChatResponse, Message, MessageRole, StreamingEvent, Tool, ToolCall, ToolCallDelta, Usage

__version__ = "0.1.0"

__all__ = [
    "AiClient",
    "AiLibError",
    "CallStats",
    "ChatResponse",
    "ManifestError",
    "Message",
    "MessageRole",
    "RetryPolicy",
    "StreamingEvent",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "__version__",
]
