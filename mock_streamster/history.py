"""Price history files as the market: file formats, loading, bars of every period, the path inside a bar.

A history file gives one instrument's prices: bars (open, high, low, close of bids, maybe a volume
and a spread) or ticks (bid and ask). Formats, told apart by the file's first line:

- `generic`: a CSV with a header naming its columns (what pandas, yfinance and backtesting.py write):
  a time column (unnamed, `Date`, `Datetime`, `Time`, `Timestamp`, ...; or `Date` and `Time`),
  `Open`, `High`, `Low`, `Close` and optionally `Volume`; or `Bid` and `Ask` for ticks.
- `mt4`: MetaTrader 4's history export, no header: `2024.01.02,00:00,open,high,low,close,volume`.
- `mt5`: MetaTrader 5's exports, tab-separated with a `<DATE>` header (UTF-16 or UTF-8): bars
  `<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>` (spread in points), ticks
  `<DATE> <TIME> <BID> <ASK> <LAST> <VOLUME> <FLAGS>` (an empty bid or ask keeps the previous one).
- `histdata`: HistData.com ASCII, bars `20240102 000000;open;high;low;close;volume`, ticks
  `20240102 000000123,bid,ask,volume`.
- `dukascopy`: Dukascopy's CSV, bars `Gmt time,Open,High,Low,Close,Volume` and ticks
  `Gmt time,Ask,Bid,AskVolume,BidVolume`, times `02.01.2024 00:00:00.000`.

Times are read in the file's time zone (UTC unless told otherwise) and kept as UTC milliseconds;
prices as whole numbers of the instrument's smallest step (numpy arrays: a year of one-minute bars
is a few megabytes). A bad file is refused with its name, line and reason; a gap (a weekend) stays
a gap.

Inside a bar the price walks a fixed path: open at the bar's start, then the extreme nearer in the
bar's direction a quarter in, the other extreme halfway, the close at three quarters, held until
the next bar opens: open -> low -> high -> close for an up bar (close >= open), open -> high ->
low -> close for a down bar. Between two of those points the price moves in a straight line, so
an order or exit level on the way fills at the level, at the moment the line reaches it; from one
bar (or tick) to the next the price jumps, and a level jumped over fills at the first price beyond
it. `HistoryMarket` plays this path for the platform as price events, in time order.
"""

from __future__ import annotations

import bisect
import codecs
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .errors import ScenarioError, StreamsterError
from .market import BAR_DEPTH, PERIODS, Bar, Instrument

log = logging.getLogger(__name__)

FORMATS = ("auto", "generic", "mt4", "mt5", "histdata", "dukascopy")
MAX_DIGITS = 10
MAX_LINE = 4096  # characters in one line of a history file
BLOCK = 4 << 20  # bytes read at a time
DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Streamster periods (canonical name -> nominal length in ms), shortest first.
PERIOD_MS: dict[str, int] = {name: seconds * 1000 for name, seconds in PERIODS.values()}
MONTH_MS = PERIOD_MS["Monthly"]


class HistoryFileError(ScenarioError):
    """A history file that cannot be used: the message names the file, the line and the reason."""


class HistoryEndedError(StreamsterError):
    """A call after the end of the price history (a Client fault: retrying cannot help)."""


@dataclass(frozen=True)
class HistorySource:
    """Where an instrument's history comes from, as a scenario or the command line gives it."""

    path: str
    format: str = "auto"
    timezone: str = "UTC"
    spread: Decimal | None = None
    digits: int | None = None


# ----------------------------------------------------------------------------- reading text


def _encoding(head: bytes) -> tuple[str, int]:
    """(codec, bytes of BOM) of a file starting with `head`; MetaTrader 5 writes UTF-16."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if len(head) >= 2 and head[1] == 0 and head[0] != 0:
        return "utf-16-le", 0
    return "utf-8", 0


def _blocks(path: Path, name: str) -> Iterator[tuple[int, list[str]]]:
    """(number of the first line, lines) of `path`, a block at a time; no line may pass MAX_LINE."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise HistoryFileError(f"history file {name} cannot be read: {exc.strerror or exc}") from None
    with handle:
        head = handle.read(4)
        codec, bom = _encoding(head)
        decoder = codecs.getincrementaldecoder(codec)()
        carry = ""
        line_no = 1
        data = head[bom:]
        while True:
            block = handle.read(BLOCK)
            try:
                text = carry + decoder.decode(data + block, final=not block)
            except UnicodeDecodeError:
                raise HistoryFileError(
                    f"history file {name} near line {line_no}: the text is not {codec.upper()}"
                ) from None
            data = b""
            if not block:
                lines = text.split("\n")
                if lines and lines[-1] == "":
                    lines.pop()
                _check_lengths(lines, line_no, name)
                if lines:
                    yield line_no, lines
                return
            cut = text.rfind("\n")
            if cut < 0:
                if len(text) > MAX_LINE:
                    raise HistoryFileError(f"history file {name} line {line_no}: longer than {MAX_LINE} characters")
                carry = text
                continue
            lines = text[:cut].split("\n")
            carry = text[cut + 1 :]
            _check_lengths(lines, line_no, name)
            yield line_no, lines
            line_no += len(lines)


def _check_lengths(lines: list[str], first: int, name: str) -> None:
    if lines and max(map(len, lines)) > MAX_LINE:
        n = next(i for i, line in enumerate(lines) if len(line) > MAX_LINE)
        raise HistoryFileError(f"history file {name} line {first + n}: longer than {MAX_LINE} characters")


# ----------------------------------------------------------------------------- times


def _days(year: int, month: int, day: int) -> int:
    return date(year, month, day).toordinal() - _EPOCH_ORDINAL


@lru_cache(maxsize=1 << 16)
def _ymd(text: str, order: str) -> int:
    """Days since 1970 of a date written year-month-day (`ymd`, any separators or none) or `dmy`."""
    digits = re.fullmatch(r"(\d{4})\D?(\d{2})\D?(\d{2})" if order == "ymd" else r"(\d{2})\D(\d{2})\D(\d{4})", text)
    if digits is None:
        raise ValueError(text)
    a, b, c = (int(g) for g in digits.groups())
    return _days(a, b, c) if order == "ymd" else _days(c, b, a)


_TOD = re.compile(r"(\d{1,2}):?(\d{2})(?::?(\d{2})(?:[.,:]?(\d{1,6}))?)?")


@lru_cache(maxsize=1 << 16)
def _tod(text: str) -> int:
    """Milliseconds since midnight of `HH:MM[:SS[.fff]]` (or the same without colons)."""
    m = _TOD.fullmatch(text)
    if m is None:
        raise ValueError(text)
    h, mi, s, frac = m.groups()
    hours, minutes, seconds = int(h), int(mi), int(s or 0)
    if hours > 23 or minutes > 59 or seconds > 60:
        raise ValueError(text)
    ms = int((frac or "0").ljust(3, "0")[:3])
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms


