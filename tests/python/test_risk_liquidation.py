"""liqcore.risk: positions, leverage tiers, liquidation prices (analytics.md §6.1-6.2).

Every worked example of the note is a test, to the printed digits; bad input raises
RiskInputError naming the argument; the vectorised form equals the scalar one.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard: the simulator test)

from liqcore.errors import LiqError, RiskInputError
from liqcore.risk.liquidation import (LiquidationResult, liquidation_price,
                                      liquidation_prices)
from liqcore.risk.records import Position
from liqcore.risk.tiers import LeverageTiers, Tier

BTC = LeverageTiers.default("binance", "BTCUSDT")
# a one-tier table at Binance's first BTCUSDT bracket (MMR 0.4%, cum 0): the note's
# "exact form with cum = 0" for the 1 BTC @ 60,000 examples
FLAT = LeverageTiers.build([{"floor": 0, "cap": 1e9, "max_leverage": 125, "mmr": 0.004}])
BYBIT_05 = LeverageTiers.build([{"floor": 0, "cap": 2_000_000, "max_leverage": 100, "mmr": 0.005}],
                               exchange="bybit")


def pos(side: str = "long", size: float = 1.0, entry: float = 60_000.0, lev: float = 10.0,
        exchange: str = "binance", **kw: object) -> Position:
    return Position(exchange, "BTCUSDT", side, size, entry, lev, **kw)  # type: ignore[arg-type]


# -- tiers --------------------------------------------------------------------------------------

def test_default_table_says_source_and_date() -> None:
    assert BTC.exchange == "binance" and BTC.symbol == "BTCUSDT" and BTC.as_of == "2021-03-18"
    assert "2021-03-18" in BTC.source and "leverageBracket" in BTC.source
    assert len(BTC) == 10
    assert [t.cum for t in BTC] == [0, 50, 1_300, 16_300, 266_300, 1_266_300, 2_516_300,
                                   5_016_300, 25_016_300, 100_016_300]
    assert LeverageTiers.default("binanceusdm", "BTC/USDT:USDT").to_dict()["tiers"] == BTC.to_dict()["tiers"]


def test_cum_derived_tier3_is_1300() -> None:
    # FAQ: level 3 = 250,000 x (1% - 0.5%) + 50 = 1,300 USDT
    assert BTC.tier_for(600_000).index == 2
    assert BTC.tier_for(600_000).cum == 1_300.0


def test_maintenance_margin_at_600k_is_4700_marginal_identity() -> None:
    assert BTC.maintenance_margin(600_000) == pytest.approx(4_700.0, abs=1e-9)
    assert 50_000 * 0.004 + 200_000 * 0.005 + 350_000 * 0.01 == pytest.approx(4_700.0)


def test_tier_boundaries_half_open() -> None:
    assert BTC.index_for(0) == 0
    assert BTC.index_for(49_999.99) == 0
    assert BTC.index_for(50_000) == 1
    assert BTC.index_for(5e8) == 9 and BTC.index_for(1e12) == 9
    assert BTC.max_leverage_for(600_000) == 50


def test_maintenance_margin_continuous_at_boundaries() -> None:
    for t in BTC.tiers[1:]:
        below = BTC.tiers[t.index - 1]
        assert below.maintenance_margin(t.floor) == pytest.approx(t.maintenance_margin(t.floor), rel=1e-12)


def test_from_ccxt_binance_keeps_cum_and_derives_when_absent() -> None:
    rows = [{"tier": i + 1, "symbol": "BTC/USDT:USDT", "currency": "USDT", "minNotional": t.floor,
             "maxNotional": t.cap, "maintenanceMarginRate": t.mmr, "maxLeverage": t.max_leverage,
             "info": {"bracket": str(i + 1), "cum": str(t.cum)}} for i, t in enumerate(BTC)]
    got = LeverageTiers.from_ccxt(rows, exchange="binance")
    assert got.to_dict()["tiers"] == BTC.to_dict()["tiers"]
    assert got.symbol == "BTC/USDT:USDT" and got.currency == "USDT"
    for r in rows:
        r["info"] = {}
    assert LeverageTiers.from_ccxt(list(reversed(rows))).tier_for(600_000).cum == 1_300.0


def test_from_binance_leverage_bracket() -> None:
    payload = [{"symbol": "ETHUSDT", "notionalCoef": 1.5, "brackets": [
        {"bracket": 1, "initialLeverage": 75, "notionalCap": 10_000, "notionalFloor": 0,
         "maintMarginRatio": 0.0065, "cum": 0}]},
        {"symbol": "BTCUSDT", "brackets": [
            {"bracket": 1, "initialLeverage": 125, "notionalCap": 50_000, "notionalFloor": 0,
             "maintMarginRatio": 0.004, "cum": 0.0},
            {"bracket": 2, "initialLeverage": 100, "notionalCap": 250_000, "notionalFloor": 50_000,
             "maintMarginRatio": 0.005, "cum": 50.0},
            {"bracket": 3, "initialLeverage": 50, "notionalCap": 1_000_000, "notionalFloor": 250_000,
             "maintMarginRatio": 0.01, "cum": 1_300.0}]}]
    t = LeverageTiers.from_binance(payload, symbol="BTCUSDT")
    assert t.symbol == "BTCUSDT" and len(t) == 3 and t[2].cum == 1_300 and t[0].max_leverage == 125
    assert len(LeverageTiers.from_binance(payload[0])) == 1
    assert len(LeverageTiers.from_binance(payload[1]["brackets"])) == 3
    with pytest.raises(RiskInputError, match="symbol"):
        LeverageTiers.from_binance(payload)


def test_from_bybit_risk_limit() -> None:
    resp = {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "list": [
        {"id": 2, "symbol": "BTCUSDT", "riskLimitValue": "2300000", "maintenanceMargin": "0.0055",
         "initialMargin": "0.0125", "isLowestRisk": 0, "maxLeverage": "80.00", "mmDeduction": "1000"},
        {"id": 1, "symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "0.005",
         "initialMargin": "0.01", "isLowestRisk": 1, "maxLeverage": "100.00", "mmDeduction": ""}]}}
    t = LeverageTiers.from_bybit(resp)
    assert t.exchange == "bybit" and t.symbol == "BTCUSDT"
    assert [(x.floor, x.cap, x.mmr, x.max_leverage, x.cum) for x in t] == [
        (0.0, 2_000_000.0, 0.005, 100.0, 0.0), (2_000_000.0, 2_300_000.0, 0.0055, 80.0, 1_000.0)]
    assert len(LeverageTiers.from_bybit(resp["result"]["list"], symbol="BTCUSDT")) == 2


BAD_TIERS = [
    ([], "tiers"),
    ([{"floor": 0, "cap": 100, "max_leverage": 10, "mmr": 0.01},
      {"floor": 50, "cap": 200, "max_leverage": 5, "mmr": 0.02}], r"tiers\[1\].floor.*overlaps"),
    ([{"floor": 0, "cap": 100, "max_leverage": 10, "mmr": 0.01},
      {"floor": 150, "cap": 200, "max_leverage": 5, "mmr": 0.02}], r"tiers\[1\].floor.*gap"),
    ([{"floor": 0, "cap": 0, "max_leverage": 10, "mmr": 0.01}], r"tiers\[0\].cap"),
    ([{"floor": -1, "cap": 10, "max_leverage": 10, "mmr": 0.01}], r"tiers\[0\].floor"),
    ([{"floor": 0, "cap": 10, "max_leverage": 0, "mmr": 0.01}], r"tiers\[0\].max_leverage"),
    ([{"floor": 0, "cap": 10, "max_leverage": 10, "mmr": 1.5}], r"tiers\[0\].mmr"),
    ([{"floor": 0, "cap": 10, "max_leverage": 10, "mmr": float("nan")}], r"tiers\[0\].mmr"),
    ([{"floor": 0, "cap": float("inf"), "max_leverage": 10, "mmr": 0.01}], r"tiers\[0\].cap"),
    ([{"floor": 0, "cap": 10, "max_leverage": 10, "mmr": 0.01, "cum": -1}], r"tiers\[0\].cum"),
    ([{"floor": 0, "cap": 10, "max_leverage": 10}], r"tiers\[0\].mmr: missing"),
    ([{"floor": 0, "cap": 100, "max_leverage": 10, "mmr": 0.02},
      {"floor": 100, "cap": 200, "max_leverage": 5, "mmr": 0.01}], r"tiers\[1\].mmr"),
]


@pytest.mark.parametrize("rows,match", BAD_TIERS)
def test_bad_tiers_rejected(rows: list[dict[str, float]], match: str) -> None:
    with pytest.raises(RiskInputError, match=match) as e:
        LeverageTiers.build(rows)
    assert isinstance(e.value, LiqError) and isinstance(e.value, ValueError)


@pytest.mark.parametrize("notional", [-1.0, float("nan"), float("inf"), "x"])
def test_bad_notional_rejected(notional: object) -> None:
    with pytest.raises(RiskInputError, match="notional"):
        BTC.tier_for(notional)  # type: ignore[arg-type]


@pytest.mark.parametrize("exchange,symbol", [("okx", "BTCUSDT"), ("binance", "ETHUSDT")])
def test_default_unknown(exchange: str, symbol: str) -> None:
    with pytest.raises(RiskInputError):
        LeverageTiers.default(exchange, symbol)


def test_tiers_direct_construction_checks_its_rows() -> None:
    with pytest.raises(RiskInputError, match=r"tiers\[0\]: expected a Tier"):
        LeverageTiers(({"floor": 0},))  # type: ignore[arg-type]
    with pytest.raises(RiskInputError, match=r"tiers\[1\]: index"):
        LeverageTiers((Tier(0, 0, 10, 10, 0.01, 0), Tier(0, 10, 20, 5, 0.02, 0.1)))
    assert LeverageTiers((Tier(0, 0, 10, 10, 0.01, 0),)).tier_for(5).mmr == 0.01


def test_tiers_to_dict_json() -> None:
    assert json.loads(json.dumps(BTC.to_dict()))["tiers"][2]["cum"] == 1_300


# -- positions ----------------------------------------------------------------------------------

def test_position_defaults_isolated_margin_and_to_dict() -> None:
    p = pos()
    assert p.wallet_balance == 6_000.0 and p.sign == 1 and p.notional == 60_000.0
    d = p.to_dict()
    assert d["side"] == "long" and d["margin_mode"] == "isolated" and Position(**d) == p
    assert pos("SHORT", exchange="Bybit").side == "short"


BAD_POSITIONS = [
    (dict(side="flat"), "side"),
    (dict(size=0.0), "size"),
    (dict(size=-1.0), "size"),
    (dict(size=float("nan")), "size"),
    (dict(entry=float("inf")), "entry_price"),
    (dict(entry=0.0), "entry_price"),
    (dict(lev=0.0), "leverage"),
    (dict(lev=-5.0), "leverage"),
    (dict(margin_mode="portfolio"), "margin_mode"),
    (dict(margin_mode="cross"), "wallet_balance"),
    (dict(wallet_balance=0.0), "wallet_balance"),
    (dict(wallet_balance=float("nan")), "wallet_balance"),
    (dict(margin_mode="cross", wallet_balance=10.0, other_maintenance=-1.0), "other_maintenance"),
    (dict(margin_mode="cross", wallet_balance=10.0, other_upnl=float("inf")), "other_upnl"),
    (dict(other_upnl=5.0), "other_maintenance/other_upnl"),
    (dict(exchange=""), "exchange"),
    (dict(size=True), "size"),
    # each positive and finite, but the notional or the margin is not (the service's schema fuzz)
    (dict(entry=5e-324), "notional"),
    (dict(size=1e-300, entry=1e-300), "notional"),
    (dict(size=1e300, entry=1e300), "notional"),
    (dict(entry=5e-324, lev=125.0, size=1.0), "notional"),
]


@pytest.mark.parametrize("kw,match", BAD_POSITIONS)
def test_bad_positions_rejected(kw: dict[str, object], match: str) -> None:
    with pytest.raises(RiskInputError, match=match):
        pos(**kw)  # type: ignore[arg-type]


def ccxt_position(**over: object) -> dict[str, object]:
    d: dict[str, object] = {
        "info": {}, "id": None, "symbol": "BTC/USDT:USDT", "timestamp": None, "datetime": None,
        "isolated": True, "hedged": False, "side": "long", "contracts": 10.0, "contractSize": 0.1,
        "entryPrice": 60_000.0, "markPrice": 59_000.0, "notional": 59_000.0, "leverage": 10.0,
        "collateral": 5_900.0, "initialMargin": 6_000.0, "maintenanceMargin": 236.0,
        "initialMarginPercentage": 0.1, "maintenanceMarginPercentage": 0.004,
        "unrealizedPnl": -100.0, "liquidationPrice": None, "marginMode": "isolated", "percentage": None}
    d.update(over)
    return d


def test_position_from_ccxt() -> None:
    p = Position.from_ccxt(ccxt_position(), exchange="binanceusdm")
    assert (p.exchange, p.symbol, p.side, p.size, p.entry_price, p.leverage, p.margin_mode) == \
        ("binanceusdm", "BTC/USDT:USDT", "long", 1.0, 60_000.0, 10.0, "isolated")
    assert p.wallet_balance == pytest.approx(6_000.0)       # collateral - unrealizedPnl
    assert liquidation_price(p, FLAT).price == pytest.approx(54_216.87, abs=0.005)
    p2 = Position.from_ccxt(ccxt_position(positionMargin=6_500.0), exchange="binance")
    assert p2.wallet_balance == 6_500.0
    p3 = Position.from_ccxt(ccxt_position(collateral=None, marginMode=None, contractSize=None, contracts=1),
                            exchange="binance")
    assert p3.wallet_balance == 6_000.0 and p3.margin_mode == "isolated" and p3.size == 1.0
    cross = Position.from_ccxt(ccxt_position(marginMode="cross", side="short"), exchange="binance",
                               wallet_balance=20_000.0, other_maintenance=10.0, other_upnl=-5.0)
    assert (cross.margin_mode, cross.side, cross.wallet_balance, cross.other_upnl) == ("cross", "short", 20_000.0, -5.0)


@pytest.mark.parametrize("over,match", [
    (dict(contracts=None), "contracts"), (dict(contracts=0), "contracts"),
    (dict(contractSize=-1), "contractSize"), (dict(side=None), "side"),
    (dict(entryPrice=None), "entryPrice"), (dict(marginMode=None, isolated=None), "marginMode"),
    (dict(marginMode="cross"), "wallet_balance"), (dict(side="both"), "side"),
])
def test_position_from_ccxt_bad(over: dict[str, object], match: str) -> None:
    with pytest.raises(RiskInputError, match=match):
        Position.from_ccxt(ccxt_position(**over), exchange="binance")


# -- liquidation prices: the worked examples ----------------------------------------------------

def test_binance_faq_cross_25100_40() -> None:
    # Binance FAQ: 500 USDT wallet, long 0.02 BTC (1,000 USDT, 20x) at 50,000, cross -> 25,100.40
    r = liquidation_price(pos(size=0.02, entry=50_000, lev=20, margin_mode="cross", wallet_balance=500), BTC)
    assert round(r.price, 2) == 25_100.40
    assert r.price == pytest.approx(25_100.4016, abs=5e-5)
    assert r.tier.index == 0 and r.reason == "ok" and r.iterations == 1
    assert r.maintenance_margin == pytest.approx(r.price * 0.02 * 0.004)


def test_binance_isolated_long_1btc_10x_54216_87() -> None:
    r = liquidation_price(pos(), FLAT)
    assert round(r.price, 2) == 54_216.87
    assert r.price == pytest.approx(60_000 * (1 - 1 / 10) / (1 - 0.004), rel=1e-15)


def test_binance_isolated_short_1btc_10x_65737_05() -> None:
    assert round(liquidation_price(pos("short"), FLAT).price, 2) == 65_737.05


def test_binance_1btc_on_the_2021_table_uses_tier2() -> None:
    # 60k entry and ~54.2k liquidation notional sit in tier 2 (MMR 0.5%, cum 50) of the real
    # table, so the price there differs from the one-tier example: (6000+50-60000)/(0.005-1)
    r = liquidation_price(pos(), BTC)
    assert r.tier.index == 1
    assert r.price == pytest.approx(53_950 / 0.995, rel=1e-12)


def test_binance_isolated_long_10btc_tier3_54414_14() -> None:
    r = liquidation_price(pos(size=10), BTC)
    assert round(r.price, 2) == 54_414.14
    assert r.tier.index == 2 and r.tier.cum == 1_300
    assert 250_000 <= r.notional < 1_000_000 and round(r.notional) == 544_141


def test_binance_isolated_long_100btc_5x_tier4_49063_59() -> None:
    r = liquidation_price(pos(size=100, lev=5), BTC)
    assert round(r.price, 2) == 49_063.59
    assert r.tier.index == 3 and 1_000_000 <= r.notional < 10_000_000


def test_bybit_isolated_long_19700_short_20300() -> None:
    r = liquidation_price(pos(entry=20_000, lev=50, exchange="bybit"), BYBIT_05)
    assert r.price == pytest.approx(19_700.0, abs=1e-9) and r.maintenance_margin == pytest.approx(100.0)
    s = liquidation_price(pos("short", entry=20_000, lev=50, exchange="bybit"), BYBIT_05)
    assert s.price == pytest.approx(20_300.0, abs=1e-9)


def test_bybit_extra_margin_moves_the_price() -> None:
    # LP_long = Entry - (IM - MM)/Size - ExtraMargin/Size: 100 USDT extra on 1 BTC -> 100 lower
    r = liquidation_price(pos(entry=20_000, lev=50, exchange="bybit", wallet_balance=500), BYBIT_05)
    assert r.price == pytest.approx(19_600.0, abs=1e-9)


def test_tier_iteration_moves_down_across_boundaries() -> None:
    # entry notional 1.2M (tier 4, MMR 2.5%) at 2x; the price falls to ~0.5 x entry: tier 3
    r = liquidation_price(pos(size=20, lev=2), BTC)
    assert r.iterations >= 2
    assert r.tier.floor <= r.notional < r.tier.cap
    # margin balance == maintenance margin at the price found
    assert 600_000 + 20 * (r.price - 60_000) == pytest.approx(BTC.maintenance_margin(r.notional), rel=1e-9)


def test_no_liquidation_and_already_under_water() -> None:
    r = liquidation_price(pos(lev=1, wallet_balance=70_000), BTC)
    assert r.price is None and r.reason == "no liquidation" and r.maintenance_margin is None
    s = liquidation_price(pos("short", size=0.02, entry=50_000, lev=20, margin_mode="cross",
                              wallet_balance=500, other_upnl=-2_000), BTC)
    assert s.price is None and s.reason == "liquidated at any price"
    assert json.dumps(r.to_dict())


def test_mark_flags_liquidation() -> None:
    assert liquidation_price(pos(), FLAT, mark=54_000).liquidated_at_mark is True
    assert liquidation_price(pos(), FLAT, mark=58_000).liquidated_at_mark is False
    assert liquidation_price(pos("short"), FLAT, mark=66_000).liquidated_at_mark is True
    assert liquidation_price(pos(), FLAT).liquidated_at_mark is None
    # the start tier does not change the answer
    assert liquidation_price(pos(size=10), BTC, mark=1.0).price == liquidation_price(pos(size=10), BTC).price


@pytest.mark.parametrize("kw,tiers,mark,match", [
    (dict(exchange="okx"), FLAT, None, "exchange"),
    (dict(lev=126), FLAT, None, "leverage"),
    (dict(size=10, lev=51), BTC, None, "leverage"),       # 600k: tier 3 allows 50x
    (dict(size=10_000, lev=1), BTC, None, "size"),        # 600M: above the table
    (dict(exchange="bybit", margin_mode="cross", wallet_balance=1_000), BYBIT_05, None, "margin_mode"),
    ({}, FLAT, 0.0, "mark"), ({}, FLAT, float("nan"), "mark"),
])
def test_liquidation_price_bad_input(kw: dict[str, object], tiers: LeverageTiers, mark: float | None,
                                     match: str) -> None:
    with pytest.raises(RiskInputError, match=match):
        liquidation_price(pos(**kw), tiers, mark=mark)  # type: ignore[arg-type]


def test_liquidation_price_wrong_types() -> None:
    with pytest.raises(RiskInputError, match="position"):
        liquidation_price({"side": "long"}, BTC)  # type: ignore[arg-type]
    with pytest.raises(RiskInputError, match="tiers"):
        liquidation_price(pos(), [Tier(0, 0, 1, 1, 0, 0)])  # type: ignore[arg-type]


def test_result_is_frozen() -> None:
    r = liquidation_price(pos(), FLAT)
    assert isinstance(r, LiquidationResult)
    with pytest.raises(AttributeError):
        r.price = 1.0  # type: ignore[misc]


# -- properties ---------------------------------------------------------------------------------

sizes_st = st.floats(0.001, 150.0)
entries_st = st.floats(1_000.0, 200_000.0)
levs_st = st.floats(1.0, 20.0)


def cap_lev(size: float, entry: float, lev: float, tiers: LeverageTiers = BTC) -> float:
    """The leverage, lowered to the tier's maximum at the entry notional."""
    return min(lev, tiers.max_leverage_for(size * entry))


