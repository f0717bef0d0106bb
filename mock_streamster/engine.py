"""The matching engine's rules as pure functions: when an order fills and at what, when a
position's stop loss or target closes it, its points and profit, and conversion rates (contract
§5). No state, no lock: the platform calls them with the quote in force and records the result.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from .market import Instrument, to_epoch
from .model import Order, Position
from .order_input import CENT

Mid = Callable[[str], Decimal | None]  # the mid price of an instrument name (any case), None when not quoted


def fill(order: Order, inst: Instrument, bid: Decimal, offer: Decimal) -> tuple[Decimal, Decimal] | None:
    """(quantity, price) the working `order` fills at this quote, or None when it does not fill.

    MARKET fills at once, a BUY at the offer and a SELL at the bid; LIMIT when the market reaches
    its price (BUY: offer <= price, SELL: bid >= price); STOP when it passes it (BUY: offer >=
    price, SELL: bid <= price). With a market depth, FULL fills only whole and PARTIAL fills up to
    the depth.
    """
    buy = order.side == "BUY"
    market = offer if buy else bid
    limit = order.price
    if order.price_type == "LIMIT":
        assert limit is not None
        if not (market <= limit if buy else market >= limit):
            return None
    elif order.price_type == "STOP":
        assert limit is not None
        if not (market >= limit if buy else market <= limit):
            return None
    quantity = order.active_quantity
    if inst.depth is not None and quantity > inst.depth:
        if order.quantity_type == "FULL":
            return None
        quantity = inst.depth
    return quantity, market


def expired(order: Order, t: float) -> bool:
    """A GTD order expires when the clock (`t`, epoch seconds) passes its Duration."""
    return order.duration_type == "GTD" and order.duration is not None and to_epoch(order.duration) < t


def exit_price(side: str, bid: Decimal, offer: Decimal) -> Decimal:
    """The price a position of `side` closes at: a BUY position sells at the bid, a SELL buys at the offer."""
    return bid if side == "BUY" else offer


def exit_trigger(pos: Position, bid: Decimal, offer: Decimal) -> tuple[str, Decimal, Decimal] | None:
    """(Exit order PriceType, its level, the fill price) when this quote closes the open `pos`, else None.

    A BUY position closes when the bid is at or below its ExitStopLoss (STOP) or at or above its
    ExitTarget (LIMIT); a SELL position on the offer, the other way round. The stop loss wins.
    """
    price = exit_price(pos.side, bid, offer)
    stop, target = pos.exit_stop_loss, pos.exit_target
    if pos.side == "BUY":
        hit_stop = stop is not None and price <= stop
        hit_target = target is not None and price >= target
    else:
        hit_stop = stop is not None and price >= stop
        hit_target = target is not None and price <= target
    if hit_stop:
        assert stop is not None
        return "STOP", stop, price
    if hit_target:
        assert target is not None
        return "LIMIT", target, price
    return None


def pnl(pos: Position, price: Decimal, inst: Instrument, rate: Decimal | None) -> tuple[Decimal, Decimal]:
    """(points, profit) of `pos` closed at `price`: the move in its favour in pips, and that move times
    quantity and contract size converted at `rate` (1 when None) into the desk currency, in cents."""
    move = price - pos.open_price if pos.side == "BUY" else pos.open_price - price
    # Points keep the decimals a price move can have in pips (EUR/USD: 1, Dow Jones: 2).
    places = max(0, inst.digits + int(inst.pip.as_tuple().exponent))
    points = (move / inst.pip).quantize(Decimal(1).scaleb(-places))
    profit = (move * pos.quantity * inst.contract_size * (rate or Decimal(1))).quantize(CENT, rounding=ROUND_HALF_UP)
    return points, profit


def conversion_rate(source: str, target: str, mid: Mid) -> Decimal | None:
    """Units of `target` per unit of `source` from mid prices: a direct pair, an inverse one, or
    through USD; None when the catalogue quotes no way between them."""
    if source == target:
        return Decimal(1)
    direct = mid(f"{source}/{target}")
    if direct is not None:
        return direct
    inverse = mid(f"{target}/{source}")
    if inverse is not None:
        return Decimal(1) / inverse
    if "USD" not in (source, target):
        a, b = conversion_rate(source, "USD", mid), conversion_rate("USD", target, mid)
        if a is not None and b is not None:
            return a * b
    return None


def trigger_levels(orders: list[Order], positions: list[Position], spread: Decimal, rising: bool) -> list[Decimal]:
    """The bids at which a working LIMIT/STOP order fills or an open position's exit triggers, for a bid
    moving up (`rising`) or down: the same rules as `fill` and `exit_trigger`, with the offer at
    bid + `spread` (a BUY order and a SELL position's exits watch the offer)."""
    levels: list[Decimal] = []
    for o in orders:
        if o.price is None or o.price_type not in ("LIMIT", "STOP"):
            continue
        buy = o.side == "BUY"
        # LIMIT: BUY when the offer falls to the price, SELL when the bid rises to it; STOP the other way.
        wanted = (not rising) if (o.price_type == "LIMIT") == buy else rising
        if wanted:
            levels.append(o.price - spread if buy else o.price)
    for p in positions:
        shift = Decimal(0) if p.side == "BUY" else spread
        stop_rising = p.side == "SELL"  # a BUY position's stop is below the market, a SELL's above
        if p.exit_stop_loss is not None and rising == stop_rising:
            levels.append(p.exit_stop_loss - shift)
        if p.exit_target is not None and rising != stop_rising:
            levels.append(p.exit_target - shift)
    return levels
