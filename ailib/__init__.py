"""ailib: one chat API over 37 LLM providers, driven by provider manifests.

>>> client = await AiClient.create("openai/gpt-4o")
>>> response = await client.chat().user("Hello").execute()

Everything a caller touches is importable from here: the client, the request builder and
the stream it opens, messages, tools, the response and its usage and stats, the streaming
event and its payloads, the retry policy and every error class. The submodules are the
implementation; their names may change between releases.
"""

from __future__ import annotations

from .chat import ChatRequestBuilder, ChatStream
from .client import AiClient
from .errors import (
    AiLibError,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    ManifestError,
    NotFoundError,
    OutputJSONError,
    OverloadedError,
    ParameterError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitedError,
    RedirectError,
    RequestCancelledError,
    RequestTimeoutError,
    RequestTooLargeError,
    ResponseTooLargeError,
    ServerError,
    StreamProtocolError,
    ToolArgumentsError,
    UnknownError,
    UnsupportedError,
)
from .transport import RetryPolicy
from .types import (
    CallStats,
    ChatResponse,
    ContentDelta,
    Finish,
    Message,
    MessageRole,
    ResponseFormat,
    StreamingEvent,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "AiClient",
    "AiLibError",
    "AuthenticationError",
    "CallStats",
    "ChatRequestBuilder",
    "ChatResponse",
    "ChatStream",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ContentDelta",
    "Finish",
    "InvalidRequestError",
    "ManifestError",
    "Message",
    "MessageRole",
    "NotFoundError",
    "OutputJSONError",
    "OverloadedError",
    "ParameterError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RedirectError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "ResponseFormat",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "StreamProtocolError",
    "StreamingEvent",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "ToolCallDelta",
    "UnknownError",
    "UnsupportedError",
    "Usage",
    "__version__",
]
