"""A live liquidation-risk monitor against the local exchange simulator (no network).

A leveraged long on Binance USDⓈ-M BTCUSDT is watched by a ``RiskMonitor``: the book through a
``LiveFeed`` (liqcore's Binance adapter, a ccxt.pro subclass), mark price and funding through
``MarketData`` with stock ``ccxt.pro.binanceusdm``, both pointed at ``liqcore.sim`` on 127.0.0.1.
The simulated market then falls about 4 % (``SyntheticBook.move``) and comes back; the monitor
calls back when the score crosses 50 on the way up, and again when it falls back below 50 minus
the hysteresis (2 points). Prints::

    long 1 BTC @ 60000.0, 20x isolated: liquidation price 57236.18
    score ... (mark ...)
    market falls ...
    crossed 50 up: score ... -> ... at mark ...
    market recovers ...
    crossed 50 down: score ... -> ... at mark ...
    callbacks: 2
"""

from __future__ import annotations

import asyncio
from typing import Callable

import ccxt.pro

from liqcore.feed import LiveFeed, MarketData, create_exchange
from liqcore.risk import Position
from liqcore.risk.monitor import RiskEvent, RiskMonitor, RiskSnapshot
from liqcore.sim import ExchangeSimulator, SyntheticBook, default_instruments

SYMBOL = "BTC/USDT:USDT"
TICKS = 23_000          # 2,300 USDT on the 0.10 tick: the mark moves from ~60,000 to ~57,700


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async def _poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(_poll(), timeout)


async def main() -> None:
    inst = next(i for i in default_instruments() if i.venue == "binanceusdm" and i.id == "BTCUSDT")
    source = SyntheticBook(inst, seed=7)               # the simulated market, moved below
    position = Position("binanceusdm", SYMBOL, "long", size=1, entry_price=60_000, leverage=20)
    events: list[RiskEvent] = []

    def on_cross(e: RiskEvent) -> None:                 # a bot would cut the position here
        events.append(e)
        old = "none" if e.old_score is None else f"{e.old_score:.1f}"      # None: the first score
        print(f"crossed {e.threshold:.0f} {e.direction}: score {old} -> {e.new_score:.1f} at mark {e.risk.mark:.1f}")

    async with ExchangeSimulator([(inst, source)], seed=7, interval=0.01, max_seconds=60) as sim:
        book_ex = sim.attach(create_exchange("binanceusdm", {"enableRateLimit": False}))
        md_ex = sim.attach(ccxt.pro.binanceusdm({"enableRateLimit": False}))
        async with LiveFeed([("binanceusdm", SYMBOL)], exchanges={"binanceusdm": book_ex}) as feed, \
                MarketData([("binanceusdm", SYMBOL, "mark"), ("binanceusdm", SYMBOL, "funding")],
                           exchanges={"binanceusdm": md_ex}) as md, \
                RiskMonitor([position], feed=feed, market_data=md, sigma=0.60, thresholds=(50, 80),
                            min_interval=0.02, callback=on_cross) as monitor:
            def latest() -> RiskSnapshot:
                snap = monitor.latest(position)
                assert snap is not None
                return snap
            await monitor.wait_scored(20)
            await wait_for(lambda: latest().mark_source == "mark")     # priced by the mark, not the book's mid
            snap = latest()
            print(f"long 1 BTC @ 60000.0, 20x isolated: liquidation price {snap.risk.liq_price:.2f}")
            print(f"score {snap.score:.1f} (mark {snap.risk.mark:.1f})")

            print(f"market falls {TICKS * 0.1:.0f} USDT")
            source.move(-TICKS)
            await wait_for(lambda: len(events) == 1)
            print(f"market recovers {TICKS * 0.1:.0f} USDT")
            source.move(TICKS)
            await wait_for(lambda: len(events) == 2)
            await asyncio.sleep(0.3)                  # later marks: no more crossings
    print(f"callbacks: {len(events)}")


if __name__ == "__main__":
    asyncio.run(main())
