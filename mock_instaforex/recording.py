"""Record and replay for the InstaForex Client Cabinet API: what to scrub, tokens, and the drift check.

The shared machinery is in `mock_common.recording`; this module says what is InstaForex-specific.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mock_common.files import read_data_file
from mock_common.recording.cassette import Cassette, Request, Response
from mock_common.recording.drift import REFUSAL, SUCCESS, Answer, Report, compare, json_shape
from mock_common.recording.profile import ApiProfile, Login

from .contract import OPERATIONS, fault_params
from .data import ACCOUNTS
from .errors import StoreError
from .openapi import build_openapi
from .server import InstaForexMock, demo_path
from .wire import FAULT_REPLIES

TOKEN_PATH = re.compile(r"(?i)^/api/authentication/request(client|partner|moblieCabinet)apitoken/?$")
LOGIN_PATH = re.compile(r"(?i)^/(?:client|partner|clientmobile)/[^/]+/(\d+)(?:/(\d+))?/?$")
_KIND_OF_TOKEN_ROUTE = {"client": "client", "partner": "partner", "mobliecabinet": "mobile"}


@lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    """The emulator's OpenAPI document (what /openapi.json serves)."""
    return build_openapi()


def _path(url: str) -> tuple[str, str]:
    path, _, query = url.partition("?")
    return (urlsplit(path).path if "://" in path else path), query


def _passkey(req: Request) -> str | None:
    value = req.header("passkey")
    return None if value is None else value.strip().strip('"').strip()


@lru_cache(maxsize=1)
def _routes() -> tuple[tuple[re.Pattern[str], str, str, dict[str, Any]], ...]:
    """(path pattern, method, template, operation) of each route of /openapi.json, compiled once (paths are
    matched as the emulator matches them: case-insensitively, a trailing slash ignored)."""
    return tuple(
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "/?$", re.IGNORECASE),
         method.upper(), template, op)
        for template, ops in openapi()["paths"].items() for method, op in ops.items()
    )  # fmt: skip


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """(template, operation) of the route `method path` goes to, the first in /openapi.json's order."""
    method = method.upper()
    for pattern, verb, template, op in _routes():
        if verb == method and pattern.match(path):
            return template, op
    return None


_ROUTE_NAMES = frozenset(OPERATIONS)


class InstaForexProfile(ApiProfile):
    """InstaForex: passwords, tokens, logins and login-history addresses are secrets."""

    name = "instaforex"
    contract_kind = "openapi"
    default_upstream = "https://client-api.instaforex.com/"
    login_keys = frozenset({"login", "referalaccounts"})
    ip_keys = frozenset({"ip"})
    token_headers = frozenset({"passkey"})
    login_path = LOGIN_PATH
    operations = OPERATIONS
    fault_replies = FAULT_REPLIES

    def contract_hash(self) -> str:
        """sha256 of /openapi.json (keys sorted)."""
        return hashlib.sha256(json.dumps(openapi(), sort_keys=True).encode()).hexdigest()

    @property
    def fault_kinds(self) -> tuple[str, ...]:
        """The emulator's: 'fault' (an HTTP 500, `fault_params`), its replies, delays and drops."""
        return ("fault", *super().fault_kinds)

    def fault_params(self, kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """'fault' is an HTTP 500 with the API's usual message, as on the emulator."""
        return fault_params(kind, params)

    def operation(self, req: Request) -> str | None:
        """The route name, as the emulator's journal gives it (None: not a route of the API)."""
        found = _operation(req.method, _path(req.url)[0])
        name = found[1].get("operationId") if found is not None else None
        return name if name in _ROUTE_NAMES else None  # /openapi.json is a document, not a call

    def is_token_response(self, req: Request, resp: Response) -> bool:
        """A 200 answer to a token request."""
        return resp.status == 200 and TOKEN_PATH.match(_path(req.url)[0]) is not None

    def features(self, req: Request) -> tuple[str, dict[str, Any]]:
        """Method, path (case-insensitive, logins as placeholders), query, JSON body, passkey present."""
        path, query = _path(req.url)
        feats: dict[str, Any] = {}
        m = LOGIN_PATH.match(path)
        if m:
            for g in (1, 2):
                if m.group(g):
                    feats[f"path.login[{g - 1}]"] = Login(m.group(g))
            path = path[: m.start(1)] + "{login}" + ("/{client}" if m.group(2) else "")
        for k, v in sorted(parse_qsl(query, keep_blank_values=True)):
            feats[f"query.{k.lower()}"] = v
        self.json_features(req.body, feats)
        if _passkey(req) is not None:
            feats["header.passkey"] = "present"
        return f"{req.method} {path.lower().rstrip('/')}", feats

    def feature_headers(self, req: Request) -> tuple[str, ...]:
        """Whether a passkey is present."""
        return ("passkey",) if _passkey(req) is not None else ()

    def describe(self, req: Request) -> str:
        """`GET /client/RequestBalanceInformation/90000001`."""
        return f"{req.method} {_path(req.url)[0]}" + (f"?{_path(req.url)[1]}" if _path(req.url)[1] else "")

    def check_request(self, req: Request, tokens: set[str]) -> str | None:
        """A passkey must be one of the cassette's tokens."""
        passkey = _passkey(req)
        if passkey and passkey not in tokens:
            return f"its passkey ({passkey[:4]}...) was not issued in this cassette"
        return None

    def cassette_tokens(self, cassette: Cassette) -> set[str]:
        """Tokens the cassette's token requests answered, and passkeys its requests carried."""
        tokens = set()
        for i in cassette.interactions:
            if self.is_token_response(i.request, i.response):
                try:
                    value = json.loads(i.response.body)
                except ValueError:
                    value = None
                if isinstance(value, str):
                    tokens.add(value)
            passkey = _passkey(i.request)
            if passkey:
                tokens.add(passkey)
        return tokens


PROFILE = InstaForexProfile()


# ------------------------------------------------------------------------------------ drift check


def validate_response(method: str, url: str, status: int, body: str) -> list[str]:
    """What is wrong with one recorded response against /openapi.json (empty: valid)."""
    path = _path(url)[0]
    found = _operation(method, path)
    if found is None:
        return [f"{method} {path} is not a route of /openapi.json"]
    template, op = found
    spec = op["responses"].get(str(status)) or op["responses"].get("default")
    if spec is None:
        return [f"status {status} is not documented for {method} {template}"]
    schema = spec["content"]["application/json"]["schema"]
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError:
        return [f"the {status} answer is not JSON: {body[:60]!r}"]
    import jsonschema  # only for a drift check: serving does not need it

    validator = jsonschema.Draft7Validator({**schema, "components": openapi()["components"]})
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ][:10]


