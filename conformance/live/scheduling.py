"""Under pytest-xdist, each provider's cells go to one worker.

A live run is polite per provider: cells of one provider run one after another on one worker
(with :class:`~conformance.live.route.ProviderSlots` as the bound that holds whatever the
scheduling), while different providers run side by side. This is xdist's own scope
scheduler with the provider as the scope, chosen through its ``pytest_xdist_make_scheduler``
hook. (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but pytest-xdist
3.8 renames ``item._nodeid``, which pytest 9 no longer reads, so the groups are lost.)
"""

from __future__ import annotations

import re
from typing import Any

_CELL = re.compile(r"::test_scenario\[(?P<cell>.+)\]$")


def provider_of(nodeid: str, providers: list[str]) -> str | None:
    """The provider of a cell's test id (``...::test_scenario[<provider>-<scenario>]``), or None."""
    m = _CELL.search(nodeid)
    if m is None:
        return None
    for provider in sorted(providers, key=len, reverse=True):  # the longest id that fits
        if m["cell"].startswith(provider + "-"):
            return provider
    return None


def provider_scheduler(config: Any, log: Any, providers: list[str]) -> Any:
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ProviderScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            provider = provider_of(nodeid, providers)
            return f"provider:{provider}" if provider else str(super()._split_scope(nodeid))

    return ProviderScheduling(config, log)
