"""The account store: accounts, trades, bonuses, login history, partners, commissions, clicks, signals.

Plain Python behind one lock. Loaded from a fixture (YAML or JSON, snake_case keys) or generated
from a seed. The figures agree with each other (contract §5): equity, free margin, closed lots,
summary, referrals and commissions are all derived from the same records.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from mock_common.files import Source, check, inline, read_document
from mock_common.parts import ChangeLog
from mock_common.values import DecimalError, jsonable, parse_datetime, parse_decimal

from .data import ACCOUNTS
from .errors import StoreError
from .ipmask import IpMask, parse_mask

LEVELS = ("open", "password", "ip")
LOGIN_HISTORY_LIMIT = 1000  # entries kept per login, the newest; older ones are forgotten
CENT = Decimal("0.01")
_RELATIVE = re.compile(r"^now\s*(?:([+-])\s*((?:\d+(?:\.\d+)?[dhms]\s*)+))?$", re.IGNORECASE)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _at(where: str, key: str) -> str:
    """The key path of `key` inside `where` (the root when `where` is empty)."""
    return f"{where}.{key}" if where else key


def parse_time(value: Any, where: str, now: datetime) -> datetime:
    """ISO-8601 (offsets converted to UTC), Unix seconds, or relative `now-3d4h` / `now`."""
    rel = _RELATIVE.match(value.strip()) if isinstance(value, str) else None
    if rel:
        seconds = 0.0
        if rel.group(2):
            for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([dhms])", rel.group(2).lower()):
                seconds += float(amount) * _UNITS[unit]
        sign = -1 if rel.group(1) == "-" else 1
        return (now + timedelta(seconds=sign * seconds)).replace(microsecond=0)
    try:
        return parse_datetime(value).replace(microsecond=0)
    except (ValueError, OverflowError, OSError):
        raise StoreError.at(where, "must be an ISO date-time, Unix seconds or now-<n>d/h/m/s", value) from None


def _dec(value: Any, where: str, places: Decimal | None = CENT) -> Decimal:
    try:
        number = parse_decimal(value)
    except DecimalError as exc:
        raise StoreError.at(where, f"must be a {'finite ' if exc.number else ''}number", value) from None
    return number.quantize(places) if places is not None else number


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise StoreError.at(where, "must be a whole number", value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise StoreError.at(where, "must be a whole number", value) from None
    return number


@dataclass
class Trade:
    """An open trade, or a closed one (close_time and close_price set)."""

    ticket: int
    open_time: datetime
    symbol: str
    type: int  # 1 buy, 2 sell (the vendor's numbering)
    volume: Decimal  # lots
    open_price: Decimal
    sl: Decimal = Decimal(0)
    tp: Decimal = Decimal(0)
    swap: Decimal = Decimal("0.00")
    commission: Decimal = Decimal("0.00")
    profit: Decimal = Decimal("0.00")
    comment: str = ""
    current_price: Decimal | None = None
    close_time: datetime | None = None
    close_price: Decimal | None = None

    @property
    def closed(self) -> bool:
        """True for a closed trade."""
        return self.close_time is not None


@dataclass
class Bonus:
    """One bonus of the account."""

    date: datetime
    bonus_type: str
    percent: Decimal
    amount: Decimal
    status: str


@dataclass
class LoginEvent:
    """One authorisation: when, from where, through what."""

    time: datetime
    ip: str
    source: str


@dataclass
class Account:
    """A client (trading) account and its access level."""

    login: int
    level: str = "password"
    api_password: str | None = None
    ip_password: str | None = None
    ip_mask: str | None = None
    name: str = ""
    group: str = "standard"
    currency: str = "USD"
    leverage: int = 100
    balance: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")
    margin: Decimal = Decimal("0.00")
    registration_date: datetime = datetime(2020, 1, 1)
    total_deposit: Decimal = Decimal("0.00")
    total_withdrawal: Decimal = Decimal("0.00")
    open_trades: list[Trade] = field(default_factory=list)
    closed_trades: list[Trade] = field(default_factory=list)
    bonuses: list[Bonus] = field(default_factory=list)
    login_history: list[LoginEvent] = field(default_factory=list)

    @property
    def mask(self) -> IpMask | None:
        """The parsed IP mask (level ip)."""
        return parse_mask(self.ip_mask) if self.ip_mask else None

    @property
    def equity(self) -> Decimal:
        """Balance + Credit + the profit of open trades."""
        return self.balance + self.credit + sum((t.profit for t in self.open_trades), Decimal("0.00"))

    @property
    def free_margin(self) -> Decimal:
        """Equity − Margin."""
        return self.equity - self.margin


@dataclass
class Commission:
    """A partner commission earned on a referral's trade."""

    login: int
    date: datetime
    ticket: int
    symbol: str
    volume: Decimal
    amount: Decimal


