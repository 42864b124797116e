"""Adapter for ai-lib-python, the official AI-Lib Python runtime (PyPI ``ai-lib-python``,
pinned to 1.2.0 in the ``runtimes`` extra), through its public API.

What the adapter has to know about it (read from its 1.2.0 source):

* **Manifests.** It reads upstream AI-Protocol manifests, not ours: the adapter generates
  them from ``manifests/`` into a temporary directory with
  :mod:`conformance.runtimes.protocol_manifests` and points ai-lib-python at it with
  ``AiClientBuilder.protocol_path(...)`` (``$AI_PROTOCOL_DIR`` for the chat guide example,
  which uses ``AiClient.create``). A manifest is regenerated for every call, so URL
  variables read from the environment (Azure's resource) are current.
* **HTTP.** It sends through httpx: ``HttpTransport`` builds its own ``httpx.AsyncClient``
  (``base_url`` from the manifest) and takes no client from outside, so the Call's
  ``http_client`` is not used; vcrpy patches httpx's transports, so cassettes replay for it
  as for ailib and the suite sees every request it sends. (Recording with this runtime is
  not supported: record with ailib.)
* **Results.** ``ChatResponse.finish_reason`` is the provider's own value (it never applies
  a finish-reason mapping), so it is reported as both the finish reason and the raw one;
  ``usage`` is the provider's usage object and ``prompt_tokens`` etc. read OpenAI's key
  names from it, so other shapes give ``None``, reported as such. Stream events are mapped
  one to one: content and thinking deltas, ``Metadata`` (usage, then finish reason),
  ``FinalCandidate`` and ``StreamEnd`` with a reason (finish); a ``StreamError`` event ends
  the stream with an error that has no class (ai-lib-python gives none).
* **Errors.** ``RemoteError`` carries the standard class, code, retryable, fallbackable and
  Retry-After; other ai-lib-python errors and any other exception are reported with what
  ai-lib-python was doing and where (see :mod:`conformance.runtimes.support`).
* **Retries** are opt-in (``with_retry(RetryConfig(max_retries=n))``, non-streaming calls
  only); the adapter replaces the retry module's sleep with one that records the wait in
  ``Call.waits``, as the ailib adapter does.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import Call, ErrorInfo, Outcome, apply_call
from .support import environ, foreign_error, installed_version, where_in

DISTRIBUTION = "ai-lib-python"
_INSTALL = "pip install 'ailib[runtimes]'"

#: where in ai-lib-python an exception was raised -> what it was doing
_PHASES = (
    ("client/core.py:_parse_response", "parsing the response"),
    ("client/builder.py:build_payload", "building the request"),
    ("pipeline/", "decoding the stream"),
    ("transport/", "sending the request"),
    ("protocol/", "loading the provider manifest"),
)


def _phase(exc: BaseException, default: str) -> str:
    location, rel = where_in("ai_lib_python", exc)
    if rel is None or location is None:
        return default
    func = location.rsplit(" in ", 1)[-1]
    for prefix, phase in _PHASES:
        if ":" in prefix and f"{rel}:{func}" == prefix:
            return phase
        if ":" not in prefix and rel.startswith(prefix):
            return phase
    return default


class _RecordingAsyncio:
    """Stands in for ``asyncio`` inside ai-lib-python's retry module: records each back-off."""

    def __init__(self, waits: list[float]) -> None:
        self._waits = waits

    async def sleep(self, seconds: float) -> None:
        self._waits.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


@contextmanager
def _recorded_backoff(waits: list[float]) -> Iterator[None]:
    from ai_lib_python.resilience import retry

    saved = retry.asyncio
    retry.asyncio = _RecordingAsyncio(waits)  # type: ignore[assignment]
    try:
        yield
    finally:
        retry.asyncio = saved


def _usage(data: dict[str, Any] | None) -> dict[str, int | None] | None:
    """The usage ai-lib-python reports: its own accessors read these keys of the provider's object."""
    if not isinstance(data, dict):
        return None
    return {
        "prompt_tokens": data.get("prompt_tokens"),
        "completion_tokens": data.get("completion_tokens"),
        "total_tokens": data.get("total_tokens"),
    }


