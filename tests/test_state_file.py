"""The state file (`--state`) of both emulators: a foreign file left byte for byte as it was, the clock's
speed kept and never behind a time it showed after a restart, version 1 files read, and a file that
after every commit holds exactly what the state describes (incremental writes never drift)."""

from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_common.parts import LEASE_SECONDS
from mock_common.persist import StateFileError, dumps
from mock_instaforex import InstaForexMock
from mock_instaforex.parts import snapshot_state
from mock_streamster import StreamsterMock
from mock_streamster import parts as streamster_parts
from mock_streamster.errors import ScenarioError, StreamsterError
from mock_streamster.market import default_instruments
from mock_streamster.scenario import Scenario
from mock_streamster.snapshot import snapshot_from_parts

EMULATORS = {"streamster": StreamsterMock, "instaforex": InstaForexMock}
LOGIN, PASSWORD = 20000001, "demo-pass"

# A foreign application writes a database in WAL mode and stops without a checkpoint: its tables
# are in its `-wal` only, beside a `-shm` (what a crashed or still running application leaves).
FOREIGN_WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
if sys.argv[2] == "checkpointed":
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
for n in range(200):
    conn.execute("INSERT INTO notes VALUES (?)", ("mine %d" % n,))
os._exit(0)  # no close: no checkpoint
"""


def _hashes(path: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for suffix in ("", "-wal", "-shm"):
        f = Path(f"{path}{suffix}")
        out[suffix or "main"] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else None
    return out


@pytest.mark.parametrize("emulator", EMULATORS)
@pytest.mark.parametrize("layout", ["all-in-the-log", "checkpointed"])
def test_a_foreign_wal_database_is_refused_and_it_and_its_log_stay_byte_identical(
    tmp_path: Path, emulator: str, layout: str
) -> None:
    path = tmp_path / "foreign.db"
    subprocess.run([sys.executable, "-c", FOREIGN_WRITER, str(path), layout], check=True, timeout=60)
    before = _hashes(path)
    assert before["-wal"] is not None and before["-shm"] is not None  # an uncheckpointed log, as probed
    with pytest.raises(StateFileError, match="belongs to another application"):
        EMULATORS[emulator](state=path)
    assert _hashes(path) == before  # main file, -wal and -shm: not a byte changed, nothing merged
    with sqlite3.connect(path) as conn:  # and the foreign data is all there, for its owner
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 200
    conn.close()


# ------------------------------------------------------------------------------ the clock


class Served:
    """An emulator CLI in a subprocess, with its control URL."""

    def __init__(self, emulator: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"mock_{emulator}.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.control = ""
        self.banner = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.banner += line
            m = re.match(r"\s+control:\s+(\S+)", line)
            if m:
                self.control = m.group(1).rstrip("/") + "/"
            if line.startswith("Press Ctrl-C"):
                break
        if not self.control:
            self.proc.kill()
            raise AssertionError(f"the server did not start: {self.proc.communicate()[1]}")

    def now(self) -> datetime:
        return datetime.fromisoformat(requests.get(self.control + "state", timeout=10).json()["now"])

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.mark.parametrize("emulator", EMULATORS)
def test_a_restart_keeps_the_speed_and_the_clock_never_goes_back(tmp_path: Path, emulator: str) -> None:
    speed = 600.0  # ten virtual minutes a second
    state = tmp_path / "clock.db"
    server = Served(emulator, "--clock", "virtual", "--speed", str(speed), "--state", str(state))
    try:
        seen = [server.now()]
        deadline = time.monotonic() + 1.5  # reads only: nothing in them is a change to save
        while time.monotonic() < deadline:
            seen.append(server.now())
            time.sleep(0.05)
        assert seen == sorted(seen) and (seen[-1] - seen[0]).total_seconds() > 300  # it runs at speed
        server.kill()
    finally:
        server.proc.kill()
        server.proc.wait()
    latest = max(seen)
    restarted = Served(emulator, "--state", str(state))  # no --clock, no --speed: the file's
    try:
        assert f"at {speed:g}x" in restarted.banner
        first = restarted.now()
        # Never behind a time shown before the kill, and at most the lease ahead of it.
        assert latest <= first
        assert (first - latest).total_seconds() <= LEASE_SECONDS * speed + 60 * speed
        time.sleep(0.5)
        assert (restarted.now() - first).total_seconds() >= 0.4 * speed  # and it runs at the saved speed
    finally:
        restarted.proc.send_signal(signal.SIGINT)
        restarted.proc.wait(timeout=15)
    stopped = Served(emulator, "--state", str(state))  # stopped cleanly: resumes where it stopped
    try:
        assert stopped.now() >= first
    finally:
        stopped.kill()


@pytest.mark.parametrize("emulator", EMULATORS)
def test_a_clock_given_at_restart_wins_over_the_saved_speed(tmp_path: Path, emulator: str) -> None:
    state = tmp_path / "clock.db"
    EMULATORS[emulator](clock="virtual", speed=50, state=state).stop()
    with EMULATORS[emulator](state=state) as m:
        clock = m.platform.clock if emulator == "streamster" else m.clock
        assert clock.mode == "virtual" and clock.speed == 50
    with EMULATORS[emulator](state=state, speed=5) as m:
        assert (m.platform.clock if emulator == "streamster" else m.clock).speed == 5


def test_a_running_clock_waits_at_its_saved_lease_when_the_file_cannot_be_written(
    tmp_path: Path, monkeypatch: Any
) -> None:
    with StreamsterMock(clock="virtual", speed=1000, state=tmp_path / "s.db") as m:
        assert m.persister is not None

        def disk_full(changes: Any) -> None:
            raise StateFileError("state file 's.db' could not be written: database or disk is full")

        monkeypatch.setattr(m.persister.file, "write", disk_full)
        time.sleep(LEASE_SECONDS + 1.0)  # renewals fail: the lease on disk is not extended
        held = m.platform.clock.now()
        time.sleep(0.3)
        assert m.platform.clock.now() == held  # the clock waits there rather than run past what is saved
        monkeypatch.undo()
        time.sleep(2.0)
        assert m.platform.clock.now() > held  # saved again: it runs on from where it waited
        assert (m.platform.clock.now() - held).total_seconds() < 1000 * (2.0 + LEASE_SECONDS + 1.0)


def test_a_damaged_price_point_is_refused_and_the_file_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with StreamsterMock(seed=2, state=path) as m:
        m.advance(600)
    conn = sqlite3.connect(path)
    series, t, value = conn.execute("SELECT series, t, value FROM points ORDER BY t DESC LIMIT 1").fetchone()
    conn.execute("UPDATE points SET value = ? WHERE series = ? AND t = ?", (value.replace(",1]", ",2]"), series, t))
    conn.commit()
    conn.close()
    before = _hashes(path)
    with pytest.raises(StateFileError, match=r"point .* does not match its checksum; it is left untouched"):
        StreamsterMock(state=path)
    assert _hashes(path) == before


# ------------------------------------------------------------------------------ version 1 files


def _write_version_1(path: Path, api: str, rows: dict[str, Any]) -> None:
    """A state file as broker-mocks wrote it before point series had their own table."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, digest TEXT NOT NULL)")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("format", "broker-mocks-state"), ("version", "1"),
                                                       ("api", api)])  # fmt: skip
    for key, value in rows.items():
        text = dumps(value)
        conn.execute("INSERT INTO state VALUES (?, ?, ?)", (key, text, hashlib.sha256(text.encode()).hexdigest()))
    conn.commit()
    conn.close()


