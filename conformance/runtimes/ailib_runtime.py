"""The reference adapter: ailib itself, through its public API only."""

from __future__ import annotations

import ailib
from ailib import AiClient, Message, RetryPolicy, Tool
from ailib.errors import AiLibError, UnsupportedError

from .base import Call, ErrorInfo, Outcome, apply_call, with_http_client


def _error(exc: AiLibError) -> ErrorInfo:
    return ErrorInfo(
        type=type(exc).__name__,
        error_class=exc.error_class,
        code=exc.code,
        status_code=exc.status_code,
        retryable=exc.retryable,
        fallbackable=exc.fallbackable,
        message=str(exc),
        retry_after=exc.retry_after,
    )


async def guide_example(model_id: str, api_key: str, http_client: object) -> tuple[str, str | None]:
    """The chat guide's first example. Switching provider changes only ``model_id``."""
    client = await AiClient.create(model_id, api_key=api_key, http_client=http_client, max_retries=0)
    response = await client.chat().user("Which provider am I talking to?").execute()
    return response.content, response.finish_reason


def apply_tools(builder: ailib.chat.ChatRequestBuilder, call: Call) -> None:
    """Tools, tool_choice and structured output of a call, through the builder."""
    if call.tools:
        builder.tools([Tool(name, description, schema) for name, description, schema in call.tools])
    if call.tool_choice is not None:
        builder.tool_choice(call.tool_choice)
    wanted = call.response_format
    if wanted and wanted.get("json_mode"):
        builder.json_mode()
    elif wanted:
        builder.response_format(json_schema=wanted["schema"], name=wanted["name"])


def _arguments(call: ailib.ToolCall) -> object:
    """The call's arguments as a dict, or its raw text where they are not a JSON object."""
    try:
        return call.arguments
    except ValueError:
        return call.raw_arguments


class AilibRuntime:
    name = "ailib"
    version = ailib.__version__
    uses_call_http_client = True  # replayed through the Call's client, not vcrpy's patch

    def unavailable(self) -> str | None:
        return None

    def supports(self, provider: str) -> str | None:
        return None

    async def run(self, call: Call) -> Outcome:
        return await with_http_client(call, self._run)

    async def _run(self, call: Call, http: object) -> Outcome:
        model_id = f"{call.provider}/{call.model}"
        try:
            if call.mode == "guide_example":
                content, finish = await guide_example(model_id, call.api_key, http)
                return Outcome(content=content, finish_reason=finish)
            client = await AiClient.create(
                model_id, api_key=call.api_key, http_client=http, max_retries=call.max_retries
            )

            async def fake_sleep(seconds: float) -> None:  # the suite never sleeps for real
                call.waits.append(seconds)

            client.retry_policy = RetryPolicy(max_retries=call.max_retries, sleep=fake_sleep, random=lambda: 0.5)
            builder = apply_call(client.chat(), call, Message)
            apply_tools(builder, call)
            if call.mode == "stream":
                return await self._stream(builder)
            response, stats = await builder.execute_with_stats()
            usage = response.usage
            return Outcome(
                tool_calls=[(c.id, c.name, _arguments(c)) for c in response.tool_calls],
                parsed=response.parsed,
                content=response.content,
                finish_reason=response.finish_reason,
                raw_finish_reason=response.raw_finish_reason,
                usage={
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "total_tokens": usage.total_tokens,
                },
                stats={
                    "prompt_tokens": stats.prompt_tokens,
                    "completion_tokens": stats.completion_tokens,
                    "total_tokens": stats.total_tokens,
                    "latency_ms": stats.latency_ms,
                },
            )
        except UnsupportedError as exc:
            return Outcome(rejected=exc.message)
        except AiLibError as exc:
            return Outcome(error=_error(exc))

    async def _stream(self, builder: ailib.chat.ChatRequestBuilder) -> Outcome:
        outcome = Outcome()
        stream = builder.stream()
        try:
            async for event in stream:
                if event.is_content_delta:
                    outcome.events.append(("content", event.as_content_delta.text))
                elif event.is_reasoning_delta:
                    outcome.events.append(("reasoning", event.as_reasoning_delta.text))
                elif event.is_usage:
                    u = event.as_usage
                    outcome.events.append(
                        (
                            "usage",
                            {
                                "prompt_tokens": u.prompt_tokens,
                                "completion_tokens": u.completion_tokens,
                                "total_tokens": u.total_tokens,
                            },
                        )
                    )
                elif event.is_finish:
                    outcome.events.append(("finish", (event.as_finish.reason, event.raw_reason)))
                elif event.is_tool_call_delta:
                    d = event.as_tool_call_delta
                    outcome.events.append(("tool_call_delta", (d.index, d.id, d.name, d.arguments)))
                elif event.is_tool_call:
                    c = event.as_tool_call
                    outcome.events.append(("tool_call", (c.id, c.name, _arguments(c))))
        except AiLibError as exc:
            outcome.error = _error(exc)
        outcome.content = "".join(v for k, v in outcome.events if k == "content")
        if stream.stats is not None:
            outcome.stats = {
                "time_to_first_token_ms": stream.stats.time_to_first_token_ms,
                "latency_ms": stream.stats.latency_ms,
            }
        return outcome