class AiLibPythonRuntime:
    name = DISTRIBUTION

    def __init__(self) -> None:
        self._protocol_dir: Path | None = None

    @property
    def version(self) -> str:  # type: ignore[override]
        return installed_version(DISTRIBUTION)

    def unavailable(self) -> str | None:
        try:
            import ai_lib_python  # noqa: F401
        except Exception as exc:  # ImportError, or a broken install
            return f"{DISTRIBUTION} cannot be imported ({type(exc).__name__}: {exc}); install it with {_INSTALL}"
        return None

    def lacks(self, scenario: Any) -> str | None:
        """Structured output has no API in this runtime: those scenarios are not judged."""
        if scenario.response_format is not None:
            return f"{DISTRIBUTION} 1.2.0's ChatRequestBuilder has no response-format or JSON-mode method"
        return None

    def supports(self, provider: str) -> str | None:
        from ai_lib_python.protocol.manifest import ProtocolManifest

        from ailib import manifest as manifests

        from .protocol_manifests import to_protocol

        try:
            ProtocolManifest.model_validate(to_protocol(manifests.load(provider)))
        except Exception as exc:
            return f"{DISTRIBUTION} cannot load the AI-Protocol manifest generated for {provider}: {type(exc).__name__}: {exc}"
        return None

    def protocol_dir(self) -> Path:
        if self._protocol_dir is None:
            self._protocol_dir = Path(tempfile.mkdtemp(prefix="ailib-protocol-"))
            atexit.register(shutil.rmtree, self._protocol_dir, True)
        return self._protocol_dir

    def prepare(self, provider: str) -> Path:
        """The protocol directory to point ai-lib-python at, with ``provider``'s manifest in it."""
        from .protocol_manifests import write_provider

        base = self.protocol_dir()
        write_provider(base, provider)
        return base

    async def run(self, call: Call) -> Outcome:
        from ai_lib_python import AiClient, Message
        from ai_lib_python.errors import AiLibError
        from ai_lib_python.resilience import RetryConfig

        base = self.prepare(call.provider)
        model = f"{call.provider}/{call.model}"
        client = None
        doing = "creating the client"
        try:
            if call.mode == "guide_example":  # the chat guide's first example, as written for ai-lib-python
                with environ("AI_PROTOCOL_DIR", str(base)):
                    client = await AiClient.create(model, api_key=call.api_key)
                doing = "running the chat call"
                response = await client.chat().user("Which provider am I talking to?").execute()
                return Outcome(content=response.content, finish_reason=response.finish_reason)
            builder = AiClient.builder().model(model).protocol_path(str(base)).api_key(call.api_key)
            if call.max_retries:
                builder.with_retry(RetryConfig(max_retries=call.max_retries))
            client = await builder.build()
            doing = "building the request"
            chat = apply_call(client.chat(), call, Message, _turn)
            _apply_tools(chat, call)
            if call.mode == "stream":
                doing = "streaming"
                return await self._stream(chat)
            doing = "running the chat call"
            with _recorded_backoff(call.waits):
                response, stats = await chat.execute_with_stats()
            return Outcome(
                tool_calls=[(c.id, c.function_name, c.arguments) for c in response.tool_calls or []],
                content=response.content,
                finish_reason=response.finish_reason,
                raw_finish_reason=response.finish_reason,
                usage=_usage(response.usage),
                stats={
                    "prompt_tokens": stats.prompt_tokens,
                    "completion_tokens": stats.completion_tokens,
                    "total_tokens": stats.total_tokens,
                    "latency_ms": stats.latency_ms,
                },
            )
        except AiLibError as exc:
            return Outcome(error=_error(exc, _phase(exc, doing)))
        except Exception as exc:
            return Outcome(error=foreign_error(DISTRIBUTION, exc, _phase(exc, doing), "ai_lib_python"))
        finally:
            if client is not None:
                await client.close()

    async def _stream(self, chat: Any) -> Outcome:
        from ai_lib_python.errors import AiLibError

        outcome = Outcome()
        events = stats = None
        calls: dict[str, list[Any]] = {}
        try:
            events, stats = await chat.stream_with_stats()
            async for event in events:
                if event.is_content_delta:
                    outcome.events.append(("content", event.as_content_delta.content))
                elif event.is_thinking_delta:
                    outcome.events.append(("reasoning", event.as_thinking_delta.thinking))
                elif event.is_tool_call_started:
                    started = event.as_tool_call_started
                    calls[started.tool_call_id] = [started.tool_call_id, started.tool_name, ""]
                    outcome.events.append(
                        ("tool_call_delta", (started.index, started.tool_call_id, started.tool_name, ""))
                    )
                elif event.is_partial_tool_call:
                    piece = event.as_partial_tool_call
                    calls.setdefault(piece.tool_call_id, [piece.tool_call_id, None, ""])[2] += piece.arguments
                    outcome.events.append(("tool_call_delta", (piece.index, None, None, piece.arguments)))
                elif event.is_tool_call_ended:
                    ended = calls.pop(event.as_tool_call_ended.tool_call_id, None)
                    if ended is not None:  # the runtime's pieces of this call, as it reported them
                        outcome.events.append(("tool_call", (ended[0], ended[1], _arguments(ended[2]))))
                elif event.is_metadata:
                    meta = event.as_metadata
                    if meta.usage is not None:
                        outcome.events.append(("usage", _usage(meta.usage)))
                    if meta.finish_reason is not None:
                        outcome.events.append(("finish", (meta.finish_reason, meta.finish_reason)))
                elif event.is_final_candidate:
                    reason = event.as_final_candidate.finish_reason
                    outcome.events.append(("finish", (reason, reason)))
                elif event.is_stream_end:
                    reason = event.as_stream_end.finish_reason
                    if reason is not None:
                        outcome.events.append(("finish", (reason, reason)))
                elif event.is_stream_error:
                    error = event.as_stream_error
                    outcome.error = ErrorInfo.unclassified(
                        "StreamError event", json.dumps(error.error, ensure_ascii=False, default=repr)
                    )
                    break
        except AiLibError as exc:
            outcome.error = _error(exc, _phase(exc, "reading the stream"))
        except Exception as exc:
            outcome.error = foreign_error(DISTRIBUTION, exc, _phase(exc, "reading the stream"), "ai_lib_python")
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
        outcome.content = "".join(v for k, v in outcome.events if k == "content")
        if stats is not None:
            outcome.stats = {"time_to_first_token_ms": stats.time_to_first_token_ms, "latency_ms": stats.latency_ms}
        return outcome


