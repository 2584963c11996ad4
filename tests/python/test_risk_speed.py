"""What the speed work of issue 11 changed must not show: the result records stay immutable,
comparable, printable and serialisable; the fast paths of the input checks refuse what the slow
paths refused; liquidation_risk's direct call of the probability kernel gives what
liquidation_probability gives, to the last bit.
"""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import RiskInputError
from liqcore.risk import (LeverageTiers, LiquidationResult, LiquidationRisk, Position, distance_to_liquidation,
                          liquidation_price, liquidation_probability, liquidation_risk)
from liqcore.risk.checks import all_numbers, number

BTC = LeverageTiers.default("binance", "BTCUSDT")
WEEK = 7 / 365


def long_10btc() -> Position:
    return Position("binance", "BTCUSDT", "long", size=10, entry_price=60_000, leverage=10)


def deep_book() -> OrderBook:
    book = OrderBook(tick_size="0.1", lot_size="0.001")
    book.apply_snapshot([[f"{59999.9 - i * 0.1:.1f}", "0.5"] for i in range(1000)],
                        [[f"{60000.1 + i * 0.1:.1f}", "0.5"] for i in range(1000)])
    return book


# -- the records --------------------------------------------------------------------------------

def test_liquidation_result_record_contract() -> None:
    r = liquidation_price(long_10btc(), BTC)
    assert r.price == pytest.approx(54_414.14, abs=0.005) and r.tier.index == 2     # analytics.md §6.1
    with pytest.raises(AttributeError):
        r.price = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        r.other = 1  # type: ignore[attr-defined]
    assert repr(r).startswith("LiquidationResult(price=54414.14") and "tier=Tier(index=2," in repr(r)
    assert r == liquidation_price(long_10btc(), BTC) and hash(r) == hash(liquidation_price(long_10btc(), BTC))
    assert pickle.loads(pickle.dumps(r)) == r and copy.deepcopy(r) == r
    d = r.to_dict()
    assert list(d) == list(LiquidationResult._fields) and d["tier"] == r.tier.to_dict()
    assert json.loads(json.dumps(d)) == d


def test_liquidation_risk_record_contract() -> None:
    r = liquidation_risk(long_10btc(), sigma=0.6, liq_price=54_414.14, book=deep_book(), horizon=1 / 365,
                         funding_rate=0.0001)
    with pytest.raises(AttributeError):
        r.score = 0.0  # type: ignore[misc]
    assert repr(r).startswith("LiquidationRisk(score=")
    assert pickle.loads(pickle.dumps(r)) == r and copy.deepcopy(r) == r
    d = r.to_dict()
    assert list(d) == list(LiquidationRisk._fields) and json.loads(json.dumps(d)) == d
    d["components"]["exit"] = 99.0                    # to_dict copies the dicts, as asdict did
    d["weights"].clear()
    assert r.components["exit"] != 99.0 and set(r.weights) == {"probability", "distance", "funding", "exit"}


def test_liquidation_risk_built_directly_gets_its_own_dicts() -> None:
    a = LiquidationRisk(0.0, None, 60_000.0, math.inf, 0.0, 0.0, None, None, None)
    b = LiquidationRisk(0.0, None, 60_000.0, math.inf, 0.0, 0.0, None, None, None)
    assert a.components == {} and a.weights == {} and a.components is not b.components
    c = LiquidationRisk(score=1.0, liq_price=1.0, mark=2.0, distance_sigma=1.0, probability=0.5, funding_cost=0.0,
                        exit_cost=None, exit_complete=None, exit_slippage_bps=None, components={"distance": 0.7})
    assert c.components == {"distance": 0.7} and c._replace(score=2.0).score == 2.0


# -- the checks' fast paths ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, False, np.bool_(True), "1.5", None, [1.0], (1.0,), np.array([1.0]),
                                   math.nan, math.inf, -math.inf, np.float64("nan"), 10 ** 400, 1j])
