"""Hypothesis strategies for InstaForex data; they live in `conformance.strategies.instaforex`
(data only, no emulator code) and are importable from here as well."""

from conformance.strategies.instaforex import (
    SYMBOLS,
    account_stores,
    accounts,
    ago,
    date_ranges,
    ip_masks,
    money,
    rel,
    trades,
)  # fmt: skip

__all__ = ["SYMBOLS", "account_stores", "accounts", "ago", "date_ranges", "ip_masks", "money", "rel", "trades"]
