"""The control plane: test and offline operations (not the real API), as Python and as /_mock/."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import NotFound

from mock_common import dashboard
from mock_common.clock import Clock
from mock_common.faults import FaultPlan, FaultRule
from mock_common.files import read_data_file, without_content
from mock_common.guard import WRITES, control_refusal
from mock_common.journal import Journal

from .errors import StoreError
from .generate import generate_data
from .openapi import ROUTE_NAMES
from .service import Service, parse_login
from .store import Account, Bonus, Store, Trade, load_store
from .tokens import TokenStore

F = TypeVar("F", bound=Callable[..., Any])


def _changes(method: F) -> F:
    """A state-changing operation: the state is saved (`on_change`) before it returns."""

    @functools.wraps(method)
    def wrapper(self: Controller, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.on_change()

    return wrapper  # type: ignore[return-value]


class Controller:
    """Control operations over one service, its fault plan and its journal."""

    def __init__(self, service: Service, journal: Journal, faults: FaultPlan, source: Any) -> None:
        self.service = service
        self.journal = journal
        self.faults = faults
        # What reset() goes back to: the constructor's accounts (a file is read once, here), clock
        # and token draws, whatever was loaded since.
        self._source = source  # a path, fixture data, or ("generate", seed, n)
        self._initial = self._read(source)
        self._start = service.clock.now()
        self.on_change: Callable[[], None] = lambda: None  # the state file's commit, with --state

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

    @_changes
    def reset(self) -> None:
        """Back to what the constructor built: its accounts, clock start and token draws; faults
        and journal cleared, the fault draws started again from the seed."""
        clock = self.service.clock
        if clock.mode == "virtual":  # a real clock keeps real time
            clock.set(self._start)
        self.service.store = Store.from_data(self._initial, self.service.now())
        self.service.tokens.reset()
        self.faults.reset()
        self.journal.reset()

    def configure(self, source: Any, seed: int, clock: Clock, tokens: TokenStore) -> None:
        """Become what a new emulator with these accounts, clock, tokens and fault seed would be;
        reset() goes back to that from now on."""
        initial = self._read(source)  # a bad source raises before anything changes
        self._source, self._initial = source, initial
        self.service.clock, self.service.tokens = clock, tokens
        self._start = clock.now()
        self.faults = FaultPlan(seed, tuple(ROUTE_NAMES.values()))
        self.reset()

    @_changes
    def load_accounts(self, source: str | Path | dict[str, Any]) -> None:
        """Replace the store (a file path or fixture data); tokens are revoked. reset() goes back
        to the constructor's accounts."""
        store = self._load(source)
        self.service.store = store
        self.service.tokens.revoke()

    @_changes
    def advance(self, seconds: float) -> Any:
        """Move the clock forward (tokens expire on it)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, not {seconds!r}")
        return self.service.clock.advance(seconds)

    @_changes
    def add_account(self, data: dict[str, Any]) -> Account:
        """Add (or replace) an account."""
        return self.service.store.add_account(data, self.service.now())

    @_changes
    def change_account(self, login: int, changes: dict[str, Any]) -> Account:
        """Change fields of an account."""
        return self.service.store.change_account(login, changes, self.service.now())

    @_changes
    def add_trade(self, login: int, data: dict[str, Any]) -> Trade:
        """Add an open or closed trade."""
        return self.service.store.add_trade(login, data, self.service.now())

    @_changes
    def close_trade(self, login: int, ticket: int, price: Any, profit: Any) -> Trade:
        """Close an open trade now; its profit goes to the balance."""
        return self.service.store.close_trade(login, ticket, price, profit, self.service.now())

    @_changes
    def add_bonus(self, login: int, data: dict[str, Any]) -> Bonus:
        """Add a bonus."""
        return self.service.store.add_bonus(login, data, self.service.now())

    @_changes
    def add_referral(self, partner: int, client: int) -> None:
        """Make a client a partner's referral."""
        self.service.store.add_referral(partner, client)

    @_changes
    def revoke_tokens(self, login: int | None = None) -> int:
        """Forget tokens (of one login, or all)."""
        return self.service.tokens.revoke(login)

    @_changes
    def expire_tokens(self, login: int | None = None) -> int:
        """Expire tokens now (of one login, or all)."""
        return self.service.tokens.expire(login, self.service.now())

    def fail(
        self, route: str, kind: str = "fault", times: int | None = 1, probability: float | None = None, **params: Any
    ) -> FaultRule:
        """Queue a failure for a route (e.g. 'RequestOpenTrades', '*').

        kind: 'http' (status, message), 'delay' (seconds), 'drop' (connection reset) or
        'malformed' (a truncated JSON body with 200); 'fault' is an HTTP 500.
        """
        if kind == "fault":
            kind, params = "http", {"status": 500, "message": "An error has occurred.", **params}
        return self.faults.add(route, kind=kind, times=times, probability=probability, **params)

    def state(self) -> dict[str, Any]:
        """A short summary."""
        store = self.service.store
        return {
            "now": self.service.now().isoformat(),
            "clock": self.service.clock.mode,
            "accounts": len(store.accounts),
            "partners": len(store.partners),
            "signals": len(store.signals),
            "token_ttl": self.service.tokens.ttl,
            "routes": sorted(set(ROUTE_NAMES.values())),
            "journal": {"size": len(self.journal), "max": self.journal.maxlen, "total": self.journal.total},
        }


