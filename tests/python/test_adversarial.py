"""The permanent adversarial suite of OrderBook (issue 10: keep it from coming back).

A hostile caller passes anything: every public entry point is fuzzed against a simple
reference (``reference_book.RefBook`` for the book, exact Python arithmetic for the
conversions) over a catalogue of edge values (grid edges, 18 decimals, int64 limits,
NaN/inf, odd strings, numpy scalars and arrays of every dtype, non-contiguous and 0-size
shapes, bool/None) in every container. Bad input must give a LiqError and change nothing
but the ``rejected`` counter; reads must never change the book; ``from_bytes`` of mutated
bytes is a FormatError or a valid book; four threads on one book never crash it, never
break its invariants and never mix two messages.

CI runs a bounded number of examples; a soak run of more than 1M examples in all
(six hypothesis tests) is::

    LIQ_FUZZ_EXAMPLES=200000 LIQ_HAMMER_SECONDS=120 python -m pytest tests/python/test_adversarial.py -p no:cacheprovider
"""

from __future__ import annotations

import math
import os
import pickle
import re
import threading
import time
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import FormatError, LiqError
from reference_book import ASK, BID, RefBook, Reject

EXAMPLES = int(os.environ.get("LIQ_FUZZ_EXAMPLES", "150"))
HAMMER_SECONDS = float(os.environ.get("LIQ_HAMMER_SECONDS", "2"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=list(HealthCheck))

I64_MIN, I64_MAX = -(2**63), 2**63 - 1

# ---------------------------------------------------------------- the catalogue

INTS = [0, 1, -1, 7, 2**31, 2**53 - 1, 2**53 + 1, 2**62, I64_MAX, I64_MIN, 2**63, 2**64, 10**18, 10**19, -10**18]
STRINGS = ["1", "0.5", "7", "1e-18", "0.000000000000000001", "9223372036854775807", "9223372036854775808",
           "-1", "+1", "1.", ".5", "1e2", "1E+2", "", " ", "1 ", " 1", "nan", "NaN", "inf", "-inf", "0x10", "1_0",
           "1\ud800", "\udfff", "\uff11", "\u0663", "1\x00", "1e-19", "1e18", "0e99", "1e99999", "1e-99999",
           "00000000000000000000000001", "1.000000000000000000000", "1.0000000000000000001", "5e-1", "--1", "1e",
           "e1", ".", "+", "0.10", "1e+0", "123456789012345678901234567890"]
DECIMALS = [Decimal("1.5"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
            Decimal("-0"), Decimal("1E+2"), Decimal("1e-18"), Decimal("7"), Decimal(I64_MAX)]
NUMPY_SCALARS = [np.int64(7), np.int64(I64_MAX), np.uint64(2**64 - 1), np.int8(-1), np.uint8(200), np.int32(5),
                 np.str_("1.5"), np.str_("7"), np.bool_(True), np.float64(np.nan)]
GARBAGE = [None, True, False, [1], (1,), {}, {"1": 2}, object(), 1 + 0j, bytearray(b"1"), b"\xff", b"1",
           b"0.5", b" 1", memoryview(b"1"), {1}, range(1), np.array([1]), np.array(1)]
EXACT = INTS + STRINGS + DECIMALS + NUMPY_SCALARS + GARBAGE
FLOATS = [0.0, -0.0, 0.5, 0.1, 0.3, 0.30000000000000004, 1e-18, 1e-19, 7.0, 1e18, 9.2e18, 9.3e18, float(2**63),
          float("nan"), float("inf"), float("-inf"), 5e-324, 1.7976931348623157e308, np.float32(0.1),
          np.float16(1.5), np.float64(7.0), 61700.01]

DECIMAL_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")

# book grids: (price decimals, size decimals, tick in units, lot in units)
GRIDS = [(0, 0, 1, 1), (2, 3, 1, 1), (8, 8, 1, 1), (18, 18, 1, 1), (1, 0, 5, 2)]


def ref_units(v, scale):
    """The exact value of v in units at scale, or None where a strict reading rejects it.
    Floats: those whose shortest repr is on the grid, and those clearly off it (the book
    rounds floats to the grid within float error, see float_units and the float test)."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (float, np.floating)):
        must, u = float_units(v, scale)
        if must or u is None:
            return u
        d = Decimal(float(v)).scaleb(scale)
        assert abs(d - d.to_integral_value()) > Decimal("1e-3"), f"{v!r} at scale {scale} is ambiguous"
        return None
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if not I64_MIN <= v <= I64_MAX:
            return None
        u = v * 10**scale
        return u if I64_MIN <= u <= I64_MAX else None
    if isinstance(v, bytes):
        try:
            v = v.decode("ascii")
        except UnicodeDecodeError:
            return None
    if isinstance(v, str):
        if not v.isascii() or not DECIMAL_RE.match(v):
            return None
        v = Decimal(v)
    if isinstance(v, Decimal):
        if not v.is_finite():
            return None
        try:
            u = v.scaleb(scale)
            if u and u.adjusted() > 18:    # |u| >= 10^19 > int64: said before int() builds 1e99999's digits
                return None
            if u != u.to_integral_value():
                return None
            u = int(u)
        except (InvalidOperation, OverflowError):
            return None
        return u if I64_MIN <= u <= I64_MAX else None
    return None


def float_units(v, scale):
    """(must_accept, units) for a float: the book must accept a float whose shortest repr
    is on the grid (and well inside int64), with those units; any other float it may accept
    only as the nearest unit of its exact value, within float error."""
    x = float(v)
    if x != x or x in (float("inf"), float("-inf")):
        return False, None
    d = Decimal(repr(x)).scaleb(scale)
    if d == d.to_integral_value() and abs(d) < 2**62:
        return True, int(d)
    return False, int(Decimal(x).scaleb(scale).to_integral_value())


# ---------------------------------------------------------------- helpers


def make_pair(grid, policy="allow"):
    pd, qd, tick, lot = grid
    book = OrderBook(price_decimals=pd, size_decimals=qd, tick_size=Decimal(tick).scaleb(-pd),
                     lot_size=Decimal(lot).scaleb(-qd), cross_policy=policy)
    ref = RefBook(cross_policy=policy, tick=tick, lot=lot)
    return book, ref


def state(book):
    """Everything observable of a book's levels and counters."""
    return book.levels(BID, raw=True).tolist(), book.levels(ASK, raw=True).tolist(), book.stats, book.last_update_id


def ref_state(ref):
    return ([list(x) for x in ref.levels(BID)], [list(x) for x in ref.levels(ASK)], dict(ref.stats), ref.last_id)


def check_invariants(book):
    for side in (BID, ASK):
        lv = book.levels(side, raw=True)
        assert (lv[:, 0] > 0).all() and (lv[:, 1] > 0).all()
        keys = lv[:, 0] if side == BID else -lv[:, 0]
        assert (np.diff(keys) < 0).all(), "levels out of order"
        assert len(lv) == (book.bid_count if side == BID else book.ask_count)


def run_both(book, ref, book_call, ref_call):
    """Apply to both; the outcomes (ok / which Reject) and the states must agree."""
    before = state(book)
    try:
        ref_call()
        want = "ok"
    except Reject as e:
        want = e.kind
    try:
        book_call()
        got = "ok"
    except LiqError as e:
        got = {"InvalidDeltaError": "invalid", "CrossedBookError": "crossed",
               "SequenceGapError": "gap"}.get(type(e).__name__, type(e).__name__)
    assert got == want, (got, want)
    assert state(book) == ref_state(ref), "book and reference differ"
    if got != "ok":
        b, a, stats, last = before
        assert state(book)[:2] == (b, a) and state(book)[3] == last
    check_invariants(book)


def seeded(grid, levels):
    """A book and its reference holding the given (side, price units, size units)."""
    book, ref = make_pair(grid)
    good = [(s, p, q) for s, p, q in levels if ref.valid(s, p, q) and q > 0]
    # exact units through decimal strings (the path whose exactness is not in question)
    for s, p, q in good:
        book.update(s, str(Decimal(p).scaleb(-grid[0])), str(Decimal(q).scaleb(-grid[1])))
        ref.update(s, p, q)
    return book, ref


units = st.one_of(st.integers(1, 200), st.sampled_from([I64_MAX, I64_MAX - 1, 2**62, 2**53 + 1, 10**18]))
book_levels = st.lists(st.tuples(st.sampled_from([BID, ASK]), units, units), max_size=12)
exact_value = st.one_of(st.sampled_from(EXACT), st.integers(-10, 10**6), st.decimals(allow_nan=True, places=3),
                        st.text(alphabet="0123456789.eE+-", max_size=8))
side_value = st.one_of(st.sampled_from([0, 1, "bid", "ask", "b", "a", "buy", "sell", "BID", np.int64(1), np.uint8(0),
                                        2, -1, True, None, "x", 0.0, 1.0, b"bid"]))


def side_ref(s):
    if isinstance(s, (bool, np.bool_)):
        return None
    if isinstance(s, (int, np.integer)):
        return int(s) if int(s) in (0, 1) else None
    if isinstance(s, str):
        return {"bid": 0, "bids": 0, "b": 0, "buy": 0, "ask": 1, "asks": 1, "a": 1, "sell": 1}.get(s.lower())
    return None


# ---------------------------------------------------------------- single updates


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels, side=side_value, price=exact_value, size=exact_value)
def test_update_matches_the_reference(grid, levels, side, price, size):
    book, ref = seeded(grid, levels)
    s, p, q = side_ref(side), ref_units(price, grid[0]), ref_units(size, grid[1])

    def ref_call():
        if s is None or p is None or q is None:
            ref.stats["rejected"] += 1
            raise Reject("invalid")
        ref.update(s, p, q)

    run_both(book, ref, lambda: book.update(side, price, size), ref_call)


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels, price=st.sampled_from(FLOATS), size=st.sampled_from(FLOATS),
       side=st.sampled_from([BID, ASK]))
