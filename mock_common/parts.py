"""A state owner's description of itself: keyed parts, and what changed since a tracker's last write.

Each emulator's state owners (Streamster's `Platform`; InstaForex's `Store`, `TokenStore` and
`Controller`) describe their state as a mapping of keys to JSON-ready parts (`describe()`), and
report to a tracker which parts changed since the parts it last had accepted (`Changes`), so a
state file writes only those. The snapshot routes and the state file are both made from the same
parts: one encoder. A part under `POINTS` is a series of points in time order (`[t, ...]`, a
price history): a change to it is a `Span` (the points in a time range replaced), so a new tick
appends one point instead of rewriting the series.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock, utc_now

POINTS = "points/"  # parts under this prefix are point series, stored a point a row
LEASE_SECONDS = 2.0  # wall seconds a running virtual clock may run past the time last saved
ALL_TIME = (float("-inf"), float("inf"))


@dataclass
class Span:
    """The points of series `key` with `start <= t < end`, replaced by `points` (each `[t, ...]`, in order)."""

    key: str
    start: float
    end: float
    points: list[list[Any]]


@dataclass
class Changes:
    """What changed since a tracker's last accepted changes (everything, when `full`).

    `accepted()` is called once they are stored: the tracker then counts from them, and a
    running clock may run on to the time they hold (`lease`). Changes that were not stored are
    reported again, with whatever changed since, by the next `changes()`.
    """

    full: bool  # the parts and spans replace everything stored before
    parts: dict[str, Any] = field(default_factory=dict)  # new or changed parts, JSON-ready (or `encoded` text)
    removed: list[str] = field(default_factory=list)  # parts gone
    spans: list[Span] = field(default_factory=list)
    on_accept: Callable[[], None] | None = None

    def __bool__(self) -> bool:
        return self.full or bool(self.parts or self.removed or self.spans)

    def accepted(self) -> None:
        """The changes are stored: let the tracker count from them."""
        if self.on_accept is not None:
            self.on_accept()


class ChangeLog:
    """The keys an owner changed, in the order of their last change and numbered: `since(n)` lists those
    changed after change `n`, newest first, in time proportional to their number.

    It keeps one entry per key ever changed (keys of records the owner keeps anyway), so its memory
    follows the state, not the traffic. The owner calls `touch` under its own lock.
    """

    def __init__(self) -> None:
        self.count = 0
        self._last: dict[Hashable, int] = {}

    def touch(self, key: Hashable) -> None:
        """`key` changed now."""
        self.count += 1
        self._last.pop(key, None)
        self._last[key] = self.count

    def since(self, count: int) -> list[Hashable]:
        """The keys changed after change number `count`, newest first."""
        changed = []
        for key, n in reversed(self._last.items()):
            if n <= count:
                break
            changed.append(key)
        return changed


def rng_words(rng: random.Random) -> tuple[list[int], list[Any]]:
    """A Mersenne Twister's state as (its 624 words, [its position, its cached gauss]).

    The words change only every 624 draws, the position with each: kept apart, a state file
    rewrites a few numbers per draw instead of 625."""
    version, internal, gauss = rng.getstate()
    return list(internal[:-1]), [internal[-1], gauss]


def rng_from_words(words: list[int], position: list[Any]) -> random.Random:
    """The generator `rng_words` described (ValueError, TypeError if the data is not such a state)."""
    rng = random.Random()
    rng.setstate((3, (*(int(w) for w in words), int(position[0])), position[1]))
    return rng


def rng_state(rng: random.Random) -> list[Any]:
    """A random generator's whole state as JSON-ready data (the snapshot's form)."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_from(state: list[Any]) -> random.Random:
    """The random generator `rng_state` described."""
    rng = random.Random()
    rng.setstate((state[0], tuple(state[1]), state[2]))
    return rng


def resume_at(clock: dict[str, Any], mode: str) -> datetime:
    """Where a clock saved as `clock` (a `Clock.describe()` part) resumes in `mode`.

    A virtual clock resumes at the time it was saved with (its lease, when it was running: the
    furthest it may have shown); a real clock, or one saved as real, at real time plus the offset
    it had been advanced by."""
    if mode == "virtual" and clock.get("mode", "virtual") == "virtual" and ("lease" in clock or "now" in clock):
        return datetime.fromisoformat(clock.get("lease") or clock["now"])
    return utc_now() + timedelta(seconds=float(clock.get("offset", 0.0)))


def clock_part(clock: Clock, final: bool) -> tuple[dict[str, Any], datetime | None]:
    """The clock as the state file keeps it, and the time a running clock may reach before the next save.

    A running virtual clock is saved with a lease: where it will be `LEASE_SECONDS` of wall time
    from now. It is held there (`Clock.hold`) once the lease is on disk, so it never shows a time
    past the saved lease, and a restart resumes at the lease: never behind a time it showed. A
    real clock keeps only its offset from real time."""
    part = clock.describe()
    lease = None if final else clock.lease(LEASE_SECONDS)
    if clock.mode == "real":
        del part["now"]  # real time moves on its own
    else:
        part["lease"] = lease.isoformat() if lease is not None else part["now"]
    return part, lease
