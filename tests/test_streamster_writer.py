"""The SOAP replies are written without spyne's serializer: each record must come out exactly as
spyne would write the same model (elements, order, namespaces, escaping), and the envelope as
spyne's, with hidden columns and special characters included."""

from __future__ import annotations

from typing import Any

from lxml import etree
from spyne.util.xml import get_object_as_xml

from mock_streamster import StreamsterMock
from mock_streamster.soap import NS, SOAP_ENV, BarModel, DeskModel, OrderModel, PositionModel, QuoteModel, TradeModel

from .soaputil import call, element, send_order

TEXT = "a<b & c>d\r é€ \"'"
MODELS = {"Quote": QuoteModel, "Order": OrderModel, "Position": PositionModel, "Trade": TradeModel,
          "Desk": DeskModel, "Bar": BarModel}  # fmt: skip


def _as_spyne_writes_it(record: Any) -> bytes:
    """The record rebuilt as its spyne model from the values we wrote, serialized by spyne."""
    model = MODELS[etree.QName(record).localname]
    values = {etree.QName(child).localname: child.text or "" for child in record}
    return etree.tostring(get_object_as_xml(model(**values), model), method="c14n")


def _records(body: Any) -> list[Any]:
    (result,) = list(body)
    assert etree.QName(result).namespace == NS
    return [result] if etree.QName(result).localname in MODELS else list(result)


def _check(mock: StreamsterMock, operation: str, parts: str = "", expect: int | None = None) -> None:
    reply = call(mock, operation, parts)
    assert reply.status == 200, reply.raw[:300]
    assert reply.raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:tns=")
    records = _records(reply.body)
    if expect is not None:
        assert len(records) == expect, (operation, len(records))
    for record in records:
        ours = etree.tostring(record, method="c14n")
        # c14n keeps the namespace declarations in scope: compare with the declarations spyne puts.
        ours = ours.replace(f' xmlns:soap="{SOAP_ENV}"'.encode(), b"").replace(b"tns:", b"ns0:")
        ours = ours.replace(b"xmlns:tns=", b"xmlns:ns0=")
        assert ours == _as_spyne_writes_it(record), (operation, ours)


def test_every_read_writes_what_spyne_would_write() -> None:
    with StreamsterMock(seed=5) as mock:
        order = {"Instrument": "EUR/USD", "Desk": "Virtual Forex"}
        assert send_order(mock, **order, Side="BUY", Quantity="1", Text=TEXT).status == 200
        assert send_order(mock, **order, Side="SELL", Quantity="2", PriceType="LIMIT", Price="1.2", ExitStopLoss="1.3",
                          Text=TEXT).status == 200  # fmt: skip
        assert send_order(mock, Instrument="USD/JPY", Desk="Virtual Forex", Side="SELL", Quantity="1.5").status == 200
        mock.advance(3600)
        for _ in range(2):  # all columns, then some hidden
            _check(mock, "GetQuote", element("Instrument", "EUR/USD"), expect=1)
            _check(mock, "GetOrders", expect=3)
            _check(mock, "GetPositions", expect=2)
            _check(mock, "GetTrades", expect=2)
            mock.set_columns("Rates", ["Bid", "Time"])
            mock.set_columns("Orders", ["OrderID", "Text", "Price"])
            mock.set_columns("Positions", ["Profit", "Instrument"])
            mock.set_columns("Trades", ["Text"])
        _check(mock, "GetDesks", expect=3)
        _check(mock, "GetBars", element("Instrument", "EUR/USD") + element("Period", "Hourly"), expect=200)


def test_empty_lists_and_void_replies_are_spyne_s() -> None:
    with StreamsterMock(seed=5) as mock:
        empty = call(mock, "GetPositions")
        assert empty.raw.endswith(b"<soap:Body><tns:Positions/></soap:Body></soap:Envelope>")
        void = call(mock, "CancelOrder", element("OrderID", "nope"))
        assert void.status == 500  # an unknown order: a Client fault, written by spyne
        assert b"<faultcode>soap:Client</faultcode>" in void.raw
        reply = send_order(mock, Instrument="EUR/USD", Desk="Virtual Forex", Side="BUY", Quantity="1")
        assert (
            reply.raw
            == (
                f"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:soap=\"{SOAP_ENV}\"><soap:Body/>"
                "</soap:Envelope>"
            ).encode()
        )
        message = call(mock, "GetLastMessage")  # the refusal's text; reading it clears it
        assert message.raw.endswith(b"<tns:LastMessage>OrderID 'nope' is not a known order.</tns:LastMessage></soap:Body>"
                                    b"</soap:Envelope>")  # fmt: skip
        message = call(mock, "GetLastMessage")
        assert message.raw.endswith(b"<soap:Body><tns:LastMessage></tns:LastMessage></soap:Body></soap:Envelope>")
