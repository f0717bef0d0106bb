"""Instruments, prices and bars: the market the simulated platform trades on.

Every price ever shown (quotes, bars, fills) comes from one bid series per instrument, so GetQuote,
GetBars and fills always agree. Before the clock's start there is a seeded pre-history, dense near
the start and sparse far back, just enough for 200 bars of every period.
"""

from __future__ import annotations

import bisect
import calendar
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

BAR_DEPTH = 200
SECONDS_PER_YEAR = 365.25 * 86400

# Period name (lower case) -> (canonical name, nominal length in seconds).
PERIODS: dict[str, tuple[str, int]] = {
    "5 minutes": ("5 Minutes", 300),
    "15 minutes": ("15 Minutes", 900),
    "30 minutes": ("30 Minutes", 1800),
    "hourly": ("Hourly", 3600),
    "4 hours": ("4 Hours", 14400),
    "daily": ("Daily", 86400),
    "weekly": ("Weekly", 7 * 86400),
    "monthly": ("Monthly", 31 * 86400),
}


def canonical_period(name: str) -> str | None:
    """The period's canonical name (`5 Minutes`), matched case-insensitively, or None."""
    entry = PERIODS.get(" ".join(str(name).split()).lower())
    return entry[0] if entry else None


def to_epoch(when: datetime) -> float:
    """Seconds since 1970 for a naive-UTC datetime."""
    return calendar.timegm(when.timetuple()) + when.microsecond / 1e6


def from_epoch(seconds: float) -> datetime:
    """A naive-UTC datetime for epoch seconds."""
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def bucket_start(period: str, t: float) -> float:
    """Start (epoch s) of the `period` bar that holds time `t`."""
    length = PERIODS[period.lower()][1]
    if length < 86400:
        return t - (t % length)
    day = from_epoch(t).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "Weekly":
        day -= timedelta(days=day.weekday())
    elif period == "Monthly":
        day = day.replace(day=1)
    return to_epoch(day)


def previous_bucket(period: str, start: float) -> float:
    """Start of the bar before the one that starts at `start`."""
    return bucket_start(period, start - 1)


@dataclass
class Instrument:
    """One tradable instrument of the catalogue."""

    name: str
    currency: str
    digits: int
    pip: Decimal
    contract_size: Decimal
    spread: Decimal
    price: Decimal
    volatility: float = 0.10
    depth: Decimal | None = None

    @property
    def quantum(self) -> Decimal:
        """The smallest price step (10^-digits)."""
        return Decimal(1).scaleb(-self.digits)

    def round(self, value: Decimal) -> Decimal:
        """`value` with this instrument's digits."""
        return value.quantize(self.quantum)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "currency": self.currency,
            "digits": self.digits,
            "pip": str(self.pip),
            "contract_size": str(self.contract_size),
            "spread": str(self.spread),
            "price": str(self.price),
            "volatility": self.volatility,
            "depth": None if self.depth is None else str(self.depth),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Instrument:
        """The instrument described by `data` (the shape of `to_dict`)."""
        depth = data.get("depth")
        return cls(
            name=str(data["name"]),
            currency=str(data["currency"]).upper(),
            digits=int(data["digits"]),  # type: ignore[call-overload]
            pip=Decimal(str(data["pip"])),
            contract_size=Decimal(str(data["contract_size"])),
            spread=Decimal(str(data["spread"])),
            price=Decimal(str(data["price"])),
            volatility=float(data.get("volatility", 0.10)),  # type: ignore[arg-type]
            depth=None if depth in (None, "") else Decimal(str(depth)),
        )


def _fx(name: str, digits: int, spread: str, price: str) -> Instrument:
    pip = Decimal("0.01") if digits == 3 else Decimal("0.0001")
    return Instrument(name, name.split("/")[1], digits, pip, Decimal(1000), Decimal(spread), Decimal(price))


def default_instruments() -> list[Instrument]:
    """The default catalogue (a fresh copy each call)."""
    return [
        _fx("EUR/USD", 5, "0.00020", "1.08500"),
        _fx("GBP/USD", 5, "0.00030", "1.27000"),
        _fx("USD/JPY", 3, "0.020", "148.500"),
        _fx("GBP/JPY", 3, "0.040", "188.600"),
        _fx("EUR/GBP", 5, "0.00030", "0.85400"),
        _fx("USD/CHF", 5, "0.00030", "0.88500"),
        _fx("AUD/USD", 5, "0.00030", "0.66500"),
        Instrument("Dow Jones", "USD", 2, Decimal(1), Decimal(1), Decimal("3.00"), Decimal("37500.00"), 0.15),
        Instrument("Gold", "USD", 2, Decimal("0.1"), Decimal(1), Decimal("0.50"), Decimal("2050.00"), 0.15),
    ]


