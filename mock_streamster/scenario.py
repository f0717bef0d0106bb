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

from mock_common.files import read_data_file
from mock_common.values import DecimalError, parse_datetime, parse_decimal

from .errors import ScenarioError
from .history import HistorySource, PriceHistory, history_instrument, history_sources, load_history
from .market import Instrument, canonical_period, default_instruments, from_epoch, to_epoch
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


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return parse_decimal(value)
    except DecimalError as exc:
        raise ScenarioError(f"{where} must be a {'finite ' if exc.number else ''}number, not {value!r}") from None


def _datetime(value: Any, where: str) -> datetime:
    try:
        when = parse_datetime(value)
    except (ValueError, OverflowError, OSError):
        raise ScenarioError(f"{where} must be an ISO date-time or Unix seconds, not {value!r}") from None
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise ScenarioError(f"{where} must be in the years {MIN_YEAR} to {MAX_YEAR}, not {value!r}")
    return when


def load_ticks(path: str | Path, known: set[str] | None = None) -> list[Tick]:
    """Read a tick CSV (time, instrument, bid, offer; a header row is optional), in time order."""
    ticks: list[Tick] = []
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"tick file {str(path)!r} cannot be read: {exc.strerror}") from None
    with handle:
        for lineno, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].strip().startswith("#"):
                continue
            if lineno == 1 and row[0].strip().lower() == "time":
                continue
            where = f"tick file {Path(path).name} line {lineno}"
            if len(row) < 3:
                raise ScenarioError(f"{where} needs time, instrument, bid[, offer], not {row!r}")
            bid = _decimal(row[2], f"{where} bid")
            offer = _decimal(row[3], f"{where} offer") if len(row) > 3 and row[3].strip() else bid
            if bid <= 0 or offer < bid:
                raise ScenarioError(f"{where}: bid must be > 0 and offer >= bid, not {row[2]!r}/{row[3:]!r}")
            name = row[1].strip()
            if known is not None and name.lower() not in known:
                raise ScenarioError(f"{where}: instrument {name!r} is not in the catalogue")
            ticks.append(Tick(_datetime(row[0], f"{where} time"), name, bid, offer))
    ticks.sort(key=lambda t: t.time)
    return ticks


MAX_DIGITS = 10
MAX_CONTRACT = Decimal(10) ** 9
MIN_TICK_INTERVAL = 0.01  # a finer random walk would keep a real-time clock busy catching up
MAX_TICK_INTERVAL = 86400.0
MAX_AMOUNT = Decimal(10) ** 15  # a desk's starting amount
# Start and tick times: the pre-history reaches about 17 years back, the clock must stay below 9999.
MIN_YEAR, MAX_YEAR = 1900, 9000


def check_instrument(inst: Instrument, where: str) -> None:
    """Refuse an instrument the platform cannot compute with (ScenarioError naming the field)."""
    if isinstance(inst.digits, bool) or not 0 <= inst.digits <= MAX_DIGITS:
        raise ScenarioError(f"{where}.digits must be a whole number from 0 to {MAX_DIGITS}, not {inst.digits!r}")
    bounds = {
        "pip": (inst.pip, inst.quantum, MAX_PRICE), "contract_size": (inst.contract_size, None, MAX_CONTRACT),
        "spread": (inst.spread, Decimal(0), MAX_PRICE), "price": (inst.price, None, MAX_PRICE),
    }  # fmt: skip
    for name, (value, low, high) in bounds.items():
        if not value.is_finite() or value > high or (value < low if low is not None else value <= 0):
            floor = f">= {low}" if low is not None else "> 0"
            raise ScenarioError(f"{where}.{name} must be {floor} and at most {high}, not {str(value)!r}")
    if not (math.isfinite(inst.volatility) and 0 <= inst.volatility <= 10):
        raise ScenarioError(f"{where}.volatility must be from 0 to 10, not {inst.volatility!r}")
    if inst.depth is not None and not (inst.depth.is_finite() and 0 < inst.depth <= MAX_CONTRACT):
        raise ScenarioError(f"{where}.depth must be > 0 and at most {MAX_CONTRACT}, not {str(inst.depth)!r}")


