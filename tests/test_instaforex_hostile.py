"""Hostile input to the InstaForex emulator: a clear 400, nothing changed, the server still serving."""

from __future__ import annotations

import pytest

from mock_instaforex import InstaForexMock

from .ifxutil import KIND_ROUTE, Api

NESTED = b"[" * 30_000 + b"]" * 30_000  # under the 64 KiB body limit, far over Python's recursion limit
JSON = {"Content-Type": "application/json"}


def _control_routes_with_a_body(ifx: InstaForexMock) -> list[tuple[str, str]]:
    return [
        (r.method, f"/_mock/{r.path}".replace("<login>", "20000001"))
        for r in ifx.controller.routes()
        if r.method in ("POST", "PATCH", "PUT")
    ]


@pytest.mark.parametrize("kind", sorted(KIND_ROUTE))
def test_deeply_nested_json_on_a_token_route_is_a_400_naming_the_nesting(api: Api, kind: str) -> None:
    r = api.request("POST", KIND_ROUTE[kind], data=NESTED, headers=JSON)
    assert r.status_code == 400 and "nested too deeply" in r.json()["Message"], r.text
    assert api.token("client", 20000001).status_code == 200  # still serving


def test_deeply_nested_json_on_every_control_route_is_a_400_and_changes_nothing(
    instaforex_mock: InstaForexMock,
) -> None:
    api = Api(instaforex_mock.url)
    routes = _control_routes_with_a_body(instaforex_mock)
    assert len(routes) >= 10, routes
    before = instaforex_mock.controller.state()
    for method, path in routes:
        r = api.http.request(method, instaforex_mock.url + path.lstrip("/"), data=NESTED, headers=JSON, timeout=10)
        assert r.status_code == 400 and "nested too deeply" in r.json()["error"], (method, path, r.text)
    assert instaforex_mock.controller.state() == before


@pytest.mark.parametrize(
    "login",
    ["²", "5" * 5000, "٢٠٠٠٠٠٠١", "２００００００１", "20000001.0", "+20000001", "0x1312D01", "2147483648", "0", "-1",
     "020000001", 20000001.0, 2**31, 10**30, [20000001]],
    ids=["superscript", "5000-digits", "arabic-indic", "fullwidth", "fraction", "sign", "hex", "over-int32", "zero",
         "negative", "leading-zero", "float", "int-over-int32", "huge-int", "list"],
)  # fmt: skip
def test_a_login_that_is_not_ascii_digits_in_the_account_range_is_a_400(api: Api, login: object) -> None:
    r = api.request("POST", KIND_ROUTE["client"], json={"Login": login, "Password": "demo-pass"})
    assert r.status_code == 400 and "'Login'" in r.json()["Message"], r.text
    assert len(r.json()["Message"]) < 300  # a 5,000-digit login is not echoed whole
    if isinstance(login, str):
        key = api.passkey("client", 20000001)
        r = api.get(f"client/RequestBalanceInformation/{login}", key)
        assert r.status_code == 400 and "'login'" in r.json()["Message"], r.text
        partner = api.passkey("partner", 30000001)
        r = api.get(f"partner/CheckReferral/30000001/{login}", partner)
        assert r.status_code == 400 and "'client'" in r.json()["Message"], r.text


def test_the_ascii_login_is_still_accepted_as_a_number_or_a_string(api: Api) -> None:
    for login in (20000001, "20000001", " 20000001 ", "2147483647"):
        r = api.token("client", login, "demo-pass")
        assert r.status_code == (200 if login != "2147483647" else 403), (login, r.text)


def test_control_routes_refuse_unicode_digit_logins(instaforex_mock: InstaForexMock) -> None:
    r = Api(instaforex_mock.url).http.post(
        instaforex_mock.url + "_mock/tokens/revoke", json={"login": "٢٠٠٠٠٠٠١"}, timeout=10
    )
    assert r.status_code == 400 and "'login'" in r.json()["error"], r.text


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00-14:00", "0001-01-01T00:00:00+14:00", "1969-12-31",
     "1970-01-01T00:00:00+01:00", "10000-01-01", "2023-02-29", "2100-02-29", "2024-04-31", "-1", "999999999999",
     "２０２４-01-01", "2024-01-01T24:00:00", "2024-01-01T12:00:00.1234567", "1" * 5000],
)  # fmt: skip
def test_a_date_out_of_range_or_off_the_calendar_is_a_400_on_every_range_route(api: Api, value: str) -> None:
    keys = {kind: api.passkey(kind, login) for kind, login in (("client", 20000001), ("partner", 30000001))}
    keys["mobile"] = api.passkey("mobile", 20000001)
    for path, kind in (
        ("client/RequestClosedTrades/20000001", "client"), ("client/RequestClosedLots/20000001", "client"),
        ("client/RequestLoginHistory/20000001", "client"), ("partner/GetCommissionRecords/30000001", "partner"),
        ("clientmobile/GetAnalyticSignals/20000001", "mobile"),
    ):  # fmt: skip
        for field in ("from", "to"):
            r = api.get(path, keys[kind], params={field: value})
            assert r.status_code == 400 and f"'{field}'" in r.json()["Message"], (path, field, value, r.text)
            assert len(r.json()["Message"]) < 300


@pytest.mark.parametrize(
    "value",
    ["9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59Z", "9998-12-31T23:59:59-23:59", "1970-01-01",
     "1971-01-01T00:00:00+23:59", "2024-02-29", "2000-02-29", "0", "99999999999", "2024-03-05 14:22",
     "2024-03-05T14:22:10.5+02:00"],
)  # fmt: skip
def test_a_date_at_the_edges_of_the_range_is_accepted(api: Api, value: str) -> None:
    key = api.passkey("client", 20000001)
    r = api.get("client/RequestClosedLots/20000001", key, params={"from": "0", "to": value})
    assert r.status_code == 200, (value, r.text)
