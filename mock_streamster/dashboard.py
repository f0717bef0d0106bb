"""What the Streamster dashboard (/_mock/ui) shows: one JSON document read from the platform."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mock_common.dashboard import journal_rows, query_int

from .contract import OPERATIONS
from .control import Controller
from .errors import StreamsterError
from .market import PERIODS, canonical_period
from .model import OPEN, WORKING
from .platform import plain
from .report import live_equity

CLOSED_SHOWN = 15  # closed positions listed under the open ones, newest first


def _num(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def dashboard_data(controller: Controller, query: dict[str, str]) -> dict[str, Any]:
    """The dashboard's view of the platform: quotes, a chart, orders, positions, desks, journal.

    Reads go through the platform's public methods (each brings the market up to the clock); the
    last message is peeked at, not read, so the page never clears it for the bot.
    """
    p = controller.platform
    names = [i.name for i in p.instruments.values()]
    histories = p.history.histories if p.history is not None else {}
    # With a price history, its first instrument and the file's own period (shorter ones are refused)
    wanted = query.get("instrument") or (p.instruments[next(iter(histories))].name if histories else names[0])
    own = (
        histories[" ".join(wanted.split()).lower()].own_period
        if " ".join(wanted.split()).lower() in histories
        else None
    )
    period = canonical_period(query.get("period") or own or "5 Minutes")
    if period is None:
        raise ValueError(f"'period' {query.get('period')!r} is not one of {', '.join(v[0] for v in PERIODS.values())}")
    journal_limit = query_int(query, "journal", 40, 0, 500)
    quotes = []
    for inst in p.instruments.values():
        q = p.get_quote(inst.name)
        quotes.append({
            "instrument": inst.name, "bid": _num(q.bid), "offer": _num(q.offer), "change": _num(q.change),
            "high": _num(q.high), "low": _num(q.low), "time": q.time.isoformat(), "digits": inst.digits,
            "currency": inst.currency,
        })  # fmt: skip
    instrument = next((n for n in names if n.lower() == " ".join(wanted.split()).lower()), None)
    if instrument is None:
        raise ValueError(f"'instrument' {wanted!r} is not a known instrument")
    chart: dict[str, Any] = {"instrument": instrument, "period": period, "closed": False, "bars": []}
    history = p.history.histories.get(instrument.lower()) if p.history is not None else None
    if (instrument.lower(), period) in p.closed_charts:
        chart["closed"] = True  # GetBars faults on it too; the page says the chart is closed
    elif history is not None and history.kind == "bars" and PERIODS[period.lower()][1] * 1000 < history.period:
        chart["closed"] = True  # shorter than the history's bars: GetBars would refuse (and set the last message)
    else:
        try:
            chart["bars"] = [
                {"t": b.start.isoformat(), "o": _num(b.open), "h": _num(b.high), "l": _num(b.low),
                 "c": _num(b.close), "v": b.volume}
                for b in p.get_bars(instrument, period, "f")
            ]  # fmt: skip
        except StreamsterError:  # closed between the check and the read
            chart["closed"] = True
    positions = p.get_positions()
    open_positions = [x.to_dict() for x in positions if x.status == OPEN]
    closed = [x.to_dict() for x in positions if x.status != OPEN][-CLOSED_SHOWN:][::-1]
    working = [o.to_dict() for o in p.get_orders() if o.status == WORKING]
    desks = [{"desk": d, "currency": c, "amount": _num(a)} for d, c, a in p.get_desks()]
    unrealised: dict[tuple[str, str], Decimal] = {}
    for x in positions:
        if x.status == OPEN:
            unrealised[(x.desk, x.currency)] = unrealised.get((x.desk, x.currency), Decimal(0)) + x.profit
    for d in desks:
        pnl = unrealised.get((d["desk"], d["currency"]), Decimal(0))
        d["open_profit"] = _num(pnl)
        d["equity"] = _num(Decimal(d["amount"]) + pnl)
    return {
        "emulator": "streamster",
        "now": p.now().isoformat(),
        "clock": p.clock.mode,
        "speed": p.clock.speed,
        "seed": p.seed,
        "scenario": p.scenario.source,
        "instruments": names,
        "periods": [v[0] for v in PERIODS.values()],
        "operations": list(OPERATIONS),
        "quotes": quotes,
        "chart": chart,
        "orders": working,
        "positions": open_positions,
        "closed_positions": closed,
        "desks": desks,
        "last_message": p.last_message,
        "faults": [r.to_dict() for r in controller.faults.rules()],
        "journal": journal_rows(controller.journal.entries(), journal_limit, "operation", controller.journal.total),
        "journal_total": controller.journal.total,
        "equity": live_equity(p),  # the equity curve of a run over price history, None without one
    }
