"""Memory over time: the Streamster price history across virtual days, and each emulator's resident
memory under a sustained stream of reads (the request journal is a bounded ring).

Run: `make bench` or `.venv/bin/python -m bench.memory`. BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import gc
import logging
import tracemalloc

from bench._common import NS, client_passkey, request, rss_rounds, scale, serve_instaforex, serve_streamster, soap
from mock_streamster.platform import Platform
from mock_streamster.scenario import Scenario

log = logging.getLogger("bench.memory")


def history(days: int) -> None:
    """Points kept and memory traced for the default 7 instruments, ticking every 5 s."""
    tracemalloc.start()
    platform = Platform(seed=0, clock="virtual", scenario=Scenario())
    for s in platform.series.values():  # each pre-history is drawn on first read: draw them all now
        s.times  # noqa: B018
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
    runs = (
        ("mock-streamster", serve_streamster, "GetQuote",
         lambda url: soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')),
        ("mock-instaforex", serve_instaforex, "balance reads",
         lambda url: request("GET", "/client/RequestBalanceInformation/20000001",
                             headers={"passkey": client_passkey(url)})),
    )  # fmt: skip
    for name, serve, what, make_request in runs:
        with serve() as s:
            figures = rss_rounds(s, make_request(s.url), requests_per_round, rounds)
        log.info(
            f"{name} RSS after each {requests_per_round} {what}: " + ", ".join(f"{f:.1f}" for f in figures) + " MiB"
        )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    history(max(1, int(30 * scale())))
    resident(max(80, int(10_000 * scale())), 5)


if __name__ == "__main__":
    main()
