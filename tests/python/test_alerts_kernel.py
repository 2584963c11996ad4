"""The compiled alert rules (src/alerts.c via liqcore._alerts) against the Python rules: a
differential hypothesis test over random observation streams (calm, spread blow-outs, NaN and
zero spreads, depth drops, one-sided books, held imbalances, price jumps, venue deviations,
gaps and steps back in time, NaN/inf/negative values, several markets) and random rule
parameters and debounces: both paths give the same alerts at the same observations. Plus when
the engine runs compiled, bad input refused by both paths alike with nothing changed, and the
bounded spread window."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from liqcore import _alerts
from liqcore.alerts import (IGLEWICZ_HOAGLIN, MEAN_AD_TO_SIGMA, AlertEngine, Debounce, DepthDrop, Imbalance,
                            LiquidityAlert, Observation, PriceAnomaly, SpreadWidening, default_rules)
from liqcore.errors import AlertInputError

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
REL = 1e-9

EVENTS = ("spread", "nan_spread", "zero_spread", "depth", "one_sided", "imbalance", "jump", "gap", "back", "ref",
          "inf", "negative")


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= REL * max(abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def assert_same_alert(a: LiquidityAlert, b: LiquidityAlert) -> None:
    """Ids, types, severities, starts, ends, metric and flags exactly; currents, baselines,
    deviations, z and baseline values within 1e-9 relative."""
    for name in ("id", "ts_ms", "ended_ms", "exchange", "symbol", "type", "severity", "metric", "requires_action",
                 "suggested_action"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("current", "baseline", "deviation_pct", "z", "baseline_values"):
        assert _close(getattr(a, name), getattr(b, name)), (name, getattr(a, name), getattr(b, name))


# ---------------------------------------------------------------- streams


@st.composite
def streams(draw) -> list[Observation]:
    """A random stream: calm markets (1-3, interleaved) with events laid over stretches."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(20, 1200))
    markets = draw(st.integers(1, 3))
    rate = draw(st.sampled_from([1.0, 4.0, 10.0, 50.0]))
    events = draw(st.lists(st.tuples(st.sampled_from(EVENTS), st.floats(0, 1), st.floats(0.002, 0.3),
                                     st.floats(0, 1), st.integers(0, markets - 1)), max_size=8))
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    dt = np.full(n, 1.0 / rate) * rng.uniform(0.2, 1.8, n)
    mid = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 1e-4 / math.sqrt(rate), n)))
    spread = 1.0 + 0.1 * rng.standard_normal(n)
    bid = 1e6 * (1 + 0.05 * rng.standard_normal(n))
    ask = 1e6 * (1 + 0.05 * rng.standard_normal(n))
    imb = rng.uniform(-0.3, 0.3, n)
    ref = np.full(n, np.nan)
    which = rng.integers(0, markets, n)
    for kind, at, length, size, market in events:
        lo = min(int(at * n), n - 1)
        hi = lo + max(1, int(length * n))
        sel = (k >= lo) & (k < hi) & (which == market)
        if kind == "spread":
            spread[sel] *= 1.5 + 10 * size
        elif kind == "nan_spread":
            spread[sel] = np.nan
        elif kind == "zero_spread":
            spread[sel] = 0.0
        elif kind == "depth":
            (bid if size < 0.5 else ask)[sel] *= 0.05 + size
        elif kind == "one_sided":
            (bid if size < 0.5 else ask)[sel] = 0.0
            mid[sel] = spread[sel] = np.nan
            imb[sel] = -1.0 if size < 0.5 else 1.0
        elif kind == "imbalance":
            imb[sel] = (0.5 + size) * (1 if size < 0.5 else -1)           # 1.0..1.5: out of range
        elif kind == "jump":
            mid[k >= lo] *= 1 + (size - 0.5) * 0.1
        elif kind == "gap":
            dt[lo] += 10 ** (1 + 3 * size)                                # 10 s .. 3 h
        elif kind == "back":
            dt[lo] = -size * 30                                           # up to 30 s back
        elif kind == "ref":
            sel &= np.isfinite(mid) & (mid > 0)                        # a reference is a price
            ref[sel] = mid[sel] * (1 + (size - 0.5) * 4e-3)
        elif kind == "inf":
            (bid if size < 0.3 else mid if size < 0.6 else spread)[sel] = np.inf
        elif kind == "negative":
            (bid if size < 0.5 else spread)[sel] = -1.0
    ts = T0 + np.cumsum(np.round(dt * NS)).astype(np.int64)
    names = [("sim", "BTC/USDT"), ("other", "BTC/USDT"), ("sim", "ETH/USDT")]
    out = []
    for j in range(n):
        r = float(ref[j])
        out.append(Observation(*names[int(which[j])], int(ts[j]), float(mid[j]), float(spread[j]), float(bid[j]),
                               float(ask[j]), float(imb[j]), None if r != r else r))
    return out


