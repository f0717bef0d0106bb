"""Sending a recorded request to the real API: a bounded answer within a total deadline.

The recording proxy and the in-process recorder both forward through `fetch` (to a URL made by
`targets.upstream_url`, from an origin-form target only). Two bounds hold for every forwarded request:

- the answer's body (after content decoding) is at most `MAX_UPSTREAM_BODY` bytes: a larger one is
  not read further and nothing is recorded;
- the whole exchange (connect, send, headers, body) ends within `UPSTREAM_DEADLINE` seconds, however
  slowly the upstream dribbles its bytes: a watchdog thread shuts the connection down at the deadline.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .cassette import MIB, Response
from .targets import MAX_UPSTREAM_BODY, UPSTREAM_DEADLINE, UpstreamError

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "content-length", "content-encoding", "host",
})  # fmt: skip


def response_from(r: requests.Response, content: bytes) -> Response:
    """A `requests` response and its body as a cassette response (text when it is UTF-8, else base64)."""
    headers = {k: v for k, v in r.headers.items() if k.lower() not in HOP_BY_HOP}
    try:
        return Response(r.status_code, headers, content.decode("utf-8"))
    except UnicodeDecodeError:
        return Response(r.status_code, headers, base64.b64encode(content).decode(), binary=True)


# ------------------------------------------------------------------------------------ the deadline


class _Guard:
    """One forwarded request: its deadline and the connections it used."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.done = False
        self.lock = threading.Lock()  # a cut never reaches a connection its request has given back
        self.connections: list[HTTPConnection] = []

    def cut(self) -> None:
        """Shut every connection down: a read blocked in it returns at once."""
        with self.lock:
            if not self.done:
                self._cut()

    def _cut(self) -> None:
        for conn in list(self.connections):
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, TLS or not
                except OSError:
                    pass


class _Watchdog:
    """One daemon thread that cuts the connections of requests past their deadline."""

    RECHECK = 0.25  # a connection made after the cut (a connect in progress) is cut this much later

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._guards: set[_Guard] = set()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float) -> Iterator[_Guard]:
        """A guard for the calling thread's forwarded request, cut `seconds` from now."""
        guard = _Guard(time.monotonic() + seconds)
        with self._cond:
            self._guards.add(guard)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="broker-mocks-upstream-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()
        _CURRENT.guard = guard
        try:
            yield guard
        finally:
            _CURRENT.guard = None
            with guard.lock:
                guard.done = True
            with self._cond:
                self._guards.discard(guard)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [g for g in self._guards if g.deadline <= now]
                for g in due:
                    g.expired = True
                    g.deadline = now + self.RECHECK
                if not due:
                    wait = min((g.deadline for g in self._guards), default=now + 3600) - now
                    self._cond.wait(wait)
                    continue
            for g in due:
                g.cut()


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


def _watched(conn: HTTPConnection) -> None:
    guard: _Guard | None = getattr(_CURRENT, "guard", None)
    if guard is not None and conn not in guard.connections:
        guard.connections.append(conn)


class _HTTPConnection(HTTPConnection):
    """A connection the watchdog can find (and cut) while it connects or sends."""

    def connect(self) -> None:
        _watched(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watched(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(_HTTPConnection, HTTPSConnection):
    """The same over TLS (the MRO runs _HTTPConnection's methods, then HTTPSConnection's)."""


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A `requests` transport adapter whose connections the deadline watchdog can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def new_session() -> requests.Session:
    """A `requests` session for the upstream: deadline-aware, and never through a proxy from the environment."""
    session = requests.Session()
    session.trust_env = False
    for prefix in ("http://", "https://"):
        session.mount(prefix, DeadlineAdapter())
    return session


# ------------------------------------------------------------------------------------ one exchange


Send = Callable[[float], requests.Response]  # (the deadline in seconds, as the per-step timeout) -> a streamed response


def fetch(send: Send, what: str, deadline: float = UPSTREAM_DEADLINE, max_body: int = MAX_UPSTREAM_BODY) -> Response:
    """Run `send` (a streamed request on a deadline-aware adapter) and read its answer within both bounds.

    `UpstreamError` names what went wrong; over a bound, the connection is closed and nothing is kept.
    """
    with _WATCHDOG.watch(deadline) as guard:
        r: requests.Response | None = None
        whole = False
        try:
            r = send(deadline)
            declared = r.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_body:
                raise UpstreamError(_too_large(what, max_body, f"it declares {int(declared)} bytes"))
            chunks, size = [], 0
            for chunk in r.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_body:
                    raise UpstreamError(_too_large(what, max_body, "it sent more"))
                if guard.expired:
                    break
                chunks.append(chunk)
            if guard.expired:
                raise UpstreamError(_late(what, deadline))
            whole = True  # read to its end: the connection goes back to the pool for the next request
            return response_from(r, b"".join(chunks))
        except requests.RequestException as exc:
            if guard.expired:
                raise UpstreamError(_late(what, deadline)) from exc
            raise UpstreamError(f"{what}: {type(exc).__name__}: {exc}") from exc
        except UpstreamError:
            raise
        except OSError as exc:  # a cut socket read outside requests' own wrapping
            raise UpstreamError(_late(what, deadline) if guard.expired else f"{what}: {exc}") from exc
        finally:
            if r is not None and not whole:
                r.close()  # cut short: the connection is not reused


def _too_large(what: str, limit: int, how: str) -> str:
    return (
        f"{what}: the upstream's answer is larger than the recorder's limit of {limit / MIB:g} MiB ({how}); "
        "it was not forwarded and nothing was recorded"
    )


def _late(what: str, deadline: float) -> str:
    return f"{what}: the upstream did not answer in full within the deadline of {deadline:g} s; nothing was recorded"
