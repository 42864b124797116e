"""Out-of-process runtimes: a client in another language, driven over JSON lines.

The suite starts the driver once per session (``command``), writes one JSON object per
line to its stdin and reads one answer per line from its stdout. The driver sends its
HTTP to a loopback *replay proxy* this module runs on the suite's event loop: the driver
sets the client's base URL to ``<proxy>/<scheme>/<host><base path>``, the proxy rebuilds the
URL the client would have called and sends the request through the suite's own HTTP client,
where vcrpy replays the cassette. So the suite sees exactly what the foreign client put on
the wire, judged by the same checks as for a Python client, and nothing leaves the machine.

Protocol (version 1), one JSON object per line:

request  ``{"id": 7, "provider": "openai", "model": "gpt-4o", "api_key": "...",
           "key_env": ["OPENAI_API_KEY"], "messages": [["system", "..."], ["user", "..."]],
           "parameters": {"temperature": 0.7, "max_tokens": 5, "top_p": 0.9, "stop": ["x"]},
           "mode": "execute" | "stats" | "stream" | "guide_example", "via": "builder" | "messages",
           "max_retries": 0, "protocol_dir": "/path/to/ai-protocol", "proxy": "http://127.0.0.1:PORT"}``
answer   ``{"id": 7, "waits": [1.0], "outcome": {"content": ..., "finish_reason": ...,
           "raw_finish_reason": ..., "usage": {"prompt_tokens": ...} | null,
           "events": [["content", "Hel"], ["usage", {...}], ["finish", ["stop", "stop"]]],
           "stats": {...} | null, "rejected": "reason" | null,
           "error": {"type", "code" (E1001..E9999) or "error_class", "status_code",
                     "retryable", "fallbackable", "message", "retry_after"} | null}}``
hello    ``{"op": "hello", "id": 0}`` -> ``{"id": 0, "name": "...", "version": "..."}``

A driver must answer every request (errors go in ``outcome.error``) and must not reach any
host but the proxy. ``conformance/runtimes/ai_lib_ts_driver.mjs`` is the reference driver.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
from pathlib import Path
from typing import Any

import httpx

from .base import Call, ErrorInfo, Outcome

#: seconds a driver may take to answer one request before it is restarted
ANSWER_TIMEOUT = 60.0
_HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive", "accept-encoding"}


def _code_classes() -> dict[str, str]:
    from ailib.errors import ERROR_CLASSES

    return {cls.code: name for name, cls in ERROR_CLASSES.items()}


class ReplayProxy:
    """A loopback HTTP/1.1 server that forwards to the URL encoded in the path."""

    def __init__(self) -> None:
        self.client: httpx.AsyncClient | None = None
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, headers, body = await self._forward(reader)
        except Exception as exc:  # the driver gets it as a 599 answer
            status, headers = 599, {"content-type": "text/plain; charset=utf-8"}
            body = f"replay proxy: {type(exc).__name__}: {exc}".encode()
        head = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}"]
        head += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}]
        head += [f"content-length: {len(body)}", "connection: close", "", ""]
        with contextlib.suppress(ConnectionError):
            writer.write("\r\n".join(head).encode("latin-1") + body)
            await writer.drain()
        writer.close()

    async def _forward(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
        method, target, _ = (await reader.readline()).decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        lowered = {k.lower(): v for k, v in headers.items()}
        if lowered.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16):
                body += await reader.readexactly(size)
                await reader.readline()
            await reader.readline()
        else:
            body = await reader.readexactly(int(lowered.get("content-length", "0")))
        scheme, _, rest = target.lstrip("/").partition("/")
        if scheme not in ("http", "https") or self.client is None:
            raise ValueError(f"no call in progress or not a proxied URL: {target}")
        forward = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
        response = await self.client.request(method, f"{scheme}://{rest}", headers=forward, content=body)
        return response.status_code, dict(response.headers), response.content


class ProcessRuntime:
    """A runtime behind a JSON-lines driver process (see the module doc for the protocol)."""

    name = "process"
    version = "unknown"
    uses_call_http_client = True  # replayed through the Call's client, not vcrpy's patch

    def __init__(self) -> None:
        self.proxy = ReplayProxy()
        self.process: asyncio.subprocess.Process | None = None
        self._next_id = 0

    # --- to be provided by a concrete runtime ---------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def protocol_dir(self) -> Path | None:
        return None

    def unavailable(self) -> str | None:
        return None

    def supports(self, provider: str) -> str | None:
        return None

    def key_env(self, provider: str) -> list[str]:
        return []

    def lacks(self, scenario: Any) -> str | None:
        """Protocol version 1 carries no tools, tool choice or response format: such scenarios
        are not judged (rather than judged on a request the driver was never asked to make)."""
        if getattr(scenario, "tools", None) or getattr(scenario, "response_format", None) is not None:
            return f"the JSON-lines driver protocol (v1) that {self.name} is run through carries no tools or response format"
        return None

    # --- the protocol --------------------------------------------------------------------------
    async def _driver(self) -> asyncio.subprocess.Process:
        if self.process is None or self.process.returncode is not None:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                limit=16 * 1024 * 1024,
            )
            atexit.register(_kill, self.process)
        return self.process

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        process = await self._driver()
        assert process.stdin is not None and process.stdout is not None
        self._next_id += 1
        message = {**message, "id": self._next_id}
        process.stdin.write((json.dumps(message) + "\n").encode())
        await process.stdin.drain()
        try:
            while True:
                line = await asyncio.wait_for(process.stdout.readline(), ANSWER_TIMEOUT)
                if not line:
                    raise EOFError(f"{self.name} driver exited (status {process.returncode})")
                answer: dict[str, Any] = json.loads(line)
                if answer.get("id") == self._next_id:
                    return answer
        except (asyncio.TimeoutError, EOFError, ValueError):
            _kill(process)
            self.process = None
            raise

    async def run(self, call: Call) -> Outcome:
        await self.proxy.start()
        self.proxy.client = call.http_client()
        try:
            answer = await self.ask(
                {
                    "provider": call.provider,
                    "model": call.model,
                    "api_key": call.api_key,
                    "key_env": self.key_env(call.provider),
                    "messages": [list(m) for m in call.messages],
                    "parameters": call.parameters,
                    "mode": call.mode,
                    "via": call.via,
                    "max_retries": call.max_retries,
                    "protocol_dir": str(self.protocol_dir() or ""),
                    "proxy": self.proxy.url,
                }
            )
        except (asyncio.TimeoutError, EOFError, ValueError) as exc:
            return Outcome(error=_error_info({"type": type(exc).__name__, "message": f"{self.name} driver: {exc}"}))
        finally:
            client, self.proxy.client = self.proxy.client, None
            await client.aclose()
        call.waits.extend(float(w) for w in answer.get("waits") or [])
        return outcome_from(answer.get("outcome") or {})


class CommandRuntime(ProcessRuntime):
    """A third party's driver: ``--runtime NAME --runtime-driver "node my-driver.mjs"``."""

    def __init__(self, name: str, command: list[str]) -> None:
        super().__init__()
        self.name = name
        self._command = command

    def command(self) -> list[str]:
        return self._command


def outcome_from(data: dict[str, Any]) -> Outcome:
    """The driver's outcome object as an :class:`Outcome` (events as tuples)."""
    events = []
    for kind, value in data.get("events") or []:
        events.append((kind, tuple(value) if kind == "finish" and isinstance(value, list) else value))
    error = data.get("error")
    return Outcome(
        content=data.get("content"),
        finish_reason=data.get("finish_reason"),
        raw_finish_reason=data.get("raw_finish_reason"),
        usage=data.get("usage"),
        events=events,
        stats=data.get("stats"),
        error=_error_info(error) if error else None,
        rejected=data.get("rejected"),
    )


def _error_info(error: dict[str, Any]) -> ErrorInfo:
    error_class = error.get("error_class") or _code_classes().get(str(error.get("code")))
    return ErrorInfo(
        type=str(error.get("type") or "error"),
        error_class=error_class,
        code=error.get("code"),
        status_code=error.get("status_code"),
        retryable=error.get("retryable"),
        fallbackable=error.get("fallbackable"),
        message=str(error.get("message") or ""),
        retry_after=error.get("retry_after"),
    )


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