_OFFSET = re.compile(r"(?:Z|(?:GMT|UTC)?([+-])(\d{2}):?(\d{2}))$")


@lru_cache(maxsize=1 << 16)
def _iso(text: str) -> tuple[int, int | None]:
    """(local ms since 1970, UTC offset in ms or None) of an ISO-like date-time or Unix seconds/ms."""
    text = text.strip()
    if text.isdigit() and len(text) >= 9:  # Unix time: seconds, or milliseconds when 13 digits
        value = int(text)
        return (value if len(text) >= 12 else value * 1000), 0
    offset: int | None = None
    m = _OFFSET.search(text) if len(text) > 10 else None
    if m is not None:
        sign, hh, mm = m.groups()
        offset = 0 if sign is None else (1 if sign == "+" else -1) * (int(hh) * 60 + int(mm)) * 60_000
        text = text[: m.start()].rstrip()
    day = _ymd(text[:10], "ymd")
    rest = text[11:].strip() if len(text) > 10 else ""
    if len(text) > 10 and text[10] not in " T":
        raise ValueError(text)
    return day * DAY_MS + (_tod(rest) if rest else 0), offset


def _zone(name: str, where: str) -> ZoneInfo | None:
    """The time zone called `name` (None for UTC)."""
    if name.upper() in ("UTC", "GMT", "Z", "ETC/UTC"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HistoryFileError(f"{where}: timezone {name!r} is not an IANA time zone name (or UTC)") from None


def _to_utc(local: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """UTC milliseconds of naive local times in `zone`; a repeated hour (clocks going back) is read
    as its second occurrence once the times step back into it."""
    days = local // DAY_MS
    unique, inverse = np.unique(days, return_inverse=True)
    offsets = np.empty(len(unique), dtype=np.int64)
    changing = []
    for n, d in enumerate(unique.tolist()):
        midnight = datetime(1970, 1, 1) + timedelta(days=d)
        first = _utcoffset(midnight, zone, 0)
        last = _utcoffset(midnight + timedelta(hours=23, minutes=59, seconds=59), zone, 0)
        offsets[n] = first
        if first != last:
            changing.append(n)
    result = local - offsets[inverse]
    for n in changing:
        rows = np.flatnonzero(inverse == n)
        fold, previous = 0, None
        for row in rows.tolist():
            naive = datetime(1970, 1, 1) + timedelta(milliseconds=int(local[row]))
            if previous is not None and naive <= previous:
                fold = 1  # the times stepped back: the repeated hour, second time round
            if fold and _utcoffset(naive, zone, 0) == _utcoffset(naive, zone, 1):
                fold = 0
            result[row] = local[row] - _utcoffset(naive, zone, fold)
            previous = naive
    return result


def _utcoffset(naive: datetime, zone: ZoneInfo, fold: int) -> int:
    offset = naive.replace(tzinfo=zone, fold=fold).utcoffset()
    return int(offset.total_seconds() * 1000) if offset is not None else 0


# ----------------------------------------------------------------------------- layouts


@dataclass
class _Layout:
    """How one format's rows read: separator, columns, how the time is written."""

    format: str
    kind: str  # "bars" or "ticks"
    sep: str
    fields: int  # fields a row has (at least)
    header_lines: int
    time: tuple[int, ...]  # column(s) of the time
    parse_time: Callable[..., tuple[int, int | None]]
    prices: dict[str, int]  # open/high/low/close or bid/ask -> column
    volume: int | None = None
    spread: int | None = None  # MetaTrader 5: the spread in points
    fill_missing: bool = False  # MetaTrader 5 ticks: an empty bid or ask keeps the last one
    names: dict[str, str] = field(default_factory=dict)  # column role -> the name the file uses


def _mt_date_time(day: str, tod: str) -> tuple[int, int | None]:
    return _ymd(day, "ymd") * DAY_MS + _tod(tod), None


def _mt_date(day: str) -> tuple[int, int | None]:
    return _ymd(day, "ymd") * DAY_MS, None


def _histdata(text: str) -> tuple[int, int | None]:
    # "20240102 000000" (bars) or "20240102 000000123" (ticks, milliseconds appended)
    day, _, tod = text.partition(" ")
    if len(tod) == 9:
        tod = f"{tod[:6]}.{tod[6:]}"
    return _ymd(day, "ymd") * DAY_MS + _tod(tod), None


def _dukascopy(text: str) -> tuple[int, int | None]:
    # "02.01.2024 00:00:00.000", or with a local offset "02.01.2024 00:00:00.000 GMT+0200"
    offset: int | None = None
    m = _OFFSET.search(text) if "GMT" in text or "UTC" in text else None
    if m is not None:
        sign, hh, mm = m.groups()
        offset = 0 if sign is None else (1 if sign == "+" else -1) * (int(hh) * 60 + int(mm)) * 60_000
        text = text[: m.start()]
    day, _, tod = text.strip().partition(" ")
    return _ymd(day, "dmy") * DAY_MS + (_tod(tod) if tod else 0), offset


def _join(day: str, tod: str) -> tuple[int, int | None]:
    return _iso(f"{day.strip()} {tod.strip()}" if tod.strip() else day)


_GENERIC_TIME = ("", "date", "datetime", "date_time", "time", "timestamp", "gmt time", "local time", "open time",
                 "opentime", "index", "unnamed: 0")  # fmt: skip
_GENERIC_VOLUME = ("volume", "vol", "tickvol", "tick_volume", "tick volume", "real_volume")


def _split_header(line: str) -> tuple[str, list[str]]:
    sep = max((",", ";", "\t"), key=line.count)
    return sep, [c.strip().strip('"').strip() for c in line.split(sep)]


def _detect(first: str, name: str) -> str:
    """The format a file's first line shows."""
    text = first.lstrip("\ufeff").strip()
    if text.upper().startswith("<DATE>"):
        return "mt5"
    if re.match(r"^\d{8} \d{6};", text) or re.match(r"^\d{8} \d{9},", text):
        return "histdata"
    if re.match(r"^\d{4}\.\d{2}\.\d{2},\d{2}:\d{2}(:\d{2})?,", text):
        return "mt4"
    if re.match(r"^(gmt|local) time[,;]", text, re.IGNORECASE):
        return "dukascopy"
    _, columns = _split_header(text)
    lower = {c.lower() for c in columns}
    if {"open", "high", "low", "close"} <= lower or {"bid", "ask"} <= lower or columns[0].lower() == "price":
        return "generic"
    raise HistoryFileError(
        f"history file {name} line 1: cannot tell the format from {text[:80]!r}; a CSV needs a header naming "
        "Open, High, Low, Close (or Bid, Ask), or give format: one of " + ", ".join(FORMATS[1:])
    )


def _layout(fmt: str, lines: list[str], name: str) -> _Layout:
    """The layout of a `fmt` file whose first lines are `lines`."""
    first = lines[0].lstrip("\ufeff").strip()
    where = f"history file {name} line 1"
    if fmt == "mt4":
        if not re.match(r"^\d{4}\.\d{2}\.\d{2},", first):
            raise HistoryFileError(f"{where}: a MetaTrader 4 export starts 'YYYY.MM.DD,HH:MM,', not {first[:40]!r}")
        return _Layout("mt4", "bars", ",", 7, 0, (0, 1), _mt_date_time,
                       {"open": 2, "high": 3, "low": 4, "close": 5}, volume=6)  # fmt: skip
    if fmt == "histdata":
        if re.match(r"^\d{8} \d{6};", first):
            return _Layout("histdata", "bars", ";", 5, 0, (0,), _histdata,
                           {"open": 1, "high": 2, "low": 3, "close": 4}, volume=5 if first.count(";") >= 5 else None)  # fmt: skip
        if re.match(r"^\d{8} \d{9},", first):
            return _Layout("histdata", "ticks", ",", 3, 0, (0,), _histdata, {"bid": 1, "ask": 2})
        raise HistoryFileError(
            f"{where}: HistData.com bars start 'YYYYMMDD HHMMSS;' and ticks 'YYYYMMDD HHMMSSmmm,', not {first[:40]!r}"
        )
    sep, columns = _split_header(first)
    lower = [c.lower() for c in columns]
    if fmt == "mt5":
        tags = [c.strip("<>").lower() for c in lower]
        if not first.upper().startswith("<DATE>"):
            raise HistoryFileError(
                f"{where}: a MetaTrader 5 export starts with the header '<DATE>', not {first[:40]!r}"
            )
        index = {t: n for n, t in enumerate(tags)}
        has_time = "time" in index
        time_cols = (index["date"], index["time"]) if has_time else (index["date"],)
        parse = _mt_date_time if has_time else _mt_date
        if {"open", "high", "low", "close"} <= set(index):
            return _Layout("mt5", "bars", sep, len(tags), 1, time_cols, parse,
                           {k: index[k] for k in ("open", "high", "low", "close")},
                           volume=index.get("tickvol", index.get("vol")), spread=index.get("spread"))  # fmt: skip
        if {"bid", "ask"} <= set(index):
            return _Layout("mt5", "ticks", sep, len(tags), 1, time_cols, parse,
                           {"bid": index["bid"], "ask": index["ask"]}, fill_missing=True)  # fmt: skip
        raise HistoryFileError(f"{where}: a MetaTrader 5 export needs <OPEN> <HIGH> <LOW> <CLOSE> or <BID> <ASK>")
    if fmt == "dukascopy":
        if lower[0] not in ("gmt time", "local time"):
            raise HistoryFileError(f"{where}: a Dukascopy CSV starts with the header 'Gmt time', not {first[:40]!r}")
        index = {c: n for n, c in enumerate(lower)}
        if {"open", "high", "low", "close"} <= set(index):
            return _Layout("dukascopy", "bars", sep, len(lower), 1, (0,), _dukascopy,
                           {k: index[k] for k in ("open", "high", "low", "close")}, volume=index.get("volume"))  # fmt: skip
        if {"bid", "ask"} <= set(index):
            return _Layout("dukascopy", "ticks", sep, len(lower), 1, (0,), _dukascopy,
                           {"bid": index["bid"], "ask": index["ask"]})  # fmt: skip
        raise HistoryFileError(f"{where}: a Dukascopy CSV needs Open, High, Low, Close (bars) or Ask, Bid (ticks)")
    # generic: a header; yfinance's newer files add two more header rows ("Ticker,...", "Date,,,,")
    header_lines = 1
    if lower[0] == "price" and len(lines) >= 3 and lines[1].lower().startswith("ticker"):
        header_lines = 3
        lower[0] = "date"
    index = {c: n for n, c in enumerate(lower)}
    if "date" in index and "time" in index:
        time_cols: tuple[int, ...] = (index["date"], index["time"])
        parse_time: Callable[..., tuple[int, int | None]] = _join
    else:
        found = next((n for n, c in enumerate(lower) if c in _GENERIC_TIME), None)
        if found is None:
            raise HistoryFileError(
                f"{where}: no time column: name it Date, Datetime, Time or Timestamp (or leave the first one unnamed)"
            )
        time_cols, parse_time = (found,), _iso
    volume = next((index[c] for c in _GENERIC_VOLUME if c in index), None)
    names = {k: columns[n] for k, n in index.items()}
    if {"open", "high", "low", "close"} <= set(index):
        return _Layout("generic", "bars", sep, len(lower), header_lines, time_cols, parse_time,
                       {k: index[k] for k in ("open", "high", "low", "close")}, volume=volume, names=names)  # fmt: skip
    if {"bid", "ask"} <= set(index):
        return _Layout("generic", "ticks", sep, len(lower), header_lines, time_cols, parse_time,
                       {"bid": index["bid"], "ask": index["ask"]}, names=names)  # fmt: skip
    raise HistoryFileError(f"{where}: the header names no Open, High, Low, Close (bars) nor Bid, Ask (ticks)")


# ----------------------------------------------------------------------------- the history of one instrument


@dataclass
class PriceHistory:
    """One instrument's history, read from a file: UTC times in ms, prices in steps of 10^-digits.

    Bars: `times` are the bars' starts and `ends` their ends (the next bar's start at the latest);
    ticks: both are the tick times, and open = high = low = close = the bid. Arrays are read-only.
    """

    source: str
    format: str
    kind: str
    digits: int
    period: int  # ms of the file's bars (the commonest step between two bars); 0 for ticks
    times: np.ndarray
    ends: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    volume_digits: int = 0
    spread: np.ndarray | None = None  # per row, in steps; None: the instrument's spread
    periods: dict[str, _Aggregate] = field(default_factory=dict)

    @property
    def own_period(self) -> str | None:
        """The Streamster period of the file's bars (None for ticks or a period Streamster lacks)."""
        for name, length in PERIOD_MS.items():
            if self.period and (self.period == length or (name == "Monthly" and self.period >= 28 * DAY_MS)):
                return name
        return None

    def __len__(self) -> int:
        return len(self.times)

    @property
    def first(self) -> float:
        """The time of the first price (epoch s)."""
        return int(self.times[0]) / 1000

    @property
    def last(self) -> float:
        """When the history ends (epoch s): the end of its last bar, or its last tick."""
        return int(self.ends[-1]) / 1000

    def describe(self) -> str:
        """`5000 hourly bars (generic), 2017-04-19 09:00 to 2018-02-07 16:00 UTC` for logs and reports."""
        what = "ticks" if self.kind == "ticks" else f"{_period_words(self.period)} bars"
        start = datetime.fromtimestamp(self.first, timezone.utc).strftime("%Y-%m-%d %H:%M")
        end = datetime.fromtimestamp(self.last, timezone.utc).strftime("%Y-%m-%d %H:%M")
        return f"{len(self)} {what} ({self.format}), {start} to {end} UTC"


def _period_words(ms: int) -> str:
    for name, length in PERIOD_MS.items():
        if ms == length:
            return name.lower()
    if ms >= 28 * DAY_MS:
        return "monthly"
    seconds = ms / 1000
    if seconds % 86400 == 0:
        return f"{seconds / 86400:g}-day"
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}-hour"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}-minute"
    return f"{seconds:g}-second"


@dataclass
class _Aggregate:
    """The bars of one period made from a history's rows: first row of each, and its OHLCV."""

    starts: np.ndarray  # first row of each bar
    times: np.ndarray  # bar start (ms)
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def bucket_starts(period: str, times: np.ndarray) -> np.ndarray:
    """The start (ms) of the `period` bar holding each time: UTC days, weeks from Monday, calendar
    months (pandas' `resample(..., label='left', closed='left')` buckets)."""
    if period == "Monthly":
        return times.astype("datetime64[ms]").astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
    if period == "Weekly":
        days = times // DAY_MS
        return (days - (days + 3) % 7) * DAY_MS  # 1970-01-01 was a Thursday
    length = PERIOD_MS[period]
    return times - times % length


def _aggregate(h: PriceHistory, period: str) -> _Aggregate:
    buckets = bucket_starts(period, h.times)
    change = np.empty(len(buckets), dtype=bool)
    change[0] = True
    np.not_equal(buckets[1:], buckets[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    lasts = np.append(starts[1:] - 1, len(buckets) - 1)
    agg = _Aggregate(
        starts=starts,
        times=buckets[starts],
        open=h.open[starts],
        high=np.maximum.reduceat(h.high, starts),
        low=np.minimum.reduceat(h.low, starts),
        close=h.close[lasts],
        volume=np.add.reduceat(h.volume, starts),
    )
    for array in vars(agg).values():
        array.flags.writeable = False
    return agg


def _readonly(h: PriceHistory) -> PriceHistory:
    for name in ("times", "ends", "open", "high", "low", "close", "volume", "spread"):
        array = getattr(h, name)
        if array is not None:
            array.flags.writeable = False
    return h


# ----------------------------------------------------------------------------- loading


def _decimals_needed(values: list[np.ndarray], limit: int = MAX_DIGITS) -> int | None:
    """The fewest decimals that write every value (float noise such as 1.0999999999 ignored), or None."""
    for digits in range(limit + 1):
        scale = 10.0**digits
        if all(np.all(np.abs(v * scale - np.rint(v * scale)) <= np.maximum(1e-6, np.abs(v * scale) * 1e-12))
               for v in values):  # fmt: skip
            return digits
    return None


def _first_bad(values: list[str], check: Callable[[str], Any]) -> int:
    for n, value in enumerate(values):
        try:
            check(value)
        except (ValueError, OverflowError):
            return n
    return -1


def load_history(
    source: HistorySource, default_digits: int | None = None, base_dir: Path | None = None
) -> PriceHistory:
    """Read a history file; prices get `source.digits`, else the file's own decimals (at least
    `default_digits`, the catalogue's). HistoryFileError names the file, the line and the reason."""
    path = Path(source.path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        stat = path.stat()
    except OSError as exc:
        raise HistoryFileError(f"history file {source.path} cannot be read: {exc.strerror or exc}") from None
    return _load_cached(
        str(path.resolve()), stat.st_mtime_ns, stat.st_size, source.path, source.format, source.timezone,
        source.digits, default_digits,
    )  # fmt: skip


def forget_loaded_files() -> None:
    """Forget the history files read so far: the next load reads its file again."""
    _load_cached.cache_clear()


@lru_cache(maxsize=8)
def _load_cached(
    resolved: str, mtime: int, size: int, name: str, fmt: str, tz: str, digits: int | None, default_digits: int | None
) -> PriceHistory:
    # Keyed by the file's modification time and size: a test suite loading one file many times reads it once.
    if fmt not in FORMATS:
        raise HistoryFileError(f"history file {name}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    if digits is not None and (isinstance(digits, bool) or not 0 <= digits <= MAX_DIGITS):
        raise HistoryFileError(
            f"history file {name}: digits must be a whole number from 0 to {MAX_DIGITS}, not {digits!r}"
        )
    zone = _zone(tz, f"history file {name}")
    started = time.perf_counter()
    history = _parse(Path(resolved), name, fmt, zone, digits, default_digits)
    log.info("history %s: %s, read in %.2f s", name, history.describe(), time.perf_counter() - started)
    return history


def _parse(
    path: Path, name: str, fmt: str, zone: ZoneInfo | None, digits: int | None, default_digits: int | None
) -> PriceHistory:
    blocks = _blocks(path, name)
    layout: _Layout | None = None
    times: list[np.ndarray] = []
    offsets: list[np.ndarray] = []
    prices: dict[str, list[np.ndarray]] = {}
    volumes: list[np.ndarray] = []
    spreads: list[np.ndarray] = []
    line_numbers: list[np.ndarray] = []
    for first_line, lines in blocks:
        numbers = list(range(first_line, first_line + len(lines)))
        if layout is None:
            content = [(n, line) for n, line in zip(numbers, lines, strict=True) if line.strip()]
            if not content:
                continue
            if content[0][0] != 1:
                numbers, lines = [n for n, _ in content], [line for _, line in content]
            detected = _detect(content[0][1], name) if fmt == "auto" else fmt
            layout = _layout(detected, [line for _, line in content[:3]], name)
            skip = layout.header_lines
            lines, numbers = [line for _, line in content][skip:], [n for n, _ in content][skip:]
        else:
            if not all(line.strip() for line in lines):
                kept = [(n, line) for n, line in zip(numbers, lines, strict=True) if line.strip()]
                numbers, lines = [n for n, _ in kept], [line for _, line in kept]
        if not lines:
            continue
        _read_rows(layout, lines, numbers, name, times, offsets, prices, volumes, spreads)
        line_numbers.append(np.asarray(numbers, dtype=np.int64))
    if layout is None or not times:
        raise HistoryFileError(f"history file {name}: no prices in it")
    return _assemble(layout, name, zone, digits, default_digits, times, offsets, prices, volumes, spreads,
                     np.concatenate(line_numbers))  # fmt: skip


def _read_rows(
    layout: _Layout, lines: list[str], numbers: list[int], name: str, times: list[np.ndarray],
    offsets: list[np.ndarray], prices: dict[str, list[np.ndarray]], volumes: list[np.ndarray],
    spreads: list[np.ndarray],
) -> None:  # fmt: skip
    """Columns of one block of rows, appended to the lists: numpy's parsers first; row by row (which
    names the line and the reason of a failure) when they fail."""
    fast = _fast_columns(layout, lines)
    if fast is not None:
        stamps_array, columns_read = fast
        if offsets:
            raise HistoryFileError(
                f"history file {name} line {numbers[0]}: a time without a UTC offset among times with one"
            )
        times.append(stamps_array)
        for role, values in columns_read.items():
            if role == "volume":
                volumes.append(values)
            elif role == "spread":
                spreads.append(values)
            else:
                prices.setdefault(role, []).append(values)
        return
    sep = layout.sep
    rows = [line.rstrip().split(sep) for line in lines]
    if sep == "\t":  # MetaTrader 5 may end a row with a tab, or pad with spaces
        rows = [[f.strip() for f in r] for r in rows]
    need = max((*layout.time, *layout.prices.values(), layout.volume or 0, layout.spread or 0)) + 1
    short = [n for n, r in enumerate(rows) if len(r) < need]
    if short:
        n = short[0]
        raise HistoryFileError(
            f"history file {name} line {numbers[n]}: {len(rows[n])} field(s) where a {layout.format} "
            f"{layout.kind[:-1]} has {max(need, layout.fields)}: {lines[n][:80]!r}"
        )
    columns = list(zip(*rows, strict=False))  # rows may have more fields than read
    stamps: list[int] = []
    zone_offsets: list[int | None] = []
    parse = layout.parse_time
    try:
        if len(layout.time) == 2:
            for d, t in zip(columns[layout.time[0]], columns[layout.time[1]], strict=True):
                local, offset = parse(d, t)
                stamps.append(local)
                zone_offsets.append(offset)
        else:
            for d in columns[layout.time[0]]:
                local, offset = parse(d)
                stamps.append(local)
                zone_offsets.append(offset)
    except (ValueError, OverflowError):
        n = len(stamps)
        shown = " ".join(columns[c][n] for c in layout.time)
        raise HistoryFileError(
            f"history file {name} line {numbers[n]}: time {shown!r} is not a {layout.format} date and time"
        ) from None
    with_offset = zone_offsets[0] is not None if not times else bool(offsets)  # as the file's first time
    mixed = next((n for n, o in enumerate(zone_offsets) if (o is not None) != with_offset), None)
    if mixed is not None:
        raise HistoryFileError(
            f"history file {name} line {numbers[mixed]}: a time "
            + ("without a UTC offset among times with one" if with_offset else "with a UTC offset among times without")
        )
    times.append(np.asarray(stamps, dtype=np.int64))
    if with_offset:
        offsets.append(np.asarray(zone_offsets, dtype=np.int64))
    for role, column in layout.prices.items():
        values = columns[column]
        if layout.fill_missing:
            values = [v or "nan" for v in values]
        prices.setdefault(role, []).append(_numbers(values, numbers, name, layout.names.get(role, role.title())))
    if layout.volume is not None:
        volumes.append(_numbers(columns[layout.volume], numbers, name, "volume", empty_zero=True))
    if layout.spread is not None:
        spreads.append(_numbers(columns[layout.spread], numbers, name, "spread", empty_zero=True))


def _by_unique(strings: np.ndarray, convert: Callable[[str], int]) -> np.ndarray:
    """`convert` of each string, worked out once per distinct value (dates and times of day repeat)."""
    unique, inverse = np.unique(strings, return_inverse=True)
    return np.array([convert(u) for u in unique.tolist()], dtype=np.int64)[inverse.reshape(-1)]


def _fast_columns(layout: _Layout, lines: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(local times in ms, columns) of a block read by numpy's C parsers, or None when anything in it
    needs the careful reading (an empty field, a time with an offset, a bad value)."""
    if layout.fill_missing:
        return None
    roles = dict(layout.prices)
    if layout.volume is not None:
        roles["volume"] = layout.volume
    if layout.spread is not None:
        roles["spread"] = layout.spread
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns about a time zone offset: read those row by row
            numbers = np.loadtxt(lines, delimiter=layout.sep, usecols=tuple(roles.values()), dtype=np.float64,
                                 ndmin=2, comments=None)  # fmt: skip
            first = np.loadtxt(lines, delimiter=layout.sep, usecols=layout.time[0], dtype=str, comments=None, ndmin=1)
            fmt = layout.format
            if len(layout.time) == 2:
                second = np.loadtxt(
                    lines, delimiter=layout.sep, usecols=layout.time[1], dtype=str, comments=None, ndmin=1
                )
                if fmt == "generic":
                    return None  # separate date and time columns: rare enough for the careful path
                stamps = _by_unique(first, lambda d: _ymd(d, "ymd") * DAY_MS) + _by_unique(second, _tod)
            elif fmt == "generic":
                sample = str(first[0]).strip()
                if sample.isdigit() or _OFFSET.search(sample[10:]) is not None:
                    return None  # Unix times, or offsets written in the file
                stamps = first.astype("datetime64[ms]").astype(np.int64)
            elif fmt == "mt5":
                stamps = _by_unique(first, lambda d: _ymd(d, "ymd") * DAY_MS)
            else:  # histdata "YYYYMMDD HHMMSS[mmm]", dukascopy "DD.MM.YYYY HH:MM:SS.mmm": date and time of day apart
                if fmt == "dukascopy" and ("GMT" in str(first[0]) or "UTC" in str(first[0])):
                    return None
                parts = np.char.partition(first, " ")
                order = "ymd" if fmt == "histdata" else "dmy"
                days = _by_unique(parts[:, 0], lambda d: _ymd(d, order) * DAY_MS)
                stamps = days + _by_unique(parts[:, 2], _tod)  # "000000123": HHMMSS and milliseconds
    except (ValueError, TypeError, OverflowError, Warning):
        return None
    return stamps.astype(np.int64), {role: numbers[:, n] for n, role in enumerate(roles)}


def _numbers(values: Iterable[str], numbers: list[int], name: str, label: str, empty_zero: bool = False) -> np.ndarray:
    values = list(values)
    if empty_zero:
        values = [v or "0" for v in values]
    try:
        array = np.asarray(values, dtype=np.float64)
    except ValueError:
        n = _first_bad(values, float)
        raise HistoryFileError(
            f"history file {name} line {numbers[n]}: {label} {values[n][:40]!r} is not a number"
        ) from None
    return array


def _assemble(
    layout: _Layout, name: str, zone: ZoneInfo | None, digits: int | None, default_digits: int | None,
    time_blocks: list[np.ndarray], offset_blocks: list[np.ndarray], price_blocks: dict[str, list[np.ndarray]],
    volume_blocks: list[np.ndarray], spread_blocks: list[np.ndarray], lines: np.ndarray,
) -> PriceHistory:  # fmt: skip
    """Check the columns read and make the history (times to UTC, prices to whole steps)."""

    def fail(row: int, reason: str) -> HistoryFileError:
        return HistoryFileError(f"history file {name} line {int(lines[row])}: {reason}")

    times = np.concatenate(time_blocks)
    if offset_blocks:
        if zone is not None:
            raise HistoryFileError(f"history file {name}: its times carry their own UTC offsets; leave timezone out")
        times = times - np.concatenate(offset_blocks)
    elif zone is not None:
        times = _to_utc(times, zone)
    columns = {role: np.concatenate(blocks) for role, blocks in price_blocks.items()}
    keep: np.ndarray | None = None
    if layout.fill_missing:  # MetaTrader 5 ticks: carry the last bid and ask forward
        bid, ask = columns["bid"], columns["ask"]
        keep = ~(np.isnan(bid) & np.isnan(ask))
        for role in ("bid", "ask"):
            values = columns[role]
            known = ~np.isnan(values)
            if not known.any():
                raise HistoryFileError(f"history file {name}: no {role} in it")
            first_known = int(np.argmax(known))
            idx = np.where(known, np.arange(len(values)), 0)
            np.maximum.accumulate(idx, out=idx)
            if first_known > 0 and keep[:first_known].any():
                raise fail(int(np.argmax(keep[:first_known])), f"no {role} yet (the first {role} comes later)")
            columns[role] = values[idx]
        times, lines = times[keep], lines[keep]
        columns = {role: values[keep] for role, values in columns.items()}
    for role, values in columns.items():
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise fail(row, f"{role} {float(values[row])!r} must be a number above 0")
    data_digits = _decimals_needed(list(columns.values()))
    if data_digits is None and digits is None:
        raise HistoryFileError(
            f"history file {name}: prices have more than {MAX_DIGITS} decimals; give digits (0 to {MAX_DIGITS})"
        )
    used = digits if digits is not None else max(data_digits or 0, default_digits or 0)
    scale = 10.0**used
    if max(float(np.max(v)) for v in columns.values()) * scale >= 2.0**62:
        raise HistoryFileError(f"history file {name}: prices too large for {used} decimals")
    scaled = {role: np.rint(values * scale).astype(np.int64) for role, values in columns.items()}
    volume = np.concatenate(volume_blocks) if volume_blocks else np.zeros(len(times))
    if layout.fill_missing and keep is not None and volume_blocks:
        volume = volume[keep]
    if (volume < 0).any() or not np.isfinite(volume).all():
        row = int(np.argmax((volume < 0) | ~np.isfinite(volume)))
        raise fail(row, f"volume {float(volume[row])!r} must be a number of at least 0")
    volume_digits = _decimals_needed([volume], 6)
    if volume_digits is None:
        volume_digits = 6
    volume_scaled = np.rint(volume * 10.0**volume_digits).astype(np.int64)
    if layout.kind == "ticks":
        steps = np.diff(times)
        if (steps < 0).any():
            row = int(np.argmax(steps < 0)) + 1
            raise fail(row, "time goes back: ticks must be in time order")
        bid, ask = scaled["bid"], scaled["ask"]
        if (ask < bid).any():
            row = int(np.argmax(ask < bid))
            raise fail(row, f"ask {float(columns['ask'][row])!r} is below bid {float(columns['bid'][row])!r}")
        history = PriceHistory(
            source=name, format=f"{layout.format} ticks", kind="ticks", digits=used, period=0, times=times,
            ends=times, open=bid, high=bid, low=bid, close=bid, volume=volume_scaled, volume_digits=volume_digits,
            spread=ask - bid,
        )  # fmt: skip
    else:
        o, h, lo, c = scaled["open"], scaled["high"], scaled["low"], scaled["close"]
        for bad, reason in (
            (h < np.maximum(o, c), "high {h} is below the open {o} or the close {c}"),
            (lo > np.minimum(o, c), "low {lo} is above the open {o} or the close {c}"),
        ):
            if bad.any():
                row = int(np.argmax(bad))
                shown = {
                    k: repr(float(columns[r][row]))
                    for k, r in (("o", "open"), ("h", "high"), ("lo", "low"), ("c", "close"))
                }
                raise fail(row, reason.format(**shown))
        if len(times) < 2:
            raise HistoryFileError(f"history file {name}: one bar only; the bars' period needs two at least")
        steps = np.diff(times)
        if (steps <= 0).any():
            row = int(np.argmax(steps <= 0)) + 1
            same = steps[row - 1] == 0
            raise fail(row, "a second bar at the same time" if same else "time goes back: bars must be in time order")
        values, counts = np.unique(steps, return_counts=True)
        period = int(values[np.argmax(counts)])
        if 28 * DAY_MS <= period <= 31 * DAY_MS:  # calendar months
            period = MONTH_MS
            month_ends = (times.astype("datetime64[ms]").astype("datetime64[M]") + 1).astype("datetime64[ms]")
            ends = month_ends.astype(np.int64)
        else:
            ends = times + period
        ends = np.minimum(ends, np.append(times[1:], ends[-1]))
        spread = None
        if spread_blocks:
            points = np.concatenate(spread_blocks)
            if (points < 0).any():
                row = int(np.argmax(points < 0))
                raise fail(row, f"spread {float(points[row])!r} must be at least 0")
            # MetaTrader's spread is in points of the symbol, whose digits the prices show
            spread = np.rint(points * 10.0 ** (used - (data_digits if data_digits is not None else used))).astype(
                np.int64
            )
        history = PriceHistory(
            source=name, format=f"{layout.format} bars", kind="bars", digits=used, period=period, times=times,
            ends=ends, open=o, high=h, low=lo, close=c, volume=volume_scaled, volume_digits=volume_digits,
            spread=spread,
        )  # fmt: skip
    _readonly(history)
    smallest = history.period if history.kind == "bars" else 0
    for canonical, length in PERIOD_MS.items():
        if length >= smallest and canonical != history.own_period:
            history.periods[canonical] = _aggregate(history, canonical)
    return history


# ----------------------------------------------------------------------------- an instrument from its history


def history_instrument(name: str, history: PriceHistory, base: Instrument | None, spread: Decimal | None) -> Instrument:
    """The instrument a history trades as: the catalogue's (`base`) with the history's digits and
    the given spread, or one the file declares (currency after the '/', FX pips and contracts)."""
    quantum = Decimal(1).scaleb(-history.digits)
    first = Decimal(int(history.open[0])) * quantum
    if base is not None:
        inst = Instrument.from_dict({**base.to_dict(), "digits": history.digits, "price": str(first)})
        inst.pip = max(inst.pip, quantum)
    else:
        fx = "/" in name
        currency = name.split("/")[-1].strip().upper() if fx else "USD"
        pip = quantum * 10 if fx and history.digits >= 3 else quantum
        inst = Instrument(name, currency, history.digits, pip, Decimal(1000) if fx else Decimal(1), Decimal(0), first)
    if spread is not None:
        inst.spread = spread
    inst.spread = inst.round(inst.spread)
    inst.volatility = 0.0
    return inst


# ----------------------------------------------------------------------------- playing it: the platform's price events


def _quantum(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


class _Position:
    """Where one instrument's path stands: row, next vertex, time and exact price reached."""

    __slots__ = ("row", "vertex", "time", "price", "event")

    def __init__(self) -> None:
        self.row = -1
        self.vertex = 0  # bars: vertices of `row` played (1-4); ticks: unused
        self.time = 0.0
        self.price: Decimal | None = None
        self.event: tuple[Any, ...] | None = None  # the next event, worked out once


Levels = Callable[[str, bool, Decimal], Iterable[Decimal]]  # (instrument key, rising?, spread) -> bid levels


class HistoryMarket:
    """The history instruments of a platform, played as price events in time order.

    The platform asks `next_event(key)` for each instrument, plays the earliest through its fill
    and exit rules, and reports it with `played(key)`; `begin(t)` starts a new run of events from a
    market brought up to time `t`, so nothing here needs saving in a snapshot: the position on the
    path follows from the time alone.
    """

    def __init__(self, histories: dict[str, PriceHistory], instruments: dict[str, Instrument], levels: Levels) -> None:
        self.histories = histories
        self.instruments = instruments
        self._levels = levels
        self._quanta = {k: _quantum(h.digits) for k, h in histories.items()}
        self._spreads = {k: instruments[k].spread for k in histories}
        self._at: dict[str, _Position] = {k: _Position() for k in histories}
        self.end = min(h.last for h in histories.values())  # the market ends with the first history to end
        self.start = max(h.first for h in histories.values())

    # ------------------------------------------------------------ the path

    def _value(self, key: str, steps: int) -> Decimal:
        return Decimal(steps) * self._quanta[key]

    def _spread(self, key: str, row: int) -> Decimal:
        spread = self.histories[key].spread
        return self._spreads[key] if spread is None else self._value(key, int(spread[row]))

    def vertices(self, key: str, row: int) -> list[tuple[float, int]]:
        """(time s, price in steps) of a bar's four path points; a tick's one point."""
        h = self.histories[key]
        start = int(h.times[row])
        if h.kind == "ticks":
            return [(start / 1000, int(h.close[row]))]
        length = int(h.ends[row]) - start
        o, hi, lo, c = int(h.open[row]), int(h.high[row]), int(h.low[row]), int(h.close[row])
        first, second = (lo, hi) if c >= o else (hi, lo)
        return [
            (start / 1000, o),
            ((start + length // 4) / 1000, first),
            ((start + length // 2) / 1000, second),
            ((start + 3 * length // 4) / 1000, c),
        ]

    def price_at(self, key: str, t: float) -> tuple[int, Decimal] | None:
        """(row, exact bid) the path gives at time `t`, or None before the history starts."""
        h = self.histories[key]
        row = int(np.searchsorted(h.times, round(t * 1000), side="right")) - 1
        while row >= 0 and int(h.times[row]) / 1000 > t:  # float times: never ahead of t
            row -= 1
        if row < 0:
            return None
        points = self.vertices(key, row)
        k = bisect.bisect_right([p[0] for p in points], t)
        if k >= len(points):
            return row, self._value(key, points[-1][1])
        (t0, p0), (t1, p1) = points[k - 1], points[k]
        return row, self._value(key, p0) + self._value(key, p1 - p0) * Decimal(repr((t - t0) / (t1 - t0)))

    # ------------------------------------------------------------ events

    def begin(self, t: float) -> None:
        """Everything up to time `t` has been played: the next events come after it."""
        for key, h in self.histories.items():
            pos = self._at[key]
            pos.event = None
            pos.time = t
            found = self.price_at(key, t)
            if found is None:
                pos.row, pos.vertex, pos.price = -1, 0, None
                continue
            pos.row, pos.price = found
            if h.kind == "ticks":
                # every tick at or before t was played, ties included
                pos.row = int(np.searchsorted(h.times, int(np.floor(t * 1000 + 1e-6)), side="right")) - 1
                pos.vertex = 1
            else:
                pos.vertex = sum(1 for vt, _ in self.vertices(key, pos.row) if vt <= t)

    def next_event(self, key: str) -> tuple[float, Decimal, Decimal] | None:
        """(time s, bid, offer) of `key`'s next price event, or None when its history is over."""
        pos = self._at[key]
        if pos.event is None:
            pos.event = self._work_out(key, pos)
        event = pos.event
        return None if event is None else event[:3]

    def played(self, key: str) -> None:
        """The event `next_event(key)` gave has been played."""
        pos = self._at[key]
        event = pos.event
        assert event is not None
        t, bid, _, row, vertex, exact = event
        pos.time, pos.row, pos.vertex, pos.price, pos.event = t, row, vertex, exact, None

    def _work_out(self, key: str, pos: _Position) -> tuple[Any, ...] | None:
        h = self.histories[key]
        quantum = self._quanta[key]
        if h.kind == "ticks":
            row = pos.row + 1
            if row >= len(h):
                return None
            bid = self._value(key, int(h.close[row]))
            return int(h.times[row]) / 1000, bid, bid + self._spread(key, row), row, 1, bid
        if pos.row >= 0 and pos.vertex < 4:
            points = self.vertices(key, pos.row)
            (t0, p0), (t1, p1) = points[pos.vertex - 1], points[pos.vertex]
            target = self._value(key, p1)
            spread = self._spread(key, pos.row)
            current = pos.price if pos.price is not None else self._value(key, p0)
            if target != current:
                rising = target > current
                ahead = [
                    level
                    for level in self._levels(key, rising, spread)
                    if (current < level < target if rising else target < level < current)
                ]
                if ahead:
                    level = min(ahead) if rising else max(ahead)
                    start = self._value(key, p0)
                    fraction = float((level - start) / (target - start)) if target != start else 1.0
                    t = max(pos.time, t0 + (t1 - t0) * fraction)
                    bid = level.quantize(quantum)
                    return t, bid, bid + spread, pos.row, pos.vertex, level
            return t1, target, target + spread, pos.row, pos.vertex + 1, target
        row = pos.row + 1
        if row >= len(h):
            return None
        bid = self._value(key, int(h.open[row]))
        return int(h.times[row]) / 1000, bid, bid + self._spread(key, row), row, 1, bid

    def between(self, key: str, t: float) -> tuple[Decimal, Decimal] | None:
        """(bid, offer) at `t` when the events played so far leave `t` strictly between two path points
        of a bar (the price on its way), else None."""
        pos = self._at[key]
        if self.histories[key].kind != "bars" or pos.row < 0 or not 1 <= pos.vertex < 4:
            return None
        if not pos.time < t < self.vertices(key, pos.row)[pos.vertex][0]:
            return None
        return self.quote_at(key, t)

    def quote_at(self, key: str, t: float) -> tuple[Decimal, Decimal] | None:
        """(bid, offer) the path shows at `t` (rounded to the instrument's digits), or None before it starts."""
        found = self.price_at(key, t)
        if found is None:
            return None
        row, exact = found
        bid = exact.quantize(self._quanta[key])
        return bid, bid + self._spread(key, row)

    def seed(self, key: str, t: float) -> list[tuple[float, Decimal, Decimal]]:
        """The path's points of the UTC day up to `t`, after the last one before it (the previous
        close), ending with the price at `t`: what a price series needs for the day's figures."""
        h = self.histories[key]
        day = t - t % 86400
        first = max(0, int(np.searchsorted(h.times, round(day * 1000), side="left")) - 1)
        last = int(np.searchsorted(h.times, round(t * 1000), side="right"))
        points: list[tuple[float, Decimal, Decimal]] = []
        for row in range(first, last):
            spread = self._spread(key, row)
            for vt, steps in self.vertices(key, row):
                if vt <= t:
                    bid = self._value(key, steps)
                    points.append((vt, bid, bid + spread))
        quote = self.quote_at(key, t)
        if quote is not None and (not points or points[-1][0] < t):
            points.append((t, *quote))
        return points

    # ------------------------------------------------------------ bars

    def bars(self, key: str, period: str, now: float, depth: int = BAR_DEPTH) -> list[Bar]:
        """The last `depth` bars of `period` up to `now`, oldest first, the bar in progress as far as
        the path has gone; StreamsterError for a period shorter than the file's bars."""
        h = self.histories[key]
        inst = self.instruments[key]
        length = PERIOD_MS[period]
        own = h.own_period
        if h.kind == "bars" and length < h.period and period != own:
            shortest = next((p for p, ms in PERIOD_MS.items() if ms >= h.period), None)
            raise StreamsterError(
                f"Period {period!r} is shorter than the {_period_words(h.period)} bars of the {inst.name} history; "
                f"its charts start at {shortest or 'none of the periods'}."
            )
        now_ms = now * 1000
        complete = int(np.searchsorted(h.ends, now_ms, side="right"))
        while complete > 0 and int(h.ends[complete - 1]) > now_ms:
            complete -= 1
        partial: tuple[int, int, int, int, int] | None = None  # open, high, low, close, volume of the row in progress
        if h.kind == "bars" and complete < len(h) and int(h.times[complete]) <= now_ms:
            points = [p for p in self.vertices(key, complete) if p[0] <= now]
            found = self.price_at(key, now)
            assert found is not None
            current = int((found[1] / self._quanta[key]).to_integral_value())
            prices = [p for _, p in points] + [current]
            row_length = int(h.ends[complete]) - int(h.times[complete])
            volume = int(h.volume[complete]) * int(now_ms - int(h.times[complete])) // max(1, row_length)
            partial = (prices[0], max(prices), min(prices), current, volume)
        last = complete if partial is not None else complete - 1
        if last < 0:
            return []
        if period == own:
            lo = max(0, last - depth + 1)
            rows = [
                (int(h.times[i]), int(h.open[i]), int(h.high[i]), int(h.low[i]), int(h.close[i]), int(h.volume[i]))
                for i in range(lo, last + 1)
            ]
            if partial is not None:
                rows[-1] = (int(h.times[last]), *partial)
            return [self._bar(key, r) for r in rows]
        agg = h.periods[period]
        group = int(np.searchsorted(agg.starts, last, side="right")) - 1
        lo = max(0, group - depth + 1)
        rows = [
            (
                int(agg.times[g]),
                int(agg.open[g]),
                int(agg.high[g]),
                int(agg.low[g]),
                int(agg.close[g]),
                int(agg.volume[g]),
            )
            for g in range(lo, group)
        ]
        first_row = int(agg.starts[group])
        group_end = int(agg.starts[group + 1]) if group + 1 < len(agg.starts) else len(h)
        if partial is None and last == group_end - 1:
            g = group
            rows.append((int(agg.times[g]), int(agg.open[g]), int(agg.high[g]), int(agg.low[g]), int(agg.close[g]),
                         int(agg.volume[g])))  # fmt: skip
        else:
            done = last if partial is not None else last + 1  # rows of the group complete so far
            highs = [int(h.high[first_row:done].max())] if done > first_row else []
            lows = [int(h.low[first_row:done].min())] if done > first_row else []
            volume = int(h.volume[first_row:done].sum())
            close = int(h.close[done - 1]) if done > first_row else 0
            opening = int(h.open[first_row])
            if partial is not None:
                if done == first_row:
                    opening = partial[0]
                highs.append(partial[1])
                lows.append(partial[2])
                close = partial[3]
                volume += partial[4]
            rows.append((int(agg.times[group]), opening, max(highs), min(lows), close, volume))
        return [self._bar(key, r) for r in rows]

    def _bar(self, key: str, row: tuple[int, int, int, int, int, int]) -> Bar:
        t, o, hi, lo, c, v = row
        q = self._quanta[key]
        vd = self.histories[key].volume_digits
        volume: Any = v if vd == 0 else Decimal(v).scaleb(-vd)
        return Bar(
            datetime.fromtimestamp(t / 1000, timezone.utc).replace(tzinfo=None),
            Decimal(o) * q, Decimal(hi) * q, Decimal(lo) * q, Decimal(c) * q, volume,
        )  # fmt: skip


_SOURCE_KEYS = ("path", "format", "timezone", "spread", "digits")


def history_sources(entries: Any, where: str = "history") -> dict[str, HistorySource]:
    """The scenario's `history` key (instrument -> path, or -> {path, format, timezone, spread,
    digits}) as sources; ScenarioError names the entry at fault."""
    if not isinstance(entries, dict) or not entries:
        raise ScenarioError(f"{where} must map an instrument name to a history file, not {entries!r}")
    sources: dict[str, HistorySource] = {}
    for name, entry in entries.items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(f"{where}: an instrument name must be text, not {name!r}")
        if isinstance(entry, (str, Path)):
            entry = {"path": str(entry)}
        if not isinstance(entry, dict):
            raise ScenarioError(f"{at} must be a file path or a mapping with a path, not {entry!r}")
        unknown = sorted(set(entry) - set(_SOURCE_KEYS))
        if unknown:
            raise ScenarioError(
                f"{at}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(_SOURCE_KEYS)}"
            )
        path = entry.get("path")
        if not isinstance(path, (str, Path)) or not str(path).strip():
            raise ScenarioError(f"{at}.path must be the path of a history file, not {path!r}")
        fmt = entry.get("format", "auto")
        if fmt not in FORMATS:
            raise ScenarioError(f"{at}.format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        tz = entry.get("timezone", "UTC")
        if not isinstance(tz, str):
            raise ScenarioError(f"{at}.timezone must be an IANA time zone name or UTC, not {tz!r}")
        _zone(tz, at)
        digits = entry.get("digits")
        if digits is not None and (
            isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= MAX_DIGITS
        ):
            raise ScenarioError(f"{at}.digits must be a whole number from 0 to {MAX_DIGITS}, not {digits!r}")
        spread = entry.get("spread")
        value: Decimal | None = None
        if spread is not None:
            try:
                value = Decimal(str(spread)) if not isinstance(spread, (bool, float)) else Decimal(repr(spread))
            except ArithmeticError:
                value = None
            if isinstance(spread, bool) or value is None or not value.is_finite() or not 0 <= value <= 10**9:
                raise ScenarioError(f"{at}.spread must be a price difference from 0 to 1000000000, not {spread!r}")
        sources[" ".join(name.split())] = HistorySource(str(path), fmt, tz, value, digits)
    return sources
