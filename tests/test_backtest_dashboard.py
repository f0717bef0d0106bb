"""The dashboard during a run over price history: the live equity curve, the history's own chart period,
and reads that change nothing (a refused chart does not set the bot's last message)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_streamster import StreamsterMock

from .test_dashboard import DOCS, browser, expect, page  # noqa: F401  (the fixtures)

HISTORY = {"EUR/USD": "fixtures/streamster/eurusd-h1.csv"}


@pytest.fixture
def running() -> Any:
    with StreamsterMock(history=HISTORY, step="GetQuote=1h") as mock:
        for n in range(120):
            mock.controller.api.get_quote("EUR/USD")
            if n % 30 == 0:
                mock.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "10",
                                          "Side": "BUY" if n % 60 else "SELL"})  # fmt: skip
        yield mock


def test_the_data_has_the_equity_so_far_and_the_historys_own_period(running: StreamsterMock) -> None:
    data = requests.get(f"{running.url}/_mock/ui/data", timeout=10).json()
    assert data["chart"]["period"] == "Hourly" and len(data["chart"]["bars"]) == 118  # 120 hours, Friday night closed
    equity = data["equity"]
    assert (equity["desk"], equity["currency"]) == ("Virtual Forex", "USD")
    times = [p["time"] for p in equity["points"]]
    assert times == sorted(set(times)) and 50 < len(times) <= 400
    assert equity["points"][0]["value"] == 10_000.0
    running.platform.last_message = ""
    short = requests.get(f"{running.url}/_mock/ui/data", params={"period": "5 Minutes"}, timeout=10).json()
    assert short["chart"]["closed"] and running.platform.last_message == ""  # the bot's message untouched


def test_without_history_there_is_no_equity_curve() -> None:
    with StreamsterMock() as mock:
        assert requests.get(f"{mock.url}/_mock/ui/data", timeout=10).json()["equity"] is None


def test_the_page_draws_the_equity_curve(running: StreamsterMock, page: Any) -> None:  # noqa: F811
    page.goto(f"{running.url}/_mock/ui")
    expect(page.locator("#equity-chart canvas").first).to_be_visible(timeout=15_000)
    expect(page.locator("#period")).to_have_value("Hourly")
    assert float(page.locator("#equity-chart").get_attribute("data-last")) > 0


def test_backtest_dashboard_screenshot(running: StreamsterMock, page: Any, tmp_path: Path) -> None:  # noqa: F811
    """The picture of docs/how-to/backtest.md (written under DASHBOARD_SCREENSHOTS=1, `make screenshots`)."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{running.url}/_mock/ui")
    expect(page.locator("#equity-chart canvas").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(500)  # the canvases draw right after the data arrives
    png = page.screenshot(path=str(tmp_path / "b.png"), full_page=False)
    assert len(png) > 50_000  # a drawn page, not an empty one
    if os.environ.get("DASHBOARD_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / "dashboard-backtest.png").write_bytes(png)
