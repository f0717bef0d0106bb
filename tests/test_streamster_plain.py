"""The SOAP layer's plain path (text arguments read straight from the document) answers as spyne does."""

from __future__ import annotations

import io
from typing import Any

from lxml import etree

from mock_streamster import StreamsterMock
from mock_streamster.soap import ENV_DOCUMENT, ENV_OPERATION, NS, SOAP_ENV, build_soap_app

XSI = "http://www.w3.org/2001/XMLSchema-instance"
CALLS = [
    ("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'),
    ("GetQuote", "<Instrument>EUR/USD</Instrument>"),
    ("GetQuote", f'<Instrument xmlns="{NS}">  eur/usd </Instrument>'),
    ("GetQuote", f'<Instrument xmlns="{NS}"/>'),
    ("GetQuote", f'<Instrument xmlns="{NS}">NOPE&lt;&amp;</Instrument>'),
    ("GetQuote", f'<Instrument xmlns="{NS}"><![CDATA[GBP/USD]]></Instrument>'),
    ("GetQuote", f'<Instrument xmlns="{NS}" xmlns:xsi="{XSI}" xsi:nil="true"/>'),
    ("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Instrument xmlns="{NS}">GBP/USD</Instrument>'),
    ("GetQuote", f'<Other xmlns="{NS}">x</Other><Instrument xmlns="{NS}">EUR/USD</Instrument>'),
    ("GetQuote", '<Instrument xmlns="urn:elsewhere">EUR/USD</Instrument>'),
    ("GetQuote", f'<Instrument xmlns="{NS}"><b>EUR</b>/USD</Instrument>'),
    ("GetQuote", ""),
    ("GetBars", f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Period xmlns="{NS}">Hourly</Period>'),
    ("GetBars", f'<Period xmlns="{NS}">Hourly</Period><Instrument xmlns="{NS}">EUR/USD</Instrument>'),
    ("GetBars", f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Period xmlns="{NS}">Fortnightly</Period>'),
    ("GetOrders", ""),
    ("GetOrders", f'<Junk xmlns="{NS}"/>'),
    ("GetDesks", ""),
    ("GetTrades", ""),
    ("GetPositions", ""),
    ("CancelOrder", f'<OrderID xmlns="{NS}">999</OrderID>'),
    ("ClosePosition", f'<PositionID xmlns="{NS}"></PositionID>'),
    ("GetLastMessage", ""),
]


def _answers(plain: bool) -> list[Any]:
    mock = StreamsterMock(seed=5)
    server = build_soap_app(mock.platform)
    if not plain:
        server._plain.clear()  # every call through spyne's pipeline
    out = []
    for operation, body in CALLS:
        document = etree.fromstring(
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{body}</soap:Body></soap:Envelope>'.encode()
        )
        started: list[Any] = []
        environ = {ENV_DOCUMENT: document, ENV_OPERATION: operation, "wsgi.input": io.BytesIO(b"")}
        reply = server(environ, lambda status, headers, seen=started: seen.append((status, headers)))
        out.append((operation, body, started, reply))
    return out


def test_the_plain_path_gives_spynes_answers_faults_included() -> None:
    plain, spyne = _answers(True), _answers(False)
    assert any(b"Fault" in reply[0] for *_, reply in spyne) and any(b"Quote" in reply[0] for *_, reply in spyne)
    assert len(plain) == len(spyne) == len(CALLS)
    for fast, slow in zip(plain, spyne, strict=True):
        assert fast == slow


def test_a_method_that_fails_gets_spynes_server_fault_and_runs_once() -> None:
    mock = StreamsterMock()
    server = build_soap_app(mock.platform)
    calls = []

    def broken(instrument: str) -> None:
        calls.append(instrument)
        raise RuntimeError("a bug")

    mock.platform.get_quote = broken  # type: ignore[method-assign]
    document = etree.fromstring(
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><Instrument xmlns="{NS}">EUR/USD</Instrument>'
        "</soap:Body></soap:Envelope>".encode()
    )
    started: list[Any] = []
    reply = server({ENV_DOCUMENT: document, ENV_OPERATION: "GetQuote"}, lambda s, h: started.append(s))
    assert calls == ["EUR/USD"] and started == ["500 Internal Server Error"]
    assert b"<faultcode>soap:Server</faultcode><faultstring>Internal Error</faultstring>" in reply[0]
