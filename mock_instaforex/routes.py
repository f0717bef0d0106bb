"""The API's routes: one Flask blueprint per API family, each route one call on the service.

Route names (for the journal, faults and assert_called) come from contract.py by endpoint.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from .errors import BadRequestError
from .jsonio import json_response
from .service import Service, parse_login


def _svc() -> Service:
    return current_app.config["SERVICE"]  # type: ignore[no-any-return]


auth = Blueprint("auth", __name__, url_prefix="/api/authentication")
client = Blueprint("client", __name__, url_prefix="/client")
partner = Blueprint("partner", __name__, url_prefix="/partner")
mobile = Blueprint("mobile", __name__, url_prefix="/clientmobile")


def _token(kind: str) -> Response:
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("The request body is not valid JSON.") from None
    except RecursionError:
        raise BadRequestError("The request body is nested too deeply to be read as JSON.") from None
    if body is None:
        raise BadRequestError('The request body is empty: send {"Login": ..., "Password": ...}.')
    return json_response(_svc().request_token(kind, body, g.ip))


@auth.post("/requestclientapitoken")
def request_client_token() -> Response:
    """Token for the client methods."""
    return _token("client")


@auth.post("/requestpartnerapitoken")
def request_partner_token() -> Response:
    """Token for the partner methods."""
    return _token("partner")


@auth.post("/requestmobliecabinetapitoken")  # the vendor's spelling
def request_mobile_token() -> Response:
    """Token for the clientmobile methods."""
    return _token("mobile")


def _who(kind: str, login: str) -> Any:
    number = parse_login(login, "login", padded=False)
    return _svc().authorize(kind, request.headers.get("passkey"), number, g.ip)


def _arg(name: str) -> str | None:
    lowered = {k.lower(): v for k, v in request.args.items()}
    return lowered.get(name)


@client.get("/requestbalanceinformation/<login>")
def balance(login: str) -> Response:
    """Balance, equity and margin."""
    return json_response(_svc().balance(_who("client", login)))


@client.get("/requestopentrades/<login>")
def open_trades(login: str) -> Response:
    """Open trades."""
    return json_response(_svc().open_trades(_who("client", login)))


@client.get("/requestclosedtrades/<login>")
def closed_trades(login: str) -> Response:
    """Closed trades in a range."""
    who = _who("client", login)
    return json_response(_svc().closed_trades(who, _arg("from"), _arg("to")))


@client.get("/requestclosedlots/<login>")
def closed_lots(login: str) -> Response:
    """Lots closed in a range."""
    who = _who("client", login)
    return json_response(_svc().closed_lots(who, _arg("from"), _arg("to")))


@client.get("/requestbonusstatistics/<login>")
def bonus_statistics(login: str) -> Response:
    """Bonuses."""
    return json_response(_svc().bonus_statistics(_who("client", login)))


@client.get("/requestloginhistory/<login>")
def login_history(login: str) -> Response:
    """Authorisations in a range."""
    who = _who("client", login)
    return json_response(_svc().login_history(who, _arg("from"), _arg("to")))


@client.get("/requestaccountsummary/<login>")
def account_summary(login: str) -> Response:
    """Account summary."""
    return json_response(_svc().account_summary(_who("client", login)))


@partner.get("/checkreferral/<partner_login>/<client_login>")
def check_referral(partner_login: str, client_login: str) -> Response:
    """Whether a client is the partner's referral."""
    who = _who("partner", partner_login)
    return json_response(_svc().check_referral(who, parse_login(client_login, "client", padded=False)))


@partner.get("/getcommissionrecords/<login>")
def commission_records(login: str) -> Response:
    """Commissions in a range."""
    who = _who("partner", login)
    return json_response(_svc().commission_records(who, _arg("from"), _arg("to")))


@partner.get("/getclickstatistics/<login>")
def click_statistics(login: str) -> Response:
    """Clicks and referral accounts per period."""
    return json_response(_svc().click_statistics(_who("partner", login)))


@mobile.get("/getanalyticsignals/<login>")
def analytic_signals(login: str) -> Response:
    """Analytic signals."""
    _who("mobile", login)
    return json_response(_svc().analytic_signals(_arg("tradingsystem"), _arg("pairs"), _arg("from"), _arg("to")))


BLUEPRINTS = (auth, client, partner, mobile)
