/* liqcore dashboard: the service's websocket (/ws) feeds the book, its liquidity report and the
 * alerts; its HTTP API (/api/v1) the rest (walls, venues, history, stored alerts, the forms).
 *
 * The websocket keeps only the latest book (the service coalesces per client); the heatmap
 * samples it `refresh_hz` times a second. HTTP views refresh on their own timers with at most one
 * request in flight (a slow service slows the page down instead of piling requests up). Errors
 * are shown in the page (the status line), never thrown to the console. Raw values are kept in
 * data-value attributes next to their formatted text (units: quote per base for prices, base for
 * sizes, quote currency for notionals, bps and % as labelled).
 */
"use strict";

const dash = {
  cfg: null, exchange: "", symbol: "", venueSymbol: "", heatmap: null,
  ws: null, book: null, report: null,    // the websocket and its latest book and liquidity pushes
  marks: { trades: 0, liquidations: 0, dropped: 0, lastTrade: null },   // the pair's pushed trades
  alerts: new Map(),                     // id -> alert (stored and pushed), the newest MAX_ALERTS
  errors: new Map(),                     // view -> message
  acked: new Set(JSON.parse(localStorage.getItem("liqcore-acked") || "[]")),
  rendered: {},                          // view -> renders with data (the tests wait on these)
  last: {},                              // view -> the last API response drawn
};
window.liqDash = dash;

// ------------------------------------------------------------------ formatting
const quoteOf = (s) => (s.split("/")[1] || "").split(":")[0];
const baseOf = (s) => s.split("/")[0];
function num(x, digits) { return x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits); }
function price(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  return x.toLocaleString("en-US", { minimumFractionDigits: a >= 1000 ? 2 : a >= 1 ? 4 : 6,
                                     maximumFractionDigits: a >= 1000 ? 2 : a >= 1 ? 4 : 8 });
}
function compact(x, unit) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  const [d, s] = a >= 1e9 ? [1e9, " B"] : a >= 1e6 ? [1e6, " M"] : a >= 1e3 ? [1e3, " k"] : [1, ""];
  return `${(x / d).toFixed(2)}${s} ${unit}`.trim();
}
const bps = (x) => `${num(x, 2)} bps`;
const pct = (x, d = 3) => `${num(x, d)} %`;
function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== "") e.textContent = text;
  return e;
}
/** A <td> showing `text` and keeping the raw number in data-value. */
const raw = (value) => (value === undefined || value === null ? null : String(value));
const cell = (text, value, cls) => el("td", { "data-value": raw(value), class: cls }, text);
/** Fill a <dl> with [label, text, key, raw value] rows. */
function numbers(dl, rows) {
  dl.replaceChildren(...rows.map(([label, text, key, value]) => {
    const d = el("div", { "data-key": key });
    d.append(el("dt", {}, label), el("dd", { "data-value": raw(value) }, text));
    return d;
  }));
}

// ------------------------------------------------------------------ API access
class ApiError extends Error {}

/** The service's API key, when it has one: given once in the page's address as #key=... (a
 *  fragment never reaches a server or its logs), then kept for the tab in sessionStorage. */
function apiKey() {
  const given = new URLSearchParams(location.hash.slice(1)).get("key");
  if (given) { sessionStorage.setItem("liqcore-key", given); history.replaceState(null, "", location.pathname + location.search); }
  return sessionStorage.getItem("liqcore-key");
}

/** Call the service: GET with query parameters, or POST with a JSON body. Throws ApiError with
 *  the service's one-line message on a 4xx/5xx or a network failure. */
