"""The recording proxy and the replay server: a `RecordingSession` served on waitress through the call pipeline.

Every API request takes the one path of `mock_common.pipeline.Pipeline` around a `RecordingApi`
(`recording/wire.py`): the Host guard (no DNS rebinding) and the origin-form target check, a queued
fault, the session (replay, or forward and record), the WSDL's soap:address pointed at this server,
the journal. A replay server (no upstream) also answers /_mock/journal and /_mock/faults
(`RecordingControl`); a recorder passes /_mock/ to its upstream. The forwarding itself (a bounded
answer within a total deadline) is `upstream.fetch`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import requests

from mock_common.control import ControlApp
from mock_common.guard import server_base
from mock_common.handle import CallHandle
from mock_common.masking import mask_target
from mock_common.peers import is_loopback, url_host
from mock_common.pipeline import Pipeline
from mock_common.server import WSGIServer

from .cassette import Request, Response
from .control import RecordingControl
from .session import RecordingSession
from .targets import MAX_UPSTREAM_BODY, UPSTREAM_DEADLINE, check_upstream, target_problem, upstream_url
from .upstream import HOP_BY_HOP, fetch, new_session
from .wire import RecordingApi, request_from_environ

log = logging.getLogger(__name__)

MAX_REQUEST_BODY = 16 * 1024 * 1024  # what a client may send through the recorder (more: 413)

__all__ = ["HOP_BY_HOP", "Forwarder", "RecorderServer", "request_from_environ"]


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
        if problem is not None:  # RecordingApi.read refuses these first; a direct caller is refused the same
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


def _loopback_bind(host: str) -> bool:
    return host.lower() == "localhost" or is_loopback(host.strip("[]"))


class RecorderServer(CallHandle):
    """The recording proxy (or, with no upstream, the replay server) on host:port (0 = a free port).

    Forwarded requests end within `deadline` seconds in all, and an upstream answer over `max_body`
    bytes is refused (502, nothing recorded); a client may send at most `MAX_REQUEST_BODY` bytes (413).
    Its calls are journaled and faults can be queued for them (`journal`, `assert_called`, `fail`,
    `clear_faults`; a replay server also over /_mock/journal and /_mock/faults).
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

        self.controller = RecordingControl(profile)
        api = RecordingApi(
            session, forward, self._base, addresses=not _loopback_bind(host), journal=self.controller.journal,
            faults=self.controller.faults,
        )  # fmt: skip
        self.pipeline = Pipeline(api)
        # A recorder passes /_mock/ to its upstream (an emulator's control plane); a replay server answers it.
        self._control = ControlApp(self.controller) if forward is None else None
        self._server = WSGIServer(
            self._app, host, port, threads=threads, name=name, max_body=MAX_REQUEST_BODY, error_body=error_body
        )
        self.host, self.port = host, self._server.port
        self._address: Callable[[dict[str, Any]], str] = server_base(host, self.port)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI application: a replay server's /_mock/ to its control routes, every other request
        through the call pipeline."""
        if self._control is not None and ControlApp.handles(environ.get("PATH_INFO", "")):
            return self._control(environ, start_response)
        return self.pipeline(environ, start_response)

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
