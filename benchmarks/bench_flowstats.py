"""Batch statistics of liqcore.flowstats on realistic sizes, reported per element.

* VPIN over 1M trades (exact sides, and BVC over 1M price changes), VBS = volume / 50 per day-like
  chunk, window 50;
* the time-weighted spread over one day of 100 ms quotes (864,000 quotes) in 1-minute windows;
* effective/realized/impact spreads of 1M trades against those quotes at 4 horizons;
* Kyle's lambda and Amihud over 1M intervals, tick rule and time bars over 1M trades.

Kernels are compiled (or loaded from numba's cache) before timing. Per element = median / n:

    python -m pytest benchmarks/bench_flowstats.py -p no:cacheprovider --benchmark-json=flowstats.json
    python -m benchmarks.report flowstats.json
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from liqcore import flowstats as F

N = int(os.environ.get("LIQ_BENCH_N", 1_000_000))
DAY_QUOTES = 864_000  # one day of 100 ms quotes


@pytest.fixture(scope="module")
def trades():
    rng = np.random.default_rng(7)
    t = np.sort(rng.integers(0, 86_400_000_000_000, N))  # ns over a day
    side = rng.choice(np.array([-1, 1]), N)
    price = 60_000 * np.exp(np.cumsum(rng.normal(0, 2e-5, N)))
    size = rng.exponential(0.05, N)
    return dict(t=t, price=price, size=size, side=side)


@pytest.fixture(scope="module")
def quotes():
    rng = np.random.default_rng(8)
    t = np.arange(DAY_QUOTES, dtype=np.int64) * 100_000_000
    mid = 60_000 * np.exp(np.cumsum(rng.normal(0, 1e-5, DAY_QUOTES)))
    half = 0.005 + rng.exponential(0.5, DAY_QUOTES)
    return dict(t=t, bid=mid - half, ask=mid + half)


def _per_element(benchmark, n, fn, *args, **kwargs):
    fn(*args, **kwargs)  # compile / load the kernel outside the timing
    benchmark.extra_info["elements"] = n
    res = benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=5, iterations=1)
    benchmark.extra_info["ns_per_element"] = benchmark.stats.stats.median * 1e9 / n
    return res


def test_vpin_exact_1m(benchmark, trades):
    vbs = trades["size"].sum() / 50
    r = _per_element(benchmark, N, F.vpin, trades["t"], trades["size"], vbs, 10, side=trades["side"])
    assert r.buy_volume.size >= 49


def test_vpin_bvc_1m(benchmark, trades):
    dp = np.r_[0.0, np.diff(trades["price"])]
    vbs = trades["size"].sum() / 50
    r = _per_element(benchmark, N, F.vpin, trades["t"], trades["size"], vbs, 10, price_change=dp)
    assert r.buy_volume.size >= 49


def test_time_bars_1m(benchmark, trades):
    _per_element(benchmark, N, F.time_bars, trades["t"], trades["price"], trades["size"], 60_000_000_000,
                 side=trades["side"])


def test_tick_rule_1m(benchmark, trades):
    _per_element(benchmark, N, F.tick_rule, trades["price"])


def test_time_weighted_spread_day_100ms(benchmark, quotes):
    edges = np.arange(0, 86_400_000_000_001, 60_000_000_000, dtype=np.int64)  # 1-min windows
    r = _per_element(benchmark, DAY_QUOTES, F.time_weighted_spread, quotes["t"], quotes["bid"],
                     quotes["ask"], edges)
    assert np.isfinite(r.spread).all()


def test_quoted_spread_day_100ms(benchmark, quotes):
    _per_element(benchmark, DAY_QUOTES, F.quoted_spread, quotes["bid"], quotes["ask"])


def test_trade_spreads_1m_4_horizons(benchmark, trades, quotes):
    h = np.array([1, 5, 60, 300], dtype=np.int64) * 1_000_000_000
    _per_element(benchmark, N, F.trade_spreads, trades["t"], trades["price"], trades["size"], trades["side"],
                 quotes["t"], quotes["bid"], quotes["ask"], h)


def test_intervals_1m_trades_5min(benchmark, trades):
    edges = np.arange(0, 86_400_000_000_001, 300_000_000_000, dtype=np.int64)
    _per_element(benchmark, N, F.intervals, trades["t"], trades["price"], trades["size"], edges,
                 side=trades["side"])


def test_kyle_lambda_1m(benchmark):
    rng = np.random.default_rng(9)
    s = rng.normal(0, 10, N)
    r = 0.05 * s + rng.normal(0, 1, N)
    k = _per_element(benchmark, N, F.kyle_lambda, r, s)
    assert k.lam == pytest.approx(0.05, abs=1e-3)


def test_amihud_1m(benchmark):
    rng = np.random.default_rng(10)
    _per_element(benchmark, N, F.amihud, rng.normal(0, 0.01, N), rng.uniform(1e5, 1e7, N))
