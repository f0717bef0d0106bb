"""The dashboards (/_mock/ui) in a real browser: Debian's chromium driven by Playwright.

`DASHBOARD_SCREENSHOTS=1` (or `make screenshots`) also writes docs/images/dashboard-streamster.png and
docs/images/dashboard-instaforex.png from the screenshot tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from zeep.exceptions import Fault

from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock

from .conftest import require

pytestmark = pytest.mark.interop

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "images"
TWO_SECONDS = 2000  # ms: how soon an API call must show on the page (the page polls once a second)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require("REQUIRE_INTEROP", sync_playwright is not None, "playwright is not installed")
    require("REQUIRE_INTEROP", shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is not installed")
    assert sync_playwright is not None
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; any script error on it fails the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "400" not in msg.text else None)
    yield pg
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def soap(mock: StreamsterMock) -> Any:
    return zeep.Client(mock.wsdl_url).service


def last_bar_close(pg: Any) -> Decimal:
    return Decimal(pg.get_by_test_id("chart").get_attribute("data-last"))


# ------------------------------------------------------------------------------------------ Streamster


def test_streamster_page_loads_with_quotes_chart_and_desks(streamster_mock: StreamsterMock, page: Any) -> None:
    page.goto(f"{streamster_mock.url}/_mock/ui")
    expect(page.get_by_test_id("clock")).to_have_text("2025-01-06  09:00:00")
    expect(page.locator("[data-testid^=quote-]")).to_have_count(len(streamster_mock.platform.instruments))
    expect(page.get_by_test_id("desks")).to_contain_text("Virtual Forex")
    bars = streamster_mock.platform.get_bars("EUR/USD", "5 Minutes", "f")
    assert last_bar_close(page) == bars[-1].close  # the chart draws the bars GetBars serves


def test_streamster_order_sent_by_soap_shows_within_two_seconds(streamster_mock: StreamsterMock, page: Any) -> None:
    page.goto(f"{streamster_mock.url}/_mock/ui")
    expect(page.get_by_test_id("clock")).not_to_have_text("—")
    api = soap(streamster_mock)
    api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=10, ExitStopLoss=Decimal("1.07000"))
    api.SendOrder(
        Instrument="EUR/USD", Desk="Virtual Forex", Quantity=3, Side="SELL", PriceType="LIMIT", Price=Decimal("1.20000")
    )
    position = next(p for p in streamster_mock.platform.get_positions())
    order = next(o for o in streamster_mock.platform.get_orders() if o.status == "Working")
    expect(page.get_by_test_id(f"position-{position.position_id}")).to_be_visible(timeout=TWO_SECONDS)
    expect(page.get_by_test_id(f"order-{order.order_id}")).to_be_visible(timeout=TWO_SECONDS)
    expect(page.get_by_test_id(f"position-{position.position_id}")).to_contain_text("1.07000")
    expect(page.get_by_test_id("journal")).to_contain_text("SendOrder")


def test_streamster_price_moved_from_the_page_moves_chart_and_pnl(streamster_mock: StreamsterMock, page: Any) -> None:
    soap(streamster_mock).SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=10)
    position_id = streamster_mock.platform.get_positions()[0].position_id
    before = streamster_mock.platform.get_quote("EUR/USD").bid
    page.goto(f"{streamster_mock.url}/_mock/ui")
    row = page.get_by_test_id(f"position-{position_id}")
    expect(row).to_be_visible()
    chart_before = last_bar_close(page)
    expect(row).to_contain_text("-2.00 USD")  # bought at the offer: the spread of 2 pips x 10 x 1,000
    page.get_by_test_id("pips").fill("25")
    page.get_by_test_id("move-up").click()
    expect(row).to_contain_text("+23.00 USD")  # 25 pips up: (0.00250 - 0.00020) x 10 x 1,000 USD
    assert streamster_mock.platform.get_quote("EUR/USD").bid == before + Decimal("0.00250")
    expect(page.get_by_test_id("chart-price")).to_have_text(str(before + Decimal("0.00250")))
    assert last_bar_close(page) == chart_before + Decimal("0.00250")


def test_streamster_fault_queued_from_the_page_fails_the_next_call(streamster_mock: StreamsterMock, page: Any) -> None:
    page.goto(f"{streamster_mock.url}/_mock/ui")
    expect(page.get_by_test_id("clock")).not_to_have_text("—")
    page.get_by_test_id("fault-op").select_option("GetQuote")
    page.get_by_test_id("fault-kind").select_option("fault")
    page.get_by_test_id("fault-message").fill("quotes are down (from the page)")
    page.get_by_test_id("queue-fault").click()
    expect(page.get_by_test_id("faults")).to_contain_text("GetQuote: fault")
    api = soap(streamster_mock)
    with pytest.raises(Fault, match=r"quotes are down \(from the page\)"):
        api.GetQuote("EUR/USD")
    assert api.GetQuote("EUR/USD").Bid > 0  # once only
    expect(page.locator("[data-testid=journal-fault]")).to_contain_text("quotes are down", timeout=TWO_SECONDS)


def test_streamster_bad_control_input_shows_the_error_and_changes_nothing(
    streamster_mock: StreamsterMock, page: Any
) -> None:
    page.goto(f"{streamster_mock.url}/_mock/ui")
    expect(page.get_by_test_id("clock")).not_to_have_text("—")
    before, now = streamster_mock.platform.get_quote("EUR/USD"), streamster_mock.platform.now()
    page.get_by_test_id("bid").fill("1.2x")
    page.get_by_test_id("set-price").click()
    expect(page.get_by_test_id("message")).to_contain_text("'1.2x' is not a decimal number")
    page.get_by_test_id("seconds").fill("-60")
    page.get_by_test_id("advance").click()
    expect(page.get_by_test_id("message")).to_contain_text(
        "seconds must be a number from 0 to 31622400 (366 days) per advance, not -60"
    )
    page.get_by_test_id("fault-times").fill("twice")
    page.get_by_test_id("queue-fault").click()
    expect(page.get_by_test_id("message")).to_contain_text("twice")
    assert streamster_mock.platform.get_quote("EUR/USD") == before and streamster_mock.platform.now() == now
    assert streamster_mock.controller.faults.rules() == []
    assert requests.get(f"{streamster_mock.url}/_mock/state", timeout=5).status_code == 200  # still serving


def test_streamster_dashboard_screenshot(streamster_mock: StreamsterMock, page: Any, tmp_path: Path) -> None:
    streamster_mock.load_scenario("demo")
    streamster_mock.advance(4 * 3600)
    api = soap(streamster_mock)
    api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=20, ExitStopLoss=Decimal("1.08000"),
                  ExitTarget=Decimal("1.10500"))  # fmt: skip
    api.SendOrder(Instrument="GBP/USD", Desk="Live Forex", Quantity=5, Side="SELL")
    api.SendOrder(Instrument="EUR/USD", Desk="Virtual Forex", Quantity=5, Side="SELL", PriceType="LIMIT",
                  Price=Decimal("1.10000"))  # fmt: skip
    streamster_mock.advance(1800)
    streamster_mock.fail("GetDesks", message="Server busy")
    for call in (lambda: api.GetDesks(), lambda: api.GetQuote("XAU/USD")):
        with pytest.raises(Fault):
            call()
    api.GetPositions()
    page.set_viewport_size({"width": 1440, "height": 1080})
    page.goto(f"{streamster_mock.url}/_mock/ui")
    expect(page.locator("[data-testid^=position-]")).to_have_count(2)
    page.wait_for_timeout(300)  # the canvas draws right after the data arrives
    png = page.screenshot(path=str(tmp_path / "s.png"), full_page=True)
    assert len(png) > 50_000  # a drawn page, not an empty one
    if os.environ.get("DASHBOARD_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / "dashboard-streamster.png").write_bytes(png)


# ------------------------------------------------------------------------------------------ InstaForex


def token(ifx: InstaForexMock, login: int = 20000001, password: str = "demo-pass") -> str:
    reply = requests.post(
        f"{ifx.url}api/Authentication/RequestClientApiToken", json={"Login": login, "Password": password}, timeout=5
    )
    return str(reply.json())


def test_instaforex_page_shows_accounts_tokens_and_logins(instaforex_mock: InstaForexMock, page: Any) -> None:
    page.goto(f"{instaforex_mock.url}_mock/ui")
    expect(page.locator("[data-testid^=account-]")).to_have_count(3)
    expect(page.get_by_test_id("balance-balance")).to_have_text("10,250.40")
    expect(page.locator("[data-testid^=opentrade-]")).to_have_count(3)
    value = token(instaforex_mock)
    expect(page.get_by_test_id("token-20000001")).to_be_visible(timeout=TWO_SECONDS)
    expect(page.get_by_test_id("tokens")).to_contain_text("1h 30m")
    assert value not in page.content()  # the page shows a token's first characters only
    assert "demo-pass" not in page.get_by_test_id("journal").inner_text()
    expect(page.get_by_test_id("logins")).to_contain_text("ClientApi")


def test_instaforex_controls_close_a_trade_advance_and_queue_a_fault(
    instaforex_mock: InstaForexMock, page: Any
) -> None:
    page.goto(f"{instaforex_mock.url}_mock/ui")
    expect(page.get_by_test_id("balance-balance")).to_have_text("10,250.40")
    page.get_by_test_id("close-ticket").select_option("77120455")
    page.get_by_test_id("close-price").fill("1.0861")
    page.get_by_test_id("close-profit").fill("x9")
    page.get_by_test_id("close-trade").click()
    expect(page.get_by_test_id("message")).to_contain_text("x9")  # the emulator's error; nothing closed
    assert len(instaforex_mock.store.accounts[20000001].open_trades) == 3
    page.get_by_test_id("close-profit").fill("19.50")
    page.get_by_test_id("close-trade").click()
    expect(page.get_by_test_id("balance-balance")).to_have_text("10,269.90")
    expect(page.get_by_test_id("closed-77120455")).to_be_visible()

    value = token(instaforex_mock)
    page.get_by_test_id("seconds").fill("5400")
    page.get_by_test_id("advance").click()
    expect(page.get_by_test_id("clock")).to_have_text("2025-01-06  10:30:00")
    expect(page.get_by_test_id("token-20000001")).to_have_count(0)  # expired on the moved clock

    page.get_by_test_id("fault-route").select_option("RequestBalanceInformation")
    page.get_by_test_id("fault-value").fill("503")
    page.get_by_test_id("queue-fault").click()
    expect(page.get_by_test_id("faults")).to_contain_text("RequestBalanceInformation: http 503")
    value = token(instaforex_mock)
    url = f"{instaforex_mock.url}client/RequestBalanceInformation/20000001"
    assert requests.get(url, headers={"passkey": value}, timeout=5).status_code == 503
    assert requests.get(url, headers={"passkey": value}, timeout=5).status_code == 200
    expect(page.locator("[data-testid=journal-fault]")).to_contain_text("503", timeout=TWO_SECONDS)


def test_instaforex_dashboard_screenshot(instaforex_mock: InstaForexMock, page: Any, tmp_path: Path) -> None:
    value = token(instaforex_mock)
    token(instaforex_mock, 20000003, "demo-ip")
    token(instaforex_mock, 20000001, "wrong")
    base = f"{instaforex_mock.url}client/"
    for route in ("RequestBalanceInformation", "RequestOpenTrades", "RequestClosedTrades"):
        requests.get(f"{base}{route}/20000001", headers={"passkey": value}, timeout=5)
    instaforex_mock.fail("RequestOpenTrades", kind="http", status=503)
    requests.get(f"{base}RequestOpenTrades/20000001", headers={"passkey": value}, timeout=5)
    instaforex_mock.advance(1500)
    page.set_viewport_size({"width": 1440, "height": 1080})
    page.goto(f"{instaforex_mock.url}_mock/ui")
    expect(page.get_by_test_id("token-20000001")).to_be_visible()
    png = page.screenshot(path=str(tmp_path / "i.png"), full_page=True)
    assert len(png) > 50_000
    if os.environ.get("DASHBOARD_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / "dashboard-instaforex.png").write_bytes(png)
