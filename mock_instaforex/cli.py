"""`mock-instaforex`: serve the InstaForex Client Cabinet API emulator in the foreground, generate
account stores, record and replay sessions, print the accounts file's JSON Schema."""

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

from . import recording
from .data import ACCOUNTS, CASSETTES
from .errors import StoreError
from .generate import generate_data
from .server import InstaForexMock
from .tokens import DEFAULT_TTL

DEFAULT_PORT = 8080


def add_emulator_options(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    """The InstaForex options of `serve` (also the launcher's): accounts, tokens, denials, proxies."""
    if seed:
        parser.add_argument("--seed", type=int, default=0, help="seed for generated data and fault probabilities")
    parser.add_argument(
        "--accounts", metavar="FILE|NAME",
        help=f"accounts file (YAML or JSON), or a built-in: {', '.join(ACCOUNTS.names())} (default demo)",
    )  # fmt: skip
    parser.add_argument(
        "--generate", type=int, metavar="N", help="serve a seeded store of N generated accounts instead"
    )
    parser.add_argument(
        "--token-ttl", type=float, default=DEFAULT_TTL, help=f"token lifetime in seconds (default {DEFAULT_TTL:.0f})"
    )
    parser.add_argument("--token-seed", type=int, help="deterministic tokens from this seed (default: a CSPRNG)")
    parser.add_argument(
        "--deny-status", type=int, choices=(403, 200), default=403, help="status of 'Access denied' answers"
    )
    parser.add_argument(
        "--trusted-proxy", action="append", default=[], metavar="CIDR", help="honour X-Forwarded-For from these peers"
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser, sub = command_line(
        "mock-instaforex", "InstaForex Client Cabinet API emulator", DEFAULT_PORT, add_emulator_options
    )
    gen = sub.add_parser("generate", help="print a seeded, consistent accounts file (YAML)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--accounts", type=int, default=20, help="number of client accounts")
    gen.add_argument("--partners", type=int, help="number of partners (default: one per 25 accounts)")
    gen.add_argument("--signals", type=int, default=40, help="number of analytic signals")
    add_version(gen)
    recording_cli.add_commands(sub, recording.PROFILE, recording.check_options)
    add_schema_command(sub, ("accounts", "cassette"))
    return parser


def _banner(args: argparse.Namespace) -> Any:
    def lines(mock: InstaForexMock) -> list[str]:
        speed = mock.clock.speed  # a state file may hold one
        pace = f" at {speed:g}x" if speed else ""
        out = [
            f"InstaForex Client Cabinet API emulator ({mock.clock.mode} clock{pace}, tokens live {args.token_ttl:.0f} s)",
            f"  base URL: {mock.url}",
            f"  OpenAPI:  {mock.url}openapi.json",
            f"  control:  {mock.url}_mock/",
            f"  dashboard: {mock.url}_mock/ui",
        ]
        if args.accounts in (None, "demo") and not args.generate:
            out.append(
                "  demo logins: client 20000001 / demo-pass (password level), 20000002 (open level, any password),"
            )
            out.append("               20000003 / demo-ip (ip level, 127.0.0.1/32), partner 30000001 / demo-partner")
        else:
            out.append(f"  accounts: {len(mock.store.accounts)}, partners: {len(mock.store.partners)}")
        return out

    return lines


def emulator(args: argparse.Namespace, port_option: str = "--port") -> Emulator:
    """The emulator `serve` options describe."""
    return Emulator(
        lambda: InstaForexMock(
            host=args.host, port=args.port, seed=args.seed, accounts=args.accounts,
            clock=args.clock or saved_clock(args.state), state=args.state,
            token_ttl=args.token_ttl, deny_status=args.deny_status, trusted_proxies=args.trusted_proxy,
            token_seed=args.token_seed, generate=args.generate, journal_size=args.journal_size, threads=args.threads,
            speed=args.speed,
        ),
        (StoreError,), _banner(args), "the control routes answer the local computer only",
        args.host, args.port, args.state, port_option,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mock-instaforex` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "schema":
        return print_schema(args.name)
    if args.command in recording_cli.COMMANDS:
        # The shipped cassette by name, for reading only (a recording never writes into the package).
        if args.command == "check-cassette":
            args.file = CASSETTES.resolve(args.file)
        elif args.command == "replay" and args.record_mode == "none":
            args.cassette = CASSETTES.resolve(args.cassette)
        return recording_cli.run_command(args, recording.PROFILE, recording.run_check)
    if args.command == "generate":
        try:
            data = generate_data(args.seed, args.accounts, args.partners, args.signals)
        except ValueError as exc:
            print(f"mock-instaforex: {exc}", file=sys.stderr)
            return 2
        import yaml  # only for this command: serving does not need it

        yaml.safe_dump(data, sys.stdout, sort_keys=False, allow_unicode=True)
        return 0
    return serve_all("mock-instaforex", args.verbose, [emulator(args)])


if __name__ == "__main__":
    sys.exit(main())
