"""Shared fixtures and the skip-or-fail rule for optional environments."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from mock_instaforex import InstaForexMock
from mock_instaforex.server import demo_path
from mock_streamster import Scenario, StreamsterMock

from .ifxutil import Api


def require(flag: str, available: bool, reason: str) -> None:
    """Skip when `available` is false, unless the environment variable `flag`=1 demands it: then fail."""
    if available:
        return
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 requires it)")
    pytest.skip(reason)


def require_php() -> str:
    """The php binary with the soap extension, or skip/fail."""
    php = shutil.which("php")
    ok = False
    if php:
        import subprocess

        mods = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30).stdout.lower().split()
        ok = "soap" in mods and "curl" in mods
    require("REQUIRE_INTEROP", ok, "PHP with the soap and curl extensions is not installed")
    return php or "php"


@pytest.fixture(scope="session")
def _streamster_session() -> Iterator[StreamsterMock]:
    with StreamsterMock(seed=0) as mock:
        yield mock


@pytest.fixture
def mock(_streamster_session: StreamsterMock) -> StreamsterMock:
    """A Streamster emulator (virtual clock, seed 0, default scenario) reset to its start."""
    if _streamster_session.platform.scenario.source is not None or _streamster_session.platform.scenario != Scenario():
        _streamster_session.load_scenario(Scenario())
    _streamster_session.reset()
    return _streamster_session


@pytest.fixture(scope="session")
def _instaforex_session() -> Iterator[InstaForexMock]:
    with InstaForexMock() as mock:
        yield mock


@pytest.fixture
def ifx(_instaforex_session: InstaForexMock) -> InstaForexMock:
    """An InstaForex emulator with the demo accounts (virtual clock), reset to its start."""
    _instaforex_session.load_accounts(demo_path())  # a test may have loaded other accounts
    _instaforex_session.reset()
    return _instaforex_session


@pytest.fixture
def api(ifx: InstaForexMock) -> Api:
    """A client of `ifx` that validates every response against /openapi.json."""
    return Api(ifx.url)
