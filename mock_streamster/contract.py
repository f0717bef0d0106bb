"""The Streamster API's vocabulary: its operation names, as the WSDL and the contract list them.

The wire, the control plane (fault targets, journal), persistence and recording read the names
from here; `soap.py` implements one spyne method per name.
"""

from __future__ import annotations

NS = "http://www.novativa.com/ws/streamsterapi"
OPERATIONS = (
    "GetQuote", "GetOrders", "GetTrades", "GetPositions", "GetDesks", "GetBars", "GetLastMessage",
    "SendOrder", "ChangeOrder", "CancelOrder", "ChangePosition", "ClosePosition",
)  # fmt: skip
#: Operations that only read (GetLastMessage reads and clears the message, so it is not one).
READS = tuple(op for op in OPERATIONS if op.startswith("Get") and op != "GetLastMessage")


def canonical(name: str) -> str | None:
    """The operation `name` spells (case-insensitive), or None."""
    return _BY_LOWER.get(name.lower())


_BY_LOWER = {op.lower(): op for op in OPERATIONS}
