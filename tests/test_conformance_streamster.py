"""The reference client against the Streamster emulator, step by step against the model."""

from __future__ import annotations

from broker_mocks.conformance.streamster import StreamsterMachine
from mock_streamster import StreamsterMock

# Bound now (the URL is known at class definition), served only while this module runs.
_SERVER = StreamsterMock(seed=0)


def setup_module() -> None:
    _SERVER.start()


def teardown_module() -> None:
    _SERVER.stop()


class ReferenceClientMachine(StreamsterMachine):
    base_url = _SERVER.url


TestStreamsterConformance = ReferenceClientMachine.TestCase
