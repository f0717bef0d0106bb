"""Same seed, scenario and calls on the virtual clock: byte-identical responses."""

from __future__ import annotations

from pathlib import Path

from mock_streamster import StreamsterMock
from mock_streamster.data import SCENARIOS

from .soaputil import call, element, send_order

DEMO = SCENARIOS.path("demo")


def _session(seed: int, scenario: Path | None = None) -> list[bytes]:
    replies: list[bytes] = []
    with StreamsterMock(seed=seed, scenario=scenario) as m:

        def keep(reply) -> None:  # type: ignore[no-untyped-def]
            replies.append(reply.raw)

        keep(call(m, "GetQuote", element("Instrument", "EUR/USD")))
        keep(send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="10", ExitTarget="1.09500"))
        keep(
            send_order(
                m,
                Instrument="GBP/USD",
                Desk="Virtual Forex",
                Quantity="3",
                Side="SELL",
                PriceType="LIMIT",
                Price="1.27500",
            )
        )
        keep(send_order(m, Instrument="Gold", Desk="Virtual Forex", Quantity="0"))
        for _ in range(6):
            m.advance(1800)
            keep(call(m, "GetPositions"))
            keep(call(m, "GetOrders"))
        first = m.platform.get_positions()[0].position_id
        keep(call(m, "ClosePosition", element("PositionID", first)))
        for op in ("GetTrades", "GetDesks", "GetLastMessage", "GetPositions"):
            keep(call(m, op))
        keep(
            call(
                m,
                "GetBars",
                element("Instrument", "EUR/USD") + element("Period", "5 Minutes") + element("Options", "f"),
            )
        )
        keep(
            call(
                m, "GetBars", element("Instrument", "Dow Jones") + element("Period", "Monthly") + element("Options", "")
            )
        )
    return replies


def test_same_seed_and_calls_give_byte_identical_responses() -> None:
    assert _session(11) == _session(11)


def test_same_seed_and_scenario_give_byte_identical_responses() -> None:
    assert _session(5, DEMO) == _session(5, DEMO)


def test_another_seed_gives_other_prices_and_ids() -> None:
    assert _session(1) != _session(2)


def test_reset_replays_the_same_session() -> None:
    with StreamsterMock(seed=4) as m:

        def run() -> list[bytes]:
            out = [send_order(m, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1").raw]
            m.advance(3600)
            return out + [call(m, "GetPositions").raw, call(m, "GetQuote", element("Instrument", "EUR/USD")).raw]

        first = run()
        m.reset()
        assert run() == first
