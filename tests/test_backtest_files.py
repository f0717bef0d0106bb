"""History files: every format detected and read alike, bad files refused with file, line and reason,
time zones, and bars of every period equal to a pandas resample of the file."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from mock_streamster.errors import ScenarioError
from mock_streamster.history import (
    PERIOD_MS,
    HistoryFileError,
    HistoryMarket,
    HistorySource,
    history_sources,
    load_history,
)
from mock_streamster.market import default_instruments, from_epoch

SAMPLES = Path(__file__).parent / "data" / "history"
BAR_FILES = ["generic_bars.csv", "mt4_bars.csv", "mt5_bars.csv", "histdata_bars.csv", "dukascopy_bars.csv"]
TICK_FILES = ["generic_ticks.csv", "mt5_ticks.csv", "histdata_ticks.csv", "dukascopy_ticks.csv"]


def load(path: str | Path, **options: object) -> object:
    return load_history(HistorySource(str(path), **options))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", BAR_FILES)
def test_every_bar_format_is_detected_and_reads_the_same_bars(name: str) -> None:
    h = load(SAMPLES / name)
    reference = load(SAMPLES / "generic_bars.csv")
    assert h.format == f"{name.split('_')[0]} bars"  # type: ignore[attr-defined]
    assert (h.kind, h.digits, h.period, h.own_period) == ("bars", 5, 3_600_000, "Hourly")  # type: ignore[attr-defined]
    for column in ("times", "open", "high", "low", "close"):
        assert np.array_equal(getattr(h, column), getattr(reference, column)), column
    assert from_epoch(h.first) == datetime(2024, 1, 4)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", TICK_FILES)
def test_every_tick_format_is_detected_and_reads_the_same_ticks(name: str) -> None:
    h = load(SAMPLES / name)
    reference = load(SAMPLES / "generic_ticks.csv")
    assert h.format == f"{name.split('_')[0]} ticks"  # type: ignore[attr-defined]
    assert h.kind == "ticks" and h.period == 0 and len(h) == 12  # type: ignore[attr-defined]
    assert np.array_equal(h.times, reference.times)  # type: ignore[attr-defined]
    assert np.array_equal(h.close, reference.close)  # type: ignore[attr-defined]
    assert np.array_equal(h.spread, reference.spread)  # the ask, as bid + spread  # type: ignore[attr-defined]
    assert int(h.times[0]) % 1000 == 250  # milliseconds kept  # type: ignore[attr-defined]


def test_mt5_spread_points_become_prices_and_volumes_keep_their_decimals() -> None:
    mt5 = load(SAMPLES / "mt5_bars.csv")
    assert mt5.spread is not None and int(mt5.spread[0]) == 12  # 12 points of 0.00001  # type: ignore[attr-defined]
    duka = load(SAMPLES / "dukascopy_bars.csv")
    assert duka.volume_digits == 2 and int(duka.volume[0]) == 1361  # 13.61  # type: ignore[attr-defined]
    assert load(SAMPLES / "generic_bars.csv").spread is None  # type: ignore[attr-defined]


def test_weekend_gaps_stay_gaps() -> None:
    h = load(SAMPLES / "generic_bars.csv")
    steps = np.diff(h.times) // 3_600_000  # type: ignore[attr-defined]
    assert sorted(set(steps.tolist())) == [1, 49]  # Friday 21:00 to Sunday 22:00, nothing invented


def write(tmp_path: Path, text: str, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = ",Open,High,Low,Close\n2024-01-02 00:00:00,1.1,1.2,1.0,1.15\n2024-01-02 01:00:00,1.15,1.2,1.1,1.12\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (GOOD + "2024-01-02 02:00:00,1.1,1.2,1.0\n", 4, "4 field(s) where a generic bar has 5"),
        (GOOD + "2024-01-02 02:00:00,1.1,abc,1.0,1.1\n", 4, "High 'abc' is not a number"),
        (GOOD + "yesterday,1.1,1.2,1.0,1.1\n", 4, "time 'yesterday'"),
        (GOOD + "2024-01-02 02:00:00,1.1,1.05,1.0,1.1\n", 4, "high 1.05 is below the open 1.1"),
        (GOOD + "2024-01-02 02:00:00,1.1,1.2,1.15,1.12\n", 4, "low 1.15 is above the open 1.1"),
        (GOOD + "2024-01-02 00:30:00,1.1,1.2,1.0,1.1\n", 4, "time goes back"),
        (GOOD + "2024-01-02 01:00:00,1.1,1.2,1.0,1.1\n", 4, "a second bar at the same time"),
        (GOOD + "2024-01-02 02:00:00,1.1,1.2,-1,1.1\n", 4, "low -1.0 must be a number above 0"),
        (GOOD + "2024-01-02 02:00:00,1.1,1.2,1.0,nan\n", 4, "close nan must be a number above 0"),
        ("Date,Price\n2024-01-02,1.1\n", 1, "cannot tell the format"),
        (",Open,High,Low,Close\n", None, "no prices in it"),
        (",Open,High,Low,Close\n2024-01-02 00:00:00,1.1,1.2,1.0,1.15\n", None, "one bar only"),
        ("Time,Bid,Ask\n2024-01-02 00:00:00,1.1,1.0\n", 2, "ask 1.0 is below bid 1.1"),
        ("Time,Bid,Ask\n2024-01-02 00:00:01,1.1,1.2\n2024-01-02 00:00:00,1.1,1.2\n", 3, "time goes back"),
        ("x" * 5000 + "\n", 1, "longer than 4096 characters"),
        ("Open,High,Low,Close\n1,1,1,1\n", 1, "no time column"),
        (GOOD + "2024-01-02 02:00:00+02:00,1.1,1.2,1.0,1.1\n", 4, "with a UTC offset among times without"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_line_and_reason(
    tmp_path: Path, text: str, line: int | None, reason: str
) -> None:
    path = write(tmp_path, text, "bad.csv")
    with pytest.raises(HistoryFileError) as err:
        load(path)
    message = str(err.value)
    assert "bad.csv" in message and reason in message, message
    if line is not None:
        assert f"line {line}" in message, message


def test_refusals_of_bytes_and_options(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b",Open,High,Low,Close\n2024-01-02 00:00:00,1.1,1.2,1.0,1.15 \xe9\xff\n")
    with pytest.raises(HistoryFileError, match="latin.csv near line 1: the text is not UTF-8"):
        load(path)
    with pytest.raises(HistoryFileError, match="missing.csv cannot be read"):
        load(tmp_path / "missing.csv")
    good = write(tmp_path, GOOD)
    with pytest.raises(HistoryFileError, match="timezone 'Mars/Olympus' is not an IANA"):
        load(good, timezone="Mars/Olympus")
    with pytest.raises(HistoryFileError, match="MetaTrader 4 export starts"):
        load(good, format="mt4")
    with pytest.raises(HistoryFileError, match="format 'excel' is not one of"):
        load(good, format="excel")


def test_the_scenario_key_is_checked_entry_by_entry() -> None:
    sources = history_sources({"EUR/USD": "a.csv", "Bitcoin": {"path": "b.csv", "format": "mt5", "spread": "2.5"}})
    assert sources["EUR/USD"] == HistorySource("a.csv")
    assert sources["Bitcoin"].spread == Decimal("2.5") and sources["Bitcoin"].format == "mt5"
    for entries, message in [
        ({"EUR/USD": {"path": "a.csv", "zone": "UTC"}}, "unknown key\\(s\\) zone"),
        ({"EUR/USD": {"format": "mt4"}}, "path must be the path of a history file"),
        ({"EUR/USD": {"path": "a.csv", "digits": 11}}, "digits must be a whole number from 0 to 10"),
        ({"EUR/USD": {"path": "a.csv", "spread": "-1"}}, "spread must be a price difference"),
        ({"EUR/USD": {"path": "a.csv", "timezone": "Nowhere"}}, "not an IANA time zone"),
        ({"EUR/USD": {"path": "a.csv", "format": "xls"}}, "format must be one of"),
        ([], "must map an instrument name"),
    ]:
        with pytest.raises(ScenarioError, match=message):
            history_sources(entries)


def test_digits_come_from_the_data_or_are_given(tmp_path: Path) -> None:
    noisy = write(
        tmp_path, ",Open,High,Low,Close\n2024-01-02,1.0999999999999999,1.2,1.0,1.15\n2024-01-03,1.1,1.2,1.0,1.1\n"
    )
    assert load(noisy).digits == 2  # float noise is not a digit  # type: ignore[attr-defined]
    assert load_history(HistorySource(str(noisy)), default_digits=5).digits == 5  # the catalogue's, at least
    assert load(noisy, digits=1).digits == 1  # type: ignore[attr-defined]
    daily = load(noisy)
    assert daily.own_period == "Daily" and daily.periods.keys() == {"Weekly", "Monthly"}  # type: ignore[attr-defined]


def test_a_time_zone_with_summer_time_is_read_into_utc(tmp_path: Path) -> None:
    # Europe/Berlin: UTC+1 in winter, +2 in summer; clocks went forward on 2024-03-31 at 02:00 and
    # back on 2024-10-27 at 03:00 (02:00-02:59 twice).
    rows = ["2024-01-15 10:00", "2024-03-31 01:00", "2024-03-31 03:00", "2024-07-01 10:00",
            "2024-10-27 01:00", "2024-10-27 02:00", "2024-10-27 02:00", "2024-10-27 03:00"]  # fmt: skip
    text = "Date,Bid,Ask\n" + "".join(f"{r},1.1,1.2\n" for r in rows)
    h = load(write(tmp_path, text), timezone="Europe/Berlin")
    utc = [from_epoch(int(t) / 1000).strftime("%m-%d %H:%M") for t in h.times]  # type: ignore[attr-defined]
    assert utc == ["01-15 09:00", "03-31 00:00", "03-31 01:00", "07-01 08:00",
                   "10-26 23:00", "10-27 00:00", "10-27 01:00", "10-27 02:00"]  # fmt: skip


def test_histdata_est_and_offsets_written_in_the_file(tmp_path: Path) -> None:
    est = load(SAMPLES / "histdata_bars.csv", timezone="Etc/GMT+5")  # HistData's fixed EST
    utc = load(SAMPLES / "histdata_bars.csv")
    assert int(est.times[0]) - int(utc.times[0]) == 5 * 3_600_000  # type: ignore[attr-defined]
    yf = write(tmp_path, "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02 00:00:00-05:00,1,2,1,2,2,10\n"
                         "2024-01-03 00:00:00-05:00,2,3,1,2,2,11\n")  # fmt: skip
    h = load(yf)
    assert from_epoch(int(h.times[0]) / 1000) == datetime(2024, 1, 2, 5)  # type: ignore[attr-defined]
    with pytest.raises(HistoryFileError, match="carry their own UTC offsets"):
        load(yf, timezone="America/New_York")


def minute_bars(tmp_path: Path, days: int = 45) -> Path:
    """A month and a half of one-minute bars with weekends and a missing hour, as a generic CSV."""
    rng = random.Random(11)
    t, price, lines = datetime(2024, 2, 26, 0, 0), 15000, [",Open,High,Low,Close,Volume"]
    end = t + timedelta(days=days)
    while t < end:
        if t.weekday() < 5 and not (t.day == 7 and t.hour == 13):
            o = price
            c = o + rng.randint(-8, 8)
            hi, lo = max(o, c) + rng.randint(0, 4), min(o, c) - rng.randint(0, 4)
            lines.append(
                f"{t:%Y-%m-%d %H:%M:%S},{o / 1e4:.4f},{hi / 1e4:.4f},{lo / 1e4:.4f},{c / 1e4:.4f},{rng.randint(1, 99)}"
            )
            price = c
        t += timedelta(minutes=1)
    path = tmp_path / "minutes.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


PANDAS_RULES = {"5 Minutes": "5min", "15 Minutes": "15min", "30 Minutes": "30min", "Hourly": "1h", "4 Hours": "4h",
                "Daily": "1D", "Weekly": "W-MON", "Monthly": "MS"}  # fmt: skip


def test_bars_of_every_period_equal_a_pandas_resample_of_the_file(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = minute_bars(tmp_path)
    h = load(path)
    frame = pd.read_csv(path, index_col=0, parse_dates=True)
    eurusd = next(i for i in default_instruments() if i.name == "EUR/USD")
    inst = type(eurusd).from_dict({**eurusd.to_dict(), "digits": 4})
    market = HistoryMarket({"x": h}, {"x": inst}, lambda *a: [])  # type: ignore[dict-item]
    end = h.last  # type: ignore[attr-defined]
    for period, rule in PANDAS_RULES.items():
        expected = frame.resample(rule, label="left", closed="left").agg(
            {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
        ).dropna()  # fmt: skip
        bars = market.bars("x", period, end, depth=100_000)
        assert [b.start for b in bars] == [t.to_pydatetime() for t in expected.index], period
        got = [(float(b.open), float(b.high), float(b.low), float(b.close), int(b.volume)) for b in bars]
        want = [tuple(round(float(v), 4) for v in row[:4]) + (int(row[4]),) for row in expected.itertuples(index=False)]
        assert got == want, period
        assert len(market.bars("x", period, end)) == min(200, len(expected))  # the API's depth


def test_bars_are_the_files_rows_until_now_with_the_bar_in_progress_as_far_as_it_went() -> None:
    h = load(SAMPLES / "generic_bars.csv")
    inst = next(i for i in default_instruments() if i.name == "EUR/USD")
    market = HistoryMarket({"eur/usd": h}, {"eur/usd": inst}, lambda *a: [])  # type: ignore[dict-item]
    t0 = h.first  # type: ignore[attr-defined]
    q = Decimal("0.00001")
    # 90 minutes in: the first bar whole, the second at its halfway point (its second extreme)
    bars = market.bars("eur/usd", "Hourly", t0 + 5400)
    assert len(bars) == 2
    first = bars[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        int(h.open[0]) * q, int(h.high[0]) * q, int(h.low[0]) * q, int(h.close[0]) * q, int(h.volume[0]),  # type: ignore[attr-defined]
    )  # fmt: skip
    second = bars[1]
    o, hi, lo, c = (int(getattr(h, k)[1]) * q for k in ("open", "high", "low", "close"))  # type: ignore[attr-defined]
    assert second.open == o and second.high == hi and second.low == lo  # both extremes passed by the halfway point
    assert second.close == (lo if c < o else hi)  # the second extreme: the low of a down bar, the high of an up bar
    with pytest.raises(Exception, match="shorter than the hourly bars"):
        market.bars("eur/usd", "15 Minutes", t0 + 5400)
    assert market.bars("eur/usd", "Hourly", t0 - 1) == []
    assert [b.start for b in market.bars("eur/usd", "Hourly", h.last)] == [  # type: ignore[attr-defined]
        from_epoch(int(t) / 1000)
        for t in h.times  # type: ignore[attr-defined]
    ]


def test_a_year_of_minutes_loads_with_aggregates_for_every_longer_period(tmp_path: Path) -> None:
    h = load(minute_bars(tmp_path, days=10))
    assert h.period == 60_000 and h.own_period is None  # type: ignore[attr-defined]
    assert set(h.periods) == set(PERIOD_MS)  # type: ignore[attr-defined]
    assert not h.times.flags.writeable  # shared between resets: read-only  # type: ignore[attr-defined]
