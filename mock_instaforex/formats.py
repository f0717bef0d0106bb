"""What the API accepts as a login and as a date, as regular expressions.

One grammar serves twice: the service refuses what does not match, and /openapi.json publishes
the same patterns, so the document says exactly what the server accepts (schemathesis checks
both directions). The patterns use only syntax that means the same in ECMA-262 and Python.
"""

from __future__ import annotations

import re

MAX_LOGIN = 2**31 - 1  # logins are .NET Int32 account numbers

# 1..2147483647 in canonical decimal (ASCII digits, no sign, no leading zero).
LOGIN_DIGITS = (
    "(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
    "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])"
)
LOGIN_PATTERN = f"^{LOGIN_DIGITS}$"  # a path segment
JSON_WS = "[ \\t\\r\\n]*"
LOGIN_TEXT_PATTERN = f"^{JSON_WS}{LOGIN_DIGITS}{JSON_WS}$"  # a JSON string: blanks around it are ignored

# Dates: years 1970..9999 on a real calendar (leap days included). With a numeric UTC offset
# the year is 1971..9998, so the instant in UTC stays inside 1970..9999 whatever the offset.
_YEAR = "(?:19[7-9][0-9]|[2-9][0-9]{3})"
_YEAR_OFFSET = "(?:197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_LEAP = "(?:19(?:7[26]|8[048]|9[26])|[2-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,6})?)?"
_OFFSET = "[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]"
UNIX_SECONDS_DIGITS = 11  # 99999999999 s is in the year 5138


def _date(year: str) -> str:
    return f"(?:{year}-{_MONTH_DAY}|{_LEAP}-02-29)"


DATE_PATTERN = f"^(?:[0-9]{{1,{UNIX_SECONDS_DIGITS}}}|{_date(_YEAR)}(?:[T ]{_TIME}Z?)?|{_date(_YEAR_OFFSET)}[T ]{_TIME}{_OFFSET})?$"
DATE_DESCRIPTION = (
    "Unix seconds (up to 11 digits), YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss[.ffffff]] with an optional `Z` "
    "or `±hh:mm` offset (`T` or a space between date and time). Years 1970 to 9999 "
    "(1971 to 9998 with a numeric offset, so the instant stays in range); empty means the default"
)

TRADING_SYSTEM_PATTERN = "^(?:[0-9]{1,9})?$"  # a whole number; empty means every system

_login = re.compile(LOGIN_DIGITS)
_login_text = re.compile(LOGIN_TEXT_PATTERN[1:-1])
_date_re = re.compile(DATE_PATTERN[1:-1])
_trading_system = re.compile(TRADING_SYSTEM_PATTERN[1:-1])


def is_login_text(text: str, padded: bool = False) -> bool:
    """True when `text` is a login in canonical ASCII decimal (blanks around it allowed when `padded`)."""
    return (_login_text if padded else _login).fullmatch(text) is not None


def is_date_text(text: str) -> bool:
    """True when `text` is a date the range parameters accept (the empty string included)."""
    return _date_re.fullmatch(text) is not None


def is_trading_system_text(text: str) -> bool:
    """True when `text` is a trading-system number (or empty)."""
    return _trading_system.fullmatch(text) is not None
