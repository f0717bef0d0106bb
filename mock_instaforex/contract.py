"""The InstaForex Client Cabinet API's vocabulary: its routes, their names, paths and token kinds.

The routes (routes.py), the OpenAPI document (openapi.py), the control plane (fault targets,
journal), the dashboard and the recorder read the names from here.
"""

from __future__ import annotations

from typing import Any

# (Flask endpoint, route name, path, token kind, evidenced by a public source)
DATA_ROUTES: list[tuple[str, str, str, str, bool]] = [
    ("client.balance", "RequestBalanceInformation", "/client/RequestBalanceInformation/{login}", "client", True),
    ("client.open_trades", "RequestOpenTrades", "/client/RequestOpenTrades/{login}", "client", True),
    ("client.closed_trades", "RequestClosedTrades", "/client/RequestClosedTrades/{login}", "client", False),
    ("client.closed_lots", "RequestClosedLots", "/client/RequestClosedLots/{login}", "client", False),
    ("client.bonus_statistics", "RequestBonusStatistics", "/client/RequestBonusStatistics/{login}", "client", False),
    ("client.login_history", "RequestLoginHistory", "/client/RequestLoginHistory/{login}", "client", False),
    ("client.account_summary", "RequestAccountSummary", "/client/RequestAccountSummary/{login}", "client", False),
    ("partner.check_referral", "CheckReferral", "/partner/CheckReferral/{login}/{client}", "partner", True),
    ("partner.commission_records", "GetCommissionRecords", "/partner/GetCommissionRecords/{login}", "partner", True),
    ("partner.click_statistics", "GetClickStatistics", "/partner/GetClickStatistics/{login}", "partner", True),
    ("mobile.analytic_signals", "GetAnalyticSignals", "/clientmobile/GetAnalyticSignals/{login}", "mobile", True),
]
# (Flask endpoint, route name, token kind): POST /api/Authentication/<name>
TOKEN_ROUTES: list[tuple[str, str, str]] = [
    ("auth.request_client_token", "RequestClientApiToken", "client"),
    ("auth.request_partner_token", "RequestPartnerApiToken", "partner"),
    ("auth.request_mobile_token", "RequestMoblieCabinetApiToken", "mobile"),  # the vendor's spelling
]
#: Flask endpoint -> route name (the name the journal, faults and assert_called use).
ROUTE_NAMES: dict[str, str] = {e: n for e, n, *_ in DATA_ROUTES} | {e: n for e, n, _ in TOKEN_ROUTES}
#: The route names, sorted.
OPERATIONS: tuple[str, ...] = tuple(sorted(set(ROUTE_NAMES.values())))


def fault_params(kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A queued fault in the emulator's terms: 'fault', the API's generic failure, is an HTTP 500 with its
    usual message (the emulator's control plane and the replay server's both take it so)."""
    if kind == "fault":
        return "http", {"status": 500, "message": "An error has occurred.", **params}
    return kind, params
