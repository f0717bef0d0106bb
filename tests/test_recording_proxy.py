"""The record proxy and the replay server (issue 19, items 1-6): origin-form targets only, the upstream URL
built by parsing, a bounded upstream answer, a total deadline, the API recorded alone, the Host guard and
the soap:address written as the emulators write it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from broker_mocks.client import StreamsterClient
from mock_common.guard import server_base
from mock_common.pipeline import Pipeline
from mock_common.recording import RecorderServer, RecordingSession, load
from mock_common.recording.cassette import MIB
from mock_common.recording.targets import absolute_url, relative_url, upstream_url
from mock_common.recording.wire import RecordingApi
from mock_instaforex import InstaForexMock
from mock_instaforex.recording import PROFILE as INSTAFOREX
from mock_streamster import StreamsterMock
from mock_streamster.recording import PROFILE as STREAMSTER
from mock_streamster.recording import check_cassette as check_streamster

from .cassette_sessions import STREAMSTER_CLIENT

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.novativa.com/ws/streamsterapi"


# ----------------------------------------------------------------------------- helpers


class Listener:
    """A TCP listener on 127.0.0.1 that notes every connection and answers it with `serve` (in a thread)."""

    def __init__(self, serve: Callable[[socket.socket], None] | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.contacted = threading.Event()
        self.serve = serve
        self.threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.contacted.set()
            t = threading.Thread(target=self._one, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                if self.serve is not None:
                    self.serve(conn)
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for t in self.threads:
            t.join(15)


@pytest.fixture
def listener() -> Iterator[Callable[..., Listener]]:
    made: list[Listener] = []

    def make(serve: Callable[[socket.socket], None] | None = None) -> Listener:
        made.append(Listener(serve))
        return made[-1]

    yield make
    for one in made:
        one.close()


def raw_request(port: int, text: str, timeout: float = 10) -> bytes:
    """Send `text` as it is on a new connection and read the whole answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(text.encode("latin-1"))
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def _soap(action: str, body: str) -> tuple[bytes, dict[str, str]]:
    xml = f'<s:Envelope xmlns:s="{ENV}"><s:Body>{body}</s:Body></s:Envelope>'
    return xml.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


# ----------------------------------------------------------------------------- 1, 2: targets and URLs


@pytest.mark.parametrize("target", ["@127.0.0.1:{port}/x", "http://127.0.0.1:{port}/x", "x", "*"])
def test_a_target_that_is_not_origin_form_is_refused_before_anything_is_sent(
    tmp_path: Path, listener: Callable[..., Listener], target: str
) -> None:
    canary = listener()  # the host a glued-on authority would reach
    path = tmp_path / "t.yaml"
    with InstaForexMock() as mock, RecorderServer(RecordingSession(INSTAFOREX, path, "all", upstream=mock.url)) as rec:
        sent = target.format(port=canary.port)
        answer = raw_request(
            rec.port, f"GET {sent} HTTP/1.1\r\nHost: 127.0.0.1:{rec.port}\r\npasskey: 0123456789abcdef\r\n"
            "Connection: close\r\n\r\n",
        )  # fmt: skip
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"origin-form" in answer or b"not a path" in answer
        assert mock.journal.total == 0  # nothing reached the upstream either
    assert not canary.contacted.wait(0.3)
    assert not path.exists()


def test_the_upstream_url_is_built_by_parsing() -> None:
    assert upstream_url("https://broker.example/api/", "/client/x?next=http://y/") == (
        "https://broker.example/api/client/x?next=http://y/"
    )
    assert upstream_url("http://127.0.0.1:8018", "//evil.example/x") == "http://127.0.0.1:8018//evil.example/x"
    assert absolute_url("/openapi.json?next=http://x/", "http://h:1/") == "http://h:1/openapi.json?next=http://x/"
    assert absolute_url("https://other.example/p", "http://h:1/") == "https://other.example/p"
    assert relative_url("http://h:1/api/x?a=http://b/", "http://h:1/api/") == "/x?a=http://b/"
    assert relative_url("http://h:1.evil/api/x", "http://h:1/api/") == "http://h:1.evil/api/x"
    assert relative_url("http://h:1/apix/y", "http://h:1/api/") == "http://h:1/apix/y"


