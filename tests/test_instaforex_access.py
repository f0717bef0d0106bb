"""Access levels (contract §3): open, password, ip with masks; X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import pytest
import requests

from mock_instaforex import InstaForexMock, StoreError
from mock_instaforex.ipmask import parse_mask

from .ifxutil import Api
from .netns import as_json, remote_peer


@pytest.mark.parametrize(
    ("mask", "inside", "outside"),
    [
        ("203.0.113.7", ["203.0.113.7", "::ffff:203.0.113.7"], ["203.0.113.8", "2001:db8::1"]),
        ("203.0.113.0/24", ["203.0.113.0", "203.0.113.255"], ["203.0.114.1"]),
        ("203.0.113.*", ["203.0.113.9"], ["203.0.112.9"]),
        ("10.*", ["10.200.3.4"], ["11.0.0.1"]),
        ("10.*.*.*", ["10.1.2.3"], ["9.1.2.3"]),
        ("2001:db8::/32", ["2001:db8:1::5"], ["2001:db9::1", "203.0.113.1"]),
        ("2001:db8:*", ["2001:db8:ffff::1"], ["2001:db7::1"]),
        ("::1", ["::1"], ["127.0.0.1"]),
        ("127.0.0.1, ::1, 198.18.0.0/15", ["127.0.0.1", "::1", "198.19.2.2"], ["198.20.0.1"]),
        ("::ffff:192.0.2.1", ["192.0.2.1"], ["192.0.2.2"]),
    ],
)
def test_ip_masks_match_addresses_cidr_wildcards_and_lists(mask: str, inside: list[str], outside: list[str]) -> None:
    parsed = parse_mask(mask)
    assert all(parsed.matches(a) for a in inside), inside
    assert not any(parsed.matches(a) for a in outside), outside
    assert not parsed.matches("not an address") and not parsed.matches(None)


@pytest.mark.parametrize("mask", ["", "300.1.1.1", "10.*.1.*", "1.2.3.4.5", "abc", "10.0.0.0/33", "1.2.3.4,,5.6.7.8"])
def test_bad_masks_are_refused_naming_the_entry(mask: str) -> None:
    with pytest.raises(StoreError, match="ip_mask"):
        parse_mask(mask)


def test_open_level_admits_any_password_and_password_level_only_the_api_password(api: Api) -> None:
    for password in ("", "anything", "demo-pass"):
        assert api.token("client", 20000002, password).status_code == 200
    assert api.token("client", 20000001, "demo-pass").status_code == 200
    for password in ("", "Demo-pass", "demo-pass ", "demo-ip"):
        assert api.token("client", 20000001, password).status_code == 403, password
    assert api.token("client", 20000009, "x").status_code == 403  # unknown login


def test_ip_level_needs_the_ip_password_and_a_caller_inside_the_mask(api: Api, instaforex_mock: InstaForexMock) -> None:
    assert api.token("client", 20000003, "demo-pass").status_code == 403
    key = api.passkey("client", 20000003, "demo-ip")  # 127.0.0.1 is inside 127.0.0.1/32
    assert api.get("client/RequestBalanceInformation/20000003", key).status_code == 200
    instaforex_mock.change_account(20000003, ip_mask="198.18.0.0/15")  # the caller is now outside
    assert api.get("client/RequestBalanceInformation/20000003", key).status_code == 403  # each call re-checks
    assert api.token("client", 20000003, "demo-ip").status_code == 403
    instaforex_mock.change_account(20000003, ip_mask="10.0.0.1, 127.0.0.*")
    assert api.get("client/RequestBalanceInformation/20000003", key).status_code == 200


def test_ipv6_callers_are_matched_against_ipv6_masks() -> None:
    with InstaForexMock(host="::1") as m:
        api = Api(m.url)
        assert api.token("client", 20000003, "demo-ip").status_code == 403  # ::1 is not 127.0.0.1/32
        m.change_account(20000003, ip_mask="::1/128")
        key = api.passkey("client", 20000003, "demo-ip")
        assert api.get("client/RequestOpenTrades/20000003", key).status_code == 200
        assert m.store.accounts[20000003].login_history[-1].ip == "::1"


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(instaforex_mock: InstaForexMock) -> None:
    api = Api(instaforex_mock.url)
    instaforex_mock.change_account(20000003, ip_mask="203.0.113.5")
    spoof = {"X-Forwarded-For": "203.0.113.5"}
    assert api.token("client", 20000003, "demo-ip", headers=spoof).status_code == 403
    assert instaforex_mock.store.accounts[20000003].login_history[-1].ip == "127.0.0.1"
    with InstaForexMock(trusted_proxies=["127.0.0.1/32"]) as m:
        api = Api(m.url)
        m.change_account(20000003, ip_mask="203.0.113.5")
        key = api.token("client", 20000003, "demo-ip", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.5"}).json()
        assert api.get("client/RequestOpenTrades/20000003", key, headers=spoof).status_code == 200
        assert api.get("client/RequestOpenTrades/20000003", key).status_code == 403  # the proxy itself is outside
        assert m.store.accounts[20000003].login_history[-1].ip == "203.0.113.5"


def test_login_history_records_every_token_request_with_the_callers_ip(
    api: Api, instaforex_mock: InstaForexMock
) -> None:
    history = instaforex_mock.store.accounts[20000001].login_history
    before = len(history)
    api.token("client", 20000001, "wrong")
    api.token("client", 20000001)
    api.token("mobile", 20000001)
    assert len(history) == before + 3
    assert [(e.ip, e.source) for e in history[-3:]] == [
        ("127.0.0.1", "ClientApi"),
        ("127.0.0.1", "ClientApi"),
        ("127.0.0.1", "MobileApi"),
    ]


@pytest.mark.netns
def test_ip_level_and_control_routes_against_a_real_non_loopback_peer() -> None:
    with remote_peer() as peer, InstaForexMock(host="0.0.0.0") as m:
        base = f"http://{peer.host_address}:{m.port}/"
        token_url = base + "api/Authentication/RequestClientApiToken"
        body = b'{"Login": 20000003, "Password": "demo-ip"}'
        json_headers = {"Content-Type": "application/json"}
        # Outside the mask (127.0.0.1/32): refused, even when claiming 127.0.0.1 in X-Forwarded-For.
        status, reply = peer.request("POST", token_url, body, {**json_headers, "X-Forwarded-For": "127.0.0.1"})
        assert (status, as_json(reply)) == (403, "Access denied")
        assert m.store.accounts[20000003].login_history[-1].ip == peer.address
        # Inside the mask: admitted, and each data call passes the same check.
        m.change_account(20000003, ip_mask=f"127.0.0.1, {peer.address.rsplit('.', 1)[0]}.*")
        status, reply = peer.request("POST", token_url, body, json_headers)
        assert status == 200
        key = as_json(reply)
        status, reply = peer.request(
            "GET", base + "client/RequestBalanceInformation/20000003", headers={"passkey": key}
        )
        assert status == 200 and as_json(reply)["Login"] == 20000003
        m.change_account(20000003, ip_mask="127.0.0.1")
        status, reply = peer.request(
            "GET", base + "client/RequestBalanceInformation/20000003", headers={"passkey": key}
        )
        assert (status, as_json(reply)) == (403, "Access denied")
        # Control routes answer loopback peers only, whatever the headers say.
        before = m.store.to_data()
        for method, route in (("POST", "_mock/reset"), ("GET", "_mock/journal"), ("POST", "_mock/advance")):
            status, reply = peer.request(
                method, base + route, b'{"seconds": 10}', {**json_headers, "X-Forwarded-For": "127.0.0.1"}
            )
            assert status == 403 and "local computer" in as_json(reply)["error"], route  # as every control refusal
        assert m.store.to_data() == before
        assert (
            requests.post(f"http://127.0.0.1:{m.port}/_mock/advance", json={"seconds": 1}, timeout=10).status_code
            == 200
        )


@pytest.mark.netns
def test_x_forwarded_for_is_honoured_from_the_trusted_proxy_peer() -> None:
    with remote_peer() as peer:
        with InstaForexMock(host="0.0.0.0", trusted_proxies=[f"{peer.address}/32"]) as m:
            m.change_account(20000003, ip_mask="203.0.113.77")
            url = f"http://{peer.host_address}:{m.port}/api/Authentication/RequestClientApiToken"
            headers = {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.77"}
            status, _ = peer.request("POST", url, b'{"Login": 20000003, "Password": "demo-ip"}', headers)
            assert status == 200
            assert m.store.accounts[20000003].login_history[-1].ip == "203.0.113.77"
