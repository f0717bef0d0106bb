"""pytest: `--broker-record-mode` (ini `broker_record_mode`) and the `broker_cassette` fixture.

    @pytest.mark.broker_cassette("instaforex")            # api; optional path=, base_url=, exhausted=
    def test_bot(broker_cassette):                        # requests to the API's URL now replay (or record)
        run_my_bot("https://client-api.instaforex.com/")

The cassette defaults to `cassettes/<test module>/<test name>.yaml` next to the test file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cassette import RECORD_MODES, CassetteError, load
from .inprocess import InProcess
from .profile import profile_for
from .session import RecordingSession


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("broker-mocks")
    group.addoption(
        "--broker-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="record mode of broker_cassette: none (replay only, the default), once, new_episodes, all",
    )
    parser.addini("broker_record_mode", "record mode of broker_cassette when --broker-record-mode is not given")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "broker_cassette(api, path=None, base_url=None, exhausted='repeat'): the cassette of the broker_cassette fixture",
    )


def record_mode(config: pytest.Config) -> str:
    """The option, else the ini key, else `none`."""
    mode = config.getoption("broker_record_mode", None) or config.getini("broker_record_mode") or "none"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"broker_record_mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
    return str(mode)


def default_path(request: pytest.FixtureRequest) -> Path:
    """cassettes/<module>/<test name>.yaml beside the test file."""
    item: pytest.Item = request.node  # a function-scoped fixture's node is its test (pytest types it Any)
    name = re.sub(r"[^\w.-]+", "_", item.name).strip("_")
    return item.path.parent / "cassettes" / item.path.stem / f"{name}.yaml"


@pytest.fixture
def broker_cassette(request: pytest.FixtureRequest) -> Iterator[InProcess]:
    """Requests to the broker's URL answered from the test's cassette (or recorded, by the record mode)."""
    item: pytest.Item = request.node  # the test (a function-scoped fixture's node; pytest types it Any)
    marker = item.get_closest_marker("broker_cassette")
    kwargs = dict(marker.kwargs) if marker else {}
    api = kwargs.pop("api", None) or (marker.args[0] if marker and marker.args else None)
    path = Path(kwargs.pop("path", None) or default_path(request))
    if api is None:
        if not path.exists():
            raise pytest.UsageError(
                f"{item.nodeid}: mark the test @pytest.mark.broker_cassette('streamster' or 'instaforex')"
            )
        api = load(path).api
    profile = profile_for(api)
    base_url = kwargs.pop("base_url", None) or profile.default_upstream
    try:
        session = RecordingSession(
            profile, path, record_mode(request.config), upstream=base_url, exhausted=kwargs.pop("exhausted", "repeat"),
            patterns=kwargs.pop("scrub", ()), secrets=kwargs.pop("secrets", ()),
        )  # fmt: skip
    except CassetteError as exc:  # a missing or bad cassette: one line that says what to do, not a traceback
        pytest.fail(f"{item.nodeid}: {exc}", pytrace=False)
    with InProcess(session, base_url) as route:
        yield route
    if session.refused:
        pytest.fail("\n".join(session.refused), pytrace=False)
