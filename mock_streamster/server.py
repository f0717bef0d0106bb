"""`StreamsterMock`: the emulator on a port, in a background thread, with its control operations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mock_common.clock import Clock, ClockMode
from mock_common.handle import MockServer
from mock_common.journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, Journal
from mock_common.peers import is_loopback

from .control import Controller
from .errors import ScenarioError
from .lockstep import parse_steps
from .persist import StreamsterState, open_state, restore
from .platform import Platform
from .scenario import Scenario, scenario_with_history
from .soap import fault_xml
from .wire import StreamsterHttp, endpoint_address

log = logging.getLogger(__name__)


def _error_body(code: int, text: str) -> tuple[str, bytes]:
    """What the server itself refuses (malformed framing, 503), as a SOAP fault."""
    return "text/xml; charset=utf-8", fault_xml("Client" if code < 500 else "Server", text)


class StreamsterMock(MockServer):
    """A Streamster API emulator serving on host:port (0 = a free port).

    The lifecycle, the journal assertions and the common control operations (reset, advance, fail,
    clear_faults, snapshot, restore, state) are `MockServer`'s; the rest are the Streamster ones.

    Use as a context manager (`with StreamsterMock(seed=7) as mock:`) or call `start()`/`stop()`.
    `speed` (virtual clock only): virtual seconds per wall-clock second; the clock runs by itself.
    With `state=FILE` the whole state lives in that SQLite file: saved before each reply, restored
    on the next start (which then needs only `state`: the file holds the seed, scenario, clock and speed).
    `history` ({instrument: path or {path, format, timezone, spread, digits}}, the scenario key's
    shape) plays price history files as the market; `step` ({"GetQuote": 3600} or "GetQuote=1h")
    makes each call of a read operation move the virtual clock (lockstep.py).
    """

    title = "Streamster emulator"
    controller: Controller

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = 0,
        clock: ClockMode | None = None,
        scenario: Scenario | str | Path | dict[str, Any] | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
        threads: int = 16,
        speed: float | None = None,
        state: str | Path | None = None,
        history: dict[str, Any] | None = None,
        step: Any = None,
    ) -> None:
        saved = None
        steps = parse_steps(step)  # a bad step or history is refused before anything is built
        scenario_argument = scenario
        if history:
            if state is not None:
                raise ScenarioError("a state file cannot hold price history files: give history or state, not both")
            scenario = scenario_with_history(scenario, history)
        if state is not None:
            file, seed, clock, speed, scenario, saved = open_state(state, seed, clock, speed, scenario)
            scenario_argument = scenario
        try:
            self.platform = Platform(seed=seed, clock=Clock(clock or "virtual", speed=speed), scenario=scenario)
            if isinstance(self.platform.scenario, Scenario) and self.platform.scenario.history and state is not None:
                raise ScenarioError("a state file cannot hold price history files: give history or state, not both")
            self.controller = Controller(self.platform, Journal(journal_size, journal_bytes))
            self.controller.api.steps = steps
            self.arguments: dict[str, Any] = {
                "seed": seed, "clock": self.platform.clock.mode, "scenario": scenario_argument,
                "history": history or None, "step": step or None,
            }  # fmt: skip
            if state is not None:
                if saved is not None:
                    restore(self.platform, saved, file.version)
                self._keep_state(file, StreamsterState(self.platform))
            # The WSDL names the bound port, known once bound: the application is made just after.
            self._serve(lambda environ, start_response: self.app(environ, start_response), host, port, threads,
                        "mock-streamster", _error_body, inline=self._serves_inline)  # fmt: skip
        except BaseException:
            if state is not None:
                self._drop_state(file)
            raise
        self.app = StreamsterHttp(self.controller, endpoint_address(host, self.port))
        if not is_loopback(host):
            log.warning(
                "bound to %s: the Streamster API refuses every peer but the local computer, so remote "
                "requests will get 403", host,
            )  # fmt: skip

    def _serves_inline(self, method: str, path: str) -> bool:
        """Whether the server's event loop serves this request itself (WSGIServer's `inline`).

        A SOAP call is served by the event loop that read it, in the order calls come, with no
        hand-off to a worker thread and back: those hand-offs (a condition variable, the interpreter
        lock, a wake-up pipe) cost about as much as the call itself, and the calls take turns on the
        platform's lock anyway. A queued delay fault sleeps, so while one is queued every call goes
        to a worker; so do the WSDL, the control plane and the dashboard (whose event stream stays open).
        """
        return method == "POST" and path == "/endpoint" and not self.controller.faults.delays()

    # ------------------------------------------------------------------ lifecycle

    @property
    def wsdl_url(self) -> str:
        """Where the WSDL is served."""
        return f"{self.url}/service.wsdl"

    @property
    def endpoint_url(self) -> str:
        """Where SOAP requests are POSTed (the WSDL's soap:address)."""
        return f"{self.url}/endpoint"

    # ------------------------------------------------------------------ control operations

    def configure(
        self, seed: int | None = 0, clock: ClockMode = "virtual", scenario: Scenario | str | Path | dict[str, Any] | None = None,
        history: dict[str, Any] | None = None, step: Any = None,
    ) -> None:  # fmt: skip
        """Become what `StreamsterMock(seed=..., clock=..., scenario=..., history=..., step=...)` on this
        address would be (fault draws and journal included); reset() goes back to that from now on."""
        steps = parse_steps(step)
        self.controller.configure(seed, clock, scenario_with_history(scenario, history))
        self.controller.api.steps = steps
        self.arguments = {"seed": seed, "clock": clock, "scenario": scenario, "history": history or None,
                          "step": step or None}  # fmt: skip

    @property
    def steps(self) -> dict[str, float]:
        """The lockstep steps in force: {operation: seconds}."""
        return dict(self.controller.api.steps)

    @steps.setter
    def steps(self, value: Any) -> None:
        self.controller.api.steps = parse_steps(value)

    def set_price(self, instrument: str, bid: Any, offer: Any = None) -> None:
        """Set an instrument's bid and offer now (offer defaults to bid + spread)."""
        self.controller.set_price(instrument, bid, offer)

    def move_price(self, instrument: str, pips: Any) -> None:
        """Move an instrument's price by `pips`."""
        self.controller.move_price(instrument, pips)

    def load_scenario(self, scenario: Scenario | str | Path | dict[str, Any]) -> None:
        """Play a scenario from its start (reset() goes back to the constructor's)."""
        self.controller.load_scenario(scenario)

    def set_columns(self, window: str, names: list[str]) -> list[str]:
        """Show exactly these columns in a window (Rates, Orders, Trades, Positions)."""
        return self.controller.set_columns(window, names)

    def close_chart(self, instrument: str, period: str) -> None:
        """Close a chart: GetBars on it faults."""
        self.controller.close_chart(instrument, period)

    def open_chart(self, instrument: str, period: str) -> None:
        """Open a chart again."""
        self.controller.open_chart(instrument, period)
