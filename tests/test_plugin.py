"""The pytest plugin as a bot author uses it: fixtures, markers, options, reports, xdist, in process."""

from __future__ import annotations

import pytest
import requests

from broker_mocks.client import InstaForexClient, StreamsterClient
from broker_mocks.client.errors import ApiError, TransportError
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock

SCENARIO = """
seed: 11
instruments:
  - {name: EUR/USD, price: "1.20000"}
walk: false
"""

ACCOUNTS = """
accounts:
  - {login: 30000001, level: open, balance: "77.00"}
"""


def test_a_marker_sets_up_one_test_and_the_next_gets_the_defaults(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", scenario=SCENARIO, accounts=ACCOUNTS)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.streamster(scenario="scenario.yaml", seed=3)
        @pytest.mark.instaforex(accounts="accounts.yaml", token_ttl=60)
        def test_1_marked(streamster_mock, instaforex_mock, streamster_client):
            assert str(streamster_client.get_quote("EUR/USD").bid) == "1.20000"
            assert streamster_mock.platform.seed == 3
            assert sorted(instaforex_mock.store.accounts) == [30000001]
            assert instaforex_mock.service.tokens.ttl == 60

        def test_2_defaults(streamster_mock, instaforex_mock, streamster_client, instaforex_client):
            assert streamster_mock.platform.scenario.source is None and streamster_mock.platform.seed == 0
            assert str(streamster_client.get_quote("EUR/USD").bid) != "1.20000"
            assert 20000001 in instaforex_mock.store.accounts and instaforex_mock.service.tokens.ttl == 5400
            assert instaforex_client.balance().balance > 0
            instaforex_mock.assert_called("RequestBalanceInformation", times=1)

        @pytest.mark.streamster(scenario="scenario.yaml")
        def test_3_marked_again(streamster_mock, streamster_server):
            assert streamster_mock is streamster_server and streamster_mock.platform.scenario.seed == 11

        @pytest.mark.streamster("positional")
        def test_4_bad_marker(streamster_mock):
            pass

        @pytest.mark.instaforex(acounts="typo.yaml")
        def test_5_unknown_argument(instaforex_mock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "test_a_marker_*.py:22: @pytest.mark.streamster: takes keyword arguments only, not ('positional',)",
            "test_a_marker_*.py:26: @pytest.mark.instaforex: acounts: unknown argument; did you mean 'accounts'?",
        ]
    )
    assert "During handling" not in result.stdout.str() and "Traceback" not in result.stdout.str()


