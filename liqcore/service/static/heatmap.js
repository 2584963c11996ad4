/* liqcore dashboard: the order-book heatmap (price x time, size as colour on a log scale).
 *
 * Memory is bounded by construction: a ring of `columns` columns of `rows` price rows
 * (Float32Array rows*columns of sizes, base currency), their times and best bid/ask/mid
 * (Float64Array), and one offscreen canvas of columns x rows pixels; nothing grows with time.
 * A new column costs O(rows + levels): its pixels are written once into the offscreen canvas at
 * the ring's head. A redraw blits the ring (two slices, scaled by the GPU) and draws the
 * bid/ask/mid lines: O(columns), independent of the history's age.
 * The price grid (row 0 at p0, `step` quote per row) follows the book: it recentres when the mid
 * leaves the middle of the grid and zooms when the book outgrows it or uses little of it; then
 * every column is re-binned and re-rendered (O(rows x columns), rare).
 *
 * Trades and liquidations are marks at (time, price) in the same ring: each column holds at most
 * `marksPerColumn` (K) of them (typed arrays of columns x K, written when the column is pushed
 * from the marks that arrived since the previous one); beyond K a column keeps its liquidations
 * first, then its largest trades, and counts the rest (`stats.marksDropped`). Trades are dots
 * (radius 1.5..6 px, growing with the square root of size over the largest recent trade; buy /
 * sell colours), liquidations crosses (the liquidated position's colour). A redraw costs
 * O(columns x K) more, in four paths.
 */
"use strict";

class LiqHeatmap {
  /** canvas: the visible <canvas>; rows: price rows; columns: columns kept (ring size);
   *  marksPerColumn: trades and liquidations kept per column (K). */
  constructor(canvas, rows, columns, marksPerColumn = 8) {
    this.canvas = canvas;
    this.rows = rows;
    this.columns = columns;
    this.cells = new Float32Array(rows * columns);      // size (base) per (column, row)
    this.spare = new Float32Array(rows * columns);      // the other buffer of a regrid
    this.times = new Float64Array(columns);             // column time, Unix ms
    this.bid = new Float64Array(columns);               // best bid, quote per base (NaN: none)
    this.ask = new Float64Array(columns);
    this.mid = new Float64Array(columns);
    this.head = 0;                                      // next column written
    this.count = 0;                                     // columns filled, <= columns
    this.p0 = NaN;                                      // price of row 0 (quote per base)
    this.step = NaN;                                    // quote per row
    this.vmax = 0;                                      // log10(1 + size) at the top of the colour scale
    this.scaleOf = 0;                                   // vmax the stored pixels were rendered with
    this.stats = { columns: 0, redraws: 0, drawMs: 0, maxDrawMs: 0, regrids: 0, rerenders: 0,
                   marks: 0, marksDropped: 0 };
    const K = this.marksPerColumn = marksPerColumn;
    this.markPrice = new Float64Array(columns * K);     // quote per base
    this.markSize = new Float32Array(columns * K);      // base
    this.markKind = new Uint8Array(columns * K);        // LiqHeatmap.MARKS index
    this.markCount = new Uint8Array(columns);           // marks per column, <= K
    this.pending = { price: new Float64Array(K), size: new Float32Array(K), kind: new Uint8Array(K), n: 0 };
    this.markMax = 0;                                   // largest recent trade size (base): the radius scale
    this.lastMark = null;                               // {kind, price, size, ts_ms} of the newest mark added
    this.fitEvery = 25;                                 // columns between two zoom checks
    this.sinceFit = 0;
    this.farSeen = 0;                                   // farthest level from the mid since the last check
    this.off = document.createElement("canvas");
    this.off.width = columns;
    this.off.height = rows;
    // willReadFrequently keeps the ring's pixels in memory: each column is a small putImageData
    this.offCtx = this.off.getContext("2d", { willReadFrequently: true });
    this.colImg = this.offCtx.createImageData(1, rows);
    this.lut = LiqHeatmap.palette();
    this.dirty = false;
    this.minVisible = Math.min(columns, 300);           // columns the plot is at least wide (1 min at 5/s)
    this.colors = { bid: "#26c281", ask: "#ff5c5c", mid: "#f5f5f5", fg: "#d8dee6", bg: "#171d24",
                    buy: "#26c281", sell: "#ff5c5c", trade: "#b0b8c0", long: "#ff9f1c", short: "#3ad8ff" };
  }

