"""The recording proxy and the replay server: one WSGI app over a `RecordingSession`, on cheroot."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import requests

from mock_common.peers import url_host
from mock_common.server import WSGIServer

from .cassette import Request, Response
from .profile import is_wsdl, rewrite_soap_address
from .session import RecordingSession, UpstreamError, absolute_url

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "content-length", "content-encoding", "host",
})  # fmt: skip
MAX_BODY = 64 * 1024 * 1024
_SPELLING = {"soapaction": "SOAPAction", "passkey": "passkey"}  # as the APIs' samples write them


def response_from(r: requests.Response) -> Response:
    """A `requests` response as a cassette response (text when it is UTF-8, else base64)."""
    headers = {k: v for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP}
    try:
        return Response(r.status_code, headers, r.content.decode("utf-8"))
    except UnicodeDecodeError:
        return Response(r.status_code, headers, base64.b64encode(r.content).decode(), binary=True)


class Forwarder:
    """Sends requests to the upstream (TLS included) on one keep-alive session per thread."""

    def __init__(self, upstream: str, verify: bool | str = True, timeout: float = 60) -> None:
        if not upstream.lower().startswith(("http://", "https://")):
            raise ValueError(f"upstream must be an http:// or https:// URL, not {upstream!r}")
        self.upstream, self.verify, self.timeout = upstream, verify, timeout
        self._local = threading.local()

    def __call__(self, req: Request) -> Response:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # never through a proxy from the environment: the upstream is named
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP}
        url = absolute_url(req.url, self.upstream)
        try:
            r = session.request(
                req.method, url, headers=headers, data=req.body.encode("utf-8") if req.body else None,
                timeout=self.timeout, verify=self.verify, allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise UpstreamError(f"{req.method} {url}: {type(exc).__name__}: {exc}") from exc
        return response_from(r)


def request_from_environ(environ: dict[str, Any]) -> Request:
    """The WSGI request as a cassette request (url = path and query)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(min(length, MAX_BODY)) if length > 0 else b""
    headers: dict[str, str] = {}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = "-".join(p.capitalize() for p in key[5:].split("_"))
            headers[_SPELLING.get(name.lower(), name)] = value
    path = environ.get("PATH_INFO", "/")
    query = environ.get("QUERY_STRING", "")
    url = path + (f"?{query}" if query else "")
    return Request(environ.get("REQUEST_METHOD", "GET").upper(), url, headers, body.decode("utf-8", "replace"))


class RecorderApp:
    """WSGI: answer from the cassette, or forward to the upstream and record (by the session's mode).

    A WSDL passing through has its soap:address pointed at this server, so a client that reads the
    WSDL here keeps talking to the recorder.
    """

    def __init__(self, session: RecordingSession, forward: Forwarder | None = None) -> None:
        self.session, self.forward = session, forward

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        req = request_from_environ(environ)
        try:
            resp, how = self.session.handle(req, self.forward)
        except UpstreamError as exc:
            log.error("upstream failed: %s", exc)
            resp, how = self.session.profile.miss_response(f"The recorder could not reach the upstream: {exc}"), "error"
            resp.status = 502
        if how == "miss" and req.method == "GET":
            fallback = self.session.profile.fallback(req)
            if fallback is not None:
                resp, how = fallback, "fallback"
        body = resp.content()
        if is_wsdl(resp):
            own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
            body = rewrite_soap_address(resp.body, own).encode("utf-8")
        log.info("%s %s %s -> %s", how, req.method, req.url, resp.status)
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{resp.status} {_reason(resp.status)}", headers)
        return [body] if req.method != "HEAD" else [b""]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class RecorderServer:
    """The recording proxy (or, with no upstream, the replay server) on host:port (0 = a free port)."""

    def __init__(
        self, session: RecordingSession, host: str = "127.0.0.1", port: int = 0, verify: bool | str = True,
        threads: int = 8,
    ) -> None:  # fmt: skip
        self.session = session
        forward = Forwarder(session.upstream, verify) if session.recording else None
        self.app = RecorderApp(session, forward)
        name = f"mock-{session.profile.name}-{'recorder' if session.recording else 'replay'}"
        self._server = WSGIServer(self.app, host, port, threads=threads, name=name)
        self.host, self.port = host, self._server.port

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
