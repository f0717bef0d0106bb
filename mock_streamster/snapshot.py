"""The platform's snapshot: the snapshot routes' mapping made from the platform's parts, and read back.

`snapshot_from_parts` regroups the parts `parts.describe` encodes (or a state file kept) into the
snapshot mapping (contract §8, version 1); `read_snapshot` checks every field of such a mapping
(ScenarioError names the one at fault) and returns the platform attributes it describes, so
`Platform.restore` applies all of it or none.
"""

from __future__ import annotations

import math
from dataclasses import fields as dataclass_fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mock_common.parts import POINTS, rng_from, rng_state
from mock_common.values import DecimalError, parse_decimal

from . import model
from .errors import ScenarioError
from .market import Instrument, PriceSeries, canonical_period, to_epoch
from .model import Order, Position, Trade
from .order_input import MAX_PRICE, MAX_QUANTITY, MAX_VALUE, shown
from .parts import IDS, ORDER, POSITION, SERIES, TRADE, WALK, derive_id_rng
from .scenario import MAX_TICK_INTERVAL, MIN_TICK_INTERVAL, MIN_YEAR, Tick, check_instrument

MAX_RESTORE_TICKS = 6_324_480  # ticks a restored snapshot may be behind its clock: 366 days at 5 s
VERSION = 1


def snapshot_from_parts(parts: dict[str, Any]) -> dict[str, Any]:
    """The snapshot mapping (version 1) of the platform the parts describe; KeyError, TypeError or
    ValueError when a part is missing or of the wrong shape (read_snapshot then checks every value)."""
    core, clock = parts["core"], parts["clock"]
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, value in parts.items():
        prefix, _, rest = key.partition("/")
        groups.setdefault(prefix + "/", []).append((rest, value))
    series = {}
    for key, quote in groups.get(SERIES, []):
        points = parts[POINTS + key]
        series[key] = {
            "times": [p[0] for p in points], "bids": [p[1] for p in points], "weights": [p[2] for p in points],
            "folded": quote["folded"], "bid": quote["bid"], "offer": quote["offer"], "updated": quote["updated"],
        }  # fmt: skip
    walk_rng = {key: [3, [*words, parts[SERIES + key]["walk"][0]], parts[SERIES + key]["walk"][1]]
                for key, words in groups.get(WALK, [])}  # fmt: skip
    records = {prefix: [v for _, v in sorted(groups.get(prefix, []))] for prefix in (ORDER, POSITION, TRADE)}
    held = {
        "order": [o["order_id"] for o in records[ORDER]],
        "position": [p["position_id"] for p in records[POSITION]],
        "trade": [t["trade_id"] for t in records[TRADE]],
    }
    extra = parts["ids"]
    id_rng = {
        space: rng_state(derive_id_rng(checkpoint, extra[space], held.get(space, []), f"{IDS}{space}"))
        for space, checkpoint in groups.get(IDS, [])
    }
    ticks = parts["ticks"] if parts["ticks"] is not None else parts["scenario"]["ticks"]
    return {
        "version": VERSION, "seed": core["seed"], "now": clock["now"], "tick_interval": core["tick_interval"],
        "walk": core["walk"], "next_tick": core["next_tick"], "synced": core["synced"],
        "instruments": parts["instruments"], "series": series, "walk_rng": walk_rng, "ticks": ticks,
        "tick_index": core["tick_index"], "desks": core["desks"], "orders": records[ORDER],
        "positions": records[POSITION], "trades": records[TRADE], "id_rng": id_rng,
        "issued": {space: sorted({*held.get(space, []), *extra[space]}) for space in extra},
        "last_message": core["last_message"], "columns": core["columns"], "closed_charts": core["closed_charts"],
    }  # fmt: skip


# ----------------------------------------------------------------------------- reading a snapshot

_RECORD_ENUMS: dict[str, tuple[str, ...]] = {
    "side": model.SIDES, "phase": (model.ENTRY, model.EXIT), "price_type": model.PRICE_TYPES,
    "duration_type": model.DURATION_TYPES, "quantity_type": model.QUANTITY_TYPES,
}  # fmt: skip
_MONEY_FIELDS = ("points", "profit", "interest")
_OPTIONAL = ("text", "position_id")
_STATUSES = {
    Order: (model.WORKING, model.FILLED, model.CANCELLED, model.EXPIRED, model.REJECTED),
    Position: (model.OPEN, model.CLOSED), Trade: (model.EXECUTED,),
}  # fmt: skip


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"snapshot {where} must be a finite number, not {shown(value)}")
    return float(value)


def _finite(value: Any, where: str, low: Decimal | None = None, high: Decimal = MAX_VALUE) -> Decimal:
    try:
        result: Decimal | None = parse_decimal(value)
    except DecimalError:
        result = None
    if result is None or not -high <= result <= high or (low is not None and result < low):
        raise ScenarioError(f"snapshot {where} must be a number from {low} to {high}, not {shown(value)}")
    return result