def _turn(role: str, value: Any) -> Any:
    """A history turn as ai-lib-python spells it: the model's calls are ``tool_use`` content
    blocks of an assistant message, a tool's result is ``Message.tool(id, content)``."""
    from ai_lib_python import Message
    from ai_lib_python.types.message import ContentBlock, MessageRole

    if role == "assistant_tool_calls":
        blocks = [ContentBlock.tool_use(c["id"], c["name"], c["arguments"]) for c in value]
        return Message(role=MessageRole.ASSISTANT, content=blocks)
    if role == "tool":
        return Message.tool(value["id"], value["content"])
    return getattr(Message, role)(value)


def _apply_tools(chat: Any, call: Call) -> None:
    """Tools and tool_choice through ai-lib-python's builder (``ToolDefinition.from_function``,
    ``ToolChoice`` for auto / none / required, a tool's name as a plain string)."""
    from ai_lib_python.types.tool import ToolChoice, ToolDefinition

    if call.tools:
        chat.tools(
            [
                ToolDefinition.from_function(name=name, description=description, parameters=schema)
                for name, description, schema in call.tools
            ]
        )
    if call.tool_choice is not None:
        words = {"auto": ToolChoice.AUTO, "none": ToolChoice.NONE, "required": ToolChoice.REQUIRED}
        chat.tool_choice(words.get(call.tool_choice, call.tool_choice))


def _arguments(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return text


def _error(exc: Any, doing: str) -> ErrorInfo:
    """ai-lib-python's own errors: ``RemoteError`` is classified; the others carry no class."""
    error_class = getattr(exc, "error_class", None)
    standard = getattr(exc, "standard_code", None) if error_class is not None else None
    message = str(exc)
    if error_class is None:
        location, _ = where_in("ai_lib_python", exc)
        message = f"{DISTRIBUTION} raised {type(exc).__name__} while {doing}: {exc}" + (
            f" ({location})" if location else ""
        )
    return ErrorInfo(
        type=type(exc).__name__,
        error_class=getattr(error_class, "value", error_class),
        code=getattr(standard, "code", None),
        status_code=getattr(exc, "status_code", None),
        retryable=getattr(exc, "retryable", None),
        fallbackable=getattr(exc, "fallbackable", None),
        message=message,
        retry_after=getattr(exc, "retry_after", None),
    )


class AiLibPythonUpstreamRuntime(AiLibPythonRuntime):
    """ai-lib-python as its users run it: on upstream's own AI-Protocol manifests (the tree in
    ``$AILIB_AI_PROTOCOL_DIR``, by default ``../shared/ai-protocol``; ``--ai-protocol-dir``),
    not on manifests generated from ours. It finds a provider as its loader does
    (``v2/providers/<id>.yaml`` before ``v1/providers/<id>.yaml``)."""

    name = "ai-lib-python-upstream"

    def __init__(self) -> None:
        super().__init__()
        self._supported: dict[str, str | None] = {}

    def protocol_dir(self) -> Path:
        return upstream_protocol_dir()

    def supports(self, provider: str) -> str | None:
        if provider not in self._supported:  # asked for every cell: validate each file once
            self._supported[provider] = self._supports(provider)
        return self._supported[provider]

    def _supports(self, provider: str) -> str | None:
        from ai_lib_python.protocol.manifest import ProtocolManifest

        from ailib import protocol

        root = self.protocol_dir()
        path = protocol.find_file(root, provider)
        if path is None:
            return f"no AI-Protocol manifest for {provider} under {root}"
        try:
            import yaml

            ProtocolManifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:
            return (
                f"{DISTRIBUTION} cannot load {protocol.display_name(path)}: {type(exc).__name__}: {support_short(exc)}"
            )
        return None

    def prepare(self, provider: str) -> Path:
        return self.protocol_dir()


def upstream_protocol_dir() -> Path:
    """Upstream's AI-Protocol tree: ``$AILIB_AI_PROTOCOL_DIR``, else ``../shared/ai-protocol``."""
    import os

    env = os.environ.get("AILIB_AI_PROTOCOL_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "ai-protocol"


def support_short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
