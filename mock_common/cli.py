"""Console helpers shared by the emulators' command lines (the CLI owns the console)."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .journal import DEFAULT_JOURNAL_SIZE


def setup_logging(verbose: int) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


class StopFlag:
    """Set by Ctrl-C (SIGINT) or SIGTERM once `catch_stop_signals` is in place; read it with
    `is_set()` or `wait(timeout)`.

    Not a threading.Event: a signal handler runs on the main thread between two bytecodes, and may
    run while that very thread holds the Event's lock inside Event.wait; Event.set would then wait
    for that lock forever (it did: `make run` sometimes never stopped on SIGTERM). Setting a flag
    takes no lock, so the handler cannot wait for anything; `wait` polls it instead.
    """

    POLL = 0.05  # the longest a stop waits to be noticed

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """True once set, False after `timeout` seconds if it was not."""
        deadline = time.monotonic() + timeout
        while not self._set:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, self.POLL))  # a signal runs the handler, then the sleep goes on (PEP 475)
        return True


def catch_stop_signals() -> StopFlag:
    """From now on, Ctrl-C (SIGINT) and SIGTERM set the returned flag instead of killing us.

    Install this before the server starts: a signal then never lands inside the server's code
    (where a KeyboardInterrupt could leave a lock held), and none is lost in between. A shell that
    starts us in the background may have set SIGINT to "ignore": we set it anyway.
    """
    stopping = StopFlag()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stopping.set())
    return stopping


def settle() -> None:
    """Before serving: move what start-up built (modules, the app, the data) out of the collector's
    sight, so a full collection scans only what requests create (a shorter pause in the tail). No
    collection first: it would cost start-up time, and start-up leaves little garbage."""
    gc.freeze()


def wait_for_interrupt(stopping: StopFlag, stop: Callable[[], None]) -> int:
    """Wait (the server serving in its own threads) until `stopping` is set, then `stop`; 0."""
    try:
        while not stopping.wait(0.2):
            pass
    finally:
        stop()
    return 0


def add_serve_options(serve: argparse.ArgumentParser, port: int | None) -> None:
    """The `serve` options both emulators take: where, which clock, journal, threads, state file, logging.

    With `port` None (the launcher, serving two emulators) there is no `--port` and no `--state`:
    each emulator has its own."""
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    if port is not None:
        serve.add_argument("--port", type=int, default=port, help=f"port (default {port}; 0 picks a free one)")
    serve.add_argument(
        "--clock", choices=("real", "virtual"), default=None,
        help="real time (default; with --state, the file's clock) or virtual",
    )  # fmt: skip
    serve.add_argument(
        "--speed", type=float,
        help="with --clock virtual: virtual seconds per wall-clock second (60 = an hour a minute)",
    )  # fmt: skip
    serve.add_argument("--journal-size", type=int, default=DEFAULT_JOURNAL_SIZE, help="requests kept in the journal")
    serve.add_argument("--threads", type=int, default=16, help="worker threads")
    if port is not None:
        serve.add_argument(
            "--state", metavar="FILE",
            help="keep the whole state in this SQLite file, restored on the next start (which needs only --state)",
        )  # fmt: skip
    serve.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v, -vv)")


def saved_clock(state: str | None) -> str | None:
    """No --clock: the state file's clock when it holds one (None), else real time."""
    return None if state and os.path.isfile(state) and os.path.getsize(state) > 0 else "real"


def add_version(parser: argparse.ArgumentParser) -> None:
    """`--version`: the program's name and the package's version (`mock-streamster (broker-mocks) 0.2.0`)."""
    from broker_mocks import __version__

    parser.add_argument(
        "--version", action="version", version=f"{parser.prog.split()[0]} (broker-mocks) {__version__}",
        help="print the version and exit",
    )  # fmt: skip