def _record(cls: Any, data: Any, where: str, instruments: dict[str, Instrument], desks: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"snapshot {where} must be a mapping, not {shown(data)}")
    record = cls.from_dict(data)
    for f in dataclass_fields(cls):
        value = getattr(record, f.name)
        if f.name in cls._datetimes:
            if value is not None and value.tzinfo is not None:
                raise ScenarioError(f"snapshot {where}.{f.name} must be a UTC date-time without offset")
        elif f.name not in cls._decimals and not isinstance(value, str) and not (value is None and f.name in _OPTIONAL):
            raise ScenarioError(f"snapshot {where}.{f.name} must be text, not {shown(value)}")
    for name in cls._decimals:
        value = getattr(record, name)
        if value is not None:
            high = MAX_QUANTITY if "quantity" in name else MAX_VALUE if name in _MONEY_FIELDS else MAX_PRICE
            setattr(record, name, _finite(value, f"{where}.{name}", None, high))
    for name, allowed in _RECORD_ENUMS.items():
        if hasattr(record, name) and getattr(record, name) not in allowed:
            raise ScenarioError(
                f"snapshot {where}.{name} must be one of {', '.join(allowed)}, not {shown(data.get(name))}"
            )
    if record.status not in _STATUSES[cls]:
        raise ScenarioError(f"snapshot {where}.status must be one of {', '.join(_STATUSES[cls])}")
    if str(record.instrument).lower() not in instruments:
        raise ScenarioError(
            f"snapshot {where}.instrument {shown(record.instrument)} is not in the snapshot's catalogue"
        )
    if record.currency not in desks.get(record.desk, {}):
        raise ScenarioError(f"snapshot {where}: desk {shown(record.desk)} holds no {shown(record.currency)}")
    return record


