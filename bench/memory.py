"""Memory over time: the Streamster price history across virtual days, and each emulator's resident
memory under a sustained stream of reads (the request journal is a bounded ring).

Run: `make bench` or `.venv/bin/python -m bench.memory`. BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import gc
import json
import logging
import tracemalloc
import urllib.request

from bench._common import get, load, post, scale, serve
from mock_streamster.platform import Platform
from mock_streamster.scenario import Scenario

log = logging.getLogger("bench.memory")
NS = "http://www.novativa.com/ws/streamsterapi"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def history(days: int) -> None:
    """Points kept and memory traced for the default 7 instruments, ticking every 5 s."""
    tracemalloc.start()
    platform = Platform(seed=0, clock="virtual", scenario=Scenario())
    base = tracemalloc.get_traced_memory()[0]
    for day in range(days + 1):
        if day:
            platform.clock.advance(86400)
            platform.get_quote("EUR/USD")  # the platform catches up with the clock on each call
        if day in (0, 1, 7, 30, 90) or day == days:
            gc.collect()
            points = sum(len(s.times) for s in platform.series.values())
            ticks = sum(sum(s.weights) for s in platform.series.values())
            mib = (tracemalloc.get_traced_memory()[0] - base) / 2**20
            log.info(
                f"price history after {day:>3} virtual days: {ticks:>9} ticks kept as {points:>6} points, {mib:6.1f} MiB"
            )
    tracemalloc.stop()


def resident(requests_per_round: int, rounds: int) -> None:
    """RSS of each emulator process after each round of reads."""
    body = (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{ENV}"><s:Body>'
        f'<Instrument xmlns="{NS}">EUR/USD</Instrument></s:Body></s:Envelope>'
    ).encode()
    quote = post("/endpoint", body, {"Content-Type": "text/xml", "SOAPAction": '"GetQuote"'})
    with serve("mock-streamster", "serve", "--clock", "virtual", url_pattern=r"endpoint:\s+(\S+)") as s:
        figures = []
        for _ in range(rounds):
            load(s.url, "GetQuote", quote, 8, requests_per_round // 8)
            figures.append(s.rss_kib() / 1024)
        log.info(
            f"mock-streamster RSS after each {requests_per_round} GetQuote: "
            + ", ".join(f"{f:.1f}" for f in figures)
            + " MiB"
        )
    with serve("mock-instaforex", "serve", "--clock", "virtual", url_pattern=r"base URL:\s+(\S+)") as s:
        req = urllib.request.Request(
            s.url + "api/Authentication/RequestClientApiToken",
            data=json.dumps({"Login": 20000001, "Password": "demo-pass"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            passkey = r.read().decode()
        balance = get("/client/RequestBalanceInformation/20000001", {"passkey": passkey})
        figures = []
        for _ in range(rounds):
            load(s.url, "balance", balance, 8, requests_per_round // 8)
            figures.append(s.rss_kib() / 1024)
        log.info(
            f"mock-instaforex RSS after each {requests_per_round} balance reads: "
            + ", ".join(f"{f:.1f}" for f in figures)
            + " MiB"
        )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    history(max(2, int(30 * scale())))
    resident(max(80, int(10_000 * scale())), 5)


if __name__ == "__main__":
    main()
