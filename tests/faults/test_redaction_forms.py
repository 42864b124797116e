"""A key a server echoes back is redacted in every form it can take, and a query-string
key is in no URL the caller can reach once the request is sent.

JSON lets a server write any character as ``\\uXXXX`` (either case) and ``/`` as ``\\/``;
a URL carries it as ``%XX``. Cassettes are scrubbed as written: pretty-printing a JSON body
turns an escaped key back into a plain one after the per-request filters ran.
"""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import yaml

from ailib import AiClient
from ailib.errors import AiLibError
from ailib.transport import Secret
from conformance.cassettes import ReadableSerializer, scrub_text

from .faults_support import Exchange, Loopback, closed_port

#: With a '/' and a '+' so that \/ and %2F / %2B forms exist.
KEY = "sk-redact/FORMS+0123456789abcdefXYZ"
MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def json_escaped(text: str, upper: bool = False) -> str:
    return "".join(("\\u%04X" if upper else "\\u%04x") % ord(c) for c in text)


FORMS = {
    "plain": KEY,
    "slash-escaped": KEY.replace("/", "\\/"),
    "unicode-escaped": json_escaped(KEY),
    "unicode-escaped-upper": json_escaped(KEY, upper=True),
    "mixed": KEY[:5] + json_escaped(KEY[5:12]) + KEY[12:].replace("/", "\\/"),
    "double-escaped": json.dumps(json.dumps(KEY).replace("/", "\\/"))[1:-1],
    "percent-encoded": quote(KEY, safe=""),
    "percent-encoded-lower": re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(KEY, safe="")),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_of_the_key_is_redacted(form):
    text = f'{{"error": {{"message": "Incorrect API key provided: {FORMS[form]}."}}}}'
    redacted = Secret(KEY).redact(text)
    assert FORMS[form] not in redacted
    assert "***" in redacted
    assert json.loads(redacted) if form != "double-escaped" else True  # still the same JSON shape


def test_text_without_the_key_is_unchanged():
    text = r'{"message": "path \/v1\/x and 100% \u00e9"}'
    assert Secret(KEY).redact(text) == text


@pytest.mark.parametrize("form", ["unicode-escaped", "slash-escaped", "mixed"])
async def test_an_error_body_quoting_an_escaped_key_shows_no_key(form):
    body = '{"error": {"message": "Incorrect API key provided: ' + FORMS[form] + '", "type": "invalid_request_error"}}'

    async def handler(exchange: Exchange) -> None:
        await exchange.read_request()
        await exchange.respond(401, body.encode(), "application/json")

    async with Loopback(handler) as server:
        client = await AiClient.create("openai/gpt-4o", api_key=KEY, base_url=server.url + "/v1", max_retries=0)
        with pytest.raises(AiLibError) as info:
            await client.chat().user("Hi").execute()
        await client.aclose()
    error = info.value
    texts = [str(error), repr(error), json.dumps(error.body), "".join(traceback.format_exception(error))]
    assert not [t for t in texts if KEY in t or KEY[10:24] in t]
    assert "Incorrect API key provided: ***" in error.message


def test_a_cassette_is_scrubbed_after_pretty_printing():
    """The response filter sees ``\\u0073k-...``; the serializer un-escapes it to ``sk-...``."""
    escaped_body = '{"error": {"message": "bad key ' + json_escaped(KEY) + '"}}'
    cassette = {
        "interactions": [
            {
                "request": {"method": "POST", "uri": "https://api.openai.com/v1/x", "body": None, "headers": {}},
                "response": {
                    "status": {"code": 401, "message": "Unauthorized"},
                    "headers": {"content-type": ["application/json"]},
                    "body": {"string": scrub_text(escaped_body, (KEY,)).encode()},
                },
            }
        ]
    }
    pretty = ReadableSerializer.serialize(cassette)
    assert "bad key ***" not in pretty  # the per-response filter alone did not catch it ...
    written = scrub_text(pretty, (KEY,))
    assert KEY not in written and "bad key REDACTED" in written  # ... scrubbing what is written does
    assert yaml.safe_load(written)["interactions"][0]["response"]["status"]["code"] == 401


# --- query-string auth: the key leaves no URL behind ---------------------------------


@pytest.fixture
def query_manifests(tmp_path: Path) -> Path:
    data = yaml.safe_load((MANIFESTS / "gemini.yaml").read_text(encoding="utf-8"))
    data["id"] = "gemquery"
    data["auth"].update(placement="query", name="key")
    (tmp_path / "gemquery.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def reachable_texts(error: BaseException) -> list[str]:
    """Everything about an error a caller or a crash report can see: the chain, each
    exception's attributes (an httpx error's ``.request.url``), the traceback's locals."""
    texts = ["".join(traceback.format_exception(error))]
    todo: list[BaseException | None] = [error]
    seen: set[int] = set()
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts += [repr(exc), str(exc), *(repr(v) for v in vars(exc).values())]
        request = getattr(exc, "_request", None) or getattr(getattr(exc, "response", None), "request", None)
        if request is not None:
            texts.append(str(request.url))
        tb = exc.__traceback__
        while tb is not None:
            if "/ailib/" not in tb.tb_frame.f_code.co_filename:  # the client's frames, not this test's
                tb = tb.tb_next
                continue
            texts += [f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items()]
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, (httpx.Request, httpx.Response)):
                    texts.append(str((value if isinstance(value, httpx.Request) else value.request).url))
            tb = tb.tb_next
        todo += [exc.__cause__, exc.__context__]
    return texts


async def test_query_key_absent_from_a_connection_error(query_manifests):
    url = f"http://127.0.0.1:{closed_port()}/v1beta"
    client = await AiClient.create(
        "gemquery/gemini-2.0-flash", api_key=KEY, base_url=url, manifests_dir=query_manifests, max_retries=0
    )
    with pytest.raises(AiLibError) as info:
        await client.chat().user("Hi").execute()
    await client.aclose()
    leaked = [t[:120] for t in reachable_texts(info.value) if KEY in t or quote(KEY, safe="") in t]
    assert leaked == []


async def test_query_key_absent_from_the_sent_request_and_its_response(query_manifests):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))  # what went on the wire
        return httpx.Response(500, json={"error": {"message": "boom", "status": "INTERNAL"}})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = await AiClient.create(
        "gemquery/gemini-2.0-flash", api_key=KEY, http_client=http, manifests_dir=query_manifests, max_retries=0
    )
    with pytest.raises(AiLibError) as info:
        await client.chat().user("Hi").execute()
    assert httpx.URL(seen[0]).params["key"] == KEY  # it was sent where the manifest says ...
    leaked = [t[:120] for t in reachable_texts(info.value) if KEY in t or quote(KEY, safe="") in t]
    assert leaked == []  # ... and shows nowhere after
