"""Replay speed: the replay server against the emulator on the same request, and the in-process
`responses` route against a static `responses` stub.

Each server runs in its own process (`mock-streamster replay` / `serve`); the load is raw keep-alive
HTTP. Run: `.venv/bin/python -m bench.replay` (also `make bench`). BENCH_SCALE=0.1 for a quick look.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import requests
import responses

from bench._common import NS, Figures, client_passkey, load, request, scale, serve, soap
from mock_common.recording import replay
from mock_instaforex.data import CASSETTES as INSTAFOREX_CASSETTES
from mock_streamster.data import CASSETTES as STREAMSTER_CASSETTES

log = logging.getLogger("bench.replay")
ROOT = Path(__file__).resolve().parent.parent
STREAMSTER = STREAMSTER_CASSETTES.path("streamster-client")
INSTAFOREX = INSTAFOREX_CASSETTES.path("instaforex-client")
FAKE_TOKEN = "00000000000000000000000000000001"  # the cassette's (scrubbed) client token
BALANCE = "/client/RequestBalanceInformation/90000001"
BASE = "https://client-api.instaforex.com"


def servers(n: int, rounds: int = 3) -> list[Figures]:
    """The same request to the emulator and to the replay server, 1 client thread each: both serving
    at once, loaded in alternating rounds, the best round of each kept (so a noisy neighbour does not
    decide which is faster)."""
    quote = soap("GetQuote", f'<Instrument xmlns="{NS}">EUR/USD</Instrument>')
    # The same request but for the token: the emulator's is issued now, the replay's is the cassette's.
    path = "/client/RequestBalanceInformation/20000001"
    figures = []
    replaying = ("replay", "--cassette", str(STREAMSTER))
    with (
        serve("mock-streamster", r"endpoint:\s+(\S+)") as emu,
        serve("mock-streamster", r"base URL:\s+(\S+)", replaying) as rep,
    ):
        figures += best_of(rounds, [
            lambda: load(emu.url, "Streamster GetQuote, emulator", quote, 1, n),
            lambda: load(rep.url, "Streamster GetQuote, replay server", quote, 1, n),
        ])  # fmt: skip
    replaying = ("replay", "--cassette", str(INSTAFOREX))
    with (
        serve("mock-instaforex", r"base URL:\s+(\S+)") as emu,
        serve("mock-instaforex", r"base URL:\s+(\S+)", replaying) as rep,
    ):
        emulated = request("GET", path, headers={"passkey": client_passkey(emu.url)})
        replayed = request("GET", path, headers={"passkey": FAKE_TOKEN})
        figures += best_of(rounds, [
            lambda: load(emu.url, "InstaForex balance, emulator", emulated, 1, n),
            lambda: load(rep.url, "InstaForex balance, replay server", replayed, 1, n),
        ])  # fmt: skip
    return figures


def best_of(rounds: int, runs: list[Callable[[], Figures]]) -> list[Figures]:
    """Each run `rounds` times, in turn: the figures of its fastest round, with the errors of every round."""
    best: list[Figures] = []
    for r in range(rounds):
        for i, run in enumerate(runs):
            f = run()
            if r == 0:
                best.append(f)
            elif f.requests / f.seconds > best[i].requests / best[i].seconds:
                best[i] = replace(f, errors=f.errors + best[i].errors)
            else:
                best[i].errors += f.errors
    return best


def _rate(session: requests.Session, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        r = session.get(BASE + BALANCE, headers={"passkey": FAKE_TOKEN})
        assert r.status_code == 200, r.text
    return n / (time.perf_counter() - t0)


def in_process(n: int, rounds: int = 3) -> tuple[float, float]:
    """Requests per second through the cassette route and through a static stub of the same answer
    (the best of `rounds` alternating runs each, so a noisy neighbour does not decide the ratio)."""
    session = requests.Session()
    route = replay(INSTAFOREX, base_url=BASE + "/")
    with route:
        body = session.get(BASE + BALANCE, headers={"passkey": FAKE_TOKEN}).content
    stub = responses.RequestsMock(assert_all_requests_are_fired=False)
    stub.add(responses.GET, BASE + BALANCE, body=body, content_type="application/json; charset=utf-8")
    cassette = static = 0.0
    for _ in range(rounds):
        with route:
            cassette = max(cassette, _rate(session, n))
        stub.start()  # not `with`: leaving it would unregister the stub
        try:
            static = max(static, _rate(session, n))
        finally:
            stub.stop(allow_assert=False)
    return cassette, static


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n = max(20, int(2000 * scale()))
    for f in servers(n):
        log.info(f.line())
    cassette, static = in_process(n)
    log.info(f"{'in-process cassette route (responses)':<40} {cassette:8.0f} req/s")
    log.info(f"{'static responses stub':<40} {static:8.0f} req/s")
    log.info(f"in-process route / static stub: {cassette / static:.2f}x")


if __name__ == "__main__":
    main()
