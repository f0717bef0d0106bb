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
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

NS = "http://www.novativa.com/ws/streamsterapi"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TOKEN_PATH = "/api/Authentication/RequestClientApiToken"
DEMO_LOGIN = {"Login": 20000001, "Password": "demo-pass"}


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
def serve(command: str, url_pattern: str, args: tuple[str, ...] = ("serve", "--clock", "virtual")) -> Iterator[Served]:
    """Start `<command> serve --clock virtual --port 0` (or other `args`) in its own process (so the load
    generator does not share its interpreter lock), wait for the URL it prints, and stop it after."""
    exe = Path(sys.executable).parent / command
    proc = subprocess.Popen(
        [str(exe), *args, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the CLI prints its URLs once it is serving
            m = re.search(url_pattern, line)
            if m:
                break
        else:
            raise RuntimeError(f"{command} exited before printing its URL: {proc.wait()}")
        yield Served(proc.pid, m.group(1))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_streamster() -> AbstractContextManager[Served]:
    """The Streamster emulator; `.url` is its SOAP endpoint."""
    return serve("mock-streamster", r"endpoint:\s+(\S+)")


def serve_instaforex() -> AbstractContextManager[Served]:
    """The InstaForex emulator with the demo accounts; `.url` is its base URL."""
    return serve("mock-instaforex", r"base URL:\s+(\S+)")


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


Client = tuple[Callable[[], int], Callable[[], None]]  # (send one request -> status, close)


def run_clients(name: str, open_client: Callable[[], Client], threads: int, per_thread: int) -> Figures:
    """`threads` clients started together, each from `open_client()`, each sending `per_thread` requests."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def client() -> None:
        nonlocal errors
        send, close = open_client()
        mine: list[float] = []
        bad = 0
        barrier.wait()
        for _ in range(per_thread):
            t0 = time.perf_counter()
            status = send()
            mine.append(time.perf_counter() - t0)
            bad += status >= 400
        close()
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


def load(url: str, name: str, request: Request, threads: int, per_thread: int) -> Figures:
    """`threads` clients, each on one keep-alive connection, each sending `per_thread` requests."""
    parts = urlsplit(url)

    def open_client() -> Client:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        return (lambda: request(conn)), conn.close

    return run_clients(name, open_client, threads, per_thread)


def request(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Request:
    """One request, sent again and again on a client's keep-alive connection; gives the status."""

    def send(conn: http.client.HTTPConnection) -> int:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status

    return send


def soap(action: str, body: str = "") -> Request:
    """A Streamster call: POST to /endpoint with the SOAPAction and `body` (bare parts) in the envelope."""
    xml = f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{ENV}"><s:Body>{body}</s:Body></s:Envelope>'
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return request("POST", "/endpoint", xml.encode(), headers)


def scale() -> float:
    """BENCH_SCALE=0.1 for a quick look, 1 (default) for the figures in the README."""
    return float(os.environ.get("BENCH_SCALE", "1"))


def client_passkey(base_url: str) -> str:
    """A client token for the demo login, as the `passkey` header wants it (the raw body)."""
    req = urllib.request.Request(
        base_url.rstrip("/") + TOKEN_PATH,
        data=json.dumps(DEMO_LOGIN).encode(),
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
