"""`mock-streamster serve`: run the Streamster API emulator in the foreground."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mock_common.cli import add_serve_options, saved_clock, serve
from mock_common.recording import cli as recording_cli

from . import backtest, recording
from .errors import ScenarioError
from .server import StreamsterMock


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="mock-streamster", description="Streamster API (SOAP) emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="serve the emulator until Ctrl-C")
    add_serve_options(serve_cmd, 8018)
    serve_cmd.add_argument(
        "--seed", type=int, default=None, help="seed for prices and IDs (default: the scenario's, else 0)"
    )
    serve_cmd.add_argument("--scenario", help="scenario file (YAML or JSON)")
    add_history_options(serve_cmd)
    recording_cli.add_commands(sub, recording.PROFILE, recording.check_options)
    backtest.add_parser(sub)
    return parser


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


def _banner(args: argparse.Namespace) -> Any:
    def lines(mock: StreamsterMock) -> list[str]:
        pace = f" at {args.speed:g}x" if args.speed else ""
        return [
            f"Streamster API emulator (seed {mock.platform.seed}, {mock.platform.clock.mode} clock{pace})",
            f"  WSDL:     {mock.wsdl_url}",
            f"  endpoint: {mock.endpoint_url}",
            f"  control:  {mock.url}/_mock/",
            f"  dashboard: {mock.url}/_mock/ui",
        ]

    return lines


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mock-streamster` console script."""
    args = build_parser().parse_args(argv)
    if args.command in recording_cli.COMMANDS:
        return recording_cli.run_command(args, recording.PROFILE, recording.run_check)
    if args.command == "backtest":
        return backtest.run(args)
    return serve(
        "mock-streamster", args,
        lambda: StreamsterMock(
            host=args.host, port=args.port, seed=args.seed, scenario=args.scenario,
            clock=args.clock or ("virtual" if args.history else saved_clock(args.state)),
            journal_size=args.journal_size, threads=args.threads, state=args.state, speed=args.speed,
            history=dict(args.history) if args.history else None, step=args.step,
        ),
        (ScenarioError,), _banner(args), "requests from any peer but this computer are refused (403)",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
