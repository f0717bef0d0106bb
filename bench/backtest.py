"""Backtest figures: loading a year of one-minute bars, GetBars over it, a polling bot in lockstep.

Targets (issue 20): a year of one-minute bars (about 370,000 rows) loads in at most 2 s and
150 MiB; GetBars of any period over the whole history in at most 20 ms; a polling bot (GetQuote and
GetPositions per bar, an order every 20 bars) in lockstep over HTTP covers 5,000 hourly bars in at
most 15 s, and in process at least 2,000 bars a second. The history files are made up (a seeded
walk), written to a temporary folder first. Run: `.venv/bin/python -m bench.backtest` (also
`make bench`); BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import gc
import http.client
import io
import logging
import os
import random
import re
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench._common import NS, scale, serve
from mock_common.wsgi import run_app
from mock_streamster import StreamsterMock
from mock_streamster.history import PERIOD_MS, HistoryEndedError, HistorySource, forget_loaded_files, load_history
from mock_streamster.market import from_epoch
from mock_streamster.pytest_plugin import in_process_app
from mock_streamster.scenario import scenario_from_dict

log = logging.getLogger("bench.backtest")
YEAR_OF_MINUTES = 52 * 5 * 1440  # 374,400 rows: a year of weekday minutes
HOURLY_BARS = 5000
HTTP_RUNS = 3  # the HTTP bot's runs: the machine the figures come from varies by up to 2x


def write_bars(path: Path, rows: int, minutes: int) -> Path:
    """`rows` bars of `minutes` each, weekdays only, a seeded walk, as a generic CSV (what pandas writes)."""
    rng = random.Random(5)
    t, price = datetime(2023, 1, 2), 110000
    step = timedelta(minutes=minutes)
    with open(path, "w", encoding="utf-8") as out:
        out.write(",Open,High,Low,Close,Volume\n")
        written = 0
        while written < rows:
            if t.weekday() < 5:
                o = price
                c = o + rng.randint(-9, 9) * (1 if minutes == 1 else 8)
                hi, lo = max(o, c) + rng.randint(0, 5), min(o, c) - rng.randint(0, 5)
                out.write(
                    f"{t:%Y-%m-%d %H:%M:%S},{o / 1e5:.5f},{hi / 1e5:.5f},{lo / 1e5:.5f},{c / 1e5:.5f},{rng.randint(1, 500)}\n"
                )
                price = c
                written += 1
            t += step
    return path


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def loading(path: Path) -> None:
    """Time of reading the file into arrays and bars of every period, then its memory (tracemalloc slows
    allocation down, so it measures a second reading, not the timed one)."""
    gc.collect()
    rss = _rss_mib()
    started = time.perf_counter()
    history = load_history(HistorySource(str(path)))
    took = time.perf_counter() - started
    grown = _rss_mib() - rss
    forget_loaded_files()
    del history
    gc.collect()
    tracemalloc.start()
    history = load_history(HistorySource(str(path)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = sum(a.nbytes for a in (history.times, history.ends, history.open, history.high, history.low,
                                  history.close, history.volume))  # fmt: skip
    kept += sum(a.nbytes for agg in history.periods.values() for a in vars(agg).values())
    log.info("load %d one-minute bars (%.1f MiB file): %.2f s (target 2 s); RSS +%.1f MiB, peak %.1f MiB allocated "
             "while loading, %.1f MiB kept (target 150 MiB)", len(history), path.stat().st_size / 2**20, took, grown,
             peak / 2**20, kept / 2**20)  # fmt: skip


def get_bars(path: Path) -> None:
    """GetBars of every period at the end of the history: on the platform, and as a SOAP call in process."""
    history = load_history(HistorySource(str(path)))
    start = from_epoch(history.last - 3600)
    scenario = scenario_from_dict({"history": {"EUR/USD": str(path)}, "start": start.isoformat()})
    with StreamsterMock(scenario=scenario) as mock:
        p = mock.platform
        app = in_process_app(mock)
        worst_platform = worst_wire = 0.0
        for period in PERIOD_MS:
            calls = [_timed(lambda period=period: p.get_bars("EUR/USD", period, "f")) for _ in range(20)]
            body = (f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Period xmlns="{NS}">{period}</Period>'
                    f'<Options xmlns="{NS}">f</Options>')  # fmt: skip
            wire = [_timed(lambda body=body: _soap_in_process(app, "GetBars", body)) for _ in range(20)]
            worst_platform = max(worst_platform, statistics.median(calls))
            worst_wire = max(worst_wire, statistics.median(wire))
            log.info("GetBars %-10s over %d rows: %.2f ms on the platform, %.2f ms as a SOAP call in process "
                     "(median of 20; 200 bars)", period, len(history), statistics.median(calls) * 1000,
                     statistics.median(wire) * 1000)  # fmt: skip
        log.info("GetBars worst period: %.2f ms platform, %.2f ms SOAP in process (target 20 ms)",
                 worst_platform * 1000, worst_wire * 1000)  # fmt: skip


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _envelope(action: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def _soap_in_process(app: Any, action: str, body: str) -> tuple[int, bytes]:
    data = _envelope(action, body)
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/endpoint", "CONTENT_TYPE": "text/xml; charset=utf-8",
        "HTTP_SOAPACTION": f'"{action}"', "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data),
        "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8018", "wsgi.url_scheme": "http",
    }  # fmt: skip
    started, reply = run_app(app, environ)
    return int(started[0][:3]) if started else 0, reply


QUOTE = f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'


def _order(n: int, bid: float) -> str:
    """A market order, BUY and SELL in turn, with a stop loss and a target 30 pips away (as a bot would)."""
    side, sign = ("BUY", 1) if n % 40 else ("SELL", -1)
    stop, target = bid - sign * 0.0030, bid + sign * 0.0030
    return (f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Desk>Virtual Forex</Desk><Side>{side}</Side>'
            f"<Quantity>1</Quantity><ExitStopLoss>{stop:.5f}</ExitStopLoss><ExitTarget>{target:.5f}</ExitTarget></Order>")  # fmt: skip


_BID = re.compile(rb"<tns:Bid>([0-9.]+)</tns:Bid>")


def _http_run(path: Path) -> tuple[float, int, int, int]:
    """One run of the polling bot against its own `mock-streamster serve --history ... --step GetQuote=1h`:
    (seconds, polls, calls, errors)."""
    args = ("serve", "--history", f"EUR/USD={path}", "--step", "GetQuote=1h")
    with serve("mock-streamster", r"endpoint:\s+(\S+)", args) as served:
        url = urlsplit(served.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Content-Type": "text/xml; charset=utf-8"}

        def call(action: str, body: str) -> tuple[int, bytes]:
            conn.request("POST", url.path, _envelope(action, body), {**headers, "SOAPAction": f'"{action}"'})
            reply = conn.getresponse()
            return reply.status, reply.read()

        started = time.perf_counter()
        polls, calls, errors = _poll(call, lambda status, reply: status == 500 and b"price history ended" in reply)
        took = time.perf_counter() - started
        conn.close()
    return took, polls, calls, errors


def bot_over_http(path: Path, bars: int, runs: int = HTTP_RUNS) -> None:
    """The polling bot over HTTP, `runs` times (a fresh server each): each run, then the best and the
    median. Noise on a shared machine only ever adds time, so the best run is the steadiest figure
    (timeit's rule); the median says what a run usually takes there."""
    took_all, failed = [], 0
    for run in range(1, runs + 1):
        took, polls, calls, errors = _http_run(path)
        took_all.append(took)
        failed += errors
        log.info("polling bot over HTTP, run %d of %d (raw keep-alive, lockstep GetQuote=1h): %d bars in %.2f s, "
                 "%d polls (weekends included), %d calls, %.0f bars/s, errors %d", run, runs, bars, took, polls,
                 calls, bars / took, errors)  # fmt: skip
    log.info("polling bot over HTTP, best of %d runs: %d bars in %.2f s (target 15 s for 5,000), median %.2f s, "
             "errors %d", runs, bars, min(took_all), statistics.median(took_all), failed)  # fmt: skip


def bot_in_process(path: Path, bars: int) -> None:
    """The same bot in process: the API's Python face (the calls the wire makes), then SOAP through the WSGI app."""
    with StreamsterMock(history={"EUR/USD": str(path)}, step="GetQuote=1h") as mock:
        api = mock.controller.api

        def direct(action: str, body: str) -> tuple[int, bytes]:
            try:
                if action == "GetQuote":
                    return 200, b"<tns:Bid>%s</tns:Bid>" % str(api.get_quote("EUR/USD").bid).encode()
                if action == "GetPositions":
                    api.get_positions()
                else:
                    fields = dict(re.findall(r"<(\w+)>([^<]*)</\1>", body))
                    api.send_order({k: fields[k] for k in ("Instrument", "Desk", "Side", "Quantity", "ExitStopLoss",
                                                           "ExitTarget")})  # fmt: skip
            except HistoryEndedError:
                return 500, b"price history ended"
            return 200, b""

        started = time.perf_counter()
        polls, calls, errors = _poll(direct, lambda status, reply: status == 500)
        took = time.perf_counter() - started
    log.info("polling bot in process (the API's Python face): %d bars in %.2f s, %.0f bars/s (target 2,000), "
             "%d calls, errors %d", bars, took, bars / took, calls, errors)  # fmt: skip
    with StreamsterMock(history={"EUR/USD": str(path)}, step="GetQuote=1h") as mock:
        app = in_process_app(mock)
        started = time.perf_counter()
        polls, calls, errors = _poll(lambda a, b: _soap_in_process(app, a, b),
                                     lambda status, reply: status == 500 and b"price history ended" in reply)  # fmt: skip
        took = time.perf_counter() - started
    log.info("polling bot in process (SOAP through the WSGI app, no socket): %d bars in %.2f s, %.0f bars/s, "
             "%d calls, errors %d", bars, took, bars / took, calls, errors)  # fmt: skip


def _poll(call: Callable[[str, str], tuple[int, bytes]], ended: Callable[[int, bytes], bool]) -> tuple[int, int, int]:
    """GetQuote and GetPositions a poll, an order every 20 polls, until the history ends: (polls, calls, errors)."""
    polls = calls = errors = 0
    while True:
        status, reply = call("GetQuote", QUOTE)
        calls += 1
        if ended(status, reply):
            return polls, calls, errors
        polls += 1
        found = _BID.search(reply)
        bid = float(found.group(1)) if found else 0.0
        for action, body in [("GetPositions", "")] + ([("SendOrder", _order(polls, bid))] if polls % 20 == 0 else []):
            status, reply = call(action, body)
            calls += 1
            errors += status != 200


def main() -> None:
    """Print the figures."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    factor = scale()
    with tempfile.TemporaryDirectory() as folder:
        minutes = write_bars(Path(folder) / "eurusd-m1.csv", max(2000, int(YEAR_OF_MINUTES * factor)), 1)
        hours = write_bars(Path(folder) / "eurusd-h1.csv", max(60, int(HOURLY_BARS * factor)), 60)
        loading(minutes)
        get_bars(minutes)
        bars = max(60, int(HOURLY_BARS * factor))
        bot_over_http(hours, bars)
        bot_in_process(hours, bars)


if __name__ == "__main__":
    main()
