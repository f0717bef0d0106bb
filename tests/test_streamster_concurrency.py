"""8 threads trading at once on one server: no lost or duplicated ID, the books balance."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal

from mock_streamster import StreamsterMock

from .soaputil import call, element, send_order

THREADS = 8
ROUNDS = 25


def test_concurrent_trading_keeps_ids_fills_and_desks_consistent() -> None:
    with StreamsterMock(seed=9) as m:
        start = {(d, c): a for d, c, a in m.platform.get_desks()}
        errors: list[str] = []
        barrier = threading.Barrier(THREADS + 1)

        def trader(n: int) -> None:
            rng = random.Random(n)
            desk = "Virtual Forex" if n % 2 else "Virtual Currencies"
            extra = {} if n % 2 else {"Currency": "EUR" if n % 4 == 0 else "USD"}
            barrier.wait()
            try:
                for _ in range(ROUNDS):
                    side = rng.choice(["BUY", "SELL"])
                    r = send_order(
                        m, Instrument="EUR/USD", Desk=desk, Quantity=str(rng.randint(1, 9)), Side=side, **extra
                    )
                    assert r.status == 200, r.raw
                    r = send_order(m, Instrument="EUR/USD", Desk=desk, Quantity="2", Side=side, PriceType="LIMIT",
                                   Price="1.00000" if side == "BUY" else "1.20000", **extra)  # fmt: skip
                    assert r.status == 200, r.raw
                    mine = [o for o in m.platform.get_orders() if o.status == "Working" and o.desk == desk]
                    if mine:
                        o = rng.choice(mine)
                        # Another thread may get there first: a fault is then the right answer.
                        if rng.random() < 0.5:
                            call(
                                m,
                                "ChangeOrder",
                                element(
                                    "Order", OrderID=o.order_id, PriceType="LIMIT", Price=str(o.price), Quantity="3"
                                ),
                            )
                        else:
                            call(m, "CancelOrder", element("OrderID", o.order_id))
                    open_ = [p for p in m.platform.get_positions() if p.status == "Open" and p.desk == desk]
                    if open_:
                        call(m, "ClosePosition", element("PositionID", rng.choice(open_).position_id))
                    if n == 0:
                        m.move_price("EUR/USD", rng.choice([-3, 3]))
            except AssertionError as exc:
                errors.append(str(exc))

        threads = [threading.Thread(target=trader, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        barrier.wait()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors[:3]

        orders = call(m, "GetOrders").items("Orders", "Order")
        positions = call(m, "GetPositions").items("Positions", "Position")
        trades = call(m, "GetTrades").items("Trades", "Trade")
        entry_orders = [o for o in orders if o["Phase"] == "Entry"]
        assert len(entry_orders) == THREADS * ROUNDS * 2  # nothing lost
        for items, key in ((orders, "OrderID"), (positions, "PositionID"), (trades, "TradeID")):
            counts = Counter(i[key] for i in items)
            assert all(c == 1 for c in counts.values()), [k for k, c in counts.items() if c > 1]  # nothing duplicated
        # Every fill has its trade: one Entry trade per position, one Exit trade per closed position.
        entry = Counter(t["OrderID"] for t in trades if t["Phase"] == "Entry")
        by_id = {o["OrderID"]: o for o in orders}
        for order_id in entry:
            assert Decimal(by_id[order_id]["TradedQuantity"]) > 0
        assert sum(entry.values()) == len(positions)
        closed = [p for p in positions if p["Status"] == "Closed"]
        assert len([t for t in trades if t["Phase"] == "Exit"]) == len(closed)
        traded = sum(Decimal(o["TradedQuantity"]) for o in entry_orders)
        assert traded == sum(Decimal(p["Quantity"]) for p in positions)
        # Each desk's amount = start + realised profit of its closed positions.
        desks = {(d["Name"], d["Currency"]): Decimal(d["Amount"]) for d in call(m, "GetDesks").items("Desks", "Desk")}
        for key, amount in desks.items():
            realised = sum(Decimal(p["Profit"]) for p in closed if (p["Desk"], p["Currency"]) == key)
            assert amount == start[key] + realised, key
        assert len(closed) > THREADS * ROUNDS / 2
