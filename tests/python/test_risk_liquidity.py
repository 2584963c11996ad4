"""liquidity_risk: the cost, depth and time of closing a portfolio through its live books
(liqcore/risk/liquidity_risk.py)."""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import RiskInputError
from liqcore.risk import Position
from liqcore.risk.liquidity_risk import LiquidityRisk, PositionLiquidity, liquidity_risk

# BOOK-A of shared/research/analytics.md: mid 99.75
BIDS_A = [["99.5", "1.5"], ["99", "2.5"], ["98", "4"], ["97", "10"]]
ASKS_A = [["100", "1"], ["100.5", "2"], ["101", "3"], ["102", "5"]]


class SpyBook(OrderBook):
    """An OrderBook that counts its walks (to prove a refused input walks nothing)."""

    walks = 0

    def walk(self, *args, **kwargs):
        SpyBook.walks += 1
        return super().walk(*args, **kwargs)


def book_a(cls: type[OrderBook] = OrderBook) -> OrderBook:
    book = cls(tick_size="0.5", lot_size="0.5")
    book.apply_snapshot(BIDS_A, ASKS_A)
    return book


def pos(side: str, size: float, symbol: str = "BTCUSDT", exchange: str = "binance") -> Position:
    return Position(exchange, symbol, side, size=size, entry_price=100, leverage=5)


def test_book_a_by_hand():
    """analytics.md §1.1 on BOOK-A: closing a long of 5 sells 5, a short of 4 buys 4, a short of 20
    buys more than the 11.0 on the asks."""
    r = liquidity_risk([pos("long", 5), pos("short", 4), pos("short", 20)], {"BTCUSDT": book_a()},
                       volumes={"BTCUSDT": 200}, participation=0.1)
    sell5, buy4, buy20 = r.positions
    # Sell 5.0: 1.5@99.5 + 2.5@99.0 + 1.0@98.0 -> notional 494.75, VWAP 98.95, 3 levels, 80.201 bps vs mid
    assert (sell5.vwap, sell5.levels, sell5.worst_price, sell5.filled) == (98.95, 3, 98.0, 5.0)
    assert round(sell5.slippage_bps, 3) == 80.201
    assert (sell5.mid, sell5.notional, sell5.cost) == (99.75, 498.75, 4.0)       # 99.75 x 5 - 494.75
    assert sell5.cost_fraction == 4.0 / 498.75 and sell5.complete and sell5.unfilled == 0.0
    # Buy 4.0: 1.0@100.0 + 2.0@100.5 + 1.0@101.0 -> notional 402.0, VWAP 100.5, 3 levels, 75.188 bps vs mid
    assert (buy4.vwap, buy4.levels, buy4.worst_price, buy4.filled) == (100.5, 3, 101.0, 4.0)
    assert round(buy4.slippage_bps, 3) == 75.188
    assert (buy4.notional, buy4.cost) == (399.0, 3.0)                              # 402 - 99.75 x 4
    # Buy 20.0: filled 11.0, unfilled 9.0, notional 1114.0, VWAP 101.2727, 4 levels, not complete
    assert (buy20.filled, buy20.unfilled, buy20.levels, buy20.complete) == (11.0, 9.0, 4, False)
    assert round(buy20.vwap, 4) == 101.2727
    assert buy20.cost == 1114.0 - 99.75 * 11 == 16.75                              # the filled part only
    assert buy20.notional == 1995.0 and buy20.cost_fraction == 16.75 / 1995.0
    # time to unwind: size / (10% x 200 a day)
    assert [p.days_to_unwind for p in r.positions] == [0.25, 0.2, 1.0]
    # the totals
    assert (r.total_cost, r.total_notional) == (23.75, 2892.75)
    assert r.cost_fraction == 23.75 / 2892.75 and r.max_days_to_unwind == 1.0
    assert r.unabsorbable == (2,) and not r.complete and r.unabsorbed_notional == 9 * 99.75
    assert r.participation == 0.1
    assert (sell5.exchange, sell5.symbol, sell5.side, sell5.size) == ("binance", "BTCUSDT", "long", 5.0)


def test_without_volumes_no_time_and_a_complete_portfolio():
    r = liquidity_risk([pos("long", 1.5)], {("binance", "BTCUSDT"): book_a()})
    (row,) = r.positions
    assert (row.vwap, row.levels, row.cost) == (99.5, 1, 0.375)                   # half the spread x 1.5
    assert row.days_to_unwind is None and r.max_days_to_unwind is None
    assert r.complete and r.unabsorbable == () and r.unabsorbed_notional == 0.0


def test_zero_volume_never_unwinds():
    r = liquidity_risk([pos("long", 1)], {"BTCUSDT": book_a()}, volumes={"BTCUSDT": 0})
    assert r.positions[0].days_to_unwind == math.inf and r.max_days_to_unwind == math.inf


