"""Send chat requests: the executor an :class:`~ailib.client.AiClient` owns.

A builder (:class:`~ailib.chat.ChatRequestBuilder`) only collects a
:class:`~ailib.codecs.base.ChatRequest` value; sending it is done here, as httpx splits
``build_request`` from ``send``. A :class:`ChatSession` holds what sending needs and what
the client configured: the codec that spells requests for the provider and reads its
answers, the transport (auth, retries, deadlines), the JSON parser, and the stream limits.
The client makes one in ``create()`` and hands it to every builder, so no builder reads the
client's private state.

Internal seam: the conformance harness, the tests and the benchmarks reach a client's
session with :func:`session_of` (for its ``codec``, ``transport`` and ``loads``); it is not
part of the public API and may change between releases.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx

from .codecs.base import ChatRequest, Codec
from .errors import RedirectError, RequestTimeoutError, StreamProtocolError, UnsupportedError
from .transport import Transport
from .types import CallStats, ChatResponse, Finish, StreamingEvent

if TYPE_CHECKING:
    from .client import AiClient

#: ``(method, url, query, headers, body)``: a request as the transport sends it
Parts = tuple[str, str, dict[str, str], dict[str, str], Any]


def session_of(client: AiClient) -> ChatSession:
    """The session ``client`` sends through (internal seam: harness, tests, benchmarks)."""
    session: ChatSession = client._session
    return session


class ChatSession:
    """Builds, sends and reads the chat requests of one client (one provider, one model)."""

    __slots__ = ("codec", "idle_timeout", "loads", "max_event_size", "model", "provider", "transport")

    def __init__(
        self,
        codec: Codec,
        transport: Transport,
        model: str,
        loads: Callable[[Any], Any] = json.loads,
        *,
        max_event_size: int | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self.codec = codec
        self.transport = transport
        self.provider = codec.provider
        self.model = model
        self.loads = loads
        #: characters one stream event may hold (None: no limit)
        self.max_event_size = max_event_size
        #: seconds a stream may bring bytes but no event (None: no limit)
        self.idle_timeout = idle_timeout

    def __repr__(self) -> str:
        return f"ChatSession(provider={self.provider!r}, model={self.model!r})"

    # --- build ------------------------------------------------------------------------
    def parts(self, request: ChatRequest, stream: bool) -> Parts:
        """``request`` spelled for the provider (no key yet: the transport adds it)."""
        codec = self.codec
        body = codec.body(request, stream)
        url, query = codec.url(stream)
        return "POST", url, query, codec.headers(stream), body

    def build(self, request: ChatRequest, *, stream: bool = False) -> httpx.Request:
        """The HTTP request ``request`` would be sent as (auth applied). Sends nothing."""
        return self.transport.build(*self.parts(request, stream))

    # --- send -------------------------------------------------------------------------
    async def execute_with_stats(self, request: ChatRequest) -> tuple[ChatResponse, CallStats]:
        """Send ``request``, read the one JSON answer, and time the call."""
        codec = self.codec
        parts = self.parts(request, False)
        started = time.perf_counter()
        http_response, raw = await self.transport.fetch(*parts)
        try:
            data = self.loads(raw)
        except ValueError:
            snippet = codec.redact(raw.decode("utf-8", errors="replace"))[:80]
            raise StreamProtocolError(
                f"response is not JSON: {snippet!r}", provider=self.provider, status_code=http_response.status_code
            ) from None
        response = codec.parse_response(data)
        if request.response_format is not None:
            codec.structured(response, request.response_format)
        elapsed = (time.perf_counter() - started) * 1000
        usage = response.usage
        stats = CallStats(
            provider=self.provider,
            model=self.model,
            latency_ms=elapsed,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            reasoning_tokens=usage.reasoning_tokens,
        )
        return response, stats

    def stream(self, request: ChatRequest) -> ChatStream:
        """A stream of ``request``'s answer; nothing is sent before it is iterated."""
        streaming = self.codec.manifest.capability("streaming")
        if not streaming.supported:
            raise UnsupportedError(
                f"{self.provider} does not support streaming: {streaming.reason}", provider=self.provider
            )
        return ChatStream(self, self.parts(request, True))


