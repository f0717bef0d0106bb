"""The platform's records (orders, positions, trades) and the fields each window shows."""

from __future__ import annotations

import random
import string
from dataclasses import FrozenInstanceError, dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

SIDES = ("BUY", "SELL")
PRICE_TYPES = ("MARKET", "LIMIT", "STOP")
DURATION_TYPES = ("GTC", "GTD", "IOC")
QUANTITY_TYPES = ("FULL", "PARTIAL")

WORKING, FILLED, CANCELLED, EXPIRED, REJECTED = "Working", "Filled", "Cancelled", "Expired", "Rejected"
OPEN, CLOSED = "Open", "Closed"
ID_ALPHABET = string.ascii_uppercase + string.digits
EXECUTED = "Executed"
ENTRY, EXIT = "Entry", "Exit"

# Element order of each structure, as in the WSDL sequences.
QUOTE_FIELDS = ("Last", "Bid", "Offer", "Change", "High", "Low", "Open", "Close", "Time", "Currency", "Yield", "Ask")
ORDER_FIELDS = (
    "OrderID", "Desk", "Instrument", "Side", "Phase", "PriceType", "Price", "ActiveQuantity",
    "TradedQuantity", "ExitStopLoss", "ExitTarget", "Status", "PositionID", "Currency", "Duration",
    "DurationType", "Quantity", "QuantityType", "Text", "Entered",
)  # fmt: skip
POSITION_FIELDS = (
    "PositionID", "Desk", "Instrument", "Side", "OpenPrice", "Currency", "Quantity", "Points",
    "Profit", "ExitStopLoss", "ExitTarget", "Entered", "Exited", "Status", "Text", "ClosePrice",
    "Interest",
)  # fmt: skip
TRADE_FIELDS = (
    "TradeID", "Desk", "Instrument", "Side", "Phase", "Price", "Quantity", "Executed", "Status",
    "Currency", "Text", "OrderID",
)  # fmt: skip
DESK_FIELDS = ("Name", "Currency", "Amount")
BAR_FIELDS = ("BarDateTime", "Open", "High", "Low", "Close", "Volume")

# The Streamster windows whose visible columns decide which elements a read returns.
WINDOWS: dict[str, tuple[str, ...]] = {
    "Rates": QUOTE_FIELDS,
    "Orders": ORDER_FIELDS,
    "Trades": TRADE_FIELDS,
    "Positions": POSITION_FIELDS,
}


R = TypeVar("R")


def sealed(record: R) -> R:
    """A copy of `record` that refuses changes, for a record that will never change again (a closed
    position): the platform hands the same copy to every caller instead of copying it on each read,
    so a bot polling GetPositions all along a backtest does not pay for every position it ever held.

    It is still an instance of the record's class and equal to a plain record with the same fields;
    `copy.copy` of it (or `dataclasses.replace`) gives a record that can be changed."""
    cls = type(record)
    kind = _SEALED.get(cls)
    if kind is None:
        kind = _SEALED[cls] = _sealed_class(cls)
    new: R = object.__new__(kind)
    new.__dict__.update(record.__dict__)
    return new


_SEALED: dict[type, type] = {}


def _plain(cls: type, values: dict[str, Any]) -> object:
    new: object = object.__new__(cls)
    new.__dict__.update(values)
    return new


class _Sealed:
    """What a sealed copy's class adds to the record's own (see `sealed`)."""

    _record: type  # the record class, a class attribute (vars() of a record stays its fields)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:  # dataclasses.replace builds a new one: first assignments pass
            raise FrozenInstanceError(
                f"this {self._record.__name__} is final and shared by every reader: change a copy "
                f"(copy.copy or dataclasses.replace), not {name!r} of it"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"this {self._record.__name__} is final: {name!r} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        # Also asked first when a plain record is on the left (a subclass's reflected __eq__ wins).
        return vars(self) == vars(other) if isinstance(other, self._record) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as the records' (dataclasses with eq)

    def __reduce__(self) -> tuple[Any, ...]:
        return _plain, (self._record, dict(vars(self)))  # a copy or a pickle is a plain, changeable record


def _sealed_class(cls: type) -> type:
    namespace = {"_record": cls, "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
    return type(cls.__name__, (_Sealed, cls), namespace)


def draw_id(rng: random.Random) -> str:
    """A record ID drawn from `rng`: nine capitals and digits (the platform draws again for one already issued)."""
    return "".join(rng.choice(ID_ALPHABET) for _ in range(9))


class Record:
    """Common conversions for the dataclass records below."""

    _decimals: tuple[str, ...] = ()
    _datetimes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (Decimal as text, datetime as ISO): the shape `from_dict` reads."""
        data = dict(vars(self))  # flat fields: no deep copy needed
        for name in self._decimals:
            if data[name] is not None:
                data[name] = str(data[name])
        for name in self._datetimes:
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """The record described by `data` (the shape of `to_dict`)."""
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            v = data.get(f.name)
            if v is not None and f.name in cls._decimals:
                v = Decimal(str(v))
            elif v is not None and f.name in cls._datetimes:
                v = datetime.fromisoformat(v)
            values[f.name] = v
        return cls(**values)


@dataclass
class Order(Record):
    """A row of the Orders window."""

    order_id: str
    desk: str
    instrument: str
    side: str
    phase: str
    price_type: str
    price: Decimal | None
    active_quantity: Decimal
    traded_quantity: Decimal
    exit_stop_loss: Decimal | None
    exit_target: Decimal | None
    status: str
    position_id: str | None
    currency: str
    duration: datetime | None
    duration_type: str
    quantity: Decimal
    quantity_type: str
    text: str | None
    entered: datetime

    _decimals = ("price", "active_quantity", "traded_quantity", "exit_stop_loss", "exit_target", "quantity")
    _datetimes = ("duration", "entered")


@dataclass
class Position(Record):
    """A row of the Positions window; open or closed."""

    position_id: str
    desk: str
    instrument: str
    side: str
    open_price: Decimal
    currency: str
    quantity: Decimal
    points: Decimal
    profit: Decimal
    exit_stop_loss: Decimal | None
    exit_target: Decimal | None
    entered: datetime
    exited: datetime | None
    status: str
    text: str | None
    close_price: Decimal | None
    interest: Decimal

    _decimals = (
        "open_price",
        "quantity",
        "points",
        "profit",
        "exit_stop_loss",
        "exit_target",
        "close_price",
        "interest",
    )
    _datetimes = ("entered", "exited")


@dataclass
class Trade(Record):
    """A row of the Trades window: one execution."""

    trade_id: str
    desk: str
    instrument: str
    side: str
    phase: str
    price: Decimal
    quantity: Decimal
    executed: datetime
    status: str
    currency: str
    text: str | None
    order_id: str

    _decimals = ("price", "quantity")
    _datetimes = ("executed",)


@dataclass
class Quote:
    """What GetQuote shows for one instrument."""

    last: Decimal
    bid: Decimal
    offer: Decimal
    change: Decimal
    high: Decimal
    low: Decimal
    open: Decimal
    close: Decimal
    time: datetime
    currency: str
    yield_: Decimal | None
    ask: Decimal
