"""PHP's SoapClient with SOAP_SINGLE_ELEMENT_ARRAYS, used the way the vendor's samples use it."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from mock_streamster import StreamsterMock

from .conftest import require_php

pytestmark = pytest.mark.interop
SCRIPT = Path(__file__).parent / "php" / "streamster_samples.php"


def test_php_soapclient_runs_the_vendor_samples_unchanged() -> None:
    php = require_php()
    with StreamsterMock(seed=1) as m:
        run = subprocess.run([php, str(SCRIPT), m.wsdl_url], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        out = json.loads(run.stdout)
        quote = m.platform.get_quote("EUR/USD")
    assert out["quote_last"] == str(quote.last)
    assert list(out["quote_fields"]) == [
        "Last",
        "Bid",
        "Offer",
        "Change",
        "High",
        "Low",
        "Open",
        "Close",
        "Time",
        "Currency",
        "Ask",
    ]
    assert out["desks"] == [
        ["Virtual Forex", "USD", "10000.00"],
        ["Virtual Currencies", "USD", "10000.00"],
        ["Virtual Currencies", "EUR", "10000.00"],
    ]
    assert (out["positions_zero"], out["positions_one"], out["positions_many"]) == (0, 1, 3)
    assert out["send_returns"] is None  # void operations return null
    assert out["position_one"]["Status"] == "Open" and out["position_one"]["Quantity"] == "10"
    changed = out["changed"]
    assert (changed["Price"], changed["Quantity"], changed["PriceType"], changed["Status"]) == (
        "1.04000",
        "5",
        "LIMIT",
        "Working",
    )
    assert "ExitTarget" not in changed  # ChangeOrder replaced the set: the old target is gone
    assert out["cancelled_status"] == "Cancelled"
    p = out["changed_position"]
    assert (p["ExitStopLoss"], p["ExitTarget"], p["Text"]) == ("1.07000", "1.10000", "hello world")
    closed = out["closed_position"]
    assert closed["Status"] == "Closed" and "ClosePrice" in closed and "Exited" in closed
    assert Decimal(out["desk_after"]) == Decimal("10000.00") + Decimal(closed["Profit"])
    assert out["bars"] == 200 and out["bar_first"]["BarDateTime"] < out["bar_last"]["BarDateTime"]
    assert out["message_empty"] == ""
    assert out["fault"]["code"] == "soap:Client" and "Quantity must be greater than 0" in out["fault"]["message"]
    assert out["message_after_fault"] == out["fault"]["message"] and out["message_cleared"] == ""
    assert "'No Such Thing' is not a known instrument" in out["quote_fault"]
