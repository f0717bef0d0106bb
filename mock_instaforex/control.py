"""The InstaForex control plane: the common operations (mock_common.control) plus accounts,
trades, bonuses, referrals and tokens, each declared once as a Python method and a /_mock/ route."""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any

from mock_common.clock import Clock
from mock_common.control import BODY, BaseController, Param, changes, obj, route, text
from mock_common.faults import FaultPlan
from mock_common.files import read_data_file, without_content
from mock_common.journal import Journal

from .contract import OPERATIONS, fault_params
from .errors import StoreError
from .generate import generate_data
from .persist import restore_rows, state_rows
from .service import Service, parse_login
from .store import Account, Bonus, Store, Trade, load_store
from .tokens import TokenStore


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

    @staticmethod
    def _read(source: Any) -> Any:
        if isinstance(source, tuple) and source[0] == "generate":
            return generate_data(source[1], source[2])
        if isinstance(source, (str, Path)):
            return read_data_file(source, "accounts file", StoreError) or {}
        return deepcopy(source)

    def _load(self, source: Any) -> Store:
        now = self.service.now()
        if isinstance(source, (str, Path)):
            return load_store(source, now)
        return Store.from_data(self._read(source), now)

    # ------------------------------------------------------------------ the common operations

    def _reset_state(self) -> None:
        clock = self.service.clock
        if clock.mode == "virtual":  # a real clock keeps real time
            clock.set(self._start)
        self.service.store = Store.from_data(self._initial, self.service.now())
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
        """Accounts, partners, signals, live tokens and the clock, as JSON-ready data."""
        with self.lock:
            rows = state_rows(self)
        rows.pop("source", None)  # what reset() goes back to is not part of the state
        return {"version": 1, "api": "instaforex", "state": {k: json.loads(v) for k, v in rows.items()}}

    def _restore(self, data: dict[str, Any]) -> None:
        if data.get("api") != "instaforex" or data.get("version") != 1 or not isinstance(data.get("state"), dict):
            raise StoreError(
                'a snapshot must be what GET /_mock/snapshot gave: {"version": 1, "api": "instaforex", "state": {...}}'
            )
        try:
            restore_rows(self, data["state"], with_source=False)
        except StoreError as exc:
            raise StoreError(f"the snapshot cannot be restored: {exc}") from None

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
    def load_accounts(self, source: str | Path | dict[str, Any]) -> None:
        """Replace the store (a file path or fixture data); tokens are revoked. reset() goes back
        to the constructor's accounts."""
        store = self._load(source)
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
            except StoreError as exc:  # the file may be anything: say where, never what it holds
                raise StoreError(without_content("accounts file", path, str(exc))) from None
        elif data is not None:
            self.load_accounts(data)
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
