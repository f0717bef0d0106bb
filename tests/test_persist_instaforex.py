"""`mock-instaforex serve --state FILE`: accounts, trades and tokens survive SIGKILL and a restart."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_common.persist import StateFileError
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock

CLIENTS = 8
LOGIN = 20000001
PASSWORD = "demo-pass"


class Server:
    """`mock-instaforex serve` in a subprocess."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_instaforex.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.url = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            m = re.match(r"\s+base URL:\s+(\S+)", line)
            if m:
                self.url = m.group(1)
            if line.startswith("Press Ctrl-C"):
                break
        if not self.url:
            self.proc.kill()
            raise AssertionError(f"the server did not start: {self.proc.communicate()[1]}")

    def token(self) -> requests.Response:
        return requests.post(
            self.url + "api/authentication/requestclientapitoken", json={"Login": LOGIN, "Password": PASSWORD},
            timeout=10,
        )  # fmt: skip

    def get(self, route: str, token: str) -> requests.Response:
        return requests.get(f"{self.url}client/{route}/{LOGIN}", headers={"passkey": token}, timeout=10)

    def control(self, route: str, body: Any) -> requests.Response:
        return requests.post(self.url + "_mock/" + route, json=body, timeout=10)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def test_sigkill_mid_traffic_keeps_every_acknowledged_token_trade_and_close(tmp_path: Path) -> None:
    state = tmp_path / "ifx.db"
    server = Server("--clock", "virtual", "--token-seed", "5", "--state", str(state))
    try:
        tok = server.token().json()
        start_balance = Decimal(str(server.get("requestbalanceinformation", tok).json()["Balance"]))
        tokens: set[str] = set()
        opened: set[int] = set()
        closed: dict[int, Decimal] = {}
        lock = threading.Lock()

        def client(n: int) -> None:
            try:
                for k in range(10_000):
                    r = server.token()
                    if r.status_code == 200:
                        with lock:
                            tokens.add(r.json())
                    ticket = 1_000_000 + n * 10_000 + k
                    trade = {
                        "ticket": ticket,
                        "symbol": "EURUSD",
                        "type": 1,
                        "volume": "0.1",
                        "open_price": "1.1",
                        "open_time": "now",
                    }
                    if server.control("trade", {"login": LOGIN, "trade": trade}).status_code == 200:
                        with lock:
                            opened.add(ticket)
                    if k % 2:
                        profit = Decimal(n + 1)
                        body = {"login": LOGIN, "ticket": ticket, "price": "1.2", "profit": str(profit)}
                        if server.control("close", body).status_code == 200:
                            with lock:
                                closed[ticket] = profit
            except requests.RequestException:
                return  # the server is gone

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(closed) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        for t in threads:
            t.join(timeout=30)
        assert len(closed) >= 40
    finally:
        server.proc.kill()
        server.proc.wait()

    restarted = Server("--state", str(state))
    try:
        for value in tokens:  # every token handed out still opens the account
            assert restarted.get("requestbalanceinformation", value).status_code == 200
        open_now = {t["Ticket"] for t in restarted.get("requestopentrades", tok).json()}
        history = restarted.get("requestclosedtrades", tok).json()
        closed_now = {t["Ticket"]: Decimal(str(t["Profit"])) for t in history}
        assert not (open_now & set(closed_now)), "a trade both open and closed: a close half applied"
        assert opened <= open_now | set(closed_now), "an acknowledged trade was lost"
        assert all(closed_now.get(t) == p for t, p in closed.items()), "an acknowledged close was lost"
        ours = {t: p for t, p in closed_now.items() if 1_000_000 <= t < 2_000_000}
        balance = Decimal(str(restarted.get("requestbalanceinformation", tok).json()["Balance"]))
        assert balance == start_balance + sum(ours.values())  # each close moved the balance exactly once
        logins = restarted.get("requestloginhistory", tok).json()
        assert len(logins) >= len(tokens) + 1
        assert restarted.token().status_code == 200  # it goes on
    finally:
        restarted.proc.kill()
        restarted.proc.wait()


def test_restart_restores_accounts_tokens_and_the_virtual_clock(tmp_path: Path) -> None:
    state = tmp_path / "ifx.db"
    with InstaForexMock(state=state, token_seed=1) as m:
        r = requests.post(m.url + "api/authentication/requestclientapitoken",
                          json={"Login": LOGIN, "Password": PASSWORD}, timeout=10)  # fmt: skip
        token = r.json()
        m.add_trade(LOGIN, ticket=42, symbol="GBPUSD", type=2, volume="1", open_price="1.25", open_time="now")
        m.advance(600)
        m.change_account(LOGIN, balance="12345.67")
        before, now = m.store.to_data(), m.clock.now()
    with InstaForexMock(state=state) as m:
        assert m.store.to_data() == before and m.clock.now() == now
        r = requests.get(f"{m.url}client/requestopentrades/{LOGIN}", headers={"passkey": token}, timeout=10)
        assert r.status_code == 200 and 42 in {t["Ticket"] for t in r.json()}
        m.advance(5400)  # the token's lifetime runs on the restored clock
        r = requests.get(f"{m.url}client/requestopentrades/{LOGIN}", headers={"passkey": token}, timeout=10)
        assert r.status_code == 403
        m.reset()  # the file held the accounts to reset to
        assert 42 not in {t.ticket for t in m.store.accounts[LOGIN].open_trades}


def test_reads_do_not_write_and_foreign_files_are_refused(tmp_path: Path) -> None:
    with InstaForexMock(state=tmp_path / "i.db") as m:
        r = requests.post(m.url + "api/authentication/requestclientapitoken",
                          json={"Login": LOGIN, "Password": PASSWORD}, timeout=10)  # fmt: skip
        assert m.persister is not None
        before = m.persister.commits
        for route in ("requestbalanceinformation", "requestopentrades", "requestaccountsummary"):
            requests.get(f"{m.url}client/{route}/{LOGIN}", headers={"passkey": r.json()}, timeout=10)
        assert m.persister.commits == before
    streamster = tmp_path / "s.db"
    StreamsterMock(state=streamster).stop()
    original = streamster.read_bytes()
    with pytest.raises(StateFileError, match="holds the state of the streamster emulator"):
        InstaForexMock(state=streamster)
    assert streamster.read_bytes() == original
    with pytest.raises(StateFileError, match="already holds its accounts"):
        InstaForexMock(state=tmp_path / "i.db", generate=3)
