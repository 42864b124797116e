"""Build-then-send: the builder collects a request value; the client's session sends it.

A builder works with any object that has the session's interface (a stub here), so what it
hands over is exactly what the caller set, and nothing it does reaches into the client.
"""

from __future__ import annotations

import json

import httpx

from ailib import AiClient, ChatRequestBuilder, Message, Tool
from ailib.codecs.base import ChatRequest
from ailib.session import ChatSession, session_of

from .unit_support import Server, json_response

OK = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
WEATHER = Tool("get_weather", "Weather in a city", {"type": "object", "properties": {"city": {"type": "string"}}})


class RecordingSession:
    """Stands in for a ChatSession: records what each terminal call was given."""

    provider = "stub"

    def __init__(self) -> None:
        self.calls: list[tuple[str, ChatRequest, bool]] = []

    def build(self, request: ChatRequest, *, stream: bool = False) -> str:
        self.calls.append(("build", request, stream))
        return "built"

    async def execute_with_stats(self, request: ChatRequest) -> tuple[str, str]:
        self.calls.append(("execute", request, False))
        return "response", "stats"

    def stream(self, request: ChatRequest) -> str:
        self.calls.append(("stream", request, True))
        return "stream"


async def test_the_builder_hands_its_session_one_request_value_per_terminal_call():
    session = RecordingSession()
    builder = ChatRequestBuilder(session)  # type: ignore[arg-type]
    builder.system("Be brief.").user("Weather in Paris?").temperature(0.5).stop("END")
    builder.tools([WEATHER]).tool_choice("auto").json_mode()

    assert builder.build(stream=True) == "built"
    assert await builder.execute() == "response"
    assert await builder.execute_with_stats() == ("response", "stats")
    assert builder.stream() == "stream"

    assert [(name, stream) for name, _, stream in session.calls] == [
        ("build", True),
        ("execute", False),
        ("execute", False),
        ("stream", True),
    ]
    request = session.calls[0][1]
    assert [(m.role.value, m.content) for m in request.messages] == [
        ("system", "Be brief."),
        ("user", "Weather in Paris?"),
    ]
    assert request.parameters == {"temperature": 0.5, "stop": ["END"]}
    assert (request.tools, request.tool_choice) == ([WEATHER], "auto")
    assert request.response_format is not None and request.response_format.json_schema is None


async def test_a_request_handed_over_does_not_change_with_later_setter_calls():
    session = RecordingSession()
    builder = ChatRequestBuilder(session)  # type: ignore[arg-type]
    builder.user("first").temperature(0.1)
    builder.build()
    builder.user("second").temperature(0.9)
    builder.build()
    first, second = (request for _, request, _ in session.calls)
    assert [m.content for m in first.messages] == ["first"]
    assert first.parameters == {"temperature": 0.1}
    assert [m.content for m in second.messages] == ["first", "second"]
    assert second.parameters == {"temperature": 0.9}


async def test_the_client_sends_through_its_session():
    server = Server(json_response(200, OK))
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    client = await AiClient.create("openai/gpt-4o", api_key="k", http_client=http, max_event_size=1234)
    session = session_of(client)
    assert isinstance(session, ChatSession)
    assert (session.provider, session.model, session.max_event_size) == ("openai", "gpt-4o", 1234)
    assert session.transport.http is http

    # the session alone builds what client.chat() builds
    direct = session.build(ChatRequest([Message.user("Hi")]))
    via_builder = client.chat().user("Hi").build()
    assert (direct.url, json.loads(direct.content)) == (via_builder.url, json.loads(via_builder.content))

    response = await client.chat().user("Hi").execute()
    assert response.content == "ok"
    assert server.body()["messages"] == [{"role": "user", "content": "Hi"}]

    # the client's limits are the session's
    client.idle_timeout = 2.5
    client.max_event_size = 99
    assert (session.idle_timeout, session.max_event_size) == (2.5, 99)
    assert (client.idle_timeout, client.max_event_size) == (2.5, 99)
    await http.aclose()
