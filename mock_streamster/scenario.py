"""Scenario files (YAML or JSON): desks, instruments, prices, a tick file, columns, charts."""

from __future__ import annotations

import csv
import math
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mock_common.files import Source, Steps, check, inline, nearest, read_document
from mock_common.values import DecimalError, parse_datetime, parse_decimal

from .data import SCENARIOS
from .errors import ScenarioError
from .history import HistorySource, PriceHistory, history_instrument, history_sources, load_history
from .market import PERIODS, Instrument, canonical_period, default_instruments, from_epoch, to_epoch
from .model import WINDOWS
from .order_input import MAX_PRICE

DEFAULT_DESKS: dict[str, dict[str, Decimal]] = {
    "Virtual Forex": {"USD": Decimal("10000.00")},
    "Virtual Currencies": {"USD": Decimal("10000.00"), "EUR": Decimal("10000.00")},
}


@dataclass(frozen=True)
class Tick:
    """One replayed price: at `time` (naive UTC), `instrument` is `bid`/`offer`."""

    time: datetime
    instrument: str
    bid: Decimal
    offer: Decimal


@dataclass
class Scenario:
    """The starting point of a platform; `reset()` returns to it."""

    start: datetime | None = None
    seed: int | None = None
    tick_interval: float = 5.0
    walk: bool = True
    desks: dict[str, dict[str, Decimal]] = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_DESKS.items()})
    instruments: list[Instrument] = field(default_factory=default_instruments)
    ticks: list[Tick] = field(default_factory=list)
    hidden_columns: dict[str, list[str]] = field(default_factory=dict)
    closed_charts: list[tuple[str, str]] = field(default_factory=list)
    source: str | None = None
    history: dict[str, PriceHistory] = field(default_factory=dict)  # instrument key -> its price history


def _decimal(value: Any, where: str | Steps) -> Decimal:
    try:
        return parse_decimal(value)
    except DecimalError as exc:
        raise ScenarioError.at(where, f"must be a {'finite ' if exc.number else ''}number", value) from None


def _datetime(value: Any, where: str | Steps) -> datetime:
    try:
        when = parse_datetime(value)
    except (ValueError, OverflowError, OSError):
        raise ScenarioError.at(where, "must be an ISO date-time or Unix seconds", value) from None
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise ScenarioError.at(where, f"must be in the years {MIN_YEAR} to {MAX_YEAR}", value)
    return when


def load_ticks(path: str | Path, known: set[str] | None = None) -> list[Tick]:
    """Read a tick CSV (time, instrument, bid, offer; a header row is optional), in time order.

    A bad row is refused as `day-ticks.csv:12: bid: must be a finite number, not 'x'`."""
    ticks: list[Tick] = []
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read this tick file: {exc.strerror}", source=inline(str(path))) from None
    with handle:
        try:
            for lineno, row in enumerate(csv.reader(handle), start=1):
                if not row or row[0].strip().startswith("#"):
                    continue
                if lineno == 1 and row[0].strip().lower() == "time":
                    continue
                ticks.append(_tick(row, known, inline(f"{path}:{lineno}")))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ScenarioError("not a CSV tick file", detail=str(exc), source=inline(str(path))) from None
    ticks.sort(key=lambda t: t.time)
    return ticks


def _tick(row: list[str], known: set[str] | None, where: Source) -> Tick:
    try:
        if len(row) < 3:
            raise ScenarioError("a row needs time, instrument, bid[, offer]", value=row)
        bid = _decimal(row[2], "bid")
        offer = _decimal(row[3], "offer") if len(row) > 3 and row[3].strip() else bid
        if bid <= 0:
            raise ScenarioError.at("bid", "must be > 0", row[2])
        if offer < bid:
            raise ScenarioError.at("offer", f"must be at least the bid ({row[2].strip()})", row[3])
        name = row[1].strip()
        if known is not None and name.lower() not in known:
            raise ScenarioError.at("instrument", "must be an instrument of the catalogue", name)
        return Tick(_datetime(row[0], "time"), name, bid, offer)
    except ScenarioError as exc:
        raise exc.within(where) from None


