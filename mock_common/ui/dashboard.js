// broker-mocks dashboard helpers (hand-written, no dependencies; MIT like the rest of the project).
// Every text from the emulator goes into the page through textContent, never as HTML.
"use strict";

const UI = (() => {
  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // Numbers: keep the emulator's digits; thousands separated in money.
  function money(text) {
    if (text === null || text === undefined || text === "") return "";
    const n = Number(text);
    if (!Number.isFinite(n)) return String(text);
    return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function signed(text) {
    const n = Number(text);
    const s = money(text);
    return n > 0 ? "+" + s : s;
  }
  function tone(text) {
    const n = Number(text);
    return n > 0 ? "up" : n < 0 ? "down" : "dim";
  }
  function qty(text) {
    if (text === null || text === undefined || text === "") return "";
    const n = Number(text);
    return Number.isFinite(n) ? String(n) : String(text);
  }
  function time(iso) {
    return iso ? String(iso).replace("T", " ") : "";
  }
  function clockText(iso) {
    return iso ? String(iso).replace("T", "  ") : "—";
  }

  // A table from column specs: {title, value(row), cls?(row), num?}.
  function table(container, columns, rows, opts) {
    opts = opts || {};
    container.replaceChildren();
    if (!rows.length) {
      container.append(el("div", { class: "empty", text: opts.empty || "none" }));
      return;
    }
    const head = el("tr", {}, ...columns.map((c) => el("th", { class: c.num ? "num" : null, text: c.title })));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr", { class: opts.rowClass ? opts.rowClass(row) : null });
      if (opts.onclick) {
        tr.classList.add("clickable");
        tr.addEventListener("click", () => opts.onclick(row, tr));
      }
      for (const c of columns) {
        const value = c.value(row);
        const cls = [c.num ? "num" : null, c.cls ? c.cls(row) : null].filter(Boolean).join(" ");
        tr.append(el("td", { class: cls || null, text: value === null || value === undefined ? "" : value }));
      }
      if (opts.testid) tr.setAttribute("data-testid", opts.testid(row));
      body.append(tr);
      if (opts.after) {
        const extra = opts.after(row);
        if (extra) body.append(extra);
      }
    }
    container.append(el("table", {}, el("thead", {}, head), body));
  }

  // The message bar: the emulator's own error text, or a short confirmation.
  let messageTimer = null;
  function say(text, kind) {
    const box = $("#message");
    box.textContent = text;
    box.className = kind;
    clearTimeout(messageTimer);
    if (kind === "info") messageTimer = setTimeout(() => { box.className = ""; }, 2500);
  }

  // POST a control request; the emulator validates it and its error message is shown as is.
  async function control(path, body, method) {
    let response;
    try {
      response = await fetch(path, {
        method: method || "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
      });
    } catch (err) {
      say(`${path}: the emulator did not answer (${err.message})`, "error");
      return null;
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) {
      const text = data && (data.error || data.Message) ? (data.error || data.Message) : `HTTP ${response.status}`;
      say(text, "error");
      return null;
    }
    say("done: " + path.replace("/_mock/", ""), "info");
    if (typeof UI.refresh === "function") UI.refresh();
    return data;
  }

  // A number typed in a field: sent as a number when it is one, else as typed (the emulator names it).
  function numberOrText(value) {
    const t = String(value).trim();
    return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
  }

  // Poll `url()` at most once a second; `render(data)` on each answer.
  function poll(url, render) {
    let timer = null;
    let busy = false;
    async function tick() {
      clearTimeout(timer);
      if (busy) return;
      busy = true;
      const dot = $("#live");
      try {
        const response = await fetch(url(), { cache: "no-store" });
        const data = await response.json();
        if (!response.ok) throw new Error(data.error || data.Message || `HTTP ${response.status}`);
        render(data);
        dot.className = "live-dot ok";
        dot.title = "live";
      } catch (err) {
        dot.className = "live-dot stale";
        dot.title = "not updating: " + err.message;
      } finally {
        busy = false;
        timer = setTimeout(tick, 1000);
      }
    }
    UI.refresh = () => { setTimeout(tick, 50); };
    tick();
  }

  // Candles on a canvas: bars {t,o,h,l,c}, optional horizontal lines {price, color, label, dash}.
  function candles(canvas, bars, lines, digits) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (!bars.length) return;
    const axis = 74, bottom = 22, top = 10;
    const plotW = w - axis - 8, plotH = h - bottom - top;
    const slot = 9;
    const shown = bars.slice(-Math.max(10, Math.floor(plotW / slot)));
    const visibleLines = (lines || []).filter((l) => Number.isFinite(l.price));
    let lo = Infinity, hi = -Infinity;
    for (const b of shown) { lo = Math.min(lo, +b.l); hi = Math.max(hi, +b.h); }
    if (hi === lo) { hi += 1e-6; lo -= 1e-6; }
    // Lines near the candles widen the scale; far ones (a distant stop) are pinned to the edge instead.
    const reach = (hi - lo) * 0.5;
    for (const l of visibleLines) {
      if (l.price >= lo - reach && l.price <= hi + reach) { lo = Math.min(lo, l.price); hi = Math.max(hi, l.price); }
    }
    const pad = (hi - lo) * 0.06;
    lo -= pad; hi += pad;
    const y = (p) => top + (hi - p) / (hi - lo) * plotH;
    const step = plotW / shown.length;
    // grid and price axis
    ctx.font = "11px monospace";
    ctx.textBaseline = "middle";
    const ticks = 6;
    for (let i = 0; i <= ticks; i++) {
      const p = lo + (hi - lo) * i / ticks;
      const yy = Math.round(y(p)) + 0.5;
      ctx.strokeStyle = "#1c2330";
      ctx.beginPath(); ctx.moveTo(0, yy); ctx.lineTo(plotW, yy); ctx.stroke();
      ctx.fillStyle = "#7d8797";
      ctx.fillText(p.toFixed(digits), plotW + 6, yy);
    }
    // time labels
    ctx.textBaseline = "alphabetic";
    const every = Math.max(1, Math.ceil(70 / step));
    for (let i = 0; i < shown.length; i += every) {
      const x = i * step + step / 2;
      ctx.fillStyle = "#7d8797";
      ctx.fillText(String(shown[i].t).slice(11, 16), x - 15, h - 6);
    }
    // candles
    shown.forEach((b, i) => {
      const o = +b.o, c = +b.c;
      const x = i * step + step / 2;
      const color = c >= o ? "#1fc77e" : "#ff4d5e";
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.beginPath(); ctx.moveTo(Math.round(x) + 0.5, y(+b.h)); ctx.lineTo(Math.round(x) + 0.5, y(+b.l)); ctx.stroke();
      const bw = Math.max(1, step * 0.65);
      const yt = y(Math.max(o, c)), yb = y(Math.min(o, c));
      ctx.fillRect(x - bw / 2, yt, bw, Math.max(1, yb - yt));
    });
    // horizontal lines: last price, entries, stops, targets
    for (const l of visibleLines) {
      const off = l.price > hi ? "▲ " : l.price < lo ? "▼ " : "";
      const yy = Math.round(y(Math.min(hi, Math.max(lo, l.price)))) + 0.5;
      ctx.setLineDash(l.dash ? [5, 4] : []);
      ctx.strokeStyle = l.color;
      ctx.beginPath(); ctx.moveTo(0, yy); ctx.lineTo(plotW, yy); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = l.color;
      ctx.fillRect(plotW + 2, yy - 8, axis, 16);
      ctx.fillStyle = "#0b0e13";
      ctx.textBaseline = "middle";
      ctx.fillText(l.price.toFixed(digits), plotW + 6, yy);
      if (l.label || off) {
        ctx.fillStyle = l.color;
        ctx.fillText(off + (l.label || ""), 6, off && l.price < lo ? yy - 10 : yy + (off ? 10 : -8));
      }
    }
  }

  // One line for a body: a SOAP body's fields (name=value), a fault's text, or compact JSON/text.
  function summary(text) {
    const t = String(text || "").trim();
    if (!t) return "";
    if (t.startsWith("<")) {
      const doc = new DOMParser().parseFromString(t, "text/xml");
      if (doc.getElementsByTagName("parsererror").length) return t.replace(/\s+/g, " ");
      const fault = Array.from(doc.getElementsByTagName("*")).find((n) => n.localName === "faultstring");
      if (fault) return "fault: " + fault.textContent;
      const body = Array.from(doc.getElementsByTagName("*")).find((n) => n.localName === "Body");
      if (!body || !body.firstElementChild) return "";
      const leaves = Array.from(body.getElementsByTagName("*")).filter((n) => !n.firstElementChild && n.textContent.trim());
      const parts = leaves.slice(0, 8).map((n) => `${n.localName}=${n.textContent.trim()}`);
      if (!parts.length) return body.firstElementChild.localName + " (empty)";
      return parts.join(" ") + (leaves.length > 8 ? ` … (${leaves.length} values)` : "");
    }
    return t.replace(/\s+/g, " ");
  }

  // A journal row plus its hidden bodies; a click on the row shows them. With `reasons`, a column
  // says why a refused call was refused (InstaForex answers every refusal "Access denied").
  function journal(container, rows, reasons) {
    const open = new Set(Array.from(container.querySelectorAll("tr[data-open='1']")).map((r) => r.dataset.key));
    const columns = [
      { title: "#", value: (r) => r.seq ?? "", num: true },
      { title: "time", value: (r) => time(r.time).slice(11), cls: () => "mono" },
      { title: "call", value: (r) => r.name },
      { title: "status", value: (r) => (r.status === null ? "dropped" : r.status) + (r.injected ? ` (${r.injected})` : ""), cls: () => "status" },
      { title: "ms", value: (r) => (r.duration_ms === undefined || r.duration_ms === null ? "" : r.duration_ms.toFixed(1)), num: true },
      { title: "request", value: (r) => summary(r.request).slice(0, 80), cls: () => "mono dim clip" },
      { title: "response", value: (r) => (r.status === null ? "(connection dropped)" : summary(r.response).slice(0, 90)), cls: (r) => "mono clip " + (r.failed ? "down" : "dim") },
    ];
    if (reasons) columns.push({ title: "why refused", value: (r) => r.reason || "", cls: () => "reason" });
    table(container, columns, rows, {
      empty: "no requests yet",
      rowClass: (r) => (r.failed ? "fault" : null),
      testid: (r) => "journal-" + (r.failed ? "fault" : "ok"),
      onclick: (r, tr) => {
        const next = tr.nextSibling;
        const shown = next.hidden;
        next.hidden = !shown;
        tr.dataset.open = shown ? "1" : "0";
      },
      after: (r) => {
        const key = String(r.seq ?? r.time);
        const detail = el("tr", { hidden: open.has(key) ? null : "" },
          el("td", { colspan: String(columns.length) }, el("div", { class: "pair" },
            el("div", {}, el("h3", { text: "request" }), el("pre", { class: "body-text", text: r.request || "(empty)" })),
            el("div", {}, el("h3", { text: "response" }), el("pre", { class: "body-text", text: r.response || "(none)" })))));
        return detail;
      },
    });
    container.querySelectorAll("tbody > tr.clickable").forEach((tr, i) => {
      const r = rows[i];
      tr.dataset.key = String(r.seq ?? r.time);
      if (open.has(tr.dataset.key)) tr.dataset.open = "1";
    });
  }

  function options(select, values, keep) {
    const current = select.value;
    const have = Array.from(select.options).map((o) => o.value).join("\n");
    if (have === values.join("\n")) return;
    select.replaceChildren(...values.map((v) => el("option", { value: v, text: v })));
    if (keep !== false && values.includes(current)) select.value = current;
  }

  return { $, el, money, signed, tone, qty, summary, time, clockText, table, say, control, numberOrText, poll, candles, journal, options };
})();
