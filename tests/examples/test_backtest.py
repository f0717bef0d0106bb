"""Docs example (docs/how-to/backtest.md): a Python bot backtested in process, its own clock the emulator's."""

import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from broker_mocks.client import NewOrder, StreamsterClient


def hourly_bot(wsdl_url: str, hours: int) -> list[str]:
    """The bot as it runs live: each hour it reads EUR/USD, buys once below 1.0985, then sleeps an hour."""
    api = StreamsterClient(wsdl_url)
    log = []
    for _ in range(hours):
        bid = api.get_quote("EUR/USD").bid  # None if the Rates window hides the column
        log.append(f"{datetime.now(timezone.utc):%a %H:%M} {bid}")
        if bid is not None and bid < Decimal("1.0985") and not api.get_positions():
            api.send_order(NewOrder("EUR/USD", "Virtual Forex", 10))
        time.sleep(3600)
    return log


@pytest.mark.streamster(history={"EUR/USD": "fixtures/streamster/eurusd-h1.csv"})  # hourly bars
def test_a_day_of_hourly_bars_in_no_time(streamster_mock, streamster_time):
    started = time.monotonic()
    log = hourly_bot(streamster_mock.wsdl_url, hours=24)
    assert time.monotonic() - started < 60  # a day of the bot's time, seconds of ours
    assert log[0].startswith("Mon 00:00") and log[-1].startswith("Mon 23:00")
    assert log[10] == "Mon 10:00 1.09824"  # the file's bar of 10:00 opens at 1.09824
    (order,) = streamster_mock.journal.entries("SendOrder")  # it bought once, that hour
    assert order.time == "2024-01-01T10:00:00"
