"""The live dashboard (liqcore.service.dashboard) end to end in a real browser: the service's
FastAPI app on a real uvicorn (127.0.0.1, ephemeral port) over live books from the local
simulator, a SQLite store with liquidity reports and a LiveLiquidityMonitor writing alerts, and
Debian's chromium driven headless by Playwright. Every view must render values equal to the
API's JSON (the simulator frozen first), the forms must give the API's answers, an anomaly played
by the simulator must appear as an alert, and the browser must log no error.

The browser is Debian's chromium (``LIQCORE_CHROMIUM`` overrides the path); without it the test
is skipped, except under ``LIQCORE_REQUIRE_BROWSER=1`` (CI) where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("plotly")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import until  # noqa: E402
from test_alerts_monitor import fast_rules  # noqa: E402
from test_service_hub import settled  # noqa: E402

from liqcore import OrderBook  # noqa: E402
from liqcore.errors import FeedConfigError  # noqa: E402
from liqcore.service.api import create_app  # noqa: E402
from liqcore.service.dashboard import mount_dashboard, plotly_js_path  # noqa: E402
from liqcore.service.hub import BookHub  # noqa: E402
from liqcore.sim import SyntheticBook, default_instruments  # noqa: E402
from liqcore.store import open_store  # noqa: E402

NS = 1_000_000_000
EXCHANGE, INSTRUMENT, VENUE_SYMBOL, SIM_ID = "binance", "BTC/USD", "BTC/USDT", "BTCUSDT"
VIEWS = ("heatmap", "depth", "venues", "history", "alerts", "impact", "risk")


def past_reports(store: Any, seconds: int) -> int:
    """Write one liquidity report a second over the last ``seconds`` s: a SyntheticBook of the
    simulator's Binance BTCUSDT played into a C book (what a recorder would have stored)."""
    inst = next(i for i in default_instruments() if i.venue == EXCHANGE and i.id == SIM_ID)
    src = SyntheticBook(inst, seed=3)
    book = OrderBook(tick_size=str(inst.tick), lot_size=str(inst.lot))
    init = src.initial()
    book.apply_snapshot([lv[:2] for lv in init.bids], [lv[:2] for lv in init.asks])
    now = time.time_ns()
    for k in range(seconds):
        for _ in range(10):
            ev = src.next_event()
            book.apply_levels([lv[:2] for lv in ev.bids], [lv[:2] for lv in ev.asks])
        store.write("liquidity_reports", book.liquidity_report(), ts=now - (seconds - k) * NS, exchange=EXCHANGE,
                    symbol=VENUE_SYMBOL)
    store.flush()
    return seconds


PERP_VENUE, PERP = "binanceusdm", "BTC/USDT:USDT"


def stored_liquidation_map(store: Any) -> list[Any]:
    """Write a liquidation map of the perpetual (liqcore.risk.liquidation_map over an hour of
    open interest rising from 10,000 to 12,000 BTC and trades around 60,000) to the store's
    liquidation_levels, as a recorder would; returns its cells."""
    from liqcore.feed.records import OpenInterest, Trade
    from liqcore.risk import liquidation_map
    t0 = time.time_ns() // 1_000_000 - 3_600_000
    oi = [OpenInterest(PERP_VENUE, PERP, t0 + 600_000 * i, size=s)
          for i, s in enumerate([10_000.0, 10_800.0, 11_500.0, 11_200.0, 12_000.0])]
    trades = [Trade(PERP_VENUE, PERP, str(i), t0 + 600_000 * i - 1, p, 1.0, "buy")
              for i, p in enumerate([60_000.0, 60_150.0, 59_900.0, 60_050.0, 60_000.0])]
    levels = liquidation_map(oi, trades, leverages={10: 0.4, 25: 0.4, 50: 0.2}, bucket=50.0).levels()
    store.write("liquidation_levels", levels, ts=time.time_ns())
    store.flush()
    return levels


#: the service's API key in these tests (the page reads it from its address, /#key=...)
API_KEY = "dashboard-test-key-0123456789"

