"""hftbacktest's depths on the same stream, driven as ``research/peers.md`` describes.

hftbacktest has no "apply this update" call: its depth lives inside a backtester and the
updates are rows of a numpy ``event_dtype`` array given when the backtester is built.
So it does not fit ``peers.Adapter``; this module builds one backtester per round from
the same stream and uses the same pytest-benchmark group names as ``bench_book.py``.
Run both files in one pytest invocation and ``report.py`` puts hftbacktest into the
same tables, measured in the same run:

    python -m pytest benchmarks/bench_book.py benchmarks/bench_hftbacktest.py \\
        -p no:cacheprovider --benchmark-json=bench.json

(hftbacktest pins numba, which downgrades numpy: install it in its own virtualenv, see
benchmarks/README.md.) Groups:

- a) one update at a time: ``wait_next_feed()`` called from Python (one event per update,
  the first 200k updates: each call crosses into a numba jitclass), and the same loop in an
  ``@njit`` function over the whole stream, which is how hftbacktest is meant to be driven.
- b) one message of N: the whole stream in a single ``elapse()`` (a native replay).
- c) best bid + ask read from Python: ``best_bid``, ``best_ask`` and the quantities at
  their ticks. (In hftbacktest 2.4.4 the ROIVector depth's ``best_bid_qty`` and
  ``best_ask_qty`` return the price, not the quantity, so both depths are read through
  ``bid_qty_at_tick``/``ask_qty_at_tick``.)

Correctness as for every peer: after the whole stream, the top 50 levels of both sides
(found by scanning ticks from the touch: hftbacktest has no ordered view) equal the
generator's reference book.
"""

from __future__ import annotations

import gc
import os
import timeit

import numpy as np
import pytest

from benchmarks import stream as S

hft = pytest.importorskip("hftbacktest")
numba = pytest.importorskip("numba")

N = int(os.environ.get("LIQ_BENCH_N", S.N_UPDATES))
ROUNDS = int(os.environ.get("LIQ_BENCH_ROUNDS", 3))
PY_N = min(200_000, N)          # the Python-driven loop costs about a microsecond per update
DEPTHS = {"ROIVector": "ROIVectorMarketDepthBacktest", "HashMap": "HashMapMarketDepthBacktest"}
TS_STEP = 1_000                 # ns between updates: one event per timestamp
FOREVER = 1_000_000_000_000     # wait_next_feed timeout (ns)


@pytest.fixture(scope="module")
def st():
    return S.load(N)


def _update_events(st, n):
    ev = np.zeros(n, dtype=hft.event_dtype)
    side = np.where(st.sides[:n] == 0, hft.BUY_EVENT, hft.SELL_EVENT).astype(np.uint64)
    ev["ev"] = np.uint64(hft.EXCH_EVENT | hft.LOCAL_EVENT | hft.DEPTH_EVENT) | side
    ev["exch_ts"] = (np.arange(n, dtype=np.int64) + 1) * TS_STEP
    ev["local_ts"] = ev["exch_ts"]
    ev["px"] = st.prices[:n]
    ev["qty"] = st.sizes[:n]                 # size 0 deletes the level
    return ev


def _snapshot_events(st):
    nb, na = len(st.snap_bids), len(st.snap_asks)
    ev = np.zeros(nb + na, dtype=hft.event_dtype)
    base = hft.EXCH_EVENT | hft.LOCAL_EVENT | hft.DEPTH_SNAPSHOT_EVENT
    ev["ev"][:nb] = base | hft.BUY_EVENT
    ev["ev"][nb:] = base | hft.SELL_EVENT
    ev["px"][:nb], ev["qty"][:nb] = st.snap_bids[:, 0], st.snap_bids[:, 1]
    ev["px"][nb:], ev["qty"][nb:] = st.snap_asks[:, 0], st.snap_asks[:, 1]
    return ev


class Run:
    """A backtester and the event arrays it reads. hftbacktest keeps a raw pointer to
    numpy data given to ``BacktestAsset.data``/``initial_snapshot`` without a reference:
    the arrays must outlive the backtester (freed early, it replays garbage)."""

    def __init__(self, depth, st, n):
        self.events, self.snapshot = _update_events(st, n), _snapshot_events(st)
        asset = (hft.BacktestAsset().data(self.events).initial_snapshot(self.snapshot)
                 .linear_asset(1.0).constant_order_latency(0, 0).risk_adverse_queue_model()
                 .no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
                 .tick_size(S.TICK).lot_size(S.LOT).roi_lb(50_000.0).roi_ub(70_000.0))
        self.hbt = getattr(hft, DEPTHS[depth])([asset])


