"""Feed hot path: one Binance depthUpdate (20 bid + 20 ask changes) from the websocket frame to an
updated book, through liqcore's adapter — fast path (frame text parsed in C into the book, no JSON
decode) and Python path (orjson + apply_levels) — vs stock ccxt.pro (Python book), in the same run. The frame is fed to ccxt's ``Client.handle_message`` (what the receive
loop calls per frame: decode + dispatch + sync + store), as in
``shared/research/ccxt_integration.md`` §4. No network: the client is never connected.

    python -m pytest benchmarks/bench_feed.py -p no:cacheprovider --benchmark-columns=min,median,mean

Each round replays the next of N pre-generated contiguous frames on a synced ~300-level book.
"""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest

ccxt_pro = pytest.importorskip("ccxt.pro")
from aiohttp import WSMsgType  # noqa: E402

from liqcore.feed.ccxt_binance import BinanceEngine  # noqa: E402

N_FRAMES = 20_000
LEVELS = 300


class _Msg:
    __slots__ = ("type", "data")

    def __init__(self, data):
        self.type = WSMsgType.TEXT
        self.data = data


def _frames(n=N_FRAMES, seed=1):
    rng = random.Random(seed)
    mid = 6_000_000                              # price in cents
    snap_b = [[f"{(mid - 1 - i) / 100:.8f}", f"{rng.randint(1, 10**6) / 1e5:.8f}"] for i in range(LEVELS)]
    snap_a = [[f"{(mid + 1 + i) / 100:.8f}", f"{rng.randint(1, 10**6) / 1e5:.8f}"] for i in range(LEVELS)]
    frames, u = [], 1000
    for _ in range(n):
        def side(sign):
            out = []
            for _ in range(20):
                px = mid + sign * (1 + int(rng.expovariate(1 / 30)) % LEVELS)
                qty = "0.00000000" if rng.random() < 0.25 else f"{rng.randint(1, 10**6) / 1e5:.8f}"
                out.append([f"{px / 100:.8f}", qty])
            return out
        ev = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": u + 1, "u": u + 3, "b": side(-1), "a": side(1)}
        u += 3
        frames.append(_Msg(orjson.dumps(ev).decode()))
    return {"lastUpdateId": 1000, "bids": snap_b, "asks": snap_a}, frames


SNAPSHOT, FRAMES = _frames()


class _PythonPathEngine(BinanceEngine):
    """The adapter with its Python path (the fallback: frames decoded by orjson)."""


FAST_PATH = {id(_PythonPathEngine): False}
MARKET = {"id": "BTCUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC", "quoteId": "USDT",
          "type": "spot", "spot": True, "margin": False, "swap": False, "future": False, "option": False,
          "active": True, "contract": False, "linear": None, "inverse": None, "lowercaseId": "btcusdt",
          "precision": {"price": 0.01, "amount": 1e-05}, "limits": {}, "info": {}}


async def _synced(cls):
    ex = cls({"enableRateLimit": False})
    ex.set_markets([MARKET])
    client = ex.client("ws://127.0.0.1:9/stream.binance.com/ws")    # never connected
    ob = ex.order_book({}, 1000)
    ob["symbol"] = "BTC/USDT"
    if isinstance(ex, BinanceEngine):
        ex.liq_fast_path = FAST_PATH.get(id(cls), True)
        live = ex.liq_begin_sync("BTC/USDT")          # what the SUBSCRIBE ack does
        live.client_url = client.url
        ob.live = live
        ex.liq_load_snapshot(live, SNAPSHOT)          # what the snapshot task does
    else:
        ob.reset(ex.parse_order_book(SNAPSHOT, "BTC/USDT"))
    ob["nonce"], ob["timestamp"] = SNAPSHOT["lastUpdateId"], 1   # timestamp set: strict U == nonce + 1
    ex.orderbooks["BTC/USDT"] = ob
    return ex, client


def _run(benchmark, cls):
    loop = asyncio.new_event_loop()
    ex, client = loop.run_until_complete(_synced(cls))
    try:
        return _measure(benchmark, ex, client)
    finally:
        loop.run_until_complete(ex.close())
        loop.close()


def _measure(benchmark, ex, client):
    it = iter(FRAMES)
    handle = client.handle_message

    def one():
        handle(next(it))
    benchmark.pedantic(one, rounds=N_FRAMES - 10, iterations=1, warmup_rounds=5)
    ob = ex.orderbooks["BTC/USDT"]
    assert ob["nonce"] > 1000 + 3 * 1000                     # frames were applied, no gap
    return ex, ob


@pytest.mark.benchmark(group="feed: depthUpdate 20+20, frame -> book")
def test_liqcore_adapter(benchmark):
    ex, ob = _run(benchmark, BinanceEngine)
    live = ex.liq_books["BTC/USDT"]
    assert live.stats.resyncs == 0 and live.stats.applied >= N_FRAMES - 10
    assert ex.liq_fast_frames == live.stats.applied           # every frame took the C frame path
    assert len(ob["bids"]) == 0                               # ccxt's Python book stayed empty
    benchmark.extra_info["levels"] = live.book.bid_count + live.book.ask_count


@pytest.mark.benchmark(group="feed: depthUpdate 20+20, frame -> book")
def test_liqcore_adapter_python_path(benchmark):
    ex, ob = _run(benchmark, _PythonPathEngine)
    live = ex.liq_books["BTC/USDT"]
    assert live.stats.resyncs == 0 and live.stats.applied >= N_FRAMES - 10
    assert ex.liq_fast_frames == 0
    benchmark.extra_info["levels"] = live.book.bid_count + live.book.ask_count


@pytest.mark.benchmark(group="feed: depthUpdate 20+20, frame -> book")
def test_stock_ccxt(benchmark):
    ex, ob = _run(benchmark, ccxt_pro.binance)
    assert len(ob["bids"]) > 100
    benchmark.extra_info["levels"] = len(ob["bids"]) + len(ob["asks"])
