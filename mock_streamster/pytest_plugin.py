"""pytest fixtures for the Streamster emulator (registered through the pytest11 entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import StreamsterMock


@pytest.fixture(scope="session")
def streamster_server() -> Iterator[StreamsterMock]:
    """One emulator for the whole session (virtual clock, seed 0); reset it between tests."""
    with StreamsterMock() as mock:
        yield mock


@pytest.fixture
def streamster_mock(streamster_server: StreamsterMock) -> StreamsterMock:
    """The session's emulator, reset to its start for this test."""
    streamster_server.reset()
    return streamster_server
