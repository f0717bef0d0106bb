"""JSON replies in the API's shape (a leaf module: the wire and the routes both use it)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Response


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_number, ensure_ascii=False)  # made once: it keeps no state between calls


def dumps(data: Any) -> str:
    """JSON with Decimal written as a number (shortest form, as .NET writes decimals)."""
    return _ENCODER.encode(data)


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response with the API's content type."""
    return Response(dumps(data), status=status, content_type="application/json; charset=utf-8")


def message(text: str, status: int) -> Response:
    """The ASP.NET-style error body {"Message": ...}."""
    return json_response({"Message": text}, status)
