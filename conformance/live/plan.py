"""Which cells of a live run call a provider, and what they will cost, decided before anything is sent.

Decided at collection, the same way in every process (pytest-xdist workers collect alike), so
the budget, the resume and the dry-run listing all agree with what the run then does:

* ``offline``: the cell sends nothing (unsupported, not applicable): it runs as usual;
* ``simulated``: the scenario injects a fault (an HTTP error, a broken stream); a provider
  cannot be made to answer that on demand, so the committed cassette stays and the cell is skipped;
* ``no_key``: the provider's key is not in the environment (the variable is named);
* ``resumed``: this run already recorded the cell (its cassette says ``source: live`` with
  this run id): it is replayed from that cassette, never sent again;
* ``over_budget``: beyond ``--live-max-cells``;
* ``call``: will call the provider.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ailib import manifest as manifests

from ..cassettes import read_provenance
from ..contract import dig, load_contracts
from ..runtimes.base import Call
from ..scenarios import Scenario, needs_cassette

#: Assumed answer length, for the estimate only: the scenarios' prompts ask for a greeting
#: or one fact, answered in a sentence. The upper bound uses max_tokens where a request has it.
ANSWER_TOKENS = 100


@dataclass
class PlannedCell:
    provider: str
    scenario: Scenario
    kind: str  # offline | simulated | no_key | resumed | over_budget | call
    reason: str | None = None
    max_tokens: int | None = None
    prompt_tokens: int = 0
    endpoint: str | None = None

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.scenario.id}"

    @property
    def estimated_tokens(self) -> int:
        answer = ANSWER_TOKENS if self.max_tokens is None else min(self.max_tokens, ANSWER_TOKENS)
        return self.prompt_tokens + answer

    @property
    def most_tokens(self) -> int | None:
        """At most this many tokens (prompt + max_tokens); None when the request sets no max_tokens."""
        return None if self.max_tokens is None else self.prompt_tokens + self.max_tokens


def _bound(cells: list[PlannedCell]) -> str:
    bounds = [c.most_tokens for c in cells]
    if any(b is None for b in bounds):
        return f"no upper bound: {sum(b is None for b in bounds)} without max_tokens"
    return f"at most {sum(b for b in bounds if b is not None)}"


@dataclass
class Plan:
    run_id: str
    cells: list[PlannedCell] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[PlannedCell]:
        return [c for c in self.cells if c.kind == kind]

    def by_name(self) -> dict[str, PlannedCell]:
        return {c.name: c for c in self.cells}


def key_variable(provider: str) -> tuple[str | None, str]:
    """(the variable holding the provider's key, or None; the variable to name when it is missing)."""
    names = manifests.load(provider).env_vars()
    present = [n for n in names if os.environ.get(n)]
    return (present[0] if present else None), names[0]


def recorded_in_run(path: Path, run_id: str) -> bool:
    """The cassette at ``path`` was recorded live by run ``run_id`` (an interrupted attempt of this run)."""
    if not path.is_file():
        return False
    block = read_provenance(path) or {}
    return block.get("source") == "live" and str(block.get("run")) == run_id


def make_plan(
    cells: list[tuple[str, Scenario]],
    *,
    run_id: str,
    max_cells: int | None,
    cassette: Callable[[str, str], Path],
) -> Plan:
    plan = Plan(run_id)
    budget = max_cells
    for provider, scenario in cells:
        manifest = manifests.load(provider)
        cell = PlannedCell(provider, scenario, "call")
        present, wanted = key_variable(provider)
        if not needs_cassette(manifest, scenario):
            cell.kind = "offline"
        elif scenario.fault:
            cell.kind, cell.reason = (
                "simulated",
                (
                    f"--live: fault scenario {scenario.fault!r} is only simulated (a provider cannot be made to "
                    "answer it on demand); its committed cassette stays"
                ),
            )
        elif present is None:
            cell.kind, cell.reason = "no_key", f"--live: set {wanted} to record {provider}"
        elif recorded_in_run(cassette(provider, scenario.id), run_id):
            cell.kind, cell.reason = "resumed", f"recorded live earlier in run {run_id}: replayed, not sent again"
        elif budget is not None and budget <= 0:
            cell.kind, cell.reason = "over_budget", f"--live-max-cells {max_cells} reached"
        elif budget is not None:
            budget -= 1
        plan.cells.append(cell)
    return plan


def estimate_prompt_tokens(messages: tuple[tuple[str, str], ...]) -> int:
    """A rough count (about four characters a token, a few tokens of framing per message):
    enough to size a budget, not to bill."""
    return sum(math.ceil(len(text) / 4) + 4 for _, text in messages) + 3


def _max_tokens(provider: str, body: Any) -> int | None:
    """The max-tokens value in a request body, under the name the provider documents."""
    name = ((load_contracts().get(provider) or {}).get("fields") or {}).get("max_tokens")
    if not name or not isinstance(body, dict):
        return None
    value = dig(body, str(name))
    return value if isinstance(value, int) else None


def capture_requests(plan: Plan, runtime: Any, make_call: Callable[[PlannedCell, Callable[[], Any]], Call]) -> None:
    """Fill each ``call`` cell's max_tokens and endpoint from the request the runtime really
    builds for it, caught by an in-memory transport (nothing leaves the process)."""
    import json

    import httpx

    from ..runner import run_runtime

    for cell in plan.of_kind("call"):
        cell.prompt_tokens = estimate_prompt_tokens(cell.scenario.messages)
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request, seen: list[httpx.Request] = seen) -> httpx.Response:
            seen.append(request)
            return httpx.Response(599, json={"error": {"message": "dry run: nothing was sent"}})

        run_runtime(runtime, make_call(cell, lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler))))
        if not seen:
            continue
        request = seen[0]
        cell.endpoint = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        cell.max_tokens = _max_tokens(cell.provider, body)


