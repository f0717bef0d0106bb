"""The localhost rule's address check (contract §2): loopback by the socket address only."""

from __future__ import annotations

import pytest

from mock_common.peers import is_loopback


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "[::1]", "::ffff:127.255.0.1"])
def test_loopback_peers_are_local(peer: str) -> None:
    assert is_loopback(peer)


@pytest.mark.parametrize(
    "peer", ["10.0.0.1", "198.18.0.2", "::ffff:10.0.0.1", "2001:db8::1", "0.0.0.0", "", None, "localhost", "128.0.0.1"]
)
def test_other_peers_are_not(peer: str | None) -> None:
    assert not is_loopback(peer)
