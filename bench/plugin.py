"""The pytest plugin's costs: the per-test reset of each emulator, and the in-process route
(`instaforex_responses`, `streamster_responses`) against a static `responses` stub of the same call.

Targets: reset at most 1 ms per test for each emulator; the in-process route at least 0.8x the
calls per second of the static stub. Run: `make bench` or `.venv/bin/python -m bench.plugin`
(BENCH_SCALE=0.1 for a quick look).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import requests
import responses

from bench._common import scale
from mock_common.pytest_plugin import InProcessRoute
from mock_instaforex import InstaForexMock
from mock_instaforex.pytest_plugin import URLS as IFX_URLS
from mock_instaforex.pytest_plugin import in_process_app as ifx_app
from mock_streamster import StreamsterMock
from mock_streamster.pytest_plugin import in_process_app as streamster_app

log = logging.getLogger("bench.plugin")

QUOTE = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soap:Body><Instrument xmlns="http://www.novativa.com/ws/streamsterapi">EUR/USD</Instrument></soap:Body>'
    "</soap:Envelope>"
)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'}


def per_reset_ms(mock: Any, dirty: Callable[[], None], n: int) -> list[float]:
    """Milliseconds of each reset, after `dirty` changed the state as a test would."""
    times = []
    for _ in range(n):
        dirty()
        started = time.perf_counter()
        mock.reset()
        times.append((time.perf_counter() - started) * 1000)
    return times


def resets(n: int) -> None:
    streamster = StreamsterMock()
    ifx = InstaForexMock()

    def dirty_streamster() -> None:
        streamster.set_price("EUR/USD", "1.10000")
        streamster.advance(60)
        streamster.fail("GetQuote")

    def dirty_ifx() -> None:
        ifx.add_account(login=40000001, level="open")
        ifx.advance(60)
        ifx.fail("RequestOpenTrades")

    for name, mock, dirty in (("Streamster", streamster, dirty_streamster), ("InstaForex", ifx, dirty_ifx)):
        times = per_reset_ms(mock, dirty, n)
        log.info(
            "%-10s reset per test: median %.3f ms, p95 %.3f ms (%d resets; target <= 1 ms)",
            name, statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1], n,
        )  # fmt: skip


def rate(call: Callable[[], Any], n: int) -> float:
    """Calls per second of `call` (which must not fail)."""
    for _ in range(max(3, n // 20)):  # warm up
        call()
    started = time.perf_counter()
    for _ in range(n):
        call()
    return n / (time.perf_counter() - started)


def best_rates(routed: Any, stub: Any, calls: dict[str, tuple[Callable[[], Any], Callable[[], Any]]], n: int,
               rounds: int) -> dict[str, tuple[float, float]]:  # fmt: skip
    """name -> (in process, stub) calls per second: the best of `rounds` alternating runs each (one mock
    active at a time), so a noisy neighbour does not decide the ratio."""
    best = {name: (0.0, 0.0) for name in calls}
    for _ in range(rounds):
        for name, (through_route, through_stub) in calls.items():
            r = with_mock(routed, partial(rate, through_route, n))
            s = with_mock(stub, partial(rate, through_stub, n))
            best[name] = (max(best[name][0], r), max(best[name][1], s))
    return best


def with_mock(mock: Any, run: Callable[[], Any]) -> Any:
    """`run()` while `mock` patches requests (not `with`: leaving it would unregister its responses)."""
    mock.start()
    try:
        return run()
    finally:
        mock.stop(allow_assert=False)


def routes(n: int, rounds: int = 6) -> None:
    """The same call through the in-process route and through a stub answering its recorded bytes:
    raw `requests`, then the reference client as a bot would call (its parsing included). Each side
    runs `rounds` times `n // 2` calls, alternating, and its best round counts."""
    from broker_mocks.client import InstaForexClient, StreamsterClient

    http = requests.Session()
    ifx, base = InstaForexMock(), IFX_URLS[0]
    balance_url = base + "client/RequestBalanceInformation/20000001"
    token_url = base + "api/Authentication/RequestClientApiToken"
    routed = responses.RequestsMock(assert_all_requests_are_fired=False)
    InProcessRoute(ifx, ifx_app(ifx), IFX_URLS, routed)
    routed.start()
    token = http.post(token_url, json={"Login": 20000001, "Password": "demo-pass"}).json()
    balance = http.get(balance_url, headers={"passkey": token}).content
    routed_bot = InstaForexClient(base, login=20000001, password="demo-pass")
    routed_bot.balance()
    routed.stop(allow_assert=False)
    stub = responses.RequestsMock(assert_all_requests_are_fired=False)
    stub.add(responses.POST, token_url, json=token)
    stub.add(responses.GET, balance_url, body=balance, content_type="application/json; charset=utf-8")
    stub_bot = InstaForexClient(base, login=20000001, password="demo-pass")
    with_mock(stub, stub_bot.balance)
    figures = best_rates(routed, stub, {
        "InstaForex balance, requests.get": (lambda: http.get(balance_url, headers={"passkey": token}),) * 2,
        "InstaForex balance, InstaForexClient.balance()": (routed_bot.balance, stub_bot.balance),
    }, max(10, n // 2), rounds)  # fmt: skip

    streamster, endpoint = StreamsterMock(), "http://127.0.0.1:8018/endpoint"
    wsdl_url = "http://127.0.0.1:8018/service.wsdl"
    routed = responses.RequestsMock(assert_all_requests_are_fired=False)
    InProcessRoute(streamster, streamster_app(streamster), ("http://127.0.0.1:8018/",), routed)
    routed.start()
    wsdl = http.get(wsdl_url).content
    quote = http.post(endpoint, data=QUOTE, headers=SOAP_HEADERS).content
    routed_bot = StreamsterClient(wsdl_url)
    routed.stop(allow_assert=False)
    stub = responses.RequestsMock(assert_all_requests_are_fired=False)
    stub.add(responses.GET, wsdl_url, body=wsdl, content_type="text/xml; charset=utf-8")
    stub.add(responses.POST, endpoint, body=quote, content_type="text/xml; charset=utf-8")
    stub_bot = with_mock(stub, lambda: StreamsterClient(wsdl_url))
    figures.update(best_rates(routed, stub, {
        "Streamster GetQuote, requests.post": (lambda: http.post(endpoint, data=QUOTE, headers=SOAP_HEADERS),) * 2,
        "Streamster GetQuote, StreamsterClient.get_quote()": (
            lambda: routed_bot.get_quote("EUR/USD"), lambda: stub_bot.get_quote("EUR/USD")
        ),
    }, max(10, n // 2), rounds))  # fmt: skip
    for name, (routed_rate, stub_rate) in figures.items():
        report(name, routed_rate, stub_rate)


def report(name: str, routed: float, stub: float) -> None:
    log.info(
        "%-50s in process %5.0f calls/s, static responses stub %5.0f calls/s: %.2fx (target >= 0.8x)",
        name, routed, stub, routed / stub,
    )  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for quiet in ("broker_mocks.client", "mock_instaforex", "mock_streamster", "spyne"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    resets(max(20, int(2000 * scale())))
    routes(max(20, int(2000 * scale())))


if __name__ == "__main__":
    main()
