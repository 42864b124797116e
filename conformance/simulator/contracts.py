"""Loading the documented contracts and matching request URLs against them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

# The facts the simulator serves live with the judge, in the evidence layer: the simulator
# reads them, it does not own them.
from ..evidence.facts import FACTS_DIR as CONTRACTS_DIR  # noqa: F401
from ..evidence.facts import load_facts as load_contracts  # noqa: F401


def _variable_values(contract: dict[str, Any]) -> dict[str, str]:
    """URL variables with a known value; ``variables`` maps a name to a value or to
    ``{value|example|default: ...}``."""
    values: dict[str, str] = {}
    for name, spec in (contract.get("variables") or {}).items():
        if isinstance(spec, dict):
            spec = spec.get("value", spec.get("example", spec.get("default")))
        if spec is not None and not isinstance(spec, (dict, list)):
            values[str(name)] = str(spec)
    return values


_VAR = re.compile(r"\{([^{}]+)\}")


def _pattern(template: str, *, host: bool) -> str:
    out = []
    seen: dict[str, str] = {}
    pos = 0
    for m in _VAR.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        group = re.sub(r"\W", "_", name)
        if group[:1].isdigit():
            group = "_" + group
        if group in seen:
            out.append(f"(?P={group})")
        elif host:
            out.append(f"(?P<{group}>[^./]+)")
        elif name == "model":
            # a model id may itself hold a slash (Replicate owner/name), encoded or not
            out.append(f"(?P<{group}>[^?#]+?)")
        else:
            out.append(f"(?P<{group}>[^/?#]+)")
        seen[group] = name
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return "".join(out)


@dataclass
class Route:
    """One URL a contract serves: ``kind`` is ``url`` or ``stream_url``."""

    contract_id: str
    contract: dict[str, Any]
    kind: str
    template: str
    host_re: re.Pattern[str]
    path_re: re.Pattern[str]
    query: list[tuple[str, str]]

    @classmethod
    def compile(cls, contract_id: str, contract: dict[str, Any], kind: str) -> Route:
        template = str(contract[kind])
        for name, value in _variable_values(contract).items():
            template = template.replace("{" + name + "}", value)
        parts = urlsplit(template)
        return cls(
            contract_id=contract_id,
            contract=contract,
            kind=kind,
            template=template,
            host_re=re.compile(_pattern(parts.netloc.lower(), host=True), re.IGNORECASE),
            path_re=re.compile(_pattern(parts.path or "/", host=False)),
            query=parse_qsl(parts.query, keep_blank_values=True),
        )

    def host_matches(self, host: str) -> bool:
        return self.host_re.fullmatch(host) is not None

    def match(self, host: str, path: str, query: list[tuple[str, str]]) -> dict[str, str] | None:
        """The URL variables when the request URL is this route, else None. Query
        parameters the template does not name are ignored (e.g. an API key)."""
        hm = self.host_re.fullmatch(host)
        pm = self.path_re.fullmatch(path)
        if hm is None or pm is None:
            return None
        given = dict(query)
        for key, value in self.query:
            if key not in given:
                return None
            if not _VAR.search(value) and given[key] != value:
                return None
        found = {k: unquote(v) for k, v in {**hm.groupdict(), **pm.groupdict()}.items() if v is not None}
        return found


def split_url(url: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(host without port or credentials, raw path, query pairs) of a request URL."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    return host, parts.path or "/", parse_qsl(parts.query, keep_blank_values=True)


def routes(contracts: dict[str, dict[str, Any]]) -> list[Route]:
    """The served routes, stream URLs first (a stream URL is the more specific one)."""
    out: list[Route] = []
    for kind in ("stream_url", "url"):
        for cid, contract in contracts.items():
            if contract.get("no_chat") or not contract.get(kind) or not contract.get("family"):
                continue
            out.append(Route.compile(cid, contract, kind))
    return out
