"""Typed errors of the Streamster emulator."""

from __future__ import annotations

from mock_common.files import UserFileError


class StreamsterError(Exception):
    """A request the platform refuses; it becomes a SOAP Client fault and changes nothing."""


class ScenarioError(UserFileError):
    """A scenario or tick file that cannot be loaded: the file, line and column, key path and reason
    (`mock_common.files`' one wording); a ValueError."""
