"""The reference client's InstaForex half: against the live emulator, and against `responses`."""

from __future__ import annotations

import json
import socket
from datetime import date, datetime
from decimal import Decimal

import pytest
import requests
import responses

from broker_mocks.client import AccessDenied, ApiError, InstaForexClient, TradeType, TransportError
from mock_instaforex import InstaForexMock


def _client(
    ifx: InstaForexMock, login: int = 20000001, password: str = "demo-pass", kind: str = "client"
) -> InstaForexClient:
    return InstaForexClient(ifx.url, login=login, password=password, kind=kind, timeout=5, backoff=0.01)  # type: ignore[arg-type]


def _tokens(ifx: InstaForexMock, route: str = "RequestClientApiToken") -> int:
    return sum(1 for e in ifx.journal.entries() if e["route"] == route)


def test_client_methods_return_typed_records(instaforex_mock: InstaForexMock) -> None:
    c = _client(instaforex_mock)
    b = c.balance()
    assert (b.login, b.balance, b.equity, b.currency, b.leverage) == (
        20000001,
        Decimal("10250.4"),
        Decimal("10410.9"),
        "USD",
        500,
    )
    assert b.free_margin == b.equity - b.margin
    trades = c.open_trades()
    assert len(trades) == 3 and trades[0].type is TradeType.BUY and trades[1].type is TradeType.SELL
    assert isinstance(trades[0].open_time, datetime) and trades[0].sl == Decimal("1.08") and trades[1].sl == 0
    closed = c.closed_trades(date(2000, 1, 1))
    assert len(closed) == 6 and all(isinstance(t.close_time, datetime) for t in closed)
    assert len(c.closed_trades()) == 3
    start = closed[-1].close_time
    assert [t.ticket for t in c.closed_trades(start, start)] == [closed[-1].ticket]  # datetimes go as Unix seconds
    lots = c.closed_lots(date(2000, 1, 1))
    assert lots.lots == sum(t.volume for t in closed) and lots.trades_count == 6 and isinstance(lots.start, datetime)
    assert len(c.bonus_statistics()) == 2 and c.bonus_statistics()[0].amount == Decimal("300")
    history = c.login_history()
    assert history[-1].source == "ClientApi" and history[-1].ip == "127.0.0.1"
    s = c.account_summary()
    assert (s.name, s.equity, s.total_withdrawal) == ("Demo Trader", b.equity, Decimal("500"))
    empty = _client(instaforex_mock, 20000002, "any")
    assert empty.open_trades() == [] and empty.bonus_statistics() == []
    assert len(empty.closed_trades(date(2000, 1, 1))) == 1


def test_partner_and_mobile_methods(instaforex_mock: InstaForexMock) -> None:
    p = _client(instaforex_mock, 30000001, "demo-partner", "partner")
    assert p.check_referral(20000001) is True and p.check_referral(20000003) is False
    records = p.commission_records()
    assert {r.login for r in records} <= {20000001, 20000002} and isinstance(records[0].amount, Decimal)
    clicks = p.click_statistics()
    assert [c.period for c in clicks] == ["Today", "Week", "Month"] and clicks[1].referral_accounts == [
        20000001,
        20000002,
    ]
    m = _client(instaforex_mock, 30000001, "demo-partner", "mobile")
    signals = m.analytic_signals(["EURUSD", "GBPUSD"])
    assert [s.id for s in signals] == [500001, 500002] and isinstance(signals[0].actual_time, datetime)
    assert m.analytic_signals(trading_system=1)[0].pair == "EURUSD"


def test_expired_token_is_renewed_once_with_exactly_one_new_token_request(instaforex_mock: InstaForexMock) -> None:
    c = _client(instaforex_mock)
    c.balance()
    assert _tokens(instaforex_mock) == 1
    instaforex_mock.advance(5401)
    assert c.open_trades()
    assert _tokens(instaforex_mock) == 2
    c.balance()
    assert _tokens(instaforex_mock) == 2


def test_a_wrong_password_raises_access_denied_without_looping(instaforex_mock: InstaForexMock) -> None:
    c = _client(instaforex_mock, password="Not-The-Api-Pass-86")
    with pytest.raises(AccessDenied):
        c.balance()
    assert _tokens(instaforex_mock) == 1 and not [
        e for e in instaforex_mock.journal.entries() if e["route"] == "RequestBalanceInformation"
    ]


def test_a_token_refused_after_renewal_raises_access_denied(instaforex_mock: InstaForexMock) -> None:
    c = _client(instaforex_mock, 20000003, "demo-ip")
    c.balance()
    instaforex_mock.change_account(20000003, ip_mask="10.0.0.1")  # the token stays valid, the IP no longer matches
    with pytest.raises(AccessDenied):
        c.balance()
    assert _tokens(instaforex_mock) == 2  # one renewal, refused, and no more


def test_bad_requests_raise_api_error_with_status_and_message(instaforex_mock: InstaForexMock) -> None:
    c = _client(instaforex_mock)
    with pytest.raises(ApiError) as info:
        c.closed_trades("yesterday")
    assert info.value.status == 400 and "'from'" in info.value.message


