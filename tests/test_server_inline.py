"""Requests the event loop serves itself (WSGIServer's `inline` policy, which the Streamster emulator
uses for its SOAP calls): the reply is the same as a worker's, in one write; pipelined requests,
large replies and failures are handled; a request the policy does not take (or a policy that fails)
goes to a worker, and a worker that sleeps holds up none of the inline requests."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_common import server as server_module
from mock_common.faults import GROUP_KEY
from mock_common.persist import StateFileError
from mock_common.server import WSGIServer
from mock_streamster import StreamsterMock

from .soaputil import envelope

NS = "http://www.marketiva.com/streamster/api"


def _app(seen: list[str]) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(threading.current_thread().name)
        path = environ["PATH_INFO"]
        if path == "/boom":
            raise RuntimeError("the application failed")
        if path == "/sleep":
            time.sleep(1.5)
        if path == "/big":  # two chunks, 24 MiB in all: over waitress's 16 MiB high-water mark
            start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(24 << 20))])
            return iter([b"a" * (12 << 20), b"b" * (12 << 20)])
        body = f"{environ['REQUEST_METHOD']} {path} {environ['wsgi.input'].read().decode()}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


@pytest.fixture
def served() -> Iterator[tuple[WSGIServer, list[str]]]:
    seen: list[str] = []

    def policy(method: str, path: str) -> bool:
        if path == "/policy-fails":
            raise ValueError("the policy failed")
        return method == "POST" and path != "/sleep"

    server = WSGIServer(_app(seen), threads=2, name="inline", inline=policy)
    server.start()
    try:
        yield server, seen
    finally:
        server.stop()


def _post(port: int, path: str, body: bytes = b"x") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def test_a_request_the_policy_takes_is_served_by_the_event_loop_and_others_by_a_worker(
    served: tuple[WSGIServer, list[str]],
) -> None:
    server, seen = served
    assert _post(server.port, "/a", b"hello") == (200, b"POST /a hello")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/b")
    assert conn.getresponse().read() == b"GET /b "
    conn.close()
    assert _post(server.port, "/policy-fails") == (200, b"POST /policy-fails x")  # a failing policy: a worker
    loop, worker, failed = seen
    assert loop == f"inline-{server.port}"
    assert worker.startswith(f"inline-{server.port}-worker-") and failed.startswith(f"inline-{server.port}-worker-")


def test_a_reply_goes_out_in_one_write_with_its_header(
    served: tuple[WSGIServer, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = served
    sent: list[bytes] = []
    original = server_module._Channel.send

    def send(self: Any, data: Any, do_close: bool = True) -> int:
        sent.append(bytes(data))
        return int(original(self, data, do_close))

    monkeypatch.setattr(server_module._Channel, "send", send)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for path in ("/one", "/two"):
        sent.clear()
        conn.request("POST", path, b"body")
        assert conn.getresponse().read() == f"POST {path} body".encode()
        assert len(sent) == 1 and sent[0].startswith(b"HTTP/1.1 200 OK") and sent[0].endswith(b"body"), sent
    sent.clear()
    conn.request("GET", "/three")  # a worker's reply too
    assert conn.getresponse().read() == b"GET /three "
    assert len(sent) == 1, sent
    conn.close()


def test_pipelined_requests_are_answered_in_order(served: tuple[WSGIServer, list[str]]) -> None:
    server, _ = served
    one = b"POST /p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1"
    two = b"POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n2"
    three = b"GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(one + two + three)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    bodies = [part.split(b"\r\n\r\n", 1)[1][: len(b"POST /p1 1")] for part in data.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"POST /p1 1", b"POST /p2 2", b"GET /p3 "], data


def test_a_reply_over_the_high_water_mark_in_chunks_is_sent_whole(served: tuple[WSGIServer, list[str]]) -> None:
    server, seen = served
    status, body = _post(server.port, "/big")
    assert status == 200 and len(body) == 24 << 20 and body[:1] == b"a" and body[-1:] == b"b"
    assert seen == [f"inline-{server.port}"]
    assert _post(server.port, "/after") == (200, b"POST /after x")


def test_an_application_failure_on_the_event_loop_gets_500_and_the_server_goes_on(
    served: tuple[WSGIServer, list[str]],
) -> None:
    server, _ = served
    status, _ = _post(server.port, "/boom")
    assert status == 500
    assert _post(server.port, "/after") == (200, b"POST /after x")


def test_a_sleeping_worker_holds_up_no_request_the_event_loop_serves(served: tuple[WSGIServer, list[str]]) -> None:
    server, _ = served
    done: list[str] = []
    sleeper = threading.Thread(target=lambda: done.append(str(_post(server.port, "/sleep")[0])))
    sleeper.start()
    time.sleep(0.2)  # the sleeper is in the application
    results = [_post(server.port, f"/n{i}") for i in range(20)]
    done.append("inline")
    sleeper.join(10)
    assert results == [(200, f"POST /n{i} x".encode()) for i in range(20)]
    assert done == ["inline", "200"]


def test_many_clients_at_once_on_the_event_loop(served: tuple[WSGIServer, list[str]]) -> None:
    server, _ = served
    failures: list[Any] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for i in range(50):
            conn.request("POST", f"/c{n}", str(i).encode())
            reply = conn.getresponse()
            body = reply.read()
            if (reply.status, body) != (200, f"POST /c{n} {i}".encode()):
                failures.append((n, i, reply.status, body))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []


def _soap(port: int, action: str, body: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST", "/endpoint", envelope(body).encode(),
            {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'},
        )  # fmt: skip
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def test_streamster_calls_go_to_a_worker_while_a_delay_is_queued_and_others_are_not_held_up() -> None:
    with StreamsterMock(seed=1) as mock:
        assert mock._serves_inline("POST", "/endpoint")
        assert not mock._serves_inline("GET", "/service.wsdl")
        assert not mock._serves_inline("POST", "/_mock/reset")
        mock.fail("GetQuote", kind="delay", seconds=1.5, times=1)
        assert not mock._serves_inline("POST", "/endpoint")
        order: list[str] = []
        quote = f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'
        slow = threading.Thread(target=lambda: order.append(f"quote {_soap(mock.port, 'GetQuote', quote)[0]}"))
        slow.start()
        deadline = time.monotonic() + 10
        while mock.controller.faults.delays():
            assert time.monotonic() < deadline
            time.sleep(0.01)  # until the delay is taken (it is no longer queued)
        for _ in range(5):
            status, _ = _soap(mock.port, "GetDesks", "")
            order.append(f"desks {status}")
        slow.join(10)
        assert order == ["desks 200"] * 5 + ["quote 200"]
        assert mock._serves_inline("POST", "/endpoint")


def test_calls_the_loop_serves_in_one_turn_share_one_commit_and_wait_for_it() -> None:
    events: list[str] = []

    def commit() -> None:
        events.append("commit")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/block":
            time.sleep(0.5)  # the loop is busy: the next requests all wait to be read in one turn
        events.append(f"call {path}")
        environ[GROUP_KEY](commit, lambda failure: events.append(f"finish {path} {failure}"))
        start_response("200 OK", [("Content-Length", str(len(path)))])
        return [path.encode()]

    server = WSGIServer(app, threads=2, name="group", inline=lambda method, path: True)
    server.start()
    try:
        conns = {p: http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) for p in ("/a", "/b", "/c")}
        for conn in conns.values():
            conn.connect()  # accepted before the loop is busy: their requests are read in one turn
        time.sleep(0.2)
        blocker = threading.Thread(target=_post, args=(server.port, "/block"))
        blocker.start()
        time.sleep(0.2)  # /block is being served
        replies: dict[str, tuple[int, bytes]] = {}

        def call(path: str) -> None:
            conns[path].request("POST", path, b"x")
            reply = conns[path].getresponse()
            replies[path] = (reply.status, reply.read())

        clients = [threading.Thread(target=call, args=(p,)) for p in conns]
        for t in clients:
            t.start()
        blocker.join(10)
        for t in clients:
            t.join(10)
        for conn in conns.values():
            conn.close()
    finally:
        server.stop()
    assert replies == {p: (200, p.encode()) for p in ("/a", "/b", "/c")}
    assert events[:3] == ["call /block", "commit", "finish /block None"]
    rest = events[3:]
    assert sorted(rest[:3]) == ["call /a", "call /b", "call /c"] and rest[3] == "commit", events
    assert sorted(rest[4:]) == ["finish /a None", "finish /b None", "finish /c None"], events


def test_a_commit_that_fails_answers_500_journals_it_and_the_next_call_is_saved(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = (
        f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Desk>Virtual Forex</Desk><Side>BUY</Side>'
        "<Quantity>1</Quantity></Order>"
    )
    with StreamsterMock(seed=1, state=tmp_path / "s.db") as mock:
        assert mock.persister is not None
        file = mock.persister.file
        real_write = file.write

        def refuse(changes: Any) -> None:
            raise StateFileError(f"state file {str(file.path)!r} could not be written: No space left on device")

        monkeypatch.setattr(file, "write", refuse)
        status, body = _soap(mock.port, "SendOrder", order)
        assert status == 500 and b"could not save its state" in body and b"No space left" in body
        assert mock.controller.journal.entries()[-1].status == 500
        monkeypatch.setattr(file, "write", real_write)
        status, body = _soap(mock.port, "SendOrder", order)
        assert status == 200, body
        assert mock.controller.journal.entries()[-1].status == 200