async function api(method, path, params) {
  let url = dash.cfg.api + path, init = { method, headers: { Accept: "application/json" } };
  if (dash.key) init.headers["X-API-Key"] = dash.key;
  if (method === "GET" && params) url += "?" + new URLSearchParams(params).toString();
  if (method === "POST") { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(params); }
  let resp;
  try { resp = await fetch(url, init); } catch (e) { throw new ApiError(`service unreachable (${e.message})`); }
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const detail = body && (body.detail ?? body.error ?? body.message);
    const text = typeof detail === "string" ? detail : Array.isArray(detail)
      ? detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ") : resp.statusText;
    throw new ApiError(`${path}: ${text} (HTTP ${resp.status})`);
  }
  return body;
}

function setError(view, message) {
  if (message) dash.errors.set(view, message); else dash.errors.delete(view);
  const st = document.getElementById("status");
  st.hidden = dash.errors.size === 0;
  st.textContent = [...dash.errors.values()].join(" · ");
}

/** Run `fn` now and then every `ms` ms, one call at a time (a call longer than `ms` delays the
 *  next, never overlaps it); its errors go to the status line. */
function every(view, ms, fn) {
  let next = performance.now();
  const tick = async () => {
    try { await fn(); setError(view, null); }
    catch (e) { setError(view, e instanceof ApiError ? e.message : `${view}: ${e.message}`); }
    // on a fixed clock (the timer's lateness does not accumulate); behind by a period: start again
    const now = performance.now();
    next = now - next > ms ? now : next + ms;
    setTimeout(tick, Math.max(0, next - now));
  };
  tick();
}
const MAX_ALERTS = 200;
const done = (view, resp) => { dash.rendered[view] = (dash.rendered[view] || 0) + 1; dash.last[view] = resp; };

// ------------------------------------------------------------------ theme and charts
function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
function layout(extra) {
  return Object.assign({
    paper_bgcolor: css("--card"), plot_bgcolor: css("--card"), font: { color: css("--fg"), size: 11 },
    margin: { l: 60, r: 12, t: 8, b: 36 }, showlegend: true, legend: { orientation: "h", y: 1.12 },
    xaxis: { gridcolor: css("--line"), zerolinecolor: css("--line") },
    yaxis: { gridcolor: css("--line"), zerolinecolor: css("--line") },
  }, extra);
}
const PLOT = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage", "sendDataToCloud"] };

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem("liqcore-theme", theme);
  document.getElementById("theme-toggle").textContent = theme === "dark" ? "Light" : "Dark";
  if (dash.heatmap) {
    Object.assign(dash.heatmap.colors, { bid: css("--bid"), ask: css("--ask"), mid: css("--mid"), fg: css("--fg"), bg: css("--card"),
                                         buy: css("--bid"), sell: css("--ask"), trade: css("--muted"),
                                         long: css("--liq-long"), short: css("--liq-short") });
    dash.heatmap.dirty = true;
  }
  for (const id of ["depth-chart", "history-chart", "risk-chart", "liqmap-chart"]) {
    const div = document.getElementById(id);
    if (div.data) Plotly.relayout(div, layout({}));
  }
}

// ------------------------------------------------------------------ views
const pairParams = () => ({ exchange: dash.exchange, symbol: dash.symbol });

/** A heatmap column from the latest pushed book (a timer, `refresh_hz` a second). */
function sampleBook() {
  const b = dash.book;
  if (!b) return;
  dash.heatmap.push(Date.now(), b.bids, b.asks);
  const entry = document.querySelector("#risk-form input[name=entry_price]");
  const mid = dash.heatmap.latestMid();
  if (!entry.value && Number.isFinite(mid)) entry.value = Math.round(mid);   // a default entry: the mid
  document.getElementById("heatmap-caption").textContent =
    `${b.exchange} ${b.symbol} · ${dash.heatmap.rows} price rows of ${price(dash.heatmap.step)} ${quoteOf(b.symbol)} · ` +
    `${dash.cfg.heatmap_columns} columns at ${dash.cfg.refresh_hz} /s · ${dash.marks.trades} trades, ` +
    `${dash.marks.liquidations} liquidations (${dash.heatmap.stats.marksDropped + dash.marks.dropped} not drawn)`;
  done("heatmap", b);
}

