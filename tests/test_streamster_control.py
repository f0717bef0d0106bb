"""Control plane (§8): Python API and /_mock/ routes, fault injection, journal, snapshots, scenarios."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from mock_streamster import ScenarioError, StreamsterMock
from mock_streamster.scenario import load_scenario

from .soaputil import call, element, send_order

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "streamster"


def _post(mock: StreamsterMock, route: str, body: object = None, method: str = "POST") -> requests.Response:
    headers = {"Content-Type": "application/json"}  # the control plane takes JSON only, even an empty body
    return requests.request(method, f"{mock.url}/_mock/{route}", json=body, headers=headers, timeout=10)


def test_control_routes_mirror_the_python_api(streamster_mock: StreamsterMock) -> None:
    r = _post(streamster_mock, "price", {"instrument": "EUR/USD", "bid": "1.20000", "offer": "1.20010"})
    assert r.status_code == 200 and r.json() == {"instrument": "EUR/USD", "bid": "1.20000", "offer": "1.20010"}
    assert call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")["Bid"] == "1.20000"
    assert _post(streamster_mock, "price", {"instrument": "EUR/USD", "pips": -10}).json()["bid"] == "1.19900"
    start = streamster_mock.platform.now()
    r = _post(streamster_mock, "advance", {"seconds": 90})
    assert r.json()["now"] == (start + timedelta(seconds=90)).isoformat()
    assert _post(streamster_mock, "columns", {"window": "Rates", "names": ["Bid"]}).json()["visible"] == ["Bid"]
    assert list(call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")) == ["Bid"]
    assert _post(streamster_mock, "charts", {"instrument": "EUR/USD", "period": "daily"}).json()["closed"] == [
        "eur/usd Daily"
    ]
    assert (
        call(
            streamster_mock,
            "GetBars",
            element("Instrument", "EUR/USD") + element("Period", "Daily") + element("Options", ""),
        ).status
        == 500
    )
    _post(streamster_mock, "charts", {"instrument": "EUR/USD", "period": "Daily", "open": True})
    assert (
        call(
            streamster_mock,
            "GetBars",
            element("Instrument", "EUR/USD") + element("Period", "Daily") + element("Options", ""),
        ).status
        == 200
    )
    state = requests.get(f"{streamster_mock.url}/_mock/state", timeout=10).json()
    assert state["clock"] == "virtual" and state["seed"] == 0 and len(state["operations"]) == 12
    assert _post(streamster_mock, "reset").json() == {"ok": True}
    assert call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")["Bid"] == "1.08500"


def test_control_routes_refuse_bad_requests_clearly(streamster_mock: StreamsterMock) -> None:
    assert _post(streamster_mock, "advance", {"seconds": "soon"}).status_code == 400
    assert "seconds" in _post(streamster_mock, "advance", {"seconds": -1}).json()["error"]
    assert (
        "not a known instrument" in _post(streamster_mock, "price", {"instrument": "Nope", "bid": "1"}).json()["error"]
    )
    assert _post(streamster_mock, "columns", {"window": "Charts", "names": []}).status_code == 400
    assert _post(streamster_mock, "faults", {"operation": "GetWeather"}).status_code == 400
    assert _post(streamster_mock, "nothing").status_code == 404
    assert _post(streamster_mock, "reset", method="GET").status_code == 405
    r = requests.post(
        f"{streamster_mock.url}/_mock/advance",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400 and "JSON" in r.json()["error"]


def test_injected_soap_fault_for_the_next_n_calls(streamster_mock: StreamsterMock) -> None:
    streamster_mock.fail("GetDesks", times=2, code="Server", message="desk service down")
    for _ in range(2):
        r = call(streamster_mock, "GetDesks")
        assert r.status == 500 and r.fault == ("Server", "desk service down")
    assert call(streamster_mock, "GetDesks").status == 200
    assert [e.get("injected") for e in streamster_mock.journal.entries("GetDesks")] == ["fault", "fault", None]


def test_injected_http_error_delay_and_dropped_connection(streamster_mock: StreamsterMock) -> None:
    _post(streamster_mock, "faults", {"operation": "GetQuote", "kind": "http", "status": 503, "message": "busy"})
    assert call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD")).status == 503
    streamster_mock.fail("getquote", kind="delay", seconds=0.3)
    started = time.monotonic()
    assert call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD")).status == 200
    assert time.monotonic() - started >= 0.3
    streamster_mock.fail("SendOrder", kind="drop")
    with pytest.raises(requests.ConnectionError):
        send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
    assert streamster_mock.platform.get_orders() == []  # a dropped call never reached the platform
    assert send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1").status == 200


def test_probabilistic_faults_are_drawn_from_the_seed() -> None:
    def pattern() -> list[int]:
        with StreamsterMock(seed=3) as m:
            m.fail("GetDesks", probability=0.5, times=None)
            return [call(m, "GetDesks").status for _ in range(20)]

    first = pattern()
    assert first == pattern() and 500 in first and 200 in first


def test_journal_records_operation_request_response_and_time(streamster_mock: StreamsterMock) -> None:
    call(streamster_mock, "GetQuote", element("Instrument", "Gold"))
    (entry,) = streamster_mock.journal.entries()
    assert entry["operation"] == "GetQuote" and entry["status"] == 200
    assert "Gold" in entry["request"] and "<tns:Quote>" in entry["response"]
    assert entry["time"] == streamster_mock.platform.now().isoformat() and entry["peer"] == "127.0.0.1"
    assert (
        requests.get(f"{streamster_mock.url}/_mock/journal?operation=getquote", timeout=10).json()[0]["operation"]
        == "GetQuote"
    )
    assert _post(streamster_mock, "journal", method="DELETE").status_code == 200 and len(streamster_mock.journal) == 0


def test_journal_is_a_bounded_ring() -> None:
    with StreamsterMock(journal_size=5) as m:
        for _ in range(12):
            call(m, "GetDesks")
        entries = m.journal.entries()
        assert len(entries) == 5 and m.journal.total == 12
        assert [e["seq"] for e in entries] == list(range(8, 13))


def test_snapshot_and_restore_round_trip_through_json(streamster_mock: StreamsterMock) -> None:
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10", ExitTarget="1.09000")
    streamster_mock.advance(600)
    snap = requests.get(f"{streamster_mock.url}/_mock/snapshot", timeout=10).json()
    positions = call(streamster_mock, "GetPositions").raw
    send_order(streamster_mock, Instrument="GBP/USD", Desk="Virtual Forex", Quantity="1")
    streamster_mock.advance(3600)
    assert requests.put(f"{streamster_mock.url}/_mock/snapshot", json=snap, timeout=30).status_code == 200
    assert call(streamster_mock, "GetPositions").raw == positions
    # The restored platform goes on exactly as the original would have.
    with StreamsterMock() as other:
        other.restore(snap)
        streamster_mock.advance(1800)
        other.advance(1800)
        assert call(other, "GetPositions").raw == call(streamster_mock, "GetPositions").raw


def test_a_snapshot_in_python_does_not_follow_the_live_state(streamster_mock: StreamsterMock) -> None:
    snap = streamster_mock.snapshot()
    frozen = json.dumps(snap, sort_keys=True, default=str)
    streamster_mock.advance(900)  # new ticks, folded history
    streamster_mock.set_columns("Positions", ["PositionID", "Desk"])
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10")
    assert json.dumps(snap, sort_keys=True, default=str) == frozen
    streamster_mock.restore(snap)
    assert streamster_mock.snapshot() == snap


def test_restore_refuses_a_damaged_snapshot_and_keeps_the_state(streamster_mock: StreamsterMock) -> None:
    before = streamster_mock.snapshot()
    with pytest.raises(ScenarioError):
        streamster_mock.restore({"version": 1, "orders": "x"})
    assert _post(streamster_mock, "snapshot", {"version": 2}).status_code == 400
    assert streamster_mock.snapshot() == before


def test_scenario_sets_desks_instruments_ticks_columns_and_charts() -> None:
    with StreamsterMock(scenario=FIXTURES / "replay.yaml") as m:
        assert m.platform.now().isoformat() == "2025-03-03T08:00:00"
        assert [d["Name"] for d in call(m, "GetDesks").items("Desks", "Desk")] == ["Virtual Forex"]
        assert call(m, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")["Offer"] == "1.05020"
        m.advance(60)
        assert call(m, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")["Bid"] == "1.04980"
        m.advance(60)
        q = call(m, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")
        assert (q["Bid"], q["Low"], q["Time"]) == ("1.04950", "1.04950", "08:02:00")
        send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
        assert "Interest" not in call(m, "GetPositions").items("Positions", "Position")[0]
        r = call(m, "GetBars", element("Instrument", "Gold") + element("Period", "Monthly") + element("Options", ""))
        assert r.fault[0] == "Client"
        m.advance(10_000)  # the tick file ends: prices stay, no random walk
        assert call(m, "GetQuote", element("Instrument", "EUR/USD")).fields("Quote")["Bid"] == "1.05150"


def test_demo_scenario_and_loading_scenarios_through_the_control_plane(streamster_mock: StreamsterMock) -> None:
    r = _post(streamster_mock, "scenario", {"path": "demo"})  # the built-in demo scenario, by name
    assert r.status_code == 200, r.text
    assert ("Live Forex", "USD") in {
        (d["Name"], d["Currency"]) for d in call(streamster_mock, "GetDesks").items("Desks", "Desk")
    }
    r = _post(streamster_mock, "scenario", {"scenario": {"desks": [{"name": "Tiny", "currencies": {"usd": 5}}]}})
    assert r.status_code == 200
    assert call(streamster_mock, "GetDesks").items("Desks", "Desk") == [
        {"Name": "Tiny", "Currency": "USD", "Amount": "5.00"}
    ]
    assert _post(streamster_mock, "scenario", {"scenario": {"desks": "lots"}}).status_code == 400


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("desks: 3", "s.yaml:1:8: desks: must be a list, not a whole number"),
        ("desks: []", "s.yaml:1:8: desks: must not be empty"),
        ("instruments: [{name: Silver}]", "s.yaml:1:15: instruments[0]: 'Silver' is not in the catalogue ("),
        (
            "instruments:\n  - {name: EUR/USD, prise: '1.2'}",
            "s.yaml:2:21: instruments[0].prise: unknown key; did you mean 'price'?",
        ),
        (
            "instruments: [{name: EUR/USD, digits: 11}]",
            "s.yaml:1:39: instruments[0].digits: must be at most 10, not 11",
        ),
        (
            "instruments: [{name: EUR/USD, price: abc}]",
            "s.yaml:1:38: instruments[0].price: must be a decimal number such as \"1.08500\", not 'abc'",
        ),
        (
            "hidden_columns: {Charts: [x]}",
            "s.yaml:1:18: hidden_columns.Charts: unknown window; the windows are Rates, Orders, Trades, Positions",
        ),
        (
            "hidden_columns: {Orders: [Colour]}",
            "s.yaml:1:27: hidden_columns.Orders[0]: must be a column of Orders, not 'Colour'",
        ),
        (
            "closed_charts: [{instrument: EUR/USD, period: Yearly}]",
            "s.yaml:1:47: closed_charts[0].period: must be a chart period (",
        ),
        (
            "closed_charts: [{instrument: EUR/USB, period: Daily}]",
            "closed_charts[0].instrument: must be an instrument of the catalogue, not 'EUR/USB'; did you mean 'EUR/USD'?",
        ),
        ("ticks: missing.csv", "missing.csv: cannot read this tick file: No such file or directory"),
        ("surprise: 1", "s.yaml:1:1: surprise: unknown key; the keys are start, seed, tick_interval,"),
        ("sed: 1", "s.yaml:1:1: sed: unknown key; did you mean 'seed'?"),
        (
            "desks:\n  - name: A\n    currencies: {USD: 1}\n    colour: red",
            "s.yaml:4:5: desks[0].colour: unknown key; the keys are name, currencies",
        ),
        ("seed: -1", "s.yaml:1:7: seed: must be at least 0, not -1"),
        ("[unclosed", "s.yaml:2:1: not valid YAML: "),  # libyaml's words or PyYAML's
        ("- a list", "s.yaml:1:1: must be a mapping, not a list"),
    ],
)
def test_bad_scenarios_are_refused_naming_file_line_column_key_and_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content)
    with pytest.raises(ScenarioError, match=None) as info:
        load_scenario(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path)) or str(info.value).startswith(str(tmp_path / "missing.csv"))


def test_bad_tick_file_lines_are_refused(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("2025-01-01T00:00:00,EUR/USD,abc,1\n")
    (tmp_path / "s.json").write_text(json.dumps({"ticks": "t.csv"}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.json")
    assert str(info.value) == f"{tmp_path / 't.csv'}:1: bid: must be a number, not 'abc'"


def test_pytest_plugin_fixture_gives_a_reset_emulator(streamster_mock: StreamsterMock) -> None:
    assert streamster_mock.platform.get_orders() == []
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
    assert len(streamster_mock.platform.get_orders()) == 1
