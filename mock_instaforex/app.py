"""The wire: a Flask application factory, one blueprint per API family, errors by errorhandler.

Paths are matched case-insensitively and a trailing slash is ignored (ASP.NET routing does the
same): a small WSGI wrapper lower-cases PATH_INFO before Flask routes it, keeping the original
for the 404 message.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mock_common.peers import is_loopback, parse_ip, unmap
from mock_common.server import drop_connection

from .control import Controller
from .errors import AccessDeniedError, BadRequestError, StoreError
from .openapi import ROUTE_NAMES, build_openapi
from .service import Service, parse_login

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_CONTROL_BODY = 64 * 1024 * 1024
ORIGINAL_URI = "instaforex.original_uri"


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_number, ensure_ascii=False)  # made once: it keeps no state between calls


def dumps(data: Any) -> str:
    """JSON with Decimal written as a number (shortest form, as .NET writes decimals)."""
    return _ENCODER.encode(data)


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response with the API's content type."""
    return Response(dumps(data), status=status, content_type="application/json; charset=utf-8")


def message(text: str, status: int) -> Response:
    """The ASP.NET-style error body {"Message": ...}."""
    return json_response({"Message": text}, status)


class Settings:
    """Per-instance switches: the denial status and the trusted proxies."""

    def __init__(self, deny_status: int = 403, trusted_proxies: Iterable[str] = ()) -> None:
        if deny_status not in (200, 403):
            raise ValueError(f"deny_status must be 403 or 200, not {deny_status!r}")
        self.deny_status = deny_status
        try:
            self.trusted = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"trusted proxy must be an address or CIDR block: {exc}") from None


@lru_cache(maxsize=1024)  # every request asks, with the few peers a machine has
def _peer_ip(peer: str) -> str:
    addr = parse_ip(peer)
    return str(unmap(addr)) if addr else peer


def caller_ip(environ: dict[str, Any], settings: Settings) -> str:
    """The socket peer; X-Forwarded-For only when the peer is a trusted proxy."""
    peer = environ.get("REMOTE_ADDR", "")
    if not settings.trusted:
        return _peer_ip(peer)
    addr = parse_ip(peer)
    if (
        addr is None
        or not settings.trusted
        or not any(unmap(addr) in n for n in settings.trusted if unmap(addr).version == n.version)
    ):
        return str(unmap(addr)) if addr else peer
    hops = [h.strip() for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):  # the rightmost address our proxies did not add themselves
        hop_addr = parse_ip(hop)
        if hop_addr is None:
            break
        hop_addr = unmap(hop_addr)
        if not any(hop_addr in n for n in settings.trusted if hop_addr.version == n.version):
            return str(hop_addr)
    return str(unmap(addr))


def _body_text(req: Any = request) -> str:
    if req.environ.get("CONTENT_LENGTH", "") in ("", "0"):  # no body (what content_length says, sooner)
        return ""
    try:
        return req.get_data(cache=True, as_text=True) if req.content_length else ""  # type: ignore[no-any-return]
    except HTTPException:  # the body was refused (413): nothing to keep
        return ""


def _svc() -> Service:
    return current_app.config["SERVICE"]  # type: ignore[no-any-return]


def _deny() -> Response:
    return json_response("Access denied", current_app.config["SETTINGS"].deny_status)


# ------------------------------------------------------------------------------- blueprints

auth = Blueprint("auth", __name__, url_prefix="/api/authentication")
client = Blueprint("client", __name__, url_prefix="/client")
partner = Blueprint("partner", __name__, url_prefix="/partner")
mobile = Blueprint("mobile", __name__, url_prefix="/clientmobile")


def _token(kind: str) -> Response:
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("The request body is not valid JSON.") from None
    except RecursionError:
        raise BadRequestError("The request body is nested too deeply to be read as JSON.") from None
    if body is None:
        raise BadRequestError('The request body is empty: send {"Login": ..., "Password": ...}.')
    return json_response(_svc().request_token(kind, body, g.ip))