def _version_1_streamster_rows(snap: dict[str, Any]) -> dict[str, Any]:
    core = {k: snap[k] for k in ("seed", "tick_interval", "walk", "next_tick", "synced", "tick_index", "instruments",
                                 "desks", "last_message", "columns", "closed_charts", "now")}  # fmt: skip
    rows: dict[str, Any] = {"core": {**core, "clock": "virtual"}, "ticks": None,
                            "scenario": streamster_parts.scenario_to_data(Scenario())}  # fmt: skip
    rows.update({f"series/{k}": v for k, v in snap["series"].items()})
    rows.update({f"walk_rng/{k}": v for k, v in snap["walk_rng"].items()})
    rows.update({f"id_rng/{k}": v for k, v in snap["id_rng"].items()})
    for name in ("orders", "positions", "trades"):
        rows.update({f"{name[:-1]}/{n:09d}": v for n, v in enumerate(snap[name])})
    rows.update({f"issued/{space}/{i}": 0 for space, ids in snap["issued"].items() for i in ids})
    return rows


def test_a_version_1_streamster_file_is_read_and_rewritten_in_the_current_layout(tmp_path: Path) -> None:
    with StreamsterMock(seed=7) as m:
        for _ in range(3):
            m.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1"})
        m.advance(3600)
        m.platform.close_position(m.platform.get_positions()[0].position_id)
        snap = m.snapshot()
    path = tmp_path / "old.db"
    _write_version_1(path, "streamster", _version_1_streamster_rows(snap))
    with StreamsterMock(state=path) as m:
        assert m.snapshot() == snap
        assert m.persister is not None and m.persister.file.version == 2
    with sqlite3.connect(path) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta"))["version"] == "2"
        assert conn.execute("SELECT count(*) FROM points").fetchone()[0] > 1000
    conn.close()
    with StreamsterMock(state=path) as m:
        assert m.snapshot() == snap