class ChatStream:
    """Async iterator of stream events; :attr:`stats` is filled in when it ends."""

    def __init__(self, session: ChatSession, parts: Parts) -> None:
        self._session = session
        self._parts = parts
        self.stats: CallStats | None = None

    def __aiter__(self) -> AsyncIterator[StreamingEvent]:
        return self._run()

    async def _run(self) -> AsyncIterator[StreamingEvent]:
        session = self._session
        codec = session.codec
        transport = session.transport
        provider = session.provider
        started = time.perf_counter()
        first: float | None = None
        response = await transport.open(*self._parts)
        if codec.manifest.stream.start_url is not None:
            response = await self._follow(response)
        decoder = codec.stream_decoder(session.loads, session.max_event_size)
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
                idle_limit = session.idle_timeout
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
                                f"stream idle: no event for more than {idle_limit:g} s", provider=provider
                            )
                    if decoder.error is not None:
                        raise decoder.error
                    if decoder.ended:
                        break  # the terminal event: stop reading, even if the server holds on
        except httpx.TimeoutException:
            raise RequestTimeoutError("stream stalled: no data within the read timeout", provider=provider) from None
        except httpx.DecodingError:
            raise StreamProtocolError("stream body does not decode", provider=provider) from None
        except httpx.HTTPError as exc:
            raise StreamProtocolError(f"stream interrupted: {type(exc).__name__}", provider=provider) from None
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
            provider=provider,
            model=session.model,
            latency_ms=elapsed,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            total_tokens=usage.total_tokens if usage else None,
            time_to_first_token_ms=(first - started) * 1000 if first is not None else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
        )

    def _json_answer(self, raw: bytes) -> list[StreamingEvent]:
        session = self._session
        codec = session.codec
        try:
            data = json.loads(raw)
        except ValueError:
            snippet = codec.redact(raw.decode("utf-8", errors="replace"))[:80]
            raise StreamProtocolError(
                f"stream answered with invalid JSON: {snippet!r}", provider=session.provider
            ) from None
        if isinstance(data, list):
            # A stream without SSE framing: one JSON array of chunk objects (Gemini's
            # streamGenerateContent unless alt=sse is honoured). Each item is one stream event.
            decoder = codec.stream_decoder(session.loads)
            events = decoder.feed_objects(data)
            events += decoder.close()
            if decoder.error is not None:
                raise decoder.error
            return events
        response = codec.parse_response(data)
        events = [StreamingEvent.content_delta(response.content)] if response.content else []
        events += [StreamingEvent(StreamingEvent.TOOL_CALL, call) for call in response.tool_calls]
        if response.usage.prompt_tokens is not None or response.usage.completion_tokens is not None:
            events.append(StreamingEvent(StreamingEvent.USAGE, response.usage))
        events.append(StreamingEvent(StreamingEvent.FINISH, Finish(response.finish_reason, response.raw_finish_reason)))
        return events

    async def _follow(self, response: httpx.Response) -> httpx.Response:
        """Two-step streams: the first answer names the URL that streams the output. It is
        followed (with the key) only to the endpoint's origin or a documented domain."""
        session = self._session
        transport = session.transport
        spec = session.codec.manifest.stream
        start_url, read_url = spec.start_url, spec.read_start_url
        assert start_url is not None and read_url is not None  # checked by the caller
        try:
            raw = await transport.read_body(response)
        finally:
            await response.aclose()
        try:
            url = read_url(json.loads(raw))
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
                f"no stream URL at {start_url!r} in the provider's answer", provider=session.provider
            )
        if not transport.may_follow(target):
            raise RedirectError(
                f"stream URL at {start_url!r} points to {target.scheme}://{target.host}, not to the endpoint's "
                "origin or a documented https host: refused (the API key would go with it)",
                provider=session.provider,
            )
        headers = {"accept": "text/event-stream", "cache-control": "no-store"}
        return await transport.open("GET", str(target), {}, headers, None)