def test_keys_pair_first_then_symbol():
    other = OrderBook(tick_size="0.5", lot_size="0.5")
    other.apply_snapshot([["50", "10"]], [["51", "10"]])
    books = {("binance", "BTCUSDT"): book_a(), "BTCUSDT": other}
    r = liquidity_risk([pos("long", 1), pos("long", 1, exchange="bybit")], books,
                       volumes={("bybit", "BTCUSDT"): 10, "BTCUSDT": 100})
    assert [p.vwap for p in r.positions] == [99.5, 50.0]                           # binance: the pair; bybit: the symbol
    assert [p.days_to_unwind for p in r.positions] == [1 / (0.1 * 100), 1 / (0.1 * 10)]


def test_long_sells_bids_short_buys_asks():
    r = liquidity_risk([pos("long", 0.5), pos("short", 0.5)], {"BTCUSDT": book_a()})
    assert r.positions[0].vwap == 99.5 and r.positions[1].vwap == 100.0
    assert r.positions[0].cost == r.positions[1].cost == 0.125                    # half the spread x 0.5


def test_to_dict_is_json():
    r = liquidity_risk([pos("long", 5), pos("short", 20)], {"BTCUSDT": book_a()}, volumes={"BTCUSDT": 200})
    d = orjson.loads(orjson.dumps(r.to_dict()))
    assert d["total_cost"] == 20.75 and d["unabsorbable"] == [1]
    assert d["positions"][0] == orjson.loads(orjson.dumps(r.positions[0].to_dict()))
    assert d["positions"][1]["complete"] is False and d["positions"][1]["unfilled"] == 9.0
    assert isinstance(r, LiquidityRisk) and isinstance(r.positions[0], PositionLiquidity)


def _crossed() -> OrderBook:
    book = OrderBook(tick_size="0.5", lot_size="0.5", cross_policy="allow")
    book.apply_snapshot([["101", "1"]], [["100", "1"]])
    return book


def _one_side(side: str) -> OrderBook:
    book = OrderBook(tick_size="0.5", lot_size="0.5")
    book.apply_snapshot(BIDS_A if side == "bid" else [], ASKS_A if side == "ask" else [])
    return book


@pytest.mark.parametrize("change, match", [
    ({"positions": []}, "positions is empty"),
    ({"positions": pos("long", 1)}, "positions"),
    ({"positions": [pos("long", 1, symbol="OK"), "BTCUSDT"]}, r"positions\[1\]"),
    ({"positions": [pos("long", 1, symbol="OK"), pos("long", 1, symbol="ETHUSDT")]}, r"no book for positions\[1\]"),
    ({"books": [book_a()]}, "books"),
    ({"books": {"BTCUSDT": {"bids": BIDS_A}}}, "books"),
    ({"books": {"BTCUSDT": _one_side("bid")}}, "no asks"),
    ({"books": {"BTCUSDT": _one_side("ask")}}, "no bids"),
    ({"books": {"BTCUSDT": OrderBook(tick_size="0.5", lot_size="0.5")}}, "no bids"),
    ({"books": {"BTCUSDT": _crossed()}}, "crossed"),
    ({"participation": 0.0}, "participation"),
    ({"participation": -0.1}, "participation"),
    ({"participation": 1.5}, "participation"),
    ({"participation": math.nan}, "participation"),
    ({"participation": math.inf}, "participation"),
    ({"participation": "0.1"}, "participation"),
    ({"participation": True}, "participation"),
    ({"volumes": {"OK": 100.0, "BTCUSDT": -1.0}}, "volumes"),
    ({"volumes": {"OK": 100.0, "BTCUSDT": math.nan}}, "volumes"),
    ({"volumes": {"OK": 100.0, "BTCUSDT": math.inf}}, "volumes"),
    ({"volumes": {"OK": 100.0, "BTCUSDT": "100"}}, "volumes"),
    ({"volumes": {"OK": 100.0}}, "volumes: no daily volume"),
    ({"volumes": [100.0]}, "volumes"),
])
def test_bad_input_names_the_argument_and_walks_nothing(change, match):
    """The first position ("OK") has a good book that counts its walks: a refused input later on
    must not have walked it (every check runs before the first walk)."""
    SpyBook.walks = 0
    args = {"positions": [pos("long", 1, symbol="OK"), pos("short", 1)], "books": {"BTCUSDT": book_a()},
            "volumes": {"OK": 100.0, "BTCUSDT": 100.0}, "participation": 0.1, **change}
    if isinstance(args["books"], dict):
        args["books"] = {"OK": book_a(SpyBook), **args["books"]}
    with pytest.raises(RiskInputError, match=match) as e:
        liquidity_risk(args.pop("positions"), args.pop("books"), **args)
    assert isinstance(e.value, ValueError)
    assert SpyBook.walks == 0


