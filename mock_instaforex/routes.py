"""The API's routes: one Flask blueprint per API family, each route one call on the service.

Route names (for the journal, faults and assert_called) come from contract.py by endpoint. The
caller's IP is the call pipeline's (wire.FlaskWire.read), found in the environ under `IP_KEY`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from .errors import BadRequestError
from .jsonio import json_response
from .service import Service, parse_login

IP_KEY = "instaforex.ip"


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
    return json_response(_svc().request_token(kind, body, request.environ[IP_KEY]))


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


# The data routes, declared once: (API family, route in lower case) -> (endpoint, path parameters,
# the call, what it answers). A call gets the service, `who(kind, login)` (the token check), the
# path's values in order and `arg(name)` (a query parameter, None when absent). Flask serves them
# through the views made below.
Who = Callable[[str, str], Any]
Arg = Callable[[str], "str | None"]
Call = Callable[[Service, Who, list[str], Arg], Any]
DATA_ROUTES: dict[tuple[str, str], tuple[str, tuple[str, ...], Call, str]] = {
    ("client", "requestbalanceinformation"): (
        "balance", ("login",), lambda s, who, v, arg: s.balance(who("client", v[0])), "Balance, equity and margin."
    ),
    ("client", "requestopentrades"): (
        "open_trades", ("login",), lambda s, who, v, arg: s.open_trades(who("client", v[0])), "Open trades."
    ),
    ("client", "requestclosedtrades"): (
        "closed_trades", ("login",),
        lambda s, who, v, arg: s.closed_trades(who("client", v[0]), arg("from"), arg("to")),
        "Closed trades in a range.",
    ),
    ("client", "requestclosedlots"): (
        "closed_lots", ("login",),
        lambda s, who, v, arg: s.closed_lots(who("client", v[0]), arg("from"), arg("to")),
        "Lots closed in a range.",
    ),
    ("client", "requestbonusstatistics"): (
        "bonus_statistics", ("login",), lambda s, who, v, arg: s.bonus_statistics(who("client", v[0])), "Bonuses."
    ),
    ("client", "requestloginhistory"): (
        "login_history", ("login",),
        lambda s, who, v, arg: s.login_history(who("client", v[0]), arg("from"), arg("to")),
        "Authorisations in a range.",
    ),
    ("client", "requestaccountsummary"): (
        "account_summary", ("login",), lambda s, who, v, arg: s.account_summary(who("client", v[0])),
        "Account summary.",
    ),
    ("partner", "checkreferral"): (
        "check_referral", ("partner_login", "client_login"),
        lambda s, who, v, arg: s.check_referral(who("partner", v[0]), parse_login(v[1], "client", padded=False)),
        "Whether a client is the partner's referral.",
    ),
    ("partner", "getcommissionrecords"): (
        "commission_records", ("login",),
        lambda s, who, v, arg: s.commission_records(who("partner", v[0]), arg("from"), arg("to")),
        "Commissions in a range.",
    ),
    ("partner", "getclickstatistics"): (
        "click_statistics", ("login",), lambda s, who, v, arg: s.click_statistics(who("partner", v[0])),
        "Clicks and referral accounts per period.",
    ),
    ("clientmobile", "getanalyticsignals"): (
        "analytic_signals", ("login",),
        lambda s, who, v, arg: (
            who("mobile", v[0]), s.analytic_signals(arg("tradingsystem"), arg("pairs"), arg("from"), arg("to"))
        )[1],
        "Analytic signals.",
    ),
}  # fmt: skip

FAMILIES = {"client": client, "partner": partner, "clientmobile": mobile}


def _view(call: Call, params: tuple[str, ...], doc: str) -> Callable[..., Response]:
    def view(**values: str) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup per call
        service, environ = _svc(), req.environ

        def who(kind: str, login: str) -> Any:
            number = parse_login(login, "login", padded=False)
            return service.authorize(kind, environ.get("HTTP_PASSKEY"), number, environ[IP_KEY])

        def arg(name: str) -> str | None:
            return {k.lower(): v for k, v in req.args.items()}.get(name)

        return json_response(call(service, who, [values[p] for p in params], arg))

    view.__doc__ = doc
    return view


for (_family, _name), (_endpoint, _params, _call, _doc) in DATA_ROUTES.items():
    _rule = "/" + "/".join([_name, *(f"<{p}>" for p in _params)])
    FAMILIES[_family].add_url_rule(_rule, _endpoint, _view(_call, _params, _doc), methods=["GET"])


BLUEPRINTS = (auth, client, partner, mobile)
