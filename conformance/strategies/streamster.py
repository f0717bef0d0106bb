"""Hypothesis strategies for the Streamster API: instruments, prices, orders valid and invalid.

Orders are drawn as *specs* (offsets in pips from the market), then built against the current
quote with `build_order`, so a valid spec stays valid whatever the price has become.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

INSTRUMENTS = {  # name: (digits, pip) of the default catalogue
    "EUR/USD": (5, Decimal("0.0001")),
    "GBP/USD": (5, Decimal("0.0001")),
    "USD/JPY": (3, Decimal("0.01")),
    "GBP/JPY": (3, Decimal("0.01")),
    "EUR/GBP": (5, Decimal("0.0001")),
    "USD/CHF": (5, Decimal("0.0001")),
    "AUD/USD": (5, Decimal("0.0001")),
    "Dow Jones": (2, Decimal("1")),
    "Gold": (2, Decimal("0.1")),
}
DESKS = {"Virtual Forex": ("USD",), "Virtual Currencies": ("USD", "EUR")}
INVALID_RULES = (
    "missing Instrument", "missing Desk", "missing Quantity", "Quantity <= 0", "unknown instrument", "unknown desk",
    "unknown enum value", "LIMIT/STOP without Price", "GTD without Duration", "GTD in the past",
    "multi-currency desk without Currency", "ExitStopLoss on the wrong side", "ExitTarget on the wrong side",
)  # fmt: skip


def instruments(names: tuple[str, ...] = tuple(INSTRUMENTS)) -> st.SearchStrategy[str]:
    """An instrument name of the default catalogue."""
    return st.sampled_from(names)


def prices(instrument: str, low: str = "0.5", high: str = "200") -> st.SearchStrategy[Decimal]:
    """A price with the instrument's digits."""
    digits = INSTRUMENTS[instrument][0]
    return st.decimals(Decimal(low), Decimal(high), places=digits, allow_nan=False, allow_infinity=False)


def price_paths(max_steps: int = 20, max_pips: int = 50) -> st.SearchStrategy[list[int]]:
    """A path of price moves, in pips (negative = down)."""
    return st.lists(st.integers(-max_pips, max_pips).filter(bool), max_size=max_steps)


@dataclass(frozen=True)
class OrderSpec:
    """An order relative to the market: price, stop loss and target as pip offsets."""

    instrument: str
    desk: str
    currency: str | None
    side: str
    price_type: str
    price_offset: int  # pips from the market side the order would fill on
    duration_type: str
    duration_seconds: int
    quantity: int
    quantity_type: str
    stop_pips: int | None  # distance behind the entry price (> 0)
    target_pips: int | None  # distance beyond the entry price (> 0)
    text: str | None


@st.composite
def order_specs(draw: st.DrawFn, instrument_names: tuple[str, ...] = ("EUR/USD", "USD/JPY")) -> OrderSpec:
    """A valid order of any type, side, duration and desk."""
    desk = draw(st.sampled_from(list(DESKS)))
    currencies = DESKS[desk]
    return OrderSpec(
        instrument=draw(st.sampled_from(instrument_names)), desk=desk,
        currency=draw(st.sampled_from(currencies)) if len(currencies) > 1 else draw(st.sampled_from([None, currencies[0]])),
        side=draw(st.sampled_from(["BUY", "SELL"])), price_type=draw(st.sampled_from(["MARKET", "LIMIT", "STOP"])),
        price_offset=draw(st.integers(-30, 30)), duration_type=draw(st.sampled_from(["GTC", "GTD", "IOC"])),
        duration_seconds=draw(st.integers(60, 7200)), quantity=draw(st.integers(1, 20)),
        quantity_type=draw(st.sampled_from(["FULL", "PARTIAL"])),
        stop_pips=draw(st.none() | st.integers(1, 80)), target_pips=draw(st.none() | st.integers(1, 80)),
        text=draw(st.none() | st.text("abcdefghij klmnop", min_size=1, max_size=12).map(str.strip).filter(bool)),
    )  # fmt: skip


