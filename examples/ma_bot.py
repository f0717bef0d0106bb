"""A moving-average cross bot on the reference client (client.streamster), against any Streamster API.

    python -m examples.ma_bot --wsdl http://127.0.0.1:8018/service.wsdl --minutes 240 --poll 0.5

Each poll reads 5-minute bars; when the fast average crosses the slow one the bot closes the
opposite position and sends a market order with a stop loss and a target (in pips). It stops once
the chart has moved `--minutes` virtual minutes past where it started, reconciles the desk (start
+ realised profit = GetDesks) and prints a JSON summary as its last line; exit status 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from decimal import Decimal

from broker_mocks.client.errors import StreamsterFault
from broker_mocks.client.streamster import NewOrder, Period, Phase, PositionStatus, PriceType, Side, StreamsterClient

log = logging.getLogger("ma_bot")


def average(values: list[Decimal], n: int) -> Decimal:
    """The mean of the last `n` values."""
    return sum(values[-n:], Decimal(0)) / n


def desk_amount(api: StreamsterClient, desk: str, currency: str) -> Decimal:
    """The desk's balance in `currency`."""
    return next(d.amount for d in api.get_desks() if d.name == desk and d.currency == currency and d.amount is not None)


def run(api: StreamsterClient, args: argparse.Namespace) -> dict[str, object]:
    """Trade until the chart has moved `args.minutes` past its start; the summary of what was done."""
    pip = Decimal("0.0001")
    start_amount = desk_amount(api, args.desk, "USD")
    sent = closed_by_bot = refused = 0
    previous: Side | None = None
    started = now = None
    while True:
        bars = api.get_bars(args.instrument, Period.M5, oldest_first=True)
        now = bars[-1].time
        started = started or now
        if (now - started).total_seconds() >= args.minutes * 60:
            break
        closes = [b.close for b in bars[:-1]]  # completed bars only
        signal = Side.BUY if average(closes, args.fast) > average(closes, args.slow) else Side.SELL
        if previous is not None and signal != previous:
            for p in api.get_positions():
                if p.status == PositionStatus.OPEN and p.instrument == args.instrument and p.side != signal:
                    api.close_position(p.position_id or "")
                    closed_by_bot += 1
            quote = api.get_quote(args.instrument)
            price = quote.offer if signal == Side.BUY else quote.bid
            assert price is not None
            sign = 1 if signal == Side.BUY else -1
            order = NewOrder(
                instrument=args.instrument, desk=args.desk, quantity=args.quantity, side=signal,
                exit_stop_loss=price - sign * args.stop * pip, exit_target=price + sign * args.target * pip,
                text="ma-bot",
            )  # fmt: skip
            try:
                api.send_order(order)
                sent += 1
                log.info("%s %s %s %s at %s", now, signal.value, args.quantity, args.instrument, price)
            except StreamsterFault as exc:
                refused += 1
                log.warning("%s order refused: %s", now, exc)
        previous = signal
        time.sleep(args.poll)
    # The clock keeps running: a stop may fire between two reads, so read until they agree.
    for _ in range(5):
        positions = api.get_positions()
        closed = [p for p in positions if p.status == PositionStatus.CLOSED]
        realised = sum((p.profit or Decimal(0) for p in closed), Decimal("0.00"))
        amount = desk_amount(api, args.desk, "USD")
        if len([p for p in api.get_positions() if p.status == PositionStatus.CLOSED]) == len(closed):
            break
    exits = [o for o in api.get_orders() if o.phase == Phase.EXIT]
    reconciled = start_amount + realised == amount
    log.info("desk %s: %s + realised %s = %s; GetDesks says %s: %s", args.desk, start_amount, realised,
             start_amount + realised, amount, "reconciled" if reconciled else "MISMATCH")  # fmt: skip
    return {
        "bot": "python", "orders_sent": sent, "closed_by_bot": closed_by_bot,
        "stops": sum(1 for o in exits if o.price_type == PriceType.STOP),
        "targets": sum(1 for o in exits if o.price_type == PriceType.LIMIT),
        "closed": len(closed), "open": len(positions) - len(closed), "refused": refused, "realised": str(realised),
        "desk": str(amount), "reconciled": reconciled, "virtual_minutes": (now - started).total_seconds() / 60,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wsdl", default="http://127.0.0.1:8018/service.wsdl")
    parser.add_argument("--minutes", type=int, default=240, help="virtual minutes to trade")
    parser.add_argument("--poll", type=float, default=0.5, help="wall-clock seconds between polls")
    parser.add_argument("--instrument", default="EUR/USD")
    parser.add_argument("--desk", default="Virtual Forex")
    parser.add_argument("--quantity", type=int, default=10)
    parser.add_argument("--fast", type=int, default=5, help="bars in the fast average")
    parser.add_argument("--slow", type=int, default=20, help="bars in the slow average")
    parser.add_argument("--stop", type=int, default=15, help="stop loss distance in pips")
    parser.add_argument("--target", type=int, default=25, help="target distance in pips")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("broker_mocks.client").setLevel(logging.WARNING)  # one line per call is too much here
    summary = run(StreamsterClient(args.wsdl), args)
    print(json.dumps(summary), flush=True)  # the last line, for scripts and the test
    return 0 if summary["reconciled"] else 1


if __name__ == "__main__":
    sys.exit(main())
