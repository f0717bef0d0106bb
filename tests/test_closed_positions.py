"""Closed positions and trades are read without a copy each time (a backtest polls GetPositions or
GetTrades after every bar): the platform hands out one sealed copy of each, and the writer keeps its
XML. Neither may show a stale or a changed record: a sealed copy refuses changes, and a reset, a
restore or other columns write the XML afresh."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from mock_streamster import StreamsterMock
from mock_streamster.model import Position, Trade

from .soaputil import call

ORDER = {"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Side": "BUY", "Quantity": "1"}


def _trade(mock: StreamsterMock, count: int, quantity: str = "1", keep_open: int = 0) -> None:
    """`count` positions opened and closed at once, then `keep_open` left open."""
    p = mock.platform
    for _ in range(count):
        p.send_order({**ORDER, "Quantity": quantity})
        p.close_position(next(x.position_id for x in p.get_positions() if x.status == "Open"))
    for _ in range(keep_open):
        p.send_order(ORDER)


def _xml(mock: StreamsterMock, operation: str) -> bytes:
    reply = call(mock, operation)
    assert reply.status == 200
    return reply.raw


def _written_afresh_after_a_reset_and_a_restore(mock: StreamsterMock, operation: str, round_trips: int,
                                                snapshot: dict[str, Any]) -> None:  # fmt: skip
    """A reset (the columns of the start, and the same seed: the same IDs, now with other quantities)
    and a restore (of an empty book) are written afresh, never from the kept XML."""
    mock.reset()
    _trade(mock, round_trips, quantity="3")
    after = _xml(mock, operation)
    assert after.count(b"<tns:Quantity>3</tns:Quantity>") == 2 and b"<tns:Quantity>2<" not in after
    mock.restore(snapshot)
    empty = b"<tns:%s/></soap:Body></soap:Envelope>" % operation.removeprefix("Get").encode()
    assert _xml(mock, operation).endswith(empty)


def _read_concurrently(
    read: Callable[[], bytes], readers: int, meanwhile: Callable[[], None] | None = None
) -> list[bytes]:
    """Each of `readers` threads calls `read` 10 times (while `meanwhile` runs, if given): every reply;
    a reader's failure fails the test."""
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(10):
                seen.append(read())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    if meanwhile is not None:
        meanwhile()
    for t in threads:
        t.join()
    assert not errors, errors
    return seen


def test_a_closed_position_is_one_sealed_copy_that_refuses_changes() -> None:
    with StreamsterMock(seed=4) as mock:
        _trade(mock, 3, keep_open=1)
        first, second = mock.platform.get_positions(), mock.platform.get_positions()
        assert [x.status for x in first] == ["Closed", "Closed", "Closed", "Open"]
        assert all(a is b for a, b in zip(first[:3], second[:3], strict=True))  # shared, not copied again
        closed = first[0]
        assert isinstance(closed, Position) and type(closed).__name__ == "Position"
        with pytest.raises(dataclasses.FrozenInstanceError, match="change a copy"):
            closed.profit = Decimal(0)
        with pytest.raises(dataclasses.FrozenInstanceError):
            del closed.text
        plain = copy.copy(closed)
        assert type(plain) is Position and plain == closed and closed == plain
        plain.profit = Decimal("1.00")  # a copy is the caller's own
        assert plain != closed and mock.platform.get_positions()[0] == closed
        assert pickle.loads(pickle.dumps(closed)) == closed
        assert dataclasses.replace(closed, text="x").text == "x" and closed.text != "x"


def test_an_open_position_is_a_fresh_copy_each_time() -> None:
    with StreamsterMock(seed=4) as mock:
        _trade(mock, 0, keep_open=1)
        (a,), (b,) = mock.platform.get_positions(), mock.platform.get_positions()
        assert a is not b
        a.exit_target = Decimal("9.99999")  # changes the caller's copy only
        assert mock.platform.get_positions()[0].exit_target is None


def test_a_position_closed_after_an_open_one_comes_sealed_too() -> None:
    with StreamsterMock(seed=4) as mock:
        p = mock.platform
        p.send_order(ORDER)
        p.send_order(ORDER)
        first, later = p.get_positions()
        p.close_position(later.position_id)  # the first stays open: the second is not in the leading run
        again = p.get_positions()
        assert again[1] is p.get_positions()[1] and again[1].status == "Closed"
        assert again[0] is not p.get_positions()[0]