def _instruments(entries: Any) -> list[Instrument]:
    catalogue = {i.name.lower(): i for i in default_instruments()}
    if entries is None:
        return list(catalogue.values())
    if not isinstance(entries, list):
        raise ScenarioError(f"instruments must be a list, not {type(entries).__name__}")
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ScenarioError(f"instruments[{n}] must be a mapping with a name, not {entry!r}")
        base = catalogue.get(str(entry["name"]).lower())
        data = base.to_dict() if base else {}
        data.update({k: v for k, v in entry.items() if v is not None or k == "depth"})
        missing = [k for k in ("currency", "digits", "pip", "contract_size", "spread", "price") if k not in data]
        if missing:
            raise ScenarioError(f"instruments[{n}] ({entry['name']!r}) is new and needs {', '.join(missing)}")
        for key in ("pip", "contract_size", "spread", "price"):
            if _decimal(data[key], f"instruments[{n}].{key}") <= 0 and key != "spread":
                raise ScenarioError(f"instruments[{n}].{key} must be > 0, not {data[key]!r}")
        try:
            inst = Instrument.from_dict(data)
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise ScenarioError(f"instruments[{n}] ({entry['name']!r}) is invalid: {exc}") from None
        check_instrument(inst, f"instruments[{n}]")
        catalogue[inst.name.lower()] = inst
    return list(catalogue.values())


def _desks(entries: Any) -> dict[str, dict[str, Decimal]]:
    if entries is None:
        return {k: dict(v) for k, v in DEFAULT_DESKS.items()}
    if not isinstance(entries, list) or not entries:
        raise ScenarioError("desks must be a non-empty list of {name, currencies}")
    desks: dict[str, dict[str, Decimal]] = {}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ScenarioError(f"desks[{n}] must be a mapping with a name, not {entry!r}")
        currencies = entry.get("currencies")
        if not isinstance(currencies, dict) or not currencies:
            raise ScenarioError(f"desks[{n}].currencies must map currency to amount, not {currencies!r}")
        amounts = {str(c).upper(): _decimal(a, f"desks[{n}].currencies.{c}") for c, a in currencies.items()}
        for c, a in amounts.items():
            if not -MAX_AMOUNT <= a <= MAX_AMOUNT:
                raise ScenarioError(
                    f"desks[{n}].currencies.{c} must be at most {MAX_AMOUNT} either way, not {str(a)!r}"
                )
        desks[str(entry["name"])] = {c: a.quantize(Decimal("0.01")) for c, a in amounts.items()}
    return desks


