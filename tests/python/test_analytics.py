"""Book analytics (src/analytics.c via OrderBook): the worked examples of
shared/research/analytics.md §1.1–1.3, 2.1–2.2, 2.5 on BOOK-A, edge cases, bad arguments,
and a brute-force cross-check against exact rational arithmetic on random books."""

import math
import pickle
from fractions import Fraction

import numpy as np
import pytest

from liqcore import InvalidDeltaError, OrderBook
from liqcore import WalkResult



# ---------------------------------------------------------------- walk


def test_walk_buy_4(book_a):
    r = book_a.walk("buy", 4.0)
    assert isinstance(r, WalkResult)
    assert r.vwap == 100.5
    assert r.levels == 3
    assert r.worst_price == 101.0
    assert r.filled == 4.0 and r.notional == 402.0
    assert r.slippage_bps == pytest.approx(50.00, abs=1e-9)
    assert r.slippage_mid_bps == pytest.approx(75.188, abs=5e-4)
    assert r.unfilled == 0.0 and r.complete is True


def test_walk_sell_5(book_a):
    r = book_a.walk("sell", 5)
    assert r.vwap == pytest.approx(98.95, rel=1e-15)
    assert r.notional == 494.75
    assert r.levels == 3 and r.worst_price == 98.0
    assert r.slippage_bps == pytest.approx(55.276, abs=5e-4)
    assert r.slippage_mid_bps == pytest.approx(80.201, abs=5e-4)
    assert r.complete


def test_walk_more_than_the_side(book_a):
    r = book_a.walk("buy", "20")
    assert r.filled == 11.0 and r.unfilled == 9.0 and r.notional == 1114.0
    assert r.vwap == pytest.approx(101.2727, abs=5e-5)
    assert r.levels == 4 and r.worst_price == 102.0
    assert r.complete is False


def test_walk_by_notional(book_a):
    r = book_a.walk("buy", notional=402.0)
    assert r.filled == 4.0 and r.vwap == 100.5 and r.notional == 402.0
    assert r.levels == 3 and r.complete and r.unfilled == 0.0
    # partial last level: 150 = 100 (1.0 @ 100) + 50 (0.4975.. @ 100.5), off the lot grid
    r = book_a.walk("buy", notional=150)
    assert r.filled == pytest.approx(1.0 + 50 / 100.5, rel=1e-15)
    assert r.notional == 150.0 and r.levels == 2 and r.worst_price == 100.5
    # more than the side: unfilled is in quote
    r = book_a.walk("sell", notional=2000.0)
    assert r.notional == 1758.75 and r.filled == 18.0 and r.unfilled == 241.25 and not r.complete


def test_walk_exact_fill_on_a_level_boundary(book_a):
    r = book_a.walk("buy", 3.0)
    assert r.levels == 2 and r.worst_price == 100.5 and r.notional == 301.0 and r.complete
    r = book_a.walk("buy", notional=301.0)
    assert r.levels == 2 and r.filled == 3.0 and r.complete
    r = book_a.walk("sell", 1.5)
    assert r.levels == 1 and r.slippage_bps == 0.0 and r.vwap == 99.5


def test_walk_empty_and_one_sided():
    b = OrderBook(tick_size="0.5", lot_size="0.5")
    r = b.walk("buy", 1.0)
    assert r.filled == 0.0 and r.notional == 0.0 and r.levels == 0
    assert r.unfilled == 1.0 and r.complete is False
    assert all(math.isnan(x) for x in (r.vwap, r.worst_price, r.slippage_bps, r.slippage_mid_bps))
    r = b.walk("sell", notional=5.0)
    assert r.unfilled == 5.0 and not r.complete and math.isnan(r.vwap)
    b.update("bid", "99.5", "1.5")
    r = b.walk("sell", 1.0)
    assert r.vwap == 99.5 and r.complete and math.isnan(r.slippage_mid_bps)
    assert math.isnan(b.walk("buy", 1.0).vwap)


