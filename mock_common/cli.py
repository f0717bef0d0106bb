"""Console helpers shared by the emulators' command lines (the CLI owns the console)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable


def setup_logging(verbose: int) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def wait_for_interrupt(stop: Callable[[], None]) -> int:
    """Wait (the server already serving in its threads) for Ctrl-C or SIGTERM, then `stop`; 0.

    The server runs in its own threads and the main thread only waits: a signal then never
    lands inside the server's code (where a KeyboardInterrupt could leave a lock held).
    """
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    # A shell that starts us in the background may have set SIGINT to "ignore": set it anyway.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping.wait(0.2):
            pass
    finally:
        stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
