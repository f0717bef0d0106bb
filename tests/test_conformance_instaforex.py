"""The reference client against the InstaForex emulator, step by step against the model."""

from __future__ import annotations

from conformance.instaforex import InstaForexMachine
from mock_instaforex import InstaForexMock

_SERVER = InstaForexMock(seed=0).start()


class ReferenceClientMachine(InstaForexMachine):
    base_url = _SERVER.url


TestInstaForexConformance = ReferenceClientMachine.TestCase