def test_a_version_1_instaforex_file_is_read_and_rewritten_in_the_current_layout(tmp_path: Path) -> None:
    with InstaForexMock(token_seed=3) as m:
        token = requests.post(m.url + "api/authentication/requestclientapitoken",
                              json={"Login": LOGIN, "Password": PASSWORD}, timeout=10).json()  # fmt: skip
        m.add_trade(LOGIN, ticket=42, symbol="GBPUSD", type=2, volume="1", open_price="1.25", open_time="now")
        snap = m.snapshot()
        data = m.store.to_data()
    path = tmp_path / "old.db"
    _write_version_1(path, "instaforex", {**snap["state"], "source": {"data": data}})
    with InstaForexMock(state=path) as m:
        assert m.snapshot() == snap
        r = requests.get(f"{m.url}client/requestopentrades/{LOGIN}", headers={"passkey": token}, timeout=10)
        assert r.status_code == 200 and 42 in {t["Ticket"] for t in r.json()}
        m.add_trade(LOGIN, ticket=43, symbol="GBPUSD", type=1, volume="1", open_price="1.25", open_time="now")
        m.reset()  # the source the old file held
        assert {t.ticket for t in m.store.accounts[LOGIN].open_trades} == {t.ticket for t in _demo_open(data)}


def _demo_open(data: dict[str, Any]) -> list[Any]:
    from mock_instaforex.store import Store

    return Store.from_data(data, datetime(2025, 1, 1)).accounts[LOGIN].open_trades


# ------------------------------------------------------------------------------ incremental == whole

