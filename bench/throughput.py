"""Requests per second and latency of both emulators under keep-alive load.

Each emulator runs in its own process (`mock-streamster serve`, `mock-instaforex serve`) on a free
port; 1 and 8 keep-alive connections send raw requests (no client library in the measurement),
from wrk where it is installed, else from Python client threads (BENCH_LOADGEN=python forces them;
the first line printed says which ran).
Run: `make bench` or `.venv/bin/python -m bench.throughput`. BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import json
import logging

from bench._common import (
    DEMO_LOGIN,
    NS,
    TOKEN_PATH,
    Figures,
    client_passkey,
    load,
    load_generator,
    measure,
    request,
    scale,
    serve_instaforex,
    serve_streamster,
    soap,
)

log = logging.getLogger("bench.throughput")


def streamster(n: int) -> list[Figures]:
    figures = []
    quote = soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')
    order = soap(
        "SendOrder",
        f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
        "<Quantity>1</Quantity></Order>",
    )
    positions = soap("GetPositions")
    with serve_streamster() as s:
        for threads in (1, 8):
            figures.append(measure(s.url, "Streamster GetQuote", quote, threads, n // threads))
        figures.append(measure(s.url, "Streamster WSDL", request("GET", "/service.wsdl"), 8, n // 8))
        # GetPositions with 10, then 100 open positions (each market SendOrder opens one: an exact count).
        load(s.url, "open 10", order, 1, 10)
        figures.append(measure(s.url, "Streamster GetPositions (10 open)", positions, 8, max(1, n // 40)))
        load(s.url, "open 90 more", order, 1, 90)
        figures.append(measure(s.url, "Streamster GetPositions (100 open)", positions, 8, max(1, n // 400)))
    with serve_streamster() as s:
        figures.append(measure(s.url, "Streamster SendOrder (market, fills)", order, 8, max(1, n // 16)))
    return figures


def instaforex(n: int) -> list[Figures]:
    figures = []
    with serve_instaforex() as s:
        passkey = {"passkey": client_passkey(s.url)}
        balance = request("GET", "/client/RequestBalanceInformation/20000001", headers=passkey)
        trades = request("GET", "/client/RequestOpenTrades/20000001", headers=passkey)
        token = request("POST", TOKEN_PATH, json.dumps(DEMO_LOGIN).encode(), {"Content-Type": "application/json"})
        for threads in (1, 8):
            figures.append(measure(s.url, "InstaForex balance", balance, threads, n // threads))
        figures.append(measure(s.url, "InstaForex open trades", trades, 8, n // 8))
        figures.append(measure(s.url, "InstaForex token request", token, 8, n // 16))
    return figures


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n = max(16, int(4000 * scale()))
    log.info("load generator: %s", load_generator())
    for f in streamster(n) + instaforex(n):
        log.info(f.line())


if __name__ == "__main__":
    main()