@dataclass
class ClickStat:
    """Click statistics for a period (Today, Week, Month)."""

    period: str
    clicks: int
    referal_accounts: list[int]


@dataclass
class Partner:
    """A partner (IB) account: its referrals, commissions and clicks."""

    login: int
    level: str = "password"
    api_password: str | None = None
    ip_password: str | None = None
    ip_mask: str | None = None
    referrals: list[int] = field(default_factory=list)
    commissions: list[Commission] = field(default_factory=list)
    clicks: list[ClickStat] = field(default_factory=list)
    login_history: list[LoginEvent] = field(default_factory=list)

    @property
    def mask(self) -> IpMask | None:
        """The parsed IP mask (level ip)."""
        return parse_mask(self.ip_mask) if self.ip_mask else None


@dataclass
class Signal:
    """An analytic signal for the mobile cabinet."""

    id: int
    actual_time: datetime
    comment: str
    pair: str
    cmd: int
    trading_system: int
    period: str
    price: Decimal
    sl: Decimal
    tp: Decimal


# ---------------------------------------------------------------------------------- parsing


def _trade(data: dict[str, Any], where: str, now: datetime, closed: bool) -> Trade:
    kind = _int(data["type"], _at(where, "type"))
    volume = _dec(data["volume"], _at(where, "volume"), None)
    if volume <= 0:
        raise StoreError.at(_at(where, "volume"), "must be > 0", data["volume"])
    trade = Trade(
        ticket=_int(data["ticket"], _at(where, "ticket")),
        open_time=parse_time(data["open_time"], _at(where, "open_time"), now),
        symbol=str(data["symbol"]),
        type=kind,
        volume=volume,
        open_price=_dec(data["open_price"], _at(where, "open_price"), None),
        sl=_dec(data.get("sl", 0), _at(where, "sl"), None),
        tp=_dec(data.get("tp", 0), _at(where, "tp"), None),
        swap=_dec(data.get("swap", 0), _at(where, "swap")),
        commission=_dec(data.get("commission", 0), _at(where, "commission")),
        profit=_dec(data.get("profit", 0), _at(where, "profit")),
        comment=str(data.get("comment") or ""),
    )
    if closed:
        trade.close_time = parse_time(data["close_time"], _at(where, "close_time"), now)
        trade.close_price = _dec(data["close_price"], _at(where, "close_price"), None)
        if trade.close_time < trade.open_time:
            raise StoreError.at(_at(where, "close_time"), "must not be before open_time", data["close_time"])
    else:
        current = data.get("current_price", data["open_price"])
        trade.current_price = _dec(current, _at(where, "current_price"), None)
    return trade


def _access(data: dict[str, Any], where: str) -> dict[str, Any]:
    level = str(data.get("level", "password")).lower()
    out: dict[str, Any] = {"level": level}
    if level == "password" and not data.get("api_password"):
        raise StoreError.at(where, "level password needs api_password")
    if level == "ip":
        if not data.get("ip_password") or not data.get("ip_mask"):
            raise StoreError.at(where, "level ip needs ip_password and ip_mask")
        try:
            parse_mask(str(data["ip_mask"]))
        except StoreError as exc:
            raise StoreError.at(_at(where, "ip_mask"), "is not a valid IP mask", detail=str(exc)) from None
    for key in ("api_password", "ip_password", "ip_mask"):
        if data.get(key) is not None:
            out[key] = str(data[key])
    return out


