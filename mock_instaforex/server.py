"""`InstaForexMock`: the emulator on a port, in a background thread, with its control operations."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mock_common.clock import Clock, ClockMode
from mock_common.handle import MockServer
from mock_common.journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, Journal
from mock_common.persist import StateFileError

from .control import Controller
from .data import ACCOUNTS
from .jsonio import dumps
from .persist import InstaForexState, open_state, restore
from .service import Service
from .store import Account, Bonus, Store, Trade
from .tokens import DEFAULT_TTL, TokenStore
from .wire import InstaForexHttp, Settings, create_app

log = logging.getLogger(__name__)


def demo_path() -> Path:
    """The demo accounts file shipped with the package (the built-in `demo`)."""
    return ACCOUNTS.path("demo")


def _error_body(code: int, text: str) -> tuple[str, bytes]:
    """What the server itself refuses (malformed framing, 503), in the API's {"Message": ...} shape."""
    return "application/json; charset=utf-8", dumps({"Message": text}).encode()


class InstaForexMock(MockServer):
    """An InstaForex Client Cabinet API emulator serving on host:port (0 = a free port).

    `accounts`: a YAML/JSON file, fixture data (dict), or None for the demo accounts; with
    `generate=N`, a seeded store of N accounts instead. `speed` (virtual clock only): virtual
    seconds per wall-clock second, the clock running by itself. With `state=FILE` the whole state
    (accounts, trades, tokens, clock and its speed) lives in that SQLite file, saved before each
    reply and restored on the next start, which then needs only `state`. The lifecycle, the journal
    assertions and the common control operations (reset, advance, fail, clear_faults, snapshot,
    restore, state) are `MockServer`'s; the rest are the InstaForex ones.
    """

    title = "InstaForex emulator"
    controller: Controller

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        accounts: str | Path | dict[str, Any] | None = None,
        clock: ClockMode | None = None,
        token_ttl: float = DEFAULT_TTL,
        deny_status: int = 403,
        trusted_proxies: Iterable[str] = (),
        token_seed: int | None = None,
        generate: int | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
        threads: int = 16,
        speed: float | None = None,
        state: str | Path | None = None,
    ) -> None:
        source: Any = self._source(seed, accounts, generate)
        saved = None
        if state is not None:
            file, clock, speed, saved = open_state(state, clock, speed)
            if saved is not None and (accounts is not None or generate):
                file.close()
                raise StateFileError(
                    f"state file {str(state)!r} already holds its accounts: start with the state file alone"
                )
        try:
            self.clock = Clock(clock or "virtual", speed=speed)
            tokens = TokenStore(token_ttl, token_seed)
            self.service = Service(Store(), self.clock, tokens)
            self.controller = Controller(self.service, Journal(journal_size, journal_bytes), seed, source)
            if saved is not None:
                restore(self.controller, saved, file.version)
            else:
                self.controller.reset()
            if state is not None:
                self._keep_state(file, InstaForexState(self.controller))
            self.arguments: dict[str, Any] = {
                "seed": seed, "accounts": accounts, "clock": self.clock.mode, "token_ttl": token_ttl,
                "token_seed": token_seed, "generate": generate,
            }  # fmt: skip
            self.settings = Settings(deny_status, trusted_proxies)
            self.app = create_app(self.service, self.settings)
            #: The whole emulator as one WSGI application: what the server runs, and the in-process route.
            self.http = InstaForexHttp(self.app, self.controller)
            self._serve(self.http, host, port, threads, "mock-instaforex", _error_body)
        except BaseException:
            if state is not None:
                self._drop_state(file)
            raise

    @staticmethod
    def _source(seed: int, accounts: str | Path | dict[str, Any] | None, generate: int | None) -> Any:
        if generate:
            return ("generate", seed, generate)
        return demo_path() if accounts is None else ACCOUNTS.resolve(accounts)

    def configure(
        self,
        seed: int = 0,
        accounts: str | Path | dict[str, Any] | None = None,
        clock: ClockMode = "virtual",
        token_ttl: float = DEFAULT_TTL,
        token_seed: int | None = None,
        generate: int | None = None,
    ) -> None:
        """Become what `InstaForexMock(...)` with these arguments on this address would be (fault
        and token draws, journal included); reset() goes back to that from now on."""
        new_clock, tokens = Clock(clock), TokenStore(token_ttl, token_seed)  # bad values raise here
        self.controller.configure(self._source(seed, accounts, generate), seed, new_clock, tokens)
        self.clock = new_clock
        self.arguments = {
            "seed": seed, "accounts": accounts, "clock": clock, "token_ttl": token_ttl, "token_seed": token_seed,
            "generate": generate,
        }  # fmt: skip

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, as the vendor's samples build URLs."""
        return f"{self.base_url}/"

    @property
    def store(self) -> Store:
        """The account store."""
        return self.service.store

    # ------------------------------------------------------------------ control operations

    def load_accounts(self, source: str | Path | dict[str, Any]) -> None:
        """Replace the store (reset() goes back to the constructor's accounts)."""
        self.controller.load_accounts(source)

    def add_account(self, data: dict[str, Any] | None = None, **fields: Any) -> Account:
        """Add (or replace) an account: fixture keys (login, level, api_password, balance, ...)."""
        return self.controller.add_account({**(data or {}), **fields})

    def change_account(self, login: int, **changes: Any) -> Account:
        """Change fields of an account."""
        return self.controller.change_account(login, changes)

    def add_trade(self, login: int, **trade: Any) -> Trade:
        """Add an open trade (or a closed one, with close_time and close_price)."""
        return self.controller.add_trade(login, trade)

    def close_trade(self, login: int, ticket: int, price: Any, profit: Any) -> Trade:
        """Close an open trade now; its profit goes to the balance."""
        return self.controller.close_trade(login, ticket, price, profit)

    def add_bonus(self, login: int, **bonus: Any) -> Bonus:
        """Add a bonus."""
        return self.controller.add_bonus(login, bonus)

    def add_referral(self, partner: int, client: int) -> None:
        """Make a client a partner's referral."""
        self.controller.add_referral(partner, client)

    def revoke_tokens(self, login: int | None = None) -> int:
        """Forget the tokens of a login (or all)."""
        return self.controller.revoke_tokens(login)

    def expire_tokens(self, login: int | None = None) -> int:
        """Expire the tokens of a login (or all) now."""
        return self.controller.expire_tokens(login)
