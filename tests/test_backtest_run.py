"""`mock-streamster backtest` end to end: checked against backtesting.py, its exit statuses, and the report
(JSON and a self-contained page that draws in a browser with no network)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import textwrap
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mock_streamster import StreamsterMock
from mock_streamster.report import build_report, render_html, summary, write_report

from .conftest import require

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).parent / "data" / "history"
SPREAD, UNITS = 0.0001, 10_000  # the emulator's spread in the comparison; 10 contracts of 1,000 EUR


def backtest(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_streamster.cli", "backtest", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip


def eurusd() -> Path:
    """backtesting.py's own EURUSD hourly data, read where the installed package keeps it (never copied here)."""
    test_data = pytest.importorskip("backtesting.test", reason="backtesting.py (a test dependency) is not installed")
    return Path(test_data.__file__).parent / "EURUSD.csv"


def sma_cross_stats(path: Path) -> Any:
    """backtesting.py's SmaCross(10, 20), 10,000 units a trade, filled at the signal bar's close."""
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, 10)
            self.slow = self.I(SMA, self.data.Close, 20)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.position.close()
                self.buy(size=UNITS)
            elif crossover(self.slow, self.fast):
                self.position.close()
                self.sell(size=UNITS)

    import pandas as pd

    data = pd.read_csv(path, index_col=0, parse_dates=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open": compared through the final equity
        return Backtest(data, SmaCross, cash=10_000, margin=0.02, trade_on_close=True, spread=0, commission=0).run()


@pytest.mark.timeout(900)
def test_the_zeep_bot_makes_backtesting_pys_trades_and_its_equity_within_the_spreads_cost(tmp_path: Path) -> None:
    path = eurusd()
    stats = sma_cross_stats(path)
    run = backtest(
        "--history", f"EUR/USD={path},spread={SPREAD}", "--step", "GetQuote=1h", "--start", "2017-04-19T09:45:00",
        "--report", str(tmp_path), "--", sys.executable, "-m", "examples.sma_cross", "--poll", "0",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "the history ran to its end; bot exit status 0" in run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    theirs = [(t.EntryTime.to_pydatetime(), "BUY" if t.Size > 0 else "SELL", t.ExitTime.to_pydatetime())
              for t in stats._trades.itertuples()]  # fmt: skip
    # The bot reads each bar's close 45 minutes into it (where the bar's path reaches its close) and
    # trades at once; backtesting.py labels that fill with the bar's start.
    ours = [(datetime.fromisoformat(t["entry_time"]).replace(minute=0), t["side"],
             datetime.fromisoformat(t["exit_time"]).replace(minute=0) if t["exit_time"] else None)
            for t in report["trades"]]  # fmt: skip
    assert len(theirs) > 200
    assert ours[: len(theirs)] == theirs  # every closed trade: same entry and exit bars, same side
    assert [t[2] for t in ours[len(theirs) :]] == [None] * (len(ours) - len(theirs))  # still open at the end
    # Each position pays the spread once (a BUY buys at the offer, a SELL buys back at it): that is
    # all that separates the two equities.
    cost = len(ours) * SPREAD * UNITS
    difference = stats["Equity Final [$]"] - report["summary"]["Equity Final"]
    assert abs(difference - cost) <= 0.01 * len(ours), (difference, cost)
    assert report["summary"]["# Trades"] == stats["# Trades"]
    assert report["run"]["completed"] and report["run"]["bot_exit_status"] == 0


def test_the_summary_figures_are_computed_as_backtesting_py_computes_them() -> None:
    stats = sma_cross_stats(eurusd())
    curve = stats._equity_curve
    times = np.array([t.timestamp() for t in curve.index.to_pydatetime()])
    trades = [{"exit_time": "x", "profit": t.PnL, "return_pct": t.ReturnPct * 100} for t in stats._trades.itertuples()]
    from backtesting.test import EURUSD

    first = 19  # SmaCross's warm-up: backtesting.py's buy & hold starts after it
    figures = summary(times, curve["Equity"].to_numpy(), EURUSD.Close.to_numpy()[first:], trades)
    for name in ("Return [%]", "Buy & Hold Return [%]", "Max. Drawdown [%]", "# Trades", "Win Rate [%]",
                 "Profit Factor", "Avg. Trade [%]", "Sharpe Ratio"):  # fmt: skip
        assert math.isclose(figures[name], stats[name], rel_tol=1e-9, abs_tol=1e-12), (name, figures[name], stats[name])


BOT = textwrap.dedent(
    """
    import os, sys, time, zeep
    api = zeep.Client(os.environ["STREAMSTER_WSDL"]).service
    mode = sys.argv[1]
    if mode == "crash":
        api.GetQuote("EUR/USD")
        sys.exit(7)
    if mode == "early":
        api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=10, Side="BUY")
        sys.exit(0)
    api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=10, Side="BUY")
    while True:
        try:
            api.GetQuote("EUR/USD")
        except zeep.exceptions.Fault as fault:
            if mode == "stubborn":  # ignores the end and goes on polling
                time.sleep(0.05)
                continue
            print("end:", fault.message)
            sys.exit(0)
    """
)


@pytest.mark.parametrize(
    ("mode", "status", "outcome"),
    [
        ("polite", 0, "the history ran to its end; bot exit status 0"),
        ("stubborn", 0, "bot exit status -15 (stopped)"),
        ("crash", 1, "the bot failed before the end of the history; bot exit status 7"),
        ("early", 3, "the bot exited before the end of the history; bot exit status 0"),
    ],
)
def test_the_exit_status_says_how_the_bot_and_the_run_ended(
    tmp_path: Path, mode: str, status: int, outcome: str
) -> None:
    bot = tmp_path / "bot.py"
    bot.write_text(BOT)
    run = backtest("--history", f"EUR/USD={SAMPLES / 'generic_bars.csv'}", "--grace", "0.5", "--report",
                   str(tmp_path / "r"), "--", sys.executable, str(bot), mode, timeout=120)  # fmt: skip
    assert run.returncode == status, run.stderr
    assert outcome in run.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["run"]["exit_status"] == status
    assert len(report["trades"]) == (0 if mode == "crash" else 1)
    if mode == "polite":
        assert "end: The price history ended at 2024-01-08T12:00:00" in run.stdout
        assert report["run"]["completed"] and report["summary"]["Open Positions"] == 1


def test_refusals_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(",Open,High,Low,Close\n2024-01-02 00:00:00,1.1,1.2,1.0,1.15\n2024-01-02 01:00:00,1.1,1.2,1.0\n")
    for args, message in [
        (["--history", f"EUR/USD={bad}", "--", "true"], "bad.csv line 3: 4 field(s)"),
        (["--history", f"EUR/USD={SAMPLES / 'generic_bars.csv'}"], "give the bot's command after --"),
        (["--", "true"], "a backtest needs price history"),
        (["--history", f"EUR/USD={SAMPLES / 'generic_ticks.csv'}", "--", "true"], "give --step"),
        (["--history", f"EUR/USD={SAMPLES / 'generic_bars.csv'}", "--step", "SendOrder=1h", "--", "true"],
         "not one of the read operations"),
        (["--history", f"EUR/USD={SAMPLES / 'generic_bars.csv'}", "--start", "2030-01-01T00:00:00", "--", "true"],
         "must be a UTC date-time without offset within the history"),
        (["--history", f"EUR/USD={SAMPLES / 'generic_bars.csv'}", "--", str(tmp_path / "no-such-bot")],
         "cannot run the bot"),
    ]:  # fmt: skip
        run = backtest(*args, "--report", str(tmp_path / "r"), timeout=60)
        assert run.returncode == 2, (args, run.stderr)
        assert message in run.stderr, (message, run.stderr)


@pytest.fixture
def traded() -> Any:
    """A finished little run: a BUY with a target hit, a SELL still open at the end."""
    with StreamsterMock(history={"EUR/USD": str(SAMPLES / "mt5_bars.csv")}) as mock:
        mock.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "10",
                                  "Side": "BUY", "ExitTarget": "1.10060"})  # fmt: skip
        mock.advance(20 * 3600)
        mock.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "5", "Side": "SELL"})
        mock.advance(200 * 3600)
        yield mock


