"""One clock per emulator: real time, or virtual time that moves only when told to (or at a speed)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

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
    Without one (the default) it stands still until `advance` or `set`. A running clock can be
    held (`hold`): it then goes no further than the time it was held at, and waits there until
    held further (the state file holds it at the time it has saved, so a restart never finds the
    clock behind a time it showed).
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
        self._limit: datetime | None = None  # a held running clock goes no further
        if mode == "real" and start is not None:
            self._offset = start - utc_now()

    def _running(self) -> timedelta:
        if self.speed is None:
            return timedelta(0)
        return timedelta(seconds=(time.monotonic() - self._anchor) * self.speed)

    def _now(self) -> datetime:
        if self.mode == "real":
            return utc_now() + self._offset
        now = self._start + self._offset + self._running()
        if self._limit is not None and now > self._limit:
            # Wait at the limit, counting on from it (not from where it would be) once held further.
            self._start, self._offset, self._anchor = self._limit, timedelta(0), time.monotonic()
            return self._limit
        return now

    def now(self) -> datetime:
        """The current time on this clock, naive UTC."""
        with self._lock:
            return self._now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, not {seconds!r}")
        with self._lock:
            self._now()  # a held clock waiting at its limit moves on from there
            self._offset += timedelta(seconds=seconds)
            if self._limit is not None:
                self._limit += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> None:
        """Put a virtual clock at `when` (used by snapshots and scenarios); a running one goes on from there
        (a held one once held further)."""
        with self._lock:
            if self.mode == "virtual":
                self._start, self._offset, self._anchor = when, timedelta(0), time.monotonic()
                if self._limit is not None:
                    self._limit = when
            else:
                self._offset = when - utc_now()

    def fresh(self) -> Clock:
        """A new clock of the same mode and speed, from the default start."""
        return Clock(self.mode, speed=self.speed)

    # ------------------------------------------------------------------ the state file's view

    def lease(self, seconds: float) -> datetime | None:
        """Where a running virtual clock will be after `seconds` of wall time (None unless it runs)."""
        if self.mode != "virtual" or self.speed is None:
            return None
        with self._lock:
            return self._now() + timedelta(seconds=seconds * self.speed)

    def hold(self, until: datetime | None) -> None:
        """Let a running virtual clock go no further than `until` (None: no limit); it never goes back."""
        if self.mode != "virtual" or self.speed is None:
            return
        with self._lock:
            self._now()  # waiting at the old limit: count on from there
            self._limit = until

    def describe(self) -> dict[str, Any]:
        """Mode, speed and time as JSON-ready data (a real clock's offset from real time too)."""
        with self._lock:
            now = self._now()
            part: dict[str, Any] = {"mode": self.mode, "speed": self.speed, "now": now.isoformat()}
            if self.mode == "real":  # real time moves on its own: a restart keeps only the offset
                part["offset"] = round(self._offset.total_seconds(), 3)
            return part
