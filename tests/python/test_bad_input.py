"""Bad input at every entry point: a clear liqcore error, the book EXACTLY unchanged.

For each rejected call: the exception is a ``liqcore.errors.LiqError`` and a ``ValueError``
(InvalidDeltaError, CrossedBookError, FormatError), its message names the offending
element, ``stats["rejected"]`` grows by one, and the book is byte-for-byte what it was:
``to_bytes()`` before/after are equal except for the stats block (the counters documented
to move: rejected, gaps, crossed), which is compared separately.

The book: tick 0.05 (2 decimals), lot 0.002 (3 decimals), so off-grid and too-many-decimals
values are both expressible.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal

import numpy as np
import pytest

from liqcore import OrderBook
from liqcore.errors import ConcurrentUseError, CrossedBookError, FormatError, InvalidDeltaError, LiqError

BIDS = [["100.00", "1.000"], ["99.95", "2.002"], ["99.00", "0.500"]]
ASKS = [["100.05", "1.500"], ["100.10", "3.000"]]

STATS_AT, STATS_LEN = 52, 72          # src/book.c serialization: header fields, then 9 u64 counters
COUNTERS = ["messages", "levels", "snapshots", "rejected", "stale", "gaps", "crossed",
            "repaired_levels", "truncated_levels"]


def make(**kw):
    b = OrderBook("0.05", "0.002", **kw)
    b.apply_snapshot(BIDS, ASKS, update_id=7)
    return b


@pytest.fixture
def book():
    return make()


def frozen(b):
    raw = b.to_bytes()
    return (raw[:STATS_AT] + raw[STATS_AT + STATS_LEN:], b.level_strings(0), b.level_strings(1),
            b.last_update_id, b.generation)


def assert_rejected(b, call, names=(), exc=InvalidDeltaError, moved=("rejected",)):
    before, stats = frozen(b), b.stats
    with pytest.raises(exc) as ei:
        call(b)
    assert isinstance(ei.value, LiqError) and isinstance(ei.value, ValueError)
    for name in names:
        assert name in str(ei.value), f"{name!r} not named in {ei.value}"
    assert frozen(b) == before, "the book changed on a rejected call"
    after = b.stats
    assert after["rejected"] == stats["rejected"] + 1
    for k in COUNTERS:
        if k not in moved and k != "rejected":
            assert after[k] == stats[k], k
    return ei.value


NAN, INF = math.nan, math.inf

# (id, value, substring the message must contain)
BAD_PRICES = [
    ("nan", NAN, "nan"), ("inf", INF, "inf"), ("-inf", -INF, "-inf"), ("zero", 0.0, "0.0"),
    ("negative", -100.0, "-100.0"), ("zero-str", "0", "'0'"), ("neg-str", "-100.00", "'-100.00'"),
    ("word", "abc", "'abc'"), ("empty", "", "''"), ("1e400", "1e400", "'1e400'"),
    ("off-grid", "100.01", "'100.01'"), ("off-grid-float", 100.01, "100.01"),
    ("too-many-decimals", "100.005", "'100.005'"), ("too-many-decimals-float", 100.001, "100.001"),
    ("overflow-int", 10 ** 17, str(10 ** 17)), ("overflow-str", "92233720368547758.08", "92233720368547758.08"),
    ("overflow-float", 1e300, "1e+300"), ("bool", True, "True"), ("none", None, "None"),
    ("decimal-nan", Decimal("NaN"), "NaN"), ("decimal-inf", Decimal("Infinity"), "Infinity"),
    ("bytes", b"x1", "x1"), ("list", [100], "[100]"), ("str-nan", "nan", "'nan'"), ("spaces", " 100.00", "' 100.00'"),
]
BAD_SIZES = [
    ("nan", NAN, "nan"), ("inf", INF, "inf"), ("negative", -1.0, "-1.0"), ("neg-str", "-0.002", "'-0.002'"),
    ("word", "x", "'x'"), ("1e400", "1e400", "'1e400'"), ("off-grid", "0.001", "'0.001'"),
    ("too-many-decimals", "0.0021", "'0.0021'"), ("overflow-int", 2 ** 63, str(2 ** 63)),
    ("bool", False, "False"), ("none", None, "None"), ("decimal-neg", Decimal("-1"), "-1"),
]
BAD_SIDES = [("two", 2, "2"), ("minus-one", -1, "-1"), ("word", "middle", "'middle'"), ("none", None, "None"),
             ("float", 1.0, "1.0"), ("bool-ish-str", "", "''")]


# ---------------------------------------------------------------- update

@pytest.mark.parametrize("bad", BAD_PRICES, ids=[c[0] for c in BAD_PRICES])
def test_update_bad_price(book, bad):
    _, v, name = bad
    assert_rejected(book, lambda b: b.update(0, v, "1.000"), [name])


@pytest.mark.parametrize("bad", BAD_SIZES, ids=[c[0] for c in BAD_SIZES])
def test_update_bad_size(book, bad):
    _, v, name = bad
    assert_rejected(book, lambda b: b.update("ask", "100.05", v), [name])


@pytest.mark.parametrize("bad", BAD_SIDES, ids=[c[0] for c in BAD_SIDES])
def test_update_bad_side(book, bad):
    _, v, name = bad
    assert_rejected(book, lambda b: b.update(v, "99.00", "1.000"), [name])


def test_update_crossed(book):
    e = assert_rejected(book, lambda b: b.update(0, "100.10", "1.000"), exc=CrossedBookError,
                        moved=("rejected", "crossed"))
    assert "100.10" in str(e)
    assert book.stats["crossed"] == 1


# ---------------------------------------------------------------- apply_deltas

@pytest.mark.parametrize("bad", [(NAN, "nan"), (INF, "inf"), (-5.0, "-5.0"), (0.0, "0.0"), (100.01, "100.01"),
                                 (100.001, "100.001"), (1e300, "1e+300")], ids=str)
def test_apply_deltas_float_array_bad_price(book, bad):
    v, name = bad
    p = np.array([99.5, v, 99.0])
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0, 0, 0], np.uint8), p, np.array([1.0, 1.0, 0.0])),
                    ["element 1", name])


@pytest.mark.parametrize("bad", [(NAN, "nan"), (-1.0, "-1.0"), (0.001, "0.001"), (INF, "inf")], ids=str)
def test_apply_deltas_float_array_bad_size(book, bad):
    v, name = bad
    assert_rejected(book, lambda b: b.apply_deltas(np.array([1, 1]), np.array([100.5, 101.0]), np.array([1.0, v])),
                    ["element 1", name])


def test_apply_deltas_int_arrays(book):
    # int arrays are whole prices/sizes; a negative size is rejected, an in-range array applies
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0, 0]), np.array([95, 96]), np.array([1, -1])),
                    ["element 1"])
    assert book.apply_deltas(np.array([0]), np.array([95], np.int32), np.array([2], np.uint16)) is True
    assert book.level_strings(0)[-1] == ["95", "2"]


def test_apply_deltas_int_array_beyond_float_precision():
    # regression: int64 arrays were converted through float64, silently rounding 2**53 + 1
    b = OrderBook(1, 1, price_decimals=0, size_decimals=0)
    b.apply_deltas(np.array([0], np.uint8), np.array([2 ** 53 + 1], np.int64), np.array([3], np.int64))
    assert b.levels(0, raw=True).tolist() == [[2 ** 53 + 1, 3]]
    assert_rejected(b, lambda b: b.apply_deltas(np.array([0]), np.array([2 ** 62], np.int64),
                                                np.array([-1], np.int64)), ["element 0"])


@pytest.mark.parametrize("dtype", [np.bool_], ids=str)
def test_apply_deltas_bool_arrays(book, dtype):
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0]), np.array([True], dtype), np.array([1.0])), ["bool"])
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0]), np.array([99.0]), np.array([True], dtype)), ["bool"])


def test_apply_deltas_object_and_str_arrays(book):
    # object and "<U" arrays are taken element by element (exact decimal parsing)
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0, 0]), np.array(["99.50", "abc"], dtype=object),
                                                   np.array(["1.000", "1.000"], dtype=object)), ["element 1", "abc"])
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0, 0]), np.array(["99.50", "99.503"]),
                                                   np.array(["1.000", "1.000"])), ["element 1", "99.503"])
    assert_rejected(book, lambda b: b.apply_deltas(np.array([0]), np.array([None], dtype=object), np.array([1.0])),
                    ["element 0", "None"])
    # regression: a valid "<U" array used to be rejected ("not a decimal number")
    assert book.apply_deltas(np.array([0]), np.array(["99.50"]), np.array(["1.000"])) is True
    assert ["99.50", "1.000"] in book.level_strings(0)


@pytest.mark.parametrize("shape", [(2, 1), (1, 2), (1, 1, 2)], ids=str)
def test_apply_deltas_2d_arrays(book, shape):
    p = np.full(shape, 99.0)
    q = np.full(shape, 1.0)
    s = np.zeros(shape, np.uint8)
    assert_rejected(book, lambda b: b.apply_deltas(s, p, q), ["1-D"])
    assert_rejected(book, lambda b: b.apply_deltas(s.ravel(), p, q.ravel()), ["1-D"])
    assert_rejected(book, lambda b: b.apply_deltas([0] * p.size, p.astype(object), q.ravel()), ["1-D"])


@pytest.mark.parametrize("lens", [(2, 3, 3), (3, 2, 3), (3, 3, 2), (0, 1, 1)], ids=str)
def test_apply_deltas_mismatched_lengths(book, lens):
    ns, np_, nq = lens
    names = [f"{n}" for n in lens]
    assert_rejected(book, lambda b: b.apply_deltas(np.zeros(ns, np.uint8), np.full(np_, 99.0), np.full(nq, 1.0)),
                    names)
    assert_rejected(book, lambda b: b.apply_deltas([0] * ns, ["99.00"] * np_, ["1.000"] * nq), names)


def test_apply_deltas_lists_of_strings(book):
    for bad, name in [("abc", "'abc'"), ("1e400", "'1e400'"), ("", "''"), ("-99.00", "'-99.00'"), ("99.01", "'99.01'")]:
        assert_rejected(book, lambda b: b.apply_deltas([0, 1, 0], ["99.50", "100.50", bad], ["1.000"] * 3),
                        ["element 2", name])
    assert_rejected(book, lambda b: b.apply_deltas(["bid", "sell", "up"], ["99.50"] * 3, ["1.000"] * 3),
                    ["'up'"])
    assert_rejected(book, lambda b: b.apply_deltas("middle", ["99.50"], ["1.000"]), ["'middle'"])


@pytest.mark.parametrize("sides", [np.array([0, 2]), np.array([0, -1], np.int8), np.array([0, 3], np.uint8),
                                   np.array([0.0, 1.5]), np.array([0, -1])], ids=lambda a: f"{a.dtype}{a.tolist()}")
def test_apply_deltas_bad_side_arrays(book, sides):
    assert_rejected(book, lambda b: b.apply_deltas(sides, np.array([99.5, 100.5]), np.array([1.0, 1.0])), ["side"])


def test_apply_deltas_all_or_nothing_after_valid_elements(book):
    # the first elements are valid and would change the book: nothing of them may remain
    assert_rejected(book, lambda b: b.apply_deltas([0, 0, 1, 1], ["100.00", "99.50", "100.05", "x"],
                                                   ["0", "7.000", "0", "1.000"]), ["element 3"])


def test_apply_deltas_crossed_rolls_back(book):
    assert_rejected(book, lambda b: b.apply_deltas([0, 1, 0], ["98.00", "101.00", "100.20"], ["1.000"] * 3),
                    exc=CrossedBookError, moved=("rejected", "crossed"))


def _long_message(n, rng):
    """n valid float64 levels around the book (bids below 100.05, asks above 100.00)."""
    sides = rng.integers(0, 2, n).astype(np.uint8)
    ticks = rng.integers(1, 60, n)
    prices = np.where(sides == 0, 100.00 - 0.05 * ticks, 100.05 + 0.05 * ticks).round(2)
    sizes = (rng.integers(0, 5, n) * 0.002).round(3)
    return sides, prices, sizes


@pytest.mark.parametrize("policy", ["raise", "repair", "allow"])
@pytest.mark.parametrize("n,at", [(65, 64), (300, 150), (5000, 4999), (5000, 0)])
def test_apply_deltas_long_message_bad_element(policy, n, at):
    # long float messages are converted and applied in one pass (undone from a log, or
    # from a copy of the book when larger than it): a bad element anywhere undoes it all
    rng = np.random.default_rng(n + at)
    sides, prices, sizes = _long_message(n, rng)
    sizes[at] = math.nan
    assert_rejected(make(cross_policy=policy), lambda b: b.apply_deltas(sides, prices, sizes),
                    [f"element {at}", "nan"])


@pytest.mark.parametrize("n", [65, 300, 5000])
def test_apply_deltas_long_message_crossed_rolls_back(n):
    sides, prices, sizes = _long_message(n, np.random.default_rng(n))
    sides[-1], prices[-1], sizes[-1] = 0, 101.00, 1.0     # the last level crosses the asks
    assert_rejected(make(), lambda b: b.apply_deltas(sides, prices, sizes),
                    exc=CrossedBookError, moved=("rejected", "crossed"))


def test_apply_deltas_long_message_applies_like_short_ones():
    # the one-pass path (long messages) and the validate-first path (short ones) agree
    sides, prices, sizes = _long_message(5000, np.random.default_rng(1))
    a, b = make(), make()
    a.apply_deltas(sides, prices, sizes)
    for i in range(0, 5000, 50):
        b.apply_deltas(sides[i:i + 50], prices[i:i + 50], sizes[i:i + 50])
    assert a.level_strings(0) == b.level_strings(0) and a.level_strings(1) == b.level_strings(1)


# ---------------------------------------------------------------- apply_levels / apply_snapshot

LEVEL_CASES = [
    ("bad-size", [["99.50", "nan"]], [], ["bids[0]", "nan"]),
    ("bad-price", [], [["100.50", "1.000"], ["abc", "1.000"]], ["asks[1]", "abc"]),
    ("not-a-row", [5], [], ["bids[0]", "5"]),
    # regression: short rows were indexed without bounds checks (segfault / garbage read)
    ("short-row", [["99.50"]], [], ["bids[0]", "99.50"]),
    ("empty-row", [["99.00", "1.000"], []], [], ["bids[1]", "[]"]),
    ("short-tuple", [], [("100.50",)], ["asks[0]", "100.50"]),
    ("none-row", [None], [], ["bids[0]", "None"]),
    ("off-grid", [["99.52", "1.000"]], [], ["bids[0]", "99.52"]),
    ("negative", [], [["100.50", "-1.000"]], ["asks[0]", "-1.000"]),
    ("overflow", [["1e30", "1.000"]], [], ["bids[0]", "1e30"]),
    ("bool", [[True, "1.000"]], [], ["bids[0]", "True"]),
]


@pytest.mark.parametrize("case", LEVEL_CASES, ids=[c[0] for c in LEVEL_CASES])
def test_apply_levels_bad(book, case):
    _, bids, asks, names = case
    assert_rejected(book, lambda b: b.apply_levels(bids, asks), names)


@pytest.mark.parametrize("case", LEVEL_CASES, ids=[c[0] for c in LEVEL_CASES])
def test_apply_snapshot_bad(book, case):
    _, bids, asks, names = case
    # a valid replacement on the other side must not be applied either
    assert_rejected(book, lambda b: b.apply_snapshot(bids or [["90.00", "1.000"]], asks or [["110.00", "1.000"]],
                                                     update_id=99), names[:1])


@pytest.mark.parametrize("arr", [np.zeros((2, 1)), np.zeros((2, 2, 2)), np.array([1.0, 2.0]),
                                 np.array([[99.0, NAN]]), np.array([[99.01, 1.0]])], ids=lambda a: str(a.shape))
def test_apply_levels_bad_arrays(book, arr):
    assert_rejected(book, lambda b: b.apply_levels(arr, []))
    assert_rejected(book, lambda b: b.apply_snapshot(arr, []))


def test_crossed_levels_and_snapshot(book):
    assert_rejected(book, lambda b: b.apply_levels([["100.10", "1.000"]], []), exc=CrossedBookError,
                    moved=("rejected", "crossed"))
    assert_rejected(book, lambda b: b.apply_snapshot([["100.10", "1.000"]], [["100.05", "1.000"]], update_id=8),
                    exc=CrossedBookError, moved=("rejected", "crossed"))
    book.cross_policy = "repair"          # repair never rewrites a snapshot: still rejected
    assert_rejected(book, lambda b: b.apply_snapshot([["100.10", "1.000"]], [["100.05", "1.000"]], update_id=8),
                    exc=CrossedBookError, moved=("rejected", "crossed"))


@pytest.mark.parametrize("uid", [2 ** 63, -(2 ** 63) - 1, "8", 8.0, True], ids=repr)
def test_apply_snapshot_bad_update_id(book, uid):
    assert_rejected(book, lambda b: b.apply_snapshot([["90.00", "1.000"]], [], update_id=uid), ["update_id"])


# ---------------------------------------------------------------- sequenced calls

def test_ids_without_rule(book):
    assert_rejected(book, lambda b: b.apply_levels([["99.50", "1.000"]], [], last_id=8), ["no sequence rule"])
    assert_rejected(book, lambda b: b.apply_deltas([0], ["99.50"], ["1.000"], first_id=8), ["no sequence rule"])


@pytest.mark.parametrize("ids", [dict(first_id=8), dict(last_id=2 ** 64, first_id=8), dict(last_id="9", first_id=8),
                                 dict(last_id=9, first_id=8.0), dict(last_id=9, first_id=None),
                                 dict(last_id=True, first_id=8)], ids=repr)
def test_bad_ids_with_rule(ids):
    b = make(sequence="binance_spot")
    assert_rejected(b, lambda b: b.apply_levels([["99.50", "1.000"]], [], **ids))


# ---------------------------------------------------------------- from_bytes

def _valid_bytes():
    return make(max_depth=10, sequence="okx").to_bytes()


def _patch(data, offset, fmt, value):
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def _corruptions():
    good = _valid_bytes()
    n_bids_at = STATS_AT + STATS_LEN
    levels_at = n_bids_at + 16
    yield "empty", b""
    for cut in (1, 8, STATS_AT, levels_at - 1, levels_at, len(good) - 1):
        yield f"truncated-{cut}", good[:cut]
    yield "extra-byte", good + b"\0"
    yield "magic", _patch(good, 0, "<I", 0xDEADBEEF)
    yield "version", _patch(good, 4, "<I", 3)                 # 1: no labels, 2: labels
    yield "version-1-with-labels", _patch(good, 4, "<I", 1)   # v1 has nothing after the levels
    yield "label-length-past-end", good[:-8] + struct.pack("<I", 5) + good[-4:]
    yield "label-too-long", good[:-8] + struct.pack("<I", 1025) + bytes(1025) + good[-4:]
    yield "label-missing", good[:-4]
    yield "px-scale", _patch(good, 8, "<I", 19)
    yield "qty-scale", _patch(good, 12, "<I", 0xFFFFFFFF)
    yield "tick-zero", _patch(good, 16, "<q", 0)
    yield "lot-negative", _patch(good, 24, "<q", -2)
    yield "cross-policy", _patch(good, 40, "<I", 3)
    yield "seq-rule", _patch(good, 40, "<I", 7 << 8)   # one past the last rule (increasing = 6)
    yield "flag-bits", _patch(good, 40, "<I", 1 << 20)
    yield "max-depth-below-count", _patch(good, 32, "<Q", 1)
    yield "bid-count", _patch(good, n_bids_at, "<Q", 4)
    yield "ask-count-huge", _patch(good, n_bids_at + 8, "<Q", 2 ** 62)
    # bids stored worst first (keys ascending): swap order, zero size, off grid, negative price
    yield "bids-unsorted", _patch(good, levels_at, "<q", 10_000)
    yield "bid-zero-size", _patch(good, levels_at + 3 * 8, "<q", 0)
    yield "bid-off-grid", _patch(good, levels_at, "<q", 9_901)
    yield "bid-negative-price", _patch(good, levels_at, "<q", -9_900)
    yield "bid-int64-min", _patch(good, levels_at, "<q", -(2 ** 63))
    # a crossed book under the "raise" policy: best bid (last bid key) above best ask
    yield "crossed", _patch(good, levels_at + 2 * 8, "<q", 10_100)


CORRUPTIONS = list(_corruptions())


def test_valid_bytes_round_trip():
    good = _valid_bytes()
    b = OrderBook.from_bytes(good)
    assert b.to_bytes() == good
    assert OrderBook.from_bytes(bytearray(good)).to_bytes() == good
    assert OrderBook.from_bytes(memoryview(good)).to_bytes() == good


@pytest.mark.parametrize("case", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_from_bytes_rejects(case):
    name, data = case
    assert data != _valid_bytes()
    with pytest.raises(FormatError) as ei:
        OrderBook.from_bytes(data)
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, LiqError)


def test_from_bytes_fuzz_never_crashes():
    """Random single-byte corruptions: either a FormatError or a book that re-serializes to the input."""
    good = _valid_bytes()
    rng = np.random.default_rng(1)
    for _ in range(2000):
        data = bytearray(good)
        i = int(rng.integers(0, len(data)))
        data[i] = int(rng.integers(0, 256))
        try:
            b = OrderBook.from_bytes(bytes(data))
        except FormatError:
            continue
        assert b.to_bytes() == bytes(data)


# ---------------------------------------------------------------- constructor, setters, reads

@pytest.mark.parametrize("kw", [
    dict(tick_size=0), dict(tick_size=-0.01), dict(tick_size="abc"), dict(tick_size=NAN), dict(tick_size=INF),
    dict(tick_size=True), dict(tick_size=[1]), dict(tick_size=1e30), dict(lot_size="0"), dict(lot_size=Decimal("NaN")),
    dict(price_decimals=19), dict(price_decimals=-1), dict(size_decimals="x"), dict(size_decimals=2.5),
    dict(tick_size="0.001", price_decimals=2), dict(tick_size="1e-19"), dict(max_depth=-1), dict(max_depth="x"),
    dict(max_depth=2 ** 70), dict(max_depth=1.5), dict(cross_policy="ignore"), dict(cross_policy=None),
    dict(sequence="kraken-v9"), dict(sequence=5),
], ids=repr)
def test_constructor_rejects(kw):
    with pytest.raises(InvalidDeltaError) as ei:
        OrderBook(**kw)
    assert isinstance(ei.value, ValueError)


def test_setters_reject_and_keep_value(book):
    book.cross_policy = "repair"
    book.sequence = "okx"
    before = frozen(book)
    for v in ("ignore", None, 1, "RAISE"):
        with pytest.raises(InvalidDeltaError, match="cross_policy"):
            book.cross_policy = v
    for v in ("kraken-v9", 5, ""):
        with pytest.raises(InvalidDeltaError, match="sequence rule"):
            book.sequence = v
    assert (book.cross_policy, book.sequence) == ("repair", "okx")
    assert frozen(book) == before


@pytest.mark.parametrize("n,expected", [(None, 3), (0, 0), (-1, 0), (-(2 ** 70), 0), (2, 2), (10 ** 6, 3),
                                        (2 ** 70, 3), (np.int64(1), 1)], ids=repr)
def test_levels_with_odd_n(book, n, expected):
    before = frozen(book)
    assert book.levels(0, n).shape == (expected, 2)
    assert book.levels("bid", n, raw=True).shape == (expected, 2)
    assert book.bids(n).shape == (expected, 2)
    assert len(book.level_strings(0, n)) == expected
    assert book.asks(n).shape == (min(expected, 2), 2)
    assert frozen(book) == before


@pytest.mark.parametrize("n", ["x", [1], object()], ids=repr)
def test_levels_with_non_numeric_n(book, n):
    with pytest.raises((TypeError, ValueError)):
        book.levels(0, n)


@pytest.mark.parametrize("side", [2, -1, "middle", None, 1.0], ids=repr)
def test_levels_bad_side(book, side):
    with pytest.raises(InvalidDeltaError):
        book.levels(side)
    with pytest.raises(InvalidDeltaError):
        book.level_strings(side)


# ---------------------------------------------------------------- one status -> exception map

class _Reentering(int):
    """An int whose conversion calls back into the book being filled."""

    book: OrderBook | None = None

    def __index__(self):
        self.book.update(0, "1", "1")
        return 5

    __int__ = __index__


def _reenter():
    b = OrderBook(1, 1)
    _Reentering.book = b
    b.apply_levels([[_Reentering(5), 1]], [])


# (call, class, "where: status text") for refusals that were once raised bypassing the map
MAPPED = [
    (lambda: OrderBook(price_decimals=2.5), InvalidDeltaError, "OrderBook: invalid argument"),
    (lambda: OrderBook(tick_size="abc"), InvalidDeltaError, "OrderBook: invalid argument"),
    (lambda: OrderBook(max_depth=-1), InvalidDeltaError, "OrderBook: invalid argument"),
    (lambda: OrderBook(symbol=5), InvalidDeltaError, "OrderBook: invalid argument"),
    (lambda: setattr(make(), "cross_policy", "ignore"), InvalidDeltaError, "cross_policy: invalid argument"),
    (lambda: setattr(make(), "sequence", "kraken-v9"), InvalidDeltaError, "sequence: invalid argument"),
    (lambda: make().apply_levels("100,1", []), InvalidDeltaError, "apply_levels: invalid argument"),
    (lambda: make().apply_levels(np.zeros((2, 3, 1)), []), InvalidDeltaError, "apply_levels: invalid argument"),
    (lambda: make().apply_levels([["100.00", "1"]], [], last_id=9), InvalidDeltaError,
     "apply_levels: invalid argument"),
    (lambda: make(sequence="okx").apply_levels([], [], last_id=1.5), InvalidDeltaError,
     "apply_levels: invalid argument"),
    (lambda: make().apply_deltas(0, np.zeros((2, 2)), np.zeros((2, 2))), InvalidDeltaError,
     "apply_deltas: invalid argument"),
    (lambda: make().depth_profile("10"), InvalidDeltaError, "depth_profile: invalid argument"),
    (lambda: make().depth_profile([[10.0]]), InvalidDeltaError, "depth_profile: invalid argument"),
    (lambda: make().liquidity_report(levels=0), InvalidDeltaError, "liquidity_report: invalid argument"),
    (lambda: make().checksum("kraken-v9"), InvalidDeltaError, "checksum: invalid argument"),
    (lambda: OrderBook.from_bytes(5), FormatError, "from_bytes: malformed input bytes"),
    (_reenter, ConcurrentUseError, "OrderBook: book in use by a call of this same thread"),
]


@pytest.mark.parametrize("call, cls, head", MAPPED, ids=[m[2] + f" #{i}" for i, m in enumerate(MAPPED)])
def test_every_refusal_comes_from_the_status_map(call, cls, head):
    """One table (liqcore/_status.pyx) builds every error of the binding: the class of the
    status and the message "<where>: <status text> (<detail>)"."""
    with pytest.raises(cls) as ei:
        call()
    assert str(ei.value).startswith(head + " ("), str(ei.value)


def test_refusals_before_the_core_are_counted_by_the_core():
    """A message refused while the binding converts it is counted in the C book's stats (the
    one counter), once, whichever path refused it."""
    b = make(sequence="okx")
    paths = [lambda: b.update("middle", 1.0, 1.0), lambda: b.update(0, "x", "1"),
             lambda: b.apply_levels([["abc", "1"]], []), lambda: b.apply_levels([], [], last_id="7"),
             lambda: b.apply_deltas([0, 0], [1.0], [1.0]), lambda: b.apply_snapshot([], [], update_id=1.5)]
    for i, path in enumerate(paths, 1):
        with pytest.raises(InvalidDeltaError):
            path()
        assert b.stats["rejected"] == i
