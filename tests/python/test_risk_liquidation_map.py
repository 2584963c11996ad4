"""liqcore.risk.liquidation_map: the estimate of where positions would be liquidated, from
open-interest changes and trades.

A synthetic market whose answer is worked out by hand; the fast (vectorised, binary-lifting)
implementation against a plain interval-by-interval reference on random markets (hypothesis);
conservation of what was opened; agreement with liquidation_price; the overlay of published
liquidations; the LiquidationLevel record; bad input.
"""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.errors import RiskInputError
from liqcore.feed.records import Liquidation, OpenInterest, Trade, to_array
from liqcore.risk import (DEFAULT_LEVERAGES, LeverageTiers, LiquidationLevel, Position, levels_from_array,
                          levels_to_array, liquidation_map, liquidation_price)

EX, SYM = "binanceusdm", "BTC/USDT:USDT"


def snaps(sizes: list[float], step: int = 1000) -> list[OpenInterest]:
    return [OpenInterest(EX, SYM, step * i, size=s) for i, s in enumerate(sizes)]


def prints(points: list[tuple[int, float]], size: float = 1.0) -> list[Trade]:
    return [Trade(EX, SYM, str(k), t, p, size, "buy") for k, (t, p) in enumerate(points)]


# -- the worked synthetic case --------------------------------------------------------------------

def test_synthetic_market_whose_answer_is_known() -> None:
    """OI 1,000 -> 1,100 at 100 (10x only, m = 0.5%): 100 longs liquidated at 100 x 0.9 / 0.995 =
    90.4523 and 100 shorts at 100 x 1.1 / 1.005 = 109.4527; OI falls 5% to 1,045: 95 of each
    remain; a trade at 90 sweeps the longs."""
    oi = snaps([1000, 1100, 1045, 1045])
    trades = prints([(0, 100.0), (500, 100.0), (1500, 100.0), (2500, 90.0)])
    m = liquidation_map(oi, trades, leverages={10: 1.0}, mmr=0.005, bucket=1.0)
    long_lp, short_lp = 100 * 0.9 / 0.995, 100 * 1.1 / 1.005
    assert m.edges[0] == 90.0 and m.edges[-1] == 110.0 and m.buckets == 20 and m.intervals == 3
    assert m.opened == 100.0 and m.closed_long == pytest.approx(5.0) and m.closed_short == pytest.approx(5.0) and m.unplaced == 0.0
    assert m.price == 90.0 and m.ts_ms == 3000
    assert m.by_bucket("long").sum() == 0.0
    assert m.by_bucket("long", swept=True)[0] == pytest.approx(95.0)          # bucket [90, 91)
    assert m.by_bucket("long", swept=True, notional=True)[0] == pytest.approx(95.0 * long_lp)
    assert m.by_bucket("short")[19] == pytest.approx(95.0)                    # bucket [109, 110)
    assert m.by_bucket("short", notional=True)[19] == pytest.approx(95.0 * short_lp)
    assert m.by_bucket("short").sum() == pytest.approx(95.0)
    (level,) = m.levels()
    assert (level.price, level.bucket, level.side, level.leverage, level.source) == (109.0, 1.0, "short", 10.0, "open")
    assert level.size == pytest.approx(95.0) and level.notional == pytest.approx(95.0 * short_lp)
    (swept,) = m.levels(swept=True)
    assert (swept.price, swept.side, swept.source) == (90.0, "long", "swept")
    # a rise to 110 liquidates the 95 shorts: cumulative notional up to each bucket's upper edge
    cum = m.cumulative("short")
    assert cum[19] == pytest.approx(95.0 * short_lp) and cum[:19].sum() == 0.0
    assert np.all(m.cumulative("long") == 0.0)


