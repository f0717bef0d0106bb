"""Every operation of contract §3 and every platform rule of §5, over SOAP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from mock_streamster import StreamsterMock
from mock_streamster.model import ORDER_FIELDS, POSITION_FIELDS, QUOTE_FIELDS, TRADE_FIELDS

from .soaputil import NS, call, element, envelope, post, send_order

ID = re.compile(r"^[A-Z0-9]{9}$")
DEC = re.compile(r"^-?\d+(\.\d+)?$")
DT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def quote(mock: StreamsterMock, instrument: str = "EUR/USD") -> dict[str, str]:
    r = call(mock, "GetQuote", element("Instrument", instrument))
    assert r.status == 200, r.raw
    return r.fields("Quote")


def orders(mock: StreamsterMock) -> list[dict[str, str]]:
    return call(mock, "GetOrders").items("Orders", "Order")


def trades(mock: StreamsterMock) -> list[dict[str, str]]:
    return call(mock, "GetTrades").items("Trades", "Trade")


def positions(mock: StreamsterMock) -> list[dict[str, str]]:
    return call(mock, "GetPositions").items("Positions", "Position")


def desks(mock: StreamsterMock) -> dict[tuple[str, str], Decimal]:
    return {(d["Name"], d["Currency"]): Decimal(d["Amount"]) for d in call(mock, "GetDesks").items("Desks", "Desk")}


def ok(reply) -> None:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.raw
    assert reply.fault is None
    return None


def buy(mock: StreamsterMock, **extra: object) -> None:
    fields = {"Instrument": "EUR/USD", "Side": "BUY", "Quantity": "10", "Desk": "Virtual Forex"}
    fields.update({k: v for k, v in extra.items()})
    ok(send_order(mock, **fields))


# ----------------------------------------------------------------------------- reads


def test_get_quote_returns_the_fields_in_order_with_instrument_digits(streamster_mock: StreamsterMock) -> None:
    q = quote(streamster_mock)
    assert list(q) == [f for f in QUOTE_FIELDS if f != "Yield"]  # FX has no yield
    assert q["Bid"] == q["Last"] and q["Offer"] == q["Ask"]
    for f in ("Last", "Bid", "Offer", "High", "Low", "Open", "Close"):
        assert re.fullmatch(r"\d+\.\d{5}", q[f]), (f, q[f])
    assert Decimal(q["Offer"]) - Decimal(q["Bid"]) == Decimal("0.00020")
    assert Decimal(q["Low"]) <= Decimal(q["Bid"]) <= Decimal(q["High"])
    assert Decimal(q["Change"]) == Decimal(q["Last"]) - Decimal(q["Close"])
    assert re.fullmatch(r"\d\d:\d\d:\d\d", q["Time"]) and q["Currency"] == "USD"
    jpy = quote(streamster_mock, "usd/jpy")
    assert re.fullmatch(r"\d+\.\d{3}", jpy["Bid"]) and jpy["Currency"] == "JPY"
    dow = quote(streamster_mock, "  DOW   jones ")
    assert re.fullmatch(r"\d+\.\d{2}", dow["Bid"])


def test_lists_are_sent_as_empty_wrappers_when_empty(streamster_mock: StreamsterMock) -> None:
    for op, wrapper in (("GetOrders", "Orders"), ("GetTrades", "Trades"), ("GetPositions", "Positions")):
        r = call(streamster_mock, op)
        node = r.body.find(f"{{{NS}}}{wrapper}")
        assert node is not None and len(node) == 0, r.raw


def test_get_desks_lists_one_entry_per_desk_and_currency(streamster_mock: StreamsterMock) -> None:
    r = call(streamster_mock, "GetDesks")
    assert r.items("Desks", "Desk") == [
        {"Name": "Virtual Forex", "Currency": "USD", "Amount": "10000.00"},
        {"Name": "Virtual Currencies", "Currency": "USD", "Amount": "10000.00"},
        {"Name": "Virtual Currencies", "Currency": "EUR", "Amount": "10000.00"},
    ]


def test_void_operations_answer_an_empty_body(streamster_mock: StreamsterMock) -> None:
    r = send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
    assert r.status == 200 and len(r.body) == 0 and b"nil" not in r.raw


# ----------------------------------------------------------------------------- market orders


def test_market_buy_fills_at_offer_and_makes_trade_and_position(streamster_mock: StreamsterMock) -> None:
    q = quote(streamster_mock)
    buy(streamster_mock, ExitStopLoss="1.08000", ExitTarget="1.09000", Text="api")
    (o,) = orders(streamster_mock)
    assert ID.match(o["OrderID"]) and o["Status"] == "Filled" and o["Phase"] == "Entry"
    assert o["TradedQuantity"] == "10" and o["ActiveQuantity"] == "0" and o["PriceType"] == "MARKET"
    assert list(o) == [f for f in ORDER_FIELDS if f in o]  # sequence order
    (t,) = trades(streamster_mock)
    assert t["Price"] == q["Offer"] and t["Phase"] == "Entry" and t["OrderID"] == o["OrderID"]
    assert t["Status"] == "Executed" and t["Side"] == "BUY" and DT.match(t["Executed"])
    assert list(t) == [f for f in TRADE_FIELDS if f in t]
    (p,) = positions(streamster_mock)
    assert p["PositionID"] == o["PositionID"] and p["OpenPrice"] == q["Offer"] and p["Status"] == "Open"
    assert p["ExitStopLoss"] == "1.08000" and p["ExitTarget"] == "1.09000" and p["Text"] == "api"
    assert "Exited" not in p and "ClosePrice" not in p
    assert list(p) == [f for f in POSITION_FIELDS if f in p]


def test_market_sell_fills_at_bid(streamster_mock: StreamsterMock) -> None:
    q = quote(streamster_mock)
    buy(streamster_mock, Side="sell")
    assert trades(streamster_mock)[0]["Price"] == q["Bid"]
    assert positions(streamster_mock)[0]["Side"] == "SELL"


def test_no_netting_a_buy_and_a_sell_make_two_positions(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock)
    buy(streamster_mock, Side="SELL")
    ps = positions(streamster_mock)
    assert [p["Side"] for p in ps] == ["BUY", "SELL"] and all(p["Status"] == "Open" for p in ps)


def test_enums_are_case_insensitive_and_emitted_upper_case(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, Side="sell", PriceType="Market", DurationType="gtc", QuantityType="Full")
    o = orders(streamster_mock)[0]
    assert (o["Side"], o["PriceType"], o["DurationType"], o["QuantityType"]) == ("SELL", "MARKET", "GTC", "FULL")


def test_ids_have_nine_characters_and_are_never_reused(streamster_mock: StreamsterMock) -> None:
    for _ in range(5):
        buy(streamster_mock)
    for p in positions(streamster_mock):
        ok(call(streamster_mock, "ClosePosition", element("PositionID", p["PositionID"])))
    ids = (
        [o["OrderID"] for o in orders(streamster_mock)]
        + [p["PositionID"] for p in positions(streamster_mock)]
        + [t["TradeID"] for t in trades(streamster_mock)]
    )
    assert all(ID.match(i) for i in ids)
    assert (
        len([o["OrderID"] for o in orders(streamster_mock)])
        == len({o["OrderID"] for o in orders(streamster_mock)})
        == 10
    )
    assert len({t["TradeID"] for t in trades(streamster_mock)}) == 10


# ----------------------------------------------------------------------------- limit and stop


def test_limit_buy_waits_until_offer_reaches_the_price(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="LIMIT", Price="1.08000")
    assert orders(streamster_mock)[0]["Status"] == "Working" and orders(streamster_mock)[0]["ActiveQuantity"] == "10"
    streamster_mock.set_price("EUR/USD", "1.07990", "1.08010")  # offer still above the limit
    assert orders(streamster_mock)[0]["Status"] == "Working" and positions(streamster_mock) == []
    streamster_mock.set_price("EUR/USD", "1.07970", "1.07990")
    o = orders(streamster_mock)[0]
    assert o["Status"] == "Filled" and trades(streamster_mock)[0]["Price"] == "1.07990"


def test_limit_sell_fills_when_bid_reaches_the_price(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, Side="SELL", PriceType="LIMIT", Price="1.09000")
    streamster_mock.set_price("EUR/USD", "1.08990")
    assert orders(streamster_mock)[0]["Status"] == "Working"
    streamster_mock.set_price("EUR/USD", "1.09010")
    assert orders(streamster_mock)[0]["Status"] == "Filled" and trades(streamster_mock)[0]["Price"] == "1.09010"


def test_stop_buy_fills_when_offer_passes_the_price(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="STOP", Price="1.09000")
    streamster_mock.set_price("EUR/USD", "1.08970", "1.08990")
    assert orders(streamster_mock)[0]["Status"] == "Working"
    streamster_mock.set_price("EUR/USD", "1.08990", "1.09010")
    assert orders(streamster_mock)[0]["Status"] == "Filled" and trades(streamster_mock)[0]["Price"] == "1.09010"


def test_stop_sell_fills_when_bid_passes_the_price(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, Side="SELL", PriceType="STOP", Price="1.08000")
    streamster_mock.set_price("EUR/USD", "1.08010")
    assert orders(streamster_mock)[0]["Status"] == "Working"
    streamster_mock.set_price("EUR/USD", "1.07990")
    assert orders(streamster_mock)[0]["Status"] == "Filled" and trades(streamster_mock)[0]["Price"] == "1.07990"


def test_fills_happen_on_ticks_of_the_random_walk_in_time_order(streamster_mock: StreamsterMock) -> None:
    bid = Decimal(quote(streamster_mock)["Bid"])
    buy(streamster_mock, PriceType="LIMIT", Price=str(bid - Decimal("0.00030")))
    buy(streamster_mock, Side="SELL", PriceType="LIMIT", Price=str(bid + Decimal("0.00030")))
    for _ in range(200):
        if all(o["Status"] == "Filled" for o in orders(streamster_mock)):
            break
        streamster_mock.advance(600)
    os_ = orders(streamster_mock)
    assert any(o["Status"] == "Filled" for o in os_)
    executed = [t["Executed"] for t in trades(streamster_mock)]
    assert executed == sorted(executed)


def test_ioc_cancels_what_cannot_fill_at_once(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="LIMIT", Price="1.08000", DurationType="IOC")
    o = orders(streamster_mock)[0]
    assert o["Status"] == "Cancelled" and o["ActiveQuantity"] == "0" and trades(streamster_mock) == []
    assert "IOC" in call(streamster_mock, "GetLastMessage").body.findtext(f"{{{NS}}}LastMessage")
    buy(streamster_mock, DurationType="IOC")
    assert orders(streamster_mock)[1]["Status"] == "Filled"


def test_gtd_orders_expire_when_the_clock_passes_duration(streamster_mock: StreamsterMock) -> None:
    now = streamster_mock.platform.now()
    buy(
        streamster_mock,
        PriceType="LIMIT",
        Price="1.05000",
        DurationType="GTD",
        Duration=(now + timedelta(seconds=60)).isoformat(),
    )
    o = orders(streamster_mock)[0]
    assert o["Duration"] == (now + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S") and o["DurationType"] == "GTD"
    streamster_mock.advance(60)
    assert orders(streamster_mock)[0]["Status"] == "Working"
    streamster_mock.advance(1)
    assert orders(streamster_mock)[0]["Status"] == "Expired" and orders(streamster_mock)[0]["ActiveQuantity"] == "0"


def test_gtc_and_ioc_ignore_duration(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="LIMIT", Price="1.05000", Duration="2000-01-01T00:00:00")
    assert "Duration" not in orders(streamster_mock)[0]
    streamster_mock.advance(3600)
    assert orders(streamster_mock)[0]["Status"] == "Working"


def test_partial_fills_follow_the_market_depth() -> None:
    scenario = {"instruments": [{"name": "EUR/USD", "depth": "4"}], "walk": False}
    with StreamsterMock() as m:
        m.load_scenario(scenario)
        ok(send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10", QuantityType="PARTIAL"))
        o = orders(m)[0]
        assert (o["Status"], o["TradedQuantity"], o["ActiveQuantity"]) == ("Working", "4", "6")
        m.set_price("EUR/USD", "1.08510")
        m.set_price("EUR/USD", "1.08520")
        o = orders(m)[0]
        assert (o["Status"], o["TradedQuantity"], o["ActiveQuantity"]) == ("Filled", "10", "0")
        assert [t["Quantity"] for t in trades(m)] == ["4", "4", "2"]
        assert [p["Quantity"] for p in positions(m)] == ["4", "4", "2"]  # every fill its own position
        # FULL cannot fill beyond the depth: a market order is rejected, told through GetLastMessage.
        ok(send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10"))
        assert orders(m)[1]["Status"] == "Rejected"
        assert "market depth" in call(m, "GetLastMessage").body.findtext(f"{{{NS}}}LastMessage")
        ok(send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="3"))
        assert orders(m)[2]["Status"] == "Filled"


# ----------------------------------------------------------------------------- change and cancel


def test_change_order_replaces_the_editable_set(streamster_mock: StreamsterMock) -> None:
    buy(
        streamster_mock,
        PriceType="LIMIT",
        Price="1.08000",
        ExitStopLoss="1.07000",
        ExitTarget="1.09000",
        Text="first",
        DurationType="GTD",
        Duration=(streamster_mock.platform.now() + timedelta(hours=1)).isoformat(),
        QuantityType="PARTIAL",
    )
    oid = orders(streamster_mock)[0]["OrderID"]
    ok(
        call(
            streamster_mock,
            "ChangeOrder",
            element("Order", OrderID=oid, PriceType="LIMIT", Price="1.07500", Quantity="5"),
        )
    )
    o = orders(streamster_mock)[0]
    assert o["Price"] == "1.07500" and o["Quantity"] == "5" and o["ActiveQuantity"] == "5"
    for gone in ("ExitStopLoss", "ExitTarget", "Text", "Duration"):
        assert gone not in o, gone  # left out = default, not the old value
    assert o["DurationType"] == "GTC" and o["QuantityType"] == "FULL"
    assert (o["Instrument"], o["Side"], o["Desk"]) == ("EUR/USD", "BUY", "Virtual Forex")


def test_change_order_ignores_fields_outside_the_editable_set(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="LIMIT", Price="1.08000")
    oid = orders(streamster_mock)[0]["OrderID"]
    ok(call(streamster_mock, "ChangeOrder", element("Order", OrderID=oid, Desk="Nope", Instrument="GBP/USD", Side="SELL",
                                          PriceType="LIMIT", Price="1.08100", Quantity="7")))  # fmt: skip
    o = orders(streamster_mock)[0]
    assert (o["Instrument"], o["Side"], o["Desk"], o["Quantity"]) == ("EUR/USD", "BUY", "Virtual Forex", "7")


def test_change_order_to_market_fills_at_once(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="LIMIT", Price="1.08000")
    oid = orders(streamster_mock)[0]["OrderID"]
    ok(
        call(streamster_mock, "ChangeOrder", element("Order", OrderID=oid, Quantity="10"))
    )  # PriceType defaults to MARKET
    assert orders(streamster_mock)[0]["Status"] == "Filled" and len(positions(streamster_mock)) == 1


def test_cancel_order_cancels_a_working_order(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, PriceType="LIMIT", Price="1.08000")
    oid = orders(streamster_mock)[0]["OrderID"]
    ok(call(streamster_mock, "CancelOrder", element("OrderID", oid)))
    o = orders(streamster_mock)[0]
    assert o["Status"] == "Cancelled" and o["ActiveQuantity"] == "0"
    streamster_mock.set_price("EUR/USD", "1.07000")
    assert orders(streamster_mock)[0]["Status"] == "Cancelled" and positions(streamster_mock) == []


def test_change_position_replaces_stop_target_and_text(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, ExitStopLoss="1.08000", ExitTarget="1.09000", Text="t")
    pid = positions(streamster_mock)[0]["PositionID"]
    ok(
        call(
            streamster_mock, "ChangePosition", element("Position", PositionID=pid, ExitTarget="1.09500", Quantity="999")
        )
    )
    p = positions(streamster_mock)[0]
    assert p["ExitTarget"] == "1.09500" and "ExitStopLoss" not in p and "Text" not in p and p["Quantity"] == "10"


# ----------------------------------------------------------------------------- exits and profit


def test_stop_loss_closes_a_buy_at_the_bid_and_credits_the_desk(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, ExitStopLoss="1.08300")
    streamster_mock.set_price("EUR/USD", "1.08310")
    assert positions(streamster_mock)[0]["Status"] == "Open"
    streamster_mock.set_price("EUR/USD", "1.08290")
    p = positions(streamster_mock)[0]
    assert p["Status"] == "Closed" and p["ClosePrice"] == "1.08290" and DT.match(p["Exited"])
    # open at offer 1.08520, out at 1.08290: -23 pips of 10 x 1000 EUR = -23.00 USD
    assert (p["Points"], p["Profit"]) == ("-23.0", "-23.00")
    exit_trade = trades(streamster_mock)[1]
    assert (exit_trade["Phase"], exit_trade["Side"], exit_trade["Price"]) == ("Exit", "SELL", "1.08290")
    exit_order = next(o for o in orders(streamster_mock) if o["OrderID"] == exit_trade["OrderID"])
    assert (exit_order["Phase"], exit_order["PriceType"], exit_order["PositionID"]) == ("Exit", "STOP", p["PositionID"])
    assert desks(streamster_mock)[("Virtual Forex", "USD")] == Decimal("9977.00")


def test_target_closes_a_buy_at_the_bid(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, ExitTarget="1.08700")
    streamster_mock.set_price("EUR/USD", "1.08710")
    p = positions(streamster_mock)[0]
    assert (p["Status"], p["ClosePrice"], p["Points"], p["Profit"]) == ("Closed", "1.08710", "19.0", "19.00")


def test_sell_exits_use_the_offer(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, Side="SELL", ExitStopLoss="1.08700", ExitTarget="1.08300")  # sold at bid 1.08500
    streamster_mock.set_price("EUR/USD", "1.08660", "1.08690")
    assert positions(streamster_mock)[0]["Status"] == "Open"
    streamster_mock.set_price("EUR/USD", "1.08680", "1.08700")
    p = positions(streamster_mock)[0]
    assert (p["Status"], p["ClosePrice"], p["Points"], p["Profit"]) == ("Closed", "1.08700", "-20.0", "-20.00")
    buy(streamster_mock, Side="SELL", ExitTarget="1.08300")
    streamster_mock.set_price("EUR/USD", "1.08270", "1.08290")
    assert positions(streamster_mock)[1]["ClosePrice"] == "1.08290"


def test_close_position_closes_at_market_and_credits_realised_profit(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock)
    buy(streamster_mock, Side="SELL")
    streamster_mock.set_price("EUR/USD", "1.08620", "1.08640")
    long_, short = positions(streamster_mock)
    assert (long_["Points"], long_["Profit"]) == ("10.0", "10.00")  # marked to market while open
    assert (short["Points"], short["Profit"]) == ("-14.0", "-14.00")
    ok(call(streamster_mock, "ClosePosition", element("PositionID", long_["PositionID"])))
    ok(call(streamster_mock, "ClosePosition", element("PositionID", short["PositionID"])))
    long_, short = positions(streamster_mock)
    assert (long_["ClosePrice"], short["ClosePrice"]) == ("1.08620", "1.08640")
    assert desks(streamster_mock)[("Virtual Forex", "USD")] == Decimal("10000.00") + 10 - 14
    streamster_mock.set_price("EUR/USD", "1.10000")
    assert positions(streamster_mock)[0]["Profit"] == "10.00"  # closed positions keep their final figures


def test_points_and_profit_follow_the_price_and_convert_into_the_desk_currency(streamster_mock: StreamsterMock) -> None:
    ok(send_order(streamster_mock, Instrument="USD/JPY", Desk="Virtual Forex", Quantity="10"))  # bought at 148.520
    streamster_mock.set_price("USD/JPY", "149.520", "149.540")
    p = positions(streamster_mock)[0]
    # 1.000 JPY x 10 x 1000 = 10000 JPY at 1/149.530 USD per JPY = 66.876...
    assert p["Points"] == "100.0" and p["Profit"] == "66.88"
    ok(send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Currencies", Currency="eur", Quantity="10"))
    streamster_mock.set_price("EUR/USD", "1.08620", "1.08640")
    p = positions(streamster_mock)[1]
    assert p["Currency"] == "EUR" and p["Points"] == "10.0"
    assert p["Profit"] == str((Decimal("10.00") / Decimal("1.08630")).quantize(Decimal("0.01")))


# ----------------------------------------------------------------------------- bars


@pytest.mark.parametrize(
    "period", ["5 Minutes", "15 minutes", "30 MINUTES", "Hourly", "4 Hours", "Daily", "Weekly", "Monthly"]
)
def test_get_bars_returns_200_bars_newest_first_ending_with_the_bar_in_progress(
    streamster_mock: StreamsterMock, period: str
) -> None:
    r = call(
        streamster_mock,
        "GetBars",
        element("Instrument", "EUR/USD") + element("Period", period) + element("Options", ""),
    )
    bars = r.items("Bars", "Bar")
    assert len(bars) == 200
    times = [b["BarDateTime"] for b in bars]
    assert times == sorted(times, reverse=True) and len(set(times)) == 200
    for b in bars:
        assert list(b) == ["BarDateTime", "Open", "High", "Low", "Close", "Volume"]
        lo, hi = Decimal(b["Low"]), Decimal(b["High"])
        assert lo <= Decimal(b["Open"]) <= hi and lo <= Decimal(b["Close"]) <= hi and int(b["Volume"]) >= 1
    assert bars[0]["Close"] == quote(streamster_mock)["Bid"]  # the bar in progress ends at the current price
    assert datetime.fromisoformat(bars[0]["BarDateTime"]) <= streamster_mock.platform.now()


def test_get_bars_options_f_gives_oldest_first(streamster_mock: StreamsterMock) -> None:
    body = element("Instrument", "EUR/USD") + element("Period", "Hourly")
    newest = call(streamster_mock, "GetBars", body + element("Options", "")).items("Bars", "Bar")
    oldest = call(streamster_mock, "GetBars", body + element("Options", "f")).items("Bars", "Bar")
    other = call(streamster_mock, "GetBars", body + element("Options", "x")).items("Bars", "Bar")
    assert oldest == newest[::-1] and other == newest


def test_bars_agree_with_quotes_and_with_each_other(streamster_mock: StreamsterMock) -> None:
    streamster_mock.advance(3 * 3600)
    streamster_mock.set_price("EUR/USD", "1.09999")
    q = quote(streamster_mock)

    def bars(period: str) -> list[dict[str, str]]:
        body = element("Instrument", "EUR/USD") + element("Period", period) + element("Options", "f")
        return call(streamster_mock, "GetBars", body).items("Bars", "Bar")

    daily = bars("Daily")[-1]
    assert (daily["Open"], daily["High"], daily["Low"], daily["Close"]) == (q["Open"], q["High"], q["Low"], q["Bid"])
    assert bars("Daily")[-2]["Close"] == q["Close"]
    # The last hour's bar aggregates the twelve 5-minute bars inside it.
    hour = bars("Hourly")[-2]
    fives = [b for b in bars("5 Minutes") if b["BarDateTime"][:13] == hour["BarDateTime"][:13]]
    assert len(fives) == 12
    assert fives[0]["Open"] == hour["Open"] and fives[-1]["Close"] == hour["Close"]
    assert max(Decimal(b["High"]) for b in fives) == Decimal(hour["High"])
    assert min(Decimal(b["Low"]) for b in fives) == Decimal(hour["Low"])
    assert sum(int(b["Volume"]) for b in fives) == int(hour["Volume"])


def test_closed_charts_fault_and_reopen(streamster_mock: StreamsterMock) -> None:
    streamster_mock.close_chart("EUR/USD", "5 minutes")
    body = element("Instrument", "EUR/USD") + element("Period", "5 Minutes") + element("Options", "f")
    r = call(streamster_mock, "GetBars", body)
    assert r.status == 500 and r.fault[0] == "Client" and "5 Minutes" in r.fault[1] and "EUR/USD" in r.fault[1]
    ok(
        call(
            streamster_mock,
            "GetBars",
            element("Instrument", "EUR/USD") + element("Period", "Hourly") + element("Options", "f"),
        )
    )
    streamster_mock.open_chart("EUR/USD", "5 Minutes")
    ok(call(streamster_mock, "GetBars", body))


# ----------------------------------------------------------------------------- messages and columns


def test_get_last_message_reads_and_clears(streamster_mock: StreamsterMock) -> None:
    assert call(streamster_mock, "GetLastMessage").body.findtext(f"{{{NS}}}LastMessage") == ""
    r = send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="0")
    text = r.fault[1]
    assert call(streamster_mock, "GetLastMessage").body.findtext(f"{{{NS}}}LastMessage") == text
    assert call(streamster_mock, "GetLastMessage").body.findtext(f"{{{NS}}}LastMessage") == ""


def test_hidden_columns_are_left_out(streamster_mock: StreamsterMock) -> None:
    buy(streamster_mock, Text="x")
    streamster_mock.set_columns("Positions", ["PositionID", "Profit", "Status"])
    streamster_mock.set_columns("orders", ["OrderID"])
    streamster_mock.set_columns("Trades", [])
    streamster_mock.set_columns("Rates", ["Bid", "Offer"])
    assert list(positions(streamster_mock)[0]) == ["PositionID", "Profit", "Status"]
    assert list(orders(streamster_mock)[0]) == ["OrderID"]
    assert trades(streamster_mock) == [{}]
    assert list(quote(streamster_mock)) == ["Bid", "Offer"]
    streamster_mock.reset()
    buy(streamster_mock)
    assert "Desk" in positions(streamster_mock)[0]  # reset shows every column again


# ----------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize(
    ("body", "wrapper"),
    [
        (element("Instrument", "EUR/USD"), "Quote"),
        (element("Instrument", "EUR/USD") + element("Period", "Daily") + element("Options", "f"), "Bars"),
    ],
)
def test_dispatch_from_the_body_without_soapaction(streamster_mock: StreamsterMock, body: str, wrapper: str) -> None:
    r = post(streamster_mock.endpoint_url, envelope(body))
    assert r.status == 200 and r.body.find(f"{{{NS}}}{wrapper}") is not None


def test_dispatch_order_without_soapaction_by_order_id(streamster_mock: StreamsterMock) -> None:
    ok(
        post(
            streamster_mock.endpoint_url,
            envelope(
                element(
                    "Order",
                    Instrument="EUR/USD",
                    Desk="Virtual Forex",
                    Quantity="1",
                    PriceType="LIMIT",
                    Price="1.00000",
                )
            ),
        )
    )
    oid = orders(streamster_mock)[0]["OrderID"]
    ok(
        post(
            streamster_mock.endpoint_url,
            envelope(element("Order", OrderID=oid, Quantity="2", PriceType="LIMIT", Price="1.00000")),
        )
    )
    assert [o["Quantity"] for o in orders(streamster_mock)] == ["2"]  # changed, not a second order
    ok(post(streamster_mock.endpoint_url, envelope(element("OrderID", oid))))
    assert orders(streamster_mock)[0]["Status"] == "Cancelled"
    buy(streamster_mock)
    pid = positions(streamster_mock)[0]["PositionID"]
    ok(post(streamster_mock.endpoint_url, envelope(element("Position", PositionID=pid, Text="hi"))))
    assert positions(streamster_mock)[0]["Text"] == "hi"
    ok(post(streamster_mock.endpoint_url, envelope(element("PositionID", pid))))
    assert positions(streamster_mock)[0]["Status"] == "Closed"


def test_soapaction_may_carry_a_path_and_any_case(streamster_mock: StreamsterMock) -> None:
    for action in ("http://www.novativa.com/ws/streamsterapi/GetQuote", "getquote", "urn:x#GetQuote"):
        r = post(streamster_mock.endpoint_url, envelope(element("Instrument", "EUR/USD")), action)
        assert r.status == 200 and r.body.find(f"{{{NS}}}Quote") is not None


def test_unqualified_parts_are_accepted(streamster_mock: StreamsterMock) -> None:
    body = "<Order><Instrument>EUR/USD</Instrument><Desk>Virtual Forex</Desk><Quantity>3</Quantity></Order>"
    ok(post(streamster_mock.endpoint_url, envelope(body), "SendOrder"))
    assert orders(streamster_mock)[0]["Quantity"] == "3"


def test_any_post_path_is_the_endpoint(streamster_mock: StreamsterMock) -> None:
    r = post(streamster_mock.url + "/anything/else", envelope(element("Instrument", "Gold")), "GetQuote")
    assert r.status == 200 and r.fields("Quote")["Currency"] == "USD"
    assert all(DEC.match(v) for k, v in r.fields("Quote").items() if k not in ("Time", "Currency"))
