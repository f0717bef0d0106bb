"""The platform as keyed parts (mock_common.parts): its one encoder, and the tracker of its changes.

`describe` turns the platform's state (a `PlatformView`, which `Platform` takes under its lock)
into parts; the snapshot routes (snapshot.py regroups the parts into the snapshot mapping) and
the state file (`--state`) are both written from them. The parts:

- `clock`, `core` (seed, market timing, desks, message, columns, charts), `instruments`, `ids`
  (IDs issued that no record holds), `scenario` and `ticks` (what reset and the replay go back to);
- per instrument `series/<key>` (its quote, folds and walk position), `walk_rng/<key>` (the
  walk generator's words) and `points/<key>` (its price history, a point `[t, bid, weight]` each);
- per ID space `id_rng/<space>`: the generator as it was when `issued` IDs of the space had been
  drawn. The IDs drawn since are the records' own (in entry order), so the generator is derived
  by drawing them again (`derive_id_rng`), each checked against the record; the checkpoint moves
  every `ID_CHECKPOINT` IDs, so a new record writes no generator state;
- per record `order/<n>`, `position/<n>`, `trade/<n>` (n: the record's place in entry order).

A `Tracker` reports what changed since the changes it last had accepted, in time proportional to
the change: orders and positions change only while working or open, and the platform logs which
(`ChangeLog`); trades and new records are counted; a price series reports the span of points a
new tick appended or a fold rewrote; generator words change once every 624 draws. After a reset,
a new scenario or a restore (a new `generation`) everything is written again.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from mock_common.clock import Clock
from mock_common.parts import ALL_TIME, POINTS, ChangeLog, Changes, Span, clock_part, rng_from, rng_state, rng_words
from mock_common.persist import dumps, encoded, flat_dumps

from .market import Instrument, PriceSeries
from .model import OPEN, WORKING, Order, Position, Trade, draw_id
from .scenario import Scenario, Tick

SERIES, WALK, IDS, ORDER, POSITION, TRADE = "series/", "walk_rng/", "id_rng/", "order/", "position/", "trade/"
ID_SPACES = ("order", "position", "trade")
ID_CHECKPOINT = 256  # IDs drawn in a space before its generator's state is written again


class PlatformView(NamedTuple):
    """The platform's state as its codec reads it: references, taken under the platform's lock."""

    seed: int
    clock: Clock
    scenario: Scenario
    tick_interval: float
    walk: bool
    next_tick: float
    synced: float
    tick_index: int
    ticks: list[Tick]
    instruments: dict[str, Instrument]
    series: dict[str, PriceSeries]
    walk_rng: dict[str, random.Random]
    desks: dict[str, dict[str, Decimal]]
    orders: dict[str, Order]
    positions: dict[str, Position]
    trades: list[Trade]
    id_rng: dict[str, random.Random]
    issued: dict[str, set[str]]
    last_message: str
    columns: dict[str, list[str]]
    closed_charts: set[tuple[str, str]]
    log: ChangeLog  # ("order" | "position", ID) changed since entered; ("series", key) with a new price
    generation: int  # new after a reset, a new scenario or a restore


# ------------------------------------------------------------------------------ the scenario


def tick_data(ticks: list[Tick]) -> list[list[str]]:
    """Replayed ticks as JSON-ready data."""
    return [[t.time.isoformat(), t.instrument, str(t.bid), str(t.offer)] for t in ticks]


def scenario_to_data(sc: Scenario) -> dict[str, Any]:
    """A scenario as JSON-ready data (its ticks included), so a state file needs no other file."""
    return {
        "start": sc.start.isoformat() if sc.start else None,
        "seed": sc.seed,
        "tick_interval": sc.tick_interval,
        "walk": sc.walk,
        "desks": {d: {c: str(a) for c, a in cur.items()} for d, cur in sc.desks.items()},
        "instruments": [i.to_dict() for i in sc.instruments],
        "ticks": tick_data(sc.ticks),
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


# ------------------------------------------------------------------------------ the encoder


def _core(v: PlatformView) -> dict[str, Any]:
    return {
        "seed": v.seed, "tick_interval": v.tick_interval, "walk": v.walk, "next_tick": v.next_tick,
        "synced": v.synced, "tick_index": v.tick_index,
        "desks": {d: {c: str(a) for c, a in cur.items()} for d, cur in v.desks.items()},
        "last_message": v.last_message, "columns": {w: list(n) for w, n in v.columns.items()},
        "closed_charts": sorted([list(c) for c in v.closed_charts]),
    }  # fmt: skip


def _core_mark(v: PlatformView) -> tuple[Any, ...]:
    return (
        v.seed, v.tick_interval, v.walk, v.next_tick, v.synced, v.tick_index, v.last_message,
        [(d, list(cur.items())) for d, cur in v.desks.items()], [(w, list(n)) for w, n in v.columns.items()],
        frozenset(v.closed_charts),
    )  # fmt: skip


def _series_part(s: PriceSeries, walk: list[Any]) -> dict[str, Any]:
    return {
        "bid": str(s.bid), "offer": str(s.offer), "updated": s.updated, "folded": dict(s.folded), "walk": walk,
    }  # fmt: skip


def _points(s: PriceSeries, lo: int, hi: int) -> list[list[Any]]:
    times, bids, weights = s.times, s.bids, s.weights
    return [[times[i], str(bids[i]), weights[i]] for i in range(lo, hi)]


def _extra_ids(v: PlatformView) -> dict[str, list[str]]:
    """IDs issued that no record holds (none, unless a restored snapshot listed such): the records hold the rest."""
    held = {
        "order": set(v.orders), "position": set(v.positions), "trade": {t.trade_id for t in v.trades},
    }  # fmt: skip
    return {space: sorted(ids - held.get(space, set())) for space, ids in v.issued.items()}


def _id_checkpoint(v: PlatformView, space: str) -> dict[str, Any]:
    return {"state": rng_state(v.id_rng[space]), "issued": len(v.issued[space])}


def derive_id_rng(checkpoint: dict[str, Any], extra: list[str], held: list[str], where: str) -> random.Random:
    """The ID generator of a space: its `checkpoint` state, then the IDs the records hold since drawn again.

    `held` lists the IDs of the space's records in entry order (the order they were drawn in) and
    `extra` the IDs issued that no record holds (all drawn before the checkpoint). ValueError when a
    drawn ID is not the record's: the parts are not the platform's."""
    rng = rng_from(checkpoint["state"])
    done = int(checkpoint["issued"]) - len(extra)
    if not 0 <= done <= len(held):
        raise ValueError(f"{where}: {checkpoint['issued']} IDs issued at the checkpoint, but {len(held)} records")
    issued = {*extra, *held[:done]}
    for ident in held[done:]:
        while (candidate := draw_id(rng)) in issued:
            pass
        if candidate != ident:
            raise ValueError(f"{where}: the generator draws {candidate}, but the record holds {ident}")
        issued.add(candidate)
    return rng


def describe(v: PlatformView) -> dict[str, Any]:
    """The platform's whole state as keyed parts (JSON-ready)."""
    parts: dict[str, Any] = {
        "clock": v.clock.describe(),
        "core": _core(v),
        "instruments": [i.to_dict() for i in v.instruments.values()],
        "ids": _extra_ids(v),
        "scenario": scenario_to_data(v.scenario),
        "ticks": None if v.ticks == v.scenario.ticks else tick_data(v.ticks),
    }
    for key, s in v.series.items():
        words, walk = rng_words(v.walk_rng[key])
        parts[SERIES + key] = _series_part(s, walk)
        parts[WALK + key] = words
        parts[POINTS + key] = _points(s, 0, len(s.times))
    for space in v.id_rng:
        parts[IDS + space] = _id_checkpoint(v, space)
    for prefix, items in ((ORDER, v.orders.values()), (POSITION, v.positions.values()), (TRADE, v.trades)):
        for n, item in enumerate(items):
            parts[f"{prefix}{n:09d}"] = item.to_dict()
    return parts


