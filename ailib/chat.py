"""The fluent chat builder: collect a request, then one terminal call.

The builder is a value: it collects messages, parameters, tools, a tool choice and a
response format, refusing wrong types at the setter that received them. Its terminal
calls hand the collected :class:`~ailib.codecs.base.ChatRequest` to the client's
:class:`~ailib.session.ChatSession`, which builds, sends and reads it:
``execute()`` / ``execute_with_stats()`` send one request and parse one JSON body;
``stream()`` returns a :class:`ChatStream`, an async iterator of
:class:`~ailib.types.StreamingEvent`. Parameters are checked against the provider's
manifest before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from .codecs.base import ChatRequest, check_type
from .errors import AiLibError, ParameterError
from .session import ChatStream
from .types import CallStats, ChatResponse, Message, ResponseFormat, Tool

if TYPE_CHECKING:
    from .session import ChatSession


class ChatRequestBuilder:
    """Returned by :meth:`AiClient.chat`. Each setter returns the builder."""

    def __init__(self, session: ChatSession) -> None:
        self._session = session
        self._provider = session.provider
        self._messages: list[Message] = []
        self._parameters: dict[str, Any] = {}
        self._tools: list[Tool] = []
        self._tool_choice: str | None = None
        self._response_format: ResponseFormat | None = None

    # --- conversation ---------------------------------------------------------------
    # Wrong types are refused here, at the builder call, not when the request is built.
    def system(self, text: str) -> ChatRequestBuilder:
        self._messages.append(Message.system(self._text("system", text)))
        return self

    def user(self, text: str) -> ChatRequestBuilder:
        self._messages.append(Message.user(self._text("user", text)))
        return self

    def assistant(self, text: str) -> ChatRequestBuilder:
        self._messages.append(Message.assistant(self._text("assistant", text)))
        return self

    def messages(self, messages: Sequence[Message]) -> ChatRequestBuilder:
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            raise ParameterError(
                f"messages() takes a list of Message objects, got {type(messages).__name__}",
                provider=self._provider,
            )
        for message in messages:
            if not isinstance(message, Message):
                raise ParameterError(
                    f"messages() takes Message objects (Message.user(...)), got {type(message).__name__}",
                    provider=self._provider,
                )
            self._text(message.role.value, message.content)
        self._messages.extend(messages)
        return self

    def _text(self, role: str, text: object) -> str:
        if not isinstance(text, str):
            raise ParameterError(
                f"{role} message text must be a string, got {type(text).__name__}", provider=self._provider
            )
        return text

    # --- parameters -----------------------------------------------------------------
    def temperature(self, value: float) -> ChatRequestBuilder:
        self._parameters["temperature"] = check_type(self._provider, "temperature", value)
        return self

    def max_tokens(self, value: int) -> ChatRequestBuilder:
        self._parameters["max_tokens"] = check_type(self._provider, "max_tokens", value)
        return self

    def top_p(self, value: float) -> ChatRequestBuilder:
        self._parameters["top_p"] = check_type(self._provider, "top_p", value)
        return self

    def stop(self, sequences: Sequence[str]) -> ChatRequestBuilder:
        self._parameters["stop"] = check_type(self._provider, "stop", sequences)
        return self

    # --- tools and structured output --------------------------------------------------
    def tools(self, tools: Sequence[Tool]) -> ChatRequestBuilder:
        """Functions the model may call; its calls come back in ``response.tool_calls``."""
        tools = list(tools)
        for tool in tools:
            if not isinstance(tool, Tool):
                raise ParameterError(f"tools takes Tool objects, got {tool!r:.80}", provider=self._provider)
        self._tools = tools
        return self

    def tool_choice(self, choice: str) -> ChatRequestBuilder:
        """``"auto"``, ``"none"``, ``"required"`` (some tool must be called) or a tool's name."""
        self._tool_choice = choice
        return self

    def response_format(
        self, *, json_schema: dict[str, Any], name: str = "response", strict: bool = True
    ) -> ChatRequestBuilder:
        """Ask for an answer that follows ``json_schema``; ``response.parsed`` holds it parsed."""
        if not isinstance(json_schema, dict):
            raise ParameterError("json_schema must be a JSON Schema object (a dict)", provider=self._provider)
        if not isinstance(name, str) or not name:
            raise ParameterError("response_format name must be a non-empty string", provider=self._provider)
        try:
            json.dumps(json_schema, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ParameterError(f"json_schema is not JSON data: {exc}", provider=self._provider) from None
        self._response_format = ResponseFormat(json_schema, name, bool(strict))
        return self

    def json_mode(self) -> ChatRequestBuilder:
        """Ask for a JSON object answer without a schema; ``response.parsed`` holds it parsed."""
        self._response_format = ResponseFormat(None)
        return self

    # --- the request value and the terminal calls -----------------------------------------
    def _request(self) -> ChatRequest:
        """What was collected so far, as a value of its own (later setter calls do not change it)."""
        return ChatRequest(
            list(self._messages), dict(self._parameters), list(self._tools), self._tool_choice, self._response_format
        )

    def build(self, *, stream: bool = False) -> httpx.Request:
        """The HTTP request this builder would send (auth applied). Sends nothing."""
        return self._session.build(self._request(), stream=stream)

    async def execute(self) -> ChatResponse:
        response, _ = await self._session.execute_with_stats(self._request())
        return response

    async def execute_with_stats(self) -> tuple[ChatResponse, CallStats]:
        return await self._session.execute_with_stats(self._request())

    def stream(self) -> ChatStream:
        return self._session.stream(self._request())


__all__ = ["AiLibError", "ChatRequestBuilder", "ChatStream"]
