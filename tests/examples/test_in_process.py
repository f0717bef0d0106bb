"""Docs example (docs/how-to/in-process.md): a bot with the real URLs hard-coded, served in process (no socket)."""

import pytest
import requests
import zeep

IFX = "https://client-api.instaforex.com/"


def test_a_requests_bot_unchanged(instaforex_responses):
    login = {"Login": 20000001, "Password": "demo-pass"}
    token = requests.post(IFX + "api/Authentication/RequestClientApiToken", json=login, timeout=10).json()
    r = requests.get(IFX + "client/RequestBalanceInformation/20000001", headers={"passkey": token}, timeout=10)
    assert r.status_code == 200 and r.json()["Balance"] > 0
    with pytest.raises(requests.ConnectionError):  # anything else is refused, as `responses` does
        requests.get("https://example.com/", timeout=10)


def test_a_zeep_bot_unchanged(streamster_responses):
    bot = zeep.Client("http://127.0.0.1:8018/service.wsdl")
    streamster_responses.set_price("EUR/USD", "1.25000")  # the emulator's own methods work too
    assert bot.service.GetQuote("EUR/USD").Bid == 1.25
