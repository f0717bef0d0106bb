"""Typed errors of the Streamster emulator."""

from __future__ import annotations


class StreamsterError(Exception):
    """A request the platform refuses; it becomes a SOAP Client fault and changes nothing."""


class ScenarioError(ValueError):
    """A scenario or tick file that cannot be loaded; the message names the field and value."""
