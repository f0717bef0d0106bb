// The Streamster emulator's dashboard: polls /_mock/ui/data, controls through the /_mock/ JSON routes.
"use strict";

(() => {
  const { $, el, money, signed, tone, qty, time, clockText, table, control, numberOrText, poll, candles, journal, options } = UI;
  const params = new URLSearchParams(location.search);
  // No period asked for: the server's choice (5 Minutes, or a price history's own period).
  const state = { instrument: params.get("instrument") || "", period: params.get("period") || "", data: null };
  const digitsOf = (name) => {
    const q = state.data && state.data.quotes.find((x) => x.instrument === name);
    return q ? q.digits : 5;
  };
  const price = (text, name) => (text === null || text === undefined ? "" : Number(text).toFixed(digitsOf(name)));

  // The equity of a run over price history, drawn by lightweight-charts (vendored beside this file).
  let equityChart = null;
  let equitySeries = null;
  function renderEquity(equity) {
    $("#equity-section").hidden = !equity;
    if (!equity || typeof LightweightCharts === "undefined") return;
    if (!equityChart) {
      equityChart = LightweightCharts.createChart($("#equity-chart"), {
        autoSize: true, layout: { background: { color: "transparent" }, textColor: "#9aa6b8" },
        grid: { vertLines: { color: "rgba(128,128,128,0.12)" }, horzLines: { color: "rgba(128,128,128,0.12)" } },
        timeScale: { timeVisible: true, secondsVisible: false },
      });
      equitySeries = equityChart.addSeries(LightweightCharts.LineSeries, { color: "#4aa3ff", lineWidth: 2 });
    }
    const first = !equitySeries.data().length;
    equitySeries.setData(equity.points);
    if (first && equity.points.length) equityChart.timeScale().fitContent(); // the whole run, then the reader's zoom
    const last = equity.points.length ? equity.points[equity.points.length - 1].value : null;
    $("#equity-sub").textContent = `${equity.desk} (${equity.currency})` + (last === null ? "" : ` · ${money(last)}`);
    $("#equity-chart").dataset.last = last === null ? "" : String(last);
  }

  function render(d) {
    state.data = d;
    renderEquity(d.equity);
    if (!state.instrument) state.instrument = d.chart.instrument;
    if (!state.period) state.period = d.chart.period;
    $("#clock").textContent = clockText(d.now);
    $("#clock-mode").textContent = d.clock + " clock" + (d.speed ? ` ×${d.speed}` : "");
    $("#seed").textContent = "seed " + d.seed + (d.scenario ? " · " + d.scenario.split("/").pop() : "");
    $("#calls").textContent = d.journal_total + " calls";
    options($("#instrument"), d.instruments);
    $("#instrument").value = d.chart.instrument;
    options($("#period"), d.periods);
    $("#period").value = d.chart.period;
    options($("#fault-op"), ["*", ...d.operations]);

    table($("#quotes"), [
      { title: "instrument", value: (q) => q.instrument },
      { title: "bid", value: (q) => price(q.bid, q.instrument), num: true },
      { title: "offer", value: (q) => price(q.offer, q.instrument), num: true },
      { title: "chg", value: (q) => price(q.change, q.instrument), num: true, cls: (q) => tone(q.change) },
    ], d.quotes, {
      rowClass: (q) => (q.instrument === d.chart.instrument ? "selected" : null),
      onclick: (q) => { state.instrument = q.instrument; UI.refresh(); },
      testid: (q) => "quote-" + q.instrument,
    });

    const quote = d.quotes.find((q) => q.instrument === d.chart.instrument);
    const digits = quote ? quote.digits : 5;
    $("#chart-price").textContent = quote ? price(quote.bid, quote.instrument) : "—";
    $("#chart-price").className = "price " + (quote ? tone(quote.change) : "");
    $("#chart-sub").textContent = quote
      ? `offer ${price(quote.offer, quote.instrument)}  H ${price(quote.high, quote.instrument)}  L ${price(quote.low, quote.instrument)}  ${d.chart.bars.length} bars`
      : "";
    $("#chart").hidden = d.chart.closed;
    $("#chart-closed").hidden = !d.chart.closed;
    const lines = [];
    for (const p of d.positions.filter((x) => x.instrument === d.chart.instrument)) {
      lines.push({ price: +p.open_price, color: p.side === "BUY" ? "#4aa3ff" : "#c08cff", dash: true, label: `${p.side} ${qty(p.quantity)} @ ${price(p.open_price, p.instrument)}  ${signed(p.profit)}` });
      if (p.exit_stop_loss !== null) lines.push({ price: +p.exit_stop_loss, color: "#ff4d5e", dash: true, label: "stop " + p.position_id });
      if (p.exit_target !== null) lines.push({ price: +p.exit_target, color: "#1fc77e", dash: true, label: "target " + p.position_id });
    }
    if (quote) lines.push({ price: +quote.bid, color: "#f5b942", dash: false, label: "" });
    if (!d.chart.closed) candles($("#chart"), d.chart.bars, lines, digits);
    $("#chart").dataset.last = d.chart.bars.length ? d.chart.bars[d.chart.bars.length - 1].c : "";

    $("#positions-count").textContent = d.positions.length ? d.positions.length : "";
    table($("#positions"), [
      { title: "position", value: (p) => p.position_id, cls: () => "mono" },
      { title: "desk", value: (p) => p.desk },
      { title: "instrument", value: (p) => p.instrument },
      { title: "side", value: (p) => p.side, cls: (p) => "side-" + p.side },
      { title: "qty", value: (p) => qty(p.quantity), num: true },
      { title: "open", value: (p) => price(p.open_price, p.instrument), num: true },
      { title: "now", value: (p) => { const q = d.quotes.find((x) => x.instrument === p.instrument); return q ? price(p.side === "BUY" ? q.bid : q.offer, p.instrument) : ""; }, num: true },
      { title: "stop", value: (p) => price(p.exit_stop_loss, p.instrument), num: true, cls: () => "down" },
      { title: "target", value: (p) => price(p.exit_target, p.instrument), num: true, cls: () => "up" },
      { title: "points", value: (p) => p.points, num: true, cls: (p) => tone(p.points) },
      { title: "P&L", value: (p) => signed(p.profit) + " " + p.currency, num: true, cls: (p) => tone(p.profit) },
      { title: "entered", value: (p) => time(p.entered), cls: () => "mono dim" },
    ], d.positions, { empty: "no open positions", testid: (p) => "position-" + p.position_id });

    $("#orders-count").textContent = d.orders.length ? d.orders.length : "";
    table($("#orders"), [
      { title: "order", value: (o) => o.order_id, cls: () => "mono" },
      { title: "desk", value: (o) => o.desk },
      { title: "instrument", value: (o) => o.instrument },
      { title: "side", value: (o) => o.side, cls: (o) => "side-" + o.side },
      { title: "type", value: (o) => o.price_type },
      { title: "price", value: (o) => price(o.price, o.instrument), num: true },
      { title: "active", value: (o) => qty(o.active_quantity), num: true },
      { title: "traded", value: (o) => qty(o.traded_quantity), num: true },
      { title: "stop", value: (o) => price(o.exit_stop_loss, o.instrument), num: true, cls: () => "down" },
      { title: "target", value: (o) => price(o.exit_target, o.instrument), num: true, cls: () => "up" },
      { title: "duration", value: (o) => o.duration_type + (o.duration ? " " + time(o.duration) : "") },
      { title: "entered", value: (o) => time(o.entered), cls: () => "mono dim" },
    ], d.orders, { empty: "no working orders", testid: (o) => "order-" + o.order_id });

    table($("#desks"), [
      { title: "desk", value: (x) => x.desk },
      { title: "ccy", value: (x) => x.currency },
      { title: "balance", value: (x) => money(x.amount), num: true },
      { title: "open P&L", value: (x) => signed(x.open_profit), num: true, cls: (x) => tone(x.open_profit) },
      { title: "equity", value: (x) => money(x.equity), num: true },
    ], d.desks);

    table($("#closed"), [
      { title: "position", value: (p) => p.position_id, cls: () => "mono" },
      { title: "instr.", value: (p) => p.instrument },
      { title: "side", value: (p) => p.side, cls: (p) => "side-" + p.side },
      { title: "close", value: (p) => price(p.close_price, p.instrument), num: true },
      { title: "P&L", value: (p) => signed(p.profit), num: true, cls: (p) => tone(p.profit) },
    ], d.closed_positions, { empty: "none closed yet" });

    $("#last-message").textContent = d.last_message || "—";
    $("#faults").textContent = d.faults.length
      ? d.faults.map((f) => `${f.target}: ${f.kind}${f.kind === "http" ? " " + f.status : ""} × ${f.times === null ? "∞" : f.times}`).join("  ·  ")
      : "";
    journal($("#journal"), d.journal);
  }

  const dataUrl = () => "/_mock/ui/data?" + new URLSearchParams({ instrument: state.instrument, period: state.period });
  poll(dataUrl, render);

  $("#instrument").addEventListener("change", (e) => { state.instrument = e.target.value; UI.refresh(); });
  $("#period").addEventListener("change", (e) => { state.period = e.target.value; UI.refresh(); });
  $("#price-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { instrument: state.instrument, bid: $("#bid").value.trim() };
    if ($("#offer").value.trim()) body.offer = $("#offer").value.trim();
    control("/_mock/price", body);
  });
  const move = (sign) => {
    const pips = $("#pips").value.trim();
    control("/_mock/price", { instrument: state.instrument, pips: sign < 0 && pips && !pips.startsWith("-") ? "-" + pips : pips });
  };
  $("#move-up").addEventListener("click", () => move(1));
  $("#move-down").addEventListener("click", () => move(-1));
  $("#clock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    control("/_mock/advance", { seconds: numberOrText($("#seconds").value) });
  });
  document.querySelectorAll("#clock-form button[data-seconds]").forEach((b) =>
    b.addEventListener("click", () => control("/_mock/advance", { seconds: Number(b.dataset.seconds) })));
  const kindHint = { fault: "message", http: "HTTP status, e.g. 503", delay: "seconds", drop: "(nothing needed)" };
  const kindDefault = { fault: "Server busy", http: "503", delay: "2", drop: "" };
  $("#fault-kind").addEventListener("change", (e) => {
    $("#fault-message").placeholder = kindHint[e.target.value];
    $("#fault-message").value = kindDefault[e.target.value];
  });
  $("#fault-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const kind = $("#fault-kind").value;
    const value = $("#fault-message").value;
    const body = { operation: $("#fault-op").value, kind, times: numberOrText($("#fault-times").value) };
    if (kind === "fault") body.message = value;
    if (kind === "http") body.status = numberOrText(value);
    if (kind === "delay") body.seconds = numberOrText(value);
    control("/_mock/faults", body);
  });
  $("#clear-faults").addEventListener("click", () => control("/_mock/faults", {}, "DELETE"));
  $("#reset-form").addEventListener("submit", (e) => { e.preventDefault(); control("/_mock/reset", {}); });
  window.addEventListener("resize", () => { if (state.data) render(state.data); });
})();
