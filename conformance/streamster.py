"""A Hypothesis state machine for the Streamster API, and its model written from the contract.

The model (`Model`) knows only what `streamster.md` says (plus the emulator's documented
choices: exits go through filled Exit orders, profits convert at the mid price): it imports no
emulator code. The machine drives a client through an adapter, moves prices and the clock
through the emulator's control routes, and after every step compares what the client sees with
the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from .controlplane import ControlPlane
from .strategies.streamster import (
    INVALID_RULES,
    OrderSpec,
    break_rule,
    build_order,
    entry_price,
    order_specs,
    position_changes,
)

CENT = Decimal("0.01")
# The instruments the machine trades, as the contract's default catalogue describes them.
CATALOGUE = {
    "EUR/USD": {"digits": 5, "pip": Decimal("0.0001"), "contract": Decimal(1000), "currency": "USD", "bid": Decimal("1.08500"), "spread": Decimal("0.00020")},
    "USD/JPY": {"digits": 3, "pip": Decimal("0.01"), "contract": Decimal(1000), "currency": "JPY", "bid": Decimal("148.500"), "spread": Decimal("0.020")},
}  # fmt: skip
DESKS = {("Virtual Forex", "USD"): Decimal("10000.00"), ("Virtual Currencies", "USD"): Decimal("10000.00"),
         ("Virtual Currencies", "EUR"): Decimal("10000.00")}  # fmt: skip
SCENARIO = {
    "walk": False,
    "instruments": [{"name": n, "price": str(i["bid"]), "spread": str(i["spread"])} for n, i in CATALOGUE.items()],
}


class StreamsterAdapter(Protocol):
    """What the machine needs of a client. Reads return objects with the reference client's
    attribute names (order_id, status, ...); `rejections` are the exception types a refused call
    may raise."""

    rejections: tuple[type[BaseException], ...]

    def send_order(self, fields: dict[str, Any], validate: bool) -> None: ...
    def change_order(self, fields: dict[str, Any]) -> None: ...
    def cancel_order(self, order_id: str) -> None: ...
    def change_position(self, fields: dict[str, Any]) -> None: ...
    def close_position(self, position_id: str) -> None: ...
    def get_orders(self) -> list[Any]: ...
    def get_positions(self) -> list[Any]: ...
    def get_trades(self) -> list[Any]: ...
    def get_desks(self) -> list[Any]: ...


class ReferenceAdapter:
    """The reference client (`client.StreamsterClient`) as an adapter."""

    def __init__(self, wsdl_url: str) -> None:
        from broker_mocks.client import NewOrder, OrderChange, PositionChange, StreamsterClient, StreamsterFault

        self._new, self._change, self._position = NewOrder, OrderChange, PositionChange
        self.api = StreamsterClient(wsdl_url, retries=0)
        self.rejections = (StreamsterFault, ValueError)

    @staticmethod
    def _snake(fields: dict[str, Any]) -> dict[str, Any]:
        names = {"ExitStopLoss": "exit_stop_loss", "ExitTarget": "exit_target", "PriceType": "price_type",
                 "DurationType": "duration_type", "QuantityType": "quantity_type", "OrderID": "order_id",
                 "PositionID": "position_id"}  # fmt: skip
        return {names.get(k, k.lower()): v for k, v in fields.items()}

    def send_order(self, fields: dict[str, Any], validate: bool) -> None:
        if validate:
            try:
                order = self._new(**self._snake(fields))
            except TypeError as exc:  # a required field is missing: refused before sending
                raise ValueError(str(exc)) from None
            self.api.send_order(order)
        else:  # as-is, so the server's validation is what is tested
            self.api.call("SendOrder", **fields)

    def change_order(self, fields: dict[str, Any]) -> None:
        self.api.change_order(self._change(**self._snake(fields)))

    def cancel_order(self, order_id: str) -> None:
        self.api.cancel_order(order_id)

    def change_position(self, fields: dict[str, Any]) -> None:
        self.api.change_position(self._position(**self._snake(fields)))

    def close_position(self, position_id: str) -> None:
        self.api.close_position(position_id)

    def get_orders(self) -> list[Any]:
        return self.api.get_orders()

    def get_positions(self) -> list[Any]:
        return self.api.get_positions()

    def get_trades(self) -> list[Any]:
        return self.api.get_trades()

    def get_desks(self) -> list[Any]:
        return self.api.get_desks()


# ----------------------------------------------------------------------------------- the model
#
# Each rule cites its section of the contract, shared/spec/streamster.md (§N below). Money is not
# kept in the model: points, profit and desk amounts are derived from the trade ledger (the Entry
# and Exit trades of each position), as a bookkeeper would recompute them from the fills.


@dataclass(eq=False)  # one order is itself only: `orders.index` finds it by identity
class MOrder:
    """An order as §5 SendOrder describes it: its editable set, its quantities and its status."""

    desk: str
    instrument: str
    side: str
    phase: str
    price_type: str
    price: Decimal | None
    quantity: Decimal
    active: Decimal
    traded: Decimal
    sl: Decimal | None
    tp: Decimal | None
    status: str
    currency: str
    duration: datetime | None
    duration_type: str
    quantity_type: str
    text: str | None
    position: int | None = None
    id: str | None = None


@dataclass(eq=False)
class MPosition:
    """A position (§5: one per fill, no netting); its money comes from its trades, not from here."""

    desk: str
    instrument: str
    side: str
    open_price: Decimal
    currency: str
    quantity: Decimal
    sl: Decimal | None
    tp: Decimal | None
    text: str | None
    status: str = "Open"
    close_price: Decimal | None = None
    id: str | None = None


@dataclass
class MTrade:
    """One line of the ledger (§5: every fill is a Trade, Entry or Exit, with its OrderID). An Exit
    line also keeps the conversion rate in force when it executed (§5: "at the current rate")."""

    position: int
    side: str
    phase: str
    price: Decimal
    quantity: Decimal
    order: int
    rate: Decimal | None = None  # desk currency per quote currency, Exit lines only
    id: str | None = None


@dataclass
class Model:
    """The platform as the contract describes it, for the instruments of CATALOGUE."""

    now: datetime
    quotes: dict[str, tuple[Decimal, Decimal]] = field(
        default_factory=lambda: {n: (i["bid"], i["bid"] + i["spread"]) for n, i in CATALOGUE.items()}
    )
    orders: list[MOrder] = field(default_factory=list)
    positions: list[MPosition] = field(default_factory=list)
    trades: list[MTrade] = field(default_factory=list)

    # -- prices and rates
    def usd_value(self, currency: str) -> Decimal:
        """What one unit of `currency` is worth in USD at mid prices (README: profits convert at the mid)."""
        if currency == "USD":
            return Decimal(1)
        for name, (bid, offer) in self.quotes.items():
            base, quote = name.split("/")
            if (base, quote) == (currency, "USD"):
                return (bid + offer) / 2
            if (base, quote) == ("USD", currency):
                return Decimal(1) / ((bid + offer) / 2)
        raise KeyError(f"no USD quote for {currency}")

    def rate(self, source: str, target: str) -> Decimal:
        """Units of `target` per unit of `source` (§5: "converted into the desk currency at the current rate")."""
        if source == target:
            return Decimal(1)
        if target == "USD":
            return self.usd_value(source)
        if source == "USD":
            return Decimal(1) / self.usd_value(target)
        return self.usd_value(source) / self.usd_value(target)

    def exit_price(self, p: MPosition) -> Decimal:
        """§5 ClosePosition: a BUY position closes at the bid, a SELL at the offer."""
        bid, offer = self.quotes[p.instrument]
        return bid if p.side == "BUY" else offer

    # -- money, from the ledger
    def ledger(self, p: MPosition) -> list[MTrade]:
        """The trades of position `p`, Entry first."""
        index = self.positions.index(p)
        return [t for t in self.trades if t.position == index]

    def money(self, p: MPosition) -> tuple[Decimal, Decimal]:
        """(Points, Profit) of `p` from its ledger (§5): the cash its trades moved, per unit and in pips,
        and in the desk currency at the Exit's rate; an open position as if closed at market now."""
        lines = self.ledger(p)
        if p.status == "Open":  # marked to market: the Exit trade it would get now
            side = "SELL" if p.side == "BUY" else "BUY"
            lines.append(MTrade(-1, side, "Exit", self.exit_price(p), p.quantity, -1, self.exit_rate(p)))
        cash = sum(((t.price if t.side == "SELL" else -t.price) * t.quantity for t in lines), Decimal(0))
        exit_rate = next(t.rate for t in lines if t.phase == "Exit")
        inst = CATALOGUE[p.instrument]
        points = cash / p.quantity / inst["pip"]  # §5: price move in the position's favour / pip size
        # §5: move x Quantity x contract size in the desk currency; §4 money has 2 decimals (half-up: README)
        profit = (cash * inst["contract"] * exit_rate).quantize(CENT, rounding=ROUND_HALF_UP)  # type: ignore[operator]
        return points, profit

    def exit_rate(self, p: MPosition) -> Decimal:
        return self.rate(CATALOGUE[p.instrument]["currency"], p.currency)

    def desk_amount(self, desk: str, currency: str) -> Decimal:
        """§5 ClosePosition: a desk holds its start plus the realised Profit of every closed position."""
        realised = (
            self.money(p)[1]
            for p in self.positions
            if p.status == "Closed" and (p.desk, p.currency) == (desk, currency)
        )
        return DESKS[(desk, currency)] + sum(realised, Decimal(0))

    # -- orders
    def enter(self, f: dict[str, Any]) -> None:
        """§5 SendOrder: a Working order with the fields sent (defaults per §4), worked at once."""
        desk = f["Desk"]
        currency = f.get("Currency") or next(c for d, c in DESKS if d == desk)
        o = MOrder(
            desk=desk, instrument=f["Instrument"], side=f["Side"], phase="Entry", price_type=f["PriceType"],
            price=f.get("Price") if f["PriceType"] != "MARKET" else None, quantity=Decimal(f["Quantity"]),
            active=Decimal(f["Quantity"]), traded=Decimal(0), sl=f.get("ExitStopLoss"), tp=f.get("ExitTarget"),
            status="Working", currency=currency, duration=f.get("Duration") if f["DurationType"] == "GTD" else None,
            duration_type=f["DurationType"], quantity_type=f["QuantityType"], text=f.get("Text"),
        )  # fmt: skip
        self.orders.append(o)
        self.work(o)

    def change(self, o: MOrder, f: dict[str, Any]) -> None:
        """§5 ChangeOrder: the editable fields are replaced as a set, a field left out takes its default."""
        o.price_type = f.get("PriceType", "MARKET")
        o.price = f.get("Price") if o.price_type != "MARKET" else None
        o.duration_type = f.get("DurationType", "GTC")
        o.duration = f.get("Duration") if o.duration_type == "GTD" else None
        o.quantity = Decimal(f["Quantity"])
        o.quantity_type = f.get("QuantityType", "FULL")
        o.sl, o.tp, o.text = f.get("ExitStopLoss"), f.get("ExitTarget"), f.get("Text")
        o.active = o.quantity - o.traded
        self.work(o)

    def work(self, o: MOrder) -> None:
        """§5 IOC: what cannot fill at once is cancelled."""
        self.try_fill(o)
        if o.status == "Working" and o.duration_type == "IOC":
            o.status, o.active = "Cancelled", Decimal(0)

    def try_fill(self, o: MOrder) -> None:
        """§5: MARKET fills at once (BUY at Offer, SELL at Bid); LIMIT when the market reaches the price,
        STOP when it passes it. The fill makes an Entry trade and a Position copying the exits and Text."""
        bid, offer = self.quotes[o.instrument]
        buy = o.side == "BUY"
        market = offer if buy else bid
        if o.price_type == "LIMIT" and not (market <= o.price if buy else market >= o.price):  # type: ignore[operator]
            return
        if o.price_type == "STOP" and not (market >= o.price if buy else market <= o.price):  # type: ignore[operator]
            return
        self.positions.append(MPosition(o.desk, o.instrument, o.side, market, o.currency, o.active, o.sl, o.tp, o.text))
        self.trades.append(MTrade(len(self.positions) - 1, o.side, "Entry", market, o.active, self.orders.index(o)))
        o.traded, o.active, o.status, o.position = o.traded + o.active, Decimal(0), "Filled", len(self.positions) - 1

    def close(self, p: MPosition, price: Decimal, price_type: str, level: Decimal | None) -> None:
        """§5 ClosePosition and exits: an Exit trade at `price` (README: through a filled Exit order of
        PriceType MARKET, STOP or LIMIT); ClosePrice set, the position Closed."""
        side = "SELL" if p.side == "BUY" else "BUY"
        exit_order = MOrder(
            desk=p.desk, instrument=p.instrument, side=side, phase="Exit", price_type=price_type, price=level,
            quantity=p.quantity, active=Decimal(0), traded=p.quantity, sl=None, tp=None, status="Filled",
            currency=p.currency, duration=None, duration_type="GTC", quantity_type="FULL", text=p.text,
            position=self.positions.index(p),
        )  # fmt: skip
        self.orders.append(exit_order)
        self.trades.append(
            MTrade(self.positions.index(p), side, "Exit", price, p.quantity, len(self.orders) - 1, self.exit_rate(p))
        )
        p.close_price, p.status = price, "Closed"

    def tick(self, instrument: str, bid: Decimal, offer: Decimal) -> None:
        """§5: fills happen on price ticks; on every tick an open BUY position closes when Bid <= ExitStopLoss
        or Bid >= ExitTarget (a SELL on the Offer the other way round), at that price."""
        self.quotes[instrument] = (bid, offer)
        for o in list(self.orders):
            if o.status == "Working" and o.instrument == instrument:
                self.try_fill(o)
        for p in list(self.positions):
            if p.status != "Open" or p.instrument != instrument:
                continue
            price = self.exit_price(p)
            buy = p.side == "BUY"
            if p.sl is not None and (price <= p.sl if buy else price >= p.sl):
                self.close(p, price, "STOP", p.sl)
            elif p.tp is not None and (price >= p.tp if buy else price <= p.tp):
                self.close(p, price, "LIMIT", p.tp)

    def advance(self, seconds: int) -> None:
        """§5: GTD orders expire when the clock passes Duration."""
        self.now += timedelta(seconds=seconds)
        for o in self.orders:
            if o.status == "Working" and o.duration is not None and o.duration < self.now:
                o.status, o.active = "Expired", Decimal(0)


