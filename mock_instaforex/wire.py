"""The wire: a Flask application factory (the routes' blueprints, errors by errorhandler) and the
emulator's WSGI application around it: /_mock/ to the common control plane (mock_common.control),
every API call through the one call pipeline (mock_common.pipeline) into Flask.

Paths are matched case-insensitively and a trailing slash is ignored (ASP.NET routing does the
same): `InstaForexHttp` lower-cases PATH_INFO before anything routes it, keeping the original
for the journal and the 404 message. The pipeline names each call by asking Flask's URL map which
endpoint the request goes to (`FlaskWire.read`), so Flask remains the one router.
"""

from __future__ import annotations

import io
import ipaddress
import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, request
from flask.ctx import RequestContext
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mock_common.control import ControlApp
from mock_common.faults import FaultRule, Reply
from mock_common.peers import parse_ip, unmap
from mock_common.pipeline import Call, EmulatorApi, Pipeline, note_refusal, status_line
from mock_common.wsgi import run_app

from .contract import ROUTE_NAMES, TOKEN_ROUTES
from .control import Controller
from .dashboard import dashboard_data
from .errors import AccessDeniedError, BadRequestError, StoreError
from .jsonio import dumps, json_response, message
from .openapi import build_openapi
from .routes import BLUEPRINTS, IP_KEY
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


def _deny() -> Response:
    return json_response("Access denied", current_app.config["SETTINGS"].deny_status)


# ------------------------------------------------------------------------------- the factory


MATCH_KEY = "instaforex.match"


class _RequestContext(RequestContext):
    """Flask's request context, routed by the match the call pipeline already asked Flask's URL map for
    (`FlaskWire.read`): each request is matched once. Without one (a route the map refused), Flask matches."""

    def match_request(self) -> None:
        matched = self.request.environ.get(MATCH_KEY)
        if matched is None:
            super().match_request()
            return
        self.request.url_rule, view_args = matched
        self.request.view_args = dict(view_args)