blueprint = Blueprint("control", __name__, url_prefix="/_mock")


@blueprint.before_request
def guard() -> Response | None:
    """Refuse what a web page could send (a form, a rebound Host); a body must be a JSON object."""
    from .app import json_response

    refused = control_refusal(request.environ)
    if refused is not None:
        return json_response({"error": refused[1]}, refused[0])
    if request.method in WRITES:
        _body()  # a malformed body is refused on every route, even one that reads nothing from it
    return None


def _c() -> Controller:
    return current_app.config["CONTROLLER"]  # type: ignore[no-any-return]


def _body() -> dict[str, Any]:
    if "control_body" in g:
        return g.control_body  # type: ignore[no-any-return]
    raw = request.get_data(cache=True)
    if not raw.strip():
        g.control_body = {}
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise StoreError("the body is not valid JSON") from None
    except RecursionError:
        raise StoreError("the body is nested too deeply to be read as JSON") from None
    if not isinstance(data, dict):
        raise StoreError("the body must be a JSON object")
    g.control_body = data
    return data


def _ok(data: Any = None) -> Response:
    from .app import json_response

    return json_response({"ok": True} if data is None else data)


def _num(body: dict[str, Any], key: str) -> int:
    try:
        return parse_login(body.get(key), key)
    except ValueError as exc:
        raise StoreError(str(exc)) from None


@blueprint.get("/")
@blueprint.get("/state")
def state() -> Response:
    return _ok(_c().state())


@blueprint.post("/reset")
def reset() -> Response:
    _c().reset()
    return _ok()


@blueprint.post("/advance")
def advance() -> Response:
    try:
        now = _c().advance(_body().get("seconds"))  # type: ignore[arg-type]
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    return _ok({"now": now.replace(microsecond=0).isoformat()})


@blueprint.post("/accounts")
def accounts() -> Response:
    body = _body()
    if "path" in body:
        path = str(body["path"])
        try:
            _c().load_accounts(path)
        except StoreError as exc:  # the file may be anything: say where, never what it holds
            raise StoreError(without_content("accounts file", path, str(exc))) from None
    elif isinstance(body.get("data"), dict):
        _c().load_accounts(body["data"])
    else:
        raise StoreError("accounts needs 'path' (an accounts file) or 'data' (its content)")
    return _ok(_c().state())


@blueprint.post("/account")
def account() -> Response:
    return _ok({"login": _c().add_account(_body()).login})


@blueprint.patch("/account/<int:login>")
def change_account(login: int) -> Response:
    return _ok({"login": _c().change_account(login, _body()).login})


@blueprint.post("/trade")
def trade() -> Response:
    body = _body()
    return _ok({"ticket": _c().add_trade(_num(body, "login"), body.get("trade") or {}).ticket})


@blueprint.post("/close")
def close() -> Response:
    body = _body()
    t = _c().close_trade(_num(body, "login"), _num(body, "ticket"), body.get("price"), body.get("profit"))
    return _ok({"ticket": t.ticket})


@blueprint.post("/bonus")
def bonus() -> Response:
    body = _body()
    _c().add_bonus(_num(body, "login"), body.get("bonus") or {})
    return _ok()


@blueprint.post("/referral")
def referral() -> Response:
    body = _body()
    _c().add_referral(_num(body, "partner"), _num(body, "client"))
    return _ok()


@blueprint.post("/tokens/revoke")
def revoke() -> Response:
    body = _body()
    return _ok({"revoked": _c().revoke_tokens(_num(body, "login") if "login" in body else None)})


@blueprint.post("/tokens/expire")
def expire() -> Response:
    body = _body()
    return _ok({"expired": _c().expire_tokens(_num(body, "login") if "login" in body else None)})


@blueprint.get("/faults")
def faults() -> Response:
    return _ok([r.to_dict() for r in _c().faults.rules()])


@blueprint.post("/faults")
def add_fault() -> Response:
    body = _body()
    params = {k: body[k] for k in ("status", "message", "seconds") if k in body}
    try:
        rule = _c().fail(str(body.get("route", "")), kind=body.get("kind", "fault"), times=body.get("times", 1),
                         probability=body.get("probability"), **params)  # fmt: skip
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    return _ok(rule.to_dict())


@blueprint.delete("/faults")
def clear_faults() -> Response:
    _c().faults.clear()
    return _ok()


@blueprint.get("/journal")
def journal() -> Response:
    return _ok([e.to_dict() for e in _c().journal.entries(request.args.get("route") or None)])


@blueprint.delete("/journal")
def clear_journal() -> Response:
    _c().journal.clear()
    return _ok()


@blueprint.get("/ui")
def ui_page() -> Response:
    """The dashboard page."""
    body, ctype = dashboard.page("instaforex")
    return Response(body, content_type=ctype, headers=dashboard.SECURITY_HEADERS)


@blueprint.get("/ui/data")
def ui_data() -> Response:
    """What the dashboard shows, as JSON."""
    from .dashboard import dashboard_data

    try:
        data = dashboard_data(_c(), dict(request.args))
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    response = _ok(data)
    response.headers.extend(dashboard.SECURITY_HEADERS)
    return response


@blueprint.get("/ui/<name>")
def ui_asset(name: str) -> Response:
    """A dashboard file (style sheet, script)."""
    found = dashboard.asset(name)
    if found is None:
        raise NotFound()
    return Response(found[0], content_type=found[1], headers=dashboard.SECURITY_HEADERS)
