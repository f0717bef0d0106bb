"""The InstaForex control plane: the common operations (mock_common.control) plus accounts,
trades, bonuses, referrals and tokens, each declared once as a Python method and a /_mock/ route."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any

from mock_common.clock import Clock
from mock_common.control import BODY, BaseController, Param, changes, obj, route, text
from mock_common.faults import FaultPlan
from mock_common.files import inline
from mock_common.journal import Journal
from mock_common.parts import Changes, resume_at

from .contract import OPERATIONS, fault_params
from .errors import StoreError
from .generate import generate_data
from .parts import EmulatorView, Tracker, describe, parts_from_snapshot_state, snapshot_state, source_from
from .service import Service, parse_login
from .store import Account, Bonus, Store, Trade, load_store, read_accounts
from .tokens import TokenStore


class DamagedStateError(StoreError):
    """Saved state (a snapshot, a state file) that lacks a part or has one of the wrong shape."""


def login(value: Any, name: str) -> int:
    """A login: an integer, or ASCII digits (in a path or a JSON string)."""
    try:
        return parse_login(value, name)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


def _login_of(controller: Any, account: Account) -> dict[str, int]:
    return {"login": account.login}


def _nothing(controller: Any, result: Any) -> None:
    return None


def _ticket_of(controller: Any, trade: Trade) -> dict[str, int]:
    return {"ticket": trade.ticket}


class Controller(BaseController):
    """Control operations over one service, its fault plan and its journal."""

    emulator = "instaforex"
    operations = OPERATIONS
    fault_kinds = ("fault", "http", "delay", "drop", "malformed")  # 'fault' is an HTTP 500
    errors = (StoreError,)

    def __init__(self, service: Service, journal: Journal, seed: int, source: Any) -> None:
        self.service = service
        super().__init__(journal, seed)
        # What reset() goes back to: the constructor's accounts (a file is read once, here), clock
        # and token draws, whatever was loaded since.
        self._source = source  # a path, fixture data, or ("generate", seed, n)
        self._initial = self._read(source)
        self._start = service.clock.now()

    def _read(self, source: Any, name: str = "inline accounts") -> Any:
        """The accounts `source` holds (a file, the built-in `demo`, content, or a generated store),
        checked whole: reset() builds its store from it with no more checks."""
        if isinstance(source, tuple) and source[0] == "generate":
            return generate_data(source[1], source[2])
        if isinstance(source, (str, Path)):
            return read_accounts(source, self.service.now())
        data = deepcopy(source)
        Store.from_data(data, self.service.now(), inline(name))
        return data

    def _load(self, source: Any, name: str = "inline accounts") -> Store:
        now = self.service.now()
        if isinstance(source, (str, Path)):
            return load_store(source, now)
        return Store.from_data(deepcopy(source), now, inline(name))

    # ------------------------------------------------------------------ the common operations

    def _reset_state(self) -> None:
        clock = self.service.clock
        if clock.mode == "virtual":  # a real clock keeps real time
            clock.set(self._start)
        self.service.store = Store.from_data(self._initial, self.service.now(), schema=False)
        self.service.tokens.reset()

    def _advance(self, seconds: float) -> datetime:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, not {seconds!r}")
        return self.service.clock.advance(seconds)

    def now(self) -> datetime:
        """The emulator's clock."""
        return self.service.now()

    def summary(self) -> dict[str, Any]:
        """Clock, counts and the token lifetime."""
        store = self.service.store
        return {
            "clock": self.service.clock.mode,
            "accounts": len(store.accounts),
            "partners": len(store.partners),
            "signals": len(store.signals),
            "token_ttl": self.service.tokens.ttl,
        }

    def snapshot(self) -> dict[str, Any]:
        """Accounts, partners, signals, live tokens and the clock, as JSON-ready data (what reset() goes back
        to is not part of it)."""
        with self.lock:
            state = snapshot_state(self.describe())
        return {"version": 1, "api": "instaforex", "state": state}

    def _restore(self, data: dict[str, Any]) -> None:
        if data.get("api") != "instaforex" or data.get("version") != 1 or not isinstance(data.get("state"), dict):
            raise StoreError(
                'a snapshot must be what GET /_mock/snapshot gave: {"version": 1, "api": "instaforex", "state": {...}}'
            )
        try:
            self.restore_parts(parts_from_snapshot_state(data["state"]), with_source=False)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(f"the snapshot cannot be restored: it is incomplete or damaged: {exc!r}") from None
        except StoreError as exc:
            raise StoreError(f"the snapshot cannot be restored: {exc}") from None

    # ------------------------------------------------------------------ keyed parts (snapshot, state file)

    def _view(self) -> EmulatorView:
        service = self.service
        return EmulatorView(service.store, service.tokens, service.clock, self._source, self._initial, self._start)

    def describe(self) -> dict[str, Any]:
        """The whole state as keyed parts (mock_common.parts): accounts, partners, signals, tokens, clock and
        what reset() goes back to; `restore_parts` takes them back."""
        view = self._view()
        with view.store.lock:
            return describe(view)

    def changes_since(self, tracker: Tracker, final: bool = False) -> Changes:
        """The parts changed since `tracker`'s last accepted changes (all of them for a new tracker)."""
        view = self._view()
        with view.store.lock:  # token requests change the store and the tokens under it: one cut
            return tracker.changes(view, final)

    def restore_parts(self, parts: dict[str, Any], with_source: bool = True) -> None:
        """Put the emulator in the state the parts describe: accounts, tokens (still valid), clock, and (with
        `with_source`) what reset() goes back to. StoreError names what is wrong; nothing changes then."""
        service = self.service
        try:
            clock = parts["clock"]
            now = resume_at(clock, service.clock.mode)  # a real clock: now, plus the offset it was advanced by
            store = Store.from_parts(parts, now)
            _, issued, rng = TokenStore.from_parts(parts)  # the lifetime is the emulator's setting
            if with_source:
                source = source_from(parts["source"])
                initial = self._read(source)
                start = datetime.fromisoformat(clock["start"])
        except StoreError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise DamagedStateError(f"{exc!r}") from None
        service.clock.set(now)
        service.store = store
        service.tokens.replace(issued, rng)
        if with_source:
            self._source, self._initial, self._start = source, initial, start

    def _fault_params(self, kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # 'fault' is the API's generic failure: an HTTP 500 with its usual message.
        return fault_params(kind, params)

    def configure(self, source: Any, seed: int, clock: Clock, tokens: TokenStore) -> None:
        """Become what a new emulator with these accounts, clock, tokens and fault seed would be;
        reset() goes back to that from now on."""
        initial = self._read(source)  # a bad source raises before anything changes
        with self.lock:
            self._source, self._initial = source, initial
            self.service.clock, self.service.tokens = clock, tokens
            self._start = clock.now()
            self.faults = FaultPlan(seed, self.operations, self.fault_kinds)
            self.reset()

    # ------------------------------------------------------------------ accounts

    @changes
    def load_accounts(self, source: str | Path | dict[str, Any], name: str = "inline accounts") -> None:
        """Replace the store (a file path, the built-in `demo`, or fixture data, which a refusal calls
        `name`); tokens are revoked. reset() goes back to the constructor's accounts."""
        store = self._load(source, name)
        self.service.store = store
        self.service.tokens.revoke()

    @route(
        "POST", "accounts", Param("path", text, required=False), Param("data", obj, required=False),
        reply=lambda c, result: c.state(),
    )  # fmt: skip
    def accounts(self, path: str | None = None, data: dict[str, Any] | None = None) -> None:
        """Replace the store with an accounts file (`path`) or its content (`data`); tokens are revoked."""
        if path is not None:
            try:
                self.load_accounts(path)
            except StoreError as exc:  # the file may be anything: say where and why, never what it holds
                raise exc.without_values() from None
        elif data is not None:
            self.load_accounts(data, "data")
        else:
            raise StoreError("accounts needs 'path' (an accounts file) or 'data' (its content)")

    @route("POST", "account", Param(BODY), reply=_login_of)
    @changes
    def add_account(self, data: dict[str, Any]) -> Account:
        """Add (or replace) an account."""
        return self.service.store.add_account(data, self.service.now())

    @route(
        "PATCH", "account/<login>", Param("login", login, source="path"), Param(BODY, arg="changes"), reply=_login_of
    )
    @changes
    def change_account(self, login: int, changes: dict[str, Any]) -> Account:
        """Change fields of an account."""
        return self.service.store.change_account(login, changes, self.service.now())

    # ------------------------------------------------------------------ trades, bonuses, referrals

    @route("POST", "trade", Param("login", login), Param("trade", obj, required=False, arg="data"), reply=_ticket_of)
    @changes
    def add_trade(self, login: int, data: dict[str, Any] | None = None) -> Trade:
        """Add an open or closed trade."""
        return self.service.store.add_trade(login, data or {}, self.service.now())

    @route(
        "POST", "close", Param("login", login), Param("ticket", login), Param("price", required=False),
        Param("profit", required=False), reply=_ticket_of,
    )  # fmt: skip
    @changes
    def close_trade(self, login: int, ticket: int, price: Any = None, profit: Any = None) -> Trade:
        """Close an open trade now; its profit goes to the balance."""
        return self.service.store.close_trade(login, ticket, price, profit, self.service.now())

    @route("POST", "bonus", Param("login", login), Param("bonus", obj, required=False, arg="data"), reply=_nothing)
    @changes
    def add_bonus(self, login: int, data: dict[str, Any] | None = None) -> Bonus:
        """Add a bonus."""
        return self.service.store.add_bonus(login, data or {}, self.service.now())

    @route("POST", "referral", Param("partner", login), Param("client", login))
    @changes
    def add_referral(self, partner: int, client: int) -> None:
        """Make a client a partner's referral."""
        self.service.store.add_referral(partner, client)

    # ------------------------------------------------------------------ tokens

    @route("POST", "tokens/revoke", Param("login", login, required=False), reply=lambda c, n: {"revoked": n})
    @changes
    def revoke_tokens(self, login: int | None = None) -> int:
        """Forget tokens (of one login, or all)."""
        return self.service.tokens.revoke(login)

    @route("POST", "tokens/expire", Param("login", login, required=False), reply=lambda c, n: {"expired": n})
    @changes
    def expire_tokens(self, login: int | None = None) -> int:
        """Expire tokens now (of one login, or all)."""
        return self.service.tokens.expire(login, self.service.now())