class ApiFlask(Flask):
    """Flask, with the request context above (`match_request` is Flask's documented hook for this) and
    `matching`, the URL map bound once, which names each call (`FlaskWire.read`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.matching = self.url_map.bind("instaforex.invalid")

    def request_context(self, environ: dict[str, Any]) -> RequestContext:
        return _RequestContext(self, environ)

    def create_url_adapter(self, request: Any) -> Any:
        # A call already matched needs no adapter bound to its host: its views build no URL, and
        # binding one is a tenth of a call's cost. Any other request gets Flask's own.
        if request is not None and request.environ.get(MATCH_KEY) is not None:
            return self.matching
        return super().create_url_adapter(request)


def create_app(service: Service, settings: Settings | None = None) -> ApiFlask:
    """The Flask application of one emulator instance (run by `InstaForexHttp`, through the pipeline)."""
    app = ApiFlask(__name__)
    app.config.update(SERVICE=service, SETTINGS=settings or Settings(), MAX_CONTENT_LENGTH=MAX_BODY)
    app.url_map.strict_slashes = False
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    spec = build_openapi(app.config["SETTINGS"].deny_status)

    @app.get("/openapi.json")
    def openapi() -> Response:
        return json_response(spec)

    # A refusal is noted on the call (mock_common.pipeline): the journal takes its reason, if it has one.
    @app.errorhandler(BadRequestError)
    def bad_request(exc: BadRequestError) -> Response:
        note_refusal(request.environ, exc)
        return message(str(exc), 400)

    @app.errorhandler(AccessDeniedError)
    def denied(exc: AccessDeniedError) -> Response:
        note_refusal(request.environ, exc)
        return _deny()

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> Response:
        note_refusal(request.environ, exc)
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
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or []))  # a set: its order varies by process
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
    data = body.encode()
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))]
    return status_line(status), headers, data


# The InstaForex faults an injected rule answers with (the emulator, its recorder and replay server): an
# error status with the API's {"Message"} body, or a 200 whose JSON is cut short. Delays and drops are the
# common pipeline's (mock_common.pipeline).
FAULT_REPLIES: dict[str, Callable[[FaultRule], Reply]] = {
    "http": lambda rule: _reply(rule.status, dumps({"Message": rule.message})),
    "malformed": lambda rule: _reply(200, '{"Message": "trunc'),
}
_TOKEN_ROUTES = frozenset(name for _, name, _ in TOKEN_ROUTES)


class FlaskWire(EmulatorApi):
    """InstaForex's side of the call pipeline: the request read and named by Flask's URL map, the call
    answered by the Flask application, the API's fault and error replies."""

    def __init__(self, flask_app: ApiFlask, controller: Controller) -> None:
        super().__init__(controller)
        self.flask = flask_app
        self.settings: Settings = flask_app.config["SETTINGS"]
        self.fault_replies = FAULT_REPLIES
        # One adapter to match with: no route depends on the host (only a redirect's Location would,
        # and a refused match is left to Flask, bound to the request). Bounded memo: the path holds
        # the login, and a client may send any number of distinct paths.
        adapter = flask_app.matching
        self._match = lru_cache(maxsize=4096)(lambda method, path: _match(adapter, method, path))

    def read(self, environ: dict[str, Any]) -> Call:
        """The call: its route name (None for a path or method the API does not have), the caller's IP
        (kept in the environ for the views), the body (put back for Flask to read)."""
        method = environ.get("REQUEST_METHOD", "GET")
        ip = environ[IP_KEY] = caller_ip(environ, self.settings)
        body = b""
        length = environ.get("CONTENT_LENGTH", "")
        if length not in ("", "0"):
            try:
                size = int(length)
            except ValueError:
                size = -1
            if 0 < size <= MAX_BODY:  # a larger one Flask refuses (413) without reading it
                body = environ["wsgi.input"].read(size)
                environ["wsgi.input"] = io.BytesIO(body)
        details = {"method": method, "path": environ[ORIGINAL_URI], "peer": environ.get("REMOTE_ADDR"), "ip": ip}
        matched = self._match(method, environ["PATH_INFO"])
        # Flask answers OPTIONS from an adapter bound to the request (its Allow header): it matches that itself.
        environ[MATCH_KEY] = matched if method != "OPTIONS" else None
        return Call(None if matched is None else ROUTE_NAMES.get(matched[0].endpoint), body, details)

    def call(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Flask answers the request: routing, the view, the error handlers."""
        started, body = run_app(self.flask.wsgi_app, environ)
        if started is None:
            raise RuntimeError("the Flask application started no response")
        return started[0], started[1], body

    def changes_state(self, call: Call, status: int) -> bool:
        """A token request, accepted or refused, changes state (a token, a login-history entry)."""
        return call.operation in _TOKEN_ROUTES

    def error_reply(self, status: int, text: str) -> Reply:
        """The API's {"Message": ...}."""
        return _reply(status, dumps({"Message": text}))


def _match(adapter: Any, method: str, path: str) -> tuple[Any, dict[str, Any]] | None:
    """(rule, path values) Flask's URL map routes `method path` to; None for no route (a 404, a 405, a
    redirect for merged slashes: Flask's own match then answers it)."""
    try:
        return adapter.match(path, method, return_rule=True)  # type: ignore[no-any-return]
    except HTTPException:
        return None


def normalize_path(environ: dict[str, Any]) -> str:
    """Lower-case PATH_INFO and drop a trailing slash (the original URI is kept for the journal and 404s)."""
    path = environ.get("PATH_INFO", "/")
    query = environ.get("QUERY_STRING", "")
    environ[ORIGINAL_URI] = path + (f"?{query}" if query else "")
    path = path.lower()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    environ["PATH_INFO"] = path
    return path


class InstaForexHttp:
    """The emulator as one WSGI application, the same on a socket and in process: /_mock/ to the common
    control plane, /openapi.json (the API's description, not a call) to Flask, every other request
    through the call pipeline into Flask."""

    def __init__(self, flask_app: ApiFlask, controller: Controller) -> None:
        self.flask = flask_app
        self.controller = controller
        self._control = ControlApp(controller, dashboard_data)
        self.pipeline = Pipeline(FlaskWire(flask_app, controller))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if ControlApp.handles(environ.get("PATH_INFO", "")):
            return self._control(environ, start_response)
        if normalize_path(environ) == "/openapi.json":
            return self.flask.wsgi_app(environ, start_response)  # type: ignore[no-any-return]
        return self.pipeline(environ, start_response)
