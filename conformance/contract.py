"""The documented wire contracts (the evidence layer's ``facts/<id>.yaml``) and reading dotted paths in JSON."""

from __future__ import annotations

from typing import Any

from .evidence.facts import load_facts


def load_contracts() -> dict[str, dict[str, Any]]:
    """The contracts by provider id, read once per session from the evidence layer (the
    judge's own place; the simulator reads the same files from there)."""
    return load_facts()


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
