"""The fluent chat builder: collect messages and parameters, then one terminal call.

``execute()`` / ``execute_with_stats()`` send one request and parse one JSON body;
``stream()`` returns an async iterator of :class:`~ailib.types.StreamingEvent`.
Parameters are checked against the provider's manifest before anything is sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from .codecs.base import ChatRequest, check_type
from .errors import AiLibError, ParameterError, RedirectError, RequestTimeoutError, StreamProtocolError
from .types import CallStats, ChatResponse, Message, ResponseFormat, StreamingEvent, Tool

if TYPE_CHECKING:
    from .client import AiClient


class ChatRequestBuilder:
    """Returned by :meth:`AiClient.chat`. Each setter returns the builder."""

    def __init__(self, client: AiClient) -> None:
        self._client = client
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
                provider=self._client.provider,
            )
        for message in messages:
            if not isinstance(message, Message):
                raise ParameterError(
                    f"messages() takes Message objects (Message.user(...)), got {type(message).__name__}",
                    provider=self._client.provider,
                )
            self._text(message.role.value, message.content)
        self._messages.extend(messages)
        return self

    def _text(self, role: str, text: object) -> str:
        if not isinstance(text, str):
            raise ParameterError(
                f"{role} message text must be a string, got {type(text).__name__}", provider=self._client.provider
            )
        return text

    # --- parameters -----------------------------------------------------------------
    def temperature(self, value: float) -> ChatRequestBuilder:
        self._parameters["temperature"] = check_type(self._client.provider, "temperature", value)
        return self

    def max_tokens(self, value: int) -> ChatRequestBuilder:
        self._parameters["max_tokens"] = check_type(self._client.provider, "max_tokens", value)
        return self

    def top_p(self, value: float) -> ChatRequestBuilder:
        self._parameters["top_p"] = check_type(self._client.provider, "top_p", value)
        return self

    def stop(self, sequences: Sequence[str]) -> ChatRequestBuilder:
        self._parameters["stop"] = check_type(self._client.provider, "stop", sequences)
        return self

    # --- tools and structured output --------------------------------------------------
    def tools(self, tools: Sequence[Tool]) -> ChatRequestBuilder:
        """Functions the model may call; its calls come back in ``response.tool_calls``."""
        tools = list(tools)
        for tool in tools:
            if not isinstance(tool, Tool):
                raise ParameterError(f"tools takes Tool objects, got {tool!r:.80}", provider=self._client.provider)
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
            raise ParameterError("json_schema must be a JSON Schema object (a dict)", provider=self._client.provider)
        if not isinstance(name, str) or not name:
            raise ParameterError("response_format name must be a non-empty string", provider=self._client.provider)
        try:
            json.dumps(json_schema, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ParameterError(f"json_schema is not JSON data: {exc}", provider=self._client.provider) from None
        self._response_format = ResponseFormat(json_schema, name, bool(strict))
        return self

    def json_mode(self) -> ChatRequestBuilder:
        """Ask for a JSON object answer without a schema; ``response.parsed`` holds it parsed."""
        self._response_format = ResponseFormat(None)
        return self

    # --- terminal calls -------------------------------------------------------------
    def build(self, *, stream: bool = False) -> httpx.Request:
        """The HTTP request this builder would send (auth applied). Sends nothing."""
        return self._client._transport.build(*self._parts(stream))

    def _parts(self, stream: bool) -> tuple[str, str, dict[str, str], dict[str, str], Any]:
        codec = self._client._codec
        request = ChatRequest(
            list(self._messages), dict(self._parameters), list(self._tools), self._tool_choice, self._response_format
        )
        body = codec.body(request, stream)
        url, query = codec.url(stream)
        return "POST", url, query, codec.headers(stream), body

    async def execute(self) -> ChatResponse:
        response, _ = await self.execute_with_stats()
        return response

    async def execute_with_stats(self) -> tuple[ChatResponse, CallStats]:
        client = self._client
        parts = self._parts(False)
        started = time.perf_counter()
        http_response, raw = await client._transport.fetch(*parts)
        try:
            data = client._loads(raw)
        except ValueError:
            snippet = client._codec.redact(raw.decode("utf-8", errors="replace"))[:80]
            raise StreamProtocolError(
                f"response is not JSON: {snippet!r}", provider=client.provider, status_code=http_response.status_code
            ) from None
        response = client._codec.parse_response(data)
        if self._response_format is not None:
            client._codec.structured(response, self._response_format)
        elapsed = (time.perf_counter() - started) * 1000
        usage = response.usage
        stats = CallStats(
            provider=client.provider,
            model=client.model,
            latency_ms=elapsed,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            reasoning_tokens=usage.reasoning_tokens,
        )
        return response, stats

    def stream(self) -> ChatStream:
        if not self._client._codec.manifest.capability("streaming").supported:
            from .errors import UnsupportedError

            reason = self._client._codec.manifest.capability("streaming").reason
            raise UnsupportedError(
                f"{self._client.provider} does not support streaming: {reason}", provider=self._client.provider
            )
        return ChatStream(self._client, self._parts(True))


class ChatStream:
    """Async iterator of stream events; :attr:`stats` is filled in when it ends."""

    def __init__(self, client: AiClient, parts: tuple[str, str, dict[str, str], dict[str, str], Any]) -> None:
        self._client = client
        self._parts = parts
        self.stats: CallStats | None = None

    def __aiter__(self) -> AsyncIterator[StreamingEvent]:
        return self._run()

    async def _run(self) -> AsyncIterator[StreamingEvent]:
        client = self._client
        codec = client._codec
        transport = client._transport
        started = time.perf_counter()
        first: float | None = None
        response = await transport.open(*self._parts)
        start_url = codec.manifest.stream.get("start_url")
        if start_url:
            response = await self._follow(response, start_url)
        decoder = codec.stream_decoder(client._loads, client.max_event_size)
        sse_framed = True  # False: the server answered with one JSON body instead of a stream
        usage = None
        try:
            if response.headers.get("content-type", "").startswith("application/json"):
                # An answer without SSE framing: an error object, or the whole reply.
                events = self._json_answer(await transport.read_body(response))
                for event in events:
                    if first is None and event.kind == "content_delta":
                        first = time.perf_counter()
                    if event.kind == "usage":
                        usage = event.as_usage
                    yield event
                sse_framed = False
            else:
                # Without a content-encoding, aiter_bytes() only passes aiter_raw()'s chunks
                # through an identity decoder: read them directly, one async generator less
                # per network read. A response whose body was already read (replayed from a
                # cassette, or a mock) has no raw stream left; aiter_bytes() serves its content.
                direct = not response.is_stream_consumed and "content-encoding" not in response.headers
                feed = decoder.feed
                idle_limit = client.idle_timeout
                quiet_since = 0.0  # when reads stopped bringing events (0: the last read did)
                async for chunk in response.aiter_raw() if direct else response.aiter_bytes():
                    events = feed(chunk)
                    if events:
                        quiet_since = 0.0
                        if first is None:
                            first = time.perf_counter()
                        for event in events:
                            yield event
                    elif idle_limit is not None:
                        # Bytes but no event (comments, keep-alives, a trickle): the clock is
                        # read only on such reads, not per event.
                        now = time.monotonic()
                        if not quiet_since:
                            quiet_since = now
                        elif now - quiet_since > idle_limit:
                            raise RequestTimeoutError(
                                f"stream idle: no event for more than {idle_limit:g} s", provider=client.provider
                            )
                    if decoder.error is not None:
                        raise decoder.error
                    if decoder.ended:
                        break  # the terminal event: stop reading, even if the server holds on
        except httpx.TimeoutException:
            raise RequestTimeoutError(
                "stream stalled: no data within the read timeout", provider=client.provider
            ) from None
        except httpx.DecodingError:
            raise StreamProtocolError("stream body does not decode", provider=client.provider) from None
        except httpx.HTTPError as exc:
            raise StreamProtocolError(f"stream interrupted: {type(exc).__name__}", provider=client.provider) from None
        finally:
            await response.aclose()
        if sse_framed:
            for event in decoder.close():
                if first is None and event.kind in (StreamingEvent.CONTENT, StreamingEvent.REASONING):
                    first = time.perf_counter()  # the only delta came in the last, unterminated event
                if event.kind == "usage":
                    usage = event.as_usage
                yield event
            if decoder.error is not None:
                raise decoder.error
        elapsed = (time.perf_counter() - started) * 1000
        self.stats = CallStats(
            provider=client.provider,
            model=client.model,
            latency_ms=elapsed,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            total_tokens=usage.total_tokens if usage else None,
            time_to_first_token_ms=(first - started) * 1000 if first is not None else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
        )

    def _json_answer(self, raw: bytes) -> list[StreamingEvent]:
        client = self._client
        try:
            data = json.loads(raw)
        except ValueError:
            snippet = client._codec.redact(raw.decode("utf-8", errors="replace"))[:80]
            raise StreamProtocolError(
                f"stream answered with invalid JSON: {snippet!r}", provider=client.provider
            ) from None
        if isinstance(data, list):
            # A stream without SSE framing: one JSON array of chunk objects (Gemini's
            # streamGenerateContent unless alt=sse is honoured). Each item is one stream event.
            decoder = client._codec.stream_decoder(client._loads)
            events = decoder.feed_objects(data)
            events += decoder.close()
            if decoder.error is not None:
                raise decoder.error
            return events
        response = client._codec.parse_response(data)
        from .types import Finish

        events = [StreamingEvent.content_delta(response.content)] if response.content else []
        events += [StreamingEvent(StreamingEvent.TOOL_CALL, call) for call in response.tool_calls]
        if response.usage.prompt_tokens is not None or response.usage.completion_tokens is not None:
            events.append(StreamingEvent(StreamingEvent.USAGE, response.usage))
        events.append(StreamingEvent(StreamingEvent.FINISH, Finish(response.finish_reason, response.raw_finish_reason)))
        return events

    async def _follow(self, response: httpx.Response, start_url: str) -> httpx.Response:
        """Two-step streams: the first answer names the URL that streams the output. It is
        followed (with the key) only to the endpoint's origin or a documented domain."""
        from .paths import compile_path

        client = self._client
        transport = client._transport
        try:
            raw = await transport.read_body(response)
        finally:
            await response.aclose()
        try:
            url = compile_path(start_url)(json.loads(raw))
        except ValueError:
            url = None
        target = None
        if isinstance(url, str):
            try:
                target = httpx.URL(url)
            except httpx.InvalidURL:
                target = None
        if target is None or not target.host:
            raise StreamProtocolError(
                f"no stream URL at {start_url!r} in the provider's answer", provider=client.provider
            )
        if not transport.may_follow(target):
            raise RedirectError(
                f"stream URL at {start_url!r} points to {target.scheme}://{target.host}, not to the endpoint's "
                "origin or a documented https host: refused (the API key would go with it)",
                provider=client.provider,
            )
        headers = {"accept": "text/event-stream", "cache-control": "no-store"}
        return await transport.open("GET", str(target), {}, headers, None)


__all__ = ["AiLibError", "ChatRequestBuilder", "ChatStream"]
