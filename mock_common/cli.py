"""Console helpers shared by the emulators' command lines (the CLI owns the console)."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable


def setup_logging(verbose: int) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def catch_stop_signals() -> threading.Event:
    """From now on, Ctrl-C (SIGINT) and SIGTERM set the returned event instead of killing us.

    Install this before the server starts: a signal then never lands inside the server's code
    (where a KeyboardInterrupt could leave a lock held), and none is lost in between. A shell that
    starts us in the background may have set SIGINT to "ignore": we set it anyway.
    """
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stopping.set())
    return stopping


def settle() -> None:
    """Before serving: move what start-up built (modules, the app, the data) out of the collector's
    sight, so a full collection scans only what requests create (a shorter pause in the tail). No
    collection first: it would cost start-up time, and start-up leaves little garbage."""
    gc.freeze()


def wait_for_interrupt(stopping: threading.Event, stop: Callable[[], None]) -> int:
    """Wait (the server serving in its own threads) until `stopping` is set, then `stop`; 0."""
    try:
        while not stopping.wait(0.2):
            pass
    finally:
        stop()
    return 0
