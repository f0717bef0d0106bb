"""`StreamsterMock`: the emulator on a port, in a background thread, with its control operations."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import Any

from mock_common.clock import Clock, ClockMode
from mock_common.faults import FaultPlan, FaultRule
from mock_common.journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, Journal, JournalEntry, Where
from mock_common.peers import is_loopback, url_host
from mock_common.persist import Persister, persisting
from mock_common.server import WSGIServer

from .control import Controller
from .persist import StreamsterState, open_state, restore
from .platform import Platform
from .scenario import Scenario
from .soap import OPERATIONS
from .wire import StreamsterHttp, endpoint_address, fault_xml

log = logging.getLogger(__name__)


class StreamsterMock:
    """A Streamster API emulator serving on host:port (0 = a free port).

    Use as a context manager (`with StreamsterMock(seed=7) as mock:`) or call `start()`/`stop()`.
    `speed` (virtual clock only): virtual seconds per wall-clock second; the clock runs by itself.
    With `state=FILE` the whole state lives in that SQLite file: saved before each reply, restored
    on the next start (which then needs only `state`: the file holds the seed and scenario).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = 0,
        clock: ClockMode | None = None,
        scenario: Scenario | str | Path | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
        threads: int = 16,
        speed: float | None = None,
        state: str | Path | None = None,
    ) -> None:
        self.persister: Persister | None = None
        saved = None
        if state is not None:
            file, seed, clock, scenario, saved = open_state(state, seed, clock, scenario)
        try:
            self.platform = Platform(seed=seed, clock=Clock(clock or "virtual", speed=speed), scenario=scenario)
            self.controller = Controller(
                self.platform, Journal(journal_size, journal_bytes), FaultPlan(self.platform.seed, OPERATIONS)
            )
            self.arguments: dict[str, Any] = {"seed": seed, "clock": self.platform.clock.mode, "scenario": scenario}
            if state is not None:
                if saved is not None:
                    restore(self.platform, saved)
                self.persister = Persister(file, StreamsterState(self.platform))
                self.persister.commit()
                self.controller.on_change = self.persister.commit
            self._server = WSGIServer(self._app_placeholder, host, port, threads=threads, name="mock-streamster")
        except BaseException:
            if state is not None:
                file.close()
            raise
        self.host, self.port = host, self._server.port
        self.app = StreamsterHttp(self.controller, endpoint_address(host, self.port))
        self._handler: Any = self.app
        if self.persister is not None:
            self._handler = persisting(self.app, self.persister.commit, _changes_state, _save_failed)
        self._started = False
        if not is_loopback(host):
            log.warning(
                "bound to %s: the Streamster API refuses every peer but the local computer, so remote "
                "requests will get 403", host,
            )  # fmt: skip

    def _app_placeholder(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._handler(environ, start_response)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "::1" if self.host == "::" else self.host
        return f"http://{url_host(host)}:{self.port}"

    @property
    def wsdl_url(self) -> str:
        """Where the WSDL is served."""
        return f"{self.url}/service.wsdl"

    @property
    def endpoint_url(self) -> str:
        """Where SOAP requests are POSTed (the WSDL's soap:address)."""
        return f"{self.url}/endpoint"

    def start(self) -> StreamsterMock:
        """Serve in a background thread."""
        if not self._started:
            self._server.start()
            self._started = True
            log.info("Streamster emulator serving %s", self.wsdl_url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port (and the state file, closed with everything saved)."""
        self._server.stop()
        self._started = False
        if self.persister is not None:
            self.persister.close()

    def __enter__(self) -> StreamsterMock:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ assertions on the journal

    def assert_called(self, operation: str, times: int | None = None, where: Where = None) -> list[JournalEntry]:
        """The calls to `operation` (case-insensitive) that `where` picks (a predicate on the entry, or text
        in the request body or path); AssertionError unless there are `times` of them (at least one
        when None), listing the calls seen, nearest first."""
        return self.controller.journal.assert_called(operation, times, where)

    def assert_not_called(self, operation: str, where: Where = None) -> None:
        """AssertionError if a call to `operation` that `where` picks was made, listing them."""
        self.controller.journal.assert_not_called(operation, where)

    # ------------------------------------------------------------------ control operations

    @property
    def journal(self) -> Journal:
        """The bounded request journal (`.entries()`, `.clear()`)."""
        return self.controller.journal

    def reset(self) -> None:
        """Back to what the constructor built: its seed, scenario and clock, fault draws included
        (a scenario loaded or a snapshot restored since is forgotten); faults and journal cleared."""
        self.controller.reset()

    def configure(
        self, seed: int | None = 0, clock: ClockMode = "virtual", scenario: Scenario | str | Path | None = None
    ) -> None:
        """Become what `StreamsterMock(seed=..., clock=..., scenario=...)` on this address would be
        (fault draws and journal included); reset() goes back to that from now on."""
        self.controller.configure(seed, clock, scenario)
        self.arguments = {"seed": seed, "clock": clock, "scenario": scenario}

    def set_price(self, instrument: str, bid: Any, offer: Any = None) -> None:
        """Set an instrument's bid and offer now (offer defaults to bid + spread)."""
        self.controller.set_price(instrument, bid, offer)

    def move_price(self, instrument: str, pips: Any) -> None:
        """Move an instrument's price by `pips`."""
        self.controller.move_price(instrument, pips)

    def advance(self, seconds: float) -> Any:
        """Move the virtual clock forward (ticks, fills, stops and expiries happen on the way)."""
        return self.controller.advance(seconds)

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

    def fail(self, operation: str, kind: str = "fault", times: int | None = 1, probability: float | None = None,
             **params: Any) -> FaultRule:  # fmt: skip
        """Queue a failure (fault, http, delay, drop) for the next `times` calls to `operation`."""
        return self.controller.fail(operation, kind, times, probability, **params)

    def clear_faults(self) -> None:
        """Drop every queued failure."""
        self.controller.clear_faults()

    def snapshot(self) -> dict[str, Any]:
        """The platform state as JSON-ready data."""
        return self.controller.snapshot()

    def restore(self, data: dict[str, Any]) -> None:
        """Restore a snapshot."""
        self.controller.restore(data)


_READS = frozenset(op.lower() for op in OPERATIONS if op.startswith("Get") and op != "GetLastMessage")


def _changes_state(environ: dict[str, Any], status: str) -> bool:
    """Whether a request may have changed the platform (a fault records its message; reads change nothing)."""
    if environ.get("PATH_INFO", "").startswith("/_mock") or environ.get("REQUEST_METHOD") != "POST":
        return False  # control operations save themselves (Controller.on_change)
    action = environ.get("HTTP_SOAPACTION", "").strip().strip('"').strip()
    operation = action.replace("#", "/").rsplit("/", 1)[-1].lower()
    return not (operation in _READS and status.startswith("200"))


def _save_failed(message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = fault_xml("Server", message)
    return (
        "500 Internal Server Error",
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
        body,
    )