class Service:
    """The service in a thread of its own: create_app over a simulator hub and a SQLite store
    (its websocket's alert monitor with rules that warm up in seconds), the dashboard mounted,
    uvicorn on 127.0.0.1:0, and a recorder writing a liquidity report every 0.5 s (as
    LiquidityTracker does, under the venue's symbol). ``call`` runs a coroutine on the service's
    loop from the test's thread."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="dashboard-service", daemon=True)
        self.url = ""
        self.hub: BookHub | None = None
        self.app: Any = None            # the FastAPI app (its state holds the websocket's alert monitor)

    def start(self) -> "Service":
        self.thread.start()
        if not self.ready.wait(60) or self.error is not None:
            raise RuntimeError(f"the service did not start: {self.error!r}")
        return self

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:       # reported by start() or stop()
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        import uvicorn
        self.store = open_store(str(self.tmp / "history.db"))
        past_reports(self.store, 600)
        self.liquidation_levels = stored_liquidation_map(self.store)
        hub = self.hub = BookHub(sim=True, sim_interval=0.02)
        # with an API key, as on a shared machine: the page gets it from its address (#key=...)
        app = self.app = create_app(hub, self.store, api_key=API_KEY,
                                    ws_options={"monitor_options": {"rules": fast_rules()}},
                                    dashboard={"exchange": EXCHANGE, "symbol": INSTRUMENT,
                                               "venues": ("binance", "coinbase", "kraken")})
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        serving = asyncio.ensure_future(self.server.serve())       # its lifespan starts and closes the hub
        while not self.server.started:
            if serving.done():
                await serving
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        await hub.ensure(EXCHANGE, INSTRUMENT)
        recorder = asyncio.ensure_future(self._record(hub))
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.ready.set()
        try:
            await serving
        finally:
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder
            self.store.close()

    async def _record(self, hub: BookHub) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.store.write("liquidity_reports", hub.book(EXCHANGE, INSTRUMENT).liquidity_report(), ts=time.time_ns(),
                             exchange=EXCHANGE, symbol=VENUE_SYMBOL)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.should_exit = True
            self.thread.join(30)
        if self.error is not None:
            raise self.error

    def api(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """The service's JSON answer (urllib: a plain HTTP client, no page involved)."""
        url = f"{self.url}/api/v1{path}"
        if params:
            url += "?" + "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in params.items())
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", "X-API-Key": API_KEY})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())