debounces = st.one_of(st.none(), st.builds(lambda w, f, c: Debounce(max(1, min(f, w)), w, c),
                                           st.integers(1, 8), st.integers(1, 8), st.integers(1, 6)))

rule_strategies = [
    st.builds(SpreadWidening, z=st.sampled_from([2.0, 3.5]), ratio=st.sampled_from([1.3, 2.0]),
              clear_z=st.just(1.0), clear_ratio=st.just(1.2), lookback_s=st.sampled_from([5.0, 30.0, 300.0]),
              sample_s=st.sampled_from([0.0, 0.05, 0.1, 1.0]), refresh_s=st.sampled_from([0.3, 1.0, 5.0]),
              min_count=st.integers(1, 40), debounce=debounces),
    st.builds(DepthDrop, drop_pct=st.sampled_from([30.0, 50.0]), clear_pct=st.sampled_from([10.0, 30.0]),
              half_life_s=st.sampled_from([2.0, 60.0, 600.0]), warmup_s=st.sampled_from([0.0, 1.0, 30.0]),
              debounce=debounces),
    st.builds(Imbalance, level=st.sampled_from([0.25, 0.6]), clear_level=st.just(0.2),
              hold_s=st.sampled_from([0.0, 0.5, 10.0]), z=st.sampled_from([None, 1.5, 3.0]),
              half_life_s=st.sampled_from([5.0, 300.0]), debounce=debounces),
    st.builds(PriceAnomaly, z=st.sampled_from([2.0, 5.0]), venue_spreads=st.sampled_from([2.0, 5.0]),
              venue_bps=st.sampled_from([0.0, 0.5, 10.0]),
              interval_s=st.sampled_from([0.1, 1.0, 3.0]), half_life_s=st.sampled_from([10.0, 300.0]),
              warmup=st.integers(1, 30), debounce=debounces),
]
rule_lists = st.one_of(st.builds(default_rules), st.lists(st.one_of(*rule_strategies), min_size=1, max_size=6))
engine_debounces = st.builds(lambda w, f, c: Debounce(max(1, min(f, w)), w, c), st.integers(1, 6),
                             st.integers(1, 6), st.integers(1, 6))


def run_both(rules, debounce, stream):
    py = AlertEngine(rules, debounce=debounce, compiled=False)
    c = AlertEngine(rules, debounce=debounce, compiled=True)
    assert c.compiled and not py.compiled
    count = 0
    for obs in stream:
        a, b = py.observe(obs), c.observe(obs)
        assert len(a) == len(b), (obs, a, b)
        for x, y in zip(a, b):
            assert_same_alert(x, y)
        # stronger than the tolerance: the same operations in the same order give the same bits
        assert a == b
        assert py.warming(obs.exchange, obs.symbol) == c.warming(obs.exchange, obs.symbol), obs
        count += len(a)
    assert py.active() == c.active()
    return count


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rules=rule_lists, debounce=engine_debounces, stream=streams())
def test_compiled_and_python_paths_give_the_same_alerts(rules, debounce, stream) -> None:
    n = run_both(rules, debounce, stream)
    event(f"alerts: {'0' if n == 0 else '1-4' if n < 5 else '5+'}")   # --hypothesis-show-statistics


