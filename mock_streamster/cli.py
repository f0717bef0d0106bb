"""`mock-streamster serve`: run the Streamster API emulator in the foreground."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mock_common.cli import add_serve_options, saved_clock, serve
from mock_common.recording import cli as recording_cli

from . import recording
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
    recording_cli.add_commands(sub, recording.PROFILE, recording.check_options)
    return parser


def _banner(args: argparse.Namespace) -> Any:
    def lines(mock: StreamsterMock) -> list[str]:
        speed = mock.platform.clock.speed  # a state file may hold one
        pace = f" at {speed:g}x" if speed else ""
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
    return serve(
        "mock-streamster", args,
        lambda: StreamsterMock(
            host=args.host, port=args.port, seed=args.seed, scenario=args.scenario,
            clock=args.clock or saved_clock(args.state),
            journal_size=args.journal_size, threads=args.threads, state=args.state, speed=args.speed,
        ),
        (ScenarioError,), _banner(args), "requests from any peer but this computer are refused (403)",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
