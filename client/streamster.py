"""A typed client of the Streamster API (SOAP), built on zeep.

Reads retry on connection errors and 5xx answers; trading calls never retry, because a repeat
could trade twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, time, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from . import _retry
from .errors import ApiError, StreamsterFault, TransportError

E = TypeVar("E", bound=Enum)
R = TypeVar("R")  # a record: Quote, Order, Position, ...


class Side(str, Enum):
    """Order and position side."""

    BUY = "BUY"
    SELL = "SELL"


class PriceType(str, Enum):
    """How an order is priced."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"


class DurationType(str, Enum):
    """How long an order works."""

    GTC = "GTC"
    GTD = "GTD"
    IOC = "IOC"


class QuantityType(str, Enum):
    """Whether partial fills are allowed."""

    FULL = "FULL"
    PARTIAL = "PARTIAL"


class OrderStatus(str, Enum):
    """Order status."""

    WORKING = "Working"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    REJECTED = "Rejected"


class PositionStatus(str, Enum):
    """Position status."""

    OPEN = "Open"
    CLOSED = "Closed"


class Phase(str, Enum):
    """Entry (opens a position) or Exit (closes one)."""

    ENTRY = "Entry"
    EXIT = "Exit"


class Period(str, Enum):
    """GetBars periods."""

    M5 = "5 Minutes"
    M15 = "15 Minutes"
    M30 = "30 Minutes"
    H1 = "Hourly"
    H4 = "4 Hours"
    D1 = "Daily"
    W1 = "Weekly"
    MN = "Monthly"


def _enum(cls: type[E], value: Any) -> E | str | None:
    """The enum member for `value` (any case); an unknown value stays text rather than failing."""
    if value is None:
        return None
    for member in cls:
        if member.value.lower() == str(value).lower():
            return member
    return str(value)


@dataclass
class Quote:
    """GetQuote; a field is None when its column is hidden on the platform."""

    last: Decimal | None
    bid: Decimal | None
    offer: Decimal | None
    change: Decimal | None
    high: Decimal | None
    low: Decimal | None
    open: Decimal | None
    close: Decimal | None
    time: time | None
    currency: str | None
    yield_: Decimal | None
    ask: Decimal | None


@dataclass
class Order:
    """A row of GetOrders."""

    order_id: str | None
    desk: str | None
    instrument: str | None
    side: Side | str | None
    phase: Phase | str | None
    price_type: PriceType | str | None
    price: Decimal | None
    active_quantity: Decimal | None
    traded_quantity: Decimal | None
    exit_stop_loss: Decimal | None
    exit_target: Decimal | None
    status: OrderStatus | str | None
    position_id: str | None
    currency: str | None
    duration: datetime | None
    duration_type: DurationType | str | None
    quantity: Decimal | None
    quantity_type: QuantityType | str | None
    text: str | None
    entered: datetime | None


@dataclass
class Position:
    """A row of GetPositions (open or closed)."""

    position_id: str | None
    desk: str | None
    instrument: str | None
    side: Side | str | None
    open_price: Decimal | None
    currency: str | None
    quantity: Decimal | None
    points: Decimal | None
    profit: Decimal | None
    exit_stop_loss: Decimal | None
    exit_target: Decimal | None
    entered: datetime | None
    exited: datetime | None
    status: PositionStatus | str | None
    text: str | None
    close_price: Decimal | None
    interest: Decimal | None


@dataclass
class Trade:
    """A row of GetTrades."""

    trade_id: str | None
    desk: str | None
    instrument: str | None
    side: Side | str | None
    phase: Phase | str | None
    price: Decimal | None
    quantity: Decimal | None
    executed: datetime | None
    status: str | None
    currency: str | None
    text: str | None
    order_id: str | None


@dataclass
class Desk:
    """One (desk, currency) balance."""

    name: str | None
    currency: str | None
    amount: Decimal | None