def test_update_with_floats_is_exact_or_rejected(grid, levels, price, size, side):
    book, _ = seeded(grid, levels)
    before = state(book)
    must_p, up = float_units(price, grid[0])
    must_q, uq = float_units(size, grid[1])
    try:
        book.update(side, price, size)
        ok = True
    except LiqError:
        ok = False
    if not ok:
        assert state(book)[:2] == before[:2]
        ref_ok = (must_p and must_q and up > 0 and uq >= 0 and up % grid[2] == 0 and uq % grid[3] == 0)
        crossed = book.stats["crossed"] > before[2]["crossed"]
        assert not ref_ok or crossed, (price, size)
        return
    got = dict(state(book)[side])
    if uq and up < 2**53 and uq < 2**53:
        assert got.get(up) == uq, (price, size, up, uq)
    elif uq:
        # beyond 2^53 units a double has no unit precision: within two ulps of the product
        near = [(p, q) for p, q in got.items() if abs(p - up) <= 2 * up * 2**-52 + 1]
        assert near and abs(near[0][1] - uq) <= 2 * uq * 2**-52 + 1, (price, size, up, uq, got)
    check_invariants(book)


# ---------------------------------------------------------------- messages in every container


def containers(values, kind):
    """The same 1-D values in the containers a caller may use."""
    yield "list", list(values)
    yield "tuple", tuple(values)
    yield "object-array", np.array(values + [None], dtype=object)[:-1]
    yield "generator", (v for v in values) if kind == "rows" else list(values)
    if all(type(v) is int for v in values):
        for dt in (np.int64, np.uint64, np.int32, np.uint32, np.int16, np.uint16, np.int8, np.uint8):
            info = np.iinfo(dt)
            if all(info.min <= v <= info.max for v in values):
                yield f"{np.dtype(dt).name}", np.array(values, dtype=dt)
                yield f"{np.dtype(dt).name}-strided", np.array([x for v in values for x in (v, 0)], dtype=dt)[::2]
    if values and all(type(v) is str and v.isascii() and "\x00" not in v for v in values):
        yield "str-array", np.array(values)


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels,
       msg=st.lists(st.tuples(st.sampled_from([0, 1]), exact_value, exact_value), max_size=6),
       data=st.data())