def test_leverage_layers_split_the_new_interest_and_match_liquidation_price() -> None:
    """Each leverage layer gets its weight of the new OI, at the liquidation price liqcore gives a
    Binance isolated position of that leverage with its initial margin on a one-tier table."""
    mix = {5: 1.0, 20: 2.0, 100: 1.0}
    m = liquidation_map(snaps([0, 8]), prints([(0, 60_000.0), (500, 60_000.0)]), leverages=mix, mmr=0.004,
                        bucket=1.0)
    one_tier = LeverageTiers.build([{"floor": 0, "cap": 1e12, "max_leverage": 125, "mmr": 0.004}])
    assert list(m.leverages) == [5.0, 20.0, 100.0] and list(m.weights) == [0.25, 0.5, 0.25]
    for k, lev in enumerate([5, 20, 100]):
        for side in ("long", "short"):
            grid = getattr(m, side)[k]
            (cell,) = np.flatnonzero(grid)
            assert grid[cell] == pytest.approx(8 * mix[lev] / 4)
            lp = getattr(m, side + "_notional")[k][cell] / grid[cell]
            ref = liquidation_price(Position("binance", "BTCUSDT", side, 1.0, 60_000.0, lev), one_tier).price
            assert lp == pytest.approx(ref, rel=1e-12)
            assert m.edges[cell] <= ref < m.edges[cell + 1]


def test_open_interest_before_any_trade_has_no_price_and_is_counted() -> None:
    m = liquidation_map(snaps([10, 20, 30]), prints([(1500, 50.0)]), leverages={10: 1.0}, bucket=1.0)
    assert m.unplaced == 10.0 and m.opened == 10.0
    assert m.by_bucket("short").sum() == pytest.approx(10.0)


def test_interval_without_trades_carries_the_price_and_sweeps_nothing() -> None:
    m = liquidation_map(snaps([0, 10, 20]), prints([(500, 100.0)]), leverages={10: 1.0}, mmr=0.0, bucket=1.0)
    assert m.opened == 20.0 and m.by_bucket("long").sum() == pytest.approx(20.0)
    assert m.by_bucket("long")[0] == pytest.approx(20.0)          # both cohorts at 90: one bucket


def test_a_trade_exactly_at_the_liquidation_price_sweeps_it() -> None:
    oi = snaps([0, 10, 10, 10])
    m = liquidation_map(oi, prints([(500, 100.0), (1500, 90.000001), (2500, 90.0)]), leverages={10: 1.0}, mmr=0.0,
                        bucket=1.0)
    assert 100.0 * (1 - 1 / 10) == 90.0
    assert m.by_bucket("long").sum() == 0.0 and m.by_bucket("long", swept=True).sum() == 10.0


def test_leverage_at_or_below_one_has_no_long_liquidation() -> None:
    m = liquidation_map(snaps([0, 10]), prints([(500, 100.0)]), leverages={1: 1.0, 10: 1.0}, bucket=1.0)
    assert m.unliquidatable == 5.0 and m.by_bucket("long").sum() == pytest.approx(5.0)
    assert m.by_bucket("short").sum() == pytest.approx(10.0)


def test_closing_everything_then_reopening() -> None:
    """OI to 0 closes every open position (a zero factor), later openings are untouched."""
    oi = snaps([0, 10, 0, 4])
    m = liquidation_map(oi, prints([(500, 100.0), (1500, 100.0), (2500, 200.0)]), leverages={10: 1.0},
                        mmr=0.0, bucket=1.0)
    assert m.closed_long == pytest.approx(10.0) and m.closed_short == pytest.approx(10.0)
    assert m.by_bucket("long").sum() == pytest.approx(4.0) and m.by_bucket("long")[-1] == 0.0
    assert m.levels()[0].price == 180.0


def test_default_bucket_is_ten_bps_rounded_down_to_1_2_5() -> None:
    for price, bucket in [(60_000.0, 50.0), (3_000.0, 2.0), (0.5, 0.0005), (100.0, 0.1)]:
        m = liquidation_map(snaps([0, 1]), prints([(500, price)]))
        assert m.bucket == pytest.approx(bucket, rel=1e-12)
        assert dict(zip(m.leverages.tolist(), m.weights.tolist())) == pytest.approx(dict(DEFAULT_LEVERAGES))


def test_price_range_keeps_what_falls_outside_in_totals() -> None:
    m = liquidation_map(snaps([0, 10]), prints([(500, 100.0)]), leverages={10: 1.0, 2: 1.0}, mmr=0.0,
                        bucket=1.0, price_range=(80.0, 120.0))
    assert m.edges[0] == 80.0 and m.edges[-1] == 120.0
    # 2x: long at 50, short at 150: outside; 10x: 90 and 110: inside
    assert m.outside_long == 5.0 and m.outside_short == 5.0
    assert m.by_bucket("long").sum() == 5.0 and m.by_bucket("short").sum() == 5.0


