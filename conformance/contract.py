"""The documented wire contracts (``conformance/contracts/<id>.yaml``) and reading dotted paths in JSON."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def load_contracts() -> dict[str, dict[str, Any]]:
    """The contracts by provider id, read once per session: the simulator's own loader,
    so the side that serves a contract and the side that judges by it read it alike."""
    from .simulator import load_contracts as read

    return read()


def dig(obj: Any, dotted: str) -> Any:
    """Value at a dotted path of a JSON object, or ``MISSING``."""
    for key in dotted.split("."):
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return MISSING
    return obj


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()
