"""An emulator of the InstaForex Client Cabinet API (tokens, passkey, access levels, data methods)."""

from .errors import StoreError
from .server import InstaForexMock
from .store import Store

__all__ = ["InstaForexMock", "Store", "StoreError"]
