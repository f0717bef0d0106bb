"""The figures agree (contract §5), as properties over generated account stores, through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker_mocks.conformance.strategies.instaforex import account_stores, date_ranges, ip_masks
from mock_instaforex import InstaForexMock
from mock_instaforex.ipmask import parse_mask

from .ifxutil import Api, decimal_json

PASSWORDS = {
    "open": lambda login: "whatever",
    "password": lambda login: f"pw-{login}",
    "ip": lambda login: f"ip-{login}",
}


@pytest.fixture(scope="module")
def server() -> Iterator[InstaForexMock]:
    with InstaForexMock() as m:
        yield m


def _load(server: InstaForexMock, data: dict[str, Any]) -> Api:
    server.reset()  # back to the constructor's demo accounts, clock and tokens; then this store
    server.load_accounts(data)
    return Api(server.url)


def _client_key(api: Api, account: dict[str, Any]) -> str:
    return api.passkey("client", account["login"], PASSWORDS[account["level"]](account["login"]))


@given(data=account_stores())
def test_equity_is_balance_plus_credit_plus_open_profit_and_summary_agrees(
    server: InstaForexMock, data: dict[str, Any]
) -> None:
    api = _load(server, data)
    for account in data["accounts"]:
        login, key = account["login"], _client_key(api, account)
        balance = decimal_json(api.get(f"client/RequestBalanceInformation/{login}", key))
        opened = decimal_json(api.get(f"client/RequestOpenTrades/{login}", key))
        assert balance["Equity"] == balance["Balance"] + balance["Credit"] + sum(
            (t["Profit"] for t in opened), Decimal(0)
        )
        assert balance["FreeMargin"] == balance["Equity"] - balance["Margin"]
        summary = decimal_json(api.get(f"client/RequestAccountSummary/{login}", key))
        for field in ("Balance", "Equity", "Credit", "Currency", "Leverage", "Login"):
            assert summary[field] == balance[field], field
        assert [t["OpenTime"] for t in opened] == sorted(t["OpenTime"] for t in opened)


@given(data=account_stores(max_partners=0), span=date_ranges())
def test_closed_lots_equal_the_closed_volumes_in_the_range(
    server: InstaForexMock, data: dict[str, Any], span: tuple[int, int]
) -> None:
    api = _load(server, data)
    now = server.service.now()
    lo = (now - timedelta(seconds=span[0])).replace(tzinfo=timezone.utc)
    hi = (now - timedelta(seconds=span[1])).replace(tzinfo=timezone.utc)
    query = f"?from={int(lo.timestamp())}&to={int(hi.timestamp())}"
    for account in data["accounts"]:
        login, key = account["login"], _client_key(api, account)
        closed = decimal_json(api.get(f"client/RequestClosedTrades/{login}{query}", key))
        lots = decimal_json(api.get(f"client/RequestClosedLots/{login}{query}", key))
        assert lots["Lots"] == sum((t["Volume"] for t in closed), Decimal(0))
        assert lots["TradesCount"] == len(closed)
        assert all(
            lo.strftime("%Y-%m-%dT%H:%M:%S") <= t["CloseTime"] <= hi.strftime("%Y-%m-%dT%H:%M:%S") for t in closed
        )
        assert [t["CloseTime"] for t in closed] == sorted(t["CloseTime"] for t in closed)
        everything = decimal_json(api.get(f"client/RequestClosedTrades/{login}?from=0", key))
        assert {t["Ticket"] for t in closed} <= {t["Ticket"] for t in everything}
        assert not {t["Ticket"] for t in everything} & {
            t["ticket"] for t in account["open_trades"]
        }  # never open trades


@given(data=account_stores(max_partners=2))
def test_referrals_and_commissions_agree(server: InstaForexMock, data: dict[str, Any]) -> None:
    api = _load(server, data)
    logins = [a["login"] for a in data["accounts"]]
    for partner in data["partners"]:
        key = api.passkey("partner", partner["login"], partner["api_password"])
        referrals = set(partner["referrals"])
        for login in logins:
            answer = api.get(f"partner/CheckReferral/{partner['login']}/{login}", key).json()
            assert answer is (login in referrals)
        records = api.get(f"partner/GetCommissionRecords/{partner['login']}?from=0", key).json()
        assert {r["Login"] for r in records} <= referrals
        assert [r["Date"] for r in records] == sorted(r["Date"] for r in records)
        clicks = api.get(f"partner/GetClickStatistics/{partner['login']}", key).json()
        assert len(clicks) >= 3 and all(set(c["ReferalAccounts"]) <= referrals for c in clicks)


@given(data=account_stores(max_accounts=3, max_partners=0), attempts=st.lists(st.booleans(), min_size=1, max_size=5))
def test_login_history_grows_with_each_token_request(
    server: InstaForexMock, data: dict[str, Any], attempts: list[bool]
) -> None:
    api = _load(server, data)
    account = data["accounts"][0]
    login, right = account["login"], PASSWORDS[account["level"]](account["login"])
    key = api.passkey("client", login, right)
    before = len(api.get(f"client/RequestLoginHistory/{login}?from=0", key).json())
    for ok in attempts:
        api.token("client", login, right if ok else "wrong-password")
    history = api.get(f"client/RequestLoginHistory/{login}?from=0", key).json()
    assert len(history) == before + len(attempts)
    assert [h["Time"] for h in history] == sorted(h["Time"] for h in history)


@given(case=ip_masks())
def test_generated_masks_admit_exactly_their_addresses(case: tuple[str, list[str], list[str]]) -> None:
    mask, inside, outside = case
    parsed = parse_mask(mask)
    assert all(parsed.matches(a) for a in inside) and not any(parsed.matches(a) for a in outside)
