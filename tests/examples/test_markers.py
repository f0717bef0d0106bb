"""Docs example (docs/how-to/pytest.md): markers set up one test's emulator; the next test gets the defaults again."""

from decimal import Decimal

import pytest

from broker_mocks.client import InstaForexClient


@pytest.mark.streamster(scenario="scenario.yaml", seed=7)  # a path relative to this file
def test_with_my_scenario(streamster_client):
    assert streamster_client.get_quote("EUR/USD").bid == Decimal("1.20000")


@pytest.mark.streamster(scenario="day")  # a built-in scenario, by name
@pytest.mark.instaforex(accounts={"accounts": [{"login": 42, "level": "open", "balance": "9.50"}]})  # inline
def test_a_built_in_scenario_and_inline_accounts(streamster_mock, instaforex_mock):
    assert streamster_mock.platform.scenario.source == "day"
    assert sorted(instaforex_mock.store.accounts) == [42]


@pytest.mark.instaforex(accounts="accounts.yaml", token_ttl=60)
def test_the_bot_renews_its_token(instaforex_mock):
    bot = InstaForexClient(instaforex_mock.url, login=30000001, password="secret-1", token_ttl=3600)
    assert bot.balance().balance == Decimal("500.00")
    instaforex_mock.advance(61)  # the emulator's token has expired, the bot does not know yet
    assert bot.balance().balance == Decimal("500.00")  # refused once, renewed, answered
    instaforex_mock.assert_called("RequestClientApiToken", times=2)


def test_the_next_test_has_the_defaults(streamster_mock, instaforex_mock):
    assert streamster_mock.platform.scenario.source is None
    assert 20000001 in instaforex_mock.store.accounts