def test_apply_deltas_in_every_container(grid, levels, msg, data):
    sides = [m[0] for m in msg]
    prices = [m[1] for m in msg]
    sizes = [m[2] for m in msg]
    pu = [ref_units(v, grid[0]) for v in prices]
    qu = [ref_units(v, grid[1]) for v in sizes]
    for pname, pc in containers(prices, "cols"):
        qname, qc = data.draw(st.sampled_from(list(containers(sizes, "cols"))), label="sizes")
        if pname == "generator" or qname == "generator":
            continue
        # a numpy container changes the values (int8 wraps, str arrays of numpy ints...): the
        # reference reads the same elements the book reads
        pe = pc.tolist() if isinstance(pc, np.ndarray) and pc.dtype != object else list(pc)
        qe = qc.tolist() if isinstance(qc, np.ndarray) and qc.dtype != object else list(qc)
        pu = [ref_units(v, grid[0]) for v in pe]
        qu = [ref_units(v, grid[1]) for v in qe]
        book, ref = seeded(grid, levels)
        sc = data.draw(st.sampled_from([sides, np.array(sides, dtype=np.uint8), tuple(sides),
                                        np.array(sides, dtype=np.int64)]), label="sides")

        def ref_call():
            if any(v is None for v in pu + qu):
                ref.stats["rejected"] += 1
                raise Reject("invalid")
            ref.apply(list(zip(sides, pu, qu)))

        run_both(book, ref, lambda: book.apply_deltas(sc, pc, qc), ref_call)


