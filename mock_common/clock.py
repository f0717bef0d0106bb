"""One clock per emulator: real time, or virtual time that moves only when told to."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Literal

ClockMode = Literal["real", "virtual"]

# A Monday morning, so a fresh virtual market starts at a sensible hour on a trading day.
DEFAULT_VIRTUAL_START = datetime(2025, 1, 6, 9, 0, 0)


def utc_now() -> datetime:
    """The current UTC time as a naive datetime (the APIs carry no offset)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Clock:
    """Naive-UTC clock; `advance` moves it forward in both modes (real time gets an offset)."""

    def __init__(self, mode: ClockMode = "virtual", start: datetime | None = None) -> None:
        if mode not in ("real", "virtual"):
            raise ValueError(f"clock mode must be 'real' or 'virtual', not {mode!r}")
        self.mode: ClockMode = mode
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._start = start if start is not None else DEFAULT_VIRTUAL_START
        if mode == "real" and start is not None:
            self._offset = start - utc_now()

    def now(self) -> datetime:
        """The current time on this clock, naive UTC."""
        with self._lock:
            if self.mode == "virtual":
                return self._start + self._offset
            return utc_now() + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, not {seconds!r}")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> None:
        """Put a virtual clock at `when` (used by snapshots and scenarios)."""
        with self._lock:
            if self.mode == "virtual":
                self._start, self._offset = when, timedelta(0)
            else:
                self._offset = when - utc_now()
