"""The recorder's and the replay server's side of the call pipeline (`mock_common.pipeline`), on a socket
and in process alike.

`RecordingApi.read` turns the WSGI request into a cassette request: the Host guard first (no DNS
rebinding; on a socket only), the request target as sent, origin-form only (an authority glued on
would reach another host), the operation the profile names (the SOAPAction, the route).
`RecordingApi.call` is the session: a cassette answer, or the request forwarded upstream and
recorded (by the record mode), the profile's fallback for a GET the cassette lacks (the WSDL), a
WSDL's soap:address pointed at this server, 502 when the upstream gave no usable answer. The
pipeline around it fires queued faults and journals each call, as it does for the emulators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import requests

from ..faults import FaultPlan, Reply
from ..guard import host_refusal
from ..journal import Journal
from ..masking import mask_target
from ..pipeline import Api, Call, RefusedError, status_line
from ..wsgi_responses import RAISE_KEY
from .cassette import Request, Response
from .profile import is_wsdl, rewrite_soap_address
from .session import Forward, RecordingSession
from .targets import UpstreamError, target_problem
from .upstream import HOP_BY_HOP

log = logging.getLogger(__name__)

_SPELLING = {"Soapaction": "SOAPAction", "Passkey": "passkey"}  # as the APIs' samples write them


@lru_cache(maxsize=256)
def _header_name(key: str) -> str:
    """`HTTP_USER_AGENT` -> `User-Agent` (a client sends few distinct names: remembered)."""
    name = "-".join(p.capitalize() for p in key[5:].split("_"))
    return _SPELLING.get(name, name)


def request_from_environ(environ: dict[str, Any], prefix: str = "") -> Request:
    """The WSGI request as a cassette request: url = the request target as sent (path and query), less
    `prefix` (the path of the base URL an in-process route serves)."""
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
            headers[_header_name(key)] = value
    method = environ.get("REQUEST_METHOD", "GET").upper()
    target = request_target(environ)
    if prefix and (target == prefix or target.startswith((prefix + "/", prefix + "?"))):
        target = target[len(prefix) :]
        target = target if target.startswith("/") else "/" + target
    return Request(method, target, headers, body.decode("utf-8", "replace"))


def request_target(environ: dict[str, Any]) -> str:
    """The request target as the client sent it (waitress keeps it raw); else path and query rebuilt."""
    raw = environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return raw
    path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=~-._")
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


class RecordingApi(Api):
    """A recorder's or replay server's side of the call pipeline: the request as a cassette request, the
    session's answer, the API's fault replies (the profile's), the journal and the fault plan it is given.

    `base` gives this server's own base URL for a request (a WSDL passing through has its soap:address
    pointed there, so a client that reads the WSDL here keeps talking to this server). `served`: on a
    socket, which a web page can reach, so the Host header is checked (`addresses` lets a Host that is an
    IP address in, for a server bound beyond loopback, as well as loopback names), and each call is logged
    (INFO, the command line's -v); in process neither. `prefix` is taken off each request target (in
    process: the path of the base URL the route serves).
    """

    def __init__(
        self, session: RecordingSession, forward: Forward | None, base: Callable[[dict[str, Any]], str], *,
        served: bool = True, addresses: bool = False, prefix: str = "", journal: Journal | None = None,
        faults: FaultPlan | None = None,
    ) -> None:  # fmt: skip
        self.session, self.forward, self.base = session, forward, base
        self.profile = session.profile
        self.fault_replies = self.profile.fault_replies
        self.served, self.addresses, self.prefix = served, addresses, prefix.rstrip("/")
        self._journal, self._faults = journal, faults
        self.who = f"The {self.profile.name} {'recorder' if session.recording else 'replay server'}"

    @property
    def journal(self) -> Journal | None:
        """The journal it was given."""
        return self._journal

    @property
    def faults(self) -> FaultPlan | None:
        """The fault plan it was given."""
        return self._faults

    def read(self, environ: dict[str, Any]) -> Call:
        """The cassette request and its operation; RefusedError (in the API's error format) for a Host that
        is not this computer's (403) or a target that is not origin-form (400), before anything is sent."""
        if self.served:
            refused = host_refusal(environ, self.who, self.addresses)
            if refused is not None:
                method = environ.get("REQUEST_METHOD", "GET")
                log.info("refused %s for its Host header", method)
                reply = self._reply(self.profile.error_response(403, refused), method)
                raise RefusedError(reply, refused, details={"method": method, "path": request_target(environ)})
        req = request_from_environ(environ, self.prefix)
        details = {"method": req.method, "path": req.url}
        problem = target_problem(req.url)
        if problem is not None:
            text = f"{self.who} refused it: {problem}."
            log.info("refused %s: %s", req.method, problem)
            reply = self._reply(self.profile.error_response(400, text), req.method)
            raise RefusedError(reply, text, req.body.encode("utf-8"), details)
        return Call(self.profile.operation(req), req.body, details, req)

    def call(self, call: Call, environ: dict[str, Any]) -> Reply:
        """The session's answer (replayed, forwarded and recorded, passed through, or a miss); the journal
        entry's `answered` says which."""
        req: Request = call.data
        profile = self.profile
        try:
            resp, how = self.session.handle(req, self.forward)
        except UpstreamError as exc:
            log.error("upstream failed: %s", exc)
            text = f"The recorder could not get an answer from the upstream: {exc}"
            resp, how = profile.error_response(502, text), "error"
            # In process, `requests` raises what it would raise without the mock: the network failed.
            environ[RAISE_KEY] = requests.ConnectionError(str(exc))
        if how == "miss" and req.method == "GET":
            fallback = profile.fallback(req)
            if fallback is not None:
                resp, how = fallback, "fallback"
        if is_wsdl(resp):
            resp = Response(resp.status, resp.headers, rewrite_soap_address(resp.body, self.base(environ)))
        call.details["answered"] = how
        if self.served and log.isEnabledFor(logging.INFO):
            log.info("%s %s %s -> %s", how, req.method, mask_target(req.url), resp.status)
        return self._reply(resp, req.method)

    @staticmethod
    def _reply(resp: Response, method: str) -> Reply:
        """The reply to send: hop-by-hop headers dropped, the body's Content-Length (no body for HEAD)."""
        body = resp.content()
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(body))))
        return status_line(resp.status), headers, b"" if method.upper() == "HEAD" else body

    def error_reply(self, status: int, text: str) -> Reply:
        """A failure of the server itself, in the API's error format."""
        return self._reply(self.profile.error_response(status, text), "GET")
