"""A Hypothesis state machine for the InstaForex Client Cabinet API, and its model.

The model holds the account store the machine loaded (fixture data, drawn from
`conformance.strategies.instaforex.account_stores`) and what the contract says of it: who may have a
token of which kind, the figures' identities (contract §5), ranges and sort orders. The machine
reads every route through an adapter (the reference client by default), requests raw tokens
over HTTP to check their scope, moves the clock past token lifetimes and changes accounts through
the control plane.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import requests
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, precondition, rule

from .controlplane import ControlPlane
from .strategies.instaforex import account_stores

TTL = timedelta(seconds=5400)
RANGE = timedelta(days=30)
TOKEN_ROUTES = {
    "client": "RequestClientApiToken",
    "partner": "RequestPartnerApiToken",
    "mobile": "RequestMoblieCabinetApiToken",
}


class InstaForexAdapter(Protocol):
    """What the machine needs of a client: `open(login, password, kind)` returns a session with
    the reference client's methods (balance(), open_trades(), ...); `denied` is the exception a
    refused login or token raises."""

    denied: type[BaseException]

    def open(self, base_url: str, login: int, password: str, kind: str) -> Any: ...


class ReferenceAdapter:
    """The reference client (`client.InstaForexClient`) as an adapter."""

    def __init__(self) -> None:
        from broker_mocks.client import AccessDenied

        self.denied = AccessDenied

    def open(self, base_url: str, login: int, password: str, kind: str) -> Any:
        from broker_mocks.client import InstaForexClient

        return InstaForexClient(base_url, login=login, password=password, kind=kind, retries=0)  # type: ignore[arg-type]


def _ago(text: str, now: datetime) -> datetime:
    return now - timedelta(seconds=int(text[len("now-") : -1]))


def _in_mask(mask: str, address: str = "127.0.0.1") -> bool:
    addr = ipaddress.ip_address(address)
    for entry in (e.strip() for e in mask.split(",")):
        if "*" in entry:
            fixed = [p for p in entry.split(".") if p != "*"]
            if str(addr).split(".")[: len(fixed)] == fixed and addr.version == 4:
                return True
            continue
        net = ipaddress.ip_network(entry, strict=False)
        if net.version == addr.version and addr in net:
            return True
    return False


@dataclass
class Model:
    """The store as the contract says the API shows it."""

    data: dict[str, Any]
    loaded: datetime
    now: datetime
    tokens: dict[str, tuple[int, str, datetime]] = field(default_factory=dict)

    def account(self, login: int) -> dict[str, Any]:
        return next(a for a in self.data["accounts"] if a["login"] == login)

    def admits(self, login: int, password: str, kind: str) -> bool:
        accounts = {a["login"]: a for a in self.data["accounts"]}
        partners = {p["login"]: p for p in self.data["partners"]}
        who = (
            accounts.get(login)
            if kind == "client"
            else partners.get(login)
            if kind == "partner"
            else accounts.get(login) or partners.get(login)
        )
        if who is None:
            return False
        level = who.get("level", "password")
        if level == "open":
            return True
        if level == "password":
            return password == who.get("api_password")
        return password == who.get("ip_password") and _in_mask(who["ip_mask"])

    def password(self, login: int, kind: str, right: bool) -> str:
        who = next((a for a in self.data["accounts"] + self.data["partners"] if a["login"] == login), {})
        level = who.get("level", "password")
        good = who.get("ip_password") if level == "ip" else who.get("api_password") or "any"
        return str(good) if right else "wrong-password"

    def balance(self, login: int) -> dict[str, Decimal]:
        a = self.account(login)
        balance, credit, margin = Decimal(a["balance"]), Decimal(a["credit"]), Decimal(a["margin"])
        equity = balance + credit + sum((Decimal(t["profit"]) for t in a["open_trades"]), Decimal(0))
        return {
            "balance": balance,
            "credit": credit,
            "margin": margin,
            "equity": equity,
            "free_margin": equity - margin,
        }

    def closed_in_range(self, login: int) -> list[dict[str, Any]]:
        lo, hi = self.now - RANGE, self.now
        trades = [t for t in self.account(login)["closed_trades"] if lo <= _ago(t["close_time"], self.loaded) <= hi]
        return sorted(trades, key=lambda t: (_ago(t["close_time"], self.loaded), t["ticket"]))


class InstaForexMachine(RuleBasedStateMachine):
    """Drives an adapter against an InstaForex emulator and checks it against `Model`.

    Subclass and set `base_url`; override `make_adapter` to test your own client.
    """

    base_url: str = "http://127.0.0.1:8080/"
    sessions = Bundle("sessions")

    def make_adapter(self) -> InstaForexAdapter:
        """The client under test; the reference client by default."""
        return ReferenceAdapter()

    def __init__(self) -> None:
        super().__init__()
        self.base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        self.control = ControlPlane(self.base)
        self.adapter = self.make_adapter()
        self.http = requests.Session()
        self.model: Model | None = None

    @initialize(data=account_stores(max_accounts=4, max_partners=2))
    def load_store(self, data: dict[str, Any]) -> None:
        self.control("reset")  # back to the emulator's constructor; then the generated store
        self.control("accounts", {"data": data})
        now = datetime.fromisoformat(self.control("state", method="GET")["now"])
        self.model = Model(data, now, now)

    def _logins(self) -> list[int]:
        assert self.model is not None
        return [a["login"] for a in self.model.data["accounts"]] + [p["login"] for p in self.model.data["partners"]]

    # ------------------------------------------------------------------ sessions through the client

    @rule(target=sessions, data=st.data(), kind=st.sampled_from(["client", "partner", "mobile"]), right=st.booleans())
    def open_session(self, data: st.DataObject, kind: str, right: bool) -> Any:
        assert self.model is not None
        login = data.draw(st.sampled_from(self._logins()))
        password = self.model.password(login, kind, right)
        session = self.adapter.open(self.base, login, password, kind)
        admitted = self.model.admits(login, password, kind)
        try:
            self._read_one(session, kind)
        except self.adapter.denied:
            assert not admitted, f"{kind} login {login} refused, but the model admits it"
            return None
        assert admitted, f"{kind} login {login} with a wrong password or outside its mask was admitted"
        entry = (session, login, kind)
        self.read_every_route(entry)
        return entry

    def _read_one(self, session: Any, kind: str) -> Any:
        return (
            session.balance()
            if kind == "client"
            else session.click_statistics()
            if kind == "partner"
            else session.analytic_signals()
        )

    @rule(entry=sessions)
    def read_every_route(self, entry: Any) -> None:
        if entry is None:
            return
        session, login, kind = entry
        m = self.model
        assert m is not None
        try:
            if kind == "client":
                self._check_client(session, login)
            elif kind == "partner":
                self._check_partner(session, login)
            else:
                signals = session.analytic_signals()
                assert signals == [], "the machine's stores have no signals"
        except self.adapter.denied:
            # Only an ip-level account whose mask no longer holds the caller may be refused now.
            who = next(a for a in m.data["accounts"] + m.data["partners"] if a["login"] == login)
            assert who.get("level") == "ip" and not _in_mask(who["ip_mask"]), f"{kind} session of {login} refused"

    def _check_client(self, s: Any, login: int) -> None:
        m = self.model
        assert m is not None
        b = s.balance()
        want = m.balance(login)
        assert b.login == login, f"balance of {b.login} answered to {login}"
        assert (b.balance, b.credit, b.margin, b.equity, b.free_margin) == tuple(want.values()), f"balance of {login}"
        opened = s.open_trades()
        a = m.account(login)
        assert [t.ticket for t in opened] == [
            t["ticket"] for t in sorted(a["open_trades"], key=lambda t: (_ago(t["open_time"], m.loaded), t["ticket"]))
        ]
        assert b.equity == b.balance + b.credit + sum((t.profit for t in opened), Decimal(0))
        closed = s.closed_trades()
        assert [t.ticket for t in closed] == [t["ticket"] for t in m.closed_in_range(login)], (
            f"closed trades of {login}"
        )
        lots = s.closed_lots()
        assert lots.login == login and lots.trades_count == len(closed)
        assert lots.lots == sum((Decimal(t["volume"]) for t in m.closed_in_range(login)), Decimal(0)), (
            f"closed lots of {login}"
        )
        summary = s.account_summary()
        assert (summary.login, summary.balance, summary.equity, summary.credit, summary.leverage) == (
            login,
            b.balance,
            b.equity,
            b.credit,
            b.leverage,
        )
        history = s.login_history()
        assert [h.time for h in history] == sorted(h.time for h in history)
        assert len(s.bonus_statistics()) == len(a["bonuses"])

    def _check_partner(self, s: Any, login: int) -> None:
        m = self.model
        assert m is not None
        partner = next(p for p in m.data["partners"] if p["login"] == login)
        refs = set(partner["referrals"])
        for a in m.data["accounts"]:
            assert s.check_referral(a["login"]) is (a["login"] in refs), f"CheckReferral({login}, {a['login']})"
        assert {c.login for c in s.commission_records()} <= refs
        assert all(set(c.referral_accounts) <= refs for c in s.click_statistics())

    # ------------------------------------------------------------------ raw tokens and their scope

    @rule(data=st.data(), kind=st.sampled_from(["client", "partner", "mobile"]), right=st.booleans())
    def raw_token(self, data: st.DataObject, kind: str, right: bool) -> None:
        m = self.model
        assert m is not None
        login = data.draw(st.sampled_from(self._logins()))
        password = m.password(login, kind, right)
        r = self.http.post(
            self.base + f"api/Authentication/{TOKEN_ROUTES[kind]}",
            json={"Login": login, "Password": password},
            timeout=10,
        )
        if m.admits(login, password, kind):
            assert r.status_code == 200, f"{kind} token for {login}: {r.status_code} {r.text}"
            m.tokens[r.json()] = (login, kind, m.now)
        else:
            assert (r.status_code, r.json()) == (403, "Access denied"), f"{kind} token for {login} should be refused"

    @precondition(lambda self: self.model is not None and any(k == "client" for _, k, _ in self.model.tokens.values()))
    @rule(data=st.data())
    def raw_reads_stay_within_their_login(self, data: st.DataObject) -> None:
        m = self.model
        assert m is not None
        token = data.draw(st.sampled_from(sorted(t for t, (_, k, _) in m.tokens.items() if k == "client")))
        owner, _, issued = m.tokens[token]
        target = data.draw(st.sampled_from([a["login"] for a in m.data["accounts"]]))
        r = self.http.get(
            self.base + f"client/RequestBalanceInformation/{target}", headers={"passkey": token}, timeout=10
        )
        live = m.now < issued + TTL
        who = m.account(owner)
        allowed = live and target == owner and (who.get("level") != "ip" or _in_mask(who["ip_mask"]))
        if allowed:
            assert r.status_code == 200 and r.json()["Login"] == owner, f"token of {owner}: {r.status_code}"
        else:
            assert (r.status_code, r.json()) == (403, "Access denied"), (
                f"token of {owner} read {target} (live={live}): {r.text[:100]}"
            )

    # ------------------------------------------------------------------ time and the control plane

    @rule(seconds=st.sampled_from([60, 1800, 5399, 5400, 7200]))
    def advance_clock(self, seconds: int) -> None:
        assert self.model is not None
        self.control("advance", {"seconds": seconds})
        self.model.now += timedelta(seconds=seconds)

    @precondition(
        lambda self: self.model is not None and any(a.get("level") == "ip" for a in self.model.data["accounts"])
    )
    @rule(data=st.data(), inside=st.booleans())
    def change_ip_mask(self, data: st.DataObject, inside: bool) -> None:
        m = self.model
        assert m is not None
        account = data.draw(st.sampled_from([a for a in m.data["accounts"] if a.get("level") == "ip"]))
        mask = data.draw(
            st.sampled_from(
                ["127.0.0.1", "127.0.0.0/8, 10.0.0.1", "127.0.*"] if inside else ["10.0.0.1", "198.18.0.0/15", "::1"]
            )
        )
        r = self.http.patch(self.base + f"_mock/account/{account['login']}", json={"ip_mask": mask}, timeout=10)
        assert r.status_code == 200, r.text
        account["ip_mask"] = mask

    @rule(data=st.data(), closed=st.booleans(), volume=st.integers(1, 300), ago=st.integers(60, 40 * 86400))
    def add_trade(self, data: st.DataObject, closed: bool, volume: int, ago: int) -> None:
        m = self.model
        assert m is not None
        account = data.draw(st.sampled_from(m.data["accounts"]))
        tickets = {t["ticket"] for t in account["open_trades"] + account["closed_trades"]}
        ticket = max(tickets, default=account["login"] * 100) + 1000
        # Times relative to the model's clock, expressed relative to load time for the model.
        shift = int((m.now - m.loaded).total_seconds())
        trade: dict[str, Any] = {"ticket": ticket, "open_time": f"now-{ago}s", "symbol": "EURUSD", "type": 1,
                                 "volume": str(Decimal(volume) / 100), "open_price": "1.1", "profit": "1.50"}  # fmt: skip
        if closed:
            trade.update(close_time=f"now-{ago // 2}s", close_price="1.2")
        self.control("trade", {"login": account["login"], "trade": trade})
        rebased = dict(trade, open_time=f"now-{ago - shift}s")
        if closed:
            rebased["close_time"] = f"now-{ago // 2 - shift}s"
        (account["closed_trades"] if closed else account["open_trades"]).append(rebased)
