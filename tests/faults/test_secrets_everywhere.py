"""A planted key never shows: not in an error, its chain or traceback, a log record, or a repr.

``tests/unit/test_secrets.py`` covers one session on mock transports (a few statuses,
a key echoed in a 401 body, keys that cannot be header values, a query-placed key in
httpx's log line). This file goes further, on real sockets so httpx and httpcore log
what they really log at DEBUG:

* every HTTP error status, for each auth placement (Bearer, ``x-api-key``, ``api-key``,
  ``x-goog-api-key``, query ``key=``), with the server quoting back the key it received
  in every field an error body can carry, JSON or not, on ``execute()`` and ``stream()``;
* errors that come with a 200: an in-stream error event, a broken stream event, a JSON
  answer to a stream, a ``200`` body with an ``error`` field, a non-JSON ``200`` body;
* timeouts, a stalled stream, a refused connection, retries (their log lines);
* errors raised before sending (ParameterError, UnsupportedError, a missing URL
  variable), with the key from ``api_key=`` and from the environment;
* reprs of the client, builder, stream and their parts;
* the committed cassettes and generated reports hold nothing key-shaped.
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ailib import AiClient, AiLibError, RetryPolicy
from ailib.errors import ConfigurationError, ParameterError, UnsupportedError
from ailib.session import session_of
from ailib.transport import Secret

from .faults_support import OPENAI_FINISH, SSE_HEADERS, Exchange, Loopback, Request, closed_port, openai_delta, sse

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"

KEY = "sk-PLANTED-" + secrets.token_hex(20)
#: Any 12 characters of the key's random part count as a leak: a message that cuts a quoted
#: key short (a snippet of the first 80 bytes of a body) still gives most of it away.
NEEDLES = tuple(KEY[i : i + 12] for i in range(len("sk-PLANTED-"), len(KEY) - 11))

STATUSES = [400, 401, 402, 403, 404, 408, 409, 413, 418, 422, 429, 500, 502, 503, 504, 529, 599]

#: provider -> (model, how the key is sent)
PROVIDERS = {
    "openai": ("openai/gpt-4o", "authorization"),
    "anthropic": ("anthropic/claude-3-5-sonnet-latest", "x-api-key"),
    "gemini": ("gemini/gemini-2.0-flash", "x-goog-api-key"),
    "cohere": ("cohere/command-r", "authorization"),
    "azure": ("azure/my-deployment", "api-key"),
    "replicate": ("replicate/meta/meta-llama-3-8b-instruct", "authorization"),
    "openrouter": ("openrouter/openai/gpt-4o", "authorization"),
    "gemquery": ("gemquery/gemini-2.0-flash", "query:key"),
}


# --- collecting every text that could show the key -----------------------------------


def leaks(texts: list[str]) -> list[str]:
    return [t[:200] for t in texts if any(n in t for n in NEEDLES)]


def exception_texts(error: BaseException) -> list[str]:
    """str, repr, args and attributes of the error and of everything in its cause/context chain,
    and the formatted traceback (which prints the chain unless suppressed)."""
    texts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts += [str(exc), repr(exc), repr(exc.args), *map(str, exc.args)]
        if isinstance(exc, AiLibError):
            texts += [exc.message, repr(exc.body), str(exc.provider_code), str(exc.provider_type)]
        texts.append("".join(traceback.format_exception_only(exc)))
        todo += [exc.__cause__, exc.__context__]
    return texts


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), str(record.msg), repr(record.args), formatter.format(record)]
    return texts


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    for name in ("ailib", "httpx", "httpcore", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "COHERE_API_KEY",
        "CO_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_KEY",
        "AZURE_OPENAI_RESOURCE",
        "REPLICATE_API_TOKEN",
        "AILIB_MANIFESTS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def manifests_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped manifests plus ``gemquery``: Gemini with the key in the ``key=`` query parameter."""
    root = tmp_path_factory.mktemp("manifests")
    for path in MANIFESTS.glob("*.yaml"):
        (root / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load((MANIFESTS / "gemini.yaml").read_text(encoding="utf-8"))
    data["id"] = "gemquery"
    data["auth"].update(placement="query", name="key")
    (root / "gemquery.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return root


async def no_sleep(_: float) -> None:
    return None


async def make_client(
    provider: str,
    url: str,
    manifests_dir: Path,
    *,
    api_key: str | None = KEY,
    max_retries: int = 0,
    timeout: float = 5.0,
) -> AiClient:
    model, _ = PROVIDERS[provider]
    base = url + ("/v1beta" if provider.startswith("gem") else "" if provider == "cohere" else "/v1")
    client = await AiClient.create(
        model,
        api_key=api_key,
        base_url=base,
        manifests_dir=manifests_dir,
        timeout=httpx.Timeout(timeout),
        max_retries=max_retries,
    )
    client.retry_policy = RetryPolicy(max_retries=max_retries, sleep=no_sleep)
    return client


def received_key(request: Request, placement: str) -> str:
    if placement.startswith("query:"):
        return request.query[placement.split(":", 1)[1]]
    value = request.headers[placement]
    return value.removeprefix("Bearer ")


def echo_body(key: str, status: int) -> dict[str, Any]:
    """An error body quoting the key in every field the manifests read errors from."""
    quoted = f"Incorrect API key provided: {key}. Check your key."
    return {
        "type": "error",
        "error": {
            "message": quoted,
            "type": key,
            "code": key,
            "param": key,
            "status": key,
            "details": [{"reason": key}],
            "metadata": {"raw": key},
        },
        "message": quoted,
        "detail": quoted,
        "title": key,
        "status": status,
    }


async def expect_error(call: Awaitable[Any]) -> AiLibError:
    try:
        await call
    except AiLibError as error:
        return error
    pytest.fail("expected an AiLibError")


async def consume(stream: Any) -> list[Any]:
    return [event async for event in stream]


# --- every HTTP error status, every auth placement -----------------------------------


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_error_statuses_quoting_the_key_back(provider, manifests_dir, debug_logs):
    _, placement = PROVIDERS[provider]
    plan = [(status, form) for status in STATUSES for form in ("json", "text")]
    seen_keys: list[str] = []

    async def echo(exchange: Exchange) -> None:
        request = await exchange.read_request()
        key = received_key(request, placement)
        seen_keys.append(key)
        status, form = plan[len(seen_keys) - 1]
        if form == "json":
            await exchange.respond(status, echo_body(key, status), headers={"www-authenticate": 'Bearer realm="x"'})
        else:
            await exchange.respond(
                status, f"<html><body><h1>{status}</h1><p>bad key {key}</p></body></html>", "text/html"
            )

    errors: list[AiLibError] = []
    async with Loopback(echo) as server:
        client = await make_client(provider, server.url, manifests_dir)
        for index, _ in enumerate(plan):
            if (index // 2) % 2:  # JSON and text bodies each meet execute() and stream() across the statuses
                errors.append(await expect_error(consume(client.chat().user("Hi").stream())))
            else:
                errors.append(await expect_error(client.chat().user("Hi").execute()))
        await client.aclose()
    assert seen_keys == [KEY] * len(plan), "the key was sent where the manifest says"
    assert [e.status_code for e in errors] == [status for status, _ in plan]
    texts = [t for e in errors for t in exception_texts(e)]
    assert leaks(texts) == []
    assert leaks(log_texts(debug_logs)) == []
    assert any("127.0.0.1" in r.getMessage() for r in debug_logs.records if r.name.startswith("httpx"))
    assert any(r.name.startswith("httpcore") for r in debug_logs.records), "httpcore's DEBUG records were captured"


async def test_retried_errors_log_no_key(manifests_dir, debug_logs):
    async def busy(exchange: Exchange) -> None:
        request = await exchange.read_request()
        key = received_key(request, "authorization")
        await exchange.respond(429, echo_body(key, 429), headers={"retry-after": "0"})

    async with Loopback(busy) as server:
        client = await make_client("openai", server.url, manifests_dir, max_retries=3)
        error = await expect_error(client.chat().user("Hi").execute())
        await client.aclose()
    assert len(server.requests) == 4
    assert any("retry" in r.getMessage() for r in debug_logs.records if r.name == "ailib")
    assert leaks(exception_texts(error) + log_texts(debug_logs)) == []


# --- errors that arrive with a 200 ----------------------------------------------------


def stream_answer(body_of: Callable[[str], bytes], content_type: str = "text/event-stream"):
    async def answer(exchange: Exchange) -> None:
        request = await exchange.read_request()
        key = received_key(request, "x-api-key" if "anthropic-version" in request.headers else "authorization")
        await exchange.head(200, {"content-type": content_type})
        await exchange.send(body_of(key))

    return answer


STREAM_FAULTS = {
    "openai in-stream error event": (
        "openai",
        lambda k: openai_delta("partial") + sse({"error": {"message": f"key {k} revoked", "type": k, "code": k}}),
    ),
    "anthropic error event": (
        "anthropic",
        lambda k: sse({"type": "error", "error": {"type": "overloaded_error", "message": f"bad {k}"}}, "error"),
    ),
    "cohere plain-string error": (
        "cohere",
        lambda k: sse({"type": "content-delta", "delta": {"error": f"stream failed for {k}"}}),
    ),
    "invalid JSON event": ("openai", lambda k: f'data: {{"choices": [{{"delta": "{k}"\n\n'.encode()),
    "invalid JSON event, key after 40 bytes": ("openai", lambda k: f"data: {'x' * 40}{k}\n\n".encode()),
    "cut-off stream": ("openai", lambda k: openai_delta("no finish for " + "x" * 10)),
}


@pytest.mark.parametrize("fault", list(STREAM_FAULTS))
async def test_stream_errors_quoting_the_key(fault, manifests_dir, debug_logs):
    provider, body_of = STREAM_FAULTS[fault]
    async with Loopback(stream_answer(body_of)) as server:
        client = await make_client(provider, server.url, manifests_dir)
        error = await expect_error(consume(client.chat().user("Hi").stream()))
        await client.aclose()
    assert leaks(exception_texts(error) + log_texts(debug_logs)) == []


async def test_stream_answered_with_invalid_json_quoting_the_key(manifests_dir, debug_logs):
    answer = stream_answer(lambda k: f'{{"error": "bad key {k}"'.encode(), "application/json")
    async with Loopback(answer) as server:
        client = await make_client("openai", server.url, manifests_dir)
        error = await expect_error(consume(client.chat().user("Hi").stream()))
        await client.aclose()
    assert leaks(exception_texts(error) + log_texts(debug_logs)) == []


@pytest.mark.parametrize(
    ("provider", "body_of", "content_type"),
    [
        ("replicate", lambda k: {"status": "failed", "error": f"token {k} is not allowed", "output": None}, None),
        ("openrouter", lambda k: {"error": {"message": f"upstream rejected {k}", "code": 401}}, None),
        ("openai", lambda k: f"<html>proxy login for {k}</html>".encode(), "text/html"),
        ("openai", lambda k: f"{k} is not valid".encode(), "application/json"),
    ],
    ids=["replicate-failed-prediction", "openrouter-200-error-field", "openai-200-html", "openai-200-bad-json"],
)
async def test_200_answers_that_are_errors_quoting_the_key(provider, body_of, content_type, manifests_dir, debug_logs):
    async def answer(exchange: Exchange) -> None:
        request = await exchange.read_request()
        body = body_of(received_key(request, "authorization"))
        await exchange.respond(200, body, content_type)

    async with Loopback(answer) as server:
        client = await make_client(provider, server.url, manifests_dir)
        error = await expect_error(client.chat().user("Hi").execute())
        await client.aclose()
    assert leaks(exception_texts(error) + log_texts(debug_logs)) == []


# --- network failures -----------------------------------------------------------------


@pytest.mark.slow
async def test_timeouts_and_connection_failures(manifests_dir, debug_logs):
    async def silent(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.stall()

    async def stall_mid_stream(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("a"))
        await exchange.stall()

    async def hang_up(exchange: Exchange) -> None:
        await exchange.read_request()

    errors = []
    for provider in ("openai", "gemquery"):
        async with Loopback(silent) as server:
            client = await make_client(provider, server.url, manifests_dir, timeout=0.3, max_retries=1)
            errors.append(await expect_error(client.chat().user("Hi").execute()))
            await client.aclose()
        async with Loopback(stall_mid_stream) as server:
            client = await make_client("openai", server.url, manifests_dir, timeout=0.3)
            errors.append(await expect_error(consume(client.chat().user("Hi").stream())))
            await client.aclose()
        async with Loopback(hang_up) as server:
            client = await make_client(provider, server.url, manifests_dir)
            errors.append(await expect_error(client.chat().user("Hi").execute()))
            await client.aclose()
        client = await make_client(provider, f"http://127.0.0.1:{closed_port()}", manifests_dir, max_retries=1)
        errors.append(await expect_error(client.chat().user("Hi").execute()))
        await client.aclose()
    assert [e.error_class for e in errors] == ["timeout", "timeout", "server_error", "server_error"] * 2
    assert leaks([t for e in errors for t in exception_texts(e)] + log_texts(debug_logs)) == []


# --- errors raised before sending, key from api_key= or the environment --------------


async def test_errors_before_sending(manifests_dir, monkeypatch, debug_logs):
    errors: list[AiLibError] = []
    url = f"http://127.0.0.1:{closed_port()}/v1"

    client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=url)
    errors.append(await expect_error(client.chat().user("Hi").temperature(5).execute()))
    errors.append(await expect_error(client.chat().user("Hi").stop([KEY] * 9).execute()))
    errors.append(await expect_error(client.chat().execute()))  # empty conversation
    await client.aclose()
    client = await AiClient.create("baichuan/Baichuan4", api_key=KEY, base_url=url)
    errors.append(await expect_error(client.chat().user("Hi").stop(["x"]).execute()))
    await client.aclose()
    errors.append(await expect_error(AiClient.create("jina/jina-embeddings-v3", api_key=KEY)))

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)  # a key from the environment, then a missing URL variable
    errors.append(await expect_error(AiClient.create("azure/my-deployment")))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = await AiClient.create("openai/gpt-4o", base_url=url, max_retries=0)

    async def nan_top_p() -> None:  # refused at the builder call now, inside the awaited call here
        await client.chat().user("Hi").top_p(float("nan")).execute()

    errors.append(await expect_error(nan_top_p()))
    errors.append(await expect_error(client.chat().user("Hi").execute()))  # refused
    await client.aclose()
    monkeypatch.setenv("OPENAI_API_KEY", KEY + "\n")  # unusable key from the environment
    errors.append(await expect_error(AiClient.create("openai/gpt-4o")))

    kinds = [type(e) for e in errors]
    assert kinds[:3] == [ParameterError] * 3
    assert kinds[3:5] == [UnsupportedError] * 2
    assert kinds[5] is ConfigurationError and "AZURE_OPENAI_RESOURCE" in str(errors[5])
    assert kinds[6] is ParameterError and kinds[8] is ConfigurationError
    assert leaks([t for e in errors for t in exception_texts(e)] + log_texts(debug_logs)) == []


# --- reprs ------------------------------------------------------------------------------


async def test_reprs_of_client_builder_stream_and_parts(manifests_dir, monkeypatch):
    async def ok(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.head(200, SSE_HEADERS)
        await exchange.send(openai_delta("hi") + OPENAI_FINISH)

    texts: list[str] = []
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    async with Loopback(ok) as server:
        for provider in PROVIDERS:
            model = PROVIDERS[provider][0]
            client = await AiClient.create(
                model,
                api_key=None if provider == "gemini" else KEY,
                base_url=server.url + "/v1",
                manifests_dir=manifests_dir,
            )
            builder = client.chat().system("s").user("Hi").temperature(0.5)
            stream = builder.stream()
            session = session_of(client)  # the declared seam to the client's codec and transport
            transport, codec = session.transport, session.codec
            keys = [value for value in vars(transport).values() if isinstance(value, Secret)]
            assert keys, "the transport holds the key as a Secret"
            texts += [
                repr(client),
                str(client),
                repr(vars(client)),
                repr(session),
                repr(builder),
                str(builder),
                repr(vars(builder)),
                repr(stream),
                repr(vars(stream)),
                repr(transport),
                repr(vars(transport)),
                repr(codec),
                repr(vars(codec) if hasattr(codec, "__dict__") else codec),
                repr(client.manifest),
                repr(client.retry_policy),
                *map(repr, keys),
                *map(str, keys),
            ]
            if provider == "openai":
                await consume(stream)
                texts.append(repr(stream.stats))
            await client.aclose()
    assert leaks(texts) == []


# --- nothing key-shaped was ever written into the recorded or generated files --------

#: ``scan_for_secrets``'s ``Bearer <token>`` pattern also matches an environment variable
#: *name* after "Bearer", which the reports quote from manifests' chat reasons ("Jina's API
#: (https://api.jina.ai, Bearer JINA_API_KEY) serves embeddings..."). Not a key.
ENV_NAME_AFTER_BEARER = re.compile(r"Bearer\s+[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:API_KEY|KEY|TOKEN)\b")


def _files(folder: Path) -> list[Path]:
    suffixes = {".yaml", ".yml", ".json", ".md", ".html", ".txt", ".csv"}
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes] if folder.is_dir() else []


def _real_leaks(hits: list[str]) -> list[str]:
    from conformance.cassettes import KEY_PATTERN, PLANTED_MARKER

    real, lines = [], {}
    for hit in hits:
        path, number, _ = hit.split(":", 2)
        if path not in lines:
            lines[path] = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
        line = lines[path][int(number) - 1]
        line = ENV_NAME_AFTER_BEARER.sub("Bearer <env name>", line)
        if PLANTED_MARKER in line or KEY_PATTERN.search(line):
            real.append(hit)
    return real


def test_cassettes_hold_no_secrets():
    from conformance.cassettes import scan_for_secrets

    files = _files(ROOT / "cassettes")
    assert files, "there are cassettes to scan"
    assert scan_for_secrets(files) == []


def test_reports_hold_no_secrets():
    from conformance.cassettes import scan_for_secrets

    files = _files(ROOT / "reports")
    if not files:
        pytest.skip("no reports generated in this checkout")
    assert _real_leaks(scan_for_secrets(files)) == []


def test_scanner_does_not_flag_an_env_var_name(tmp_path):
    from conformance.cassettes import scan_for_secrets

    report = tmp_path / "matrix.md"
    report.write_text("| jina | Jina's API (https://api.jina.ai, Bearer JINA_API_KEY) serves embeddings |\n")
    assert scan_for_secrets([report]) == []
