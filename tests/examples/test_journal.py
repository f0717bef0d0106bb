"""Docs example (docs/how-to/pytest.md): assertions on what the bot sent, and injected faults."""

import pytest

from broker_mocks.client import NewOrder, PriceType, Side
from broker_mocks.client.errors import StreamsterFault


def test_what_the_bot_sent(streamster_mock, streamster_client):
    streamster_client.send_order(
        NewOrder("EUR/USD", "Virtual Forex", 5, side=Side.SELL, price_type=PriceType.LIMIT, price="1.20000")
    )
    streamster_mock.assert_called("SendOrder", times=1, where="1.20000")  # text in the request
    streamster_mock.assert_called("SendOrder", where=lambda entry: entry.status == 200)
    streamster_mock.assert_not_called("CancelOrder")
    (entry,) = streamster_mock.journal.entries("SendOrder")
    assert entry.fault is None and entry.status == 200 and "EUR/USD" in entry.request


def test_the_bot_survives_a_fault(streamster_mock, streamster_client):
    streamster_mock.fail("SendOrder", kind="fault", code="Server", message="Market closed")
    with pytest.raises(StreamsterFault, match="Market closed"):
        streamster_client.send_order(NewOrder("EUR/USD", "Virtual Forex", 1))
    assert streamster_client.get_orders() == []  # the faulted call traded nothing
