"""The server under hostile connection patterns: idle keep-alive, silent and slowloris connections
never keep a well-formed request from being served; what cannot be served is answered (503 with
Retry-After), never queued in silence; malformed framing gets 400 in the emulator's own format."""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from mock_common.server import WSGIServer
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock

from .soaputil import element, envelope

IDLE, SILENT, SLOWLORIS = 200, 50, 50


@pytest.fixture(autouse=True)
def _enough_descriptors() -> None:
    # Each connection costs a descriptor at both ends (this process holds both).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * (IDLE + SILENT + SLOWLORIS) + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted, hard)
        )


def _raw(port: int, data: bytes) -> bytes:
    """Send `data` on a new connection and read the whole reply (the server closes after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def _read_response(sock: socket.socket) -> bytes:
    """One HTTP response with a Content-Length, read from a keep-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return head + b"\r\n\r\n" + body


class _Emulator:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.mock: Any = StreamsterMock() if kind == "streamster" else InstaForexMock()
        self.port = self.mock.port

    def request(self) -> bytes:
        """A complete keep-alive request the emulator answers with 200."""
        if self.kind == "streamster":
            body = envelope(element("Instrument", "EUR/USD")).encode()
            head = "POST /endpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"
            head += f'SOAPAction: "GetQuote"\r\nContent-Length: {len(body)}\r\n\r\n'
            return head.encode() + body
        return b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    def served(self) -> int:
        """A well-formed request by an ordinary client: the status."""
        if self.kind == "streamster":
            body = envelope(element("Instrument", "EUR/USD"))
            r = requests.post(
                f"{self.mock.url}/endpoint", data=body, timeout=10,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'},
            )  # fmt: skip
        else:
            r = requests.post(
                f"{self.mock.url}api/Authentication/RequestClientApiToken",
                json={"Login": 20000001, "Password": "demo-pass"}, timeout=10,
            )  # fmt: skip
        return r.status_code


@pytest.fixture(params=["streamster", "instaforex"])
def emulator(request: pytest.FixtureRequest) -> Iterator[_Emulator]:
    e = _Emulator(request.param)
    with e.mock:
        yield e


