"""The native frame path (liqcore._frames) against the Python paths, in one run.

Group ``depth20``: one Binance ``depthUpdate`` frame of 20 bid + 20 ask changes (combined
stream, ~1.4 KB, ~20% deletions, contiguous U/u) -> the book updated, on a synced book of
1000 levels per side. Each round applies the same 1000 distinct frames to a fresh copy:
  * ``fast``      liqcore._frames.apply_binance_depth(book, frame_bytes)
  * ``orjson``    orjson.loads + OrderBook.apply_levels(b, a, last_id=u, first_id=U)
  * ``ccxt``      stock ccxt.pro binance.handle_message(client, orjson.loads(frame)) on a synced
                  ccxt book (research/ccxt_integration.md §4's "binance.handle_message(client, dict)"
                  layer plus its orjson decode)
Group ``replay``: the real Binance recording (liqcore/data, 41,249 frames: depth, bookTicker,
trade, one REST snapshot) from memory through the Binance protocol (BinanceProtocol, one book):
its native path (every frame's text parsed once in C: depth frames routed and applied, the others
classified, then decoded for the driver) vs its decoded path (orjson + apply_levels).

Run (not collected by the project's pytest; see benchmarks/README.md):
    python -m pytest benchmarks/bench_frames.py -p no:cacheprovider -s
The last test prints µs/message, the ratios and messages/s, and checks that every path ended
on the same book. Targets (issue #3): <= 3 µs per 20+20 message, >= 300,000 messages/s replay.
"""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest

from liqcore import OrderBook
from liqcore._frames import apply_binance_depth, load_binance_snapshot
from liqcore.exchanges.binance import BinanceProtocol
from liqcore.feed.live_book import LiveBook
from liqcore.recordings import iter_hftbacktest
from liqcore.replay import BUNDLED_RECORDING

N_FRAMES = 1000
RESULTS: dict[str, float] = {}
BOOKS: dict[str, tuple] = {}


def _px(t):
    return f"{t / 100:.8f}"


@pytest.fixture(scope="module")
def depth_frames():
    rng = random.Random(20240611)
    mid = 6_000_000   # 60000.00 in cents
    bids = [[_px(mid - i), f"{rng.randint(1, 500) / 1000:.8f}"] for i in range(1000)]
    asks = [[_px(mid + 1 + i), f"{rng.randint(1, 500) / 1000:.8f}"] for i in range(1000)]
    snap = orjson.dumps({"lastUpdateId": 1000, "bids": bids, "asks": asks})
    frames = []
    u = 1000
    for _ in range(N_FRAMES):
        b = [[_px(mid - rng.randint(0, 150)), "0.00000000" if rng.random() < 0.2 else f"{rng.randint(1, 500) / 1000:.8f}"]
             for _ in range(20)]
        a = [[_px(mid + 1 + rng.randint(0, 150)), "0.00000000" if rng.random() < 0.2 else f"{rng.randint(1, 500) / 1000:.8f}"]
             for _ in range(20)]
        first, u = u + 1, u + rng.randint(1, 30)
        frames.append(orjson.dumps({"stream": "btcusdt@depth@100ms", "data": {
            "e": "depthUpdate", "E": 1723161255208 + u, "s": "BTCUSDT", "U": first, "u": u, "b": b, "a": a}}))
    return snap, frames


def _book(snap):
    book = OrderBook("0.01", "0.00000001", sequence="binance_spot")
    load_binance_snapshot(book, snap)
    return book


def _per_message(benchmark, name):
    RESULTS[name] = benchmark.stats.stats.min / N_FRAMES * 1e6


@pytest.mark.benchmark(group="depth20")
def test_fast(benchmark, depth_frames):
    snap, frames = depth_frames

    def run(book):
        for f in frames:
            apply_binance_depth(book, f)
        return book

    book = benchmark.pedantic(run, setup=lambda: ((_book(snap),), {}), rounds=30, warmup_rounds=2)
    _per_message(benchmark, "fast")
    BOOKS["fast"] = book.bbo


@pytest.mark.benchmark(group="depth20")
def test_orjson_apply_levels(benchmark, depth_frames):
    snap, frames = depth_frames
    loads = orjson.loads

    def run(book):
        for f in frames:
            d = loads(f)["data"]
            book.apply_levels(d["b"], d["a"], last_id=d["u"], first_id=d["U"])
        return book

    book = benchmark.pedantic(run, setup=lambda: ((_book(snap),), {}), rounds=30, warmup_rounds=2)
    _per_message(benchmark, "orjson")
    BOOKS["orjson"] = book.bbo


def _ccxt(snap):
    ccxt_pro = pytest.importorskip("ccxt.pro")
    market = {"id": "BTCUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC", "quoteId": "USDT",
              "settle": None, "settleId": None, "type": "spot", "spot": True, "margin": False, "swap": False,
              "future": False, "option": False, "active": True, "contract": False, "linear": None, "inverse": None,
              "contractSize": None, "expiry": None, "expiryDatetime": None, "strike": None, "optionType": None,
              "taker": 0.001, "maker": 0.001, "precision": {"amount": 1e-08, "price": 0.01},
              "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                         "cost": {"min": None, "max": None}, "leverage": {"min": None, "max": None}},
              "info": {}, "created": None}

    async def make():
        ex = ccxt_pro.binance({"enableRateLimit": False})
        ex.set_markets([market])
        # a combined-stream URL (binance.is_spot_url needs '/stream'); never connected
        return ex, ex.client("wss://stream.binance.com:9443/stream")

    loop = asyncio.new_event_loop()
    ex, client = loop.run_until_complete(make())
    return loop, ex, client


