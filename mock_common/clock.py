"""One clock per emulator: real time, or virtual time that moves only when told to (or at a speed)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Literal

ClockMode = Literal["real", "virtual"]

# A Monday morning, so a fresh virtual market starts at a sensible hour on a trading day.
DEFAULT_VIRTUAL_START = datetime(2025, 1, 6, 9, 0, 0)


def utc_now() -> datetime:
    """The current UTC time as a naive datetime (the APIs carry no offset)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Clock:
    """Naive-UTC clock; `advance` moves it forward in both modes (real time gets an offset).

    A virtual clock with a `speed` (> 0) also runs by itself: `speed` virtual seconds for every
    wall-clock second (measured on the monotonic clock), so `speed=60` plays an hour in a minute.
    Without one (the default) it stands still until `advance` or `set`.
    """

    def __init__(self, mode: ClockMode = "virtual", start: datetime | None = None, speed: float | None = None) -> None:
        if mode not in ("real", "virtual"):
            raise ValueError(f"clock mode must be 'real' or 'virtual', not {mode!r}")
        if speed is not None:
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= 1e6:
                raise ValueError(f"clock speed must be a number > 0 and <= 1000000, not {speed!r}")
            if mode != "virtual":
                raise ValueError("a clock speed needs the virtual clock (the real clock runs at the wall clock's pace)")
        self.mode: ClockMode = mode
        self.speed: float | None = float(speed) if speed is not None else None
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._start = start if start is not None else DEFAULT_VIRTUAL_START
        self._anchor = time.monotonic()  # where a running virtual clock counts from
        if mode == "real" and start is not None:
            self._offset = start - utc_now()

    def _running(self) -> timedelta:
        if self.speed is None:
            return timedelta(0)
        return timedelta(seconds=(time.monotonic() - self._anchor) * self.speed)

    def now(self) -> datetime:
        """The current time on this clock, naive UTC."""
        with self._lock:
            if self.mode == "virtual":
                return self._start + self._offset + self._running()
            return utc_now() + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, not {seconds!r}")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> None:
        """Put a virtual clock at `when` (used by snapshots and scenarios); a running one goes on from there."""
        with self._lock:
            if self.mode == "virtual":
                self._start, self._offset, self._anchor = when, timedelta(0), time.monotonic()
            else:
                self._offset = when - utc_now()

    def fresh(self) -> Clock:
        """A new clock of the same mode and speed, from the default start."""
        return Clock(self.mode, speed=self.speed)
