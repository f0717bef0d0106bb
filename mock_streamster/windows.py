"""The platform's windows: which columns each shows, and which charts are open (contract §3 hidden
columns, §5 GetBars). Plain functions that check a request; the platform holds the state."""

from __future__ import annotations

from typing import Any

from .errors import StreamsterError
from .market import canonical_period
from .model import WINDOWS


def initial_columns(hidden: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every window's columns in WSDL order, less the `hidden` ones."""
    return {w: [c for c in cols if c not in hidden.get(w, [])] for w, cols in WINDOWS.items()}


def chosen_columns(window: str, names: Any) -> tuple[str, list[str]]:
    """(window, its columns in WSDL order) for a request to show exactly `names` in `window`."""
    canonical = next((w for w in WINDOWS if w.lower() == str(window).lower()), None)
    if canonical is None:
        raise StreamsterError(f"window {window!r} is not one of {', '.join(WINDOWS)}.")
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise StreamsterError(f"columns must be a list of names, not {names!r}.")
    valid = {c.lower(): c for c in WINDOWS[canonical]}
    bad = [n for n in names if str(n).lower() not in valid]
    if bad:
        raise StreamsterError(f"{canonical} has no column(s) {bad!r}; its columns are {', '.join(valid.values())}.")
    wanted = {str(n).lower() for n in names}
    return canonical, [c for c in WINDOWS[canonical] if c.lower() in wanted]


def chart_period(period: str) -> str:
    """The canonical period of a chart a control request opens or closes."""
    canonical = canonical_period(period)
    if canonical is None:
        raise StreamsterError(f"period {period!r} is not a chart period.")
    return canonical


def bars_period(key: str, period: Any, instrument: str, closed: set[tuple[str, str]]) -> str:
    """The canonical period GetBars asks for on instrument `key`; its chart must be open (§5)."""
    if period is None or not str(period).strip():
        raise StreamsterError("Period is required.")
    canonical = canonical_period(period)
    if canonical is None:
        raise StreamsterError(
            f"Period {period!r} is not one of 5 Minutes, 15 Minutes, 30 Minutes, Hourly, "
            "4 Hours, Daily, Weekly, Monthly."
        )
    if (key, canonical) in closed:
        raise StreamsterError(
            f"No {canonical} chart of {instrument} is open: bars can only be retrieved for "
            "an instrument and period shown in a Charting window."
        )
    return canonical
