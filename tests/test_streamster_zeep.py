"""zeep, a WSDL-driven Python client, uses the emulator through the served WSDL alone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import zeep
from zeep.exceptions import Fault

from mock_streamster import StreamsterMock


@pytest.fixture
def api(streamster_mock: StreamsterMock) -> zeep.Client:
    return zeep.Client(streamster_mock.wsdl_url).service


def test_zeep_reads_typed_values(streamster_mock: StreamsterMock, api) -> None:  # type: ignore[no-untyped-def]
    q = api.GetQuote("EUR/USD")
    assert isinstance(q.Bid, Decimal) and isinstance(q.Time, time) and q.Currency == "USD" and q.Yield is None
    assert api.GetPositions() == [] and api.GetOrders() == [] and api.GetTrades() == []
    assert [(d.Name, d.Currency, d.Amount) for d in api.GetDesks()][0] == ("Virtual Forex", "USD", Decimal("10000.00"))
    bars = api.GetBars("Gold", "Daily", "f")
    assert len(bars) == 200 and isinstance(bars[0].BarDateTime, datetime) and bars[0].Volume >= 1


def test_zeep_trades_through_every_operation(streamster_mock: StreamsterMock, api) -> None:  # type: ignore[no-untyped-def]
    assert (
        api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=Decimal(10), ExitTarget=Decimal("1.09000"))
        is None
    )
    until = streamster_mock.platform.now() + timedelta(hours=1)
    api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=2, PriceType="LIMIT", Price=Decimal("1.08000"),
                  DurationType="GTD", Duration=until)  # fmt: skip
    filled, working = api.GetOrders()
    assert working.Duration == until and working.Status == "Working"
    api.ChangeOrder(OrderID=working.OrderID, PriceType="LIMIT", Price=Decimal("1.07900"), Quantity=4)
    changed = api.GetOrders()[1]
    assert (changed.Price, changed.Quantity, changed.DurationType, changed.Duration) == (
        Decimal("1.07900"),
        Decimal(4),
        "GTC",
        None,
    )
    api.CancelOrder(working.OrderID)
    assert api.GetOrders()[1].Status == "Cancelled"
    (position,) = api.GetPositions()
    api.ChangePosition(PositionID=position.PositionID, ExitStopLoss=Decimal("1.08000"))
    assert api.GetPositions()[0].ExitTarget is None and api.GetPositions()[0].ExitStopLoss == Decimal("1.08000")
    streamster_mock.set_price("EUR/USD", "1.08600")
    api.ClosePosition(position.PositionID)
    closed = api.GetPositions()[0]
    assert closed.Status == "Closed" and closed.ClosePrice == Decimal("1.08600") and closed.Profit == Decimal("8.00")
    assert [t.Phase for t in api.GetTrades()] == ["Entry", "Exit"]
    assert api.GetDesks()[0].Amount == Decimal("10008.00")


def test_zeep_raises_the_fault(streamster_mock: StreamsterMock, api) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Fault) as info:
        api.ClosePosition("NOTHERE00")
    assert info.value.code.endswith("Client") and "NOTHERE00" in info.value.message
    assert api.GetLastMessage() == info.value.message
