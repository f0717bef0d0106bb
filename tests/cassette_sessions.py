"""The sessions behind the shipped cassettes (package data: `mock_streamster/data/cassettes/`,
`mock_instaforex/data/cassettes/`), and how they are recorded.

`python -m tests.cassette_sessions` records them again from the emulators: the reference client
against both (every Streamster operation, every InstaForex route) and the vendor-shaped PHP
SoapClient samples against Streamster. The suite replays the same sessions against the cassettes.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from broker_mocks.client import (
    InstaForexClient,
    NewOrder,
    OrderChange,
    PositionChange,
    PriceType,
    Side,
    StreamsterClient,
)
from broker_mocks.client.errors import StreamsterFault
from mock_common.recording import RecorderServer, RecordingSession
from mock_common.recording import cassette as cassette_io
from mock_instaforex import InstaForexMock
from mock_instaforex.data import CASSETTES as INSTAFOREX_CASSETTES
from mock_instaforex.recording import PROFILE as INSTAFOREX
from mock_streamster import StreamsterMock
from mock_streamster.data import CASSETTES as STREAMSTER_CASSETTES
from mock_streamster.recording import PROFILE as STREAMSTER

ROOT = Path(__file__).resolve().parent.parent
STREAMSTER_CLIENT = STREAMSTER_CASSETTES.path("streamster-client")
STREAMSTER_PHP = STREAMSTER_CASSETTES.path("streamster-php")
INSTAFOREX_CLIENT = INSTAFOREX_CASSETTES.path("instaforex-client")
PHP_SAMPLES = ROOT / "tests" / "php" / "streamster_samples.php"
log = logging.getLogger(__name__)


def streamster_session(api: StreamsterClient) -> dict[str, Any]:
    """Every Streamster operation once or more, a fault included; what the client saw."""
    out: dict[str, Any] = {"quote": api.get_quote("EUR/USD").bid, "desks": [d.amount for d in api.get_desks()]}
    out["bars"] = len(api.get_bars("EUR/USD", "Hourly"))
    api.send_order(NewOrder("EUR/USD", "Virtual Forex", 10))
    api.send_order(NewOrder("EUR/USD", "Virtual Forex", 5, side=Side.BUY, price_type=PriceType.LIMIT, price="1.05000"))
    working = next(o for o in api.get_orders() if o.status == "Working")
    api.change_order(OrderChange(working.order_id, 4, price_type=PriceType.LIMIT, price="1.04000"))
    api.cancel_order(working.order_id)
    position = api.get_positions()[0]
    api.change_position(PositionChange(position.position_id, exit_stop_loss="1.07000", exit_target="1.10000"))
    api.close_position(position.position_id)
    out["orders"] = [(o.order_id, str(o.status)) for o in api.get_orders()]
    out["trades"] = [(t.trade_id, t.price) for t in api.get_trades()]
    out["positions"] = [(p.position_id, str(p.status), p.profit) for p in api.get_positions()]
    try:
        api.call("CancelOrder", "no-such-order")
    except StreamsterFault as fault:
        out["fault"] = (fault.code, fault.text)
    out["message"] = api.get_last_message()
    return out


def instaforex_session(base_url: str) -> dict[str, Any]:
    """Every InstaForex route (the three token routes and every data route); what the client saw."""
    start, end = date(2024, 6, 1), date(2025, 1, 6)
    c = InstaForexClient(base_url, 20000001, "demo-pass", retries=0)
    p = InstaForexClient(base_url, 30000001, "demo-partner", kind="partner", retries=0)
    m = InstaForexClient(base_url, 20000001, "demo-pass", kind="mobile", retries=0)
    return {
        "balance": c.balance().balance,
        "open": len(c.open_trades()),
        "closed": len(c.closed_trades(start, end)),
        "lots": c.closed_lots(start, end).lots,
        "bonuses": len(c.bonus_statistics()),
        "history": len(c.login_history(start, end)),
        "summary": c.account_summary().name,
        "referral": p.check_referral(20000001),
        "commissions": len(p.commission_records(start, end)),
        "clicks": [k.clicks for k in p.click_statistics()],
        "signals": len(m.analytic_signals(["EURUSD", "GBPUSD"], start, end)),
    }


def run_php_samples(wsdl_url: str) -> subprocess.CompletedProcess[str]:
    """The vendor-shaped PHP SoapClient samples against a WSDL URL."""
    php = shutil.which("php") or "php"
    return subprocess.run([php, str(PHP_SAMPLES), wsdl_url], capture_output=True, text=True, timeout=120)


def _record(profile: Any, path: Path, upstream: str, canonical: str, source: str, drive: Any) -> Any:
    path.unlink(missing_ok=True)
    session = RecordingSession(profile, path, "all", upstream=upstream, source=source)
    with RecorderServer(session) as recorder:
        result = drive(recorder.url)
    # Say where a user's copy would come from (`make run`'s address), not this run's free port.
    cas = cassette_io.load(path)
    cas.upstream = canonical
    for i in cas.interactions:
        i.offset = round(i.offset, 1)
        if i.response.body.lstrip().startswith("<?xml") and upstream.rstrip("/") in i.response.body:
            i.response.body = i.response.body.replace(upstream.rstrip("/"), canonical.rstrip("/"))
    cassette_io.save(cas, path)
    return result


def record_all() -> None:
    """Record every shipped cassette from freshly started emulators."""
    emulator = "recorded from the broker-mocks emulators, not from a real broker"
    with StreamsterMock(seed=0) as mock:
        _record(STREAMSTER, STREAMSTER_CLIENT, mock.url + "/", "http://127.0.0.1:8018/",
                f"{emulator} (mock-streamster, seed 0): tests/cassette_sessions.py streamster_session",
                lambda url: streamster_session(StreamsterClient(url + "service.wsdl", retries=0)))  # fmt: skip
    with StreamsterMock(seed=1) as mock:
        run = _record(STREAMSTER, STREAMSTER_PHP, mock.url + "/", "http://127.0.0.1:8018/",
                      f"{emulator} (mock-streamster, seed 1): tests/php/streamster_samples.php",
                      lambda url: run_php_samples(url + "service.wsdl"))  # fmt: skip
        if run.returncode != 0:
            raise RuntimeError(f"the PHP samples failed: {run.stdout}{run.stderr}")
    with InstaForexMock() as mock:
        _record(INSTAFOREX, INSTAFOREX_CLIENT, mock.url, "http://127.0.0.1:8080/",
                f"{emulator} (mock-instaforex, demo accounts): tests/cassette_sessions.py instaforex_session",
                instaforex_session)  # fmt: skip


def expected_streamster() -> dict[str, Any]:
    """What the Streamster session sees against the emulator itself (the cassette must give the same)."""
    with StreamsterMock(seed=0) as mock:
        return streamster_session(StreamsterClient(mock.wsdl_url, retries=0))


def expected_instaforex() -> dict[str, Any]:
    """What the InstaForex session sees against the emulator itself."""
    with InstaForexMock() as mock:
        return instaforex_session(mock.url)


__all__ = ["Decimal", "expected_instaforex", "expected_streamster", "record_all"]

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    record_all()
    for f in (STREAMSTER_CLIENT, STREAMSTER_PHP, INSTAFOREX_CLIENT):
        log.info("%s: %d interactions", f.relative_to(ROOT), len(cassette_io.load(f).interactions))
