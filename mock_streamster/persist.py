"""The Streamster platform as rows of a state file (`--state`), written incrementally.

A full `Platform.snapshot()` is over a megabyte (the price histories) and grows with every
order, so writing it after each request would not keep up. Rows here follow the snapshot's
shape piece by piece: one per price series, random generator, order, position, trade and issued
ID, plus a `core` row for the small fields; a commit writes only the rows that changed. Filled,
cancelled, expired and rejected orders, closed positions and trades never change again, so they
are written once. `assemble` turns the rows back into exactly the mapping `snapshot()` returns,
which `Platform.restore` takes. This module reads the platform's private fields under its lock:
it is the platform's own persistence, kept apart from the business rules.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mock_common.clock import ClockMode, utc_now
from mock_common.persist import StateFile, StateFileError, dumps, encoded

from .errors import ScenarioError
from .market import Instrument, to_epoch
from .model import OPEN, WORKING
from .platform import Platform
from .scenario import Scenario, Tick
from .snapshot import rng_state, series_data

log = logging.getLogger(__name__)

API = "streamster"
_SERIES, _WALK, _IDS, _ORDER, _POSITION, _TRADE, _ISSUED = (
    "series/", "walk_rng/", "id_rng/", "order/", "position/", "trade/", "issued/",
)  # fmt: skip


# ------------------------------------------------------------------------------ the scenario


def scenario_to_data(sc: Scenario) -> dict[str, Any]:
    """A scenario as JSON-ready data (its ticks included), so a state file needs no other file."""
    return {
        "start": sc.start.isoformat() if sc.start else None,
        "seed": sc.seed,
        "tick_interval": sc.tick_interval,
        "walk": sc.walk,
        "desks": {d: {c: str(a) for c, a in cur.items()} for d, cur in sc.desks.items()},
        "instruments": [i.to_dict() for i in sc.instruments],
        "ticks": [[t.time.isoformat(), t.instrument, str(t.bid), str(t.offer)] for t in sc.ticks],
        "hidden_columns": {w: list(c) for w, c in sc.hidden_columns.items()},
        "closed_charts": [list(c) for c in sc.closed_charts],
        "source": sc.source,
    }


def scenario_from_data(data: dict[str, Any]) -> Scenario:
    """The scenario `scenario_to_data` wrote."""
    return Scenario(
        start=datetime.fromisoformat(data["start"]) if data["start"] else None,
        seed=data["seed"],
        tick_interval=float(data["tick_interval"]),
        walk=bool(data["walk"]),
        desks={d: {c: Decimal(a) for c, a in cur.items()} for d, cur in data["desks"].items()},
        instruments=[Instrument.from_dict(i) for i in data["instruments"]],
        ticks=[Tick(datetime.fromisoformat(t), n, Decimal(b), Decimal(o)) for t, n, b, o in data["ticks"]],
        hidden_columns={w: list(c) for w, c in data["hidden_columns"].items()},
        closed_charts=[(i, p) for i, p in data["closed_charts"]],
        source=data.get("source"),
    )


def saved_config(rows: dict[str, Any]) -> tuple[int, ClockMode, Scenario]:
    """(seed, clock mode, scenario) a state file was started with."""
    try:
        core = rows["core"]
        return int(core["seed"]), core["clock"], scenario_from_data(rows["scenario"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None


# ------------------------------------------------------------------------------ rows <-> platform


def _series_mark(s: Any) -> tuple[Any, ...]:
    # Every change goes through PriceSeries.set (a new point, price and time) or a fold (a new mark).
    return (len(s.times), s.times[-1] if s.times else None, s.updated, s.bid, s.offer, tuple(s.folded.items()))


class StreamsterState:
    """The `StateSource` of one platform: its state as rows, and which changed since the last write."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._refs: tuple[Any, ...] | None = None  # the containers written; a new one means a full write
        self._last: dict[str, str] = {}  # JSON of each row that can still change
        self._marks: dict[str, Any] = {}  # series marks and generator states
        self._counts = {_ORDER: 0, _POSITION: 0, _TRADE: 0}
        self._live: dict[str, dict[int, str]] = {_ORDER: {}, _POSITION: {}}  # row index -> ID, not final yet
        self._ids: dict[str, set[str]] = {}  # issued IDs written, per space

    def _core(self) -> dict[str, Any]:
        p = self.platform
        core: dict[str, Any] = {
            "seed": p.seed, "clock": p.clock.mode, "tick_interval": p.tick_interval, "walk": p.walk,
            "next_tick": p._next_tick, "synced": p._synced, "tick_index": p._tick_index,
            "instruments": [i.to_dict() for i in p.instruments.values()],
            "desks": {d: {c: str(a) for c, a in cur.items()} for d, cur in p.desks.items()},
            "last_message": p.last_message, "columns": {w: list(n) for w, n in p.columns.items()},
            "closed_charts": sorted([list(c) for c in p.closed_charts]),
        }  # fmt: skip
        if p.clock.mode == "virtual":
            core["now"] = p.clock.now().isoformat()
        else:  # real time moves on its own: keep only the clock's offset from it
            core["offset"] = round((p.clock.now() - utc_now()).total_seconds(), 3)
        return core

    def changes(self) -> tuple[bool, dict[str, Any], Any]:
        """The rows to write now (all of them after a reset, a new scenario or a restore)."""
        p = self.platform
        with p._lock:
            refs = (p.orders, p.positions, p.trades, p.series, p._issued, p._ticks, p.scenario, p._walk_rng, p._id_rng)
            full = self._refs is None or any(a is not b for a, b in zip(refs, self._refs, strict=True))
            last = {} if full else self._last
            marks = {} if full else self._marks
            counts = {k: 0 for k in self._counts} if full else self._counts
            live: dict[str, dict[int, str]] = {_ORDER: {}, _POSITION: {}} if full else self._live
            rows: dict[str, Any] = {}
            memo: dict[str, Any] = {"full": full, "refs": refs, "last": {}, "marks": {}, "counts": {},
                                    "live_add": [], "live_drop": [], "ids": {}}  # fmt: skip

            def put(key: str, value: Any, mutable: bool = True) -> None:
                text = dumps(value)
                if mutable:
                    if last.get(key) == text:
                        return
                    memo["last"][key] = text
                rows[key] = encoded(text)

            put("core", self._core())
            if full:
                put("scenario", scenario_to_data(p.scenario), mutable=False)
                same = p._ticks == p.scenario.ticks
                put("ticks", None if same else [[t.time.isoformat(), t.instrument, str(t.bid), str(t.offer)]
                                                 for t in p._ticks], mutable=False)  # fmt: skip
            for key, s in p.series.items():
                mark = _series_mark(s)
                if marks.get(_SERIES + key) != mark:
                    rows[_SERIES + key] = encoded(dumps(series_data(s)))
                    memo["marks"][_SERIES + key] = mark
            for prefix, rngs in ((_WALK, p._walk_rng), (_IDS, p._id_rng)):
                for key, rng in rngs.items():
                    state = rng.getstate()
                    if marks.get(prefix + key) != state:
                        rows[prefix + key] = encoded(dumps(rng_state(rng)))
                        memo["marks"][prefix + key] = state
            for prefix, items, final in ((_ORDER, p.orders, _order_final), (_POSITION, p.positions, _position_final)):
                for index, ident in live[prefix].items():
                    item = items[ident]
                    key = f"{prefix}{index:09d}"
                    mark = tuple(vars(item).values())  # immutable field values: a cheap "has it changed"
                    if marks.get(key) != mark:
                        put(key, item.to_dict())
                        memo["marks"][key] = mark
                    if final(item):
                        memo["live_drop"].append((prefix, index))
                start = counts[prefix]
                for index, (ident, item) in enumerate(itertools.islice(items.items(), start, None), start):
                    if final(item):
                        put(f"{prefix}{index:09d}", item.to_dict(), mutable=False)
                    else:
                        put(f"{prefix}{index:09d}", item.to_dict())
                        memo["marks"][f"{prefix}{index:09d}"] = tuple(vars(item).values())
                        memo["live_add"].append((prefix, index, ident))
                memo["counts"][prefix] = len(items)
            for index, trade in enumerate(itertools.islice(p.trades, counts[_TRADE], None), counts[_TRADE]):
                put(f"{_TRADE}{index:09d}", trade.to_dict(), mutable=False)
            memo["counts"][_TRADE] = len(p.trades)
            for space, ids in p._issued.items():
                known = set() if full else self._ids.get(space, set())
                if len(ids) != len(known):  # IDs are only ever added: write the new ones
                    new = ids - known
                    for ident in new:
                        rows[f"{_ISSUED}{space}/{ident}"] = 0
                    memo["ids"][space] = new
            return full, rows, memo

    def accepted(self, memo: Any) -> None:
        """Remember what the last write stored."""
        if memo["full"]:
            self._last, self._marks, self._ids = {}, {}, {}
            self._counts = {k: 0 for k in self._counts}
            self._live = {_ORDER: {}, _POSITION: {}}
        self._refs = memo["refs"]
        self._last.update(memo["last"])
        self._marks.update(memo["marks"])
        self._counts.update(memo["counts"])
        for prefix, index in memo["live_drop"]:
            self._live[prefix].pop(index, None)
            self._last.pop(f"{prefix}{index:09d}", None)
            self._marks.pop(f"{prefix}{index:09d}", None)
        for prefix, index, ident in memo["live_add"]:
            self._live[prefix][index] = ident
        for space, new in memo["ids"].items():
            self._ids.setdefault(space, set()).update(new)