row_value = st.one_of(
    st.tuples(exact_value, exact_value).map(list),
    st.tuples(exact_value, exact_value),
    st.tuples(exact_value, exact_value, st.sampled_from(["0", "3", None])).map(list),   # OKX extra fields
    st.sampled_from([["1"], [], "12", b"12", {"1": "2"}, 5, None, ("1",), np.array(["1", "2"]),
                     np.array([1, 2]), np.array([[1, 2]])]),
)


def row_ref(row, grid):
    """(price units, size units) of a row, or None when it is not a level."""
    if isinstance(row, (str, bytes, dict)) or not hasattr(row, "__len__") or hasattr(row, "keys"):
        return None
    if isinstance(row, np.ndarray):
        if row.ndim != 1:
            return None
        row = row.tolist() if row.dtype != object else list(row)
    if len(row) < 2:
        return None
    p, q = ref_units(row[0], grid[0]), ref_units(row[1], grid[1])
    return None if p is None or q is None else (p, q)


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels, bids=st.lists(row_value, max_size=5),
       asks=st.lists(row_value, max_size=5), snapshot=st.booleans(), as_=st.sampled_from(["list", "tuple", "gen"]))
def test_apply_levels_and_snapshot_rows(grid, levels, bids, asks, snapshot, as_):
    book, ref = seeded(grid, levels)
    rb = [row_ref(r, grid) for r in bids]
    ra = [row_ref(r, grid) for r in asks]
    wrap = {"list": list, "tuple": tuple, "gen": lambda xs: (x for x in xs)}[as_]

    def ref_call():
        if any(r is None for r in rb + ra):
            ref.stats["rejected"] += 1
            raise Reject("invalid")
        deltas = [(BID, p, q) for p, q in rb] + [(ASK, p, q) for p, q in ra]
        ref.snapshot(deltas) if snapshot else ref.apply(deltas)

    call = book.apply_snapshot if snapshot else book.apply_levels
    run_both(book, ref, lambda: call(wrap(bids), wrap(asks)), ref_call)