# -- against a plain reference, and conservation ------------------------------------------------

def reference_map(oi: list[float], trades: list[tuple[int, float, float]], levs: dict[float, float], mmr: float,
                  step: int) -> dict[str, dict[tuple[float, float], float]]:
    """Interval by interval, cohort by cohort, as the model is written: sweep, then close pro
    rata or open. Returns {side: {(leverage, LP): open base}} and the swept ones."""
    total = sum(levs.values())
    open_: dict[str, list[list[float]]] = {"long": [], "short": []}   # [leverage, lp, size]
    swept: dict[str, list[list[float]]] = {"long": [], "short": []}
    price = next((p for t, p, _ in reversed(trades) if t <= 0), math.nan)
    for i in range(1, len(oi)):
        inside = [(p, s) for t, p, s in trades if step * (i - 1) < t <= step * i]
        if inside:
            lo, hi = min(p for p, _ in inside), max(p for p, _ in inside)
            vol = sum(s for _, s in inside)
            entry = sum(p * s for p, s in inside) / vol if vol > 0 else price
            price = inside[-1][0]
            for side in ("long", "short"):
                keep = []
                for c in open_[side]:
                    (swept[side] if (c[1] >= lo if side == "long" else c[1] <= hi) else keep).append(c)
                open_[side] = keep
        else:
            entry = price
        d = oi[i] - oi[i - 1]
        if d < 0:
            for side in ("long", "short"):
                for c in open_[side]:
                    c[2] *= oi[i] / oi[i - 1]
        elif d > 0 and not math.isnan(entry):
            for lev, w in levs.items():
                lp_long = entry * (1 - 1 / lev) / (1 - mmr)
                if lp_long > 0:
                    open_["long"].append([lev, lp_long, d * w / total])
                open_["short"].append([lev, entry * (1 + 1 / lev) / (1 + mmr), d * w / total])
    out: dict[str, dict[tuple[float, float], float]] = {}
    for name, book in (("open", open_), ("swept", swept)):
        for side in ("long", "short"):
            cells: dict[tuple[float, float], float] = {}
            for lev, lp, size in book[side]:
                cells[lev, lp] = cells.get((lev, lp), 0.0) + size
            out[f"{name}_{side}"] = cells
    return out


def cells_of(m, grid: str, bucket: float) -> dict[tuple[float, int], float]:
    arr = getattr(m, grid)
    return {(float(m.leverages[k]), j): float(arr[k, j]) for k, j in zip(*np.nonzero(arr > 1e-12))}


def binned(ref: dict[tuple[float, float], float], bucket: float) -> dict[tuple[float, int], float]:
    out: dict[tuple[float, int], float] = {}
    for (lev, lp), size in ref.items():
        key = (lev, math.floor(lp / bucket))
        out[key] = out.get(key, 0.0) + size
    return out


markets = st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0, 1000, allow_nan=False, width=32).map(float), min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(-500, 1000 * (n - 1) + 500), st.floats(50, 150, width=32).map(float),
                       st.floats(0.0625, 5, width=32).map(float)), max_size=40),
    st.dictionaries(st.sampled_from([0.5, 1.0, 2.0, 3.0, 10.0, 25.0, 50.0, 125.0]), st.floats(0.01, 1.0),
                    min_size=1, max_size=4),
    st.sampled_from([0.0, 0.004, 0.05])))


