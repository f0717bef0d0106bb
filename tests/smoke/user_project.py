"""A bot author's project, as the smoke suite and tests/test_user_project.py write it: modules named
`client.py`, `conformance.py` and `bench.py` of its own (names a package must never claim), and tests
that use every fixture of the plugin, its markers (built-in names, inline mappings), the in-process
routes, a shipped cassette and, optionally, the conformance helper."""

from __future__ import annotations

import textwrap
from pathlib import Path

OWN_MODULES = {
    "client.py": 'WHO = "the bot\'s own client"\n\n\ndef connect() -> str:\n    return WHO\n',
    "conformance.py": 'WHO = "the bot\'s own conformance"\n',
    "bench.py": 'WHO = "the bot\'s own bench"\n',
}

TESTS = """
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import zeep

import bench
import client
import conformance
from broker_mocks.client import InstaForexClient, NewOrder, Side, StreamsterClient
from mock_common.recording import replay
from mock_streamster.data import CASSETTES

HERE = Path(__file__).resolve().parent


def test_the_project_modules_are_its_own():
    assert client.connect() == "the bot's own client"
    assert Path(client.__file__).parent == HERE and Path(conformance.__file__).parent == HERE
    assert Path(bench.__file__).parent == HERE
    for entry in sys.path:  # no checkout of broker-mocks can mask a name
        assert not (Path(entry or ".") / "mock_streamster" / "data").is_dir() or "site-packages" in entry, entry


def test_sockets(streamster_mock, streamster_client, instaforex_mock, instaforex_client):
    streamster_client.send_order(NewOrder("EUR/USD", "Virtual Forex", 10, side=Side.BUY))
    assert len(streamster_client.get_positions()) == 1
    assert instaforex_client.balance().balance > 0
    streamster_mock.assert_called("SendOrder", times=1)
    instaforex_mock.assert_called("RequestBalanceInformation", times=1)


def test_in_process_routes(streamster_responses, instaforex_responses):
    bot = zeep.Client("http://127.0.0.1:8018/service.wsdl")
    streamster_responses.set_price("EUR/USD", "1.25000")
    assert bot.service.GetQuote("EUR/USD").Bid == Decimal("1.25000")
    ifx = InstaForexClient("https://client-api.instaforex.com/", login=20000001, password="demo-pass")
    assert ifx.balance().login == 20000001
    instaforex_responses.assert_called("RequestClientApiToken", times=1)


@pytest.mark.streamster(scenario="day")
def test_built_in_day(streamster_mock, streamster_client):
    assert streamster_mock.platform.scenario.source == "day"
    assert [d.name for d in streamster_client.get_desks()] == ["Virtual Forex"]


@pytest.mark.streamster(scenario={"instruments": [{"name": "EUR/USD", "price": "1.20000"}], "walk": False})
@pytest.mark.instaforex(accounts={"accounts": [{"login": 42, "level": "open", "balance": "7.00"}]})
def test_inline_mappings(streamster_client, instaforex_mock):
    assert str(streamster_client.get_quote("EUR/USD").bid) == "1.20000"
    assert InstaForexClient(instaforex_mock.url, login=42, password="any").balance().balance == Decimal("7.00")


def test_a_shipped_cassette_replays_in_process():
    with replay(CASSETTES.path("streamster-client")):
        quote = StreamsterClient("http://127.0.0.1:8018/service.wsdl", retries=0).get_quote("EUR/USD")
    assert quote.bid > 0 and quote.offer >= quote.bid


def test_a_failure_names_the_reason_of_a_refusal(instaforex_mock):
    r = requests.get(instaforex_mock.url + "client/RequestBalanceInformation/20000001", headers={"passkey": "x"})
    assert r.status_code == 403 and r.json() == "Access denied"
    (entry,) = instaforex_mock.journal.entries("RequestBalanceInformation")
    assert entry.reason.startswith("unknown token")
"""

CONFORMANCE_TESTS = """
from hypothesis import settings

from broker_mocks.conformance.run import run_machine
from broker_mocks.conformance.streamster import ReferenceAdapter, StreamsterMachine


def test_the_conformance_helper(streamster_server):
    run_machine(
        StreamsterMachine, streamster_server, lambda url: ReferenceAdapter(url + "/service.wsdl"),
        settings=settings(max_examples=2, stateful_step_count=4, deadline=None),
    )
"""


def write(path: Path, conformance: bool = False) -> Path:
    """Write the project into `path` (its own modules, its tests, a pytest.ini); `path`."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in OWN_MODULES.items():
        (path / name).write_text(text)
    (path / "test_bot.py").write_text(textwrap.dedent(TESTS))
    if conformance:
        (path / "test_conformance_helper.py").write_text(textwrap.dedent(CONFORMANCE_TESTS))
    (path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return path
