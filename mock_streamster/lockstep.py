"""The Streamster operations as the wire calls them: the lockstep clock and the end of the history.

`ApiCalls` stands between the SOAP service and the platform (the wire builds its spyne application
over `Controller.api`, not over the platform itself), so only calls that come in over the API, in
process or on a socket, move the clock or meet the end of the history; the dashboard, the control
plane and the report read the platform directly.

- Lockstep: each call of an operation named in `steps` first moves the virtual clock by its step
  (`GetQuote=1h`: every GetQuote moves an hour), then is served at the new time. A call refused
  for bad input (an unknown instrument, a period that is not one) is refused before the step and
  moves nothing. Only the read operations (Get...) take a step.
- The end of the history: once the clock is past the end of the price history, every call gets a
  Client fault saying so (a Client fault, not a Server one: retrying cannot help, and clients
  retry Server faults). The call whose step crosses the end gets it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from .contract import OPERATIONS, canonical
from .errors import StreamsterError
from .history import HistoryEndedError
from .market import Bar
from .model import Order, Position, Quote, Trade
from .platform import MAX_ADVANCE, Platform

STEP_OPERATIONS = tuple(op for op in OPERATIONS if op.startswith("Get"))
_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: Any, where: str = "step") -> float:
    """Seconds of `3600`, `90s`, `15m`, `1h`, `1d` (ValueError naming `where` otherwise)."""
    if isinstance(text, bool):
        raise ValueError(f"{where} must be a duration such as 3600, 15m, 1h or 1d, not {text!r}")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*", str(text), re.IGNORECASE)
        if m is None:
            raise ValueError(f"{where} must be a duration such as 3600, 15m, 1h or 1d, not {text!r}")
        seconds = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    if not 0 < seconds <= MAX_ADVANCE:
        raise ValueError(f"{where} must be more than 0 and at most 366 days, not {text!r}")
    return seconds


def parse_steps(steps: str | Iterable[str] | Mapping[str, Any] | None) -> dict[str, float]:
    """{operation: seconds} from `GetQuote=1h` texts (one, or several) or a mapping; ValueError names
    what is wrong."""
    if steps is None:
        return {}
    if isinstance(steps, str):
        steps = [steps]
    pairs: list[tuple[str, Any]] = []
    if isinstance(steps, Mapping):
        pairs = list(steps.items())
    else:
        for text in steps:
            name, sep, duration = str(text).partition("=")
            if not sep:
                raise ValueError(f"a step is OPERATION=DURATION (GetQuote=1h), not {text!r}")
            pairs.append((name, duration))
    result: dict[str, float] = {}
    for name, duration in pairs:
        operation = canonical(str(name).strip())
        if operation not in STEP_OPERATIONS:
            raise ValueError(f"step operation {name!r} is not one of the read operations {', '.join(STEP_OPERATIONS)}")
        result[operation] = parse_duration(duration, f"step {operation}")
    return result


class ApiCalls:
    """The platform's twelve operations with the lockstep step and the end-of-history fault in front.

    Everything else (the instruments, the visible columns the writer reads) is the platform's."""

    def __init__(self, platform: Platform, steps: Mapping[str, float] | None = None) -> None:
        self.platform = platform
        self.steps: dict[str, float] = dict(steps or {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self.platform, name)

    def _ended(self) -> None:
        p = self.platform
        end = p.history_end
        if end is not None and p.clock.now() > end:
            raise HistoryEndedError(
                f"The price history ended at {end.isoformat()} (the clock is at {p.now().isoformat()}): "
                "the backtest is over, and no call is served after it."
            )

    def _enter(self, operation: str, check: Callable[[], Any] | None = None) -> None:
        """Before serving `operation`: the end of the history, then its step (after `check`, which
        raises for a call that would be refused, so a refused call moves nothing)."""
        self._ended()
        step = self.steps.get(operation)
        if step:
            if check is not None:
                check()
            try:
                self.platform.advance(step)
            except ValueError as exc:  # past the year 9998, or too many random-walk ticks at once
                raise StreamsterError(f"The lockstep step of {operation} cannot be taken: {exc}") from None
            self._ended()

    # ------------------------------------------------------------ reads

    def get_quote(self, instrument: str) -> Quote:
        """GetQuote."""
        p = self.platform
        with p.lock:
            self._enter("GetQuote", lambda: p.get_quote(instrument))
            return p.get_quote(instrument)

    def get_orders(self) -> list[Order]:
        """GetOrders."""
        with self.platform.lock:
            self._enter("GetOrders")
            return self.platform.get_orders()

    def get_trades(self) -> list[Trade]:
        """GetTrades."""
        with self.platform.lock:
            self._enter("GetTrades")
            return self.platform.get_trades()

    def get_positions(self) -> list[Position]:
        """GetPositions."""
        with self.platform.lock:
            self._enter("GetPositions")
            return self.platform.get_positions()

    def get_desks(self) -> list[tuple[str, str, Decimal]]:
        """GetDesks."""
        with self.platform.lock:
            self._enter("GetDesks")
            return self.platform.get_desks()

    def get_bars(self, instrument: str, period: str, options: str | None = "") -> list[Bar]:
        """GetBars."""
        p = self.platform
        with p.lock:
            self._enter("GetBars", lambda: p.get_bars(instrument, period, options))
            return p.get_bars(instrument, period, options)

    def get_last_message(self) -> str:
        """GetLastMessage."""
        with self.platform.lock:
            self._enter("GetLastMessage")
            return self.platform.get_last_message()

    # ------------------------------------------------------------ trading

    def send_order(self, order: Any) -> str:
        """SendOrder."""
        with self.platform.lock:
            self._enter("SendOrder")
            return self.platform.send_order(order)

    def change_order(self, order: Any) -> None:
        """ChangeOrder."""
        with self.platform.lock:
            self._enter("ChangeOrder")
            self.platform.change_order(order)

    def cancel_order(self, order_id: Any) -> None:
        """CancelOrder."""
        with self.platform.lock:
            self._enter("CancelOrder")
            self.platform.cancel_order(order_id)

    def change_position(self, position: Any) -> None:
        """ChangePosition."""
        with self.platform.lock:
            self._enter("ChangePosition")
            self.platform.change_position(position)

    def close_position(self, position_id: Any) -> None:
        """ClosePosition."""
        with self.platform.lock:
            self._enter("ClosePosition")
            self.platform.close_position(position_id)