def entry_price(spec: OrderSpec, bid: Decimal, offer: Decimal) -> Decimal:
    """The price the order's exits are measured from."""
    _, pip = INSTRUMENTS[spec.instrument]
    market = offer if spec.side == "BUY" else bid
    if spec.price_type == "MARKET":
        return market
    return max(pip, market + spec.price_offset * pip)


def build_order(spec: OrderSpec, bid: Decimal, offer: Decimal, now: Any) -> dict[str, Any]:
    """The Order fields (API names) for `spec` at the current quote and time."""
    from datetime import timedelta

    _, pip = INSTRUMENTS[spec.instrument]
    entry = entry_price(spec, bid, offer)
    sign = 1 if spec.side == "BUY" else -1
    fields: dict[str, Any] = {
        "Instrument": spec.instrument, "Desk": spec.desk, "Side": spec.side, "PriceType": spec.price_type,
        "DurationType": spec.duration_type, "Quantity": spec.quantity, "QuantityType": spec.quantity_type,
    }  # fmt: skip
    if spec.currency:
        fields["Currency"] = spec.currency
    if spec.price_type != "MARKET":
        fields["Price"] = entry
    if spec.duration_type == "GTD":
        fields["Duration"] = now + timedelta(seconds=spec.duration_seconds)
    if spec.stop_pips is not None and entry - sign * spec.stop_pips * pip > 0:
        fields["ExitStopLoss"] = entry - sign * spec.stop_pips * pip
    if spec.target_pips is not None and entry + sign * spec.target_pips * pip > 0:
        fields["ExitTarget"] = entry + sign * spec.target_pips * pip
    if spec.text:
        fields["Text"] = spec.text
    return fields


@st.composite
def invalid_orders(draw: st.DrawFn) -> tuple[OrderSpec, str]:
    """(a valid spec, the rule to break when building it): see `break_rule`."""
    return draw(order_specs()), draw(st.sampled_from(INVALID_RULES))


def break_rule(fields: dict[str, Any], rule: str, entry: Decimal, pip: Decimal, now: Any) -> dict[str, Any]:
    """`fields` changed so that they break `rule` (one of INVALID_RULES) and nothing else."""
    from datetime import timedelta

    broken = dict(fields)
    buy = broken.get("Side", "BUY") == "BUY"
    if rule == "missing Instrument":
        broken.pop("Instrument")
    elif rule == "missing Desk":
        broken.pop("Desk")
    elif rule == "missing Quantity":
        broken.pop("Quantity")
    elif rule == "Quantity <= 0":
        broken["Quantity"] = 0
    elif rule == "unknown instrument":
        broken["Instrument"] = "XYZ/ABC"
    elif rule == "unknown desk":
        broken["Desk"] = "No Such Desk"
    elif rule == "unknown enum value":
        broken["Side"] = "HOLD"
    elif rule == "LIMIT/STOP without Price":
        broken["PriceType"] = "LIMIT"
        broken.pop("Price", None)
    elif rule == "GTD without Duration":
        broken["DurationType"] = "GTD"
        broken.pop("Duration", None)
    elif rule == "GTD in the past":
        broken["DurationType"] = "GTD"
        broken["Duration"] = now - timedelta(seconds=60)
    elif rule == "multi-currency desk without Currency":
        broken["Desk"] = "Virtual Currencies"
        broken.pop("Currency", None)
    elif rule == "ExitStopLoss on the wrong side":
        broken["ExitStopLoss"] = entry + pip * 5 if buy else entry - pip * 5
    elif rule == "ExitTarget on the wrong side":
        broken["ExitTarget"] = entry - pip * 5 if buy else entry + pip * 5
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return broken


@st.composite
def position_changes(draw: st.DrawFn) -> tuple[int | None, int | None, str | None]:
    """(stop pips behind the market, target pips beyond it, text); None = left out."""
    return (
        draw(st.none() | st.integers(1, 80)),
        draw(st.none() | st.integers(1, 80)),
        draw(st.none() | st.sampled_from(["hedge", "scalp", "note"])),
    )
