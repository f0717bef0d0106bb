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


def run_until_interrupted(serve: Callable[[], None], stop: Callable[[], None]) -> int:
    """Run `serve` (blocking) until Ctrl-C or SIGTERM, then `stop` cleanly; returns an exit code."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        serve()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0
