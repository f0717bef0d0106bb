"""Hypothesis strategies for InstaForex data: accounts, whole account stores, date ranges, IP masks.

Every store they build loads into the emulator (`InstaForexMock(accounts=data)` or
`mock.load_accounts(data)`); times are relative (`now-3d2h`), so the data is recent on any clock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "AUDUSD")


def money(min_value: int = -100_000, max_value: int = 100_000) -> st.SearchStrategy[str]:
    """An amount with 2 decimals, as fixture text."""
    return st.integers(min_value * 100, max_value * 100).map(lambda c: str(Decimal(c) / 100))


def ago(max_days: int = 120) -> st.SearchStrategy[int]:
    """Seconds before now."""
    return st.integers(60, max_days * 86400)


def rel(seconds: int) -> str:
    """`now-<seconds>s`."""
    return f"now-{seconds}s"


@st.composite
def trades(draw: st.DrawFn, ticket: int, closed: bool) -> dict[str, Any]:
    """One trade (fixture data); a closed one closes after it opened."""
    opened = draw(ago())
    data: dict[str, Any] = {
        "ticket": ticket, "open_time": rel(opened), "symbol": draw(st.sampled_from(SYMBOLS)), "type": draw(st.sampled_from([1, 2])),
        "volume": str(Decimal(draw(st.integers(1, 500))) / 100), "open_price": str(Decimal(draw(st.integers(50_000, 200_000))) / 100_000),
        "profit": draw(money(-5_000, 5_000)), "swap": draw(money(-50, 50)), "commission": draw(money(-20, 0)),
    }  # fmt: skip
    if closed:
        data["close_time"] = rel(draw(st.integers(0, opened)))
        data["close_price"] = str(Decimal(draw(st.integers(50_000, 200_000))) / 100_000)
    else:
        data["current_price"] = str(Decimal(draw(st.integers(50_000, 200_000))) / 100_000)
    return data


@st.composite
def accounts(draw: st.DrawFn, login: int, level: str | None = None) -> dict[str, Any]:
    """One client account with open and closed trades, bonuses and login history."""
    level = level or draw(st.sampled_from(["open", "password", "ip"]))
    n_open, n_closed = draw(st.integers(0, 4)), draw(st.integers(0, 8))
    base = login * 100
    data: dict[str, Any] = {
        "login": login, "level": level, "currency": draw(st.sampled_from(["USD", "EUR"])),
        "leverage": draw(st.sampled_from([50, 100, 500])), "balance": draw(money(0, 100_000)),
        "credit": draw(money(0, 1_000)), "margin": draw(money(0, 5_000)),
        "open_trades": [draw(trades(base + i, False)) for i in range(n_open)],
        "closed_trades": [draw(trades(base + 50 + i, True)) for i in range(n_closed)],
        "bonuses": [{"date": rel(draw(ago())), "amount": draw(money(1, 500)), "percent": "30"} for _ in range(draw(st.integers(0, 2)))],
        "login_history": [{"time": rel(draw(ago(40))), "ip": "203.0.113.1", "source": "Terminal"} for _ in range(draw(st.integers(0, 3)))],
    }  # fmt: skip
    if level == "password":
        data["api_password"] = f"pw-{login}"
    if level == "ip":
        data["ip_password"] = f"ip-{login}"
        data["ip_mask"] = draw(st.sampled_from(["127.0.0.1", "127.0.0.0/8", "127.0.*", "10.0.0.1, ::1, 127.0.0.1"]))
    return data


@st.composite
def account_stores(draw: st.DrawFn, max_accounts: int = 5, max_partners: int = 2) -> dict[str, Any]:
    """A consistent store: accounts, partners whose referrals and commissions name real accounts."""
    n = draw(st.integers(1, max_accounts))
    clients = [draw(accounts(20_000_001 + i)) for i in range(n)]
    logins = [c["login"] for c in clients]
    partners = []
    for i in range(draw(st.integers(0, max_partners))):
        refs = draw(st.lists(st.sampled_from(logins), unique=True, max_size=len(logins)))
        commissions = [
            {"login": draw(st.sampled_from(refs)), "date": rel(draw(ago(60))), "ticket": draw(st.integers(1, 10**8)),
             "symbol": draw(st.sampled_from(SYMBOLS)), "volume": "0.10", "amount": draw(money(0, 50))}
            for _ in range(draw(st.integers(0, 4)) if refs else 0)
        ]  # fmt: skip
        partners.append({
            "login": 30_000_001 + i, "level": "password", "api_password": f"partner-{i}", "referrals": refs,
            "commissions": commissions,
            "clicks": [{"period": p, "clicks": draw(st.integers(0, 99)), "referal_accounts": refs} for p in ("Today", "Week", "Month")],
        })  # fmt: skip
    return {"accounts": clients, "partners": partners, "signals": []}


def date_ranges(max_days: int = 150) -> st.SearchStrategy[tuple[int, int]]:
    """(from, to) as seconds before now, from >= to (so from is the earlier time)."""
    return st.tuples(st.integers(0, max_days * 86400), st.integers(0, max_days * 86400)).map(lambda p: (max(p), min(p)))


@st.composite
def ip_masks(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """(mask, addresses inside, addresses outside) over IPv4 and IPv6."""
    a, b, c = draw(st.integers(1, 223)), draw(st.integers(0, 255)), draw(st.integers(0, 255))
    d = draw(st.integers(1, 254))
    kind = draw(st.sampled_from(["address", "cidr", "wildcard", "ipv6", "list"]))
    other = f"{(a % 223) + 1}.{(b + 1) % 256}.{c}.{d}"
    if kind == "address":
        return f"{a}.{b}.{c}.{d}", [f"{a}.{b}.{c}.{d}"], [f"{a}.{b}.{c}.{d % 254 + 1}"]
    if kind == "cidr":
        return f"{a}.{b}.{c}.0/24", [f"{a}.{b}.{c}.{d}"], [other]
    if kind == "wildcard":
        return f"{a}.{b}.*", [f"{a}.{b}.{c}.{d}"], [other]
    if kind == "ipv6":
        return (
            f"2001:db8:{b:x}::/48",
            [f"2001:db8:{b:x}::{d:x}"],
            [f"2001:db8:{(b + 1) % 256:x}::1", f"{a}.{b}.{c}.{d}"],
        )
    return f"{a}.{b}.{c}.{d}, 2001:db8::/32", [f"{a}.{b}.{c}.{d}", "2001:db8::9"], [other, "2001:db9::1"]
