"""A PHP script shaped like the vendor's curl sample works against the emulator unchanged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mock_instaforex import InstaForexMock

from .conftest import require_php

pytestmark = pytest.mark.interop
SCRIPT = Path(__file__).parent / "php" / "instaforex_sample.php"


def _run(php: str, url: str, login: int, password: str) -> dict[str, object]:
    run = subprocess.run([php, str(SCRIPT), url, str(login), password], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def test_php_curl_sample_reads_balance_and_open_trades() -> None:
    php = require_php()
    with InstaForexMock() as m:
        out = _run(php, m.url, 20000001, "demo-pass")
    assert out["token_status"] == 200 and str(out["token"]).startswith('"')
    assert (out["balance_status"], out["login"], out["balance"], out["equity"]) == (200, 20000001, 10250.4, 10410.9)
    assert out["equity_minus_balance"] == 160.5  # credit 150 + open profit 10.50
    assert out["trades_status"] == 200
    assert out["trades"] == [
        {"Symbol": "EURUSD", "Type": "BUY", "Volume": 0.1, "Profit": 11.8},
        {"Symbol": "GBPUSD", "Type": "SELL", "Volume": 0.05, "Profit": -7},
        {"Symbol": "XAUUSD", "Type": "BUY", "Volume": 0.01, "Profit": 5.7},
    ]


def test_php_curl_sample_sees_the_denial_with_a_wrong_password() -> None:
    php = require_php()
    with InstaForexMock() as m:
        out = _run(php, m.url, 20000001, "wrong")
    assert out["token_status"] == 403 and out["balance_status"] == 403 and out["denied"] is True