def parse_account(data: dict[str, Any], where: str, now: datetime) -> Account:
    """An Account from fixture data the schema has passed (`where`: its key path, empty at the root)."""
    login = _int(data["login"], _at(where, "login"))
    leverage = _int(data.get("leverage", 100), _at(where, "leverage"))
    if leverage < 1:
        raise StoreError.at(_at(where, "leverage"), "must be at least 1", leverage)
    account = Account(
        login=login,
        name=str(data.get("name") or f"Client {login}"),
        group=str(data.get("group") or "standard"),
        currency=str(data.get("currency") or "USD").upper(),
        leverage=leverage,
        balance=_dec(data.get("balance", 0), _at(where, "balance")),
        credit=_dec(data.get("credit", 0), _at(where, "credit")),
        margin=_dec(data.get("margin", 0), _at(where, "margin")),
        registration_date=parse_time(data.get("registration_date", "now-365d"), _at(where, "registration_date"), now),
        total_deposit=_dec(data.get("total_deposit", 0), _at(where, "total_deposit")),
        total_withdrawal=_dec(data.get("total_withdrawal", 0), _at(where, "total_withdrawal")),
        **_access(data, where),
    )
    account.open_trades = [
        _trade(t, _at(where, f"open_trades[{i}]"), now, False) for i, t in enumerate(data.get("open_trades") or [])
    ]
    account.closed_trades = [
        _trade(t, _at(where, f"closed_trades[{i}]"), now, True) for i, t in enumerate(data.get("closed_trades") or [])
    ]
    account.bonuses = [_bonus(b, _at(where, f"bonuses[{i}]"), now) for i, b in enumerate(data.get("bonuses") or [])]
    account.login_history = [
        _event(e, _at(where, f"login_history[{i}]"), now) for i, e in enumerate(data.get("login_history") or [])
    ]
    _sort(account)
    return account


def _bonus(data: dict[str, Any], where: str, now: datetime) -> Bonus:
    return Bonus(
        date=parse_time(data.get("date", "now"), _at(where, "date"), now),
        bonus_type=str(data.get("bonus_type") or "Deposit bonus"),
        percent=_dec(data.get("percent", 0), _at(where, "percent")),
        amount=_dec(data.get("amount", 0), _at(where, "amount")),
        status=str(data.get("status") or "Active"),
    )


def _event(data: dict[str, Any], where: str, now: datetime) -> LoginEvent:
    return LoginEvent(
        parse_time(data.get("time", "now"), _at(where, "time"), now),
        str(data["ip"]),
        str(data.get("source") or "Cabinet"),
    )


def parse_partner(data: dict[str, Any], where: str, now: datetime) -> Partner:
    """A Partner from fixture data the schema has passed (`password` is accepted for `api_password`)."""
    data = dict(data)
    if "password" in data:
        data.setdefault("api_password", data.pop("password"))
    partner = Partner(login=_int(data["login"], _at(where, "login")), **_access(data, where))
    partner.referrals = [_int(r, _at(where, f"referrals[{i}]")) for i, r in enumerate(data.get("referrals") or [])]
    for i, c in enumerate(data.get("commissions") or []):
        w = _at(where, f"commissions[{i}]")
        partner.commissions.append(Commission(
            login=_int(c.get("login"), f"{w}.login"), date=parse_time(c.get("date", "now"), f"{w}.date", now),
            ticket=_int(c.get("ticket", 0), f"{w}.ticket"), symbol=str(c.get("symbol") or ""),
            volume=_dec(c.get("volume", 0), f"{w}.volume", None), amount=_dec(c.get("amount", 0), f"{w}.amount"),
        ))  # fmt: skip
    for i, k in enumerate(data.get("clicks") or []):
        w = _at(where, f"clicks[{i}]")
        accounts = [_int(a, f"{w}.referal_accounts[{j}]") for j, a in enumerate(k.get("referal_accounts") or [])]
        partner.clicks.append(
            ClickStat(str(k.get("period") or "Today"), _int(k.get("clicks", 0), f"{w}.clicks"), accounts)
        )
    partner.login_history = sorted(
        (_event(e, _at(where, f"login_history[{i}]"), now) for i, e in enumerate(data.get("login_history") or [])),
        key=lambda e: e.time,
    )[-LOGIN_HISTORY_LIMIT:]
    _check_partner(partner, where)
    partner.commissions.sort(key=lambda c: (c.date, c.ticket))
    return partner