def read_snapshot(data: Any) -> dict[str, Any]:
    """The platform attributes a snapshot describes, each checked (ScenarioError names what is wrong)."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ScenarioError("a snapshot must be the mapping snapshot() returned (version 1)")
    try:
        seed = data["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ScenarioError(f"snapshot seed must be a whole number, not {shown(seed)}")
        now = datetime.fromisoformat(data["now"])
        if now.tzinfo is not None or now.year > 9998:
            raise ScenarioError(
                f"snapshot now must be a UTC date-time without offset before 9999, not {shown(data['now'])}"
            )
        tick_interval = _number(data["tick_interval"], "tick_interval")
        if not MIN_TICK_INTERVAL <= tick_interval <= MAX_TICK_INTERVAL:
            raise ScenarioError(
                f"snapshot tick_interval must be from {MIN_TICK_INTERVAL} to {MAX_TICK_INTERVAL:.0f}, not {tick_interval!r}"
            )
        walk = data["walk"]
        if not isinstance(walk, bool):
            raise ScenarioError(f"snapshot walk must be true or false, not {shown(walk)}")
        next_tick, synced = _number(data["next_tick"], "next_tick"), _number(data["synced"], "synced")
        if not to_epoch(datetime(MIN_YEAR, 1, 1)) <= synced <= to_epoch(now) + 1:
            raise ScenarioError(f"snapshot synced {synced!r} must be a time up to now ({data['now']})")
        # The next random-walk tick is due within one interval of the time the market was brought up to;
        # catching up from there to now (a real clock restarted from a state file) plays at most a year
        # of ticks at the default interval.
        if walk and not synced - tick_interval <= next_tick <= synced + tick_interval:
            raise ScenarioError(f"snapshot next_tick {next_tick!r} is not within tick_interval of synced {synced!r}")
        if walk and (to_epoch(now) - synced) / tick_interval > MAX_RESTORE_TICKS:
            raise ScenarioError(
                f"snapshot synced {synced!r} is more than {MAX_RESTORE_TICKS} random-walk ticks before now"
            )
        instruments: dict[str, Instrument] = {}
        for n, entry in enumerate(data["instruments"]):
            inst = Instrument.from_dict(entry)
            check_instrument(inst, f"snapshot instruments[{n}]")
            instruments[inst.name.lower()] = inst
        if set(data["series"]) != set(instruments) or set(data["walk_rng"]) != set(instruments):
            raise ScenarioError("snapshot series and walk_rng must have one entry per instrument of the catalogue")
        series = {}
        for key, s in data["series"].items():
            where = f"series[{key!r}]"
            ps = PriceSeries(
                instruments[key],
                [_number(t, f"{where}.times") for t in s["times"]],
                [_finite(b, f"{where}.bids", Decimal(0), MAX_PRICE) for b in s["bids"]],
                weights=[int(w) for w in s.get("weights", [])],  # older snapshots: one tick a point
                folded={str(k): _number(v, f"{where}.folded") for k, v in s.get("folded", {}).items()},
            )
            ps.bid = _finite(s["bid"], f"{where}.bid", Decimal(0), MAX_PRICE)
            ps.offer = _finite(s["offer"], f"{where}.offer", ps.bid, MAX_PRICE)
            ps.updated = _number(s["updated"], f"{where}.updated")
            # Prices are recorded in time order, never after the time the market was brought up to.
            if ps.times != sorted(ps.times) or max(ps.times[-1:] + [ps.updated]) > synced:
                raise ScenarioError(f"snapshot {where}.times must be in order and not after synced")
            series[key] = ps
        walk_rng = {k: rng_from(v) for k, v in data["walk_rng"].items()}
        desks = {
            str(d): {str(c): _finite(a, f"desks[{d!r}][{c!r}]") for c, a in cur.items()}
            for d, cur in data["desks"].items()
        }
        ticks = []
        for n, (t, name, b, o) in enumerate(data["ticks"]):
            if str(name).lower() not in instruments:
                raise ScenarioError(f"snapshot ticks[{n}] instrument {shown(name)} is not in the catalogue")
            bid = _finite(b, f"ticks[{n}].bid", Decimal(0), MAX_PRICE)
            ticks.append(
                Tick(datetime.fromisoformat(t), str(name), bid, _finite(o, f"ticks[{n}].offer", bid, MAX_PRICE))
            )
        if [t.time for t in ticks] != sorted(t.time for t in ticks):
            raise ScenarioError("snapshot ticks must be in time order")
        tick_index = data["tick_index"]
        if isinstance(tick_index, bool) or not isinstance(tick_index, int) or not 0 <= tick_index <= len(ticks):
            raise ScenarioError(
                f"snapshot tick_index must be a whole number from 0 to {len(ticks)}, not {shown(tick_index)}"
            )
        orders = {}
        for n, o in enumerate(data["orders"]):
            order = _record(Order, o, f"orders[{n}]", instruments, desks)
            orders[order.order_id] = order
        positions = {}
        for n, p in enumerate(data["positions"]):
            position = _record(Position, p, f"positions[{n}]", instruments, desks)
            positions[position.position_id] = position
        trades = [_record(Trade, t, f"trades[{n}]", instruments, desks) for n, t in enumerate(data["trades"])]
        spaces = ("order", "position", "trade")
        if set(data["id_rng"]) != set(spaces) or set(data["issued"]) != set(spaces):
            raise ScenarioError(f"snapshot id_rng and issued must have exactly the ID spaces {', '.join(spaces)}")
        id_rng = {k: rng_from(v) for k, v in data["id_rng"].items()}
        issued = {k: {str(i) for i in v} for k, v in data["issued"].items()}
        last_message = data["last_message"]
        if not isinstance(last_message, str):
            raise ScenarioError(f"snapshot last_message must be text, not {shown(last_message)}")
        columns = data["columns"]
        if not isinstance(columns, dict) or set(columns) != set(model.WINDOWS):
            raise ScenarioError(
                f"snapshot columns must map each window ({', '.join(model.WINDOWS)}) to its visible columns"
            )
        for window, names in columns.items():
            if not isinstance(names, list) or not set(names) <= set(model.WINDOWS[window]):
                raise ScenarioError(f"snapshot columns.{window} must list columns of {window}, not {shown(names)}")
        closed_charts = set()
        for n, (i, p) in enumerate(data["closed_charts"]):
            if str(i) not in instruments or canonical_period(str(p)) != p:
                raise ScenarioError(f"snapshot closed_charts[{n}] {shown([i, p])} is not an instrument and period")
            closed_charts.add((str(i), str(p)))
    except ScenarioError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, InvalidOperation) as exc:
        raise ScenarioError(f"the snapshot is incomplete or damaged: {shown(repr(exc), False, 200)}") from None
    working: dict[str, list[str]] = {k: [] for k in instruments}
    open_: dict[str, list[str]] = {k: [] for k in instruments}
    for o in orders.values():
        if o.status == model.WORKING:
            working[o.instrument.lower()].append(o.order_id)
    for p in positions.values():
        if p.status == model.OPEN:
            open_[p.instrument.lower()].append(p.position_id)
    return {
        "now": now, "_seed_arg": seed, "instruments": instruments, "series": series, "_walk_rng": walk_rng,
        "tick_interval": tick_interval, "walk": walk, "_next_tick": next_tick, "_synced": synced, "_ticks": ticks,
        "_tick_index": tick_index, "desks": desks, "orders": orders, "positions": positions, "trades": trades,
        "_id_rng": id_rng, "_issued": issued, "last_message": last_message,
        "columns": {w: list(c) for w, c in columns.items()}, "closed_charts": closed_charts,
        "_working": working, "_open": open_,
    }  # fmt: skip