@settings(max_examples=150, deadline=None)
@given(markets)
def test_matches_the_plain_reference_and_conserves_what_opened(market) -> None:
    oi, raw_trades, levs, mmr = market
    trades = sorted(raw_trades, key=lambda t: t[0])
    recs = [Trade(EX, SYM, str(k), t, p, s, None) for k, (t, p, s) in enumerate(trades)]
    if not any(t <= 0 for t, _, _ in trades) and not any(0 < t <= 1000 * (len(oi) - 1) for t, _, _ in trades):
        return  # no price at all: nothing to size the default bucket; the explicit bucket case below
    m = liquidation_map(snaps(oi), recs, leverages=levs, mmr=mmr, bucket=0.5)
    ref = reference_map(oi, trades, levs, mmr, 1000)
    lo_k = round(m.edges[0] / 0.5)
    for grid in ("open_long", "open_short", "swept_long", "swept_short"):
        mine = {(lev, j + lo_k): v for (lev, j), v in cells_of(m, grid.replace("open_", ""), 0.5).items()}
        theirs = {k: v for k, v in binned(ref[grid], 0.5).items() if v > 1e-12}
        assert mine.keys() == theirs.keys(), grid
        for key in mine:
            assert mine[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), (grid, key)
    # conservation: what opened is open, swept, closed, or (longs) never liquidatable
    for side in ("long", "short"):
        accounted = (m.by_bucket(side).sum() + m.by_bucket(side, swept=True).sum() + getattr(m, "closed_" + side)
                     + (m.unliquidatable if side == "long" else 0.0) + getattr(m, "outside_" + side))
        assert accounted == pytest.approx(m.opened, rel=1e-9, abs=1e-9)


def test_arrays_and_records_give_the_same_map() -> None:
    oi = snaps([100, 150, 120, 200])
    trades = prints([(200, 101.0), (900, 99.0), (1700, 104.0), (2100, 97.0), (2900, 100.0)], size=2.0)
    a = liquidation_map(oi, trades, bucket=0.25)
    b = liquidation_map(to_array(oi), to_array(trades), bucket=0.25)
    assert orjson.dumps(a.to_dict()) == orjson.dumps(b.to_dict())


def test_a_long_window_is_fast_enough_to_be_interactive() -> None:
    """30 days of 5-minute open interest and 200,000 trades (no timing asserted: the benchmark
    measures it); checks the shapes and the conservation at scale."""
    rng = np.random.default_rng(3)
    n = 30 * 288
    oi = 1e4 + np.cumsum(rng.normal(0, 30, n)).clip(-9e3)
    oi_arr = np.zeros(n, dtype=OpenInterest.DTYPE)
    oi_arr["exchange"], oi_arr["symbol"] = EX, SYM
    oi_arr["ts_ms"] = np.arange(n) * 300_000
    oi_arr["ts"] = oi_arr["ts_ms"] * 1_000_000
    oi_arr["size"] = oi
    t = np.zeros(200_000, dtype=Trade.DTYPE)
    t["exchange"], t["symbol"] = EX, SYM
    t["ts_ms"] = np.sort(rng.integers(0, n * 300_000, len(t)))
    t["price"] = 60_000 * np.exp(np.cumsum(rng.normal(0, 2e-4, len(t))))
    t["size"] = rng.exponential(0.05, len(t))
    m = liquidation_map(oi_arr, t)
    assert m.long.shape == (len(DEFAULT_LEVERAGES), m.buckets) and m.buckets < 100_000
    accounted = (m.by_bucket("short").sum() + m.by_bucket("short", swept=True).sum() + m.closed_short
                 + m.outside_short)
    assert accounted == pytest.approx(m.opened, rel=1e-9)


# -- published liquidations laid over the map ----------------------------------------------------

def test_overlay_bins_published_liquidations_on_the_maps_buckets() -> None:
    m = liquidation_map(snaps([1000, 1100, 1045, 1045]), prints([(0, 100.0), (500, 100.0), (2500, 90.0)]),
                        leverages={10: 1.0}, mmr=0.005, bucket=1.0)
    events = [Liquidation(EX, SYM, 2500, "long", 90.3, 2.0), Liquidation(EX, SYM, 2501, "long", 90.9, 1.0),
              Liquidation(EX, SYM, 2502, "short", 109.5, 0.5), Liquidation(EX, SYM, 2503, "long", 70.0, 4.0)]
    ov = m.overlay(events)
    assert ov.events == 4 and ov.long[0] == 3.0 and ov.long_notional[0] == pytest.approx(90.3 * 2 + 90.9)
    assert ov.short[19] == 0.5 and ov.outside_long == 4.0 and ov.outside_short == 0.0
    assert [(lv.price, lv.side, lv.size, lv.source, lv.leverage) for lv in ov.levels()] == [
        (90.0, "long", 3.0, "exchange", None), (109.0, "short", 0.5, "exchange", None)]
    assert m.overlay(to_array(events)).to_dict() == ov.to_dict()
    assert m.overlay([]).events == 0
    with pytest.raises(RiskInputError, match="liquidations"):
        m.overlay([Liquidation(EX, "ETH/USDT:USDT", 1, "long", 90.0, 1.0)])


