"""The dashboard's order-book heatmap in Debian's chromium (headless, Playwright): issue 14 asks
for >= 5 redraws/s of one book with >= 200 price rows and >= 10 minutes of columns, the page's
memory bounded.

1. Renderer: LiqHeatmap (liqcore/service/static/heatmap.js) with 240 rows x 3000 columns (10 min
   at 5 columns/s), filled with synthetic books of 400 levels (200 a side) drifting upwards (so the
   grid regrids now and then); then N more columns, each followed by a full redraw: time per
   column push and per redraw (mean, p99, max), the redraws per second that leaves possible, and
   the JS heap (after a forced GC) at one full ring and after ten more rings.
2. Live: the page served by the service over the simulator (as tests/python/test_dashboard.py
   runs it: uvicorn on 127.0.0.1, BookHub(sim=True)), its ring first filled with 3000 columns,
   then the columns and redraws it actually makes over ``--seconds`` (the page reads the book
   200 levels deep 5 times a second).

    python -m benchmarks.bench_dashboard [--seconds 10] [--png docs/dashboard-heatmap.png]

``--png`` saves the live heatmap after ``--png-after`` s of live book (before the measurement) as a
PNG. Figures are printed, never asserted. Headless chromium renders in software: it rasterises
the recorded canvas draws in batches (about every 11th redraw pays ~65 ms), so the mean is the
figure that says how many redraws a second the page can make.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEATMAP_JS = ROOT / "liqcore" / "service" / "static" / "heatmap.js"

RENDERER = """async ([rows, columns, n]) => {
  const canvas = document.createElement("canvas");
  canvas.style.width = "1200px"; canvas.style.height = "360px";
  document.body.append(canvas);
  const h = new LiqHeatmap(canvas, rows, columns);
  let t = 0, mid = 60000;
  const book = () => {
    mid += 0.02 * (Math.random() - 0.45);
    const side = (d) => Array.from({length: 200}, (_, k) => [mid + d * (0.05 + k * 0.01),
                                                           Math.exp(Math.random() * 3) / 10]);
    return [side(-1), side(1)];
  };
  for (let i = 0; i < columns; i++) { const [b, a] = book(); h.push(t += 200, b, a); }
  h.draw();
  gc();
  const heapFull = performance.memory.usedJSHeapSize;
  const push = [], draw = [], books = Array.from({length: n}, book);   // built before the clock runs
  gc();
  for (let i = 0; i < n; i++) {
    const [b, a] = books[i];
    let t0 = performance.now(); h.push(t += 200, b, a); push.push(performance.now() - t0);
    t0 = performance.now(); h.draw(); draw.push(performance.now() - t0);
  }
  for (let i = 0; i < 10 * columns; i++) { const [b, a] = book(); h.push(t += 200, b, a); }
  h.draw();
  gc();
  return {push, draw, heapFull, heapAfter: performance.memory.usedJSHeapSize, regrids: h.stats.regrids,
          rerenders: h.stats.rerenders,
          count: h.count};
}"""


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def renderer(pw: object, chromium: str, rows: int, columns: int, n: int) -> None:
    browser = pw.chromium.launch(executable_path=chromium,  # type: ignore[attr-defined]
                                 args=["--no-sandbox", "--enable-precise-memory-info", "--js-flags=--expose-gc"])
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_content("<!doctype html><body></body>")
        page.add_script_tag(path=str(HEATMAP_JS))
        r = page.evaluate(RENDERER, [rows, columns, n])
    finally:
        browser.close()
    push, draw = r["push"], r["draw"]
    print(f"renderer: {rows} rows x {columns} columns (ring full: {r['count']}), 400 levels a column, "
          f"{n} columns each followed by a redraw")
    print(f"  push   mean {statistics.mean(push):.3f} ms  p99 {pct(push, 0.99):.3f} ms  max {max(push):.3f} ms "
          f"(regrids {r['regrids']}, re-renders {r['rerenders']} in {11 * columns + n} columns)")
    print(f"  redraw mean {statistics.mean(draw):.3f} ms  p99 {pct(draw, 0.99):.3f} ms  max {max(draw):.3f} ms "
          f"-> {1000 / statistics.mean(draw):.0f} redraws/s possible")
    print(f"  JS heap: {r['heapFull'] / 1e6:.1f} MB at one full ring, {r['heapAfter'] / 1e6:.1f} MB after "
          f"{10 * columns} more columns")


def live(pw: object, chromium: str, seconds: float, png: Path | None, png_after: float) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "python"))
    from test_dashboard import Service      # the service as the browser test runs it

    with tempfile.TemporaryDirectory() as tmp:
        svc = Service(Path(tmp)).start()
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # type: ignore[attr-defined]
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="dark")
            page.goto(svc.url + "/")
            page.wait_for_function("(window.liqDash && window.liqDash.rendered.heatmap) >= 1")
            if png is not None:
                time.sleep(png_after)
                page.locator("#view-heatmap").screenshot(path=str(png))
                print(f"heatmap after {png_after:g} s saved to {png}")
            # ten minutes of columns before the measurement: the ring is full, as after 10 min
            page.evaluate("""() => { const h = window.liqDash.heatmap, b = window.liqDash.book;
                const t = Date.now() - 200 * h.columns;
                for (let i = 0, n = h.columns - h.count; i < n; i++) h.push(t + 200 * i, b.bids, b.asks); }""")
            s0 = page.evaluate("({...window.liqDash.heatmap.stats, now: performance.now()})")
            time.sleep(seconds)
            s1 = page.evaluate("({...window.liqDash.heatmap.stats, now: performance.now(),"
                               " count: window.liqDash.heatmap.count})")
            dt = (s1["now"] - s0["now"]) / 1000
            draws = s1["redraws"] - s0["redraws"]
            ms = (s1["drawMs"] - s0["drawMs"]) / max(1, draws)
            print(f"live page over the simulator, ring full ({s1['count']} columns x "
                  f"{page.evaluate('window.liqDash.heatmap.rows')} rows), {dt:.1f} s:")
            print(f"  {(s1['columns'] - s0['columns']) / dt:.2f} columns/s, {draws / dt:.2f} redraws/s, "
                  f"{ms:.2f} ms per redraw (max {s1['maxDrawMs']:.2f} ms)")
        finally:
            browser.close()
            svc.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=240)
    ap.add_argument("--columns", type=int, default=3000)
    ap.add_argument("-n", type=int, default=500, help="columns timed (each with a redraw)")
    ap.add_argument("--seconds", type=float, default=10.0, help="live measurement (s)")
    ap.add_argument("--png", type=Path, help="save the live heatmap here (before the measurement)")
    ap.add_argument("--png-after", type=float, default=60.0, help="seconds of live book before the PNG")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    with sync_playwright() as pw:
        renderer(pw, chromium, args.rows, args.columns, args.n)
        live(pw, chromium, args.seconds, args.png, args.png_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
