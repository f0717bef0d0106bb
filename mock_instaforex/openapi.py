"""The OpenAPI 3 description served at /openapi.json: every route, parameter, status and schema."""

from __future__ import annotations

from typing import Any

from .contract import DATA_ROUTES, TOKEN_ROUTES
from .formats import DATE_DESCRIPTION, DATE_PATTERN, LOGIN_TEXT_PATTERN, MAX_LOGIN, TRADING_SYSTEM_PATTERN

DATETIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", "example": "2024-03-05T14:22:10"}
NUMBER = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


_TRADE = {
    "Ticket": INT, "OpenTime": DATETIME, "Symbol": STR, "Type": {"type": "integer", "enum": [1, 2], "description": "1 buy, 2 sell"},
    "Volume": NUMBER, "OpenPrice": NUMBER,
}  # fmt: skip
_TRADE_TAIL = {"SL": NUMBER, "TP": NUMBER, "Swap": NUMBER, "Commission": NUMBER, "Profit": NUMBER, "Comment": STR}

SCHEMAS: dict[str, Any] = {
    "Message": _obj({"Message": STR}),
    "AccessDenied": {"type": "string", "enum": ["Access denied"]},
    "Token": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "32 lowercase hex characters"},
    "TokenRequest": {
        "type": "object",
        "properties": {
            "Login": {
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_LOGIN},
                    {
                        "type": "string",
                        "pattern": LOGIN_TEXT_PATTERN,
                        "description": "ASCII digits, no sign or leading zero; blanks around them are ignored",
                    },
                ]
            },  # fmt: skip
            "Password": {
                "oneOf": [{"type": "string"}, {"type": "integer"}],
                "description": "The API password (a JSON number is read as its digits)",
            },
        },
        "required": ["Login", "Password"],
        "description": "Keys are matched case-insensitively.",
    },
    "Balance": _obj(
        {
            "Login": INT,
            "Balance": NUMBER,
            "Equity": NUMBER,
            "Margin": NUMBER,
            "FreeMargin": NUMBER,
            "Credit": NUMBER,
            "Currency": STR,
            "Leverage": INT,
        }
    ),  # fmt: skip
    "OpenTrade": _obj({**_TRADE, "CurrentPrice": NUMBER, **_TRADE_TAIL}),
    "ClosedTrade": _obj({**_TRADE, **_TRADE_TAIL, "CloseTime": DATETIME, "ClosePrice": NUMBER}),
    "ClosedLots": _obj({"Login": INT, "From": DATETIME, "To": DATETIME, "Lots": NUMBER, "TradesCount": INT}),
    "Bonus": _obj({"Date": DATETIME, "BonusType": STR, "Percent": NUMBER, "Amount": NUMBER, "Status": STR}),
    "LoginEvent": _obj({"Time": DATETIME, "Ip": STR, "Source": STR}),
    "AccountSummary": _obj(
        {
            "Login": INT,
            "Name": STR,
            "Group": STR,
            "Currency": STR,
            "Leverage": INT,
            "Balance": NUMBER,
            "Equity": NUMBER,
            "Credit": NUMBER,
            "RegistrationDate": DATETIME,
            "TotalDeposit": NUMBER,
            "TotalWithdrawal": NUMBER,
        }
    ),  # fmt: skip
    "Commission": _obj(
        {"Login": INT, "Date": DATETIME, "Ticket": INT, "Symbol": STR, "Volume": NUMBER, "Amount": NUMBER}
    ),
    "ClickStatistics": _obj({"Period": STR, "Clicks": INT, "ReferalAccounts": {"type": "array", "items": INT}}),
    "Signal": _obj(
        {
            "Id": INT,
            "ActualTime": {"type": "integer", "description": "Unix seconds"},
            "Comment": STR,
            "Pair": STR,
            "Cmd": INT,
            "TradingSystem": INT,
            "Period": STR,
            "Price": NUMBER,
            "Sl": NUMBER,
            "Tp": NUMBER,
        }
    ),  # fmt: skip
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str, min_items: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": _ref(name)}
    if min_items:
        schema["minItems"] = min_items
    return schema


LOGIN = {"type": "integer", "minimum": 1, "maximum": MAX_LOGIN, "example": 20000001}
WHEN = {"type": "string", "pattern": DATE_PATTERN}
RANGE = [
    {"name": "from", "in": "query", "required": False, "schema": WHEN,
     "description": f"{DATE_DESCRIPTION}: 30 days before `to`"},
    {"name": "to", "in": "query", "required": False, "schema": WHEN,
     "description": f"inclusive (a whole day for YYYY-MM-DD). {DATE_DESCRIPTION}: now"},
]  # fmt: skip

