"""`mock-streamster serve`: run the Streamster API emulator in the foreground."""

from __future__ import annotations

import argparse
import os
import sys

from mock_common.cli import catch_stop_signals, setup_logging, wait_for_interrupt
from mock_common.journal import DEFAULT_JOURNAL_SIZE
from mock_common.peers import is_loopback
from mock_common.persist import StateFileError
from mock_common.recording import cli as recording_cli

from . import recording
from .errors import ScenarioError
from .server import StreamsterMock


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="mock-streamster", description="Streamster API (SOAP) emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the emulator until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8018, help="port (default 8018; 0 picks a free one)")
    serve.add_argument(
        "--seed", type=int, default=None, help="seed for prices and IDs (default: the scenario's, else 0)"
    )
    serve.add_argument(
        "--clock", choices=("real", "virtual"), default=None,
        help="real time (default; with --state, the file's clock) or virtual",
    )  # fmt: skip
    serve.add_argument(
        "--speed",
        type=float,
        help="with --clock virtual: virtual seconds per wall-clock second (60 = an hour a minute)",
    )
    serve.add_argument("--scenario", help="scenario file (YAML or JSON)")
    serve.add_argument("--journal-size", type=int, default=DEFAULT_JOURNAL_SIZE, help="requests kept in the journal")
    serve.add_argument("--threads", type=int, default=16, help="worker threads")
    serve.add_argument(
        "--state", metavar="FILE",
        help="keep the whole state in this SQLite file, restored on the next start (which needs only --state)",
    )  # fmt: skip
    serve.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v, -vv)")
    recording_cli.add_commands(sub, recording.PROFILE, recording.check_options)
    return parser


def saved_clock(state: str | None) -> str | None:
    """No --clock: the state file's clock when it holds one (None), else real time."""
    return None if state and os.path.isfile(state) and os.path.getsize(state) > 0 else "real"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mock-streamster` console script."""
    args = build_parser().parse_args(argv)
    if args.command in recording_cli.COMMANDS:
        return recording_cli.run_command(args, recording.PROFILE, recording.run_check)
    setup_logging(args.verbose)
    if not 0 <= args.port <= 65535:
        print(f"mock-streamster: --port must be 0-65535, not {args.port}", file=sys.stderr)
        return 2
    try:
        mock = StreamsterMock(
            host=args.host, port=args.port, seed=args.seed, scenario=args.scenario,
            clock=args.clock or saved_clock(args.state),
            journal_size=args.journal_size, threads=args.threads, state=args.state, speed=args.speed,
        )  # fmt: skip
    except (ScenarioError, StateFileError, ValueError) as exc:
        print(f"mock-streamster: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mock-streamster: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stopping = catch_stop_signals()  # before serving, so no signal is lost
    mock.start()  # serving before the URLs are printed, so whoever reads them can connect
    if not is_loopback(args.host):
        print(
            f"warning: bound to {args.host}; requests from any peer but this computer are refused (403)",
            file=sys.stderr,
        )
    pace = f" at {args.speed:g}x" if args.speed else ""
    print(f"Streamster API emulator (seed {mock.platform.seed}, {mock.platform.clock.mode} clock{pace})")
    print(f"  WSDL:     {mock.wsdl_url}")
    print(f"  endpoint: {mock.endpoint_url}")
    print(f"  control:  {mock.url}/_mock/")
    print(f"  dashboard: {mock.url}/_mock/ui")
    if args.state:
        print(f"  state:    {args.state} (saved before every reply)")
    print("Press Ctrl-C to stop.", flush=True)
    return wait_for_interrupt(stopping, mock.stop)


if __name__ == "__main__":
    sys.exit(main())
