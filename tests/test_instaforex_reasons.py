"""Say why (issue 17, item 5): every refusal still answers the real service's 403 "Access denied",
and its journal entry says why; the failure report and the dashboard show it. On both transports
(the socket through Flask, and the in-process route's direct path)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_instaforex import InstaForexMock
from mock_instaforex.dashboard import dashboard_data

from .ifxutil import KIND_ROUTE

BALANCE = "client/RequestBalanceInformation/{login}"


def _token(base: str, kind: str, login: int, password: str) -> requests.Response:
    return requests.post(base + KIND_ROUTE[kind], json={"Login": login, "Password": password}, timeout=10)


def _last_reason(mock: InstaForexMock, operation: str) -> Any:
    return mock.journal.entries(operation)[-1].reason


def test_each_refused_token_request_says_why_and_answers_access_denied(instaforex_mock: InstaForexMock) -> None:
    base = instaforex_mock.url
    instaforex_mock.change_account(20000003, api_password="api-pass")
    cases = [
        ("client", 20000099, "x", "unknown login 20000099"),
        ("client", 20000001, "Demo-pass", "wrong password"),
        ("client", 30000001, "demo-partner", "login 30000001 is a partner: a client token is for client accounts"),
        ("partner", 20000001, "demo-pass", "login 20000001 is a client account: a partner token is for partners"),
        ("client", 20000003, "nope", "wrong password (the account's level is ip: its IP password)"),
        ("client", 20000003, "api-pass", "level too low: the account's level is ip, so it takes its IP password, "
         "not the API password"),
    ]  # fmt: skip
    for kind, login, password, reason in cases:
        r = _token(base, kind, login, password)
        assert (r.status_code, r.json()) == (403, "Access denied"), (login, r.text)
        assert _last_reason(instaforex_mock, f"Request{kind.capitalize()}ApiToken") == reason
    instaforex_mock.change_account(20000003, ip_mask="198.18.0.0/15")
    assert _token(base, "client", 20000003, "demo-ip").status_code == 403
    assert (
        _last_reason(instaforex_mock, "RequestClientApiToken")
        == "IP 127.0.0.1 outside the account's mask 198.18.0.0/15"
    )
    assert _token(base, "client", 20000001, "demo-pass").status_code == 200
    assert _last_reason(instaforex_mock, "RequestClientApiToken") is None  # granted: nothing to explain


def _data_refusals(mock: InstaForexMock, get: Any) -> None:
    """Every data-call refusal, through `get(path, passkey)`; each answers 403 "Access denied"."""
    base = mock.url
    client = _token(base, "client", 20000001, "demo-pass").json()
    partner = _token(base, "partner", 30000001, "demo-partner").json()
    ip_level = _token(base, "client", 20000003, "demo-ip").json()
    cases: list[tuple[str, str | None, str]] = [
        (BALANCE.format(login=20000001), None, "no passkey header"),
        (BALANCE.format(login=20000001), "0" * 32, "unknown token (never issued, revoked, or expired and dropped)"),
        (BALANCE.format(login=20000002), client, "token of another login (20000001), not of 20000002"),
        (BALANCE.format(login=30000001), partner, "token of another kind: a partner token on a client route"),
    ]
    for path, key, reason in cases:
        r = get(path, key)
        assert (r.status_code, r.json()) == (403, "Access denied"), path
        assert _last_reason(mock, "RequestBalanceInformation") == reason
    mock.change_account(20000003, ip_mask="198.18.0.0/15")
    assert get(BALANCE.format(login=20000003), ip_level).status_code == 403
    assert _last_reason(mock, "RequestBalanceInformation") == "IP 127.0.0.1 outside the account's mask 198.18.0.0/15"
    mock.advance(5401)
    assert get(BALANCE.format(login=20000001), f'"{client}"').status_code == 403
    assert _last_reason(mock, "RequestBalanceInformation") == "token expired at 2025-01-06T10:30:00"


def test_each_refused_data_call_says_why_over_the_socket(instaforex_mock: InstaForexMock) -> None:
    def get(path: str, key: str | None) -> requests.Response:
        headers = {"passkey": key} if key is not None else {}
        return requests.get(instaforex_mock.url + path, headers=headers, timeout=10)

    _data_refusals(instaforex_mock, get)


def test_each_refused_data_call_says_why_in_process(instaforex_responses: Any) -> None:
    real = "https://client-api.instaforex.com/"

    def get(path: str, key: str | None) -> requests.Response:
        headers = {"passkey": key} if key is not None else {}
        return requests.get(real + path, headers=headers, timeout=10)  # the direct path: a plain GET

    _data_refusals(instaforex_responses.mock, get)


def test_the_dashboard_and_the_control_journal_show_the_reason(instaforex_mock: InstaForexMock) -> None:
    _token(instaforex_mock.url, "client", 20000001, "wrong")
    (row,) = dashboard_data(instaforex_mock.controller, {})["journal"]
    assert row["reason"] == "wrong password" and row["status"] == 403
    entries = requests.get(instaforex_mock.url + "_mock/journal", timeout=10).json()
    assert entries[-1]["reason"] == "wrong password"


def test_a_failure_report_shows_why_a_call_was_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_fails(instaforex_mock):
            requests.post(instaforex_mock.url + "api/Authentication/RequestClientApiToken",
                          json={"Login": 20000001, "Password": "nope"}, timeout=10)
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["  #1 * RequestClientApiToken -> 403 (wrong password): POST /api/Authentication/RequestClientApiToken"]
    )
