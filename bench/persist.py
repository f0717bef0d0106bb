"""What `--state FILE` costs, in one interleaved run: throughput and p99 with and without it, and the
cost of moving the clock.

1. Over HTTP, 8 clients sending market orders (SendOrder; every reply follows its commit) to an
   emulator in memory and one with `--state`, in turn: first two `mock-streamster serve` processes
   (the load generator takes none of their CPU: the server's cost), then two emulators in the
   bench's own process (as the issue's baseline was measured). Rounds alternate, and so does who
   goes first, so a noisy neighbour hits both alike. Printed per round, then the medians, the
   ratio of throughputs, the p99 of each and (served) the server's CPU time per request, the
   steadiest figure on a shared machine.
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
ROUNDS = 5  # the machine the figures come from varies by up to 40% from round to round: medians of 5
CLIENTS = 8
STREAMSTER_ENDPOINT = r"endpoint:\s+(\S+)"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


ORDER = soap(
    "SendOrder",
    f'<Order xmlns="{NS}"><Instrument>EUR/USD</Instrument><Side>BUY</Side><Desk>Virtual Forex</Desk>'
    "<Quantity>1</Quantity></Order>",
)


def _compare(where: str, urls: dict[str, str], pids: dict[str, int] | None) -> None:
    """Rounds of 8 clients sending orders to each URL in turn; the medians, p99s and their ratio."""
    per_thread = max(5, int(250 * scale()))
    runs: dict[str, list[Figures]] = {name: [] for name in urls}
    cpu = dict.fromkeys(urls, 0.0)
    for n in range(1, ROUNDS + 1):
        names = list(urls) if n % 2 else list(urls)[::-1]  # who goes first alternates too
        for name in names:
            before = _cpu_seconds(pids[name]) if pids else 0.0
            figures = load(urls[name], f"SendOrder {where}, {name}, round {n}", ORDER, CLIENTS, per_thread)
            cpu[name] += (_cpu_seconds(pids[name]) - before) if pids else 0.0
            runs[name].append(figures)
            log.info("%s", figures.line())
    rate = {name: statistics.median(f.requests / f.seconds for f in figs) for name, figs in runs.items()}
    p99 = {name: _p99([x for f in figs for x in f.latencies]) * 1000 for name, figs in runs.items()}
    errors = sum(f.errors for figs in runs.values() for f in figs)
    for name, figs in runs.items():
        per_request = (
            f"  (server CPU {cpu[name] / sum(f.requests for f in figs) * 1000:.3f} ms a request)" if pids else ""
        )
        log.info(
            "SendOrder %-9s %-10s (median of %d rounds)  %8.0f req/s  p99 %6.2f ms%s",
            where, name, ROUNDS, rate[name], p99[name], per_request,
        )  # fmt: skip
    log.info(
        "%-9s --state / in memory: %.2fx throughput (target >= 0.80), --state p99 %.2f ms (target <= 20), errors %d",
        where, rate["--state"] / rate["in memory"], p99["--state"], errors,
    )  # fmt: skip


def over_http(directory: Path) -> None:
    """The emulators served in their own processes (the load generator takes none of their CPU), then
    in the bench's own process (as the issue's baseline, 0.56x, was measured)."""
    state_args = ("serve", "--clock", "virtual", "--state", str(directory / "served.db"))
    with (
        serve("mock-streamster", STREAMSTER_ENDPOINT) as memory,
        serve("mock-streamster", STREAMSTER_ENDPOINT, state_args) as stored,
    ):
        _compare("served", {"in memory": memory.url, "--state": stored.url}, {"in memory": memory.pid,
                                                                               "--state": stored.pid})  # fmt: skip
    with StreamsterMock(seed=1) as memory, StreamsterMock(seed=1, state=directory / "in-process.db") as stored:
        _compare("in-process", {"in memory": memory.endpoint_url, "--state": stored.endpoint_url}, None)


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
