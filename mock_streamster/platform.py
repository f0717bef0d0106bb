"""The simulated Streamster platform: desks, orders, positions, trades, messages, charts.

Plain Python, no wire: every public method takes the platform lock, first brings the market up to
the clock (ticks, fills, stops, expiries), then validates everything before it changes anything,
so a refused request (StreamsterError) leaves the state as it was.
"""

from __future__ import annotations

import logging
import math
import random
import string
import threading
from copy import deepcopy
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mock_common.clock import Clock, ClockMode

from .errors import ScenarioError, StreamsterError
from .market import Bar, Instrument, PriceSeries, canonical_period, from_epoch, to_epoch
from .model import (
    CANCELLED,
    CLOSED,
    DURATION_TYPES,
    ENTRY,
    EXECUTED,
    EXIT,
    EXPIRED,
    FILLED,
    OPEN,
    PRICE_TYPES,
    QUANTITY_TYPES,
    REJECTED,
    SIDES,
    WINDOWS,
    WORKING,
    Order,
    Position,
    Quote,
    Trade,
)  # fmt: skip
from .scenario import MAX_TICK_INTERVAL, MIN_TICK_INTERVAL, MIN_YEAR, Scenario, Tick, check_instrument, load_scenario

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
# The numbers the platform computes with. Every price, quantity, pip count and second a request
# carries is checked against these before anything is recorded: an accepted number must never
# make a later computation fail (a profit that no longer fits Decimal's 28 digits, a bar of
# a billion digits, a clock past the year 9999).
MAX_PRICE = Decimal(10) ** 9  # far above any market the platform quotes
MAX_QUANTITY = Decimal(10) ** 9
QUANTITY_PLACES = 8
MAX_PIPS = Decimal(10) ** 9
MAX_VALUE = Decimal(10) ** 22  # a position's worth at MAX_PRICE, in its desk currency
MAX_ADVANCE = 366 * 86400.0  # seconds one advance may move the clock
MAX_WALK_TICKS = 535_680  # random-walk ticks one advance may play: 31 days at the default 5 s
MAX_RESTORE_TICKS = 6_324_480  # ticks a restored snapshot may be behind its clock: 366 days at 5 s
ID_ALPHABET = string.ascii_uppercase + string.digits
MAX_TEXT = 1000
ORDER_EDITABLE = ("PriceType", "Price", "DurationType", "Duration", "Quantity", "QuantityType",
                  "ExitStopLoss", "ExitTarget", "Text")  # fmt: skip


def plain(value: Decimal) -> str:
    """Decimal as plain text: no exponent, no trailing zeros beyond what the value carries."""
    return format(value, "f")


def shown(value: Any, quote: bool = True, limit: int = 40) -> str:
    """`value` for an error message (quoted unless it is a number already parsed), cut to `limit`
    characters: a request may send a megabyte, and `plain` of 1e999999999 is a billion digits."""
    text = str(value)
    text = text if len(text) <= limit else text[:limit] + "..."
    return repr(text) if quote else text


