"""The recorder and the replay server on the one call pipeline (issue 18, item 1): on a socket and in
process a request takes the same path, is journaled the same way, and can be answered by a queued fault
as an emulator's can; a replay server serves its journal and faults under /_mock/."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_common.recording import InProcess, RecorderServer, RecordingSession, record
from mock_common.recording.profile import ApiProfile
from mock_instaforex import InstaForexMock
from mock_instaforex.recording import PROFILE as INSTAFOREX
from mock_streamster.recording import PROFILE as STREAMSTER

from .cassette_sessions import INSTAFOREX_CLIENT, STREAMSTER_CLIENT

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.novativa.com/ws/streamsterapi"
TOKEN = "00000000000000000000000000000001"  # the InstaForex cassette's (scrubbed) client token
IN_PROCESS_BASE = "http://replay.test/api/"  # a path prefix too: the in-process route takes it off
JSON = {"Content-Type": "application/json"}


def _quote(instrument: str = "EUR/USD") -> tuple[bytes, dict[str, str]]:
    body = (
        f'<s:Envelope xmlns:s="{ENV}"><s:Body><Instrument xmlns="{NS}">{instrument}</Instrument></s:Body></s:Envelope>'
    )
    return body.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'}


@contextmanager
def _replaying(profile: ApiProfile, cassette: Path, transport: str) -> Iterator[tuple[Any, str]]:
    """(the handle, its base URL) of a replay of `cassette` over a socket or in process."""
    session = RecordingSession(profile, cassette, "none")
    if transport == "socket":
        with RecorderServer(session) as server:
            yield server, server.url
    else:
        with InProcess(session, IN_PROCESS_BASE) as route:
            yield route, IN_PROCESS_BASE


# (method, path, body, headers) a client sends; the same over both transports.
Send = tuple[str, str, bytes | None, dict[str, str]]
STREAMSTER_CALLS: list[Send] = [
    ("GET", "service.wsdl", None, {}),
    ("HEAD", "service.wsdl", None, {}),  # not recorded: a miss, and no body
    ("POST", "endpoint", *_quote()),
    ("POST", "endpoint", *_quote("XAU/USD")),  # not in the cassette: a miss, a soap:Client fault
    ("GET", "nothing", None, {}),
]
INSTAFOREX_CALLS: list[Send] = [
    ("GET", "client/RequestBalanceInformation/90000001", None, {"passkey": TOKEN}),
    ("GET", "Client/requestbalanceinformation/90000001/", None, {"passkey": TOKEN}),  # named as the emulator does
    ("GET", "client/RequestOpenTrades/90000001", None, {"passkey": "f" * 32}),  # a miss: a token never issued
    ("GET", "openapi.json", None, {}),  # a document, not a call: no route name (and not recorded)
]


def _run(handle: Any, base: str, calls: list[Send]) -> tuple[list[Any], list[dict[str, Any]]]:
    """What a client saw of each call (the base URL made neutral) and the journal's entries."""
    seen = []
    for method, path, body, headers in calls:
        r = requests.request(method, base + path, data=body, headers=headers, timeout=10)
        seen.append((r.status_code, r.headers.get("Content-Type"), r.content.replace(base.encode(), b"<base>/")))
    entries = []
    for e in handle.journal.entries():
        entry = {k: v for k, v in e.to_dict().items() if k not in ("duration_ms", "time")}
        entry["response"] = (entry["response"] or "").replace(base, "<base>/")
        entries.append(entry)
    return seen, entries


