"""Hypothesis strategies for the Streamster API; they live in `conformance.strategies.streamster`
(data only, no emulator code) and are importable from here as well."""

from conformance.strategies.streamster import (
    DESKS,
    INSTRUMENTS,
    INVALID_RULES,
    OrderSpec,
    break_rule,
    build_order,
    entry_price,
    instruments,
    invalid_orders,
    order_specs,
    position_changes,
    price_paths,
    prices,
)  # fmt: skip

__all__ = [
    "DESKS", "INSTRUMENTS", "INVALID_RULES", "OrderSpec", "break_rule", "build_order", "entry_price", "instruments",
    "invalid_orders", "order_specs", "position_changes", "price_paths", "prices",
]  # fmt: skip
