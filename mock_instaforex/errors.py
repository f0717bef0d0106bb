"""Typed errors of the InstaForex emulator."""

from __future__ import annotations

from mock_common.files import UserFileError


class StoreError(UserFileError):
    """An account store (fixture) or a change to it that cannot be accepted: the file (or the inline
    content's name), line and column, key path and reason (`mock_common.files`' one wording); a ValueError."""


class BadRequestError(ValueError):
    """A request the API answers with 400 and {"Message": ...}."""


class AccessDeniedError(Exception):
    """A request the API answers with "Access denied" (403, or 200 in compatibility mode).

    The real service says no more; `reason` says why (unknown login, wrong password, token expired,
    ...) for the journal, the failure report and the dashboard, never for the wire.
    """

    def __init__(self, reason: str = "access denied") -> None:
        super().__init__(reason)
        self.reason = reason