  /** Add a trade or a liquidation to the column being built (drawn from the next push).
   *  kind: "buy" / "sell" (a trade's aggressor; "trade" when unknown), "long" / "short" (the
   *  liquidated position); price: quote per base; size: base; ts_ms: the exchange's time (Unix
   *  ms). Beyond K marks the weakest is dropped and counted (O(K)). */
  addMark(kind, price, size, tsMs) {
    const k = LiqHeatmap.MARKS.indexOf(kind);
    if (k < 0 || !(price > 0) || !(size > 0) || !Number.isFinite(price) || !Number.isFinite(size)) return false;
    this.stats.marks++;
    this.lastMark = { kind, price, size, ts_ms: tsMs };
    const p = this.pending, K = this.marksPerColumn;
    let slot = p.n;
    if (p.n < K) p.n++;
    else {
      this.stats.marksDropped++;
      slot = -1;
      let weakest = LiqHeatmap.rank(k, size);
      for (let i = 0; i < K; i++) {
        const r = LiqHeatmap.rank(p.kind[i], p.size[i]);
        if (r < weakest) { weakest = r; slot = i; }
      }
      if (slot < 0) return true;                        // the new one is the weakest
    }
    p.price[slot] = price; p.size[slot] = size; p.kind[slot] = k;
    return true;
  }

  /** Liquidations before trades, then larger before smaller. */
  static rank(kind, size) { return (kind >= 3 ? 1e30 : 0) + size; }

  /** Marks kept in the ring now (O(columns)). */
  marksKept() { let n = 0; for (let c = 0; c < this.columns; c++) n += this.markCount[c]; return n; }

