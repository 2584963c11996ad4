"""Bybit and Coinbase book frames through liqcore's adapters (the venue protocols of
``liqcore/exchanges/``, driven by ccxt.pro's client) vs stock ccxt.pro on the same frames, in the same
run. Each frame is fed to what each library's read loop calls per message (``benchmarks/receive.py``:
liqcore's ``liq_on_frame``, stock ccxt.pro's ``Client.handle_message``); the client is never connected. Markets come from the local
simulator (``liqcore.sim``, 127.0.0.1).

    python -m pytest benchmarks/bench_venue_protocols.py -p no:cacheprovider --benchmark-columns=min,median,mean

Frames: Bybit ``orderbook.50`` deltas with 3 bid and 3 ask changes on a 50-level book (``u``
contiguous); Coinbase ``l2_data`` updates with 3 level changes on a 200-level book (``sequence_num``
contiguous). One round applies 1,000 frames (the figure per frame is the round / 1,000).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Callable

import orjson
import pytest

ccxt_pro = pytest.importorskip("ccxt.pro")

from benchmarks.receive import TextMessage, receive_step  # noqa: E402
from liqcore.feed.ccxt_bybit import BybitEngine  # noqa: E402
from liqcore.feed.ccxt_coinbase import CoinbaseEngine  # noqa: E402
from liqcore.sim import ExchangeSimulator  # noqa: E402

ROUND = 1_000
ROUNDS = 20


def _bybit_frames(n: int) -> list[str]:
    rng = random.Random(1)
    u = 1000

    def side(base: float, sign: int, size: Callable[[], str]) -> list[list[str]]:
        return [[f"{base + sign * rng.randrange(50) * 0.01:.2f}", size()] for _ in range(3)]

    snap = {"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": 1, "cts": 1, "data": {
        "s": "BTCUSDT", "u": u, "seq": 1, "b": [[f"{60000 - i * 0.01:.2f}", "1.000000"] for i in range(50)],
        "a": [[f"{60001 + i * 0.01:.2f}", "1.000000"] for i in range(50)]}}
    out = [orjson.dumps(snap).decode()]
    for _ in range(n):
        u += 1
        size = lambda: f"{rng.randrange(1, 10**6) / 1e6:.6f}"      # noqa: E731
        out.append(orjson.dumps({"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 2, "cts": 2, "data": {
            "s": "BTCUSDT", "u": u, "seq": u, "b": side(60000, -1, size), "a": side(60001, 1, size)}}).decode())
    return out


def _coinbase_frames(n: int) -> list[str]:
    rng = random.Random(1)
    seq = 0

    def msg(kind: str, updates: list[dict[str, str]]) -> str:
        nonlocal seq
        seq += 1
        return orjson.dumps({"channel": "l2_data", "client_id": "", "timestamp": "2024-01-01T00:00:00.123456789Z",
                             "sequence_num": seq, "events": [{"type": kind, "product_id": "BTC-USD",
                                                              "updates": updates}]}).decode()

    def row(bid: bool, px: float, qty: str) -> dict[str, str]:
        return {"side": "bid" if bid else "offer", "event_time": "2024-01-01T00:00:00Z", "price_level": f"{px:.2f}",
                "new_quantity": qty}

    out = [msg("snapshot", [row(True, 60000 - i * 0.01, "1") for i in range(100)]
               + [row(False, 60001 + i * 0.01, "1") for i in range(100)])]
    for _ in range(n):
        ups = []
        for _ in range(3):
            bid = rng.random() < 0.5
            px = 60000 - rng.randrange(100) * 0.01 if bid else 60001 + rng.randrange(100) * 0.01
            ups.append(row(bid, px, f"{rng.randrange(1, 10**8) / 1e8:.8f}"))
        out.append(msg("update", ups))
    return out


async def _markets(ex_id: str) -> dict[str, Any]:
    async with ExchangeSimulator(seed=1, interval=0.01, max_seconds=20) as sim:
        ex = sim.attach(getattr(ccxt_pro, ex_id)({"enableRateLimit": False}))
        try:
            return await ex.load_markets()
        finally:
            await ex.close()


VENUES = {  # ccxt id -> (adapter, socket url (never connected), unified symbol, frames)
    "bybit": (BybitEngine, "ws://127.0.0.1:9/stream.bybit.com/v5/public/spot", "BTC/USDT", _bybit_frames),
    "coinbase": (CoinbaseEngine, "ws://127.0.0.1:9/advanced-trade-ws.coinbase.com", "BTC/USD", _coinbase_frames),
}


def _run(benchmark: Any, ex_id: str, cls: Any) -> Any:
    _, url, symbol, make = VENUES[ex_id]
    markets = asyncio.run(_markets(ex_id))
    frames = make(ROUND * (ROUNDS + 5))
    loop = asyncio.new_event_loop()

    async def setup() -> tuple[Any, Any]:
        ex = cls({"enableRateLimit": False})
        ex.set_markets(list(markets.values()))
        client = ex.client(url)
        client.handle_message(TextMessage(frames[0]))          # the snapshot
        return ex, client
    ex, client = loop.run_until_complete(setup())
    handle = receive_step(ex, client)
    batches = iter([[TextMessage(f) for f in frames[1 + i * ROUND:1 + (i + 1) * ROUND]] for i in range(ROUNDS + 5)])

    def one() -> None:
        for m in next(batches):
            handle(m)
    try:
        benchmark.pedantic(one, rounds=ROUNDS, iterations=1, warmup_rounds=2)
    finally:
        loop.run_until_complete(ex.close())
        loop.close()
    benchmark.extra_info["frames_per_round"] = ROUND
    return ex, symbol


@pytest.mark.parametrize("ex_id", list(VENUES))
def test_liqcore_adapter(benchmark: Any, ex_id: str) -> None:
    ex, symbol = _run(benchmark, ex_id, VENUES[ex_id][0])
    st = ex.liq_books[symbol].stats
    # every delta applied in sequence, none skipped or resynced; ccxt's Python book empty
    assert st.applied == ROUND * (ROUNDS + 2) and st.gaps == st.resyncs == st.stale_skipped == 0, st
    assert len(ex.orderbooks[symbol]["bids"]) == 0


@pytest.mark.parametrize("ex_id", list(VENUES))
def test_stock_ccxt(benchmark: Any, ex_id: str) -> None:
    ex, symbol = _run(benchmark, ex_id, getattr(ccxt_pro, ex_id))
    assert len(ex.orderbooks[symbol]["bids"]) > 0
