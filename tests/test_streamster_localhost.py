"""The localhost-only rule (§2) against a real non-loopback peer in a network namespace."""

from __future__ import annotations

import pytest

from mock_streamster import StreamsterMock

from .netns import remote_peer
from .soaputil import call, element, envelope, send_order

pytestmark = pytest.mark.netns

REFUSAL = b"accepts requests from the local computer only"


def test_remote_peers_are_refused_on_every_route_and_change_nothing() -> None:
    with remote_peer() as peer, StreamsterMock(host="0.0.0.0", seed=2) as m:
        assert send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1").status == 200
        before = m.snapshot()
        journal = len(m.journal)
        base = f"http://{peer.host_address}:{m.port}"
        soap = envelope(element("Order", Instrument="EUR/USD", Desk="Virtual Forex", Quantity="5")).encode()
        spoof = {
            "X-Forwarded-For": "127.0.0.1",
            "Forwarded": "for=127.0.0.1",
            "X-Real-IP": "127.0.0.1",
            "Host": "127.0.0.1",
        }
        attempts = [
            ("GET", "/service.wsdl", b"", {}),
            ("GET", "/endpoint?wsdl", b"", spoof),
            (
                "POST",
                "/endpoint",
                soap,
                {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"SendOrder"', **spoof},
            ),
            ("POST", "/endpoint", envelope().encode(), {"Content-Type": "text/xml", "SOAPAction": "GetPositions"}),
            ("POST", "/_mock/reset", b"{}", {"Content-Type": "application/json", **spoof}),
            ("POST", "/_mock/price", b'{"instrument": "EUR/USD", "bid": "2"}', {"Content-Type": "application/json"}),
            ("GET", "/_mock/snapshot", b"", spoof),
        ]
        for method, path, body, headers in attempts:
            status, reply = peer.request(method, base + path, body, headers)
            assert status == 403, (path, status, reply[:200])
            assert b"<faultcode>soap:Client</faultcode>" in reply and REFUSAL in reply, (path, reply[:300])
            assert peer.address.encode() in reply
        assert m.snapshot() == before
        assert len(m.journal) == journal
        # From loopback everything still works, on the same wildcard-bound server.
        local = f"http://127.0.0.1:{m.port}"
        import requests

        assert requests.get(local + "/service.wsdl", timeout=10).status_code == 200
        assert call(m, "GetQuote", element("Instrument", "EUR/USD")).status == 200
        assert requests.post(local + "/_mock/advance", json={"seconds": 1}, timeout=10).status_code == 200
        assert len(m.platform.get_orders()) == 1
