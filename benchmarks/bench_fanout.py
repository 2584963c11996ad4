"""Redis fan-out publish rate: a private redis-server on 127.0.0.1 (tests/python/redis_server.py)
or ``--url``; a 20-level labelled book; N book tops published through one RedisPublisher.

- ``publish_top`` per call: what the feed pays (encoding + queueing; Redis not waited for), with
  the buffer large enough to hold every message;
- delivered per second: N messages from the first call until ``flush`` returns (every message
  PUBLISHed and SET in Redis by the drain thread), at the default batch of 256;
- the same for alerts (PUBLISH + SET + XADD MAXLEN ~).

::

    python benchmarks/bench_fanout.py            # N = 200,000
    python benchmarks/bench_fanout.py --n 50000 --url redis://127.0.0.1:6379/0

Figures printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from liqcore import OrderBook
from liqcore.alerts import LiquidityAlert
from liqcore.fanout import RedisPublisher


def book() -> OrderBook:
    b = OrderBook(tick_size="0.01", lot_size="0.00001", symbol="BTC/USDT", exchange="binance")
    b.apply_snapshot([[60_000 - i * 0.01, 0.5 + i] for i in range(20)],
                     [[60_000.01 + i * 0.01, 0.5 + i] for i in range(20)])
    return b


def alert(n: int) -> LiquidityAlert:
    return LiquidityAlert(id=f"binance:BTC/USDT:SPREAD_WIDENING:{n}", ts_ms=1_700_000_000_000 + n, exchange="binance",
                          symbol="BTC/USDT", type="SPREAD_WIDENING", severity="HIGH", metric="spread_bps", current=12.0,
                          baseline=2.0, deviation_pct=500.0, z=None, message="spread x6", suggested_action="widen",
                          requires_action=True, baseline_values={"median": 2.0})


def run(url: str, n: int, kind: str) -> tuple[float, float, dict]:
    b = book()
    alerts = [alert(i) for i in range(n)] if kind == "alert" else []
    with RedisPublisher(url, capacity=n, ttl_s=60, stream_maxlen=10_000) as pub:
        publish = pub.publish_top
        t0 = time.perf_counter()
        if kind == "top":
            for _ in range(n):
                publish(b)
        else:
            for a in alerts:
                pub.publish_alert(a)
        t1 = time.perf_counter()
        pub.flush(timeout_s=600)
        t2 = time.perf_counter()
        stats = pub.stats()
    return (t1 - t0) / n * 1e6, n / (t2 - t0), stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--url", default=None, help="a Redis to use (default: a private redis-server)")
    args = ap.parse_args()
    server = None
    url = args.url
    if url is None:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
        from redis_server import RedisServer
        import shutil

        binary = shutil.which("redis-server")
        if binary is None:
            print("no redis-server on PATH", file=sys.stderr)
            return 2
        server = RedisServer(binary)
        url = server.url()
    try:
        print(f"{'kind':6} {'N':>9} {'publish call us':>16} {'delivered msg/s':>16}  dropped failed")
        for kind in ("top", "alert"):
            per_call, rate, s = run(url, args.n, kind)
            print(f"{kind:6} {args.n:>9,} {per_call:>16.2f} {rate:>16,.0f}  {s['dropped']:>7} {s['failed']:>6}")
    finally:
        if server is not None:
            server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