def test_the_differential_streams_do_raise_alerts() -> None:
    """The generator is not vacuous: a few fixed streams raise alerts of every type."""
    seen: set[str] = set()
    rules = [SpreadWidening(lookback_s=30, refresh_s=1, min_count=10), DepthDrop(half_life_s=60, warmup_s=1),
             Imbalance(hold_s=0.5), PriceAnomaly(warmup=3, z=3)]
    for seed in range(6):
        rng = np.random.default_rng(seed)
        n, base = 1500, T0
        stream = []
        for j in range(n):
            phase = (j // 150) % 5
            stream.append(Observation("sim", "X", base + j * NS // 10, 100.0 * (1.03 if phase == 3 else 1.0)
                                      * (1 + 1e-5 * rng.standard_normal()),
                                      (8.0 if phase == 1 else 1.0) * (1 + 0.1 * rng.standard_normal()),
                                      1e6 * (0.1 if phase == 2 else 1.0), 1e6, 0.9 if phase == 4 else 0.0))
        py = AlertEngine(rules, compiled=False)
        c = AlertEngine(rules)
        warmed: dict[str, int] = {}          # alert type -> observations before its rule was warm
        for j, obs in enumerate(stream):
            a, b = py.observe(obs), c.observe(obs)
            assert a == b
            seen |= {x.type for x in a}
            for eng in (py, c):
                warming = eng.warming("sim", "X")
                for t in ("SPREAD_WIDENING", "DEPTH_DROP", "PRICE_ANOMALY"):
                    if t not in warming:
                        warmed.setdefault(t, j)
                    else:       # warm is for good: no rule cools down again
                        assert t not in warmed, (t, j)
                assert not any(x.active and x.type in warming for x in a)   # warming up: nothing raised
        # spread: 10 values, one per 0.1 s, at a refresh (each second); depth: 1 s of baseline, the
        # first observation only starting its clock (ten 0.1 s gaps sum to 0.9999999999999999 s: an
        # eleventh); price: 3 returns of 1 s after the first mid
        assert warmed == {"SPREAD_WIDENING": 10, "DEPTH_DROP": 11, "PRICE_ANOMALY": 30}, warmed
    assert seen == {"SPREAD_WIDENING", "DEPTH_DROP", "IMBALANCE", "PRICE_ANOMALY"}


def test_warming_of_a_market_not_seen_and_of_rules_without_warm() -> None:
    class Custom:                       # the Rule protocol without the optional warm()
        type, debounce = "SPREAD_WIDENING", None

        def state(self) -> list:
            return []

        def check(self, state, obs):
            return None

        def describe(self, state, obs, check):
            return "x", "LOW", {}
    for eng in (AlertEngine(), AlertEngine(compiled=False)):
        assert eng.warming("sim", "X") == ["SPREAD_WIDENING", "DEPTH_DROP", "PRICE_ANOMALY"]
    eng = AlertEngine([Custom(), Imbalance()])
    assert not eng.compiled and eng.warming("sim", "X") == []
    eng.observe(Observation("sim", "X", T0, 100.0, 1.0, 1e6, 1e6, 0.0, None))
    assert eng.warming("sim", "X") == [] and eng.warming("other", "X") == []


@pytest.mark.parametrize("seed", range(8))
def test_spread_baselines_match_numpy_through_regime_shifts(seed: int) -> None:
    """The kernel's refresh selects the median and MAD inside a band around the last ones and
    falls back to a full selection when the window moved out of it: random regimes (levels,
    spreads in whole ticks with many equal values, jumps, odd and even counts) with a refresh
    at every observation and low thresholds, so that many alerts carry the baseline
    (median_spread_bps, log_scale) computed by numpy on the Python path."""
    rng = np.random.default_rng(seed)
    rule = SpreadWidening(z=0.5, ratio=1.01, clear_z=0.1, clear_ratio=1.0, lookback_s=3.0, sample_s=0.0,
                          refresh_s=1e-9, min_count=1, debounce=Debounce(1, 1, 1))
    py, c = AlertEngine([rule], compiled=False), AlertEngine([rule])
    t, level, starts = T0, 1.0, 0
    for k in range(3000):
        if rng.random() < 0.01:
            level = float(rng.choice([0.5, 1.0, 3.0, 10.0]))
        s = level * (1 + 0.2 * rng.standard_normal()) if seed % 2 else level * float(rng.integers(1, 4))
        t += int(rng.integers(1, 10)) * NS // 100
        a, b = py.observe(Observation("x", "y", t, 100.0, abs(s) or 1.0, 1e6, 1e6, 0.0)), \
            c.observe(Observation("x", "y", t, 100.0, abs(s) or 1.0, 1e6, 1e6, 0.0))
        assert a == b
        starts += sum(x.active for x in a)
    assert starts > 100


def test_gaps_beyond_2_53_ns_agree_within_the_tolerance() -> None:
    """Python divides int gaps rounding once, C rounds the gap first: equal below 2^53 ns
    (104 days), within 1 ulp beyond (src/alerts.h)."""
    rules = [DepthDrop(warmup_s=0.0), Imbalance(z=1.0, hold_s=0), PriceAnomaly(warmup=1, z=0.5)]
    ts = [0, 1, 2, (1 << 60) + 12345, (1 << 60) + 12346, (1 << 62) + 987654321, (1 << 62) + 987654322 + NS]
    stream = [Observation("x", "y", t, 100.0 + k, 1.0, 1e6 / (k + 1), 1e6, 0.3 * (-1) ** k) for k, t in enumerate(ts)]
    py, c = AlertEngine(rules, compiled=False), AlertEngine(rules)
    for obs in stream:
        a, b = py.observe(obs), c.observe(obs)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_alert(x, y)


# ---------------------------------------------------------------- when compiled


class _MyRule(SpreadWidening):
    pass


def test_which_engines_run_compiled() -> None:
    assert AlertEngine().compiled
    assert AlertEngine([Imbalance(z=2.0), Imbalance(), SpreadWidening()]).compiled       # any mix, repeats
    assert not AlertEngine([_MyRule()]).compiled                                          # a subclass: Python
    assert not AlertEngine([SpreadWidening(debounce=Debounce(1, 65, 1))]).compiled       # window above 64
    assert not AlertEngine([SpreadWidening(lookback_s=1e12)]).compiled                    # ns beyond int64
    assert not AlertEngine(compiled=False).compiled
    with pytest.raises(AlertInputError, match="compiled"):
        AlertEngine([_MyRule()], compiled=True)
    for bad in ("yes", 1):
        with pytest.raises(AlertInputError, match="compiled"):
            AlertEngine(compiled=bad)  # type: ignore[arg-type]
    # the kernel's constants are the Python ones
    assert (_alerts.IGLEWICZ_HOAGLIN, _alerts.MEAN_AD_TO_SIGMA) == (IGLEWICZ_HOAGLIN, MEAN_AD_TO_SIGMA)
    assert _alerts.KINDS == ("SPREAD_WIDENING", "DEPTH_DROP", "IMBALANCE", "PRICE_ANOMALY")


GOOD = Observation("sim", "BTC/USDT", T0, 60_000.0, 1.0, 1e6, 1e6, 0.1)


@pytest.mark.parametrize("bad, match", [
    (GOOD._replace(ts=1.5), "ts"),
    (GOOD._replace(ts=True), "ts"),
    (GOOD._replace(ts=1 << 63), "ts"),
    (GOOD._replace(ts=-(1 << 63) - 1), "ts"),
    (GOOD._replace(mid="60000"), "mid"),
    (GOOD._replace(spread_bps=None), "spread_bps"),
    (GOOD._replace(bid_depth=True), "bid_depth"),
    (GOOD._replace(ask_depth=10 ** 400), "ask_depth"),
    (GOOD._replace(imbalance=[0.1]), "imbalance"),
    (GOOD._replace(reference_price=math.nan), "reference_price"),
    (GOOD._replace(reference_price=math.inf), "reference_price"),
    (GOOD._replace(reference_price=-1.0), "reference_price"),
    (GOOD._replace(reference_price="60000"), "reference_price"),
])
@pytest.mark.parametrize("compiled", [False, True])
def test_bad_observations_are_refused_alike_and_change_nothing(bad, match, compiled) -> None:
    rules = [SpreadWidening(min_count=3, refresh_s=0.5), DepthDrop(warmup_s=1), Imbalance(hold_s=1),
             PriceAnomaly(warmup=2)]
    stream = [GOOD._replace(ts=T0 + k * NS // 2, spread_bps=1.0 + (k % 3) * 0.1,
                            imbalance=0.8 if k > 20 else 0.0, mid=60_000.0 * (1.05 if k > 30 else 1.0))
              for k in range(40)]
    ref, eng = AlertEngine(rules, compiled=compiled), AlertEngine(rules, compiled=compiled)
    with pytest.raises(AlertInputError, match=match):
        eng.observe(bad._replace(exchange="new market"))
    assert eng.active() == []
    out_ref, out = [], []
    for k, obs in enumerate(stream):
        if k % 7 == 3:
            with pytest.raises(AlertInputError, match=match):
                eng.observe(bad)
        out_ref += ref.observe(obs)
        out += eng.observe(obs)
    assert out == out_ref and len(out) >= 1
    assert eng.active() == ref.active()


def test_numbers_of_other_types_are_accepted_alike() -> None:
    obs = [Observation("x", "y", np.int64(T0 + k * NS), 100 + k % 2, np.float32(1.5), np.float64(1e6), 10 ** 6,
                       np.int8(0), 100) for k in range(50)]
    rules = [PriceAnomaly(warmup=2), DepthDrop(warmup_s=1)]
    py, c = AlertEngine(rules, compiled=False), AlertEngine(rules)
    for o in obs:
        assert py.observe(o) == c.observe(o)


def test_the_spread_window_is_bounded() -> None:
    """(lookback + refresh) / sample + 1 values per spread rule, whatever the update rate."""
    rule = SpreadWidening(lookback_s=60.0, sample_s=0.1, refresh_s=5.0)
    kernel = _alerts.AlertKernel(_alerts.KernelRules([("SPREAD_WIDENING", rule, Debounce())]))
    bound = (rule.lookback + rule.refresh) // rule.sample + 1
    most = 0
    for k in range(60_000):                                     # 10 min at 100 updates/s
        kernel.observe(GOOD._replace(ts=T0 + k * NS // 100))
        most = max(most, kernel.window_len(0))
    assert bound - 60 <= most <= bound
    assert kernel.nbytes < 3 * bound * 24 + 4096
    with pytest.raises(IndexError):
        kernel.window_len(1)
    with pytest.raises(AlertInputError, match="Observation"):
        kernel.observe((1, 2))