def test_5xx_reads_are_retried_then_given_up(instaforex_mock: InstaForexMock) -> None:
    c = _client(instaforex_mock)
    instaforex_mock.fail("RequestBalanceInformation", kind="http", status=503, times=2)
    assert c.balance().login == 20000001
    instaforex_mock.fail("RequestOpenTrades", times=None)
    with pytest.raises(ApiError) as info:
        c.open_trades()
    assert info.value.status == 500 and info.value.message == "An error has occurred."
    assert sum(1 for e in instaforex_mock.journal.entries() if e["route"] == "RequestOpenTrades") == 4
    instaforex_mock.clear_faults()
    instaforex_mock.fail("RequestAccountSummary", kind="malformed")
    with pytest.raises(ApiError, match="not JSON"):
        InstaForexClient(instaforex_mock.url, 20000001, "demo-pass", retries=0).account_summary()


def test_refused_connection_and_timeout_raise_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError):
        InstaForexClient(f"http://127.0.0.1:{port}/", 20000001, "x", retries=1, backoff=0.01).balance()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        c = InstaForexClient(f"http://127.0.0.1:{silent.getsockname()[1]}/", 20000001, "x", timeout=0.3, retries=0)
        with pytest.raises(TransportError, match="no answer"):
            c.balance()
    finally:
        silent.close()


def test_constructor_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="kind"):
        InstaForexClient(login=1, password="x", kind="admin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="login"):
        InstaForexClient(login="abc", password="x")
    assert "demo-pass" not in repr(InstaForexClient(login=1, password="demo-pass"))


# --------------------------------------------------------------------------- with responses (no socket)

BASE = "https://client-api.instaforex.com/"
FAKE_TOKEN = "0123456789abcdef0123456789abcdef"
FAKE_TOKEN_2 = "fedcba9876543210fedcba9876543210"


@responses.activate
def test_with_responses_the_client_sends_the_passkey_and_reads_the_balance() -> None:
    responses.post(BASE + "api/Authentication/RequestClientApiToken", json=FAKE_TOKEN)
    responses.get(BASE + "client/RequestBalanceInformation/20811473", json={
        "Login": 20811473, "Balance": 1520.37, "Equity": 1498.12, "Margin": 36.40, "FreeMargin": 1461.72,
        "Credit": 0.0, "Currency": "USD", "Leverage": 500})  # fmt: skip
    b = InstaForexClient(login=20811473, password="secret-api-pass").balance()
    assert b.balance == Decimal("1520.37") and b.free_margin == Decimal("1461.72")
    token_call, balance_call = responses.calls
    assert json.loads(token_call.request.body) == {"Login": 20811473, "Password": "secret-api-pass"}
    assert balance_call.request.headers["passkey"] == FAKE_TOKEN


@responses.activate
def test_with_responses_a_refused_token_is_renewed_once() -> None:
    responses.post(BASE + "api/Authentication/RequestClientApiToken", json=FAKE_TOKEN)
    responses.post(BASE + "api/Authentication/RequestClientApiToken", json=FAKE_TOKEN_2)
    responses.get(BASE + "client/RequestOpenTrades/1", json="Access denied", status=403)
    responses.get(BASE + "client/RequestOpenTrades/1", json=[{"Ticket": 7, "OpenTime": "2024-03-05T14:22:10", "Symbol": "EURUSD",
        "Type": 2, "Volume": 0.1, "OpenPrice": 1.08412, "CurrentPrice": 1.0853, "SL": 0, "TP": 0, "Swap": 0, "Commission": 0,
        "Profit": -11.8, "Comment": ""}])  # fmt: skip
    (trade,) = InstaForexClient(login=1, password="p").open_trades()
    assert trade.type is TradeType.SELL and trade.open_time == datetime(2024, 3, 5, 14, 22, 10)
    assert [c.request.headers.get("passkey") for c in responses.calls] == [None, FAKE_TOKEN, None, FAKE_TOKEN_2]


@responses.activate
def test_with_responses_denials_answered_with_200_are_recognised() -> None:
    responses.post(BASE + "api/Authentication/RequestPartnerApiToken", json="Access denied", status=200)
    with pytest.raises(AccessDenied):
        InstaForexClient(login=5, password="p", kind="partner").check_referral(6)
    assert len(responses.calls) == 1


@responses.activate
def test_with_responses_a_5xx_is_retried() -> None:
    responses.post(BASE + "api/Authentication/RequestMoblieCabinetApiToken", json=FAKE_TOKEN)
    responses.get(BASE + "clientmobile/GetAnalyticSignals/9", json={"Message": "An error has occurred."}, status=500)
    responses.get(BASE + "clientmobile/GetAnalyticSignals/9", json=[])
    assert InstaForexClient(login=9, password="p", kind="mobile", backoff=0.01).analytic_signals("EURUSD") == []
    assert "pairs=EURUSD" in responses.calls[-1].request.url and "tradingsystem=3" in responses.calls[-1].request.url


@responses.activate
def test_with_responses_connection_errors_become_transport_errors() -> None:
    responses.post(BASE + "api/Authentication/RequestClientApiToken", body=requests.ConnectionError("reset"))
    with pytest.raises(TransportError):
        InstaForexClient(login=1, password="p", retries=2, backoff=0.01).balance()
    assert len(responses.calls) == 3
