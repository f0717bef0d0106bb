"""An SMA(10/20) crossover bot on the Streamster API, with zeep, as one would write it for the real platform.

    STREAMSTER_WSDL=http://127.0.0.1:8018/service.wsdl python -m examples.sma_cross --poll 3600

Every poll it reads the quote; a quote whose time has not moved since the last poll means no new
price (the market is closed) and is skipped. It keeps the last 21 bids: when the 10-poll average
crosses above the 20-poll average it closes its SELL positions and buys, when it crosses below it
closes its BUY positions and sells (market orders, `--quantity` contracts). A SOAP fault ends the
run: it prints a JSON summary as its last line and exits 0 when the fault says the price history
ended (a backtest is over), 1 otherwise.

Backtested over hourly bars in lockstep, one GetQuote per bar (`mock-streamster backtest --step
GetQuote=1h --start <first bar + 45 min> -- python -m examples.sma_cross --poll 0`), it reads each
bar's close and trades at it: backtesting.py's SmaCross with `trade_on_close=True`
(docs/how-to/backtest.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from decimal import Decimal

import zeep
from zeep.exceptions import Fault

log = logging.getLogger("sma_cross")


def average(values: list[Decimal], n: int, end: int | None = None) -> Decimal:
    """The mean of the `n` values before `end` (the last `n` without it)."""
    window = values[:end][-n:]
    return sum(window, Decimal(0)) / n


def run(api: object, args: argparse.Namespace) -> dict[str, object]:
    """Trade until a fault; the summary of what was done."""
    service = api
    closes: list[Decimal] = []
    last_time = None
    polls = sent = closed = 0
    ending = ""
    while True:
        try:
            quote = service.GetQuote(args.instrument)  # type: ignore[attr-defined]
            polls += 1
            if quote.Time != last_time:  # a new price: one more close
                last_time = quote.Time
                closes = [*closes, Decimal(quote.Bid)][-(args.slow + 1) :]
                if len(closes) > args.slow:
                    fast, slow = average(closes, args.fast), average(closes, args.slow)
                    fast_before, slow_before = average(closes, args.fast, -1), average(closes, args.slow, -1)
                    side = "BUY" if fast_before < slow_before and fast > slow else None
                    side = "SELL" if fast_before > slow_before and fast < slow else side
                    if side is not None:
                        for p in service.GetPositions() or []:  # type: ignore[attr-defined]
                            if p.Status == "Open" and p.Instrument == args.instrument and p.Side != side:
                                service.ClosePosition(p.PositionID)  # type: ignore[attr-defined]
                                closed += 1
                        service.SendOrder(  # type: ignore[attr-defined]
                            Instrument=args.instrument, Desk=args.desk, Side=side, Quantity=args.quantity,
                            Text="sma-cross",
                        )  # fmt: skip
                        sent += 1
                        log.info("%s %s %s %s at %s", quote.Time, side, args.quantity, args.instrument, quote.Bid)
        except Fault as exc:
            ending = str(exc.message)
            log.info("stopping: %s", ending)
            break
        time.sleep(args.poll)
    return {"bot": "sma_cross", "polls": polls, "orders_sent": sent, "closed_by_bot": closed, "ended": ending}


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wsdl", default=os.environ.get("STREAMSTER_WSDL", "http://127.0.0.1:8018/service.wsdl"))
    parser.add_argument("--instrument", default="EUR/USD")
    parser.add_argument("--desk", default="Virtual Forex")
    parser.add_argument("--quantity", type=int, default=10, help="contracts per order (EUR/USD: 1,000 units each)")
    parser.add_argument("--fast", type=int, default=10, help="polls in the fast average")
    parser.add_argument("--slow", type=int, default=20, help="polls in the slow average")
    parser.add_argument("--poll", type=float, default=3600, help="seconds between polls")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    summary = run(zeep.Client(args.wsdl).service, args)
    print(json.dumps(summary), flush=True)  # the last line, for scripts and the test
    return 0 if "price history ended" in str(summary["ended"]) else 1


if __name__ == "__main__":
    sys.exit(main())
