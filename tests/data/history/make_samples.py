"""Writes the synthetic history samples beside this file (our own made-up prices, no real data).

    python tests/data/history/make_samples.py

The same 60 hourly EUR/USD-like bars (Thursday 2024-01-04 00:00 UTC to Monday, with the weekend
left out) in every bar format, and the same 12 ticks in every tick format.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent


def bars() -> list[tuple[datetime, int, int, int, int, int, int]]:
    """(time, open, high, low, close in 1e-5 steps, volume, spread in points)."""
    rng = random.Random(20240104)
    t, price, out = datetime(2024, 1, 4), 110000, []
    while len(out) < 60:
        if not (t.weekday() == 4 and t.hour >= 22 or t.weekday() == 5 or t.weekday() == 6 and t.hour < 22):
            o = price
            c = o + rng.randint(-60, 60)
            h = max(o, c) + rng.randint(0, 30)
            lo = min(o, c) - rng.randint(0, 30)
            out.append((t, o, h, lo, c, rng.randint(100, 2000), rng.randint(2, 12)))
            price = c + rng.randint(-3, 3)
        t += timedelta(hours=1)
    return out


def ticks() -> list[tuple[datetime, int, int]]:
    """(time, bid, ask in 1e-5 steps)."""
    rng = random.Random(7)
    t, bid, out = datetime(2024, 1, 4, 9, 0, 0, 250000), 110000, []
    for _ in range(12):
        bid += rng.randint(-5, 5)
        out.append((t, bid, bid + rng.randint(1, 4)))
        t += timedelta(milliseconds=rng.randint(100, 4000))
    return out


def p(steps: int) -> str:
    return f"{steps / 1e5:.5f}"


def main() -> None:
    b, k = bars(), ticks()
    (HERE / "generic_bars.csv").write_text(
        ",Open,High,Low,Close,Volume\n"
        + "".join(f"{t:%Y-%m-%d %H:%M:%S},{p(o)},{p(h)},{p(lo)},{p(c)},{v}\n" for t, o, h, lo, c, v, _ in b)
    )
    (HERE / "mt4_bars.csv").write_text(
        "".join(f"{t:%Y.%m.%d,%H:%M},{p(o)},{p(h)},{p(lo)},{p(c)},{v}\n" for t, o, h, lo, c, v, _ in b), newline="\r\n"
    )
    mt5 = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n" + "".join(
        f"{t:%Y.%m.%d}\t{t:%H:%M:%S}\t{p(o)}\t{p(h)}\t{p(lo)}\t{p(c)}\t{v}\t0\t{s}\r\n" for t, o, h, lo, c, v, s in b
    )
    (HERE / "mt5_bars.csv").write_bytes(b"\xff\xfe" + mt5.encode("utf-16-le"))
    (HERE / "histdata_bars.csv").write_text(
        "".join(f"{t:%Y%m%d %H%M%S};{p(o)};{p(h)};{p(lo)};{p(c)};0\n" for t, o, h, lo, c, _, _ in b)
    )
    (HERE / "dukascopy_bars.csv").write_text(
        "Gmt time,Open,High,Low,Close,Volume\n"
        + "".join(
            f"{t:%d.%m.%Y %H:%M:%S}.000,{p(o)},{p(h)},{p(lo)},{p(c)},{v / 100:.2f}\n" for t, o, h, lo, c, v, _ in b
        )
    )
    (HERE / "generic_ticks.csv").write_text(
        "Timestamp,Bid,Ask\n" + "".join(f"{t:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + f",{p(bd)},{p(a)}\n" for t, bd, a in k)
    )
    lines = []
    last = (None, None)
    for t, bd, a in k:  # MetaTrader 5 leaves out a side that did not change
        shown_bid = p(bd) if bd != last[0] else ""
        shown_ask = p(a) if a != last[1] else ""
        lines.append(f"{t:%Y.%m.%d}\t{t:%H:%M:%S.%f}"[:-3] + f"\t{shown_bid}\t{shown_ask}\t\t\t6\r\n")
        last = (bd, a)
    mt5_ticks = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n" + "".join(lines)
    (HERE / "mt5_ticks.csv").write_bytes(b"\xff\xfe" + mt5_ticks.encode("utf-16-le"))
    (HERE / "histdata_ticks.csv").write_text(
        "".join(f"{t:%Y%m%d %H%M%S}{t.microsecond // 1000:03d},{p(bd)},{p(a)},0\n" for t, bd, a in k)
    )
    (HERE / "dukascopy_ticks.csv").write_text(
        "Gmt time,Ask,Bid,AskVolume,BidVolume\n"
        + "".join(f"{t:%d.%m.%Y %H:%M:%S.%f}"[:-3] + f",{p(a)},{p(bd)},1.5,2.25\n" for t, bd, a in k)
    )


if __name__ == "__main__":
    main()
