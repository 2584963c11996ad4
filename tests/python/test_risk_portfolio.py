"""Portfolio risk (liqcore/risk/portfolio.py): parametric, historical, normal and Cornish–Fisher
VaR / ES, correlation and concentration, Euler contributions, margin utilisation.

Worked examples: shared/research/analytics.md §7, each to its printed digits — Hull's
Microsoft/AT&T VaR (z = 2.33 and exact), the 20-day P&L (historical 90 % / 80 %, normal and
Cornish–Fisher 95 %), the normal ES multipliers, Dowd's ``CornishFisherVaR`` 4.145348, HHI /
N_eff / DR / Euler contributions, and the margin ratio example.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.errors import LiqError, RiskInputError
from liqcore.risk.portfolio import (
    Concentration, CornishFisherVaR, MarginUtilisation, ParametricVaR, RiskDecomposition, TailRisk,
    average_correlation, concentration, cornish_fisher_var, correlation_matrix, expected_shortfall,
    historical_var, margin_utilisation, normal_es_multiplier, normal_var_multiplier, parametric_var,
    risk_decomposition, sample_moments, tail_rank, tail_risk,
)

# analytics.md §7.2: 20 days of P&L; worst losses 5.8, 4.5, 3.2, 2.6, 2.1, ...
PNL20 = [-2.1, 0.5, 1.2, -0.3, -4.5, 0.8, 2.2, -1.1, 0.1, -3.2, 1.7, 0.4, -0.6, 2.9, -5.8, 0.9,
         -1.4, 1.1, 0.2, -2.6]
# analytics.md §7.1: $10M Microsoft (daily sigma 2 %), $5M AT&T (1 %), rho 0.3, 10 days
HULL: dict[str, Any] = dict(sigmas=[0.02, 0.01], corr=[[1.0, 0.3], [0.3, 1.0]], horizon=10)
# analytics.md §7.4
SIG3 = [0.6, 0.8, 1.0]
RHO3 = [[1.0, 0.8, 0.7], [0.8, 1.0, 0.75], [0.7, 0.75, 1.0]]
W3 = [0.5, 0.3, 0.2]


# ---------------------------------------------------------------------------------- parametric

def test_parametric_var_hull_z_233():
    r = parametric_var([10e6, 5e6], z=2.33, **HULL)
    assert isinstance(r, ParametricVaR)
    assert [round(v) for v in r.position_var] == [1_473_621, 368_405]
    assert round(r.portfolio_var) == 1_622_657
    # Hull prints the difference of his rounded figures, 1,473,621 + 368,405 - 1,622,657; the
    # unrounded benefit is 219,369.50 (which would round to 219,370)
    assert round(r.position_var[0]) + round(r.position_var[1]) - round(r.portfolio_var) == 219_369
    assert round(r.diversification_benefit, 2) == 219_369.50
    assert round(r.portfolio_sd) == 220_227
    assert r.undiversified_var == pytest.approx(sum(r.position_var))
    # component VaR = z sqrt(h) RC_i: sums to the portfolio VaR
    assert sum(r.component_var) == pytest.approx(r.portfolio_var, rel=1e-12)


def test_parametric_var_hull_exact_z():
    r = parametric_var([10e6, 5e6], confidence=0.99, **HULL)
    assert round(r.z, 6) == 2.326348
    assert [round(v) for v in r.position_var] == [1_471_312, 367_828]
    assert round(r.portfolio_var) == 1_620_114
    assert round(r.diversification_benefit) == 219_026
    # newer editions print these, rounded to the hundred
    assert [round(v, -2) for v in (*r.position_var, r.portfolio_var)] == [1_471_300, 367_800, 1_620_100]


def test_parametric_var_cov_form_equals_sigma_corr_form_and_to_dict():
    cov = [[0.02 ** 2, 0.3 * 0.02 * 0.01], [0.3 * 0.02 * 0.01, 0.01 ** 2]]
    a = parametric_var([10e6, 5e6], cov, horizon=10, z=2.33)
    b = parametric_var([10e6, 5e6], z=2.33, **HULL)
    assert a.portfolio_var == pytest.approx(b.portfolio_var, rel=1e-12)
    assert a.position_var == pytest.approx(b.position_var, rel=1e-12)
    d = json.loads(json.dumps(b.to_dict()))
    assert d["position_var"] == list(b.position_var) and d["z"] == 2.33 and d["horizon"] == 10.0


def test_parametric_var_short_is_symmetric_and_hedge_reduces():
    long_ = parametric_var([10e6, 5e6], **HULL)
    short = parametric_var([-10e6, -5e6], **HULL)
    assert short.portfolio_var == pytest.approx(long_.portfolio_var, rel=1e-12)
    hedged = parametric_var([10e6, -5e6], **HULL)  # positive correlation: a short offsets
    assert hedged.portfolio_var < long_.portfolio_var
    assert hedged.position_var == long_.position_var
    assert hedged.component_var[1] < 0  # the hedge lowers the portfolio's VaR
    flat = parametric_var([0.0, 0.0], **HULL)
    assert (flat.portfolio_var, flat.component_var, flat.diversification_benefit) == (0.0, (0.0, 0.0), 0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=1, max_size=6),
       st.floats(0.5, 0.999), st.floats(0.01, 100))
def test_parametric_var_properties(w, conf, h):
    n = len(w)
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n + 3, n))
    cov = np.cov(a, rowvar=False).reshape(n, n) + 1e-4 * np.eye(n)
    r = parametric_var(w, cov, confidence=conf, horizon=h)
    # subadditive: never above the sum of the stand-alone VaRs
    assert r.portfolio_var <= r.undiversified_var * (1 + 1e-9) + 1e-9
    assert r.diversification_benefit >= -1e-9 * max(1.0, r.undiversified_var)
    # monotone in confidence and horizon
    assert parametric_var(w, cov, confidence=min(conf + 0.0005, 0.9999), horizon=h).portfolio_var >= r.portfolio_var
    assert parametric_var(w, cov, confidence=conf, horizon=2 * h).portfolio_var >= r.portfolio_var
    # long/short symmetry
    assert parametric_var([-x for x in w], cov, confidence=conf, horizon=h).portfolio_var == pytest.approx(
        r.portfolio_var, rel=1e-9, abs=1e-6)


# ---------------------------------------------------------------------------------- historical

def test_tail_rank_rounds_and_avoids_the_float_trap():
    assert 20 * (1 - 0.9) < 2  # the trap: floor would give k = 1
    assert tail_rank(20, 0.9) == 2
    assert tail_rank(20, 0.8) == 4
    assert tail_rank(500, 0.99) == 5  # Hull: the 5th-worst of 500 scenarios
    assert tail_rank(50, 0.95) == 3  # halves go up (Python's round would give 2)
    assert tail_rank(10, 0.99) == 0


@pytest.mark.parametrize("conf, var, es, k", [(0.9, 4.5, 5.15, 2), (0.8, 2.6, 4.025, 4)])
def test_historical_var_es_20_days(conf, var, es, k):
    r = tail_risk(PNL20, conf)
    assert isinstance(r, TailRisk)
    assert (r.var, r.k, r.n, r.method) == (var, k, 20, "historical")
    assert round(r.es, 6) == es
    assert historical_var(PNL20, conf) == var
    assert round(expected_shortfall(PNL20, conf), 6) == es
    # the convention differs from np.quantile's linear interpolation (3.33 / 2.2 in the note)
    assert round(float(np.quantile(-np.asarray(PNL20), conf)), 2) != var


def test_historical_portfolio_form_days_x_assets():
    rng = np.random.default_rng(7)
    pnl = rng.normal(size=(250, 4))
    holdings = np.array([2.0, -1.0, 0.5, 3.0])
    r = tail_risk(pnl, 0.95, holdings=holdings)
    direct = tail_risk(pnl @ holdings, 0.95)
    assert (r.var, r.es, r.k) == (direct.var, direct.es, direct.k)
    # without holdings the columns are the positions' P&L as held
    assert historical_var(pnl, 0.95) == historical_var(pnl.sum(axis=1), 0.95)
    # worked example split over two columns gives the same numbers
    two = np.column_stack([np.asarray(PNL20) * 0.25, np.asarray(PNL20) * 0.75])
    assert historical_var(two, 0.9) == pytest.approx(4.5)
    assert expected_shortfall(two, 0.9, holdings=[1.0, 1.0]) == pytest.approx(5.15)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=10, max_size=200), st.floats(0.5, 0.95))
def test_historical_properties(pnl, conf):
    r = tail_risk(pnl, conf)
    worst = sorted(-x for x in pnl)[::-1]
    assert r.var == worst[r.k - 1]
    assert r.es >= r.var - 1e-9 * max(1.0, abs(r.var))
    assert r.es == pytest.approx(sum(worst[:r.k]) / r.k, rel=1e-9, abs=1e-6)
    # shifting every P&L down by c adds c to the VaR and ES
    shifted = tail_risk([x - 10.0 for x in pnl], conf)
    assert shifted.var == pytest.approx(r.var + 10.0, rel=1e-9, abs=1e-6)
    # a higher confidence never lowers the historical VaR (k can only fall)
    higher = conf + 0.04
    if tail_rank(len(pnl), higher) >= 1:
        assert tail_risk(pnl, higher).var >= r.var


# ---------------------------------------------------------------------------------- normal / CF

@pytest.mark.parametrize("conf, var_m, es_m", [(0.95, 1.644854, 2.062713), (0.975, 1.959964, 2.337803),
                                               (0.99, 2.326348, 2.665214)])
def test_normal_multipliers(conf, var_m, es_m):
    assert round(normal_var_multiplier(conf), 6) == var_m
    assert round(normal_es_multiplier(conf), 6) == es_m


def test_normal_es_sigma_20m():
    assert round(20e6 * normal_es_multiplier(0.99) / 1e6, 2) == 53.30


def test_cornish_fisher_dowd_reference():
    # R package Dowd: CornishFisherVaR(mu=3.2, sigma=5.6, skew=2, kurtosis=3, cl=.9); its kurtosis
    # is raw (3 = normal), i.e. excess 0
    r = cornish_fisher_var(3.2, 5.6, 2.0, 0.0, 0.9)
    assert isinstance(r, CornishFisherVaR)
    assert round(r.var, 6) == 4.145348
    # skew 2 is beyond the expansion's range: z_cf is not increasing over [z, 0]
    assert r.monotone is False


def test_cornish_fisher_second_case():
    r = cornish_fisher_var(0.0, 1.0, -0.5, 3.0, 0.99)
    assert round(r.var, 5) == 3.30128
    assert round(r.normal_var, 5) == 2.32635
    assert r.monotone is True
    assert cornish_fisher_var(0.0, 1.0, 0.0, 0.0, 0.99).var == pytest.approx(normal_var_multiplier(0.99))


def test_twenty_days_normal_and_cornish_fisher():
    m = sample_moments(PNL20)
    assert (round(m.mean, 2), round(m.sd, 5), round(m.skew, 5), round(m.excess_kurtosis, 5)) == (
        -0.48, 2.23621, -0.80489, 0.03950)
    n = tail_risk(PNL20, 0.95, method="normal")
    assert (round(n.var, 5), round(n.es, 5)) == (4.15824, 5.09266)
    assert round(expected_shortfall(PNL20, 0.95, method="normal"), 5) == 5.09266
    cf = tail_risk(PNL20, 0.95, method="cornish-fisher")
    assert cf.method == "cornish-fisher" and cf.cornish_fisher is not None and cf.cornish_fisher.monotone
    assert round(cf.var, 5) == 4.64088
    assert cf.es is None
    d = json.loads(json.dumps(cf.to_dict()))
    assert d["moments"]["n"] == 20 and d["cornish_fisher"]["monotone"] is True and d["k"] is None


def test_cornish_fisher_falls_back_to_historical_when_not_monotone():
    # one huge gain among small losses: skew ~ +4.4, excess kurtosis ~ +17
    pnl = [-1.0] * 19 + [60.0]
    r = tail_risk(pnl, 0.9, method="cornish-fisher")
    assert r.cornish_fisher is not None and not r.cornish_fisher.monotone
    assert (r.method, r.requested_method) == ("historical", "cornish-fisher")
    assert (r.var, r.es, r.k) == (1.0, 1.0, 2)
    kept = tail_risk(pnl, 0.9, method="cornish-fisher", fallback="none")
    assert kept.method == "cornish-fisher" and kept.var == kept.cornish_fisher.var


@settings(max_examples=60, deadline=None)
@given(st.floats(-0.3, 0.3), st.floats(-0.5, 1.0), st.floats(0.9, 0.995), st.floats(0.0005, 0.004))
def test_cornish_fisher_monotone_flag_means_monotone_in_confidence(skew, kurt, conf, step):
    a = cornish_fisher_var(0.0, 1.0, skew, kurt, conf)
    b = cornish_fisher_var(0.0, 1.0, skew, kurt, min(conf + step, 0.999))
    if a.monotone and b.monotone:
        assert b.var >= a.var


def test_cornish_fisher_flag_matches_a_numerical_check():
    for s, k in [(2.0, 0.0), (-0.5, 3.0), (-0.80489, 0.0395), (1.0, 5.0), (0.0, -2.0), (0.5, 8.0)]:
        r = cornish_fisher_var(0.0, 1.0, s, k, 0.99)
        zs = np.linspace(r.z, 0.0, 20001)
        zc = zs + (zs ** 2 - 1) * s / 6 + (zs ** 3 - 3 * zs) * k / 24 - (2 * zs ** 3 - 5 * zs) * s * s / 36
        assert r.monotone == bool((np.diff(zc) > 0).all()), (s, k)


# ---------------------------------------------------------------------------------- correlation

def test_concentration_hhi():
    c = concentration(W3)
    assert isinstance(c, Concentration)
    assert round(c.hhi, 2) == 0.38 and round(c.effective_n, 3) == 2.632
    # exposures in money and shorts give the same
    assert concentration([5e6, -3e6, 2e6]).hhi == pytest.approx(0.38)


def test_risk_decomposition_worked_example():
    r = risk_decomposition(W3, sigmas=SIG3, corr=RHO3)
    assert isinstance(r, RiskDecomposition)
    assert round(r.sigma_p, 6) == 0.677348
    assert round(r.diversification_ratio, 4) == 1.0925
    assert [round(x, 6) for x in r.contributions] == [0.279915, 0.223224, 0.174209]
    assert [round(100 * x, 1) for x in r.shares] == [41.3, 33.0, 25.7]
    assert sum(r.contributions) == pytest.approx(r.sigma_p, rel=1e-12)
    assert r.average_correlation == pytest.approx(0.75)
    assert average_correlation(RHO3) == pytest.approx(0.75)
    assert json.loads(json.dumps(r.to_dict()))["contributions"] == list(r.contributions)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=8), st.integers(0, 1000))
def test_euler_contributions_sum_to_sigma_p(w, seed):
    if not any(abs(x) > 1e-3 for x in w):
        return
    n = len(w)
    a = np.random.default_rng(seed).normal(size=(n + 5, n))
    cov = np.cov(a, rowvar=False) + 1e-3 * np.eye(n)
    r = risk_decomposition(w, cov)
    assert sum(r.contributions) == pytest.approx(r.sigma_p, rel=1e-9)
    p = parametric_var(w, cov, z=1.0)
    assert r.sigma_p == pytest.approx(p.portfolio_var, rel=1e-12)
    assert p.component_var == pytest.approx(r.contributions, rel=1e-9, abs=1e-12)
    if all(x >= 0 for x in w):
        assert r.diversification_ratio >= 1 - 1e-9


def test_correlation_matrix_from_returns():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 3))
    x[:, 1] = 0.8 * x[:, 0] + 0.6 * x[:, 1]
    c = correlation_matrix(x)
    np.testing.assert_allclose(c, np.corrcoef(x, rowvar=False), rtol=0, atol=1e-12)
    assert np.diag(c).tolist() == [1.0, 1.0, 1.0]
    assert average_correlation(c) == pytest.approx(np.mean([c[0, 1], c[0, 2], c[1, 2]]))
    # perfectly correlated columns stay within [-1, 1]
    y = np.column_stack([x[:, 0], 3 * x[:, 0] + 1, -x[:, 0]])
    assert np.abs(correlation_matrix(y)).max() <= 1.0


# ---------------------------------------------------------------------------------- margin

def test_margin_utilisation_example():
    m = margin_utilisation(10_000, 1_250, 4_000)
    assert isinstance(m, MarginUtilisation)
    assert (m.margin_ratio, m.im_utilisation, m.free_margin, m.status) == (0.125, 0.4, 6_000.0, "ok")
    assert m.to_dict()["status"] == "ok"


@pytest.mark.parametrize("mm, status", [(5_999, "ok"), (6_000, "warn"), (8_000, "critical"), (10_000, "liquidation"),
                                        (0, "ok")])
def test_margin_alert_bands(mm, status):
    assert margin_utilisation(10_000, mm, 0).status == status


def test_margin_bands_are_parameters():
    assert margin_utilisation(10_000, 5_000, 0, warn=0.5, critical=0.7).status == "warn"
    assert margin_utilisation(10_000, 7_000, 12_000, warn=0.5, critical=0.7).free_margin == -2_000


# ---------------------------------------------------------------------------------- bad input

NAN, INF = float("nan"), float("inf")
BAD = [
    # parametric
    (lambda: parametric_var([], sigmas=[], corr=[]), "exposures"),
    (lambda: parametric_var([1.0, NAN], **HULL), "exposures"),
    (lambda: parametric_var([1.0, 2.0], confidence=1.0, **HULL), "confidence"),
    (lambda: parametric_var([1.0, 2.0], confidence=99, **HULL), "confidence"),
    (lambda: parametric_var([1.0, 2.0], confidence=NAN, **HULL), "confidence"),
    (lambda: parametric_var([1.0, 2.0], confidence=0.0, **HULL), "confidence"),
    (lambda: parametric_var([1.0, 2.0], horizon=0, sigmas=[0.1, 0.1], corr=np.eye(2)), "horizon"),
    (lambda: parametric_var([1.0, 2.0], z=-2.33, **HULL), "z"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, 0.0], corr=np.eye(2)), "sigmas"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, -0.1], corr=np.eye(2)), "sigmas"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, INF], corr=np.eye(2)), "sigmas"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1], corr=np.eye(2)), "sigmas"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, 0.1], corr=[[1, 1.2], [1.2, 1]]), "corr"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, 0.1], corr=[[1, 0.2], [0.3, 1]]), "corr"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, 0.1], corr=[[0.9, 0.2], [0.2, 1]]), "corr"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, 0.1], corr=[[1, 0.2], [0.2]]), "corr"),
    (lambda: parametric_var([1.0, 2.0], sigmas=[0.1, 0.1]), "corr"),
    (lambda: parametric_var([1.0, 2.0], [[1, 0], [0, 1]], sigmas=[0.1, 0.1]), "cov"),
    (lambda: parametric_var([1.0, 2.0], [[1, 0], [0, 0]]), "cov"),
    (lambda: parametric_var([1.0, 2.0], [[1, 2], [2, 1]]), "cov"),
    (lambda: parametric_var([1.0, 2.0], [[1, 0.1], [0.2, 1]]), "cov"),
    (lambda: parametric_var([1.0, 2.0], np.eye(3)), "cov"),
    (lambda: parametric_var([1.0, -1.0, 1.0], [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]), "semi-definite"),
    # historical / ES / CF
    (lambda: tail_risk([], 0.9), "pnl"),
    (lambda: tail_risk([[1.0, 2.0], [3.0]], 0.9), "pnl"),
    (lambda: tail_risk([1.0, NAN, 2.0], 0.9), "pnl"),
    (lambda: tail_risk([1.0, INF, 2.0], 0.9), "pnl"),
    (lambda: tail_risk([[[1.0]]], 0.9), "pnl"),  # type: ignore[arg-type]
    (lambda: tail_risk(PNL20, 0.99), "pnl"),  # round(20 * 0.01) = 0: too short
    (lambda: tail_risk(PNL20, 1.5), "confidence"),
    (lambda: tail_risk(PNL20, 0.9, method="garch"), "method"),  # type: ignore[arg-type]
    (lambda: tail_risk(PNL20, 0.9, fallback="zero"), "fallback"),  # type: ignore[arg-type]
    (lambda: tail_risk(PNL20, 0.9, ddof=2), "ddof"),
    (lambda: tail_risk(PNL20, 0.9, holdings=[1.0]), "holdings"),
    (lambda: tail_risk(np.ones((5, 2)), 0.9, holdings=[1.0]), "holdings"),
    (lambda: tail_risk(np.ones((5, 2)), 0.9, holdings=[1.0, NAN]), "holdings"),
    (lambda: tail_risk([1.0] * 20, 0.9, method="normal"), "constant"),
    (lambda: tail_risk([1.0], 0.4, method="normal"), "at least 2"),
    (lambda: expected_shortfall(PNL20, 0.9, method="cornish-fisher"), "method"),  # type: ignore[arg-type]
    (lambda: historical_var(PNL20, -0.1), "confidence"),
    (lambda: tail_rank(0, 0.9), "n"),
    (lambda: tail_rank(2.5, 0.9), "n"),  # type: ignore[arg-type]
    (lambda: tail_rank(20, 1.0), "confidence"),
    (lambda: cornish_fisher_var(0.0, 0.0, 0.0, 0.0, 0.99), "sigma"),
    (lambda: cornish_fisher_var(0.0, -1.0, 0.0, 0.0, 0.99), "sigma"),
    (lambda: cornish_fisher_var(NAN, 1.0, 0.0, 0.0, 0.99), "mu"),
    (lambda: cornish_fisher_var(0.0, 1.0, INF, 0.0, 0.99), "skew"),
    (lambda: cornish_fisher_var(0.0, 1.0, 0.0, NAN, 0.99), "excess_kurtosis"),
    (lambda: cornish_fisher_var(0.0, 1.0, 0.0, 0.0, 1.0), "confidence"),
    (lambda: normal_es_multiplier(1.0), "confidence"),
    (lambda: normal_var_multiplier("x"), "confidence"),  # type: ignore[arg-type]
    # correlation / concentration
    (lambda: correlation_matrix([[1.0, 2.0]]), "returns"),
    (lambda: correlation_matrix([[1.0, 2.0], [1.0, 3.0]]), "constant"),
    (lambda: correlation_matrix([1.0, 2.0]), "returns"),
    (lambda: average_correlation([[1.0]]), "corr"),
    (lambda: concentration([0.0, 0.0]), "weights"),
    (lambda: concentration([0.5, NAN]), "weights"),
    (lambda: risk_decomposition([0.0, 0.0], sigmas=[0.1, 0.2], corr=np.eye(2)), "variance"),
    (lambda: risk_decomposition([0.5, 0.5], sigmas=[0.1, 0.0], corr=np.eye(2)), "sigmas"),
    # margin
    (lambda: margin_utilisation(0, 1, 1), "equity"),
    (lambda: margin_utilisation(-5, 1, 1), "equity"),
    (lambda: margin_utilisation(NAN, 1, 1), "equity"),
    (lambda: margin_utilisation(10, -1, 1), "maintenance_margin"),
    (lambda: margin_utilisation(10, 1, INF), "initial_margin"),
    (lambda: margin_utilisation(10, 1, 1, warn=0.9, critical=0.8), "critical"),
    (lambda: margin_utilisation(10, 1, 1, critical=1.5), "critical"),
    (lambda: margin_utilisation(10, 1, 1, warn=0), "warn"),
]


@pytest.mark.parametrize("call, word", BAD, ids=[f"bad{i}-{w}" for i, (_, w) in enumerate(BAD)])
def test_bad_input_raises_risk_input_error_naming_the_argument(call, word):
    with pytest.raises(RiskInputError, match=word) as e:
        call()
    assert isinstance(e.value, LiqError) and isinstance(e.value, ValueError)


def test_inputs_are_not_modified():
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    pnl = np.array(PNL20)
    before = cov.copy(), pnl.copy()
    parametric_var([1.0, 2.0], cov)
    risk_decomposition([1.0, 2.0], cov)
    tail_risk(pnl, 0.9)
    tail_risk(pnl, 0.95, method="cornish-fisher")
    assert np.array_equal(cov, before[0]) and np.array_equal(pnl, before[1])
    assert math.isfinite(tail_risk(pnl, 0.9).var)