def test_walk_result_is_an_immutable_record(book_a):
    r = book_a.walk("buy", 4.0)
    with pytest.raises(AttributeError):
        r.vwap = 1.0
    with pytest.raises(TypeError):
        WalkResult()
    d = r._asdict()
    assert list(d) == ["vwap", "worst_price", "filled", "notional", "levels", "slippage_bps",
                       "slippage_mid_bps", "unfilled", "complete"]
    assert d["levels"] == 3 and d["complete"] is True
    assert repr(r).startswith("WalkResult(vwap=100.5, worst_price=101.0, filled=4.0")
    assert "unfilled=0.0 quote" in repr(book_a.walk("buy", notional=1.0))
    assert pickle.loads(pickle.dumps(r))._asdict() == d


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("bid", 1.0), {}),          # a book side is not an order side
        ((1, 1.0), {}),
        (("buy",), {}),              # neither quantity nor notional
        (("buy", 1.0), {"notional": 10.0}),
        (("buy", 0.0), {}),
        (("buy", -1.0), {}),
        (("buy", float("nan")), {}),
        (("buy", float("inf")), {}),
        (("buy", "0.05"), {}),       # more decimals than size_decimals (1)
        (("buy", True), {}),
        (("buy", "abc"), {}),
        (("buy",), {"notional": 0.0}),
        (("buy",), {"notional": -5.0}),
        (("buy",), {"notional": float("nan")}),
        (("buy",), {"notional": float("inf")}),
        (("buy",), {"notional": "100"}),
    ],
)
def test_walk_bad_arguments(book_a, args, kwargs):
    with pytest.raises(InvalidDeltaError) as exc:
        book_a.walk(*args, **kwargs)
    assert isinstance(exc.value, ValueError)


# ---------------------------------------------------------------- depth and cost to move


@pytest.mark.parametrize(
    "pct, bid_quote, ask_quote", [(0.5, 149.25, 100.0), (1.0, 396.75, 301.0), (2.0, 788.75, 604.0)]
)
def test_depth_book_a(book_a, pct, bid_quote, ask_quote):
    d = book_a.depth(pct=pct)
    assert d["bid_quote"] == bid_quote and d["ask_quote"] == ask_quote
    assert book_a.depth(pct * 100) == d


def test_depth_bases_and_touch_reference(book_a):
    assert book_a.depth(100) == {"bid_base": 4.0, "bid_quote": 396.75, "ask_base": 3.0, "ask_quote": 301.0}
    # the touch only, then everything
    assert book_a.depth(0, reference="touch") == {"bid_base": 1.5, "bid_quote": 149.25,
                                                  "ask_base": 1.0, "ask_quote": 100.0}
    d = book_a.depth(pct=200)
    assert d["bid_base"] == 18.0 and d["ask_base"] == 11.0


def test_cost_to_move_book_a(book_a):
    assert book_a.cost_to_move(1) == (3.0, 301.0)
    assert book_a.cost_to_move(-1) == (4.0, 396.75)
    assert book_a.cost_to_move(2.0) == (6.0, 604.0)
    assert book_a.cost_to_move(0) == (0.0, 0.0)
    assert book_a.cost_to_move(-100)[0] == 18.0


def test_level_exactly_on_the_threshold():
    """Depth counts a level on the boundary, cost to move does not (it becomes the touch).
    100 * 1.02 is 102.00000000000001 in binary: the threshold is snapped onto the price unit."""
    b = OrderBook(tick_size="0.01", lot_size="1")
    b.apply_snapshot([["99.00", "1"], ["98.00", "2"]], [["101.00", "1"], ["102.00", "2"], ["103.00", "4"]])
    assert b.mid == 100.0
    d = b.depth(pct=2)
    assert (d["ask_base"], d["ask_quote"]) == (3.0, 305.0)
    assert (d["bid_base"], d["bid_quote"]) == (3.0, 295.0)
    assert b.cost_to_move(2) == (1.0, 101.0)
    assert b.cost_to_move(-2) == (1.0, 99.0)
    # touch reference: 1% over 101.00 is 102.01, past the 102.00 level
    assert b.cost_to_move(1, reference="touch") == (3.0, 305.0)
    assert b.depth(pct=1, reference="touch")["ask_base"] == 3.0


