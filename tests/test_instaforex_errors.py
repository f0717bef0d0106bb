"""Errors (contract §6) for each situation, each leaving the state unchanged; --deny-status 200."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from mock_instaforex import InstaForexMock

from .ifxutil import KIND_ROUTE, Api


def _state(ifx: InstaForexMock) -> Any:
    return ifx.store.to_data(), len(ifx.service.tokens.live(20000001, ifx.service.now()))


def test_denials_answer_403_access_denied_and_change_nothing(api: Api, instaforex_mock: InstaForexMock) -> None:
    key = api.passkey("client", 20000001)
    partner = api.passkey("partner", 30000001)
    before = _state(instaforex_mock)
    cases = [
        ("no passkey", "client/RequestBalanceInformation/20000001", None),
        ("unknown token", "client/RequestBalanceInformation/20000001", "f" * 32),
        ("wrong-kind token", "client/RequestBalanceInformation/30000001", partner),
        ("token of another login", "client/RequestBalanceInformation/20000002", key),
        ("unknown login", "client/RequestBalanceInformation/29999999", key),
    ]
    for case, path, passkey in cases:
        r = api.get(path, passkey)
        assert (r.status_code, r.json()) == (403, "Access denied"), case
    assert _state(instaforex_mock) == before
    instaforex_mock.advance(5400)
    assert api.get("client/RequestBalanceInformation/20000001", key).status_code == 403  # expired
    assert _state(instaforex_mock)[0] == before[0]


def test_refused_token_requests_answer_403_and_only_add_login_history(
    api: Api, instaforex_mock: InstaForexMock
) -> None:
    history = len(instaforex_mock.store.accounts[20000001].login_history)
    for kind, login, password in (
        ("client", 20000001, "wrong"),
        ("client", 29999999, "x"),
        ("partner", 30000001, "demo-pass"),
    ):
        r = api.token(kind, login, password)
        assert (r.status_code, r.json()) == (403, "Access denied"), (kind, login)
    assert len(instaforex_mock.store.accounts[20000001].login_history) == history + 1
    assert instaforex_mock.service.tokens.live(20000001, instaforex_mock.service.now()) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b'{"Password": "x"}', "'Login' is required"),
        (b'{"Login": 20000001}', "'Password' is required"),
        (b'{"Login": "20000001x", "Password": "x"}', "'Login' must be a numeric login, not '20000001x'"),
        (b'{"Login": true, "Password": "x"}', "'Login' must be a numeric login"),
        (b'{"Login": 20000001, "Password": ["x"]}', "'Password' must be a string"),
        (b'{"Login": 99999999999, "Password": "x"}', "between 1 and 2147483647"),
    ],
)
def test_malformed_token_requests_answer_400_naming_the_field(
    api: Api, instaforex_mock: InstaForexMock, body: bytes, field: str
) -> None:
    before = _state(instaforex_mock)
    r = api.request("POST", KIND_ROUTE["client"], data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and field in r.json()["Message"], r.text
    assert _state(instaforex_mock) == before  # a malformed request is not a login attempt


def test_bad_dates_and_logins_answer_400_naming_the_field(api: Api, instaforex_mock: InstaForexMock) -> None:
    key = api.passkey("client", 20000001)
    mobile = api.passkey("mobile", 30000001)
    before = _state(instaforex_mock)
    for path, field in (
        ("client/RequestClosedTrades/20000001?from=yesterday", "'from'"),
        ("client/RequestClosedLots/20000001?to=2024-13-45", "'to'"),
        ("client/RequestBalanceInformation/abc", "'login'"),
    ):
        r = api.get(path, key)
        assert r.status_code == 400 and field in r.json()["Message"], (path, r.text)
    r = api.get("clientmobile/GetAnalyticSignals/30000001?tradingsystem=three", mobile)
    assert r.status_code == 400 and "'tradingsystem'" in r.json()["Message"]
    assert _state(instaforex_mock)[0] == before[0]


def test_unknown_routes_wrong_methods_and_big_bodies(api: Api, instaforex_mock: InstaForexMock) -> None:
    r = api.get("client/RequestEverything/20000001")
    assert r.status_code == 404
    assert (
        r.json()["Message"]
        == f"No HTTP resource was found that matches the request URI '{instaforex_mock.url}client/RequestEverything/20000001'."
    )
    r = api.request("POST", "client/RequestBalanceInformation/20000001")
    assert r.status_code == 405 and "'POST'" in r.json()["Message"]
    r = api.request("GET", KIND_ROUTE["client"])
    assert r.status_code == 405
    r = api.request(
        "POST",
        KIND_ROUTE["client"],
        data=b"{" + b" " * (64 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "64 KiB" in r.json()["Message"]
    assert api.token("client", 20000001).status_code == 200  # still serving


def test_failures_inside_the_emulator_answer_500(
    api: Api, instaforex_mock: InstaForexMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = api.passkey("client", 20000001)

    def broken(*args: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(instaforex_mock.service, "open_trades", broken)
    r = api.get("client/RequestOpenTrades/20000001", key)
    assert (r.status_code, r.json()) == (500, {"Message": "An error has occurred."})
    assert api.get("client/RequestBalanceInformation/20000001", key).status_code == 200


def test_injected_faults_http_delay_drop_and_malformed(api: Api, instaforex_mock: InstaForexMock) -> None:
    key = api.passkey("client", 20000001)
    instaforex_mock.fail("RequestBalanceInformation", times=2)
    for _ in range(2):
        assert api.get("client/RequestBalanceInformation/20000001", key).json() == {"Message": "An error has occurred."}
    assert api.get("client/RequestBalanceInformation/20000001", key).status_code == 200
    instaforex_mock.fail("requestopentrades", kind="delay", seconds=0.3)
    started = time.monotonic()
    assert api.get("client/RequestOpenTrades/20000001", key).status_code == 200
    assert time.monotonic() - started >= 0.3
    instaforex_mock.fail("RequestOpenTrades", kind="drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(instaforex_mock.url + "client/RequestOpenTrades/20000001", headers={"passkey": key}, timeout=10)
    instaforex_mock.fail("RequestOpenTrades", kind="malformed")
    r = requests.get(instaforex_mock.url + "client/RequestOpenTrades/20000001", headers={"passkey": key}, timeout=10)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    requests.post(
        instaforex_mock.url + "_mock/faults",
        json={"operation": "RequestClientApiToken", "kind": "http", "status": 503, "message": "busy"},
        timeout=10,
    )
    assert api.token("client", 20000001).status_code == 503
    assert (
        requests.post(instaforex_mock.url + "_mock/faults", json={"operation": "Nope"}, timeout=10).status_code == 400
    )


def test_deny_status_200_answers_denials_with_200_and_the_same_body() -> None:
    with InstaForexMock(deny_status=200) as m:
        api = Api(m.url)  # the document of this server says a 200 may carry "Access denied"
        r = api.get("client/RequestBalanceInformation/20000001")
        assert (r.status_code, r.json()) == (200, "Access denied")
        r = api.token("client", 20000001, "wrong")
        assert (r.status_code, r.json()) == (200, "Access denied")
        assert (
            api.get("client/RequestBalanceInformation/20000001", api.passkey("client", 20000001)).json()["Login"]
            == 20000001
        )


def test_journal_records_requests_and_is_bounded() -> None:
    with InstaForexMock(journal_size=3) as m:
        api = Api(m.url)
        for _ in range(5):
            api.token("client", 20000001, "wrong")
        entries = m.journal.entries()
        assert len(entries) == 3 and m.journal.total == 5
        assert entries[-1]["route"] == "RequestClientApiToken" and entries[-1]["status"] == 403
        assert (
            requests.get(m.url + "_mock/journal?operation=requestclientapitoken", timeout=10).json()[0]["ip"]
            == "127.0.0.1"
        )
