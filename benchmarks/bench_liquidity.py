"""Book-shape analytics from Python on the benchmark stream's final book (about 950 levels a
side, tick 0.1 around 60000): walls, clusters, the depth profile, pressure and the
liquidity report (target: <= 5 us for a 1000-level-a-side book), in microseconds per call.

    python -m pytest benchmarks/bench_liquidity.py -p no:cacheprovider --benchmark-json=liq.json
    python -m benchmarks.report liq.json
"""

from __future__ import annotations

import os
import timeit

import pytest

from benchmarks import peers as P
from benchmarks import stream as S

N = int(os.environ.get("LIQ_BENCH_N", S.N_UPDATES))

CALLS = {
    "liquidity_report()": "book.liquidity_report()",
    "walls(200)": "book.walls(200)",
    "clusters(200)": "book.clusters(200)",
    "depth_profile([10, 25, 50, 100, 200])": "book.depth_profile(BANDS)",
    "pressure()": "book.pressure()",
    "ofi() (tracking 1 level)": "book.ofi()",
}


@pytest.fixture(scope="module")
def book():
    st = S.load(N)
    a = P.LiqCore()
    b = a.snapshot(st.snap_bids.tolist(), st.snap_asks.tolist())
    b.track_ofi(1)
    a.apply_all(b, st.updates())
    return b


@pytest.mark.parametrize("call", list(CALLS), ids=[f"liqcore {c}" for c in CALLS])
def test_liquidity_call(benchmark, book, call):
    benchmark.group = "book shape from Python [us/call]"
    t = timeit.Timer(CALLS[call], globals={"book": book, "BANDS": [10.0, 25.0, 50.0, 100.0, 200.0]})
    loops = 20_000
    benchmark.extra_info.update(ops=loops, unit="us", per="call")
    benchmark.pedantic(t.timeit, args=(loops,), rounds=7, iterations=1, warmup_rounds=1)