LEVEL_ARRAYS = [np.zeros((0, 2)), np.zeros((0, 0)), np.zeros(0), np.zeros((2, 0)), np.zeros((2, 1)), np.zeros((2, 2, 2)),
                np.ones((2, 3)), np.array([[1, 2], [3, 4]], dtype=np.int8), np.array([[1, 2]], dtype=np.uint64),
                np.array([[2**64 - 1, 1]], dtype=np.uint64), np.array([[1.5, 2.0]], dtype=np.float32),
                np.array([[1, 2]], dtype=np.float16), np.array([[True, True]]), np.array([[1 + 0j, 1]]),
                np.array([["1", "2"]]), np.array([[b"1", b"2"]]), np.array([["1", "2"]], dtype=object),
                np.asfortranarray(np.array([[1, 2], [3, 4]], dtype=np.int64)), np.array([[5, 1], [6, 1], [7, 1]])[::2],
                np.array([[np.nan, 1.0]]), np.array([[1.0, np.inf]]), np.array([[I64_MAX, 1]], dtype=np.int64),
                np.array(["1", "2"]), np.array(5)]


@pytest.mark.parametrize("arr", LEVEL_ARRAYS, ids=[f"{a.dtype}{a.shape}" for a in LEVEL_ARRAYS])
@pytest.mark.parametrize("grid", GRIDS)
def test_level_arrays_of_every_dtype_and_shape(arr, grid):
    book, ref = seeded(grid, [(BID, 1, 1)])
    if arr.ndim == 2 and arr.shape[1] >= 2:
        rows = [row_ref(list(r.tolist() if r.dtype != object else r), grid) for r in arr]
        ok = all(r is not None for r in rows) and arr.dtype.kind not in "bc"
    else:
        # an empty message: no rows at all ((0, k) or (0,)); (2, 0) has two rows of nothing
        rows, ok = [], (arr.ndim == 2 and arr.shape[0] == 0) or (arr.ndim == 1 and arr.size == 0)

    def ref_call():
        if not ok:
            ref.stats["rejected"] += 1
            raise Reject("invalid")
        ref.apply([(ASK, p, q) for p, q in rows])

    run_both(book, ref, lambda: book.apply_levels([], arr), ref_call)


# ---------------------------------------------------------------- reads never change the book


READS = [
    lambda b, v: b.levels(0, v), lambda b, v: b.levels(1, v, raw=True), lambda b, v: b.bids(v), lambda b, v: b.top(v),
    lambda b, v: b.level_strings("ask", v), lambda b, v: b.to_dict(v), lambda b, v: b.walk("buy", v),
    lambda b, v: b.walk("sell", notional=v), lambda b, v: b.depth(v), lambda b, v: b.depth(pct=v, reference="touch"),
    lambda b, v: b.cost_to_move(v), lambda b, v: b.imbalance(v), lambda b, v: b.imbalance(3, weighting="exp", half_width_bps=v),
    lambda b, v: b.walls(v), lambda b, v: b.walls(window=v), lambda b, v: b.walls(limit=v, ratio=0),
    lambda b, v: b.clusters(v), lambda b, v: b.clusters(gap_ticks=v), lambda b, v: b.clusters(gap_bps=v),
    lambda b, v: b.wall_baseline(v), lambda b, v: b.liquidity_report(levels=v), lambda b, v: b.liquidity_report(notional=v),
    lambda b, v: b.liquidity_report(half_life_s=v), lambda b, v: b.depth_profile(v), lambda b, v: b.pressure([v]),
    lambda b, v: b.checksum(v), lambda b, v: b.verify_checksum("kraken", v), lambda b, v: b.verify_checksum(v, 1),
    lambda b, v: b.levels(v), lambda b, v: b.walk(v, 1), lambda b, v: b.copy(), lambda b, v: pickle.loads(pickle.dumps(b)),
    lambda b, v: b.spread_bps, lambda b, v: b.weighted_mid, lambda b, v: repr(b), lambda b, v: b.bbo,
]


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels, read=st.sampled_from(READS),
       v=st.one_of(st.sampled_from(EXACT + FLOATS), st.integers(-5, 100), st.floats()))