@settings(max_examples=200, deadline=None)
@given(size=sizes_st, entry=entries_st, lev=levs_st, extra=st.floats(0.0, 3.0))
def test_binance_root_is_margin_equals_maintenance(size: float, entry: float, lev: float, extra: float) -> None:
    lev = cap_lev(size, entry, lev)
    for side in ("long", "short"):
        p = pos(side, size=size, entry=entry, lev=lev, wallet_balance=size * entry / lev * (1 + extra))
        r = liquidation_price(p, BTC)
        if r.price is None:
            continue
        assert r.tier.floor <= r.notional < r.tier.cap or r.tier.index == len(BTC) - 1
        equity = p.wallet_balance + p.sign * size * (r.price - entry)
        assert equity == pytest.approx(BTC.maintenance_margin(r.notional), rel=1e-9, abs=1e-6 * entry * size)
        # convex maintenance margin: the root is the max (long) / min (short) of every tier's LP
        lps = [(p.wallet_balance + t.cum - p.sign * size * entry) / (size * t.mmr - p.sign * size) for t in BTC]
        assert r.price == pytest.approx(max(lps) if side == "long" else min(lps), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(size=sizes_st, entry=entries_st, lev=levs_st, extra=st.floats(0.0, 2.0))
def test_more_margin_moves_the_price_away_and_symmetry(size: float, entry: float, lev: float,
                                                       extra: float) -> None:
    lev = cap_lev(size, entry, lev)
    im = size * entry / lev
    lo = liquidation_price(pos(size=size, entry=entry, lev=lev, wallet_balance=im), BTC).price
    hi = liquidation_price(pos(size=size, entry=entry, lev=lev, wallet_balance=im * (1 + extra)), BTC).price
    if lo is None:                       # 1x long: the margin covers a fall to zero
        assert hi is None
    else:
        assert lo < entry and (hi is None or hi <= lo * (1 + 1e-12))
    s_lo = liquidation_price(pos("short", size=size, entry=entry, lev=lev, wallet_balance=im), BTC).price
    s_hi = liquidation_price(pos("short", size=size, entry=entry, lev=lev, wallet_balance=im * (1 + extra)), BTC).price
    assert s_lo is not None and s_hi is not None and entry < s_lo <= s_hi * (1 + 1e-12)
    # Bybit (MM at entry) is an exact mirror around the entry
    t = BYBIT_05
    if size * entry < 2_000_000:
        bl = liquidation_price(pos(size=size, entry=entry, lev=lev, exchange="bybit"), t).price
        bs = liquidation_price(pos("short", size=size, entry=entry, lev=lev, exchange="bybit"), t).price
        assert bl is not None and bs is not None
        assert entry - bl == pytest.approx(bs - entry, rel=1e-9)


book_st = st.lists(st.tuples(st.sampled_from([1, -1]), sizes_st, entries_st, levs_st, st.floats(0.0, 3.0),
                             st.floats(-0.5, 0.5)), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(book=book_st, mode=st.sampled_from(["isolated", "cross"]), exchange=st.sampled_from(["binance", "bybit"]))
def test_vectorised_equals_scalar(book: list[tuple[int, float, float, float, float, float]], mode: str,
                                  exchange: str) -> None:
    if exchange == "bybit":
        mode = "isolated"
    tiers = BTC if exchange == "binance" else LeverageTiers.build(
        [{"floor": 0, "cap": 2e6, "max_leverage": 100, "mmr": 0.005},
         {"floor": 2e6, "cap": 1e9, "max_leverage": 50, "mmr": 0.01}], exchange="bybit")
    sides = np.array([b[0] for b in book])
    sizes = np.array([b[1] for b in book])
    entries = np.array([b[2] for b in book])
    levs = np.array([cap_lev(b[1], b[2], b[3], tiers) for b in book])
    balances = sizes * entries / levs * (1 + np.array([b[4] for b in book]))
    upnl = balances * np.array([b[5] for b in book]) if mode == "cross" else 0.0
    tmm = balances * 0.01 if mode == "cross" else 0.0
    v = liquidation_prices(sides, sizes, entries, balances, tiers, exchange=exchange, margin_mode=mode,
                           other_maintenance=tmm, other_upnl=upnl, leverages=levs)
    for k, b in enumerate(book):
        p = Position(exchange, "X", "long" if b[0] > 0 else "short", b[1], b[2], float(levs[k]), mode,
                     float(balances[k]), float(np.broadcast_to(tmm, sizes.shape)[k]),
                     float(np.broadcast_to(upnl, sizes.shape)[k]))
        r = liquidation_price(p, tiers)
        if r.price is None:
            assert math.isnan(v.prices[k]) and v.tier_index[k] == -1
        else:
            assert v.prices[k] == pytest.approx(r.price, rel=1e-12)
            assert v.tier_index[k] == r.tier.index
            assert v.maintenance_margin[k] == pytest.approx(r.maintenance_margin, rel=1e-9, abs=1e-9)


def test_vectorised_worked_examples_and_strings() -> None:
    v = liquidation_prices(["long", "long", "Short"], [10, 100, 10], [60_000] * 3,
                           [60_000, 1_200_000, 60_000], BTC)
    assert np.round(v.prices[:2], 2).tolist() == [54_414.14, 49_063.59]
    assert v.tier_index[:2].tolist() == [2, 3]
    flat = liquidation_prices(np.array([1, -1]), [1.0, 1.0], [60_000.0, 60_000.0], 6_000.0, FLAT)
    assert np.round(flat.prices, 2).tolist() == [54_216.87, 65_737.05] and flat.iterations == 1
    by = liquidation_prices([1, -1], [1, 1], [20_000, 20_000], 400.0, BYBIT_05, exchange="bybit")
    assert by.prices == pytest.approx([19_700.0, 20_300.0], abs=1e-9)
    assert json.dumps(v.to_dict(), allow_nan=True)


@pytest.mark.parametrize("kw,match", [
    (dict(sides=[0, 1]), r"sides\[0\]"),
    (dict(sides=["long", "flat"]), r"sides\[1\]"),
    (dict(sizes=[1.0, -1.0]), r"sizes\[1\]"),
    (dict(sizes=[1.0, float("nan")]), r"sizes\[1\]"),
    (dict(sizes=[]), "sizes"),
    (dict(sizes=[[1.0, 1.0]]), "sizes"),
    (dict(entries=[1.0]), "entries: length"),
    (dict(entries=[60_000.0, float("inf")]), r"entries\[1\]"),
    (dict(balances=[1.0, 0.0]), r"balances\[1\]"),
    (dict(exchange="kraken"), "exchange"),
    (dict(margin_mode="hedge"), "margin_mode"),
    (dict(other_upnl=1.0), "other_maintenance/other_upnl"),
    (dict(margin_mode="cross", other_maintenance=-1.0), "other_maintenance"),
    (dict(leverages=[10.0, 126.0]), r"leverages\[1\]"),
    (dict(sizes=[1.0, 1e5]), r"sizes\[1\].*cap"),
    (dict(exchange="bybit", margin_mode="cross"), "margin_mode"),
    (dict(tiers=None), "tiers"),
])
def test_vectorised_bad_input(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = dict(sides=[1, -1], sizes=[1.0, 1.0], entries=[60_000.0, 60_000.0],
                                   balances=[6_000.0, 6_000.0], tiers=BTC)
    args.update(kw)
    with pytest.raises(RiskInputError, match=match):
        liquidation_prices(**args)  # type: ignore[arg-type]


def test_ccxt_parsers_for_real_offline() -> None:
    """ccxt's own parse_market_leverage_tiers (no network) feeds LeverageTiers.from_ccxt."""
    ccxt = pytest.importorskip("ccxt")
    brackets = {"symbol": "BTCUSDT", "brackets": [
        {"bracket": i + 1, "initialLeverage": t.max_leverage, "notionalCap": t.cap, "notionalFloor": t.floor,
         "maintMarginRatio": t.mmr, "cum": t.cum} for i, t in enumerate(BTC)]}
    unified = ccxt.binanceusdm().parse_market_leverage_tiers(brackets)
    t = LeverageTiers.from_ccxt(unified, exchange="binanceusdm")
    assert t.to_dict()["tiers"] == BTC.to_dict()["tiers"]
    r = liquidation_price(pos(size=10, exchange="binanceusdm"), t)
    assert round(r.price, 2) == 54_414.14  # type: ignore[arg-type]
    risk_limit = [
        {"id": 1, "symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "0.005",
         "initialMargin": "0.01", "isLowestRisk": 1, "maxLeverage": "100.00", "mmDeduction": ""},
        {"id": 2, "symbol": "BTCUSDT", "riskLimitValue": "2300000", "maintenanceMargin": "0.0055",
         "initialMargin": "0.0125", "isLowestRisk": 0, "maxLeverage": "80.00", "mmDeduction": "1000"}]
    by = LeverageTiers.from_ccxt(ccxt.bybit().parse_market_leverage_tiers(risk_limit), exchange="bybit")
    assert by.to_dict()["tiers"] == LeverageTiers.from_bybit(risk_limit).to_dict()["tiers"]
    assert by[1].cum == 1_000.0 and by[0].cum == 0.0
    r = liquidation_price(pos(entry=20_000, lev=50, exchange="bybit"), by)
    assert r.price == pytest.approx(19_700.0, abs=1e-9)


def test_positions_array_round_trip_feeds_the_vectorised_form() -> None:
    from liqcore.risk.records import positions_from_array, positions_to_array
    book = [pos(size=10), pos("short", size=0.5, lev=20), pos(size=100, lev=5)]
    arr = positions_to_array(book)
    assert arr.dtype == Position.DTYPE and arr["side"].tolist() == [1, -1, 1]
    assert positions_from_array(arr) == book
    v = liquidation_prices(arr["side"], arr["size"], arr["entry_price"], arr["wallet_balance"], BTC,
                           leverages=arr["leverage"])
    assert v.prices.tolist() == [liquidation_price(p, BTC).price for p in book]
    assert positions_to_array([]).shape == (0,)
    with pytest.raises(RiskInputError, match="symbol"):
        positions_to_array([Position("binance", "X" * 41, "long", 1, 1, 1)])
    with pytest.raises(RiskInputError, match=r"positions\[0\]"):
        positions_to_array([{"side": "long"}])  # type: ignore[list-item]
    with pytest.raises(RiskInputError, match="array"):
        positions_from_array(np.zeros(2))


def test_bybit_tiers_from_the_simulator_through_ccxt() -> None:
    """End to end: stock ccxt's fetch_market_leverage_tiers against the simulator's Bybit v5
    /market/risk-limit -> from_ccxt; the raw payload -> from_bybit; both the simulator's table,
    whose mmDeduction is the derived cum."""
    pytest.importorskip("aiohttp")
    ccxt_pro = pytest.importorskip("ccxt.pro")
    import aiohttp
    from simtest import FAST, run

    from liqcore.sim import ExchangeSimulator
    from liqcore.sim.bybit_protocol import RISK_LIMITS

    async def body() -> tuple[list[dict[str, object]], dict[str, object]]:
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(ccxt_pro.bybit({"enableRateLimit": False}))
            try:
                unified = await ex.fetch_market_leverage_tiers("BTC/USDT:USDT")
                async with aiohttp.ClientSession() as http:
                    async with http.get(sim.url + "/api.bybit.com/v5/market/risk-limit?category=linear"
                                        "&symbol=BTCUSDT") as r:
                        raw = await r.json()
            finally:
                await ex.close()
        return unified, raw

    unified, raw = run(body())
    via_ccxt = LeverageTiers.from_ccxt(unified, exchange="bybit")
    via_rest = LeverageTiers.from_bybit(raw, symbol="BTCUSDT")
    assert via_ccxt.to_dict()["tiers"] == via_rest.to_dict()["tiers"]
    assert len(via_ccxt) == len(RISK_LIMITS) and via_ccxt.currency == "USDT"
    assert [t.cum for t in via_ccxt] == [float(r["mmDeduction"]) for r in RISK_LIMITS]
    for r in unified:
        r["info"] = {}                                      # drop mmDeduction: derived the same
    assert [t.cum for t in LeverageTiers.from_ccxt(unified)] == [t.cum for t in via_ccxt]
    # 100 BTC at 30,000 (3M: tier 2, MMR 1%, deduction 10,000) at 20x: MM 20,000, IM 150,000
    r = liquidation_price(pos(size=100, entry=30_000, lev=20, exchange="bybit"), via_ccxt)
    assert r.tier.index == 1 and r.maintenance_margin == pytest.approx(20_000.0)
    assert r.price == pytest.approx(30_000 - (150_000 - 20_000) / 100, abs=1e-9)