class _Input:
    """The request's fields, looked up case-insensitively; empty text counts as left out."""

    def __init__(self, values: Any) -> None:
        if values is None:
            values = {}
        if not isinstance(values, dict):
            values = {k: getattr(values, k) for k in dir(values) if not k.startswith("_")}
        self._values = {str(k).lower(): v for k, v in values.items()}

    def text(self, name: str) -> str | None:
        value = self._values.get(name.lower())
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.isoformat()
        text = str(value).strip()
        return text or None

    def decimal(self, name: str) -> Decimal | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise StreamsterError(f"{name} {shown(text)} is not a decimal number.") from None
        if not value.is_finite():
            raise StreamsterError(f"{name} {shown(text)} is not a finite decimal number.")
        return value

    def price(self, name: str, inst: Instrument) -> Decimal | None:
        """A price rounded half-even to the instrument's digits; > 0 and within MAX_PRICE."""
        value = self.decimal(name)
        if value is None:
            return None
        if value <= 0:
            raise StreamsterError(f"{name} must be a price > 0, not {shown(self.text(name), False)}.")
        if value > MAX_PRICE:
            raise StreamsterError(
                f"{name} {shown(self.text(name), False)} is far outside any market: "
                f"prices are at most {plain(MAX_PRICE)}."
            )
        rounded = value.quantize(inst.quantum, rounding=ROUND_HALF_EVEN)
        if rounded <= 0:
            raise StreamsterError(
                f"{name} {shown(self.text(name), False)} is 0 at the {inst.digits} decimals of {inst.name}: "
                "a price must be > 0."
            )
        return rounded

    def quantity(self, name: str) -> Decimal | None:
        """A quantity > 0, at most MAX_QUANTITY, with at most QUANTITY_PLACES decimals."""
        value = self.decimal(name)
        if value is None:
            return None
        if value <= 0:
            raise StreamsterError(f"{name} must be greater than 0, not {shown(self.text(name), False)}.")
        if value > MAX_QUANTITY:
            raise StreamsterError(
                f"{name} {shown(self.text(name), False)} is more than the platform trades: "
                f"at most {plain(MAX_QUANTITY)}."
            )
        if value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
            raise StreamsterError(f"{name} {shown(self.text(name), False)} has more than {QUANTITY_PLACES} decimals.")
        return value.normalize()

    def enum(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        text = self.text(name)
        if text is None:
            return default
        if text.upper() not in allowed:
            raise StreamsterError(f"{name} {shown(text)} is not one of {', '.join(allowed)}.")
        return text.upper()

    def datetime(self, name: str) -> datetime | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise StreamsterError(f"{name} {shown(text)} is not a date-time (YYYY-MM-DDThh:mm:ss).") from None
        if when.tzinfo is not None:
            try:
                when = when.astimezone(timezone.utc).replace(tzinfo=None)
            except OverflowError:
                raise StreamsterError(f"{name} {shown(text)} is outside the years 1 to 9999 in UTC.") from None
        return when


class Platform:
    """The whole simulated platform; thread-safe behind one lock, deterministic for a seed."""

    def __init__(
        self,
        seed: int | None = None,
        clock: Clock | ClockMode = "virtual",
        scenario: Scenario | str | Path | None = None,
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
        self.scenario = self._initial_scenario = self._as_scenario(scenario)
        self._build()

    # ----------------------------------------------------------------- building and snapshots

    @staticmethod
    def _as_scenario(scenario: Scenario | str | Path | None) -> Scenario:
        if scenario is None:
            return Scenario()
        if isinstance(scenario, Scenario):
            return scenario
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
        self.columns: dict[str, list[str]] = {
            w: [c for c in cols if c not in sc.hidden_columns.get(w, [])] for w, cols in WINDOWS.items()
        }
        self.closed_charts: set[tuple[str, str]] = {(i.lower(), p) for i, p in sc.closed_charts}
        self._synced = t0

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
        self, seed: int | None = None, clock: ClockMode = "virtual", scenario: Scenario | str | Path | None = None
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
        from .scenario import scenario_from_dict

        new = scenario_from_dict(scenario) if isinstance(scenario, dict) else self._as_scenario(scenario)
        with self._lock:
            self.scenario = new
            self.clock = self.clock.fresh()
            self._build()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-ready data; `restore` brings it back exactly."""
        with self._lock:
            self._sync()
            return {
                "version": 1,
                "seed": self.seed,
                "now": self.clock.now().isoformat(),
                "tick_interval": self.tick_interval,
                "walk": self.walk,
                "next_tick": self._next_tick,
                "synced": self._synced,
                "instruments": [i.to_dict() for i in self.instruments.values()],
                "series": {
                    k: {
                        "times": list(s.times),  # copies: the snapshot must not follow the live state
                        "bids": [str(b) for b in s.bids],
                        "weights": list(s.weights),
                        "folded": dict(s.folded),
                        "bid": str(s.bid),
                        "offer": str(s.offer),
                        "updated": s.updated,
                    }
                    for k, s in self.series.items()
                },  # fmt: skip
                "walk_rng": {k: _rng_state(r) for k, r in self._walk_rng.items()},
                "ticks": [[t.time.isoformat(), t.instrument, str(t.bid), str(t.offer)] for t in self._ticks],
                "tick_index": self._tick_index,
                "desks": {d: {c: str(a) for c, a in cur.items()} for d, cur in self.desks.items()},
                "orders": [o.to_dict() for o in self.orders.values()],
                "positions": [p.to_dict() for p in self.positions.values()],
                "trades": [t.to_dict() for t in self.trades],
                "id_rng": {k: _rng_state(r) for k, r in self._id_rng.items()},
                "issued": {k: sorted(v) for k, v in self._issued.items()},
                "last_message": self.last_message,
                "columns": {w: list(names) for w, names in self.columns.items()},
                "closed_charts": sorted([list(c) for c in self.closed_charts]),
            }

    def restore(self, data: dict[str, Any]) -> None:
        """Put the platform in the state `snapshot` returned; a bad snapshot changes nothing."""
        state = _read_snapshot(data)  # all of it checked before any of it is applied
        with self._lock:
            self.clock.set(state.pop("now"))
            for name, value in state.items():
                setattr(self, name, value)

    # ----------------------------------------------------------------- time and prices

    def now(self) -> datetime:
        """The platform clock's time, whole seconds."""
        return self.clock.now().replace(microsecond=0)

    def _sync(self) -> None:
        """Bring the market up to the clock: ticks in time order, with fills, exits and expiry."""
        now = to_epoch(self.clock.now())
        if now <= self._synced:
            return
        while True:
            walk_at = self._next_tick if self.walk else float("inf")
            replay_at = (
                to_epoch(self._ticks[self._tick_index].time) if self._tick_index < len(self._ticks) else float("inf")
            )
            t = min(walk_at, replay_at)
            if t > now:
                break
            self._expire(t)
            if replay_at <= walk_at:
                tick = self._ticks[self._tick_index]
                self._tick_index += 1
                self._price(tick.instrument.lower(), t, tick.bid, tick.offer)
            else:
                self._next_tick += self.tick_interval
                for key in self.instruments:
                    self._price(key, t, self._walk(key))
        self._expire(now)
        self._synced = now

    def _walk(self, key: str) -> Decimal:
        inst, s = self.instruments[key], self.series[key]
        sigma = inst.volatility * (self.tick_interval / (365.25 * 86400)) ** 0.5
        step = Decimal(repr(self._walk_rng[key].gauss(0.0, sigma)))
        return max(inst.quantum, inst.round(s.bid * (1 + step)))

    def _price(self, key: str, t: float, bid: Decimal, offer: Decimal | None = None) -> None:
        self.series[key].set(t, bid, offer)
        for order_id in list(self._working[key]):
            order = self.orders[order_id]
            self._try_fill(order, t)
        for position_id in list(self._open[key]):
            self._check_exits(self.positions[position_id], t)

    def _expire(self, t: float) -> None:
        for ids in self._working.values():
            for order_id in list(ids):
                order = self.orders[order_id]
                if order.duration_type == "GTD" and order.duration is not None and to_epoch(order.duration) < t:
                    order.status, order.active_quantity = EXPIRED, Decimal(0)
                    ids.remove(order_id)
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
            fields = _Input({"Bid": bid, "Offer": offer})
            b = fields.decimal("Bid")
            o = fields.decimal("Offer")
            if b is None or b <= 0:
                raise StreamsterError(f"Bid must be a price > 0, not {shown(bid)}.")
            for name, value in (("Bid", b), ("Offer", o)):
                if value is not None and value > MAX_PRICE:
                    raise StreamsterError(
                        f"{name} {shown(fields.text(name), False)} is far outside any market: "
                        f"prices are at most {plain(MAX_PRICE)}."
                    )
                if value is not None and value != inst.round(value):
                    raise StreamsterError(
                        f"{name} {shown(fields.text(name), False)} has more than {inst.digits} decimals for {inst.name}."
                    )
            if o is not None and o < b:
                raise StreamsterError(f"Offer {shown(offer)} must not be below Bid {shown(bid)}.")
            if o is None and b + inst.spread > MAX_PRICE:
                raise StreamsterError(f"Bid {plain(b)} plus the spread is above {plain(MAX_PRICE)}.")
            self._price(key, max(self._synced, self.series[key].updated), b, o)

    def move_price(self, instrument: str, pips: Any) -> None:
        """Move bid and offer together by `pips` (negative = down)."""
        with self._lock:
            self._sync()
            key, inst = self._instrument(instrument)
            delta = _Input({"pips": pips}).decimal("pips")
            if delta is None:
                raise StreamsterError(f"pips must be a number, not {shown(pips)}.")
            if not -MAX_PIPS <= delta <= MAX_PIPS:  # compared, not abs(): abs() of 1e999999999 overflows
                raise StreamsterError(f"pips {shown(pips, False)} is more than {plain(MAX_PIPS)} pips either way.")
            s = self.series[key]
            move = inst.round(delta * inst.pip)
            if s.bid + move <= 0:
                raise StreamsterError(f"moving {inst.name} by {shown(pips, False)} pips would make its price <= 0.")
            if s.offer + move > MAX_PRICE:
                raise StreamsterError(
                    f"moving {inst.name} by {shown(pips, False)} pips would take its price above {plain(MAX_PRICE)}."
                )
            self._price(key, max(self._synced, s.updated), s.bid + move, s.offer + move)

    # ----------------------------------------------------------------- lookups

    def _instrument(self, name: str | None, field: str = "Instrument") -> tuple[str, Instrument]:
        if name is None or not str(name).strip():
            raise StreamsterError(f"{field} is required.")
        key = " ".join(str(name).split()).lower()
        inst = self.instruments.get(key)
        if inst is None:
            raise StreamsterError(f"{field} {str(name)!r} is not a known instrument.")
        return key, inst

    def _desk(self, name: str | None) -> tuple[str, dict[str, Decimal]]:
        if name is None:
            raise StreamsterError("Desk is required.")
        for desk, currencies in self.desks.items():
            if desk.lower() == name.strip().lower():
                return desk, currencies
        raise StreamsterError(f"Desk {name!r} is not a known desk.")

    def _new_id(self, space: str) -> str:
        rng, issued = self._id_rng[space], self._issued[space]
        while True:
            candidate = "".join(rng.choice(ID_ALPHABET) for _ in range(9))
            if candidate not in issued:
                issued.add(candidate)
                return candidate

    def _rate(self, source: str, target: str) -> Decimal | None:
        """Units of `target` per unit of `source`, from the catalogue's mid prices (via USD)."""
        if source == target:
            return Decimal(1)
        direct = self.series.get(f"{source}/{target}".lower())
        if direct is not None:
            return direct.mid
        inverse = self.series.get(f"{target}/{source}".lower())
        if inverse is not None:
            return Decimal(1) / inverse.mid
        if "USD" not in (source, target):
            a, b = self._rate(source, "USD"), self._rate("USD", target)
            if a is not None and b is not None:
                return a * b
        return None

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
            return [replace(o) for o in self.orders.values()]

    def get_trades(self) -> list[Trade]:
        """Every trade, in the order executed."""
        with self._lock:
            self._sync()
            return [replace(t) for t in self.trades]

    def get_positions(self) -> list[Position]:
        """Every position, open and closed, in the order opened; open ones marked to market."""
        with self._lock:
            self._sync()
            result = []
            for p in self.positions.values():
                p = replace(p)
                if p.status == OPEN:
                    p.points, p.profit = self._pnl(p, self._exit_price(p))
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
                if period is None or not str(period).strip():
                    raise StreamsterError("Period is required.")
                canonical = canonical_period(period)
                if canonical is None:
                    raise StreamsterError(
                        f"Period {period!r} is not one of 5 Minutes, 15 Minutes, 30 Minutes, Hourly, "
                        "4 Hours, Daily, Weekly, Monthly."
                    )
                if (key, canonical) in self.closed_charts:
                    raise StreamsterError(
                        f"No {canonical} chart of {inst.name} is open: bars can only be retrieved for "
                        "an instrument and period shown in a Charting window."
                    )
            except StreamsterError as exc:
                return self._refuse(exc)
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
                f = _Input(order)
                key, inst = self._instrument(f.text("Instrument"))
                desk, currencies = self._desk(f.text("Desk"))
                side = f.enum("Side", SIDES, "BUY")
                currency = self._currency(f, desk, currencies, inst)
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
                f = _Input(order)
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
            self._work(existing)

    def cancel_order(self, order_id: Any) -> None:
        """Cancel a working order."""
        with self._lock:
            self._sync()
            try:
                order = self._order(_Input({"OrderID": order_id}).text("OrderID"))
            except StreamsterError as exc:
                return self._refuse(exc)
            order.status, order.active_quantity = CANCELLED, Decimal(0)
            self._working[order.instrument.lower()].remove(order.order_id)

    def change_position(self, position: Any) -> None:
        """Replace an open position's ExitStopLoss, ExitTarget and Text as a set (left out = removed)."""
        with self._lock:
            self._sync()
            try:
                f = _Input(position)
                pos = self._position(f.text("PositionID"))
                key, inst = self._instrument(pos.instrument)
                stop, target = f.price("ExitStopLoss", inst), f.price("ExitTarget", inst)
                market = self._exit_price(pos)
                self._check_levels(pos.side, market, stop, target, "the market price")
                text = self._text(f)
            except StreamsterError as exc:
                return self._refuse(exc)
            pos.exit_stop_loss, pos.exit_target, pos.text = stop, target, text

    def close_position(self, position_id: Any) -> None:
        """Close an open position at market; its realised profit goes to the desk."""
        with self._lock:
            self._sync()
            try:
                pos = self._position(_Input({"PositionID": position_id}).text("PositionID"))
            except StreamsterError as exc:
                return self._refuse(exc)
            self._close(pos, self._exit_price(pos), "MARKET", None)

    # ----------------------------------------------------------------- validation helpers

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

    def _currency(self, f: _Input, desk: str, currencies: dict[str, Decimal], inst: Instrument) -> str:
        given = f.text("Currency")
        if given is None:
            if len(currencies) > 1:
                raise StreamsterError(f"Currency is required: desk {desk!r} holds {', '.join(currencies)}.")
            currency = next(iter(currencies))
        else:
            currency = given.upper()
            if currency not in currencies:
                raise StreamsterError(f"Currency {given!r} is not held by desk {desk!r} ({', '.join(currencies)}).")
        if self._rate(inst.currency, currency) is None:
            raise StreamsterError(
                f"Currency {currency!r}: no rate converts {inst.currency} profits of {inst.name} into it."
            )
        return currency

    @staticmethod
    def _check_levels(side: str, reference: Decimal, stop: Decimal | None, target: Decimal | None, what: str) -> None:
        ref = plain(reference)
        if side == "BUY":
            if stop is not None and stop >= reference:
                raise StreamsterError(f"ExitStopLoss {plain(stop)} of a BUY must be below {what} {ref}.")
            if target is not None and target <= reference:
                raise StreamsterError(f"ExitTarget {plain(target)} of a BUY must be above {what} {ref}.")
        else:
            if stop is not None and stop <= reference:
                raise StreamsterError(f"ExitStopLoss {plain(stop)} of a SELL must be above {what} {ref}.")
            if target is not None and target >= reference:
                raise StreamsterError(f"ExitTarget {plain(target)} of a SELL must be below {what} {ref}.")

    @staticmethod
    def _text(f: _Input) -> str | None:
        text = f.text("Text")
        if text is not None and len(text) > MAX_TEXT:
            raise StreamsterError(f"Text is {len(text)} characters long; at most {MAX_TEXT} are allowed.")
        return text

    def _check_value(self, quantity: Decimal, inst: Instrument, currency: str) -> None:
        """Refuse a quantity whose position could be worth more than the platform computes with."""
        rate = self._rate(inst.currency, currency) or Decimal(1)
        if quantity * inst.contract_size * MAX_PRICE * rate > MAX_VALUE:
            raise StreamsterError(
                f"Quantity {plain(quantity)} of {inst.name} is too large: at a price of {plain(MAX_PRICE)} the "
                f"position would be worth more than {plain(MAX_VALUE)} {currency}, beyond what the platform computes."
            )

    def _editable(
        self, f: _Input, key: str, inst: Instrument, side: str, currency: str, traded: Decimal
    ) -> dict[str, Any]:
        """Parse the editable set of an order (SendOrder and ChangeOrder share it).

        Prices come back rounded half-even to the instrument's digits; the side checks use the rounded values.
        """
        price_type = f.enum("PriceType", PRICE_TYPES, "MARKET")
        duration_type = f.enum("DurationType", DURATION_TYPES, "GTC")
        quantity_type = f.enum("QuantityType", QUANTITY_TYPES, "FULL")
        quantity = f.quantity("Quantity")
        if quantity is None:
            raise StreamsterError("Quantity is required.")
        if quantity <= traded:
            raise StreamsterError(f"Quantity {plain(quantity)} must exceed the {plain(traded)} already traded.")
        self._check_value(quantity, inst, currency)
        price = f.price("Price", inst)
        if price_type != "MARKET" and price is None:
            raise StreamsterError(f"Price is required for a {price_type} order.")
        if price_type == "MARKET":
            price = None  # a market order has no price of its own
        duration = f.datetime("Duration")
        if duration_type == "GTD":
            if duration is None:
                raise StreamsterError("Duration is required for a GTD order.")
            now = from_epoch(self._synced)
            if duration <= now:
                raise StreamsterError(
                    f"Duration {duration.isoformat()} is not in the future (now {now.replace(microsecond=0).isoformat()})."
                )
        else:
            duration = None
        stop, target = f.price("ExitStopLoss", inst), f.price("ExitTarget", inst)
        s = self.series[key]
        entry = price if price is not None else (s.offer if side == "BUY" else s.bid)
        self._check_levels(side, entry, stop, target, "the entry price")
        return {
            "price_type": price_type, "price": price, "duration_type": duration_type, "duration": duration,
            "quantity": quantity, "quantity_type": quantity_type, "exit_stop_loss": stop,
            "exit_target": target, "text": self._text(f),
        }  # fmt: skip

    # ----------------------------------------------------------------- the matching engine

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
        self._working[order.instrument.lower()].remove(order.order_id)
        self.last_message = message

    def _try_fill(self, order: Order, t: float) -> None:
        key = order.instrument.lower()
        inst, s = self.instruments[key], self.series[key]
        buy = order.side == "BUY"
        market = s.offer if buy else s.bid
        limit = order.price
        if order.price_type == "LIMIT":
            assert limit is not None
            if not (market <= limit if buy else market >= limit):
                return
        elif order.price_type == "STOP":
            assert limit is not None
            if not (market >= limit if buy else market <= limit):
                return
        quantity = order.active_quantity
        if inst.depth is not None and quantity > inst.depth:
            if order.quantity_type == "FULL":
                return
            quantity = inst.depth
        self._fill(order, quantity, market, t)

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
        return s.bid if pos.side == "BUY" else s.offer

    def _pnl(self, pos: Position, price: Decimal) -> tuple[Decimal, Decimal]:
        inst = self.instruments[pos.instrument.lower()]
        move = price - pos.open_price if pos.side == "BUY" else pos.open_price - price
        # Points keep the decimals a price move can have in pips (EUR/USD: 1, Dow Jones: 2).
        places = max(0, inst.digits + int(inst.pip.as_tuple().exponent))
        points = (move / inst.pip).quantize(Decimal(1).scaleb(-places))
        rate = self._rate(inst.currency, pos.currency) or Decimal(1)
        profit = (move * pos.quantity * inst.contract_size * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        return points, profit

    def _check_exits(self, pos: Position, t: float) -> None:
        price = self._exit_price(pos)
        stop, target = pos.exit_stop_loss, pos.exit_target
        if pos.side == "BUY":
            hit_stop = stop is not None and price <= stop
            hit_target = target is not None and price >= target
        else:
            hit_stop = stop is not None and price >= stop
            hit_target = target is not None and price <= target
        if hit_stop:
            self._close(pos, price, "STOP", stop, t)
        elif hit_target:
            self._close(pos, price, "LIMIT", target, t)

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
        self._open[pos.instrument.lower()].remove(pos.position_id)
        self.desks[pos.desk][pos.currency] = balance

    # ----------------------------------------------------------------- columns and charts

    def set_columns(self, window: str, names: list[str]) -> list[str]:
        """Show exactly `names` in `window` (Rates, Orders, Trades, Positions); the rest are hidden."""
        with self._lock:
            canonical = next((w for w in WINDOWS if w.lower() == str(window).lower()), None)
            if canonical is None:
                raise StreamsterError(f"window {window!r} is not one of {', '.join(WINDOWS)}.")
            if isinstance(names, str) or not isinstance(names, (list, tuple)):
                raise StreamsterError(f"columns must be a list of names, not {names!r}.")
            valid = {c.lower(): c for c in WINDOWS[canonical]}
            bad = [n for n in names if str(n).lower() not in valid]
            if bad:
                raise StreamsterError(
                    f"{canonical} has no column(s) {bad!r}; its columns are {', '.join(valid.values())}."
                )
            wanted = {str(n).lower() for n in names}
            self.columns[canonical] = [c for c in WINDOWS[canonical] if c.lower() in wanted]
            return list(self.columns[canonical])

    def visible(self, window: str) -> frozenset[str]:
        """The columns currently shown in `window`."""
        with self._lock:
            return frozenset(self.columns[window])

    def _chart(self, instrument: str, period: str) -> tuple[str, str]:
        key, _ = self._instrument(instrument)
        canonical = canonical_period(period)
        if canonical is None:
            raise StreamsterError(f"period {period!r} is not a chart period.")
        return key, canonical

    def close_chart(self, instrument: str, period: str) -> None:
        """Close the chart: GetBars on it faults, as on the real platform."""
        with self._lock:
            self.closed_charts.add(self._chart(instrument, period))

    def open_chart(self, instrument: str, period: str) -> None:
        """Open the chart again."""
        with self._lock:
            self.closed_charts.discard(self._chart(instrument, period))

    def desk_amount(self, desk: str, currency: str) -> Decimal:
        """One desk balance (for tests)."""
        with self._lock:
            return self.desks[desk][currency.upper()]


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_from(state: list[Any]) -> random.Random:
    rng = random.Random()
    rng.setstate((state[0], tuple(state[1]), state[2]))
    return rng


# ----------------------------------------------------------------------------- reading a snapshot

_RECORD_ENUMS: dict[str, tuple[str, ...]] = {
    "side": SIDES, "phase": (ENTRY, EXIT), "price_type": PRICE_TYPES, "duration_type": DURATION_TYPES,
    "quantity_type": QUANTITY_TYPES,
}  # fmt: skip
_MONEY_FIELDS = ("points", "profit", "interest")
_OPTIONAL = ("text", "position_id")
_STATUSES = {
    Order: (WORKING, FILLED, CANCELLED, EXPIRED, REJECTED), Position: (OPEN, CLOSED), Trade: (EXECUTED,),
}  # fmt: skip


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"snapshot {where} must be a finite number, not {shown(value)}")
    return float(value)


def _finite(value: Any, where: str, low: Decimal | None = None, high: Decimal = MAX_VALUE) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        result = Decimal("NaN")
    if not result.is_finite() or not -high <= result <= high or (low is not None and result < low):
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


def _read_snapshot(data: Any) -> dict[str, Any]:
    """The platform attributes a snapshot describes, each checked (ScenarioError names what is wrong)."""
    if not isinstance(data, dict) or data.get("version") != 1:
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
        walk_rng = {k: _rng_from(v) for k, v in data["walk_rng"].items()}
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
        id_rng = {k: _rng_from(v) for k, v in data["id_rng"].items()}
        issued = {k: {str(i) for i in v} for k, v in data["issued"].items()}
        last_message = data["last_message"]
        if not isinstance(last_message, str):
            raise ScenarioError(f"snapshot last_message must be text, not {shown(last_message)}")
        columns = data["columns"]
        if not isinstance(columns, dict) or set(columns) != set(WINDOWS):
            raise ScenarioError(f"snapshot columns must map each window ({', '.join(WINDOWS)}) to its visible columns")
        for window, names in columns.items():
            if not isinstance(names, list) or not set(names) <= set(WINDOWS[window]):
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
        if o.status == WORKING:
            working[o.instrument.lower()].append(o.order_id)
    for p in positions.values():
        if p.status == OPEN:
            open_[p.instrument.lower()].append(p.position_id)
    return {
        "now": now, "_seed_arg": seed, "instruments": instruments, "series": series, "_walk_rng": walk_rng,
        "tick_interval": tick_interval, "walk": walk, "_next_tick": next_tick, "_synced": synced, "_ticks": ticks,
        "_tick_index": tick_index, "desks": desks, "orders": orders, "positions": positions, "trades": trades,
        "_id_rng": id_rng, "_issued": issued, "last_message": last_message,
        "columns": {w: list(c) for w, c in columns.items()}, "closed_charts": closed_charts,
        "_working": working, "_open": open_,
    }  # fmt: skip
