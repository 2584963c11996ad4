"""End to end: live books from the exchange simulator (websocket -> stock ccxt.pro -> LiveFeed)
published to a real redis-server by a RedisPublisher attached to the feed, and read back by a
FanoutReader in another process (live top messages, the latest top and report keys)."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path

from redis_server import redis_url  # noqa: F401  (the fixture)
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard)

from liqcore.fanout import RedisPublisher

READER = r'''
import json, sys
from liqcore.fanout import FanoutReader

url, n = sys.argv[1], int(sys.argv[2])
with FanoutReader(url) as reader, reader.subscribe("top", exchange="binance", symbol="BTC/USDT") as sub:
    print("ready", flush=True)
    got = []
    while len(got) < n:
        m = sub.get(timeout_s=30.0)
        if m is None:
            break
        got.append(m.data)
    out = {"tops": got, "latest_top": reader.latest("top", "binance", "BTC/USDT"),
           "latest_report": reader.latest("report", "binance", "BTC/USDT")}
print(json.dumps(out), flush=True)
'''


async def _run(url: str, tmp_path: Path, n: int) -> tuple[dict, dict, float]:
    import ccxt.pro as ccxt_pro

    from liqcore.feed import LiveFeed
    from liqcore.sim import ExchangeSimulator

    script = tmp_path / "reader.py"
    script.write_text(READER)
    async with ExchangeSimulator(seed=4, interval=0.02, max_seconds=120) as sim:
        ex = sim.attach(ccxt_pro.binance({"enableRateLimit": False}))
        async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": ex}) as feed:
            await feed.wait_live(timeout=20)
            with RedisPublisher(url, backoff_s=(0.01, 0.2)) as pub:
                unsubscribe = pub.attach(feed)
                proc = await asyncio.create_subprocess_exec(sys.executable, str(script), url, str(n), cwd=tmp_path,
                                                            stdout=asyncio.subprocess.PIPE)
                assert proc.stdout is not None
                assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
                # a report now and then, as a dashboard feeder would
                while proc.returncode is None:
                    pub.publish_report(feed.book("binance", "BTC/USDT").liquidity_report())
                    try:
                        await asyncio.wait_for(proc.wait(), 0.2)
                    except asyncio.TimeoutError:
                        pass
                out = json.loads(await proc.stdout.read())
                unsubscribe()
                mid = feed.book("binance", "BTC/USDT").mid
                assert pub.flush()
                return out, pub.stats(), mid


def test_live_books_reach_a_reader_in_another_process(redis_url: str, tmp_path: Path) -> None:
    out, stats, mid = asyncio.run(_run(redis_url, tmp_path, 50))
    tops = out["tops"]
    assert len(tops) == 50
    assert all(t["exchange"] == "binance" and t["symbol"] == "BTC/USDT" for t in tops)
    assert all(t["bid"] < t["ask"] and t["bid_size"] > 0 and t["ask_size"] > 0 for t in tops)
    assert all(abs(t["mid"] / mid - 1) < 0.05 for t in tops)             # the simulator's BTC price
    assert len({(t["bid"], t["bid_size"], t["ask"], t["ask_size"]) for t in tops}) > 1   # the book moved
    stamps = [t["ts_ms"] for t in tops]
    assert stamps == sorted(stamps)                                     # in publishing order
    assert out["latest_top"]["ts_ms"] >= stamps[-1]
    report = out["latest_report"]
    assert report["exchange"] == "binance" and report["symbol"] == "BTC/USDT"
    assert report["liquidity_1pct"] > 0 and math.isfinite(report["score"])
    assert stats["published"] >= 50 and stats["dropped"] == stats["failed"] == stats["errors"] == 0


def test_a_monitors_alerts_reach_the_stream_in_order(redis_url: str) -> None:
    """LiveLiquidityMonitor(on_alert=publisher.publish_alert) over a replayed book with a spread
    blow-out: the stream holds exactly the monitor's alerts (start, then end), equal field by field."""
    from test_alerts_monitor import Replay, fast_rules

    from liqcore.alerts import LiveLiquidityMonitor
    from liqcore.fanout import FanoutReader

    with FanoutReader(redis_url) as reader, RedisPublisher(redis_url, backoff_s=(0.01, 0.2)) as pub:
        monitor = LiveLiquidityMonitor(rules=fast_rules(), on_alert=pub.publish_alert)
        replay = Replay(monitor)
        raised = replay.run(30)                                    # warm-up: calm
        replay.src.disturb("spread", 150, ticks=3000)
        raised += replay.run(12)
        assert [(a.type, a.active) for a in raised] == [("SPREAD_WIDENING", True), ("SPREAD_WIDENING", False)]
        assert pub.flush()
        assert [a for _, a in reader.alerts()] == raised
        assert reader.latest("alert", "binance", "BTC/USDT")["ended_ms"] == raised[1].ended_ms