@dataclass
class Bar:
    """One OHLC bar."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def _decimal(name: str, value: Any, positive: bool = False) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal number, not {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, not {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be greater than 0, not {value!r}")
    return number


def _member(cls: type[E], name: str, value: Any) -> E:
    found = _enum(cls, value.value if isinstance(value, Enum) else value)
    if not isinstance(found, cls):
        raise ValueError(f"{name} must be one of {', '.join(m.value for m in cls)}, not {value!r}")
    return found


def _levels(side: Side, reference: Decimal | None, stop: Decimal | None, target: Decimal | None) -> None:
    if reference is None:
        return
    below, above = (stop, target) if side is Side.BUY else (target, stop)
    if below is not None and below >= reference:
        raise ValueError(
            f"{'exit_stop_loss' if side is Side.BUY else 'exit_target'} {below} must be below the price {reference}"
        )
    if above is not None and above <= reference:
        raise ValueError(
            f"{'exit_target' if side is Side.BUY else 'exit_stop_loss'} {above} must be above the price {reference}"
        )


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


@dataclass
class NewOrder:
    """An order to send, with the API's defaults; `validate()` runs before anything is sent."""

    instrument: str
    desk: str
    quantity: Decimal | int | str
    side: Side | str = Side.BUY
    price_type: PriceType | str = PriceType.MARKET
    price: Decimal | int | str | None = None
    duration_type: DurationType | str = DurationType.GTC
    duration: datetime | None = None
    quantity_type: QuantityType | str = QuantityType.FULL
    exit_stop_loss: Decimal | int | str | None = None
    exit_target: Decimal | int | str | None = None
    currency: str | None = None
    text: str | None = None

    def validate(self) -> dict[str, Any]:
        """The Order element's fields, or ValueError naming the field at fault."""
        if not isinstance(self.instrument, str) or not self.instrument.strip():
            raise ValueError(f"instrument is required, not {self.instrument!r}")
        if not isinstance(self.desk, str) or not self.desk.strip():
            raise ValueError(f"desk is required, not {self.desk!r}")
        fields = _editable(self)
        side = _member(Side, "side", self.side)
        _levels(side, fields.get("Price"), fields.get("ExitStopLoss"), fields.get("ExitTarget"))
        return {
            "Instrument": self.instrument,
            "Desk": self.desk,
            "Side": side.value,
            "Currency": self.currency,
            **fields,
        }


@dataclass
class OrderChange:
    """A ChangeOrder: the editable set is replaced whole (a field left out takes its default)."""

    order_id: str
    quantity: Decimal | int | str
    price_type: PriceType | str = PriceType.MARKET
    price: Decimal | int | str | None = None
    duration_type: DurationType | str = DurationType.GTC
    duration: datetime | None = None
    quantity_type: QuantityType | str = QuantityType.FULL
    exit_stop_loss: Decimal | int | str | None = None
    exit_target: Decimal | int | str | None = None
    text: str | None = None

    def validate(self) -> dict[str, Any]:
        """The Order element's fields, or ValueError naming the field at fault."""
        if not isinstance(self.order_id, str) or not self.order_id.strip():
            raise ValueError(f"order_id is required, not {self.order_id!r}")
        return {"OrderID": self.order_id, **_editable(self)}


def _editable(o: NewOrder | OrderChange) -> dict[str, Any]:
    """The editable set shared by SendOrder and ChangeOrder, validated."""
    quantity = _decimal("quantity", o.quantity, positive=True)
    if quantity is None:
        raise ValueError("quantity is required")
    price_type = _member(PriceType, "price_type", o.price_type)
    duration_type = _member(DurationType, "duration_type", o.duration_type)
    quantity_type = _member(QuantityType, "quantity_type", o.quantity_type)
    price = _decimal("price", o.price, positive=True)
    if price_type is not PriceType.MARKET and price is None:
        raise ValueError(f"price is required for a {price_type.value} order")
    if duration_type is DurationType.GTD and o.duration is None:
        raise ValueError("duration is required for a GTD order")
    if o.duration is not None and not isinstance(o.duration, datetime):
        raise ValueError(f"duration must be a datetime, not {o.duration!r}")
    return {
        "PriceType": price_type.value, "Price": price if price_type is not PriceType.MARKET else None,
        "DurationType": duration_type.value,
        "Duration": _utc(o.duration) if o.duration is not None and duration_type is DurationType.GTD else None,
        "Quantity": quantity, "QuantityType": quantity_type.value,
        "ExitStopLoss": _decimal("exit_stop_loss", o.exit_stop_loss, positive=True),
        "ExitTarget": _decimal("exit_target", o.exit_target, positive=True), "Text": o.text,
    }  # fmt: skip


