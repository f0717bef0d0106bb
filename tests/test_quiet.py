"""Quiet in a user's test run (issue 17, item 6): `pytest -W error` passes with the plugin loaded,
its fixtures used, a cassette replayed and a dashboard read. In a fresh interpreter, so that the
emulators' dependencies are imported as a user's run imports them (spyne's `cgi` import warned);
`make test-matrix` runs it on every supported Python."""

from __future__ import annotations

import pytest

from mock_instaforex.data import CASSETTES as INSTAFOREX_CASSETTES
from mock_streamster.data import CASSETTES


def test_a_users_run_under_w_error_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest
        import requests

        from broker_mocks.client import InstaForexClient, StreamsterClient


        def test_sockets(streamster_mock, streamster_client, instaforex_mock, instaforex_client):
            assert streamster_client.get_quote("EUR/USD").bid > 0 and streamster_client.get_bars("EUR/USD", "Hourly")
            assert instaforex_client.balance().balance > 0 and instaforex_client.closed_trades()
            assert requests.get(streamster_mock.url + "/_mock/ui/data", timeout=10).status_code == 200
            assert requests.get(instaforex_mock.url + "_mock/ui/data", timeout=10).status_code == 200


        def test_in_process(streamster_responses, instaforex_responses):
            assert StreamsterClient("http://127.0.0.1:8018/service.wsdl").get_desks()
            assert InstaForexClient("https://client-api.instaforex.com/", login=20000001, password="demo-pass").balance()


        @pytest.mark.streamster(scenario="day")
        @pytest.mark.instaforex(accounts={{"accounts": [{{"login": 7, "level": "open"}}]}})
        def test_markers(streamster_mock, instaforex_mock):
            assert streamster_mock.platform.scenario.source == "day" and list(instaforex_mock.store.accounts) == [7]


        @pytest.mark.broker_cassette("streamster", path={str(CASSETTES.path("streamster-client"))!r})
        def test_a_streamster_cassette(broker_cassette):
            assert StreamsterClient("http://127.0.0.1:8018/service.wsdl", retries=0).get_quote("EUR/USD").bid > 0


        @pytest.mark.broker_cassette("instaforex", path={str(INSTAFOREX_CASSETTES.path("instaforex-client"))!r})
        def test_an_instaforex_cassette(broker_cassette):
            r = requests.post("https://client-api.instaforex.com/api/Authentication/RequestClientApiToken",
                              json={{"Login": 90000001, "Password": "x"}}, timeout=10)
            assert r.status_code == 200
        """
    )
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=5)
    assert "Warning" not in result.stdout.str() and "Warning" not in result.stderr.str()