def chromium() -> tuple[Any, str]:
    """(playwright.sync_api, the chromium executable). Skips without them, or fails under
    LIQCORE_REQUIRE_BROWSER=1 (CI)."""
    required = os.environ.get("LIQCORE_REQUIRE_BROWSER") == "1"
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        if required:
            pytest.fail("LIQCORE_REQUIRE_BROWSER=1 but playwright is not installed (pip install playwright)")
        pytest.skip("playwright is not installed")
    path = os.environ.get("LIQCORE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None or not os.access(path, os.X_OK):
        if required:
            pytest.fail("LIQCORE_REQUIRE_BROWSER=1 but there is no chromium (apt-get install chromium)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return sync_api, path


@pytest.fixture
def service(tmp_path: Path) -> Any:
    svc = Service(tmp_path).start()
    try:
        yield svc
    finally:
        svc.stop()


# ------------------------------------------------------------------ mount_dashboard without a browser
def test_mount_refuses_bad_settings_and_changes_nothing() -> None:
    from fastapi import FastAPI
    app = FastAPI()
    before = len(app.routes)
    for kw, match in ((dict(exchange="ftx"), "unknown exchange"), (dict(symbol="BTCUSD"), "symbol"),
                      (dict(venues=[]), "venues"), (dict(venues="binance"), "venues"),
                      (dict(heatmap_rows=10), "heatmap_rows"), (dict(heatmap_columns=10**6), "heatmap_columns"),
                      (dict(refresh_hz=float("nan")), "refresh_hz"), (dict(api_prefix="api"), "api_prefix")):
        with pytest.raises(FeedConfigError, match=match):
            mount_dashboard(app, **kw)
        assert len(app.routes) == before
    cfg = mount_dashboard(app, symbol="eth/usdt", venues=["Kraken", "kraken", "okx"])
    assert (cfg.symbol, cfg.venues) == ("ETH/USD", ("kraken", "okx"))


def test_page_files_and_plotly_served_offline(service: Service) -> None:
    with urllib.request.urlopen(service.url + "/", timeout=10) as r:
        page = r.read().decode()
    assert r.headers["content-type"].startswith("text/html") and 'id="heatmap"' in page
    assert "http" not in page.replace("http-equiv", "")          # no CDN, nothing off this origin
    with urllib.request.urlopen(service.url + "/dashboard/plotly.min.js", timeout=10) as r:
        assert r.read() == plotly_js_path().read_bytes()
    with urllib.request.urlopen(service.url + "/dashboard/config.json", timeout=10) as r:
        cfg = json.loads(r.read())
    assert (cfg["exchange"], cfg["symbol"], cfg["heatmap_rows"], cfg["heatmap_columns"]) == ("binance", "BTC/USD",
                                                                                             240, 3000)
    for name in ("dashboard.js", "heatmap.js", "dashboard.css"):
        with urllib.request.urlopen(f"{service.url}/dashboard/static/{name}", timeout=10) as r:
            assert r.status == 200 and b"http://" not in r.read()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(service.url + "/dashboard/static/../dashboard.py", timeout=10)
    err.value.close()
    assert err.value.code == 404
    # the page's files need no key (code, no data); the data does
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(service.url + "/api/v1/health", timeout=10)
    err.value.close()
    assert err.value.code == 401


# ------------------------------------------------------------------ the page in chromium
def test_every_view_in_chromium_shows_the_apis_values(service: Service, tmp_path: Path) -> None:
    sync_api, browser_path = chromium()
    shots = tmp_path / "screens"
    shots.mkdir()
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="dark")
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.set_default_timeout(20_000)
            page.goto(service.url + "/#key=" + API_KEY)
            for view in ("heatmap", "depth", "venues", "history", "alerts"):
                wait_view(page, view, 1, problems)
            assert page.evaluate("window.liqDash.last.history.count") >= 600
            page.wait_for_function("window.liqDash.marks.trades >= 20 && window.liqDash.heatmap.marksKept() >= 5")

            # an anomaly played by the simulator: the monitor raises it, the page lists it. It is
            # played once the monitor judges spreads: its warm-up (100 values, one per evaluation
            # every 100 ms) takes 10 s on an idle machine and longer on a busy one
            sim_source = service.hub.simulator.market(EXCHANGE, SIM_ID).source
            monitor = service.app.state.pusher.monitor
            service.call(until(lambda: "SPREAD_WIDENING" not in monitor.warming(EXCHANGE, INSTRUMENT), 60), timeout=65)
            service.loop.call_soon_threadsafe(lambda: sim_source.disturb("spread", 150, ticks=3000))
            item = page.locator("#alerts-list li[data-type=SPREAD_WIDENING]").first
            item.wait_for()
            service.call(asyncio.to_thread(service.store.flush))
            stored = service.api("GET", "/alerts", exchange=EXCHANGE, symbol=INSTRUMENT)["alerts"]
            alert = next(a for a in stored if a["type"] == "SPREAD_WIDENING")
            assert item.get_attribute("data-id") == alert["id"] and item.get_attribute("data-severity") == "HIGH"
            assert "sev-HIGH" in item.get_attribute("class")
            # it came over the websocket too: a pushed record carries ts_ms, a stored row does not
            page.wait_for_function(f"(window.liqDash.alerts.get({alert['id']!r}) || {{}}).ts_ms !== undefined")
            high = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--high').trim()")
            assert item.evaluate("e => getComputedStyle(e).borderLeftColor") == _rgb(high)
            unacked = int(page.locator("#alert-badge").inner_text().split()[0])
            assert unacked >= 1
            item.locator("button").click()
            assert "acked" in item.get_attribute("class")
            assert int(page.locator("#alert-badge").inner_text().split()[0]) == unacked - 1
            page.locator("#view-alerts").screenshot(path=str(shots / "alerts.png"))

            # once the book has recovered, freeze it: from now on the page and the API must show the same numbers
            service.call(recovered(sim_source))
            service.call(settled(service.hub))
            seen = page.evaluate("window.liqDash.rendered")
            for view in ("heatmap", "depth", "venues"):
                wait_view(page, view, seen[view] + 2, problems)
            _check_heatmap(page, service)
            _check_marks(page, service)
            _check_depth(page, service)
            _check_venues(page, service)
            _check_history(page, service)
            _check_impact(page, service)
            _check_risk(page, service)
            for view in VIEWS:
                page.locator(f"#view-{view}").screenshot(path=str(shots / f"{view}.png"))
            page.screenshot(path=str(shots / "page-1280x800-dark.png"), full_page=True)

            # a bad amount is refused in the page; a leverage the API refuses comes back as its 4xx message
            page.fill("#impact-form input[name=amount]", "abc")
            page.click("#impact-form button")
            assert 'amount: expected a positive number, got "abc"' in page.locator("#status").inner_text()
            n_errors = len(problems)
            page.fill("#risk-form input[name=leverage]", "5000")
            page.click("#risk-form button")
            page.wait_for_function("document.getElementById('status').textContent.includes('leverage')")
            assert "HTTP 422" in page.locator("#status").inner_text()
            # chromium logs the refused request itself: that one line, and nothing else, is expected
            assert [p for p in problems[n_errors:] if "422" not in p] == [] and len(problems) - n_errors <= 1
            del problems[n_errors:]

            # light theme and a narrow window: same page, nothing wider than the window
            page.click("#theme-toggle")
            assert page.evaluate("document.documentElement.dataset.theme") == "light"
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(243, 245, 248)"
            page.set_viewport_size({"width": 420, "height": 800})
            seen = page.evaluate("window.liqDash.heatmap.stats.redraws")
            page.wait_for_function(f"window.liqDash.heatmap.stats.redraws > {seen}")
            try:        # the charts follow the window on their resize handlers
                page.wait_for_function("document.documentElement.scrollWidth <= 420")
            except Exception:
                pytest.fail(f"the page is {page.evaluate('document.documentElement.scrollWidth')} px wide in a "
                            "420 px window")
            page.screenshot(path=str(shots / "page-420-light.png"), full_page=True)
            page.locator("#view-heatmap").screenshot(path=str(shots / "heatmap-light-narrow.png"))
            _check_ring(page)
            _check_marks_bounded(page)
        finally:
            browser.close()
    assert problems == [], problems
    assert sorted(p.name for p in shots.iterdir()) == sorted(
        [f"{v}.png" for v in VIEWS] + ["page-1280x800-dark.png", "page-420-light.png", "heatmap-light-narrow.png"])


async def recovered(source: Any) -> None:
    """Wait until the simulator's book has played its anomaly out, and 50 more events."""
    while source.disturbed is not None:
        await asyncio.sleep(0.05)
    await asyncio.sleep(50 * 0.02)


def wait_view(page: Any, view: str, renders: int, problems: list[str]) -> None:
    """Wait until ``view`` has drawn ``renders`` API answers; fail with what the page shows if not."""
    try:
        page.wait_for_function(f"((window.liqDash && window.liqDash.rendered['{view}']) || 0) >= {renders}")
    except Exception:
        pytest.fail(f"view {view} did not render {renders}x: status line "
                    f"{page.locator('#status').inner_text()!r}, console {problems}")


def _check_ring(page: Any) -> None:
    """The heatmap's memory is its ring: 2.5 rings of columns pushed, the newest ring is kept,
    in order, and nothing grew (a book drifting upwards: the grid follows it)."""
    got = page.evaluate("""(() => {
        const h = new LiqHeatmap(document.createElement("canvas"), 200, 600), n = 1500;
        const sizes = [h.cells.length, h.times.length, h.off.width * h.off.height];
        for (let i = 0; i < n; i++) {
            const mid = 100 + i * 0.01, lv = (d, k) => [mid + d * (0.05 + k * 0.1), 1 + k];
            h.push(i * 200, [0, 1, 2, 3].map(k => lv(-1, k)), [0, 1, 2, 3].map(k => lv(1, k)));
            h.draw();
        }
        const order = [];
        for (let i = 0; i < h.count; i++) order.push(h.times[(h.head - h.count + i + h.columns) % h.columns]);
        return {count: h.count, sizes, after: [h.cells.length, h.times.length, h.off.width * h.off.height],
                order, mid: h.latestMid(), regrids: h.stats.regrids, redraws: h.stats.redraws};
    })()""")
    assert got["count"] == 600 and got["sizes"] == got["after"] == [120_000, 600, 120_000]
    assert got["order"] == [i * 200 for i in range(900, 1500)]
    assert got["mid"] == pytest.approx(100 + 1499 * 0.01) and got["regrids"] >= 1 and got["redraws"] == 1500


def _check_marks(page: Any, service: Service) -> None:
    """The trades drawn on the heatmap are the simulator's: the page's last pushed trade is one
    the simulator published (same id, time, price, size, aggressor) and is the heatmap's last
    mark; every mark kept in the ring is a published trade (side, price, size)."""
    sim = service.hub.simulator
    published = service.call(asyncio.to_thread(lambda: list(sim.market_data[(EXCHANGE, SIM_ID)].trades)))
    by_id = {str(t.agg_id): t for t in published}
    got = page.evaluate("""(() => { const h = window.liqDash.heatmap, K = h.marksPerColumn, kept = [];
        for (let c = 0; c < h.columns; c++) for (let j = c * K; j < c * K + h.markCount[c]; j++)
            kept.push([LiqHeatmap.MARKS[h.markKind[j]], h.markPrice[j], h.markSize[j]]);
        return {last: window.liqDash.marks.lastTrade, mark: h.lastMark, kept,
                caption: document.getElementById("heatmap-caption").textContent}; })()""")
    last = got["last"]
    t = by_id[last["id"]]
    assert (last["ts_ms"], last["price"], last["size"], last["side"]) == (t.ts_ms, float(t.price), float(t.size), t.side)
    assert got["mark"] == {"kind": t.side, "price": float(t.price), "size": float(t.size), "ts_ms": t.ts_ms}
    trades = {(x.side, float(x.price), float(x.size)) for x in published}
    # sizes are kept as float32 in the ring
    assert got["kept"] and all((k, p, s) in {(a, b, float(np.float32(c))) for a, b, c in trades} | trades
                               for k, p, s in got["kept"])
    assert " trades, 0 liquidations" in got["caption"]          # a spot market has no liquidations


def _check_marks_bounded(page: Any) -> None:
    """The marks' memory is the ring too: 150 columns of 7 marks each in a ring of 60 columns of
    at most 4 marks: each column keeps its 2 liquidations and its 2 largest trades, the other 3
    are counted, nothing grew, bad marks are refused, and it draws."""
    got = page.evaluate("""(() => {
        const h = new LiqHeatmap(document.createElement("canvas"), 50, 60, 4);
        const sizes = () => [h.markPrice.length, h.markSize.length, h.markKind.length, h.markCount.length];
        const before = sizes();
        const refused = [h.addMark("buy", NaN, 1, 0), h.addMark("buy", 100, 0, 0), h.addMark("nope", 100, 1, 0)];
        for (let i = 0; i < 150; i++) {
            for (const s of [1, 5, 3]) h.addMark(i % 2 ? "buy" : "sell", 100 + s * 0.01, s, i);
            h.addMark("long", 99.9, 0.5, i);
            h.addMark("trade", 100.05, 4, i);
            h.addMark("short", 100.1, 0.25, i);
            h.addMark("buy", 100.02, 2, i);
            h.push(i * 200, [[99.95, 1]], [[100.05, 1]]);
        }
        h.draw();
        const K = h.marksPerColumn, newest = (h.head - 1 + h.columns) % h.columns, col = [];
        for (let j = newest * K; j < newest * K + h.markCount[newest]; j++)
            col.push([LiqHeatmap.MARKS[h.markKind[j]], h.markSize[j]]);
        return {before, after: sizes(), refused, kept: h.marksKept(), stats: h.stats, col,
                pending: h.pending.n, last: h.lastMark};
    })()""")
    assert got["before"] == got["after"] == [240, 240, 240, 60]
    assert got["refused"] == [False, False, False]
    assert got["kept"] == 60 * 4 and got["pending"] == 0
    assert got["stats"]["marks"] == 150 * 7 and got["stats"]["marksDropped"] == 150 * 3
    assert sorted(got["col"]) == [["buy", 5.0], ["long", 0.5], ["short", 0.25], ["trade", 4.0]]
    assert got["last"] == {"kind": "buy", "price": 100.02, "size": 2, "ts_ms": 149}
    assert got["stats"]["redraws"] == 1


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def _check_heatmap(page: Any, service: Service) -> None:
    book = service.api("GET", "/book", exchange=EXCHANGE, symbol=INSTRUMENT, depth=200)
    assert book["state"] == "live" and len(book["bids"]) > 10
    mid = (book["bids"][0]["price"] + book["asks"][0]["price"]) / 2
    assert page.evaluate("window.liqDash.heatmap.latestMid()") == pytest.approx(mid, rel=1e-12)
    hm = page.evaluate("(() => { const h = window.liqDash.heatmap; const c = (h.head - 1 + h.columns) % h.columns;"
                       " return {p0: h.p0, step: h.step, rows: h.rows,"
                       " col: Array.from(h.cells.subarray(c * h.rows, (c + 1) * h.rows))}; })()")
    # the newest column holds the API's sizes, each level in its price row
    expect = [0.0] * hm["rows"]
    inside = 0
    for lv in book["bids"] + book["asks"]:
        r = int((lv["price"] - hm["p0"]) // hm["step"])
        if 0 <= r < hm["rows"]:
            expect[r] += lv["size"]
            inside += 1
    assert hm["col"] == pytest.approx(expect, rel=1e-6)
    assert inside >= 0.8 * (len(book["bids"]) + len(book["asks"]))     # the grid holds the recovered book
    assert page.locator("#pair-state").inner_text() == f"binance {VENUE_SYMBOL}: live"


def _shown(page: Any, dl: str) -> dict[str, float | None]:
    return page.evaluate(f"Object.fromEntries([...document.querySelectorAll('{dl} div')].map("
                         "d => [d.dataset.key, d.querySelector('dd').dataset.value === undefined ? null"
                         " : Number(d.querySelector('dd').dataset.value)]))")


def _check_depth(page: Any, service: Service) -> None:
    rep = service.api("GET", "/liquidity", exchange=EXCHANGE, symbol=INSTRUMENT)
    walls = service.api("GET", "/walls", exchange=EXCHANGE, symbol=INSTRUMENT, band_bps=200, limit=10)
    shown = _shown(page, "#report")
    for key in ("mid", "spread_bps", "liquidity_1pct", "liquidity_2pct", "imbalance", "slippage_bps", "score"):
        assert shown[key] == pytest.approx(rep[key], rel=1e-12), key
    assert (shown["walls"], shown["clusters"]) == (len(walls["walls"]), len(walls["clusters"]))
    assert page.locator("#report [data-key=spread_bps] dd").inner_text() == f"{rep['spread_bps']:.2f} bps"
    # the chart: cumulative bids and asks up to the band, a marker per wall
    data = page.evaluate("document.getElementById('depth-chart').data.map(t => ({name: t.name, x: t.x, y: t.y}))")
    by = {t["name"]: t for t in data}
    assert by["bids"]["y"][-1] == pytest.approx(sum(lv["size"] for lv in service.api(
        "GET", "/book", exchange=EXCHANGE, symbol=INSTRUMENT, depth=200)["bids"][:len(by["bids"]["y"])]), rel=1e-9)
    assert sorted(by["bid walls"]["x"] + by["ask walls"]["x"]) == sorted(w["price"] for w in walls["walls"])


def _check_venues(page: Any, service: Service) -> None:
    cmp = service.api("POST", "/compare-exchanges", {"symbol": INSTRUMENT, "exchanges": ["binance", "coinbase", "kraken"],
                                                     "levels": 20})
    assert cmp["successful_fetches"] == 3
    for row in cmp["venues"]:
        tds = page.locator(f"#venues-table tr[data-exchange={row['exchange']}] td")
        values = [tds.nth(i).get_attribute("data-value") for i in (1, 2, 3, 4, 5)]
        assert [float(v) for v in values] == pytest.approx(
            [row["best_bid"], row["best_ask"], row["spread_pct"], row["bid_volume"], row["ask_volume"]], rel=1e-12)
    best = page.locator(f"#venues-table tr[data-exchange={cmp['best_bid_exchange']}] td").nth(1)
    assert best.get_attribute("class") == "best"
    assert page.locator("#arbitrage").inner_text().startswith(cmp["arbitrage"]["route"])


def _check_history(page: Any, service: Service) -> None:
    # the rows and the chart read at once: the view refreshes every 3 s
    got = page.evaluate("({h: window.liqDash.last.history, traces: document.getElementById('history-chart').data"
                        ".map(t => ({name: t.name, n: t.y.length, band: t.fill === 'tonexty'}))})")
    h, traces = got["h"], got["traces"]
    rows = h["rows"]
    # JavaScript holds the ns times as doubles (exact to ~256 ns at today's epoch; rows are 0.5 s apart)
    api = service.api("GET", "/history", table="liquidity_reports", exchange=EXCHANGE, symbol=VENUE_SYMBOL,
                      start_ns=int(rows[0]["ts"]) - 1000, end_ns=int(rows[-1]["ts"]) + 1000, limit=10_000)
    assert [r["spread_bps"] for r in api["rows"]] == [r["spread_bps"] for r in rows]
    assert sum(t["band"] for t in traces) == 3                  # a band per series
    assert [t["n"] for t in traces if t["name"] == "spread (bps)"] == [len(rows)]


def _check_impact(page: Any, service: Service) -> None:
    page.fill("#impact-form input[name=amount]", "2.5")
    page.select_option("#impact-form select[name=side]", "sell")
    page.click("#impact-form button")
    wait_view(page, "impact", 1, [])
    for venue in ("binance", "coinbase", "kraken"):
        r = service.api("POST", "/market-impact", {"exchange": venue, "symbol": INSTRUMENT, "side": "sell",
                                                    "amount": 2.5})
        tds = page.locator(f"#impact-table tr[data-exchange={venue}] td")
        assert float(tds.nth(1).get_attribute("data-value")) == pytest.approx(r["average_price"], rel=1e-12)
        assert float(tds.nth(2).get_attribute("data-value")) == pytest.approx(r["slippage_pct"], rel=1e-12)
        assert int(tds.nth(3).inner_text()) == r["levels_consumed"]
        assert float(tds.nth(4).get_attribute("data-value")) == pytest.approx(r["total_base_amount"], rel=1e-12)
        assert tds.nth(6).inner_text().startswith("yes" if r["sufficient_liquidity"] else "no (")


def _check_risk(page: Any, service: Service) -> None:
    entry = float(page.input_value("#risk-form input[name=entry_price]"))
    assert entry > 0                                            # the page's default: the mid
    page.select_option("#risk-form select[name=exchange]", "binanceusdm")
    page.fill("#risk-form input[name=size]", "0.5")
    page.fill("#risk-form input[name=leverage]", "20")
    page.click("#risk-form button")
    wait_view(page, "risk", 1, [])
    r = service.api("POST", "/risk", {"exchange": "binanceusdm", "symbol": "BTC/USDT:USDT", "side": "long",
                                      "size": 0.5, "entry_price": entry, "leverage": 20})
    shown = _shown(page, "#risk-result")
    for key in ("score", "liquidation_price", "mark", "distance_sigma", "probability", "exit_cost"):
        assert shown[key] == pytest.approx(r[key], rel=1e-12), key
    assert r["liquidation_price"] < entry                         # a long is liquidated below its entry
    bars = page.evaluate("document.getElementById('risk-chart').data[0]")
    assert dict(zip(bars["y"], bars["x"])) == pytest.approx(r["components"])
    # the stored liquidation map as a heatmap: a row per price bucket, the notional of each side
    wait_view(page, "liqmap", 1, [])
    hm = page.evaluate("(({x, y, z}) => ({x, y, z}))(document.getElementById('liqmap-chart').data[0])")
    levels = service.liquidation_levels
    assert len(levels) > 5 and hm["x"] == ["longs", "shorts"] and hm["y"] == sorted({lv.price for lv in levels})
    for col, side in enumerate(("long", "short")):
        by_price = {p: 0.0 for p in hm["y"]}
        for lv in levels:
            if lv.side == side:
                by_price[lv.price] += lv.notional
        assert [row[col] for row in hm["z"]] == pytest.approx([by_price[p] for p in hm["y"]], rel=1e-12)