def test_a_size_finer_than_the_book_is_refused():
    # found by the walk, which reads the book's lot grid (the walks only read the books); no result
    with pytest.raises(RiskInputError, match=r"positions\[1\]\.size: 0\.25 does not fit the book's 1 size"):
        liquidity_risk([pos("long", 1), pos("long", 0.25)], {"BTCUSDT": book_a()})


# random books on one grid (tick 0.5, lot 0.1): bids below 100.25, asks above, mirror images around 100.25
_levels = st.dictionaries(st.integers(1, 30), st.integers(1, 60), min_size=1, max_size=12)


def _book(bids: dict[int, int], asks: dict[int, int]) -> OrderBook:
    """Bid k at 100 - (k - 1)/2, ask k at 100.5 + (k - 1)/2: the mid is 100.25 when both have k = 1."""
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([[100 - (k - 1) / 2, q / 10] for k, q in bids.items()],
                        [[100.5 + (k - 1) / 2, q / 10] for k, q in asks.items()])
    return book


_sizes = st.integers(1, 500).map(lambda n: n / 10)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["long", "short"]), _sizes, st.integers(0, 2)), min_size=1, max_size=8),
       st.lists(st.tuples(_levels, _levels), min_size=3, max_size=3), st.floats(0.01, 1.0),
       st.lists(st.floats(0.0, 1e4), min_size=3, max_size=3))
def test_totals_are_the_sums(specs, sides, participation, volumes):
    books = {f"S{j}": _book(b, a) for j, (b, a) in enumerate(sides)}
    positions = [pos(side, size, symbol=f"S{j}") for side, size, j in specs]
    r = liquidity_risk(positions, books, volumes={f"S{j}": v for j, v in enumerate(volumes)},
                       participation=participation)
    rows = r.positions
    assert len(rows) == len(positions)
    assert r.total_cost == pytest.approx(math.fsum(p.cost for p in rows), abs=1e-9)
    assert r.total_notional == pytest.approx(math.fsum(p.notional for p in rows))
    assert r.cost_fraction == pytest.approx(r.total_cost / r.total_notional)
    assert r.max_days_to_unwind == max(p.days_to_unwind for p in rows)
    assert r.unabsorbable == tuple(i for i, p in enumerate(rows) if not p.complete)
    assert r.unabsorbed_notional == pytest.approx(math.fsum(p.unfilled * p.mid for p in rows))
    for p, position in zip(rows, positions):
        assert p.cost >= 0.0 and p.filled + p.unfilled == pytest.approx(position.size)
        assert p.cost == pytest.approx(p.slippage_bps / 1e4 * p.filled * p.mid, rel=1e-9, abs=1e-9)
        book = books[position.symbol]
        if p.side == "long":                  # sold into the bids
            assert p.vwap <= book.best_bid[0] and p.worst_price >= book.bids()[-1][0]
        else:                                 # bought from the asks
            assert p.vwap >= book.best_ask[0] and p.worst_price <= book.asks()[-1][0]


@settings(max_examples=100, deadline=None)
@given(_levels, _levels, _sizes)
def test_long_and_short_mirror(bids, asks, size):
    """A long on a book costs what a short costs on the book mirrored around 100.25 (p -> 200.5 - p)."""
    book, mirrored = _book(bids, asks), _book(asks, bids)
    long_ = liquidity_risk([pos("long", size)], {"BTCUSDT": book}).positions[0]
    short = liquidity_risk([pos("short", size)], {"BTCUSDT": mirrored}).positions[0]
    assert long_.cost == pytest.approx(short.cost, rel=1e-12, abs=1e-9) and long_.levels == short.levels
    assert (long_.filled, long_.unfilled, long_.complete) == (short.filled, short.unfilled, short.complete)
    assert long_.mid - long_.vwap == pytest.approx(short.vwap - short.mid, abs=1e-9)
    assert long_.slippage_bps == pytest.approx(short.slippage_bps * short.mid / long_.mid)


@settings(max_examples=100, deadline=None)
@given(_levels, _levels, _sizes, _sizes, st.sampled_from(["long", "short"]))
def test_cost_and_time_grow_with_size(bids, asks, a, b, side):
    small, large = sorted((a, b))
    book = _book(bids, asks)
    r = liquidity_risk([pos(side, small), pos(side, large)], {"BTCUSDT": book}, volumes={"BTCUSDT": 1_000})
    s, g = r.positions
    assert s.cost <= g.cost + 1e-9 and s.levels <= g.levels and s.days_to_unwind <= g.days_to_unwind
    assert s.cost_fraction <= g.cost_fraction + 1e-12 or not g.complete
