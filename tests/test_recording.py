"""Record and replay: the cassette format, scrubbing, record modes, the proxy, replay, responses, drift."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
import zeep

from broker_mocks.client import InstaForexClient, StreamsterClient
from broker_mocks.client.errors import ApiError, StreamsterFault
from mock_common.recording import (
    CassetteError,
    RecorderServer,
    RecordingSession,
    load,
    loads,
    record,
    replay,
)
from mock_common.recording.match import ReplayEngine
from mock_common.recording.profile import rewrite_soap_address
from mock_instaforex import InstaForexMock
from mock_instaforex.recording import PROFILE as INSTAFOREX
from mock_streamster import StreamsterMock
from mock_streamster.recording import PROFILE as STREAMSTER

from .cassette_sessions import INSTAFOREX_CLIENT, STREAMSTER_CLIENT

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.novativa.com/ws/streamsterapi"
HISTORY = (date(2024, 1, 1), date(2025, 2, 1))


def _soap(action: str, body: str, prefix: str = "s", spaces: str = "") -> tuple[bytes, dict[str, str]]:
    xml = f'<{prefix}:Envelope xmlns:{prefix}="{ENV}">{spaces}<{prefix}:Body>{spaces}{body}{spaces}</{prefix}:Body></{prefix}:Envelope>'
    return xml.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


def _record_instaforex(path: Path, mock: InstaForexMock, **kw: object) -> tuple[RecordingSession, dict[str, object]]:
    session = RecordingSession(INSTAFOREX, path, "all", upstream=mock.url, **kw)  # type: ignore[arg-type]
    with RecorderServer(session) as rec:
        c = InstaForexClient(rec.url, 20000001, "demo-pass", retries=0)
        p = InstaForexClient(rec.url, 30000001, "demo-partner", kind="partner", retries=0)
        seen = {"balance": c.balance(), "history": c.login_history(*HISTORY), "ref": p.check_referral(20000001)}
    return session, seen


# ----------------------------------------------------------------------------- the format


def test_cassette_round_trips_and_reads_like_the_documented_format(tmp_path: Path) -> None:
    with InstaForexMock() as mock:
        _record_instaforex(tmp_path / "s.yaml", mock)
    text = (tmp_path / "s.yaml").read_text()
    head = text.splitlines()[:8]
    assert head[0] == "version: 1" and head[1] == "api: instaforex" and head[2].startswith("recorder: broker-mocks")
    assert "kind: openapi" in text and "recorded_at:" in text and text.rstrip().endswith("end: 5")
    cas = load(tmp_path / "s.yaml")
    assert cas.contract["sha256"] == INSTAFOREX.contract_hash() and len(cas.interactions) == 5
    assert cas.dumps() == text  # loading and writing again changes nothing: diffs show only real changes


@pytest.mark.parametrize(
    ("mutate", "line", "reason"),
    [
        (lambda t: t[: len(t) // 2], "truncated", "ends without its closing 'end:'"),
        (lambda t: t.replace("version: 1", "version: 7"), ":1:10: ", "version: must be 1, not 7"),  # header wording
        (lambda t: t.replace("status: 200", "status: 999", 1), "line 2", "status must be 100-599"),
        (lambda t: t.replace("    method: POST", "    method: [POST", 1), "line 1", "not valid YAML"),
        (lambda t: t.replace("end: 14", "end: 15"), "line", "says 15 interactions, the file holds 14"),
    ],
    ids=["truncated", "version", "status", "yaml", "count"],
)
def test_malformed_or_truncated_cassette_is_refused_naming_file_line_and_reason(
    tmp_path: Path, mutate: object, line: str, reason: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(mutate(INSTAFOREX_CLIENT.read_text()))  # type: ignore[operator]
    with pytest.raises(CassetteError) as err:
        load(bad)
    message = str(err.value)
    assert message.startswith(str(bad)) and reason in message, message
    assert ", line " in message or line in message


def test_loads_refuses_a_list_and_names_the_interaction_line() -> None:
    with pytest.raises(CassetteError, match="line 1: a cassette is a YAML mapping"):
        loads("- 1\n- 2\n", "x.yaml")
    text = "version: 1\napi: instaforex\nrecorded_at: now\ninteractions:\n- offset: 0\n  request: {method: GET}\n  response: {status: 200}\nend: 1\n"
    with pytest.raises(CassetteError, match=r"x.yaml, line 6: interaction 1: request url"):
        loads(text, "x.yaml")


# ----------------------------------------------------------------------------- secrets


def test_no_secret_of_a_recorded_session_is_anywhere_in_the_cassette(tmp_path: Path) -> None:
    with InstaForexMock() as mock:
        session, seen = _record_instaforex(tmp_path / "s.yaml", mock)
        issued = [e["response"].strip('"') for e in mock.journal.entries() if e["route"] and "Token" in e["route"]]
    text = (tmp_path / "s.yaml").read_text()
    secrets = {"demo-pass", "demo-partner", "20000001", "30000001", "203.0.113.10", "198.51.100.7", *issued}
    assert len(issued) == 2
    assert [s for s in secrets if s in text] == []
    assert session.refused == [] and session.scrubber.check(text) == []
    # ... and the session still lines up: the fake token is what the next request carried
    cas = load(tmp_path / "s.yaml")
    token = json.loads(cas.interactions[0].response.body)
    assert cas.interactions[1].request.header("passkey") == token and cas.logins == ["90000001", "90000002"]
    assert "90000001" in cas.interactions[1].request.url and '"Ip": "192.0.2.1"' in cas.interactions[2].response.body


def test_user_pattern_scrubs_and_a_surviving_secret_is_refused(tmp_path: Path) -> None:
    with InstaForexMock() as mock:
        session, _ = _record_instaforex(tmp_path / "a.yaml", mock, secrets=["Cabinet"])
        assert "Cabinet" not in (tmp_path / "a.yaml").read_text() and session.refused == []
        session, _ = _record_instaforex(tmp_path / "b.yaml", mock, patterns=[r"Termin\w+"])
        assert "Terminal" not in (tmp_path / "b.yaml").read_text()
        # A secret the scrubber knows but cannot find a place for: the interaction is refused, never written.
        session = RecordingSession(INSTAFOREX, tmp_path / "c.yaml", "all", upstream=mock.url)
        session.scrubber.known.add("password", "10250.4")  # appears in the balance answer
        with RecorderServer(session) as rec:
            InstaForexClient(rec.url, 20000001, "demo-pass", retries=0).balance()
    assert len(session.refused) == 1 and "password" in session.refused[0] and "10250" not in session.refused[0]
    assert "RequestBalanceInformation" in session.refused[0]
    assert "10250" not in (tmp_path / "c.yaml").read_text()  # the token interaction alone was written


# ----------------------------------------------------------------------------- replay matching


def test_soap_matching_ignores_prefixes_and_whitespace_and_replays_identical_requests_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    with StreamsterMock() as mock:
        session = RecordingSession(STREAMSTER, path, "all", upstream=mock.url + "/")
        with RecorderServer(session) as rec:
            body, headers = _soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')
            first = requests.post(rec.url + "endpoint", data=body, headers=headers).text
            mock.set_price("EUR/USD", "1.20000")
            second = requests.post(rec.url + "endpoint", data=body, headers=headers).text
    assert "1.20000" in second and "1.20000" not in first
    for exhausted, third_status in (("repeat", 200), ("error", 500)):
        with RecorderServer(RecordingSession(STREAMSTER, path, "none", exhausted=exhausted)) as rep:
            body, headers = _soap(
                "GetQuote", f'<q:Instrument xmlns:q="{NS}">\n  EUR/USD  </q:Instrument>', "env", "\n "
            )
            answers = [requests.post(rep.url + "endpoint", data=body, headers=headers) for _ in range(3)]
        assert "1.20000" not in answers[0].text and "1.20000" in answers[1].text
        assert answers[2].status_code == third_status
    assert "every recorded answer to it has been replayed" in answers[2].text


def test_a_miss_is_a_client_fault_naming_the_closest_request_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none")) as rep:
        api = StreamsterClient(rep.url + "service.wsdl", retries=0)
        with caplog.at_level(logging.WARNING, "mock_common.recording"):
            with pytest.raises(StreamsterFault) as fault:
                api.get_quote("GBP/USD")
        assert api.get_quote("EUR/USD").bid is not None  # still serving
    assert fault.value.code == "Client"
    assert (
        "GetQuote(Instrument='GBP/USD')" in fault.value.text and "#2 GetQuote(Instrument='EUR/USD')" in fault.value.text
    )
    assert "Body/Instrument: recorded 'EUR/USD', got 'GBP/USD'" in fault.value.text
    assert any("replay miss" in r.getMessage() for r in caplog.records)


def test_json_miss_is_404_and_only_tokens_issued_in_the_cassette_are_honoured() -> None:
    with RecorderServer(RecordingSession(INSTAFOREX, INSTAFOREX_CLIENT, "none")) as rep:
        c = InstaForexClient(rep.url, 20000001, "demo-pass", retries=0)
        assert c.balance().login == 20000001  # the fake login in the cassette maps back to the client's
        wrong = requests.get(rep.url + "client/RequestBalanceInformation/20000001", headers={"passkey": "f" * 32})
        other = requests.get(rep.url + "client/RequestNothing/20000001")
    assert wrong.status_code == 404 and "was not issued in this cassette" in wrong.json()["Message"]
    assert other.status_code == 404 and "Closest recorded request" in other.json()["Message"]


def test_replay_engine_binds_each_login_to_one_fake_only() -> None:
    engine = ReplayEngine(load(INSTAFOREX_CLIENT), INSTAFOREX)
    from mock_common.recording import Request

    hit = engine.find(
        Request("POST", "/api/Authentication/RequestClientApiToken", {}, '{"Login": 123, "Password": "x"}')
    )
    assert hasattr(hit, "interaction") and engine.logins.real_of("90000001") == "123"
    miss = engine.find(
        Request("GET", "/client/RequestBalanceInformation/456", {"passkey": json.loads(hit.interaction.response.body)})
    )  # type: ignore[union-attr]
    assert "path.login[0]: recorded 90000001, got 456" in miss.message()  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- record modes and the CLI


def test_record_modes_none_once_new_episodes_all(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    with pytest.raises(CassetteError, match="record mode 'none' only replays") as missing:
        RecordingSession(INSTAFOREX, path, "none")
    # it says how to record one (17.5)
    assert f"`mock-instaforex record --upstream https://client-api.instaforex.com/ --cassette {path}`" in str(
        missing.value
    )
    assert "--broker-record-mode=once" in str(missing.value) and "--record-mode once" in str(missing.value)
    with InstaForexMock() as mock:
        once = RecordingSession(INSTAFOREX, path, "once", upstream=mock.url)
        assert once.recording and not once.replaying
        with RecorderServer(once) as rec:
            InstaForexClient(rec.url, 20000001, "demo-pass", retries=0).balance()
        assert len(load(path).interactions) == 2
        again = RecordingSession(INSTAFOREX, path, "once", upstream=mock.url)
        assert again.replaying and not again.recording
        episodes = RecordingSession(INSTAFOREX, path, "new_episodes", upstream=mock.url)
        with RecorderServer(episodes) as rec:
            InstaForexClient(rec.url, 20000001, "demo-pass", retries=0).balance()  # replayed
            # new: recorded, and the client login keeps the fake it had in the first episode
            assert InstaForexClient(rec.url, 30000001, "demo-partner", kind="partner", retries=0).check_referral(
                20000001
            )
        cas = load(path)
        assert len(cas.interactions) == 4 and episodes.recorded == 2 and cas.logins == ["90000001", "90000002"]
        assert cas.interactions[3].request.url == "/partner/CheckReferral/90000002/90000001"
        assert cas.interactions[3].request.header("passkey") == json.loads(cas.interactions[2].response.body)
        with RecorderServer(RecordingSession(INSTAFOREX, path, "all", upstream=mock.url)) as rec:
            InstaForexClient(rec.url, 20000001, "demo-pass", retries=0).bonus_statistics()
    assert [i.request.url.split("/")[2] for i in load(path).interactions] == [
        "Authentication",
        "RequestBonusStatistics",
    ]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    exe = Path(sys.executable).parent / args[0]
    return subprocess.Popen([str(exe), *args[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def _url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if "base URL:" in line:
            return line.split()[-1]
    raise AssertionError(proc.stderr.read() if proc.stderr else "no URL")


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(2)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, out, err


def test_cli_record_rewrites_the_wsdl_address_and_replay_serves_it(tmp_path: Path) -> None:
    path = tmp_path / "cli.yaml"
    with StreamsterMock() as mock:
        proc = _cli("mock-streamster", "record", "--upstream", mock.url + "/", "--cassette", str(path), "--port", "0")
        try:
            url = _url(proc)
            wsdl = requests.get(url + "service.wsdl").text
            assert f'location="{url}endpoint"' in wsdl  # the client keeps talking to the recorder
            bid = StreamsterClient(url + "service.wsdl", retries=0).get_quote("EUR/USD").bid
        finally:
            code, out, _ = _stop(proc)
    assert code == 0 and "3 recorded" in out  # the WSDL (twice: read here, then by zeep) and GetQuote
    proc = _cli("mock-streamster", "replay", "--cassette", str(path))
    try:
        url = _url(proc)
        assert f'location="{url}endpoint"' in requests.get(url + "service.wsdl").text
        assert StreamsterClient(url + "service.wsdl", retries=0).get_quote("EUR/USD").bid == bid
    finally:
        assert _stop(proc)[0] == 0


def test_cli_refuses_a_bad_cassette_and_a_bad_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mock_instaforex.cli import main as instaforex_main
    from mock_streamster.cli import main as streamster_main

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\napi: streamster\n")
    assert streamster_main(["replay", "--cassette", str(bad)]) == 2
    assert f"{bad}, line 3: truncated: the file ends without its closing 'end:' line" in capsys.readouterr().err
    bad.write_text("version: 1\napi: streamster\nend: 0\n")
    assert instaforex_main(["check-cassette", str(bad)]) == 2
    assert f"{bad}:1:1: missing key 'recorded_at'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        instaforex_main(["replay", "--cassette", str(bad), "--record-mode", "sometimes"])
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


@pytest.fixture
def tls_instaforex(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The InstaForex emulator behind TLS (a self-signed certificate for 127.0.0.1): (URL, CA file)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    mock = InstaForexMock()
    server = wsgi.Server(("127.0.0.1", 0), mock.http, numthreads=2)
    server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    ready = threading.Event()

    def run() -> None:  # prepared in a daemon thread so its workers are daemons too
        server.prepare()
        ready.set()
        server.serve()

    thread = threading.Thread(target=run, daemon=True, name="mock-instaforex-tls")
    thread.start()
    ready.wait(10)
    try:
        yield f"https://127.0.0.1:{server.bind_addr[1]}/", str(cert)
    finally:
        server.stop()
        thread.join(10)
        mock.stop()


def test_recording_proxy_forwards_to_a_tls_upstream(tmp_path: Path, tls_instaforex: tuple[str, str]) -> None:
    url, ca = tls_instaforex
    session = RecordingSession(INSTAFOREX, tmp_path / "tls.yaml", "all", upstream=url)
    with RecorderServer(session, verify=ca) as rec:
        assert InstaForexClient(rec.url, 20000001, "demo-pass", retries=0).balance().balance > 0
    assert session.recorded == 2 and load(tmp_path / "tls.yaml").upstream == url
    unverified = RecordingSession(INSTAFOREX, tmp_path / "tls2.yaml", "all", upstream=url)
    with RecorderServer(unverified) as rec:  # the default verifies: a self-signed certificate is refused
        r = requests.post(rec.url + "api/Authentication/RequestClientApiToken", json={"Login": 1, "Password": "x"})
    assert r.status_code == 502 and "SSLError" in r.json()["Message"] and unverified.recorded == 0


# ----------------------------------------------------------------------------- in-process (responses)


def test_in_process_recording_and_replay_with_responses(tmp_path: Path) -> None:
    path = tmp_path / "inproc.yaml"
    with InstaForexMock() as mock:
        with record(path, "instaforex", base_url=mock.url) as rec:  # real requests, recorded on the way
            live = InstaForexClient(mock.url, 20000001, "demo-pass", retries=0).login_history(*HISTORY)
        assert rec.session.recorded == 2
    # the emulator is gone: no socket is opened now
    with replay(path, base_url="https://client-api.instaforex.com/") as rep:
        again = InstaForexClient("https://client-api.instaforex.com/", 20000001, "demo-pass", retries=0)
        assert [e.ip for e in again.login_history(*HISTORY)] == ["192.0.2.1", "192.0.2.1", "192.0.2.2", "127.0.0.1"]
        with pytest.raises(ApiError) as err:
            again.open_trades()
        assert len(rep.calls) == 3
    assert len(live) == 4 and err.value.status == 404 and len(rep.misses) == 1


def test_zeep_replays_a_cassette_in_process_soap_included() -> None:
    with replay(STREAMSTER_CLIENT):
        client = zeep.Client("http://127.0.0.1:8018/service.wsdl")
        quote = client.service.GetQuote("EUR/USD")
        desks = client.service.GetDesks()
    assert str(quote.Bid) == "1.08500" and [d.Name for d in desks] == [
        "Virtual Forex",
        "Virtual Currencies",
        "Virtual Currencies",
    ]


# ----------------------------------------------------------------------------- drift


# The drift check's contract/state split: tests/test_recording_hardening.py.


def test_rewrite_soap_address_keeps_the_endpoint_path() -> None:
    wsdl = '<soap:address location="https://broker.example:8018/api/endpoint"/><soap12:address location="http://x/y"/>'
    assert rewrite_soap_address(wsdl, "http://127.0.0.1:5/") == (
        '<soap:address location="http://127.0.0.1:5/api/endpoint"/><soap12:address location="http://127.0.0.1:5/y"/>'
    )