@dataclass
class PositionChange:
    """A ChangePosition: stop loss, target and text are replaced whole (left out = removed)."""

    position_id: str
    exit_stop_loss: Decimal | int | str | None = None
    exit_target: Decimal | int | str | None = None
    text: str | None = None

    def validate(self) -> dict[str, Any]:
        """The Position element's fields, or ValueError naming the field at fault."""
        if not isinstance(self.position_id, str) or not self.position_id.strip():
            raise ValueError(f"position_id is required, not {self.position_id!r}")
        return {
            "PositionID": self.position_id,
            "ExitStopLoss": _decimal("exit_stop_loss", self.exit_stop_loss, positive=True),
            "ExitTarget": _decimal("exit_target", self.exit_target, positive=True),
            "Text": self.text,
        }


def _record(
    cls: type[R], item: Any, names: dict[str, str] | None = None, enums: dict[str, type[Enum]] | None = None
) -> R:
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # cls is one of the record dataclasses
        source = (names or {}).get(f.name) or "".join(part.capitalize() for part in f.name.split("_"))
        value = getattr(item, source, None)
        if enums and f.name in enums:
            value = _enum(enums[f.name], value)
        values[f.name] = value
    return cls(**values)


_ID_NAMES = {"order_id": "OrderID", "position_id": "PositionID", "trade_id": "TradeID"}


