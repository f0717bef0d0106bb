"""A production WSGI server (waitress) that runs in a background thread or the foreground.

waitress reads every connection in one event loop and hands a worker thread only a request it
has read whole (headers and body), so idle keep-alive connections, silent ones and clients that
dribble their headers cost a file descriptor, never a worker. What cannot be served is answered:
a connection over the limit and a request that finds the queue full get 503 with Retry-After,
and malformed framing (a bad chunk size, a bad Content-Length) gets 400 in the emulator's own
error format. That is done by extending waitress's own (private) channel, task, dispatcher and server
classes: pyproject.toml keeps waitress to the major version they were written for, and
tests/test_waitress_hooks.py names any of those hooks a release changes.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error

from .faults import DROP_KEY, GROUP_KEY

log = logging.getLogger(__name__)

CHANNEL_KEY = "broker_mocks.channel"
SOCKET_KEY = "broker_mocks.socket"
TASK_KEY = "broker_mocks.task"
RETRY_AFTER = "1"
CONNECTION_LIMIT = 1000
QUEUE_LIMIT = 512
QUEUE_WAIT = 10.0
IDLE_TIMEOUT = 120
REFUSALS_HELD = 128

#: (HTTP status code, what is wrong) -> (Content-Type, body): an error in the emulator's own words.
ErrorBody = Callable[[int, str], tuple[str, bytes]]

#: (method, path) -> whether the event loop may serve this request itself, with no worker (see WSGIServer).
InlinePolicy = Callable[[str, str], bool]


def plain_error(code: int, text: str) -> tuple[str, bytes]:
    """The default error body: the text as text/plain."""
    return "text/plain; charset=utf-8", text.encode()


def drop_connection(environ: dict[str, Any]) -> None:
    """Reset the client's connection (no response at all), as a failing peer would.

    The socket is shut down at once, so the client sees the connection end now; the channel is
    marked disconnected, so whatever the application returns afterwards is discarded and the event
    loop closes the socket with SO_LINGER 0 (an RST for anything the client sends after). Without a
    server, `environ[SOCKET_KEY]` names the socket (or a stand-in) to shut down.
    """
    channel = environ.get(CHANNEL_KEY)
    sock = channel.socket if channel is not None else environ.get(SOCKET_KEY)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already gone: nothing left to drop
        pass
    if channel is not None:
        channel.connected = False
        channel.server.pull_trigger()


class _FramingError(Error):
    """A request waitress refused while reading it, answered in the emulator's error format."""

    def __init__(self, original: Error, error_body: ErrorBody) -> None:
        super().__init__(original.body)
        self.code, self.reason = original.code, original.reason
        self._error_body = error_body

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        text = f"{self.reason}: {self.body}" if self.body else self.reason
        ctype, body = self._error_body(self.code, text)
        return f"{self.code} {self.reason}", [("Content-Type", ctype)], body


class _Task(WSGITask):
    """waitress's WSGI task, plus the channel in the environ so a fault can drop the connection."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ[CHANNEL_KEY] = self.channel
        environ[TASK_KEY] = self
        server = self.channel.server
        if server.inline_thread == threading.get_ident():
            environ[GROUP_KEY] = server.group_for(self.channel)
        return environ

    def write(self, data: bytes) -> None:
        # waitress sends the header and the body apart (two writes, two TCP segments, and a client
        # that wakes up twice); the first body chunk goes out with the header in one write instead.
        if self.wrote_header or not data or not self.complete:
            super().write(data)
            return
        head = self.build_response_header()  # decides has_body and chunked_response
        self.wrote_header = True
        room = None if self.content_length is None else self.content_length - self.content_bytes_written
        if self.has_body and not self.chunked_response and (room is None or len(data) <= room):
            self.content_bytes_written += len(data)
            self.channel.write_soon(head + data)
            return
        self.channel.write_soon(head)
        super().write(data)  # the header is out: waitress's own handling of the body (chunks, excess)

    def service(self) -> None:
        try:
            super().service()
        finally:
            # The environ and the task refer to each other: part them now, so a request leaves no
            # cycle for the collector (fewer collections, shorter pauses).
            if self.environ is not None:
                self.environ.pop(TASK_KEY, None)
                self.environ.pop(CHANNEL_KEY, None)
                self.environ.pop(GROUP_KEY, None)


def _connection_header(app: Callable[..., Any]) -> Callable[..., Any]:
    """Let the application say `Connection: close` (PEP 3333 leaves that header to the server), and
    reset the connection when the application asked for a drop (`faults.DROP_KEY`)."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            close = False
            if any(k.lower() == "connection" for k, _ in headers):
                close = any(k.lower() == "connection" and v.strip().lower() == "close" for k, v in headers)
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
            write = start_response(status, headers, exc_info)
            if close:
                environ[TASK_KEY].set_close_on_finish()
            return write

        result = app(environ, start)
        if environ[TASK_KEY].channel.server.inline_thread == threading.get_ident():
            # Served by the event loop: the reply goes out in one write (waitress waits for the loop to
            # send before a write that finds over 16 MiB unsent, and the loop cannot wait for itself).
            parts = result
            try:
                result = [b"".join(parts)]
            finally:
                close = getattr(parts, "close", None)
                if close is not None:
                    close()
        if environ.get(DROP_KEY):  # an injected drop: reset now that the call is journaled
            drop_connection(environ)
        return result

    return wrapped


