"""The recording proxy and the replay server: one WSGI app over a `RecordingSession`, on waitress.

Every request takes one path, `RecorderApp.answer`: the Host guard (no DNS rebinding), the
origin-form target check, then the session (replay, or forward and record), then the WSDL's
soap:address pointed at this server. The forwarding itself (a bounded answer within a total
deadline) is `upstream.fetch`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests

from mock_common.guard import endpoint_host, host_refusal, server_base
from mock_common.masking import mask_target
from mock_common.peers import is_loopback, url_host
from mock_common.server import WSGIServer

from .cassette import Request, Response
from .profile import is_wsdl, rewrite_soap_address
from .session import RecordingSession
from .targets import UpstreamError, check_upstream, target_problem, upstream_url
from .upstream import HOP_BY_HOP, MAX_UPSTREAM_BODY, UPSTREAM_DEADLINE, fetch, new_session

log = logging.getLogger(__name__)

MAX_REQUEST_BODY = 16 * 1024 * 1024  # what a client may send through the recorder (more: 413)
_SPELLING = {"soapaction": "SOAPAction", "passkey": "passkey"}  # as the APIs' samples write them

__all__ = ["HOP_BY_HOP", "Forwarder", "RecorderApp", "RecorderServer", "request_from_environ"]


class Forwarder:
    """Sends requests to the upstream (TLS included) on one keep-alive session per thread, each within
    `deadline` seconds in all and with an answer of at most `max_body` bytes."""

    def __init__(
        self, upstream: str, verify: bool | str = True, deadline: float = UPSTREAM_DEADLINE,
        max_body: int = MAX_UPSTREAM_BODY,
    ) -> None:  # fmt: skip
        if not deadline > 0 or not max_body > 0:
            raise ValueError(f"the upstream deadline and body limit must be > 0, not {deadline!r} and {max_body!r}")
        self.upstream, self.verify = check_upstream(upstream), verify
        self.deadline, self.max_body = deadline, max_body
        self._local = threading.local()

    def __call__(self, req: Request) -> Response:
        problem = target_problem(req.url)
        if problem is not None:  # RecorderApp refuses these first; a direct caller is refused the same
            raise ValueError(problem)
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = new_session()
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP}
        url = upstream_url(self.upstream, req.url)
        data = req.body.encode("utf-8") if req.body else None

        def send(seconds: float) -> requests.Response:
            return session.request(
                req.method, url, headers=headers, data=data, timeout=(seconds, seconds), verify=self.verify,
                allow_redirects=False, stream=True,
            )  # fmt: skip

        return fetch(send, f"{req.method} {mask_target(url)}", self.deadline, self.max_body)


def request_from_environ(environ: dict[str, Any]) -> Request:
    """The WSGI request as a cassette request (url = the request target as sent: path and query)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers: dict[str, str] = {}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = "-".join(p.capitalize() for p in key[5:].split("_"))
            headers[_SPELLING.get(name.lower(), name)] = value
    method = environ.get("REQUEST_METHOD", "GET").upper()
    return Request(method, request_target(environ), headers, body.decode("utf-8", "replace"))


def request_target(environ: dict[str, Any]) -> str:
    """The request target as the client sent it (waitress keeps it raw); else path and query rebuilt."""
    raw = environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return raw
    path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=~-._")
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


class RecorderApp:
    """WSGI: answer from the cassette, or forward to the upstream and record (by the session's mode).

    `base` gives this server's own base URL for a request (a WSDL passing through has its soap:address
    pointed there, so a client that reads the WSDL here keeps talking to this server); `addresses` lets
    a Host that is an IP address in (a server bound beyond loopback), as well as loopback names.
    """

    def __init__(
        self, session: RecordingSession, forward: Forwarder | None = None, base: Any = None, addresses: bool = False
    ) -> None:
        self.session, self.forward = session, forward
        self.base = base or (
            lambda environ: f"http://{endpoint_host(environ, '127.0.0.1:' + str(environ.get('SERVER_PORT', 80)))}/"
        )
        self.addresses = addresses
        self.who = f"The {session.profile.name} {'recorder' if forward is not None else 'replay server'}"

    def answer(self, environ: dict[str, Any]) -> tuple[Request | None, Response, str]:
        """(the request, the answer, how it was answered) for one WSGI request: the whole per-request work."""
        profile = self.session.profile
        refused = host_refusal(environ, self.who, self.addresses)
        if refused is not None:
            return None, profile.error_response(403, refused), "refused"
        req = request_from_environ(environ)
        problem = target_problem(req.url)
        if problem is not None:  # before anything is sent: an authority glued on would reach another host
            return req, profile.error_response(400, f"{self.who} refused it: {problem}."), "refused"
        try:
            resp, how = self.session.handle(req, self.forward)
        except UpstreamError as exc:
            log.error("upstream failed: %s", exc)
            text = f"The recorder could not get an answer from the upstream: {exc}"
            return req, profile.error_response(502, text), "error"
        if how == "miss" and req.method == "GET":
            fallback = profile.fallback(req)
            if fallback is not None:
                resp, how = fallback, "fallback"
        if is_wsdl(resp):
            resp = Response(resp.status, resp.headers, rewrite_soap_address(resp.body, self.base(environ)))
        return req, resp, how

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        req, resp, how = self.answer(environ)
        body = resp.content()
        method = req.method if req is not None else environ.get("REQUEST_METHOD", "GET")
        target = mask_target(req.url) if req is not None else "(refused)"
        log.info("%s %s %s -> %s", how, method, target, resp.status)
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{resp.status} {_reason(resp.status)}", headers)
        return [body] if method != "HEAD" else [b""]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _loopback_bind(host: str) -> bool:
    return host.lower() == "localhost" or is_loopback(host.strip("[]"))


class RecorderServer:
    """The recording proxy (or, with no upstream, the replay server) on host:port (0 = a free port).

    Forwarded requests end within `deadline` seconds in all, and an upstream answer over `max_body`
    bytes is refused (502, nothing recorded); a client may send at most `MAX_REQUEST_BODY` bytes (413).
    """

    def __init__(
        self, session: RecordingSession, host: str = "127.0.0.1", port: int = 0, verify: bool | str = True,
        threads: int = 8, deadline: float = UPSTREAM_DEADLINE, max_body: int = MAX_UPSTREAM_BODY,
    ) -> None:  # fmt: skip
        self.session = session
        forward = Forwarder(session.upstream, verify, deadline, max_body) if session.recording else None
        name = f"mock-{session.profile.name}-{'recorder' if session.recording else 'replay'}"
        profile = session.profile

        def error_body(code: int, text: str) -> tuple[str, bytes]:
            resp = profile.error_response(code, text)
            return resp.headers["Content-Type"], resp.content()

        self.app = RecorderApp(session, forward, self._base, addresses=not _loopback_bind(host))
        self._server = WSGIServer(
            self.app, host, port, threads=threads, name=name, max_body=MAX_REQUEST_BODY, error_body=error_body
        )
        self.host, self.port = host, self._server.port
        self._address = server_base(host, self.port)

    def _base(self, environ: dict[str, Any]) -> str:
        """This server's base URL for a WSDL's soap:address, as the emulators write it (`guard.server_base`)."""
        return self._address(environ)

    @property
    def url(self) -> str:
        """Base URL with a trailing slash."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "::1" if self.host == "::" else self.host
        return f"http://{url_host(host)}:{self.port}/"

    def start(self) -> RecorderServer:
        """Serve in a background thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def __enter__(self) -> RecorderServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
