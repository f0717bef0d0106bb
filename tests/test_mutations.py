"""The state machines catch real mistakes: each mutation below breaks an emulator on purpose, and
the machine must fail on it. (`make mutation-check` runs just these; `make test` runs them too.)"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from broker_mocks.conformance.instaforex import InstaForexMachine
from broker_mocks.conformance.streamster import StreamsterMachine
from mock_instaforex import InstaForexMock
from mock_instaforex.service import Service
from mock_streamster import StreamsterMock, engine
from mock_streamster.platform import Platform

HUNT = settings(
    max_examples=30,
    stateful_step_count=20,
    derandomize=True,
    deadline=None,
    phases=[Phase.generate],
    report_multiple_bugs=False,
)


def change_order_keeps_old_stop_loss(mp: pytest.MonkeyPatch) -> None:
    original = Platform.change_order

    def mutant(self: Platform, order: Any) -> None:
        old = {o.order_id: o.exit_stop_loss for o in self.orders.values()}
        original(self, order)
        for o in self.orders.values():
            if o.exit_stop_loss is None and old.get(o.order_id) is not None:
                o.exit_stop_loss = old[o.order_id]

    mp.setattr(Platform, "change_order", mutant)


def stop_loss_fills_on_the_wrong_side(mp: pytest.MonkeyPatch) -> None:
    def mutant(side: str, bid: Decimal, offer: Decimal) -> Decimal:
        return offer if side == "BUY" else bid

    mp.setattr(engine, "exit_price", mutant)


def exits_wait_for_the_price_to_pass_the_level(mp: pytest.MonkeyPatch) -> None:
    def mutant(pos: Any, bid: Decimal, offer: Decimal) -> tuple[str, Decimal, Decimal] | None:
        price = engine.exit_price(pos.side, bid, offer)
        stop, target = pos.exit_stop_loss, pos.exit_target
        buy = pos.side == "BUY"
        if stop is not None and (price < stop if buy else price > stop):
            return "STOP", stop, price
        if target is not None and (price > target if buy else price < target):
            return "LIMIT", target, price
        return None

    mp.setattr(engine, "exit_trigger", mutant)


def entries_wait_for_the_price_to_pass_their_price(mp: pytest.MonkeyPatch) -> None:
    original = engine.fill

    def mutant(order: Any, inst: Any, bid: Decimal, offer: Decimal) -> tuple[Decimal, Decimal] | None:
        if order.price_type != "MARKET" and (offer if order.side == "BUY" else bid) == order.price:
            return None
        return original(order, inst, bid, offer)

    mp.setattr(engine, "fill", mutant)


def token_accepted_for_another_login(mp: pytest.MonkeyPatch) -> None:
    original = Service.authorize

    def mutant(self: Service, kind: str, passkey: str | None, login: int, ip: str) -> Any:
        token = self.tokens.find((passkey or "").strip().strip('"'), self.now())
        if token is not None and token.kind == kind and token.login != login:
            who = self._eligible(kind, login)
            if who is not None:
                return who
        return original(self, kind, passkey, login, ip)

    mp.setattr(Service, "authorize", mutant)


def closed_lots_count_open_trades(mp: pytest.MonkeyPatch) -> None:
    original = Service.closed_lots

    def mutant(self: Service, a: Any, start: str | None, end: str | None) -> dict[str, Any]:
        result = original(self, a, start, end)
        result["Lots"] += sum((t.volume for t in a.open_trades), Decimal(0))
        return result

    mp.setattr(Service, "closed_lots", mutant)


# Hypothesis draws some values from the literals of the project's modules already imported (its
# "local constants"), so a derandomized hunt would depend on which tests ran before it in this
# process (xdist spreads them differently each run). With every project module imported first,
# the hunt draws the same examples wherever it runs.
PROJECT_PACKAGES = ("mock_common", "mock_streamster", "mock_instaforex", "broker_mocks", "bench", "docgen", "examples")


@pytest.fixture(scope="module", autouse=True)
def _every_project_module_imported() -> None:
    for name in PROJECT_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, name + "."):
            if module.name.endswith(".__main__"):  # a command line: it runs when imported
                continue
            try:
                importlib.import_module(module.name)
            except ImportError:  # needs an extra this environment lacks (docgen: mkdocs): the same every run here
                pass


@pytest.fixture(scope="module")
def streamster() -> Iterator[StreamsterMock]:
    with StreamsterMock() as m:
        yield m


@pytest.fixture(scope="module")
def instaforex() -> Iterator[InstaForexMock]:
    with InstaForexMock() as m:
        yield m


# (mutation, the machine that must catch it, the fixture serving the emulator it breaks)
MUTATIONS = [
    (change_order_keeps_old_stop_loss, StreamsterMachine, "streamster"),
    (stop_loss_fills_on_the_wrong_side, StreamsterMachine, "streamster"),
    (exits_wait_for_the_price_to_pass_the_level, StreamsterMachine, "streamster"),
    (entries_wait_for_the_price_to_pass_their_price, StreamsterMachine, "streamster"),
    (token_accepted_for_another_login, InstaForexMachine, "instaforex"),
    (closed_lots_count_open_trades, InstaForexMachine, "instaforex"),
]


@pytest.mark.parametrize(("mutation", "machine", "server"), MUTATIONS, ids=[m[0].__name__ for m in MUTATIONS])
def test_machine_catches(
    mutation: Callable[[pytest.MonkeyPatch], None],
    machine: type,
    server: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mutated = type("Mutated", (machine,), {"base_url": request.getfixturevalue(server).url})
    mutation(monkeypatch)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(mutated, settings=HUNT)


def test_unmutated_emulators_pass_the_same_hunt(streamster: StreamsterMock, instaforex: InstaForexMock) -> None:
    run_state_machine_as_test(type("Clean", (StreamsterMachine,), {"base_url": streamster.url}), settings=HUNT)
    run_state_machine_as_test(type("Clean", (InstaForexMachine,), {"base_url": instaforex.url}), settings=HUNT)