@pytest.mark.parametrize(
    ("profile", "cassette", "calls"), [(STREAMSTER, STREAMSTER_CLIENT, STREAMSTER_CALLS),
                                       (INSTAFOREX, INSTAFOREX_CLIENT, INSTAFOREX_CALLS)],
    ids=["streamster", "instaforex"],
)  # fmt: skip
def test_a_replay_answers_and_journals_alike_over_a_socket_and_in_process(
    profile: ApiProfile, cassette: Path, calls: list[Send]
) -> None:
    with _replaying(profile, cassette, "socket") as (server, base):
        over_socket = _run(server, base, calls)
    with _replaying(profile, cassette, "in process") as (route, base):
        in_process = _run(route, base, calls)
    assert over_socket == in_process
    answers, journal = over_socket
    assert len(journal) == len(calls) and all(e["status"] == a[0] for e, a in zip(journal, answers, strict=True))
    if profile is STREAMSTER:
        assert [e["operation"] for e in journal] == [None, None, "GetQuote", "GetQuote", None]
        assert [e["answered"] for e in journal] == ["replayed", "miss", "replayed", "miss", "miss"]
        assert b'location="<base>/endpoint"' in answers[0][2] and answers[1][2] == b""  # HEAD: no body
        assert answers[3][0] == 500 and b"soap:Client" in answers[3][2]
    else:
        assert [e["operation"] for e in journal] == [
            "RequestBalanceInformation", "RequestBalanceInformation", "RequestOpenTrades", None
        ]  # fmt: skip
        assert [e["answered"] for e in journal] == ["replayed", "replayed", "miss", "miss"]
        assert answers[0][:2] == (200, "application/json; charset=utf-8") and answers[2][0] == 404
        assert journal[1]["path"] == "/Client/requestbalanceinformation/90000001/"  # as sent


@pytest.mark.parametrize("transport", ["socket", "in process"])
def test_queued_faults_answer_instead_of_the_cassette_and_are_journaled(transport: str) -> None:
    body, headers = _quote()
    with _replaying(STREAMSTER, STREAMSTER_CLIENT, transport) as (handle, base):
        handle.fail("getquote", kind="fault", code="Server", message="maintenance")
        handle.fail("GetQuote", kind="http", status=503, message="busy")
        handle.fail("GetQuote", kind="drop")
        faulted = requests.post(base + "endpoint", data=body, headers=headers, timeout=10)
        busy = requests.post(base + "endpoint", data=body, headers=headers, timeout=10)
        with pytest.raises(requests.ConnectionError):
            requests.post(base + "endpoint", data=body, headers=headers, timeout=10)
        replayed = requests.post(base + "endpoint", data=body, headers=headers, timeout=10)
        entries = handle.journal.entries("GetQuote")
        assert handle.session.engine.misses == []
    assert faulted.status_code == 500 and "<faultcode>soap:Server</faultcode>" in faulted.text
    assert "maintenance" in faulted.text
    assert (busy.status_code, busy.text) == (503, "busy")
    assert replayed.status_code == 200 and "<tns:Bid>1.08500</tns:Bid>" in replayed.text
    assert [(e.fault, e.status) for e in entries] == [("fault", 500), ("http", 503), ("drop", None), (None, 200)]
    assert [e.get("answered") for e in entries] == [None, None, None, "replayed"]  # the faults spared the cassette


@pytest.mark.parametrize("transport", ["socket", "in process"])
def test_instaforex_faults_are_the_emulators_fault_included(transport: str) -> None:
    url = "client/RequestBalanceInformation/90000001"
    with _replaying(INSTAFOREX, INSTAFOREX_CLIENT, transport) as (handle, base):
        handle.fail("RequestBalanceInformation")  # 'fault': the API's generic failure, as on the emulator
        handle.fail("RequestBalanceInformation", kind="malformed")
        failed = requests.get(base + url, headers={"passkey": TOKEN}, timeout=10)
        cut = requests.get(base + url, headers={"passkey": TOKEN}, timeout=10)
        with pytest.raises(ValueError, match="unknown fault target 'Nope'"):
            handle.fail("Nope")
        with pytest.raises(ValueError, match="fault kind must be one of"):
            handle.fail("RequestBalanceInformation", kind="explode")
        assert handle.controller.fault_rules() == []  # the refused rules left nothing queued
    assert (failed.status_code, failed.json()) == (500, {"Message": "An error has occurred."})
    assert cut.status_code == 200 and cut.text == '{"Message": "trunc'


