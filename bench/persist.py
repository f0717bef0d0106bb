"""What `--state FILE` costs: one commit per accepted change, written before the reply.

1. Per commit, in process: an order sent and its rows written (synchronous=FULL, fsync), with a
   history of growing size, against serializing the full snapshot (what a naive design would write).
   Finished orders, closed positions and trades are written once; working orders and open
   positions are compared on every commit, so the cost grows with those, not with the history.
2. Over HTTP, 8 clients sending orders to a Streamster emulator with and without a state file;
   concurrent commits share one write (group commit), so requests per write is printed too.
Run: `.venv/bin/python -m bench.persist` (part of `make bench`). BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

from bench._common import NS, load, scale, soap
from mock_streamster import StreamsterMock

log = logging.getLogger("bench.persist")
ORDER = {"Instrument": "EUR/USD", "Desk": "Virtual Forex", "Quantity": "1", "Side": "BUY"}


def per_commit(directory: Path) -> None:
    mock = StreamsterMock(seed=1, state=directory / "commit.db")
    persister, platform = mock.persister, mock.platform
    assert persister is not None
    rounds = max(5, int(200 * scale()))
    try:
        for book in (0, 1000, 5000):
            book = int(book * scale())
            while len(platform.orders) < book:  # history: filled and closed (2 orders, 2 trades, 1 position)
                platform.send_order(ORDER)
                platform.close_position(next(reversed(platform.positions)))
            persister.commit()
            t0 = time.perf_counter()
            for _ in range(rounds):
                platform.send_order(ORDER)
                persister.commit()
            each = (time.perf_counter() - t0) / rounds * 1000
            t0 = time.perf_counter()
            size = len(json.dumps(platform.snapshot()))
            full = (time.perf_counter() - t0) * 1000
            log.info(
                "%-24s %5d orders, %4d open positions: %6.2f ms a commit (incremental)  vs  %7.2f ms to "
                "serialize the full snapshot (%d KiB)", "SendOrder + commit", len(platform.orders),
                sum(p.status == "Open" for p in platform.positions.values()), each, full, size // 1024,
            )  # fmt: skip
        t0 = time.perf_counter()
        for _ in range(rounds):
            mock.advance(60)  # every price series moves: their rows are rewritten
        log.info("%-32s %6.2f ms a commit", "advance 60 s + commit", (time.perf_counter() - t0) / rounds * 1000)
    finally:
        mock.stop()


def over_http(directory: Path) -> None:
    order = soap(
        "SendOrder",
        f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
        "<Quantity>1</Quantity></Order>",
    )
    per_thread = max(5, int(250 * scale()))
    for state in (None, directory / "http.db"):
        with StreamsterMock(seed=1, state=state) as mock:
            figures = load(mock.endpoint_url, f"SendOrder, {'--state' if state else 'in memory'}", order, 8, per_thread)
            log.info("%s", figures.line())
            if mock.persister is not None:
                log.info(
                    "%-40s %.1f requests per write transaction",
                    "group commit",
                    figures.requests / max(1, mock.persister.commits - 1),
                )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        per_commit(Path(tmp))
        over_http(Path(tmp))


if __name__ == "__main__":
    main()