def test_a_query_holding_a_url_is_forwarded_and_a_network_path_stays_on_the_upstream(
    tmp_path: Path, listener: Callable[..., Listener]
) -> None:
    canary = listener()
    path = tmp_path / "q.yaml"
    with InstaForexMock() as mock, RecorderServer(RecordingSession(INSTAFOREX, path, "all", upstream=mock.url)) as rec:
        r = requests.get(rec.url + "openapi.json?next=http://x/", timeout=10)
        assert r.status_code == 200 and r.json()["openapi"].startswith("3."), r.text[:200]
        answer = raw_request(rec.port, f"GET //127.0.0.1:{canary.port}/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Connection: close\r\n\r\n")  # fmt: skip
        assert answer.startswith(b"HTTP/1.1 404"), answer[:200]  # the upstream's own 404 for that path
    assert not canary.contacted.wait(0.3)
    assert [i.request.url for i in load(path).interactions][0] == "/openapi.json?next=http://x/"


# ----------------------------------------------------------------------------- 3, 4: bounded answers, a deadline


def _huge_declared(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n")
    conn.sendall(b"[" + b"1," * 50_000)
    time.sleep(2)


def _endless_chunks(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    for _ in range(2000):  # 128 MiB at most, cut long before by the recorder
        conn.sendall(b"10000\r\n" + chunk + b"\r\n")


@pytest.mark.parametrize("serve", [_huge_declared, _endless_chunks], ids=["content-length", "chunked"])
def test_an_upstream_answer_over_the_limit_is_a_502_that_says_so_and_nothing_is_recorded(
    tmp_path: Path, listener: Callable[..., Listener], serve: Callable[[socket.socket], None]
) -> None:
    upstream = listener(serve)
    path = tmp_path / "big.yaml"
    session = RecordingSession(INSTAFOREX, path, "all", upstream=upstream.url)
    with RecorderServer(session, max_body=MIB) as rec:
        r = requests.get(rec.url + "client/RequestBalanceInformation/1", timeout=30)
    assert r.status_code == 502, r.text[:300]
    assert "larger than the recorder's limit of 1 MiB" in r.json()["Message"] and "nothing was recorded" in r.text
    assert session.recorded == 0 and not path.exists()


def test_the_default_upstream_limit_is_16_mib() -> None:
    from mock_common.recording.proxy import Forwarder

    assert Forwarder("http://127.0.0.1:1/").max_body == 16 * MIB


def _dribble_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(200):
        conn.sendall(b" ")
        time.sleep(0.2)


def _dribble_headers(conn: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 200:
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


@pytest.mark.parametrize("serve", [_dribble_body, _dribble_headers], ids=["body", "headers"])
def test_a_dribbling_upstream_is_cut_at_the_total_deadline(
    tmp_path: Path, listener: Callable[..., Listener], serve: Callable[[socket.socket], None]
) -> None:
    upstream = listener(serve)
    session = RecordingSession(INSTAFOREX, tmp_path / "slow.yaml", "all", upstream=upstream.url)
    with RecorderServer(session, deadline=1.5) as rec:
        started = time.monotonic()
        r = requests.get(rec.url + "client/RequestBalanceInformation/1", timeout=30)
        took = time.monotonic() - started
    assert r.status_code == 502 and "within the deadline of 1.5 s" in r.json()["Message"], r.text[:300]
    assert took < 10  # a byte every 0.2 s kept a per-read timeout waiting for 40 s or more
    assert session.recorded == 0


def test_a_client_body_over_the_limit_gets_413_in_the_api_format() -> None:
    session = RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")
    with RecorderServer(session) as rec:
        answer = raw_request(rec.port, f"POST /endpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {17 * MIB}\r\n"
                             "Content-Type: text/xml\r\n\r\n")  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 413") and b"faultcode" in answer, answer[:300]


# ----------------------------------------------------------------------------- 5: the API only


def test_the_recorder_records_the_api_only_and_passes_control_and_dashboard_calls_through(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    with StreamsterMock() as mock:
        session = RecordingSession(STREAMSTER, path, "all", upstream=mock.url + "/")
        with RecorderServer(session) as rec:
            assert requests.get(rec.url + "_mock/state", timeout=10).status_code == 200
            assert requests.post(rec.url + "_mock/advance", json={"seconds": 5}, timeout=10).status_code == 200
            assert requests.get(rec.url + "_mock/ui", timeout=10).status_code == 200
            assert requests.get(rec.url + "_mock/ui/data", timeout=10).status_code == 200
            assert requests.get(rec.url + "%5Fmock/state", timeout=10).status_code == 200
            StreamsterClient(rec.url + "service.wsdl", retries=0).get_quote("EUR/USD")
        assert session.passed == 5 and "5 passed through unrecorded" in session.summary()
    cas = load(path)
    assert [i.request.soap_action or i.request.url for i in cas.interactions] == ["/service.wsdl", "GetQuote"]
    assert check_streamster(cas).ok
    with StreamsterMock() as mock:  # --record-all-paths records them too
        everything = RecordingSession(STREAMSTER, tmp_path / "all.yaml", "all", upstream=mock.url + "/",
                                      record_all_paths=True)  # fmt: skip
        with RecorderServer(everything) as rec:
            requests.get(rec.url + "_mock/state", timeout=10)
    assert [i.request.url for i in load(tmp_path / "all.yaml").interactions] == ["/_mock/state"]


def test_the_replay_server_answers_its_journal_and_faults_under_mock_and_nothing_else() -> None:
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        r = requests.get(rep.url + "_mock/state", timeout=10)
        assert r.status_code == 404 and "GET /_mock/journal" in r.json()["routes"], r.text
        assert requests.get(rep.url + "_mock/ui", timeout=10).status_code == 404  # no dashboard
        assert requests.get(rep.url + "_mock/journal", timeout=10).json() == []  # control calls are not journaled
    assert rep.session.engine.misses == []


# ----------------------------------------------------------------------------- 6: Host guard, soap:address


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8018", '127.0.0.1"><x', "127.0.0.1.nip.io", "10.0.0.7"])
def test_the_replay_server_and_the_recorder_refuse_a_rebinding_host(tmp_path: Path, host: str) -> None:
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        r = requests.get(rep.url + "service.wsdl", headers={"Host": host}, timeout=10)
        assert r.status_code == 403 and "DNS rebinding" in r.text and "location=" not in r.text
        assert "<x" not in r.text  # the Host is quoted inside the fault text, escaped
    with StreamsterMock() as mock:
        session = RecordingSession(STREAMSTER, tmp_path / "r.yaml", "all", upstream=mock.url + "/")
        with RecorderServer(session) as rec:
            body, headers = _soap("GetQuote", f'<GetQuote xmlns="{NS}"><Instrument>EUR/USD</Instrument></GetQuote>')
            r = requests.post(rec.url + "endpoint", data=body, headers={**headers, "Host": host}, timeout=10)
        assert r.status_code == 403 and mock.journal.total == 0 and session.recorded == 0


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "app.localhost"])
def test_the_replay_server_serves_a_loopback_host_and_writes_its_own_address(host: str) -> None:
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        r = requests.get(rep.url + "service.wsdl", headers={"Host": host.format(port=rep.port)}, timeout=10)
        assert r.status_code == 200 and f'location="http://127.0.0.1:{rep.port}/endpoint"' in r.text


def _environ(host: str | None, path: str = "/service.wsdl") -> dict[str, Any]:
    import io

    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REQUEST_URI": path, "QUERY_STRING": "",
           "wsgi.input": io.BytesIO(), "SERVER_NAME": "0.0.0.0", "SERVER_PORT": "5555"}  # fmt: skip
    if host is not None:
        env["HTTP_HOST"] = host
    return env


def test_a_wildcard_bind_writes_a_loopback_host_and_nothing_else_into_the_wsdl() -> None:
    session = RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")
    # The address rule alone, no socket on 0.0.0.0: the pipeline a RecorderServer bound there would serve.
    pipeline = Pipeline(RecordingApi(session, None, server_base("0.0.0.0", 5555), addresses=True))
    for host, location in [("localhost:5555", "http://localhost:5555/endpoint"),
                           ("10.1.2.3:5555", "http://127.0.0.1:5555/endpoint"),  # an address: served, not echoed
                           (None, "http://127.0.0.1:5555/endpoint")]:  # fmt: skip
        status, _, body = pipeline.run(_environ(host))
        assert status.startswith("200") and f'location="{location}"'.encode() in body, host
    status, _, body = pipeline.run(_environ('evil.example"><x'))
    assert status.startswith("403") and b"<x" not in body.replace(b"&lt;x", b"")


def test_the_emulator_and_the_recorder_write_the_soap_address_by_one_rule() -> None:
    from mock_streamster.wire import endpoint_address

    for bind in ("0.0.0.0", "::", "127.0.0.1", "::1"):
        for host in ("localhost:5555", "[::1]:5555", "10.1.2.3:5555", 'evil.example"><x', None):
            env = _environ(host)
            assert endpoint_address(bind, 5555)(env) == server_base(bind, 5555)(env) + "endpoint", (bind, host)
    assert server_base("::1", 5555)(_environ(None)) == "http://[::1]:5555/"


def test_rewrite_soap_address_escapes_the_base() -> None:
    from mock_common.recording.profile import rewrite_soap_address

    out = rewrite_soap_address('<soap:address location="http://a/endpoint"/>', 'http://x"><y/')
    assert out == '<soap:address location="http://x&quot;&gt;&lt;y/endpoint"/>'
