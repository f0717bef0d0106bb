"""The shipped cassettes (package data, by name: streamster-client, streamster-php, instaforex-client) replay with the reference client, zeep and PHP, and pass
the drift check against the emulators they were recorded from."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from broker_mocks.client import InstaForexClient, StreamsterClient
from mock_common.recording import RecorderServer, RecordingSession, load, replay
from mock_instaforex.cli import main as instaforex_main
from mock_instaforex.recording import PROFILE as INSTAFOREX
from mock_streamster.cli import main as streamster_main
from mock_streamster.contract import OPERATIONS
from mock_streamster.recording import PROFILE as STREAMSTER

from .cassette_sessions import (
    INSTAFOREX_CLIENT,
    STREAMSTER_CLIENT,
    STREAMSTER_PHP,
    expected_instaforex,
    expected_streamster,
    instaforex_session,
    run_php_samples,
    streamster_session,
)
from .conftest import require_php

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def streamster_expected() -> dict[str, Any]:
    return expected_streamster()


@pytest.fixture(scope="module")
def instaforex_expected() -> dict[str, Any]:
    return expected_instaforex()


def test_shipped_cassettes_say_they_come_from_the_emulators_and_cover_every_operation_and_route() -> None:
    for path in (STREAMSTER_CLIENT, STREAMSTER_PHP, INSTAFOREX_CLIENT):
        assert "recorded from the broker-mocks emulators" in load(path).source
    assert {i.request.soap_action for i in load(STREAMSTER_CLIENT).interactions} - {None} == set(OPERATIONS)
    from mock_instaforex.recording import openapi

    routes = {p.lower() for p in openapi()["paths"] if p != "/openapi.json"}
    seen = {INSTAFOREX.features(i.request)[0].split(" ", 1)[1] for i in load(INSTAFOREX_CLIENT).interactions}
    assert seen == routes and len(routes) == 14


def test_reference_client_replays_the_streamster_cassette_over_http(streamster_expected: dict[str, Any]) -> None:
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_CLIENT, "none", exhausted="error")) as rep:
        seen = streamster_session(StreamsterClient(rep.url + "service.wsdl", retries=0))
        assert rep.session.engine.misses == [] and rep.session.engine.unused() == []
    assert seen == streamster_expected


def test_reference_client_replays_the_streamster_cassette_in_process(streamster_expected: dict[str, Any]) -> None:
    with replay(STREAMSTER_CLIENT, exhausted="error") as rep:
        seen = streamster_session(StreamsterClient("http://127.0.0.1:8018/service.wsdl", retries=0))
    assert seen == streamster_expected and rep.misses == []


def test_reference_client_replays_the_instaforex_cassette_over_http_and_in_process(
    instaforex_expected: dict[str, Any],
) -> None:
    with RecorderServer(RecordingSession(INSTAFOREX, INSTAFOREX_CLIENT, "none", exhausted="error")) as rep:
        assert instaforex_session(rep.url) == instaforex_expected
        assert rep.session.engine.misses == [] and rep.session.engine.unused() == []
    with replay(INSTAFOREX_CLIENT, base_url="https://client-api.instaforex.com/") as rep:
        assert instaforex_session("https://client-api.instaforex.com/") == instaforex_expected
    assert rep.misses == []


@pytest.mark.interop
def test_php_soapclient_replays_its_cassette() -> None:
    require_php()
    with RecorderServer(RecordingSession(STREAMSTER, STREAMSTER_PHP, "none", exhausted="error")) as rep:
        run = run_php_samples(rep.url + "service.wsdl")
        assert rep.session.engine.misses == []
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert (out["positions_zero"], out["positions_one"], out["positions_many"]) == (0, 1, 3)
    assert out["fault"]["code"] == "soap:Client" and "Quantity must be greater than 0" in out["fault"]["message"]
    assert out["bars"] == 200 and out["cancelled_status"] == "Cancelled"


@pytest.mark.interop
def test_php_curl_replays_the_instaforex_cassette() -> None:
    php = require_php()
    script = ROOT / "tests" / "php" / "instaforex_sample.php"
    with RecorderServer(RecordingSession(INSTAFOREX, INSTAFOREX_CLIENT, "none")) as rep:
        run = subprocess.run([php, str(script), rep.url, "20000001", "demo-pass"], capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert (out["token_status"], out["balance_status"], out["login"], out["balance"]) == (200, 200, 20000001, 10250.4)
    assert [t["Symbol"] for t in out["trades"]] == ["EURUSD", "GBPUSD", "XAUUSD"]


def test_check_cassette_finds_no_drift_in_the_shipped_cassettes(capsys: pytest.CaptureFixture[str]) -> None:
    assert streamster_main(["check-cassette", str(STREAMSTER_CLIENT), "-v", "--strict"]) == 0
    assert instaforex_main(["check-cassette", str(INSTAFOREX_CLIENT), "-v"]) == 0
    out = capsys.readouterr().out
    assert out.count("contract drift: none") == 2 and "CONTRACT DRIFT" not in out
    assert "ok    #17 GetLastMessage()" in out and "ok    #14 GET /clientmobile/GetAnalyticSignals/90000001" in out


@pytest.mark.broker_cassette("instaforex", path=str(INSTAFOREX_CLIENT))
def test_broker_cassette_fixture_replays_in_process(broker_cassette: Any, request: pytest.FixtureRequest) -> None:
    from mock_common.recording.pytest_plugin import record_mode

    assert record_mode(request.config) == "none"  # neither --broker-record-mode nor broker_record_mode given
    client = InstaForexClient("https://client-api.instaforex.com/", 20000001, "demo-pass", retries=0)
    assert client.balance().login == 20000001 and broker_cassette.misses == []


def test_broker_cassette_default_path_is_beside_the_test(request: pytest.FixtureRequest) -> None:
    from mock_common.recording.pytest_plugin import default_path

    assert default_path(request) == Path(__file__).parent / "cassettes" / "test_recording_fixtures" / (
        "test_broker_cassette_default_path_is_beside_the_test.yaml"
    )
