"""Values as both emulators read and write them: one date-time parser, one decimal parser and one
JSON-ready conversion for the whole project.

The parsers raise `ValueError` (a subclass, for decimals) and leave the message to the caller,
which knows the field and its own typed error (StreamsterError, ScenarioError, StoreError).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


def parse_datetime(value: Any, unix: bool = True) -> datetime:
    """A naive-UTC datetime from a datetime, ISO-8601 text (`Z` or an offset converted to UTC) or,
    when `unix`, Unix seconds (a number or its text).

    ValueError when it is none of these; OverflowError or OSError when the instant is outside
    the years datetime holds.
    """
    if isinstance(value, datetime):
        when = value
    elif unix and isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc).replace(tzinfo=None)
    else:
        text = str(value).strip()
        if unix:
            try:
                seconds = float(text)
            except ValueError:
                pass
            else:
                return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))  # Python 3.10 reads no `Z`
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


class DecimalError(ValueError):
    """Not a finite decimal number; `number` is True for NaN and Infinity (numbers, but not finite)."""

    def __init__(self, value: Any, number: bool) -> None:
        super().__init__(f"{value!r} is not a {'finite ' if number else ''}decimal number")
        self.value, self.number = value, number


def parse_decimal(value: Any) -> Decimal:
    """A finite Decimal from a number or its text (blanks around it ignored); DecimalError otherwise."""
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DecimalError(value, number=False) from None
    if not result.is_finite():
        raise DecimalError(value, number=True)
    return result


def jsonable(value: Any) -> Any:
    """`value` with every Decimal as its text and every date and datetime as ISO text, through
    lists, tuples, sets and mappings (sets and tuples become lists): ready for json.dumps."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def json_default(value: Any) -> Any:
    """`default=` for json.dumps: Decimal, date and datetime as text, sets and tuples as lists."""
    if isinstance(value, (Decimal, date, datetime, set, frozenset, tuple)):
        return jsonable(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
