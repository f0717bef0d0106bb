"""Tokens (contract §2): bound to login and kind, expiring on the emulator's clock, unguessable."""

from __future__ import annotations

import re

from mock_instaforex import InstaForexMock

from .ifxutil import Api


def test_tokens_expire_after_the_ttl_on_the_emulators_clock(api: Api, instaforex_mock: InstaForexMock) -> None:
    key = api.passkey("client", 20000001)
    instaforex_mock.advance(5399)
    assert api.get("client/RequestBalanceInformation/20000001", key).status_code == 200
    instaforex_mock.advance(1)
    r = api.get("client/RequestBalanceInformation/20000001", key)
    assert (r.status_code, r.json()) == (403, "Access denied")
    fresh = api.passkey("client", 20000001)
    assert api.get("client/RequestBalanceInformation/20000001", fresh).status_code == 200


def test_the_ttl_is_configurable() -> None:
    with InstaForexMock(token_ttl=60) as m:
        api = Api(m.url)
        key = api.passkey("client", 20000001)
        m.advance(59)
        assert api.get("client/RequestOpenTrades/20000001", key).status_code == 200
        m.advance(1)
        assert api.get("client/RequestOpenTrades/20000001", key).status_code == 403


def test_several_tokens_live_at_once_per_login(api: Api) -> None:
    keys = [api.passkey("client", 20000001) for _ in range(5)]
    assert len(set(keys)) == 5
    for key in keys:
        assert api.get("client/RequestOpenTrades/20000001", key).status_code == 200


def test_tokens_are_32_hex_characters_from_a_csprng() -> None:
    seen: list[str] = []
    for _ in range(2):  # the same seed twice: tokens still differ (no seed asked for determinism)
        with InstaForexMock(seed=1) as m:
            api = Api(m.url)
            seen += [api.passkey("client", 20000001) for _ in range(50)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in seen)
    assert len(set(seen)) == 100


def test_a_token_seed_makes_tokens_deterministic() -> None:
    def tokens() -> list[str]:
        with InstaForexMock(token_seed=5) as m:
            api = Api(m.url)
            return [api.passkey("client", 20000001), api.passkey("partner", 30000001)]

    first = tokens()
    assert first == tokens() and first[0] != first[1]


def test_revoked_and_expired_tokens_are_refused(api: Api, instaforex_mock: InstaForexMock) -> None:
    a, b = api.passkey("client", 20000001), api.passkey("client", 20000002)
    assert instaforex_mock.revoke_tokens(20000001) == 1
    assert api.get("client/RequestOpenTrades/20000001", a).status_code == 403
    assert api.get("client/RequestOpenTrades/20000002", b).status_code == 200
    assert instaforex_mock.expire_tokens() == 1
    assert api.get("client/RequestOpenTrades/20000002", b).status_code == 403


def test_unknown_and_missing_passkeys_are_refused(api: Api) -> None:
    for headers in ({}, {"passkey": ""}, {"passkey": "0" * 32}, {"passkey": "not a token"}):
        r = api.get("client/RequestBalanceInformation/20000001", headers=headers)
        assert (r.status_code, r.json()) == (403, "Access denied"), headers
