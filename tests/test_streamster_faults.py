"""Faults (§6) for every validation rule of §5, and bad input (§7): nothing changes, serving goes on."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from mock_streamster import StreamsterMock

from .soaputil import NS, SOAP_ENV, call, element, envelope, post, send_order


def _state(mock: StreamsterMock) -> dict[str, Any]:
    snap = mock.snapshot()
    snap.pop("last_message")  # every fault is also stored as the last message (§5)
    return snap


@pytest.fixture
def busy(streamster_mock: StreamsterMock) -> dict[str, str]:
    """A platform with a working order, an open and a closed position, and a filled order."""
    send_order(
        streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10", PriceType="LIMIT", Price="1.08000"
    )
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10")
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="5", Side="SELL")
    orders = call(streamster_mock, "GetOrders").items("Orders", "Order")
    positions = call(streamster_mock, "GetPositions").items("Positions", "Position")
    call(streamster_mock, "ClosePosition", element("PositionID", positions[1]["PositionID"]))
    return {
        "working": orders[0]["OrderID"], "filled": orders[1]["OrderID"],
        "open": positions[0]["PositionID"], "closed": positions[1]["PositionID"],
    }  # fmt: skip


def _order(**fields: Any) -> str:
    base = {"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "10"}
    base.update(fields)
    return element("Order", **{k: v for k, v in base.items() if v is not None})


PAST = "2000-01-01T00:00:00"
SEND_ORDER_FAULTS = [
    ("missing Instrument", _order(Instrument=None), "Instrument is required"),
    ("missing Desk", _order(Desk=None), "Desk is required"),
    ("missing Quantity", _order(Quantity=None), "Quantity is required"),
    ("zero Quantity", _order(Quantity="0"), "Quantity must be greater than 0, not 0"),
    ("negative Quantity", _order(Quantity="-5"), "not -5"),
    ("Quantity not a number", _order(Quantity="ten"), "Quantity 'ten'"),
    ("unknown instrument", _order(Instrument="XAU/XYZ"), "Instrument 'XAU/XYZ' is not a known instrument"),
    ("unknown desk", _order(Desk="Live Crypto"), "Desk 'Live Crypto' is not a known desk"),
    ("unknown Side", _order(Side="HOLD"), "Side 'HOLD'"),
    ("unknown PriceType", _order(PriceType="ICEBERG"), "PriceType 'ICEBERG'"),
    ("unknown DurationType", _order(DurationType="FOK"), "DurationType 'FOK'"),
    ("unknown QuantityType", _order(QuantityType="SOME"), "QuantityType 'SOME'"),
    ("LIMIT without Price", _order(PriceType="LIMIT"), "Price is required for a LIMIT order"),
    ("STOP without Price", _order(PriceType="STOP"), "Price is required for a STOP order"),
    ("Price not a number", _order(PriceType="LIMIT", Price="cheap"), "Price 'cheap'"),
    ("Price rounding to 0", _order(PriceType="LIMIT", Price="0.000004"), "Price 0.000004 is 0 at the 5 decimals"),
    ("Price 1e23", _order(PriceType="LIMIT", Price="1e23"), "Price 1e23 is far outside any market"),
    ("Price 1e999999999", _order(PriceType="STOP", Price="1e999999999"), "Price 1e999999999 is far outside"),
    ("Price NaN", _order(PriceType="LIMIT", Price="NaN"), "Price 'NaN' is not a finite decimal number"),
    ("stop loss Infinity", _order(ExitStopLoss="Infinity"), "ExitStopLoss 'Infinity' is not a finite"),
    ("target -Infinity", _order(ExitTarget="-Infinity"), "ExitTarget '-Infinity' is not a finite"),
    ("target 1e23", _order(ExitTarget="1e23"), "ExitTarget 1e23 is far outside any market"),
    ("Quantity 1e30 with a stop loss", _order(Quantity="1e30", ExitStopLoss="1.0"), "Quantity 1e30 is more than"),
    ("Quantity 1e999999999", _order(Quantity="1e999999999"), "Quantity 1e999999999 is more than"),
    ("Quantity -1e999999999", _order(Quantity="-1e999999999"), "Quantity must be greater than 0, not -1e9999"),
    ("Quantity 1e-999999999", _order(Quantity="1e-999999999"), "Quantity 1e-999999999 has more than 8 decimals"),
    ("Quantity NaN", _order(Quantity="NaN"), "Quantity 'NaN' is not a finite decimal number"),
    ("Quantity Infinity", _order(Quantity="Infinity"), "Quantity 'Infinity' is not a finite decimal number"),
    ("a megabyte of digits", _order(Quantity="9" * 200_000), "Quantity 9999999999999999999999999999999999999999..."),
    (
        "Duration beyond 9999 in UTC",
        _order(PriceType="LIMIT", Price="1", DurationType="GTD", Duration="9999-12-31T23:59:59-14:00"),
        "Duration '9999-12-31T23:59:59-14:00' is outside the years 1 to 9999",
    ),
    ("GTD without Duration", _order(DurationType="GTD"), "Duration is required for a GTD order"),
    ("GTD in the past", _order(DurationType="GTD", Duration=PAST), f"Duration {PAST} is not in the future"),
    ("Duration not a date", _order(DurationType="GTD", Duration="tomorrow"), "Duration 'tomorrow'"),
    ("multi-currency desk without Currency", _order(Desk="Virtual Currencies"), "Currency is required"),
    ("currency not on the desk", _order(Currency="GBP"), "Currency 'GBP' is not held by desk 'Virtual Forex'"),
    ("BUY stop loss above entry", _order(ExitStopLoss="1.09000"), "ExitStopLoss 1.09000 of a BUY must be below"),
    ("BUY target below entry", _order(ExitTarget="1.08000"), "ExitTarget 1.08000 of a BUY must be above"),
    (
        "SELL stop loss below entry",
        _order(Side="SELL", ExitStopLoss="1.08000"),
        "ExitStopLoss 1.08000 of a SELL must be above",
    ),
    (
        "SELL target above entry",
        _order(Side="SELL", ExitTarget="1.09000"),
        "ExitTarget 1.09000 of a SELL must be below",
    ),
    (
        "LIMIT stop loss above its price",
        _order(PriceType="LIMIT", Price="1.07000", ExitStopLoss="1.07500"),
        "entry price 1.07000",
    ),
    ("Text too long", _order(Text="x" * 1001), "Text is 1001 characters"),
]


@pytest.mark.parametrize(("case", "body", "text"), SEND_ORDER_FAULTS, ids=[c[0] for c in SEND_ORDER_FAULTS])
def test_send_order_validation_faults_change_nothing(
    streamster_mock: StreamsterMock, busy: dict[str, str], case: str, body: str, text: str
) -> None:
    before = _state(streamster_mock)
    r = call(streamster_mock, "SendOrder", body)
    assert r.status == 500, r.raw
    code, message = r.fault
    assert code == "Client" and text in message, message
    assert _state(streamster_mock) == before
    assert streamster_mock.platform.get_last_message() == message


def _other_faults(ids: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return [
        ("ChangeOrder", "unknown OrderID", element("Order", OrderID="ZZZZZZZZZ", Quantity="1"), "OrderID 'ZZZZZZZZZ' is not a known order"),
        ("ChangeOrder", "missing OrderID", element("Order", Quantity="1"), "OrderID is required"),
        ("ChangeOrder", "filled order", element("Order", OrderID=ids["filled"], Quantity="1"), "is Filled"),
        ("ChangeOrder", "missing Quantity", element("Order", OrderID=ids["working"], PriceType="LIMIT", Price="1.08000"), "Quantity is required"),
        ("ChangeOrder", "LIMIT without Price", element("Order", OrderID=ids["working"], PriceType="LIMIT", Quantity="1"), "Price is required"),
        ("ChangeOrder", "wrong-side stop", element("Order", OrderID=ids["working"], PriceType="LIMIT", Price="1.08000", ExitStopLoss="1.08100", Quantity="1"), "ExitStopLoss 1.08100"),
        ("ChangeOrder", "Quantity 1e30", element("Order", OrderID=ids["working"], Quantity="1e30"), "Quantity 1e30 is more than"),
        ("ChangeOrder", "Price 1e23", element("Order", OrderID=ids["working"], PriceType="LIMIT", Price="1e23", Quantity="1"), "Price 1e23 is far outside"),
        ("ChangeOrder", "stop loss NaN", element("Order", OrderID=ids["working"], Quantity="1", ExitStopLoss="NaN"), "ExitStopLoss 'NaN'"),
        ("ChangeOrder", "Price rounding onto the stop loss", element("Order", OrderID=ids["working"], PriceType="LIMIT", Price="1.080004", ExitStopLoss="1.08000", Quantity="1"), "ExitStopLoss 1.08000 of a BUY must be below the entry price 1.08000"),
        ("CancelOrder", "unknown order", element("OrderID", "ABCDEFGH1"), "OrderID 'ABCDEFGH1' is not a known order"),
        ("CancelOrder", "finished order", element("OrderID", ids["filled"]), f"Order {ids['filled']} is Filled"),
        ("CancelOrder", "empty OrderID", element("OrderID", ""), "OrderID is required"),
        ("ChangePosition", "unknown position", element("Position", PositionID="NOPE00000"), "PositionID 'NOPE00000' is not a known position"),
        ("ChangePosition", "closed position", element("Position", PositionID=ids["closed"]), "is Closed"),
        ("ChangePosition", "stop above the bid", element("Position", PositionID=ids["open"], ExitStopLoss="1.09000"), "ExitStopLoss 1.09000 of a BUY must be below the market price 1.08500"),
        ("ChangePosition", "target below the bid", element("Position", PositionID=ids["open"], ExitTarget="1.08000"), "ExitTarget 1.08000 of a BUY must be above"),
        ("ChangePosition", "stop 1e23", element("Position", PositionID=ids["open"], ExitStopLoss="1e23"), "ExitStopLoss 1e23 is far outside"),
        ("ChangePosition", "target Infinity", element("Position", PositionID=ids["open"], ExitTarget="Infinity"), "ExitTarget 'Infinity'"),
        ("ChangePosition", "stop rounding onto the bid", element("Position", PositionID=ids["open"], ExitStopLoss="1.084996"), "ExitStopLoss 1.08500 of a BUY must be below the market price 1.08500"),
        ("ChangePosition", "stop not a number", element("Position", PositionID=ids["open"], ExitStopLoss="low"), "ExitStopLoss 'low'"),
        ("ClosePosition", "unknown position", element("PositionID", "NOPE00000"), "PositionID 'NOPE00000' is not a known position"),
        ("ClosePosition", "closed position", element("PositionID", ids["closed"]), f"Position {ids['closed']} is Closed"),
        ("GetQuote", "unknown instrument", element("Instrument", "Bitcoin"), "Instrument 'Bitcoin' is not a known instrument"),
        ("GetQuote", "empty instrument", element("Instrument", ""), "Instrument is required"),
        ("GetBars", "unknown period", element("Instrument", "EUR/USD") + element("Period", "Yearly") + element("Options", ""), "Period 'Yearly'"),
        ("GetBars", "unknown instrument", element("Instrument", "Nope") + element("Period", "Daily") + element("Options", ""), "Instrument 'Nope'"),
    ]  # fmt: skip


def test_other_operations_fault_on_every_validation_rule_and_change_nothing(
    streamster_mock: StreamsterMock, busy: dict[str, str]
) -> None:
    for operation, case, body, text in _other_faults(busy):
        before = _state(streamster_mock)
        r = call(streamster_mock, operation, body)
        assert r.status == 500, (case, r.raw)
        code, message = r.fault
        assert code == "Client" and text in message, (case, message)
        assert _state(streamster_mock) == before, case


def test_get_bars_on_a_closed_chart_faults_and_changes_nothing(streamster_mock: StreamsterMock) -> None:
    streamster_mock.close_chart("Gold", "Weekly")
    before = _state(streamster_mock)
    r = call(
        streamster_mock,
        "GetBars",
        element("Instrument", "gold") + element("Period", "weekly") + element("Options", "f"),
    )
    assert r.fault[0] == "Client" and "No Weekly chart of Gold is open" in r.fault[1]
    assert _state(streamster_mock) == before


# ----------------------------------------------------------------------------- bad input


@pytest.fixture
def url_trap() -> Iterator[dict[str, Any]]:
    """An HTTP server that counts hits: an external entity must never reach it."""
    hits: dict[str, Any] = {"count": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits["count"] += 1
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<x>fetched</x>")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hits["url"] = f"http://127.0.0.1:{server.server_address[1]}/evil.dtd"
    yield hits
    server.shutdown()


def _bad_inputs(trap_url: str) -> list[tuple[str, bytes, dict[str, str], int]]:
    ct = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'}
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        + envelope(f'<Instrument xmlns="{NS}">&lol3;</Instrument>').split("?>", 1)[1].encode()
    )
    file_entity = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + envelope(f'<Instrument xmlns="{NS}">&xxe;</Instrument>').split("?>", 1)[1].encode()
    )
    url_entity = (
        f'<?xml version="1.0"?><!DOCTYPE x SYSTEM "{trap_url}" [<!ENTITY % p SYSTEM "{trap_url}"> %p;]>'.encode()
        + envelope(f'<Instrument xmlns="{NS}">EUR/USD</Instrument>').split("?>", 1)[1].encode()
    )
    deep = envelope("<a>" * 5000 + "</a>" * 5000).encode()
    return [
        ("malformed XML", b"<soap:Envelope><soap:Body><Instrument>", ct, 400),
        ("not XML at all", b"GET ME A QUOTE", ct, 400),
        ("non-SOAP document", b"<Order><Instrument>EUR/USD</Instrument></Order>", ct, 400),
        ("envelope without body", f'<e:Envelope xmlns:e="{SOAP_ENV}"/>'.encode(), ct, 400),
        (
            "SOAP 1.2 envelope",
            b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
            ct,
            400,
        ),
        ("empty body", b"", ct, 400),
        ("unknown SOAPAction", envelope().encode(), {**ct, "SOAPAction": '"GetAccount"'}, 500),
        ("no SOAPAction, empty body", envelope().encode(), {"Content-Type": "text/xml"}, 400),
        (
            "wrong content type",
            envelope(element("Instrument", "EUR/USD")).encode(),
            {**ct, "Content-Type": "application/json"},
            415,
        ),
        ("SOAP 1.2 content type", envelope().encode(), {**ct, "Content-Type": "application/soap+xml"}, 415),
        ("no content type", envelope().encode(), {"SOAPAction": '"GetDesks"'}, 415),
        ("latin-1 charset", envelope().encode(), {**ct, "Content-Type": "text/xml; charset=iso-8859-1"}, 415),
        ("invalid UTF-8", envelope(element("Instrument", "EUR/USD")).encode().replace(b"EUR", b"E\xffR"), ct, 400),
        ("entity expansion", laughs, ct, 400),
        ("external file entity", file_entity, ct, 400),
        ("external URL entity", url_entity, ct, 400),
        ("deep nesting", deep, ct, 400),
        ("body over 1 MiB", envelope(element("Instrument", "x" * (1024 * 1024))).encode(), ct, 413),
    ]


def test_bad_input_gets_a_clear_client_error_and_changes_nothing(
    streamster_mock: StreamsterMock, busy: dict[str, str], url_trap: dict[str, Any]
) -> None:
    for case, data, headers, status in _bad_inputs(url_trap["url"]):
        before = streamster_mock.snapshot()
        r = requests.post(streamster_mock.endpoint_url, data=data, headers=headers, timeout=10)
        assert r.status_code == status, (case, r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith("text/xml"), case
        assert b"<faultcode>soap:Client</faultcode>" in r.content, (case, r.content[:300])
        assert b"root:" not in r.content and b"lollol" not in r.content, case  # nothing read, nothing expanded
        assert streamster_mock.snapshot() == before, case
        assert call(streamster_mock, "GetDesks").status == 200, case  # still serving
    assert url_trap["count"] == 0  # no URL fetched


def test_chunked_body_over_1_mib_is_refused_with_413(streamster_mock: StreamsterMock) -> None:
    def chunks() -> Iterator[bytes]:
        yield envelope("").encode()[:-30]
        for _ in range(70):
            yield b"x" * 16384

    before = streamster_mock.snapshot()
    r = requests.post(
        streamster_mock.endpoint_url,
        data=chunks(),
        headers={"Content-Type": "text/xml", "SOAPAction": "GetDesks"},
        timeout=10,
    )
    assert r.status_code == 413 and b"1 MiB" in r.content
    assert streamster_mock.snapshot() == before and call(streamster_mock, "GetDesks").status == 200


def test_wrong_methods_and_paths_are_refused_clearly(streamster_mock: StreamsterMock) -> None:
    assert requests.get(streamster_mock.url + "/endpoint", timeout=10).status_code == 404
    assert requests.get(streamster_mock.url + "/nothing", timeout=10).status_code == 404
    r = requests.put(streamster_mock.endpoint_url, data=b"x", timeout=10)
    assert r.status_code == 405 and b"POST" in r.content


def test_bad_input_is_journaled_with_its_reason(streamster_mock: StreamsterMock) -> None:
    post(streamster_mock.endpoint_url, b"<broken", "GetQuote")
    entry = streamster_mock.journal.entries()[-1]
    assert entry["operation"] is None and entry["status"] == 400 and "well-formed" in entry["response"]


def test_duration_in_the_near_future_is_accepted(streamster_mock: StreamsterMock) -> None:
    when = (streamster_mock.platform.now() + timedelta(seconds=1)).isoformat()
    r = send_order(
        streamster_mock,
        Instrument="EUR/USD",
        Desk="Virtual Forex",
        Quantity="1",
        PriceType="LIMIT",
        Price="1.00000",
        DurationType="GTD",
        Duration=when,
    )
    assert r.status == 200


DTD_BODIES = {
    "internal entity": '<!DOCTYPE x [<!ENTITY e "EUR/USD">]>',
    "external entity": '<!DOCTYPE x [<!ENTITY e SYSTEM "{trap}">]>',
    "external DTD": '<!DOCTYPE x SYSTEM "{trap}">',
    "parameter entity": '<!DOCTYPE x [<!ENTITY % p SYSTEM "{trap}"> %p;]>',
}


def test_dtds_are_refused_whatever_the_encoding(
    streamster_mock: StreamsterMock, busy: dict[str, str], url_trap: dict[str, Any]
) -> None:
    # A UTF-16 body without BOM is valid UTF-8 (ASCII with NULs between), so it passes a charset=utf-8
    # check, and a byte search for "<!DOCTYPE" misses it; the parser still reads its DTD.
    before = streamster_mock.snapshot()
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "ascii"):
        declared = "UTF-16" if encoding.startswith("utf-16") else encoding.upper()
        for dtd, declaration in DTD_BODIES.items():
            text = (
                f'<?xml version="1.0" encoding="{declared}"?>'
                + declaration.format(trap=url_trap["url"])
                + envelope(element("Instrument", "EUR/USD")).split("?>", 1)[1]
            )
            r = requests.post(
                streamster_mock.endpoint_url,
                data=text.encode(encoding),
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'},
                timeout=10,
            )
            case = (encoding, dtd)
            assert r.status_code == 400, (case, r.status_code, r.text[:300])
            assert b"<faultcode>soap:Client</faultcode>" in r.content, case
            assert b"DTDs and entity declarations are not allowed in a SOAP request." in r.content, case
            assert streamster_mock.snapshot() == before and url_trap["count"] == 0, case
    assert call(streamster_mock, "GetDesks").status == 200


def test_a_utf16_body_without_a_dtd_is_still_served(streamster_mock: StreamsterMock) -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?>' + envelope(element("Instrument", "EUR/USD")).split("?>", 1)[1]
    r = post(streamster_mock.endpoint_url, text.encode("utf-16-le"), "GetQuote")
    assert r.status == 200 and r.fields("Quote")["Currency"] == "USD"


def test_a_dropped_call_is_in_the_journal_before_the_client_sees_the_reset(
    streamster_mock: StreamsterMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client may read the journal the moment its connection resets: the entry must be there.
    journal = streamster_mock.controller.journal
    record = journal.record

    def slow_record(entry: Any) -> Any:
        import time

        time.sleep(0.3)  # a busy server thread: the reset must still wait for the entry
        return record(entry)

    monkeypatch.setattr(journal, "record", slow_record)
    streamster_mock.fail("GetQuote", kind="drop")
    with pytest.raises(requests.ConnectionError):
        call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD"))
    assert [e.injected for e in streamster_mock.journal.entries("GetQuote")] == ["drop"]
