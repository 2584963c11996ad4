"""liquidation_risk: the 0-100 score and its components (liqcore/risk/score.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import RiskInputError
from liqcore.risk import LeverageTiers, Position, liquidation_price, liquidation_probability
from liqcore.risk.score import ScoreWeights, liquidation_risk

WEEK = 7 / 365


def long_1btc():
    """Isolated long 1 BTC at 60,000, 10x: 6,000 USDT of margin."""
    return Position("binance", "BTCUSDT", "long", size=1, entry_price=60_000, leverage=10)


def test_components_without_a_book():
    r = liquidation_risk(long_1btc(), sigma=0.60, liq_price=54_240, horizon=WEEK, funding_rate=0.0001,
                         funding_intervals=21)
    k = abs(math.log(54_240 / 60_000)) / (0.60 * math.sqrt(WEEK))
    assert r.probability == pytest.approx(0.236002, abs=5e-7)            # analytics.md §6.4, mu = 0
    assert r.distance_sigma == pytest.approx(k)
    assert r.funding_cost == pytest.approx(0.0001 * 21 * 60_000)          # 126 USDT paid over the week
    comps = {"probability": r.probability, "distance": math.exp(-k / 3), "funding": 126 / 6_000 / 0.1}
    assert r.components == pytest.approx(comps)
    # no book: the exit weight is left out and the others renormalised (0.4 + 0.3 + 0.1)
    want = 100 * (0.4 * comps["probability"] + 0.3 * comps["distance"] + 0.1 * comps["funding"]) / 0.8
    assert r.score == pytest.approx(want) and r.exit_cost is None and set(r.weights) == set(comps)
    assert r.to_dict()["components"] == r.components


def test_exit_through_the_live_book():
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([["59990", "0.4"], ["59980", "0.4"], ["59900", "0.4"]], [["60010", "1"]])
    r = liquidation_risk(long_1btc(), sigma=0.60, liq_price=54_240, book=book, horizon=WEEK)
    assert r.mark == 60_000.0 and r.exit_complete is True                 # the mid
    vwap = (59_990 * 0.4 + 59_980 * 0.4 + 59_900 * 0.2) / 1.0
    slip_bps = (60_000 - vwap) / 60_000 * 1e4
    assert r.exit_slippage_bps == pytest.approx(slip_bps)
    assert r.exit_cost == pytest.approx(slip_bps / 1e4 * 60_000)
    assert r.components["exit"] == pytest.approx(r.exit_cost / 6_000 / 0.1)
    thin = OrderBook(tick_size="0.5", lot_size="0.1")
    thin.apply_snapshot([["59990", "0.4"]], [["60010", "1"]])
    t = liquidation_risk(long_1btc(), sigma=0.60, liq_price=54_240, book=thin, horizon=WEEK)
    assert t.exit_complete is False and t.components["exit"] == 1.0 and t.score > r.score


def test_liquidation_price_from_tiers_and_none():
    tiers = LeverageTiers.default("binance", "BTCUSDT")
    pos = long_1btc()
    r = liquidation_risk(pos, sigma=0.60, tiers=tiers, horizon=WEEK)
    assert r.liq_price == liquidation_price(pos, tiers).price
    # 1x long fully margined: no liquidation price, probability and distance 0
    safe = Position("binance", "BTCUSDT", "long", size=1, entry_price=60_000, leverage=1, wallet_balance=120_000)
    s = liquidation_risk(safe, sigma=0.60, tiers=tiers, horizon=WEEK)
    assert s.liq_price is None and s.probability == 0.0 and s.components["distance"] == 0.0 and s.score == 0.0
    # a cross short whose other positions lost more than the wallet: liquidated at any price, the worst
    gone = Position("binance", "BTCUSDT", "short", size=1, entry_price=60_000, leverage=20, margin_mode="cross",
                    wallet_balance=1_000, other_upnl=-70_000)
    assert liquidation_price(gone, tiers).reason == "liquidated at any price"
    g = liquidation_risk(gone, sigma=0.60, tiers=tiers, horizon=WEEK)
    assert (g.liq_price, g.probability, g.distance_sigma, g.components["distance"]) == (None, 1.0, 0.0, 1.0)
    assert g.score == pytest.approx(100 * (0.4 + 0.3) / 0.8)          # funding 0, no book


def test_short_mirrors_and_funding_received_scores_zero():
    short = Position("binance", "BTCUSDT", "short", size=1, entry_price=60_000, leverage=10)
    r = liquidation_risk(short, sigma=0.60, liq_price=65_737.05, horizon=WEEK, funding_rate=0.0005,
                         funding_intervals=21)
    assert r.funding_cost < 0 and r.components["funding"] == 0.0          # shorts receive positive funding
    assert r.probability == pytest.approx(float(liquidation_probability(60_000, 65_737.05, 0.6, WEEK)))


positions = st.builds(lambda side, lev: Position("binance", "BTCUSDT", side, size=1, entry_price=60_000,
                                                 leverage=lev), st.sampled_from(["long", "short"]),
                      st.floats(1.5, 50))


def _liq(pos, frac):
    return 60_000 * (1 - frac) if pos.side == "long" else 60_000 * (1 + frac)


@settings(max_examples=200, deadline=None)
@given(positions, st.floats(0.01, 0.5), st.floats(0.05, 2.0), st.floats(1 / 365, 1.0), st.floats(-0.001, 0.001),
       st.floats(1.01, 3.0))
def test_score_is_monotone_in_each_input(pos, frac, sigma, horizon, rate, factor):
    def score(**kw):
        args = dict(sigma=sigma, liq_price=_liq(pos, frac), horizon=horizon, funding_rate=rate, funding_intervals=3)
        args.update(kw)
        return liquidation_risk(pos, **args).score

    base = score()
    assert 0.0 <= base <= 100.0
    assert score(sigma=sigma * factor) >= base - 1e-9
    assert score(horizon=min(horizon * factor, 5.0)) >= base - 1e-9
    assert score(liq_price=_liq(pos, frac / factor)) >= base - 1e-9               # closer
    assert score(funding_rate=rate + pos.sign * 0.0001 * factor) >= base - 1e-9    # more paid


@pytest.mark.parametrize("kw, name", [
    (dict(sigma=0.0), "sigma"), (dict(sigma=float("nan")), "sigma"), (dict(horizon=-1.0), "horizon"),
    (dict(liq_price=-5.0), "liq_price"), (dict(liq_price=None), "tiers"), (dict(funding_rate="x"), "funding_rate"),
    (dict(weights=ScoreWeights), "weights"), (dict(mark=0.0), "mark"),
])
def test_bad_input(kw, name):
    args = dict(sigma=0.6, liq_price=54_240.0)
    with pytest.raises(RiskInputError, match=name):
        args.update(kw)
        if args.get("weights") is ScoreWeights:                  # all weights 0: refused when built
            args["weights"] = ScoreWeights(0, 0, 0, 0)
        liquidation_risk(long_1btc(), **args)
    with pytest.raises(RiskInputError, match="position"):
        liquidation_risk({"side": "long"}, sigma=0.6, liq_price=1.0)           # type: ignore[arg-type]