def _login_kinds(cassette: Cassette) -> dict[str, str]:
    """Each fake login of the cassette and the kind of account it was used as (client or partner)."""
    kinds: dict[str, str] = {}
    for i in cassette.interactions:
        path = _path(i.request.url)[0]
        t = TOKEN_PATH.match(path)
        if t:
            try:
                login = str(json.loads(i.request.body, parse_float=Decimal).get("Login", "")).strip()
            except (ValueError, AttributeError):
                continue
            kinds.setdefault(login, "partner" if t.group(1).lower() == "partner" else "client")
        m = LOGIN_PATH.match(path)
        if m:
            kinds.setdefault(m.group(1), "partner" if path.lower().startswith("/partner/") else "client")
            if m.group(2):
                kinds.setdefault(m.group(2), "client")
    return {k: v for k, v in kinds.items() if k in set(cassette.logins)}


def check_cassette(cassette: Cassette, accounts: str | None = None) -> Report:
    """Validate every recorded response against /openapi.json, then replay the requests against a fresh
    emulator and compare each answer with the recorded one: contract drift apart from state.

    The cassette's fake logins become open-level accounts of the fresh emulator (any password), and the
    tokens it answers stand in for the cassette's fake tokens, so the recorded requests get through.
    """
    data = read_data_file(ACCOUNTS.resolve(accounts) if accounts else demo_path(), "accounts file", StoreError) or {}
    data = {**data, "accounts": list(data.get("accounts") or []), "partners": list(data.get("partners") or [])}
    taken = {int(a["login"]) for a in data["accounts"] + data["partners"]}
    for login, kind in _login_kinds(cassette).items():
        if int(login) not in taken:
            data["partners" if kind == "partner" else "accounts"].append({"login": int(login), "level": "open"})
    report = Report(cassette, f"a fresh emulator ({'accounts ' + accounts if accounts else 'the demo accounts'})")
    tokens: dict[str, str] = {}
    import requests  # only for a drift check: serving does not need it

    with InstaForexMock(accounts=data) as mock, requests.Session() as http:
        for n, i in enumerate(cassette.interactions, 1):
            req = i.request
            item = report.item(n, PROFILE.describe(req), i.line)
            item.contract += validate_response(req.method, req.url, i.response.status, i.response.body)
            headers = {k: v for k, v in req.headers.items() if k.lower() in ("content-type", "passkey", "accept")}
            passkey = _passkey(req)
            if passkey:
                name = next(k for k in headers if k.lower() == "passkey")
                headers[name] = headers[name].replace(passkey, tokens.get(passkey, passkey))
            path, query = _path(req.url)
            url = mock.url.rstrip("/") + path + (f"?{query}" if query else "")
            r = http.request(req.method, url, data=req.body.encode("utf-8") or None, headers=headers, timeout=30)
            recorded, emulator = _answer(i.response.status, i.response.body), _answer(r.status_code, r.text)
            if PROFILE.is_token_response(req, i.response) and r.status_code == 200:
                tokens[json.loads(i.response.body)] = json.loads(r.text)
                emulator.tree = recorded.tree  # a new token is no difference: later requests carry it instead
            compare(item, recorded, emulator, {})
    return report


def _answer(status: int, text: str) -> Answer:
    """An InstaForex answer for the drift check: 2xx is a success, anything else a refusal."""
    outcome = SUCCESS if 200 <= status < 300 else REFUSAL
    try:
        data = json.loads(text, parse_float=Decimal) if text.strip() else None
    except ValueError:
        return Answer(status, outcome, summary=f"{status} (not JSON)")
    words = text.strip() if len(text.strip()) <= 60 else text.strip()[:57] + "..."
    return Answer(
        status,
        outcome,
        None,
        json_shape(data),
        data,
        summary=str(status) if outcome == SUCCESS else f"{status} {words}",
    )


def check_options(parser: argparse.ArgumentParser) -> None:
    """`check-cassette` options: the fresh emulator's accounts."""
    parser.add_argument("--accounts", help="accounts file of the fresh emulator (default: the demo accounts)")


def run_check(cassette: Cassette, args: argparse.Namespace) -> Report:
    """`check-cassette` for the command line."""
    return check_cassette(cassette, accounts=args.accounts)
