"""Write mock_streamster/data/day-ticks.csv (the built-in scenario `day`): a seeded day of EUR/USD ticks (every 20 s) with clear swings.

Not a recording of a real market: a reproducible stand-in, trending for an hour or two at a time
so a moving-average bot has crosses, stops and targets to meet. `python -m examples.make_day_ticks`.
"""

from __future__ import annotations

import logging
import math
import random
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

START = datetime(2025, 3, 4, 0, 0, 0)
STEP = 20  # seconds between ticks
SPREAD = Decimal("0.00015")
OUT = Path(__file__).resolve().parent.parent / "mock_streamster" / "data" / "day-ticks.csv"

log = logging.getLogger(__name__)


def day_ticks(seed: int = 4) -> list[tuple[datetime, Decimal, Decimal]]:
    """(time, bid, offer) every STEP seconds for 24 hours."""
    rng = random.Random(seed)
    noise = 0.0
    ticks = []
    for n in range(24 * 3600 // STEP):
        hours = n * STEP / 3600
        noise = noise * 0.98 + rng.gauss(0, 0.00006)
        mid = (
            1.0850 + 0.0028 * math.sin(2 * math.pi * hours / 2.6) + 0.0009 * math.sin(2 * math.pi * hours / 0.8) + noise
        )
        bid = Decimal(f"{mid:.5f}")
        ticks.append((START + timedelta(seconds=n * STEP), bid, bid + SPREAD))
    return ticks


def main() -> int:
    """Write the file."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    lines = ["time,instrument,bid,offer"] + [f"{t.isoformat()},EUR/USD,{b},{o}" for t, b, o in day_ticks()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("wrote %d ticks to %s", len(lines) - 1, OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
