"""The faults the simulator can inject, chosen per request by the ``x-ailib-sim-fault`` header."""

from __future__ import annotations

FAULT_HEADER = "x-ailib-sim-fault"

FAULTS: dict[str, str] = {
    # HTTP errors, each in the family's documented error body
    "error_400": "400 invalid request, in the family's error body",
    "error_401": "401 invalid API key",
    "error_403": "403 permission denied",
    "error_404": "404 model / resource not found",
    "error_413": "413 request too large",
    "error_429": "429 rate limited, with retry-after: 1",
    "error_429_no_retry_after": "429 rate limited, without a retry-after header",
    "error_429_quota": "429 quota or billing exhausted (e.g. OpenAI insufficient_quota), no retry-after",
    "error_500": "500 internal server error",
    "error_502": "502 bad gateway, JSON error body",
    "error_503": "503 service unavailable / overloaded",
    "error_504": "504 gateway timeout",
    "error_529": "529 overloaded (Anthropic overloaded_error; other families: their 503-style body)",
    "error_html_502": "502 from a proxy: a text/html page, not JSON",
    # stream faults (stream requests only; a non-stream request is answered normally)
    "stream_error_event": "an in-stream error after three deltas in a 200 stream (family's form: openai "
    "data: {error}, anthropic event: error overloaded_error, gemini data: {error}, cohere message-end "
    "finish_reason ERROR, replicate event: error)",
    "stream_cut": "the body ends in the middle of an event after three deltas; no finish, no done marker",
    "stream_no_done": "finish reason and usage sent, but no done marker ([DONE] / message_stop); families "
    "whose finish is their end marker (gemini, replicate done) are unchanged",
    "stream_no_finish_no_done": "content deltas only, then end of body",
    "stream_invalid_json": "one delta event (Replicate: the done event) carries broken JSON",
    "stream_keepalive": "SSE comment lines (and Anthropic ping events) before and between all events",
    "stream_empty_choices": "openai-style chunks with choices: [] between the deltas (gemini: usage-only "
    "chunks; other families: unchanged)",
    "stream_utf8_split": "the body is written so a multi-byte UTF-8 character is split across two writes",
    "stream_long_event": "one content delta of 1 MiB of text",
    # hardening (issue 12): what a client must not do with a hostile or broken server
    "redirect_cross_origin": "a 307 whose Location is another origin (https://attacker.example): the client "
    "must refuse it, not send its key there",
    "ok_error_body": "a 200 whose body is the family's error object (Replicate: a failed prediction), not an answer",
    "stream_after_terminal": "one more content delta (AFTER-END) after the terminal event ([DONE], message_stop, "
    "Replicate done; Gemini: its finish chunk); streams without a terminal event are unchanged",
    "stream_trickle": "the stream's first 200 bytes written one byte per network write, then the rest",
}

#: Where redirect_cross_origin sends the client: a host no provider uses (RFC 6761 .example).
REDIRECT_TARGET = "https://attacker.example"
#: The text stream_after_terminal sends after the terminal event.
AFTER_END = "AFTER-END"

# fault -> (HTTP status, error kind the families know how to describe)
ERROR_FAULTS: dict[str, tuple[int, str]] = {
    "error_400": (400, "invalid_request"),
    "error_401": (401, "auth"),
    "error_403": (403, "permission"),
    "error_404": (404, "not_found"),
    "error_413": (413, "too_large"),
    "error_429": (429, "rate_limit"),
    "error_429_no_retry_after": (429, "rate_limit"),
    "error_429_quota": (429, "quota"),
    "error_500": (500, "server"),
    "error_502": (502, "bad_gateway"),
    "error_503": (503, "overloaded"),
    "error_504": (504, "gateway_timeout"),
    "error_529": (529, "overloaded_529"),
}

HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def check_fault(fault: str | None) -> str | None:
    """The fault name, or None; an unknown name is a harness bug and raises ValueError."""
    if fault is None or fault == "":
        return None
    fault = fault.strip()
    if fault not in FAULTS:
        raise ValueError(f"unknown simulator fault {fault!r}; known: {', '.join(FAULTS)}")
    return fault