def test_the_report_reads_the_ledger(traded: StreamsterMock) -> None:
    report = build_report(traded.platform, {"command": "x"})
    trades = report["trades"]
    assert [(t["side"], t["exit"]) for t in trades] == [("BUY", "target"), ("SELL", "open at the end")]
    assert trades[0]["profit"] == pytest.approx(float(traded.platform.get_positions()[0].profit))
    figures = report["summary"]
    assert figures["# Trades"] == 1 and figures["Open Positions"] == 1 and figures["Win Rate [%]"] == 100.0
    desk = float(traded.platform.desks["Virtual Forex"]["USD"])
    open_profit = float(traded.platform.get_positions()[1].profit)  # marked at the last offer
    assert figures["Equity Final"] == pytest.approx(desk + open_profit)
    assert report["equity"][0]["value"] == 10_000 - 1.2  # bought at the offer, marked at the bid (12 points)
    assert report["run"]["completed"]
    assert [m["shape"] for m in report["chart"]["markers"]] == ["arrowUp", "circle", "arrowDown"]
    assert trades[0]["quantity"] == "10" and report["chart"]["markers"][0]["text"] == "BUY 10"
    assert len(report["chart"]["candles"]) == 60 and report["chart"]["period"] == "Hourly"
    assert report["run"]["spread"] == "the file's spread column"