class StreamsterClient:
    """The Streamster API through its WSDL; one method per operation, typed results."""

    def __init__(self, wsdl_url: str = "http://127.0.0.1:8018/service.wsdl", timeout: float = 10,
                 endpoint_url: str | None = None, retries: int = 3, backoff: float = 0.2) -> None:  # fmt: skip
        self.retries, self.backoff = retries, backoff
        transport = Transport(timeout=timeout, operation_timeout=timeout)
        try:
            self._zeep = zeep.Client(wsdl_url, transport=transport)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransportError(f"cannot load the WSDL from {wsdl_url}: {exc}") from exc
        except zeep.exceptions.TransportError as exc:
            raise ApiError(exc.status_code or 0, f"cannot load the WSDL from {wsdl_url}") from exc
        if endpoint_url:
            self._service = self._zeep.create_service(
                "{http://www.novativa.com/ws/streamsterapi}StreamsterApiBinding", endpoint_url
            )
        else:
            self._service = self._zeep.service

    # ------------------------------------------------------------------ plumbing

    def _invoke(self, operation: str, *args: Any, read: bool, **kwargs: Any) -> Any:
        def once() -> Any:
            try:
                return getattr(self._service, operation)(*args, **kwargs)
            except zeep.exceptions.Fault as exc:
                raise StreamsterFault(str(exc.code or "").split(":")[-1], exc.message or "") from None
            except zeep.exceptions.TransportError as exc:
                raise ApiError(
                    exc.status_code or 0, (exc.content or b"").decode("utf-8", "replace")[:500] or exc.message
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise TransportError(f"{operation}: {type(exc).__name__}: {exc}") from None
            except zeep.exceptions.XMLSyntaxError as exc:
                raise ApiError(200, f"{operation}: the answer is not XML: {exc}") from None

        return _retry.call(f"streamster.{operation}", once, self.retries if read else 0, self.backoff)

    def call(self, operation: str, *args: Any, **parts: Any) -> Any:
        """Call an operation with raw arguments: no validation, no retries (for testing servers)."""
        return self._invoke(operation, *args, read=False, **parts)

    # ------------------------------------------------------------------ reads (retried)

    def get_quote(self, instrument: str) -> Quote:
        """The quote of one instrument."""
        q = self._invoke("GetQuote", instrument, read=True)
        return _record(Quote, q, {"yield_": "Yield"})

    def get_orders(self) -> list[Order]:
        """Every order (an empty list when there is none)."""
        enums: dict[str, type[Enum]] = {"side": Side, "phase": Phase, "price_type": PriceType, "status": OrderStatus, "duration_type": DurationType,
                 "quantity_type": QuantityType}  # fmt: skip
        return [_record(Order, o, _ID_NAMES, enums) for o in self._invoke("GetOrders", read=True) or []]

    def get_trades(self) -> list[Trade]:
        """Every trade, in the order executed."""
        return [
            _record(Trade, t, _ID_NAMES, {"side": Side, "phase": Phase})
            for t in self._invoke("GetTrades", read=True) or []
        ]

    def get_positions(self) -> list[Position]:
        """Every position, open and closed."""
        return [
            _record(Position, p, _ID_NAMES, {"side": Side, "status": PositionStatus})
            for p in self._invoke("GetPositions", read=True) or []
        ]

    def get_desks(self) -> list[Desk]:
        """One entry per (desk, currency)."""
        return [_record(Desk, d) for d in self._invoke("GetDesks", read=True) or []]

    def get_bars(self, instrument: str, period: Period | str, oldest_first: bool = False) -> list[Bar]:
        """The bars of an open chart; newest first unless `oldest_first`."""
        name = period.value if isinstance(period, Period) else str(period)
        bars = self._invoke("GetBars", instrument, name, "f" if oldest_first else "", read=True) or []
        return [Bar(b.BarDateTime, b.Open, b.High, b.Low, b.Close, b.Volume) for b in bars]

    def get_last_message(self) -> str:
        """The last error or warning the platform showed ("" when none); reading clears it.

        Not retried: a repeat after a lost answer would find the message already cleared.
        """
        return self._invoke("GetLastMessage", read=False) or ""

    # ------------------------------------------------------------------ trading (never retried)

    def send_order(self, order: NewOrder | None = None, **fields: Any) -> None:
        """Send an order (a NewOrder, or its fields as keywords). Never retried: a repeat could trade twice."""
        order = order or NewOrder(**fields)
        body = {k: v for k, v in order.validate().items() if v is not None}
        self._invoke("SendOrder", read=False, **body)

    def change_order(self, change: OrderChange | None = None, **fields: Any) -> None:
        """Replace a working order's editable set. Never retried: a repeat could trade twice."""
        change = change or OrderChange(**fields)
        body = {k: v for k, v in change.validate().items() if v is not None}
        self._invoke("ChangeOrder", read=False, **body)

    def cancel_order(self, order_id: str) -> None:
        """Cancel a working order. Never retried: the answer of a repeat would be misleading."""
        if not isinstance(order_id, str) or not order_id.strip():
            raise ValueError(f"order_id is required, not {order_id!r}")
        self._invoke("CancelOrder", order_id, read=False)

    def change_position(self, change: PositionChange | None = None, **fields: Any) -> None:
        """Replace an open position's stop loss, target and text. Never retried."""
        change = change or PositionChange(**fields)
        body = {k: v for k, v in change.validate().items() if v is not None}
        self._invoke("ChangePosition", read=False, **body)

    def close_position(self, position_id: str) -> None:
        """Close an open position at market. Never retried: a repeat could trade twice."""
        if not isinstance(position_id, str) or not position_id.strip():
            raise ValueError(f"position_id is required, not {position_id!r}")
        self._invoke("ClosePosition", position_id, read=False)
