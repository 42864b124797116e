"""The sections of a manifest as typed, frozen values, compiled once when a manifest loads.

The JSON Schema (``manifests/schema/manifest.schema.json``) stays the one authority on what a
manifest may hold; these classes are what the client reads after validation, so a codec, the
transport or the stream decoder never looks a section up by key per call, and a type checker
sees every field it uses. Defaults are the schema's: what a manifest leaves out reads as
"absent" (``None``, an empty mapping), never as a guess.

Mappings are read-only views (``MappingProxyType``) over copies of the manifest's data:
a section cannot be changed after load, and it does not change when ``Manifest.data`` does.
Values inside them (``body_extras``, ``tools.choice``) are the manifest's JSON as loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from . import paths

if TYPE_CHECKING:
    from .manifest import Extraction

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of ``value`` (``None``: an empty mapping)."""
    return MappingProxyType(dict(value)) if value else _EMPTY


@dataclass(frozen=True, slots=True)
class Capability:
    """One ``capabilities`` entry: supported, or not with the manifest's reason."""

    supported: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    """One ``request.parameters`` entry: the body field a parameter goes to, and its bounds."""

    name: str
    field: str
    min: float | None = None
    max: float | None = None
    max_items: int | None = None
    join: str | None = None
    exclusive_min: bool = False
    exclusive_max: bool = False


@dataclass(frozen=True, slots=True)
class UrlVariable:
    """A ``{name}`` of the base URL other than ``{model}``, read from an environment variable."""

    name: str
    env: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """``endpoint``: where requests go."""

    base_url: str
    chat_path: str
    #: the path of a streaming call: ``stream_path``, else ``chat_path``
    stream_path: str
    #: the query string of a non-streaming call
    query: Mapping[str, str] = field(default_factory=_empty)
    #: the query string of a streaming call: ``query`` with ``stream_query`` over it
    stream_query: Mapping[str, str] = field(default_factory=_empty)
    variables: Mapping[str, UrlVariable] = field(default_factory=_empty)

    @classmethod
    def compile(cls, data: Mapping[str, Any]) -> Endpoint:
        query = dict(data.get("query") or {})
        return cls(
            base_url=data["base_url"],
            chat_path=data["chat_path"],
            stream_path=data.get("stream_path") or data["chat_path"],
            query=frozen_map(query),
            stream_query=frozen_map({**query, **(data.get("stream_query") or {})}),
            variables=frozen_map(
                {
                    name: UrlVariable(name, spec["env"], spec.get("description"))
                    for name, spec in (data.get("variables") or {}).items()
                }
            ),
        )


@dataclass(frozen=True, slots=True)
class Auth:
    """``auth``: where the key comes from and where it goes on a request."""

    env: str
    placement: Literal["header", "query"]
    #: the header or query parameter that carries the key
    name: str
    #: written before the key in a header (``"Bearer "``)
    prefix: str = ""
    alt_env: tuple[str, ...] = ()

    @classmethod
    def compile(cls, data: Mapping[str, Any]) -> Auth:
        placement = data["placement"]
        if placement not in ("header", "query"):
            raise ValueError(f"auth placement {placement!r} is neither header nor query")
        return cls(data["env"], placement, data["name"], data.get("prefix", ""), tuple(data.get("alt_env") or ()))


@dataclass(frozen=True, slots=True)
class HeaderSpec:
    """``headers`` (every call), ``stream_headers`` and ``sync_headers`` (one kind of call)."""

    common: Mapping[str, str] = field(default_factory=_empty)
    stream: Mapping[str, str] = field(default_factory=_empty)
    sync: Mapping[str, str] = field(default_factory=_empty)

    @classmethod
    def compile(cls, data: Mapping[str, Any]) -> HeaderSpec:
        return cls(
            frozen_map(data.get("headers")),
            frozen_map(data.get("stream_headers")),
            frozen_map(data.get("sync_headers")),
        )


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """``request``: how the body is laid out besides the conversation."""

    #: body path of the model name (None: the model is in the URL)
    model_field: str | None = None
    #: body path set to ``true`` on a streaming call
    stream_field: str | None = None
    #: top-level body fields added to a streaming call
    stream_extras: Mapping[str, Any] = field(default_factory=_empty)
    #: parameter values sent when the caller sets none
    defaults: Mapping[str, Any] = field(default_factory=_empty)
    #: role name -> the provider's name for it
    roles: Mapping[str, str] = field(default_factory=_empty)
    parameters: Mapping[str, Parameter] = field(default_factory=_empty)
    #: top-level body fields sent on every call
    body_extras: Mapping[str, Any] = field(default_factory=_empty)

    @classmethod
    def compile(cls, data: Mapping[str, Any]) -> RequestSpec:
        return cls(
            model_field=data.get("model_field"),
            stream_field=data.get("stream_field"),
            stream_extras=frozen_map(data.get("stream_extras")),
            defaults=frozen_map(data.get("defaults")),
            roles=frozen_map(data.get("roles")),
            parameters=frozen_map(
                {name: Parameter(name, **spec) for name, spec in (data.get("parameters") or {}).items()}
            ),
            body_extras=frozen_map(data.get("body_extras")),
        )


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """``stream``: how a streamed answer is framed, routed and ended."""

    #: how an event picks its route: ``"sse"`` (the SSE event name), ``"field"`` (a field
    #: of its JSON, read by ``route_key``) or ``"none"`` (every event: route ``*``)
    mode: Literal["sse", "field", "none"] = "none"
    #: event type -> what to read from such an event (``*``: any other event)
    routes: Mapping[str, Extraction] = field(default_factory=_empty)
    #: ``(sse event name, parsed data) -> route name``; None where ``mode`` is ``"none"``
    route_key: Callable[[str, Any], str] | None = None
    #: the event data that ends the stream (``[DONE]``)
    done_marker: str | None = None
    #: the event with a finish reason is the last one
    ends_at_finish: bool = False
    #: two-step streams: the path of the stream URL in the first answer, and its getter
    start_url: str | None = None
    read_start_url: paths.Getter | None = field(default=None, repr=False)
    #: documented hosts (besides the endpoint's origin) a ``start_url`` may point to
    follow_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """``errors``: where an error body says what went wrong, and what that means."""

    message: paths.Getter = paths._none
    type: paths.Getter = paths._none
    code: paths.Getter = paths._none
    #: provider error type or code -> standard error class
    classes: Mapping[str, str] = field(default_factory=_empty)
    #: text in an error message -> standard class (for ambiguous statuses)
    message_classes: Mapping[str, str] = field(default_factory=_empty)
    #: words that make a rate-limit error a quota error
    quota_markers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolsSpec:
    """``tools``: how the provider spells each ``.tool_choice()`` word."""

    #: word -> the value the provider's field takes (``named: true`` for a tool's name)
    choice: Mapping[str, Any] = field(default_factory=_empty)
    #: an assistant turn's tool calls are sent back with their ``index``
    call_index: bool = False
    #: word -> why it is not mapped
    unsupported: Mapping[str, str] = field(default_factory=_empty)

    @classmethod
    def compile(cls, data: Mapping[str, Any]) -> ToolsSpec:
        return cls(frozen_map(data.get("choice")), bool(data.get("call_index")), frozen_map(data.get("unsupported")))