class _ErrorTask(ErrorTask):
    """waitress's error task (a request it could not read), with the body in the emulator's format."""

    def execute(self) -> None:
        error = self.request.error
        if not isinstance(error, _FramingError):
            self.request.error = _FramingError(error, self.channel.server.error_body)
        log.info("refused a malformed request: %s %s", error.code, error.body)
        super().execute()


class _Channel(HTTPChannel):
    task_class = _Task
    error_task_class = _ErrorTask
    inline_ready = False  # a request read whole that the event loop serves itself (_Server.add_task)

    def handle_read(self) -> None:
        super().handle_read()
        if not self.inline_ready:
            return
        self.inline_ready = False
        server = self.server
        if len(self.requests) != 1 or self.total_outbufs_len:
            # Pipelined requests, or a reply still unsent: waitress's own path (a worker may wait for
            # the loop to send; the loop cannot wait for itself).
            with self.requests_lock:
                server.queue(self)
            return
        if server.held:
            # A call served after one whose commit waits sees its change: it waits for that commit too.
            server.hold(self, None)
        server.inline_thread = threading.get_ident()
        try:
            self.service()
        except Exception:  # waitress's service() answers the application's errors; this is anything else
            log.exception("serving a request on the event loop failed: the connection is closed")
            self.handle_close()
            return
        finally:
            server.inline_thread = None
        if self not in server.held and self.connected and self.total_outbufs_len:
            self.handle_write()  # send now, not after another turn of the loop

    def write_soon(self, data: bytes) -> int:
        if self not in self.server.held:
            return int(super().write_soon(data))
        if not self.connected:
            raise ClientDisconnected
        with self.outbuf_lock:  # kept, not sent: _Server.release sends it after the commit
            self.outbufs[-1].append(data)
            self.current_outbuf_count += len(data)
            self.total_outbufs_len += len(data)
        return len(data)

    def replace_output(self, reply: bytes) -> None:
        """Put `reply` in place of the held reply (the only output waiting: see handle_read)."""
        with self.outbuf_lock:
            for buffer in self.outbufs:
                buffer.close()
            self.outbufs = [OverflowableBuffer(self.adj.outbuf_overflow)]
            self.outbufs[-1].append(reply)
            self.current_outbuf_count = self.total_outbufs_len = len(reply)


