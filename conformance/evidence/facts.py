"""Per-provider facts with provenance (``conformance/evidence/facts/<id>.yaml``).

The facts are the documented wire contract of each provider (keys in ``facts/README.md``):
the simulator serves them and the request checks hold the client to them. Each file also has
a ``sources`` block saying where every fact comes from::

    sources:
      fields.stop: "sdk: perplexityai/perplexity-py@3485870d:src/perplexity/types/chat/completion_create_params.py"
      quirks.no_done_marker: "recording: perplexity__chat_stream_sonar_search_results.json"
      url: "doc: https://docs.perplexity.ai/api-reference/chat-completions-post (read 2026-12-02)"
      fields.max_tokens: "spec: openai/openapi.yaml#/components/schemas/CreateChatCompletionRequest"

A fact with no entry (and no entry for a parent key) is :data:`ASSUMED`. Spec- and
recording-backed facts are re-checked mechanically on every run (:mod:`.spec_checks`,
:mod:`.observed`); documentation-backed ones are shown as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

FACTS_DIR = Path(__file__).resolve().parent / "facts"

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser where PyYAML has it

#: Evidence levels, strongest first, as the matrix names them.
SPEC, OBSERVED, DOCUMENTED, ASSUMED = "spec-checked", "observed", "documented", "assumed"
LEVELS: tuple[str, ...] = (SPEC, OBSERVED, DOCUMENTED, ASSUMED)
_KIND_LEVEL = {"spec": SPEC, "recording": OBSERVED, "sdk": DOCUMENTED, "doc": DOCUMENTED}


@dataclass(frozen=True)
class Citation:
    """Where one fact comes from: ``kind`` is spec | recording | sdk | doc | assumed."""

    kind: str
    ref: str

    @property
    def level(self) -> str:
        return _KIND_LEVEL.get(self.kind, ASSUMED)

    def __str__(self) -> str:
        return f"{self.kind}: {self.ref}" if self.kind != "assumed" else "assumed (no source)"


NO_SOURCE = Citation("assumed", "")


def parse_citation(text: str) -> Citation:
    kind, sep, ref = str(text).partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in _KIND_LEVEL:
        return Citation("assumed", str(text))
    return Citation(kind, ref.strip())


def load_facts(directory: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every provider's facts in ``facts/*.yaml`` (or ``directory``), by provider id.

    A file holds ``{<id>: {family: ..., url: ...}}``; a flat file (``family`` at the top,
    optional ``id``) is accepted too and named after the file. Entries with ``no_chat``
    are returned like the others (the simulator never serves them)."""
    if directory is None:
        return _default_facts()
    return _read(Path(directory))


@lru_cache(maxsize=1)
def _default_facts() -> dict[str, dict[str, Any]]:
    return _read(FACTS_DIR)


def _read(directory: Path) -> dict[str, dict[str, Any]]:
    facts: dict[str, dict[str, Any]] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        if not isinstance(data, dict):
            continue
        if "family" in data or "no_chat" in data or "url" in data:
            facts[str(data.get("id") or path.stem)] = data
            continue
        for cid, entry in data.items():
            if isinstance(entry, dict):
                facts[str(cid)] = entry
    return facts


def citations(provider: str, fact: str, facts: dict[str, dict[str, Any]] | None = None) -> list[Citation]:
    """The sources of ``fact`` (a dotted key such as ``fields.stop``) for ``provider``: its
    own entry, else the nearest parent's; ``[NO_SOURCE]`` when nothing cites it."""
    entry = (facts if facts is not None else load_facts()).get(provider) or {}
    sources = entry.get("sources") or {}
    key = fact
    while key:
        if key in sources:
            found = sources[key]
            return [parse_citation(s) for s in (found if isinstance(found, list) else [found])]
        key = key.rpartition(".")[0]
    if entry.get("docs") and not fact.startswith("unsupported."):
        # The reference page the whole entry was written from (the date it was read was not
        # recorded when the contracts were written): documentation, not a checked fact.
        return [Citation("doc", f"{entry['docs']} (date read not recorded)")]
    return [NO_SOURCE]
