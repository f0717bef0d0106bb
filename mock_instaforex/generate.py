"""Seeded generation of a consistent account store (fixture format, times relative to now)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

SYMBOLS = {"EURUSD": 1.085, "GBPUSD": 1.27, "USDJPY": 148.5, "AUDUSD": 0.665, "USDCHF": 0.885, "XAUUSD": 2050.0}


def _ago(seconds: int) -> str:
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"now-{days}d{hours}h{minutes}m{secs}s"


def _price(symbol: str, rng: random.Random) -> Decimal:
    digits = 3 if "JPY" in symbol else 2 if symbol == "XAUUSD" else 5
    return Decimal(str(round(SYMBOLS[symbol] * (1 + rng.uniform(-0.03, 0.03)), digits)))


def _trade(rng: random.Random, ticket: int, closed: bool) -> dict[str, Any]:
    symbol = rng.choice(list(SYMBOLS))
    opened = rng.randint(3600, 120 * 86400)
    open_price = _price(symbol, rng)
    trade: dict[str, Any] = {
        "ticket": ticket, "open_time": _ago(opened), "symbol": symbol, "type": rng.choice([1, 2]),
        "volume": str(Decimal(rng.randint(1, 200)) / 100), "open_price": str(open_price),
        "sl": "0", "tp": "0", "swap": str(Decimal(rng.randint(-500, 100)) / 100),
        "commission": str(Decimal(-rng.randint(0, 300)) / 100),
        "profit": str(Decimal(rng.randint(-50000, 60000)) / 100), "comment": rng.choice(["", "EA", "manual", "api"]),
    }  # fmt: skip
    if rng.random() < 0.4:
        trade["sl" if rng.random() < 0.5 else "tp"] = str(_price(symbol, rng))
    if closed:
        trade["close_time"] = _ago(rng.randint(60, opened - 60) if opened > 120 else 60)
        trade["close_price"] = str(_price(symbol, rng))
    else:
        trade["current_price"] = str(_price(symbol, rng))
    return trade


def generate_data(seed: int, accounts: int = 20, partners: int | None = None, signals: int = 40) -> dict[str, Any]:
    """A store of `accounts` clients, partners (1 per 25 clients by default) and signals."""
    if accounts < 1:
        raise ValueError(f"accounts must be >= 1, not {accounts!r}")
    rng = random.Random(f"instaforex:{seed}")
    partners = max(1, accounts // 25) if partners is None else partners
    out: dict[str, Any] = {"accounts": [], "partners": [], "signals": []}
    ticket = 70_000_000
    for n in range(accounts):
        login = 20_000_001 + n
        level = rng.choice(["open", "password", "password", "ip"])
        account: dict[str, Any] = {
            "login": login, "level": level, "name": f"Client {login}", "group": rng.choice(["standard", "eurica", "cent"]),
            "currency": rng.choice(["USD", "USD", "EUR"]), "leverage": rng.choice([50, 100, 200, 500, 1000]),
            "balance": str(Decimal(rng.randint(0, 5_000_000)) / 100), "credit": str(Decimal(rng.randint(0, 50_000)) / 100),
            "registration_date": _ago(rng.randint(200 * 86400, 2000 * 86400)),
        }  # fmt: skip
        if level == "password":
            account["api_password"] = f"pass-{login}"
        if level == "ip":
            account["ip_password"] = f"ip-{login}"
            account["ip_mask"] = rng.choice(["127.0.0.1", "127.0.0.0/8", "127.0.*.*", "10.0.0.0/8, ::1"])
        opened = [_trade(rng, ticket + i, False) for i in range(rng.randint(0, 5))]
        ticket += 10
        closed = [_trade(rng, ticket + i, True) for i in range(rng.randint(0, 12))]
        ticket += 20
        account["open_trades"], account["closed_trades"] = opened, closed
        account["margin"] = str(
            (sum((Decimal(t["volume"]) for t in opened), Decimal(0)) * 100_000 / account["leverage"]).quantize(
                Decimal("0.01")
            )
        )
        deposit = Decimal(account["balance"]) + Decimal(rng.randint(0, 100_000))
        account["total_deposit"], account["total_withdrawal"] = (
            str(deposit),
            str(Decimal(rng.randint(0, 100_000)) / 100),
        )
        account["bonuses"] = [
            {"date": _ago(rng.randint(86400, 300 * 86400)), "bonus_type": rng.choice(["Deposit bonus", "Welcome bonus", "Club bonus"]),
             "percent": str(rng.choice([10, 30, 55, 100])), "amount": str(Decimal(rng.randint(100, 100_000)) / 100),
             "status": rng.choice(["Active", "Completed", "Cancelled"])}
            for _ in range(rng.randint(0, 3))
        ]  # fmt: skip
        account["login_history"] = [
            {"time": _ago(rng.randint(600, 90 * 86400)), "ip": f"203.0.113.{rng.randint(1, 254)}", "source": rng.choice(["Terminal", "Cabinet", "Mobile"])}
            for _ in range(rng.randint(0, 6))
        ]  # fmt: skip
        out["accounts"].append(account)
    logins = [a["login"] for a in out["accounts"]]
    for n in range(partners):
        login = 30_000_001 + n
        refs = sorted(rng.sample(logins, k=min(len(logins), rng.randint(0, 8))))
        commissions = []
        for _ in range(rng.randint(0, 15) if refs else 0):
            commissions.append({
                "login": rng.choice(refs), "date": _ago(rng.randint(600, 60 * 86400)), "ticket": rng.randint(70_000_000, 79_999_999),
                "symbol": rng.choice(list(SYMBOLS)), "volume": str(Decimal(rng.randint(1, 300)) / 100),
                "amount": str(Decimal(rng.randint(1, 5000)) / 100),
            })  # fmt: skip
        today = [r for r in refs if rng.random() < 0.3]
        week = sorted(set(today) | {r for r in refs if rng.random() < 0.5})
        clicks = rng.randint(0, 20)
        out["partners"].append({
            "login": login, "level": "password", "password": f"partner-{login}", "referrals": refs, "commissions": commissions,
            "clicks": [
                {"period": "Today", "clicks": clicks, "referal_accounts": today},
                {"period": "Week", "clicks": clicks + rng.randint(0, 60), "referal_accounts": week},
                {"period": "Month", "clicks": clicks + rng.randint(60, 300), "referal_accounts": refs},
            ],
        })  # fmt: skip
    for n in range(signals):
        pair = rng.choice(list(SYMBOLS))
        price = _price(pair, rng)
        out["signals"].append({
            "id": 500_000 + n, "actual_time": _ago(rng.randint(60, 45 * 86400)), "comment": rng.choice(["Trend channel", "Breakout", "Support bounce", "Resistance"]),
            "pair": pair, "cmd": rng.choice([0, 1, 2, 3, 4, 5]), "trading_system": rng.choice([1, 2, 3, 3, 3]),
            "period": rng.choice(["M15", "H1", "H4", "D1"]), "price": str(price),
            "sl": str(_price(pair, rng)), "tp": str(_price(pair, rng)),
        })  # fmt: skip
    return out
