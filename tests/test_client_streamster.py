"""The reference client's Streamster half against the live emulator."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from broker_mocks.client import (
    ApiError,
    DurationType,
    NewOrder,
    OrderChange,
    OrderStatus,
    Period,
    Phase,
    PositionChange,
    PositionStatus,
    PriceType,
    QuantityType,
    Side,
    StreamsterClient,
    StreamsterFault,
    TransportError,
)  # fmt: skip
from mock_streamster import StreamsterMock


@pytest.fixture
def api(streamster_mock: StreamsterMock) -> StreamsterClient:
    return StreamsterClient(streamster_mock.wsdl_url, timeout=5, backoff=0.01)


def _calls(mock: StreamsterMock, operation: str) -> int:
    return len(mock.journal.entries(operation))


def test_reads_are_typed_and_lists_are_empty_one_or_many(
    api: StreamsterClient, streamster_mock: StreamsterMock
) -> None:
    q = api.get_quote("EUR/USD")
    assert isinstance(q.bid, Decimal) and isinstance(q.time, time) and q.currency == "USD" and q.yield_ is None
    assert api.get_orders() == [] and api.get_positions() == [] and api.get_trades() == []
    api.send_order(instrument="EUR/USD", desk="Virtual Forex", quantity=10, exit_target="1.09000", text="one")
    (order,) = api.get_orders()
    assert (order.side, order.phase, order.price_type, order.status) == (
        Side.BUY,
        Phase.ENTRY,
        PriceType.MARKET,
        OrderStatus.FILLED,
    )
    assert (order.duration_type, order.quantity_type, order.quantity) == (
        DurationType.GTC,
        QuantityType.FULL,
        Decimal(10),
    )
    assert isinstance(order.entered, datetime) and order.price is None
    (position,) = api.get_positions()
    assert (
        position.status is PositionStatus.OPEN and position.exit_target == Decimal("1.09000") and position.text == "one"
    )
    (trade,) = api.get_trades()
    assert trade.order_id == order.order_id and trade.price == position.open_price
    for _ in range(3):
        api.send_order(NewOrder("GBP/USD", "Virtual Forex", 1, side=Side.SELL))
    assert len(api.get_positions()) == 4 and len(api.get_trades()) == 4
    desks = api.get_desks()
    assert [(d.name, d.currency, d.amount) for d in desks][0] == ("Virtual Forex", "USD", Decimal("10000.00"))
    newest = api.get_bars("EUR/USD", Period.H1)
    oldest = api.get_bars("EUR/USD", "hourly", oldest_first=True)
    assert len(newest) == 200 and newest == oldest[::-1] and isinstance(newest[0].time, datetime)
    assert api.get_last_message() == ""


def test_trading_calls_change_cancel_and_close(api: StreamsterClient, streamster_mock: StreamsterMock) -> None:
    until = streamster_mock.platform.now() + timedelta(hours=1)
    api.send_order(NewOrder("EUR/USD", "Virtual Forex", 5, price_type=PriceType.LIMIT, price="1.08000", duration_type="gtd",
                            duration=until, exit_stop_loss="1.07000"))  # fmt: skip
    working = api.get_orders()[0]
    assert working.status is OrderStatus.WORKING and working.duration == until
    api.change_order(OrderChange(working.order_id, 7, price_type="LIMIT", price=Decimal("1.07900")))
    changed = api.get_orders()[0]
    assert (changed.quantity, changed.price, changed.exit_stop_loss, changed.duration_type) == (
        Decimal(7),
        Decimal("1.07900"),
        None,
        DurationType.GTC,
    )
    api.cancel_order(working.order_id)
    assert api.get_orders()[0].status is OrderStatus.CANCELLED
    api.send_order(instrument="EUR/USD", desk="Virtual Forex", quantity=10)
    position = api.get_positions()[0]
    api.change_position(PositionChange(position.position_id, exit_target="1.10000", text="t"))
    assert (api.get_positions()[0].exit_target, api.get_positions()[0].text) == (Decimal("1.10000"), "t")
    streamster_mock.set_price("EUR/USD", "1.08720")
    api.close_position(position.position_id)
    closed = api.get_positions()[0]
    assert (
        closed.status is PositionStatus.CLOSED
        and closed.profit == Decimal("20.00")
        and closed.close_price == Decimal("1.08720")
    )
    assert [t.phase for t in api.get_trades()] == [Phase.ENTRY, Phase.EXIT]
    assert api.get_desks()[0].amount == Decimal("10020.00")


@pytest.mark.parametrize(
    ("order", "field"),
    [
        (dict(instrument="", desk="Virtual Forex", quantity=1), "instrument"),
        (dict(instrument="EUR/USD", desk=" ", quantity=1), "desk"),
        (dict(instrument="EUR/USD", desk="Virtual Forex", quantity=0), "quantity"),
        (dict(instrument="EUR/USD", desk="Virtual Forex", quantity="ten"), "quantity"),
        (dict(instrument="EUR/USD", desk="Virtual Forex", quantity=1, side="HOLD"), "side"),
        (dict(instrument="EUR/USD", desk="Virtual Forex", quantity=1, price_type="LIMIT"), "price"),
        (dict(instrument="EUR/USD", desk="Virtual Forex", quantity=1, duration_type="GTD"), "duration"),
        (
            dict(
                instrument="EUR/USD",
                desk="Virtual Forex",
                quantity=1,
                price_type="STOP",
                price="1.1",
                exit_stop_loss="1.2",
            ),
            "exit_stop_loss",
        ),
        (
            dict(
                instrument="EUR/USD",
                desk="Virtual Forex",
                quantity=1,
                side="SELL",
                price_type="LIMIT",
                price="1.1",
                exit_target="1.2",
            ),
            "exit_target",
        ),
    ],
)
def test_orders_are_validated_before_anything_is_sent(
    api: StreamsterClient, streamster_mock: StreamsterMock, order: dict, field: str
) -> None:  # type: ignore[type-arg]
    before = len(streamster_mock.journal)
    with pytest.raises(ValueError, match=field):
        api.send_order(**order)
    assert len(streamster_mock.journal) == before


def test_changes_are_validated_before_anything_is_sent(api: StreamsterClient, streamster_mock: StreamsterMock) -> None:
    before = len(streamster_mock.journal)
    for call, exc_field in (
        (lambda: api.change_order(OrderChange("", 1)), "order_id"),
        (lambda: api.change_order(order_id="X", quantity=-1), "quantity"),
        (lambda: api.change_position(PositionChange("P", exit_target="nope")), "exit_target"),
        (lambda: api.cancel_order(""), "order_id"),
        (lambda: api.close_position(None), "position_id"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match=exc_field):
            call()
    assert len(streamster_mock.journal) == before


def test_faults_raise_streamster_fault_with_code_and_text(api: StreamsterClient) -> None:
    with pytest.raises(StreamsterFault) as info:
        api.cancel_order("NOTHERE00")
    assert info.value.code == "Client" and "NOTHERE00" in info.value.text
    with pytest.raises(StreamsterFault):
        api.get_quote("Nothing")
    assert "Nothing" in api.get_last_message()


def test_reads_retry_5xx_and_give_up_with_api_error(api: StreamsterClient, streamster_mock: StreamsterMock) -> None:
    streamster_mock.fail("GetDesks", kind="http", status=503, times=2, message="busy")
    assert len(api.get_desks()) == 3  # two 503s, then the answer
    assert _calls(streamster_mock, "GetDesks") == 3
    streamster_mock.fail("GetPositions", kind="http", status=502, times=None)
    with pytest.raises(ApiError) as info:
        api.get_positions()
    assert info.value.status == 502 and _calls(streamster_mock, "GetPositions") == 4  # 1 + 3 retries


def test_trading_calls_are_not_retried_after_a_5xx(api: StreamsterClient, streamster_mock: StreamsterMock) -> None:
    streamster_mock.fail("SendOrder", kind="http", status=503, times=1)
    with pytest.raises(ApiError) as info:
        api.send_order(instrument="EUR/USD", desk="Virtual Forex", quantity=1)
    assert info.value.status == 503 and _calls(streamster_mock, "SendOrder") == 1
    streamster_mock.fail("ClosePosition", kind="drop")
    with pytest.raises(TransportError):
        api.close_position("ANYTHING1")
    assert _calls(streamster_mock, "ClosePosition") == 1


def test_a_refused_connection_raises_transport_error(streamster_mock: StreamsterMock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = StreamsterClient(
        streamster_mock.wsdl_url, endpoint_url=f"http://127.0.0.1:{port}/endpoint", retries=1, backoff=0.01
    )
    with pytest.raises(TransportError):
        api.get_desks()
    with pytest.raises(TransportError):
        StreamsterClient(f"http://127.0.0.1:{port}/service.wsdl")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield server.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    server.close()


def test_a_server_that_never_answers_raises_transport_error(
    streamster_mock: StreamsterMock, silent_server: int
) -> None:
    api = StreamsterClient(
        streamster_mock.wsdl_url, endpoint_url=f"http://127.0.0.1:{silent_server}/endpoint", timeout=0.3, retries=0
    )
    with pytest.raises(TransportError):
        api.get_quote("EUR/USD")


def test_server_faults_on_reads_are_retried_client_faults_are_not(
    api: StreamsterClient, streamster_mock: StreamsterMock
) -> None:
    streamster_mock.fail("GetTrades", kind="fault", code="Server", message="hiccup")
    assert api.get_trades() == [] and _calls(streamster_mock, "GetTrades") == 2
    streamster_mock.fail("GetTrades", kind="fault", code="Client", message="no")
    with pytest.raises(StreamsterFault):
        api.get_trades()
    assert _calls(streamster_mock, "GetTrades") == 3
