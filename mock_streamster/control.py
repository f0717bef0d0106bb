"""The Streamster control plane: the common operations (mock_common.control) plus prices,
scenarios, columns and charts, each declared once as a Python method and a /_mock/ route."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from mock_common.clock import ClockMode
from mock_common.control import BaseController, Param, changes, flag, reads, route, text
from mock_common.faults import FaultPlan
from mock_common.files import inline
from mock_common.journal import Journal

from .contract import OPERATIONS
from .errors import ScenarioError, StreamsterError
from .lockstep import ApiCalls
from .platform import Platform
from .scenario import Scenario, scenario_from_dict

log = logging.getLogger(__name__)


def _closed(controller: Controller, result: Any) -> dict[str, Any]:
    return {"closed": controller.closed_charts()}


class Controller(BaseController):
    """Control operations over one platform, its fault plan and its journal."""

    emulator = "streamster"
    operations = OPERATIONS
    fault_kinds = ("fault", "http", "delay", "drop")
    errors = (StreamsterError, ScenarioError)

    def __init__(self, platform: Platform, journal: Journal) -> None:
        self.platform = platform
        self.api = ApiCalls(platform)  # what the wire calls: the lockstep clock, the end of the history
        super().__init__(journal, platform.seed)

    # ------------------------------------------------------------------ the common operations

    def _reset_state(self) -> None:
        self.platform.reset()

    def _advance(self, seconds: float) -> datetime:
        return self.platform.advance(seconds)

    def now(self) -> datetime:
        """The platform's clock."""
        return self.platform.now()

    def summary(self) -> dict[str, Any]:
        """Clock, seed, scenario and counts."""
        p = self.platform
        return {
            "clock": p.clock.mode,
            "seed": p.seed,
            "scenario": p.scenario.source,
            "orders": len(p.orders),
            "positions": len(p.positions),
            "trades": len(p.trades),
        }

    def snapshot(self) -> dict[str, Any]:
        """The platform state as JSON-ready data."""
        with self.lock:
            return self.platform.snapshot()

    def _restore(self, data: dict[str, Any]) -> None:
        self.platform.restore(data)

    def configure(
        self,
        seed: int | None = 0,
        clock: ClockMode = "virtual",
        scenario: Scenario | str | Path | dict[str, Any] | None = None,
    ) -> None:
        """Become what a new emulator with these arguments would be (fault draws and journal too);
        reset() goes back to that from now on."""
        with self.lock:
            self.platform.configure(seed, clock, scenario)
            self.faults = FaultPlan(self.platform.seed, self.operations, self.fault_kinds)
            self.journal.reset()

    # ------------------------------------------------------------------ prices

    @changes
    def set_price(self, instrument: str, bid: Any, offer: Any = None) -> None:
        """Set an instrument's bid (and offer; default bid + spread) now."""
        self.platform.set_price(instrument, bid, offer)

    @changes
    def move_price(self, instrument: str, pips: Any) -> None:
        """Move an instrument's price by `pips`."""
        self.platform.move_price(instrument, pips)

    @route(
        "POST", "price", Param("instrument", text), Param("bid", required=False), Param("offer", required=False),
        Param("pips", required=False),
    )  # fmt: skip
    @changes
    def price(self, instrument: str, bid: Any = None, offer: Any = None, pips: Any = None) -> dict[str, str]:
        """Set a price (`bid`, `offer`) or move it by `pips`; returns the quote's bid and offer."""
        if pips is not None:
            self.platform.move_price(instrument, pips)
        elif bid is None:
            raise ValueError("price needs 'bid' (and optionally 'offer') or 'pips'")
        else:
            self.platform.set_price(instrument, bid, offer)
        q = self.platform.get_quote(instrument)
        return {"instrument": instrument, "bid": str(q.bid), "offer": str(q.offer)}

    # ------------------------------------------------------------------ scenarios

    @changes
    def load_scenario(self, scenario: Scenario | str | Path | dict[str, Any]) -> None:
        """Play a scenario (a file path or its parsed content) from its start; reset() goes back to
        the constructor's."""
        self.platform.load_scenario(scenario)

    @route(
        "POST", "scenario", Param("path", text, required=False), Param("scenario", required=False, arg="content"),
        reply=lambda c, result: c.state(),
    )  # fmt: skip
    def play_scenario(self, path: str | None = None, content: Any = None) -> None:
        """Play a scenario file (`path`) or a scenario's content (`scenario`) from its start."""
        if path is not None:
            try:
                self.load_scenario(path)
            except ScenarioError as exc:  # the file may be anything: say where and why, never what it holds
                raise exc.without_values() from None
        elif content is not None:
            self.load_scenario(scenario_from_dict(content, None, inline("scenario")))
        else:
            raise ValueError("scenario needs 'path' (a scenario file) or 'scenario' (its content)")

    # ------------------------------------------------------------------ windows

    @route("GET", "columns")
    @reads
    def columns(self) -> dict[str, list[str]]:
        """The visible columns of each window."""
        return {window: list(names) for window, names in self.platform.columns.items()}

    @route(
        "POST", "columns", Param("window", text), Param("names"),
        reply=lambda c, visible: {"window": visible[0], "visible": visible[1]},
    )  # fmt: skip
    @changes
    def show_columns(self, window: str, names: list[str]) -> tuple[str, list[str]]:
        """Show exactly `names` in `window`: (window, the columns now visible)."""
        return window, self.platform.set_columns(window, names)

    @changes
    def set_columns(self, window: str, names: list[str]) -> list[str]:
        """Show exactly `names` in `window`."""
        return self.platform.set_columns(window, names)

    @route(
        "POST", "charts", Param("instrument", text), Param("period", text), Param("open", flag, required=False),
        reply=_closed,
    )  # fmt: skip
    @changes
    def chart(self, instrument: str, period: str, open: bool = False) -> None:
        """Close a chart (GetBars on it faults), or open it again with `open`."""
        if open:
            self.platform.open_chart(instrument, period)
        else:
            self.platform.close_chart(instrument, period)

    @changes
    def close_chart(self, instrument: str, period: str) -> None:
        """Close a chart, so GetBars on it faults."""
        self.platform.close_chart(instrument, period)

    @changes
    def open_chart(self, instrument: str, period: str) -> None:
        """Open a chart again."""
        self.platform.open_chart(instrument, period)

    @reads
    def closed_charts(self) -> list[str]:
        """The closed charts, as 'instrument Period'."""
        return sorted(f"{i} {p}" for i, p in self.platform.closed_charts)