def _order_final(order: Any) -> bool:
    return bool(order.status != WORKING)


def _position_final(position: Any) -> bool:
    return bool(position.status != OPEN)


def assemble(rows: dict[str, Any], clock: ClockMode) -> dict[str, Any]:
    """The `Platform.snapshot()` mapping the rows describe, its clock put in `clock` mode's terms.

    On a virtual clock time resumes where it stopped; on a real clock it is now (plus the offset
    the clock had been advanced by), and the market catches up on the first sync.
    """
    try:
        core = rows["core"]
        groups: dict[str, list[tuple[str, Any]]] = {}
        for key, value in rows.items():
            prefix, _, rest = key.partition("/")
            groups.setdefault(prefix + "/", []).append((rest, value))
        if "now" in core and clock == "virtual":
            now = core["now"]
        else:
            now = (utc_now() + timedelta(seconds=float(core.get("offset", 0.0)))).isoformat()
        ticks = rows["ticks"]
        if ticks is None:
            ticks = rows["scenario"]["ticks"]
        issued: dict[str, list[str]] = {space: [] for space, _ in groups.get(_IDS, [])}  # one space per generator
        for rest, _ in groups.get(_ISSUED, []):
            space, ident = rest.split("/", 1)
            issued.setdefault(space, []).append(ident)
        return {
            "version": 1, "seed": core["seed"], "now": now, "tick_interval": core["tick_interval"],
            "walk": core["walk"], "next_tick": core["next_tick"], "synced": core["synced"],
            "instruments": core["instruments"],
            "series": dict(groups.get(_SERIES, [])),
            "walk_rng": dict(groups.get(_WALK, [])),
            "ticks": ticks, "tick_index": core["tick_index"], "desks": core["desks"],
            "orders": [v for _, v in sorted(groups.get(_ORDER, []))],
            "positions": [v for _, v in sorted(groups.get(_POSITION, []))],
            "trades": [v for _, v in sorted(groups.get(_TRADE, []))],
            "id_rng": dict(groups.get(_IDS, [])),
            "issued": {space: sorted(ids) for space, ids in issued.items()},
            "last_message": core["last_message"], "columns": core["columns"], "closed_charts": core["closed_charts"],
        }  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None


