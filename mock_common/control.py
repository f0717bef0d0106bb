"""The control plane of both emulators, declared once: a base controller and one /_mock/ router.

Each control operation is a method of a controller, declared as a route where it is written
(`@route(method, path, Param(...)...)`): the router serving /_mock/ (`ControlApp`, plain WSGI),
the Python handle (`mock_common.handle.MockServer`) and the reference (`route_table`) all read from there.
`CallControl` holds the faults and the journal (all a replay server has); `BaseController` adds
what both emulators have (reset, state, advance, snapshot); each emulator's `Controller` extends it
with its own operations and routes. Every operation runs under the controller's lock; a
state-changing one (`@changes`) calls `on_change` (the state file's commit, with --state) before it
returns, so the reply follows the save.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs

from . import dashboard
from .faults import FaultPlan, FaultRule
from .guard import WRITES, control_refusal
from .journal import Journal, JournalEntry
from .peers import is_loopback
from .values import jsonable

log = logging.getLogger(__name__)

PREFIX = "/_mock"
MAX_CONTROL_BODY = 64 * 1024 * 1024  # whole scenarios, account stores and snapshots come this way
MAX_DELAY = 600.0  # seconds an injected delay may hold a request: enough for any client timeout
F = TypeVar("F", bound=Callable[..., Any])
StartResponse = Callable[..., Any]


# ------------------------------------------------------------------ parameter types


def text(value: Any, name: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{name}' must be a non-empty string, not {value!r}")
    return value


def number(value: Any, name: str) -> float:
    """A JSON number (not a boolean), as sent."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{name}' must be a number, not {value!r}")
    return value


def whole(value: Any, name: str) -> int:
    """A whole number >= 0, from JSON or from query text."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"'{name}' must be a whole number >= 0, not {value!r}")
    return value


def obj(value: Any, name: str) -> dict[str, Any]:
    """A JSON object."""
    if not isinstance(value, dict):
        raise ValueError(f"'{name}' must be a JSON object, not {value!r}")
    return value


def flag(value: Any, name: str) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValueError(f"'{name}' must be true or false, not {value!r}")
    return value


def anything(value: Any, name: str) -> Any:
    """Passed on as sent; the operation checks it."""
    return value


@dataclass(frozen=True)
class Param:
    """One parameter of a control route: where it comes from, its type, the argument it fills."""

    name: str
    kind: Callable[[Any, str], Any] = anything
    required: bool = True
    source: str = "body"  # body | query | path
    arg: str | None = None  # the operation's argument, when not `name`
    aliases: tuple[str, ...] = ()  # older names still accepted

    def read(self, body: Mapping[str, Any], query: Mapping[str, str], path: Mapping[str, str]) -> tuple[bool, Any]:
        """(found, value converted) from the request."""
        where = body if self.source == "body" else query if self.source == "query" else path
        for key in (self.name, *self.aliases):
            if key in where:
                return True, self.kind(where[key], self.name)
        if self.required:
            raise ValueError(f"'{self.name}' is required")
        return False, None


BODY = "*body*"  # Param name: the whole JSON body is the argument


@dataclass(frozen=True)
class Route:
    """A control route: METHOD /_mock/<path> calls the controller's `action` with `params`;
    `reply` shapes what it returns (None answers {"ok": true})."""

    method: str
    path: str
    action: str
    params: tuple[Param, ...] = ()
    reply: Callable[[Any, Any], Any] | None = None  # (controller, result) -> JSON-ready data
    doc: str = ""
    _segments: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The path parameters when `segments` is this route's path, else None."""
        mine = self._segments or tuple(s for s in self.path.split("/") if s)
        if len(mine) != len(segments):
            return None
        found: dict[str, str] = {}
        for want, got in zip(mine, segments, strict=True):
            if want.startswith("<") and want.endswith(">"):
                found[want[1:-1]] = got
            elif want != got:
                return None
        return found

    def arguments(self, body: dict[str, Any], query: dict[str, str], path: dict[str, str]) -> dict[str, Any]:
        """The operation's keyword arguments, converted; ValueError names a bad or missing one."""
        args: dict[str, Any] = {}
        for p in self.params:
            if p.name == BODY:
                args[p.arg or "data"] = body
                continue
            found, value = p.read(body, query, path)
            if found:
                args[p.arg or p.name] = value
        return args


