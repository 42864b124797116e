"""Provider simulator: a local stand-in for the LLM providers, speaking each wire family as
the providers document it, so conformance cassettes can be recorded without a network.

It deliberately does not import ``ailib``: it is the other side of the contract. What it
knows per provider comes from ``conformance/evidence/facts/<id>.yaml``.

    from conformance.simulator import load_contracts, respond, SimRequest, SimulatorServer, FAULTS

    contracts = load_contracts()
    response = respond(contracts, SimRequest("POST", url, headers, body), fault=None)
    with SimulatorServer(contracts) as server:
        server.port
"""

from __future__ import annotations

from .contracts import load_contracts
from .core import SimRequest, SimResponse
from .faults import FAULT_HEADER, FAULTS
from .respond import respond
from .server import SimulatorServer

__all__ = ["FAULTS", "FAULT_HEADER", "SimRequest", "SimResponse", "SimulatorServer", "load_contracts", "respond"]
