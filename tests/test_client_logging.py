"""Each client call is logged (operation, duration, outcome) on the `client` logger, secrets never."""

from __future__ import annotations

import logging

import pytest

from broker_mocks.client import AccessDenied, InstaForexClient, StreamsterClient
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock


def test_calls_are_logged_without_passwords_or_tokens(
    instaforex_mock: InstaForexMock, streamster_mock: StreamsterMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = InstaForexClient(instaforex_mock.url, 20000001, "demo-pass", backoff=0.01)
    c.balance()
    instaforex_mock.advance(6000)
    c.open_trades()  # a renewal
    with pytest.raises(AccessDenied):
        InstaForexClient(instaforex_mock.url, 20000001, "Wrong-Password-123").balance()
    s = StreamsterClient(streamster_mock.wsdl_url)
    s.get_desks()
    s.send_order(instrument="EUR/USD", desk="Virtual Forex", quantity=1)
    ours = [r for r in caplog.records if r.name == "broker_mocks.client"]
    messages = [r.getMessage() for r in ours]
    assert any(m.startswith("instaforex.balance ok in") for m in messages)
    assert any(m.startswith("streamster.SendOrder ok in") for m in messages)
    assert any("instaforex.balance failed" in m and "AccessDenied" in m for m in messages)
    tokens = [t.value for t in instaforex_mock.service.tokens._tokens.values()]
    everything = " ".join(r.getMessage() for r in caplog.records)
    for secret in ["demo-pass", "Wrong-Password-123", *tokens]:
        assert secret not in everything
