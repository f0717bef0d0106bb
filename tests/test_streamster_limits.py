"""Numbers at the edges (contract §4, §6, §8): prices rounded to the instrument's digits, every number
bounded, a refused call or control request changes nothing, and nothing accepted poisons the platform."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from mock_streamster import ScenarioError, StreamsterMock, engine
from mock_streamster.errors import StreamsterError
from mock_streamster.platform import Platform
from mock_streamster.scenario import Scenario, scenario_from_dict

from .soaputil import call, element, send_order


def _orders(streamster_mock: StreamsterMock) -> list[dict[str, str]]:
    return call(streamster_mock, "GetOrders").items("Orders", "Order")


def _positions(streamster_mock: StreamsterMock) -> list[dict[str, str]]:
    return call(streamster_mock, "GetPositions").items("Positions", "Position")


def _state(streamster_mock: StreamsterMock) -> dict[str, Any]:
    snap = streamster_mock.snapshot()
    snap.pop("last_message")  # every fault is also stored as the last message (§5)
    return snap


# ----------------------------------------------------------------------------- 1. prices are rounded

LONG = "1.0845000000000000000071123456789012345678901234567890123"  # BigDecimal arithmetic, 55 digits


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (LONG, "1.08450"),
        ("1.0799999999999998", "1.08000"),  # a JavaScript float
        ("1.084505", "1.08450"),  # half-even: the 5 goes to the even digit
        ("1.084515", "1.08452"),
        ("1.0845050000000001", "1.08451"),  # above the half
        ("1.08E+0", "1.08000"),
    ],
)
def test_send_order_rounds_prices_half_even_to_the_instrument_digits(
    streamster_mock: StreamsterMock, sent: str, kept: str
) -> None:
    stop = str(Decimal(sent) - Decimal("0.01"))
    r = send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1", PriceType="LIMIT", Price=sent,
        ExitStopLoss=stop, ExitTarget="1.0900000000000000000000000000001",
    )  # fmt: skip
    assert r.status == 200, r.raw
    order = _orders(streamster_mock)[-1]
    assert order["Price"] == kept
    assert order["ExitStopLoss"] == str(Decimal(stop).quantize(Decimal("0.00001")))
    assert order["ExitTarget"] == "1.09000"
    assert streamster_mock.platform.orders[order["OrderID"]].price == Decimal(kept)  # the state holds the rounded price


def test_jpy_prices_round_to_three_digits_and_dow_to_two(streamster_mock: StreamsterMock) -> None:
    streamster_mock.set_price("GBP/JPY", "188.500")
    r = send_order(
        streamster_mock,
        Instrument="GBP/JPY",
        Desk="Virtual Forex",
        Quantity="1",
        PriceType="STOP",
        Price="188.83999999999997",
    )
    assert r.status == 200, r.raw
    assert _orders(streamster_mock)[-1]["Price"] == "188.840"
    r = send_order(
        streamster_mock, Instrument="Dow Jones", Desk="Virtual Forex", Quantity="1", ExitStopLoss="37000.004999"
    )
    assert r.status == 200, r.raw
    assert _positions(streamster_mock)[-1]["ExitStopLoss"] == "37000.00"


def test_change_order_and_change_position_round_too(streamster_mock: StreamsterMock) -> None:
    send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1", PriceType="LIMIT", Price="1.08000"
    )
    order_id = _orders(streamster_mock)[-1]["OrderID"]
    r = call(streamster_mock, "ChangeOrder", element("Order", OrderID=order_id, PriceType="LIMIT", Price=LONG, Quantity="2",
                                          ExitTarget="1.0900000000000001"))  # fmt: skip
    assert r.status == 200, r.raw
    assert (_orders(streamster_mock)[-1]["Price"], _orders(streamster_mock)[-1]["ExitTarget"]) == ("1.08450", "1.09000")
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
    position_id = _positions(streamster_mock)[-1]["PositionID"]
    r = call(streamster_mock, "ChangePosition", element("Position", PositionID=position_id, ExitStopLoss="1.0799999999999998",
                                             ExitTarget="1.090004999"))  # fmt: skip
    assert r.status == 200, r.raw
    assert (_positions(streamster_mock)[-1]["ExitStopLoss"], _positions(streamster_mock)[-1]["ExitTarget"]) == (
        "1.08000",
        "1.09000",
    )


def test_side_checks_use_the_rounded_value(streamster_mock: StreamsterMock) -> None:
    # A BUY enters at the offer 1.08520: a stop a hair below it rounds onto it, which is not below.
    before = _state(streamster_mock)
    r = send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1", ExitStopLoss="1.085199999"
    )
    assert r.fault == ("Client", "ExitStopLoss 1.08520 of a BUY must be below the entry price 1.08520.")
    r = send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1", Side="SELL", ExitTarget="1.0850049"
    )
    assert r.fault == ("Client", "ExitTarget 1.08500 of a SELL must be below the entry price 1.08500.")
    assert _state(streamster_mock) == before
    # ... and one that rounds away from it is accepted.
    r = send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1", ExitStopLoss="1.0851949")
    assert r.status == 200 and _positions(streamster_mock)[-1]["ExitStopLoss"] == "1.08519"


# ----------------------------------------------------------------------------- 2. nothing accepted poisons


def test_the_largest_accepted_order_still_computes_everywhere(streamster_mock: StreamsterMock) -> None:
    # The most the platform accepts, with a stop loss that is then hit: every read still answers.
    r = send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1000000000", ExitStopLoss="0.00001"
    )
    assert r.status == 200, r.raw
    streamster_mock.set_price("EUR/USD", "999999999.00000")
    assert Decimal(_positions(streamster_mock)[-1]["Profit"]) > 0
    streamster_mock.set_price("EUR/USD", "0.00001")
    position = _positions(streamster_mock)[-1]
    assert position["Status"] == "Closed" and position["ClosePrice"] == "0.00001"
    for operation in ("GetOrders", "GetTrades", "GetPositions", "GetDesks"):
        assert call(streamster_mock, operation).status == 200, operation
    r = send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1000000000.000000001")
    assert r.fault is not None and r.fault[0] == "Client"


def test_a_quantity_worth_more_than_the_platform_computes_is_refused() -> None:
    huge = scenario_from_dict({"instruments": [{"name": "EUR/USD", "contract_size": "1000000000"}], "walk": False})
    platform = Platform(seed=0, scenario=huge)
    with pytest.raises(StreamsterError, match=r"Quantity 1000000 of EUR/USD is too large: .* beyond what the platform"):
        platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1000000"})
    assert platform.orders == {}


# ----------------------------------------------------------------------------- 3. a refused call changes nothing


def test_close_position_computes_before_it_records(
    streamster_mock: StreamsterMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
    position_id = _positions(streamster_mock)[-1]["PositionID"]
    before = _state(streamster_mock)

    def broken(pos: Any, price: Decimal, inst: Any, rate: Decimal | None) -> tuple[Decimal, Decimal]:
        raise ArithmeticError("the profit cannot be computed")

    monkeypatch.setattr(engine, "pnl", broken)
    for _ in range(3):
        assert call(streamster_mock, "ClosePosition", element("PositionID", position_id)).status == 500
    monkeypatch.undo()
    assert _state(streamster_mock) == before  # no Exit order, no Exit trade, no ID drawn
    assert call(streamster_mock, "ClosePosition", element("PositionID", position_id)).status == 200


# Numbers a hostile or careless client sends: near the market with too many decimals, and far beyond it.
WILD = st.sampled_from([
    "1e30", "1e23", "1e999999999", "-1e999999999", "1e-999999999", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity",
    "0", "-1", "abc", "", "1000000000", "1000000001", "0.000001", "1E+2", "9" * 60,
])  # fmt: skip


@st.composite
def _price_texts(draw: st.DrawFn, market: Decimal) -> str:
    if draw(st.booleans()):
        return draw(WILD)
    pips = draw(st.integers(-80, 80))
    noise = draw(st.sampled_from(["", "0000000000000071123", "4999999", "5", "50000001", "99999999999997"]))
    return str(market + pips * Decimal("0.0001")) + noise


@st.composite
def _calls(draw: st.DrawFn, platform: Platform) -> tuple[str, Any]:
    bid = platform.series["eur/usd"].bid
    ids = [*platform.orders, *platform.positions, "NOPE00000", ""]
    quantity = draw(st.one_of(WILD, st.integers(1, 20).map(str), st.sampled_from(["0.5", "2.000000001"])))
    fields: dict[str, Any] = {
        "Instrument": draw(st.sampled_from(["EUR/USD", "eur/usd", "Nope"])), "Desk": "Virtual Forex",
        "Side": draw(st.sampled_from(["BUY", "SELL"])), "PriceType": draw(st.sampled_from(["MARKET", "LIMIT", "STOP"])),
        "Quantity": quantity, "Price": draw(_price_texts(bid)),
        "DurationType": draw(st.sampled_from(["GTC", "GTD", "IOC"])),
        "Duration": draw(st.sampled_from(["2025-01-06T10:00:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "x"])),
    }  # fmt: skip
    for name in ("ExitStopLoss", "ExitTarget"):
        if draw(st.booleans()):
            fields[name] = draw(_price_texts(bid))
    kind = draw(st.sampled_from(["send", "change", "cancel", "position", "close", "price", "pips", "advance"]))
    if kind == "send":
        return "send_order", (fields,)
    if kind == "change":
        return "change_order", ({**fields, "OrderID": draw(st.sampled_from(ids))},)
    if kind == "cancel":
        return "cancel_order", (draw(st.sampled_from(ids)),)
    if kind == "position":
        return "change_position", ({**fields, "PositionID": draw(st.sampled_from(ids))},)
    if kind == "close":
        return "close_position", (draw(st.sampled_from(ids)),)
    if kind == "price":
        return "set_price", ("EUR/USD", draw(_price_texts(bid)))
    if kind == "pips":
        return "move_price", ("EUR/USD", draw(st.one_of(WILD, st.integers(-50, 50).map(str))))
    return "advance", (draw(st.sampled_from([0, 30, 3600, -1, 1e308, float("nan"), float("inf"), 10**7])),)


PROPERTY_SCENARIO = Scenario(instruments=[i for i in Scenario().instruments if i.name == "EUR/USD"], walk=False)


@given(data=st.data())
def test_any_call_that_faults_leaves_the_snapshot_as_it_was_and_accepted_ones_never_poison(data: st.DataObject) -> None:
    platform = Platform(seed=0, scenario=PROPERTY_SCENARIO)
    for _ in range(12):
        name, args = data.draw(_calls(platform))
        before = platform.snapshot()
        try:
            getattr(platform, name)(*args)
        except (StreamsterError, ValueError) as exc:  # a refusal: nothing else may escape
            after = platform.snapshot()
            before.pop("last_message"), after.pop("last_message")
            assert after == before, f"{name}{args} faulted ({exc}) and changed the state"
        # Whatever was accepted, the platform still computes every read.
        platform.get_orders(), platform.get_positions(), platform.get_trades(), platform.get_desks()
        platform.get_quote("EUR/USD")
        json.dumps(platform.snapshot())


# ----------------------------------------------------------------------------- 6. a safe control plane


def _control(streamster_mock: StreamsterMock, route: str, body: Any, method: str = "POST") -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()  # allows NaN and Infinity
    return requests.request(
        method,
        f"{streamster_mock.url}/_mock/{route}",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


DAMAGE: list[tuple[str, tuple[Any, ...], Any]] = [
    ("columns null", ("columns",), None),
    ("seed text", ("seed",), "seven"),
    ("seed true", ("seed",), True),
    ("now not a date", ("now",), "tomorrow"),
    ("now in the year 9999", ("now",), "9999-12-31T00:00:00"),
    ("tick_interval 0", ("tick_interval",), 0),
    ("tick_interval tiny", ("tick_interval",), 1e-300),
    ("next_tick NaN", ("next_tick",), float("nan")),
    ("next_tick far back", ("next_tick",), 0),
    ("synced Infinity", ("synced",), float("inf")),
    ("walk text", ("walk",), "yes"),
    ("synced far ahead", ("synced",), 1e300),
    ("synced years before now", ("synced",), 1e9),
    ("series times after synced", ("series", "eur/usd", "updated"), 1e12),
    ("an order ID a number", ("orders", 0, "order_id"), 7),
    ("an order entered with an offset", ("orders", 0, "entered"), "2025-01-06T09:00:00+02:00"),
    ("tick_index out of range", ("tick_index",), 99),
    ("a desk amount of 1e30", ("desks", "Virtual Forex", "USD"), "1e30"),
    ("a desk amount NaN", ("desks", "Virtual Forex", "USD"), "NaN"),
    ("a desk amount of -1e999999999", ("desks", "Virtual Forex", "USD"), "-1e999999999"),
    ("an unknown column", ("columns", "Rates"), ["Bid", "Nope"]),
    ("a window missing", ("columns", "Trades"), KeyError),
    ("a closed chart of no instrument", ("closed_charts",), [["nope", "Daily"]]),
    ("a series missing", ("series", "gold"), KeyError),
    ("a series bid of 1e30", ("series", "eur/usd", "bid"), "1e30"),
    ("an instrument with 100 digits", ("instruments", 0, "digits"), 100),
    ("an ID space missing", ("issued", "trade"), KeyError),
    ("last_message a number", ("last_message",), 5),
    ("an order of no instrument", ("orders", 0, "instrument"), "Nope"),
    ("an order of a bogus status", ("orders", 0, "status"), "Bogus"),
    ("an order quantity of 1e30", ("orders", 0, "quantity"), "1e30"),
    ("a position on no desk", ("positions", 0, "desk"), "Nowhere"),
    ("a trade price of Infinity", ("trades", 0, "price"), "Infinity"),
]
OVER_HTTP = {"columns null", "seed text", "now not a date", "a desk amount of 1e30", "an order of no instrument",
             "a series bid of 1e30", "next_tick NaN"}  # fmt: skip


def test_put_snapshot_checks_all_of_it_before_applying_any_of_it(streamster_mock: StreamsterMock) -> None:
    send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10", PriceType="LIMIT", Price="1.08000"
    )
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10")
    streamster_mock.advance(60)
    good = streamster_mock.snapshot()
    streamster_mock.advance(600)
    streamster_mock.set_price("EUR/USD", "1.10000")
    before = streamster_mock.snapshot()
    for case, path, value in DAMAGE:
        node = good
        for key in path[:-1]:
            node = node[key]
        kept = node[path[-1]]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        with pytest.raises(ScenarioError):
            streamster_mock.restore(good)
        if case in OVER_HTTP:
            r = _control(streamster_mock, "snapshot", good, method="PUT")
            assert r.status_code == 400 and r.json()["error"], (case, r.status_code, r.text[:300])
        assert streamster_mock.snapshot() == before, case  # nothing applied, the clock not moved
        node[path[-1]] = kept
    assert _control(streamster_mock, "snapshot", good, method="PUT").status_code == 200
    assert streamster_mock.snapshot() == good


CONTROL_NUMBERS = [
    ("price", {"instrument": "EUR/USD", "bid": 1e30}, "Bid 1e+30 is far outside any market"),
    ("price", {"instrument": "EUR/USD", "bid": "1e999999999"}, "Bid 1e999999999 is far outside"),
    ("price", {"instrument": "EUR/USD", "bid": float("nan")}, "Bid 'nan' is not a finite"),
    ("price", {"instrument": "EUR/USD", "bid": "1.1", "offer": float("inf")}, "Offer 'inf' is not a finite"),
    ("price", {"instrument": "EUR/USD", "bid": "999999999.99990"}, "plus the spread is above 1000000000"),
    ("price", {"instrument": "EUR/USD", "pips": 1e308}, "pips 1e+308 is more than 1000000000"),
    ("price", {"instrument": "EUR/USD", "pips": "-Infinity"}, "pips '-Infinity' is not a finite"),
    ("price", {"instrument": "EUR/USD", "pips": "-1e999999999"}, "pips -1e999999999 is more than 1000000000"),
    ("advance", {"seconds": 1e308}, "seconds must be a number from 0 to 31622400"),
    ("advance", {"seconds": float("inf")}, "seconds must be a number from 0"),
    ("advance", {"seconds": float("nan")}, "seconds must be a number from 0"),
    ("advance", {"seconds": 10**7}, "would play 2000000 random-walk ticks"),
    ("faults", {"operation": "GetQuote", "kind": "delay", "seconds": 1e308}, "seconds must be a number from 0 to 600"),
    ("faults", {"operation": "GetQuote", "kind": "delay", "seconds": float("nan")}, "seconds must be a number"),
    ("faults", {"operation": "GetQuote", "kind": "http", "status": float("inf")}, "status must be an HTTP status"),
    ("faults", {"operation": "GetQuote", "probability": float("nan")}, "probability"),
    ("scenario", {"scenario": {"start": 1e308}}, "scenario: start: must be an ISO date-time"),
    ("scenario", {"scenario": {"start": "9999-12-31T00:00:00"}}, "scenario: start: must be in the years 1900 to 9000"),
    ("scenario", {"scenario": {"tick_interval": 1e-9}}, "scenario: tick_interval: must be at least 0.01"),
    ("scenario", {"scenario": {"desks": [{"name": "D", "currencies": {"USD": 1e30}}]}}, "at most 1000000000000000"),
    ("scenario", {"scenario": {"desks": [{"name": "D", "currencies": {"USD": "-1e999999999"}}]}}, "at most 1000"),
    (
        "scenario",
        {"scenario": {"instruments": [{"name": "EUR/USD", "price": "1e30"}]}},
        "scenario: instruments[0].price: must be > 0 and at",
    ),
    (
        "scenario",
        {"scenario": {"instruments": [{"name": "EUR/USD", "digits": 100}]}},
        "scenario: instruments[0].digits: must be at most 10, not 100",
    ),
]


@pytest.mark.parametrize(
    ("route", "body", "error"), CONTROL_NUMBERS, ids=[f"{c[0]}-{c[2][:30]}" for c in CONTROL_NUMBERS]
)
def test_control_routes_bound_their_numbers(streamster_mock: StreamsterMock, route: str, body: Any, error: str) -> None:
    before = streamster_mock.snapshot()
    r = _control(streamster_mock, route, body)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert error in r.json()["error"], r.json()
    assert streamster_mock.snapshot() == before and streamster_mock.controller.faults.rules() == []
    assert call(streamster_mock, "GetDesks").status == 200


# ----------------------------------------------------------------------------- 13. prices exactly on a level

SPREAD, STEP = Decimal("0.00020"), Decimal("0.00001")
# (what, order fields, the quote side that meets the level, the level, the side a price one step short is on)
EXACT = [
    ("LIMIT BUY entry", {"PriceType": "LIMIT", "Price": "1.08000"}, "offer", "1.08000", +1),
    ("LIMIT SELL entry", {"Side": "SELL", "PriceType": "LIMIT", "Price": "1.09000"}, "bid", "1.09000", -1),
    ("STOP BUY entry", {"PriceType": "STOP", "Price": "1.09000"}, "offer", "1.09000", -1),
    ("STOP SELL entry", {"Side": "SELL", "PriceType": "STOP", "Price": "1.08000"}, "bid", "1.08000", +1),
    ("BUY stop loss", {"ExitStopLoss": "1.08300"}, "bid", "1.08300", +1),
    ("BUY target", {"ExitTarget": "1.08700"}, "bid", "1.08700", -1),
    ("SELL stop loss", {"Side": "SELL", "ExitStopLoss": "1.08700"}, "offer", "1.08700", -1),
    ("SELL target", {"Side": "SELL", "ExitTarget": "1.08300"}, "offer", "1.08300", +1),
]


def _quote_at(streamster_mock: StreamsterMock, side: str, price: Decimal) -> None:
    bid = price if side == "bid" else price - SPREAD
    streamster_mock.set_price("EUR/USD", str(bid), str(bid + SPREAD))


@pytest.mark.parametrize(("what", "fields", "side", "level", "short"), EXACT, ids=[e[0] for e in EXACT])
def test_a_price_exactly_on_a_level_triggers_it(
    streamster_mock: StreamsterMock, what: str, fields: dict[str, str], side: str, level: str, short: int
) -> None:
    r = send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10", **fields)
    assert r.status == 200, r.raw
    entry = "Price" in fields
    _quote_at(streamster_mock, side, Decimal(level) + short * STEP)  # one step short: nothing happens
    if entry:
        assert _orders(streamster_mock)[0]["Status"] == "Working" and _positions(streamster_mock) == []
    else:
        assert [p["Status"] for p in _positions(streamster_mock)] == ["Open"]
    _quote_at(streamster_mock, side, Decimal(level))  # exactly on it: it fires, at that price
    trades = call(streamster_mock, "GetTrades").items("Trades", "Trade")
    assert trades[-1]["Price"] == level, trades
    if entry:
        assert (
            _orders(streamster_mock)[0]["Status"] == "Filled" and _positions(streamster_mock)[0]["OpenPrice"] == level
        )
    else:
        position = _positions(streamster_mock)[0]
        assert (position["Status"], position["ClosePrice"]) == ("Closed", level)
        exit_order = next(o for o in _orders(streamster_mock) if o["OrderID"] == trades[-1]["OrderID"])
        assert (exit_order["PriceType"], exit_order["Price"]) == ("STOP" if "stop" in what else "LIMIT", level)