def render_plan(plan: Plan, endpoint_for: Callable[[str], str | None]) -> list[str]:
    """The dry-run listing: per provider the cells that would call it, then what would not."""
    lines = [f"live run {plan.run_id} (dry run: nothing was sent)"]
    calls = plan.of_kind("call")
    providers = list(dict.fromkeys(c.provider for c in calls))
    total = sum(c.estimated_tokens for c in calls)
    lines.append(
        f"{len(calls)} cells would call {len(providers)} providers, about {total} tokens in all ({_bound(calls)})"
    )
    for provider in providers:
        mine = [c for c in calls if c.provider == provider]
        variable, _ = key_variable(provider)
        where = endpoint_for(provider) or (mine[0].endpoint or "?")
        lines.append(
            f"provider {provider}: {len(mine)} cells, about {sum(c.estimated_tokens for c in mine)} tokens "
            f"({_bound(mine)}), key from {variable}, endpoint {where}"
        )
        for c in mine:
            cap = "none (the provider's default)" if c.max_tokens is None else str(c.max_tokens)
            lines.append(f"  cell {c.name} max_tokens={cap} tokens~{c.estimated_tokens} ({_bound([c])})")
    skipped: dict[str, str] = {}
    for c in plan.of_kind("no_key"):
        skipped.setdefault(c.provider, key_variable(c.provider)[1])
    for provider, variable in skipped.items():
        lines.append(f"skipped provider {provider}: no key (set {variable})")
    for kind, label in (
        ("resumed", "already recorded in this run (replayed, not sent)"),
        ("over_budget", "over the --live-max-cells budget"),
        ("simulated", "fault scenarios, simulated only (not sent)"),
    ):
        mine = plan.of_kind(kind)
        if mine:
            lines.append(f"{label}: {len(mine)} cells")
            if kind != "simulated":
                lines.extend(f"  {kind} {c.name}" for c in mine)
    return lines
