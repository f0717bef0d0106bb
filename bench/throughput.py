"""Requests per second and latency of both emulators under keep-alive load.

Each emulator runs in its own process (`mock-streamster serve`, `mock-instaforex serve`) on a free
port; 1 and 8 client threads send raw requests (no client library in the measurement).
Run: `make bench` or `.venv/bin/python -m bench.throughput`. BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import json
import logging

from bench._common import Figures, client_passkey, get, load, post, scale, serve

log = logging.getLogger("bench.throughput")

NS = "http://www.novativa.com/ws/streamsterapi"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def soap(action: str, body: str = "") -> tuple[bytes, dict[str, str]]:
    xml = f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{ENV}"><s:Body>{body}</s:Body></s:Envelope>'
    return xml.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


def streamster(n: int) -> list[Figures]:
    figures = []
    path = "/endpoint"
    quote = post(path, *soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'))
    order = post(
        path,
        *soap(
            "SendOrder",
            f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
            "<Quantity>1</Quantity></Order>",
        ),
    )
    positions = post(path, *soap("GetPositions"))
    command = ("mock-streamster", "serve", "--clock", "virtual")
    with serve(*command, url_pattern=r"endpoint:\s+(\S+)") as s:
        for threads in (1, 8):
            figures.append(load(s.url, "Streamster GetQuote", quote, threads, n // threads))
        figures.append(load(s.url, "Streamster WSDL", get("/service.wsdl"), 8, n // 8))
        # GetPositions with 10, then 100 open positions (each market SendOrder opens one).
        load(s.url, "open 10", order, 1, 10)
        figures.append(load(s.url, "Streamster GetPositions (10 open)", positions, 8, max(1, n // 40)))
        load(s.url, "open 90 more", order, 1, 90)
        figures.append(load(s.url, "Streamster GetPositions (100 open)", positions, 8, max(1, n // 400)))
    with serve(*command, url_pattern=r"endpoint:\s+(\S+)") as s:
        figures.append(load(s.url, "Streamster SendOrder (market, fills)", order, 8, max(1, n // 16)))
    return figures


def instaforex(n: int) -> list[Figures]:
    figures = []
    with serve("mock-instaforex", "serve", "--clock", "virtual", url_pattern=r"base URL:\s+(\S+)") as s:
        body = json.dumps({"Login": 20000001, "Password": "demo-pass"}).encode()
        headers = {"Content-Type": "application/json"}
        token_path = "/api/Authentication/RequestClientApiToken"
        passkey = client_passkey(s.url)
        data = get("/client/RequestBalanceInformation/20000001", {"passkey": passkey})
        trades = get("/client/RequestOpenTrades/20000001", {"passkey": passkey})
        for threads in (1, 8):
            figures.append(load(s.url, "InstaForex balance", data, threads, n // threads))
        figures.append(load(s.url, "InstaForex open trades", trades, 8, n // 8))
        figures.append(load(s.url, "InstaForex token request", post(token_path, body, headers), 8, n // 16))
    return figures


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n = max(16, int(4000 * scale()))
    for f in streamster(n) + instaforex(n):
        log.info(f.line())


if __name__ == "__main__":
    main()
