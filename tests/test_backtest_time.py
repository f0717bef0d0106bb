"""`streamster_time`: a Python bot's own clock is the emulator's; its time.sleep moves the emulator at once."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import zeep

from mock_streamster import StreamsterMock

pytest.importorskip("time_machine", reason="time-machine (the backtest extra) is not installed")

HISTORY = {"EUR/USD": "data/history/generic_bars.csv"}


def hourly_bot(wsdl: str, hours: int) -> list[tuple[str, Decimal]]:
    """A bot as one writes it for the real platform: read the quote, sleep an hour, again."""
    api = zeep.Client(wsdl).service
    seen = []
    for _ in range(hours):
        quote = api.GetQuote("EUR/USD")
        seen.append((datetime.now(timezone.utc).strftime("%a %H:%M"), quote.Bid))
        time.sleep(3600)
    return seen


@pytest.mark.streamster(history=HISTORY)
def test_a_bots_sleep_moves_the_emulator_and_its_clock_reads_virtual_time(streamster_mock: StreamsterMock,
                                                                           streamster_time) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    assert datetime.now(timezone.utc) == datetime(2024, 1, 4, tzinfo=timezone.utc)
    assert time.time() == datetime(2024, 1, 4, tzinfo=timezone.utc).timestamp()
    started = time.monotonic()
    seen = hourly_bot(streamster_mock.wsdl_url, 3)
    assert time.monotonic() - started < 30  # three hours of the bot's time, not of ours
    assert seen == [("Thu 00:00", Decimal("1.10000")), ("Thu 01:00", Decimal("1.10053")),
                    ("Thu 02:00", Decimal("1.10035"))]  # fmt: skip
    assert streamster_mock.platform.now() == datetime(2024, 1, 4, 3)
    time.sleep(86400 * 2)  # through the weekend gap in one go
    assert streamster_time.now == datetime(2024, 1, 6, 3) and datetime.now(timezone.utc).day == 6


@pytest.mark.streamster(history=HISTORY)
def test_other_threads_really_sleep_and_other_moves_are_synced(
    streamster_mock: StreamsterMock, streamster_time
) -> None:  # type: ignore[no-untyped-def]
    done = []
    worker = threading.Thread(target=lambda: (time.sleep(0.05), done.append(streamster_mock.platform.now())))
    worker.start()
    worker.join(10)
    assert done == [datetime(2024, 1, 4)]  # the server's and other threads' sleeps stay real
    streamster_mock.advance(1800)
    streamster_time.sync()
    assert datetime.now(timezone.utc) == datetime(2024, 1, 4, 0, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="non-negative number"):
        time.sleep(-1)
