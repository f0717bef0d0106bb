"""A typed client of the InstaForex Client Cabinet API, built on one requests session.

It requests the token itself, sends it in the `passkey` header, and renews it once when it has
expired or is refused. Every method is a read, so each retries on connection errors and 5xx.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, TypeVar

import requests

from . import _retry
from .errors import AccessDenied, ApiError, TransportError

log = logging.getLogger("broker_mocks.client")

Kind = Literal["client", "partner", "mobile"]
TOKEN_ROUTES = {
    "client": "api/Authentication/RequestClientApiToken",
    "partner": "api/Authentication/RequestPartnerApiToken",
    "mobile": "api/Authentication/RequestMoblieCabinetApiToken",
}
DENIED = "Access denied"


class TradeType(int, Enum):
    """The vendor's trade types."""

    BUY = 1
    SELL = 2


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return datetime.fromtimestamp(int(value), timezone.utc).replace(tzinfo=None)
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo else when


@dataclass
class Balance:
    """RequestBalanceInformation."""

    login: int
    balance: Decimal
    equity: Decimal
    margin: Decimal
    free_margin: Decimal
    credit: Decimal
    currency: str
    leverage: int


@dataclass
class OpenTrade:
    """One open trade."""

    ticket: int
    open_time: datetime
    symbol: str
    type: TradeType
    volume: Decimal
    open_price: Decimal
    current_price: Decimal
    sl: Decimal
    tp: Decimal
    swap: Decimal
    commission: Decimal
    profit: Decimal
    comment: str


@dataclass
class ClosedTrade:
    """One closed trade."""

    ticket: int
    open_time: datetime
    symbol: str
    type: TradeType
    volume: Decimal
    open_price: Decimal
    sl: Decimal
    tp: Decimal
    swap: Decimal
    commission: Decimal
    profit: Decimal
    comment: str
    close_time: datetime
    close_price: Decimal


@dataclass
class ClosedLots:
    """RequestClosedLots."""

    login: int
    start: datetime
    end: datetime
    lots: Decimal
    trades_count: int


@dataclass
class Bonus:
    """One bonus."""

    date: datetime
    bonus_type: str
    percent: Decimal
    amount: Decimal
    status: str


@dataclass
class LoginEvent:
    """One authorisation."""

    time: datetime
    ip: str
    source: str


@dataclass
class AccountSummary:
    """RequestAccountSummary."""

    login: int
    name: str
    group: str
    currency: str
    leverage: int
    balance: Decimal
    equity: Decimal
    credit: Decimal
    registration_date: datetime
    total_deposit: Decimal
    total_withdrawal: Decimal


@dataclass
class Commission:
    """One partner commission."""

    login: int
    date: datetime
    ticket: int
    symbol: str
    volume: Decimal
    amount: Decimal


@dataclass
class ClickStatistics:
    """Clicks and referral accounts of a period."""

    period: str
    clicks: int
    referral_accounts: list[int]


@dataclass
class Signal:
    """An analytic signal."""

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


_WIRE_NAMES = {"start": "From", "end": "To", "referral_accounts": "ReferalAccounts", "sl": "SL", "tp": "TP", "id": "Id"}
_TIMES = {"open_time", "close_time", "start", "end", "date", "time", "registration_date", "actual_time"}


R = TypeVar("R")  # a record: Balance, Trade, ...


def _build(cls: type[R], item: Any) -> R:
    if not isinstance(item, dict):
        raise ApiError(200, f"expected an object for {cls.__name__}, got {type(item).__name__}")
    lowered = {str(k).lower(): v for k, v in item.items()}  # read keys whatever their case
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]  # cls is one of the dataclasses below
        wire = _WIRE_NAMES.get(f.name) or "".join(p.capitalize() for p in f.name.split("_"))
        value: Any = lowered.get(wire.lower())
        if f.name in _TIMES:
            value = _time(value)
        elif f.name == "type":
            value = TradeType(int(value))
        elif f.name == "referral_accounts":
            value = [int(a) for a in value or []]
        values[f.name] = value
    return cls(**values)


