"""Liquidity history and alerts, live, against the local exchange simulator (no network).

The simulator plays Binance and OKX BTC/USDT; a ``LiveFeed`` keeps both books through liqcore's
ccxt.pro adapters; a ``LiquidityTracker`` writes a liquidity report of each book every 0.2 s (and the
top 20 levels every 2 s) into an embedded SQLite store; a ``LiveLiquidityMonitor`` runs the alert
rules on every book update and writes its alerts to the same store. Then Binance's spread blows out
for three seconds (``SyntheticBook.disturb``): one SPREAD_WIDENING alert starts and ends. Finally a
range query reads the stored history back. Prints::

    watching binance BTC/USDT, okx BTC/USDT
    calm: 0 alerts
    binance spread blows out ...
    alert SPREAD_WIDENING HIGH on binance BTC/USDT: spread ... bps vs a median of ... bps
    alert SPREAD_WIDENING ended
    stored: ... reports of binance BTC/USDT over ... s, ... snapshots, 1 alert (ended)
    spread bps: median ..., max ...

(The rules' warm-ups are shortened so the example runs in about 20 s: seconds instead of minutes.)
"""

from __future__ import annotations

import asyncio
import tempfile
import time

import numpy as np

from liqcore.alerts import (DepthDrop, Imbalance, LiquidityAlert, LiquidityTracker, LiveLiquidityMonitor,
                            PriceAnomaly, SpreadWidening, alerts_from_rows)
from liqcore.feed import LiveFeed, create_exchange
from liqcore.sim import ExchangeSimulator
from liqcore.store import open_store

MARKETS = [("binance", "BTC/USDT"), ("okx", "BTC/USDT")]


async def main(path: str) -> None:
    alerts: list[LiquidityAlert] = []

    def on_alert(a: LiquidityAlert) -> None:
        alerts.append(a)
        print(f"alert {a.type} {a.severity} on {a.exchange} {a.symbol}: {a.message.split(': ', 1)[1]}"
              if a.active else f"alert {a.type} ended")

    rules = [SpreadWidening(lookback_s=60, refresh_s=0.5, min_count=100),
             DepthDrop(half_life_s=30, warmup_s=10, drop_pct=65, clear_pct=30),
             Imbalance(hold_s=2), PriceAnomaly(interval_s=0.2, warmup=10, half_life_s=30)]
    with open_store(f"sqlite:///{path}") as store:
        async with ExchangeSimulator(seed=3, interval=0.02, max_seconds=60) as sim:
            exchanges = {ex: sim.attach(create_exchange(ex, {"enableRateLimit": False})) for ex, _ in MARKETS}
            async with LiveFeed(MARKETS, exchanges=exchanges) as feed:
                await feed.wait_live(timeout=20)
                print("watching " + ", ".join(f"{ex} {sym}" for ex, sym in MARKETS))
                t0 = time.time_ns()
                tracker = LiquidityTracker(store, feed, interval_s=0.2, snapshot_interval_s=2.0)
                # each venue's mid is also compared with the other's (a few ticks apart: under the
                # 10 bps floor of the cross-venue check)
                async with tracker, LiveLiquidityMonitor(feed, rules=rules, on_alert=on_alert, store=store) as monitor:
                    # the baselines warm up on a calm market (about 10 s), then 3 s more of it are judged
                    while monitor.warming("binance", "BTC/USDT"):
                        await asyncio.sleep(0.1)
                    await asyncio.sleep(3)
                    print(f"calm: {len(alerts)} alerts")
                    print("binance spread blows out ...")
                    sim.market("binance", "BTC/USDT").source.disturb("spread", 150, ticks=3000)   # 3 s
                    calm = len(alerts)
                    for _ in range(200):
                        await asyncio.sleep(0.05)
                        if len(alerts) >= calm + 2:             # its start and its end
                            break
                t1 = time.time_ns()
        store.flush()
        reports = store.read("liquidity_reports", "binance", "BTC/USDT", t0, t1, columns=["ts", "spread_bps"])
        snapshots = store.read("book_snapshots", "binance", "BTC/USDT", t0, t1, columns=["ts"])
        stored = alerts_from_rows(store.read("alerts", "binance", "BTC/USDT", t0, t1))
        span = (reports["ts"][-1] - reports["ts"][0]) / 1e9
        print(f"stored: {len(reports)} reports of binance BTC/USDT over {span:.0f} s, {len(snapshots)} snapshots, "
              f"{len(stored)} alert{'s' if len(stored) != 1 else ''}"
              f"{' (ended)' if stored and not stored[0].active else ''}")
        print(f"spread bps: median {np.median(reports['spread_bps']):.3f}, max {reports['spread_bps'].max():.3f}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(main(f"{d}/history.db"))
