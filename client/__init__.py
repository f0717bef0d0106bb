"""A reference client for the real Streamster and InstaForex Client Cabinet APIs.

Written against the real services' contracts; it never imports the emulators.
"""

from .errors import AccessDenied, ApiError, BrokerError, StreamsterFault, TransportError
from .instaforex import InstaForexClient, TradeType
from .streamster import (
    DurationType,
    NewOrder,
    OrderChange,
    OrderStatus,
    Period,
    Phase,
    PositionChange,
    PositionStatus,
    PriceType,
    QuantityType,
    Side,
    StreamsterClient,
)  # fmt: skip

__all__ = [
    "AccessDenied", "ApiError", "BrokerError", "DurationType", "InstaForexClient", "NewOrder", "OrderChange",
    "OrderStatus", "Period", "Phase", "PositionChange", "PositionStatus", "PriceType", "QuantityType", "Side",
    "StreamsterClient", "StreamsterFault", "TradeType", "TransportError",
]  # fmt: skip
