"""The platform's records (orders, positions, trades) and the fields each window shows."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

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
