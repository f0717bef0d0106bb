"""`mock-instaforex serve` and `mock-instaforex generate`."""

from __future__ import annotations

import argparse
import os
import sys

import yaml

from mock_common.cli import catch_stop_signals, setup_logging, wait_for_interrupt
from mock_common.journal import DEFAULT_JOURNAL_SIZE
from mock_common.peers import is_loopback
from mock_common.persist import StateFileError
from mock_common.recording import cli as recording_cli

from . import recording
from .errors import StoreError
from .generate import generate_data
from .server import InstaForexMock
from .tokens import DEFAULT_TTL


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="mock-instaforex", description="InstaForex Client Cabinet API emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the emulator until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--seed", type=int, default=0, help="seed for generated data and fault probabilities")
    serve.add_argument("--accounts", help="accounts file (YAML or JSON); default: the demo accounts")
    serve.add_argument("--generate", type=int, metavar="N", help="serve a seeded store of N generated accounts instead")
    serve.add_argument(
        "--clock", choices=("real", "virtual"), default=None,
        help="real time (default; with --state, the file's clock) or virtual",
    )  # fmt: skip
    serve.add_argument(
        "--speed",
        type=float,
        help="with --clock virtual: virtual seconds per wall-clock second (60 = an hour a minute)",
    )
    serve.add_argument(
        "--token-ttl", type=float, default=DEFAULT_TTL, help=f"token lifetime in seconds (default {DEFAULT_TTL:.0f})"
    )
    serve.add_argument("--token-seed", type=int, help="deterministic tokens from this seed (default: a CSPRNG)")
    serve.add_argument(
        "--deny-status", type=int, choices=(403, 200), default=403, help="status of 'Access denied' answers"
    )
    serve.add_argument(
        "--trusted-proxy", action="append", default=[], metavar="CIDR", help="honour X-Forwarded-For from these peers"
    )
    serve.add_argument("--journal-size", type=int, default=DEFAULT_JOURNAL_SIZE, help="requests kept in the journal")
    serve.add_argument("--threads", type=int, default=16, help="worker threads")
    serve.add_argument(
        "--state", metavar="FILE",
        help="keep the whole state in this SQLite file, restored on the next start (which needs only --state)",
    )  # fmt: skip
    serve.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v, -vv)")
    gen = sub.add_parser("generate", help="print a seeded, consistent accounts file (YAML)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--accounts", type=int, default=20, help="number of client accounts")
    gen.add_argument("--partners", type=int, help="number of partners (default: one per 25 accounts)")
    gen.add_argument("--signals", type=int, default=40, help="number of analytic signals")
    recording_cli.add_commands(sub, recording.PROFILE, recording.check_options)
    return parser


def saved_clock(state: str | None) -> str | None:
    """No --clock: the state file's clock when it holds one (None), else real time."""
    return None if state and os.path.isfile(state) and os.path.getsize(state) > 0 else "real"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mock-instaforex` console script."""
    args = build_parser().parse_args(argv)
    if args.command in recording_cli.COMMANDS:
        return recording_cli.run_command(args, recording.PROFILE, recording.run_check)
    if args.command == "generate":
        try:
            data = generate_data(args.seed, args.accounts, args.partners, args.signals)
        except ValueError as exc:
            print(f"mock-instaforex: {exc}", file=sys.stderr)
            return 2
        yaml.safe_dump(data, sys.stdout, sort_keys=False, allow_unicode=True)
        return 0
    setup_logging(args.verbose)
    try:
        mock = InstaForexMock(
            host=args.host, port=args.port, seed=args.seed, accounts=args.accounts,
            clock=args.clock or saved_clock(args.state), state=args.state,
            token_ttl=args.token_ttl, deny_status=args.deny_status, trusted_proxies=args.trusted_proxy,
            token_seed=args.token_seed, generate=args.generate, journal_size=args.journal_size, threads=args.threads,
            speed=args.speed,
        )  # fmt: skip
    except (StoreError, StateFileError, ValueError) as exc:
        print(f"mock-instaforex: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mock-instaforex: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stopping = catch_stop_signals()  # before serving, so no signal is lost
    mock.start()
    if not is_loopback(args.host):
        print(f"warning: bound to {args.host}; the control routes answer the local computer only", file=sys.stderr)
    pace = f" at {args.speed:g}x" if args.speed else ""
    print(f"InstaForex Client Cabinet API emulator ({mock.clock.mode} clock{pace}, tokens live {args.token_ttl:.0f} s)")
    print(f"  base URL: {mock.url}")
    print(f"  OpenAPI:  {mock.url}openapi.json")
    print(f"  control:  {mock.url}_mock/")
    print(f"  dashboard: {mock.url}_mock/ui")
    if args.state:
        print(f"  state:    {args.state} (saved before every reply)")
    if not args.accounts and not args.generate:
        print("  demo logins: client 20000001 / demo-pass (password level), 20000002 (open level, any password),")
        print("               20000003 / demo-ip (ip level, 127.0.0.1/32), partner 30000001 / demo-partner")
    else:
        print(f"  accounts: {len(mock.store.accounts)}, partners: {len(mock.store.partners)}")
    print("Press Ctrl-C to stop.", flush=True)
    return wait_for_interrupt(stopping, mock.stop)


if __name__ == "__main__":
    sys.exit(main())
