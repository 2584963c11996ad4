"""liqcore.alerts rules and engine: each anomaly raises exactly one alert of the right type and
severity, with its end recorded; a calm market raises none; debounce and hysteresis; the alert
record's conversions; bad input."""

from __future__ import annotations

import math
import numpy as np
import orjson
import pytest

from liqcore import OrderBook
from liqcore.alerts import (AlertEngine, Debounce, DepthDrop, Imbalance, LiquidityAlert, Observation, PriceAnomaly,
                            SpreadWidening, alerts_from_array, alerts_to_array)
from liqcore.errors import AlertInputError

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def calm(seconds: float, rate: float = 10.0, seed: int = 1, start: float = 0.0):
    """A calm market: spread ~1 bps, depth ~1M per side, imbalance within ±0.3, mid a slow
    random walk (1 bp per second)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    mid = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 1e-4 / math.sqrt(rate), n)))
    for k in range(n):
        yield Observation("sim", "BTC/USDT", T0 + int((start + k / rate) * NS), float(mid[k]),
                          float(1.0 + 0.1 * rng.standard_normal()), float(1e6 * (1 + 0.05 * rng.standard_normal())),
                          float(1e6 * (1 + 0.05 * rng.standard_normal())), float(rng.uniform(-0.3, 0.3)))


def run(engine: AlertEngine, observations) -> list[LiquidityAlert]:
    out = []
    for obs in observations:
        out += engine.observe(obs)
    return out


def episode(change, seconds_calm: float = 120.0, seconds_event: float = 15.0, seconds_after: float = 60.0):
    """One calm market whose observations are changed by ``change`` during the event."""
    start, end = T0 + int(seconds_calm * NS), T0 + int((seconds_calm + seconds_event) * NS)
    for o in calm(seconds_calm + seconds_event + seconds_after, seed=2):
        yield change(o) if start <= o.ts < end else o


def test_a_calm_market_raises_nothing() -> None:
    """False-positive test: 20 minutes at 10 updates/s through every default rule."""
    engine = AlertEngine()
    assert run(engine, calm(1200, seed=11)) == [] and engine.active() == []


@pytest.mark.parametrize("name, change, kind, severity, metric", [
    ("spread blow-out x6", lambda o: o._replace(spread_bps=o.spread_bps * 6), "SPREAD_WIDENING", "HIGH", "spread_bps"),
    ("spread x3.5", lambda o: o._replace(spread_bps=o.spread_bps * 3.5), "SPREAD_WIDENING", "MEDIUM", "spread_bps"),
    ("depth drop to 20%", lambda o: o._replace(ask_depth=o.ask_depth * 0.2), "DEPTH_DROP", "MEDIUM", "depth_1pct"),
    ("one-sided book", lambda o: o._replace(bid_depth=0.0, mid=math.nan, spread_bps=math.nan, imbalance=-1.0),
     "DEPTH_DROP", "HIGH", "depth_1pct"),
    ("imbalance 0.8 held", lambda o: o._replace(imbalance=0.8), "IMBALANCE", "MEDIUM", "imbalance"),
])
def test_each_anomaly_raises_one_alert_of_its_type_and_ends(name, change, kind, severity, metric) -> None:
    engine = AlertEngine()
    alerts = run(engine, episode(change))
    assert [(a.type, a.severity, a.active) for a in alerts] == [(kind, severity, True), (kind, severity, False)], name
    start, end = alerts
    assert start.id == end.id and start.metric == metric and end.ended_ms > start.ts_ms
    assert start.ts_ms >= (T0 + 120 * NS) // 1_000_000                   # not before the event
    assert start.ts_ms <= (T0 + 135 * NS) // 1_000_000                   # within it
    assert start.requires_action == (severity == "HIGH") and start.suggested_action and start.message
    assert start.baseline_values and engine.active() == []


def test_a_price_jump_is_one_high_price_anomaly() -> None:
    def jump(o):
        return o._replace(mid=o.mid * 1.02)
    alerts = run(AlertEngine(), episode(jump, seconds_event=60.0))
    up, down = [a for a in alerts if a.active]
    assert (up.type, up.severity, up.metric) == ("PRICE_ANOMALY", "HIGH", "log_return")
    assert up.z > 5 and up.deviation_pct == pytest.approx(2.0, abs=0.2)
    assert (T0 + 120 * NS) // 1_000_000 <= up.ts_ms <= (T0 + 122 * NS) // 1_000_000
    # the fall back 60 s later is a second episode of the same type, and nothing else fires
    assert down.z < -5 and down.ts_ms >= (T0 + 180 * NS) // 1_000_000
    assert {a.type for a in alerts} == {"PRICE_ANOMALY"} and len(alerts) == 4


@pytest.mark.parametrize("compiled", [False, True])
def test_deviation_from_the_cross_venue_median_price(compiled) -> None:
    """The calm market quotes ~1 bps wide: 8 bps from the other venues is 8 spreads but under the
    10 bps floor (venues sit a few ticks apart on liquid pairs); 15 bps is past both."""
    base = list(calm(60, seed=5))

    def away(dev):
        return (o._replace(reference_price=o.mid * (1 + (dev if k > 300 else 0.0))) for k, o in enumerate(base))
    assert run(AlertEngine([PriceAnomaly(venue_spreads=5)], compiled=compiled), away(8e-4)) == []
    (a,) = run(AlertEngine([PriceAnomaly(venue_spreads=5)], compiled=compiled), away(1.5e-3))
    assert (a.type, a.metric) == ("PRICE_ANOMALY", "venue_deviation")
    assert a.baseline_values["venue_deviation_spreads"] > 5 and a.baseline_values["venue_bps"] == 10.0
    at = next(o for o in base if o.ts == a.ts)                       # the observation that started it
    assert a.baseline_values["venue_threshold_spreads"] == pytest.approx(max(5.0, 10.0 / at.spread_bps))
    # without the floor, 8 bps (8 spreads) is a deviation
    (b,) = run(AlertEngine([PriceAnomaly(venue_spreads=5, venue_bps=0)], compiled=compiled), away(8e-4))
    assert b.metric == "venue_deviation"


def test_debounce_needs_m_of_n_breaches() -> None:
    """2 wide spreads in 5 observations are not an episode with fire=3; 3 are."""
    def spikes(every: int):
        for k, o in enumerate(calm(200, seed=6)):
            yield o._replace(spread_bps=10.0) if k > 1000 and k % every == 0 else o
    assert run(AlertEngine([SpreadWidening()], debounce=Debounce(3, 5, 5)), spikes(3)) == []
    alerts = run(AlertEngine([SpreadWidening()], debounce=Debounce(3, 5, 5)), spikes(2))
    assert alerts and alerts[0].type == "SPREAD_WIDENING"


def test_hysteresis_keeps_one_episode_between_the_thresholds() -> None:
    """A spread at 1.8x the median (below the 2x breach, above the 1.5x clear) keeps an episode
    open; it ends only once back under 1.5x."""
    def shape(k: int, o: Observation) -> Observation:
        if 1200 <= k < 1300:
            return o._replace(spread_bps=6.0)
        if 1300 <= k < 1600:
            return o._replace(spread_bps=1.8)
        return o
    alerts = run(AlertEngine([SpreadWidening()]), (shape(k, o) for k, o in enumerate(calm(200, seed=7))))
    assert [a.active for a in alerts] == [True, False]
    assert alerts[1].ended_ms >= (T0 + 160 * NS) // 1_000_000


def test_each_market_has_its_own_baseline() -> None:
    engine = AlertEngine()
    a = calm(120, seed=8)
    b = (o._replace(exchange="other", spread_bps=o.spread_bps * 10) for o in calm(120, seed=9))
    merged = [x for pair in zip(a, b) for x in pair]
    assert run(engine, merged) == []                     # 10 bps is normal on "other"


def test_observation_from_a_liquidity_report() -> None:
    book = OrderBook(tick_size="0.5", lot_size="0.5", symbol="BTCUSDT", exchange="binance")
    book.apply_snapshot([["99.5", "1.5"], ["99", "2.5"]], [["100", "1"], ["100.5", "2"]])
    r = book.liquidity_report()
    o = Observation.from_report(r, T0)
    assert (o.exchange, o.symbol, o.mid, o.spread_bps) == ("binance", "BTCUSDT", r.mid, r.spread_bps)
    assert (o.bid_depth, o.ask_depth, o.imbalance) == (r.bid_liquidity_1pct, r.ask_liquidity_1pct,
                                                        r.weighted_imbalance)


def test_alert_records_round_trip_through_dict_json_and_numpy() -> None:
    alerts = run(AlertEngine(), episode(lambda o: o._replace(spread_bps=o.spread_bps * 6)))
    arr = alerts_to_array(alerts)
    assert arr.dtype == LiquidityAlert.DTYPE and alerts_from_array(arr) == alerts
    d = orjson.loads(orjson.dumps(alerts[1].to_dict()))
    assert d["ts"] == alerts[1].ts and LiquidityAlert(**{k: v for k, v in d.items() if k != "ts"}) == alerts[1]


@pytest.mark.parametrize("call, match", [
    (lambda: SpreadWidening(z=0), "z"),
    (lambda: SpreadWidening(clear_z=4.0), "clear"),
    (lambda: SpreadWidening(min_count=0), "min_count"),
    (lambda: DepthDrop(drop_pct=150), "drop_pct"),
    (lambda: DepthDrop(clear_pct=60), "clear_pct"),
    (lambda: Imbalance(level=1.0), "level"),
    (lambda: Imbalance(hold_s=math.nan), "hold_s"),
    (lambda: PriceAnomaly(z=-1), "z"),
    (lambda: Debounce(4, 3), "fire"),
    (lambda: Debounce(0, 3), "fire"),
    (lambda: AlertEngine([object()]), "rules"),
    (lambda: AlertEngine(debounce=(3, 5)), "debounce"),
    (lambda: AlertEngine().observe({"mid": 1}), "Observation"),
    (lambda: LiquidityAlert("x", 0, "e", "s", "SPREAD", "HIGH", "m", 1.0, 1.0, 0.0, None, "", "", True), "type"),
    (lambda: LiquidityAlert("x", 0, "e", "s", "IMBALANCE", "SEVERE", "m", 1.0, 1.0, 0.0, None, "", "", True),
     "severity"),
    (lambda: LiquidityAlert("x", 5, "e", "s", "IMBALANCE", "LOW", "m", 1.0, 1.0, 0.0, None, "", "", True, {}, 4),
     "ended_ms"),
    (lambda: LiquidityAlert("x", 1.5, "e", "s", "IMBALANCE", "LOW", "m", 1.0, 1.0, 0.0, None, "", "", True),
     "ts_ms"),
])
def test_bad_input_is_refused_naming_it(call, match: str) -> None:
    with pytest.raises(AlertInputError, match=match):
        call()
