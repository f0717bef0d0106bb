"""What the InstaForex dashboard (/_mock/ui) shows: one JSON document read from the store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mock_common.dashboard import journal_rows, query_int

from .contract import OPERATIONS
from .control import Controller
from .store import Account, Trade

CLOSED_SHOWN = 30
LOGINS_SHOWN = 25
ACCOUNTS_SHOWN = 200  # a generated store may hold thousands; the page lists the first ones


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _trade(t: Trade) -> dict[str, Any]:
    return {
        "ticket": t.ticket, "open_time": t.open_time.isoformat(), "symbol": t.symbol,
        "side": "BUY" if t.type == 1 else "SELL", "volume": _num(t.volume), "open_price": _num(t.open_price),
        "current_price": _num(t.current_price), "sl": _num(t.sl), "tp": _num(t.tp), "swap": _num(t.swap),
        "commission": _num(t.commission), "profit": _num(t.profit), "comment": t.comment,
        "close_time": t.close_time.isoformat() if t.close_time else None, "close_price": _num(t.close_price),
    }  # fmt: skip


def _summary(a: Account) -> dict[str, Any]:
    open_profit = sum((t.profit for t in a.open_trades), Decimal("0.00"))
    return {
        "login": a.login, "name": a.name, "level": a.level, "group": a.group, "currency": a.currency,
        "leverage": a.leverage, "balance": _num(a.balance), "credit": _num(a.credit), "equity": _num(a.equity),
        "margin": _num(a.margin), "free_margin": _num(a.free_margin), "open_profit": _num(open_profit),
        "open": len(a.open_trades), "closed": len(a.closed_trades),
    }  # fmt: skip


def dashboard_data(controller: Controller, query: dict[str, str]) -> dict[str, Any]:
    """The dashboard's view: accounts and balances, one account's trades and logins, tokens, journal."""
    service = controller.service
    store = service.store
    now = service.now()
    journal_limit = query_int(query, "journal", 40, 0, 500)
    with store.lock:
        logins = sorted(store.accounts)
        selected = query_int(query, "login", logins[0] if logins else 0, 0, 2**63 - 1) if logins else None
        if selected is not None and selected not in store.accounts:
            raise ValueError(f"'login' {selected} is not a client account of the store")
        accounts = [_summary(store.accounts[n]) for n in logins[:ACCOUNTS_SHOWN]]
        detail: dict[str, Any] | None = None
        if selected is not None:
            a = store.accounts[selected]
            detail = {
                **_summary(a),
                "open_trades": [_trade(t) for t in a.open_trades],
                "closed_trades": [_trade(t) for t in sorted(a.closed_trades, key=lambda t: t.close_time or now)][
                    -CLOSED_SHOWN:
                ][::-1],
                "login_history": [
                    {"time": e.time.isoformat(), "ip": e.ip, "source": e.source}
                    for e in sorted(a.login_history, key=lambda e: e.time)[-LOGINS_SHOWN:][::-1]
                ],
            }
        partners = [{"login": p.login, "referrals": list(p.referrals)} for p in store.partners.values()]
        principals = [*store.accounts, *store.partners]
    tokens = []
    for login in principals:
        for t in service.tokens.live(login, now):
            tokens.append({
                "login": t.login, "kind": t.kind, "token": f"{t.value[:6]}…", "issued": t.issued.isoformat(),
                "expires": t.expires.isoformat(), "seconds_left": int((t.expires - now).total_seconds()),
            })  # fmt: skip
    tokens.sort(key=lambda t: t["expires"])
    return {
        "emulator": "instaforex",
        "now": now.isoformat(),
        "clock": service.clock.mode,
        "speed": service.clock.speed,
        "token_ttl": service.tokens.ttl,
        "accounts_total": len(logins),
        "accounts": accounts,
        "partners": partners,
        "selected": detail,
        "tokens": tokens,
        "operations": list(OPERATIONS),
        "faults": [r.to_dict() for r in controller.faults.rules()],
        "journal": journal_rows(controller.journal.entries(), journal_limit, "operation", controller.journal.total),
        "journal_total": controller.journal.total,
    }