/** A ``trades`` push onto the heatmap: trades by aggressor, liquidations by liquidated position;
 *  ``dropped``: what the service dropped for this page (a slow tab). */
function addMarks(m) {
  const hm = dash.heatmap, mk = dash.marks;
  for (const t of m.trades) hm.addMark(t.side === "buy" || t.side === "sell" ? t.side : "trade", t.price, t.size, t.ts_ms);
  for (const l of m.liquidations) hm.addMark(l.side === "long" || l.side === "short" ? l.side : "trade", l.price, l.size, l.ts_ms);
  mk.trades += m.trades.length; mk.liquidations += m.liquidations.length; mk.dropped = m.dropped;
  if (m.trades.length) mk.lastTrade = m.trades[m.trades.length - 1];
}

function showState(state) {
  const pill = document.getElementById("pair-state");
  pill.textContent = `${dash.exchange} ${dash.venueSymbol}: ${state}`;
  pill.className = `pill ${state === "live" ? "live" : "warn"}`;
}

// ------------------------------------------------------------------ websocket
const ours = (m) => m.exchange === dash.exchange && m.symbol === dash.symbol;   // not a pair left behind
const wsMessage = {
  subscribed() { setError("live", null); },
  book(m) { if (ours(m)) { dash.book = m; showState(m.state); } },
  liquidity(m) { if (ours(m)) dash.report = m; },
  trades(m) { if (ours(m)) addMarks(m); },
  alert(m) { if (ours(m)) { addAlerts([m.alert]); drawAlerts(); } },
  error(m) { setError("live", `websocket: ${m.detail}`); },
};

/** Connect to the service's websocket and subscribe the pair; reconnect (0.5 s, doubling to
 *  8 s) when it closes. */