def test_getpositions_writes_afresh_after_a_reset_a_restore_and_other_columns() -> None:
    with StreamsterMock(seed=4) as mock:
        snapshot = mock.snapshot()
        _trade(mock, 2, quantity="2")
        before = _xml(mock, "GetPositions")
        assert before.count(b"<tns:Quantity>2</tns:Quantity>") == 2
        assert _xml(mock, "GetPositions") == before  # written from the kept XML: the same bytes
        mock.set_columns("Positions", ["PositionID", "Status"])
        narrow = _xml(mock, "GetPositions")
        assert b"<tns:Quantity>" not in narrow and narrow.count(b"<tns:Status>Closed</tns:Status>") == 2
        _written_afresh_after_a_reset_and_a_restore(mock, "GetPositions", 2, snapshot)


def test_concurrent_readers_get_the_same_positions() -> None:
    with StreamsterMock(seed=4) as mock:
        _trade(mock, 40, keep_open=2)
        expected = _xml(mock, "GetPositions")
        seen = _read_concurrently(lambda: _xml(mock, "GetPositions"), 6)
        # Open positions are marked to market at each read: compare the closed ones' records.
        closed = expected.split(b"<tns:Status>Open</tns:Status>")[0]
        assert len(seen) == 60 and all(s.startswith(closed.rsplit(b"<tns:Position>", 1)[0]) for s in seen)


def test_a_trade_is_one_sealed_copy_and_only_new_trades_are_added() -> None:
    with StreamsterMock(seed=4) as mock:
        _trade(mock, 2)
        first = mock.platform.get_trades()
        assert len(first) == 4 and all(type(t).__name__ == "Trade" and isinstance(t, Trade) for t in first)
        with pytest.raises(dataclasses.FrozenInstanceError, match="change a copy"):
            first[0].price = Decimal(0)
        first.append(first[0])  # the list is the caller's own
        _trade(mock, 0, keep_open=1)
        again = mock.platform.get_trades()
        assert len(again) == 5 and all(a is b for a, b in zip(first[:4], again[:4], strict=True))
        plain = copy.copy(again[0])
        plain.text = "mine"
        assert type(plain) is Trade and mock.platform.get_trades()[0].text != "mine"
        assert pickle.loads(pickle.dumps(again[4])) == again[4]


def test_gettrades_writes_new_trades_and_afresh_after_a_reset_a_restore_and_other_columns() -> None:
    with StreamsterMock(seed=4) as mock:
        snapshot = mock.snapshot()
        _trade(mock, 1, quantity="2")
        before = _xml(mock, "GetTrades")
        assert before.count(b"<tns:Quantity>2</tns:Quantity>") == 2
        assert _xml(mock, "GetTrades") == before  # written from the kept XML: the same bytes
        _trade(mock, 1, quantity="5")  # two trades more: written and added after the kept ones
        more = _xml(mock, "GetTrades")
        assert more.count(b"<tns:Trade>") == 4 and more.count(b"<tns:Quantity>5</tns:Quantity>") == 2
        assert more.split(b"<tns:Quantity>5")[0].startswith(before.split(b"</tns:Trades>")[0])
        mock.set_columns("Trades", ["TradeID", "Side"])
        narrow = _xml(mock, "GetTrades")
        assert b"<tns:Quantity>" not in narrow and narrow.count(b"<tns:Side>") == 4
        _written_afresh_after_a_reset_and_a_restore(mock, "GetTrades", 1, snapshot)


def test_concurrent_readers_and_a_trader_get_every_trade_in_order() -> None:
    with StreamsterMock(seed=4) as mock:
        _trade(mock, 10)
        seen = _read_concurrently(lambda: _xml(mock, "GetTrades"), 4, meanwhile=lambda: _trade(mock, 10))
        assert len(seen) == 40
        final = _xml(mock, "GetTrades")
        assert final.count(b"<tns:Trade>") == 40
        for xml in seen:  # each reply a prefix of the final list, whole trades only
            n = xml.count(b"<tns:Trade>")
            assert 20 <= n <= 40 and final.startswith(xml.split(b"</tns:Trades>")[0])