def test_number_refuses(value: object) -> None:
    with pytest.raises(RiskInputError, match="^x must be"):
        number("x", value)


@pytest.mark.parametrize("value, want", [(2.5, 2.5), (3, 3.0), (np.float64(2.5), 2.5), (np.int32(3), 3.0),
                                         (np.float32(0.5), 0.5), (-0.0, 0.0)])
def test_number_accepts(value: object, want: float) -> None:
    got = number("x", value)
    assert type(got) is float and got == want


@pytest.mark.parametrize("value, kw", [(0.0, dict(low=0.0)), (-1, dict(low=0.0, low_open=False)),
                                       (1.0, dict(high=1.0, high_open=True)), (2, dict(high=1.0)),
                                       ("abc", dict(text=True)), ("nan", dict(text=True)), ("-1", dict(text=True, low=0.0))])
def test_number_bounds_and_text(value: object, kw: dict[str, object]) -> None:
    with pytest.raises(RiskInputError, match="^x"):
        number("x", value, **kw)  # type: ignore[arg-type]
    assert number("x", "0.005", text=True) == 0.005 and number("x", 0, low=0.0, low_open=False) == 0.0


@pytest.mark.parametrize("values, want", [
    ((1.0, 2, np.float64(3.0), np.int64(4), np.float32(5.0)), True), ((), True), ((1.0, True), False),
    ((np.bool_(False),), False), ((1.0, "2"), False), ((None,), False), ((np.array(1.0),), False),
    (([1.0],), False)])
def test_all_numbers(values: tuple[object, ...], want: bool) -> None:
    assert all_numbers(*values) is want


# -- liquidation_risk calls the kernel directly: the same numbers --------------------------------

@settings(max_examples=300, deadline=None)
@given(side=st.sampled_from(["long", "short"]), lev=st.floats(1.5, 50.0), frac=st.floats(0.001, 0.9),
       sigma=st.floats(0.01, 3.0), horizon=st.floats(1e-4, 2.0), mark=st.floats(0.8, 1.2),
       checks=st.sampled_from([None, 1.0 / 525_600, 5.0 / 525_600, 1.0 / 365]))
def test_score_probability_is_liquidation_probability(side: str, lev: float, frac: float, sigma: float,
                                                      horizon: float, mark: float, checks: float | None) -> None:
    p = Position("binance", "BTCUSDT", side, size=1, entry_price=60_000, leverage=lev)
    lp = 60_000 * (1 - frac) if side == "long" else 60_000 * (1 + frac)
    monitoring = None if checks is None or checks > horizon else checks
    r = liquidation_risk(p, sigma=sigma, liq_price=lp, mark=60_000 * mark, horizon=horizon, monitoring=monitoring)
    assert r.probability == liquidation_probability(60_000 * mark, lp, sigma, horizon, monitoring=monitoring,
                                                    side=side)
    assert r.distance_sigma == pytest.approx(distance_to_liquidation(60_000 * mark, lp, sigma, horizon), rel=1e-12)


def test_score_probability_worked_example_and_monitoring_check() -> None:
    # analytics.md §6.4: 60,000 -> 54,240, sigma 60 %/yr, 7 days, mu = 0 -> 0.236002
    p = Position("binance", "BTCUSDT", "long", size=1, entry_price=60_000, leverage=10)
    r = liquidation_risk(p, sigma=0.6, liq_price=54_240, horizon=WEEK)
    assert r.probability == pytest.approx(0.236002, abs=5e-7)
    with pytest.raises(RiskInputError, match="monitoring"):
        liquidation_risk(p, sigma=0.6, liq_price=54_240, horizon=WEEK, monitoring=2 * WEEK)


def test_default_weights_are_shared_but_results_are_not() -> None:
    a = liquidation_risk(long_10btc(), sigma=0.6, liq_price=54_414.14)
    b = liquidation_risk(long_10btc(), sigma=0.6, liq_price=54_414.14)
    assert a == b and a.weights is not b.weights and a.components is not b.components
