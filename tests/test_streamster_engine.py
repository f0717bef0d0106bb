"""The matching engine's rules as pure functions (contract §5), tested without a platform or its lock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from mock_streamster import engine
from mock_streamster.market import default_instruments, to_epoch
from mock_streamster.model import OPEN, WORKING, Order, Position

CATALOGUE = {i.name: i for i in default_instruments()}
EURUSD, USDJPY, DOW = CATALOGUE["EUR/USD"], CATALOGUE["USD/JPY"], CATALOGUE["Dow Jones"]
D = Decimal
T0 = datetime(2026, 1, 5, 12, 0, 0)


def order(
    side: str = "BUY", price_type: str = "MARKET", price: str | None = None, quantity: str = "2", **kw: object
) -> Order:
    fields: dict[str, object] = dict(
        order_id="O1", desk="Virtual Forex", instrument="EUR/USD", side=side, phase="Entry", price_type=price_type,
        price=None if price is None else D(price), active_quantity=D(quantity), traded_quantity=D(0),
        exit_stop_loss=None, exit_target=None, status=WORKING, position_id=None, currency="USD", duration=None,
        duration_type="GTC", quantity=D(quantity), quantity_type="FULL", text=None, entered=T0,
    )  # fmt: skip
    fields.update(kw)
    return Order(**fields)  # type: ignore[arg-type]


def position(side: str = "BUY", open_price: str = "1.08520", stop: str | None = None, target: str | None = None,
             quantity: str = "2", instrument: str = "EUR/USD", currency: str = "USD") -> Position:  # fmt: skip
    return Position(
        position_id="P1", desk="Virtual Forex", instrument=instrument, side=side, open_price=D(open_price),
        currency=currency, quantity=D(quantity), points=D(0), profit=D("0.00"),
        exit_stop_loss=None if stop is None else D(stop), exit_target=None if target is None else D(target),
        entered=T0, exited=None, status=OPEN, text=None, close_price=None, interest=D("0.00"),
    )  # fmt: skip


BID, OFFER = D("1.08500"), D("1.08520")


@pytest.mark.parametrize(
    ("side", "price_type", "price", "fills_at"),
    [
        ("BUY", "MARKET", None, OFFER), ("SELL", "MARKET", None, BID),
        ("BUY", "LIMIT", "1.08520", OFFER), ("BUY", "LIMIT", "1.08519", None),  # BUY LIMIT: offer <= price
        ("SELL", "LIMIT", "1.08500", BID), ("SELL", "LIMIT", "1.08501", None),  # SELL LIMIT: bid >= price
        ("BUY", "STOP", "1.08520", OFFER), ("BUY", "STOP", "1.08521", None),  # BUY STOP: offer >= price
        ("SELL", "STOP", "1.08500", BID), ("SELL", "STOP", "1.08499", None),  # SELL STOP: bid <= price
    ],
)  # fmt: skip
def test_fill_meets_the_price_on_the_side_of_the_book_the_order_trades(
    side: str, price_type: str, price: str | None, fills_at: Decimal | None
) -> None:
    result = engine.fill(order(side, price_type, price), EURUSD, BID, OFFER)
    assert result == (None if fills_at is None else (D(2), fills_at))


def test_fill_with_a_market_depth_fills_full_orders_whole_and_partial_ones_up_to_the_depth() -> None:
    shallow = replace(EURUSD, depth=D("1.5"))
    assert engine.fill(order(quantity="2"), shallow, BID, OFFER) is None
    assert engine.fill(order(quantity="2", quantity_type="PARTIAL"), shallow, BID, OFFER) == (D("1.5"), OFFER)
    assert engine.fill(order(quantity="1"), shallow, BID, OFFER) == (D(1), OFFER)


def test_expired_only_gtd_orders_past_their_duration() -> None:
    gtd = order(duration_type="GTD", duration=T0)
    assert not engine.expired(gtd, to_epoch(T0))
    assert engine.expired(gtd, to_epoch(T0) + 1)
    assert not engine.expired(order(), to_epoch(T0) + 10**6)


def test_exit_price_is_the_bid_for_a_buy_and_the_offer_for_a_sell() -> None:
    assert engine.exit_price("BUY", BID, OFFER) == BID
    assert engine.exit_price("SELL", BID, OFFER) == OFFER


@pytest.mark.parametrize(
    ("pos", "bid", "offer", "expected"),
    [
        (position("BUY", stop="1.08500"), "1.08500", "1.08520", ("STOP", "1.08500", "1.08500")),  # exactly on it
        (position("BUY", stop="1.08500"), "1.08501", "1.08521", None),
        (position("BUY", target="1.08600"), "1.08600", "1.08620", ("LIMIT", "1.08600", "1.08600")),
        (position("BUY", target="1.08600"), "1.08599", "1.08619", None),
        (position("SELL", stop="1.08600"), "1.08580", "1.08600", ("STOP", "1.08600", "1.08600")),  # the offer
        (position("SELL", target="1.08400"), "1.08380", "1.08400", ("LIMIT", "1.08400", "1.08400")),
        (position("SELL", target="1.08400"), "1.08400", "1.08420", None),  # a SELL never exits on the bid
        (position("BUY", stop="1.09000", target="1.08000"), "1.08500", "1.08520", ("STOP", "1.09000", "1.08500")),
    ],
)  # fmt: skip
def test_exit_trigger_closes_at_or_beyond_a_level_and_the_stop_loss_wins(
    pos: Position, bid: str, offer: str, expected: tuple[str, str, str] | None
) -> None:
    result = engine.exit_trigger(pos, D(bid), D(offer))
    assert result == (None if expected is None else (expected[0], D(expected[1]), D(expected[2])))


def test_pnl_is_the_move_in_the_positions_favour_in_pips_and_in_desk_money() -> None:
    assert engine.pnl(position("BUY", "1.08520"), D("1.08570"), EURUSD, D(1)) == (D("5.0"), D("1.00"))
    assert engine.pnl(position("SELL", "1.08520"), D("1.08570"), EURUSD, None) == (D("-5.0"), D("-1.00"))
    # USD/JPY on a USD desk: 0.50 JPY x 2 x 1000 = 1000 JPY at 1/150 USD per JPY, rounded half-up to cents
    jpy = position("BUY", "150.000", instrument="USD/JPY")
    assert engine.pnl(jpy, D("150.500"), USDJPY, D(1) / D(150)) == (D("50.0"), D("6.67"))
    assert engine.pnl(position("BUY", "37500.00", instrument="Dow Jones"), D("37500.25"), DOW, D(1)) == (
        D("0.25"),
        D("0.50"),
    )


def test_pnl_rounds_half_a_cent_up() -> None:
    # one point of 0.00001 on 0.5 and 2.5 lots of 1000: 0.005 and 0.025 USD (half-even would give 0.00 and 0.02)
    assert engine.pnl(position("BUY", "1.08520", quantity="0.5"), D("1.08521"), EURUSD, D(1))[1] == D("0.01")
    assert engine.pnl(position("BUY", "1.08520", quantity="2.5"), D("1.08521"), EURUSD, D(1))[1] == D("0.03")


def test_conversion_rate_direct_inverse_through_usd_or_none() -> None:
    mids = {"eur/usd": D("1.25"), "usd/jpy": D("150")}

    def mid(name: str) -> Decimal | None:
        return mids.get(name.lower())

    assert engine.conversion_rate("USD", "USD", mid) == 1
    assert engine.conversion_rate("EUR", "USD", mid) == D("1.25")
    assert engine.conversion_rate("USD", "EUR", mid) == D("0.8")
    assert engine.conversion_rate("JPY", "EUR", mid) == (D(1) / D(150)) * D("0.8")
    assert engine.conversion_rate("CHF", "USD", mid) is None
    assert engine.conversion_rate("JPY", "CHF", mid) is None
