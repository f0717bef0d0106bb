"""The data routes answered without Flask's request context: the in-process route's hot path.

A plain GET of a data route (no query string, no body) is what a bot sends most, and Flask's
request context (routing, the context stack, the hooks' dispatch) costs more than the call itself.
This layer serves exactly those requests with what the Flask wire does for them (wire.py and
routes.py): the same fault pipeline first, the same login parsing, token check and service call,
the same replies for every error, the same journal entry after. Any other request (a query string,
a body, HEAD, another method or path, tokens, /openapi.json) goes to the Flask application as before.
`tests/test_instaforex_direct.py` holds the answers and journal entries of every route, faults and
refusals included, to Flask's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from mock_common.faults import inject

from .contract import ROUTE_NAMES
from .errors import AccessDeniedError, BadRequestError, StoreError
from .jsonio import json_response, message
from .routes import DATA_ROUTES, FAMILIES, Call
from .service import Service, parse_login
from .wire import _FAULTS, ORIGINAL_URI, Settings, caller_ip

log = logging.getLogger("mock_instaforex.wire")  # the wire's own logger: the same records as through Flask

# (API family, route) -> (Flask endpoint, how many path values, the call): routes.py's one table.
_ROUTES: dict[tuple[str, str], tuple[str, int, Call]] = {
    key: (f"{FAMILIES[key[0]].name}.{endpoint}", len(params), call)
    for key, (endpoint, params, call, _doc) in DATA_ROUTES.items()
}


def _no_query(name: str) -> None:
    return None  # this layer serves only requests without a query string


def _normal(path: str) -> str:
    """The path as wire.case_insensitive hands it to Flask: lower-cased, no trailing slash."""
    path = path.lower()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def _route(environ: dict[str, Any], path: str) -> tuple[str, list[str], Call] | None:
    """(Flask endpoint, the path's values, the call) when this layer serves the request (`path` normal)."""
    if (
        environ.get("REQUEST_METHOD") != "GET"
        or environ.get("QUERY_STRING")
        or environ.get("CONTENT_LENGTH", "") not in ("", "0")
        or "HTTP_TRANSFER_ENCODING" in environ
    ):
        return None
    parts = path.split("/")
    if len(parts) < 4 or parts[0]:
        return None
    found = _ROUTES.get((parts[1], parts[2]))
    if found is None:
        return None
    endpoint, count, call = found
    values = parts[3:]
    if len(values) != count or not all(values):  # each <value> is one non-empty segment, as Flask routes it
        return None
    return endpoint, values, call


def _error_reply(exc: Exception, settings: Settings) -> Response:
    """The reply wire.py's error handlers give (the handler of the nearest class, as Flask picks it)."""
    for cls in type(exc).__mro__:
        if cls is BadRequestError:
            return message(str(exc), 400)
        if cls is AccessDeniedError:
            return json_response("Access denied", settings.deny_status)
        if cls is StoreError:
            return json_response({"error": str(exc)}, 400)
        if cls is HTTPException:
            code = getattr(exc, "code", None) or 500
            return message(getattr(exc, "description", None) or HTTPStatus(code).phrase, code)
    log.exception("failure inside the emulator", exc_info=exc)
    return message("An error has occurred.", 500)


def direct(flask_side: Callable[..., Any], service: Service, controller: Any, settings: Settings) -> Callable[..., Any]:
    """WSGI: plain GETs of the data routes answered here, the rest by `flask_side` (case_insensitive(app))."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "/")
        normal = _normal(path)
        routed = _route(environ, normal)
        if routed is None:
            return flask_side(environ, start_response)
        environ[ORIGINAL_URI] = path  # what case_insensitive keeps (there is no query string)
        environ["PATH_INFO"] = normal
        endpoint, values, call = routed
        started = time.monotonic()
        reason = None
        ip = caller_ip(environ, settings)
        route = ROUTE_NAMES.get(endpoint)
        rule, reply = inject(controller.faults, route, environ, _FAULTS)
        if reply is not None:
            status, headers, body = reply
            response = Response(body, status=int(status[:3]), headers=headers)
        else:

            def who(kind: str, login: str) -> Any:
                return service.authorize(
                    kind, environ.get("HTTP_PASSKEY"), parse_login(login, "login", padded=False), ip
                )

            try:
                response = json_response(call(service, who, values, _no_query))
            except Exception as exc:  # as wire.py's error handlers answer
                response = _error_reply(exc, settings)
                reason = getattr(exc, "reason", None) if isinstance(exc, AccessDeniedError) else None
        controller.journal.record({
            "time": service.now().isoformat(), "route": route, "method": "GET", "path": path,
            "peer": environ.get("REMOTE_ADDR"), "ip": ip, "status": response.status_code,
            "injected": rule.kind if rule is not None else None, "request": "",
            "response": response.get_data(as_text=True), "duration_ms": round((time.monotonic() - started) * 1000, 3),
            "reason": reason,
        })  # fmt: skip
        return response(environ, start_response)

    return app
