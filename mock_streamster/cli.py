"""`mock-streamster`: serve the Streamster API emulator in the foreground, backtest a bot over price
history, record and replay sessions, print the scenario's JSON Schema."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mock_common.cli import (
    Emulator,
    add_schema_command,
    add_version,
    command_line,
    print_schema,
    saved_clock,
    serve_all,
)
from mock_common.recording import cli as recording_cli

from . import backtest, recording
from .data import CASSETTES, SCENARIOS
from .errors import ScenarioError
from .server import StreamsterMock

DEFAULT_PORT = 8018
DEFAULT_SCENARIO = "demo"  # what `make run` and a bare `mock-streamster serve` serve


def add_emulator_options(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    """The Streamster options of `serve` (also the launcher's): seed and scenario."""
    if seed:
        parser.add_argument(
            "--seed", type=int, default=None, help="seed for prices and IDs (default: the scenario's, else 0)"
        )
    parser.add_argument(
        "--scenario", metavar="FILE|NAME",
        help=f"scenario file (YAML or JSON), or a built-in: {', '.join(SCENARIOS.names())} "
        f"(default {DEFAULT_SCENARIO}; with a saved --state, the file's; with --history, none)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser, sub = command_line(
        "mock-streamster",
        "Streamster API (SOAP) emulator",
        DEFAULT_PORT,
        add_emulator_options,
        backtest.add_history_options,
    )
    recording_cli.add_commands(sub, recording.PROFILE, recording.check_options)
    add_version(backtest.add_parser(sub))
    add_schema_command(sub, ("scenario", "cassette"))
    return parser


def _banner() -> Any:
    def lines(mock: StreamsterMock) -> list[str]:
        speed = mock.platform.clock.speed  # a state file may hold one
        pace = f" at {speed:g}x" if speed else ""
        source = mock.platform.scenario.source
        shown = f", scenario {source}{' (built-in)' if SCENARIOS.is_name(source) else ''}" if source else ""
        return [
            f"Streamster API emulator (seed {mock.platform.seed}, {mock.platform.clock.mode} clock{pace}{shown})",
            f"  WSDL:     {mock.wsdl_url}",
            f"  endpoint: {mock.endpoint_url}",
            f"  control:  {mock.url}/_mock/",
            f"  dashboard: {mock.url}/_mock/ui",
        ]

    return lines


def emulator(args: argparse.Namespace, port_option: str = "--port") -> Emulator:
    """The emulator `serve` options describe (host, port, seed, scenario, clock, speed, journal, threads, state)."""
    history = getattr(args, "history", None)  # the launcher serves no history
    restoring = saved_clock(args.state) is None  # a saved state file holds its own scenario
    # A history is the market: no demo scenario beside it unless one is named.
    default = None if restoring or history else DEFAULT_SCENARIO
    scenario = args.scenario if args.scenario is not None else default
    return Emulator(
        lambda: StreamsterMock(
            host=args.host, port=args.port, seed=args.seed, scenario=scenario,
            clock=args.clock or ("virtual" if history else saved_clock(args.state)),
            journal_size=args.journal_size, threads=args.threads, state=args.state, speed=args.speed,
            history=dict(history) if history else None, step=getattr(args, "step", None),
        ),
        (ScenarioError,), _banner(), "requests from any peer but this computer are refused (403)",
        args.host, args.port, args.state, port_option,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mock-streamster` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "schema":
        return print_schema(args.name)
    if args.command in recording_cli.COMMANDS:
        # The shipped cassettes by name, for reading only (a recording never writes into the package).
        if args.command == "check-cassette":
            args.file = CASSETTES.resolve(args.file)
        elif args.command == "replay" and args.record_mode == "none":
            args.cassette = CASSETTES.resolve(args.cassette)
        return recording_cli.run_command(args, recording.PROFILE, recording.run_check)
    if args.command == "backtest":
        return backtest.run(args)
    return serve_all("mock-streamster", args.verbose, [emulator(args)])


if __name__ == "__main__":
    sys.exit(main())
