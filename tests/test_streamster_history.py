"""The price history: old ticks are folded so memory stays flat, and no bar or day figure changes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_streamster import StreamsterMock
from mock_streamster.market import PERIODS, PriceSeries, default_instruments

START = 1_736_154_000.0  # 2025-01-06T09:00:00Z, the default scenario start
EURUSD = next(i for i in default_instruments() if i.name == "EUR/USD")


class Unfolded(PriceSeries):
    """Every tick kept: what the folded series must agree with."""

    def fold(self, now: float, merge: bool = True) -> None:
        pass


def _pair() -> tuple[PriceSeries, PriceSeries]:
    return PriceSeries.create(EURUSD, START, seed=3), Unfolded.create(EURUSD, START, seed=3)


def _same_figures(folded: PriceSeries, full: PriceSeries, now: float) -> None:
    for name, _ in PERIODS.values():
        assert folded.bars(name, now) == full.bars(name, now), name
    assert folded.day_stats(now) == full.day_stats(now)
    assert (folded.bid, folded.offer, folded.updated) == (full.bid, full.offer, full.updated)


# Gaps from a second to four days: dense stretches, and jumps over whole buckets, days and weeks.
gaps = st.one_of(st.floats(1, 30), st.floats(30, 3600), st.floats(3600, 4 * 86400))
steps = st.lists(st.tuples(gaps, st.integers(-40, 40)), min_size=1, max_size=400)


@settings(max_examples=40)
@given(steps)
def test_folding_changes_no_bar_of_any_period_and_no_day_figure(path: list[tuple[float, int]]) -> None:
    folded, full = _pair()
    t, bid = START, EURUSD.price
    for i, (gap, move) in enumerate(path):
        t += round(gap, 3)
        bid = max(Decimal("0.5"), bid + Decimal(move) * EURUSD.pip)
        folded.set(t, bid)
        full.set(t, bid)
        if i % 50 == 0:
            _same_figures(folded, full, t)
    _same_figures(folded, full, t)
    assert sum(folded.weights) == sum(full.weights)  # every tick still counted once


def test_a_month_of_ticks_keeps_the_history_small() -> None:
    folded, full = _pair()
    t, bid = START, EURUSD.price
    for n in range(30 * 86400 // 5):  # a tick every 5 seconds for 30 days
        t += 5
        bid += EURUSD.pip * (1 if n % 7 < 4 else -1)
        folded.set(t, bid)
        full.set(t, bid)
    _same_figures(folded, full, t)
    assert len(full.times) > 500_000
    # Four points a bucket for the last 201 bars of each intraday period, four a day before that.
    assert len(folded.times) < 12_000, len(folded.times)


def test_a_snapshot_keeps_the_folded_history_and_its_tick_counts() -> None:
    with StreamsterMock(seed=2) as m:
        m.advance(3 * 86400)
        bars = m.platform.get_bars("EUR/USD", "Hourly", "f")
        data = m.snapshot()
        m.advance(86400)
        m.restore(data)
        assert m.platform.get_bars("EUR/USD", "Hourly", "f") == bars
        m.advance(600)
        with StreamsterMock(seed=2) as fresh:
            fresh.advance(3 * 86400 + 600)
            assert fresh.platform.get_bars("EUR/USD", "Hourly", "f") == m.platform.get_bars("EUR/USD", "Hourly", "f")


def _day_stats_afresh(s: PriceSeries, now: float) -> tuple[Decimal, Decimal, Decimal, Decimal | None]:
    import bisect

    from mock_streamster.market import bucket_start

    lo = bisect.bisect_left(s.times, bucket_start("Daily", now))
    today = s.bids[lo : bisect.bisect_right(s.times, now)] or [s.bid]
    return today[0], max(today), min(today), s.bids[lo - 1] if lo > 0 else None


@settings(max_examples=60)
@given(steps, st.lists(st.floats(0, 2 * 86400), min_size=1, max_size=5))
def test_the_kept_day_figures_equal_the_figures_worked_out_afresh(
    path: list[tuple[float, int]], looks_back: list[float]
) -> None:
    series, _ = _pair()
    t, bid = START, EURUSD.price
    for i, (gap, move) in enumerate(path):
        t += round(gap, 3)
        bid = max(Decimal("0.5"), bid + Decimal(move) * EURUSD.pip)
        series.set(t, bid)
        assert series.day_stats(t) == _day_stats_afresh(series, t)  # extended point by point, folds between
        back = t - looks_back[i % len(looks_back)]  # an earlier time, then now again
        assert series.day_stats(back) == _day_stats_afresh(series, back)
        assert series.day_stats(t) == _day_stats_afresh(series, t)
