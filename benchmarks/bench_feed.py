"""Feed hot paths. Binance: one depthUpdate (20 bid + 20 ask changes) from the websocket frame to an
updated book, through liqcore's adapter (the Binance protocol) — native path (the frame's text routed
and parsed in C into its book in one pass, no JSON decode) and decoded path (orjson + apply_levels) —
vs stock ccxt.pro (Python book), in the same run. The frame is fed to what each library's read loop calls per
received message: liqcore's ``EngineMixin.liq_on_frame`` (its socket's frame reader hands it the text), stock ccxt.pro's
``Client.handle_message`` (decode + dispatch + sync + store, as in ``shared/research/ccxt_integration.md`` §4).
No network: the client is never connected.

    python -m pytest benchmarks/bench_feed.py -p no:cacheprovider --benchmark-columns=min,median,mean

Each round replays the next of N pre-generated contiguous frames on a synced ~300-level book.

Bitfinex (``-k bitfinex``): one round is one book update as Bitfinex sends it (a frame per changed
level, then the ``cs`` checksum frame) on a synced 25-level book, checksum verified, vs stock
ccxt.pro's ``bitfinex`` (its Python book and checksum) on the same frames.
"""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest

ccxt_pro = pytest.importorskip("ccxt.pro")

from benchmarks.receive import TextMessage, receive_step  # noqa: E402
from liqcore.feed.ccxt_binance import BinanceEngine  # noqa: E402

N_FRAMES = 20_000
LEVELS = 300


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
        frames.append(TextMessage(orjson.dumps(ev).decode()))
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
        live = ex.liq_begin_sync(client, "BTC/USDT")  # what the SUBSCRIBE ack does
        ob.live = live
        ex.orderbooks["BTC/USDT"] = ob
        ex.liq_on_snapshot_body(client, live, SNAPSHOT, orjson.dumps(SNAPSHOT))   # what the snapshot task does
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
    """Each round: one frame through what the connection's read loop calls per received message
    (:func:`benchmarks.receive.receive_step`)."""
    it = iter(FRAMES)
    step = receive_step(ex, client)

    def one():
        step(next(it))
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


# ------------------------------------------------------------------------------- Bitfinex
# One Bitfinex book update as it arrives: K level frames ``[chanId, [price, count, amount]]``, then
# the ``[chanId, "cs", checksum]`` frame; liqcore's adapter (exact decode, compiled book, checksum
# verified in C) vs stock ccxt.pro (its counted Python book and its Python checksum), same frames.
BFX_UPDATES, BFX_K, BFX_CHAN = 5_000, 4, 17000
BFX_MARKET = {"id": "tBTCUSD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD", "baseId": "BTC", "quoteId": "USD",
              "type": "spot", "spot": True, "margin": False, "swap": False, "future": False, "option": False,
              "active": True, "contract": False, "linear": None, "inverse": None,
              "precision": {"price": 5, "amount": 8}, "limits": {}, "info": {}}


def _bfx_frames(n=BFX_UPDATES, k=BFX_K, seed=2):
    """Subscribed event, snapshot frame and ``n`` updates (lists of K+1 frames), from a reference
    book kept at 25 levels per side; checksums by the simulator's Python implementation."""
    from decimal import Decimal

    from liqcore.sim.checksum import bitfinex_checksum, js_number
    rng = random.Random(seed)

    def amount():
        return str(Decimal(rng.randint(1, 10**8)) / Decimal(10**8) * rng.choice((1, 10, 100)))

    books = [{60000 - 1 - 2 * i: amount() for i in range(25)}, {60000 + 1 + 2 * i: amount() for i in range(25)}]

    def level(side, px, size):
        if size is None:
            return f"[{BFX_CHAN},[{px},0,{-1 if side else 1}]]"
        return f"[{BFX_CHAN},[{px},{1 + px % 5},{js_number(('-' if side else '') + size)}]]"

    def checksum():
        bids = [(str(p), books[0][p]) for p in sorted(books[0], reverse=True)]
        asks = [(str(p), books[1][p]) for p in sorted(books[1])]
        return bitfinex_checksum(bids, asks)

    subscribed = orjson.dumps({"event": "subscribed", "channel": "book", "chanId": BFX_CHAN, "symbol": "tBTCUSD",
                               "prec": "P0", "freq": "F0", "len": "25", "pair": "BTCUSD"}).decode()
    snap = [level(0, p, books[0][p])[len(f"[{BFX_CHAN},"):-1] for p in sorted(books[0], reverse=True)]
    snap += [level(1, p, books[1][p])[len(f"[{BFX_CHAN},"):-1] for p in sorted(books[1])]
    snapshot = f"[{BFX_CHAN},[{','.join(snap)}]]"
    updates = []
    for _ in range(n):
        frames = []
        for _ in range(k):
            side = rng.randrange(2)
            book = books[side]
            px = rng.choice(sorted(book, reverse=not side)[:10])
            if rng.random() < 0.7:                       # a size change near the touch
                book[px] = amount()
                frames.append(level(side, px, book[px]))
            else:                                        # a level goes; a new one enters at the far end
                del book[px]
                frames.append(level(side, px, None))
                far = (min(book) - 1 - rng.randrange(3)) if side == 0 else (max(book) + 1 + rng.randrange(3))
                book[far] = amount()
                frames.append(level(side, far, book[far]))
        frames.append(f'[{BFX_CHAN},"cs",{checksum()}]')
        updates.append([TextMessage(f) for f in frames])
    return TextMessage(subscribed), TextMessage(snapshot), updates


BFX_SUBSCRIBED, BFX_SNAPSHOT, BFX_FRAMES = _bfx_frames()


async def _bfx_synced(cls):
    ex = cls({"enableRateLimit": False})
    ex.set_markets([BFX_MARKET])
    client = ex.client("ws://127.0.0.1:9/api-pub.bitfinex.com/ws/2")    # never connected
    client.handle_message(BFX_SUBSCRIBED)
    client.handle_message(BFX_SNAPSHOT)
    return ex, client


def _bfx_run(benchmark, cls):
    loop = asyncio.new_event_loop()
    ex, client = loop.run_until_complete(_bfx_synced(cls))
    step = receive_step(ex, client)
    it = iter(BFX_FRAMES)

    def one():
        for frame in next(it):
            step(frame)
    try:
        benchmark.pedantic(one, rounds=BFX_UPDATES - 10, iterations=1, warmup_rounds=5)
    finally:
        loop.run_until_complete(ex.close())
        loop.close()
    benchmark.extra_info["frames_per_update"] = sum(map(len, BFX_FRAMES)) / len(BFX_FRAMES)
    return ex


@pytest.mark.benchmark(group="feed: bitfinex update (level frames + cs), frames -> verified book")
def test_bitfinex_liqcore_adapter(benchmark):
    from liqcore.feed.ccxt_bitfinex import BitfinexEngine
    ex = _bfx_run(benchmark, BitfinexEngine)
    live = ex.liq_books["BTC/USD"]
    st = live.stats
    # every checksum verified in C, none failed, ccxt's Python book empty
    assert st.resyncs == 0 and st.checksum_failed == 0 and st.checksum_ok == BFX_UPDATES - 5
    assert len(ex.orderbooks["BTC/USD"]["bids"]) == 0


@pytest.mark.benchmark(group="feed: bitfinex update (level frames + cs), frames -> verified book")
def test_bitfinex_stock_ccxt(benchmark):
    ex = _bfx_run(benchmark, ccxt_pro.bitfinex)
    # ccxt drops its book on a checksum mismatch: still there, so every checksum matched
    assert len(ex.orderbooks["BTC/USD"]["bids"]) == 25