def _check_partner(partner: Partner, where: str) -> None:
    referrals = set(partner.referrals)
    for i, c in enumerate(partner.commissions):
        if c.login not in referrals:
            raise StoreError.at(
                _at(where, f"commissions[{i}].login"), f"must be a referral of {partner.login}", c.login
            )
    for i, k in enumerate(partner.clicks):
        strangers = sorted(set(k.referal_accounts) - referrals)
        if strangers:
            raise StoreError.at(
                _at(where, f"clicks[{i}].referal_accounts"),
                f"must name referrals of {partner.login} only; {', '.join(map(str, strangers))} are not",
            )
    if not partner.clicks:
        partner.clicks = [ClickStat(p, 0, []) for p in ("Today", "Week", "Month")]


def parse_signal(data: dict[str, Any], where: str, now: datetime) -> Signal:
    """A Signal from fixture data the schema has passed."""
    return Signal(
        id=_int(data.get("id"), _at(where, "id")),
        actual_time=parse_time(data.get("actual_time", "now"), _at(where, "actual_time"), now),
        comment=str(data.get("comment") or ""),
        pair=str(data.get("pair") or "EURUSD").upper(),
        cmd=_int(data.get("cmd", 0), _at(where, "cmd")),
        trading_system=_int(data.get("trading_system", 3), _at(where, "trading_system")),
        period=str(data.get("period") or "H1"),
        price=_dec(data.get("price", 0), _at(where, "price"), None),
        sl=_dec(data.get("sl", 0), _at(where, "sl"), None),
        tp=_dec(data.get("tp", 0), _at(where, "tp"), None),
    )


def _sort(account: Account) -> None:
    account.open_trades.sort(key=lambda t: (t.open_time, t.ticket))
    account.closed_trades.sort(key=lambda t: (t.close_time, t.ticket))
    account.login_history.sort(key=lambda e: e.time)
    del account.login_history[:-LOGIN_HISTORY_LIMIT]
    account.bonuses.sort(key=lambda b: b.date)


# ---------------------------------------------------------------------------------- the store


def _account_data(a: Account) -> dict[str, Any]:
    d = jsonable(asdict(a))
    d["open_trades"] = [
        {k: v for k, v in t.items() if k not in ("close_time", "close_price")} for t in d["open_trades"]
    ]
    d["closed_trades"] = [{k: v for k, v in t.items() if k != "current_price"} for t in d["closed_trades"]]
    return {k: v for k, v in d.items() if v is not None}


def _partner_data(p: Partner) -> dict[str, Any]:
    return {k: v for k, v in jsonable(asdict(p)).items() if v is not None}


