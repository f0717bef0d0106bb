"""Order input and its validation: the fields of a request, the numbers the platform accepts, and
the editable set SendOrder and ChangeOrder share (contract §4 values, §5 SendOrder/ChangeOrder).

Plain functions over plain values: nothing here holds state or a lock. Every check raises a
StreamsterError naming the field and the value before the platform changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from mock_common.values import DecimalError, parse_datetime, parse_decimal

from .errors import StreamsterError
from .market import Instrument
from .model import DURATION_TYPES, PRICE_TYPES, QUANTITY_TYPES

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
MAX_TEXT = 1000

Rate = Callable[[str, str], Decimal | None]  # units of the second currency per unit of the first


def plain(value: Decimal) -> str:
    """Decimal as plain text: no exponent, no trailing zeros beyond what the value carries."""
    return format(value, "f")


def shown(value: Any, quote: bool = True, limit: int = 40) -> str:
    """`value` for an error message (quoted unless it is a number already parsed), cut to `limit`
    characters: a request may send a megabyte, and `plain` of 1e999999999 is a billion digits."""
    text = str(value)
    text = text if len(text) <= limit else text[:limit] + "..."
    return repr(text) if quote else text


class OrderInput:
    """The request's fields, looked up case-insensitively; empty text counts as left out."""

    def __init__(self, values: Any) -> None:
        if values is None:
            values = {}
        if not isinstance(values, dict):
            values = {k: getattr(values, k) for k in dir(values) if not k.startswith("_")}
        self._values = {str(k).lower(): v for k, v in values.items()}

    def text(self, name: str) -> str | None:
        """The field as stripped text; None when left out or empty."""
        value = self._values.get(name.lower())
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.isoformat()
        text = str(value).strip()
        return text or None

    def decimal(self, name: str) -> Decimal | None:
        """The field as a finite Decimal (§4: no NaN, no Infinity)."""
        text = self.text(name)
        if text is None:
            return None
        try:
            return parse_decimal(text)
        except DecimalError as exc:
            kind = "a finite decimal number" if exc.number else "a decimal number"
            raise StreamsterError(f"{name} {shown(text)} is not {kind}.") from None

    def _bounded(self, name: str, high: Decimal, floor: str, ceiling: str) -> Decimal | None:
        """The field as a Decimal > 0 and at most `high`; `floor` and `ceiling` say so in the refusal."""
        value = self.decimal(name)
        if value is None:
            return None
        if value <= 0:
            raise StreamsterError(f"{name} must be {floor}, not {shown(self.text(name), False)}.")
        if value > high:
            raise StreamsterError(f"{name} {shown(self.text(name), False)} is {ceiling} {plain(high)}.")
        return value

    def price(self, name: str, inst: Instrument) -> Decimal | None:
        """A price rounded half-even to the instrument's digits (§4); > 0 and within MAX_PRICE."""
        value = self._bounded(name, MAX_PRICE, "a price > 0", "far outside any market: prices are at most")
        if value is None:
            return None
        rounded = value.quantize(inst.quantum, rounding=ROUND_HALF_EVEN)
        if rounded <= 0:
            raise StreamsterError(
                f"{name} {shown(self.text(name), False)} is 0 at the {inst.digits} decimals of {inst.name}: "
                "a price must be > 0."
            )
        return rounded

    def quantity(self, name: str) -> Decimal | None:
        """A quantity > 0, at most MAX_QUANTITY, with at most QUANTITY_PLACES decimals."""
        value = self._bounded(name, MAX_QUANTITY, "greater than 0", "more than the platform trades: at most")
        if value is None:
            return None
        if value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
            raise StreamsterError(f"{name} {shown(self.text(name), False)} has more than {QUANTITY_PLACES} decimals.")
        return value.normalize()

    def enum(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        """An enum value, matched case-insensitively, upper case (§4); `default` when left out."""
        text = self.text(name)
        if text is None:
            return default
        if text.upper() not in allowed:
            raise StreamsterError(f"{name} {shown(text)} is not one of {', '.join(allowed)}.")
        return text.upper()

    def datetime(self, name: str) -> datetime | None:
        """A dateTime (§4), an offset converted to naive UTC."""
        text = self.text(name)
        if text is None:
            return None
        try:
            return parse_datetime(text, unix=False)
        except ValueError:
            raise StreamsterError(f"{name} {shown(text)} is not a date-time (YYYY-MM-DDThh:mm:ss).") from None
        except OverflowError:
            raise StreamsterError(f"{name} {shown(text)} is outside the years 1 to 9999 in UTC.") from None


def check_levels(side: str, reference: Decimal, stop: Decimal | None, target: Decimal | None, what: str) -> None:
    """ExitStopLoss and ExitTarget on the losing and winning side of `reference` (§5)."""
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


def order_text(f: OrderInput) -> str | None:
    """The Text field, at most MAX_TEXT characters."""
    text = f.text("Text")
    if text is not None and len(text) > MAX_TEXT:
        raise StreamsterError(f"Text is {len(text)} characters long; at most {MAX_TEXT} are allowed.")
    return text


def order_currency(f: OrderInput, desk: str, currencies: dict[str, Decimal], inst: Instrument, rate: Rate) -> str:
    """The desk currency an order books its profit in: required on a multi-currency desk (§5)."""
    given = f.text("Currency")
    if given is None:
        if len(currencies) > 1:
            raise StreamsterError(f"Currency is required: desk {desk!r} holds {', '.join(currencies)}.")
        currency = next(iter(currencies))
    else:
        currency = given.upper()
        if currency not in currencies:
            raise StreamsterError(f"Currency {given!r} is not held by desk {desk!r} ({', '.join(currencies)}).")
    if rate(inst.currency, currency) is None:
        raise StreamsterError(
            f"Currency {currency!r}: no rate converts {inst.currency} profits of {inst.name} into it."
        )
    return currency


def check_value(quantity: Decimal, inst: Instrument, currency: str, rate: Rate) -> None:
    """Refuse a quantity whose position could be worth more than the platform computes with."""
    factor = rate(inst.currency, currency) or Decimal(1)
    if quantity * inst.contract_size * MAX_PRICE * factor > MAX_VALUE:
        raise StreamsterError(
            f"Quantity {plain(quantity)} of {inst.name} is too large: at a price of {plain(MAX_PRICE)} the "
            f"position would be worth more than {plain(MAX_VALUE)} {currency}, beyond what the platform computes."
        )


def editable_fields(
    f: OrderInput,
    inst: Instrument,
    side: str,
    currency: str,
    traded: Decimal,
    quote: tuple[Decimal, Decimal],
    now: datetime,
    rate: Rate,
) -> dict[str, Any]:
    """The editable set of an order (§5: SendOrder and ChangeOrder share it; left out = default).

    `quote` is the (bid, offer) a MARKET order would fill at; `now` the platform time. Prices come
    back rounded half-even to the instrument's digits; the side checks use the rounded values.
    """
    price_type = f.enum("PriceType", PRICE_TYPES, "MARKET")
    duration_type = f.enum("DurationType", DURATION_TYPES, "GTC")
    quantity_type = f.enum("QuantityType", QUANTITY_TYPES, "FULL")
    quantity = f.quantity("Quantity")
    if quantity is None:
        raise StreamsterError("Quantity is required.")
    if quantity <= traded:
        raise StreamsterError(f"Quantity {plain(quantity)} must exceed the {plain(traded)} already traded.")
    check_value(quantity, inst, currency, rate)
    price = f.price("Price", inst)
    if price_type != "MARKET" and price is None:
        raise StreamsterError(f"Price is required for a {price_type} order.")
    if price_type == "MARKET":
        price = None  # a market order has no price of its own
    duration = f.datetime("Duration")
    if duration_type == "GTD":
        if duration is None:
            raise StreamsterError("Duration is required for a GTD order.")
        if duration <= now:
            raise StreamsterError(
                f"Duration {duration.isoformat()} is not in the future (now {now.replace(microsecond=0).isoformat()})."
            )
    else:
        duration = None
    stop, target = f.price("ExitStopLoss", inst), f.price("ExitTarget", inst)
    bid, offer = quote
    entry = price if price is not None else (offer if side == "BUY" else bid)
    check_levels(side, entry, stop, target, "the entry price")
    return {
        "price_type": price_type, "price": price, "duration_type": duration_type, "duration": duration,
        "quantity": quantity, "quantity_type": quantity_type, "exit_stop_loss": stop,
        "exit_target": target, "text": order_text(f),
    }  # fmt: skip


def price_setting(inst: Instrument, bid: Any, offer: Any) -> tuple[Decimal, Decimal | None]:
    """(bid, offer) a control request sets by hand: bid > 0, offer not below it, the instrument's
    digits exactly, both within MAX_PRICE (offer None: bid + spread)."""
    fields = OrderInput({"Bid": bid, "Offer": offer})
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
    return b, o


def price_move(inst: Instrument, pips: Any, bid: Decimal, offer: Decimal) -> Decimal:
    """The price change a control request's move by `pips` makes; prices stay > 0 and within MAX_PRICE."""
    delta = OrderInput({"pips": pips}).decimal("pips")
    if delta is None:
        raise StreamsterError(f"pips must be a number, not {shown(pips)}.")
    if not -MAX_PIPS <= delta <= MAX_PIPS:  # compared, not abs(): abs() of 1e999999999 overflows
        raise StreamsterError(f"pips {shown(pips, False)} is more than {plain(MAX_PIPS)} pips either way.")
    move = inst.round(delta * inst.pip)
    if bid + move <= 0:
        raise StreamsterError(f"moving {inst.name} by {shown(pips, False)} pips would make its price <= 0.")
    if offer + move > MAX_PRICE:
        raise StreamsterError(
            f"moving {inst.name} by {shown(pips, False)} pips would take its price above {plain(MAX_PRICE)}."
        )
    return move