def _error_sections(output: str) -> dict[str, list[str]]:
    """The lines of each `ERROR at setup of <test>` section of a pytest report."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if " ERROR at setup of " in line:
            current = sections.setdefault(line.split(" ERROR at setup of ")[1].strip(" _"), [])
        elif line.startswith(("____", "====", "----")):
            current = None
        elif current is not None and line.strip():
            current.append(line)
    return sections


def test_markers_take_built_in_names_and_inline_mappings(pytester: pytest.Pytester) -> None:
    pytester.makefile(".csv", ticks="time,instrument,bid,offer\n2025-03-03T08:00:00,EUR/USD,1.30000,1.30010\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.streamster(scenario="day")
        def test_built_in_day(streamster_mock, streamster_client):
            assert streamster_mock.platform.scenario.source == "day" and len(streamster_mock.platform.scenario.ticks) > 4000
            assert [d.name for d in streamster_client.get_desks()] == ["Virtual Forex"]

        @pytest.mark.streamster(scenario="demo")
        def test_built_in_demo(streamster_client):
            assert "Live Forex" in {d.name for d in streamster_client.get_desks()}

        @pytest.mark.streamster(scenario={"instruments": [{"name": "EUR/USD", "price": "1.25000"}], "walk": False})
        def test_inline_scenario(streamster_client):
            assert str(streamster_client.get_quote("EUR/USD").bid) == "1.25000"

        @pytest.mark.streamster(scenario={"ticks": "ticks.csv"})
        def test_inline_scenario_ticks_beside_the_test(streamster_client):
            assert str(streamster_client.get_quote("EUR/USD").bid) == "1.30000"

        @pytest.mark.instaforex(accounts={"accounts": [{"login": 42, "level": "open", "balance": "9.50"}]})
        def test_inline_accounts(instaforex_mock):
            assert sorted(instaforex_mock.store.accounts) == [42]
            assert str(instaforex_mock.store.accounts[42].balance) == "9.50"

        @pytest.mark.instaforex(accounts="demo")
        def test_built_in_demo_accounts(instaforex_client):
            assert instaforex_client.balance().login == 20000001
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=6)


def test_a_bad_marker_or_file_is_one_line_naming_where_and_why(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", typo="instruments:\n  - {name: EUR/USD, prise: '1.20000'}\n")
    pytester.makefile(".yaml", accounts="accounts:\n  - login: 5\n    level: open\n    balanse: '1.00'\n")
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.streamster(scenario="typo.yaml")
        def test_typo_in_a_file(streamster_mock):
            pass

        @pytest.mark.streamster(scenario={"instruments": [{"name": "EUR/USD", "prise": "1.2"}]})
        def test_typo_inline(streamster_mock):
            pass

        @pytest.mark.instaforex(accounts="accounts.yaml")
        def test_typo_in_accounts(instaforex_mock):
            pass

        @pytest.mark.instaforex(accounts={"accounts": [{"login": 5, "level": "pasword"}]})
        def test_bad_level_inline(instaforex_mock):
            pass

        @pytest.mark.streamster(seed="seven")
        def test_bad_seed(streamster_mock):
            pass

        @pytest.mark.streamster(clock="sundial")
        def test_bad_clock(streamster_mock):
            pass

        @pytest.mark.instaforex(token_ttl=0)
        def test_bad_ttl(instaforex_mock):
            pass

        @pytest.mark.streamster(scenario="missing.yaml")
        def test_missing_file(streamster_mock):
            pass

        @pytest.mark.streamster(history={"EUR/USD": {"path": "eurusd.csv", "fromat": "mt4"}})
        def test_bad_history(streamster_mock):
            pass

        def test_the_next_test_is_fine(streamster_mock, instaforex_mock):
            assert streamster_mock.platform.scenario.source is None
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=9)
    root = pytester.path
    expected = {
        "test_typo_in_a_file": f"{root / 'typo.yaml'}:2:21: instruments[0].prise: unknown key; did you mean 'price'?",
        "test_typo_inline": "test_bad.py:7: @pytest.mark.streamster(scenario=...): instruments[0].prise: unknown key; "
        "did you mean 'price'?",
        "test_typo_in_accounts": f"{root / 'accounts.yaml'}:4:5: accounts[0].balanse: unknown key; did you mean 'balance'?",
        "test_bad_level_inline": "test_bad.py:15: @pytest.mark.instaforex(accounts=...): accounts[0].level: must be one of "
        "open, password, ip, not 'pasword'; did you mean 'password'?",
        "test_bad_seed": "test_bad.py:19: @pytest.mark.streamster: seed: must be a whole number, not text",
        "test_bad_clock": "test_bad.py:23: @pytest.mark.streamster: clock: must be one of virtual, real, not 'sundial'",
        "test_bad_ttl": "test_bad.py:27: @pytest.mark.instaforex: token_ttl: must be more than 0 seconds, not 0",
        "test_missing_file": f"{root / 'missing.yaml'}: cannot read this scenario file: No such file or directory",
        "test_bad_history": 'test_bad.py:35: @pytest.mark.streamster: history["EUR/USD"].fromat: unknown key; '
        "did you mean 'format'?",
    }
    sections = _error_sections(result.stdout.str())
    assert {name: lines for name, lines in sections.items()} == {name: [line] for name, line in expected.items()}


def test_a_bad_scenario_option_fails_the_tests_with_one_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", typo="sed: 3\n")
    pytester.makepyfile(
        """
        def test_one(streamster_mock):
            pass

        def test_two(streamster_mock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--streamster-scenario=typo.yaml")
    result.assert_outcomes(errors=2)
    line = f"{pytester.path / 'typo.yaml'}:1:1: sed: unknown key; did you mean 'seed'?"
    assert set(map(tuple, _error_sections(result.stdout.str()).values())) == {(line,)}
    result = pytester.runpytest("-p", "no:cacheprovider", "--streamster-scenario=day")  # a built-in name
    result.assert_outcomes(passed=2)


def test_a_failure_report_shows_seed_time_and_the_last_journal_entries(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.streamster(seed=7)
        def test_fails(streamster_mock, streamster_client, instaforex_client):
            streamster_mock.fail("GetDesks", times=None)
            for _ in range(4):
                streamster_client.get_quote("EUR/USD")
            streamster_mock.advance(90)
            with pytest.raises(Exception):
                streamster_client.get_desks()  # tried 4 times
            instaforex_client.balance()
            assert False, "the bot misbehaved"

        def test_passes(streamster_mock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--broker-journal=2")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- broker-mocks streamster -*",
            "StreamsterMock(seed=7, clock='virtual'): seed 7, virtual clock, time 2025-01-06T09:01:30",
            "journal: last 2 of 8 calls",
            "  #7 2025-01-06T09:01:30 GetDesks -> 500 fault=fault: (empty SOAP Body)",
            "  #8 2025-01-06T09:01:30 GetDesks -> 500 fault=fault: (empty SOAP Body)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*- broker-mocks instaforex -*",
            "InstaForexMock(seed=0, clock='virtual', token_ttl=5400.0): seed 0, virtual clock, time *",
            "journal: last 2 of 2 calls",
            "  #1 * RequestClientApiToken -> 200: POST /api/Authentication/RequestClientApiToken",
            "  #2 * RequestBalanceInformation -> 200: GET /client/RequestBalanceInformation/20000001",
        ]
    )
    assert "demo-pass" not in result.stdout.str()  # the token request's body is not shown
    assert result.stdout.str().count("broker-mocks streamster") == 1  # the passing test gets none


def test_options_ini_and_an_options_fixture_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", accounts=ACCOUNTS)
    pytester.makeini("[pytest]\nstreamster_seed = 5\ninstaforex_accounts = accounts.yaml\ninstaforex_token_ttl = 30\n")
    pytester.makepyfile(
        test_options="""
        def test_options(streamster_mock, instaforex_mock, streamster_options, instaforex_options, pytestconfig):
            assert streamster_mock.platform.seed == int(pytestconfig.getoption("streamster_seed") or 5)
            assert sorted(instaforex_mock.store.accounts) == [30000001]
            assert instaforex_mock.service.tokens.ttl == 30
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider", "--streamster-seed=9").assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:cacheprovider", "--streamster-clock=sundial")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "invalid choice: 'sundial'" in result.stderr.str()
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def streamster_options():
            return {"seed": 42, "clock": "virtual", "scenario": None}
        """
    )
    pytester.makepyfile(
        test_options="""
        def test_options(streamster_mock):
            assert streamster_mock.platform.seed == 42
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--streamster-seed=9").assert_outcomes(passed=1)


@pytest.mark.parametrize("workers", [["-n", "2"], ["-n", "auto", "--maxprocesses=2"]], ids=["n2", "auto"])
def test_xdist_gives_each_worker_its_own_emulators(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(
        """
        import os
        from pathlib import Path
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_own(n, streamster_mock, instaforex_mock):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            out = Path(__file__).parent / f"ports-{worker}-{n}"
            out.write_text(f"{worker} {streamster_mock.port} {instaforex_mock.port}")
            assert streamster_mock.journal.total == 0 and len(instaforex_mock.journal) == 0
            streamster_mock.set_price("EUR/USD", f"1.{n + 1}0000")
        """
    )
    # -n 2, and -n auto capped at 2 workers (the suite's budget).
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:schemathesis", *workers)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*2 workers*"])
    seen: dict[str, set[tuple[str, ...]]] = {}
    for f in pytester.path.glob("ports-*"):
        worker, *ports = f.read_text().split()
        seen.setdefault(worker, set()).add(tuple(ports))
    assert set(seen) <= {"gw0", "gw1"} and all(len(p) == 1 for p in seen.values())  # one pair per worker
    if len(seen) == 2:
        assert seen["gw0"].isdisjoint(seen["gw1"])  # nothing shared


# ----------------------------------------------------------------------------- in process, on the real URLs


def test_a_zeep_bot_with_the_real_address_runs_unchanged(streamster_responses) -> None:  # type: ignore[no-untyped-def]
    bot = StreamsterClient("http://127.0.0.1:8018/service.wsdl", retries=0)
    assert [d.name for d in bot.get_desks()]
    quote = bot.get_quote("EUR/USD")
    streamster_responses.set_price("EUR/USD", "1.11110")
    assert str(bot.get_quote("EUR/USD").bid) == "1.11110" != str(quote.bid)
    streamster_responses.assert_called("GetQuote", times=2)
    streamster_responses.fail("GetDesks", kind="drop")
    with pytest.raises(TransportError):
        bot.get_desks()
    streamster_responses.fail("GetDesks", kind="http", status=503)
    with pytest.raises(ApiError):
        bot.get_desks()
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:8019/service.wsdl", timeout=5)  # anything else raises, as responses does


def test_an_instaforex_bot_with_the_real_base_urls_runs_unchanged(instaforex_responses) -> None:  # type: ignore[no-untyped-def]
    for base in ("https://client-api.instaforex.com/", "https://client-api.contentdatapro.com/"):
        bot = InstaForexClient(base, login=20000001, password="demo-pass", retries=0)
        assert bot.balance().balance == bot.account_summary().balance
    r = requests.get("https://CLIENT-API.instaforex.com/Client/RequestBalanceInformation/20000001/", timeout=5)
    assert r.status_code == 403 and r.json() == "Access denied"
    instaforex_responses.assert_called("RequestClientApiToken", times=2)
    instaforex_responses.fail("RequestOpenTrades", kind="drop")
    with pytest.raises(TransportError):
        InstaForexClient(instaforex_responses.url, login=20000001, password="demo-pass", retries=0).open_trades()
    with pytest.raises(requests.ConnectionError):
        requests.get("https://example.com/", timeout=5)
    instaforex_responses.add_passthru(instaforex_responses.mock.url)
    assert requests.get(instaforex_responses.mock.url + "openapi.json", timeout=5).status_code == 200


def test_both_routes_and_both_sockets_in_one_test(  # type: ignore[no-untyped-def]
    streamster_responses, instaforex_responses, streamster_client, instaforex_client
) -> None:
    assert isinstance(streamster_responses.mock, StreamsterMock) and isinstance(
        instaforex_responses.mock, InstaForexMock
    )
    StreamsterClient("http://127.0.0.1:8018/service.wsdl").get_orders()
    InstaForexClient("https://client-api.instaforex.com/", login=20000001, password="demo-pass").balance()
    assert streamster_client.get_orders() == [] and instaforex_client.balance().login == 20000001
    streamster_responses.assert_called("GetOrders", times=2)
    instaforex_responses.assert_called("RequestBalanceInformation", times=2)


def test_a_post_body_of_every_shape_reaches_the_app(instaforex_responses) -> None:  # type: ignore[no-untyped-def]
    url = "https://client-api.instaforex.com/api/Authentication/RequestClientApiToken"
    body = b'{"Login": 20000001, "Password": "demo-pass"}'
    headers = {"Content-Type": "application/json"}
    for data in (body, body.decode(), iter([body[:10], body[10:]])):
        assert requests.post(url, data=data, headers=headers, timeout=5).status_code == 200
    assert len(instaforex_responses.journal.entries("RequestClientApiToken", where=lambda e: e.status == 200)) == 3