def _text(value: Any) -> Any:
    """Enum members and plain values alike, for comparison."""
    return getattr(value, "value", value)


class StreamsterMachine(RuleBasedStateMachine):
    """Drives an adapter against a Streamster emulator and checks it against `Model`.

    Subclass and set `base_url` (the emulator's URL); override `make_adapter` to test your own
    client. The emulator is reset to a scenario without random walk: prices move only through
    the machine's rules.
    """

    base_url: str = "http://127.0.0.1:8018"

    def make_adapter(self) -> StreamsterAdapter:
        """The client under test; the reference client by default."""
        return ReferenceAdapter(self.base_url.rstrip("/") + "/service.wsdl")

    def __init__(self) -> None:
        super().__init__()
        self.control = ControlPlane(self.base_url)
        self.control("reset")  # back to the emulator's constructor; then the machine's own scenario
        self.control("scenario", {"scenario": SCENARIO})
        self.model = Model(now=datetime.fromisoformat(self.control("state", method="GET")["now"]))
        self.api = self.make_adapter()
        self.seen: dict[str, set[str]] = {"order": set(), "position": set(), "trade": set()}

    # ------------------------------------------------------------------ rules

    @initialize()
    def start_clean(self) -> None:
        assert self.api.get_orders() == [] and self.api.get_positions() == []

    @rule(spec=order_specs())
    def send_order(self, spec: OrderSpec) -> None:
        bid, offer = self.model.quotes[spec.instrument]
        fields = build_order(spec, bid, offer, self.model.now)
        self.api.send_order(fields, validate=True)
        self.model.enter(fields)

    @rule(spec=order_specs(), broken=st.sampled_from(INVALID_RULES), validate=st.booleans())
    def send_invalid_order(self, spec: OrderSpec, broken: str, validate: bool) -> None:
        bid, offer = self.model.quotes[spec.instrument]
        pip = Decimal("0.01") if "JPY" in spec.instrument else Decimal("0.0001")
        fields = build_order(spec, bid, offer, self.model.now)
        fields = break_rule(fields, broken, entry_price(spec, bid, offer), pip, self.model.now)
        self._refused(lambda: self.api.send_order(fields, validate=validate), broken)

    def _working(self) -> list[MOrder]:
        return [o for o in self.model.orders if o.status == "Working"]

    @precondition(lambda self: bool(self._working()))
    @rule(data=st.data(), spec=order_specs())
    def change_order(self, data: st.DataObject, spec: OrderSpec) -> None:
        o = data.draw(st.sampled_from(self._working()))
        same = OrderSpec(
            **{**spec.__dict__, "instrument": o.instrument, "side": o.side, "desk": o.desk, "currency": o.currency}
        )
        bid, offer = self.model.quotes[o.instrument]
        fields = build_order(same, bid, offer, self.model.now)
        fields = {k: v for k, v in fields.items() if k not in ("Instrument", "Side", "Desk", "Currency")}
        fields["OrderID"] = o.id
        self.api.change_order(fields)
        self.model.change(o, fields)

    @rule(data=st.data(), spec=order_specs())
    def change_order_leaving_fields_out(self, data: st.DataObject, spec: OrderSpec) -> None:
        """ChangeOrder with the order's own quantity and price only: every other editable field (stop
        loss, target, duration, text) takes its default, it does not keep its old value. With no such
        order working, one is entered first: a LIMIT 50 pips off the market with every field set."""
        dressed = [o for o in self._working() if (o.sl, o.tp, o.text, o.duration) != (None, None, None, None)]
        if not dressed:
            resting = OrderSpec(**{
                **spec.__dict__, "price_type": "LIMIT", "price_offset": -50 if spec.side == "BUY" else 50,
                "duration_type": "GTD", "stop_pips": spec.stop_pips or 20, "target_pips": spec.target_pips or 20,
                "text": spec.text or "resting",
            })  # fmt: skip
            bid, offer = self.model.quotes[spec.instrument]
            fields = build_order(resting, bid, offer, self.model.now)
            self.api.send_order(fields, validate=True)
            self.model.enter(fields)
            self.books_match_the_model()  # checks the entry, and learns the new order's ID
            dressed = [o for o in self._working() if o is self.model.orders[-1]]
            if not dressed:  # it filled after all (a price this far off has nothing to rest on)
                return
        o = data.draw(st.sampled_from(dressed))
        fields = {"OrderID": o.id, "Quantity": o.quantity, "PriceType": o.price_type}
        if o.price is not None:
            fields["Price"] = o.price
        self.api.change_order(fields)
        self.model.change(o, fields)

    @precondition(lambda self: bool(self._working()))
    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        o = data.draw(st.sampled_from(self._working()))
        self.api.cancel_order(o.id)  # type: ignore[arg-type]
        o.status, o.active = "Cancelled", Decimal(0)

    @precondition(lambda self: any(o.status != "Working" for o in self.model.orders))
    @rule(data=st.data())
    def cancel_finished_order(self, data: st.DataObject) -> None:
        o = data.draw(st.sampled_from([o for o in self.model.orders if o.status != "Working"]))
        self._refused(lambda: self.api.cancel_order(o.id), "only a Working order can be cancelled")  # type: ignore[arg-type]

    def _open(self) -> list[MPosition]:
        return [p for p in self.model.positions if p.status == "Open"]

    @precondition(lambda self: bool(self._open()))
    @rule(data=st.data(), change=position_changes(), wrong_side=st.booleans())
    def change_position(
        self, data: st.DataObject, change: tuple[int | None, int | None, str | None], wrong_side: bool
    ) -> None:
        p = data.draw(st.sampled_from(self._open()))
        pip = CATALOGUE[p.instrument]["pip"]
        market, sign = self.model.exit_price(p), (1 if p.side == "BUY" else -1)
        stop_pips, target_pips, text = change
        fields: dict[str, Any] = {"PositionID": p.id}
        if stop_pips is not None:
            fields["ExitStopLoss"] = market - sign * stop_pips * pip * (-1 if wrong_side else 1)
        if target_pips is not None:
            fields["ExitTarget"] = market + sign * target_pips * pip
        if text:
            fields["Text"] = text
        if any(v <= 0 for k, v in fields.items() if k.startswith("Exit")):
            return
        if wrong_side and stop_pips is not None:
            self._refused(lambda: self.api.change_position(fields), "ExitStopLoss on the wrong side")
            return
        self.api.change_position(fields)
        p.sl, p.tp, p.text = fields.get("ExitStopLoss"), fields.get("ExitTarget"), fields.get("Text")

    @precondition(lambda self: bool(self._open()))
    @rule(data=st.data())
    def close_position(self, data: st.DataObject) -> None:
        p = data.draw(st.sampled_from(self._open()))
        self.api.close_position(p.id)  # type: ignore[arg-type]
        self.model.close(p, self.model.exit_price(p), "MARKET", None)

    @precondition(lambda self: any(p.status == "Closed" for p in self.model.positions))
    @rule(data=st.data())
    def close_closed_position(self, data: st.DataObject) -> None:
        p = data.draw(st.sampled_from([p for p in self.model.positions if p.status == "Closed"]))
        self._refused(lambda: self.api.close_position(p.id), "only an Open position can be closed")  # type: ignore[arg-type]

    @rule(instrument=st.sampled_from(list(CATALOGUE)), pips=st.integers(-60, 60).filter(bool))
    def move_price(self, instrument: str, pips: int) -> None:
        bid, offer = self.model.quotes[instrument]
        move = pips * CATALOGUE[instrument]["pip"]
        if bid + move <= 0:
            return
        self.control("price", {"instrument": instrument, "pips": pips})
        self.model.tick(instrument, bid + move, offer + move)

    def _levels(self) -> list[tuple[str, str, Decimal]]:
        """(instrument, the quote side that meets it, level) of every open stop and target and every
        working LIMIT or STOP price: a BUY position exits on the bid, a SELL on the offer; a BUY entry
        fills on the offer, a SELL on the bid."""
        levels = []
        for p in self._open():
            for level in (p.sl, p.tp):
                if level is not None:
                    levels.append((p.instrument, "bid" if p.side == "BUY" else "offer", level))
        for o in self._working():
            if o.price is not None:
                levels.append((o.instrument, "offer" if o.side == "BUY" else "bid", o.price))
        return levels

    @precondition(lambda self: bool(self._levels()))
    @rule(data=st.data(), quanta=st.sampled_from([0, 0, 0, -1, 1]))
    def price_onto_a_level(self, data: st.DataObject, quanta: int) -> None:
        """Put the quote exactly on an existing level (or one price step either side of it)."""
        instrument, side, level = data.draw(st.sampled_from(self._levels()))
        inst = CATALOGUE[instrument]
        at = level + quanta * Decimal(1).scaleb(-inst["digits"])
        bid = at if side == "bid" else at - inst["spread"]
        if bid <= 0:
            return
        offer = bid + inst["spread"]
        self.control("price", {"instrument": instrument, "bid": str(bid), "offer": str(offer)})
        self.model.tick(instrument, bid, offer)

    @rule(seconds=st.integers(1, 3600))
    def advance_clock(self, seconds: int) -> None:
        self.control("advance", {"seconds": seconds})
        self.model.advance(seconds)

    def _refused(self, call: Any, why: str) -> None:
        before = self._visible()
        try:
            call()
        except self.api.rejections:
            pass
        else:
            raise AssertionError(f"a call breaking {why!r} was accepted")
        assert self._visible() == before, f"a refused call ({why}) changed the state"

    def _visible(self) -> Any:
        def rows(items: list[Any]) -> list[tuple[Any, ...]]:
            return [tuple(sorted((k, str(_text(v))) for k, v in vars(i).items())) for i in items]

        return (
            rows(self.api.get_orders()),
            rows(self.api.get_positions()),
            rows(self.api.get_trades()),
            rows(self.api.get_desks()),
        )

    # ------------------------------------------------------------------ invariants

    @invariant()
    def books_match_the_model(self) -> None:
        orders, positions, trades = self.api.get_orders(), self.api.get_positions(), self.api.get_trades()
        m = self.model
        assert len(orders) == len(m.orders), f"{len(orders)} orders, the model has {len(m.orders)}"
        assert len(positions) == len(m.positions), f"{len(positions)} positions, the model has {len(m.positions)}"
        assert len(trades) == len(m.trades), f"{len(trades)} trades, the model has {len(m.trades)}"
        for space, items, model_items, key in (("order", orders, m.orders, "order_id"), ("position", positions, m.positions, "position_id"),
                                               ("trade", trades, m.trades, "trade_id")):  # fmt: skip
            for got, want in zip(items, model_items, strict=True):
                ident = getattr(got, key)
                if want.id is None:
                    assert ident not in self.seen[space], f"{space} ID {ident} was reused"
                    self.seen[space].add(ident)
                    want.id = ident
                assert ident == want.id, f"{space} {want.id} now shows as {ident}"
        for got, want in zip(orders, m.orders, strict=True):
            expected = (want.desk, want.instrument, want.side, want.phase, want.price_type, want.status, want.currency,
                        want.duration_type, want.quantity_type, want.text)  # fmt: skip
            actual = (got.desk, got.instrument, _text(got.side), _text(got.phase), _text(got.price_type), _text(got.status),
                      got.currency, _text(got.duration_type), _text(got.quantity_type), got.text)  # fmt: skip
            assert actual == expected, f"order {want.id}: {actual} != model {expected}"
            assert (got.price, got.quantity, got.active_quantity, got.traded_quantity) == (
                want.price,
                want.quantity,
                want.active,
                want.traded,
            ), f"order {want.id} quantities/price"
            assert (got.exit_stop_loss, got.exit_target) == (want.sl, want.tp), (
                f"order {want.id}: exits {got.exit_stop_loss}/{got.exit_target} != model {want.sl}/{want.tp}"
            )
            assert got.duration == want.duration, f"order {want.id} duration"
            want_pos = m.positions[want.position].id if want.position is not None else None
            assert got.position_id == want_pos, f"order {want.id} position {got.position_id} != {want_pos}"
        for got, want in zip(positions, m.positions, strict=True):
            points, profit = m.money(want)
            actual = (got.desk, got.instrument, _text(got.side), got.open_price, got.currency, got.quantity, _text(got.status),
                      got.exit_stop_loss, got.exit_target, got.text, got.close_price, got.points, got.profit)  # fmt: skip
            expected = (want.desk, want.instrument, want.side, want.open_price, want.currency, want.quantity, want.status,
                        want.sl, want.tp, want.text, want.close_price, points, profit)  # fmt: skip
            assert actual == expected, f"position {want.id}: {actual} != model {expected}"
        for got, want in zip(trades, m.trades, strict=True):
            pos = m.positions[want.position]
            actual = (got.desk, got.instrument, _text(got.side), _text(got.phase), got.price, got.quantity,
                      got.currency, got.order_id)  # fmt: skip
            expected = (pos.desk, pos.instrument, want.side, want.phase, want.price, want.quantity, pos.currency,
                        m.orders[want.order].id)  # fmt: skip
            assert actual == expected, f"trade {want.id}: {actual} != model {expected}"

    @invariant()
    def desks_hold_start_plus_realised_profit(self) -> None:
        """§5: realised Profit is added to the desk's amount in that currency: each desk holds its start
        plus the Profit of its closed positions as the client reads them, and the model's ledger agrees."""
        desks = {(d.name, d.currency): d.amount for d in self.api.get_desks()}
        closed = [p for p in self.api.get_positions() if _text(p.status) == "Closed"]
        for key, start in DESKS.items():
            realised = sum((p.profit for p in closed if (p.desk, p.currency) == key), Decimal(0))
            assert desks[key] == start + realised == self.model.desk_amount(*key), (
                f"desk {key}: {desks[key]} != {start} + {realised} (the model's ledger: {self.model.desk_amount(*key)})"
            )
