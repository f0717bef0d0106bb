"""Write fixtures/streamster/eurusd-h1.csv: a seeded quarter of EUR/USD-like hourly bars, weekends left out.

Not real market data: a reproducible stand-in in the generic OHLCV format (what pandas writes),
trending for days at a time so a crossover bot has something to do. `python -m examples.make_history`.
"""

from __future__ import annotations

import logging
import math
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2024, 1, 1, 0, 0, 0)
BARS = 1500
OUT = Path(__file__).resolve().parent.parent / "fixtures" / "streamster" / "eurusd-h1.csv"

log = logging.getLogger(__name__)


def trading(t: datetime) -> bool:
    """Whether the FX market trades in the hour starting at `t` (UTC): Sunday 22:00 to Friday 22:00."""
    weekday = t.weekday()
    return not (weekday == 5 or (weekday == 4 and t.hour >= 22) or (weekday == 6 and t.hour < 22))


def bars(seed: int = 2024) -> list[tuple[datetime, float, float, float, float, int]]:
    """(time, open, high, low, close, volume) of BARS trading hours from START."""
    rng = random.Random(seed)
    t, price, drift, out = START, 1.10000, 0.0, []
    while len(out) < BARS:
        if trading(t):
            if rng.random() < 0.02:  # a new trend every two days or so
                drift = rng.gauss(0.0, 0.00012)
            o = price + rng.gauss(0.0, 0.00005)  # a small gap from the last close
            path = [o]
            for _ in range(12):  # five-minute steps inside the hour
                path.append(path[-1] + drift / 12 + rng.gauss(0.0, 0.0004 / math.sqrt(12)))
            c = path[-1]
            out.append((t, o, max(path), min(path), c, rng.randint(300, 3000)))
            price = c
        t += timedelta(hours=1)
    return out


def main() -> int:
    """Write the file."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    lines = [",Open,High,Low,Close,Volume"]
    lines += [f"{t:%Y-%m-%d %H:%M:%S},{o:.5f},{h:.5f},{lo:.5f},{c:.5f},{v}" for t, o, h, lo, c, v in bars()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("wrote %s (%d bars)", OUT, BARS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
