"""Tail latency over a long run: GetQuote and the InstaForex balance under 8 keep-alive clients,
in rounds, each round's req/s, p50, p99 and the server's resident memory printed, so a drift in the
tail or in memory shows as a trend. 1,000,000 requests per emulator at BENCH_SCALE=1.

Run: `make bench-soak` or `.venv/bin/python -m bench.soak`. BENCH_SCALE=0.01 for a quick look.
"""

from __future__ import annotations

import logging

from bench._common import (
    NS,
    Figures,
    Request,
    client_passkey,
    load,
    request,
    scale,
    serve_instaforex,
    serve_streamster,
    soap,
)

log = logging.getLogger("bench.soak")
ROUNDS = 10


def soak(name: str, url: str, rss: object, make: Request, total: int) -> list[Figures]:
    """`total` requests from 8 clients in ROUNDS rounds; one line per round."""
    per_round = max(8, total // ROUNDS)
    figures = []
    for i in range(ROUNDS):
        f = load(url, f"{name} round {i + 1}/{ROUNDS}", make, 8, per_round // 8)
        figures.append(f)
        log.info(f"{f.line()}  RSS {rss():.1f} MiB")  # type: ignore[operator]
    return figures


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    total = max(80, int(1_000_000 * scale()))
    with serve_streamster() as s:
        quote = soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')
        soak("Streamster GetQuote", s.url, lambda: s.rss_kib() / 1024, quote, total)
    with serve_instaforex() as s:
        balance = request(
            "GET", "/client/RequestBalanceInformation/20000001", headers={"passkey": client_passkey(s.url)}
        )
        soak("InstaForex balance", s.url, lambda: s.rss_kib() / 1024, balance, total)


if __name__ == "__main__":
    main()