def test_depth_and_cost_empty_sides():
    b = OrderBook(tick_size="0.5", lot_size="0.5")
    assert b.depth(100) == {"bid_base": 0.0, "bid_quote": 0.0, "ask_base": 0.0, "ask_quote": 0.0}
    assert b.cost_to_move(1) == (0.0, 0.0)
    b.update("bid", "99.5", "1.5")
    d = b.depth(100)  # mid undefined: the bids are NaN, the empty asks 0
    assert math.isnan(d["bid_base"]) and math.isnan(d["bid_quote"]) and d["ask_quote"] == 0.0
    assert b.depth(100, reference="touch")["bid_quote"] == 149.25
    assert all(math.isnan(x) for x in b.cost_to_move(-1))
    assert b.cost_to_move(1, reference="touch") == (0.0, 0.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.depth(),
        lambda b: b.depth(100, pct=1),
        lambda b: b.depth(-1),
        lambda b: b.depth(float("nan")),
        lambda b: b.depth("100"),
        lambda b: b.depth(100, reference="best"),
        lambda b: b.cost_to_move(float("nan")),
        lambda b: b.cost_to_move(None),
        lambda b: b.cost_to_move(1, reference="bid"),
        lambda b: b.imbalance(0),
        lambda b: b.imbalance(2.5),
        lambda b: b.imbalance("3"),
        lambda b: b.imbalance(True),
        lambda b: b.imbalance(3, half_width_bps="50"),
        lambda b: b.imbalance(-2),
        lambda b: b.imbalance(3, weighting="1/i"),
        lambda b: b.imbalance(3, weighting="exp", half_width_bps=0.0),
        lambda b: b.imbalance(3, weighting="exp", half_width_bps=float("nan")),
    ],
)
def test_bad_arguments(book_a, call):
    with pytest.raises(InvalidDeltaError):
        call(book_a)


# ---------------------------------------------------------------- imbalance and weighted mid


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"weighting": "plain"}, 0.142857),
        ({"weighting": "linear"}, 0.148936),
        ({"weighting": "inverse"}, 0.152941),
        ({"weighting": "exp", "half_width_bps": 50.0}, 0.100392),
        ({"notional": True}, 0.132651),
    ],
)
def test_imbalance_book_a(book_a, kwargs, expected):
    assert book_a.imbalance(3, **kwargs) == pytest.approx(expected, abs=5e-7)


def test_top_of_book_imbalance_and_weighted_mid(book_a):
    assert book_a.imbalance() == pytest.approx(0.2, abs=1e-15)
    assert book_a.imbalance(1) == book_a.imbalance(levels=1)
    assert book_a.weighted_mid == pytest.approx(99.80, abs=1e-12)
    assert book_a.imbalance(100) == pytest.approx(7 / 29, rel=1e-15)
    assert book_a.imbalance(np.int64(5)) == book_a.imbalance(10**30) == book_a.imbalance(4)


def test_imbalance_and_weighted_mid_empty():
    b = OrderBook(tick_size="0.5", lot_size="0.5")
    assert math.isnan(b.imbalance(3)) and math.isnan(b.weighted_mid)
    b.update("ask", "100", "1")
    assert b.imbalance(3, weighting="exp") == -1.0
    assert math.isnan(b.weighted_mid)


# ---------------------------------------------------------------- brute force on random books

PX_SCALE, QTY_SCALE = 2, 3
PU, QU = 10**PX_SCALE, 10**QTY_SCALE