# ------------------------------------------------------------------------------ the tracker


class _SeriesMark(NamedTuple):
    series: PriceSeries
    times: list[float]
    count: int
    last: float
    folded: dict[str, float]
    quote: tuple[Any, ...]


def _series_mark(s: PriceSeries) -> _SeriesMark:
    times = s.times
    return _SeriesMark(s, times, len(times), times[-1] if times else ALL_TIME[0], dict(s.folded),
                       (s.bid, s.offer, s.updated))  # fmt: skip


def _merged(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _series_spans(key: str, s: PriceSeries, mark: _SeriesMark | None) -> list[Span]:
    """The spans of points that changed since `mark`: what a new tick appended, what a fold rewrote."""
    times = s.times
    if mark is None or mark.series is not s or mark.times is not times:
        return [Span(POINTS + key, *ALL_TIME, _points(s, 0, len(times)))]  # a new series: all of it
    folded = s.folded
    if mark.count == len(times) and mark.folded == folded:
        return []
    # Points change only by a new tick at the end (from the last time written on) and by a fold of a
    # period, which rewrites the points between its last cut and its new one.
    ranges = [(mark.last, ALL_TIME[1])]
    for period, cut in folded.items():
        before = mark.folded.get(period, ALL_TIME[0])
        if cut != before:
            ranges.append((min(before, cut), max(before, cut)))
    spans = []
    for start, end in _merged(ranges):
        lo = bisect.bisect_left(times, start)
        hi = len(times) if end == ALL_TIME[1] else bisect.bisect_left(times, end)
        spans.append(Span(POINTS + key, start, end, _points(s, lo, hi)))
    return spans


def _order_final(order: Order) -> bool:
    return order.status != WORKING


def _record_text(item: Order | Position | Trade) -> str:
    """The JSON text of `item.to_dict()`, encoded from its fields directly (the commit's largest cost)."""
    return encoded(flat_dumps(vars(item)))


def _position_final(position: Position) -> bool:
    return position.status != OPEN


class Tracker:
    """What changed in a platform since the changes this tracker last had accepted (a state file's view)."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._texts: dict[str, str] = {}  # the JSON last written of parts compared whole
        self._marks: dict[str, Any] = {}  # cheap marks of the small parts: encoded again only when one moves
        self._series: dict[str, _SeriesMark] = {}
        self._words: dict[str, list[int]] = {}  # generator words last written
        self._checkpoints: dict[str, int] = {}  # IDs issued per space when its generator was last written
        self._counts = {ORDER: 0, POSITION: 0, TRADE: 0}
        self._live: dict[str, dict[str, int]] = {ORDER: {}, POSITION: {}}  # ID -> place, written while not final
        self._logged = 0  # the change log's count at the last write

    def changes(self, v: PlatformView, final: bool = False) -> Changes:
        """The parts and spans changed since the last accepted changes (everything after a new generation).

        The instruments, scenario and replayed ticks change only with a new generation; the rest
        is compared with what was written, by cheap marks first (a part is encoded only when its
        mark moved), or found through the platform's change log (orders, positions, price series)."""
        if v.generation != self._generation:
            clock, lease = clock_part(v.clock, final)
            return self._full(v, clock, lease)
        parts: dict[str, Any] = {}
        texts: dict[str, str] = {}
        marks: dict[str, Any] = {}

        def put(key: str, value: Any) -> None:
            text = dumps(value)
            if self._texts.get(key) != text:
                parts[key] = encoded(text)
                texts[key] = text

        lease = None
        clock_mark = (v.clock, v.clock.now(), final)  # a stopped clock: nothing to encode
        if self._marks.get("clock") != clock_mark:
            clock, lease = clock_part(v.clock, final)
            put("clock", clock)
            marks["clock"] = clock_mark
        core_mark = _core_mark(v)
        if self._marks.get("core") != core_mark:
            put("core", _core(v))
            marks["core"] = core_mark
        words: dict[str, list[int]] = {}
        checkpoints: dict[str, int] = {}
        for space, ids in v.issued.items():
            if len(ids) - self._checkpoints.get(space, 0) >= ID_CHECKPOINT:
                parts[IDS + space] = _id_checkpoint(v, space)
                checkpoints[space] = len(ids)
        spans: list[Span] = []
        series_marks: dict[str, _SeriesMark] = {}
        changed_log = v.log.since(self._logged)
        for key in dict.fromkeys(k for kind, k in changed_log if kind == "series"):  # type: ignore[misc]
            s = v.series[key]
            mark = self._series.get(key)
            changed = _series_spans(key, s, mark)
            if changed or mark is None or mark.quote != (s.bid, s.offer, s.updated):
                spans += changed
                series_marks[key] = _series_mark(s)
                now, walk = rng_words(v.walk_rng[key])  # the walk draws only with a new tick
                put(SERIES + key, _series_part(s, walk))
                if self._words.get(WALK + key) != now:
                    parts[WALK + key] = words[WALK + key] = now
        counts, live_add, live_drop = self._records(v, parts, changed_log)
        logged = v.log.count

        def accept() -> None:
            self._texts.update(texts)
            self._marks.update(marks)
            self._words.update(words)
            self._series.update(series_marks)
            self._checkpoints.update(checkpoints)
            self._counts.update(counts)
            for prefix, ident in live_drop:
                self._live[prefix].pop(ident, None)
            for prefix, ident, n in live_add:
                self._live[prefix][ident] = n
            self._logged = logged
            if lease is not None:  # a running clock, saved with its lease: it may run on to there
                v.clock.hold(lease)

        return Changes(full=False, parts=parts, spans=spans, on_accept=accept)

    def _records(
        self, v: PlatformView, parts: dict[str, Any], changed_log: list[Any]
    ) -> tuple[dict[str, int], list[tuple[str, str]], list[tuple[str, str, int]]]:
        """Orders and positions changed or entered, and trades made, since the last write."""
        live_add: list[tuple[str, str, int]] = []
        live_drop: list[tuple[str, str]] = []
        touched: dict[str, list[str]] = {ORDER: [], POSITION: []}
        for kind, ident in changed_log:
            if kind == "order" or kind == "position":
                touched[ORDER if kind == "order" else POSITION].append(ident)
        counts: dict[str, int] = {}
        groups: tuple[tuple[str, dict[str, Any], Callable[[Any], bool]], ...] = (
            (ORDER, v.orders, _order_final), (POSITION, v.positions, _position_final),
        )  # fmt: skip
        for prefix, items, final in groups:
            live = self._live[prefix]
            for ident in touched[prefix]:
                n = live.get(ident)
                if n is None:
                    continue  # entered since the last write: written below
                item = items[ident]
                parts[f"{prefix}{n:09d}"] = _record_text(item)
                if final(item):
                    live_drop.append((prefix, ident))
            start = self._counts[prefix]
            new = list(itertools.islice(reversed(items.values()), len(items) - start))[::-1]
            for n, item in enumerate(new, start):
                parts[f"{prefix}{n:09d}"] = _record_text(item)
                if not final(item):
                    live_add.append((prefix, item.order_id if prefix == ORDER else item.position_id, n))
            counts[prefix] = len(items)
        start = self._counts[TRADE]
        for n in range(start, len(v.trades)):
            parts[f"{TRADE}{n:09d}"] = _record_text(v.trades[n])
        counts[TRADE] = len(v.trades)
        return counts, live_add, live_drop

    def _full(self, v: PlatformView, clock: dict[str, Any], lease: datetime | None) -> Changes:
        parts = describe(v)
        parts["clock"] = clock
        texts = {key: dumps(parts[key]) for key in ("clock", "core")}
        texts.update({key: dumps(value) for key, value in parts.items() if key.startswith(SERIES)})
        words = {key: value for key, value in parts.items() if key.startswith(WALK)}
        marks = {key: _series_mark(s) for key, s in v.series.items()}
        checkpoints = {space: len(ids) for space, ids in v.issued.items()}
        live = {
            ORDER: {o.order_id: n for n, o in enumerate(v.orders.values()) if not _order_final(o)},
            POSITION: {p.position_id: n for n, p in enumerate(v.positions.values()) if not _position_final(p)},
        }
        counts = {ORDER: len(v.orders), POSITION: len(v.positions), TRADE: len(v.trades)}
        logged, generation = v.log.count, v.generation

        small = {"clock": (v.clock, v.clock.now(), False), "core": _core_mark(v)}

        def accept() -> None:
            self._generation, self._texts, self._words, self._series = generation, texts, words, marks
            self._marks = small
            self._checkpoints, self._live, self._counts, self._logged = checkpoints, live, counts, logged
            v.clock.hold(lease)

        return Changes(full=True, parts=parts, on_accept=accept)