ORDER_KINDS = st.sampled_from(["MARKET", "LIMIT", "STOP"])
STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            ORDER_KINDS,
            st.sampled_from(["EUR/USD", "USD/JPY", "Gold"]),
            st.sampled_from(["BUY", "SELL"]),
            st.sampled_from(["GTC", "GTD", "IOC"]),
        ),  # fmt: skip
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("change"), st.integers(0, 50)),
        st.tuples(st.just("close"), st.integers(0, 50)),
        st.tuples(st.just("stops"), st.integers(0, 50)),
        st.tuples(st.just("advance"), st.sampled_from([1, 5, 61, 299, 1800, 7200])),
        st.tuples(st.just("move"), st.integers(-40, 40)),
        st.tuples(st.just("set"), st.integers(0, 1)),
        st.tuples(st.just("snapshot"), st.integers(0, 1)),
        st.tuples(st.just("restore"), st.integers(0, 1)),
        st.tuples(st.just("reset"), st.integers(0, 1)),
        st.tuples(st.just("message"), st.integers(0, 1)),
        st.tuples(st.just("chart"), st.integers(0, 1)),
    ),
    min_size=5,
    max_size=25,
)


def _streamster_step(m: StreamsterMock, step: tuple[Any, ...], saved: list[dict[str, Any]]) -> None:
    p = m.platform
    kind = step[0]
    working = [o for o in p.get_orders() if o.status == "Working"]
    open_ = [x for x in p.get_positions() if x.status == "Open"]
    if kind == "order":
        _, price_type, instrument, side, duration = step
        bid = p.get_quote(instrument).bid
        order = {"Instrument": instrument, "Desk": "Virtual Forex", "Quantity": "2", "Side": side,
                 "PriceType": price_type, "DurationType": duration}  # fmt: skip
        if price_type != "MARKET":
            factor = Decimal("0.9995" if (price_type == "LIMIT") == (side == "BUY") else "1.0005")
            order["Price"] = str((bid * factor).quantize(bid))
        if duration == "GTD":
            order["Duration"] = p.now().replace(minute=59, second=0).isoformat()
        p.send_order(order)
    elif kind == "cancel" and working:
        p.cancel_order(working[step[1] % len(working)].order_id)
    elif kind == "change" and working:
        o = working[step[1] % len(working)]
        p.change_order({"OrderID": o.order_id, "Quantity": "3", "PriceType": o.price_type,
                        "Price": None if o.price is None else str(o.price), "Text": "changed"})  # fmt: skip
    elif kind == "close" and open_:
        p.close_position(open_[step[1] % len(open_)].position_id)
    elif kind == "stops" and open_:
        p.change_position({"PositionID": open_[step[1] % len(open_)].position_id, "Text": "kept"})
    elif kind == "advance":
        m.advance(step[1])
    elif kind == "move":
        p.move_price("EUR/USD", step[1])
    elif kind == "set":
        p.set_price("Gold", str(p.get_quote("Gold").bid))  # a second point at the same time
    elif kind == "snapshot":
        saved.append(p.snapshot())
    elif kind == "restore" and saved:
        p.restore(saved[-1])
    elif kind == "reset":
        m.reset()
    elif kind == "message":
        p.get_last_message()
    elif kind == "chart":
        p.close_chart("EUR/USD", "Hourly")


def _without_clock(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k != "now"}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_after_every_commit_the_streamster_file_holds_exactly_the_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, steps: list[tuple[Any, ...]]
) -> None:
    monkeypatch.setattr(streamster_parts, "ID_CHECKPOINT", 3)  # generators derived from a few IDs back
    path = tmp_path_factory.mktemp("inc") / "s.db"
    # Three instruments (each file read below decodes every point of their histories).
    few = [i for i in default_instruments() if i.name in ("EUR/USD", "USD/JPY", "Gold")]
    m = StreamsterMock(seed=5, state=path, scenario=Scenario(instruments=few))
    saved: list[dict[str, Any]] = []
    try:
        assert m.persister is not None
        for step in steps:
            try:
                _streamster_step(m, step, saved)
            except (StreamsterError, ScenarioError):
                pass  # a refusal: its message is a change too
            m.persister.commit()
            stored = _without_clock(snapshot_from_parts(m.persister.file.read()))
            assert stored == _without_clock(snapshot_from_parts(m.platform.describe())), step
        before = m.snapshot()
    finally:
        m.stop()
    with StreamsterMock(state=path) as again:
        assert again.snapshot() == before