MAX_DIGITS = 10
MAX_CONTRACT = Decimal(10) ** 9
MIN_TICK_INTERVAL = 0.01  # a finer random walk would keep a real-time clock busy catching up
MAX_TICK_INTERVAL = 86400.0
MAX_AMOUNT = Decimal(10) ** 15  # a desk's starting amount
# Start and tick times: the pre-history reaches about 17 years back, the clock must stay below 9999.
MIN_YEAR, MAX_YEAR = 1900, 9000


def check_instrument(inst: Instrument, where: str | Steps) -> None:
    """Refuse an instrument the platform cannot compute with (ScenarioError naming the field).

    `where` is the instrument's key path: a tuple of steps, or text (`snapshot instruments[0]`)."""

    def fail(name: str, reason: str, value: Any) -> ScenarioError:
        if isinstance(where, str):  # a snapshot's own wording
            return ScenarioError(f"{where}.{name} {reason}, not {value!r}")
        return ScenarioError.at((*where, name), reason, value)

    if isinstance(inst.digits, bool) or not 0 <= inst.digits <= MAX_DIGITS:
        raise fail("digits", f"must be a whole number from 0 to {MAX_DIGITS}", inst.digits)
    bounds = {
        "pip": (inst.pip, inst.quantum, MAX_PRICE), "contract_size": (inst.contract_size, None, MAX_CONTRACT),
        "spread": (inst.spread, Decimal(0), MAX_PRICE), "price": (inst.price, None, MAX_PRICE),
    }  # fmt: skip
    for name, (value, low, high) in bounds.items():
        if not value.is_finite() or value > high or (value < low if low is not None else value <= 0):
            floor = f">= {low}" if low is not None else "> 0"
            raise fail(name, f"must be {floor} and at most {high}", str(value))
    if not (math.isfinite(inst.volatility) and 0 <= inst.volatility <= 10):
        raise fail("volatility", "must be from 0 to 10", inst.volatility)
    if inst.depth is not None and not (inst.depth.is_finite() and 0 < inst.depth <= MAX_CONTRACT):
        raise fail("depth", f"must be > 0 and at most {MAX_CONTRACT}", str(inst.depth))


def _instruments(entries: Any) -> list[Instrument]:
    catalogue = {i.name.lower(): i for i in default_instruments()}
    if entries is None:
        return list(catalogue.values())
    for n, entry in enumerate(entries):
        where = ("instruments", n)
        base = catalogue.get(str(entry["name"]).lower())
        data = base.to_dict() if base else {}
        data.update({k: v for k, v in entry.items() if v is not None or k == "depth"})
        missing = [k for k in ("currency", "digits", "pip", "contract_size", "spread", "price") if k not in data]
        if missing:
            known = ", ".join(sorted(i.name for i in default_instruments()))
            raise ScenarioError.at(
                where,
                f"{entry['name']!r} is not in the catalogue ({known}), so it is new and needs {', '.join(missing)}",
            )
        for key in ("pip", "contract_size", "spread", "price"):
            if _decimal(data[key], (*where, key)) <= 0 and key != "spread":
                raise ScenarioError.at((*where, key), "must be > 0", data[key])
        try:
            inst = Instrument.from_dict(data)
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise ScenarioError.at(where, "is not a valid instrument", detail=str(exc)) from None
        check_instrument(inst, where)
        catalogue[inst.name.lower()] = inst
    return list(catalogue.values())


def _desks(entries: Any) -> dict[str, dict[str, Decimal]]:
    if entries is None:
        return {k: dict(v) for k, v in DEFAULT_DESKS.items()}
    desks: dict[str, dict[str, Decimal]] = {}
    for n, entry in enumerate(entries):
        amounts = {}
        for c, a in entry["currencies"].items():
            where = ("desks", n, "currencies", c)
            amount = _decimal(a, where)
            if not -MAX_AMOUNT <= amount <= MAX_AMOUNT:
                raise ScenarioError.at(where, f"must be at most {MAX_AMOUNT} either way", str(amount))
            amounts[str(c).upper()] = amount.quantize(Decimal("0.01"))
        desks[str(entry["name"])] = amounts
    return desks


