"""Per-provider behaviour profiles: what a provider's real traffic does differently from its
wire family's documented default, each difference citing where it was seen.

The profiles live in ``profiles.yaml`` beside this module. The simulator asks a profile for
the quirks that apply to one request (some apply only to some models, e.g. reasoning fields
for reasoning models), and the recorder puts the profile's evidence level into each cassette's
provenance: ``observed`` (quirks read from the provider's own real recordings) or
``family-default`` (nothing real is known: the provider is played as its family)."""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROFILES_FILE = Path(__file__).resolve().parent / "profiles.yaml"

#: Every quirk a profile may name, with what it changes.
QUIRKS: dict[str, str] = {
    # openai-chat family streams
    "first_chunk_text": "the first chunk carries the role and the first piece of text",
    "first_delta": "the delta of the role-only first chunk (e.g. {role: assistant}, no content key)",
    "role_every_chunk": "every content chunk repeats role: assistant in its delta",
    "finish_delta": "the delta object of the chunk that carries finish_reason",
    "finish_chunk_text": "the last piece of text arrives in the chunk that carries finish_reason",
    "stream_usage": "where stream usage goes: separate_chunk (choices: []), finish_chunk, "
    "every_chunk_cumulative, x_groq, usage_choice_chunk (a last chunk with an empty delta and usage)",
    "usage_when_asked": "where stream usage goes when the request sets stream_options.include_usage",
    "usage_unasked": "stream usage is sent even when the request does not ask for it",
    "chunk_object": "the object value of stream chunks",
    "omit_keys": "dotted paths of OpenAI's answer and chunk keys the provider never sends",
    "add_keys": "dotted paths a provider's non-stream answers hold on top of its family's: {path: value}",
    "add_chunk_keys": "dotted paths a provider's stream chunks hold on top of its family's: {path: value}",
    "cumulative_message": "every chunk also repeats the message so far under choices[].message",
    "prompt_filter_first_chunk": "a first chunk with only prompt_filter_results and empty id/model (Azure)",
    "sse_content_type": "the content-type header of a stream",
    "stream_error_content_type": "the content-type of an error answered on the stream URL",
    "done_marker": "whether the stream ends with data: [DONE] (false: it just ends)",
    "eol": "the SSE line ending",
    "leading_comment": "an SSE comment line sent before the first event",
    "keepalive_comment": "the comment a busy server sends between events (null: never)",
    "model_echo": "the model id the answer names, by requested model (dated snapshots)",
    "reasoning_field": "the field reasoning models stream their reasoning in: reasoning or reasoning_content",
    "content_parts": "delta.content as a list of typed parts instead of a string",
    "stream_error": "how an error inside a 200 stream looks: event_error, chunk_error_finish_stop",
    "finish_reason_natural": "the raw finish reason of a natural end",
    # errors and headers, any family
    "error_body": "error body templates by error kind or '*' ({message}, {status} are filled in)",
    "error_messages": "the provider's own message/type/code by error kind",
    "rate_limit_headers": "headers sent with a 429",
    "bad_key_status": "the HTTP status a wrong API key gets",
    # requests
    "extra_request_fields": "top-level request fields the provider documents on top of its family's",
    "path_aliases": "other path prefixes the API serves like the documented one: {alias: documented}",
    "accepted_auth": "further auth placements the API accepts: [{header, format}]",
    "accepted_versions": "every value of the version header the API accepts",
    # other families
    "thoughts_token_count": "Gemini usageMetadata.thoughtsTokenCount (thinking models)",
    "billed_units_differ": "Cohere billed_units smaller than tokens by fixed overheads",
}

#: How a cell's details name a quirk's value (quirk, value) -> words; other quirks by name.
_NOTES: dict[tuple[str, Any], str] = {
    ("done_marker", False): "no [DONE]",
    ("done_marker", True): "ends with data: [DONE]",
    ("eol", "\r\n"): "CRLF line endings",
    ("stream_usage", "every_chunk_cumulative"): "usage on every chunk, cumulative",
    ("stream_usage", "finish_chunk"): "usage in the finish chunk",
    ("stream_usage", "x_groq"): "usage in x_groq.usage",
    ("stream_usage", "usage_choice_chunk"): "usage in a last chunk with an empty delta",
    ("stream_usage", "separate_chunk"): "usage in a last chunk with choices: []",
    ("first_chunk_text", True): "text in the first chunk",
    ("finish_chunk_text", True): "text in the finish chunk",
    ("prompt_filter_first_chunk", True): "a prompt_filter_results first chunk",
    ("usage_unasked", True): "stream usage without stream_options",
    ("cumulative_message", True): "each chunk repeats the message so far",
}

