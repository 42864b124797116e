"""The simulated model: a fixed reply chosen by the request, cut by stop sequences and
max_tokens the way a real model stops, and the word counts used as token usage.

The reply is 24 words long, holds the word ``END`` as its 14th word (the stop scenario sends
``stop: ["END"]``) and one non-ASCII character (``é``, in the 4th word, so it survives any
cut of four words or more)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .core import digest

CODE_WORDS = ("amber", "birch", "cedar", "dune", "ember", "fjord", "grove", "harbor")

TEMPLATE = (
    "Hello from the café simulator: reply {code} is ready, and the closing word END marks "
    "the spot after which the text continues a little."
)

REASONING = "The user wants a reply; the simulator thinks in a fixed way before it answers."

# stream_long_event: one content delta of exactly 1 MiB of ASCII text (65536 words).
LONG_DELTA = (" " + "long-event-text " * 65536)[:1048576]


def reply_for(seed_text: str) -> tuple[str, int]:
    """The full reply for a request whose last user message is ``seed_text``, and the index
    of its code word (enough to rebuild the reply later, see the Replicate stream URL)."""
    index = int(digest("reply", seed_text), 16) % len(CODE_WORDS)
    return full_reply(index), index


def full_reply(index: int) -> str:
    return TEMPLATE.format(code=CODE_WORDS[index % len(CODE_WORDS)])


def count_words(text: str) -> int:
    """Token counts are whitespace-separated words."""
    return len(text.split())


def split_deltas(text: str) -> list[str]:
    """Word-sized stream deltas: each word with the whitespace before it; whitespace at the
    end stays on the last delta. Joined, they are ``text`` again."""
    deltas = re.findall(r"\s*\S+", text)
    rest = text[len("".join(deltas)) :]
    if rest:
        if deltas:
            deltas[-1] += rest
        else:
            deltas = [rest]
    return deltas


@dataclass
class Answer:
    """What the simulated model produced for one request.

    ``finish`` is the family-neutral reason: ``natural``, ``length`` or ``stop_sequence``;
    each family turns it into its own raw value."""

    text: str
    finish: str
    prompt_tokens: int
    stop_sequence: str | None = None
    code_index: int = 0
    reasoning: str | None = None
    deltas: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.deltas:
            self.deltas = split_deltas(self.text)

    @property
    def completion_tokens(self) -> int:
        return count_words("".join(self.deltas))

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def reasoning_tokens(self) -> int:
        return count_words(self.reasoning or "")


def generate(
    seed_text: str,
    prompt_tokens: int,
    *,
    stop: list[str] | None = None,
    max_tokens: int | None = None,
    reasoning: bool = False,
) -> Answer:
    """Run the simulated model: the reply is cut before the earliest stop sequence, then
    truncated to ``max_tokens`` words when it is longer than that."""
    text, index = reply_for(seed_text)
    finish = "natural"
    matched = None
    cut = None
    for seq in stop or []:
        if not seq:
            continue
        pos = text.find(seq)
        if pos >= 0 and (cut is None or pos < cut):
            cut, matched = pos, seq
    if cut is not None:
        text = text[:cut]
        finish = "stop_sequence"
    if max_tokens is not None and max_tokens < count_words(text):
        words = text.split()[: max(max_tokens, 0)]
        text = " ".join(words)
        finish, matched = "length", None
    return Answer(
        text=text,
        finish=finish,
        prompt_tokens=prompt_tokens,
        stop_sequence=matched,
        code_index=index,
        reasoning=REASONING if reasoning else None,
    )
