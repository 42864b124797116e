"""Checks over the cassette library as a whole (run with the suite)."""

from __future__ import annotations

import pytest

from ailib import manifest as manifests

from .cassettes import cassettes_dir, read_provenance, scan_for_secrets
from .scenarios import load_scenarios, needs_cassette


def _cassette_files() -> list:
    return sorted(p for p in cassettes_dir().rglob("*.yaml") if p.name != "PROVENANCE.yaml")


def test_every_cassette_belongs_to_a_cell(request) -> None:
    """A cassette no cell would use is dead weight that hides drift: fail with its path."""
    if request.config.getoption("--manifests"):
        pytest.skip("the cassette library belongs to the project's manifests, not to --manifests")
    expected = {
        cassettes_dir() / p / f"{s.id}.yaml"
        for p in manifests.available()
        for s in load_scenarios()
        if needs_cassette(manifests.load(p), s)
    }
    orphans = [str(p.relative_to(cassettes_dir().parent)) for p in _cassette_files() if p not in expected]
    assert not orphans, "cassettes that no cell uses:\n" + "\n".join(orphans)


def test_no_secret_in_cassettes() -> None:
    """No API key, planted or key-shaped, in any recorded file."""
    leaks = scan_for_secrets([*_cassette_files(), cassettes_dir() / "PROVENANCE.yaml"])
    assert not leaks, "secret-looking strings in cassettes:\n" + "\n".join(leaks)


def test_every_cassette_states_its_provenance() -> None:
    """Each cassette says whether a simulator or the live provider answered, when, and with which client."""
    bad = []
    for path in _cassette_files():
        block = read_provenance(path) or {}
        if block.get("source") not in ("simulated", "live") or not block.get("recorded") or not block.get("client"):
            bad.append(str(path.relative_to(cassettes_dir().parent)))
    assert not bad, "cassettes without a provenance block:\n" + "\n".join(bad)


def test_replay_is_offline(offline: None, record_mode: str) -> None:
    """While cassettes replay, connections to any remote host are refused before a packet
    leaves; loopback stays open. Checked without opening a connection to anything."""
    import socket

    from pytest_recording import network

    from .plugin import LOOPBACK

    if record_mode != "none":
        return  # recording is allowed to reach the simulator (or, with --live, the provider)
    assert socket.socket.connect is not network._original_connect, "the network guard is not installed"
    reached = []
    guard = network.make_network_guard(lambda sock, address: reached.append(address), allowed_hosts=list(LOOPBACK))
    inet = type("InetSocket", (), {"family": socket.AF_INET})()  # stands in for a socket: nothing is opened
    with pytest.raises(RuntimeError, match="Network is disabled"):
        guard(inet, ("192.0.2.1", 443))
    guard(inet, ("127.0.0.1", 8080))
    assert reached == [("127.0.0.1", 8080)]