function connect(delay = 500) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${dash.cfg.ws}`;
  // a websocket cannot carry a header: the key travels as a subprotocol the service accepts back
  const ws = dash.key ? new WebSocket(url, [`liqcore.key.${dash.key}`]) : new WebSocket(url);
  dash.ws = ws;
  ws.onopen = () => { delay = 500; subscribe(); };
  ws.onmessage = (ev) => { const m = JSON.parse(ev.data); (wsMessage[m.type] || (() => {}))(m); };
  ws.onclose = () => {
    if (dash.ws !== ws) return;                        // replaced
    setError("live", `websocket closed: reconnecting in ${delay / 1000} s`);
    setTimeout(() => connect(Math.min(8000, delay * 2)), delay);
  };
}

function subscribe(previous) {
  const ws = dash.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || !dash.venueSymbol) return;
  if (previous) ws.send(JSON.stringify({ op: "unsubscribe", pairs: [previous] }));
  ws.send(JSON.stringify({ op: "subscribe", pairs: [pairParams()], channels: ["book", "liquidity", "alerts", "trades"],
                           depth: BOOK_DEPTH }));
}
const BOOK_DEPTH = 200;                  // levels per side the heatmap and the depth chart get

async function refreshDepth() {
  const wl = await api("GET", "/walls", { ...pairParams(), band_bps: 200, limit: 10 });
  const snap = dash.book, rep = dash.report;
  if (!snap || !rep) return;                            // the first pushes have not arrived yet
  const q = quoteOf(rep.symbol), b = baseOf(rep.symbol);
  const lo = rep.mid * (1 - wl.band_bps / 1e4), hi = rep.mid * (1 + wl.band_bps / 1e4);
  const cum = (levels, keep) => {
    const xs = [], ys = []; let s = 0;
    for (const [p, size] of levels) { if (!keep(p)) break; s += size; xs.push(p); ys.push(s); }
    return [xs, ys];
  };
  const [bx, by] = cum(snap.bids, (p) => p >= lo), [ax, ay] = cum(snap.asks, (p) => p <= hi);
  const walls = (side) => wl.walls.filter((w) => w.side === side);
  const traces = [
    { x: bx, y: by, name: "bids", mode: "lines", line: { shape: "hv", color: css("--bid") }, fill: "tozeroy" },
    { x: ax, y: ay, name: "asks", mode: "lines", line: { shape: "hv", color: css("--ask") }, fill: "tozeroy" },
  ];
  for (const side of ["bid", "ask"]) {
    const ws = walls(side);
    traces.push({ x: ws.map((w) => w.price), y: ws.map(() => 0), name: `${side} walls`, mode: "markers",
                  marker: { symbol: "line-ns-open", size: 18, line: { width: 3 }, color: css(side === "bid" ? "--bid" : "--ask") },
                  text: ws.map((w) => `${w.size} ${b} · ${w.distance_bps.toFixed(1)} bps · strength ${w.strength.toFixed(1)}`),
                  hoverinfo: "text+x" });
  }
  const shapes = wl.clusters.map((c) => ({ type: "rect", xref: "x", yref: "paper", y0: 0, y1: 1,
    x0: Math.min(c.price_best, c.price_worst), x1: Math.max(c.price_best, c.price_worst),
    fillcolor: css("--accent"), opacity: 0.15, line: { width: 0 } }));
  Plotly.react("depth-chart", traces, layout({ shapes, xaxis: { title: `price (${q})`, gridcolor: css("--line"),
                                                                       exponentformat: "none", separatethousands: true },
                                               yaxis: { title: `cumulative size (${b})`, gridcolor: css("--line") } }), PLOT);
  numbers(document.getElementById("report"), [
    ["Mid", price(rep.mid), "mid", rep.mid],
    ["Spread", bps(rep.spread_bps), "spread_bps", rep.spread_bps],
    ["Depth ±1%", compact(rep.liquidity_1pct, q), "liquidity_1pct", rep.liquidity_1pct],
    ["Depth ±2%", compact(rep.liquidity_2pct, q), "liquidity_2pct", rep.liquidity_2pct],
    ["Imbalance", pct(rep.imbalance === null ? null : rep.imbalance * 100, 1), "imbalance", rep.imbalance],
    ["Slippage", bps(rep.slippage_bps), "slippage_bps", rep.slippage_bps],
    ["Score", num(rep.score, 3), "score", rep.score],
    ["Walls", `${wl.walls.length}`, "walls", wl.walls.length],
    ["Clusters", `${wl.clusters.length}`, "clusters", wl.clusters.length],
  ]);
  done("depth", { report: rep, walls: wl });
}

async function refreshVenues() {
  const r = await api("POST", "/compare-exchanges", { symbol: dash.symbol, exchanges: dash.cfg.venues, levels: 20 });
  const b = baseOf(r.symbol);
  const rows = r.venues.map((v) => {
    const tr = el("tr", { "data-exchange": v.exchange });
    tr.append(el("td", {}, v.exchange),
              cell(price(v.best_bid), v.best_bid, v.exchange === r.best_bid_exchange ? "best" : null),
              cell(price(v.best_ask), v.best_ask, v.exchange === r.best_ask_exchange ? "best" : null),
              cell(v.spread_pct === null ? "–" : `${num(v.spread_pct * 100, 2)} bps`, v.spread_pct),
              cell(compact(v.bid_volume, b), v.bid_volume), cell(compact(v.ask_volume, b), v.ask_volume),
              el("td", {}, v.state));
    return tr;
  });
  for (const [venue, why] of Object.entries(r.failures || {})) {
    const tr = el("tr", { "data-exchange": venue, class: "error" });
    const td = el("td", { colspan: "6" }, why);
    tr.append(el("td", {}, venue), td);
    rows.push(tr);
  }
  document.querySelector("#venues-table tbody").replaceChildren(...rows);
  document.getElementById("venues-caption").textContent =
    `${r.symbol} · ${r.successful_fetches}/${r.exchanges_compared} venues · mean spread ${pct(r.average_spread_pct)}`;
  const arb = document.getElementById("arbitrage"), a = r.arbitrage;
  arb.className = `route${a && a.profitable ? " profitable" : ""}`;
  arb.textContent = a ? `${a.route} · gross ${pct(a.profit_pct)} · net of fees ${pct(a.net_profit_pct)}` +
                        ` · ${a.quantity} ${b} · ${compact(a.profit, quoteOf(r.symbol))}${a.profitable ? "" : " (not profitable)"}`
                      : "no route (fewer than two venues)";
  done("venues", r);
}

/** Rolling mean ± 2 standard deviations over the previous `n` points (the baseline band). */
function band(ys, n) {
  const lo = [], hi = [];
  for (let i = 0; i < ys.length; i++) {
    const w = ys.slice(Math.max(0, i - n), i).filter(Number.isFinite);
    if (w.length < 5) { lo.push(null); hi.push(null); continue; }
    const m = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / w.length);
    lo.push(m - 2 * sd); hi.push(m + 2 * sd);
  }
  return [lo, hi];
}

async function refreshHistory() {
  if (!dash.venueSymbol) return;
  const lookback = Number(document.getElementById("history-lookback").value);
  const start = BigInt(Date.now() - lookback * 1000) * 1000000n;
  // a recorder stores the venue's own symbol (LiquidityTracker); else the canonical spelling
  const query = (symbol) => api("GET", "/history", { table: "liquidity_reports", exchange: dash.exchange, symbol,
                                                     start_ns: start.toString(), limit: 2000 });
  let h = await query(dash.venueSymbol);
  if (h.count === 0 && dash.symbol !== dash.venueSymbol) h = await query(dash.symbol);
  const q = quoteOf(dash.symbol);
  const xs = h.rows.map((r) => new Date(r.ts / 1e6));
  const series = [["spread_bps", "spread (bps)", "y"], ["liquidity_1pct", `depth ±1% (${q})`, "y2"],
                  ["imbalance", "imbalance (-1..1)", "y3"]];
  const traces = [];
  for (const [key, name, axis] of series) {
    const ys = h.rows.map((r) => r[key]);
    const [lo, hi] = band(ys, 30);
    traces.push({ x: xs, y: lo, yaxis: axis, mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
                { x: xs, y: hi, yaxis: axis, mode: "lines", line: { width: 0 }, fill: "tonexty",
                  fillcolor: "rgba(74,163,255,0.18)", showlegend: false, hoverinfo: "skip" },
                { x: xs, y: ys, yaxis: axis, name, mode: "lines" });
  }
  const ax = (domain, title) => ({ domain, title, gridcolor: css("--line"), zerolinecolor: css("--line") });
  Plotly.react("history-chart", traces, layout({
    yaxis: ax([0.68, 1], "bps"), yaxis2: ax([0.35, 0.65], q), yaxis3: ax([0, 0.32], "ratio"),
    xaxis: { anchor: "y3", gridcolor: css("--line") } }), PLOT);
  document.getElementById("history-caption").textContent =
    `${h.count} reports of ${h.exchange} ${h.symbol}${h.truncated ? " (newest only)" : ""}`;
  done("history", h);
}

/** Merge alerts (stored rows or pushed records) into dash.alerts by id, the newest MAX_ALERTS.
 *  A stored row has ts / ended_ts in ns (-1 while open), a pushed record ts in ns and ended_ms. */
function addAlerts(list) {
  for (const a of list) {
    const ended = a.ended_ts !== undefined ? (a.ended_ts === null || a.ended_ts < 0 ? null : a.ended_ts / 1e6)
                                           : a.ended_ms ?? null;
    dash.alerts.set(a.id, { ...dash.alerts.get(a.id), ...a, ended_ms: ended });
  }
  const ids = [...dash.alerts.values()].sort((x, y) => y.ts - x.ts).map((a) => a.id);
  for (const id of ids.slice(MAX_ALERTS)) dash.alerts.delete(id);
}

/** The stored alerts of the pair (the service's monitor writes them under the canonical symbol). */
async function refreshAlerts() {
  if (!dash.exchange) return;
  const r = await api("GET", "/alerts", { ...pairParams(), limit: 50 });
  addAlerts(r.alerts);
  drawAlerts();
  done("alerts", r);
}

function drawAlerts() {
  const alerts = [...dash.alerts.values()].sort((x, y) => y.ts - x.ts);          // newest first
  const ul = document.getElementById("alerts-list");
  const items = alerts.map((a) => {
    const acked = dash.acked.has(a.id);
    const li = el("li", { class: `sev-${a.severity}${acked ? " acked" : ""}`, "data-id": a.id, "data-type": a.type,
                          "data-severity": a.severity });
    const when = new Date(a.ts / 1e6).toLocaleTimeString();
    li.append(el("span", { class: "sev" }, a.severity), el("span", {}, a.type.replaceAll("_", " ")),
              el("span", { class: "msg" }, `${a.message || ""} (${num(a.deviation_pct, 1)} %)`),
              el("span", { class: "muted" }, `${when}${a.ended_ms === null ? " · open" : " · ended"}`));
    const btn = el("button", { type: "button", "data-ack": a.id }, acked ? "acknowledged" : "acknowledge");
    btn.disabled = acked;
    btn.addEventListener("click", () => {
      dash.acked.add(a.id);
      // bounded: the newest 500 acknowledgements are kept
      localStorage.setItem("liqcore-acked", JSON.stringify([...dash.acked].slice(-500)));
      li.classList.add("acked"); btn.disabled = true; btn.textContent = "acknowledged";
      badge(alerts);
    });
    li.append(btn);
    return li;
  });
  ul.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "no alert")]));
  badge(alerts);
}

function badge(alerts) {
  const n = alerts.filter((a) => !dash.acked.has(a.id)).length;
  const b = document.getElementById("alert-badge");
  b.textContent = `${n} alert${n === 1 ? "" : "s"}`;
  b.className = `pill${n ? " warn" : ""}`;
}

// ------------------------------------------------------------------ forms
function formValues(form) { return Object.fromEntries(new FormData(form).entries()); }
function positive(name, text) {
  const x = Number(text);
  if (!(Number.isFinite(x) && x > 0)) throw new ApiError(`${name}: expected a positive number, got "${text}"`);
  return x;
}

async function submitImpact(ev) {
  ev.preventDefault();
  const f = formValues(ev.target), tbody = document.querySelector("#impact-table tbody");
  let amount;
  try { amount = positive("amount", f.amount); } catch (e) { setError("impact", e.message); return; }
  setError("impact", null);
  const results = await Promise.allSettled(dash.cfg.venues.map((v) =>
    api("POST", "/market-impact", { exchange: v, symbol: dash.symbol, side: f.side, amount, amount_in: f.amount_in })));
  const b = baseOf(dash.symbol), q = quoteOf(dash.symbol);
  tbody.replaceChildren(...results.map((res, i) => {
    const tr = el("tr", { "data-exchange": dash.cfg.venues[i] });
    if (res.status === "rejected") {
      tr.className = "error";
      tr.append(el("td", {}, dash.cfg.venues[i]), el("td", { colspan: "6" }, res.reason.message));
      return tr;
    }
    const r = res.value;
    tr.append(el("td", {}, r.exchange), cell(price(r.average_price), r.average_price),
              cell(pct(r.slippage_pct, 4), r.slippage_pct), cell(`${r.levels_consumed}`, r.levels_consumed),
              cell(`${num(r.total_base_amount, 6)} ${b}`, r.total_base_amount),
              cell(compact(r.total_quote_amount, q), r.total_quote_amount),
              cell(r.sufficient_liquidity ? "yes" : `no (${num(r.unfilled, 4)} left)`, r.sufficient_liquidity));
    return tr;
  }));
  done("impact", results.map((r) => (r.status === "fulfilled" ? r.value : null)));
}

async function submitRisk(ev) {
  ev.preventDefault();
  const f = formValues(ev.target);
  let body;
  try {
    body = { exchange: f.exchange, symbol: f.symbol, side: f.side, margin_mode: f.margin_mode,
             size: positive("size", f.size), entry_price: positive("entry price", f.entry_price),
             leverage: positive("leverage", f.leverage) };
  } catch (e) { setError("risk", e.message); return; }
  let r;
  try { r = await api("POST", "/risk", body); setError("risk", null); }
  catch (e) { setError("risk", e.message); return; }
  const q = quoteOf(r.symbol);
  numbers(document.getElementById("risk-result"), [
    ["Score", `${num(r.score, 1)} / 100`, "score", r.score],
    ["Liquidation", price(r.liquidation_price), "liquidation_price", r.liquidation_price],
    ["Mark", price(r.mark), "mark", r.mark],
    ["Distance", `${num(r.distance_sigma, 2)} σ`, "distance_sigma", r.distance_sigma],
    ["P(touch)", pct(r.probability * 100, 2), "probability", r.probability],
    ["Exit cost", compact(r.exit_cost, q), "exit_cost", r.exit_cost],
    ["Exit slippage", bps(r.exit_slippage_bps), "exit_slippage_bps", r.exit_slippage_bps],
  ]);
  const names = Object.keys(r.components);
  Plotly.react("risk-chart", [{ type: "bar", orientation: "h", y: names, x: names.map((k) => r.components[k]),
                                marker: { color: css("--accent") }, name: "component (0-1)" }],
               layout({ showlegend: false, margin: { l: 110, r: 12, t: 8, b: 30 },
                        xaxis: { range: [0, 1], title: "score component (0-1)", gridcolor: css("--line") } }), PLOT);
  done("risk", r);
  await drawLiquidationMap(body.exchange, body.symbol, r).catch((e) => setError("risk", e.message));
}

/** The newest stored liquidation map of the position's market (``liquidation_levels`` rows of
 *  the last 24 h: the cells written at the latest time) as a heatmap: price bucket (quote per
 *  base) x side of the liquidated positions, colour: notional (quote); the position's mark and
 *  liquidation price as lines. */
async function drawLiquidationMap(exchange, symbol, risk) {
  const start = BigInt(Date.now() - 86400 * 1000) * 1000000n;
  const h = await api("GET", "/history", { table: "liquidation_levels", exchange, symbol,
                                           start_ns: start.toString(), limit: 5000 });
  const caption = document.getElementById("liqmap-caption");
  if (h.count === 0) {
    caption.textContent = `no map of ${exchange} ${symbol} stored in the last 24 h`;
    Plotly.purge("liqmap-chart");
    done("liqmap", h);
    return;
  }
  const latest = h.rows[h.rows.length - 1].ts, rows = h.rows.filter((r) => r.ts === latest);
  const prices = [...new Set(rows.map((r) => r.price))].sort((a, b) => a - b);
  const row = new Map(prices.map((p, i) => [p, i]));
  const z = prices.map(() => [0, 0]);                  // [longs, shorts] notional per bucket
  for (const r of rows) z[row.get(r.price)][r.side > 0 ? 0 : 1] += r.notional;
  const q = quoteOf(risk.symbol);
  const line = (y, color, text) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y,
                                      line: { color, width: 2, dash: text === "mark" ? "dot" : "solid" } });
  const marks = [[risk.mark, css("--fg"), "mark"], [risk.liquidation_price, css("--ask"), "liquidation"]]
    .filter(([y]) => Number.isFinite(y));
  Plotly.react("liqmap-chart", [{ type: "heatmap", x: ["longs", "shorts"], y: prices, z, colorscale: "Viridis",
                                  colorbar: { title: { text: q } }, hovertemplate: `%{x} at %{y}: %{z:,.0f} ${q}<extra></extra>` }],
               layout({ showlegend: false, margin: { l: 70, r: 12, t: 8, b: 30 }, shapes: marks.map(([y, c, t]) => line(y, c, t)),
                        annotations: marks.map(([y, c, t]) => ({ xref: "paper", x: 1, y, text: t, showarrow: false,
                                                                 xanchor: "right", yanchor: "bottom", font: { color: c } })),
                        yaxis: { title: `price (${q})`, gridcolor: css("--line"), exponentformat: "none", separatethousands: true } }), PLOT);
  caption.textContent = `${exchange} ${symbol} at ${new Date(latest / 1e6).toLocaleTimeString()}, ${rows.length} cells, ` +
                        `notional in ${q}`;
  done("liqmap", h);
}

// ------------------------------------------------------------------ start
/** Show another pair: checked with the API (its one-line error if refused), then subscribed. */
async function choosePair(exchange, symbol) {
  const snap = await api("GET", "/book", { exchange, symbol, depth: 1 });
  const previous = dash.venueSymbol ? pairParams() : null;
  dash.exchange = snap.exchange; dash.symbol = snap.symbol; dash.venueSymbol = snap.venue_symbol;
  dash.book = null; dash.report = null; dash.alerts.clear();
  dash.marks = { trades: 0, liquidations: 0, dropped: 0, lastTrade: null };
  delete dash.last.heatmap;
  document.getElementById("pair-exchange").value = dash.exchange;
  document.getElementById("pair-symbol").value = dash.symbol;
  dash.heatmap.reset();
  showState(snap.state);
  subscribe(previous);
}

async function start() {
  dash.key = apiKey();
  dash.cfg = await (await fetch("/dashboard/config.json")).json();
  const url = new URLSearchParams(location.search);
  const exSel = document.getElementById("pair-exchange");
  for (const v of ["binance", "binanceusdm", "okx", "bybit", "bitget", "coinbase", "kraken", "bitfinex"])
    exSel.append(el("option", { value: v }, v));
  const riskSel = document.querySelector("#risk-form select[name=exchange]");
  for (const v of dash.cfg.risk_exchanges) riskSel.append(el("option", { value: v }, v));
  const cv = document.getElementById("heatmap");
  dash.heatmap = new LiqHeatmap(cv, dash.cfg.heatmap_rows, dash.cfg.heatmap_columns);
  applyTheme(localStorage.getItem("liqcore-theme") ||
             (matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark"));
  document.getElementById("theme-toggle").addEventListener("click", () =>
    applyTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark"));
  await choosePair(url.get("exchange") || dash.cfg.exchange, url.get("symbol") || dash.cfg.symbol)
    .catch((e) => setError("pair", e.message));
  document.getElementById("pair-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    choosePair(exSel.value, document.getElementById("pair-symbol").value.trim())
      .then(() => setError("pair", null), (e) => setError("pair", e.message));
  });
  document.getElementById("impact-form").addEventListener("submit", submitImpact);
  document.getElementById("risk-form").addEventListener("submit", submitRisk);
  document.getElementById("history-lookback").addEventListener("change", () => refreshHistory().catch((e) => setError("history", e.message)));
  new ResizeObserver(() => { dash.heatmap.dirty = true; }).observe(cv);
  const frame = () => { dash.heatmap.drawIfDirty(); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  connect();
  every("heatmap", 1000 / dash.cfg.refresh_hz, sampleBook);
  every("depth", 1000, refreshDepth);
  every("venues", 2000, refreshVenues);
  every("alerts", 5000, refreshAlerts);    // the pushes are live; this catches up after a reconnect
  every("history", 3000, refreshHistory);
}

window.addEventListener("DOMContentLoaded", () => { start().catch((e) => setError("page", `could not start: ${e.message}`)); });
