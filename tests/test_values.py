"""The project's one date-time parser, decimal parser and JSON-ready helper (mock_common.values)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from mock_common.values import DecimalError, json_default, jsonable, parse_datetime, parse_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05T12:00:00", datetime(2026, 1, 5, 12)),
        ("2026-01-05T12:00:00Z", datetime(2026, 1, 5, 12)),
        (" 2026-01-05T14:30:00+02:30 ", datetime(2026, 1, 5, 12)),
        (datetime(2026, 1, 5, 12), datetime(2026, 1, 5, 12)),
        (0, datetime(1970, 1, 1)),
        (86400.5, datetime(1970, 1, 2, 0, 0, 0, 500000)),
        ("86400", datetime(1970, 1, 2)),
    ],
)
def test_parse_datetime_gives_naive_utc(value: object, expected: datetime) -> None:
    assert parse_datetime(value) == expected


def test_parse_datetime_without_unix_seconds_refuses_numbers_and_bad_text() -> None:
    with pytest.raises(ValueError):
        parse_datetime("86400", unix=False)
    with pytest.raises(ValueError):
        parse_datetime("yesterday")
    with pytest.raises(OverflowError):
        parse_datetime("0001-01-01T00:00:00+01:00", unix=False)


def test_parse_decimal_takes_finite_numbers_and_says_which_kind_of_refusal() -> None:
    assert parse_decimal(" 1.50 ") == Decimal("1.50") and parse_decimal(2) == 2 and parse_decimal(0.1) == Decimal("0.1")
    for text, number in (("abc", False), ("", False), (True, False), ("NaN", True), ("-Infinity", True)):
        with pytest.raises(DecimalError) as caught:
            parse_decimal(text)
        assert caught.value.number is number and isinstance(caught.value, ValueError)


def test_jsonable_writes_decimals_and_times_as_text_all_the_way_down() -> None:
    data = {"a": [Decimal("1.10"), (datetime(2026, 1, 5, 12), date(2026, 1, 6))], "b": {"c": {Decimal(1)}}, "d": None}
    ready = jsonable(data)
    assert ready == {"a": ["1.10", ["2026-01-05T12:00:00", "2026-01-06"]], "b": {"c": ["1"]}, "d": None}
    assert json.loads(json.dumps(data, default=json_default)) == ready
    with pytest.raises(TypeError):
        json_default(object())
