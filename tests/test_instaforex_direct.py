"""The in-process hot path (mock_instaforex/direct.py) answers and journals every call as the Flask wire does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_common.pytest_plugin import call_wsgi
from mock_instaforex import InstaForexMock
from mock_instaforex.direct import direct
from mock_instaforex.wire import instaforex_app

BASE = "https://client-api.instaforex.com"
TOKENS = {"client": (20000001, "demo-pass"), "partner": (30000001, "demo-partner"), "mobile": (20000001, "demo-pass")}
TOKEN_PATHS = {
    "client": "RequestClientApiToken", "partner": "RequestPartnerApiToken", "mobile": "RequestMoblieCabinetApiToken",
}  # fmt: skip


def _pair(**options: Any) -> Iterator[tuple[Any, ...]]:
    """Two emulators alike: one through the direct path, one through Flask only."""
    for through_direct in (True, False):
        mock = InstaForexMock(seed=4, token_seed=9, clock="virtual", **options)
        whole = instaforex_app(mock.app, mock.controller)
        if through_direct:
            config = mock.app.config
            whole = direct(whole, config["SERVICE"], mock.controller, config["SETTINGS"])
        yield mock, whole


def _call(app: Any, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> Any:
    prepared = requests.Request(method, BASE + path, headers=headers or {}, data=body).prepare()
    return call_wsgi(app, prepared)


def _session(app: Any) -> dict[str, str]:
    tokens = {}
    for kind, (login, password) in TOKENS.items():
        body = f'{{"Login": {login}, "Password": "{password}"}}'.encode()
        status, _, reply = _call(app, "POST", f"/api/Authentication/{TOKEN_PATHS[kind]}",
                                 {"Content-Type": "application/json"}, body)  # fmt: skip
        assert status == 200, reply
        tokens[kind] = reply.decode().strip('"')
    return tokens


def _requests(tokens: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    client, partner, mobile = ({"passkey": tokens[k]} for k in ("client", "partner", "mobile"))
    calls = []
    for route in ("RequestBalanceInformation", "RequestOpenTrades", "RequestClosedTrades", "RequestClosedLots",
                  "RequestBonusStatistics", "RequestLoginHistory", "RequestAccountSummary"):  # fmt: skip
        calls += [
            ("GET", f"/client/{route}/20000001", client),
            ("GET", f"/CLIENT/{route.upper()}/20000001/", client),  # any case, a trailing slash
            ("GET", f"/client/{route}/20000002", client),  # another login's data: refused
            ("GET", f"/client/{route}/020000001", client),  # not a canonical login: 400
            ("GET", f"/client/{route}/20000001", partner),  # the wrong kind of token
            ("GET", f"/client/{route}/20000001", {}),  # no token
        ]
    calls += [
        ("GET", "/client/RequestBalanceInformation/20000001", {"passkey": f'"{tokens["client"]}"'}),  # quoted
        ("GET", "/client/RequestBalanceInformation/abc", client),
        ("GET", "/client/RequestBalanceInformation/99999999", client),
        ("GET", "/partner/CheckReferral/30000001/20000001", partner),
        ("GET", "/partner/CheckReferral/30000001/20000009", partner),
        ("GET", "/partner/CheckReferral/30000001/x", partner),
        ("GET", "/partner/CheckReferral/30000001", partner),  # a segment short: Flask's 404
        ("GET", "/partner/GetCommissionRecords/30000001", partner),
        ("GET", "/partner/GetClickStatistics/30000001", partner),
        ("GET", "/partner/GetClickStatistics/30000001", client),
        ("GET", "/clientmobile/GetAnalyticSignals/20000001", mobile),
        ("GET", "/clientmobile/GetAnalyticSignals/20000001", client),
        # Flask's own: a query string, HEAD, another method, odd paths.
        ("GET", "/client/RequestClosedTrades/20000001?from=2020-01-01", client),
        ("HEAD", "/client/RequestBalanceInformation/20000001", client),
        ("POST", "/client/RequestBalanceInformation/20000001", client),
        ("GET", "/client//RequestBalanceInformation/20000001", client),
        ("GET", "/client/RequestBalanceInformation/20000001/extra", client),
        ("GET", "/client/Nothing/20000001", client),
        ("GET", "/openapi.json", {}),
    ]
    return calls


def _entries(mock: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.to_dict().items() if k != "duration_ms"} for e in mock.journal.entries()]


def _run(faults: bool = False, **options: Any) -> list[Any]:
    outcomes = []
    for mock, app in _pair(**options):
        tokens = _session(app)
        answers = []
        if faults:
            mock.fail("RequestBalanceInformation", kind="http", status=503, message="Injected failure")
            mock.fail("RequestOpenTrades", kind="malformed")
            mock.fail("RequestAccountSummary", kind="delay", seconds=0.01)
            mock.fail("GetClickStatistics", kind="drop")
        for method, path, headers in _requests(tokens):
            answer = _call(app, method, path, headers)
            answers.append(repr(answer) if isinstance(answer, Exception) else answer)
        outcomes.append((answers, _entries(mock)))
    return outcomes


@pytest.mark.parametrize("options", [{}, {"deny_status": 200}], ids=["deny 403", "deny 200"])
def test_every_data_route_answers_and_journals_as_through_flask(options: dict[str, Any]) -> None:
    (direct_answers, direct_journal), (flask_answers, flask_journal) = _run(**options)
    assert len(direct_answers) == len(flask_answers) > 50
    for mine, theirs in zip(direct_answers, flask_answers, strict=True):
        assert mine == theirs
    assert direct_journal == flask_journal and len(direct_journal) > 50


def test_faults_fire_once_and_answer_as_through_flask() -> None:
    (direct_answers, direct_journal), (flask_answers, flask_journal) = _run(faults=True)
    assert direct_answers == flask_answers and direct_journal == flask_journal
    injected = [e["injected"] for e in direct_journal if e["injected"]]
    assert sorted(injected) == ["delay", "drop", "http", "malformed"]
    assert any("connection reset" in str(a) for a in direct_answers)  # the drop


def test_a_failure_inside_the_service_is_the_same_500_and_log(caplog: pytest.LogCaptureFixture) -> None:
    replies = []
    for mock, app in _pair():
        tokens = _session(app)

        def broken(who: Any) -> Any:
            raise RuntimeError("a bug")

        mock.app.config["SERVICE"].balance = broken
        caplog.clear()
        replies.append(_call(app, "GET", "/client/RequestBalanceInformation/20000001", {"passkey": tokens["client"]}))
        assert [r.getMessage() for r in caplog.records if r.name == "mock_instaforex.wire"] == [
            "failure inside the emulator"
        ]
    assert replies[0] == replies[1] and replies[0][0] == 500
