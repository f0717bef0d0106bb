"""Offline bot development: the clock at a speed, a day of ticks from a file, the example bots.

No timing assertion is tighter than the wall time each test measures itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from mock_common.clock import Clock
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock
from mock_streamster.data import SCENARIOS

from .conftest import require_php

ROOT = Path(__file__).resolve().parent.parent
DAY = SCENARIOS.path("day")
SPEED = 3600  # an hour a second: four virtual hours of trading in about four seconds


def test_a_virtual_clock_with_a_speed_runs_that_many_times_faster_than_the_wall() -> None:
    clock = Clock("virtual", speed=SPEED)
    v0, w0 = clock.now(), time.monotonic()
    time.sleep(0.3)
    v1, w1 = clock.now(), time.monotonic()
    assert timedelta(seconds=0.3 * SPEED) <= v1 - v0 <= timedelta(seconds=(w1 - w0) * SPEED + 1)
    clock.advance(3600)  # advance still jumps on top of the running time
    assert clock.now() - v1 >= timedelta(hours=1)
    assert Clock("virtual").now() == Clock("virtual").now()  # no speed: stands still


@pytest.mark.parametrize("speed", [0, -60, float("inf"), "60", True])
def test_a_bad_speed_is_refused_by_name(speed: object) -> None:
    with pytest.raises(ValueError, match="clock speed"):
        Clock("virtual", speed=speed)  # type: ignore[arg-type]


def test_a_speed_needs_the_virtual_clock() -> None:
    with pytest.raises(ValueError, match="virtual clock"):
        Clock("real", speed=60)
    result = subprocess.run(
        [sys.executable, "-m", "mock_streamster.cli", "serve", "--port", "0", "--speed", "60"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "virtual clock" in result.stderr


def test_reset_and_a_new_scenario_keep_the_speed_and_replay_the_day_of_ticks() -> None:
    with StreamsterMock(clock="virtual", speed=SPEED, scenario=DAY) as mock:
        assert mock.platform.now().isoformat() >= "2025-03-04T00:00:00"
        time.sleep(0.5)
        assert mock.platform.now().isoformat() >= "2025-03-04T00:30:00"  # >= 1,800 s in 0.5 s
        first = mock.platform.get_quote("EUR/USD").bid
        mock.reset()
        assert mock.platform.clock.speed == SPEED and mock.platform.now().isoformat() < "2025-03-04T00:30:00"
        mock.load_scenario(DAY)
        assert mock.platform.clock.speed == SPEED
        time.sleep(0.3)
        assert mock.platform.get_quote("EUR/USD").bid != first or mock.platform.now().minute > 0


@pytest.mark.parametrize("emulator", ["mock_streamster", "mock_instaforex"])
def test_serve_with_clock_virtual_and_a_speed_plays_time_faster(emulator: str) -> None:
    args = [sys.executable, "-m", f"{emulator}.cli", "serve", "--port", "0", "--clock", "virtual", "--speed", "600"]
    if emulator == "mock_streamster":
        args += ["--scenario", str(DAY)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        assert "at 600x" in lines[0]
        control = next(line.split()[-1] for line in lines if "control:" in line)

        def now() -> str:
            return str(requests.get(control + "state", timeout=10).json()["now"])

        w0, v0 = time.monotonic(), now()
        time.sleep(1.0)
        v1, w1 = now(), time.monotonic()
        from datetime import datetime

        moved = (datetime.fromisoformat(v1) - datetime.fromisoformat(v0)).total_seconds()
        assert 0.9 * 600 <= moved <= (w1 - w0) * 600 + 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ------------------------------------------------------------------------------------- the example bots


def run_bot(command: list[str], mock: StreamsterMock) -> dict[str, object]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(summary, dict)
    return summary


def check_bot(summary: dict[str, object], mock: StreamsterMock, minutes: int) -> None:
    """What the bot says it did is what the emulator saw, and the desk adds up (one atomic snapshot)."""
    state = mock.snapshot()  # the clock runs on: a stop may still fire after the bot's last look
    sent = [e for e in mock.journal.entries("SendOrder") if e["status"] == 200]
    assert summary["orders_sent"] == len(sent) >= 2  # the day's swings give crosses every hour or so
    closed = [p for p in state["positions"] if p["status"] == "Closed"]
    assert 1 <= int(summary["closed"]) <= len(closed)  # type: ignore[call-overload]
    exits = [o for o in state["orders"] if o["phase"] == "Exit"]
    assert len(exits) == len(closed)
    entries = [o for o in state["orders"] if o["phase"] == "Entry"]
    assert len(entries) == len(sent) and all(o["exit_stop_loss"] and o["exit_target"] for o in entries)
    realised = sum(Decimal(p["profit"]) for p in closed)
    assert Decimal(state["desks"]["Virtual Forex"]["USD"]) == Decimal("10000.00") + realised
    assert summary["reconciled"] is True
    assert minutes <= float(summary["virtual_minutes"]) <= minutes + 60  # type: ignore[arg-type]


def test_the_php_bot_trades_a_bounded_stretch_of_the_day() -> None:
    php = require_php()
    with StreamsterMock(clock="virtual", speed=SPEED, scenario=DAY) as mock:
        summary = run_bot([php, "examples/php/ma_cross.php", mock.wsdl_url, "240", "0.2"], mock)
        check_bot(summary, mock, 240)


def test_the_python_bot_trades_a_bounded_stretch_of_the_day() -> None:
    with StreamsterMock(clock="virtual", speed=SPEED, scenario=DAY) as mock:
        command = [
            sys.executable,
            "-m",
            "examples.ma_bot",
            "--wsdl",
            mock.wsdl_url,
            "--minutes",
            "240",
            "--poll",
            "0.2",
        ]
        summary = run_bot(command, mock)
        check_bot(summary, mock, 240)


def test_the_account_monitor_sees_a_close_reconciles_the_balance_and_renews_tokens() -> None:
    # Tokens live 10 virtual minutes at 3,600x: the monitor's token expires many times a run.
    with InstaForexMock(clock="virtual", speed=SPEED, token_ttl=600) as mock:
        command = [
            sys.executable,
            "-m",
            "examples.account_monitor",
            "--url",
            mock.url,
            "--polls",
            "12",
            "--interval",
            "0.25",
        ]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        done = threading.Event()

        def meddle() -> None:  # once its first look is done: close a trade and fail its next poll
            # Waiting on the journal, not the wall clock: a slow start (a loaded machine) must not
            # let the monitor's first look already see the close.
            deadline = time.monotonic() + 60
            while not any(e["route"] == "RequestOpenTrades" for e in mock.journal.entries()):
                if time.monotonic() > deadline:
                    return
                time.sleep(0.02)
            mock.close_trade(20000001, ticket=77120455, price="1.0861", profit="19.50")
            mock.fail("RequestBalanceInformation", kind="http", status=503)
            done.set()

        threading.Thread(target=meddle, daemon=True).start()
        out, err = proc.communicate(timeout=120)
        assert done.is_set() and proc.returncode == 0, out + err
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["closed_seen"] == [77120455]
        assert summary["balance_changes"] == 1 and summary["mismatches"] == 0
        assert summary["failed_polls"] == 1
        assert Decimal(summary["balance"]) == Decimal("10269.90")
        assert "closed: #77120455 EURUSD" in out and "reconciled" in out
        tokens = [e for e in mock.journal.entries() if e["route"] == "RequestClientApiToken" and e["status"] == 200]
        assert len(tokens) >= 2  # renewed after the emulator's clock expired the first
