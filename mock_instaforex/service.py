"""The Client Cabinet API over the store: tokens, access checks and the data methods.

No Flask here: methods take plain values (the caller's IP, the passkey text, query strings) and
return JSON-ready values with PascalCase keys (money as Decimal), or raise BadRequestError /
AccessDeniedError. A refused request changes nothing, except that every token request,
accepted or refused, adds a login-history entry (contract §5).
"""

from __future__ import annotations

import hmac
import logging
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from mock_common.clock import Clock
from mock_common.values import parse_datetime

from .errors import AccessDeniedError, BadRequestError
from .formats import MAX_LOGIN, is_date_text, is_login_text, is_trading_system_text
from .store import Account, Partner, Store, Trade
from .tokens import TokenStore

log = logging.getLogger(__name__)

DEFAULT_RANGE = timedelta(days=30)
SOURCES = {"client": "ClientApi", "partner": "PartnerApi", "mobile": "MobileApi"}
_FRACTION = re.compile(r"\.[0-9]{1,6}")  # the fraction of seconds in a date the grammar accepted


def fmt_time(when: datetime) -> str:
    """`YYYY-MM-DDThh:mm:ss` (UTC, no offset)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _clip(text: str) -> str:
    """`text` quoted for an error message, cut when long (a refused value is not echoed whole)."""
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}... ({len(text)} characters)"


def parse_login(value: Any, field: str = "Login", padded: bool = True) -> int:
    """A login from JSON (an integer, or a string of ASCII digits) or from a path segment (`padded=False`).

    Only canonical ASCII decimal within 1..2147483647 is a login: superscript, Arabic-Indic or
    fullwidth digits, signs, leading zeros, fractions and oversized numbers are refused.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 < value <= MAX_LOGIN:
            return value
        shown = repr(value) if value.bit_length() <= 64 else f"a number of {value.bit_length()} bits"
        raise BadRequestError(f"The field '{field}' must be a login between 1 and {MAX_LOGIN}, not {shown}.")
    if isinstance(value, str) and is_login_text(value, padded):
        return int(value.strip(" \t\r\n"))
    shown = _clip(value) if isinstance(value, str) else repr(value)
    raise BadRequestError(
        f"The field '{field}' must be a numeric login, not {shown}: ASCII digits for 1 to {MAX_LOGIN}."
    )


def parse_date(value: str, field: str, end: bool) -> datetime:
    """Unix seconds, YYYY-MM-DD (a whole day; `to` is inclusive) or ISO-8601 date and time (formats.py)."""
    if not is_date_text(value):
        raise BadRequestError(
            f"The value {_clip(value)} of '{field}' is not a date in range: use Unix seconds, YYYY-MM-DD or "
            "YYYY-MM-DDThh:mm:ss[Z|±hh:mm], years 1970 to 9999."
        )
    if value.isdigit():
        return datetime(1970, 1, 1) + timedelta(seconds=int(value))
    if len(value) == 10:
        day = datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]))
        return day + timedelta(days=1, seconds=-1) if end else day
    # Python 3.10 reads fractions of 3 or 6 digits only; the grammar allows 1 to 6.
    return parse_datetime(_FRACTION.sub(lambda m: m.group(0).ljust(7, "0"), value), unix=False)


