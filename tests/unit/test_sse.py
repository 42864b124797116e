"""ailib.sse.SSEDecoder against the WHATWG event-stream parsing rules."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ailib.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def datas(events: list[ServerSentEvent]) -> list[str]:
    return [e.data for e in events]


# --- line ends ---------------------------------------------------------------------


def test_lf_line_ends():
    assert datas(decode(b"data: one\n\ndata: two\n\n")) == ["one", "two"]


def test_crlf_line_ends():
    assert datas(decode(b"data: one\r\n\r\ndata: two\r\n\r\n")) == ["one", "two"]


def test_cr_line_ends():
    assert datas(decode(b"data: one\r\rdata: two\r\r")) == ["one", "two"]


def test_crlf_split_between_chunks_is_one_line_end():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert datas(decoder.feed(b"\n\r")) == ["a"]
    assert datas(decoder.feed(b"\ndata: b\r\n\r\n")) == ["b"]
    assert decoder.flush() == []


def test_the_lf_of_a_split_crlf_may_arrive_alone():
    # one chunk per byte is how some proxies deliver a stream: the LF completes nothing
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []
    assert datas(decoder.feed(b"\r\n")) == ["a"]


def test_a_line_held_in_pieces_is_joined_with_the_rest_of_the_buffered_text():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\nda") == []  # a whole line, then the start of the next
    assert decoder.feed(b"ta: y") == []  # still no line end: held
    assert datas(decoder.feed(b"\n\n")) == ["x\ny"]


def test_cr_then_crlf_is_two_line_ends():
    # "a" CR, then CRLF: the second line is blank, so the event is dispatched
    assert datas(decode(b"data: a\r", b"\r\n")) == ["a"]


def test_events_are_returned_by_the_feed_that_completes_them():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: hel") == []
    assert decoder.feed(b"lo\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent("hello")]


# --- fields ------------------------------------------------------------------------


def test_comment_lines_are_ignored():
    body = b": keep-alive\n\n: OPENROUTER PROCESSING\ndata: x\n: between\n\n"
    assert decode(body) == [ServerSentEvent("x")]


def test_event_field_names_the_event_and_defaults_to_message():
    events = decode(b"event: content_block_delta\ndata: {}\n\ndata: plain\n\n")
    assert [(e.event, e.data) for e in events] == [("content_block_delta", "{}"), ("message", "plain")]


def test_event_name_does_not_leak_into_the_next_event():
    events = decode(b"event: ping\ndata: 1\n\ndata: 2\n\n")
    assert [e.event for e in events] == ["ping", "message"]


def test_multi_line_data_is_joined_with_lf():
    assert datas(decode(b"data: first\ndata: second\ndata:\ndata: fourth\n\n")) == ["first\nsecond\n\nfourth"]


def test_data_without_space_and_only_one_space_removed():
    assert datas(decode(b"data:x\n\ndata:  y\n\ndata:\tz\n\n")) == ["x", " y", "\tz"]


def test_field_without_colon_has_empty_value():
    # "data" alone is a data line with an empty value: the event is dispatched with ""
    assert datas(decode(b"data\n\n")) == [""]
    assert datas(decode(b"data\ndata\n\n")) == ["\n"]


def test_colon_inside_value_is_kept():
    assert datas(decode(b'data: {"a": "b:c"}\n\n')) == ['{"a": "b:c"}']


def test_last_event_without_trailing_blank_line_is_delivered_on_flush():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: last") == [ServerSentEvent("one")]
    assert decoder.flush() == [ServerSentEvent("last")]
    # same with a complete last line but no blank line after it
    assert datas(decode(b"data: one\n\ndata: last\n")) == ["one", "last"]
    assert datas(decode(b"data: one\r\n\r\ndata: last\r\n")) == ["one", "last"]


def test_flush_without_pending_event_returns_nothing():
    decoder = SSEDecoder()
    decoder.feed(b"data: x\n\n")
    assert decoder.flush() == []
    assert SSEDecoder().flush() == []


def test_id_field_is_kept_and_persists_as_last_event_id():
    events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n")
    assert [(e.data, e.id) for e in events] == [("a", "7"), ("b", "7"), ("c", "8")]


def test_id_with_nul_is_ignored():
    events = decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_retry_field_only_takes_ascii_digits():
    events = decode(b"retry: 3000\ndata: a\n\nretry: soon\ndata: b\n\n")
    assert [e.retry for e in events] == [3000, 3000]


def test_retry_with_non_ascii_digits_is_ignored_not_a_crash():
    # str.isdigit() is true for "²" and "١", but the spec takes ASCII digits only
    events = decode("retry: ²\ndata: a\n\nretry: ١٢\ndata: b\n\nretry: 5\ndata: c\n\n".encode())
    assert [(e.data, e.retry) for e in events] == [("a", None), ("b", None), ("c", 5)]


def test_event_without_data_is_not_dispatched():
    events = decode(b"event: ping\n\nid: 1\n\nretry: 10\n\n: c\n\ndata: real\n\n")
    assert [(e.event, e.data) for e in events] == [("message", "real")]


def test_event_without_data_at_end_of_stream_is_not_dispatched():
    assert decode(b"data: a\n\nevent: trailing") == [ServerSentEvent("a")]


def test_unknown_fields_are_ignored():
    assert decode(b"foo: bar\ndata: x\nData: y\n\n") == [ServerSentEvent("x")]


def test_blank_lines_alone_dispatch_nothing():
    assert decode(b"\n\n\r\n\r\r\n") == []


def test_utf8_split_inside_a_character():
    body = "data: héllo – 世界 🙂\n\n".encode()
    cut = body.index("🙂".encode()) + 2
    assert datas(decode(body[:cut], body[cut:])) == ["héllo – 世界 🙂"]
    assert datas(decode(*[body[i : i + 1] for i in range(len(body))])) == ["héllo – 世界 🙂"]


def test_invalid_utf8_is_replaced_not_raised():
    assert datas(decode(b"data: a\xffb\n\n")) == ["a\ufffdb"]


# --- property: chunking never changes the events -----------------------------------

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
# Text for data values: any characters (non-ASCII, astral, NUL) except line breaks
# inside one line; newlines inside the data are sent as several data lines.
DATA_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)),
    max_size=40,
)
NAME_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda s: not s.startswith(" "))
EVENT = st.fixed_dictionaries(
    {
        "data": DATA_TEXT,
        "event": st.none() | NAME_TEXT,
        "id": st.none() | NAME_TEXT,
        "comment": st.none()
        | st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=10),
        "nospace": st.booleans(),
    }
)


def serialise(events: list[dict], line_end: str, trailing_blank: bool) -> bytes:
    lines: list[str] = []
    for ev in events:
        if ev["comment"] is not None:
            lines.append(":" + ev["comment"])
        if ev["event"] is not None:
            lines.append("event: " + ev["event"])
        if ev["id"] is not None:
            lines.append("id: " + ev["id"])
        for part in ev["data"].split("\n"):
            # "data:" without a space is only unambiguous when the value does not start with one
            sep = ":" if ev["nospace"] and not part.startswith(" ") else ": "
            lines.append("data" + sep + part)
        lines.append("")
    if not trailing_blank and lines:
        lines.pop()
    return "".join(line + line_end for line in lines).encode("utf-8")


def expected(events: list[dict]) -> list[ServerSentEvent]:
    out, last_id = [], None
    for ev in events:
        if ev["id"] is not None:
            last_id = ev["id"]
        out.append(ServerSentEvent(ev["data"], ev["event"] or "message", last_id))
    return out


@pytest.mark.no_cover  # thousands of runs of the same lines: tracing them would triple its time, and coverage is measured by the plain tests
@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(EVENT, max_size=8),
    line_end=LINE_ENDS,
    trailing_blank=st.booleans(),
    data=st.data(),
)
def test_any_chunking_gives_the_events_of_the_whole_body(events, line_end, trailing_blank, data):
    body = serialise(events, line_end, trailing_blank)
    whole = decode(body)
    assert whole == expected(events)
    # random split points (may fall inside a UTF-8 character or a CRLF pair)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=12), label="cuts"))
    bounds = [0, *cuts, len(body)]
    assert decode(*[body[a:b] for a, b in itertools.pairwise(bounds)]) == whole
    # one byte at a time
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == whole
