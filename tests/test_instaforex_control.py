"""Control plane (contract §7) over /_mock/: the same operations as the Python handle."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from mock_instaforex import InstaForexMock

from .ifxutil import Api, decimal_json


def _post(ifx: InstaForexMock, route: str, body: Any = None, method: str = "POST") -> requests.Response:
    headers = {"Content-Type": "application/json"}  # the control plane takes JSON only, even an empty body
    return requests.request(method, ifx.url + "_mock/" + route, json=body, headers=headers, timeout=10)


def test_accounts_trades_bonuses_and_referrals_change_through_control_routes(
    api: Api, instaforex_mock: InstaForexMock
) -> None:
    r = _post(
        instaforex_mock, "account", {"login": 20000050, "level": "password", "api_password": "p", "balance": "100.00"}
    )
    assert r.status_code == 200 and r.json() == {"login": 20000050}
    key = api.passkey("client", 20000050, "p")
    assert decimal_json(api.get("client/RequestBalanceInformation/20000050", key))["Balance"] == Decimal("100")
    trade = {
        "ticket": 1,
        "open_time": "now-1h",
        "symbol": "EURUSD",
        "type": 2,
        "volume": "0.5",
        "open_price": "1.1",
        "profit": "12.34",
    }
    assert _post(instaforex_mock, "trade", {"login": 20000050, "trade": trade}).status_code == 200
    assert decimal_json(api.get("client/RequestBalanceInformation/20000050", key))["Equity"] == Decimal("112.34")
    assert (
        _post(
            instaforex_mock, "close", {"login": 20000050, "ticket": 1, "price": "1.09", "profit": "20.00"}
        ).status_code
        == 200
    )
    assert api.get("client/RequestOpenTrades/20000050", key).json() == []
    assert decimal_json(api.get("client/RequestClosedLots/20000050", key))["Lots"] == Decimal("0.5")
    assert decimal_json(api.get("client/RequestBalanceInformation/20000050", key))["Balance"] == Decimal("120")
    assert (
        _post(instaforex_mock, "bonus", {"login": 20000050, "bonus": {"amount": "5", "percent": "10"}}).status_code
        == 200
    )
    assert len(api.get("client/RequestBonusStatistics/20000050", key).json()) == 1
    r = requests.patch(
        instaforex_mock.url + "_mock/account/20000050", json={"leverage": 1000, "credit": "1.00"}, timeout=10
    )
    assert r.status_code == 200
    assert api.get("client/RequestAccountSummary/20000050", key).json()["Leverage"] == 1000
    assert _post(instaforex_mock, "referral", {"partner": 30000001, "client": 20000050}).status_code == 200
    partner = api.passkey("partner", 30000001)
    assert api.get("partner/CheckReferral/30000001/20000050", partner).json() is True


def test_control_routes_refuse_bad_changes_and_keep_the_state(instaforex_mock: InstaForexMock) -> None:
    before = instaforex_mock.store.to_data()
    for route, body, text in (
        ("account", {"login": "x"}, "login"),
        ("account", {"login": 20000060, "level": "ip"}, "ip_password"),
        (
            "trade",
            {
                "login": 20000001,
                "trade": {
                    "ticket": 77120455,
                    "open_time": "now",
                    "symbol": "X",
                    "type": 1,
                    "volume": 1,
                    "open_price": 1,
                },
            },
            "already exists",
        ),
        ("trade", {"login": 20000001, "trade": {"ticket": 5, "symbol": "X"}}, "trade: missing key 'open_time'"),
        ("close", {"login": 20000001, "ticket": 5, "price": 1, "profit": 1}, "not an open trade"),
        ("referral", {"partner": 20000001, "client": 20000002}, "not a partner"),
        ("advance", {"seconds": -5}, "seconds"),
        (
            "accounts",
            {"data": {"accounts": [{"login": 1, "level": "pasword"}]}},
            "data: accounts[0].level: must be one of open, password, ip, not 'pasword'; did you mean 'password'?",
        ),
        ("account", {"login": 7, "balanse": "1"}, "account: balanse: unknown key; did you mean 'balance'?"),
    ):
        r = _post(instaforex_mock, route, body)
        assert r.status_code == 400 and text in r.json()["error"], (route, r.text)
    assert instaforex_mock.store.to_data() == before
    assert _post(instaforex_mock, "nothing").status_code == 404
    assert _post(instaforex_mock, "reset", method="GET").status_code == 405


def test_reset_advance_tokens_and_state(api: Api, instaforex_mock: InstaForexMock) -> None:
    key = api.passkey("client", 20000001)
    assert _post(instaforex_mock, "tokens/expire", {"login": 20000001}).json() == {"expired": 1}
    assert api.get("client/RequestOpenTrades/20000001", key).status_code == 403
    key = api.passkey("client", 20000001)
    assert _post(instaforex_mock, "tokens/revoke", {}).json() == {
        "revoked": 1
    }  # the expired one was dropped at the issue
    assert api.get("client/RequestOpenTrades/20000001", key).status_code == 403
    start = requests.get(instaforex_mock.url + "_mock/state", timeout=10).json()["now"]
    assert _post(instaforex_mock, "advance", {"seconds": 3600}).json()["now"] > start
    instaforex_mock.add_account(login=20000070, level="open")
    assert _post(instaforex_mock, "reset").status_code == 200
    assert (
        20000070 not in instaforex_mock.store.accounts
        and requests.get(instaforex_mock.url + "_mock/state", timeout=10).json()["now"] == start
    )


def test_loading_a_generated_store(api: Api, instaforex_mock: InstaForexMock) -> None:
    from mock_instaforex.generate import generate_data

    r = _post(instaforex_mock, "accounts", {"data": generate_data(9, 30)})
    assert r.status_code == 200 and r.json()["accounts"] == 30 and r.json()["partners"] == 1
    account = next(a for a in instaforex_mock.store.accounts.values() if a.level == "password")
    key = api.passkey("client", account.login, account.api_password)
    assert api.get(f"client/RequestBalanceInformation/{account.login}", key).json()["Login"] == account.login


def test_pytest_plugin_fixture_gives_a_reset_emulator(instaforex_mock: InstaForexMock) -> None:
    assert set(instaforex_mock.store.accounts) == {20000001, 20000002, 20000003}