def test_reads_never_change_the_book_nor_raise_a_foreign_error(grid, levels, read, v):
    book, _ = seeded(grid, levels)
    before = book.to_bytes()
    try:
        read(book, v)
    except LiqError:
        pass
    assert book.to_bytes() == before


# ---------------------------------------------------------------- bands at the top of int64
#
# A band's price bound near 2^63 units: a mid of 2^63 - 2 is the double 2^63, and a band of 0
# bps bounds the bids at 2^63 itself. Casting that double to int64 is undefined (it gave
# INT64_MIN on x86, and the walls' band search then counted up through 2^63 keys: a hang the
# reads test above found once in several CI runs). These books pin the bounds there.

TOP_BOOKS = [
    [(BID, I64_MAX - 1, 10**18), (ASK, I64_MAX - 1, 10**18), (BID, 2**62, 104), (BID, 13, 2**62)],
    [(BID, I64_MAX - 1, 5), (BID, I64_MAX - 600, 7), (BID, I64_MAX - 1500, 9), (BID, I64_MAX - 5000, 11),
     (ASK, I64_MAX, 3)],
    [(ASK, I64_MAX - 3000, 2), (ASK, I64_MAX - 2000, 4), (ASK, I64_MAX - 1000, 8), (ASK, I64_MAX, 16),
     (BID, I64_MAX - 3001, 1)],
    [(BID, 2**62, 3), (ASK, I64_MAX - 1, 5), (ASK, I64_MAX - 700, 6)],
]
TOP_BPS = [0.0, 5e-324, 1e-12, 1e-6, 0.5, 1.0, 100.0, 1e4]
TOP_READS = ("b.walls({v}); b.walls({v}, ratio=1, z=0); b.clusters({v}); b.clusters({v}, ratio=1); "
             "b.wall_baseline({v}); b.depth({v}); b.depth({v}, reference='touch'); "
             "b.depth_profile([{v}]); b.cost_to_move({v} / 100); b.cost_to_move(-{v} / 100); "
             "b.liquidity_report()")


