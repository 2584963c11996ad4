"""OrderBook basics on BOOK-A (shared/research/analytics.md; fixture in conftest.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import liqcore
from liqcore import InvalidDeltaError, OrderBook


def test_top_of_book(book_a):
    assert book_a.best_bid == (99.5, 1.5)
    assert book_a.best_ask == (100.0, 1.0)
    assert book_a.mid == 99.75
    assert book_a.spread == 0.5
    assert book_a.spread_bps == pytest.approx(50.125313, rel=1e-6)
    assert book_a.bid_count == 4 and book_a.ask_count == 4 and len(book_a) == 8
    assert book_a.last_update_id == 10


def test_levels_are_best_first_copies(book_a):
    bids = book_a.bids()
    assert bids.dtype == np.float64 and bids.shape == (4, 2)
    assert bids[:, 0].tolist() == [99.5, 99.0, 98.0, 97.0]
    assert book_a.asks(2).tolist() == [[100.0, 1.0], [100.5, 2.0]]
    bids[0, 0] = 0.0
    assert book_a.best_bid == (99.5, 1.5)


def test_update_insert_change_delete(book_a):
    book_a.update(liqcore.BID, 99.0, 7.0)
    book_a.update("ask", "100.5", "0")
    book_a.update(0, 96.5, 1.0)
    book_a.update(0, 50.0, 0.0)  # deleting an absent level is a no-op
    assert book_a.bids().tolist() == [[99.5, 1.5], [99.0, 7.0], [98.0, 4.0], [97.0, 10.0], [96.5, 1.0]]
    assert book_a.asks().tolist() == [[100.0, 1.0], [101.0, 3.0], [102.0, 5.0]]


def test_apply_deltas_array_fast_path_is_all_or_nothing():
    # short exact float64/uint8 arrays take apply_deltas' fast path: same validation,
    # same all-or-nothing and stats as the generic path
    import numpy as np
    import pytest
    import liqcore

    b = liqcore.OrderBook(tick_size="0.1", lot_size="0.001")
    b.apply_snapshot([[100.0, 1.0]], [[100.5, 2.0]])
    before = b.to_bytes()
    sides = np.array([0, 1, 0], np.uint8)
    with pytest.raises(liqcore.InvalidDeltaError, match="element 2"):
        b.apply_deltas(sides, np.array([99.9, 100.6, 99.85]), np.array([1.0, 1.0, 1.0]))
    with pytest.raises(liqcore.CrossedBookError):
        b.apply_deltas(sides, np.array([99.9, 100.6, 100.7]), np.array([1.0, 1.0, 1.0]))
    assert b.to_bytes()[-36:] == before[-36:] and b.bbo == (100.0, 1.0, 100.5, 2.0)
    assert b.stats["rejected"] == 2
    assert b.apply_deltas(sides, np.array([99.9, 100.6, 100.0]), np.array([1.0, 1.0, 0.0]))
    assert b.bbo == (99.9, 1.0, 100.5, 2.0)
    # byte-swapped and bool inputs still work (generic path for swapped)
    assert b.apply_deltas(np.array([True]), np.array([100.5], ">f8"), np.array([3.0], ">f8"))
    assert b.best_ask == (100.5, 3.0)


# ------------------------------------------------------------------ top(n): both sides, one array

def test_top_is_both_sides_in_one_fixed_shape_array():
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([["100.0", "1.0"], ["99.5", "2.0"], ["99.0", "3.0"]], [["100.5", "0.5"]])
    t = book.top(2)
    assert t.shape == (2, 2, 2) and t.dtype == np.float64
    assert t[0].tolist() == book.bids(2).tolist() == [[100.0, 1.0], [99.5, 2.0]]
    assert t[1, 0].tolist() == [100.5, 0.5] and np.isnan(t[1, 1]).all()        # one ask: the rest NaN
    assert book.top(0).shape == (2, 0, 2)
    assert np.isnan(OrderBook(tick_size="0.5", lot_size="0.1").top(3)).all()


@pytest.mark.parametrize("n", [-1, 1 << 21, 2.0, True, None, "3", np.float64(2)])
def test_top_refuses_a_bad_count(n):
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    with pytest.raises(InvalidDeltaError) as e:
        book.top(n)
    assert isinstance(e.value, ValueError)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400), st.integers(1, 50)), max_size=60, unique_by=lambda t: t[0]),
       st.integers(0, 80))
def test_top_equals_bids_and_asks(levels, n):
    bids = [[str(p / 2), str(q / 10)] for p, q in levels if p <= 200]
    asks = [[str(p / 2), str(q / 10)] for p, q in levels if p > 200]
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot(bids, asks)
    t = book.top(n)
    for side, ref in ((0, book.bids(n)), (1, book.asks(n))):
        assert t[side, :len(ref)].tolist() == ref.tolist()
        assert np.isnan(t[side, len(ref):]).all()
    out = np.full((2, n, 2), 7.0)                   # a caller's array: every cell written
    assert book.top(n, out=out) is out and np.array_equal(out, t, equal_nan=True)


def test_top_fills_a_callers_array():
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([["100.0", "1.0"], ["99.5", "2.0"]], [["100.5", "0.5"]])
    out = np.zeros((2, 3, 2))
    assert book.top(3, out=out) is out
    assert np.array_equal(out, book.top(3), equal_nan=True) and np.isnan(out[1, 1:]).all()

    class Sub(np.ndarray):
        pass
    sub = np.zeros((2, 3, 2)).view(Sub)             # a subclass of ndarray is an ndarray
    assert book.top(3, out=sub) is sub and np.array_equal(sub, out, equal_nan=True)


def _readonly(shape):
    a = np.zeros(shape)
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("out", [
    np.zeros((2, 4, 2)), np.zeros((2, 3)), np.zeros((3, 3, 2)), np.zeros((2, 3, 3)), np.zeros((2, 3, 2, 1)),
    np.zeros((2, 3, 2), np.float32), np.zeros((2, 3, 2), np.int64), np.zeros((2, 3, 2), ">f8"),
    np.zeros((2, 3, 2), np.complex128), np.zeros((2, 3, 2), object), np.zeros((2, 6, 2))[:, ::2],
    np.zeros((2, 3, 2), order="F"), _readonly((2, 3, 2)),
    np.frombuffer(bytearray(2 * 3 * 2 * 8 + 1), np.float64, 12, 1).reshape(2, 3, 2),   # not aligned
    [[[0.0] * 2] * 3] * 2, 5, "x", b"\0" * 96, memoryview(bytearray(96)),
])
def test_top_refuses_an_array_it_cannot_fill_and_writes_nothing(out):
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([["100.0", "1.0"]], [["100.5", "0.5"]])
    before = np.array(out, copy=True) if isinstance(out, np.ndarray) else None
    with pytest.raises(InvalidDeltaError, match="out must be") as e:
        book.top(3, out=out)
    assert isinstance(e.value, ValueError)
    if before is not None:
        assert np.array_equal(out, before) and out.dtype == before.dtype