def scenario_from_dict(data: Any, base_dir: Path | None = None, source: Source | None = None) -> Scenario:
    """Build a scenario from parsed YAML/JSON, checked whole against the shipped schema
    (`mock_common.schemas`, "scenario") and then for what a schema cannot say (the catalogue, the
    columns, the periods); relative tick paths resolve from `base_dir`. A refusal names `source`
    (a file, or the inline content's name), the line and column, the key path and the reason."""
    source = source if source is not None else inline("inline scenario")
    check(data, "scenario", ScenarioError, source)
    try:
        return _scenario(data, base_dir)
    except ScenarioError as exc:
        raise exc.within(source) from None


def _scenario(data: dict[str, Any], base_dir: Path | None) -> Scenario:
    scenario = Scenario(instruments=_instruments(data.get("instruments")), desks=_desks(data.get("desks")))
    names = {i.name.lower() for i in scenario.instruments}
    if data.get("seed") is not None:
        scenario.seed = int(data["seed"])
    if data.get("tick_interval") is not None:
        scenario.tick_interval = float(_decimal(data["tick_interval"], "tick_interval"))
        if not MIN_TICK_INTERVAL <= scenario.tick_interval <= MAX_TICK_INTERVAL:
            raise ScenarioError.at(
                "tick_interval",
                f"must be from {MIN_TICK_INTERVAL} to {MAX_TICK_INTERVAL:.0f} seconds",
                data["tick_interval"],
            )
    ticks = data.get("ticks")
    if ticks:
        path = Path(ticks)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        scenario.ticks = load_ticks(path, names)
    scenario.walk = bool(data.get("walk", not scenario.ticks and not data.get("history")))
    if data.get("start") is not None:
        scenario.start = _datetime(data["start"], "start")
    elif scenario.ticks:
        scenario.start = scenario.ticks[0].time
    if data.get("history"):
        apply_history(scenario, history_sources(data["history"]), base_dir)
        names = {i.name.lower() for i in scenario.instruments}
    windows = {w.lower(): w for w in WINDOWS}
    for window, columns in (data.get("hidden_columns") or {}).items():
        canonical = windows.get(str(window).lower())
        if canonical is None:
            hint = nearest(window, WINDOWS)
            reason = "unknown window" if hint else f"unknown window; the windows are {', '.join(WINDOWS)}"
            raise ScenarioError.at(("hidden_columns", window), reason, suggestion=hint, key=True)
        valid = {c.lower(): c for c in WINDOWS[canonical]}
        for n, c in enumerate(columns or []):
            if str(c).lower() not in valid:
                raise ScenarioError.at(
                    ("hidden_columns", window, n), f"must be a column of {canonical}", c,
                    suggestion=nearest(c, WINDOWS[canonical]),
                )  # fmt: skip
        scenario.hidden_columns[canonical] = [valid[str(c).lower()] for c in columns or []]
    for n, chart in enumerate(data.get("closed_charts") or []):
        inst, period = str(chart["instrument"]), canonical_period(str(chart["period"]))
        if inst.lower() not in names:
            raise ScenarioError.at(
                ("closed_charts", n, "instrument"), "must be an instrument of the catalogue", inst,
                suggestion=nearest(inst, [i.name for i in scenario.instruments]),
            )  # fmt: skip
        if period is None:
            periods = [p for p, _ in PERIODS.values()]
            raise ScenarioError.at(
                ("closed_charts", n, "period"), f"must be a chart period ({', '.join(periods)})", chart["period"],
                suggestion=nearest(chart["period"], periods),
            )  # fmt: skip
        scenario.closed_charts.append((inst, period))
    return scenario


