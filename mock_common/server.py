"""A multi-threaded production WSGI server (cheroot) that runs in a thread or the foreground."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from cheroot import wsgi

log = logging.getLogger(__name__)

SOCKET_KEY = "broker_mocks.socket"


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, plus the connection's socket so a fault can drop it."""

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        env[SOCKET_KEY] = self.req.conn.socket
        return env


def drop_connection(environ: dict[str, Any]) -> None:
    """Reset the client's connection (RST, no response), as a failing peer would."""
    sock = environ.get(SOCKET_KEY)
    if sock is None:
        return
    try:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already gone: nothing left to drop
        pass


class _Server(wsgi.Server):
    """cheroot's server, listening on a socket bound beforehand (so the port is known early)."""

    prebound: socket.socket | None = None

    def bind(self, family: int, type: int, proto: int = 0) -> socket.socket:  # noqa: A002
        if self.prebound is None:
            return super().bind(family, type, proto)  # type: ignore[no-any-return]
        self.socket, self.prebound = self.prebound, None
        self.bind_addr = self.resolve_real_bind_addr(self.socket)
        return self.socket


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without it, small keep-alive replies wait ~40 ms on
        # Nagle's algorithm and the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if family == socket.AF_INET6 and host in ("::", "::0"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # also take IPv4 peers
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class WSGIServer:
    """Serves one WSGI app on host:port (0 = a free port) with a pool of worker threads."""

    def __init__(
        self,
        app: Callable[..., Any],
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 16,
        name: str = "broker-mocks",
    ) -> None:
        sock = _bind(host, port)
        self._server = _Server(
            (host, port),
            app,
            numthreads=threads,
            server_name=name,
            request_queue_size=128,
            timeout=30,
            shutdown_timeout=5,
        )
        self._server.gateway = _Gateway
        self._server.prebound = sock
        self._socket = sock
        self._thread: threading.Thread | None = None
        # Bound now, so the real port is known; worker threads start only with start().
        self.host, self.port = sock.getsockname()[0], sock.getsockname()[1]

    def start(self) -> None:
        """Serve in a daemon thread; returns once the server accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            # prepare() starts cheroot's worker threads. Called here, they inherit this thread's
            # daemon flag: a server its owner forgot to stop never keeps the interpreter from
            # exiting (from the main thread they would, and pytest would hang after its summary).
            try:
                self._server.prepare()
            except BaseException as exc:  # handed to start()'s caller below
                failure.append(exc)
                return
            finally:
                ready.set()
            self._server.serve()

        self._thread = threading.Thread(target=run, name=f"{self._server.server_name}-{self.port}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    def stop(self) -> None:
        """Stop accepting, finish the requests in progress, and release the port."""
        if self._server.ready:
            self._server.stop()
        self._socket.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
            self._thread = None
