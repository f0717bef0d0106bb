"""Memory over time: the Streamster price history across virtual days, and each emulator's resident
memory under 200,000 mixed requests each (trading, token requests and refusals included; bounded rings and histories).

Run: `make bench` or `.venv/bin/python -m bench.memory [--requests 200000] [--rounds 10]`.
BENCH_SCALE=0.1 (or a smaller --requests) for a quick look.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import itertools
import json
import logging
import tracemalloc
import urllib.request
from typing import Any

from bench._common import (
    DEMO_LOGIN,
    NS,
    TOKEN_PATH,
    Request,
    client_passkey,
    load,
    request,
    rss_rounds,
    scale,
    serve_instaforex,
    serve_streamster,
    soap,
)
from mock_streamster.platform import Platform
from mock_streamster.scenario import Scenario

log = logging.getLogger("bench.memory")


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


def mixed(*requests: Request) -> Request:
    """One request after another from `requests`, round robin across every client thread."""
    turn = itertools.count()  # next() on a count is atomic under the interpreter lock

    def send(conn: http.client.HTTPConnection) -> int:
        return requests[next(turn) % len(requests)](conn)

    return send


def streamster_mix() -> Request:
    """Reads, trading (market orders both ways, a far LIMIT) and refused requests. GetPositions and
    GetOrders are left out: they answer every position and order of the session, so their cost
    grows with the trading (see bench/throughput.py), not with time."""
    order = f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Desk>Virtual Forex</Desk><Quantity>1</Quantity>'
    return mixed(
        soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>'),
        soap("SendOrder", order + "<Side>BUY</Side></Order>"),
        soap("GetDesks"),
        soap("SendOrder", order + "<Side>SELL</Side></Order>"),
        soap("GetBars", f'<Instrument xmlns="{NS}">EUR/USD</Instrument><Period xmlns="{NS}">M1</Period>'),
        soap("SendOrder", order + "<Side>BUY</Side><PriceType>LIMIT</PriceType><Price>0.5</Price></Order>"),
        soap("GetQuote", f'<Instrument xmlns="{NS}">GBP/USD</Instrument>'),
        soap("CancelOrder", f'<OrderID xmlns="{NS}">NO-SUCH-ORDER</OrderID>'),  # a Client fault
        request("POST", "/endpoint", b"<not-xml" + b"x" * 4000, {"Content-Type": "text/xml; charset=utf-8"}),
        request("GET", "/service.wsdl"),
    )


def instaforex_mix(passkey: str) -> Request:
    """Reads, token requests accepted and refused (each adds to the login history) and bad requests."""
    key = {"passkey": passkey}
    as_json = {"Content-Type": "application/json"}
    wrong = json.dumps({**DEMO_LOGIN, "Password": "wrong"}).encode()
    return mixed(
        request("GET", "/client/RequestBalanceInformation/20000001", headers=key),
        request("POST", TOKEN_PATH, json.dumps(DEMO_LOGIN).encode(), as_json),
        request("GET", "/client/RequestOpenTrades/20000001", headers=key),
        request("POST", TOKEN_PATH, wrong, as_json),  # refused: 403
        request("GET", "/client/RequestLoginHistory/20000001?from=0", headers=key),
        request("GET", "/client/RequestClosedTrades/20000001?from=2000-01-01", headers=key),
        request("POST", TOKEN_PATH, b"{not json" + b"x" * 4000, as_json),  # 400
        request("GET", "/client/RequestBalanceInformation/20000002", headers=key),  # another login's: 403
    )


def resident(total: int, rounds: int) -> None:
    """RSS of each emulator process after each round of `total / rounds` mixed requests from 8 clients.

    The Streamster platform keeps every order and trade of a session (GetOrders and GetTrades answer
    them all, by contract), so each round ends by restoring the snapshot taken at the start: the
    business history is rewound, and everything else (journal, caches, the server) carries on.
    """
    per_round = max(8, total // rounds)
    with serve_streamster() as s:
        base = s.url.rsplit("/", 1)[0]
        start = control(base, "GET", "snapshot")
        figures = []
        for _ in range(rounds):
            load(s.url, "round", streamster_mix(), 8, per_round // 8)
            control(base, "PUT", "snapshot", start)
            figures.append(s.rss_kib() / 1024)
        report("mock-streamster", per_round, "mixed SOAP requests (trading included)", figures)
    with serve_instaforex() as s:
        figures = rss_rounds(s, instaforex_mix(client_passkey(s.url)), per_round, rounds)
        report("mock-instaforex", per_round, "mixed requests (tokens included)", figures)


def control(base_url: str, method: str, route: str, body: Any = None) -> Any:
    """A /_mock/ call (JSON, as the control plane requires); the decoded answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{base_url.rstrip('/')}/_mock/{route}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def report(name: str, per_round: int, what: str, figures: list[float]) -> None:
    """One line: RSS after each round, and the growth after the first (the warm-up) round."""
    growth = figures[-1] - figures[0]
    log.info(
        f"{name} RSS after each {per_round} {what}: "
        + ", ".join(f"{f:.1f}" for f in figures)
        + f" MiB (after round 1: {growth:+.1f} MiB)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=max(80, int(200_000 * scale())),
                        help="mixed requests per emulator (default 200,000 x BENCH_SCALE)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=10, help="RSS is read after each round (default 10)")
    parser.add_argument("--days", type=int, default=max(1, int(30 * scale())), help="virtual days of price history")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    history(args.days)
    resident(args.requests, max(2, args.rounds))


if __name__ == "__main__":
    main()
