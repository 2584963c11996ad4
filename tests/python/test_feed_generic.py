"""The feed's two paths for exchanges without a liqcore adapter, for real against the
simulator: mirroring stock ccxt.pro's ``watch_order_book`` into a compiled book ("watch"),
and polling ccxt's REST ``fetch_order_book`` at a set interval ("poll"). The path is
chosen by the exchange instance (liqcore.feed.mode_of); here stock instances of venues the
simulator speaks stand in for "any other exchange".
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
ccxt_pro = pytest.importorskip("ccxt.pro")
import ccxt.async_support as ccxt_rest  # noqa: E402

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import FAST, run, until  # noqa: E402

from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.feed.adapters import mode_of  # noqa: E402
from liqcore.sim import ExchangeSimulator  # noqa: E402



def top(levels, n):
    return [[float(p), float(q)] for p, q in levels[:n]]


def test_generic_mirror_of_stock_ccxt_pro_equals_the_true_book():
    async def body():
        async with ExchangeSimulator(seed=21, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(ccxt_pro.binance({"enableRateLimit": False}))
            assert mode_of(ex) == "watch"
            async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": ex}) as feed:
                await feed.wait_live(8)
                live = feed.live_book("binance", "BTC/USDT")
                await until(lambda: live.stats.messages >= 30)
                sim.pause()
                want = sim.last_update_id("binance", "BTCUSDT")
                await until(lambda: ex.orderbooks["BTC/USDT"]["nonce"] == want)       # ccxt has caught up
                await asyncio.sleep(0.1)                                 # and the mirror after it
                truth = sim.true_book("binance", "BTCUSDT")
                book = feed.book("binance", "BTC/USDT")
                assert book.bids(50).tolist() == top(truth["bids"], 50)
                assert book.asks(50).tolist() == top(truth["asks"], 50)
                assert live.stats.messages >= 30
    run(body())


def test_polling_rest_fetch_order_book_follows_the_true_book():
    async def body():
        async with ExchangeSimulator(seed=22, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(ccxt_rest.okx({"enableRateLimit": False}))
            assert mode_of(ex) == "poll"
            async with LiveFeed([("okx", "BTC/USDT")], exchanges={"okx": ex}, poll_interval=0.05) as feed:
                await feed.wait_live(8)
                live = feed.live_book("okx", "BTC/USDT")
                first = feed.book("okx", "BTC/USDT").bbo
                await until(lambda: live.stats.messages >= 3)            # several polls went through
                sim.pause()
                polled = live.stats.messages
                await until(lambda: live.stats.messages >= polled + 2)   # two polls after the freeze
                truth = sim.true_book("okx", "BTC-USDT")
                book = feed.book("okx", "BTC/USDT")
                assert book.bids(20).tolist() == top(truth["bids"], 20)
                assert book.asks(20).tolist() == top(truth["asks"], 20)
                assert book.bbo != first                                 # the book moved with the market
    run(body())