EVIDENCE_OBSERVED = "observed"
EVIDENCE_FAMILY = "family-default"


class ProfileError(ValueError):
    """A profile entry that names an unknown quirk or has no citation."""


@dataclass(frozen=True)
class Quirk:
    name: str
    value: Any
    cite: tuple[str, ...]
    models: tuple[str, ...] = ()
    by_model: tuple[tuple[str, Any], ...] = ()

    def applies_to(self, model: str) -> bool:
        return not self.models or any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)

    def value_for(self, model: str) -> Any:
        """The value for ``model``: the first ``by_model`` pattern it matches, else ``value``."""
        for pattern, value in self.by_model:
            if fnmatch.fnmatchcase(model, pattern):
                return value
        return self.value


@dataclass(frozen=True)
class Profile:
    provider: str
    recordings: tuple[str, ...] = ()
    quirks: tuple[Quirk, ...] = ()

    @property
    def evidence(self) -> str:
        return EVIDENCE_OBSERVED if self.recordings and self.quirks else EVIDENCE_FAMILY

    def for_model(self, model: str) -> dict[str, Any]:
        """quirk name -> value, for the quirks that apply to ``model``."""
        return {q.name: q.value_for(model) for q in self.quirks if q.applies_to(model)}

    def notes(self, model: str) -> list[str]:
        """The provider's real differences from its family for ``model``, in words."""
        out = []
        for name, value in self.for_model(model).items():
            try:
                out.append(_NOTES.get((name, value), name.replace("_", " ")))
            except TypeError:  # an unhashable value (a mapping or list): the quirk's name says it
                out.append(name.replace("_", " "))
        return out

    def provenance(self, model: str = "") -> dict[str, Any]:
        """The profile's evidence, as a cassette's provenance states it: the level, and for
        an observed profile the recordings and the differences it plays for ``model``."""
        out: dict[str, Any] = {"profile": self.evidence}
        if self.evidence == EVIDENCE_OBSERVED:
            out["profile_recordings"] = list(self.recordings)
            out["profile_notes"] = self.notes(model)
        return out


def parse_profiles(data: Any, source: str = "profiles") -> dict[str, Profile]:
    """Profiles from their YAML data; unknown quirks and quirks without a citation raise
    :class:`ProfileError` naming the provider and quirk."""
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a mapping of provider ids")
    out: dict[str, Profile] = {}
    for provider, entry in data.items():
        if not isinstance(entry, dict):
            raise ProfileError(f"{source}: {provider}: expected a mapping")
        quirks = []
        for name, spec in (entry.get("quirks") or {}).items():
            where = f"{source}: {provider}.quirks.{name}"
            if name not in QUIRKS:
                raise ProfileError(f"{where}: unknown quirk (known: {', '.join(sorted(QUIRKS))})")
            if not isinstance(spec, dict) or "value" not in spec:
                raise ProfileError(f"{where}: expected {{value: ..., cite: [...]}}")
            cite = spec.get("cite")
            if isinstance(cite, str):
                cite = [cite]
            if not cite or not all(isinstance(c, str) and c.strip() for c in cite):
                raise ProfileError(f"{where}: no citation (a recording, a spec location or a URL)")
            models = spec.get("models") or []
            by_model = tuple((str(k), v) for k, v in (spec.get("by_model") or {}).items())
            quirks.append(Quirk(str(name), spec["value"], tuple(cite), tuple(str(m) for m in models), by_model))
        out[str(provider)] = Profile(str(provider), tuple(entry.get("recordings") or ()), tuple(quirks))
    return out


@functools.lru_cache(maxsize=4)
def load_profiles(path: str | Path | None = None) -> dict[str, Profile]:
    """Every provider's profile (``profiles.yaml`` unless ``path``)."""
    path = Path(path) if path is not None else PROFILES_FILE
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_profiles(yaml.load(path.read_text(encoding="utf-8"), Loader=loader), path.name)


def profile_for(provider: str) -> Profile:
    """The provider's profile, or an empty one (its family's default behaviour)."""
    return load_profiles().get(provider) or Profile(provider)
