"""pytest fixtures, marker and options for the Streamster emulator (registered through pytest11).

- `streamster_server` (session): one emulator per test session (per xdist worker), on a free port.
- `streamster_mock`: that emulator, reset to its constructor's state for each test, or set up as
  the test's `@pytest.mark.streamster(seed=..., scenario=..., clock=..., history=...)` says (scenario:
  a file beside the test, a built-in name such as "day", or an inline mapping).
- `streamster_client`: the reference client (`broker_mocks.client.StreamsterClient`) bound to it.
- `streamster_responses`: `http://127.0.0.1:8018/` (the real API's address) routed in process
  through `responses`, so a zeep bot with that URL hard-coded runs unchanged, no port.
- `streamster_options` (session): the constructor's arguments; override it in a conftest.py.
- `streamster_time`: the test's own clock tied to the emulator's virtual clock (time-machine
  underneath): `datetime.now()` and `time.time()` read virtual time, and `time.sleep(3600)` in the
  test's thread moves the emulator an hour at once, so a Python bot runs through history unchanged.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
import pytest

from mock_common import pytest_plugin as common
from mock_common.files import check

from .data import SCENARIOS
from .errors import ScenarioError
from .lockstep import parse_steps
from .scenario import Scenario, scenario_from_dict
from .server import StreamsterMock
from .wire import StreamsterHttp

if TYPE_CHECKING:  # for annotations only: each is imported when a test first asks for its fixture
    from responses import RequestsMock
    from time_machine import Traveller

    from broker_mocks.client import StreamsterClient

URLS = ("http://127.0.0.1:8018/",)


def _scenario(content: dict[str, Any], marked: common.Marked[StreamsterMock], what: str) -> Scenario:
    """An inline scenario, checked as a file would be (relative tick paths from the test's folder)."""
    return scenario_from_dict(content, Path(str(marked.item.path)).parent, marked.source("scenario"))


def _history(value: Any, marked: common.Marked[StreamsterMock]) -> dict[str, Any]:
    """Instrument to a history file, or to {path, format, timezone, spread, digits} (paths beside the test)."""
    check(value, "scenario", ScenarioError, None, at="#/properties/history")
    return {
        name: marked.path(entry) if isinstance(entry, str) else {**entry, "path": marked.path(entry["path"])}
        for name, entry in value.items()
    }


def _step(value: Any, marked: common.Marked[StreamsterMock]) -> Any:
    """Lockstep steps: `GetQuote=1h`, several such texts, or {operation: duration}."""
    try:
        parse_steps(value)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    return value


# What @pytest.mark.streamster takes, each value checked before the emulator is touched.
MARKER_ARGUMENTS: dict[str, common.Check] = {
    "seed": common.whole_number(0, 2**64 - 1),
    "scenario": common.data_file(SCENARIOS, _scenario),
    "clock": common.choice("virtual", "real"),
    "history": _history,
    "step": _step,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    common.add_setting(parser, "streamster-seed", "seed of the Streamster emulator (default 0)", int, metavar="N")
    common.add_setting(
        parser, "streamster-scenario", "scenario file (or built-in: demo, day) the Streamster emulator starts from",
        metavar="PATH",
    )  # fmt: skip
    common.add_setting(parser, "streamster-clock", "virtual (default) or real clock for the Streamster emulator",
                choices=("virtual", "real"))  # fmt: skip


@pytest.fixture(scope="session")
def streamster_options(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The arguments of the session's emulator: seed, scenario, clock (options and ini keys
    `streamster_seed`, `streamster_scenario`, `streamster_clock`). Override it in a conftest.py."""

    return {
        "seed": common.setting(pytestconfig, "streamster_seed", int, 0),
        "scenario": common.setting(pytestconfig, "streamster_scenario", str, None, path=True, keep=SCENARIOS.is_name),
        "clock": common.setting(pytestconfig, "streamster_clock", common.clock_mode, "virtual"),
    }


def _complete(arguments: dict[str, Any]) -> dict[str, Any]:
    """The constructor's arguments with the defaults filled in, so they compare whole."""
    return {"history": None, "step": None, **arguments}


@pytest.fixture(scope="session")
def streamster_server(streamster_options: dict[str, Any]) -> Iterator[StreamsterMock]:
    """One emulator for the whole session (each xdist worker has its own, on a free port)."""
    yield from common.serve(StreamsterMock, streamster_options)


@pytest.fixture
def streamster_mock(
    request: pytest.FixtureRequest, streamster_server: StreamsterMock, streamster_options: dict[str, Any]
) -> StreamsterMock:
    """The session's emulator as a new one would be: reset, or rebuilt as the test's @pytest.mark.streamster says."""
    return common.fresh(request, streamster_server, streamster_options, "streamster", MARKER_ARGUMENTS, _complete)


class VirtualTime:
    """The test's clock tied to an emulator's: `sleep` advances the emulator, `sync` moves the test's
    clock (time-machine's traveller) to the emulator's time."""

    def __init__(self, mock: StreamsterMock, traveller: Traveller, real_sleep: Callable[[float], None]) -> None:
        self.mock, self._traveller, self._real_sleep = mock, traveller, real_sleep
        self._thread = threading.get_ident()
        self.sync()

    @property
    def now(self) -> datetime:
        """The emulator's time, naive UTC."""
        return self.mock.platform.now()

    def sync(self) -> None:
        """Put the test's clock at the emulator's time (after the emulator moved by other means)."""
        self._traveller.move_to(self.mock.platform.clock.now().replace(tzinfo=timezone.utc))

    def sleep(self, seconds: float) -> None:
        """In the test's thread: advance the emulator by `seconds` (fills, stops, history on the way) at
        once. In any other thread (the emulator's own, a delay fault), really sleep."""
        if threading.get_ident() != self._thread:
            self._real_sleep(seconds)
            return
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"sleep length must be a non-negative number, not {seconds!r}")
        remaining = float(seconds)
        while remaining > 0:  # one advance moves at most 366 days
            step = min(remaining, 366 * 86400.0)
            self.mock.advance(step)
            remaining -= step
        self.sync()


@pytest.fixture
def streamster_time(streamster_mock: StreamsterMock, monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualTime]:
    """`streamster_mock`'s virtual clock as the test's clock: `datetime.now()`, `time.time()` and the
    like read it (time-machine), and `time.sleep(s)` in the test's thread advances the emulator by `s`
    at once. Moves made otherwise (a lockstep step, `advance`) reach the test's clock at the next sleep
    or `streamster_time.sync()`. Needs time-machine: `pip install 'broker-mocks[backtest]'`."""
    try:
        import time_machine
    except ImportError:
        pytest.fail(
            "the streamster_time fixture needs time-machine: pip install 'broker-mocks[backtest]' "
            "(or pip install time-machine)",
            pytrace=False,
        )
    real_sleep = time.sleep
    with time_machine.travel(streamster_mock.platform.clock.now().replace(tzinfo=timezone.utc), tick=False) as t:
        clock = VirtualTime(streamster_mock, t, real_sleep)
        monkeypatch.setattr(time, "sleep", clock.sleep)
        yield clock


@pytest.fixture(scope="session")
def _streamster_clients() -> dict[str, StreamsterClient]:
    return {}


@pytest.fixture
def streamster_client(
    streamster_mock: StreamsterMock, _streamster_clients: dict[str, StreamsterClient]
) -> StreamsterClient:
    """The reference client (`broker_mocks.client.StreamsterClient`) bound to `streamster_mock` (its WSDL is
    read once per session)."""
    from broker_mocks.client import StreamsterClient

    url = streamster_mock.wsdl_url
    if url not in _streamster_clients:
        _streamster_clients[url] = StreamsterClient(url, timeout=10)
    return _streamster_clients[url]


_APPS: weakref.WeakKeyDictionary[StreamsterMock, StreamsterHttp] = weakref.WeakKeyDictionary()


def in_process_app(mock: StreamsterMock) -> StreamsterHttp:
    """The emulator's WSGI application over its controller (the same code its server runs, through the
    same call pipeline), with a WSDL that names http://127.0.0.1:8018/endpoint."""
    from .wire import endpoint_address

    app = _APPS.get(mock)
    if app is None or app.controller is not mock.controller:
        app = _APPS[mock] = StreamsterHttp(mock.controller, endpoint_address("127.0.0.1", 8018))
    return app


@pytest.fixture
def streamster_responses(
    streamster_mock: StreamsterMock, broker_responses: RequestsMock
) -> common.InProcessRoute[StreamsterMock]:
    """`http://127.0.0.1:8018/` served in process by `streamster_mock` through `responses`."""
    return common.InProcessRoute(streamster_mock, in_process_app(streamster_mock), URLS, broker_responses)


def _section(mock: Any, lines: int) -> str:
    mock = getattr(mock, "mock", mock)
    p = mock.platform
    return common.describe(
        f"StreamsterMock({common.arguments_text(mock.arguments)})", p.seed, p.now().isoformat(), p.clock.mode,
        mock.journal, lines,
    )  # fmt: skip


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    common.add_report_section(
        item, outcome.get_result(), ("streamster_mock", "streamster_server"), "streamster", _section
    )