def _when(value: datetime | date | int | str | None) -> str | None:
    """A range bound as the API takes it: Unix seconds for datetimes, YYYY-MM-DD for dates."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return str(int(aware.timestamp()))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _range(start: datetime | date | int | str | None, end: datetime | date | int | str | None) -> dict[str, str | None]:
    """The `from`/`to` query of the ranged routes."""
    return {"from": _when(start), "to": _when(end)}


class InstaForexClient:
    """The Client Cabinet API for one login; the token is requested and renewed as needed."""

    def __init__(self, base_url: str = "https://client-api.instaforex.com/", login: int | str = 0, password: str = "",
                 kind: Kind = "client", timeout: float = 10, retries: int = 3, backoff: float = 0.2,
                 token_ttl: float = 5400, session: requests.Session | None = None) -> None:  # fmt: skip
        if kind not in TOKEN_ROUTES:
            raise ValueError(f"kind must be client, partner or mobile, not {kind!r}")
        try:
            self.login = int(str(login).strip())
        except ValueError:
            raise ValueError(f"login must be a number, not {login!r}") from None
        if self.login <= 0:
            raise ValueError(f"login must be a positive number, not {login!r}")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.kind, self.timeout, self.retries, self.backoff, self.token_ttl = kind, timeout, retries, backoff, token_ttl
        self._password = password
        self._token: str | None = None
        self._token_at = 0.0
        self._lock = threading.Lock()
        self.session = session or requests.Session()

    def __repr__(self) -> str:  # never shows the password or the token
        return f"InstaForexClient({self.base_url!r}, login={self.login}, kind={self.kind!r})"

    # ------------------------------------------------------------------ plumbing

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise TransportError(f"{method} {path}: no answer within {self.timeout} s") from exc
        except requests.RequestException as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}") from exc

    @staticmethod
    def _body(response: requests.Response) -> Any:
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise ApiError(response.status_code, f"the answer is not JSON: {response.text[:80]!r}") from None

    def _check(self, response: requests.Response) -> Any:
        body = self._body(response) if response.content else None
        if body == DENIED:  # 403, or 200 on services that answer denials that way
            raise AccessDenied(DENIED)
        if response.status_code >= 400:
            message = body.get("Message", "") if isinstance(body, dict) else str(body)
            raise ApiError(response.status_code, message)
        return body

    def _request_token(self) -> str:
        def once() -> str:
            r = self._send("POST", TOKEN_ROUTES[self.kind], json={"Login": self.login, "Password": self._password})
            token = self._check(r)
            if not isinstance(token, str) or not token:
                raise ApiError(r.status_code, "the token answer is not a JSON string")
            return token

        # No retries of its own: it runs inside a data call, whose retries cover it.
        return _retry.call(f"instaforex.{self.kind}_token", once, 0, self.backoff)

    def _token_value(self, renew: bool) -> str:
        with self._lock:
            stale = self._token is None or time.monotonic() - self._token_at >= self.token_ttl
            if renew or stale:
                self._token, self._token_at = self._request_token(), time.monotonic()
            assert self._token is not None
            return self._token

    def _get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}

        def once() -> Any:
            token = self._token_value(renew=False)
            try:
                return self._check(self._send("GET", path, params=query, headers={"passkey": token}))
            except AccessDenied:
                # Expired or revoked: renew once and try again; a second refusal is final.
                log.info("instaforex.%s: token refused, renewing once", operation)
                token = self._token_value(renew=True)
                return self._check(self._send("GET", path, params=query, headers={"passkey": token}))

        return _retry.call(f"instaforex.{operation}", once, self.retries, self.backoff)

    def _list(self, cls: type[Any], operation: str, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        body = self._get(operation, path, params)
        if not isinstance(body, list):
            raise ApiError(200, f"{operation}: expected a list, got {type(body).__name__}")
        return [_build(cls, item) for item in body]

    # ------------------------------------------------------------------ client methods

    def balance(self) -> Balance:
        """Balance, equity, margin."""
        return _build(Balance, self._get("balance", f"client/RequestBalanceInformation/{self.login}"))

    def open_trades(self) -> list[OpenTrade]:
        """Open trades, by open time."""
        return self._list(OpenTrade, "open_trades", f"client/RequestOpenTrades/{self.login}")

    def closed_trades(
        self, start: datetime | date | int | str | None = None, end: datetime | date | int | str | None = None
    ) -> list[ClosedTrade]:
        """Trades closed in [start, end] (default: the last 30 days)."""
        return self._list(
            ClosedTrade,
            "closed_trades",
            f"client/RequestClosedTrades/{self.login}",
            _range(start, end),
        )

    def closed_lots(
        self, start: datetime | date | int | str | None = None, end: datetime | date | int | str | None = None
    ) -> ClosedLots:
        """Lots closed in [start, end]."""
        return _build(
            ClosedLots,
            self._get("closed_lots", f"client/RequestClosedLots/{self.login}", _range(start, end)),
        )

    def bonus_statistics(self) -> list[Bonus]:
        """Bonuses."""
        return self._list(Bonus, "bonus_statistics", f"client/RequestBonusStatistics/{self.login}")

    def login_history(
        self, start: datetime | date | int | str | None = None, end: datetime | date | int | str | None = None
    ) -> list[LoginEvent]:
        """Authorisations in [start, end]."""
        return self._list(
            LoginEvent,
            "login_history",
            f"client/RequestLoginHistory/{self.login}",
            _range(start, end),
        )

    def account_summary(self) -> AccountSummary:
        """Account summary."""
        return _build(AccountSummary, self._get("account_summary", f"client/RequestAccountSummary/{self.login}"))

    # ------------------------------------------------------------------ partner and mobile

    def check_referral(self, client_login: int) -> bool:
        """Whether `client_login` is this partner's referral."""
        body = self._get("check_referral", f"partner/CheckReferral/{self.login}/{int(client_login)}")
        if not isinstance(body, bool):
            raise ApiError(200, f"check_referral: expected true or false, got {body!r}")
        return body

    def commission_records(
        self, start: datetime | date | int | str | None = None, end: datetime | date | int | str | None = None
    ) -> list[Commission]:
        """Commissions in [start, end]."""
        return self._list(
            Commission,
            "commission_records",
            f"partner/GetCommissionRecords/{self.login}",
            _range(start, end),
        )

    def click_statistics(self) -> list[ClickStatistics]:
        """Clicks and referral accounts per period."""
        return self._list(ClickStatistics, "click_statistics", f"partner/GetClickStatistics/{self.login}")

    def analytic_signals(self, pairs: list[str] | str | None = None, start: datetime | date | int | str | None = None,
                         end: datetime | date | int | str | None = None, trading_system: int = 3) -> list[Signal]:  # fmt: skip
        """Analytic signals of a trading system for some pairs in [start, end]."""
        joined = ",".join(pairs) if isinstance(pairs, (list, tuple)) else pairs
        params = {"tradingsystem": trading_system, "pairs": joined, **_range(start, end)}
        return self._list(Signal, "analytic_signals", f"clientmobile/GetAnalyticSignals/{self.login}", params)
