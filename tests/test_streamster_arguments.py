"""How the one SOAP path reads an operation's arguments from the Body's parts (spyne's deserializer on
the parsed document, mock_streamster/soap.py `SoapService`), and how a failing method is answered."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from mock_streamster import StreamsterMock
from mock_streamster.soap import NS, SOAP_ENV, SoapService

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
EUR_USD = "<tns:Last>1.08500</tns:Last>"  # the seeded quotes' first field
GBP_USD = "<tns:Last>1.27000</tns:Last>"


def _dispatch(service: SoapService, operation: str, parts: str) -> tuple[int, str, Any]:
    document = etree.fromstring(
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{parts}</soap:Body></soap:Envelope>'.encode()
    )
    status, body, refusal = service.dispatch(operation, document)
    return status, body.decode(), refusal


@pytest.mark.parametrize(
    "parts, expect",
    [
        (f'<Instrument xmlns="{NS}">EUR/USD</Instrument>', EUR_USD),
        ("<Instrument>EUR/USD</Instrument>", EUR_USD),  # unqualified: matched by its local name
        ('<Instrument xmlns="urn:elsewhere">EUR/USD</Instrument>', EUR_USD),  # so is a foreign namespace
        (f'<Instrument xmlns="{NS}">  eur/usd </Instrument>', EUR_USD),  # the platform trims and folds case
        (f'<Instrument xmlns="{NS}"><![CDATA[GBP/USD]]></Instrument>', GBP_USD),
        (
            f'<Instrument xmlns="{NS}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD}" xsi:type="xsd:string">EUR/USD</Instrument>',
            EUR_USD,
        ),  # fmt: skip
        (f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Instrument xmlns="{NS}">GBP/USD</Instrument>', GBP_USD),
        (f'<Other xmlns="{NS}">x</Other><Instrument xmlns="{NS}">EUR/USD</Instrument>', EUR_USD),  # unknown: ignored
        (f'<Instrument xmlns="{NS}" a="1">EUR/USD</Instrument>', EUR_USD),  # attributes: ignored
        ("", "Instrument is required."),
        (f'<Instrument xmlns="{NS}"/>', "Instrument is required."),
        (f'<Instrument xmlns="{NS}" xmlns:xsi="{XSI}" xsi:nil="true"/>', "Instrument is required."),
        (f'<Instrument xmlns="{NS}"><b>EUR</b>/USD</Instrument>', "Instrument is required."),  # no text of its own
        (
            f'<Instrument xmlns="{NS}">NOPE&lt;&amp;</Instrument>',
            "Instrument 'NOPE&lt;&amp;' is not a known instrument",  # then the known names
        ),
        (
            f'<Instrument xmlns="{NS}" xmlns:xsi="{XSI}" xsi:type="nope:string">EUR/USD</Instrument>',
            "The value 'nope:string' could not be validated.",
        ),  # fmt: skip
    ],
)
def test_get_quote_reads_its_instrument_as_spyne_does(parts: str, expect: str) -> None:
    status, body, _ = _dispatch(SoapService(StreamsterMock(seed=5).platform), "GetQuote", parts)
    assert expect in body
    assert status == (200 if expect.startswith("<tns:") else 500)


def test_every_operation_reads_its_parts_the_same_way() -> None:
    mock = StreamsterMock(seed=5)
    service = SoapService(mock.platform)
    order = (f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
             "<Quantity>1</Quantity><Bogus>ignored</Bogus></Order>")  # fmt: skip
    assert _dispatch(service, "SendOrder", order)[:2] == (
        200, f"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:soap=\"{SOAP_ENV}\"><soap:Body/></soap:Envelope>",
    )  # fmt: skip
    (placed,) = mock.platform.get_positions()  # a market order: filled at once
    assert placed.instrument == "EUR/USD" and placed.quantity == 1
    # The order's parts in another order, unqualified, one repeated: the last one counts.
    limit = ("<Order><Quantity>3</Quantity><Side>SELL</Side><PriceType>LIMIT</PriceType><Price>1.2</Price>"
             "<Price>1.3</Price><Desk>Virtual Forex</Desk><Instrument>EUR/USD</Instrument></Order>")  # fmt: skip
    assert _dispatch(service, "SendOrder", limit)[0] == 200
    working = mock.platform.get_orders()[-1]
    assert (working.price, working.side, working.quantity, working.status) == (Decimal("1.3"), "SELL", 3, "Working")
    bars = f'<Period xmlns="{NS}">Hourly</Period><Instrument xmlns="{NS}">EUR/USD</Instrument>'  # any order
    assert _dispatch(service, "GetBars", bars)[1].count("<tns:Bar>") == 200
    assert _dispatch(service, "GetOrders", f'<Junk xmlns="{NS}"/>')[0] == 200  # an operation without parts
    status, body, refusal = _dispatch(service, "CancelOrder", f'<OrderID xmlns="{NS}">999</OrderID>')
    assert status == 500 and "OrderID '999' is not a known order." in body and refusal is not None
    assert _dispatch(service, "SendOrder", f'<Order xmlns="{NS}" xmlns:xsi="{XSI}" xsi:nil="true"/>')[0] == 500


def test_a_method_that_fails_gets_spynes_server_fault_and_runs_once() -> None:
    mock = StreamsterMock()
    service = SoapService(mock.platform)
    calls = []

    def broken(instrument: str) -> None:
        calls.append(instrument)
        raise RuntimeError("a bug")

    mock.platform.get_quote = broken  # type: ignore[method-assign]
    status, body, refusal = _dispatch(service, "GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')
    assert calls == ["EUR/USD"] and status == 500 and refusal is None  # a bug, not a refusal
    assert "<faultcode>soap:Server</faultcode><faultstring>Internal Error</faultstring>" in body
