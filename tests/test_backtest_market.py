"""History as the market: the path inside a bar fills orders and exits where they would, gaps fill at the
first price beyond, the lockstep clock, the end-of-history fault, and the ways in (CLI, scenario, marker)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import zeep
from zeep.exceptions import Fault

from mock_streamster import StreamsterMock
from mock_streamster.cli import main
from mock_streamster.errors import ScenarioError
from mock_streamster.lockstep import parse_steps
from mock_streamster.platform import Platform
from mock_streamster.scenario import load_scenario, scenario_from_dict

SAMPLES = Path(__file__).parent / "data" / "history"
# An up bar, a down bar, a bar that gaps up, one more (EUR/USD, spread 0.00020 from the catalogue).
BARS = """,Open,High,Low,Close
2024-01-02 10:00:00,1.10000,1.10100,1.09900,1.10050
2024-01-02 11:00:00,1.10050,1.10060,1.09800,1.09850
2024-01-02 12:00:00,1.10300,1.10400,1.10250,1.10350
2024-01-02 13:00:00,1.10350,1.10360,1.10340,1.10350
"""
D = Decimal


def platform(tmp_path: Path, text: str = BARS, **entry: Any) -> Platform:
    path = tmp_path / "bars.csv"
    path.write_text(text)
    return Platform(scenario=scenario_from_dict({"history": {"EUR/USD": {"path": str(path), **entry}}}))


def at(p: Platform, when: str) -> None:
    p.advance((datetime.fromisoformat(when) - p.now()).total_seconds())


def order(**fields: Any) -> dict[str, Any]:
    return {"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "10", **fields}


def trades(p: Platform) -> list[tuple[str, str, str, Decimal]]:
    return [(t.phase, t.side, t.executed.strftime("%H:%M:%S"), t.price) for t in p.get_trades()]


def test_the_quote_walks_open_low_high_close_in_an_up_bar_and_open_high_low_close_in_a_down_bar(tmp_path: Path) -> None:
    p = platform(tmp_path)
    seen = []
    for minute in (0, 5, 15, 30, 45, 59, 60, 75, 90, 105):
        at(p, f"2024-01-02 {10 + minute // 60:02d}:{minute % 60:02d}:00")
        q = p.get_quote("EUR/USD")
        seen.append(q.bid)
        assert q.offer == q.bid + D("0.00020")
    assert seen == [D("1.10000"), D("1.09967"), D("1.09900"), D("1.10100"), D("1.10050"), D("1.10050"),
                    D("1.10050"), D("1.10060"), D("1.09800"), D("1.09850")]  # fmt: skip


def test_limit_and_stop_entries_inside_a_bar_fill_at_their_price_when_the_path_reaches_it(tmp_path: Path) -> None:
    p = platform(tmp_path)
    p.send_order(order(Side="BUY", PriceType="LIMIT", Price="1.09950"))  # offer falls to it on the way to the low
    p.send_order(order(Side="SELL", PriceType="STOP", Price="1.09950"))  # bid falls to it
    p.send_order(order(Side="BUY", PriceType="STOP", Price="1.10090"))  # offer rises to it on the way to the high
    p.send_order(order(Side="SELL", PriceType="LIMIT", Price="1.10200"))  # never reached: stays working
    at(p, "2024-01-02 10:59:00")
    assert trades(p) == [
        ("Entry", "SELL", "10:07:30", D("1.09950")),  # bid 1.09950: halfway from 1.10000 to 1.09900
        ("Entry", "BUY", "10:10:30", D("1.09950")),  # bid 1.09930, offer 1.09950
        ("Entry", "BUY", "10:27:45", D("1.10090")),  # bid 1.10070 on the way from 1.09900 to 1.10100
    ]
    assert [o.status for o in p.get_orders()] == ["Filled", "Filled", "Filled", "Working"]


def test_stops_and_targets_inside_a_bar_close_at_their_level(tmp_path: Path) -> None:
    p = platform(tmp_path)
    p.send_order(order(Side="BUY", ExitStopLoss="1.09920", ExitTarget="1.10080"))  # at 1.10020: the low comes first
    p.send_order(order(Side="SELL", ExitStopLoss="1.10060", ExitTarget="1.09960"))  # at 1.10000: target on the way down
    at(p, "2024-01-02 10:59:00")
    assert trades(p) == [
        ("Entry", "BUY", "10:00:00", D("1.10020")),
        ("Entry", "SELL", "10:00:00", D("1.10000")),
        ("Exit", "BUY", "10:09:00", D("1.09960")),  # offer 1.09960 at bid 1.09940
        ("Exit", "SELL", "10:12:00", D("1.09920")),  # bid 1.09920: the stop loss, at its level
    ]
    closed = {x.side: x for x in p.get_positions()}
    assert closed["BUY"].profit == D("-10.00") and closed["SELL"].profit == D("4.00")  # 10 x 1,000 x the move


def test_a_gap_through_a_level_fills_at_the_first_price_beyond_it(tmp_path: Path) -> None:
    p = platform(tmp_path)
    at(p, "2024-01-02 11:50:00")  # holding the close 1.09850 until the next bar opens at 1.10300
    p.send_order(order(Side="BUY", PriceType="STOP", Price="1.10100"))
    p.send_order(order(Side="SELL", ExitStopLoss="1.10000"))  # at 1.09850; the gap jumps its stop
    at(p, "2024-01-02 12:01:00")
    assert trades(p) == [
        ("Entry", "SELL", "11:50:00", D("1.09850")),
        ("Entry", "BUY", "12:00:00", D("1.10320")),  # the open's offer, not 1.10100
        ("Exit", "BUY", "12:00:00", D("1.10320")),  # the stop 1.10000 filled at the open's offer
    ]


def test_a_jump_between_ticks_fills_at_the_next_tick(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("Time,Bid,Ask\n2024-01-02 10:00:00,1.1000,1.1001\n2024-01-02 10:00:05,1.1010,1.1012\n"
                    "2024-01-02 10:00:09,1.1030,1.1033\n")  # fmt: skip
    p = Platform(scenario=scenario_from_dict({"history": {"EUR/USD": str(path)}}))
    p.send_order(order(Side="BUY", PriceType="STOP", Price="1.10250"))
    at(p, "2024-01-02 10:00:20")
    assert trades(p) == [("Entry", "BUY", "10:00:09", D("1.10330"))]
    q = p.get_quote("EUR/USD")
    assert (q.bid, q.offer) == (D("1.10300"), D("1.10330"))  # a tick file's own ask


def test_the_same_calls_give_the_same_fills_whenever_the_clock_is_read(tmp_path: Path) -> None:
    def run(stops: list[str]) -> list[Any]:
        p = platform(tmp_path)
        p.send_order(order(Side="BUY", PriceType="LIMIT", Price="1.09950", ExitTarget="1.10040"))
        for when in stops:
            at(p, when)
            p.get_quote("EUR/USD")
        at(p, "2024-01-02 13:30:00")
        return trades(p)

    assert run([]) == run(["2024-01-02 10:03:17", "2024-01-02 10:11:00", "2024-01-02 10:20:00", "2024-01-02 11:00:00"])


def test_the_quotes_day_figures_and_a_new_instrument_declared_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "btc.csv"
    path.write_text("Date,Open,High,Low,Close\n2024-01-01,42000.5,43000,41000,42500.25\n"
                    "2024-01-02,42500.25,45000,42000,44000\n2024-01-03,44000,44100,40000,41000\n")  # fmt: skip
    sc = scenario_from_dict(
        {"history": {"Bitcoin": {"path": str(path), "spread": "5"}}, "start": "2024-01-02T06:00:00"}
    )
    p = Platform(scenario=sc)
    inst = p.instruments["bitcoin"]
    assert (inst.name, inst.currency, inst.digits, inst.spread) == ("Bitcoin", "USD", 2, D("5.00"))
    q = p.get_quote("Bitcoin")
    assert (q.open, q.close, q.bid, q.offer) == (D("42500.25"), D("42500.25"), D("42000.00"), D("42005.00"))
    assert [b.start.day for b in p.get_bars("Bitcoin", "Daily", "f")] == [1, 2]  # the past from the file
    with pytest.raises(Exception, match="shorter than the daily bars"):
        p.get_bars("Bitcoin", "4 Hours")
    assert p.last_message.startswith("Period '4 Hours' is shorter")


def test_a_start_outside_the_history_or_a_clash_with_a_tick_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(BARS)
    with pytest.raises(ScenarioError, match="start 2023-01-01T00:00:00 is outside the EUR/USD history"):
        scenario_from_dict({"history": {"EUR/USD": str(path)}, "start": "2023-01-01T00:00:00"})
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("2024-01-02T10:00:00,EUR/USD,1.1,1.1002\n")
    with pytest.raises(ScenarioError, match="the tick file also prices EUR/USD"):
        scenario_from_dict({"history": {"EUR/USD": str(path)}, "ticks": str(ticks)})


def test_a_scenario_file_gives_history_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eurusd.csv").write_text(BARS)
    (tmp_path / "s.yaml").write_text("history:\n  EUR/USD: {path: data/eurusd.csv, spread: '0.0001'}\n")
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.start == datetime(2024, 1, 2, 10) and not sc.walk
    assert next(i for i in sc.instruments if i.name == "EUR/USD").spread == D("0.00010")


# ----------------------------------------------------------------------------- over the wire


@pytest.fixture
def lockstep(tmp_path: Path) -> Any:
    path = tmp_path / "bars.csv"
    path.write_text(BARS)
    with StreamsterMock(history={"EUR/USD": str(path)}, step="GetQuote=1h") as mock:
        yield mock, zeep.Client(mock.wsdl_url).service


def test_each_named_call_moves_the_clock_by_its_step_and_a_refused_one_moves_nothing(lockstep: Any) -> None:
    mock, api = lockstep
    assert mock.platform.now() == datetime(2024, 1, 2, 10)
    api.GetPositions()
    assert mock.platform.now() == datetime(2024, 1, 2, 10)  # not a stepping operation
    assert api.GetQuote("EUR/USD").Bid == D("1.10050")  # 11:00, the second bar's open
    with pytest.raises(Fault, match="not a known instrument"):
        api.GetQuote("EUR/XYZ")
    assert mock.platform.now() == datetime(2024, 1, 2, 11)
    bars = api.GetBars("EUR/USD", "Hourly", "f")
    assert [b.BarDateTime.hour for b in bars] == [10, 11]
    mock.steps = {"GetBars": 1800}
    api.GetBars("EUR/USD", "Hourly", "f")
    assert mock.platform.now() == datetime(2024, 1, 2, 11, 30) and mock.steps == {"GetBars": 1800.0}


def test_after_the_history_ends_every_call_gets_a_client_fault_saying_so(lockstep: Any) -> None:
    mock, api = lockstep
    for _ in range(4):
        api.GetQuote("EUR/USD")  # 14:00: the last bar is complete, still served
    assert mock.platform.now() == datetime(2024, 1, 2, 14) and mock.platform.history_end == datetime(2024, 1, 2, 14)
    with pytest.raises(Fault) as fault:
        api.GetQuote("EUR/USD")  # the step crosses the end
    assert fault.value.code.endswith("Client")
    assert "The price history ended at 2024-01-02T14:00:00" in fault.value.message
    for call in (api.GetPositions, api.GetOrders, api.GetTrades, api.GetDesks, api.GetLastMessage):
        with pytest.raises(Fault, match="price history ended"):
            call()
    with pytest.raises(Fault, match="price history ended"):
        api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=1)
    assert mock.platform.get_positions() == []  # the platform itself still answers (report, dashboard)
    assert mock.journal.entries("GetQuote")[-1].status == 500


def test_steps_are_checked() -> None:
    assert parse_steps(["GetQuote=1h", "getbars=15m"]) == {"GetQuote": 3600.0, "GetBars": 900.0}
    assert parse_steps({"GetPositions": 90}) == {"GetPositions": 90.0}
    for bad, message in [
        ("SendOrder=1h", "not one of the read operations"),
        ("GetQuote", "OPERATION=DURATION"),
        ("GetQuote=soon", "a duration such as"),
        ("GetQuote=0", "more than 0"),
        ("GetQuote=400d", "at most 366 days"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_steps(bad)


def test_history_and_a_state_file_are_not_mixed(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="give history or state, not both"):
        StreamsterMock(history={"EUR/USD": str(SAMPLES / "generic_bars.csv")}, state=tmp_path / "s.db")


def test_serve_takes_history_and_step(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_streamster.cli", "serve", "--port", "0",
         "--history", f"EUR/USD={SAMPLES / 'mt4_bars.csv'},spread=0.0001", "--step", "GetQuote=1h"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wsdl = None
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.match(r"\s+WSDL:\s+(\S+)", line)
            wsdl = m.group(1) if m else wsdl
            if line.startswith("Press Ctrl-C"):
                break
        api = zeep.Client(wsdl).service
        q = api.GetQuote("EUR/USD")
        assert (q.Bid, q.Offer, q.Time.isoformat()) == (D("1.10053"), D("1.10063"), "01:00:00")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_serve_refuses_a_bad_history_file_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.csv"
    bad.write_text(",Open,High,Low,Close\n2024-01-02 00:00:00,1.1,1.2,1.0,1.15\n2024-01-02 01:00:00,1.1,1.0,1.0,1.1\n")
    assert main(["serve", "--port", "0", "--history", f"EUR/USD={bad}"]) == 2
    assert re.search(r"broken\.csv line 3: high 1\.0 is below the open 1\.1", capsys.readouterr().err)
    with pytest.raises(SystemExit):
        main(["serve", "--history", "EUR/USD"])


@pytest.mark.streamster(history={"EUR/USD": "data/history/generic_bars.csv"}, step="GetQuote=1h")
def test_the_marker_takes_history_relative_to_the_test_file(streamster_mock: StreamsterMock) -> None:
    assert streamster_mock.platform.now() == datetime(2024, 1, 4)
    assert streamster_mock.steps == {"GetQuote": 3600.0}
    assert streamster_mock.arguments["history"]["EUR/USD"].endswith("generic_bars.csv")


def test_the_next_test_gets_the_default_market_again(streamster_mock: StreamsterMock) -> None:
    assert streamster_mock.platform.history is None and streamster_mock.steps == {}


def test_a_snapshot_taken_mid_bar_restores_to_the_same_fills(tmp_path: Path) -> None:
    p = platform(tmp_path)
    p.send_order(order(Side="BUY", PriceType="LIMIT", Price="1.09950", ExitTarget="1.10080"))
    at(p, "2024-01-02 10:05:00")  # on the way from the open to the low
    saved = p.snapshot()
    at(p, "2024-01-02 13:30:00")
    first = trades(p)
    p.restore(saved)
    assert p.get_quote("EUR/USD").bid == D("1.09967")
    at(p, "2024-01-02 13:30:00")
    assert trades(p) == first and len(first) == 2