def test_the_replay_server_serves_its_journal_and_faults_under_mock() -> None:
    body, headers = _quote()
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        r = requests.post(rep.url + "_mock/faults", json={"operation": "GetQuote", "kind": "http", "status": 502},
                          timeout=10)  # fmt: skip
        assert r.status_code == 200 and r.json()["target"] == "GetQuote"
        assert [f["kind"] for f in requests.get(rep.url + "_mock/faults", timeout=10).json()] == ["http"]
        assert requests.post(rep.url + "endpoint", data=body, headers=headers, timeout=10).status_code == 502
        assert requests.post(rep.url + "endpoint", data=body, headers=headers, timeout=10).status_code == 200
        journal = requests.get(rep.url + "_mock/journal?operation=getquote", timeout=10).json()
        assert [(e["injected"], e["status"], e.get("answered")) for e in journal] == [
            ("http", 502, None), (None, 200, "replayed")
        ]  # fmt: skip
        bad = requests.post(rep.url + "_mock/faults", json={"operation": "Nope"}, timeout=10)
        assert bad.status_code == 400 and "unknown fault target 'Nope'" in bad.json()["error"]
        plain = requests.post(rep.url + "_mock/faults", data='{"operation": "GetQuote"}', timeout=10)
        assert plain.status_code == 415  # a web page's simple request is refused, as on the emulators
        rebound = requests.get(rep.url + "_mock/journal", headers={"Host": "evil.example"}, timeout=10)
        assert rebound.status_code == 403
        assert requests.get(rep.url + "_mock/faults", timeout=10).json() == []
        assert requests.delete(rep.url + "_mock/journal", timeout=10).status_code == 200
        assert rep.journal.entries() == []


def test_a_refused_request_is_journaled_without_an_operation() -> None:
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        r = requests.get(rep.url + "service.wsdl", headers={"Host": "evil.example"}, timeout=10)
        assert r.status_code == 403
        entry = rep.journal.entries()[-1]
    assert (entry.operation, entry.status, entry.request, entry["path"]) == (None, 403, None, "/service.wsdl")
    assert "DNS rebinding" in (entry.response or "")


def test_a_call_a_fault_answers_is_neither_forwarded_nor_recorded(tmp_path: Path) -> None:
    path = tmp_path / "faulted.yaml"
    url = "client/RequestBalanceInformation/20000001"
    with InstaForexMock() as mock:
        session = RecordingSession(INSTAFOREX, path, "all", upstream=mock.url + "/")
        with RecorderServer(session) as rec:
            token = requests.post(rec.url + "api/Authentication/RequestClientApiToken", timeout=10,
                                  json={"Login": 20000001, "Password": "demo-pass"}).json()  # fmt: skip
            rec.fail("RequestBalanceInformation", kind="http", status=503, message="down")
            down = requests.get(rec.url + url, headers={"passkey": token}, timeout=10)
            up = requests.get(rec.url + url, headers={"passkey": token}, timeout=10)
            assert requests.get(rec.url + "_mock/journal", timeout=10).status_code == 200  # the emulator's, passed
        assert mock.journal.entries("RequestBalanceInformation")[0].status == 200
        assert len(mock.journal.entries("RequestBalanceInformation")) == 1  # the faulted call never went out
    assert down.status_code == 503 and up.status_code == 200
    assert session.recorded == 2 and [e.get("answered") for e in rec.journal.entries()] == [
        "recorded", None, "recorded", "passed"
    ]  # fmt: skip


def test_concurrent_calls_are_each_journaled_and_a_counted_fault_fires_exactly_its_times() -> None:
    body, headers = _quote()
    statuses: list[int] = []
    lock = threading.Lock()
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        rep.fail("GetQuote", kind="http", status=503, times=7)

        def client() -> None:
            with requests.Session() as s:
                for _ in range(10):
                    status = s.post(rep.url + "endpoint", data=body, headers=headers, timeout=30).status_code
                    with lock:
                        statuses.append(status)

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        entries = rep.journal.entries("GetQuote")
    assert sorted(statuses) == [200] * 53 + [503] * 7
    assert len(entries) == 60 and sum(e.fault == "http" for e in entries) == 7
    assert sorted(e.seq for e in entries) == list(range(1, 61))


def test_the_in_process_route_raises_connection_error_when_the_upstream_fails(tmp_path: Path) -> None:
    path = tmp_path / "down.yaml"
    with socket.socket() as closed:  # bound, never listening: a refused connection, the port held meanwhile
        closed.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{closed.getsockname()[1]}/"
        with record(path, "instaforex", base_url=base) as rec:
            with pytest.raises(requests.ConnectionError, match="127.0.0.1"):
                requests.get(base + "client/RequestBalanceInformation/1", headers={"passkey": TOKEN}, timeout=10)
            entry = rec.journal.entries()[-1]
    assert (entry.operation, entry.status, entry.get("answered")) == ("RequestBalanceInformation", 502, "error")
    assert rec.session.recorded == 0 and not path.exists()