def scenario_from_dict(data: dict[str, Any], base_dir: Path | None = None) -> Scenario:
    """Build a scenario from parsed YAML/JSON; relative tick paths resolve from `base_dir`."""
    if not isinstance(data, dict):
        raise ScenarioError(f"a scenario must be a mapping, not {type(data).__name__}")
    known_keys = {"start", "seed", "tick_interval", "walk", "desks", "instruments", "ticks",
                  "hidden_columns", "closed_charts", "history"}  # fmt: skip
    unknown = set(data) - known_keys
    if unknown:
        raise ScenarioError(f"unknown scenario key(s): {', '.join(sorted(unknown))}")
    scenario = Scenario(instruments=_instruments(data.get("instruments")), desks=_desks(data.get("desks")))
    names = {i.name.lower() for i in scenario.instruments}
    if data.get("seed") is not None:
        if not isinstance(data["seed"], int):
            raise ScenarioError(f"seed must be a whole number, not {data['seed']!r}")
        scenario.seed = data["seed"]
    if data.get("tick_interval") is not None:
        scenario.tick_interval = float(_decimal(data["tick_interval"], "tick_interval"))
        if not MIN_TICK_INTERVAL <= scenario.tick_interval <= MAX_TICK_INTERVAL:
            raise ScenarioError(
                f"tick_interval must be from {MIN_TICK_INTERVAL} to {MAX_TICK_INTERVAL:.0f} seconds, "
                f"not {data['tick_interval']!r}"
            )
    ticks = data.get("ticks")
    if ticks:
        if isinstance(ticks, str):
            path = Path(ticks)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            scenario.ticks = load_ticks(path, names)
        else:
            raise ScenarioError(f"ticks must be the path of a CSV file, not {ticks!r}")
    scenario.walk = bool(data.get("walk", not scenario.ticks and not data.get("history")))
    if data.get("start") is not None:
        scenario.start = _datetime(data["start"], "start")
    elif scenario.ticks:
        scenario.start = scenario.ticks[0].time
    if data.get("history") is not None:
        apply_history(scenario, history_sources(data["history"]), base_dir)
        names = {i.name.lower() for i in scenario.instruments}
    hidden = data.get("hidden_columns") or {}
    if not isinstance(hidden, dict):
        raise ScenarioError(f"hidden_columns must map a window to column names, not {hidden!r}")
    windows = {w.lower(): w for w in WINDOWS}
    for window, columns in hidden.items():
        canonical = windows.get(str(window).lower())
        if canonical is None:
            raise ScenarioError(f"hidden_columns: unknown window {window!r}; windows are {', '.join(WINDOWS)}")
        valid = {c.lower(): c for c in WINDOWS[canonical]}
        bad = [c for c in columns or [] if str(c).lower() not in valid]
        if bad:
            raise ScenarioError(f"hidden_columns.{canonical}: unknown column(s) {bad!r}")
        scenario.hidden_columns[canonical] = [valid[str(c).lower()] for c in columns or []]
    for n, chart in enumerate(data.get("closed_charts") or []):
        if not isinstance(chart, dict):
            raise ScenarioError(f"closed_charts[{n}] must be {{instrument, period}}, not {chart!r}")
        inst, period = str(chart.get("instrument", "")), canonical_period(str(chart.get("period", "")))
        if inst.lower() not in names:
            raise ScenarioError(f"closed_charts[{n}].instrument {inst!r} is not in the catalogue")
        if period is None:
            raise ScenarioError(f"closed_charts[{n}].period {chart.get('period')!r} is not a chart period")
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


def scenario_with_history(scenario: Scenario | str | Path | None, history: Any) -> Scenario | str | Path | None:
    """`scenario` (None: the default one) with the `history` entries added (the scenario's `history`
    key's shape; relative paths from the working directory); without entries, `scenario` as it is."""
    if not history:
        return scenario
    sources = history_sources(history, "history=")
    sources = {k: replace(v, path=str(Path(v.path).resolve())) for k, v in sources.items()}
    if scenario is None or isinstance(scenario, (str, Path)):
        data: dict[str, Any] = {}
        base_dir = None
        if scenario is not None:
            path = Path(scenario)
            data = read_data_file(path, "scenario file", ScenarioError) or {}
            base_dir = path.parent
        if not isinstance(data, dict):
            raise ScenarioError(f"a scenario must be a mapping, not {type(data).__name__}")
        own = history_sources(data["history"]) if data.get("history") else {}
        if base_dir is not None:  # the scenario's own paths are relative to its file
            own = {k: replace(v, path=str(base_dir / v.path)) for k, v in own.items()}
        merged = {**own, **sources}
        data = {**data, "history": {k: {f: getattr(v, f) for f in ("path", "format", "timezone", "digits")}
                                    | ({"spread": str(v.spread)} if v.spread is not None else {})
                                    for k, v in merged.items()}}  # fmt: skip
        result = scenario_from_dict(data, base_dir)
        result.source = None if scenario is None else str(scenario)
        return result
    result = replace(scenario, instruments=[deepcopy(i) for i in scenario.instruments], history=dict(scenario.history))
    apply_history(result, sources)
    return result


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (`.yaml`, `.yml` or `.json`)."""
    path = Path(path)
    scenario = scenario_from_dict(read_data_file(path, "scenario file", ScenarioError) or {}, path.parent)
    scenario.source = str(path)
    return scenario
