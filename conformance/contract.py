"""Load the documented wire contracts (``conformance/contracts/<id>.yaml``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"


@lru_cache(maxsize=1)
def load_contracts() -> dict[str, dict[str, Any]]:
    import yaml

    contracts: dict[str, dict[str, Any]] = {}
    for path in sorted(CONTRACTS_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for provider, contract in data.items():
            contracts[provider] = contract
    return contracts


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