def test_band_bounds_at_the_top_of_int64_end_and_agree_with_the_double_bounds(tmp_path):
    import subprocess
    import sys
    # first in a child with a time limit, so a regression fails here instead of hanging CI
    script = ["from decimal import Decimal", "from liqcore import OrderBook"]
    for levels in TOP_BOOKS:
        script.append("b = OrderBook(price_decimals=0, size_decimals=0, cross_policy='allow')")
        script += [f"b.update({s}, '{p}', '{q}')" for s, p, q in levels]
        script += [TOP_READS.format(v=repr(v)) for v in TOP_BPS]
    script.append("print('done')")
    run = subprocess.run([sys.executable, "-c", "\n".join(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr

    # then every band against the bounds the C code documents: doubles, compared exactly
    for levels in TOP_BOOKS:
        book, ref = seeded((0, 0, 1, 1), levels)
        bids, asks = ref.levels(BID), ref.levels(ASK)
        mid = (float(bids[0][0]) + float(asks[0][0])) / 2
        for bps in TOP_BPS:
            band = bps / 1e4
            base = book.wall_baseline(bps)
            want_bid = sum(q for p, q in bids if float(p) >= mid * (1 - band))
            want_ask = sum(q for p, q in asks if float(p) <= mid * (1 + band))
            assert (base["bid"][3], base["ask"][3]) == (float(want_bid), float(want_ask)), (levels, bps)
            for reference in ("mid", "touch"):
                d = book.depth(bps, reference=reference)
                for side, lv, sign in (("bid", bids, -1), ("ask", asks, 1)):
                    r = mid if reference == "mid" else float(lv[0][0])
                    t = r + sign * r * (bps / 1e4)
                    snap = float(math.floor(t + 0.5))
                    t = snap if abs(t - snap) <= abs(t) * 1e-15 else t
                    inside = [q for p, q in lv if (p <= Fraction(t) if sign > 0 else p >= Fraction(t))]
                    assert d[f"{side}_base"] == float(sum(inside)), (levels, bps, reference, side)


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels, n=st.integers(1, 30))
def test_sums_are_exact_for_int64_sizes(grid, levels, n):
    book, ref = seeded(grid, levels)
    qdiv = 10**grid[1]
    r = book.liquidity_report(levels=n)
    for side, got in ((BID, r.bid_volume), (ASK, r.ask_volume)):
        want = sum(q for _, q in ref.levels(side)[:n]) / qdiv
        assert got == pytest.approx(want, rel=1e-15, abs=0)
    try:
        d = book.depth(1e4)   # every bid (the band reaches price 0)
    except LiqError:          # the ask bound 2x mid left int64: refused, not wrapped
        return
    if ref.levels(BID) and ref.levels(ASK):
        assert d["bid_base"] == pytest.approx(sum(q for _, q in ref.levels(BID)) / qdiv, rel=1e-15)


# ---------------------------------------------------------------- from_bytes of mutated bytes


@FUZZ
@given(grid=st.sampled_from(GRIDS), levels=book_levels, data=st.data(),
       labels=st.tuples(st.one_of(st.none(), st.text(max_size=8).filter(lambda t: t.encode("utf-8", "ignore") == t.encode("utf-8", "surrogatepass"))),
                        st.one_of(st.none(), st.sampled_from(["binance", "okx", ""]))))
def test_from_bytes_of_mutated_bytes(grid, levels, data, labels):
    book, _ = seeded(grid, levels)
    good = OrderBook.from_bytes(book.to_bytes(), symbol=labels[0], exchange=labels[1]).to_bytes()
    b = bytearray(good)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "cut", "add", "splice"]))
        i = data.draw(st.integers(0, max(len(b) - 1, 0)))
        if op == "flip" and b:
            b[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set" and b:
            b[i] = data.draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, 1, 2, 3]))
        elif op == "cut":
            del b[i:]
        elif op == "add":
            b[i:i] = data.draw(st.binary(max_size=20))
        elif op == "splice" and len(b) > 8:
            j = data.draw(st.integers(0, len(b) - 8))
            b[i:i + 8] = b[j:j + 8]
    try:
        c = OrderBook.from_bytes(bytes(b))
    except FormatError:
        return
    check_invariants(c)
    again = c.to_bytes()
    assert OrderBook.from_bytes(again).to_bytes() == again
    c.update(0, str(c.tick_size), "0")     # usable
    c.liquidity_report()


# ---------------------------------------------------------------- four threads, one book


def run_threads(*fns):
    """Run each function in its own thread until they all return; fail with what any raised."""
    errors = []

    def run(fn):
        try:
            fn()
        except BaseException as e:      # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(f,)) for f in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


class SlowRow(list):
    """A level whose element reads give the GIL away, mid-conversion."""

    def __getitem__(self, i):
        time.sleep(0)
        return list.__getitem__(self, i)