@auth.post("/requestclientapitoken")
def request_client_token() -> Response:
    """Token for the client methods."""
    return _token("client")


@auth.post("/requestpartnerapitoken")
def request_partner_token() -> Response:
    """Token for the partner methods."""
    return _token("partner")


@auth.post("/requestmobliecabinetapitoken")  # the vendor's spelling
def request_mobile_token() -> Response:
    """Token for the clientmobile methods."""
    return _token("mobile")


def _who(kind: str, login: str) -> Any:
    number = parse_login(login, "login", padded=False)
    return _svc().authorize(kind, request.headers.get("passkey"), number, g.ip)


def _arg(name: str) -> str | None:
    lowered = {k.lower(): v for k, v in request.args.items()}
    return lowered.get(name)


@client.get("/requestbalanceinformation/<login>")
def balance(login: str) -> Response:
    """Balance, equity and margin."""
    return json_response(_svc().balance(_who("client", login)))


@client.get("/requestopentrades/<login>")
def open_trades(login: str) -> Response:
    """Open trades."""
    return json_response(_svc().open_trades(_who("client", login)))


@client.get("/requestclosedtrades/<login>")
def closed_trades(login: str) -> Response:
    """Closed trades in a range."""
    who = _who("client", login)
    return json_response(_svc().closed_trades(who, _arg("from"), _arg("to")))


@client.get("/requestclosedlots/<login>")
def closed_lots(login: str) -> Response:
    """Lots closed in a range."""
    who = _who("client", login)
    return json_response(_svc().closed_lots(who, _arg("from"), _arg("to")))


@client.get("/requestbonusstatistics/<login>")
def bonus_statistics(login: str) -> Response:
    """Bonuses."""
    return json_response(_svc().bonus_statistics(_who("client", login)))


@client.get("/requestloginhistory/<login>")
def login_history(login: str) -> Response:
    """Authorisations in a range."""
    who = _who("client", login)
    return json_response(_svc().login_history(who, _arg("from"), _arg("to")))


@client.get("/requestaccountsummary/<login>")
def account_summary(login: str) -> Response:
    """Account summary."""
    return json_response(_svc().account_summary(_who("client", login)))


@partner.get("/checkreferral/<partner_login>/<client_login>")
def check_referral(partner_login: str, client_login: str) -> Response:
    """Whether a client is the partner's referral."""
    who = _who("partner", partner_login)
    return json_response(_svc().check_referral(who, parse_login(client_login, "client", padded=False)))


@partner.get("/getcommissionrecords/<login>")
def commission_records(login: str) -> Response:
    """Commissions in a range."""
    who = _who("partner", login)
    return json_response(_svc().commission_records(who, _arg("from"), _arg("to")))


@partner.get("/getclickstatistics/<login>")
def click_statistics(login: str) -> Response:
    """Clicks and referral accounts per period."""
    return json_response(_svc().click_statistics(_who("partner", login)))


@mobile.get("/getanalyticsignals/<login>")
def analytic_signals(login: str) -> Response:
    """Analytic signals."""
    _who("mobile", login)
    return json_response(_svc().analytic_signals(_arg("tradingsystem"), _arg("pairs"), _arg("from"), _arg("to")))


# ------------------------------------------------------------------------------- the factory


