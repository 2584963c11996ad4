"""liqcore.risk from Python, against the issue's targets (no peer library computes these: the
baselines are the targets themselves); times per call:

- liquidation price of one position (Binance tiers, isolated): <= 2 us;
- liquidation prices of 1M positions vectorised (one tier; the 2021 BTCUSDT table): >= 10M/s;
- liquidation_risk with a walk of a 1,000-level live book: <= 10 us (and, no target, the same with
  the liquidation price computed from the tiers: what a RiskMonitor recompute costs);
- no target: one scalar liquidation_probability (the public entry, with its checks);
- historical VaR/ES of 50 assets x 1,000 days: <= 5 ms; parametric VaR of 500 assets: <= 5 ms;
- no target: portfolio liquidity risk of 10 positions on 1,000-level books; the liquidation map of 30
  days of 5-minute open interest and 1M trades.

    python -m pytest benchmarks/bench_risk.py -p no:cacheprovider --benchmark-columns=min,median
"""

from __future__ import annotations

import numpy as np
import pytest

from liqcore import OrderBook
from liqcore.feed.records import OpenInterest, Trade
from liqcore.risk import (LeverageTiers, Position, liquidation_map, liquidation_price, liquidation_prices,
                          liquidation_probability, liquidation_risk, liquidity_risk, parametric_var, tail_risk)

RNG = np.random.default_rng(7)
N_BOOK = 1_000_000


@pytest.fixture(scope="module")
def tiers():
    return LeverageTiers.default("binance", "BTCUSDT")


@pytest.fixture(scope="module")
def one_tier():
    """The 2021 table's first tier alone (0.4%, cum 0): the vectorised single-pass case."""
    return LeverageTiers.from_binance([{"bracket": 1, "initialLeverage": 125, "notionalCap": 1e12,
                                        "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0}])


@pytest.fixture(scope="module")
def accounts():
    sides = RNG.choice([1, -1], N_BOOK)
    sizes = RNG.uniform(0.001, 1.0, N_BOOK)
    entries = RNG.uniform(55_000, 65_000, N_BOOK)
    balances = sizes * entries / RNG.uniform(2, 20, N_BOOK)
    return sides, sizes, entries, balances


def test_liquidation_price_one_position(benchmark, tiers):
    benchmark.group = "risk: liquidation price, one position (target 2 us)"
    pos = Position("binance", "BTCUSDT", "long", size=1, entry_price=60_000, leverage=10)
    r = benchmark(liquidation_price, pos, tiers)
    assert r.price is not None


@pytest.mark.parametrize("table", ["one tier", "2021 BTCUSDT tiers"])
def test_liquidation_prices_vectorised(benchmark, accounts, tiers, one_tier, table):
    benchmark.group = "risk: liquidation prices of 1M positions (target >= 10M/s: <= 100 ms)"
    t = one_tier if table == "one tier" else tiers
    out = benchmark.pedantic(liquidation_prices, args=(*accounts, t), rounds=5, iterations=1)
    assert len(out.prices) == N_BOOK


@pytest.fixture(scope="module")
def book_1000():
    book = OrderBook(tick_size="0.1", lot_size="0.001")
    book.apply_snapshot([[f"{59999.9 - i * 0.1:.1f}", "0.5"] for i in range(1000)],
                        [[f"{60000.1 + i * 0.1:.1f}", "0.5"] for i in range(1000)])
    return book


def test_liquidation_risk_with_a_walk(benchmark, book_1000):
    benchmark.group = "risk: liquidation_risk + walk of a 1,000-level book (target 10 us)"
    pos = Position("binance", "BTCUSDT", "long", size=10, entry_price=60_000, leverage=10)
    r = benchmark(liquidation_risk, pos, sigma=0.6, liq_price=54_414.14, book=book_1000, horizon=1 / 365,
                  funding_rate=0.0001)
    assert r.exit_complete


def test_liquidation_risk_from_tiers_with_a_walk(benchmark, book_1000, tiers):
    benchmark.group = "risk: liquidation_risk + walk of a 1,000-level book (target 10 us)"
    pos = Position("binance", "BTCUSDT", "long", size=10, entry_price=60_000, leverage=10)
    r = benchmark(liquidation_risk, pos, sigma=0.6, tiers=tiers, book=book_1000, horizon=1 / 365,
                  funding_rate=0.0001)
    assert r.exit_complete and r.liq_price == liquidation_price(pos, tiers).price


def test_liquidation_probability_one(benchmark):
    benchmark.group = "risk: liquidation_probability, one position (no target)"
    p = benchmark(liquidation_probability, 60_000.0, 54_240.0, 0.6, 7 / 365, side="long")
    assert p == pytest.approx(0.236002, abs=5e-7)           # analytics.md §6.4, mu = 0


def test_historical_var_es_50_assets(benchmark):
    benchmark.group = "risk: historical VaR+ES, 50 assets x 1,000 days (target 5 ms)"
    pnl = RNG.normal(0, 1, (1_000, 50))
    holdings = RNG.uniform(-1, 1, 50)
    r = benchmark(tail_risk, pnl, 0.99, holdings=holdings)
    assert r.k == 10


def test_parametric_var_500_assets(benchmark):
    benchmark.group = "risk: parametric VaR, 500 assets (target 5 ms)"
    a = RNG.normal(0, 0.01, (800, 500))
    cov = np.cov(a, rowvar=False)
    exposures = RNG.uniform(-1e6, 1e6, 500)
    r = benchmark(parametric_var, exposures, cov)
    assert r.portfolio_var > 0


def test_liquidity_risk_10_positions(benchmark, book_1000):
    benchmark.group = "risk: portfolio liquidity risk, 10 positions on 1,000-level books (no target)"
    positions = [Position("binance", f"S{k}", "long" if k % 2 else "short", size=5 + k, entry_price=60_000,
                          leverage=10) for k in range(10)]
    books = {f"S{k}": book_1000 for k in range(10)}
    r = benchmark(liquidity_risk, positions, books, volumes={f"S{k}": 20_000.0 for k in range(10)})
    assert len(r.positions) == 10


@pytest.fixture(scope="module")
def month_of_open_interest():
    """30 days of 5-minute open interest (Binance's openInterestHist resolution) and 1M trades."""
    n, ex, sym = 30 * 288, b"binanceusdm", b"BTC/USDT:USDT"
    oi = np.zeros(n, dtype=OpenInterest.DTYPE)
    oi["exchange"], oi["symbol"], oi["ts_ms"] = ex, sym, np.arange(n) * 300_000
    oi["size"] = 1e4 + np.cumsum(RNG.normal(0, 30, n)).clip(-9e3)
    trades = np.zeros(1_000_000, dtype=Trade.DTYPE)
    trades["exchange"], trades["symbol"] = ex, sym
    trades["ts_ms"] = np.sort(RNG.integers(0, n * 300_000, len(trades)))
    trades["price"] = 60_000 * np.exp(np.cumsum(RNG.normal(0, 1e-4, len(trades))))
    trades["size"] = RNG.exponential(0.05, len(trades))
    return oi, trades


def test_liquidation_map_month(benchmark, month_of_open_interest):
    benchmark.group = "risk: liquidation map, 30 days of 5-min open interest + 1M trades (no target)"
    m = benchmark.pedantic(liquidation_map, args=month_of_open_interest, rounds=5, iterations=1)
    assert m.buckets > 0