def restore(platform: Platform, rows: dict[str, Any]) -> None:
    """Put `platform` in the saved state; on a real clock the market then catches up to now."""
    snapshot = assemble(rows, platform.clock.mode)
    try:
        platform.restore(snapshot)
    except ScenarioError as exc:
        raise StateFileError(str(exc)) from None
    behind = to_epoch(platform.clock.now()) - float(snapshot["synced"])
    if behind > 60:
        log.info("catching up %.0f seconds of market since the state was saved", behind)
    platform.advance(0)  # play the ticks missed while stopped (none on a virtual clock)


def open_state(
    path: Any, seed: int | None, clock: ClockMode | None, scenario: Any
) -> tuple[StateFile, int | None, ClockMode, Any, dict[str, Any] | None]:
    """Open a state file; (file, seed, clock, scenario, saved rows or None for a new file).

    A saved file holds its seed, scenario and clock: a seed or scenario given as well must agree
    with it (else StateFileError); a clock given explicitly wins (a real clock then catches up).
    """
    file = StateFile(path, API)
    rows = file.rows
    if rows is None:
        return file, seed, clock or "virtual", scenario, None
    try:
        saved_seed, saved_clock, saved_scenario = saved_config(rows)
        if scenario is not None:
            raise StateFileError(
                f"state file {str(path)!r} already holds its scenario ({saved_scenario.source or 'inline'}): "
                "start with the state file alone, or use a new file for another scenario"
            )
        if seed not in (None, 0, saved_seed):
            raise StateFileError(
                f"state file {str(path)!r} holds seed {saved_seed}, not {seed}: start with the state file alone"
            )
    except BaseException:
        file.close()
        raise
    return file, saved_seed, clock or saved_clock, saved_scenario, rows