# -- the record -----------------------------------------------------------------------------------

def test_liquidation_levels_round_trip_through_dict_json_and_numpy() -> None:
    m = liquidation_map(snaps([0, 10, 30]), prints([(500, 100.0), (1500, 103.0)]), bucket=0.5)
    levels = m.levels() + m.overlay([Liquidation(EX, SYM, 1, "short", 101.0, 1.0)]).levels()
    arr = levels_to_array(levels)
    assert arr.dtype == LiquidationLevel.DTYPE and len(arr) == len(levels)
    assert levels_from_array(arr) == levels
    assert [LiquidationLevel(**orjson.loads(orjson.dumps(lv.to_dict()))) for lv in levels] == levels
    assert math.isnan(arr["leverage"][-1]) and arr["side"][0] in (1, -1)


@pytest.mark.parametrize("field, value", [("price", 0.0), ("price", math.nan), ("size", -1.0), ("bucket", -1.0),
                                          ("side", "up"), ("source", "guess"), ("leverage", 0.0),
                                          ("notional", math.inf), ("exchange", 3)])
def test_liquidation_level_refuses_bad_fields(field: str, value: object) -> None:
    good = dict(exchange=EX, symbol=SYM, price=100.0, bucket=1.0, side="long", size=1.0, notional=100.0,
                leverage=10.0, source="open")
    with pytest.raises(RiskInputError, match=field):
        LiquidationLevel(**{**good, field: value})


# -- bad input ------------------------------------------------------------------------------------

GOOD_OI, GOOD_TRADES = snaps([0, 10]), prints([(500, 100.0)])


@pytest.mark.parametrize("kwargs, match", [
    (dict(open_interest=snaps([10])), "two snapshots"),
    (dict(open_interest=[]), "open_interest is empty"),
    (dict(open_interest=[OpenInterest(EX, SYM, 0, size=1.0), OpenInterest(EX, SYM, 0, size=2.0)]), "share a time"),
    (dict(open_interest=[OpenInterest(EX, SYM, 0, size=1.0), OpenInterest(EX, SYM, 1, contracts=2.0)]), "missing"),
    (dict(open_interest=snaps([1.0, -1.0])), "open_interest.size"),
    (dict(open_interest=snaps([1.0, math.inf])), "open_interest.size"),
    (dict(open_interest=[OpenInterest(EX, SYM, 0, size=1.0), OpenInterest("okx", SYM, 1, size=2.0)]), "several"),
    (dict(open_interest="oi"), "open_interest"),
    (dict(open_interest=[1, 2]), r"open_interest\[0\]"),
    (dict(trades=prints([(500, math.nan)])), "trades.price"),
    (dict(trades=prints([(500, 0.0)])), "trades.price"),
    (dict(trades=prints([(500, 100.0)], size=-1.0)), "trades.size"),
    (dict(trades=[Trade("okx", SYM, "1", 500, 100.0, 1.0, None)]), "trades"),
    (dict(trades=np.zeros(2, dtype=Liquidation.DTYPE)), "Trade.DTYPE"),
    (dict(leverages={}), "leverages"),
    (dict(leverages={0: 1.0}), "leverages"),
    (dict(leverages={10: -1.0}), "leverages"),
    (dict(leverages={10: 0.0}), "all 0"),
    (dict(leverages={10: math.nan}), "leverages"),
    (dict(mmr=1.0), "mmr"),
    (dict(mmr=-0.1), "mmr"),
    (dict(bucket=0.0), "bucket"),
    (dict(bucket=1e-9), "buckets"),
    (dict(bucket="1"), "bucket"),
    (dict(price_range=(120.0, 80.0)), "price_range"),
    (dict(price_range=(80.0,)), "price_range"),
    (dict(trades=[]), "bucket"),
])
def test_bad_input_is_refused_naming_it(kwargs: dict, match: str) -> None:
    args = {"open_interest": GOOD_OI, "trades": GOOD_TRADES, **kwargs}
    with pytest.raises(RiskInputError, match=match):
        liquidation_map(args.pop("open_interest"), args.pop("trades"), **args)