def test_the_page_is_self_contained_and_draws_offline(traded: StreamsterMock, tmp_path: Path) -> None:
    json_path, html_path = write_report(build_report(traded.platform), tmp_path)
    page = html_path.read_text()
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "TradingView Lightweight Charts" in page and "Apache" in page
    assert json.loads(json_path.read_text())["summary"]["# Trades"] == 1
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require("REQUIRE_INTEROP", sync_playwright is not None and shutil.which("/usr/bin/chromium") is not None,
            "playwright and chromium are needed to open the page")  # fmt: skip
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            requests_made: list[str] = []
            context.on("request", lambda r: requests_made.append(r.url))
            errors: list[str] = []
            tab = context.new_page()
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.goto(html_path.as_uri())
            tab.wait_for_function("document.body.dataset.ready === 'yes'", timeout=20_000)
            assert tab.locator("#price-chart canvas").count() > 0 and tab.locator("#equity-chart canvas").count() > 0
            assert tab.locator("[data-testid=trades] tbody tr").count() == 2
            assert errors == [] and requests_made == [html_path.as_uri()]  # nothing fetched but the file itself
        finally:
            browser.close()


def test_a_report_needs_history() -> None:
    with StreamsterMock() as mock, pytest.raises(ValueError, match="needs a platform that plays a price history"):
        build_report(mock.platform)
    assert "lightweight-charts" not in render_html.__doc__  # type: ignore[operator]


@pytest.mark.interop
def test_the_php_bot_backtests_over_the_fixture_history(tmp_path: Path) -> None:
    from .conftest import require_php

    php = require_php()
    run = backtest(
        "--history", "EUR/USD=fixtures/streamster/eurusd-h1.csv", "--step", "GetQuote=1h",
        "--start", "2024-01-01T00:45:00", "--report", str(tmp_path), "--", php, "examples/php/sma_cross.php", "0",
        timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    summary_line = json.loads(run.stdout.strip().splitlines()[-1])
    assert "The price history ended at 2024-03-27T12:00:00" in summary_line["ended"]
    report = json.loads((tmp_path / "report.json").read_text())
    trades = report["trades"]
    assert len(trades) == summary_line["orders_sent"] > 10
    assert summary_line["closed_by_bot"] == len(trades) - 1  # each signal closes the one before
    assert all(a["side"] != b["side"] for a, b in zip(trades, trades[1:], strict=False))
    assert all(t["exit_time"] == n["entry_time"] for t, n in zip(trades, trades[1:], strict=False))
    assert report["summary"]["# Trades"] == len(trades) - 1 and report["run"]["completed"]