@pytest.mark.benchmark(group="depth20")
def test_ccxt_handle_message(benchmark, depth_frames):
    snap, frames = depth_frames
    loop, ex, client = _ccxt(snap)
    loads = orjson.loads
    parsed_snap = ex.parse_order_book(loads(snap), "BTC/USDT")

    def setup():
        ob = ex.order_book({}, 5000)
        ob.reset(parsed_snap)
        ob["nonce"] = 1000
        ob["timestamp"] = 1   # synced: the strict U == nonce + 1 rule applies
        ex.orderbooks["BTC/USDT"] = ob
        return (ob,), {}

    def run(ob):
        for f in frames:
            ex.handle_message(client, loads(f))
        return ob

    try:
        ob = benchmark.pedantic(run, setup=setup, rounds=5, warmup_rounds=1)
        _per_message(benchmark, "ccxt")
        BOOKS["ccxt"] = (ob["bids"][0][0], ob["bids"][0][1], ob["asks"][0][0], ob["asks"][0][1], ob["nonce"])
    finally:
        loop.run_until_complete(ex.close())
        loop.close()


@pytest.fixture(scope="module")
def recording():
    return [r.raw for r in iter_hftbacktest(BUNDLED_RECORDING)]


class _OneBook:
    """A BookDriver keeping one book (every market id is it): the procedure alone, no checkpoints."""

    def __init__(self, book):
        self.live = LiveBook("binance", "BTCUSDT", book)

    def book(self, conn, market_id, market_type):
        return self.live

    def synced(self, *args):
        pass

    changed = failed = other = malformed = synced


def _replay(recording, fast, decode_other=True):
    """The recording through BinanceProtocol: frames' text (native path) or orjson's messages
    (decoded path); the REST snapshot (no symbol inside) to the one book."""
    book = OrderBook("0.01", "0.00000001")
    driver = _OneBook(book)
    p = BinanceProtocol(driver, fast_path=fast)
    p.widen = False
    p.decode_other = decode_other
    loads = orjson.loads
    snapshot = '"lastUpdateId"' if fast else b'"lastUpdateId"'
    for f in recording:
        if snapshot in f[:20]:
            p.on_snapshot(None, driver.live, f if fast else loads(f))
        elif fast:
            p.on_frame(None, f)
        else:
            p.on_message(None, loads(f))
    return book


@pytest.mark.benchmark(group="replay")
def test_replay_fast(benchmark, recording):
    text = [f.decode() for f in recording]           # as ccxt hands frames over
    book = benchmark.pedantic(lambda: _replay(text, True), rounds=5, warmup_rounds=1)
    RESULTS["replay_fast"] = len(recording) / benchmark.stats.stats.min
    BOOKS["replay_fast"] = book.to_bytes()


@pytest.mark.benchmark(group="replay")
def test_replay_fast_books_only(benchmark, recording):
    """The native path with ``decode_other`` off: trades and tickers classified in C and dropped
    (what a driver that keeps books only needs; the earlier BinanceFastSync's measure)."""
    text = [f.decode() for f in recording]
    book = benchmark.pedantic(lambda: _replay(text, True, decode_other=False), rounds=5, warmup_rounds=1)
    RESULTS["replay_fast_books_only"] = len(recording) / benchmark.stats.stats.min
    BOOKS["replay_fast_books_only"] = book.to_bytes()


@pytest.mark.benchmark(group="replay")
def test_replay_python(benchmark, recording):
    book = benchmark.pedantic(lambda: _replay(recording, False), rounds=3, warmup_rounds=1)
    RESULTS["replay_python"] = len(recording) / benchmark.stats.stats.min
    BOOKS["replay_python"] = book.to_bytes()


def test_zz_report():
    """Print the figures of this run; check every path ended on the same book."""
    if "fast" in BOOKS and "orjson" in BOOKS:
        assert BOOKS["fast"] == BOOKS["orjson"]
    if "ccxt" in BOOKS and "fast" in BOOKS:
        bp, bq, ap, aq, nonce = BOOKS["ccxt"]
        assert (bp, bq, ap, aq) == BOOKS["fast"]
    if "replay_fast" in BOOKS and "replay_python" in BOOKS:
        assert BOOKS["replay_fast"] == BOOKS["replay_python"] == BOOKS.get("replay_fast_books_only", BOOKS["replay_fast"])
    r = RESULTS
    lines = ["", "depthUpdate 20+20 -> book (min over rounds, µs/message):"]
    for name in ("fast", "orjson", "ccxt"):
        if name in r:
            ratio = f"  ({r[name] / r['fast']:.1f}x fast)" if "fast" in r and name != "fast" else ""
            lines.append(f"  {name:8s} {r[name]:8.2f}{ratio}")
    for name in ("replay_fast", "replay_fast_books_only", "replay_python"):
        if name in r:
            lines.append(f"replay {name[7:]:16s} {r[name]:12,.0f} messages/s")
    print("\n".join(lines))
