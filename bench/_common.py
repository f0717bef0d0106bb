"""Shared pieces of the benchmarks: an emulator in its own process, keep-alive HTTP load, figures.

Two load generators: `load` sends an exact number of requests from Python clients (threads on
keep-alive connections), which cap near 3,500 req/s on a small machine, so a fast server measures
the client; `measure` drives a server with wrk (a native load generator: the Debian package `wrk`)
when it is installed and BENCH_LOADGEN is not `python`, for a time instead of a count, and falls
back to `load` otherwise. `load_generator()` says which one `measure` uses; the scripts print it.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
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
    """What one load run measured. `threads`: the clients (keep-alive connections); `latencies`, in
    seconds, are each request's (wrk's histogram, with its correction for requests a slow reply held
    back, when wrk ran)."""

    name: str
    threads: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000 if lat else 0.0
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
        return (
            f"{self.name:<40} {self.threads:>2} clients {self.requests:>6} requests "
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


@dataclass(frozen=True)
class HttpRequest:
    """One request, sent again and again on a client's keep-alive connection (called: gives the status)."""

    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def __call__(self, conn: http.client.HTTPConnection) -> int:
        conn.request(self.method, self.path, body=self.body, headers=dict(self.headers))
        r = conn.getresponse()
        r.read()
        return r.status


def request(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> HttpRequest:
    """One request, sent again and again on a client's keep-alive connection; gives the status."""
    return HttpRequest(method, path, body, tuple((headers or {}).items()))


# ------------------------------------------------------------------------------------------------ wrk

WRK_PLAN_RATE = 2000  # requests a second the Python clients reach: a wrk run lasts as long as their count would


def _wrk() -> str | None:
    """wrk's path when `measure` uses it."""
    if os.environ.get("BENCH_LOADGEN", "").strip().lower() == "python":
        return None
    return shutil.which("wrk")


def load_generator() -> str:
    """Which load generator `measure` uses, for the scripts to print."""
    wrk = _wrk()
    if wrk is None:
        why = "BENCH_LOADGEN=python" if shutil.which("wrk") else "wrk is not installed"
        return f"Python keep-alive clients (threads; {why})"
    found = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10)
    words = (found.stdout + found.stderr).split()
    return f"wrk {words[1] if len(words) > 1 else ''} ({wrk}), native; falls back to Python clients without it".replace(
        "  ", " "
    )


def _lua_string(data: bytes) -> str:
    """`data` as a Lua string literal (every byte outside printable ASCII, and quote and backslash, escaped)."""
    out = []
    for b in data:
        out.append(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}")
    return '"' + "".join(out) + '"'


# Each wrk thread sends the request on its connections; when the run ends, done() prints one line of
# JSON: the requests completed, the run's length, the errors (socket errors, timeouts, status >= 400)
# and the latency histogram (microseconds, count), so the figures are computed as for the Python clients.
_WRK_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  local hist = {}
  for i = 1, #latency do
    local v, c = latency(i)
    hist[#hist + 1] = string.format("[%d,%d]", v, c)
  end
  io.write(string.format('WRK_FIGURES {"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,"latency":[%s]}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, table.concat(hist, ",")))
end
"""


def wrk_script(req: HttpRequest) -> str:
    """The Lua script that makes wrk send `req` (its method, path, headers and body)."""
    lines = [f"wrk.method = {_lua_string(req.method.encode())}", f"wrk.path = {_lua_string(req.path.encode())}"]
    if req.body is not None:
        lines.append(f"wrk.body = {_lua_string(req.body)}")
    lines += [f"wrk.headers[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in req.headers]
    return "\n".join(lines) + "\n" + _WRK_DONE


def run_wrk(url: str, name: str, req: HttpRequest, connections: int, seconds: int) -> Figures:
    """`connections` keep-alive connections sending `req` for `seconds`, from wrk (its threads: one per
    connection up to the processors)."""
    wrk = _wrk()
    assert wrk is not None
    threads = max(1, min(connections, os.cpu_count() or 1))
    parts = urlsplit(url)
    target = f"{parts.scheme}://{parts.netloc}/"
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = os.path.join(tmp, "request.lua")
        with open(script, "w", encoding="ascii") as f:
            f.write(wrk_script(req))
        done = subprocess.run(
            [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script, target],
            capture_output=True, text=True, timeout=seconds + 60,
        )  # fmt: skip
    found = re.search(r"^WRK_FIGURES (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}) on {name}: {(done.stderr or done.stdout)[-2000:]}")
    data = json.loads(found.group(1))
    latencies = [v / 1e6 for v, c in data["latency"] for _ in range(c)]
    errors = data["errors"] + data["status_errors"]
    return Figures(name, connections, data["requests"], data["duration_us"] / 1e6, latencies, errors)


def measure(url: str, name: str, request: Request, threads: int, per_thread: int) -> Figures:
    """A figure of a server: wrk for as long as `threads` Python clients would take for `per_thread`
    requests each (at WRK_PLAN_RATE), on `threads` connections; the Python clients without wrk."""
    if _wrk() is None or not isinstance(request, HttpRequest):
        return load(url, name, request, threads, per_thread)
    return run_wrk(url, name, request, threads, max(1, math.ceil(threads * per_thread / WRK_PLAN_RATE)))


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