def _random_book(rng):
    """A book with 0..25 levels per side; returns it and the levels in integer units, best first."""
    mid = int(rng.integers(1_000, 2_000_000))
    nb, na = (int(x) for x in rng.integers(0, 26, 2))
    gap = int(rng.integers(1, 50))
    bids = sorted(set(int(x) for x in mid - gap - rng.integers(0, 5 * nb + 1, nb)), reverse=True)
    asks = sorted(set(int(x) for x in mid + gap + rng.integers(0, 5 * na + 1, na)))
    bids = [(p, int(rng.integers(1, 5_000))) for p in bids if p > 0]
    asks = [(p, int(rng.integers(1, 5_000))) for p in asks]
    b = OrderBook(price_decimals=PX_SCALE, size_decimals=QTY_SCALE)

    # level by level: apply_snapshot crashes on an empty ask list (reported, not ours to fix)
    for side, levels in (("bid", bids), ("ask", asks)):
        for p, q in levels:
            b.update(side, f"{p // PU}.{p % PU:0{PX_SCALE}d}", f"{q // QU}.{q % QU:0{QTY_SCALE}d}")
    return b, bids, asks


def _ref_walk(levels, want, by_quote):
    """Exact walk: `want` in qty units (Fraction) or quote units (Fraction of px*qty units)."""
    rem = Fraction(want)
    base = spent = Fraction(0)
    n = 0
    worst = None
    for p, q in levels:
        if rem <= 0:
            break
        cap = p * q if by_quote else q
        take = min(cap, rem)
        rem -= take
        n += 1
        worst = p
        if by_quote:
            spent += take
            base += take / p
        else:
            spent += take * p
            base += take
    return base, spent, n, worst, rem


def _close(a, b, rel=1e-12, abs_=1e-9):
    if isinstance(b, float) and math.isnan(b):
        return math.isnan(a)
    return a == pytest.approx(b, rel=rel, abs=abs_)


def test_walk_matches_exact_reference_on_random_books():
    rng = np.random.default_rng(20240611)
    for _ in range(300):
        b, bids, asks = _random_book(rng)
        for direction, levels, other in (("buy", asks, bids), ("sell", bids, asks)):
            d = 1 if direction == "buy" else -1
            total_q = sum(q for _, q in levels)
            total_n = sum(p * q for p, q in levels)
            # quantities: random, exactly the side, on a cumulative boundary, beyond the side
            qs = [int(rng.integers(1, 3 * total_q + 2)), total_q or 1, total_q + 7]
            if levels:
                qs.append(sum(q for _, q in levels[: int(rng.integers(1, len(levels) + 1))]))
            for want in qs:
                r = b.walk(direction, want / QU)
                base, spent, n, worst, rem = _ref_walk(levels, want, False)
                _check_walk(r, d, levels, other, base, spent, n, worst, rem / QU, want / QU)
            ns = [int(rng.integers(1, 2 * total_n + 2)), total_n + 3]
            if levels:
                ns.append(sum(p * q for p, q in levels[: int(rng.integers(1, len(levels) + 1))]))
            for want in ns:
                r = b.walk(direction, notional=want / (PU * QU))
                base, spent, n, worst, rem = _ref_walk(levels, want, True)
                _check_walk(r, d, levels, other, base, spent, n, worst, rem / (PU * QU), want / (PU * QU))


def _check_walk(r, d, levels, other, base, spent, n, worst, unfilled, request):
    assert r.levels == n
    assert r.complete == (unfilled == 0 and n > 0)
    assert _close(r.filled, float(base / QU))
    assert _close(r.notional, float(spent / (PU * QU)))
    assert _close(r.unfilled, float(unfilled))
    if n == 0:
        assert math.isnan(r.vwap) and math.isnan(r.worst_price) and r.unfilled == request
        return
    vwap = spent / base / PU
    assert _close(r.vwap, float(vwap))
    assert r.worst_price == worst / PU
    best = Fraction(levels[0][0], PU)
    assert _close(r.slippage_bps, float(d * (vwap - best) / best * 10_000), abs_=1e-7)
    if other:
        mid = Fraction(levels[0][0] + other[0][0], 2 * PU)
        assert _close(r.slippage_mid_bps, float(d * (vwap - mid) / mid * 10_000), abs_=1e-7)
    else:
        assert math.isnan(r.slippage_mid_bps)


