"""liqcore.risk.probability, .leverage and .funding: the worked examples of
shared/research/analytics.md §6.3-6.5 to the printed digits, the properties of the barrier
probability and of the leverage caps (hypothesis), a seeded Monte Carlo check of the
discrete-monitoring correction, and bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.errors import LiqError, RiskInputError
from liqcore.risk.funding import FundingRate, average_premium, funding_cost, funding_rate, premium_index
from liqcore.risk.leverage import LeverageCap, max_leverage
from liqcore.risk.tiers import LeverageTiers
from liqcore.risk.probability import (
    BGK_BETA,
    DAYS_PER_YEAR,
    MINUTES_PER_YEAR,
    distance_to_liquidation,
    liquidation_probability,
)

DAY = 1.0 / DAYS_PER_YEAR
SIGMA = 0.60
NU0 = SIGMA**2 / 2  # the drift mu that makes the log price driftless (the note's "nu = 0")


def ncdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


# ---------------------------------------------------------------- worked examples (§6.4)


@pytest.mark.parametrize("days, p_nu0, digits_nu0, p_mu0, digits_mu0", [
    (1, 0.0013106, 7, 0.0013783, 7),
    (7, 0.224502, 6, 0.236002, 6),
    (30, 0.557386, 6, 0.585449, 6),
])
def test_barrier_table_60000_to_54240(days, p_nu0, digits_nu0, p_mu0, digits_mu0):
    # column "P (nu = 0)": a driftless log price, i.e. mu = sigma^2/2; column "P (mu = 0)": drift=0
    p = liquidation_probability(60_000.0, 54_240.0, SIGMA, days * DAY, drift=NU0)
    assert round(p, digits_nu0) == p_nu0
    p = liquidation_probability(60_000.0, 54_240.0, SIGMA, days * DAY)
    assert round(p, digits_mu0) == p_mu0
    assert isinstance(p, float)


def test_barrier_nu0_is_the_reflection_principle():
    b = math.log(54_240.0 / 60_000.0)
    for days in (1, 7, 30):
        t = days * DAY
        expected = 2.0 * ncdf(-abs(b) / (SIGMA * math.sqrt(t)))
        assert liquidation_probability(60_000.0, 54_240.0, SIGMA, t, drift=NU0) == pytest.approx(expected, rel=1e-13)


def test_bgk_7_days_5_minute_monitoring():
    # the note's 0.23096 is the mu = 0 column (the nu = 0 value with the correction is 0.21959)
    p = liquidation_probability(60_000.0, 54_240.0, SIGMA, 7 * DAY, monitoring=5 / MINUTES_PER_YEAR)
    assert round(p, 5) == 0.23096
    assert round(liquidation_probability(60_000.0, 54_240.0, SIGMA, 7 * DAY, NU0, 5 / MINUTES_PER_YEAR), 5) == 0.21959
    # the same as a continuous barrier moved down by exp(-0.5826 sigma sqrt(dt))
    moved = 54_240.0 * math.exp(-BGK_BETA * SIGMA * math.sqrt(5 / MINUTES_PER_YEAR))
    assert p == pytest.approx(liquidation_probability(60_000.0, moved, SIGMA, 7 * DAY), rel=1e-14)


def test_bgk_against_seeded_monte_carlo():
    # 7 days checked every 5 minutes (2016 checks), mu = 0; the note's 200k-path run gave 0.23233.
    # 6,000 paths: standard error 0.0054, the tolerance is 4 of them.
    rng = np.random.default_rng(20261204)
    n_paths, n_steps = 6_000, 7 * 24 * 12
    dt = 5 / MINUTES_PER_YEAR
    steps = (-0.5 * SIGMA**2) * dt + SIGMA * math.sqrt(dt) * rng.standard_normal((n_paths, n_steps))
    running_min = np.minimum.accumulate(np.cumsum(steps, axis=1), axis=1)[:, -1]
    hit = float(np.mean(running_min <= math.log(54_240.0 / 60_000.0)))
    p = liquidation_probability(60_000.0, 54_240.0, SIGMA, 7 * DAY, monitoring=dt)
    se = math.sqrt(p * (1 - p) / n_paths)
    assert abs(hit - p) < 4 * se
    # and the uncorrected continuous barrier overstates it
    assert liquidation_probability(60_000.0, 54_240.0, SIGMA, 7 * DAY) > p


def test_distance_in_sigma_units_and_year_basis():
    assert round(distance_to_liquidation(60_000.0, 54_240.0, SIGMA, DAY), 2) == 3.21
    # the 365-day basis turns 60 %/yr into 3.1405 %/day
    assert round(100 * SIGMA * math.sqrt(DAY), 4) == 3.1405
    assert DAYS_PER_YEAR == 365.0 and MINUTES_PER_YEAR == 525_600.0


def test_short_is_the_mirror_image():
    # a short's up barrier at S^2/L with log drift -nu is the long's down barrier at L with nu
    s, lp, t = 60_000.0, 54_240.0, 7 * DAY
    for mu in (-0.5, 0.0, NU0, 0.9):
        long_p = liquidation_probability(s, lp, SIGMA, t, drift=mu)
        short_p = liquidation_probability(s, s * s / lp, SIGMA, t, drift=SIGMA**2 - mu)
        assert short_p == pytest.approx(long_p, rel=1e-12)
    # driftless log price: a symmetric distance gives the same probability
    assert liquidation_probability(s, 66_000.0, SIGMA, t, drift=NU0) == pytest.approx(
        2 * ncdf(-math.log(1.1) / (SIGMA * math.sqrt(t))), rel=1e-13)


def test_side_and_crossed_prices():
    # stated side, price at or past the liquidation price: liquidated now
    assert liquidation_probability(60_000.0, 61_000.0, SIGMA, DAY, side="long") == 1.0
    assert liquidation_probability(60_000.0, 59_000.0, SIGMA, DAY, side="short") == 1.0
    assert liquidation_probability(60_000.0, 60_000.0, SIGMA, DAY) == 1.0
    assert liquidation_probability(60_000.0, 60_000.0, SIGMA, DAY, monitoring=DAY / 288) == 1.0
    # stated side that agrees with the inferred one: the same number
    assert liquidation_probability(60_000.0, 54_240.0, SIGMA, DAY, side="long") == \
        liquidation_probability(60_000.0, 54_240.0, SIGMA, DAY)
    assert liquidation_probability(60_000.0, 66_000.0, SIGMA, DAY, side="short") == \
        liquidation_probability(60_000.0, 66_000.0, SIGMA, DAY)
    # signed distance: positive while safe, negative once crossed
    assert distance_to_liquidation(60_000.0, 54_240.0, SIGMA, DAY, side="long") == pytest.approx(3.2136, abs=1e-4)
    assert distance_to_liquidation(60_000.0, 61_000.0, SIGMA, DAY, side="long") < 0
    assert distance_to_liquidation(60_000.0, 61_000.0, SIGMA, DAY, side="short") > 0
    assert distance_to_liquidation(60_000.0, 61_000.0, SIGMA, DAY) > 0


def test_extreme_drifts_stay_probabilities():
    # exp(2 nu b / sigma^2) overflows while Phi underflows: the log form keeps a number
    assert liquidation_probability(100.0, 50.0, 0.02, 1.0, drift=-5.0) == 1.0
    assert liquidation_probability(100.0, 50.0, 0.02, 1.0, drift=5.0) == 0.0
    assert liquidation_probability(100.0, 200.0, 0.02, 1.0, drift=-5.0) == 0.0
    assert liquidation_probability(100.0, 200.0, 0.02, 1.0, drift=5.0) == 1.0
    p = liquidation_probability(100.0, 99.0, 0.01, 1.0, drift=-0.5)  # exponent ~ 2,000
    assert p == pytest.approx(1.0, abs=1e-12)
    # sigma so small that sigma^2 underflows: the deterministic path mu t
    assert liquidation_probability(100.0, 99.0, 1e-200, 1.0, drift=-0.5) == 1.0
    assert liquidation_probability(100.0, 99.0, 1e-200, 1.0, drift=0.0) == 0.0
    assert liquidation_probability(100.0, 101.0, 1e-200, 1.0, drift=0.5) == 1.0
    assert liquidation_probability(100.0, 99.0, 1e-160, 1e300, drift=-0.5) == 1.0
    for sigma in (1e-300, 1e-150, 1e-8, 1e3):
        for t in (1e-12, 1.0, 1e6):
            p = liquidation_probability(100.0, 90.0, sigma, t, drift=-0.1)
            assert 0.0 <= p <= 1.0


def test_vectorised_broadcast():
    spots = np.array([60_000.0, 60_000.0])
    liqs = np.array([54_240.0, 66_000.0])
    horizons = np.array([[1.0], [7.0], [30.0]]) * DAY
    p = liquidation_probability(spots, liqs, SIGMA, horizons, drift=NU0)
    assert isinstance(p, np.ndarray) and p.shape == (3, 2) and p.dtype == np.float64
    assert [round(x, 6) for x in p[:, 0]] == [0.001311, 0.224502, 0.557386]
    k = distance_to_liquidation(spots, liqs, SIGMA, DAY)
    assert isinstance(k, np.ndarray) and k.shape == (2,)
    assert round(float(k[0]), 2) == 3.21
    # inputs are not written
    assert spots.tolist() == [60_000.0, 60_000.0] and liqs.tolist() == [54_240.0, 66_000.0]
    # numpy scalars give a float, like Python numbers
    assert isinstance(liquidation_probability(np.float64(60_000.0), 54_240.0, SIGMA, DAY), float)


# ---------------------------------------------------------------- properties

prices = st.floats(min_value=1e-3, max_value=1e7, allow_nan=False)
ratios = st.floats(min_value=0.3, max_value=0.999)  # liquidation price / spot for a long
sigmas = st.floats(min_value=0.05, max_value=3.0)
horizons = st.floats(min_value=1 / 1440 / 365, max_value=2.0)
drifts = st.floats(min_value=-3.0, max_value=3.0)
sides = st.sampled_from(["long", "short"])


def _liq(spot, ratio, side):
    return spot * ratio if side == "long" else spot / ratio


@settings(max_examples=200, deadline=None)
@given(prices, ratios, sigmas, horizons, drifts, sides, st.floats(1.0, 3.0), st.booleans())
def test_monotone_in_horizon(spot, ratio, sigma, horizon, drift, side, factor, discrete):
    lp = _liq(spot, ratio, side)
    dt = horizon / 1000 if discrete else None
    p1 = liquidation_probability(spot, lp, sigma, horizon, drift, dt)
    p2 = liquidation_probability(spot, lp, sigma, horizon * factor, drift, dt)
    assert 0.0 <= p1 <= p2 + 1e-12 <= 1.0 + 1e-12


@settings(max_examples=200, deadline=None)
@given(prices, ratios, sigmas, horizons, drifts, sides, st.floats(0.3, 1.0), st.booleans())
def test_monotone_in_distance(spot, ratio, sigma, horizon, drift, side, further, discrete):
    dt = horizon / 1000 if discrete else None
    near = liquidation_probability(spot, _liq(spot, ratio, side), sigma, horizon, drift, dt)
    far = liquidation_probability(spot, _liq(spot, ratio * further, side), sigma, horizon, drift, dt)
    assert 0.0 <= far <= near + 1e-12 <= 1.0 + 1e-12
    assert distance_to_liquidation(spot, _liq(spot, ratio * further, side), sigma, horizon) >= \
        distance_to_liquidation(spot, _liq(spot, ratio, side), sigma, horizon) * (1 - 1e-12)


@settings(max_examples=200, deadline=None)
@given(prices, ratios, sigmas, horizons, sides, st.floats(1.0, 3.0), st.booleans())
def test_monotone_in_sigma_at_zero_drift(spot, ratio, sigma, horizon, side, factor, discrete):
    lp = _liq(spot, ratio, side)
    # discrete checks: longs only (a short's BGK barrier exp(+beta sigma sqrt dt) moves up with
    # sigma, which can win at extreme sigma sqrt(T): see the next test)
    dt = horizon / 1000 if discrete and side == "long" else None
    p1 = liquidation_probability(spot, lp, sigma, horizon, 0.0, dt)
    p2 = liquidation_probability(spot, lp, sigma * factor, horizon, 0.0, dt)
    assert 0.0 <= p1 <= p2 + 1e-12 <= 1.0 + 1e-12


def test_where_sigma_is_not_monotone():
    # documented: with mu > 0 a larger sigma lowers nu = mu - sigma^2/2, away from a short's barrier
    p_low = liquidation_probability(100.0, 110.0, 0.2, 1.0, drift=0.5)
    p_high = liquidation_probability(100.0, 110.0, 0.6, 1.0, drift=0.5)
    assert p_low > p_high
    # a short checked discretely at sigma 200-400 %/yr over 2 years: the BGK shift up wins
    p_low = liquidation_probability(1.0, 2.0, 2.0, 2.0, monitoring=0.002)
    p_high = liquidation_probability(1.0, 2.0, 4.0, 2.0, monitoring=0.002)
    assert p_low > p_high
    # continuous, drift 0: monotone
    assert liquidation_probability(1.0, 2.0, 2.0, 2.0) < liquidation_probability(1.0, 2.0, 4.0, 2.0)


@settings(max_examples=200, deadline=None)
@given(prices, ratios, sigmas, horizons, drifts, sides, st.floats(1e-6, 1.0))
def test_discrete_monitoring_never_raises_the_probability(spot, ratio, sigma, horizon, drift, side, frac):
    lp = _liq(spot, ratio, side)
    cont = liquidation_probability(spot, lp, sigma, horizon, drift)
    disc = liquidation_probability(spot, lp, sigma, horizon, drift, horizon * frac)
    assert 0.0 <= disc <= cont + 1e-12


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(prices, ratios, sigmas, horizons, drifts, sides), min_size=1, max_size=20),
       st.booleans())
def test_vectorised_equals_scalar(rows, discrete):
    spot = np.array([r[0] for r in rows])
    lp = np.array([_liq(r[0], r[1], r[5]) for r in rows])
    sigma = np.array([r[2] for r in rows])
    horizon = np.array([r[3] for r in rows])
    drift = np.array([r[4] for r in rows])
    dt = horizon / 500 if discrete else None
    p = liquidation_probability(spot, lp, sigma, horizon, drift, dt)
    k = distance_to_liquidation(spot, lp, sigma, horizon)
    for i in range(len(rows)):
        dti = None if dt is None else float(dt[i])
        assert p[i] == liquidation_probability(float(spot[i]), float(lp[i]), float(sigma[i]),
                                               float(horizon[i]), float(drift[i]), dti)
        assert k[i] == pytest.approx(distance_to_liquidation(float(spot[i]), float(lp[i]), float(sigma[i]),
                                                             float(horizon[i])), rel=1e-14)


# ---------------------------------------------------------------- bad input (probability)

GOOD = {"spot": 60_000.0, "liq_price": 54_240.0, "sigma": 0.6, "horizon": DAY}


@pytest.mark.parametrize("name, value", [
    (name, value)
    for name in ("spot", "liq_price", "sigma", "horizon")
    for value in (0.0, -1.0, math.nan, math.inf, -math.inf, "60000", True, None, [], [1.0, math.nan], [1.0, 0.0],
                  [[1.0], [1.0, 2.0]], np.array([1.0, 2.0], dtype=object), {"x": 1.0})
])
def test_bad_positive_arguments(name, value):
    kwargs = dict(GOOD, **{name: value})
    with pytest.raises(RiskInputError, match=name) as info:
        liquidation_probability(**kwargs)
    assert isinstance(info.value, LiqError) and isinstance(info.value, ValueError)
    with pytest.raises(RiskInputError, match=name):
        distance_to_liquidation(**kwargs)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "0", [0.0, math.nan]])
def test_bad_drift(value):
    with pytest.raises(RiskInputError, match="drift"):
        liquidation_probability(**GOOD, drift=value)


@pytest.mark.parametrize("value", [0.0, -DAY, math.nan, math.inf, 2 * DAY, [DAY / 2, 2 * DAY]])
def test_bad_monitoring(value):
    with pytest.raises(RiskInputError, match="monitoring"):
        liquidation_probability(**GOOD, monitoring=value)


@pytest.mark.parametrize("side", ["buy", "LONG", "", 1])
def test_bad_side(side):
    with pytest.raises(RiskInputError, match="side"):
        liquidation_probability(**GOOD, side=side)
    with pytest.raises(RiskInputError, match="side"):
        distance_to_liquidation(**GOOD, side=side)


def test_arrays_that_do_not_broadcast():
    with pytest.raises(RiskInputError, match="broadcast"):
        liquidation_probability(np.ones(3) * 60_000, np.ones(2) * 54_240, 0.6, DAY)
    with pytest.raises(RiskInputError, match="broadcast"):
        distance_to_liquidation(np.ones(3) * 60_000, np.ones(2) * 54_240, 0.6, DAY)


# ---------------------------------------------------------------- leverage caps (§6.5)


@pytest.mark.parametrize("k, expected", [(2.0, 14.97), (3.0, 10.18), (4.0, 7.71)])
def test_buffer_cap_examples(k, expected):
    cap = max_leverage(SIGMA, DAY, 0.004, k=k)
    assert round(cap.leverage, 2) == expected
    assert cap.binding == "buffer" and cap.components == (("buffer", cap.leverage),)
    assert round(100 * cap.sigma_h, 4) == 3.1405
    # at the cap, the distance to liquidation 1/L - MMR is exactly k sigma sqrt(h)
    assert 1 / cap.leverage - 0.004 == pytest.approx(k * cap.sigma_h, rel=1e-12)


def test_default_k_is_3():
    assert round(max_leverage(SIGMA, DAY, 0.004).leverage, 2) == 10.18


def test_volatility_targeting_example():
    cap = max_leverage(SIGMA, DAY, 0.004, sigma_target=0.40)
    assert round(cap.leverage, 3) == 0.667
    assert cap.binding == "volatility_target"
    assert round(cap.component("buffer"), 2) == 10.18
    assert "40.00%" in cap.reason


def test_kelly_example():
    cap = max_leverage(SIGMA, DAY, 0.004, mu=0.30)
    assert round(cap.kelly_full, 3) == 0.833
    assert round(cap.leverage, 3) == 0.417 and cap.binding == "kelly"
    assert round(max_leverage(SIGMA, DAY, 0.004, mu=0.30, kelly_fraction=1.0).leverage, 3) == 0.833
    # r is subtracted from mu
    assert max_leverage(SIGMA, DAY, 0.004, mu=0.30, r=0.12).kelly_full == pytest.approx(0.5)


def test_kelly_without_edge_caps_at_zero():
    cap = max_leverage(SIGMA, DAY, 0.004, mu=0.05, r=0.10)
    assert cap.leverage == 0.0 and cap.binding == "kelly"
    assert cap.kelly_full == pytest.approx(-0.05 / 0.36)
    assert "no edge" in cap.reason


def test_every_cap_and_the_binding_one():
    cap = max_leverage(SIGMA, DAY, 0.004, sigma_target=6.0, mu=9.0, tier_max=125.0, book_cap=8.0)
    assert isinstance(cap, LeverageCap)
    assert [name for name, _ in cap.components] == ["buffer", "volatility_target", "kelly", "tier", "book"]
    assert cap.component("volatility_target") == pytest.approx(10.0)
    assert cap.component("kelly") == pytest.approx(0.5 * 9.0 / 0.36)
    assert cap.component("tier") == 125.0 and cap.component("missing") is None
    assert cap.binding == "book" and cap.leverage == 8.0
    assert cap.leverage == min(v for _, v in cap.components)
    assert max_leverage(SIGMA, DAY, 0.004, tier_max=5.0).binding == "tier"
    # a tie binds the first cap in the documented order
    assert max_leverage(SIGMA, DAY, 0.004, tier_max=3.0, book_cap=3.0).binding == "tier"
    d = cap.to_dict()
    assert d["binding"] == "book" and d["components"]["tier"] == 125.0 and d["kelly_full"] == cap.kelly_full
    assert set(d) == {"leverage", "binding", "reason", "components", "sigma_h", "kelly_full"}
    with pytest.raises(AttributeError):
        cap.leverage = 1.0  # type: ignore[misc]


def test_zero_mmr_and_book_cap_zero():
    assert max_leverage(SIGMA, DAY, 0.0).leverage == pytest.approx(1 / (3 * SIGMA * math.sqrt(DAY)))
    cap = max_leverage(SIGMA, DAY, 0.004, book_cap=0.0)
    assert cap.leverage == 0.0 and cap.binding == "book"


def test_tier_and_book_caps_from_the_table_and_the_live_book():
    """The tier cap read from the table at the notional; the book cap is the buffer with the exit's
    slippage added: 1 / (3 sigma_1d + MMR + slip)."""
    from liqcore import OrderBook
    tiers = LeverageTiers.default("binance", "BTCUSDT")
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([["59990", "0.4"], ["59980", "0.4"], ["59900", "10"]], [["60010", "1"]])
    vwap = (59_990 * 0.4 + 59_980 * 0.4 + 59_900 * 0.2) / 1.0
    slip = (60_000 - vwap) / 60_000
    cap = max_leverage(SIGMA, DAY, 0.004, tiers=tiers, book=book, size=1.0, side="long")
    assert cap.component("book") == pytest.approx(1 / (3 * SIGMA * math.sqrt(DAY) + 0.004 + slip))
    assert cap.component("tier") == tiers.max_leverage_for(60_000.0)            # notional = size x mid
    assert cap.binding == "book" and "slippage" in cap.reason
    assert max_leverage(SIGMA, DAY, 0.004, tiers=tiers, notional=5e6).component("tier") == \
        tiers.max_leverage_for(5e6)
    # a short closes into the asks: 1 BTC at 60,010, 1 bp above the mid
    short = max_leverage(SIGMA, DAY, 0.004, book=book, size=1.0, side="short")
    assert short.component("book") == pytest.approx(1 / (3 * SIGMA * math.sqrt(DAY) + 0.004 + 10 / 60_000))
    # more than the bids hold: nothing can be closed, the cap is 0
    thin = max_leverage(SIGMA, DAY, 0.004, book=book, size=20.0)
    assert (thin.leverage, thin.binding) == (0.0, "book") and "cannot absorb" in thin.reason


@pytest.mark.parametrize("kwargs, name", [
    ({"book_cap": 2.0, "book": "B", "size": 1.0}, "book_cap"), ({"size": 1.0}, "book/size"),
    ({"tier_max": 10.0, "tiers": "T"}, "tier_max"), ({"notional": 1e5}, "notional"),
    ({"tiers": "T"}, "notional"), ({"tiers": [1, 2], "notional": 1e5}, "tiers"),
    ({"book": "B", "size": 0.0}, "size"), ({"book": "B", "size": 1.0, "side": "up"}, "side"),
])
def test_tier_and_book_caps_bad_input(kwargs, name):
    from liqcore import OrderBook
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([["59990", "1"]], [["60010", "1"]])
    subst = {"B": book, "T": LeverageTiers.default("binance", "BTCUSDT")}
    kw = {k: subst.get(v, v) if isinstance(v, str) and k in ("book", "tiers") else v for k, v in kwargs.items()}
    with pytest.raises(RiskInputError, match=name):
        max_leverage(SIGMA, DAY, 0.004, **kw)


@settings(max_examples=200, deadline=None)
@given(sigmas, horizons, st.floats(0.0, 0.5), st.floats(0.1, 10.0), st.floats(1.0, 3.0))
def test_buffer_cap_decreases_with_risk(sigma, horizon, mmr, k, factor):
    base = max_leverage(sigma, horizon, mmr, k=k).leverage
    assert max_leverage(sigma * factor, horizon, mmr, k=k).leverage <= base
    assert max_leverage(sigma, horizon * factor, mmr, k=k).leverage <= base
    assert max_leverage(sigma, horizon, min(0.99, mmr * factor), k=k).leverage <= base
    assert max_leverage(sigma, horizon, mmr, k=k * factor).leverage <= base


@settings(max_examples=200, deadline=None)
@given(sigmas, horizons, st.floats(0.0, 0.5), st.one_of(st.none(), st.floats(0.01, 5.0)),
       st.one_of(st.none(), drifts), st.floats(0.01, 1.0), st.one_of(st.none(), st.floats(1.0, 125.0)),
       st.one_of(st.none(), st.floats(0.0, 200.0)))
def test_leverage_is_the_minimum_of_its_components(sigma, horizon, mmr, target, mu, c, tier, book):
    cap = max_leverage(sigma, horizon, mmr, sigma_target=target, mu=mu, kelly_fraction=c,
                       tier_max=tier, book_cap=book)
    values = dict(cap.components)
    assert cap.leverage == min(values.values()) == values[cap.binding] >= 0.0
    assert ("volatility_target" in values) == (target is not None)
    assert ("kelly" in values) == (mu is not None) and ("tier" in values) == (tier is not None)


@pytest.mark.parametrize("kwargs, name", [
    ({"sigma": 0.0}, "sigma"), ({"sigma": -0.6}, "sigma"), ({"sigma": math.nan}, "sigma"),
    ({"sigma": math.inf}, "sigma"), ({"sigma": "0.6"}, "sigma"), ({"sigma": True}, "sigma"),
    ({"horizon": 0.0}, "horizon"), ({"horizon": -DAY}, "horizon"), ({"horizon": math.inf}, "horizon"),
    ({"mmr": -0.001}, "mmr"), ({"mmr": 1.0}, "mmr"), ({"mmr": math.nan}, "mmr"), ({"mmr": None}, "mmr"),
    ({"k": 0.0}, "k"), ({"k": -3.0}, "k"), ({"k": math.nan}, "k"),
    ({"sigma_target": 0.0}, "sigma_target"), ({"sigma_target": math.inf}, "sigma_target"),
    ({"mu": math.nan}, "mu"), ({"mu": math.inf}, "mu"), ({"mu": [0.3]}, "mu"),
    ({"kelly_fraction": 0.0}, "kelly_fraction"), ({"kelly_fraction": 1.5}, "kelly_fraction"),
    ({"kelly_fraction": math.nan}, "kelly_fraction"),
    ({"r": math.nan}, "r"), ({"r": -math.inf}, "r"),
    ({"tier_max": 0.0}, "tier_max"), ({"tier_max": -10.0}, "tier_max"), ({"tier_max": math.nan}, "tier_max"),
    ({"book_cap": -1.0}, "book_cap"), ({"book_cap": math.inf}, "book_cap"),
])
def test_max_leverage_bad_input(kwargs, name):
    args = dict({"sigma": SIGMA, "horizon": DAY, "mmr": 0.004}, **kwargs)
    with pytest.raises(RiskInputError, match=name):
        max_leverage(**args)


def test_max_leverage_accepts_numpy_scalars():
    cap = max_leverage(np.float64(SIGMA), np.float64(DAY), np.float32(0.004), k=np.int64(3))
    assert round(cap.leverage, 2) == 10.18 and isinstance(cap.leverage, float)


# ---------------------------------------------------------------- funding (§6.3)

@pytest.mark.parametrize("premium, expected", [(0.0002, 0.0001), (0.0008, 0.0003), (-0.0004, 0.0001)])
def test_funding_rate_examples(premium, expected):
    f = funding_rate(premium)
    assert isinstance(f, FundingRate)
    assert round(f.rate * 100, 2) == round(expected * 100, 2)  # printed as 0.01 % / 0.03 % / 0.01 %
    assert f.rate == pytest.approx(expected, abs=1e-15)
    assert f.premium == premium and f.interest == 0.0001 and not f.capped
    assert f.rate == pytest.approx(f.premium + f.interest_term, abs=1e-18)


def test_funding_rate_equals_interest_inside_the_band():
    for p in np.linspace(-0.0004, 0.0006, 41):
        assert funding_rate(float(p)).rate == pytest.approx(0.0001, abs=1e-15)
    assert funding_rate(0.0007).rate == pytest.approx(0.0002)
    assert funding_rate(-0.0005).rate == pytest.approx(0.0)
    assert funding_rate(0.0008, interest=0.0).rate == pytest.approx(0.0003)


def test_funding_rate_floor_and_cap():
    f = funding_rate(0.05, cap=0.02, floor=-0.02)
    assert f.rate == 0.02 and f.capped and f.premium == 0.05
    assert funding_rate(-0.05, cap=0.02, floor=-0.02).rate == -0.02
    d = f.to_dict()
    assert d == {"rate": 0.02, "premium": 0.05, "interest": 0.0001, "interest_term": -0.0005, "capped": True}


def test_premium_index_example():
    assert round(premium_index(60_000.0, 60_030.0, 60_042.0) * 100, 2) == 0.05
    assert premium_index(60_000.0, 60_030.0, 60_042.0) == pytest.approx(0.0005, abs=1e-15)
    assert premium_index(60_000.0, 59_990.0, 60_010.0) == 0.0  # index between the impact prices
    assert premium_index(60_000.0, 59_940.0, 59_970.0) == pytest.approx(-0.0005)


def test_average_premium_example():
    p = [0.0003, 0.0004, 0.0006, 0.0005]
    assert round(average_premium(p) * 100, 3) == 0.049
    assert average_premium(np.array(p)) == pytest.approx(0.00049, abs=1e-15)
    assert average_premium(p, weights=[1, 1, 1, 1]) == pytest.approx(0.00045)
    assert average_premium([0.0002]) == 0.0002


def test_funding_cost_example():
    assert funding_cost(2 * 60_000.0, 0.0001) == pytest.approx(12.0, abs=1e-12)
    assert funding_cost(120_000.0, 0.0001, side="short") == pytest.approx(-12.0, abs=1e-12)
    assert funding_cost(120_000.0, 0.0001, 21) == pytest.approx(252.0)  # 7 days of 8 h funding
    assert funding_cost(120_000.0, -0.0001) == pytest.approx(-12.0)
    assert funding_cost(120_000.0, 0.0001, 0) == 0.0


@pytest.mark.parametrize("call, name", [
    (lambda: premium_index(0.0, 1.0, 2.0), "index_price"),
    (lambda: premium_index(math.nan, 1.0, 2.0), "index_price"),
    (lambda: premium_index(1.0, -1.0, 2.0), "impact_bid"),
    (lambda: premium_index(1.0, 1.0, math.inf), "impact_ask"),
    (lambda: premium_index(1.0, 3.0, 2.0), "impact_bid"),
    (lambda: average_premium([]), "premiums"),
    (lambda: average_premium([0.1, math.nan]), "premiums"),
    (lambda: average_premium([[0.1], [0.2, 0.3]]), "premiums"),
    (lambda: average_premium([[0.1, 0.2]]), "premiums"),
    (lambda: average_premium(["0.1"]), "premiums"),
    (lambda: average_premium([0.1, 0.2], weights=[1.0]), "weights"),
    (lambda: average_premium([0.1, 0.2], weights=[1.0, -1.0]), "weights"),
    (lambda: average_premium([0.1, 0.2], weights=[0.0, 0.0]), "weights"),
    (lambda: funding_rate(math.nan), "premium"),
    (lambda: funding_rate("0.001"), "premium"),  # type: ignore[arg-type]
    (lambda: funding_rate(0.001, interest=math.inf), "interest"),
    (lambda: funding_rate(0.001, clamp=-0.0005), "clamp"),
    (lambda: funding_rate(0.001, floor=0.02, cap=-0.02), "floor"),
    (lambda: funding_rate(0.001, cap=math.nan), "cap"),
    (lambda: funding_cost(0.0, 0.0001), "notional"),
    (lambda: funding_cost(-5.0, 0.0001), "notional"),
    (lambda: funding_cost(math.inf, 0.0001), "notional"),
    (lambda: funding_cost(1.0, math.nan), "rate"),
    (lambda: funding_cost(1.0, 0.0001, -1), "intervals"),
    (lambda: funding_cost(1.0, 0.0001, True), "intervals"),
    (lambda: funding_cost(1.0, 0.0001, side="buy"), "side"),
])
def test_funding_bad_input(call, name):
    with pytest.raises(RiskInputError, match=name):
        call()


@settings(max_examples=200, deadline=None)
@given(st.floats(-0.05, 0.05), st.floats(-0.05, 0.05), st.floats(-0.001, 0.001), st.floats(0.0, 0.002))
def test_funding_rate_monotone_in_premium(p1, p2, interest, clamp):
    lo, hi = sorted((p1, p2))
    f_lo = funding_rate(lo, interest=interest, clamp=clamp)
    f_hi = funding_rate(hi, interest=interest, clamp=clamp)
    eps = 1e-15  # the rounding of P + term
    assert f_lo.rate <= f_hi.rate + eps
    # the interest term pulls the rate towards I by at most the clamp, never past it
    assert abs(f_lo.rate - lo) <= clamp + eps
    assert abs(f_lo.rate - interest) <= abs(lo - interest) + eps
