"""A bot author's project, as the smoke suite and tests/test_user_project.py write it: modules named
`client.py`, `conformance.py` and `bench.py` of its own (names a package must never claim), and tests
that use every fixture of the plugin, its markers (built-in names, inline mappings), the in-process
routes, a shipped cassette and, optionally, the conformance helper.

`test_typed.py` is the same kind of tests written with annotations: `type_check` runs `mypy --strict`
on it against broker-mocks as installed (its `py.typed` packages), and on `typo_check.py`, the same
calls with type errors, which mypy must report."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
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


# The project's tests with annotations, as a bot author who runs mypy --strict writes them: each fixture's
# parameter annotated with the type the fixture gives (docs/reference/api/pytest.md lists them).
TYPED_TESTS = """
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from broker_mocks.client import InstaForexClient, NewOrder, Side, StreamsterClient
from broker_mocks.client.instaforex import Balance
from broker_mocks.client.streamster import Quote
from mock_common.journal import JournalEntry
from mock_common.pytest_plugin import InProcessRoute
from mock_common.recording import InProcess, replay
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock
from mock_streamster.data import CASSETTES
from mock_streamster.pytest_plugin import VirtualTime

SHIPPED = str(CASSETTES.path("streamster-client"))
WSDL = "http://127.0.0.1:8018/service.wsdl"


@pytest.fixture
def bought(streamster_client: StreamsterClient) -> Iterator[StreamsterClient]:
    streamster_client.send_order(NewOrder("EUR/USD", "Virtual Forex", 10, side=Side.BUY))
    yield streamster_client


def test_an_order_reaches_the_emulator(streamster_mock: StreamsterMock, bought: StreamsterClient) -> None:
    calls: list[JournalEntry] = streamster_mock.assert_called("SendOrder", times=1)
    assert calls[0].operation == "SendOrder" and len(bought.get_positions()) == 1


@pytest.mark.streamster(seed=7)
def test_a_price_and_an_hour(
    streamster_server: StreamsterMock, streamster_mock: StreamsterMock, streamster_client: StreamsterClient
) -> None:
    assert streamster_mock is streamster_server
    streamster_mock.set_price("EUR/USD", "1.25000")
    quote: Quote = streamster_client.get_quote("EUR/USD")
    later: datetime = streamster_mock.advance(3600)
    assert quote.bid == Decimal("1.25000") and later.year > 2000


def test_a_balance(instaforex_mock: InstaForexMock, instaforex_client: InstaForexClient) -> None:
    balance: Balance = instaforex_client.balance()
    assert balance.login == 20000001 and balance.balance > 0
    instaforex_mock.assert_called("RequestBalanceInformation", times=1)


def test_the_routes(
    streamster_responses: InProcessRoute[StreamsterMock], instaforex_responses: InProcessRoute[InstaForexMock]
) -> None:
    streamster_responses.mock.set_price("EUR/USD", "1.25000")
    quote = StreamsterClient(WSDL, retries=0).get_quote("EUR/USD")
    ifx = InstaForexClient("https://client-api.instaforex.com/", login=20000001, password="demo-pass")
    assert quote.bid == Decimal("1.25000") and ifx.balance().login == 20000001
    instaforex_responses.mock.assert_called("RequestClientApiToken", times=1)


@pytest.mark.broker_cassette("streamster", path=SHIPPED)
def test_the_cassette_fixture(broker_cassette: InProcess) -> None:
    quote = StreamsterClient(WSDL, retries=0).get_quote("EUR/USD")
    assert quote.bid is not None and quote.bid > 0 and not broker_cassette.misses


def test_replay() -> None:
    with replay(SHIPPED) as route:
        StreamsterClient(WSDL, retries=0).get_quote("EUR/USD")
    assert route.assert_called("GetQuote")


def an_hour_later(clock: VirtualTime) -> datetime:
    # streamster_time's type (the fixture itself needs broker-mocks[backtest]): sleep moves the emulator.
    clock.sleep(3600)
    return clock.now
"""

# The same calls with type errors: (line, error code) each, as `mypy --strict` must report them.
TYPO_CHECK = """
from mock_common.pytest_plugin import InProcessRoute
from mock_common.recording import replay
from mock_streamster import StreamsterMock


def test_wrong(streamster_mock: StreamsterMock, streamster_responses: InProcessRoute[StreamsterMock]) -> None:
    streamster_mock.journal.entries() + 1
    streamster_responses.mock.advance("an hour")
    replay(42)
"""
TYPOS = ((8, "operator"), (9, "arg-type"), (10, "arg-type"))


def type_check(
    project: Path, name: str, python: str = sys.executable, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mypy --strict NAME` in the project (`typo_check.py` is written first), its cache in the project."""
    if name == "typo_check.py":
        (project / name).write_text(TYPO_CHECK)
    return subprocess.run(
        [python, "-m", "mypy", "--strict", "--cache-dir", str(project / ".mypy_cache"), name],
        cwd=project, env=dict(os.environ if env is None else env), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def reported(out: subprocess.CompletedProcess[str]) -> list[tuple[int, str]]:
    """(line, error code) of each error mypy reported."""
    found = []
    for line in out.stdout.splitlines():
        head, sep, rest = line.partition(": error: ")
        if sep and rest.endswith("]"):
            found.append((int(head.rsplit(":", 1)[1]), rest.rsplit("[", 1)[1][:-1]))
    return found


def write(path: Path, conformance: bool = False) -> Path:
    """Write the project into `path` (its own modules, its tests, a pytest.ini); `path`."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in OWN_MODULES.items():
        (path / name).write_text(text)
    (path / "test_bot.py").write_text(textwrap.dedent(TESTS))
    (path / "test_typed.py").write_text(textwrap.dedent(TYPED_TESTS))
    if conformance:
        (path / "test_conformance_helper.py").write_text(textwrap.dedent(CONFORMANCE_TESTS))
    (path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return path
