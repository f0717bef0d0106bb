"""The backtest report: figures from the platform's own ledger, as JSON and as a self-contained page.

What a run did is read from the platform after it (positions, their exit orders, the desks) and
from the price history: the equity of the desk traded, marked to market at every bar's close
(BUY positions at the bid, SELL at the offer), its drawdown, the trades, and the summary figures
backtesting.py prints, computed the same way (`summary`). The page (`write_report`) draws the
charts with TradingView's lightweight-charts (vendored in mock_common/ui, Apache-2.0), inlined:
it opens offline and loads nothing.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import engine
from .history import PERIOD_MS, HistoryMarket, PriceHistory
from .market import to_epoch
from .model import CLOSED, EXIT, Position
from .platform import Platform

CHART_BARS = 5000  # candles drawn at most: a longer history is drawn in longer bars
EQUITY_POINTS = 5000  # points of the equity and drawdown charts at most (the figures use every one)
EXIT_REASONS = {"STOP": "stop loss", "LIMIT": "target", "MARKET": "closed"}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None).isoformat()


def _primary(platform: Platform, positions: list[Position]) -> tuple[str, str]:
    """The desk and currency traded most (the first desk's first currency when nothing was traded)."""
    counts = Counter((p.desk, p.currency) for p in positions)
    if counts:
        return counts.most_common(1)[0][0]
    desk, currencies = next(iter(platform.desks.items()))
    return desk, next(iter(currencies))


def _primary_history(platform: Platform, positions: list[Position]) -> str:
    """The history instrument traded most (the first history instrument when nothing was traded)."""
    history = platform.history
    assert history is not None
    counts = Counter(p.instrument.lower() for p in positions if p.instrument.lower() in history.histories)
    return counts.most_common(1)[0][0] if counts else next(iter(history.histories))


def _marks(platform: Platform, key: str, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bids, offers) of instrument `key` at `times` (epoch s): a history's last close at or before
    each time (its path point where a bar is under way), else the quote now."""
    history = platform.history
    if history is None or key not in history.histories:
        s = platform.series[key]
        return np.full(len(times), float(s.bid)), np.full(len(times), float(s.offer))
    h = history.histories[key]
    ms = np.rint(times * 1000).astype(np.int64)
    rows = np.clip(np.searchsorted(h.times, ms, side="right") - 1, 0, len(h) - 1)
    done = ms >= h.ends[rows]
    steps = np.where(done, h.close[rows], h.open[rows])
    quantum = 10.0**-h.digits
    bids = steps * quantum
    if h.spread is not None:
        offers = bids + h.spread[rows] * quantum
    else:
        offers = bids + float(platform.instruments[key].spread)
    return bids, offers


def equity_curve(platform: Platform, desk: str, currency: str, times: np.ndarray) -> np.ndarray:
    """The desk's equity in `currency` at `times` (epoch s): its starting amount, the realised profit of
    the positions closed by then and the open ones marked to market (BUY at the bid, SELL at the offer)."""
    start = platform.scenario.desks.get(desk, {}).get(currency, Decimal(0))
    equity = np.full(len(times), float(start))
    mids = {k: s.mid for k, s in platform.series.items()}
    for pos in platform.get_positions():
        if (pos.desk, pos.currency) != (desk, currency):
            continue
        key = pos.instrument.lower()
        inst = platform.instruments[key]
        entered = to_epoch(pos.entered)
        exited = to_epoch(pos.exited) if pos.exited is not None and pos.status == CLOSED else math.inf
        if exited != math.inf:
            equity[times >= exited] += float(pos.profit)
        held = (times >= entered) & (times < exited)
        if not held.any():
            continue
        bids, offers = _marks(platform, key, times[held])
        rate = engine.conversion_rate(inst.currency, pos.currency, lambda name: mids.get(name.lower()))
        size = float(pos.quantity * inst.contract_size * (rate or Decimal(1)))
        opened = float(pos.open_price)
        equity[held] += (bids - opened) * size if pos.side == "BUY" else (opened - offers) * size
    return equity


def _sample_times(history: PriceHistory, start: float, end: float) -> np.ndarray:
    """The closes of the history's bars (its ticks) from `start` to `end`, in epoch s, with `start` first."""
    ends = history.ends / 1000
    inside = ends[(ends > start) & (ends <= end)]
    return np.concatenate(([start], inside))


def _daily_returns(times: np.ndarray, equity: np.ndarray) -> np.ndarray:
    """Returns of the last equity of each UTC day (days without a price left out)."""
    days = np.floor(times / 86400).astype(np.int64)
    last = np.flatnonzero(np.append(days[1:] != days[:-1], True))
    closes = equity[last]
    return closes[1:] / closes[:-1] - 1 if len(closes) > 1 else np.array([])


def summary(
    times: np.ndarray, equity: np.ndarray, closes: np.ndarray, trades: list[dict[str, Any]]
) -> dict[str, float | int | None]:
    """The figures backtesting.py prints, computed as it does: Return, Buy & Hold Return, Max. Drawdown,
    # Trades, Win Rate, Profit Factor and Avg. Trade (from the trades' returns), Sharpe Ratio (from
    the daily returns, annualised over 365 days when the data has weekends, else 252)."""
    peak = np.maximum.accumulate(equity)
    drawdown = 1 - equity / peak
    closed = [t for t in trades if t["exit_time"] is not None]
    returns = np.array([t["return_pct"] / 100 for t in closed])
    profits = np.array([t["profit"] for t in closed])
    wins, losses = returns[returns > 0].sum(), -returns[returns < 0].sum()
    daily = _daily_returns(times, equity)
    weekend = np.isin((np.floor(times / 86400).astype(np.int64) + 3) % 7, (5, 6)).mean() if len(times) else 0.0
    year = 365 if weekend > 2 / 7 * 0.6 else 252
    mean_daily = _geometric_mean(daily)
    annual = (1 + mean_daily) ** year - 1
    variance = float(np.var(daily, ddof=1)) if len(daily) > 1 else math.nan
    volatility = math.sqrt(max(0.0, (variance + (1 + mean_daily) ** 2) ** year - (1 + mean_daily) ** (2 * year)))
    n = len(closed)

    def number(value: float) -> float | None:
        return None if value is None or not math.isfinite(value) else float(value)

    return {
        "Start": _iso(float(times[0])),
        "End": _iso(float(times[-1])),
        "Equity Start": number(float(equity[0])),
        "Equity Final": number(float(equity[-1])),
        "Equity Peak": number(float(equity.max())),
        "Return [%]": number((equity[-1] - equity[0]) / equity[0] * 100) if equity[0] else None,
        "Buy & Hold Return [%]": number((closes[-1] - closes[0]) / closes[0] * 100) if len(closes) else None,
        "Max. Drawdown [%]": number(-float(drawdown.max()) * 100 + 0.0),  # + 0.0: no -0.0
        "# Trades": n,
        "Win Rate [%]": number(float((profits > 0).mean()) * 100) if n else None,
        "Profit Factor": number(wins / losses) if losses else None,
        "Avg. Trade [%]": number(_geometric_mean(returns) * 100) if n else None,
        "Sharpe Ratio": number(annual / volatility) if volatility else None,
        "Open Positions": len(trades) - n,
    }


def _geometric_mean(returns: np.ndarray) -> float:
    growth = returns + 1
    if not len(growth):
        return 0.0
    if np.any(growth <= 0):
        return 0.0
    return float(np.exp(np.log(growth).sum() / len(growth)) - 1)


def _trades(platform: Platform, positions: list[Position], desk: str, currency: str) -> list[dict[str, Any]]:
    """One row per position of the desk: entry, exit, side, quantity, prices, profit, return, duration, why it closed."""
    reasons = {o.position_id: o.price_type for o in platform.get_orders() if o.phase == EXIT}
    rows = []
    for p in positions:
        if (p.desk, p.currency) != (desk, currency):
            continue
        closed = p.status == CLOSED and p.exited is not None and p.close_price is not None
        quote = platform.series[p.instrument.lower()]
        exit_price = p.close_price if closed else engine.exit_price(p.side, quote.bid, quote.offer)  # marked
        move = (exit_price - p.open_price) if p.side == "BUY" else (p.open_price - exit_price)  # type: ignore[operator]
        rows.append({
            "position": p.position_id, "instrument": p.instrument, "side": p.side, "quantity": format(p.quantity.normalize(), "f"),
            "entry_time": p.entered.isoformat(), "exit_time": p.exited.isoformat() if closed else None,  # type: ignore[union-attr]
            "entry_price": str(p.open_price), "exit_price": str(exit_price), "profit": float(p.profit),
            "return_pct": float(move / p.open_price * 100),
            "duration": str(p.exited - p.entered) if closed else None,  # type: ignore[operator]
            "exit": EXIT_REASONS.get(reasons.get(p.position_id, ""), "open at the end") if closed else "open at the end",
        })  # fmt: skip
    return rows


def _chart_bars(market: HistoryMarket, key: str, start: float, end: float) -> tuple[str, list[dict[str, Any]]]:
    """(period, candles) of `key` from `start` to `end`: the file's own rows when they are few enough,
    else the shortest period that draws at most CHART_BARS candles."""
    h = market.histories[key]
    lo_ms, hi_ms = start * 1000, end * 1000
    choices: list[tuple[str, Any]] = []
    if h.own_period is not None or h.kind == "bars":
        choices.append((h.own_period or "file", h))
    choices += [(p, h.periods[p]) for p in PERIOD_MS if p in h.periods]
    period, source = choices[-1]
    for name, candidate in choices:
        inside = int(np.count_nonzero((candidate.times >= lo_ms - PERIOD_MS.get(name, 0)) & (candidate.times < hi_ms)))
        if inside <= CHART_BARS:
            period, source = name, candidate
            break
    quantum = 10.0**-h.digits
    bucket = PERIOD_MS.get(period, 0)
    keep = np.flatnonzero((source.times >= lo_ms - bucket) & (source.times < hi_ms))
    candles = [
        {"time": int(source.times[i]) // 1000, "open": round(int(source.open[i]) * quantum, h.digits),
         "high": round(int(source.high[i]) * quantum, h.digits), "low": round(int(source.low[i]) * quantum, h.digits),
         "close": round(int(source.close[i]) * quantum, h.digits)}
        for i in keep.tolist()
    ]  # fmt: skip
    return period, candles


def _thin(times: np.ndarray, values: np.ndarray, limit: int) -> list[dict[str, Any]]:
    """At most `limit` points (every k-th, the last kept), whole seconds, one per second."""
    step = max(1, math.ceil(len(times) / limit))
    index = list(range(0, len(times), step))
    if index[-1] != len(times) - 1:
        index.append(len(times) - 1)
    points: dict[int, float] = {}
    for i in index:
        points[int(times[i])] = round(float(values[i]), 6)
    return [{"time": t, "value": v} for t, v in sorted(points.items())]


def live_equity(platform: Platform, points: int = 400) -> dict[str, Any] | None:
    """The equity so far of the desk traded most, at most `points` bar closes from the start to now, for
    the dashboard (None without a price history)."""
    market = platform.history
    if market is None:
        return None
    with platform.lock:
        positions = platform.get_positions()
        desk, currency = _primary(platform, positions)
        h = market.histories[_primary_history(platform, positions)]
        start = to_epoch(platform.scenario.start) if platform.scenario.start else market.start
        end = max(start, min(to_epoch(platform.clock.now()), market.end))
        times = _sample_times(h, start, end)
        if len(times) > points:
            times = times[np.unique(np.linspace(0, len(times) - 1, points).round().astype(np.int64))]
        equity = equity_curve(platform, desk, currency, times)
    return {"desk": desk, "currency": currency, "points": _thin(times, equity, points)}


def build_report(platform: Platform, run: dict[str, Any] | None = None, limit: int = EQUITY_POINTS) -> dict[str, Any]:
    """Everything the page shows, JSON-ready: the run, the figures, the equity and drawdown, candles with
    the entries and exits, the trades. The platform must play a price history."""
    market = platform.history
    if market is None:
        raise ValueError("a backtest report needs a platform that plays a price history")
    with platform.lock:
        positions = platform.get_positions()
        desk, currency = _primary(platform, positions)
        key = _primary_history(platform, positions)
        h = market.histories[key]
        start = to_epoch(platform.scenario.start) if platform.scenario.start else market.start
        end = min(to_epoch(platform.clock.now()), market.end)
        times = _sample_times(h, start, max(start, end))
        equity = equity_curve(platform, desk, currency, times)
        closes, _ = _marks(platform, key, times)
        trades = _trades(platform, positions, desk, currency)
        period, candles = _chart_bars(market, key, start, max(start, end))
    drawdown = 1 - equity / np.maximum.accumulate(equity)
    bucket = PERIOD_MS.get(period, h.period or 1000) // 1000
    first_candle = candles[0]["time"] if candles else 0
    markers = []
    labelled = len(trades) <= 20  # with more, labels would cover the chart: arrows and dots only
    for t in trades:
        for phase in ("entry", "exit"):
            when = t[f"{phase}_time"]
            if when is None:
                continue
            at = to_epoch(datetime.fromisoformat(when))
            snapped = int(max(first_candle, at - (at - first_candle) % bucket)) if bucket else int(at)
            buy = (t["side"] == "BUY") == (phase == "entry")
            text = f"{t['side']} {t['quantity']}" if phase == "entry" else f"exit ({t['exit']})"
            markers.append({
                "time": snapped, "position": "belowBar" if buy else "aboveBar",
                "shape": ("arrowUp" if buy else "arrowDown") if phase == "entry" else "circle",
                "color": ("#2e7d32" if buy else "#c62828") if phase == "entry" else "#5b6578",
                "text": text if labelled else "",
            })  # fmt: skip
    markers.sort(key=lambda m: m["time"])
    inst = platform.instruments[key]
    return {
        "title": f"Backtest of {inst.name}",
        "run": {
            **(run or {}),
            "instrument": inst.name,
            "history": {k: f"{m.source}: {m.describe()}" for k, m in market.histories.items()},
            "spread": str(inst.spread) if h.spread is None else "the file's spread column",
            "desk": desk,
            "currency": currency,
            "start": _iso(start),
            "end": _iso(end),
            "history_end": _iso(market.end),
            "completed": end >= market.end,
        },
        "summary": summary(times, equity, closes, trades),
        "equity": _thin(times, equity, limit),
        "drawdown": _thin(times, -drawdown * 100, limit),
        "chart": {"period": period, "digits": inst.digits, "candles": candles, "markers": markers},
        "trades": trades,
    }


# ----------------------------------------------------------------------------- the page

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1c2330}
header{background:#1c2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#b8c2d3;font-size:13px}main{padding:16px 24px;max-width:1400px;margin:auto}
section{background:#fff;border:1px solid #e1e5eb;border-radius:8px;padding:12px 16px;margin-bottom:16px}
h2{font-size:15px;margin:0 0 8px}.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px}
.figure{background:#f6f7f9;border-radius:6px;padding:8px 10px}.figure b{display:block;font-size:18px}
.figure span{color:#5b6578;font-size:12px}.chart{height:340px}.small{height:200px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:right}
th:first-child,td:first-child{text-align:left}th{position:sticky;top:0;background:#fff}.pos{color:#2e7d32}.neg{color:#c62828}
.scroll{max-height:420px;overflow:auto}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dt{color:#5b6578}dd{margin:0}footer{color:#5b6578;font-size:12px;padding:0 24px 24px}
"""

_SCRIPT = """
const R = JSON.parse(document.getElementById('report-data').textContent);
const LC = LightweightCharts;
function chart(id, opts) {
  const el = document.getElementById(id);
  return LC.createChart(el, Object.assign({autoSize: true, layout: {background: {color: '#ffffff'}, textColor: '#1c2330'},
    grid: {vertLines: {color: '#f0f2f5'}, horzLines: {color: '#f0f2f5'}},
    timeScale: {timeVisible: true, secondsVisible: false}}, opts || {}));
}
const digits = R.chart.digits;
const price = chart('price-chart');
const candles = price.addSeries(LC.CandlestickSeries, {priceFormat: {type: 'price', precision: digits,
  minMove: Math.pow(10, -digits)}, upColor: '#2e7d32', downColor: '#c62828', wickUpColor: '#2e7d32',
  wickDownColor: '#c62828', borderVisible: false});
candles.setData(R.chart.candles);
LC.createSeriesMarkers(candles, R.chart.markers);
price.timeScale().fitContent();
const eq = chart('equity-chart');
eq.addSeries(LC.LineSeries, {color: '#1565c0', lineWidth: 2}).setData(R.equity);
eq.timeScale().fitContent();
const dd = chart('drawdown-chart');
dd.addSeries(LC.AreaSeries, {lineColor: '#c62828', topColor: 'rgba(198,40,40,0.05)',
  bottomColor: 'rgba(198,40,40,0.35)', invertFilledArea: true}).setData(R.drawdown);
dd.timeScale().fitContent();
document.body.dataset.ready = 'yes';
"""

_FIGURES = (
    ("Return [%]", "%"), ("Buy & Hold Return [%]", "%"), ("Max. Drawdown [%]", "%"), ("# Trades", ""),
    ("Win Rate [%]", "%"), ("Profit Factor", ""), ("Avg. Trade [%]", "%"), ("Sharpe Ratio", ""),
    ("Equity Final", ""), ("Equity Peak", ""),
)  # fmt: skip


def _shown(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}{unit}"
    return f"{value}{unit}"


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page: the library, the data and the drawing code inlined; no request made."""
    library = resources.files("mock_common").joinpath("ui", "lightweight-charts.js").read_text(encoding="utf-8")
    run, figures = report["run"], report["summary"]
    e = html.escape
    cards = "".join(
        f'<div class="figure" data-figure="{e(name)}"><b>{e(_shown(figures.get(name), unit))}</b><span>{e(name.replace(" [%]", ""))}</span></div>'
        for name, unit in _FIGURES
    )
    details = "".join(
        f"<dt>{e(str(k).replace('_', ' '))}</dt><dd>{e(json.dumps(v) if isinstance(v, (dict, list)) else str(v))}</dd>"
        for k, v in run.items()
    )
    rows = []
    for t in report["trades"]:
        tone = "pos" if t["profit"] > 0 else "neg" if t["profit"] < 0 else ""
        rows.append(
            "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in (
                t["entry_time"], t["exit_time"] or "—", t["side"], t["quantity"], t["entry_price"], t["exit_price"],
            )) + f'<td class="{tone}">{t["profit"]:,.2f}</td><td class="{tone}">{t["return_pct"]:.3f}%</td>'
            + f"<td>{e(t['duration'] or '—')}</td><td>{e(t['exit'])}</td></tr>"
        )  # fmt: skip
    data = json.dumps(report, separators=(",", ":")).replace("</", "<\\/")
    currency = e(run.get("currency", ""))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(report["title"])}</title><style>{_CSS}</style></head>
<body>
<header><h1>{e(report["title"])}</h1><p>{e(run["start"])} to {e(run["end"])} UTC · desk {e(run["desk"])} ({currency})
{"· the history ran to its end" if run.get("completed") else "· stopped before the end of the history"}</p></header>
<main>
<section><h2>Summary</h2><div class="figures" data-testid="figures">{cards}</div></section>
<section><h2>Price ({e(report["chart"]["period"])} bars) with entries and exits</h2><div id="price-chart" class="chart"></div></section>
<section><h2>Equity ({currency})</h2><div id="equity-chart" class="chart"></div></section>
<section><h2>Drawdown (%)</h2><div id="drawdown-chart" class="small"></div></section>
<section><h2>Trades ({len(report["trades"])})</h2><div class="scroll"><table data-testid="trades">
<thead><tr><th>Entry</th><th>Exit</th><th>Side</th><th>Quantity</th><th>Entry price</th><th>Exit price</th>
<th>P&amp;L ({currency})</th><th>Return</th><th>Duration</th><th>Closed by</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></div></section>
<section><h2>Run</h2><dl>{details}</dl></section>
</main>
<footer>broker-mocks backtest report · figures from the emulator's own ledger, computed as backtesting.py computes them ·
charts by TradingView Lightweight Charts™ (Apache-2.0)</footer>
<script id="report-data" type="application/json">{data}</script>
<script>{library}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def write_report(report: dict[str, Any], directory: str | Path) -> tuple[Path, Path]:
    """Write `report.json` and `report.html` into `directory` (made when missing); their paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "report.json", folder / "report.html"
    json_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path
