"""Stream faults and quirks that work on any family's rendered events, and the split of a
stream into network writes."""

from __future__ import annotations

import dataclasses

from .answer import LONG_DELTA, Answer
from .core import Event
from .families.base import Exchange, Family, StreamPlan
from .faults import AFTER_END

#: stream_trickle: how many leading bytes of the stream are written one at a time.
TRICKLE_BYTES = 200


def plan_for(fault: str | None) -> StreamPlan:
    if fault == "stream_error_event":
        return StreamPlan(error=True)
    if fault == "stream_no_done":
        return StreamPlan(done=False)
    if fault == "stream_no_finish_no_done":
        return StreamPlan(finish=False, done=False)
    if fault == "stream_empty_choices":
        return StreamPlan(empty_choices=True)
    return StreamPlan()


def with_long_delta(ans: Answer) -> Answer:
    """stream_long_event: a 1 MiB delta right after the first word."""
    ans.deltas = [*ans.deltas[:1], LONG_DELTA, *ans.deltas[1:]]
    return ans


def _half(raw: bytes) -> bytes:
    text = raw.decode("utf-8")
    return text[: max(1, len(text) // 2)].encode("utf-8")


def cut(events: list[Event], after: int = 3) -> list[Event]:
    """stream_cut: everything up to the ``after``-th delta, then half of the next event."""
    deltas = sum(1 for e in events if e.kind == "delta")
    after = min(after, max(deltas - 1, 0))
    out: list[Event] = []
    seen = 0
    for event in events:
        if event.kind == "delta":
            if seen == after:
                out.append(Event("cut", _half(event.raw)))
                return out
            seen += 1
        out.append(event)
    if out:  # no delta to cut: cut the last event instead
        out[-1] = Event("cut", _half(out[-1].raw))
    return out


def _corrupt(raw: bytes) -> bytes:
    lines = raw.decode("utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("data:"):
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            prefix = "data: " if body.startswith("data: ") else "data:"
            payload = body[len(prefix) :]
            lines[i] = prefix + payload[: max(1, len(payload) // 2)] + ending
            break
    return "".join(lines).encode("utf-8")


def corrupt(events: list[Event], json_deltas: bool) -> list[Event]:
    """stream_invalid_json: the second delta (or, for plain-text deltas, the done event)
    carries a JSON document cut in half; the framing stays intact."""
    if json_deltas:
        targets = [i for i, e in enumerate(events) if e.kind == "delta"]
        index = targets[1] if len(targets) > 1 else (targets[0] if targets else None)
    else:
        targets = [i for i, e in enumerate(events) if e.kind in ("done", "error")]
        index = targets[-1] if targets else None
    if index is None:
        return events
    out = list(events)
    out[index] = Event("invalid", _corrupt(events[index].raw))
    return out


def interleave(events: list[Event], fillers: list[bytes]) -> list[Event]:
    """Fillers (comments, pings) before every event."""
    out: list[Event] = []
    for event in events:
        out.extend(Event("other", f) for f in fillers)
        out.append(event)
    return out


def render(family: Family, ex: Exchange, ans: Answer, fault: str | None) -> list[Event]:
    if fault == "stream_long_event":
        ans = with_long_delta(ans)
    events = family.stream_events(ex, ans, plan_for(fault))
    opening = ex.behaviour.get("leading_comment")
    if opening and not ex.extra.get("json_array"):  # a comment before the first event (OpenRouter, Replicate)
        eol = str(ex.behaviour.get("eol") or getattr(family, "eol", "\n"))
        events.insert(0, Event("other", f"{opening}{eol}{eol}".encode()))
    if fault == "stream_cut":
        events = cut(events)
    elif fault == "stream_invalid_json":
        events = corrupt(events, family.json_deltas)
    elif fault == "stream_keepalive":
        events = interleave(events, family.keepalive(ex))
    elif fault == "stream_after_terminal":
        events = after_terminal(family, ex, ans, events)
    return events


def after_terminal(family: Family, ex: Exchange, ans: Answer, events: list[Event]) -> list[Event]:
    """stream_after_terminal: one more content delta after the terminal event. Gemini has
    no done marker: its finish chunk is the last, so the extra chunk follows that one. A
    stream without a terminal event (the no_done_marker quirk) is left unchanged."""
    if not any(e.kind == "done" for e in events) and family.name != "gemini":
        return events
    extra = dataclasses.replace(ans, deltas=[AFTER_END], reasoning=None)
    more = [e for e in family.stream_events(ex, extra, StreamPlan()) if e.kind == "delta"]
    return events + more[:1]


def to_chunks(events: list[Event], fault: str | None) -> list[bytes]:
    """One network write per event; with stream_utf8_split every event holding a multi-byte
    character is written in two parts, split inside that character."""
    chunks = [e.raw for e in events if e.raw]
    if fault == "stream_trickle":
        # One byte per write for the first TRICKLE_BYTES (at the simulator's 2 ms a write,
        # a whole stream would take seconds to record), then one write per event.
        body = b"".join(chunks)
        return [body[i : i + 1] for i in range(min(TRICKLE_BYTES, len(body)))] + (
            [body[TRICKLE_BYTES:]] if len(body) > TRICKLE_BYTES else []
        )
    if fault != "stream_utf8_split":
        return chunks
    out: list[bytes] = []
    for raw in chunks:
        lead = next((i for i, b in enumerate(raw) if b >= 0xC0), None)
        if lead is None:
            out.append(raw)
        else:
            out.extend([raw[: lead + 1], raw[lead + 1 :]])
    return out
