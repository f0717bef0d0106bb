"""The simulated Streamster platform: desks, orders, positions, trades, messages, charts.

Plain Python, no wire: every public method takes the platform lock, first brings the market up to
the clock (ticks, fills, stops, expiries), then validates everything before it changes anything,
so a refused request (StreamsterError) leaves the state as it was.

`Platform` is the one front door and holds the one lock; its parts live beside it:
order_input.py (request fields, numeric bounds, the editable set), engine.py (fill, exit trigger,
points and profit, conversion rates as pure functions), parts.py (the state as keyed parts, and
what changed since a state file's last write), snapshot.py (the snapshot mapping, read back
checked), windows.py (columns and charts).
"""

from __future__ import annotations

import logging
import random
import threading
from copy import deepcopy
from datetime import datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from mock_common.clock import Clock, ClockMode
from mock_common.files import nearest
from mock_common.parts import ChangeLog, Changes

from . import engine
from .errors import ScenarioError, StreamsterError
from .history import HistoryMarket
from .market import Bar, Instrument, PriceSeries, from_epoch, to_epoch
from .model import (
    CANCELLED,
    CLOSED,
    ENTRY,
    EXECUTED,
    EXIT,
    EXPIRED,
    FILLED,
    OPEN,
    REJECTED,
    SIDES,
    WORKING,
    Order,
    Position,
    Quote,
    Trade,
    draw_id,
    sealed,
)  # fmt: skip
from .order_input import (
    CENT,
    OrderInput,
    check_levels,
    editable_fields,
    order_currency,
    order_text,
    plain,
    price_move,
    price_setting,
)  # fmt: skip
from .parts import PlatformView, Tracker, describe
from .scenario import Scenario, Tick, load_scenario, scenario_from_dict
from .snapshot import read_snapshot, snapshot_from_parts
from .windows import bars_period, chart_period, chosen_columns, initial_columns

log = logging.getLogger(__name__)

MAX_ADVANCE = 366 * 86400.0  # seconds one advance may move the clock
MAX_WALK_TICKS = 535_680  # random-walk ticks one advance may play: 31 days at the default 5 s

__all__ = ["CENT", "Platform", "plain"]  # CENT and plain: for the wire


R = TypeVar("R")


def _copy(record: R) -> R:
    """A shallow copy of a record: what dataclasses.replace gives, some 20 times cheaper (a bot polling
    GetPositions gets every position it ever held, on every call)."""
    new = object.__new__(type(record))
    new.__dict__.update(record.__dict__)
    return new


def _known(name: str, names: list[str], what: str, shown: int = 30) -> str:
    """`; did you mean 'EUR/USD'? The instruments are ...` for a fault naming an unknown one (the list cut at `shown`)."""
    hint = nearest(name, names)
    listing = ", ".join(sorted(names, key=str.lower)[:shown]) + (
        f" and {len(names) - shown} more" if len(names) > shown else ""
    )
    return (f"; did you mean {hint!r}?" if hint else "") + f" The {what} are {listing}."


