"""The `record`, `replay` and `check-cassette` subcommands both emulators' command lines share."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from mock_common.cli import add_version, catch_stop_signals, setup_logging, wait_for_interrupt

from .cassette import MIB, RECORD_MODES, Cassette, CassetteError, load
from .drift import Report
from .match import EXHAUSTED
from .profile import ApiProfile
from .targets import MAX_UPSTREAM_BODY, UPSTREAM_DEADLINE

COMMANDS = ("record", "replay", "check-cassette")
Check = Callable[[Cassette, argparse.Namespace], Report]


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    profile: ApiProfile,
    check_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add `record`, `replay` and `check-cassette` (each with `--version`) to a command line's subparsers."""
    for name, default_mode, text in (
        ("record", "all", f"record a session with the real {profile.name} API through a local proxy"),
        ("replay", "none", "serve a cassette's recorded answers"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--cassette", required=True, help="cassette file (YAML)")
        p.add_argument(
            "--upstream", required=name == "record", help=f"the real API's base URL, e.g. {profile.default_upstream}"
        )
        p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=0, help="port (default 0: a free one, printed)")
        p.add_argument("--record-mode", choices=RECORD_MODES, default=default_mode, help=f"default {default_mode}")
        p.add_argument("--exhausted", choices=EXHAUSTED, default="repeat",
                       help="when identical requests outnumber their recordings: repeat the last (default) or miss")  # fmt: skip
        p.add_argument("--scrub", action="append", default=[], metavar="REGEX", help="also scrub what this matches")
        p.add_argument("--secret", action="append", default=[], metavar="TEXT", help="also scrub (and check) this text")
        p.add_argument("--insecure", action="store_true", help="do not verify the upstream's TLS certificate")
        p.add_argument("--ca-bundle", metavar="FILE", help="verify the upstream's TLS certificate with these CAs")
        p.add_argument("--upstream-deadline", type=float, default=UPSTREAM_DEADLINE, metavar="SECONDS",
                       help=f"the most a forwarded request may take in all (default {UPSTREAM_DEADLINE:g})")  # fmt: skip
        p.add_argument("--upstream-max-body", type=float, default=MAX_UPSTREAM_BODY / MIB, metavar="MIB",
                       help=f"the largest upstream answer recorded (default {MAX_UPSTREAM_BODY // MIB} MiB)")  # fmt: skip
        p.add_argument("--record-all-paths", action="store_true",
                       help="record the emulators' /_mock/ control plane and dashboard too (default: the API only)")  # fmt: skip
        p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v, -vv)")
    check = sub.add_parser(
        "check-cassette", help="validate a cassette against the contract and compare it with a fresh emulator"
    )
    check.add_argument("file", help="cassette file (YAML)")
    check_options(check)
    check.add_argument(
        "--strict", action="store_true", help="exit 1 on state differences too (default: on contract drift only)"
    )
    check.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v, -vv)")
    for name in COMMANDS:
        add_version(sub.choices[name])


def run_command(args: argparse.Namespace, profile: ApiProfile, check: Check) -> int:
    """Run one of COMMANDS; the exit status (0 fine, 1 drift or refused, 2 bad input)."""
    prog = f"mock-{profile.name}"
    setup_logging(args.verbose)
    if args.command == "check-cassette":
        try:
            report = check(load(args.file), args)
        except (CassetteError, ValueError) as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 2
        print("\n".join(report.lines(verbose=args.verbose > 0)))
        return 0 if report.ok and (report.same or not args.strict) else 1
    if not 0 <= args.port <= 65535:
        print(f"{prog}: --port must be 0-65535, not {args.port}", file=sys.stderr)
        return 2
    if not 0 < args.upstream_deadline < math.inf or not 0 < args.upstream_max_body < math.inf:
        print(f"{prog}: --upstream-deadline and --upstream-max-body must be numbers > 0", file=sys.stderr)
        return 2
    # Here, not at the top: `mock-* serve` loads this module too, and need not load `requests`.
    from .proxy import RecorderServer
    from .session import RecordingSession

    try:
        session = RecordingSession(
            profile, args.cassette, args.record_mode, upstream=args.upstream or "", patterns=args.scrub,
            secrets=args.secret, exhausted=args.exhausted, record_all_paths=args.record_all_paths,
        )  # fmt: skip
        verify: bool | str = False if args.insecure else (args.ca_bundle or True)
        server = RecorderServer(session, args.host, args.port, verify=verify, deadline=args.upstream_deadline,
                                max_body=int(args.upstream_max_body * MIB))  # fmt: skip
    except (CassetteError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stopping = catch_stop_signals()
    server.start()
    what = f"recording from {session.upstream}" if session.recording else "replaying"
    print(f"{profile.name} {args.command}: {what} (record mode {args.record_mode}), cassette {args.cassette}")
    print(f"  base URL: {server.url}")
    if profile.entry:
        print(f"  WSDL:     {server.url}{profile.entry}")
    print("Press Ctrl-C to stop.", flush=True)
    wait_for_interrupt(stopping, server.stop)
    print(session.summary(), flush=True)
    for refusal in session.refused:
        print(f"{prog}: {refusal}", file=sys.stderr)
    return 1 if session.refused else 0
