"""pytest fixtures, marker and options for the Streamster emulator (registered through pytest11).

- `streamster_server` (session): one emulator per test session (per xdist worker), on a free port.
- `streamster_mock`: that emulator, reset to its constructor's state for each test, or set up as
  the test's `@pytest.mark.streamster(seed=..., scenario=..., clock=..., history=...)` says (scenario:
  a file beside the test, a built-in name such as "day", or an inline mapping).
- `streamster_client`: the reference client (`broker_mocks.client.StreamsterClient`) bound to it.
- `streamster_responses`: `http://127.0.0.1:8018/` (the real API's address) routed in process
  through `responses`, so a zeep bot with that URL hard-coded runs unchanged, no port.
- `streamster_options` (session): the constructor's arguments; override it in a conftest.py.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_common import pytest_plugin as common
from mock_common.files import check

from .data import SCENARIOS
from .errors import ScenarioError
from .scenario import Scenario, scenario_from_dict
from .server import StreamsterMock

URLS = ("http://127.0.0.1:8018/",)


def _scenario(content: dict[str, Any], marked: common.Marked, what: str) -> Scenario:
    """An inline scenario, checked as a file would be (relative tick paths from the test's folder)."""
    return scenario_from_dict(content, Path(str(marked.item.path)).parent, marked.source("scenario"))


def _history(value: Any, marked: common.Marked) -> Any:
    """Instrument to a history file, or to {path, format, timezone, spread, digits} (paths beside the test)."""
    check(value, "scenario", ScenarioError, None, at="#/properties/history")
    if "history" not in inspect.signature(marked.server.configure).parameters:
        raise ScenarioError("this version of the emulator reads no price history")
    return {
        name: marked.path(entry) if isinstance(entry, str) else {**entry, "path": marked.path(entry["path"])}
        for name, entry in value.items()
    }


# What @pytest.mark.streamster takes, each value checked before the emulator is touched.
MARKER_ARGUMENTS: dict[str, common.Check] = {
    "seed": common.whole_number(0, 2**64 - 1),
    "scenario": common.data_file(SCENARIOS, _scenario),
    "clock": common.choice("virtual", "real"),
    "history": _history,
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


streamster_server, streamster_mock = common.emulator_fixtures("streamster", StreamsterMock, MARKER_ARGUMENTS)


@pytest.fixture(scope="session")
def _streamster_clients() -> dict[str, Any]:
    return {}


@pytest.fixture
def streamster_client(streamster_mock: StreamsterMock, _streamster_clients: dict[str, Any]) -> Any:
    """The reference client (`broker_mocks.client.StreamsterClient`) bound to `streamster_mock` (its WSDL is
    read once per session)."""
    from broker_mocks.client import StreamsterClient

    url = streamster_mock.wsdl_url
    if url not in _streamster_clients:
        _streamster_clients[url] = StreamsterClient(url, timeout=10)
    return _streamster_clients[url]


_APPS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def in_process_app(mock: StreamsterMock) -> Any:
    """A WSGI app over the emulator's controller whose WSDL names http://127.0.0.1:8018/endpoint."""
    from .wire import StreamsterHttp, endpoint_address

    app = _APPS.get(mock)
    if app is None or app.controller is not mock.controller:
        app = _APPS[mock] = StreamsterHttp(mock.controller, endpoint_address("127.0.0.1", 8018))
    return app


@pytest.fixture
def streamster_responses(streamster_mock: StreamsterMock, broker_responses: Any) -> common.InProcessRoute:
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
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    common.add_report_section(
        item, outcome.get_result(), ("streamster_mock", "streamster_server"), "streamster", _section
    )
