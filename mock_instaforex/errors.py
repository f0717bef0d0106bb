"""Typed errors of the InstaForex emulator."""

from __future__ import annotations


class StoreError(ValueError):
    """An account store (fixture) or a change to it that cannot be accepted; names field and value."""


class BadRequestError(ValueError):
    """A request the API answers with 400 and {"Message": ...}."""


class AccessDeniedError(Exception):
    """A request the API answers with "Access denied" (403, or 200 in compatibility mode)."""