def test_an_order_id_the_generator_does_not_draw_is_refused_on_start(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with StreamsterMock(seed=2, state=path) as m:
        for _ in range(2):
            m.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1"})
    conn = sqlite3.connect(path)
    value = json.loads(conn.execute("SELECT value FROM state WHERE key = 'order/000000001'").fetchone()[0])
    value["order_id"] = "ZZZZZZZZZ"  # a valid-looking ID, checksum recomputed: only the derivation can tell
    text = dumps(value)
    conn.execute("UPDATE state SET value = ?, digest = ? WHERE key = 'order/000000001'",
                 (text, hashlib.sha256(text.encode()).hexdigest()))  # fmt: skip
    conn.commit()
    conn.close()
    with pytest.raises(StateFileError, match=r"id_rng/order: the generator draws \w+, but the record holds ZZZZZZZZZ"):
        StreamsterMock(state=path)


def test_new_records_write_their_rows_and_no_generator_state(tmp_path: Path) -> None:
    with StreamsterMock(seed=1, state=tmp_path / "s.db") as m:
        assert m.persister is not None
        m.persister.commit()
        written: list[Any] = []
        real = m.persister.file.write
        m.persister.file.write = lambda changes: (written.append(changes), real(changes))  # type: ignore[method-assign]
        m.platform.send_order({"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1"})
        m.persister.commit()
        assert len(written) == 1 and not written[0].full and not written[0].spans
        # The order, its position and trade: the generators' moves are derived from the IDs the rows hold.
        assert sorted(written[0].parts) == ["order/000000000", "position/000000000", "trade/000000000"]
        m.advance(60)  # twelve ticks: a point appended to each series, its quote and walk position
        changes = written[-1]
        assert all(span.end == float("inf") and len(span.points) <= 13 for span in changes.spans)
        assert len(changes.spans) == len(m.platform.instruments)


def test_after_every_commit_the_instaforex_file_holds_exactly_the_state(tmp_path: Path) -> None:
    rng = random.Random(4)
    with InstaForexMock(state=tmp_path / "i.db", token_seed=9) as m:
        assert m.persister is not None
        tokens: list[str] = []
        for n in range(60):
            kind = rng.choice(["token", "token", "trade", "close", "bonus", "expire", "revoke", "advance", "change"])
            if kind == "token":
                r = requests.post(m.url + "api/authentication/requestclientapitoken",
                                  json={"Login": LOGIN, "Password": rng.choice([PASSWORD, "wrong"])}, timeout=10)  # fmt: skip
                if r.status_code == 200:
                    tokens.append(r.json())
            elif kind == "trade":
                m.add_trade(LOGIN, ticket=5000 + n, symbol="EURUSD", type=1, volume="0.1", open_price="1.1",
                            open_time="now")  # fmt: skip
            elif kind == "close":
                opened = [t.ticket for t in m.store.accounts[LOGIN].open_trades]
                if opened:
                    m.close_trade(LOGIN, rng.choice(opened), price="1.2", profit="3.50")
            elif kind == "bonus":
                m.add_bonus(LOGIN, date="now", bonus_type="welcome", percent="10", amount="5", status="active")
            elif kind == "expire":
                m.expire_tokens(LOGIN)
            elif kind == "revoke":
                m.revoke_tokens()
            elif kind == "advance":
                m.advance(rng.choice([1, 600, 7200]))
            else:
                m.change_account(LOGIN, balance=str(1000 + n))
            m.persister.commit()
            stored = snapshot_state(m.persister.file.read())
            assert {k: v for k, v in stored.items() if k != "clock"} == {
                k: v for k, v in m.snapshot()["state"].items() if k != "clock"
            }, kind
        before = m.snapshot()
    with InstaForexMock(state=tmp_path / "i.db") as again:
        assert again.snapshot() == before
        assert json.dumps(before)  # JSON-ready