class Store:
    """Every account, partner and signal; thread-safe behind one lock.

    It describes itself as keyed parts (`describe`: `account/<login>`, `partner/<login>`,
    `signals`) and logs which logins its methods changed (`changed_since`), so a state file writes
    only those; a change made to a record directly, not through a method, is not logged.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[int, Account] = {}
        self.partners: dict[int, Partner] = {}
        self.signals: list[Signal] = []
        self._changed = ChangeLog()  # logins whose account or partner changed

    @classmethod
    def from_data(cls, data: Any, now: datetime, source: Source | None = None, schema: bool = True) -> Store:
        """Build a store from fixture data, checked against the shipped schema ("accounts"; skip it with
        `schema=False` for data that passed already) and then for what a schema cannot say (logins
        used twice, referrals, commissions). A refusal names `source` (a file, or the inline
        content's name), the line and column, the key path and the reason."""
        source = source if source is not None else inline("inline accounts")
        if schema:
            check(data, "accounts", StoreError, source)
        try:
            return cls._build(data, now)
        except StoreError as exc:
            raise exc.within(source) from None

    @classmethod
    def _build(cls, data: dict[str, Any], now: datetime) -> Store:
        store = cls()
        for i, a in enumerate(data.get("accounts") or []):
            account = parse_account(a, f"accounts[{i}]", now)
            if account.login in store.accounts:
                raise StoreError.at(f"accounts[{i}].login", "appears twice", account.login)
            store.accounts[account.login] = account
        for i, p in enumerate(data.get("partners") or []):
            partner = parse_partner(p, f"partners[{i}]", now)
            if partner.login in store.partners or partner.login in store.accounts:
                raise StoreError.at(f"partners[{i}].login", "is used already", partner.login)
            for j, r in enumerate(partner.referrals):
                if r not in store.accounts:
                    raise StoreError.at(f"partners[{i}].referrals[{j}]", "must be an account of the store", r)
            store.partners[partner.login] = partner
        store.signals = sorted(
            (parse_signal(s, f"signals[{i}]", now) for i, s in enumerate(data.get("signals") or [])),
            key=lambda s: (s.actual_time, s.id),
        )
        return store

    def to_data(self) -> dict[str, Any]:
        """The store as fixture data (absolute times), loadable again by `from_data`."""
        with self.lock:
            return {
                "accounts": [_account_data(a) for a in self.accounts.values()],
                "partners": [_partner_data(p) for p in self.partners.values()],
                "signals": [jsonable(asdict(s)) for s in self.signals],
            }

    # -------------------------------------------------------------- keyed parts (snapshot, state file)

    def describe(self) -> dict[str, Any]:
        """The store as keyed parts: `account/<login>`, `partner/<login>` (fixture data) and `signals`."""
        with self.lock:
            parts: dict[str, Any] = {f"account/{a.login}": _account_data(a) for a in self.accounts.values()}
            parts.update({f"partner/{p.login}": _partner_data(p) for p in self.partners.values()})
            parts["signals"] = [jsonable(asdict(s)) for s in self.signals]
            return parts

    def changed_since(self, count: int | None) -> tuple[dict[str, Any], int]:
        """The parts of the accounts and partners changed after change number `count` (every part for None),
        and the count now."""
        with self.lock:
            if count is None:
                return self.describe(), self._changed.count
            parts: dict[str, Any] = {}
            for login in self._changed.since(count):
                if login in self.accounts:
                    parts[f"account/{login}"] = _account_data(self.accounts[login])
                elif login in self.partners:
                    parts[f"partner/{login}"] = _partner_data(self.partners[login])
            return parts, self._changed.count

    @classmethod
    def from_parts(cls, parts: dict[str, Any], now: datetime) -> Store:
        """The store `describe` described (StoreError names what is wrong)."""

        def login(item: tuple[str, Any]) -> int:
            return int(item[0].split("/", 1)[1])

        return cls.from_data(
            {
                "accounts": [
                    v for _, v in sorted((i for i in parts.items() if i[0].startswith("account/")), key=login)
                ],
                "partners": [
                    v for _, v in sorted((i for i in parts.items() if i[0].startswith("partner/")), key=login)
                ],
                "signals": parts.get("signals") or [],
            },
            now,
        )

    def principal(self, login: int) -> Account | Partner | None:
        """The account or partner with this login."""
        return self.accounts.get(login) or self.partners.get(login)

    def record_login(self, login: int, ip: str, source: str, when: datetime) -> None:
        """Add a login-history entry (every token request, accepted or refused); the newest
        LOGIN_HISTORY_LIMIT entries of a login are kept, so a long run keeps flat memory."""
        with self.lock:
            who = self.principal(login)
            if who is not None:
                self._changed.touch(login)
                history = who.login_history
                history.append(LoginEvent(when, ip, source))
                if len(history) > 1 and history[-2].time > when:  # the clock was set back
                    history.sort(key=lambda e: e.time)
                del history[:-LOGIN_HISTORY_LIMIT]

    # -------------------------------------------------------------- changes (control plane)

    def add_account(self, data: dict[str, Any], now: datetime) -> Account:
        """Add an account, or replace the one with the same login."""
        account = _checked(data, "#/$defs/account", "account", lambda: parse_account(data, "", now))
        with self.lock:
            if account.login in self.partners:
                raise StoreError(f"login {account.login} is a partner")
            self.accounts[account.login] = account
            self._changed.touch(account.login)
        return account

    def change_account(self, login: int, changes: dict[str, Any], now: datetime) -> Account:
        """Change some fields of an account (validated as a whole before anything changes)."""
        with self.lock:
            current = self.accounts.get(login)
            if current is None:
                raise StoreError(f"login {login} is not an account of the store")
            merged = _account_data(current)
            merged.update(changes)
            merged["login"] = login
            account = _checked(merged, "#/$defs/account", f"account {login}", lambda: parse_account(merged, "", now))
            self.accounts[login] = account
            self._changed.touch(login)
            return account

    def add_trade(self, login: int, data: dict[str, Any], now: datetime) -> Trade:
        """Add an open trade, or a closed one when it has close_time and close_price."""
        with self.lock:
            account = self._account(login)
            closed = data.get("close_time") is not None
            trade = _checked(
                data, "#/$defs/closedTrade" if closed else "#/$defs/openTrade", "trade",
                lambda: _trade(data, "", now, closed),
            )  # fmt: skip
            tickets = {t.ticket for t in account.open_trades + account.closed_trades}
            if trade.ticket in tickets:
                raise StoreError.at("ticket", f"already exists on login {login}", trade.ticket, source=inline("trade"))
            (account.closed_trades if closed else account.open_trades).append(trade)
            _sort(account)
            self._changed.touch(login)
            return trade

    def close_trade(self, login: int, ticket: int, price: Any, profit: Any, now: datetime) -> Trade:
        """Close an open trade at `price` with final `profit`, which is added to the balance."""
        with self.lock:
            account = self._account(login)
            trade = next((t for t in account.open_trades if t.ticket == ticket), None)
            if trade is None:
                raise StoreError(f"ticket {ticket} is not an open trade of login {login}")
            closed = replace(trade, close_time=now.replace(microsecond=0), close_price=_dec(price, "price", None),
                             profit=_dec(profit, "profit"), current_price=None)  # fmt: skip
            account.open_trades.remove(trade)
            account.closed_trades.append(closed)
            account.balance += closed.profit
            _sort(account)
            self._changed.touch(login)
            return closed

    def add_bonus(self, login: int, data: dict[str, Any], now: datetime) -> Bonus:
        """Add a bonus to an account."""
        with self.lock:
            account = self._account(login)
            bonus = _checked(data, "#/$defs/bonus", "bonus", lambda: _bonus(data, "", now))
            account.bonuses.append(bonus)
            _sort(account)
            self._changed.touch(login)
            return bonus

    def add_referral(self, partner: int, client: int) -> None:
        """Make `client` a referral of `partner`."""
        with self.lock:
            p = self.partners.get(partner)
            if p is None:
                raise StoreError(f"login {partner} is not a partner of the store")
            self._account(client)
            if client not in p.referrals:
                p.referrals.append(client)
                self._changed.touch(partner)

    def _account(self, login: int) -> Account:
        account = self.accounts.get(login)
        if account is None:
            raise StoreError(f"login {login} is not an account of the store")
        return account


T = TypeVar("T")


def _checked(data: Any, at: str, name: str, build: Callable[[], T]) -> T:
    """`build()` of control-plane content (an account, a trade, a bonus) that the schema's part `at`
    has passed; a refusal is worded as a file's, `name` standing for the file."""
    source = inline(name)
    check(data, "accounts", StoreError, source, at=at)
    try:
        return build()
    except StoreError as exc:
        raise exc.within(source) from None


def read_accounts(path: str | Path, now: datetime) -> Any:
    """The content of an accounts file (or the built-in `demo`), checked whole: the schema, then a
    store built from it (which is not kept: `reset` builds its own from the content)."""
    document = read_document(ACCOUNTS.resolve(path), "accounts file", StoreError)
    data = {} if document.data is None else document.data  # an empty file is an empty store
    Store.from_data(data, now, document.source)
    return data


def load_store(path: str | Path, now: datetime) -> Store:
    """Read an accounts file (`.yaml`, `.yml` or `.json`), or the built-in `demo`."""
    document = read_document(ACCOUNTS.resolve(path), "accounts file", StoreError)
    return Store.from_data({} if document.data is None else document.data, now, document.source)
