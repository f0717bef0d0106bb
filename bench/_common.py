"""Shared pieces of the benchmarks: an emulator in its own process, keep-alive HTTP load, figures."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Served:
    """An emulator process: its pid and the URL it printed."""

    pid: int
    url: str

    def rss_kib(self) -> int:
        """Resident memory of the process (VmRSS), KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


@contextmanager
def serve(*command: str, url_pattern: str) -> Iterator[Served]:
    """Start `mock-streamster serve …` or `mock-instaforex serve …` on a free port in its own
    process (so the load generator does not share its interpreter lock) and stop it after."""
    exe = Path(sys.executable).parent / command[0]
    proc = subprocess.Popen(
        [str(exe), *command[1:], "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        for line in proc.stdout:
            m = re.search(url_pattern, line)
            if m:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} printed no URL")
        else:
            raise RuntimeError(f"{command[0]} exited: {proc.wait()}")
        yield Served(proc.pid, m.group(1))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Figures:
    """What one load run measured."""

    name: str
    threads: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (
            f"{self.name:<40} {self.threads:>2} threads {self.requests:>6} requests "
            f"{self.requests / self.seconds:>8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  errors {self.errors}"
        )


Request = Callable[[http.client.HTTPConnection], int]


def load(url: str, name: str, request: Request, threads: int, per_thread: int) -> Figures:
    """`threads` clients, each on one keep-alive connection, each sending `per_thread` requests."""
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine: list[float] = []
        bad = 0
        barrier.wait()
        for _ in range(per_thread):
            t0 = time.perf_counter()
            status = request(conn)
            mine.append(time.perf_counter() - t0)
            bad += status >= 400
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    return Figures(name, threads, threads * per_thread, time.perf_counter() - t0, latencies, errors)


def post(path: str, body: bytes, headers: dict[str, str]) -> Request:
    def send(conn: http.client.HTTPConnection) -> int:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status

    return send


def get(path: str, headers: dict[str, str] | None = None) -> Request:
    def send(conn: http.client.HTTPConnection) -> int:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status

    return send


def scale() -> float:
    """BENCH_SCALE=0.1 for a quick look, 1 (default) for the figures in the README."""
    return float(os.environ.get("BENCH_SCALE", "1"))


def client_passkey(base_url: str, login: int = 20000001, password: str = "demo-pass") -> str:
    """A client token from the InstaForex emulator, as the `passkey` header wants it (the raw body)."""
    req = urllib.request.Request(
        base_url.rstrip("/") + "/api/Authentication/RequestClientApiToken",
        data=json.dumps({"Login": login, "Password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(r.read().decode())


def rss_rounds(served: Served, request: Request, per_round: int, rounds: int) -> list[float]:
    """The server's resident memory (MiB) after each round of `per_round` requests from 8 clients."""
    figures = []
    for _ in range(rounds):
        load(served.url, "round", request, 8, per_round // 8)
        figures.append(served.rss_kib() / 1024)
    return figures