def route(method: str, path: str, *params: Param, reply: Callable[[Any, Any], Any] | None = None) -> Callable[[F], F]:
    """Declare a controller method as the control route METHOD /_mock/<path> (stackable)."""

    def mark(function: F) -> F:
        declared = list(getattr(function, "control_routes", ()))
        doc = _summary(function)
        declared.append(Route(method.upper(), path.strip("/").lower(), function.__name__, params, reply, doc))
        function.control_routes = tuple(declared)  # type: ignore[attr-defined]
        return function

    return mark


def _summary(function: Callable[..., Any]) -> str:
    """A function's docstring summary: its first paragraph on one line (summaries wrap)."""
    return " ".join((function.__doc__ or "").strip().split("\n\n")[0].split())


def changes(method: F) -> F:
    """A state-changing operation: run under the lock; the state is saved (`on_change`) before it returns."""

    @functools.wraps(method)
    def wrapper(self: BaseController, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            try:
                return method(self, *args, **kwargs)
            finally:
                self.on_change()

    return wrapper  # type: ignore[return-value]


def reads(method: F) -> F:
    """An operation that changes no emulator state: run under the lock."""

    @functools.wraps(method)
    def wrapper(self: CallControl, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _now(controller: Any, result: datetime) -> dict[str, str]:
    return {"now": result.isoformat()}


# ------------------------------------------------------------------ the base controller


class CallControl:
    """The control operations of any server that journals calls and injects faults: /_mock/faults and
    /_mock/journal. The emulators' `BaseController` builds on it; a replay server has these alone.

    A subclass sets `operations` (the API's operation or route names, the fault targets), `fault_kinds`
    and `errors` (its exceptions that mean a bad request).
    """

    emulator = ""
    operations: tuple[str, ...] = ()
    fault_kinds: tuple[str, ...] = ("fault", "http", "delay", "drop")
    errors: tuple[type[Exception], ...] = ()

    def __init__(self, journal: Journal, seed: int) -> None:
        self.journal = journal
        self.faults = FaultPlan(seed, self.operations, self.fault_kinds)
        self.lock = threading.RLock()

    @classmethod
    def routes(cls) -> tuple[Route, ...]:
        """Every control route of this controller, the base class's first; a route declared on a
        method still serves when a subclass overrides the method (it calls the override)."""
        found: dict[tuple[str, str], Route] = {}
        for klass in reversed(cls.__mro__):
            for member in vars(klass).values():
                for declared in reversed(getattr(member, "control_routes", ())):  # decorators apply bottom-up
                    found[(declared.method, declared.path)] = declared
        return tuple(found.values())

    def _fault_params(self, kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A subclass may translate a fault kind (InstaForex's 'fault' is an HTTP 500)."""
        return kind, params

    @route(
        "POST", "faults", Param("operation", text, aliases=("route",)), Param("kind", required=False),
        Param("times", required=False), Param("probability", required=False), Param("status", required=False),
        Param("code", required=False), Param("message", required=False), Param("seconds", required=False),
        reply=lambda c, rule: rule.to_dict(),
    )  # fmt: skip
    @reads
    def fail(
        self, operation: str, kind: str = "fault", times: int | None = 1, probability: float | None = None,
        **params: Any,
    ) -> FaultRule:  # fmt: skip
        """Queue a failure for the next `times` calls to `operation` ('*' for all), or each call with
        `probability` (drawn from the seed); params: status, code, message, seconds."""
        if "seconds" in params:
            seconds = params["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_DELAY:
                raise ValueError(f"seconds must be a number from 0 to {MAX_DELAY:.0f}, not {seconds!r}")
        if "status" in params:
            try:
                params["status"] = int(params["status"])
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"status must be an HTTP status (100-599), not {params['status']!r}") from None
        kind, params = self._fault_params(kind, params)
        return self.faults.add(operation, kind=kind, times=times, probability=probability, **params)

    @route("GET", "faults")
    @reads
    def fault_rules(self) -> list[dict[str, Any]]:
        """The failures still queued."""
        return [r.to_dict() for r in self.faults.rules()]

    @route("DELETE", "faults")
    @reads
    def clear_faults(self) -> None:
        """Drop every queued failure."""
        self.faults.clear()

    @route(
        "GET", "journal", Param("operation", required=False, source="query", aliases=("route",)),
        Param("limit", whole, required=False, source="query"), reply=lambda c, es: [e.to_dict() for e in es],
    )  # fmt: skip
    @reads
    def journal_entries(self, operation: str | None = None, limit: int | None = None) -> list[JournalEntry]:
        """The journal's entries (only those of `operation`), the newest `limit` of them."""
        entries = self.journal.entries(operation or None)
        return entries if limit is None else entries[-limit:] if limit > 0 else []

    @route("DELETE", "journal")
    @reads
    def clear_journal(self) -> None:
        """Forget the journal's entries."""
        self.journal.clear()


class BaseController(CallControl):
    """Control operations both emulators have; each emulator's Controller adds its own.

    Besides what `CallControl` asks, a subclass implements `_reset_state`, `_advance`, `now`,
    `summary`, `snapshot` and `_restore`.
    """

    def __init__(self, journal: Journal, seed: int) -> None:
        super().__init__(journal, seed)
        self.on_change: Callable[[], None] = lambda: None  # the state file's commit, with --state

    # -------------------------------------------------------------- what a subclass provides

    def _reset_state(self) -> None:
        raise NotImplementedError

    def _advance(self, seconds: float) -> datetime:
        raise NotImplementedError

    def _restore(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def now(self) -> datetime:
        """The emulator's clock."""
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """The emulator's own part of `state()`."""
        raise NotImplementedError

    @route("GET", "snapshot")
    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-ready data."""
        raise NotImplementedError

    # -------------------------------------------------------------- the common operations

    @route("POST", "reset")
    @changes
    def reset(self) -> None:
        """Back to what the constructor built (fault draws included); faults and journal cleared."""
        self._reset_state()
        self.faults.reset()
        self.journal.reset()

    @route("GET", "state")
    @route("GET", "")
    @reads
    def state(self) -> dict[str, Any]:
        """A short summary: clock, counts, the API's operations, the journal's size."""
        return {
            "now": self.now().isoformat(),
            **self.summary(),
            "operations": list(self.operations),
            "journal": {"size": len(self.journal), "max": self.journal.maxlen, "total": self.journal.total},
        }

    @route("POST", "advance", Param("seconds", number), reply=_now)
    @changes
    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` (>= 0), playing what happens on the way."""
        return self._advance(seconds)

    @route("PUT", "snapshot", Param(BODY))
    @route("POST", "snapshot", Param(BODY))
    @changes
    def restore(self, data: dict[str, Any]) -> None:
        """Put the state back as a snapshot has it (what reset() goes back to does not change)."""
        if not isinstance(data, dict):
            raise ValueError(f"a snapshot must be a JSON object, not {type(data).__name__}")
        self._restore(data)


# ------------------------------------------------------------------ the router


def encode(data: Any) -> bytes:
    """Control replies as JSON: Decimal and dates as text."""

    def default(value: Any) -> Any:
        ready = jsonable(value)  # the one JSON-ready conversion (mock_common.values)
        return str(value) if ready is value else ready

    return json.dumps(data, default=default, ensure_ascii=False).encode()


def _json(start_response: StartResponse, code: int, data: Any, extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    body = encode(data)
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))), *extra]
    start_response(f"{code} {HTTPStatus(code).phrase}", headers)
    return [body]


class ControlApp:
    """The WSGI app serving /_mock/ for one controller: the guard, the routes, the dashboard.

    `dashboard_data(controller, query)` is what /_mock/ui/data shows (None: no dashboard). A request is refused before
    any route runs when it comes from another computer, names a Host that is not a loopback one,
    or writes without Content-Type application/json (mock_common/guard.py); a write's body must
    be a JSON object. Bad values answer 400 {"error": ...} naming the field, and change nothing.
    """

    def __init__(
        self, controller: CallControl, dashboard_data: Callable[[Any, dict[str, str]], Any] | None = None
    ) -> None:
        self.controller = controller
        self.routes = controller.routes()
        self._dashboard_data = dashboard_data

    @staticmethod
    def handles(path: str) -> bool:
        """Whether a request path belongs to the control plane."""
        return path == PREFIX or path.startswith(PREFIX + "/")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not is_loopback(environ.get("REMOTE_ADDR")):
            return _json(start_response, 403, {"error": "The control routes answer the local computer only."})
        refused = control_refusal(environ)  # a web page cannot drive or read the control plane
        if refused is not None:
            return _json(start_response, refused[0], {"error": refused[1]})
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", PREFIX)[len(PREFIX) :].strip("/").lower()
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if (path == "ui" or path.startswith("ui/")) and self._dashboard_data is not None:
            return self._ui(method, path[3:], query, self._dashboard_data, start_response)
        segments = [s for s in path.split("/") if s]
        matches = [(r, found) for r in self.routes if (found := r.match(segments)) is not None]
        chosen = next(((r, found) for r, found in matches if r.method == method), None)
        if chosen is None and method == "HEAD":
            chosen = next(((r, found) for r, found in matches if r.method == "GET"), None)
        if chosen is None:
            if matches:
                allowed = ", ".join(sorted({r.method for r, _ in matches}))
                return _json(
                    start_response, 405, {"error": f"{method} /_mock/{path} is not allowed; use {allowed}"},
                    [("Allow", allowed)],
                )  # fmt: skip
            known = sorted({f"{r.method} /_mock/{r.path}" for r in self.routes})
            return _json(start_response, 404, {"error": f"no control route /_mock/{path}", "routes": known})
        chosen_route, path_params = chosen
        try:
            body = self._body(environ) if method in WRITES else {}
            args = chosen_route.arguments(body, query, path_params)
            with self.controller.lock:
                result = getattr(self.controller, chosen_route.action)(**args)
            if chosen_route.reply is not None:
                result = chosen_route.reply(self.controller, result)
        except (ValueError, TypeError, OverflowError, *self.controller.errors) as exc:
            return _json(start_response, 400, {"error": str(exc)})
        return _json(start_response, 200, {"ok": True} if result is None else result)

    def _ui(
        self,
        method: str,
        name: str,
        query: dict[str, str],
        dashboard_data: Callable[[Any, dict[str, str]], Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """The dashboard: its page, its static files, and its data (GET only)."""
        if method not in ("GET", "HEAD"):
            return _json(start_response, 405, {"error": f"{method} /_mock/ui is not allowed"}, [("Allow", "GET")])
        if name == "data":
            try:
                with self.controller.lock:
                    data = dashboard_data(self.controller, query)
            except (ValueError, *self.controller.errors) as exc:
                return _json(start_response, 400, {"error": str(exc)})
            return _json(start_response, 200, data, dashboard.SECURITY_HEADERS)
        found = dashboard.page(self.controller.emulator) if name == "" else dashboard.asset(name)
        if found is None:
            return _json(start_response, 404, {"error": f"no dashboard file /_mock/ui/{name}"})
        content, ctype = found
        start_response(
            "200 OK", [("Content-Type", ctype), ("Content-Length", str(len(content))), *dashboard.SECURITY_HEADERS]
        )
        return [b"" if method == "HEAD" else content]

    @staticmethod
    def _body(environ: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ValueError("Content-Length is not a number") from None
        if length > MAX_CONTROL_BODY:
            raise ValueError(f"control request body of {length} bytes is over {MAX_CONTROL_BODY}")
        stream = environ["wsgi.input"]
        raw = stream.read(length) if length else stream.read(MAX_CONTROL_BODY + 1)
        if len(raw) > MAX_CONTROL_BODY:
            raise ValueError(f"control request body is over {MAX_CONTROL_BODY} bytes")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise ValueError("the body is nested too deeply to be read as JSON") from None
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


#: The name a reference gives each parameter type (an emulator's own types show their function's name).
TYPE_NAMES: dict[Callable[[Any, str], Any], str] = {
    text: "string", number: "number", whole: "integer", obj: "object", flag: "boolean", anything: "any",
}  # fmt: skip


def route_table(controller: type[BaseController]) -> list[dict[str, Any]]:
    """Each control route as a reference lists it: method, /_mock/ path, what it does (the method's
    docstring summary) and its parameters (name, source: body, query or path, type, whether required,
    what the type accepts, older names still accepted), as JSON-ready data in declaration order."""
    table = []
    for r in controller.routes():
        params = []
        for p in r.params:
            if p.name == BODY:
                params.append({"name": "(body)", "source": "body", "type": "object", "required": True,
                               "accepts": "the whole JSON body", "aliases": []})  # fmt: skip
                continue
            params.append({
                "name": p.name, "source": p.source, "type": TYPE_NAMES.get(p.kind, p.kind.__name__),
                "required": p.required, "accepts": _summary(p.kind), "aliases": list(p.aliases),
            })  # fmt: skip
        table.append({"method": r.method, "path": f"/_mock/{r.path}".rstrip("/"), "doc": r.doc, "params": params})
    return table
