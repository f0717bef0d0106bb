"""`mock-streamster serve --state FILE`: killed with SIGKILL mid-trading, restarted, nothing lost or half done."""

from __future__ import annotations

import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_common.persist import StateFileError
from mock_streamster import StreamsterMock
from mock_streamster.cli import main
from mock_streamster.data import SCENARIOS
from mock_streamster.platform import Platform

from .soaputil import Reply, element, envelope, post

CLIENTS = 8
DEMO = SCENARIOS.path("demo")


class Server:
    """`mock-streamster serve` in a subprocess."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_streamster.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            m = re.match(r"\s+(WSDL|endpoint|control):\s+(\S+)", line)
            if m:
                self.urls[m.group(1)] = m.group(2)
            if line.startswith("Press Ctrl-C"):
                break
        if "endpoint" not in self.urls:
            self.proc.kill()
            raise AssertionError(f"the server did not start: {self.proc.communicate()[1]}")

    def call(self, action: str, body: str = "") -> Reply:
        return post(self.urls["endpoint"], envelope(body), action, timeout=10)

    def control(self, route: str, body: Any = None) -> Any:
        url = self.urls["control"] + route
        r = requests.get(url, timeout=10) if body is None else requests.post(url, json=body, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            assert self.proc.wait(timeout=15) == 0


def _books(
    server: Server,
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]], dict[Any, Decimal]]:
    orders = server.call("GetOrders").items("Orders", "Order")
    positions = server.call("GetPositions").items("Positions", "Position")
    trades = server.call("GetTrades").items("Trades", "Trade")
    desks = {(d["Name"], d["Currency"]): Decimal(d["Amount"]) for d in server.call("GetDesks").items("Desks", "Desk")}
    return orders, positions, trades, desks


def test_sigkill_mid_trading_loses_no_acknowledged_order_fill_or_close(tmp_path: Path) -> None:
    state = tmp_path / "platform.db"
    server = Server("--clock", "virtual", "--seed", "11", "--state", str(state))
    try:
        start = _books(server)[3]
        acked_orders: set[str] = set()
        acked_closes: set[str] = set()
        lock = threading.Lock()
        stop = threading.Event()

        def client(n: int) -> None:
            rng = random.Random(n)
            desk = "Virtual Forex" if n % 2 else "Virtual Currencies"
            extra = {} if n % 2 else {"Currency": "USD"}
            try:
                for k in range(10_000):
                    if stop.is_set():
                        return
                    tag = f"c{n}-{k}"
                    r = server.call("SendOrder", element(
                        "Order", Instrument="EUR/USD", Desk=desk, Quantity=str(rng.randint(1, 5)),
                        Side=rng.choice(["BUY", "SELL"]), Text=tag, **extra,
                    ))  # fmt: skip
                    if r.status == 200:
                        with lock:
                            acked_orders.add(tag)
                    if k % 2:
                        mine = [p for p in server.call("GetPositions").items("Positions", "Position")
                                if p["Status"] == "Open" and p["Text"].startswith(f"c{n}-")]  # fmt: skip
                        if mine:
                            pid = rng.choice(mine)["PositionID"]
                            if server.call("ClosePosition", element("PositionID", pid)).status == 200:
                                with lock:
                                    acked_closes.add(pid)
            except (requests.RequestException, AttributeError, AssertionError):
                return  # the server is gone

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked_orders) < 80 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # in the middle of 8 clients trading
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acked_orders) >= 80 and acked_closes
    finally:
        server.proc.kill()
        server.proc.wait()

    restarted = Server("--state", str(state))  # the file holds seed, scenario and clock
    try:
        orders, positions, trades, desks = _books(restarted)
        by_text = {o["Text"]: o for o in orders if o["Phase"] == "Entry"}
        missing = acked_orders - set(by_text)
        assert not missing, f"acknowledged orders lost: {sorted(missing)[:5]}"
        for tag in acked_orders:
            assert by_text[tag]["Status"] == "Filled"  # a market order fills at once: its fill is there too
        status = {p["PositionID"]: p["Status"] for p in positions}
        assert all(status[pid] == "Closed" for pid in acked_closes), "an acknowledged close was lost"
        # Nothing half applied: every fill has its position and its trade, every close its order and trade.
        entry_trades = Counter(t["OrderID"] for t in trades if t["Phase"] == "Entry")
        filled = [o for o in orders if o["Phase"] == "Entry" and o["Status"] == "Filled"]
        assert sorted(entry_trades) == sorted(o["OrderID"] for o in filled)
        assert len(positions) == len(filled) == sum(entry_trades.values())
        closed = [p for p in positions if p["Status"] == "Closed"]
        exits = [o for o in orders if o["Phase"] == "Exit"]
        assert sorted(o["PositionID"] for o in exits) == sorted(p["PositionID"] for p in closed)
        assert len([t for t in trades if t["Phase"] == "Exit"]) == len(closed)
        for key, amount in desks.items():
            realised = sum(Decimal(p["Profit"]) for p in closed if (p["Desk"], p["Currency"]) == key)
            assert amount == start[key] + realised, key
        ids = [o["OrderID"] for o in orders] + [p["PositionID"] for p in positions] + [t["TradeID"] for t in trades]
        assert len(ids) == len(set(ids))
        # The platform goes on: a new order fills with fresh IDs, and that is saved too.
        r = restarted.call("SendOrder", element("Order", Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1",
                                                Text="after"))  # fmt: skip
        assert r.status == 200, r.raw
        after = _books(restarted)
        assert len(after[1]) == len(positions) + 1
        new_ids = {o["OrderID"] for o in after[0]} | {p["PositionID"] for p in after[1]}
        assert len(new_ids) == len(after[0]) + len(after[1])
        restarted.kill()
    finally:
        restarted.proc.kill()
        restarted.proc.wait()
    again = Server("--state", str(state))
    try:
        assert "after" in {o["Text"] for o in again.call("GetOrders").items("Orders", "Order")}
    finally:
        again.stop()


def test_sigkill_mid_advance_keeps_every_acknowledged_price_point_appended(tmp_path: Path) -> None:
    """The price histories are appended (and a fold's span rewritten) by each commit, not rewritten
    whole: after a kill in the middle of advancing, the restored histories are exactly those of a
    platform advanced by the acknowledged steps (or by one more, the step in flight)."""
    state = tmp_path / "advance.db"
    steps = [60, 299, 3600, 5, 61, 14400, 1800] * 40
    server = Server("--clock", "virtual", "--seed", "13", "--state", str(state))
    acked: list[int] = []
    try:
        stop = threading.Event()

        def advance() -> None:
            for seconds in steps:
                if stop.is_set():
                    return
                try:
                    server.control("advance", {"seconds": seconds})
                except (requests.RequestException, AssertionError):
                    return  # the server is gone
                acked.append(seconds)

        worker = threading.Thread(target=advance)
        worker.start()
        deadline = time.monotonic() + 60
        while len(acked) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # while it advances: in the middle of playing ticks, or of a commit
        stop.set()
        worker.join(timeout=30)
        assert len(acked) >= 12
    finally:
        server.proc.kill()
        server.proc.wait()
    restarted = Server("--state", str(state))
    try:
        restored = restarted.control("snapshot")
    finally:
        restarted.stop()
    for done in (len(acked), len(acked) + 1):  # the step in flight may have been saved before the kill
        reference = Platform(seed=13, scenario="demo")  # what a bare serve serves
        for seconds in steps[:done]:
            reference.advance(seconds)
        expected = reference.snapshot()
        if restored["now"] == expected["now"]:
            assert restored["series"] == expected["series"]  # every point, fold and quote
            assert restored["walk_rng"] == expected["walk_rng"] and restored["synced"] == expected["synced"]
            break
    else:
        raise AssertionError(f"restored at {restored['now']}, not after {len(acked)} or {len(acked) + 1} advances")


def test_restart_restores_the_exact_snapshot_and_resumes_the_virtual_clock(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    server = Server("--clock", "virtual", "--scenario", str(DEMO), "--state", str(state))
    try:
        for side, price_type, price in (("BUY", "MARKET", None), ("SELL", "LIMIT", "1.30000"), ("BUY", "STOP", "1.20")):
            r = server.call("SendOrder", element("Order", Instrument="EUR/USD", Desk="Virtual Forex", Quantity="2",
                                                 Side=side, PriceType=price_type, Price=price, ExitTarget=None))  # fmt: skip
            assert r.status == 200, r.raw
        server.control("advance", {"seconds": 3600})
        server.control("price", {"instrument": "GBP/USD", "pips": 12})
        server.control("columns", {"window": "Orders", "names": ["OrderID", "Status"]})
        assert server.call("GetQuote", element("Instrument", "NOPE")).status == 500  # a message to keep
        before = server.control("snapshot")
        server.kill()
    finally:
        server.proc.kill()
        server.proc.wait()
    restarted = Server("--state", str(state))
    try:
        assert restarted.control("snapshot") == before  # IDs, prices, clock, desks, books, message, columns
        assert restarted.control("state")["clock"] == "virtual"
        assert b"&apos;NOPE&apos; is not a known instrument" in restarted.call("GetLastMessage").raw.replace(
            b"'", b"&apos;"
        )
        restarted.control("reset", {})  # back to the scenario's start: the file held the scenario too
        assert restarted.control("state")["orders"] == 0
        assert restarted.control("snapshot")["now"].startswith("2025-01-06T09:00")  # the demo's start
    finally:
        restarted.stop()


def test_real_clock_catches_up_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "real.db"
    with StreamsterMock(state=state, clock="real", seed=2) as m:
        m.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1"})
        m.persister.commit()  # type: ignore[union-attr]
        synced = m.platform.synced
    time.sleep(1.1)
    with StreamsterMock(state=state) as m:
        assert m.platform.clock.mode == "real"
        assert len(m.platform.get_positions()) == 1
        assert m.platform.synced > synced  # the market played the time it was stopped
        assert abs((m.platform.now() - datetime_utcnow()).total_seconds()) < 5


def datetime_utcnow() -> Any:
    from mock_common.clock import utc_now

    return utc_now()


def test_read_only_requests_do_not_write(tmp_path: Path) -> None:
    with StreamsterMock(state=tmp_path / "r.db", seed=1) as m:
        assert m.persister is not None
        before = m.persister.commits
        for action, body in (("GetQuote", element("Instrument", "EUR/USD")), ("GetOrders", ""), ("GetDesks", ""),
                             ("GetPositions", ""), ("GetTrades", ""), ("GetLastMessage", "")):  # fmt: skip
            assert post(m.endpoint_url, envelope(body), action).status == 200
        requests.get(m.wsdl_url, timeout=10)
        assert m.persister.commits == before
        post(m.endpoint_url, envelope(element("Order", Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")),
             "SendOrder")  # fmt: skip
        assert m.persister.commits == before + 1
        post(m.endpoint_url, envelope(element("Instrument", "NOPE")), "GetQuote")  # a refusal sets the message
        assert m.persister.commits == before + 2


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"not a database at all\n", "not an SQLite database"),
        (None, "belongs to another application"),
        ("instaforex", "holds the state of the instaforex emulator"),
    ],
)
def test_foreign_files_are_refused_and_left_untouched(tmp_path: Path, content: Any, reason: str) -> None:
    path = tmp_path / "foreign.db"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is None:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
            conn.execute("INSERT INTO notes VALUES ('mine')")
        conn.close()
    else:
        from mock_instaforex import InstaForexMock

        InstaForexMock(state=path).stop()
    original = path.read_bytes()
    with pytest.raises(StateFileError, match=reason):
        StreamsterMock(state=path)
    assert path.read_bytes() == original


def test_a_damaged_file_is_refused_with_a_clear_message(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "s.db"
    m = StreamsterMock(state=path, seed=3)
    m.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1", "Text": "Q" * 400})
    m.persister.commit()  # type: ignore[union-attr]
    m.stop()
    data = bytearray(path.read_bytes())
    at = data.find(b"Q" * 400)
    assert at > 0
    data[at + 10 : at + 12] = b"ZZ"  # a changed byte inside a row: valid SQLite, wrong content
    path.write_bytes(bytes(data))
    assert main(["serve", "--port", "0", "--state", str(path)]) == 2
    assert "does not match its checksum" in capsys.readouterr().err
    assert path.read_bytes() == bytes(data)  # never overwritten
    path.write_bytes(bytes(data[: len(data) // 3]))  # cut short
    with pytest.raises(StateFileError, match="damaged|not a database"):
        StreamsterMock(state=path)


def test_a_second_emulator_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with StreamsterMock(state=path):
        with pytest.raises(StateFileError, match="in use"):
            StreamsterMock(state=path)


def test_a_seed_or_scenario_other_than_the_files_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StreamsterMock(state=path, seed=4).stop()
    with pytest.raises(StateFileError, match="holds seed 4"):
        StreamsterMock(state=path, seed=5)
    with pytest.raises(StateFileError, match="already holds its scenario"):
        StreamsterMock(state=path, scenario=DEMO)
    with StreamsterMock(state=path) as m:
        assert m.platform.seed == 4


def test_a_change_that_cannot_be_saved_is_not_acknowledged(tmp_path: Path, monkeypatch: Any) -> None:
    with StreamsterMock(state=tmp_path / "s.db", seed=1) as m:
        assert m.persister is not None

        def disk_full(changes: Any) -> None:
            raise StateFileError("state file 's.db' could not be written: database or disk is full")

        monkeypatch.setattr(m.persister.file, "write", disk_full)
        r = post(m.endpoint_url, envelope(element("Order", Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")),
                 "SendOrder")  # fmt: skip
        assert r.status == 500 and r.fault is not None
        assert r.fault[0] == "Server" and "could not save its state" in r.fault[1] and "disk is full" in r.fault[1]
        monkeypatch.undo()
        m.persister.commit()  # the disk is back: the change is saved with the next commit
    with StreamsterMock(state=tmp_path / "s.db") as m:
        assert len(m.platform.get_orders()) == 1
