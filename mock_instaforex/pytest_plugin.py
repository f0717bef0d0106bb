"""pytest fixtures, marker and options for the InstaForex emulator (registered through pytest11).

- `instaforex_server` (session): one emulator per test session (per xdist worker), on a free port.
- `instaforex_mock`: that emulator, reset to its constructor's state for each test, or set up as
  the test's `@pytest.mark.instaforex(accounts=..., token_ttl=..., clock=..., seed=...)` says (accounts:
  a file beside the test, the built-in "demo", or an inline mapping).
- `instaforex_client`: the reference client (`broker_mocks.client.InstaForexClient`) bound to it, logged in
  as the demo account 20000001 (password `demo-pass`, client methods).
- `instaforex_responses`: the real base URLs (`https://client-api.instaforex.com/`,
  `https://client-api.contentdatapro.com/`) routed in process through `responses`, no port.
- `instaforex_options` (session): the constructor's arguments; override it in a conftest.py.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pluggy
import pytest

from mock_common import pytest_plugin as common

from .data import ACCOUNTS
from .server import InstaForexMock
from .store import Store
from .tokens import DEFAULT_TTL
from .wire import InstaForexHttp

if TYPE_CHECKING:  # for annotations only: each is imported when a test first asks for its fixture
    from responses import RequestsMock

    from broker_mocks.client import InstaForexClient

URLS = ("https://client-api.instaforex.com/", "https://client-api.contentdatapro.com/")


def _accounts(content: dict[str, Any], marked: common.Marked[InstaForexMock], what: str) -> dict[str, Any]:
    """An inline account store, checked as a file would be (and passed on as it is)."""
    Store.from_data(content, marked.server.service.now(), marked.source("accounts"))
    return content


# What @pytest.mark.instaforex takes, each value checked before the emulator is touched.
MARKER_ARGUMENTS: dict[str, common.Check] = {
    "seed": common.whole_number(0, 2**64 - 1, empty=False),
    "accounts": common.data_file(ACCOUNTS, _accounts),
    "clock": common.choice("virtual", "real"),
    "token_ttl": common.seconds,
    "token_seed": common.whole_number(0, 2**64 - 1),
    "generate": common.whole_number(1, 100_000),
}
DEMO_LOGIN, DEMO_PASSWORD = 20000001, "demo-pass"


def pytest_addoption(parser: pytest.Parser) -> None:
    common.add_setting(parser, "instaforex-seed", "seed of the InstaForex emulator (default 0)", int, metavar="N")
    common.add_setting(parser, "instaforex-accounts", "accounts file of the InstaForex emulator (default: the demo)",
                metavar="PATH")  # fmt: skip
    common.add_setting(parser, "instaforex-clock", "virtual (default) or real clock for the InstaForex emulator",
                choices=("virtual", "real"))  # fmt: skip
    common.add_setting(parser, "instaforex-token-ttl", f"token lifetime in seconds (default {DEFAULT_TTL:.0f})", float,
                metavar="SECONDS")  # fmt: skip


@pytest.fixture(scope="session")
def instaforex_options(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The arguments of the session's emulator: seed, accounts, clock, token_ttl (options and ini
    keys `instaforex_seed`, `instaforex_accounts`, `instaforex_clock`, `instaforex_token_ttl`).
    Override it in a conftest.py."""

    return {
        "seed": common.setting(pytestconfig, "instaforex_seed", int, 0),
        "accounts": common.setting(pytestconfig, "instaforex_accounts", str, None, path=True, keep=ACCOUNTS.is_name),
        "clock": common.setting(pytestconfig, "instaforex_clock", common.clock_mode, "virtual"),
        "token_ttl": common.setting(pytestconfig, "instaforex_token_ttl", float, DEFAULT_TTL),
    }


def _arguments(options: dict[str, Any]) -> dict[str, Any]:
    """Every argument `configure` takes, the options' over the constructor's defaults."""
    return {
        "seed": 0, "accounts": None, "clock": "virtual", "token_ttl": DEFAULT_TTL, "token_seed": None,
        "generate": None, **options,
    }  # fmt: skip


@pytest.fixture(scope="session")
def instaforex_server(instaforex_options: dict[str, Any]) -> Iterator[InstaForexMock]:
    """One emulator for the whole session (each xdist worker has its own, on a free port)."""
    yield from common.serve(InstaForexMock, instaforex_options)


@pytest.fixture
def instaforex_mock(
    request: pytest.FixtureRequest, instaforex_server: InstaForexMock, instaforex_options: dict[str, Any]
) -> InstaForexMock:
    """The session's emulator as a new one would be: reset, or rebuilt as the test's @pytest.mark.instaforex says."""
    return common.fresh(request, instaforex_server, instaforex_options, "instaforex", MARKER_ARGUMENTS, _arguments)


@pytest.fixture
def instaforex_client(instaforex_mock: InstaForexMock) -> Iterator[InstaForexClient]:
    """The reference client bound to `instaforex_mock`, for the demo login 20000001 (client methods);
    it requests its token on its first call."""
    from broker_mocks.client import InstaForexClient

    api = InstaForexClient(instaforex_mock.url, login=DEMO_LOGIN, password=DEMO_PASSWORD, kind="client")
    yield api
    api.session.close()


def in_process_app(mock: InstaForexMock) -> InstaForexHttp:
    """The emulator's WSGI application, the very one its server runs (/_mock/ included)."""
    return mock.http


@pytest.fixture
def instaforex_responses(
    instaforex_mock: InstaForexMock, broker_responses: RequestsMock
) -> common.InProcessRoute[InstaForexMock]:
    """The real base URLs served in process by `instaforex_mock` through `responses`."""
    return common.InProcessRoute(instaforex_mock, in_process_app(instaforex_mock), URLS, broker_responses)


def _section(mock: Any, lines: int) -> str:
    mock = getattr(mock, "mock", mock)
    return common.describe(
        f"InstaForexMock({common.arguments_text(mock.arguments)})", mock.arguments.get("seed", 0),
        mock.service.now().isoformat(), mock.service.clock.mode, mock.journal, lines,
    )  # fmt: skip


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    common.add_report_section(
        item, outcome.get_result(), ("instaforex_mock", "instaforex_server"), "instaforex", _section
    )