class Service:
    """The API's behaviour: one per emulator instance."""

    def __init__(self, store: Store, clock: Clock, tokens: TokenStore) -> None:
        self.store = store
        self.clock = clock
        self.tokens = tokens

    def now(self) -> datetime:
        """The emulator's time, whole seconds."""
        return self.clock.now().replace(microsecond=0)

    # ------------------------------------------------------------------ tokens and access

    def request_token(self, kind: str, body: Any, ip: str) -> str:
        """Issue a token of `kind` for the body's Login/Password, or raise AccessDeniedError."""
        if not isinstance(body, dict):
            raise BadRequestError("The request body must be a JSON object with Login and Password.")
        fields = {str(k).lower(): v for k, v in body.items()}
        if "login" not in fields:
            raise BadRequestError("The field 'Login' is required.")
        login = parse_login(fields["login"])
        if "password" not in fields or fields["password"] is None:
            raise BadRequestError("The field 'Password' is required.")
        password = fields["password"]
        if isinstance(password, bool) or not isinstance(password, (str, int)):
            raise BadRequestError(f"The field 'Password' must be a string, not {type(password).__name__}.")
        password = str(password)
        now = self.now()
        with self.store.lock:
            who = self._eligible(kind, login)
            self.store.record_login(login, ip, SOURCES[kind], now)
            refusal = self._unknown(kind, login) if who is None else self._refusal(who, password, ip)
            if refusal is not None:
                log.info("%s token refused for login %s from %s: %s", kind, login, ip, refusal)
                raise AccessDeniedError(refusal)
            token = self.tokens.issue(login, kind, now)
        log.info("%s token issued for login %s from %s", kind, login, ip)
        return token.value

    def _eligible(self, kind: str, login: int) -> Account | Partner | None:
        if kind == "client":
            return self.store.accounts.get(login)
        if kind == "partner":
            return self.store.partners.get(login)
        return self.store.principal(login)

    def _unknown(self, kind: str, login: int) -> str:
        """Why `login` gets no token of `kind` (it is not an account of that kind)."""
        if kind == "client" and login in self.store.partners:
            return f"login {login} is a partner: a client token is for client accounts"
        if kind == "partner" and login in self.store.accounts:
            return f"login {login} is a client account: a partner token is for partners"
        return f"unknown login {login}"

    @staticmethod
    def _refusal(who: Account | Partner, password: str, ip: str) -> str | None:
        """Why `who` gets no token for this password from this address, or None: it does."""
        if who.level == "open":
            return None
        if who.level == "password":
            ok = hmac.compare_digest((who.api_password or "").encode(), password.encode())
            return None if ok else "wrong password"
        if not hmac.compare_digest((who.ip_password or "").encode(), password.encode()):
            if who.api_password and hmac.compare_digest(who.api_password.encode(), password.encode()):
                return "level too low: the account's level is ip, so it takes its IP password, not the API password"
            return "wrong password (the account's level is ip: its IP password)"
        mask = who.mask
        if mask is None or not mask.matches(ip):
            return f"IP {ip} outside the account's mask {who.ip_mask}"
        return None

    def authorize(self, kind: str, passkey: str | None, login: int, ip: str) -> Account | Partner:
        """The principal a data call may read, or AccessDeniedError (its `reason` says why)."""
        if not passkey:
            raise AccessDeniedError("no passkey header")
        value = passkey.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].strip()  # clients paste the raw token body, quotes included
        now = self.now()
        token = self.tokens.find(value, now, expired=True)
        if token is None:
            raise AccessDeniedError("unknown token (never issued, revoked, or expired and dropped)")
        if now >= token.expires:
            raise AccessDeniedError(f"token expired at {fmt_time(token.expires)}")
        if token.login != login:
            raise AccessDeniedError(f"token of another login ({token.login}), not of {login}")
        if token.kind != kind:
            raise AccessDeniedError(f"token of another kind: a {token.kind} token on a {kind} route")
        who = self._eligible(kind, login)
        if who is None:
            raise AccessDeniedError(f"login {login} is no longer a {kind} account of the store")
        if who.level == "ip" and (who.mask is None or not who.mask.matches(ip)):
            raise AccessDeniedError(f"IP {ip} outside the account's mask {who.ip_mask}")
        return who

    def date_range(self, start: str | None, end: str | None) -> tuple[datetime, datetime]:
        """`from`/`to` (inclusive); the last 30 days on the emulator's clock by default."""
        now = self.now()
        to = parse_date(end, "to", True) if end not in (None, "") else now
        frm = parse_date(start, "from", False) if start not in (None, "") else to - DEFAULT_RANGE
        # `from` after `to` is an empty range, not an error: the real service filters its rows by
        # both bounds (a reversed pair finds none), and the OpenAPI document cannot say otherwise.
        return frm, to

    # ------------------------------------------------------------------ client methods

    @staticmethod
    def _trade(t: Trade, closed: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Ticket": t.ticket, "OpenTime": fmt_time(t.open_time), "Symbol": t.symbol, "Type": t.type,
            "Volume": t.volume, "OpenPrice": t.open_price,
        }  # fmt: skip
        if not closed:
            out["CurrentPrice"] = t.current_price
        out.update(
            {
                "SL": t.sl,
                "TP": t.tp,
                "Swap": t.swap,
                "Commission": t.commission,
                "Profit": t.profit,
                "Comment": t.comment,
            }
        )
        if closed:
            assert t.close_time is not None
            out["CloseTime"], out["ClosePrice"] = fmt_time(t.close_time), t.close_price
        return out

    def balance(self, a: Account) -> dict[str, Any]:
        """RequestBalanceInformation."""
        with self.store.lock:
            return {
                "Login": a.login, "Balance": a.balance, "Equity": a.equity, "Margin": a.margin,
                "FreeMargin": a.free_margin, "Credit": a.credit, "Currency": a.currency, "Leverage": a.leverage,
            }  # fmt: skip

    def open_trades(self, a: Account) -> list[dict[str, Any]]:
        """RequestOpenTrades, by OpenTime."""
        with self.store.lock:
            return [self._trade(t, False) for t in a.open_trades]

    def _closed_in(self, a: Account, start: str | None, end: str | None) -> tuple[datetime, datetime, list[Trade]]:
        frm, to = self.date_range(start, end)
        return frm, to, [t for t in a.closed_trades if t.close_time is not None and frm <= t.close_time <= to]

    def closed_trades(self, a: Account, start: str | None, end: str | None) -> list[dict[str, Any]]:
        """RequestClosedTrades with CloseTime in the range, by CloseTime."""
        with self.store.lock:
            return [self._trade(t, True) for t in self._closed_in(a, start, end)[2]]

    def closed_lots(self, a: Account, start: str | None, end: str | None) -> dict[str, Any]:
        """RequestClosedLots: the volume and count of trades closed in the range."""
        with self.store.lock:
            frm, to, trades = self._closed_in(a, start, end)
            lots = sum((t.volume for t in trades), Decimal(0))
            return {
                "Login": a.login,
                "From": fmt_time(frm),
                "To": fmt_time(to),
                "Lots": lots,
                "TradesCount": len(trades),
            }

    def bonus_statistics(self, a: Account) -> list[dict[str, Any]]:
        """RequestBonusStatistics."""
        with self.store.lock:
            return [
                {
                    "Date": fmt_time(b.date),
                    "BonusType": b.bonus_type,
                    "Percent": b.percent,
                    "Amount": b.amount,
                    "Status": b.status,
                }
                for b in a.bonuses
            ]

    def login_history(self, a: Account, start: str | None, end: str | None) -> list[dict[str, Any]]:
        """RequestLoginHistory in the range, by time."""
        with self.store.lock:
            frm, to = self.date_range(start, end)
            return [
                {"Time": fmt_time(e.time), "Ip": e.ip, "Source": e.source}
                for e in a.login_history
                if frm <= e.time <= to
            ]

    def account_summary(self, a: Account) -> dict[str, Any]:
        """RequestAccountSummary (agrees with the balance information)."""
        with self.store.lock:
            return {
                "Login": a.login, "Name": a.name, "Group": a.group, "Currency": a.currency, "Leverage": a.leverage,
                "Balance": a.balance, "Equity": a.equity, "Credit": a.credit,
                "RegistrationDate": fmt_time(a.registration_date), "TotalDeposit": a.total_deposit,
                "TotalWithdrawal": a.total_withdrawal,
            }  # fmt: skip

    # ------------------------------------------------------------------ partner and mobile

    def check_referral(self, p: Partner, client: int) -> bool:
        """CheckReferral: is `client` among the partner's referrals."""
        with self.store.lock:
            return client in p.referrals

    def commission_records(self, p: Partner, start: str | None, end: str | None) -> list[dict[str, Any]]:
        """GetCommissionRecords in the range, by date."""
        with self.store.lock:
            frm, to = self.date_range(start, end)
            return [
                {
                    "Login": c.login,
                    "Date": fmt_time(c.date),
                    "Ticket": c.ticket,
                    "Symbol": c.symbol,
                    "Volume": c.volume,
                    "Amount": c.amount,
                }
                for c in p.commissions
                if frm <= c.date <= to
            ]

    def click_statistics(self, p: Partner) -> list[dict[str, Any]]:
        """GetClickStatistics: at least Today, Week and Month."""
        with self.store.lock:
            return [
                {"Period": k.period, "Clicks": k.clicks, "ReferalAccounts": list(k.referal_accounts)} for k in p.clicks
            ]

    def analytic_signals(
        self, system: str | None, pairs: str | None, start: str | None, end: str | None
    ) -> list[dict[str, Any]]:
        """GetAnalyticSignals filtered by trading system, pairs and time range, by ActualTime."""
        trading_system = None
        if system not in (None, ""):
            if not is_trading_system_text(str(system)):
                raise BadRequestError(f"The value {_clip(str(system))} of 'tradingsystem' is not a whole number.")
            trading_system = int(str(system))
        wanted = {p.strip().upper().replace("/", "") for p in (pairs or "").split(",") if p.strip()}
        with self.store.lock:
            frm, to = self.date_range(start, end)
            return [
                {
                    "Id": s.id,
                    "ActualTime": int(s.actual_time.replace(tzinfo=timezone.utc).timestamp()),
                    "Comment": s.comment,
                    "Pair": s.pair,
                    "Cmd": s.cmd,
                    "TradingSystem": s.trading_system,
                    "Period": s.period,
                    "Price": s.price,
                    "Sl": s.sl,
                    "Tp": s.tp,
                }  # fmt: skip
                for s in self.store.signals
                if frm <= s.actual_time <= to
                and (trading_system is None or s.trading_system == trading_system)
                and (not wanted or s.pair in wanted)
            ]