# Per data route (named in contract.py): its parameters besides login and passkey, and its 200 schema.
_CLIENT = [
    {"name": "client", "in": "path", "required": True, "schema": LOGIN, "description": "the client login to check"}
]
_SIGNALS = [
    {"name": "tradingsystem", "in": "query", "required": False, "schema": {"type": "string", "pattern": TRADING_SYSTEM_PATTERN},
     "description": "a whole number of ASCII digits, e.g. 3; empty means every system"},
    {"name": "pairs", "in": "query", "required": False, "schema": STR, "description": "comma-separated symbols, e.g. EURUSD,GBPUSD"},
    *RANGE,
]  # fmt: skip
ROUTE_SCHEMAS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "RequestBalanceInformation": ([], _ref("Balance")),
    "RequestOpenTrades": ([], _array("OpenTrade")),
    "RequestClosedTrades": (RANGE, _array("ClosedTrade")),
    "RequestClosedLots": (RANGE, _ref("ClosedLots")),
    "RequestBonusStatistics": ([], _array("Bonus")),
    "RequestLoginHistory": (RANGE, _array("LoginEvent")),
    "RequestAccountSummary": ([], _ref("AccountSummary")),
    "CheckReferral": (_CLIENT, {"type": "boolean"}),
    "GetCommissionRecords": (RANGE, _array("Commission")),
    "GetClickStatistics": ([], _array("ClickStatistics", 3)),
    "GetAnalyticSignals": (_SIGNALS, _array("Signal")),
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build_openapi(deny_status: int = 403) -> dict[str, Any]:
    """The document; with deny_status 200, a 200 may also carry "Access denied"."""
    denied = _json(
        _ref("AccessDenied"), "Access denied: no, unknown, expired or wrong-kind passkey, or another login's"
    )

    def ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
        if deny_status == 200:
            schema = {"oneOf": [schema, _ref("AccessDenied")]}
        return _json(schema, description)

    def errors(*codes: int) -> dict[str, Any]:
        texts = {400: "Bad request: the message names the field", 404: "No HTTP resource matches the URI",
                 413: "Body over 64 KiB", 500: "An error has occurred"}  # fmt: skip
        out = {str(c): _json(_ref("Message"), texts[c]) for c in codes}
        out["default"] = _json(
            _ref("Message"), "Any other status: a failure queued through the control plane (/_mock/faults)"
        )
        if deny_status == 403:
            out["403"] = denied
        return out

    paths: dict[str, Any] = {}
    for _, name, kind in TOKEN_ROUTES:
        paths[f"/api/Authentication/{name}"] = {"post": {
            "operationId": name, "tags": ["authentication"], "x-evidence": "documented",
            "summary": f"A {kind} token for Login/Password (and the caller's IP at the ip level)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("TokenRequest")}}},
            "responses": {"200": ok(_ref("Token"), "The token as a JSON string literal"), **errors(400, 404, 413, 500)},
        }}  # fmt: skip
    for _, name, path, kind, evidenced in DATA_ROUTES:
        extra, schema = ROUTE_SCHEMAS[name]
        params = [
            {"name": "login", "in": "path", "required": True, "schema": LOGIN, "description": "the token's login"},
            *extra,
            {"name": "passkey", "in": "header", "required": False, "schema": STR,
             "description": f"a {kind} token, with or without surrounding quotes"},
        ]  # fmt: skip
        op = {
            "operationId": name, "tags": [kind], "parameters": params,
            "x-evidence": "documented" if evidenced else "emulator choice (no public source names this route)",
            "responses": {"200": ok(schema, "Success"), **errors(400, 404, 500)},
        }  # fmt: skip
        paths[path] = {"get": op}
    paths["/openapi.json"] = {"get": {
        "operationId": "OpenApi", "tags": ["emulator"], "x-evidence": "emulator",
        "responses": {"200": _json({"type": "object"}, "This document")},
    }}  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "InstaForex Client Cabinet API (emulator)",
            "version": "1.0",
            "description": "Paths and JSON keys are matched case-insensitively; a trailing slash is ignored. "
            "Control routes under /_mock/ are not part of the API and are documented in the README.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