def test_idle_silent_and_slowloris_connections_never_hold_a_request_back(emulator: _Emulator) -> None:
    port, request = emulator.port, emulator.request()
    opened: list[socket.socket] = []
    stop = threading.Event()
    try:
        idle = []
        for _ in range(IDLE):  # keep-alive connections that were served once and then stay quiet
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            opened.append(s)
            s.sendall(request)
            assert _read_response(s).startswith(b"HTTP/1.1 200")
            idle.append(s)
        for _ in range(SILENT):  # connected, never a byte sent
            opened.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(SLOWLORIS)]
        opened += slow

        def dribble() -> None:  # slowloris: the same request, one byte per connection at a time
            for i in range(len(request)):
                if stop.wait(0.05):
                    return
                for s in slow:
                    s.sendall(request[i : i + 1])

        dribbler = threading.Thread(target=dribble, daemon=True)
        dribbler.start()
        # 16 worker threads and 300 connections held open: the well-formed requests are served all
        # the same (a worker-per-connection pool waits for the idle ones to time out: 30 s and more).
        for _ in range(5):
            assert emulator.served() == 200
        for s in idle[:: IDLE // 10]:  # the idle connections were kept: they are served again
            s.sendall(request)
            assert _read_response(s).startswith(b"HTTP/1.1 200")
        stop.set()
        dribbler.join(timeout=10)
    finally:
        stop.set()
        for s in opened:
            s.close()
    assert emulator.served() == 200


def test_slowloris_request_is_served_once_complete() -> None:
    with StreamsterMock() as mock:
        body = envelope(element("Instrument", "EUR/USD")).encode()
        head = f'POST /endpoint HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nSOAPAction: "GetQuote"\r\nContent-Length: {len(body)}\r\n\r\n'
        data = head.encode() + body
        with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as s:
            for i in range(0, len(data), 40):
                s.sendall(data[i : i + 40])
                time.sleep(0.005)
            assert _read_response(s).startswith(b"HTTP/1.1 200")


def _app(release: threading.Event) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ["PATH_INFO"] == "/wait":
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    return app


def test_a_connection_over_the_limit_gets_503_with_retry_after() -> None:
    server = WSGIServer(_app(threading.Event()), connection_limit=3, name="limited")
    server.start()
    try:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
        time.sleep(0.3)  # the event loop takes them in
        reply = _raw(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in reply, reply
        assert b"3 connections" in reply
        for s in held:
            s.close()
        time.sleep(0.3)
        assert _raw(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
    finally:
        server.stop()


def test_a_request_finding_the_queue_full_gets_503_at_once() -> None:
    release = threading.Event()
    server = WSGIServer(_app(release), threads=1, queue_limit=1, name="queued")
    server.start()
    try:
        replies: dict[str, bytes] = {}

        def fetch(name: str, path: str) -> None:
            replies[name] = _raw(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

        busy = threading.Thread(target=fetch, args=("busy", "/wait"))
        busy.start()
        time.sleep(0.3)  # the only worker now waits
        waiting = threading.Thread(target=fetch, args=("waiting", "/"))
        waiting.start()
        time.sleep(0.3)  # one request queued: the queue is full
        fetch("refused", "/")  # answered while the worker is still busy
        assert replies["refused"].startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in replies["refused"]
        assert "busy" not in replies and "waiting" not in replies
        release.set()
        busy.join(10)
        waiting.join(10)
        assert replies["busy"].startswith(b"HTTP/1.1 200") and replies["waiting"].startswith(b"HTTP/1.1 200")
    finally:
        release.set()
        server.stop()


def test_a_request_no_worker_takes_in_time_gets_503_while_the_workers_stay_busy() -> None:
    release = threading.Event()
    server = WSGIServer(_app(release), threads=1, queue_wait=0.5, name="waiting")
    server.start()
    try:
        replies: dict[str, bytes] = {}

        def fetch(name: str, path: str) -> None:
            replies[name] = _raw(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

        busy = threading.Thread(target=fetch, args=("busy", "/wait"))
        busy.start()
        time.sleep(0.3)  # the only worker now waits (up to 10 s) for the release
        fetch("waited", "/")  # queued; answered by the event loop once it has waited 0.5 s
        assert replies["waited"].startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in replies["waited"]
        assert b"busy for 0.5 s" in replies["waited"] and "busy" not in replies
        release.set()
        busy.join(10)
        assert replies["busy"].startswith(b"HTTP/1.1 200")
    finally:
        release.set()
        server.stop()


BAD_FRAMING = {
    "bad chunk size": b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "bad content length": b"Content-Length: 12abc\r\n\r\n",
    "two content lengths": b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMING))
def test_malformed_framing_gets_400_in_the_emulators_format(case: str) -> None:
    with StreamsterMock() as s, InstaForexMock() as i:
        before = s.snapshot()
        reply = _raw(s.port, b'POST /endpoint HTTP/1.1\r\nHost: x\r\nSOAPAction: "GetDesks"\r\n' + BAD_FRAMING[case])
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), reply
        assert b"text/xml" in head and b"<faultcode>soap:Client</faultcode>" in body, reply
        assert s.snapshot() == before
        reply = _raw(
            i.port, b"POST /api/Authentication/RequestClientApiToken HTTP/1.1\r\nHost: x\r\n" + BAD_FRAMING[case]
        )
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head, reply
        assert json.loads(body)["Message"].startswith("Bad Request")
        assert urllib.request.urlopen(s.wsdl_url, timeout=10).status == 200  # still serving
        assert urllib.request.urlopen(i.url + "openapi.json", timeout=10).status == 200


def test_serve_forever_serves_in_the_calling_thread_until_stopped() -> None:
    server = WSGIServer(_app(threading.Event()), name="foreground")
    runner = threading.Thread(target=server.serve_forever)
    runner.start()
    try:
        reply = b""
        for _ in range(100):  # listening once serve_forever() has begun
            with contextlib.suppress(ConnectionRefusedError):
                reply = _raw(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                break
            time.sleep(0.05)
        assert reply.startswith(b"HTTP/1.1 200")
    finally:
        server.stop()
        runner.join(10)
    assert not runner.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2)