@numba.njit
def _drive_njit(hbt, n):
    for _ in range(n):
        hbt.wait_next_feed(False, FOREVER)


def _drive_py(hbt, n):
    wait = hbt.wait_next_feed
    for _ in range(n):
        wait(False, FOREVER)


def top(depth, n):
    """(bids, asks) best first as (price, size), scanning ticks from the touch."""
    out = []
    for tick, step, qty_at in ((depth.best_bid_tick, -1, depth.bid_qty_at_tick),
                               (depth.best_ask_tick, 1, depth.ask_qty_at_tick)):
        lv, t = [], tick
        for _ in range(100_000):
            if len(lv) == n:
                break
            q = qty_at(t)
            if q > 0:
                lv.append((t * S.TICK, q))
            t += step
        out.append(lv)
    return out


def check_top50(depth, st):
    """Top 50 of both sides against the reference book (after the whole stream)."""
    bids, asks = top(depth, 50)
    for got, ref in ((bids, st.ref_bids[:50]), (asks, st.ref_asks[:50])):
        got = np.array(got)
        assert got.shape == ref.shape
        assert np.allclose(got[:, 0], ref[:, 0], rtol=0, atol=1e-6)   # tick * 0.1 is not the wire float
        assert np.allclose(got[:, 1], ref[:, 1], rtol=0, atol=1e-9)


def _warm(depth, st):
    """numba compiles the jitclass methods and _drive_njit on first call: do it untimed."""
    run = Run(depth, st, 100)
    _drive_njit(run.hbt, 40)
    _drive_py(run.hbt, 40)
    run.hbt.elapse(100 * TS_STEP)


@pytest.mark.parametrize("depth", list(DEPTHS))
@pytest.mark.parametrize("mode", ["Python", "njit"])
def test_a_apply_1by1(benchmark, st, depth, mode):
    """a) one update per wait_next_feed() call; ns/update."""
    benchmark.group = "a) apply 1-by-1 [ns/update]"
    benchmark.name = f"test_a_hftbacktest[hftbacktest {depth} ({mode})]"
    _warm(depth, st)
    n = PY_N if mode == "Python" else N
    fn = _drive_py if mode == "Python" else _drive_njit
    runs = []

    def setup():
        runs[:] = [Run(depth, st, n)]
        gc.collect()
        return (runs[0].hbt, n), {}
    benchmark.extra_info.update(ops=n, unit="ns", per="update", version=hft.__version__)
    benchmark.pedantic(fn, setup=setup, rounds=ROUNDS, iterations=1)
    if n == st.n:
        check_top50(runs[0].hbt.depth(0), st)
        benchmark.extra_info["top50_agrees"] = True


@pytest.mark.parametrize("depth", list(DEPTHS))
def test_b_one_elapse(benchmark, st, depth):
    """b) the whole stream in one native elapse(); ns/level."""
    benchmark.group = "b) batched, one message of N [ns/level]"
    benchmark.name = f"test_b_hftbacktest[hftbacktest {depth} (one elapse())]"
    _warm(depth, st)
    runs = []

    def setup():
        runs[:] = [Run(depth, st, N)]
        gc.collect()
        return (runs[0].hbt,), {}
    benchmark.extra_info.update(ops=N, unit="ns", per="level", version=hft.__version__)
    benchmark.pedantic(lambda hbt: hbt.elapse((N + 1) * TS_STEP), setup=setup, rounds=ROUNDS, iterations=1)
    check_top50(runs[0].hbt.depth(0), st)
    benchmark.extra_info["top50_agrees"] = True


@pytest.mark.parametrize("depth", list(DEPTHS))
def test_c_best_bid_ask(benchmark, st, depth):
    """c) best bid + ask (price and size) read from Python on the final book; ns."""
    benchmark.group = "c) best bid+ask read [ns]"
    benchmark.name = f"test_c_hftbacktest[hftbacktest {depth} (Python):bbo]"
    _warm(depth, st)
    run = Run(depth, st, N)
    run.hbt.elapse((N + 1) * TS_STEP)
    d = run.hbt.depth(0)
    check_top50(d, st)
    t = timeit.Timer("d.best_bid, d.bid_qty_at_tick(d.best_bid_tick), d.best_ask, d.ask_qty_at_tick(d.best_ask_tick)",
                     globals={"d": d})
    loops = 20_000
    benchmark.extra_info.update(ops=loops, unit="ns", per="read", version=hft.__version__)
    benchmark.pedantic(t.timeit, args=(loops,), rounds=7, iterations=1, warmup_rounds=1)
