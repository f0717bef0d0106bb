"""The reference client against the InstaForex emulator, step by step against the model."""

from __future__ import annotations

from broker_mocks.conformance.instaforex import InstaForexMachine
from mock_instaforex import InstaForexMock

# Bound now (the URL is known at class definition), served only while this module runs.
_SERVER = InstaForexMock(seed=0)


def setup_module() -> None:
    _SERVER.start()


def teardown_module() -> None:
    _SERVER.stop()


class ReferenceClientMachine(InstaForexMachine):
    base_url = _SERVER.url


TestInstaForexConformance = ReferenceClientMachine.TestCase
