"""`broker-mocks` (also `python -m broker_mocks`): both emulators from one command, as `make run` serves them.

`broker-mocks serve` (the default command) serves the Streamster emulator (the built-in `demo`
scenario) and the InstaForex emulator (the demo accounts) in one process, on `--streamster-port`
(8018) and `--instaforex-port` (8080); 0 picks a free port, and the URLs are printed either way.
`broker-mocks schema NAME` prints a file format's JSON Schema.
"""

from __future__ import annotations

import argparse
import sys
from copy import copy

from mock_common.cli import add_schema_command, add_serve_options, add_version, print_schema, serve_all
from mock_common.schemas import NAMES
from mock_instaforex import cli as instaforex_cli
from mock_streamster import cli as streamster_cli


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="broker-mocks",
        description="Emulators of the Streamster SOAP API and the InstaForex Client Cabinet API. With no command: serve.",
    )
    add_version(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="serve both emulators until Ctrl-C (the default)",
        description="Serve both emulators until Ctrl-C: what `make run` serves.",
    )  # fmt: skip
    add_serve_options(serve, None)  # one address, clock, journal size for both; a port and a state file each
    serve.add_argument(
        "--streamster-port", type=int, default=streamster_cli.DEFAULT_PORT,
        help=f"the Streamster emulator's port (default {streamster_cli.DEFAULT_PORT}; 0 picks a free one)",
    )  # fmt: skip
    serve.add_argument(
        "--instaforex-port", type=int, default=instaforex_cli.DEFAULT_PORT,
        help=f"the InstaForex emulator's port (default {instaforex_cli.DEFAULT_PORT}; 0 picks a free one)",
    )  # fmt: skip
    serve.add_argument(
        "--seed", type=int, default=None,
        help="seed of both emulators (default: Streamster the scenario's, InstaForex 0)",
    )  # fmt: skip
    serve.add_argument("--streamster-state", metavar="FILE", help="keep the Streamster state in this SQLite file")
    serve.add_argument("--instaforex-state", metavar="FILE", help="keep the InstaForex state in this SQLite file")
    group = serve.add_argument_group("Streamster")
    streamster_cli.add_emulator_options(group, seed=False)  # type: ignore[arg-type]
    group = serve.add_argument_group("InstaForex")
    instaforex_cli.add_emulator_options(group, seed=False)  # type: ignore[arg-type]
    add_version(serve)
    add_schema_command(sub, NAMES)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `broker-mocks` console script and of `python -m broker_mocks`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("serve", "schema", "-h", "--help", "--version"):
        argv.insert(0, "serve")  # `broker-mocks [serve options]` serves
    args = build_parser().parse_args(argv)
    if args.command == "schema":
        return print_schema(args.name)
    if args.streamster_port == args.instaforex_port != 0:
        print(f"broker-mocks: the two emulators need two ports, not {args.streamster_port} twice", file=sys.stderr)
        return 2
    streamster, instaforex = copy(args), copy(args)
    streamster.port, streamster.state = args.streamster_port, args.streamster_state
    instaforex.port, instaforex.state = args.instaforex_port, args.instaforex_state
    instaforex.seed = 0 if args.seed is None else args.seed
    return serve_all(
        "broker-mocks", args.verbose,
        [
            streamster_cli.emulator(streamster, "--streamster-port"),
            instaforex_cli.emulator(instaforex, "--instaforex-port"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