class Platform:
    """The whole simulated platform; thread-safe behind one lock, deterministic for a seed."""

    def __init__(
        self,
        seed: int | None = None,
        clock: Clock | ClockMode = "virtual",
        scenario: Scenario | str | Path | dict[str, Any] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.clock = clock if isinstance(clock, Clock) else Clock(clock)
        # What reset() goes back to: the constructor's arguments, whatever was loaded since.
        self._initial_seed = seed
        self._initial_clock = (
            self.clock.mode,
            self.clock.now() if self.clock.mode == "virtual" else None,
            self.clock.speed,
        )
        self._seed_arg = seed
        self._generation = 0  # a new one for each build or restore: a state file then writes everything
        # get_positions' sealed copies of closed positions (those of one generation; see there).
        self._closed_generation = -1
        self._closed_run: list[Position] = []
        self._closed_copies: dict[str, Position] = {}
        # get_trades' sealed copies, one per trade made in this generation (a trade never changes).
        self._trades_generation = -1
        self._trade_copies: list[Trade] = []
        self.scenario = self._initial_scenario = self._as_scenario(scenario)
        self._build()

    # ----------------------------------------------------------------- building, reset, snapshots (codec: parts.py)

    @staticmethod
    def _as_scenario(scenario: Scenario | str | Path | dict[str, Any] | None) -> Scenario:
        if scenario is None:
            return Scenario()
        if isinstance(scenario, Scenario):
            return scenario
        if isinstance(scenario, dict):
            return scenario_from_dict(scenario)
        return load_scenario(scenario)

    @property
    def seed(self) -> int:
        """The seed in force: the constructor's, else the scenario's, else 0."""
        if self._seed_arg is not None:
            return self._seed_arg
        return self.scenario.seed if self.scenario.seed is not None else 0

    def _build(self) -> None:
        sc, seed = self.scenario, self.seed
        if sc.start is not None:
            self.clock.set(sc.start)
        t0 = to_epoch(self.clock.now().replace(microsecond=0))
        self.instruments: dict[str, Instrument] = {i.name.lower(): deepcopy(i) for i in sc.instruments}
        self.series: dict[str, PriceSeries] = {
            key: PriceSeries.create(inst, t0, seed) for key, inst in self.instruments.items()
        }
        self._walk_rng = {key: random.Random(f"walk:{seed}:{inst.name}") for key, inst in self.instruments.items()}
        # Price history files as a third price source (history.py): their instruments' series hold
        # the path's points, from the start of the day, so the quote's day figures come out right.
        self.history = HistoryMarket(sc.history, self.instruments, self._levels) if sc.history else None
        for key in sc.history:
            self.series[key] = PriceSeries(self.instruments[key])
            for t, bid, offer in self.history.seed(key, t0):  # type: ignore[union-attr]
                self.series[key].set(t, bid, offer)
        self.tick_interval = sc.tick_interval
        self.walk = sc.walk
        self._next_tick = t0 + self.tick_interval
        self._ticks: list[Tick] = list(sc.ticks)
        self._tick_index = 0
        while self._tick_index < len(self._ticks) and to_epoch(self._ticks[self._tick_index].time) <= t0:
            tick = self._ticks[self._tick_index]
            self.series[tick.instrument.lower()].set(t0, tick.bid, tick.offer)
            self._tick_index += 1
        self.desks: dict[str, dict[str, Decimal]] = {k: dict(v) for k, v in sc.desks.items()}
        self.orders: dict[str, Order] = {}
        self.positions: dict[str, Position] = {}
        self.trades: list[Trade] = []
        self._working: dict[str, list[str]] = {key: [] for key in self.instruments}
        self._open: dict[str, list[str]] = {key: [] for key in self.instruments}
        self._id_rng = {space: random.Random(f"ids:{seed}:{space}") for space in ("order", "position", "trade")}
        self._issued: dict[str, set[str]] = {space: set() for space in self._id_rng}
        self.last_message = ""
        self.columns: dict[str, list[str]] = initial_columns(sc.hidden_columns)
        self.closed_charts: set[tuple[str, str]] = {(i.lower(), p) for i, p in sc.closed_charts}
        self._synced = t0
        self._changed = ChangeLog()  # orders and positions changed after entry, series with new prices (state file)
        self._generation += 1

    def reset(self) -> None:
        """Back to what the constructor built: its seed, scenario and clock (a scenario loaded or a
        snapshot restored since is forgotten); prices, desks, orders and IDs as at start-up."""
        with self._lock:
            mode, start, speed = self._initial_clock
            self.clock = Clock(mode, start, speed=speed)
            self._seed_arg = self._initial_seed
            self.scenario = self._initial_scenario
            self._build()

    def configure(
        self,
        seed: int | None = None,
        clock: ClockMode = "virtual",
        scenario: Scenario | str | Path | dict[str, Any] | None = None,
    ) -> None:
        """Become what `Platform(seed, clock, scenario)` would be; reset() goes back to that from now on."""
        sc = self._as_scenario(scenario)  # a bad scenario raises before anything changes
        new_clock = Clock(clock)
        with self._lock:
            self._initial_seed = seed
            self._initial_clock = (new_clock.mode, new_clock.now() if new_clock.mode == "virtual" else None, None)
            self._initial_scenario = sc
            self.reset()

    def load_scenario(self, scenario: Scenario | str | Path | dict[str, Any]) -> None:
        """Play another scenario from its start (reset() goes back to the constructor's)."""
        new = self._as_scenario(scenario)
        with self._lock:
            self.scenario = new
            self.clock = self.clock.fresh()
            self._build()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-ready data; `restore` brings it back exactly."""
        with self._lock:
            self._sync()
            return snapshot_from_parts(describe(self._view()))

    def restore(self, data: dict[str, Any]) -> None:
        """Put the platform in the state `snapshot` returned; a bad snapshot changes nothing."""
        state = read_snapshot(data)  # all of it checked before any of it is applied
        with self._lock:
            self.clock.set(state.pop("now"))
            for name, value in state.items():
                setattr(self, name, value)
            self._changed = ChangeLog()
            self._generation += 1

    def describe(self) -> dict[str, Any]:
        """The whole state as keyed parts (mock_common.parts), as it stands: `restore_parts` takes them back."""
        with self._lock:
            return describe(self._view())

    def changes_since(self, tracker: Tracker, final: bool = False) -> Changes:
        """The parts changed since `tracker`'s last accepted changes (all of them for a new tracker)."""
        with self._lock:
            return tracker.changes(self._view(), final)

    def restore_parts(self, parts: dict[str, Any]) -> None:
        """Put the platform in the state the parts describe (`describe`'s, or a state file's); bad parts
        change nothing (ScenarioError says what is wrong)."""
        try:
            data = snapshot_from_parts(parts)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ScenarioError(f"the saved state is incomplete or damaged: {exc!r}") from None
        self.restore(data)

    def _view(self) -> PlatformView:
        return PlatformView(
            seed=self.seed, clock=self.clock, scenario=self.scenario, tick_interval=self.tick_interval,
            walk=self.walk, next_tick=self._next_tick, synced=self._synced, tick_index=self._tick_index,
            ticks=self._ticks, instruments=self.instruments, series=self.series, walk_rng=self._walk_rng,
            desks=self.desks, orders=self.orders, positions=self.positions, trades=self.trades,
            id_rng=self._id_rng, issued=self._issued, last_message=self.last_message, columns=self.columns,
            closed_charts=self.closed_charts, log=self._changed, generation=self._generation,
        )  # fmt: skip

    @property
    def generation(self) -> int:
        """A number that changes whenever the platform is built again or restored (a reset, a scenario
        loaded, a snapshot or state restored): what a reader caches from its records is valid for one."""
        return self._generation

    @property
    def lock(self) -> threading.RLock:
        """The one lock every public method takes (re-entrant): hold it to make several calls one."""
        return self._lock

    # ----------------------------------------------------------------- time and prices

    def now(self) -> datetime:
        """The platform clock's time, whole seconds."""
        return self.clock.now().replace(microsecond=0)

    @property
    def synced(self) -> float:
        """The time (epoch seconds) the market was last brought up to: every tick until then is played."""
        return self._synced

    def _sync(self) -> None:
        """Bring the market up to the clock: ticks in time order, with fills, exits and expiry."""
        now = to_epoch(self.clock.now())
        if now <= self._synced:
            return
        history = self.history
        if history is not None:
            history.begin(self._synced)
        while True:
            walk_at = self._next_tick if self.walk else float("inf")
            replay_at = (
                to_epoch(self._ticks[self._tick_index].time) if self._tick_index < len(self._ticks) else float("inf")
            )
            history_at, history_key = self._next_history_event() if history is not None else (float("inf"), "")
            t = min(walk_at, replay_at, history_at)
            if t > now:
                break
            self._expire(t)
            if history_at == t:
                _, bid, offer = history.next_event(history_key)  # type: ignore[union-attr,misc]
                history.played(history_key)  # type: ignore[union-attr]
                self._price(history_key, t, bid, offer)
            elif replay_at <= walk_at:
                tick = self._ticks[self._tick_index]
                self._tick_index += 1
                self._price(tick.instrument.lower(), t, tick.bid, tick.offer)
            else:
                self._next_tick += self.tick_interval
                for key in self.instruments:
                    self._price(key, t, self._walk(key))
        self._expire(now)
        if history is not None:  # a bar's price on its way between two path points
            for key in history.histories:
                quote = history.between(key, now)
                s = self.series[key]
                if quote is not None and quote != (s.bid, s.offer):
                    self._price(key, now, *quote)
        self._synced = now

    def _next_history_event(self) -> tuple[float, str]:
        """(time, instrument key) of the earliest history price event (time inf when none is left)."""
        best, best_key = float("inf"), ""
        for key in self.history.histories:  # type: ignore[union-attr]
            event = self.history.next_event(key)  # type: ignore[union-attr]
            if event is not None and event[0] < best:
                best, best_key = event[0], key
        return best, best_key

    def _levels(self, key: str, rising: bool, spread: Decimal) -> list[Decimal]:
        """Bids on `key` where a working order fills or an exit triggers (the history's sweeps stop there)."""
        return engine.trigger_levels(
            [self.orders[i] for i in self._working[key]], [self.positions[i] for i in self._open[key]], spread, rising
        )

    @property
    def history_end(self) -> datetime | None:
        """When the price history ends (None without one): after it, the API answers with a fault."""
        return None if self.history is None else from_epoch(self.history.end)

    def _walk(self, key: str) -> Decimal:
        inst, s = self.instruments[key], self.series[key]
        sigma = inst.volatility * (self.tick_interval / (365.25 * 86400)) ** 0.5
        step = Decimal(repr(self._walk_rng[key].gauss(0.0, sigma)))
        return max(inst.quantum, inst.round(s.bid * (1 + step)))

    def _price(self, key: str, t: float, bid: Decimal, offer: Decimal | None = None) -> None:
        self.series[key].set(t, bid, offer)
        self._changed.touch(("series", key))
        for order_id in list(self._working[key]):
            order = self.orders[order_id]
            self._try_fill(order, t)
        for position_id in list(self._open[key]):
            self._check_exits(self.positions[position_id], t)

    def _expire(self, t: float) -> None:
        for ids in self._working.values():
            for order_id in list(ids):
                order = self.orders[order_id]
                if engine.expired(order, t):
                    order.status, order.active_quantity = EXPIRED, Decimal(0)
                    ids.remove(order_id)
                    self._changed.touch(("order", order_id))
                    self.last_message = f"Order {order_id} expired at {order.duration.isoformat()}."

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and play every tick, fill, exit and expiry on the way."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_ADVANCE:
            raise ValueError(
                f"seconds must be a number from 0 to {MAX_ADVANCE:.0f} (366 days) per advance, not {seconds!r}"
            )
        with self._lock:
            if self.walk and seconds / self.tick_interval > MAX_WALK_TICKS:
                raise ValueError(
                    f"advancing {seconds!r} seconds would play {seconds / self.tick_interval:.0f} random-walk ticks "
                    f"(one every {self.tick_interval:g} s); one advance plays at most {MAX_WALK_TICKS}: advance in "
                    "smaller steps, or load a scenario without the walk"
                )
            if to_epoch(self.clock.now()) + seconds >= to_epoch(datetime(9999, 1, 1)):
                raise ValueError(f"advancing {seconds!r} seconds would take the clock past the year 9998")
            self.clock.advance(seconds)
            self._sync()
            return self.now()

    def set_price(self, instrument: str, bid: Any, offer: Any = None) -> None:
        """Set an instrument's price now (offer defaults to bid + spread); fills and exits follow."""
        with self._lock:
            self._sync()
            key, inst = self._instrument(instrument)
            b, o = price_setting(inst, bid, offer)
            self._price(key, max(self._synced, self.series[key].updated), b, o)

    def move_price(self, instrument: str, pips: Any) -> None:
        """Move bid and offer together by `pips` (negative = down)."""
        with self._lock:
            self._sync()
            key, inst = self._instrument(instrument)
            s = self.series[key]
            move = price_move(inst, pips, s.bid, s.offer)
            self._price(key, max(self._synced, s.updated), s.bid + move, s.offer + move)

    # ----------------------------------------------------------------- lookups

    def _instrument(self, name: str | None, field: str = "Instrument") -> tuple[str, Instrument]:
        if name is None or not str(name).strip():
            raise StreamsterError(f"{field} is required.")
        key = " ".join(str(name).split()).lower()
        inst = self.instruments.get(key)
        if inst is None:
            known = [i.name for i in self.instruments.values()]
            raise StreamsterError(
                f"{field} {str(name)!r} is not a known instrument{_known(str(name), known, 'instruments')}"
            )
        return key, inst

    def _desk(self, name: str | None) -> tuple[str, dict[str, Decimal]]:
        if name is None:
            raise StreamsterError("Desk is required.")
        for desk, currencies in self.desks.items():
            if desk.lower() == name.strip().lower():
                return desk, currencies
        raise StreamsterError(f"Desk {name!r} is not a known desk{_known(name, list(self.desks), 'desks')}")

    def _new_id(self, space: str) -> str:
        rng, issued = self._id_rng[space], self._issued[space]
        while True:
            candidate = draw_id(rng)
            if candidate not in issued:
                issued.add(candidate)
                return candidate

    def _rate(self, source: str, target: str) -> Decimal | None:
        """Units of `target` per unit of `source`, from the catalogue's mid prices (via USD)."""
        return engine.conversion_rate(source, target, self._mid)

    def _mid(self, name: str) -> Decimal | None:
        s = self.series.get(name.lower())
        return None if s is None else s.mid

    # ----------------------------------------------------------------- reads

    def get_quote(self, instrument: str) -> Quote:
        """The quote of one instrument (Rates window)."""
        with self._lock:
            self._sync()
            try:
                key, inst = self._instrument(instrument)
            except StreamsterError as exc:
                return self._refuse(exc)
            s = self.series[key]
            open_, high, low, close = s.day_stats(self._synced)
            close = close if close is not None else open_
            return Quote(
                last=s.bid, bid=s.bid, offer=s.offer, change=s.bid - close, high=high, low=low, open=open_,
                close=close, time=from_epoch(s.updated).replace(microsecond=0), currency=inst.currency,
                yield_=None, ask=s.offer,
            )  # fmt: skip

    def get_orders(self) -> list[Order]:
        """Every order, in the order entered."""
        with self._lock:
            self._sync()
            return [_copy(o) for o in self.orders.values()]

    def get_trades(self) -> list[Trade]:
        """Every trade, in the order executed.

        A trade never changes once made, so each is a sealed copy (model.sealed) made once and handed
        to every caller: a bot polling GetTrades all along a backtest pays for the new trades only."""
        with self._lock:
            self._sync()
            if self._trades_generation != self._generation:  # trades are only appended within one
                self._trades_generation, self._trade_copies = self._generation, []
            copies = self._trade_copies
            copies.extend(sealed(t) for t in islice(self.trades, len(copies), None))
            return copies.copy()

    def get_positions(self) -> list[Position]:
        """Every position, open and closed, in the order opened; open ones marked to market.

        An open position is a fresh copy; a closed one never changes again, so it is a sealed copy
        (model.sealed) made once and handed to every caller. The closed positions opened before
        any open one (most of them, on a long run) come as one list, without a look at each."""
        with self._lock:
            self._sync()
            if self._closed_generation != self._generation:
                self._closed_generation, self._closed_run, self._closed_copies = self._generation, [], {}
            run, copies = self._closed_run, self._closed_copies
            result = run.copy()
            leading = True  # still in the run of closed positions from the first
            for p in islice(self.positions.values(), len(run), None):
                if p.status == OPEN:
                    leading = False
                    p = _copy(p)
                    p.points, p.profit = self._pnl(p, self._exit_price(p))
                else:
                    found = copies.get(p.position_id)
                    if found is None:
                        found = copies[p.position_id] = sealed(p)
                    if leading:
                        run.append(found)
                    p = found
                result.append(p)
            return result

    def get_desks(self) -> list[tuple[str, str, Decimal]]:
        """(desk, currency, amount) for every currency of every desk."""
        with self._lock:
            self._sync()
            return [(d, c, a) for d, cur in self.desks.items() for c, a in cur.items()]

    def get_bars(self, instrument: str, period: str, options: str | None = "") -> list[Bar]:
        """200 bars of an open chart ending with the bar in progress; newest first unless 'f'."""
        with self._lock:
            self._sync()
            try:
                key, inst = self._instrument(instrument)
                canonical = bars_period(key, period, inst.name, self.closed_charts)
            except StreamsterError as exc:
                return self._refuse(exc)
            if self.history is not None and key in self.history.histories:
                try:
                    bars = self.history.bars(key, canonical, self._synced)
                except StreamsterError as exc:  # a period shorter than the history's bars
                    return self._refuse(exc)
            else:
                bars = self.series[key].bars(canonical, self._synced)
            return bars if (options or "").strip() == "f" else bars[::-1]

    def get_last_message(self) -> str:
        """The last error or warning shown; reading it clears it."""
        with self._lock:
            self._sync()
            message, self.last_message = self.last_message, ""
            return message

    def _refuse(self, exc: StreamsterError) -> Any:
        self.last_message = str(exc)
        raise exc

    # ----------------------------------------------------------------- trading

    def send_order(self, order: Any) -> str:
        """Validate and enter an order; MARKET (and marketable) orders fill at once. Returns its ID."""
        with self._lock:
            self._sync()
            try:
                f = OrderInput(order)
                key, inst = self._instrument(f.text("Instrument"))
                desk, currencies = self._desk(f.text("Desk"))
                side = f.enum("Side", SIDES, "BUY")
                currency = order_currency(f, desk, currencies, inst, self._rate)
                editable = self._editable(f, key, inst, side, currency, traded=Decimal(0))
            except StreamsterError as exc:
                return self._refuse(exc)
            now = from_epoch(self._synced).replace(microsecond=0)
            new = Order(
                order_id=self._new_id("order"), desk=desk, instrument=inst.name, side=side, phase=ENTRY,
                active_quantity=editable["quantity"], traded_quantity=Decimal(0), status=WORKING,
                position_id=None, currency=currency, entered=now, **editable,
            )  # fmt: skip
            self.orders[new.order_id] = new
            self._working[key].append(new.order_id)
            self._work(new)
            log.debug("order %s entered: %s %s %s", new.order_id, side, plain(new.quantity), inst.name)
            return new.order_id

    def change_order(self, order: Any) -> None:
        """Replace a working order's editable fields as a set (left out = default)."""
        with self._lock:
            self._sync()
            try:
                f = OrderInput(order)
                existing = self._order(f.text("OrderID"))
                key, inst = self._instrument(existing.instrument)
                editable = self._editable(
                    f, key, inst, existing.side, existing.currency, traded=existing.traded_quantity
                )
            except StreamsterError as exc:
                return self._refuse(exc)
            for name, value in editable.items():
                setattr(existing, name, value)
            existing.active_quantity = existing.quantity - existing.traded_quantity
            self._changed.touch(("order", existing.order_id))
            self._work(existing)

    def cancel_order(self, order_id: Any) -> None:
        """Cancel a working order."""
        with self._lock:
            self._sync()
            try:
                order = self._order(OrderInput({"OrderID": order_id}).text("OrderID"))
            except StreamsterError as exc:
                return self._refuse(exc)
            order.status, order.active_quantity = CANCELLED, Decimal(0)
            self._working[order.instrument.lower()].remove(order.order_id)
            self._changed.touch(("order", order.order_id))

    def change_position(self, position: Any) -> None:
        """Replace an open position's ExitStopLoss, ExitTarget and Text as a set (left out = removed)."""
        with self._lock:
            self._sync()
            try:
                f = OrderInput(position)
                pos = self._position(f.text("PositionID"))
                key, inst = self._instrument(pos.instrument)
                stop, target = f.price("ExitStopLoss", inst), f.price("ExitTarget", inst)
                market = self._exit_price(pos)
                check_levels(pos.side, market, stop, target, "the market price")
                text = order_text(f)
            except StreamsterError as exc:
                return self._refuse(exc)
            pos.exit_stop_loss, pos.exit_target, pos.text = stop, target, text
            self._changed.touch(("position", pos.position_id))

    def close_position(self, position_id: Any) -> None:
        """Close an open position at market; its realised profit goes to the desk."""
        with self._lock:
            self._sync()
            try:
                pos = self._position(OrderInput({"PositionID": position_id}).text("PositionID"))
            except StreamsterError as exc:
                return self._refuse(exc)
            self._close(pos, self._exit_price(pos), "MARKET", None)

    # ----------------------------------------------------------------- lookups of live records, the editable set

    def _order(self, order_id: str | None) -> Order:
        if order_id is None:
            raise StreamsterError("OrderID is required.")
        order = self.orders.get(order_id.upper())
        if order is None:
            raise StreamsterError(f"OrderID {order_id!r} is not a known order.")
        if order.status != WORKING:
            raise StreamsterError(
                f"Order {order.order_id} is {order.status}: only a Working order can be changed or cancelled."
            )
        return order

    def _position(self, position_id: str | None) -> Position:
        if position_id is None:
            raise StreamsterError("PositionID is required.")
        pos = self.positions.get(position_id.upper())
        if pos is None:
            raise StreamsterError(f"PositionID {position_id!r} is not a known position.")
        if pos.status != OPEN:
            raise StreamsterError(
                f"Position {pos.position_id} is {pos.status}: only an Open position can be changed or closed."
            )
        return pos

    def _editable(
        self, f: OrderInput, key: str, inst: Instrument, side: str, currency: str, traded: Decimal
    ) -> dict[str, Any]:
        """The editable set of an order against the quote and the time in force (SendOrder, ChangeOrder)."""
        s = self.series[key]
        return editable_fields(f, inst, side, currency, traded, (s.bid, s.offer), from_epoch(self._synced), self._rate)

    # ----------------------------------------------------------------- the matching engine (its rules: engine.py)

    def _work(self, order: Order) -> None:
        """After entry or change: fill what can fill now; IOC cancels the rest."""
        self._try_fill(order, self._synced)
        if order.status != WORKING:
            return
        inst = self.instruments[order.instrument.lower()]
        if order.duration_type == "IOC":
            self._end(order, CANCELLED, f"Order {order.order_id} (IOC) could not fill at once; the rest is cancelled.")
        elif order.price_type == "MARKET" and order.quantity_type == "FULL" and inst.depth is not None:
            self._end(
                order,
                REJECTED,
                f"Order {order.order_id} rejected: {plain(order.active_quantity)} exceeds the market depth {plain(inst.depth)} of {inst.name}.",
            )

    def _end(self, order: Order, status: str, message: str) -> None:
        order.status, order.active_quantity = status, Decimal(0)
        self._changed.touch(("order", order.order_id))
        self._working[order.instrument.lower()].remove(order.order_id)
        self.last_message = message

    def _try_fill(self, order: Order, t: float) -> None:
        key = order.instrument.lower()
        s = self.series[key]
        filled = engine.fill(order, self.instruments[key], s.bid, s.offer)
        if filled is not None:
            self._fill(order, filled[0], filled[1], t)

    def _fill(self, order: Order, quantity: Decimal, price: Decimal, t: float) -> None:
        when = from_epoch(t).replace(microsecond=0)
        position = Position(
            position_id=self._new_id("position"), desk=order.desk, instrument=order.instrument, side=order.side,
            open_price=price, currency=order.currency, quantity=quantity, points=Decimal(0), profit=Decimal("0.00"),
            exit_stop_loss=order.exit_stop_loss, exit_target=order.exit_target, entered=when, exited=None,
            status=OPEN, text=order.text, close_price=None, interest=Decimal("0.00"),
        )  # fmt: skip
        self.positions[position.position_id] = position
        self._open[order.instrument.lower()].append(position.position_id)
        self.trades.append(self._trade(order, ENTRY, order.side, price, quantity, when))
        order.traded_quantity += quantity
        order.active_quantity -= quantity
        order.position_id = position.position_id
        self._changed.touch(("order", order.order_id))
        if order.active_quantity <= 0:
            order.status = FILLED
            self._working[order.instrument.lower()].remove(order.order_id)

    def _trade(self, order: Order, phase: str, side: str, price: Decimal, qty: Decimal, when: datetime) -> Trade:
        return Trade(
            trade_id=self._new_id("trade"), desk=order.desk, instrument=order.instrument, side=side, phase=phase,
            price=price, quantity=qty, executed=when, status=EXECUTED, currency=order.currency, text=order.text,
            order_id=order.order_id,
        )  # fmt: skip

    def _exit_price(self, pos: Position) -> Decimal:
        s = self.series[pos.instrument.lower()]
        return engine.exit_price(pos.side, s.bid, s.offer)

    def _pnl(self, pos: Position, price: Decimal) -> tuple[Decimal, Decimal]:
        inst = self.instruments[pos.instrument.lower()]
        return engine.pnl(pos, price, inst, self._rate(inst.currency, pos.currency))

    def _check_exits(self, pos: Position, t: float) -> None:
        s = self.series[pos.instrument.lower()]
        exit_ = engine.exit_trigger(pos, s.bid, s.offer)
        if exit_ is not None:
            price_type, level, price = exit_
            self._close(pos, price, price_type, level, t)

    def _close(
        self, pos: Position, price: Decimal, price_type: str, level: Decimal | None, t: float | None = None
    ) -> None:
        """Close `pos` at `price` through a filled Exit order and its Exit trade."""
        t = self._synced if t is None else t
        when = from_epoch(t).replace(microsecond=0)
        side = "SELL" if pos.side == "BUY" else "BUY"
        # Everything that computes comes first: a failure here must leave no Exit order or trade behind.
        points, profit = self._pnl(pos, price)
        balance = self.desks[pos.desk][pos.currency] + profit
        exit_order = Order(
            order_id=self._new_id("order"), desk=pos.desk, instrument=pos.instrument, side=side, phase=EXIT,
            price_type=price_type, price=level, active_quantity=Decimal(0), traded_quantity=pos.quantity,
            exit_stop_loss=None, exit_target=None, status=FILLED, position_id=pos.position_id,
            currency=pos.currency, duration=None, duration_type="GTC", quantity=pos.quantity,
            quantity_type="FULL", text=pos.text, entered=when,
        )  # fmt: skip
        self.orders[exit_order.order_id] = exit_order
        self.trades.append(self._trade(exit_order, EXIT, side, price, pos.quantity, when))
        pos.points, pos.profit = points, profit
        pos.close_price, pos.exited, pos.status = price, when, CLOSED
        self._changed.touch(("position", pos.position_id))
        self._open[pos.instrument.lower()].remove(pos.position_id)
        self.desks[pos.desk][pos.currency] = balance

    # ----------------------------------------------------------------- columns and charts

    def set_columns(self, window: str, names: list[str]) -> list[str]:
        """Show exactly `names` in `window` (Rates, Orders, Trades, Positions); the rest are hidden."""
        with self._lock:
            canonical, shown_columns = chosen_columns(window, names)
            self.columns[canonical] = shown_columns
            return list(self.columns[canonical])

    def visible(self, window: str) -> frozenset[str]:
        """The columns currently shown in `window`."""
        with self._lock:
            return frozenset(self.columns[window])

    def _chart(self, instrument: str, period: str) -> tuple[str, str]:
        key, _ = self._instrument(instrument)
        return key, chart_period(period)

    def close_chart(self, instrument: str, period: str) -> None:
        """Close the chart: GetBars on it faults, as on the real platform."""
        with self._lock:
            self.closed_charts.add(self._chart(instrument, period))

    def open_chart(self, instrument: str, period: str) -> None:
        """Open the chart again."""
        with self._lock:
            self.closed_charts.discard(self._chart(instrument, period))
