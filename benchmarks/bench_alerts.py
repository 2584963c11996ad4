"""AlertEngine.observe per book update with the four default rules: the compiled path
(src/alerts.c via liqcore._alerts) against the Python path (``compiled=False``), on one
pre-built stream of 100,000 observations of a calm market (10 updates/s, so 2.8 hours: every
baseline warm, the spread baseline refreshed every 5 s = every 50 updates). Issue 12's target:
<= 2 us per update with 4 rules. Per update = round median / N; ratio = Python / compiled:

    python -m pytest benchmarks/bench_alerts.py -p no:cacheprovider --benchmark-json=alerts.json
    python -m benchmarks.report alerts.json

``LIQ_BENCH_N`` changes the stream length, ``LIQ_BENCH_RATE`` the updates per second (a faster
book amortises the spread refresh over more updates). ``test_monitor_update``: the whole update of
a LiveLiquidityMonitor (reading the book into an observation, the cross-venue reference, the rules)
on books of 50 and 1,000 levels.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from liqcore.alerts import AlertEngine, Observation

N = int(os.environ.get("LIQ_BENCH_N", 100_000))
RATE = float(os.environ.get("LIQ_BENCH_RATE", 10.0))
NS = 1_000_000_000
T0 = 1_700_000_000 * NS


@pytest.fixture(scope="module")
def stream() -> list[Observation]:
    """The calm market of tests/python/test_alerts_rules.py: spread ~1 bps, depth ~1M per
    side, imbalance within ±0.3, mid a slow random walk."""
    rng = np.random.default_rng(12)
    mid = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 1e-4 / math.sqrt(RATE), N)))
    spread = 1.0 + 0.1 * rng.standard_normal(N)
    bid = 1e6 * (1 + 0.05 * rng.standard_normal(N))
    ask = 1e6 * (1 + 0.05 * rng.standard_normal(N))
    imb = rng.uniform(-0.3, 0.3, N)
    return [Observation("sim", "BTC/USDT", T0 + int(k / RATE * NS), float(mid[k]), float(spread[k]), float(bid[k]),
                        float(ask[k]), float(imb[k])) for k in range(N)]


def _run(engine: AlertEngine, stream: list[Observation]) -> int:
    observe = engine.observe
    alerts = 0
    for obs in stream:
        if observe(obs):
            alerts += 1
    return alerts


@pytest.mark.benchmark(group="alerts: AlertEngine.observe per update, 4 default rules")
@pytest.mark.parametrize("path", ["liqcore compiled", "python path"])
def test_observe_per_update(benchmark, stream, path) -> None:
    compiled = path == "liqcore compiled"

    def setup():
        return (AlertEngine(compiled=compiled), stream), {}

    alerts = benchmark.pedantic(_run, setup=setup, rounds=3, iterations=1)
    assert alerts == 0                          # a calm market raises nothing, on both paths
    benchmark.extra_info.update(ops=N, unit="ns", updates_per_s=RATE,
                                ns_per_update=benchmark.stats.stats.median * 1e9 / N)


def _book(levels: int):
    from liqcore import OrderBook
    rng = np.random.default_rng(3)
    book = OrderBook(tick_size="0.1", lot_size="0.001")
    book.apply_snapshot([[f"{60_000 - 0.1 * i:.1f}", f"{rng.uniform(0.1, 5):.3f}"] for i in range(1, levels + 1)],
                        [[f"{60_000 + 0.1 * i:.1f}", f"{rng.uniform(0.1, 5):.3f}"] for i in range(levels)])
    return book


@pytest.mark.benchmark(group="alerts: LiveLiquidityMonitor.on_book per update (observation + 4 rules)")
@pytest.mark.parametrize("levels", [50, 1000])
@pytest.mark.parametrize("venues", [1, 2])
def test_monitor_update(benchmark, levels, venues) -> None:
    """The whole update a live monitor makes: read the book (mid, spread, 1% depth per side,
    imbalance), compare with the other venue when there is one, run the rules (one unchanged
    book: the rules' cost does not depend on its values)."""
    from liqcore.alerts import LiveLiquidityMonitor
    book = _book(levels)
    monitor = LiveLiquidityMonitor(cross_venue=venues > 1)
    if venues > 1:
        monitor.on_book("okx", "BTC/USDT", book, ts=T0)
    n = min(N, 50_000)
    rounds = iter(range(1_000))                     # time keeps going forward from round to round

    def run() -> None:
        on_book = monitor.on_book
        start = next(rounds) * n
        for k in range(start, start + n):
            on_book("binance", "BTC/USDT", book, ts=T0 + k * 100_000_000)

    benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info.update(ops=n, unit="ns", ns_per_update=benchmark.stats.stats.median * 1e9 / n)