  /** 256 RGB entries from dark blue through green to yellow (perceptually ordered, viridis-like). */
  static palette() {
    const stops = [[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137], [219, 92, 104],
                   [244, 136, 73], [254, 188, 43], [240, 249, 33]];
    const lut = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255 * (stops.length - 1), k = Math.min(Math.floor(t), stops.length - 2), f = t - k;
      for (let c = 0; c < 3; c++) lut[i * 3 + c] = stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f;
    }
    return lut;
  }

  /** Forget every column (a new book). */
  reset() {
    this.cells.fill(0); this.times.fill(0); this.bid.fill(NaN); this.ask.fill(NaN); this.mid.fill(NaN);
    this.head = 0; this.count = 0; this.p0 = NaN; this.step = NaN; this.vmax = 0; this.scaleOf = 0;
    this.sinceFit = 0; this.farSeen = 0;
    this.markCount.fill(0); this.pending.n = 0; this.markMax = 0; this.lastMark = null;
    this.offCtx.clearRect(0, 0, this.columns, this.rows);
    this.dirty = true;
  }

  /** Add one column: t (Unix ms), bids and asks best first as [[price, size], ...] (quote per
   *  base, base: the websocket's book push). */
  push(t, bids, asks) {
    const bb = bids.length ? bids[0][0] : NaN, ba = asks.length ? asks[0][0] : NaN;
    const mid = bids.length && asks.length ? (bb + ba) / 2 : (bids.length ? bb : ba);
    if (!Number.isFinite(mid)) return;
    if (!Number.isFinite(this.step)) this.fitGrid(mid, bids, asks);
    else this.regridIfNeeded(mid, bids, asks);
    const R = this.rows, col = this.head, base = col * R;
    this.cells.fill(0, base, base + R);
    let colMax = 0;
    for (const side of [bids, asks]) {
      for (const [price, size] of side) {
        const r = Math.floor((price - this.p0) / this.step);
        if (r >= 0 && r < R) {
          const v = (this.cells[base + r] += size);
          if (v > colMax) colMax = v;
        }
      }
    }
    this.times[col] = t; this.bid[col] = bb; this.ask[col] = ba; this.mid[col] = mid;
    this.takeMarks(col);
    // the colour scale follows the largest recent level: up at once, down slowly (0.1% a column)
    const top = Math.log10(1 + colMax);
    this.vmax = Math.max(top, this.vmax * 0.999);
    if (this.scaleOf === 0 || Math.abs(this.vmax - this.scaleOf) > 0.25 * this.scaleOf) {
      this.head = (col + 1) % this.columns;
      this.count = Math.min(this.count + 1, this.columns);
      this.rerender();
    } else {
      this.renderColumn(col);
      this.head = (col + 1) % this.columns;
      this.count = Math.min(this.count + 1, this.columns);
    }
    this.stats.columns++;
    this.dirty = true;
  }

  /** Move the pending marks into column `col` (O(K)); the radius scale follows the largest
   *  trade as the colour scale follows the largest level: up at once, down slowly. */
  takeMarks(col) {
    const p = this.pending, K = this.marksPerColumn, base = col * K;
    let top = 0;
    for (let i = 0; i < p.n; i++) {
      this.markPrice[base + i] = p.price[i]; this.markSize[base + i] = p.size[i]; this.markKind[base + i] = p.kind[i];
      if (p.kind[i] < 3 && p.size[i] > top) top = p.size[i];
    }
    this.markCount[col] = p.n;
    p.n = 0;
    this.markMax = Math.max(top, this.markMax * 0.999);
  }

  /** Draw the marks of the visible columns: dots per trade side, crosses per liquidated side. */
  drawMarks(ctx, oldest, x0, xs, y) {
    const C = this.columns, K = this.marksPerColumn, paths = LiqHeatmap.MARKS.map(() => new Path2D());
    const scale = this.markMax > 0 ? 1 / this.markMax : 0;
    for (let i = 0; i < this.count; i++) {
      const col = (oldest + i) % C, n = this.markCount[col], px = x0 + (i + 0.5) * xs;
      for (let j = col * K; j < col * K + n; j++) {
        const kind = this.markKind[j], py = y(this.markPrice[j]), path = paths[kind];
        if (kind < 3) {
          const r = 1.5 + 4.5 * Math.sqrt(Math.min(1, this.markSize[j] * scale));
          path.moveTo(px + r, py); path.arc(px, py, r, 0, 2 * Math.PI);
        } else {
          path.moveTo(px - 4, py - 4); path.lineTo(px + 4, py + 4); path.moveTo(px - 4, py + 4); path.lineTo(px + 4, py - 4);
        }
      }
    }
    ctx.lineWidth = 1;
    LiqHeatmap.MARKS.forEach((kind, k) => {
      if (k < 3) {
        ctx.globalAlpha = 0.75; ctx.fillStyle = this.colors[kind]; ctx.fill(paths[k]);
        ctx.globalAlpha = 1; ctx.strokeStyle = "#000"; ctx.stroke(paths[k]);
      } else {
        ctx.strokeStyle = "#000"; ctx.lineWidth = 4; ctx.stroke(paths[k]);     // an outline over any colour
        ctx.strokeStyle = this.colors[kind]; ctx.lineWidth = 2; ctx.stroke(paths[k]);
      }
    });
  }

  /** The mid of the newest column (quote per base), NaN before the first. */
  latestMid() { return this.count ? this.mid[(this.head - 1 + this.columns) % this.columns] : NaN; }

  /** First column: the grid spans the levels received (both sides) and half as much again
   *  (room for the book to widen), centred on the mid. */
  fitGrid(mid, bids, asks) {
    const lo = bids.length ? bids[bids.length - 1][0] : mid;
    const hi = asks.length ? asks[asks.length - 1][0] : mid;
    const half = 1.5 * Math.max(hi - mid, mid - lo, Math.abs(mid) * 1e-5);
    this.step = 2 * half / this.rows;
    this.p0 = mid - half;
  }

  /** Move the grid when the book leaves it: recentre when the mid leaves the middle 60% of the
   *  rows; every `fitEvery` columns, zoom out when a level lay beyond the grid's half-height, or
   *  in when every level stayed within a quarter of it (the new half-height: 1.5x the farthest
   *  level seen, as at the first column). */
  regridIfNeeded(mid, bids, asks) {
    const far = Math.max(bids.length ? mid - bids[bids.length - 1][0] : 0,
                         asks.length ? asks[asks.length - 1][0] - mid : 0);
    this.farSeen = Math.max(this.farSeen, far);
    const half = this.step * this.rows / 2, row = (mid - this.p0) / this.step;
    if (++this.sinceFit >= this.fitEvery) {
      const seen = Math.max(this.farSeen, Math.abs(mid) * 1e-5);
      this.sinceFit = 0; this.farSeen = 0;
      if (seen > half || seen < 0.25 * half) { this.regrid(mid - 1.5 * seen, 3 * seen / this.rows); return; }
    }
    if (row < 0.2 * this.rows || row > 0.8 * this.rows)
      this.regrid(this.p0 + Math.round(row - this.rows / 2) * this.step, this.step);
  }

  /** Re-bin every stored column into the grid (p0, step), in the spare buffer then swapped, and
   *  re-render (O(rows x columns); memory stays two buffers). */
  regrid(p0, step) {
    const R = this.rows, old = this.cells, out = this.spare;
    out.fill(0);
    for (let c = 0; c < this.columns; c++) {
      const base = c * R;
      for (let r = 0; r < R; r++) {
        const v = old[base + r];
        if (v <= 0) continue;
        const nr = Math.floor((this.p0 + (r + 0.5) * this.step - p0) / step);
        if (nr >= 0 && nr < R) out[base + nr] += v;
      }
    }
    this.cells = out; this.spare = old; this.p0 = p0; this.step = step;
    this.stats.regrids++;
    this.rerender();
  }

  renderColumn(col) {
    const R = this.rows, data = this.colImg.data, lut = this.lut, base = col * R;
    const scale = this.vmax > 0 ? 255 / this.vmax : 0;
    for (let r = 0; r < R; r++) {
      const v = this.cells[base + r], p = (R - 1 - r) * 4;          // row 0 at the bottom
      if (v <= 0) { data[p + 3] = 0; continue; }
      const i = Math.min(255, Math.round(Math.log10(1 + v) * scale)) * 3;
      data[p] = lut[i]; data[p + 1] = lut[i + 1]; data[p + 2] = lut[i + 2]; data[p + 3] = 255;
    }
    this.offCtx.putImageData(this.colImg, col, 0);
  }

  /** Re-render every stored column with the current scale and grid (O(rows x columns)). */
  rerender() {
    this.scaleOf = this.vmax;
    this.offCtx.clearRect(0, 0, this.columns, this.rows);
    for (let i = 0; i < this.count; i++) this.renderColumn((this.head - this.count + i + this.columns) % this.columns);
    this.stats.rerenders++;
  }

  /** Draw if something changed since the last draw (call from requestAnimationFrame). */
  drawIfDirty() { if (this.dirty) this.draw(); }

  draw() {
    const t0 = performance.now();
    this.dirty = false;
    const cv = this.canvas, dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(cv.clientWidth * dpr)), h = Math.max(1, Math.round(cv.clientHeight * dpr));
    if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const W = cv.clientWidth, H = cv.clientHeight, L = 78, B = 20, T = 4, Rm = 6;
    const pw = Math.max(1, W - L - Rm), ph = Math.max(1, H - T - B);
    ctx.fillStyle = this.colors.bg; ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = "#000"; ctx.fillRect(L, T, pw, ph);
    if (this.count === 0) { this.stats.redraws++; return; }
    // a young ring is stretched to the width (at least `minVisible` columns wide), then compresses
    // until it holds `columns`: the newest column is always at the right edge
    const C = this.columns, oldest = (this.head - this.count + C) % C;
    const V = Math.min(C, Math.max(this.count, this.minVisible)), xs = pw / V, x0 = L + (V - this.count) * xs;
    ctx.imageSmoothingEnabled = false;
    const first = Math.min(this.count, C - oldest);     // oldest..end of the ring, then 0..head
    ctx.drawImage(this.off, oldest, 0, first, this.rows, x0, T, first * xs, ph);
    if (this.count > first) ctx.drawImage(this.off, 0, 0, this.count - first, this.rows, x0 + first * xs, T, (this.count - first) * xs, ph);
    const y = (p) => T + ph - (p - this.p0) / (this.step * this.rows) * ph;
    const line = (arr, color, width) => {
      ctx.strokeStyle = color; ctx.lineWidth = width; ctx.beginPath();
      let pen = false;
      for (let i = 0; i < this.count; i++) {
        const v = arr[(oldest + i) % C];
        if (!Number.isFinite(v)) { pen = false; continue; }
        const px = x0 + (i + 0.5) * xs, py = y(v);
        if (pen) ctx.lineTo(px, py); else { ctx.moveTo(px, py); pen = true; }
      }
      ctx.stroke();
    };
    ctx.save(); ctx.beginPath(); ctx.rect(L, T, pw, ph); ctx.clip();
    line(this.bid, this.colors.bid, 1.5); line(this.ask, this.colors.ask, 1.5); line(this.mid, this.colors.mid, 1);
    this.drawMarks(ctx, oldest, x0, xs, y);
    ctx.restore();
    // axes: five prices, and the age of the left edge
    ctx.fillStyle = this.colors.fg; ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    for (let i = 0; i <= 4; i++) {
      const p = this.p0 + this.step * this.rows * i / 4;
      ctx.fillText(LiqHeatmap.price(p, this.step), L - 4, Math.min(H - B - 6, Math.max(T + 6, y(p))));
    }
    ctx.textBaseline = "top";
    const newest = this.times[(this.head - 1 + C) % C], span = (newest - this.times[oldest]) / 1000;
    ctx.textAlign = "left"; ctx.fillText(`-${LiqHeatmap.age(span)}`, x0 + 2, H - B + 4);
    ctx.textAlign = "right"; ctx.fillText("now", L + pw, H - B + 4);
    const ms = performance.now() - t0;
    this.stats.redraws++; this.stats.drawMs += ms; this.stats.maxDrawMs = Math.max(this.stats.maxDrawMs, ms);
  }

  static price(p, step) {
    const d = Math.max(0, Math.min(8, Math.ceil(-Math.log10(step)) + 1));
    return p.toFixed(d);
  }

  static age(s) { return s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`; }
}

/** Mark kinds, in drawing order: trades by aggressor ("trade": not said), liquidations by the
 *  liquidated position (index >= 3). */
LiqHeatmap.MARKS = ["trade", "buy", "sell", "long", "short"];

window.LiqHeatmap = LiqHeatmap;
