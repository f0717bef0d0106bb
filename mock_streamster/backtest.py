"""`mock-streamster backtest`: an unmodified bot over price history, in lockstep, and its report.

    mock-streamster backtest --history EUR/USD=eurusd.csv [--step GetQuote=1h] [--report DIR] -- python bot.py

The emulator serves on a free loopback port with the history as its market and the lockstep clock;
the bot command runs with `STREAMSTER_WSDL` (and `STREAMSTER_ENDPOINT`) in its environment. When
the history is exhausted the bot gets the end-of-history fault on its next call; it is stopped
(SIGTERM, then SIGKILL) if it has not ended `--grace` seconds later. Then the report is written
(report.json and report.html) and the exit status tells how it went:

    0  the history ran to its end (however the bot ended after that)
    1  the bot failed before the end: it exited with a non-zero status or was killed
    2  the command line, a history file or the scenario was refused
    3  the bot exited before the history ended (with status 0): the run is incomplete
    4  --timeout passed before the history ended
    130 interrupted (Ctrl-C or SIGTERM): the bot is stopped, the report still written
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any

from mock_common.cli import catch_stop_signals, setup_logging

from .errors import ScenarioError
from .lockstep import parse_steps
from .market import from_epoch, to_epoch
from .report import build_report, write_report
from .server import StreamsterMock

log = logging.getLogger(__name__)

OK, BOT_FAILED, REFUSED, INCOMPLETE, TIMED_OUT, INTERRUPTED = 0, 1, 2, 3, 4, 130
OUTCOMES = {
    OK: "the history ran to its end",
    BOT_FAILED: "the bot failed before the end of the history",
    INCOMPLETE: "the bot exited before the end of the history",
    TIMED_OUT: "--timeout passed before the end of the history",
    INTERRUPTED: "interrupted",
}


_HISTORY_OPTIONS = ("format", "timezone", "spread", "digits")


def history_argument(text: str) -> tuple[str, dict[str, Any]]:
    """`EUR/USD=eurusd.csv[,format=mt5][,timezone=Europe/Athens][,spread=0.0002][,digits=5]` as
    (instrument, the scenario's `history` entry)."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise argparse.ArgumentTypeError(f"--history takes INSTRUMENT=PATH (EUR/USD=eurusd.csv), not {text!r}")
    pieces = rest.split(",")
    entry: dict[str, Any] = {}
    while len(pieces) > 1 and pieces[-1].partition("=")[0].strip() in _HISTORY_OPTIONS and "=" in pieces[-1]:
        key, _, value = pieces.pop().partition("=")
        entry[key.strip()] = int(value) if key.strip() == "digits" and value.strip().isdigit() else value.strip()
    entry["path"] = ",".join(pieces)
    return name.strip(), entry


def add_history_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """--history (repeatable) and --step."""
    parser.add_argument(
        "--history", action="append", type=history_argument, required=required, metavar="INSTRUMENT=PATH",
        help="play a price history file as the market (repeatable); options after the path: ,format=auto|generic|"
        "mt4|mt5|histdata|dukascopy ,timezone=IANA name (the file's times; UTC) ,spread=price ,digits=N",
    )  # fmt: skip
    parser.add_argument(
        "--step", action="append", metavar="OPERATION=DURATION",
        help="lockstep clock: each call of this read operation first moves the virtual clock by DURATION "
        "(GetQuote=1h, GetBars=15m, 3600); repeatable",
    )  # fmt: skip


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The `backtest` subcommand's options."""
    parser = sub.add_parser(
        "backtest",
        help="run a bot over price history in lockstep and write its report",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n", 2)[2],  # type: ignore[union-attr]
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_history_options(parser)
    parser.add_argument("--scenario", help="scenario file (YAML or JSON); its history key works as --history does")
    parser.add_argument("--seed", type=int, default=None, help="seed for IDs (default: the scenario's, else 0)")
    parser.add_argument(
        "--start", help="virtual start, UTC (default: when every history has a price); e.g. three quarters into the "
        "first bar, where a bar's path reaches its close, to poll closes",
    )  # fmt: skip
    parser.add_argument(
        "--report", default="backtest-report", metavar="DIR", help="where report.json and report.html go"
    )
    parser.add_argument("--grace", type=float, default=10.0, help="seconds the bot has to end after the history ends")
    parser.add_argument("--timeout", type=float, default=None, help="wall-clock seconds for the whole run (none)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v, -vv)")
    parser.add_argument(
        "bot", nargs=argparse.REMAINDER, metavar="-- COMMAND ...", help="the bot's command and its arguments"
    )
    return parser


def _fail(message: str) -> int:
    print(f"mock-streamster backtest: {message}", file=sys.stderr)
    return REFUSED


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _ended(mock: StreamsterMock) -> bool:
    end = mock.platform.history_end
    return end is not None and mock.platform.clock.now() > end


def run(args: argparse.Namespace) -> int:
    """Run the backtest the command line describes; the exit status (see the module's docstring)."""
    setup_logging(args.verbose)
    command = list(args.bot)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        return _fail("give the bot's command after --, e.g. -- python bot.py")
    if args.grace < 0 or (args.timeout is not None and args.timeout <= 0):
        return _fail("--grace must be >= 0 and --timeout > 0")
    history = dict(args.history or [])
    try:
        steps = parse_steps(args.step)
        mock = StreamsterMock(
            host="127.0.0.1", port=0, seed=args.seed, clock="virtual", scenario=args.scenario, history=history,
            step=steps,
        )  # fmt: skip
    except (ScenarioError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot listen on 127.0.0.1: {exc.strerror or exc}")
    market = mock.platform.history
    if market is None:
        mock.stop()
        return _fail("a backtest needs price history: give --history INSTRUMENT=PATH (or a scenario with history)")
    if args.start is not None:
        try:
            start = datetime.fromisoformat(args.start)
            if start.tzinfo is not None or not market.start <= to_epoch(start) < market.end:
                raise ValueError
        except ValueError:
            mock.stop()
            return _fail(
                f"--start {args.start!r} must be a UTC date-time without offset within the history "
                f"({from_epoch(market.start).isoformat()} to {from_epoch(market.end).isoformat()})"
            )
        scenario = mock.platform.scenario
        scenario.start = start
        mock.controller.configure(mock.platform.seed, "virtual", scenario)
    if not steps:
        first = next(iter(market.histories.values()))
        if first.kind != "bars":
            mock.stop()
            return _fail("a tick history has no bar period to step by: give --step (e.g. GetQuote=1m)")
        steps = {"GetQuote": first.period / 1000}
    mock.steps = steps
    return _backtest(mock, command, args, steps)


def _backtest(mock: StreamsterMock, command: list[str], args: argparse.Namespace, steps: dict[str, float]) -> int:
    stopping = catch_stop_signals()
    mock.start()
    market = mock.platform.history
    assert market is not None
    env = {**os.environ, "STREAMSTER_WSDL": mock.wsdl_url, "STREAMSTER_ENDPOINT": mock.endpoint_url}
    say = lambda text: print(f"mock-streamster backtest: {text}", file=sys.stderr, flush=True)  # noqa: E731
    for name, h in market.histories.items():
        say(f"{mock.platform.instruments[name].name}: {h.source}: {h.describe()}")
    say(f"lockstep: {', '.join(f'each {op} moves {seconds:g} s' for op, seconds in steps.items())}; "
        f"from {mock.platform.now().isoformat()}; WSDL {mock.wsdl_url}")  # fmt: skip
    say(f"bot: {shlex.join(command)}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(command, env=env)
    except OSError as exc:
        mock.stop()
        return _fail(f"cannot run the bot {command[0]!r}: {exc.strerror or exc}")
    ended_at: float | None = None
    stopped = False
    status = OK
    try:
        while proc.poll() is None:
            if stopping.is_set():
                status = INTERRUPTED
                break
            now = time.monotonic()
            if ended_at is None and _ended(mock):
                ended_at = now
            if ended_at is not None and now - ended_at >= args.grace:
                say(f"the history ended; the bot still runs after {args.grace:g} s: stopping it")
                stopped = True
                break
            if args.timeout is not None and now - started >= args.timeout:
                say(f"--timeout {args.timeout:g} s passed before the history ended: stopping the bot")
                status = TIMED_OUT
                break
            stopping.wait(0.02)
    finally:
        _stop(proc)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    wall = time.monotonic() - started
    completed = _ended(mock) or mock.platform.clock.now() >= (mock.platform.history_end or datetime.max)
    code = proc.returncode
    if status == OK:
        if not completed:
            status = BOT_FAILED if code != 0 else INCOMPLETE
    bars = len(next(iter(market.histories.values())))
    run_info = {
        "command": shlex.join(command), "steps": {op: s for op, s in steps.items()},
        "bot_exit_status": code, "bot_stopped_after_grace": stopped, "outcome": OUTCOMES[status],
        "exit_status": status, "wall_seconds": round(wall, 3), "calls": mock.journal.total,
        "generated": datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat(),
    }  # fmt: skip
    try:
        report = build_report(mock.platform, run_info)
        json_path, html_path = write_report(report, args.report)
    finally:
        mock.stop()
    figures = report["summary"]
    say(f"{OUTCOMES[status]}; bot exit status {code}{' (stopped)' if stopped else ''}; "
        f"{mock.journal.total} calls in {wall:.1f} s ({bars} rows of history)")  # fmt: skip
    say(
        f"Return {figures['Return [%]']:.2f}% · # Trades {figures['# Trades']} · Equity Final {figures['Equity Final']:,.2f} "
        f"{report['run']['currency']} · Max. Drawdown {figures['Max. Drawdown [%]']:.2f}%"
        if figures["Return [%]"] is not None else "no figures"
    )  # fmt: skip
    say(f"report: {html_path} and {json_path}")
    return status