def _http_reply(status: str, headers: list[tuple[str, str]], body: bytes, close: bool = False) -> bytes:
    """A whole HTTP/1.1 response, Content-Length set; `close` adds Connection: close."""
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"] + (["Connection: close"] if close else [])
    head += [f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "connection")]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class _Dispatcher(ThreadedTaskDispatcher):
    """waitress's worker pool with named daemon threads."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def start_new_thread(self, target: Callable[[int], None], thread_no: int) -> None:
        threading.Thread(target=target, name=f"{self.name}-worker-{thread_no}", args=(thread_no,), daemon=True).start()


class _Refusal(wasyncore.dispatcher):  # type: ignore[misc]
    """A connection over the limit: the 503 is sent at once; what the client sends is read and
    dropped until it closes (at most 2 s), so closing never resets the connection under the reply."""

    def __init__(self, conn: socket.socket, socket_map: dict[int, Any], reply: bytes) -> None:
        super().__init__(conn, map=socket_map)
        self.deadline = time.monotonic() + 2
        try:
            conn.send(reply)  # a few hundred bytes: the socket buffer takes them whole
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()

    def readable(self) -> bool:
        if time.monotonic() > self.deadline:
            self.close()
            return False
        return True

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        self.recv(65536)  # b"" at end-of-stream: wasyncore calls handle_close

    def handle_close(self) -> None:
        self.close()


class _Server(TcpWSGIServer):
    """waitress's TCP server: answers 503 instead of queueing silently, over either limit."""

    channel_class = _Channel
    error_body: ErrorBody = staticmethod(plain_error)  # type: ignore[assignment]
    queue_limit = QUEUE_LIMIT
    queue_wait = QUEUE_WAIT
    inline: InlinePolicy | None = None
    loop_thread: int | None = None  # the event loop's thread (threading.get_ident())
    inline_thread: int | None = None  # set while the event loop serves a request itself
    # channel -> (commit, finish): replies waiting for their turn's commit, in the order served
    held: dict[Any, tuple[Callable[[], None] | None, Callable[[BaseException | None], Any] | None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The loop closes the trigger's pipe when it ends; a stop() or a worker waking it after that
        # would write to a closed (or, worse, reused) descriptor. Closing and pulling share a lock.
        self._trigger_guard = threading.Lock()
        self._trigger_closed = False
        self.held = {}
        super().__init__(*args, **kwargs)

    def pull_trigger(self) -> None:
        if self.inline_thread is not None and threading.get_ident() == self.inline_thread:
            return  # the loop serving a request polls again as soon as it is done: no need to wake it
        with self._trigger_guard:
            if not self._trigger_closed:
                super().pull_trigger()

    def close_all(self, channels: dict[int, Any]) -> None:
        """Close every channel (the trigger among them); the trigger is never pulled afterwards."""
        with self._trigger_guard:
            self._trigger_closed = True
            wasyncore.close_all(channels)

    def readable(self) -> bool:
        # waitress stops accepting at the connection limit, leaving clients in the kernel's backlog
        # with no answer; we keep accepting and answer those over the limit (handle_accept).
        now = time.time()
        if now >= self.next_channel_cleanup:  # waitress's periodic maintenance: idle channels close
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        self.expire_waiting()
        return bool(self.accepting)

    def handle_accept(self) -> None:
        if len(self.active_channels) < self.adj.connection_limit:
            super().handle_accept()
            return
        try:
            accepted = self.accept()
        except OSError:
            return
        if accepted is None:
            return
        conn, _ = accepted
        log.warning("connection limit (%d) reached: a new connection gets 503", self.adj.connection_limit)
        ctype, body = self.error_body(503, f"The server has {self.adj.connection_limit} connections open; retry later.")
        reply = _http_reply(
            "503 Service Unavailable", [("Content-Type", ctype), ("Retry-After", RETRY_AFTER)], body, close=True
        )
        if len(self._map) - len(self.active_channels) > REFUSALS_HELD:
            conn.close()  # a flood: no descriptors left to spend on courtesy
            return
        _Refusal(conn, self._map, reply)

    def add_task(self, channel: Any) -> None:
        # Called with channel.requests_lock held, by the event loop (a request read whole) or a
        # worker (the next pipelined request): a full queue answers 503 right away and closes.
        if self._serves_inline(channel):
            channel.inline_ready = True  # served by _Channel.handle_read once requests_lock is released
            return
        self.queue(channel)

    def queue(self, channel: Any) -> None:
        """Hand the channel's request to the worker pool, or answer 503 when the queue is full
        (channel.requests_lock held)."""
        if len(self.task_dispatcher.queue) < self.queue_limit:
            channel.queued_at = time.monotonic()
            super().add_task(channel)
            return
        log.warning("request queue full (%d waiting): a request gets 503", self.queue_limit)
        self._refuse(channel, f"{self.queue_limit} requests are waiting for a worker; retry later.")

    def group_for(self, channel: Any) -> Callable[[Callable[[], None], Callable[[BaseException | None], Any]], None]:
        """The GROUP_KEY hook of a request the loop serves: its reply is held, and its commit made
        (once for every call the loop served in this turn) before any of them is sent."""
        return lambda commit, finish: self.hold(channel, commit, finish)

    def hold(self, channel: Any, commit: Callable[[], None] | None, finish: Any = None) -> None:
        """Keep the channel's reply until release(): after `commit`, `finish(None)` (or, when the commit
        failed, `finish(error)`, which gives the reply to send instead)."""
        if commit is not None or channel not in self.held:  # held after another call's commit: now its own too
            self.held[channel] = (commit, finish)

    def release(self) -> None:
        """After a turn of the loop: the held calls' commits (each commit once, in order), then their
        replies, each the one `finish` gives when its commit failed."""
        held, self.held = self.held, {}
        if not held:
            return
        failures: dict[Any, BaseException | None] = {}
        for commit, _ in held.values():
            if commit is not None and commit not in failures:
                try:
                    commit()
                    failures[commit] = None
                except Exception as exc:  # noqa: BLE001 - each call's finish words it; the loop goes on
                    failures[commit] = exc
        for channel, (commit, finish) in held.items():
            if finish is not None:
                try:
                    instead = finish(failures.get(commit))
                except Exception:  # a failure journaling the call must not keep its reply from the client
                    log.exception("finishing a call after its commit failed")
                    instead = None
                if instead is not None:
                    channel.replace_output(_http_reply(*instead))
            if channel.connected and channel.total_outbufs_len:
                channel.handle_write()

    def _serves_inline(self, channel: Any) -> bool:
        """Whether the event loop serves the channel's request itself: only when the policy says so
        for its method and path, and only on the loop's own thread (a worker that finished the request
        before a pipelined one hands that one to the pool, as waitress does)."""
        if self.inline is None or threading.get_ident() != self.loop_thread:
            return False
        request = channel.requests[0]
        if request.error:
            return False
        try:
            return bool(self.inline(request.command, request.path))
        except Exception:  # a policy that fails serves the request the usual way
            log.exception("the inline policy failed for %s %s", request.command, request.path)
            return False

    def _refuse(self, channel: Any, text: str) -> None:
        """Answer the channel's request with 503 and close (channel.requests_lock held)."""
        ctype, body = self.error_body(503, text)
        reply = _http_reply(
            "503 Service Unavailable", [("Content-Type", ctype), ("Retry-After", RETRY_AFTER)], body, close=True
        )
        with channel.outbuf_lock:
            channel.outbufs[-1].append(reply)
            channel.total_outbufs_len += len(reply)
        for request in channel.requests:
            request.close()
        channel.requests = []
        channel.close_when_flushed = True
        self.pull_trigger()

    def expire_waiting(self) -> None:
        """Answer 503 to the requests that waited `queue_wait` seconds for a worker (every worker
        busy, say with injected delays): the event loop does it, as the workers cannot."""
        queue, cutoff = self.task_dispatcher.queue, time.monotonic() - self.queue_wait
        if not queue or getattr(queue[0], "queued_at", cutoff) >= cutoff:
            return
        expired = []
        with self.task_dispatcher.lock:
            while queue and getattr(queue[0], "queued_at", cutoff) < cutoff:
                expired.append(queue.popleft())
        for channel in expired:
            log.warning("a request waited %.0f s for a worker: it gets 503", self.queue_wait)
            with channel.requests_lock:
                self._refuse(
                    channel, f"All {self.adj.threads} workers were busy for {self.queue_wait:g} s; retry later."
                )


def _descriptor_budget(connections: int) -> int:
    """How many connections the process can hold: the soft descriptor limit is raised toward
    `connections` (plus room for files and the like) within the hard limit; returns what fits.

    At the limit accept() would fail over and over with the listening socket still readable (a busy
    loop); staying under it, a connection over the budget gets its 503 instead."""
    try:
        import resource
    except ImportError:  # not a Unix: no such limit to manage
        return connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        except (ValueError, OSError):
            pass
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return connections
    return max(1, min(connections, soft - 256))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            # A "::" bind also takes IPv4 peers; any other IPv6 address only IPv6 ones.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if host in ("::", "::0") else 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class WSGIServer:
    """Serves one WSGI app on host:port (0 = a free port): one event loop, a pool of worker threads.

    `connection_limit` connections are served at once (more get 503 with Retry-After); at most
    `queue_limit` requests wait for a worker (more get 503 with Retry-After), none longer than
    `queue_wait` seconds (then it gets 503 with Retry-After). `error_body` words
    the errors the server gives itself (malformed framing, 503) in the application's format.
    `inline(method, path)` names the requests the event loop serves itself, with no worker: their
    replies go out in one write, and the calls of one turn of the loop may share one commit
    (`faults.GROUP_KEY`); a request that may block (a sleep, a stream) must be left to the workers.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 16,
        name: str = "broker-mocks",
        *,
        connection_limit: int = CONNECTION_LIMIT,
        queue_limit: int = QUEUE_LIMIT,
        queue_wait: float = QUEUE_WAIT,
        idle_timeout: int = IDLE_TIMEOUT,
        max_body: int = 64 * 1024 * 1024 + 1,
        error_body: ErrorBody = plain_error,
        inline: InlinePolicy | None = None,
    ) -> None:
        sock = _bind(host, port)
        self.name = name
        self.host, self.port = sock.getsockname()[0], sock.getsockname()[1]
        adj = Adjustments(
            sockets=[sock],
            threads=threads,
            ident=name,
            connection_limit=_descriptor_budget(connection_limit),
            channel_timeout=idle_timeout,
            cleanup_interval=min(30, idle_timeout),
            max_request_body_size=max_body,
            asyncore_use_poll=True,  # select() cannot watch more than 1024 descriptors
            clear_untrusted_proxy_headers=False,  # the applications decide whom to trust
            backlog=1024,
        )  # waitress sets TCP_NODELAY on each connection: no 40 ms wait on Nagle and delayed ACKs
        self._map: dict[int, Any] = {}
        self._dispatcher = _Dispatcher(f"{name}-{self.port}")
        try:
            self._server = _Server(
                _connection_header(app), map=self._map, _start=False, _sock=sock, dispatcher=self._dispatcher, adj=adj,
                bind_socket=False, sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
            )  # fmt: skip
        except BaseException:
            sock.close()
            raise
        self._server.error_body = error_body  # type: ignore[assignment]
        self._server.queue_limit = queue_limit
        self._server.queue_wait = queue_wait
        self._server.inline = inline
        self._socket = sock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._serving = False

    def _run(self) -> None:
        """The event loop, until stop(); then the in-flight requests are finished and flushed."""
        self._server.loop_thread = threading.get_ident()
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=1.0, use_poll=True, map=self._map, count=1)
                self._server.release()
            self._server.release()
            self._server.accepting = False
            self._server.del_channel()  # no new connections from here on
            self._socket.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(
                getattr(ch, "requests", None) or getattr(ch, "total_outbufs_len", 0) for ch in list(self._map.values())
            ):
                wasyncore.loop(timeout=0.05, use_poll=True, map=self._map, count=1)
                self._server.release()
        finally:
            self._server.close_all(self._map)
            self._dispatcher.shutdown(timeout=5)
            self._serving = False

    def start(self) -> None:
        """Serve in a daemon thread; returns once the server accepts connections."""
        if self._serving:
            return
        self._begin()
        # A daemon thread (as are the workers): a server its owner forgot to stop never keeps the
        # interpreter from exiting (pytest would hang after its summary).
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() is called from another thread (or a signal handler)."""
        self._begin()
        self._run()

    def _begin(self) -> None:
        if self._stopping.is_set():
            raise RuntimeError(f"{self.name} on port {self.port} was stopped; create a new server")
        self._dispatcher.set_thread_count(self._server.adj.threads)
        self._server.accept_connections()  # listen(): connections are taken from here on
        self._serving = True

    def stop(self) -> None:
        """Stop accepting, finish the requests in progress, and release the port."""
        self._stopping.set()
        if self._thread is None and not self._serving:
            self._socket.close()
            self._server.close_all(self._map)
            return
        self._server.pull_trigger()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
            self._thread = None
