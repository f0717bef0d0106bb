"""The reference client against the Streamster emulator, step by step against the model."""

from __future__ import annotations

from conformance.streamster import StreamsterMachine
from mock_streamster import StreamsterMock

_SERVER = StreamsterMock(seed=0).start()


class ReferenceClientMachine(StreamsterMachine):
    base_url = _SERVER.url


TestStreamsterConformance = ReferenceClientMachine.TestCase
