"""Retry policy, backoff, scales, and the no-busy-loop guarantee of the feed's watch loop."""

from __future__ import annotations

import asyncio

import pytest

ccxt = pytest.importorskip("ccxt")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401
from simtest import run  # noqa: E402

from liqcore.errors import FeedConfigError, FeedError, LiqError, SequenceGapError  # noqa: E402
from liqcore.feed import Backoff, LiveFeed, classify_error, create_exchange  # noqa: E402
from liqcore.feed.ccxt_binance import BinanceEngine  # noqa: E402
from liqcore.feed.scales import grid_decimals  # noqa: E402
from liqcore.sim import ExchangeSimulator  # noqa: E402


def test_classify_error():
    for exc in (ccxt.NetworkError("x"), ccxt.RequestTimeout("x"), ccxt.ChecksumError("x"), ccxt.RateLimitExceeded("x"),
                ccxt.ExchangeError("busy"), SequenceGapError("gap"), OSError("reset"), asyncio.TimeoutError()):
        assert classify_error(exc) == "retry", exc
    for exc in (ccxt.AuthenticationError("x"), ccxt.BadSymbol("x"), ccxt.NotSupported("x"), FeedConfigError("x"),
                TypeError("bug")):
        assert classify_error(exc) == "fatal", exc
    assert issubclass(FeedError, LiqError) and issubclass(FeedError, RuntimeError)
    assert issubclass(FeedConfigError, ValueError)


def test_backoff_grows_caps_and_resets():
    b = Backoff(0.1, 1.0, jitter=0.0)
    assert [round(b.next(), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next() == 0.1
    j = Backoff(0.1, 1.0, jitter=0.5, seed=1)
    assert all(0.05 <= j.next() <= 0.1 for _ in range(1)) 
    with pytest.raises(FeedConfigError):
        Backoff(0, 1)


def test_grid_decimals():
    assert grid_decimals(0.01) == 2 and grid_decimals(1e-08) == 8 and grid_decimals(5) == 0
    assert grid_decimals(0.1) == 1 and grid_decimals(3, 2) == 3 and grid_decimals(None) is None
    assert grid_decimals(2, 3) is None


class _StaleRejecting(BinanceEngine):
    """ccxt's stale-rejection quirk, made permanent: every watch raises at once, without yielding."""

    async def watch_order_book(self, symbol, limit=None, params={}):  # noqa: B006
        raise ccxt.NetworkError("parked rejection")


class _Unknown(BinanceEngine):
    async def watch_order_book(self, symbol, limit=None, params={}):  # noqa: B006
        raise ccxt.BadSymbol("no such market")


def test_repeated_errors_never_busy_loop_and_fatal_errors_stop():
    async def body():
        async with ExchangeSimulator(seed=1, interval=0.005, max_seconds=20) as sim:
            ex = sim.attach(_StaleRejecting({"enableRateLimit": False}))
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)
            t = asyncio.create_task(ticker())
            async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": ex}, backoff=(0.02, 0.2)) as feed:
                await asyncio.sleep(0.6)
                st = feed.stats("binance", "BTC/USDT")
            t.cancel()
            # backoff 0.02, 0.04, ... capped at 0.2: about 6 calls in 0.6 s, never thousands
            # every call failed (the last one may still be in flight when the stats are read)
            assert 3 <= st["watch_calls"] <= 12 and st["watch_calls"] - 1 <= st["watch_errors"] <= st["watch_calls"]
            assert ticks > st["watch_calls"] * 10      # the event loop kept running between retries
            bad = sim.attach(_Unknown({"enableRateLimit": False}))
            async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": bad}) as feed:
                with pytest.raises(FeedError):
                    async for _ in feed:
                        pass
                assert feed.stats("binance", "BTC/USDT")["state"] == "failed"
                assert feed.stats("binance", "BTC/USDT")["watch_calls"] == 1
            with pytest.raises(FeedConfigError):
                async with LiveFeed([("binance", "NOPE/USDT")],
                                    exchanges={"binance": sim.attach(create_exchange("binance",
                                                                                     {"enableRateLimit": False}))}):
                    pass
    run(body(), 15)
