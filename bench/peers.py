"""The emulators beside the peers a user would pick instead, measured in one run, interleaved.

For each API (Streamster GetQuote, InstaForex balance) the same call is sent to:
- broker-mocks: the emulator's own command (`mock-streamster serve`, `mock-instaforex serve`);
- a bare framework app on the same server (spyne for SOAP, Flask for JSON) that only returns a
  fixed reply: what the framework costs with no emulation behind it;
- WireMock 3 (the standalone jar of the npm package `wiremock`, run by Java), stubs loaded from files;
- pytest-httpserver (threaded), one permanent handler;
- `responses`, in-process: no server at all, `requests` calls answered by the mock.

Figures: cold start (process start to the first served request), requests per second and p50/p99
with 1 and 8 keep-alive clients (wrk's connections where wrk is installed, so the servers are
measured rather than the load generator; else Python client threads; BENCH_LOADGEN=python forces
them; the report says which ran), reset time, and resident memory after N requests; then a table of
ratios (broker-mocks / peer) printed and written to bench/results.json (or $BENCH_RESULTS). The
load runs in rounds, each target in turn, so the machine's noise falls on every target alike. A
peer that is not installed is reported as missing. Every loop is bounded; loopback only.

Run: `make bench-peers` (installs the peers). BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import logging
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench._common import (
    DEMO_LOGIN,
    ENV,
    NS,
    TOKEN_PATH,
    Client,
    Figures,
    Request,
    load,
    load_generator,
    measure,
    request,
    run_clients,
    scale,
    soap,
)

log = logging.getLogger("bench.peers")

ROOT = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "results.json"))
PEERS_DIR = ROOT / ".peers"
LOGIN = 20000001
BALANCE_PATH = f"/client/RequestBalanceInformation/{LOGIN}"
QUOTE_XML = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<soap:Envelope xmlns:tns="{NS}" xmlns:soap="{ENV}"><soap:Body><tns:Quote><tns:Last>1.08500</tns:Last>'
    "<tns:Bid>1.08500</tns:Bid><tns:Offer>1.08520</tns:Offer><tns:Change>0.00092</tns:Change>"
    "<tns:High>1.08712</tns:High><tns:Low>1.08107</tns:Low><tns:Open>1.08425</tns:Open><tns:Close>1.08408</tns:Close>"
    "<tns:Time>09:00:00</tns:Time><tns:Currency>USD</tns:Currency><tns:Ask>1.08520</tns:Ask></tns:Quote>"
    "</soap:Body></soap:Envelope>"
)
QUOTE_FIELDS = ("Last", "Bid", "Offer", "Change", "High", "Low", "Open", "Close", "Time", "Currency", "Ask")
QUOTE_VALUES = dict(zip(QUOTE_FIELDS, re.findall(r"<tns:\w+>([^<]*)</tns:", QUOTE_XML), strict=True))
BALANCE = {
    "Login": LOGIN, "Balance": 10000.0, "Equity": 10000.0, "Margin": 0.0, "FreeMargin": 10000.0,
    "MarginLevel": 0.0, "Credit": 0.0, "Currency": "USD", "Leverage": 100,
}  # fmt: skip
BALANCE_JSON = json.dumps(BALANCE)
GET_QUOTE = soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')
# bare spyne speaks the ordinary wrapped style: the operation element holds the parts.
BARE_GET_QUOTE = soap("GetQuote", f'<GetQuote xmlns="{NS}"><Instrument>EUR/USD</Instrument></GetQuote>')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One thing measured: how to start it, the request it answers, how to reset it."""

    api: str
    name: str
    command: list[str] | None  # a server process; None: in-process (`responses`)
    request: Request | None = None
    first: Callable[[int], bytes] | None = None  # the raw first request, for the cold start
    reset: Callable[[str], float] | None = None
    missing: str | None = None
    url: str = ""
    proc: subprocess.Popen[bytes] | None = None
    cold: float | None = None
    figures: dict[int, list[Figures]] = field(default_factory=lambda: {1: [], 8: []})
    rss: float | None = None
    reset_s: float | None = None
    sent: int = 0

    def start(self) -> None:
        """Start the process and time it to the first served request (bounded: 60 s)."""
        assert self.command is not None and self.first is not None
        port = free_port()
        command = [c.replace("{port}", str(port)) for c in self.command]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
        deadline = t0 + 60
        while time.perf_counter() < deadline:
            try:
                reply = _raw(port, self.first(port))
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}") from None
                time.sleep(0.002)
                continue
            if not reply.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{self.name}: first request answered {reply[:200]!r}")
            self.cold = time.perf_counter() - t0
            self.url = f"http://127.0.0.1:{port}"
            return
        raise RuntimeError(f"{self.name} did not answer within 60 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def _env() -> dict[str, str]:
    """The environment of a measured process: with the bytecode cache, as an installed package runs."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def _raw_quote(port: int) -> bytes:
    body = f'<s:Envelope xmlns:s="{ENV}"><s:Body><Instrument xmlns="{NS}">EUR/USD</Instrument></s:Body></s:Envelope>'
    return _http("POST", "/endpoint", body, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'})


def _raw_bare_quote(port: int) -> bytes:
    body = (
        f'<s:Envelope xmlns:s="{ENV}"><s:Body><GetQuote xmlns="{NS}"><Instrument>EUR/USD</Instrument></GetQuote>'
        "</s:Body></s:Envelope>"
    )
    return _http("POST", "/endpoint", body, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'})


def _raw_token(port: int) -> bytes:
    return _http("POST", TOKEN_PATH, json.dumps(DEMO_LOGIN), {"Content-Type": "application/json"})


def _raw_balance(port: int) -> bytes:
    return _http("GET", BALANCE_PATH, "", {"passkey": "x"})


def _http(method: str, path: str, body: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _post_reset(path: str) -> Callable[[str], float]:
    def reset(url: str) -> float:
        port = int(url.rsplit(":", 1)[1])
        t0 = time.perf_counter()
        reply = _raw(port, _http("POST", path, "", {"Content-Type": "application/json"}))
        elapsed = time.perf_counter() - t0
        if not reply.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"reset via {path} answered {reply[:200]!r}")
        return elapsed

    return reset


def _wiremock_jar() -> str | None:
    jar = os.environ.get("WIREMOCK_JAR")
    if jar:
        return jar if Path(jar).is_file() else None
    found = sorted(glob.glob(str(PEERS_DIR / "node_modules/wiremock/build/wiremock-standalone-3*.jar")))
    return found[-1] if found else None


def _wiremock_root() -> str:
    """A WireMock root directory whose mappings answer both calls (loaded at start, restored by reset)."""
    root = Path(tempfile.mkdtemp(prefix="bench-wiremock-"))
    (root / "mappings").mkdir()
    (root / "__files").mkdir()
    stubs = {
        "quote": {
            "request": {"method": "POST", "url": "/endpoint"},
            "response": {"status": 200, "body": QUOTE_XML, "headers": {"Content-Type": "text/xml; charset=utf-8"}},
        },
        "balance": {
            "request": {"method": "GET", "url": BALANCE_PATH},
            "response": {
                "status": 200,
                "body": BALANCE_JSON,
                "headers": {"Content-Type": "application/json; charset=utf-8"},
            },
        },  # fmt: skip
    }
    for name, stub in stubs.items():
        (root / "mappings" / f"{name}.json").write_text(json.dumps(stub))
    return str(root)


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def targets(selected: set[str] | None) -> list[Target]:
    exe = Path(sys.executable).parent
    me = [sys.executable, "-m", "bench.peers", "--serve"]
    jar, java = _wiremock_jar(), shutil.which("java")
    wiremock_missing = None if jar and java else "no Java" if not java else "no WireMock jar (make bench-peers)"
    wiremock = None
    if not wiremock_missing:
        root = _wiremock_root()
        wiremock = [java, "-jar", jar, "--port", "{port}", "--root-dir", root, "--disable-banner",
                    "--no-request-journal", "--async-response-enabled", "false"]  # fmt: skip
    httpserver_missing = None if _have("pytest_httpserver") else "pytest-httpserver is not installed"
    responses_missing = None if _have("responses") else "responses is not installed"
    balance = request("GET", BALANCE_PATH, headers={"passkey": "x"})
    all_targets = [
        Target("Streamster GetQuote", "broker-mocks",
               [str(exe / "mock-streamster"), "serve", "--clock", "virtual", "--port", "{port}"],
               GET_QUOTE, _raw_quote, _post_reset("/_mock/reset")),
        Target("Streamster GetQuote", "bare spyne", [*me, "spyne", "--port", "{port}"], BARE_GET_QUOTE, _raw_bare_quote),
        Target("Streamster GetQuote", "WireMock 3", wiremock, GET_QUOTE, _raw_quote, _post_reset("/__admin/reset"),
               missing=wiremock_missing),
        Target("Streamster GetQuote", "pytest-httpserver", [*me, "httpserver", "--port", "{port}"], GET_QUOTE,
               _raw_quote, _post_reset("/__reset"), missing=httpserver_missing),
        Target("Streamster GetQuote", "responses", None, GET_QUOTE, missing=responses_missing),
        Target("InstaForex balance", "broker-mocks",
               [str(exe / "mock-instaforex"), "serve", "--clock", "virtual", "--port", "{port}"],
               None, _raw_token, _post_reset("/_mock/reset")),
        Target("InstaForex balance", "bare Flask", [*me, "flask", "--port", "{port}"], balance, _raw_balance),
        Target("InstaForex balance", "WireMock 3", wiremock, balance, _raw_balance, _post_reset("/__admin/reset"),
               missing=wiremock_missing),
        Target("InstaForex balance", "pytest-httpserver", [*me, "httpserver", "--port", "{port}"], balance,
               _raw_balance, _post_reset("/__reset"), missing=httpserver_missing),
        Target("InstaForex balance", "responses", None, balance, missing=responses_missing),
    ]  # fmt: skip
    if selected:
        for t in all_targets:
            if t.name not in selected and t.name != "broker-mocks" and t.missing is None:
                t.missing = "not selected (BENCH_PEERS)"
    return all_targets


# ------------------------------------------------------------------------------- in-process peer


class _InProcess:
    """`responses` answering `requests` calls in this process: the same load shape, no server."""

    def __init__(self) -> None:
        import requests
        import responses

        self.requests = requests
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self._register()
        self.mock.start()

    def _register(self) -> None:
        self.mock.add("POST", "http://mock.test/endpoint", body=QUOTE_XML, content_type="text/xml; charset=utf-8")
        self.mock.add("GET", f"http://mock.test{BALANCE_PATH}", json=BALANCE)

    def reset(self) -> float:
        t0 = time.perf_counter()
        self.mock.reset()
        self._register()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.mock.stop()
        self.mock.reset()

    def load(self, api: str, threads: int, per_thread: int) -> Figures:
        streamster = api.startswith("Streamster")
        body = (
            f'<s:Envelope xmlns:s="{ENV}"><s:Body><Instrument xmlns="{NS}">EUR/USD</Instrument></s:Body></s:Envelope>'
        )

        def open_client() -> Client:
            session = self.requests.Session()

            def send() -> int:
                if streamster:
                    r = session.post("http://mock.test/endpoint", data=body, headers={"SOAPAction": '"GetQuote"'})
                else:
                    r = session.get(f"http://mock.test{BALANCE_PATH}", headers={"passkey": "x"})
                r.content  # noqa: B018  (read the body, as a client does)
                return int(r.status_code)

            return send, session.close

        return run_clients(api, open_client, threads, per_thread)


def _inprocess_cold_and_memory(api: str, n: int) -> tuple[float, float]:
    """A fresh interpreter: import, register, first answer (cold start, interpreter start-up included,
    as for the servers); its resident memory after n more calls."""
    code = (
        "import time\n"
        "import bench.peers as p\n"
        f"m = p._InProcess(); m.load({api!r}, 1, 1); first = time.time()\n"
        f"m.load({api!r}, 1, {n})\n"
        "import os; print(first, p.rss_mib(os.getpid()))\n"
    )
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT.parent, capture_output=True, text=True, timeout=900, env=_env()
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    first, rss = (float(x) for x in out.stdout.split())
    return first - t0, rss


# ------------------------------------------------------------------------------ the peer servers


def serve_peer(kind: str, port: int) -> None:
    """Run one peer server in this process until SIGINT/SIGTERM (`--serve KIND --port N`)."""
    from mock_common.cli import catch_stop_signals, wait_for_interrupt

    stopping = catch_stop_signals()
    if kind == "httpserver":
        from pytest_httpserver import HTTPServer

        server = HTTPServer("127.0.0.1", port, threaded=True)

        def register() -> None:
            server.expect_request("/endpoint", method="POST").respond_with_data(
                QUOTE_XML, content_type="text/xml; charset=utf-8"
            )
            server.expect_request(BALANCE_PATH, method="GET").respond_with_json(BALANCE)

            def reset(req: Any) -> Any:  # the peer's reset: forget requests and handlers, register again
                from werkzeug import Response

                server.clear()
                register()
                return Response("{}", content_type="application/json")

            server.expect_request("/__reset", method="POST").respond_with_handler(reset)

        register()
        server.start()
        wait_for_interrupt(stopping, server.stop)
        return
    from mock_common.server import WSGIServer

    app = _bare_spyne() if kind == "spyne" else _bare_flask()
    wsgi = WSGIServer(app, "127.0.0.1", port, threads=16, name=f"bare-{kind}")
    wsgi.start()
    wait_for_interrupt(stopping, wsgi.stop)


def _bare_spyne() -> Any:
    from spyne import Application, ComplexModel, ServiceBase, Unicode, rpc
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

    from mock_streamster import _spyne_compat  # noqa: F401  (spyne on Python 3.12+)

    quote = type("Quote", (ComplexModel,), {
        "__namespace__": NS, "_type_info": [(n, Unicode(min_occurs=0)) for n in (*QUOTE_FIELDS[:10], "Yield", "Ask")],
    })  # fmt: skip

    class Api(ServiceBase):
        @rpc(Unicode, _returns=quote, _out_variable_name="Quote")
        def GetQuote(ctx, Instrument):  # noqa: N802,N803,N805
            return quote(**QUOTE_VALUES)

    app = Application([Api], tns=NS, name="BareSpyne", in_protocol=Soap11(), out_protocol=Soap11())
    return WsgiApplication(app)


def _bare_flask() -> Any:
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/client/RequestBalanceInformation/<int:login>")
    def balance(login: int) -> Any:
        return jsonify({**BALANCE, "Login": login})

    return app


# ------------------------------------------------------------------------------------ the run


def _passkey(url: str) -> str:
    port = int(url.rsplit(":", 1)[1])
    reply = _raw(port, _raw_token(port))
    return reply.partition(b"\r\n\r\n")[2].decode()


def _load(t: Target, threads: int, per_thread: int, inproc: dict[str, _InProcess], exact: bool = False) -> Figures:
    """A figure of `t` (`measure`: wrk where installed), or `exact`ly that many requests (the Python clients)."""
    if t.command is None:
        return inproc["responses"].load(t.api, threads, per_thread)
    assert t.request is not None
    return (load if exact else measure)(t.url, t.name, t.request, threads, per_thread)


def _summary(figures: list[Figures]) -> dict[str, float]:
    lat = sorted(x for f in figures for x in f.latencies)
    n, seconds = sum(f.requests for f in figures), sum(f.seconds for f in figures)
    return {
        "requests": n,
        "req_per_s": round(n / seconds, 1) if seconds else 0.0,
        "p50_ms": round(statistics.median(lat) * 1000, 3) if lat else 0.0,
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 3) if lat else 0.0,
        "errors": sum(f.errors for f in figures),
    }


def run(n: int, rounds: int, memory_n: int, selected: set[str] | None, starts: int = 1) -> dict[str, Any]:
    all_targets = targets(selected)
    live = [t for t in all_targets if t.missing is None]
    inproc: dict[str, _InProcess] = {}
    try:
        for t in live:  # cold starts one after another (the best of `starts`), each on a quiet machine
            if t.command is None:
                t.cold, t.rss = _inprocess_cold_and_memory(t.api, memory_n)
                continue
            colds = []
            try:
                for _ in range(starts):
                    t.stop()
                    t.start()
                    colds.append(t.cold)
            except (RuntimeError, OSError) as exc:
                t.stop()
                t.missing = f"did not start: {exc}"
                continue
            t.cold = min(colds)
            if t.request is None:  # the emulator's balance call needs a client token
                t.request = request("GET", BALANCE_PATH, headers={"passkey": _passkey(t.url)})
        live = [t for t in live if t.missing is None]
        if any(t.command is None for t in live):
            inproc["responses"] = _InProcess()
        for t in live:  # warm-up: first calls, JIT, caches
            _load(t, 1, max(1, n // (10 * rounds)), inproc, exact=True)
        for _ in range(rounds):  # interleaved: every target in turn, each round
            for threads in (1, 8):
                for t in live:
                    f = _load(t, threads, max(1, n // rounds // threads), inproc)
                    t.figures[threads].append(f)
                    t.sent += f.requests
        for t in live:  # reset time: the mean of a few resets
            if t.command is None:
                t.reset_s = statistics.mean(inproc["responses"].reset() for _ in range(5))
            elif t.reset is not None:
                t.reset_s = statistics.mean(t.reset(t.url) for _ in range(5))
                if t.name == "broker-mocks" and t.api.startswith("InstaForex"):
                    t.request = request("GET", BALANCE_PATH, headers={"passkey": _passkey(t.url)})
        for t in live:  # memory: resident size once memory_n requests were served in all
            if t.command is None:
                continue
            left = max(0, memory_n - t.sent)
            while left > 0:
                chunk = min(left, 8 * 2000)
                _load(t, 8, max(1, chunk // 8), inproc, exact=True)
                left -= chunk
            assert t.proc is not None
            t.rss = rss_mib(t.proc.pid)
    finally:
        for t in live:
            t.stop()
        for m in inproc.values():
            m.close()
    return _report(all_targets, n, memory_n)


def _report(all_targets: list[Target], n: int, memory_n: int) -> dict[str, Any]:
    measured: dict[str, dict[str, Any]] = {}
    for t in all_targets:
        key = f"{t.api} / {t.name}"
        if t.missing is not None:
            measured[key] = {"missing": t.missing}
            continue
        measured[key] = {
            "cold_start_s": None if t.cold is None else round(t.cold, 4),
            "clients_1": _summary(t.figures[1]),
            "clients_8": _summary(t.figures[8]),
            "reset_ms": None if t.reset_s is None else round(t.reset_s * 1000, 3),
            "rss_mib": None if t.rss is None else round(t.rss, 1),
        }
    ratios: dict[str, dict[str, Any]] = {}
    for t in all_targets:
        if t.name == "broker-mocks":
            continue
        ours, peer = measured[f"{t.api} / broker-mocks"], measured[f"{t.api} / {t.name}"]
        key = f"{t.api} / {t.name}"
        if "missing" in peer or "missing" in ours:
            ratios[key] = {"missing": peer.get("missing") or ours.get("missing")}
            continue

        def ratio(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None or b == 0 else round(a / b, 2)

        ratios[key] = {
            "cold_start": ratio(ours["cold_start_s"], peer["cold_start_s"]),
            "req_per_s_1": ratio(ours["clients_1"]["req_per_s"], peer["clients_1"]["req_per_s"]),
            "req_per_s_8": ratio(ours["clients_8"]["req_per_s"], peer["clients_8"]["req_per_s"]),
            "p50_8": ratio(ours["clients_8"]["p50_ms"], peer["clients_8"]["p50_ms"]),
            "p99_8": ratio(ours["clients_8"]["p99_ms"], peer["clients_8"]["p99_ms"]),
            "reset": ratio(ours["reset_ms"], peer["reset_ms"]),
            "rss": ratio(ours["rss_mib"], peer["rss_mib"]),
        }
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        "load_generator": load_generator(),
        "requests_per_load": n,
        "memory_after_requests": memory_n,
        "measured": measured,
        "ratios": ratios,
    }


RATIO_COLUMNS = (
    ("cold_start", "cold start"), ("req_per_s_1", "req/s 1c"), ("req_per_s_8", "req/s 8c"), ("p50_8", "p50 8c"),
    ("p99_8", "p99 8c"), ("reset", "reset"), ("rss", "memory"),
)  # fmt: skip


def table(results: dict[str, Any]) -> list[str]:
    """The figures and the ratio table (broker-mocks / peer) as text lines."""
    lines = [f"{results['date']}, {results['machine']}", f"load generator: {results.get('load_generator')}", "",
             "Measured:"]  # fmt: skip
    head = f"{'target':<42}{'cold s':>8}{'req/s 1c':>10}{'req/s 8c':>10}{'p50 8c':>9}{'p99 8c':>9}{'reset ms':>10}{'MiB':>7}"
    lines.append(head)
    for key, m in results["measured"].items():
        if "missing" in m:
            lines.append(f"{key:<42}missing: {m['missing']}")
            continue
        c1, c8 = m["clients_1"], m["clients_8"]
        lines.append(
            f"{key:<42}{m['cold_start_s']:>8.3f}{c1['req_per_s']:>10.0f}{c8['req_per_s']:>10.0f}"
            f"{c8['p50_ms']:>9.2f}{c8['p99_ms']:>9.2f}"
            f"{'-' if m['reset_ms'] is None else format(m['reset_ms'], '.2f'):>10}"
            f"{'-' if m['rss_mib'] is None else format(m['rss_mib'], '.1f'):>7}"
        )
    lines += ["", "Ratios broker-mocks / peer (req/s: higher is better; the others: lower is better):"]
    lines.append(f"{'peer':<42}" + "".join(f"{label:>11}" for _, label in RATIO_COLUMNS))
    for key, r in results["ratios"].items():
        if "missing" in r:
            lines.append(f"{key:<42}missing: {r['missing']}")
            continue
        lines.append(
            f"{key:<42}" + "".join(f"{'-' if r[k] is None else format(r[k], '.2f'):>11}" for k, _ in RATIO_COLUMNS)
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=("spyne", "flask", "httpserver"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_peer(args.serve, args.port)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    s = scale()
    n = max(20, int(4000 * s))
    memory_n = max(n, int(100_000 * s))
    selected = {p.strip() for p in os.environ.get("BENCH_PEERS", "").split(",") if p.strip()} or None
    gc.collect()
    results = run(n, rounds=max(1, min(5, n // 20)), memory_n=memory_n, selected=selected, starts=3 if s >= 0.1 else 1)
    for line in table(results):
        log.info(line)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    log.info("written to %s", RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