def create_app(service: Service, controller: Controller, settings: Settings | None = None) -> Flask:
    """The Flask application of one emulator instance."""
    app = Flask(__name__)
    app.config.update(
        SERVICE=service, CONTROLLER=controller, SETTINGS=settings or Settings(), MAX_CONTENT_LENGTH=MAX_BODY
    )
    app.url_map.strict_slashes = False
    for bp in (auth, client, partner, mobile):
        app.register_blueprint(bp)
    from .control import blueprint as control_bp

    app.register_blueprint(control_bp)
    spec = build_openapi(app.config["SETTINGS"].deny_status)

    @app.get("/openapi.json")
    def openapi() -> Response:
        return json_response(spec)

    settings_ = app.config["SETTINGS"]
    journal = controller.journal

    # The two hooks run on every call: each reads Flask's request and g once (a proxy lookup per access).
    @app.before_request
    def before() -> Response | None:
        req, state = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
        state.started = time.monotonic()
        state.ip = caller_ip(req.environ, settings_)
        route = state.route = ROUTE_NAMES.get(req.endpoint or "", None)
        if req.path.startswith("/_mock"):
            if not is_loopback(req.environ.get("REMOTE_ADDR")):
                return message("The control routes answer the local computer only.", 403)
            req.max_content_length = MAX_CONTROL_BODY  # whole account stores come this way
            return None
        rule = controller.faults.take(route) if route else None
        if rule is None:
            return None
        state.injected = rule.kind
        if rule.kind == "delay":
            time.sleep(rule.seconds)
            return None
        if rule.kind == "drop":
            drop_connection(req.environ)
            return Response(b"", status=500, headers={"Connection": "close"})
        if rule.kind == "malformed":
            return Response(b'{"Message": "trunc', status=200, content_type="application/json; charset=utf-8")
        return message(rule.message, rule.status)

    @app.after_request
    def after(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        path = req.path
        if not path.startswith("/_mock") and path != "/openapi.json":
            state, environ = g._get_current_object(), req.environ  # type: ignore[attr-defined]
            uri = environ.get(ORIGINAL_URI)
            started = state.get("started")
            journal.record({
                "time": service.now().isoformat(), "route": state.get("route"), "method": req.method,
                "path": req.full_path.rstrip("?") if uri is None else uri, "peer": req.remote_addr,
                "ip": state.get("ip"), "status": response.status_code, "injected": state.get("injected"),
                "request": _body_text(req),
                "response": response.get_data(as_text=True) if not response.direct_passthrough else "",
                "duration_ms": 0.0 if started is None else round((time.monotonic() - started) * 1000, 3),
            })  # fmt: skip
        return response

    @app.errorhandler(BadRequestError)
    def bad_request(exc: BadRequestError) -> Response:
        return message(str(exc), 400)

    @app.errorhandler(AccessDeniedError)
    def denied(exc: AccessDeniedError) -> Response:
        return _deny()

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> Response:
        return json_response({"error": str(exc)}, 400)

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Response:
        uri = request.environ.get(ORIGINAL_URI) or request.full_path.rstrip("?")
        return message(
            f"No HTTP resource was found that matches the request URI '{request.host_url.rstrip('/')}{uri}'.", 404
        )

    @app.errorhandler(MethodNotAllowed)
    def not_allowed(exc: MethodNotAllowed) -> Response:
        response = message(f"The requested resource does not support http method '{request.method}'.", 405)
        response.headers["Allow"] = ", ".join(exc.valid_methods or [])
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Response:
        return message(f"The request body is larger than the limit of {MAX_BODY} bytes (64 KiB).", 413)

    @app.errorhandler(HTTPException)
    def other_http(exc: HTTPException) -> Response:
        return message(exc.description or HTTPStatus(exc.code or 500).phrase, exc.code or 500)

    @app.errorhandler(Exception)
    def failure(exc: Exception) -> Response:
        log.exception("failure inside the emulator")
        return message("An error has occurred.", 500)

    return app


def case_insensitive(app: Callable[..., Any]) -> Callable[..., Any]:
    """WSGI wrapper: lower-case the path, drop a trailing slash, remember the original URI."""

    def wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        environ[ORIGINAL_URI] = path + (f"?{query}" if query else "")
        if not path.startswith("/_mock"):
            path = path.lower()
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        environ["PATH_INFO"] = path
        return app(environ, start_response)

    return wrapper
