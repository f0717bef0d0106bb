"""reset() means back to the constructor: after it, an emulator answers byte for byte as a new one
built with the same arguments would, fault draws included, whatever was loaded or restored since."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock
from mock_streamster.data import SCENARIOS

from .soaputil import call, element, send_order

DEMO = SCENARIOS.path("demo")
OTHER_SCENARIO = {"seed": 99, "instruments": [{"name": "EUR/USD", "price": "1.20000"}], "walk": False}


def _journal(mock: Any) -> list[tuple[Any, ...]]:
    return [(e.seq, e.time, e.operation, e.status, e.fault, e.response) for e in mock.journal.entries()]


def _streamster_run(m: StreamsterMock) -> list[Any]:
    m.fail("GetQuote", probability=0.5, times=None)  # which calls fail is drawn from the seed
    out: list[Any] = [m.snapshot()]
    for _ in range(12):
        out.append(call(m, "GetQuote", element("Instrument", "EUR/USD")).raw)
    m.clear_faults()
    out.append(send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="2", ExitTarget="1.30000").raw)
    m.advance(1800)
    out += [call(m, "GetPositions").raw, call(m, "GetTrades").raw, m.snapshot(), _journal(m)]
    return out


def test_streamster_reset_equals_a_new_emulator() -> None:
    with StreamsterMock(seed=3, scenario=DEMO) as fresh:
        expected = _streamster_run(fresh)
    with StreamsterMock(seed=3, scenario=DEMO) as m:
        _streamster_run(m)  # draws faults, trades, moves the clock
        snapshot = m.snapshot()
        m.load_scenario(OTHER_SCENARIO)  # another scenario, with its own seed
        m.restore({**snapshot, "seed": 42})  # a snapshot overwrites the seed in force
        m.fail("*", probability=0.3, times=None)
        call(m, "GetDesks")
        m.reset()
        assert m.platform.seed == 3 and m.platform.scenario.source == str(DEMO)
        assert _streamster_run(m) == expected


def _instaforex_run(m: InstaForexMock) -> list[Any]:
    m.fail("RequestBalanceInformation", probability=0.5, times=None)
    http = requests.Session()
    token = http.post(
        m.url + "api/Authentication/RequestClientApiToken",
        json={"Login": 20000001, "Password": "demo-pass"},
        timeout=10,
    )
    out: list[Any] = [token.status_code, token.text, m.store.to_data()]
    for _ in range(12):
        r = http.get(m.url + "client/RequestBalanceInformation/20000001", headers={"passkey": token.json()}, timeout=10)
        out.append((r.status_code, r.text))
    m.advance(600)
    r = http.get(m.url + "client/RequestLoginHistory/20000001", headers={"passkey": token.json()}, timeout=10)
    out += [(r.status_code, r.text), _journal(m)]
    http.close()
    return out


def test_instaforex_reset_equals_a_new_emulator(tmp_path: Path) -> None:
    with InstaForexMock(seed=5, token_seed=8) as fresh:
        expected = _instaforex_run(fresh)
    with InstaForexMock(seed=5, token_seed=8) as m:
        _instaforex_run(m)
        m.load_accounts({"accounts": [{"login": 30000001, "level": "open"}]})  # another source
        m.fail("*", probability=0.3, times=None)
        requests.get(m.url + "client/RequestBalanceInformation/30000001", timeout=10)
        m.reset()
        assert 20000001 in m.store.accounts and 30000001 not in m.store.accounts
        assert _instaforex_run(m) == expected


def test_instaforex_reset_is_the_file_read_at_construction(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n  - {login: 30000001, level: open}\n", encoding="utf-8")
    m = InstaForexMock(accounts=accounts)
    accounts.write_text("accounts: [", encoding="utf-8")  # broken afterwards: reset does not read it again
    m.add_account(login=30000002, level="open")
    m.reset()
    assert sorted(m.store.accounts) == [30000001]


def test_clear_faults_keeps_the_draws_reset_restarts_them() -> None:
    from mock_common.faults import FaultPlan

    def draws(plan: FaultPlan) -> list[bool]:
        plan.add("X", probability=0.5, times=None)
        return [plan.take("X") is not None for _ in range(20)]

    plan = FaultPlan(seed=1)
    first = draws(plan)
    plan.clear()
    assert draws(plan) != first  # clear() drops the rules only
    plan.reset()
    assert draws(plan) == first == draws(FaultPlan(seed=1))


def test_configure_with_a_bad_argument_changes_nothing(tmp_path: Path) -> None:
    from mock_instaforex.errors import StoreError
    from mock_streamster.errors import ScenarioError

    with StreamsterMock(seed=2) as m:
        before = m.snapshot()
        with pytest.raises(ScenarioError):
            m.configure(seed=3, scenario=tmp_path / "missing.yaml")
        assert m.arguments["seed"] == 2 and m.snapshot() == before
        assert call(m, "GetQuote", element("Instrument", "EUR/USD")).status == 200
    with InstaForexMock() as m:
        with pytest.raises(StoreError, match="missing.yaml"):
            m.configure(accounts=tmp_path / "missing.yaml")
        with pytest.raises(ValueError, match="token TTL"):
            m.configure(token_ttl=0)
        assert m.arguments["accounts"] is None and 20000001 in m.store.accounts
        assert requests.get(m.url + "openapi.json", timeout=10).status_code == 200