def command_line(
    prog: str, description: str, port: int, *serve_options: Callable[[argparse.ArgumentParser], None]
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    """An emulator's command line: `--version` and a `serve` command with the common serve options and
    the emulator's own (`serve_options`); returns the parser and its subparsers for the other commands."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_version(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="serve the emulator until Ctrl-C")
    add_serve_options(serve_cmd, port)
    for add in serve_options:
        add(serve_cmd)
    add_version(serve_cmd)
    return parser, sub


def add_schema_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], names: tuple[str, ...]) -> None:
    """`schema NAME`: print a user file's JSON Schema (the one the loader checks files with)."""
    cmd = sub.add_parser(
        "schema", help="print the JSON Schema of a file format", description="Print the JSON Schema of a file "
        "format, as the loaders use it; save it and point your editor's YAML language server at it.",
    )  # fmt: skip
    cmd.add_argument("name", choices=names, help="the file format")
    add_version(cmd)


def print_schema(name: str) -> int:
    """Print the shipped schema `name` on stdout; 0."""
    from . import schemas

    sys.stdout.write(schemas.text(name))
    return 0


@dataclass
class Emulator:
    """One emulator to serve: how to build it, what refusals its arguments may raise, its banner,
    the warning for a non-loopback bind, and where it listens (for the messages)."""

    build: Callable[[], Any]
    refusals: tuple[type[Exception], ...]
    banner: Callable[[Any], list[str]]
    warning: str
    host: str
    port: int
    state: str | None = None
    port_option: str = "--port"


def serve(
    program: str,
    args: argparse.Namespace,
    build: Callable[[], Any],
    refusals: tuple[type[Exception], ...],
    banner: Callable[[Any], list[str]],
    warning: str,
) -> int:
    """Build the emulator (`build`), serve it, print `banner(mock)` and wait for Ctrl-C or SIGTERM.

    A refused argument (`refusals`, ValueError) exits 2 and a port that cannot be bound exits 1,
    each with a message on stderr; `warning` is printed when bound to a non-loopback address."""
    return serve_all(
        program, args.verbose, [Emulator(build, refusals, banner, warning, args.host, args.port, args.state)]
    )


def serve_all(program: str, verbose: int, emulators: list[Emulator]) -> int:
    """Build every emulator, serve them all, print their banners and wait for Ctrl-C or SIGTERM.

    Nothing serves unless every one could be built: a refused argument exits 2, a port that cannot
    be bound 1 (what was bound already is released), each with a message on stderr."""
    from .peers import is_loopback
    from .persist import StateFileError

    setup_logging(verbose)
    for e in emulators:
        if not 0 <= e.port <= 65535:
            print(f"{program}: {e.port_option} must be 0-65535, not {e.port}", file=sys.stderr)
            return 2
    built: list[Any] = []
    refused = 0
    try:
        for e in emulators:
            refusals: tuple[type[Exception], ...] = (*e.refusals, StateFileError, ValueError)
            try:
                built.append(e.build())
                continue
            except refusals as exc:
                print(f"{program}: {exc}", file=sys.stderr)
                refused = 2
            except OSError as exc:
                print(f"{program}: cannot listen on {e.host}:{e.port}: {exc.strerror or exc}", file=sys.stderr)
                refused = 1
            break
    finally:
        if refused or len(built) < len(emulators):  # refused, or interrupted: release what was bound
            for mock in built:
                mock.stop()
    if refused:
        return refused
    settle()
    stopping = catch_stop_signals()  # before serving, so no signal is lost
    for mock in built:
        mock.start()  # serving before the URLs are printed, so whoever reads them can connect
    for e, mock in zip(emulators, built, strict=True):
        if not is_loopback(e.host):
            print(f"warning: bound to {e.host}; {e.warning}", file=sys.stderr)
        for line in e.banner(mock):
            print(line)
        if e.state:
            print(f"  state:    {e.state} (saved before every reply)")
    print("Press Ctrl-C to stop.", flush=True)

    def stop_all() -> None:
        for mock in reversed(built):
            mock.stop()

    return wait_for_interrupt(stopping, stop_all)
