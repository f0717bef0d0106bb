"""What `--state FILE` costs, in one interleaved run: throughput and p99 with and without it, and the
cost of moving the clock.

1. Over HTTP: two `mock-streamster serve --clock virtual` processes, one in memory and one with
   `--state`, each loaded in turn (rounds alternate, so a noisy neighbour hits both alike) by
   8 clients sending market orders (SendOrder; every reply follows its commit). Printed per round,
   then the medians, the ratio of throughputs and the p99 of each.
2. In process: `advance(60)` on a platform in memory and on one with a state file, alternated;
   with a state file it includes its commit (the price series' new points appended, a fold's
   span rewritten), as the control plane's advance does before it answers.
Targets (issue 19.13, on a quiet machine): with --state at least 0.8x the in-memory throughput
and p99 at most 20 ms; advance + commit at most 5 ms.
Run: `.venv/bin/python -m bench.persist` (part of `make bench`). BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._common import NS, Figures, load, scale, serve, soap
from mock_streamster import StreamsterMock

log = logging.getLogger("bench.persist")
ROUNDS = 3
CLIENTS = 8
STREAMSTER_ENDPOINT = r"endpoint:\s+(\S+)"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def over_http(directory: Path) -> None:
    order = soap(
        "SendOrder",
        f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
        "<Quantity>1</Quantity></Order>",
    )
    per_thread = max(5, int(250 * scale()))
    state_args = ("serve", "--clock", "virtual", "--state", str(directory / "http.db"))
    with (
        serve("mock-streamster", STREAMSTER_ENDPOINT) as memory,
        serve("mock-streamster", STREAMSTER_ENDPOINT, state_args) as stored,
    ):
        runs: dict[str, list[Figures]] = {"in memory": [], "--state": []}
        cpu: dict[str, float] = {"in memory": 0.0, "--state": 0.0}
        for n in range(1, ROUNDS + 1):
            for name, served in (("in memory", memory), ("--state", stored)):
                before = _cpu_seconds(served.pid)
                figures = load(served.url, f"SendOrder, {name}, round {n}", order, CLIENTS, per_thread)
                cpu[name] += _cpu_seconds(served.pid) - before
                runs[name].append(figures)
                log.info("%s", figures.line())
    rate = {name: statistics.median(f.requests / f.seconds for f in figs) for name, figs in runs.items()}
    p99 = {name: _p99([x for f in figs for x in f.latencies]) * 1000 for name, figs in runs.items()}
    errors = sum(f.errors for figs in runs.values() for f in figs)
    for name, figs in runs.items():
        per_request = cpu[name] / sum(f.requests for f in figs) * 1000
        log.info(
            "SendOrder %-10s (median of %d rounds)  %8.0f req/s  p99 %6.2f ms  (server CPU %.3f ms a request)",
            name, ROUNDS, rate[name], p99[name], per_request,
        )  # fmt: skip
    log.info(
        "--state / in memory: %.2fx throughput (target >= 0.80), --state p99 %.2f ms (target <= 20), errors %d",
        rate["--state"] / rate["in memory"], p99["--state"], errors,
    )  # fmt: skip


def advance(directory: Path) -> None:
    rounds = max(20, int(300 * scale()))
    memory, stored = StreamsterMock(seed=1), StreamsterMock(seed=1, state=directory / "advance.db")
    times: dict[str, list[float]] = {"in memory": [], "--state": []}
    try:
        for mock in (memory, stored):
            mock.advance(60)  # the price histories drawn (lazily) before timing starts
        for _ in range(rounds):
            for name, mock in (("in memory", memory), ("--state", stored)):
                t0 = time.perf_counter()
                mock.advance(60)  # with a state file: the commit too, before it returns
                times[name].append((time.perf_counter() - t0) * 1000)
    finally:
        memory.stop()
        stored.stop()
    for name, ms in times.items():
        what = "advance 60 s" if name == "in memory" else "advance 60 s + commit"
        log.info(
            "%-22s %-10s %d times: median %6.2f ms  p99 %6.2f ms  mean %6.2f ms (target <= 5 ms with --state)",
            what, name, rounds, statistics.median(ms), _p99(ms), statistics.fmean(ms),
        )  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("spyne", "mock_streamster", "mock_common", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        over_http(Path(tmp))
        advance(Path(tmp))


if __name__ == "__main__":
    main()
