"""One path per request: over a socket and through the in-process route, each emulator answers and
journals every call alike, because both transports run the same WSGI application and call pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from mock_common.pytest_plugin import InProcessRoute
from mock_common.wsgi_responses import call_wsgi
from mock_instaforex import InstaForexMock
from mock_instaforex.errors import AccessDeniedError
from mock_instaforex.pytest_plugin import URLS as IFX_URLS
from mock_instaforex.pytest_plugin import in_process_app as ifx_app
from mock_streamster import StreamsterMock
from mock_streamster.errors import StreamsterError
from mock_streamster.pytest_plugin import in_process_app as streamster_app

from .soaputil import NS, SOAP_ENV

IFX_BASE = "https://client-api.instaforex.com"
TOKENS = {"client": (20000001, "demo-pass"), "partner": (30000001, "demo-partner"), "mobile": (20000001, "demo-pass")}
TOKEN_PATHS = {
    "client": "RequestClientApiToken", "partner": "RequestPartnerApiToken", "mobile": "RequestMoblieCabinetApiToken",
}  # fmt: skip
Send = Callable[[str, str, dict[str, str], bytes | None], Any]


def _answer(status: int, headers: Any, body: bytes, base_url: str) -> tuple[Any, ...]:
    """What a client sees of a reply, whatever the transport added (Date, Server, Content-Length), the
    address it was sent to aside (a 404 names it)."""
    found = {k.lower(): v for k, v in (headers.items() if hasattr(headers, "items") else headers)}
    return status, found.get("content-type"), found.get("allow"), body.replace(base_url.encode(), b"<base URL>")


def _over_socket(base_url: str) -> Send:
    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> Any:
        try:
            r = requests.request(method, base_url + path, headers=headers, data=body, timeout=10, allow_redirects=False)
        except requests.ConnectionError:
            return "connection reset"
        return _answer(r.status_code, r.headers, r.content, base_url)

    return send


def _in_process(app: Any, base_url: str) -> Send:
    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> Any:
        answer = call_wsgi(app, requests.Request(method, base_url + path, headers=headers, data=body).prepare())
        return "connection reset" if isinstance(answer, Exception) else _answer(*answer, base_url)

    return send


def _journal(mock: Any, base_url: str | None = None) -> list[dict[str, Any]]:
    entries = [{k: v for k, v in e.to_dict().items() if k != "duration_ms"} for e in mock.journal.entries()]
    for e in entries:
        if base_url and e["response"]:
            e["response"] = e["response"].replace(base_url, "<base URL>")
    return entries


# ------------------------------------------------------------------------------------------- InstaForex


def _ifx_session(send: Send) -> dict[str, str]:
    tokens = {}
    for kind, (login, password) in TOKENS.items():
        body = f'{{"Login": {login}, "Password": "{password}"}}'.encode()
        status, _, _, reply = send("POST", f"/api/Authentication/{TOKEN_PATHS[kind]}",
                                   {"Content-Type": "application/json"}, body)  # fmt: skip
        assert status == 200, reply
        tokens[kind] = reply.decode().strip('"')
    return tokens


def _ifx_requests(tokens: dict[str, str]) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    client, partner, mobile = ({"passkey": tokens[k]} for k in ("client", "partner", "mobile"))
    json_type = {"Content-Type": "application/json"}
    calls: list[tuple[str, str, dict[str, str], bytes | None]] = []
    for route in ("RequestBalanceInformation", "RequestOpenTrades", "RequestClosedTrades", "RequestClosedLots",
                  "RequestBonusStatistics", "RequestLoginHistory", "RequestAccountSummary"):  # fmt: skip
        calls += [
            ("GET", f"/client/{route}/20000001", client, None),
            ("GET", f"/CLIENT/{route.upper()}/20000001/", client, None),  # any case, a trailing slash
            ("GET", f"/client/{route}/20000002", client, None),  # another login's data: refused
            ("GET", f"/client/{route}/020000001", client, None),  # not a canonical login: 400
            ("GET", f"/client/{route}/20000001", partner, None),  # the wrong kind of token
            ("GET", f"/client/{route}/20000001", {}, None),  # no token
        ]
    calls += [
        ("GET", "/client/RequestBalanceInformation/20000001", {"passkey": f'"{tokens["client"]}"'}, None),  # quoted
        ("GET", "/client/RequestBalanceInformation/abc", client, None),
        ("GET", "/partner/CheckReferral/30000001/20000001", partner, None),
        ("GET", "/partner/CheckReferral/30000001/x", partner, None),
        ("GET", "/partner/CheckReferral/30000001", partner, None),  # a segment short: 404
        ("GET", "/partner/GetCommissionRecords/30000001", partner, None),
        ("GET", "/partner/GetClickStatistics/30000001", partner, None),
        ("GET", "/clientmobile/GetAnalyticSignals/20000001?pairs=EURUSD&from=2020-01-01", mobile, None),
        ("GET", "/client/RequestClosedTrades/20000001?from=nope", client, None),
        ("HEAD", "/client/RequestBalanceInformation/20000001", client, None),
        ("OPTIONS", "/client/RequestBalanceInformation/20000001", client, None),
        ("POST", "/client/RequestBalanceInformation/20000001", client, None),  # 405
        ("GET", "/client//RequestBalanceInformation/20000001", client, None),
        ("GET", "/client/Nothing/20000001", client, None),
        ("GET", "/OpenAPI.json/", {}, None),
        ("POST", "/api/Authentication/RequestClientApiToken", json_type, b"{"),
        ("POST", "/api/Authentication/RequestClientApiToken", json_type, b'{"Login": 20000001, "Password": "bad"}'),
        ("POST", "/api/Authentication/RequestClientApiToken", json_type, b"x" * (65 * 1024)),  # over 64 KiB: 413
        ("GET", "/client/RequestBalanceInformation/20000001", client, b"a body nobody reads"),
    ]
    return calls


def _ifx_run(send: Send, mock: InstaForexMock, base_url: str) -> tuple[list[Any], list[dict[str, Any]]]:
    tokens = _ifx_session(send)
    answers = [send(*call) for call in _ifx_requests(tokens)]
    mock.fail("RequestBalanceInformation", kind="http", status=503, message="Injected failure")
    mock.fail("RequestOpenTrades", kind="malformed")
    mock.fail("RequestAccountSummary", kind="delay", seconds=0.01)
    mock.fail("GetClickStatistics", kind="drop")
    mock.fail("RequestClientApiToken", kind="http", status=599)  # a status Python has no name for
    answers += [send(*call) for call in _ifx_requests(tokens)]
    return answers, _journal(mock, base_url)


@pytest.mark.parametrize("deny_status", [403, 200])
def test_instaforex_answers_and_journals_alike_over_a_socket_and_in_process(deny_status: int) -> None:
    options = {"seed": 4, "token_seed": 9, "clock": "virtual", "deny_status": deny_status}
    with InstaForexMock(**options) as served:
        socket_answers, socket_journal = _ifx_run(_over_socket(served.base_url), served, served.base_url)
    routed = InstaForexMock(**options)
    assert ifx_app(routed) is routed.http  # the in-process route runs the very application the server runs
    process_answers, process_journal = _ifx_run(_in_process(routed.http, IFX_BASE), routed, IFX_BASE)
    assert len(socket_answers) == len(process_answers) > 100
    for over_socket, in_process in zip(socket_answers, process_answers, strict=True):
        assert over_socket == in_process
    assert socket_journal == process_journal and len(socket_journal) > 100
    injected = sorted(e["injected"] for e in socket_journal if e["injected"])
    assert injected == ["delay", "drop", "http", "http", "malformed"]
    dropped = next(e for e in socket_journal if e["injected"] == "drop")
    assert dropped["status"] is None and dropped["response"] is None  # the client got no reply at all
    assert "connection reset" in socket_answers
    assert any(a != "connection reset" and a[0] == 599 for a in socket_answers)


def test_a_failure_inside_the_service_is_the_apis_500_and_logged_on_both_transports(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with InstaForexMock() as mock:

        def broken(who: Any) -> Any:
            raise RuntimeError("a bug")

        for send in (_over_socket(mock.base_url), _in_process(mock.http, IFX_BASE)):
            tokens = _ifx_session(send)
            mock.service.balance = broken  # type: ignore[method-assign]
            caplog.clear()
            status, _, _, body = send("GET", "/client/RequestBalanceInformation/20000001",
                                      {"passkey": tokens["client"]}, None)  # fmt: skip
            del mock.service.balance
            assert (status, body) == (500, b'{"Message": "An error has occurred."}')
            assert [r.getMessage() for r in caplog.records if r.name == "mock_instaforex.wire"] == [
                "failure inside the emulator"
            ]
        assert [e.status for e in mock.journal.entries("RequestBalanceInformation")] == [500, 500]


def test_an_access_refusal_gives_its_reason_to_the_journal() -> None:
    mock = InstaForexMock()
    send = _in_process(mock.http, IFX_BASE)
    tokens = _ifx_session(send)
    refusal = AccessDeniedError()
    refusal.reason = "token expired"  # type: ignore[attr-defined]  # what a refusal that names its reason carries

    def refuse(*args: Any) -> Any:
        raise refusal

    mock.service.authorize = refuse  # type: ignore[method-assign]
    assert send("GET", "/client/RequestBalanceInformation/20000001", {"passkey": tokens["client"]}, None)[0] == 403
    (entry,) = mock.journal.entries("RequestBalanceInformation")
    assert entry.status == 403 and entry.reason == "token expired" and entry["reason"] == "token expired"
    assert all(e.reason is None for e in mock.journal.entries("RequestClientApiToken"))


def test_in_process_token_requests_are_saved_before_the_reply_with_state(tmp_path: Path) -> None:
    with InstaForexMock(state=tmp_path / "i.db") as mock, responses.RequestsMock() as rsps:
        InProcessRoute(mock, ifx_app(mock), IFX_URLS, rsps)
        assert mock.persister is not None
        before = mock.persister.commits
        r = requests.post(IFX_BASE + "/api/Authentication/RequestClientApiToken",
                          json={"Login": 20000001, "Password": "demo-pass"}, timeout=10)  # fmt: skip
        assert r.status_code == 200 and mock.persister.commits == before + 1
        requests.get(IFX_BASE + "/client/RequestBalanceInformation/20000001", headers={"passkey": r.json()}, timeout=10)
        assert mock.persister.commits == before + 1  # a read writes nothing
    with InstaForexMock(state=tmp_path / "i.db") as again:
        assert again.service.tokens.find(r.json(), again.service.now()) is not None


# ------------------------------------------------------------------------------------------- Streamster

SOAP_CALLS = [
    ("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'),
    ("GetQuote", "<Instrument>GBP/USD</Instrument>"),
    ("GetQuote", f'<Instrument xmlns="{NS}"/>'),
    ("GetQuote", f'<Instrument xmlns="{NS}">NOPE&lt;&amp;</Instrument>'),
    ("GetBars", f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Period xmlns="{NS}">Hourly</Period>'),
    ("GetBars", f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Period xmlns="{NS}">Fortnightly</Period>'),
    ("GetOrders", ""), ("GetDesks", ""), ("GetTrades", ""), ("GetPositions", ""), ("GetLastMessage", ""),
    ("SendOrder", f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
                  "<Quantity>1</Quantity></Order>"),
    ("SendOrder", f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>SELL</Side><Desk>Virtual Forex</Desk>'
                  "<Quantity>2</Quantity><PriceType>LIMIT</PriceType><Price>1.3</Price></Order>"),
    ("SendOrder", f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Quantity>x</Quantity></Order>'),
    ("GetOrders", ""), ("GetPositions", ""), ("GetLastMessage", ""),
    ("CancelOrder", f'<OrderID xmlns="{NS}">999</OrderID>'),
    ("ClosePosition", f'<PositionID xmlns="{NS}"></PositionID>'),
    (None, f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'),  # no SOAPAction: the Body names it
    (None, ""),  # nothing names it: 400
    ("NoSuchOperation", ""),  # 500, a Client fault
]  # fmt: skip


def _soap_run(send: Send, mock: StreamsterMock) -> tuple[list[Any], list[dict[str, Any]]]:
    def post(action: str | None, body: str, ctype: str = "text/xml; charset=utf-8") -> Any:
        headers = {"Content-Type": ctype} | ({} if action is None else {"SOAPAction": f'"{action}"'})
        document = f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{body}</soap:Body></soap:Envelope>'
        return send("POST", "/endpoint", headers, document.encode())

    answers = [post(action, body) for action, body in SOAP_CALLS]
    answers += [post("GetQuote", "<a/>", "application/json"), post("GetQuote", "<not xml", "text/xml")]
    answers.append(send("POST", "/endpoint", {"Content-Type": "text/xml", "SOAPAction": "GetQuote"}, b"x" * 1100000))
    mock.fail("GetQuote", kind="fault", code="Server", message="Injected <failure>")
    mock.fail("GetOrders", kind="http", status=503, message="down")
    mock.fail("GetDesks", kind="drop")
    mock.fail("GetTrades", kind="delay", seconds=0.01)
    answers += [post(action, body) for action, body in SOAP_CALLS[:10]]
    return answers, _journal(mock)


def test_streamster_answers_and_journals_alike_over_a_socket_and_in_process() -> None:
    with StreamsterMock(seed=5) as served:
        socket_answers, socket_journal = _soap_run(_over_socket(served.url), served)
    routed = StreamsterMock(seed=5)
    process_answers, process_journal = _soap_run(_in_process(streamster_app(routed), "http://127.0.0.1:8018"), routed)
    assert len(socket_answers) == len(process_answers) > 30
    for over_socket, in_process in zip(socket_answers, process_answers, strict=True):
        assert over_socket == in_process
    assert socket_journal == process_journal
    assert sorted(e["injected"] for e in socket_journal if e["injected"]) == ["delay", "drop", "fault", "http"]
    assert [e["status"] for e in socket_journal if e["operation"] is None] == [400, 500, 415, 400, 413]
    assert "connection reset" in socket_answers


def test_a_platform_refusal_gives_its_reason_to_the_journal() -> None:
    mock = StreamsterMock()
    send = _in_process(streamster_app(mock), "http://127.0.0.1:8018")
    refusal = StreamsterError("Instrument 'X' is not a known instrument.")
    refusal.reason = "unknown instrument"  # type: ignore[attr-defined]

    def refuse(instrument: str) -> Any:
        raise refusal

    mock.platform.get_quote = refuse  # type: ignore[method-assign]
    body = f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><Instrument xmlns="{NS}">X</Instrument></soap:Body></soap:Envelope>'
    status, _, _, reply = send(
        "POST", "/endpoint", {"Content-Type": "text/xml", "SOAPAction": "GetQuote"}, body.encode()
    )
    assert status == 500 and b"<faultcode>soap:Client</faultcode>" in reply
    (entry,) = mock.journal.entries("GetQuote")
    assert entry.reason == "unknown instrument"


def test_in_process_orders_are_saved_before_the_reply_with_state(tmp_path: Path) -> None:
    order = (f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><Order xmlns="{NS}"><Instrument>EUR/USD</Instrument>'
             "<Side>BUY</Side><Desk>Virtual Forex</Desk><Quantity>1</Quantity></Order></soap:Body></soap:Envelope>")  # fmt: skip
    with StreamsterMock(state=tmp_path / "s.db", seed=1) as mock:
        send = _in_process(streamster_app(mock), "http://127.0.0.1:8018")
        assert mock.persister is not None
        before = mock.persister.commits
        assert (
            send("POST", "/endpoint", {"Content-Type": "text/xml", "SOAPAction": "SendOrder"}, order.encode())[0] == 200
        )
        assert mock.persister.commits == before + 1
    with StreamsterMock(state=tmp_path / "s.db") as again:
        assert len(again.platform.get_orders()) == 1