def test_four_threads_on_one_book():
    """Writers own disjoint price ranges and write each range whole, one size per message:
    any read that sees two sizes in one range has seen two messages mixed. Runs for
    LIQ_HAMMER_SECONDS (2 s in CI)."""
    book = OrderBook(tick_size="1", lot_size="1", cross_policy="raise")
    ranges = {"a": range(1000, 1100), "b": range(1100, 1200), "c": range(5000, 5100)}
    book.apply_levels([[p, 1] for p in (*ranges["a"], *ranges["b"])], [[p, 1] for p in ranges["c"]])
    stop = time.monotonic() + HAMMER_SECONDS
    counts = dict.fromkeys("abcr", 0)

    def uniform(levels, rng):
        sizes = {q for p, q in levels if p in rng}
        return len(sizes) <= 1

    def writer_a():      # numpy messages of 100 levels: the GIL is released while they apply
        k, pa = 1, np.array(ranges["a"], dtype=np.float64)
        while time.monotonic() < stop:
            k = k % 1000 + 1
            book.apply_deltas(np.zeros(100, dtype=np.uint8), pa, np.full(100, float(k)))
            counts["a"] += 1

    def writer_b():      # rows that run Python code while the scratch is being filled
        k = 1
        while time.monotonic() < stop:
            k = k % 1000 + 1
            rows = [SlowRow([str(p), str(k)]) for p in ranges["b"]]
            if k % 7:
                book.apply_levels(rows, [])
            else:
                book.apply_levels(np.array([[p, k] for p in ranges["b"]], dtype=np.int64), [])
            counts["b"] += 1

    def writer_c():      # single updates and occasional 100-level ask messages
        k = 1
        while time.monotonic() < stop:
            k = k % 1000 + 1
            if k % 5:
                book.update(1, float(ranges["c"][k % 100]), float(k))
            else:
                book.apply_levels([], [[p, k] for p in ranges["c"]])
            counts["c"] += 1

    def reader():
        while time.monotonic() < stop:
            bids = book.levels(0, raw=True).tolist()
            assert uniform(bids, ranges["a"]) and uniform(bids, ranges["b"]), "two messages mixed"
            copy = OrderBook.from_bytes(book.to_bytes())
            cb = copy.levels(0, raw=True).tolist()
            assert uniform(cb, ranges["a"]) and uniform(cb, ranges["b"])
            check_invariants(copy)
            book.liquidity_report()
            book.level_strings(0, 50)
            book.walk("buy", 10)
            assert book.bid_count == 200 and book.ask_count == 100
            counts["r"] += 1

    run_threads(writer_a, writer_b, writer_c, reader)
    assert all(counts.values()), counts
    check_invariants(book)
    bids = book.levels(0, raw=True).tolist()
    assert uniform(bids, ranges["a"]) and uniform(bids, ranges["b"]) and len(book) == 300


def test_threads_on_one_book_through_large_frames():
    """Frames of 64 KiB and more are parsed with the GIL released: the book is held, so a
    reader never sees half a frame and a writer of single updates never runs inside one."""
    from liqcore._frames import apply_binance_depth

    book = OrderBook(tick_size="0.01", lot_size="0.001")
    prices = [f"{1000 + i / 100:.2f}" for i in range(4000)]

    def frame(k):
        levels = ",".join(f'["{p}","{k}.000"]' for p in prices)
        return f'{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":{k},"u":{k},"b":[{levels}],"a":[]}}'.encode()

    frames = [frame(k) for k in range(1, 6)]
    assert len(frames[0]) >= 65536
    apply_binance_depth(book, frames[0])
    book.update(1, 2000.0, 1.0)
    stop = time.monotonic() + HAMMER_SECONDS

    def writer():
        i = 0
        while time.monotonic() < stop:
            apply_binance_depth(book, frames[i % 5])
            i += 1

    def updater():
        k = 1
        while time.monotonic() < stop:
            k = k % 50 + 1
            book.update(1, 2000.0 + k / 100, 1.0)
            book.update(1, 2000.0 + k / 100, 0.0)

    def reader():
        while time.monotonic() < stop:
            bids = book.levels(0, raw=True)
            assert len(bids) == 4000 and len(set(bids[:, 1].tolist())) == 1, "half a frame seen"
            OrderBook.from_bytes(book.to_bytes())

    run_threads(writer, updater, reader, reader)
    check_invariants(book)
