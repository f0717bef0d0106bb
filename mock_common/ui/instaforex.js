// The InstaForex emulator's dashboard: polls /_mock/ui/data, controls through the /_mock/ JSON routes.
"use strict";

(() => {
  const { $, money, signed, tone, qty, time, clockText, table, control, numberOrText, poll, journal, options } = UI;
  const state = { login: new URLSearchParams(location.search).get("login") || "", data: null };

  function duration(seconds) {
    const s = Math.max(0, seconds);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? `${h}h ` : "") + `${String(m).padStart(h ? 2 : 1, "0")}m ${String(s % 60).padStart(2, "0")}s`;
  }

  function render(d) {
    state.data = d;
    const a = d.selected;
    if (a && !state.login) state.login = String(a.login);
    $("#clock").textContent = clockText(d.now);
    $("#clock-mode").textContent = d.clock + " clock" + (d.speed ? ` ×${d.speed}` : "");
    $("#ttl").textContent = `tokens live ${duration(d.token_ttl)}`;
    $("#calls").textContent = d.journal_total + " calls";
    options($("#fault-route"), ["*", ...d.operations]);
    $("#accounts-count").textContent = d.accounts_total > d.accounts.length ? `${d.accounts.length} of ${d.accounts_total}` : d.accounts_total;

    table($("#accounts"), [
      { title: "login", value: (x) => x.login, cls: () => "mono" },
      { title: "name", value: (x) => x.name },
      { title: "level", value: (x) => x.level },
      { title: "ccy", value: (x) => x.currency },
      { title: "lev.", value: (x) => "1:" + x.leverage, num: true },
      { title: "balance", value: (x) => money(x.balance), num: true },
      { title: "credit", value: (x) => money(x.credit), num: true },
      { title: "open P&L", value: (x) => signed(x.open_profit), num: true, cls: (x) => tone(x.open_profit) },
      { title: "equity", value: (x) => money(x.equity), num: true },
      { title: "free margin", value: (x) => money(x.free_margin), num: true },
      { title: "open", value: (x) => x.open, num: true },
      { title: "closed", value: (x) => x.closed, num: true },
    ], d.accounts, {
      empty: "no accounts",
      rowClass: (x) => (a && x.login === a.login ? "selected" : null),
      onclick: (x) => { state.login = String(x.login); UI.refresh(); },
      testid: (x) => "account-" + x.login,
    });

    $("#selected-login").textContent = a ? a.login : "";
    const kv = $("#balance");
    kv.replaceChildren();
    if (a) {
      const rows = [
        ["name", a.name], ["group", a.group], ["access", a.level], ["currency", a.currency],
        ["balance", money(a.balance), "big"], ["credit", money(a.credit)], ["open P&L", signed(a.open_profit), tone(a.open_profit)],
        ["equity", money(a.equity), "big"], ["margin", money(a.margin)], ["free margin", money(a.free_margin)],
      ];
      for (const [k, v, cls] of rows) {
        kv.append(UI.el("div", { class: "k", text: k }), UI.el("div", { class: "v " + (cls || ""), text: v, "data-testid": "balance-" + k.replace(/\W+/g, "-") }));
      }
    }

    const trades = a ? a.open_trades : [];
    $("#open-count").textContent = trades.length || "";
    table($("#open"), [
      { title: "ticket", value: (t) => t.ticket, cls: () => "mono" },
      { title: "opened", value: (t) => time(t.open_time), cls: () => "mono dim" },
      { title: "symbol", value: (t) => t.symbol },
      { title: "side", value: (t) => t.side, cls: (t) => "side-" + t.side },
      { title: "lots", value: (t) => qty(t.volume), num: true },
      { title: "open", value: (t) => qty(t.open_price), num: true },
      { title: "now", value: (t) => qty(t.current_price), num: true },
      { title: "S/L", value: (t) => (Number(t.sl) ? qty(t.sl) : ""), num: true, cls: () => "down" },
      { title: "T/P", value: (t) => (Number(t.tp) ? qty(t.tp) : ""), num: true, cls: () => "up" },
      { title: "swap", value: (t) => money(t.swap), num: true },
      { title: "profit", value: (t) => signed(t.profit), num: true, cls: (t) => tone(t.profit) },
    ], trades, { empty: "no open trades", testid: (t) => "opentrade-" + t.ticket });
    options($("#close-ticket"), trades.map((t) => String(t.ticket)));

    const closed = a ? a.closed_trades : [];
    $("#closed-count").textContent = a && a.closed > closed.length ? `newest ${closed.length} of ${a.closed}` : closed.length || "";
    table($("#closed"), [
      { title: "ticket", value: (t) => t.ticket, cls: () => "mono" },
      { title: "symbol", value: (t) => t.symbol },
      { title: "side", value: (t) => t.side, cls: (t) => "side-" + t.side },
      { title: "lots", value: (t) => qty(t.volume), num: true },
      { title: "open", value: (t) => qty(t.open_price), num: true },
      { title: "close", value: (t) => qty(t.close_price), num: true },
      { title: "closed at", value: (t) => time(t.close_time), cls: () => "mono dim" },
      { title: "profit", value: (t) => signed(t.profit), num: true, cls: (t) => tone(t.profit) },
    ], closed, { empty: "no closed trades", testid: (t) => "closed-" + t.ticket });

    $("#tokens-count").textContent = d.tokens.length || "";
    table($("#tokens"), [
      { title: "login", value: (t) => t.login, cls: () => "mono" },
      { title: "kind", value: (t) => t.kind },
      { title: "token", value: (t) => t.token, cls: () => "mono dim" },
      { title: "expires in", value: (t) => duration(t.seconds_left), num: true, cls: (t) => (t.seconds_left < 600 ? "warn" : "up") },
    ], d.tokens, { empty: "no live tokens", testid: (t) => "token-" + t.login });

    table($("#logins"), [
      { title: "time", value: (e) => time(e.time), cls: () => "mono" },
      { title: "ip", value: (e) => e.ip, cls: () => "mono" },
      { title: "via", value: (e) => e.source },
    ], a ? a.login_history : [], { empty: "no logins" });

    $("#faults").textContent = d.faults.length
      ? d.faults.map((f) => `${f.target}: ${f.kind}${f.kind === "http" ? " " + f.status : ""} × ${f.times === null ? "∞" : f.times}`).join("  ·  ")
      : "";
    journal($("#journal"), d.journal, true);
  }

  poll(() => "/_mock/ui/data?" + new URLSearchParams(state.login ? { login: state.login } : {}), render);

  $("#clock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    control("/_mock/advance", { seconds: numberOrText($("#seconds").value) });
  });
  document.querySelectorAll("#clock-form button[data-seconds]").forEach((b) =>
    b.addEventListener("click", () => control("/_mock/advance", { seconds: Number(b.dataset.seconds) })));
  const kindDefault = { http: "503", fault: "", delay: "2", drop: "", malformed: "" };
  const kindHint = { http: "HTTP status", fault: "(nothing needed)", delay: "seconds", drop: "(nothing needed)", malformed: "(nothing needed)" };
  $("#fault-kind").addEventListener("change", (e) => {
    $("#fault-value").value = kindDefault[e.target.value];
    $("#fault-value").placeholder = kindHint[e.target.value];
  });
  $("#fault-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const kind = $("#fault-kind").value;
    const body = { operation: $("#fault-route").value, kind, times: numberOrText($("#fault-times").value) };
    if (kind === "http") body.status = numberOrText($("#fault-value").value);
    if (kind === "delay") body.seconds = numberOrText($("#fault-value").value);
    control("/_mock/faults", body);
  });
  $("#clear-faults").addEventListener("click", () => control("/_mock/faults", {}, "DELETE"));
  $("#close-form").addEventListener("submit", (e) => {
    e.preventDefault();
    control("/_mock/close", {
      login: numberOrText(state.login), ticket: numberOrText($("#close-ticket").value),
      price: $("#close-price").value.trim(), profit: $("#close-profit").value.trim(),
    });
  });
  $("#expire-tokens").addEventListener("click", () => control("/_mock/tokens/expire", {}));
  $("#tokens-form").addEventListener("submit", (e) => { e.preventDefault(); control("/_mock/reset", {}); });
})();
