"""Every route of contract §4 with its exact JSON shape, for each token kind; the transport rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from mock_instaforex import InstaForexMock

from .ifxutil import Api, decimal_json

CLIENT_ROUTES = {
    "client/RequestBalanceInformation/{login}": ["Login", "Balance", "Equity", "Margin", "FreeMargin", "Credit", "Currency", "Leverage"],
    "client/RequestOpenTrades/{login}": ["Ticket", "OpenTime", "Symbol", "Type", "Volume", "OpenPrice", "CurrentPrice", "SL", "TP", "Swap", "Commission", "Profit", "Comment"],
    "client/RequestClosedTrades/{login}?from=2000-01-01": ["Ticket", "OpenTime", "Symbol", "Type", "Volume", "OpenPrice", "SL", "TP", "Swap", "Commission", "Profit", "Comment", "CloseTime", "ClosePrice"],
    "client/RequestClosedLots/{login}": ["Login", "From", "To", "Lots", "TradesCount"],
    "client/RequestBonusStatistics/{login}": ["Date", "BonusType", "Percent", "Amount", "Status"],
    "client/RequestLoginHistory/{login}": ["Time", "Ip", "Source"],
    "client/RequestAccountSummary/{login}": ["Login", "Name", "Group", "Currency", "Leverage", "Balance", "Equity", "Credit", "RegistrationDate", "TotalDeposit", "TotalWithdrawal"],
}  # fmt: skip
PARTNER_ROUTES = {
    "partner/GetCommissionRecords/{login}": ["Login", "Date", "Ticket", "Symbol", "Volume", "Amount"],
    "partner/GetClickStatistics/{login}": ["Period", "Clicks", "ReferalAccounts"],
}
MOBILE_ROUTE = "clientmobile/GetAnalyticSignals/{login}?tradingsystem=3&pairs=EURUSD,GBPUSD"
SIGNAL_KEYS = ["Id", "ActualTime", "Comment", "Pair", "Cmd", "TradingSystem", "Period", "Price", "Sl", "Tp"]


def _keys(body: object) -> list[str]:
    item = body[0] if isinstance(body, list) else body  # type: ignore[index]
    return list(item)  # type: ignore[arg-type]


def test_client_routes_answer_their_exact_shapes_to_a_client_token(api: Api) -> None:
    key = api.passkey("client", 20000001)
    for route, keys in CLIENT_ROUTES.items():
        r = api.get(route.format(login=20000001), key)
        assert r.status_code == 200, (route, r.text)
        assert _keys(r.json()) == keys, route


def test_partner_routes_answer_their_exact_shapes_to_a_partner_token(api: Api) -> None:
    key = api.passkey("partner", 30000001)
    for route, keys in PARTNER_ROUTES.items():
        r = api.get(route.format(login=30000001), key)
        assert r.status_code == 200 and _keys(r.json()) == keys, route
    assert api.get("partner/CheckReferral/30000001/20000001", key).text == "true"
    assert api.get("partner/CheckReferral/30000001/20000003", key).text == "false"
    clicks = api.get("partner/GetClickStatistics/30000001", key).json()
    assert [c["Period"] for c in clicks] == ["Today", "Week", "Month"]
    assert all(isinstance(a, int) for c in clicks for a in c["ReferalAccounts"])


def test_mobile_route_answers_signals_to_a_mobile_token(api: Api) -> None:
    for login in (30000001, 20000001):  # partners use it (the vendor's mobile cabinet), and so can clients
        key = api.passkey("mobile", login)
        r = api.get(MOBILE_ROUTE.format(login=login), key)
        assert r.status_code == 200
        signals = r.json()
        assert signals and all(list(s) == SIGNAL_KEYS for s in signals)
        assert {s["Pair"] for s in signals} <= {"EURUSD", "GBPUSD"} and {s["TradingSystem"] for s in signals} == {3}
        assert [s["ActualTime"] for s in signals] == sorted(s["ActualTime"] for s in signals)


def test_each_wrong_token_kind_is_refused(api: Api) -> None:
    tokens = {
        kind: api.passkey(kind, login)
        for kind, login in (("client", 20000001), ("partner", 30000001), ("mobile", 20000001))
    }
    routes = {
        "client": ["client/RequestBalanceInformation/20000001", "client/RequestOpenTrades/20000001"],
        "partner": ["partner/GetClickStatistics/30000001", "partner/CheckReferral/30000001/20000001"],
        "mobile": ["clientmobile/GetAnalyticSignals/20000001"],
    }
    for kind, paths in routes.items():
        for wrong, key in tokens.items():
            for path in paths:
                r = api.get(path, key)
                if wrong == kind:
                    assert r.status_code == 200, (kind, path)
                else:
                    assert (r.status_code, r.json()) == (403, "Access denied"), (wrong, path)


def test_client_tokens_only_for_clients_and_partner_tokens_only_for_partners(api: Api) -> None:
    assert api.token("client", 30000001, "demo-partner").status_code == 403
    assert api.token("partner", 20000001, "demo-pass").status_code == 403


def test_a_token_of_another_login_is_refused(api: Api) -> None:
    key = api.passkey("client", 20000002)
    r = api.get("client/RequestBalanceInformation/20000001", key)
    assert (r.status_code, r.json()) == (403, "Access denied")
    partner = api.passkey("partner", 30000001)
    assert api.get("partner/CheckReferral/30000002/20000001", partner).status_code == 403


def test_paths_are_case_insensitive_and_ignore_a_trailing_slash(api: Api) -> None:
    key = api.passkey("client", 20000001)
    for path in (
        "CLIENT/REQUESTBALANCEINFORMATION/20000001",
        "client/requestbalanceinformation/20000001/",
        "Client/RequestBalanceInformation/20000001",
    ):
        assert api.get(path, key).json()["Login"] == 20000001, path
    assert (
        api.request(
            "POST", "API/AUTHENTICATION/requestclientapitoken/", json={"Login": 20000001, "Password": "demo-pass"}
        ).status_code
        == 200
    )


def test_request_json_keys_are_case_insensitive_and_login_may_be_a_string(api: Api) -> None:
    for body in (
        {"login": 20000001, "password": "demo-pass"},
        {"LOGIN": "20000001", "PASSWORD": "demo-pass"},
        {"Login": " 20000001 ", "pAsSwOrD": "demo-pass"},
    ):
        r = api.request("POST", "api/Authentication/RequestClientApiToken", json=body)
        assert r.status_code == 200 and len(r.json()) == 32, body


def test_the_passkey_is_accepted_with_or_without_quotes_and_any_header_case(api: Api) -> None:
    raw = api.token("client", 20000001).text  # the raw body, quotes included, as the PHP sample pastes it
    assert raw.startswith('"') and raw.endswith('"')
    for value in (raw, raw.strip('"'), f"{raw} "):
        assert api.get("client/RequestOpenTrades/20000001", value).status_code == 200, value
    assert api.get("client/RequestOpenTrades/20000001", headers={"PASSKEY": raw}).status_code == 200
    assert api.get("client/RequestOpenTrades/20000001", f'""{raw}""').status_code == 403  # one pair only


def test_empty_lists_are_top_level_arrays(api: Api) -> None:
    key = api.passkey("client", 20000002)
    for path in ("client/RequestOpenTrades/20000002", "client/RequestBonusStatistics/20000002"):
        assert api.get(path, key).json() == []


def test_open_and_closed_trades_carry_their_figures(api: Api, instaforex_mock: InstaForexMock) -> None:
    key = api.passkey("client", 20000001)
    opened = decimal_json(api.get("client/RequestOpenTrades/20000001", key))
    first = opened[0]
    assert (first["Ticket"], first["Symbol"], first["Type"]) == (77120455, "EURUSD", 1)
    assert (first["Volume"], first["SL"], first["TP"]) == (Decimal("0.1"), Decimal("1.08"), Decimal("1.09"))
    assert opened[1]["SL"] == 0 and opened[1]["TP"] == 0  # unset levels are 0
    now = instaforex_mock.service.now()
    assert first["OpenTime"] == (now - timedelta(days=2, hours=3)).strftime("%Y-%m-%dT%H:%M:%S")


def test_date_ranges_accept_unix_seconds_dates_and_iso_and_to_is_inclusive(
    api: Api, instaforex_mock: InstaForexMock
) -> None:
    key = api.passkey("client", 20000001)
    everything = api.get("client/RequestClosedTrades/20000001?from=2000-01-01", key).json()
    assert len(everything) == 6
    assert len(api.get("client/RequestClosedTrades/20000001", key).json()) == 3  # default: the last 30 days
    close = everything[3]["CloseTime"]  # 2024-12-17T21:00:00 style
    day = close[:10]
    assert [
        t["CloseTime"] for t in api.get(f"client/RequestClosedTrades/20000001?from={day}&to={day}", key).json()
    ] == [close]
    assert len(api.get(f"client/RequestClosedTrades/20000001?from={close}&to={close}", key).json()) == 1
    unix = int(datetime.fromisoformat(close).replace(tzinfo=timezone.utc).timestamp())
    assert len(api.get(f"client/RequestClosedTrades/20000001?from={unix}&to={unix}", key).json()) == 1
    assert api.get(f"client/RequestClosedTrades/20000001?from={unix + 1}&to={unix + 10}", key).json() == []
    assert len(api.get(f"client/RequestClosedTrades/20000001?FROM={close}Z&TO={close}%2B00:00", key).json()) == 1


def test_signals_filter_by_pairs_system_and_range(api: Api) -> None:
    key = api.passkey("mobile", 30000001)
    every = api.get("clientmobile/GetAnalyticSignals/30000001?from=0", key).json()
    assert len(every) == 5
    assert len(api.get("clientmobile/GetAnalyticSignals/30000001", key).json()) == 4  # last 30 days
    assert [s["Id"] for s in api.get("clientmobile/GetAnalyticSignals/30000001?tradingsystem=1", key).json()] == [
        500004
    ]
    assert {s["Pair"] for s in api.get("clientmobile/GetAnalyticSignals/30000001?pairs=usdjpy", key).json()} == {
        "USDJPY"
    }


def test_openapi_document_is_served(api: Api) -> None:
    doc = api.get("openapi.json").json()
    assert doc["openapi"].startswith("3.") and len(doc["paths"]) == 15


def test_a_reversed_range_is_empty_not_an_error(api: Api) -> None:
    # The OpenAPI document cannot tie `from` to `to`, so a schema-valid pair in the wrong order is
    # answered, as the real service's two-sided filter would: nothing in it.
    key = api.passkey("client", 20000001)
    query = "?from=2030-01-01&to=1970-01-02"
    for route in ("RequestClosedTrades", "RequestLoginHistory"):
        r = api.get(f"client/{route}/20000001{query}", key)
        assert r.status_code == 200 and r.json() == [], (route, r.text)
    lots = api.get(f"client/RequestClosedLots/20000001{query}", key).json()
    assert lots["Lots"] == 0 and lots["TradesCount"] == 0