def test_depth_and_cost_match_exact_reference_on_random_books():
    rng = np.random.default_rng(7)
    for _ in range(300):
        b, bids, asks = _random_book(rng)
        for bps in (int(rng.integers(0, 300)), int(rng.integers(0, 30)), 0, 100):
            for reference in ("mid", "touch"):
                d = b.depth(bps, reference=reference)
                x = Fraction(bps, 10_000)
                for side, levels, sign in (("bid", bids, -1), ("ask", asks, 1)):
                    if not levels:
                        assert d[f"{side}_base"] == 0.0 and d[f"{side}_quote"] == 0.0
                        continue
                    if reference == "mid":
                        if not (bids and asks):
                            assert math.isnan(d[f"{side}_base"])
                            continue
                        ref = Fraction(bids[0][0] + asks[0][0], 2)
                    else:
                        ref = Fraction(levels[0][0])
                    t = ref * (1 + sign * x)
                    inside = [(p, q) for p, q in levels if (p <= t if sign > 0 else p >= t)]
                    assert d[f"{side}_base"] == float(Fraction(sum(q for _, q in inside), QU))
                    assert _close(d[f"{side}_quote"], float(Fraction(sum(p * q for p, q in inside), PU * QU)))
                # cost to move: strict, consumed side by the sign
                for sign, levels in ((1, asks), (-1, bids)):
                    base, quote = b.cost_to_move(sign * bps / 100, reference=reference)
                    if bps == 0 or not levels:
                        assert (base, quote) == (0.0, 0.0)
                        continue
                    if reference == "mid":
                        if not (bids and asks):
                            assert math.isnan(base)
                            continue
                        ref = Fraction(bids[0][0] + asks[0][0], 2)
                    else:
                        ref = Fraction(levels[0][0])
                    t = ref * (1 + sign * x)
                    taken = [(p, q) for p, q in levels if (p < t if sign > 0 else p > t)]
                    assert base == float(Fraction(sum(q for _, q in taken), QU))
                    assert _close(quote, float(Fraction(sum(p * q for p, q in taken), PU * QU)))


def test_imbalance_and_weighted_mid_match_reference_on_random_books():
    rng = np.random.default_rng(99)
    for _ in range(300):
        b, bids, asks = _random_book(rng)
        n = int(rng.integers(1, 12))
        h = float(rng.uniform(1.0, 200.0))
        for weighting in ("plain", "linear", "inverse", "exp"):
            for notional in (False, True):
                got = b.imbalance(n, weighting=weighting, half_width_bps=h, notional=notional)
                if not bids and not asks:
                    assert math.isnan(got)
                    continue
                if not bids or not asks:
                    assert got == (1.0 if bids else -1.0)
                    continue
                mid = (bids[0][0] + asks[0][0]) / 2

                def wsum(levels):
                    s = 0.0
                    for i, (p, q) in enumerate(levels[:n], start=1):
                        w = {"plain": 1.0, "linear": 1 - (i - 1) / n, "inverse": 1 / i,
                             "exp": math.exp(-abs(p - mid) / mid * 1e4 / h)}[weighting]
                        s += w * (p * q if notional else q)
                    return s

                sb, sa = wsum(bids), wsum(asks)
                want = (sb - sa) / (sb + sa) if sb + sa > 0 else float("nan")
                assert _close(got, want, rel=1e-9, abs_=1e-12)
        if bids and asks:
            (bp, bq), (ap, aq) = bids[0], asks[0]
            assert _close(b.weighted_mid, float(Fraction(bq * ap + aq * bp, (bq + aq) * PU)), rel=1e-15)
        else:
            assert math.isnan(b.weighted_mid)
