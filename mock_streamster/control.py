"""The control plane: test and offline operations on a running emulator (not the real API).

`Controller` holds them once; the server handle exposes them as Python methods and the wire
exposes the same under /_mock/ as JSON.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from mock_common.clock import ClockMode
from mock_common.faults import FaultPlan, FaultRule
from mock_common.journal import Journal

from .platform import Platform
from .scenario import Scenario
from .soap import OPERATIONS

log = logging.getLogger(__name__)
MAX_DELAY = 600.0  # seconds an injected delay may hold a request: enough for any client timeout
F = TypeVar("F", bound=Callable[..., Any])


def _changes(method: F) -> F:
    """A state-changing operation: the state is saved (`on_change`) before it returns."""

    @functools.wraps(method)
    def wrapper(self: Controller, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.on_change()

    return wrapper  # type: ignore[return-value]


class Controller:
    """Control operations over one platform, its fault plan and its journal."""

    def __init__(self, platform: Platform, journal: Journal, faults: FaultPlan) -> None:
        self.platform = platform
        self.journal = journal
        self.faults = faults
        self.on_change: Callable[[], None] = lambda: None  # the state file's commit, with --state

    @_changes
    def reset(self) -> None:
        """Back to what the constructor built (its seed, scenario and clock); queued faults and the
        journal are cleared and the fault draws start again from the seed."""
        self.platform.reset()
        self.faults.reset()
        self.journal.reset()

    def configure(
        self, seed: int | None = 0, clock: ClockMode = "virtual", scenario: Scenario | str | Path | None = None
    ) -> None:
        """Become what a new emulator with these arguments would be (fault draws and journal too);
        reset() goes back to that from now on."""
        self.platform.configure(seed, clock, scenario)
        self.faults = FaultPlan(self.platform.seed, OPERATIONS)
        self.journal.reset()

    @_changes
    def set_price(self, instrument: str, bid: Any, offer: Any = None) -> None:
        """Set an instrument's bid (and offer; default bid + spread) now."""
        self.platform.set_price(instrument, bid, offer)

    @_changes
    def move_price(self, instrument: str, pips: Any) -> None:
        """Move an instrument's price by `pips`."""
        self.platform.move_price(instrument, pips)

    @_changes
    def advance(self, seconds: float) -> datetime:
        """Move the clock forward, playing every tick on the way."""
        return self.platform.advance(seconds)

    @_changes
    def load_scenario(self, scenario: Scenario | str | Path | dict[str, Any]) -> None:
        """Play a scenario (a file path or its parsed content) from its start; reset() goes back to
        the constructor's."""
        self.platform.load_scenario(scenario)

    @_changes
    def set_columns(self, window: str, names: list[str]) -> list[str]:
        """Show exactly `names` in `window`."""
        return self.platform.set_columns(window, names)

    @_changes
    def close_chart(self, instrument: str, period: str) -> None:
        """Close a chart, so GetBars on it faults."""
        self.platform.close_chart(instrument, period)

    @_changes
    def open_chart(self, instrument: str, period: str) -> None:
        """Open a chart again."""
        self.platform.open_chart(instrument, period)

    def fail(
        self,
        operation: str,
        kind: str = "fault",
        times: int | None = 1,
        probability: float | None = None,
        **params: Any,
    ) -> FaultRule:
        """Queue a failure for `operation` ('*' for all).

        kind: 'fault' (SOAP fault: code Server|Client, message), 'http' (status, message), 'delay'
        (seconds, then served normally) or 'drop' (connection reset, no response); for the next
        `times` calls, or each call with `probability` drawn from the seed.
        """
        if kind == "malformed":
            raise ValueError("fault kind 'malformed' is for the InstaForex emulator; use fault, http, delay or drop")
        if "seconds" in params:
            seconds = params["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_DELAY:
                raise ValueError(f"seconds must be a number from 0 to {MAX_DELAY:.0f}, not {seconds!r}")
        if "status" in params:
            try:
                params["status"] = int(params["status"])
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"status must be an HTTP status (100-599), not {params['status']!r}") from None
        return self.faults.add(operation, kind=kind, times=times, probability=probability, **params)

    def clear_faults(self) -> None:
        """Drop every queued failure."""
        self.faults.clear()

    def snapshot(self) -> dict[str, Any]:
        """The platform state as JSON-ready data."""
        return self.platform.snapshot()

    @_changes
    def restore(self, data: dict[str, Any]) -> None:
        """Put the platform back in a snapshot's state."""
        self.platform.restore(data)

    def state(self) -> dict[str, Any]:
        """A short summary: clock, seed, counts."""
        p = self.platform
        return {
            "now": p.now().isoformat(),
            "clock": p.clock.mode,
            "seed": p.seed,
            "scenario": p.scenario.source,
            "operations": list(OPERATIONS),
            "orders": len(p.orders),
            "positions": len(p.positions),
            "trades": len(p.trades),
            "journal": {"size": len(self.journal), "max": self.journal.maxlen, "total": self.journal.total},
        }