def apply_history(scenario: Scenario, sources: dict[str, HistorySource], base_dir: Path | None = None) -> None:
    """Load the history files into `scenario`: each instrument takes its history's prices (and digits
    and spread); one the catalogue lacks is declared by its file. The start defaults to the moment
    every history has a price; a start outside the histories is refused."""
    catalogue = {i.name.lower(): i for i in scenario.instruments}
    for name, source in sources.items():
        key = name.lower()
        base = catalogue.get(key)
        if any(t.instrument.lower() == key for t in scenario.ticks):
            raise ScenarioError(f"history.{name}: the tick file also prices {name}; give it one source")
        history = load_history(source, base.digits if base is not None else None, base_dir)
        inst = history_instrument(base.name if base is not None else name, history, base, source.spread)
        check_instrument(inst, f"history.{name}")
        catalogue[key] = inst
        scenario.history[key] = history
    scenario.instruments = list(catalogue.values())
    first = max(h.first for h in scenario.history.values())
    end = min(h.last for h in scenario.history.values())
    if scenario.start is None:
        scenario.start = from_epoch(-(-first // 1))  # whole seconds, with every history priced
    start = to_epoch(scenario.start)
    for key, h in scenario.history.items():
        if not h.first <= start < end:
            raise ScenarioError(
                f"start {scenario.start.isoformat()} is outside the {catalogue[key].name} history "
                f"({h.source}: {h.describe()}); histories priced together run "
                f"{from_epoch(first).isoformat()} to {from_epoch(end).isoformat()}"
            )


def _history_entry(source: HistorySource) -> dict[str, Any]:
    """A history source as the scenario's `history` key writes it (fields left out when unset)."""
    entry = {f: getattr(source, f) for f in ("path", "format", "timezone", "digits") if getattr(source, f) is not None}
    return entry | ({"spread": str(source.spread)} if source.spread is not None else {})


def scenario_with_history(
    scenario: Scenario | str | Path | dict[str, Any] | None, history: Any
) -> Scenario | str | Path | dict[str, Any] | None:
    """`scenario` (None: the default one) with the `history` entries added (the scenario's `history`
    key's shape; relative paths from the working directory); without entries, `scenario` as it is."""
    if not history:
        return scenario
    sources = history_sources(history, "history=")
    sources = {k: replace(v, path=str(Path(v.path).resolve())) for k, v in sources.items()}
    if isinstance(scenario, dict):  # an inline scenario (a marker's, the control plane's)
        scenario = scenario_from_dict(scenario)
    if scenario is None or isinstance(scenario, (str, Path)):
        data: dict[str, Any] = {}
        base_dir = None
        if scenario is not None:
            path = Path(SCENARIOS.resolve(scenario))
            document = read_document(path, "scenario file", ScenarioError)
            data = {} if document.data is None else document.data
            check(data, "scenario", ScenarioError, document.source)
            base_dir = path.parent
        own = history_sources(data["history"]) if data.get("history") else {}
        if base_dir is not None:  # the scenario's own paths are relative to its file
            own = {k: replace(v, path=str(base_dir / v.path)) for k, v in own.items()}
        merged = {**own, **sources}
        data = {**data, "history": {k: _history_entry(v) for k, v in merged.items()}}
        result = scenario_from_dict(data, base_dir)
        result.source = None if scenario is None else str(scenario)
        return result
    result = replace(scenario, instruments=[deepcopy(i) for i in scenario.instruments], history=dict(scenario.history))
    apply_history(result, sources)
    return result


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (`.yaml`, `.yml` or `.json`), or a built-in one by name (`demo`, `day`)."""
    name = path if SCENARIOS.is_name(path) else None
    path = Path(SCENARIOS.resolve(path))
    document = read_document(path, "scenario file", ScenarioError)
    data = {} if document.data is None else document.data  # an empty file is the default scenario
    scenario = scenario_from_dict(data, path.parent, document.source)
    scenario.source = name or str(path)
    return scenario
