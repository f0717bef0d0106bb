"""pytest fixtures for the InstaForex emulator (registered through the pytest11 entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import InstaForexMock


@pytest.fixture(scope="session")
def instaforex_server() -> Iterator[InstaForexMock]:
    """One emulator with the demo accounts for the whole session; reset it between tests."""
    with InstaForexMock() as mock:
        yield mock


@pytest.fixture
def instaforex_mock(instaforex_server: InstaForexMock) -> InstaForexMock:
    """The session's emulator, reset to its start for this test."""
    instaforex_server.reset()
    return instaforex_server
