"""The wire: a Flask application factory (the routes' blueprints, errors by errorhandler, the
journal and the fault pipeline around each call); /_mock/ goes to the common control plane
(mock_common.control) before Flask.

Paths are matched case-insensitively and a trailing slash is ignored (ASP.NET routing does the
same): a small WSGI wrapper lower-cases PATH_INFO before Flask routes it, keeping the original
for the 404 message.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mock_common.control import ControlApp
from mock_common.faults import FaultRule, Reply, inject
from mock_common.peers import parse_ip, unmap

from .contract import ROUTE_NAMES
from .control import Controller
from .dashboard import dashboard_data
from .errors import AccessDeniedError, BadRequestError, StoreError
from .jsonio import dumps, json_response, message
from .openapi import build_openapi
from .routes import BLUEPRINTS
from .service import Service

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
ORIGINAL_URI = "instaforex.original_uri"


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


def _deny() -> Response:
    return json_response("Access denied", current_app.config["SETTINGS"].deny_status)


# ------------------------------------------------------------------------------- the factory


def create_app(service: Service, controller: Controller, settings: Settings | None = None) -> Flask:
    """The Flask application of one emulator instance."""
    app = Flask(__name__)
    app.config.update(
        SERVICE=service, CONTROLLER=controller, SETTINGS=settings or Settings(), MAX_CONTENT_LENGTH=MAX_BODY
    )
    app.url_map.strict_slashes = False
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    spec = build_openapi(app.config["SETTINGS"].deny_status)

    @app.get("/openapi.json")
    def openapi() -> Response:
        return json_response(spec)

    # The two hooks run on every call: each reads Flask's request and g once (a proxy lookup per access).
    @app.before_request
    def before() -> Response | None:
        req, state = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
        state.started = time.monotonic()
        state.ip = caller_ip(req.environ, app.config["SETTINGS"])
        route = state.route = ROUTE_NAMES.get(req.endpoint or "", None)
        rule, reply = inject(controller.faults, route, req.environ, _FAULTS)
        if rule is not None:
            state.injected = rule.kind
        if reply is None:
            return None
        status, headers, body = reply
        return Response(body, status=int(status[:3]), headers=headers)

    @app.after_request
    def after(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        if req.path != "/openapi.json":
            state, environ = g._get_current_object(), req.environ  # type: ignore[attr-defined]
            uri = environ.get(ORIGINAL_URI)
            started = state.get("started")
            controller.journal.record({
                "time": service.now().isoformat(), "route": state.get("route"), "method": req.method,
                "path": req.full_path.rstrip("?") if uri is None else uri, "peer": req.remote_addr,
                "ip": state.get("ip"), "status": response.status_code, "injected": state.get("injected"),
                "request": _body_text(req),
                "response": response.get_data(as_text=True) if not response.direct_passthrough else "",
                "duration_ms": 0.0 if started is None else round((time.monotonic() - started) * 1000, 3),
                "reason": state.get("reason"),
            })  # fmt: skip
        return response

    @app.errorhandler(BadRequestError)
    def bad_request(exc: BadRequestError) -> Response:
        return message(str(exc), 400)

    @app.errorhandler(AccessDeniedError)
    def denied(exc: AccessDeniedError) -> Response:
        g.reason = getattr(exc, "reason", None)  # for the journal: the answer says only "Access denied"
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


def _reply(status: int, body: str) -> Reply:
    return f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "application/json; charset=utf-8")], body.encode()


# The InstaForex faults an injected rule answers with: an error status with the API's {"Message"}
# body, or a 200 whose JSON is cut short. Delays and drops are the common pipeline's (mock_common.faults).
_FAULTS: dict[str, Callable[[FaultRule], Reply]] = {
    "http": lambda rule: _reply(rule.status, dumps({"Message": rule.message})),
    "malformed": lambda rule: _reply(200, '{"Message": "trunc'),
}


def instaforex_app(flask_app: Flask, controller: Controller) -> Callable[..., Any]:
    """The whole emulator as one WSGI app: /_mock/ to the common control plane, the rest to Flask
    (paths matched case-insensitively)."""
    control = ControlApp(controller, dashboard_data)
    api = case_insensitive(flask_app)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if ControlApp.handles(environ.get("PATH_INFO", "")):
            return control(environ, start_response)
        return api(environ, start_response)

    return app


def case_insensitive(app: Callable[..., Any]) -> Callable[..., Any]:
    """WSGI wrapper: lower-case the path, drop a trailing slash, remember the original URI."""

    def wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        environ[ORIGINAL_URI] = path + (f"?{query}" if query else "")
        path = path.lower()
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        environ["PATH_INFO"] = path
        return app(environ, start_response)

    return wrapper