@lru_cache(maxsize=64)
def _prehistory(
    name: str, price: Decimal, digits: int, volatility: float, start: float, seed: int
) -> tuple[tuple[float, ...], tuple[Decimal, ...]]:
    """Seeded bid points before `start`: for each period, 4 points a bar over 201 bars."""
    times: set[float] = set()
    for canonical, length in PERIODS.values():
        step = length / 4
        t = start - (start % step) - (BAR_DEPTH + 1) * length
        if canonical == "Monthly":
            t -= 62 * 86400  # months are uneven: reach a little further
        while t < start:
            times.add(t)
            t += step
    ordered = sorted(times, reverse=True)
    rng = random.Random(f"history:{seed}:{name}")
    quantum = Decimal(1).scaleb(-digits)
    value = float(price)
    floor = float(quantum)
    bids: list[Decimal] = []
    later = start
    for t in ordered:
        sigma = volatility * math.sqrt((later - t) / SECONDS_PER_YEAR)
        value = max(floor, value * math.exp(sigma * rng.gauss(0.0, 1.0)))
        bids.append(Decimal(repr(value)).quantize(quantum))
        later = t
    return tuple(reversed(ordered)), tuple(reversed(bids))


@dataclass
class Bar:
    """One OHLC bar of bids; Volume is the number of price updates in it."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


# Old ticks are folded: a bucket of one period keeps at most four points (open, high, low, close,
# in time order, the bucket's tick count kept as weights). A period's buckets nest in every longer
# period's, so folding never changes a bar or a day's figures; and points are folded into a period
# only once every shorter period's 200-bar window has moved past them. A long-running emulator
# thus keeps a few thousand points per instrument (plus four a day), not every tick.
FOLDS: tuple[tuple[str, str | None], ...] = (
    # (period folded into, the shorter period whose window must have passed; None: the bar in progress)
    ("5 minutes", None),
    ("15 minutes", "5 minutes"),
    ("30 minutes", "15 minutes"),
    ("hourly", "30 minutes"),
    ("4 hours", "hourly"),
    ("daily", "4 hours"),
)


FOLD_BATCH = 64  # new points a series gathers before it folds again


@dataclass
class PriceSeries:
    """The bid history and the current quote of one instrument."""

    instrument: Instrument
    times: list[float] = field(default_factory=list)
    bids: list[Decimal] = field(default_factory=list)
    bid: Decimal = Decimal(0)
    offer: Decimal = Decimal(0)
    updated: float = 0.0
    # Ticks each point stands for (1 for a raw tick); empty means one each.
    weights: list[int] = field(default_factory=list)
    # Per period of FOLDS: the time before which points are already folded into it.
    folded: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.bids) != len(self.times):
            raise ValueError(f"{len(self.times)} price times but {len(self.bids)} bids")
        if not self.weights:
            self.weights = [1] * len(self.times)
        elif len(self.weights) != len(self.times) or min(self.weights) < 1:
            raise ValueError(f"weights must be {len(self.times)} positive tick counts")
        self._next_fold = 0.0  # the earliest time a fold has anything to do (see fold)
        self._due: dict[str, float] = {}  # per period of FOLDS: the time its cut moves next
        self._fold_at = 0  # set() folds once the series holds this many points (see there)
        self._folds = 0  # how many times points were folded (a fold moves them)
        self._day: tuple[Any, ...] | None = None  # day_stats' running figures for the day so far

    @classmethod
    def create(
        cls, instrument: Instrument, start: float, seed: int, bid: Decimal | None = None, offer: Decimal | None = None
    ) -> PriceSeries:
        """A series with its pre-history, whose last price is the starting price.

        The quote is set now; the pre-history (a few thousand seeded points) is drawn the first time
        the points are read, so a platform starts without drawing every instrument's past."""
        bid = instrument.round(bid if bid is not None else instrument.price)
        series = cls(instrument)
        series.bid = bid
        series.offer = instrument.round(offer if offer is not None else bid + instrument.spread)
        series.updated = start
        for name in _LAZY:
            del series.__dict__[name]
        series.__dict__["_pending"] = (start, seed, bid, offer)
        return series

    def __getattr__(self, name: str) -> Any:
        # Only reached for an attribute not set: the points of a series whose pre-history waits.
        pending = self.__dict__.get("_pending")
        if name not in _LAZY or pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        del self.__dict__["_pending"]
        start, seed, bid, offer = pending
        inst, quote = self.instrument, (self.bid, self.offer, self.updated)
        times, bids = _prehistory(inst.name, bid, inst.digits, inst.volatility, start, seed)
        self.times, self.bids, self.weights, self.folded = list(times), list(bids), [1] * len(times), {}
        # The pre-history is sparse already (four points a bar of each period): leave it as it is
        # rather than fold it on every platform build.
        self.fold(start, merge=False)
        self.set(start, bid, offer)
        self.bid, self.offer, self.updated = quote  # the same, unless assigned since
        return getattr(self, name)

    def set(self, t: float, bid: Decimal, offer: Decimal | None = None) -> None:
        """Record a new price at time `t` (offer defaults to bid + spread)."""
        inst = self.instrument
        if self.times and t < self.times[-1]:
            raise ValueError(f"price time {t} is before the last price time {self.times[-1]}")
        self.bid = inst.round(bid)
        self.offer = inst.round(offer if offer is not None else bid + inst.spread)
        self.updated = t
        # Folding never changes a bar, so it can wait: at most once per 5-minute bar, and only once
        # FOLD_BATCH points have come since the last (a backtest's hourly bars cross every bar
        # boundary up to the hour on each price, and would otherwise fold on each).
        if t >= self._next_fold and len(self.times) >= self._fold_at:
            self.fold(t)
            self._fold_at = len(self.times) + FOLD_BATCH
        self.times.append(t)
        self.bids.append(self.bid)
        self.weights.append(1)

    def fold(self, now: float, merge: bool = True) -> None:
        """Fold what no bar window at `now` needs at full detail (see FOLDS); with merge=False,
        only mark it as done."""
        due = self._due
        for period, shorter in FOLDS:
            if now < due.get(period, float("-inf")):  # its cut has not moved since the last fold
                continue
            lag = 0 if shorter is None else (BAR_DEPTH + 1) * PERIODS[shorter][1]
            cut = bucket_start(period, now - lag)
            done = self.folded.get(period, float("-inf"))
            if cut > done:
                if merge:
                    self._fold(period, done, cut)
                self.folded[period] = cut
            due[period] = _next_bucket(period, cut) + lag  # when `now - lag` reaches the next bucket
        self._next_fold = min(due.values())

    def _fold(self, period: str, since: float, before: float) -> None:
        self._folds += 1
        lo = bisect.bisect_left(self.times, since)
        hi = bisect.bisect_left(self.times, before)
        times: list[float] = []
        bids: list[Decimal] = []
        weights: list[int] = []
        i = lo
        while i < hi:
            j = bisect.bisect_left(self.times, _next_bucket(period, bucket_start(period, self.times[i])), i, hi)
            if j - i <= 4:  # already as small as it gets
                times += self.times[i:j]
                bids += self.bids[i:j]
                weights += self.weights[i:j]
            else:
                chunk = self.bids[i:j]
                keep = sorted({i, i + chunk.index(max(chunk)), i + chunk.index(min(chunk)), j - 1})
                times += [self.times[k] for k in keep]
                bids += [self.bids[k] for k in keep]
                others = [self.weights[k] for k in keep[:-1]]
                weights += [*others, sum(self.weights[i:j]) - sum(others)]  # the close carries the rest
            i = j
        self.times[lo:hi], self.bids[lo:hi], self.weights[lo:hi] = times, bids, weights

    @property
    def mid(self) -> Decimal:
        """(bid + offer) / 2."""
        return (self.bid + self.offer) / 2

    def bars(self, period: str, now: float, depth: int = BAR_DEPTH) -> list[Bar]:
        """The last `depth` non-empty bars of `period` up to `now`, oldest first."""
        first = bucket_start(period, now)
        for _ in range(depth - 1):
            first = previous_bucket(period, first)
        lo = bisect.bisect_left(self.times, first)
        hi = bisect.bisect_right(self.times, now)
        bars: list[Bar] = []
        current: float | None = None
        next_start = first
        for i in range(lo, hi):
            t, bid = self.times[i], self.bids[i]
            if current is None or t >= next_start:
                current = bucket_start(period, t)
                next_start = _next_bucket(period, current)
                bars.append(Bar(from_epoch(current), bid, bid, bid, bid, 0))
            bar = bars[-1]
            bar.high = max(bar.high, bid)
            bar.low = min(bar.low, bid)
            bar.close = bid
            bar.volume += self.weights[i]
        return bars[-depth:]

    def day_stats(self, now: float) -> tuple[Decimal, Decimal, Decimal, Decimal | None]:
        """(open, high, low, previous close) of the UTC day holding `now`.

        The day's high and low are kept and extended by the points added since (a quote is asked
        far more often than a day has points); a fold, new point lists or another day start afresh."""
        start = bucket_start("Daily", now)
        times, bids = self.times, self.bids
        hi = bisect.bisect_right(times, now)
        day = self._day
        if (
            day is not None
            and day[0] == start
            and day[1] is times
            and day[2] is bids
            and day[3] == self._folds
            and day[5] <= hi
        ):
            lo, done, high, low = day[4:]
            if hi > done:
                fresh = bids[done:hi]
                high, low = max(high, max(fresh)), min(low, min(fresh))
        else:
            lo = bisect.bisect_left(times, start)
            if lo == hi:  # no point yet today
                self._day = None
                previous = bids[lo - 1] if lo > 0 else None
                return self.bid, self.bid, self.bid, previous
            today = bids[lo:hi]
            high, low = max(today), min(today)
        self._day = (start, times, bids, self._folds, lo, hi, high, low)
        return bids[lo], high, low, bids[lo - 1] if lo > 0 else None


_LAZY = ("times", "bids", "weights", "folded")


def _next_bucket(period: str, start: float) -> float:
    length = PERIODS[period.lower()][1]
    if length < 86400:
        return start + length
    day = from_epoch(start)
    if period == "Weekly":
        return to_epoch(day + timedelta(days=7))
    if period == "Monthly":
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return to_epoch(day.replace(year=year, month=month))
    return to_epoch(day + timedelta(days=1))
