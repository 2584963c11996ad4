"""Stateful property tests: the compiled OrderBook against tests/python/reference_book.py.

A hypothesis ``RuleBasedStateMachine`` drives the C book and the pure-Python reference
with the same operations — ``update``, ``apply_deltas`` (numpy arrays and decimal-string
lists, sometimes carrying one invalid element that must reject the whole message),
``apply_levels``, ``apply_snapshot``, sequenced messages, ``clear``, ``copy``, pickling and
``to_bytes``/``from_bytes`` round trips — under a random ``max_depth``, cross policy and
sequence rule, and after EVERY step checks the invariants: each side strictly sorted
best-first, no zero sizes, best = extreme, counts, not crossed unless "allow", levels
equal to the reference, ``last_update_id`` and every ``stats`` counter.

Prices and sizes are small integers on a book with 0 decimals and tick = lot = 1, so
units equal the values and comparisons are exact; the price range is narrow so crossed
messages (and the repair rule) are frequent.

Profiles (``HYPOTHESIS_PROFILE`` environment variable):
  ``default`` — 60 machines x 40 steps per test, a few seconds;
  ``thorough`` — 1000 machines x 80 steps (minutes), for a local deep run.
"""

from __future__ import annotations

import math
import os
import pickle
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from liqcore import OrderBook
from liqcore.errors import CrossedBookError, InvalidDeltaError, SequenceGapError
from reference_book import ASK, BID, COUNTERS, RefBook, Reject

settings.register_profile("default", max_examples=60, stateful_step_count=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, stateful_step_count=80, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")

MAX_PX = 30
prices = st.integers(1, MAX_PX)
sizes = st.integers(0, 4)          # 0 deletes, so deletes are frequent
sides = st.sampled_from([BID, ASK])
valid_delta = st.tuples(sides, prices, sizes)
messages = st.lists(valid_delta, max_size=8)

# One invalid element per form. Each is (side, price, size) as given to the book; the
# reference receives None for the bad field (so its validation fails).
BAD_FLOATS = [("px", math.nan), ("px", math.inf), ("px", -math.inf), ("px", 0.0), ("px", -5.0),
              ("px", 1.5), ("px", 1e300), ("qty", math.nan), ("qty", math.inf), ("qty", -1.0),
              ("qty", 0.5), ("qty", 1e300), ("side", 2)]
BAD_STRINGS = [("px", "abc"), ("px", "1e400"), ("px", "0"), ("px", "-5"), ("px", ""), ("px", "1.5"),
               ("px", "nan"), ("px", None), ("px", True), ("qty", "-1"), ("qty", "x"), ("qty", "0.5"),
               ("qty", "1e400"), ("qty", "inf"), ("qty", None), ("side", "middle"), ("side", 7)]


def str_num(v: int, fmt: int) -> str:
    return (str(v), f"{v}.00", f"{v}e0")[fmt]


class BookMachine(RuleBasedStateMachine):
    """One C book and one reference, always fed the same operations."""

    @initialize(max_depth=st.one_of(st.none(), st.integers(1, 5)),
                policy=st.sampled_from(["raise", "repair", "allow"]),
                rule_name=st.sampled_from([None, "binance_spot", "binance_futures", "okx", "contiguous", "prev"]))
    def setup(self, max_depth, policy, rule_name):
        self._setup(max_depth, policy, rule_name)

    def _setup(self, max_depth, policy, rule_name):
        self.book = OrderBook(1, 1, price_decimals=0, size_decimals=0, max_depth=max_depth,
                              cross_policy=policy, sequence=rule_name)
        self.ref = RefBook(max_depth=max_depth, cross_policy=policy, sequence=rule_name)
        if rule_name is not None:
            # start synced (id 10) so that sequenced messages are mostly judged on their ids
            self.book.apply_snapshot([], [], update_id=10)
            self.ref.snapshot([], 10)

    # ------------------------------------------------------------ helpers

    def expect(self, ref_call, book_call):
        """Run both; they must agree on the outcome. Returns the book's result."""
        ref_before = self.ref.copy()
        try:
            want = ref_call()
            err = None
        except Reject as r:
            want, err = None, r.kind
        before = self.snapshot_state()
        try:
            got = book_call()
        except InvalidDeltaError:
            assert err == "invalid", f"book raised InvalidDeltaError, reference {err or 'accepted'}"
            self.assert_unchanged(before)
            return None
        except CrossedBookError:
            assert err == "crossed", f"book raised CrossedBookError, reference {err or 'accepted'}"
            self.assert_unchanged(before)
            return None
        except SequenceGapError:
            assert err == "gap", f"book raised SequenceGapError, reference {err or 'accepted'}"
            self.assert_unchanged(before)
            return None
        assert err is None, f"reference rejected ({err}) but the book accepted"
        if isinstance(want, bool):                       # sequenced: applied or stale
            assert got is want
            if want is False:
                assert ref_before.sides == self.ref.sides
        return got

    def snapshot_state(self):
        return (self.book.levels(BID, raw=True).tolist(), self.book.levels(ASK, raw=True).tolist(),
                self.book.last_update_id)

    def assert_unchanged(self, before):
        assert self.snapshot_state() == before

    # ------------------------------------------------------------ rules

    @rule(side=sides, price=prices, size=sizes, form=st.sampled_from(["int", "float", "str", "decimal"]),
          side_form=st.sampled_from(["int", "name"]))
    def update(self, side, price, size, form, side_form):
        conv = {"int": int, "float": float, "str": str, "decimal": Decimal}[form]
        s = side if side_form == "int" else ("bid", "ask")[side]
        self.expect(lambda: self.ref.update(side, price, size),
                    lambda: self.book.update(s, conv(price), conv(size)))

    @rule(side=sides, bad=st.sampled_from(BAD_FLOATS + BAD_STRINGS))
    def update_invalid(self, side, bad):
        field, v = bad
        args = {"side": side, "px": 10, "qty": 1}
        args[field] = v
        self.expect(lambda: self.ref.update(side, None, 1),
                    lambda: self.book.update(args["side"], args["px"], args["qty"]))

    def _with_bad(self, msg, bad, at):
        """The message as (book triples, reference triples), with ``bad`` inserted at ``at``."""
        book_msg = [list(d) for d in msg]
        ref_msg = list(msg)
        if bad is not None:
            field, v = bad
            at = min(at, len(msg))
            row = [BID, 10, 1]
            row[("side", "px", "qty").index(field)] = v
            book_msg.insert(at, row)
            ref_msg.insert(at, (BID, None, 1))
        return book_msg, ref_msg

    @rule(msg=messages, price_dtype=st.sampled_from([np.float64, np.int64]),
          side_dtype=st.sampled_from([np.uint8, np.int64, np.bool_]),
          bad=st.one_of(st.none(), st.sampled_from(BAD_FLOATS)), at=st.integers(0, 8))
    def apply_deltas_numpy(self, msg, price_dtype, side_dtype, bad, at):
        book_msg, ref_msg = self._with_bad(msg, bad, at)
        if bad is not None and bad[0] != "side":
            price_dtype = np.float64                     # NaN/inf/1.5 need a float array
        if bad is not None and bad[0] == "side" and side_dtype == np.bool_:
            side_dtype = np.uint8
        s = np.array([r[0] for r in book_msg], dtype=side_dtype)
        p = np.array([r[1] for r in book_msg], dtype=price_dtype)
        q = np.array([r[2] for r in book_msg], dtype=price_dtype)
        self.expect(lambda: self.ref.apply(ref_msg), lambda: self.book.apply_deltas(s, p, q))

    @rule(msg=messages, fmt=st.integers(0, 2), side_names=st.booleans(),
          bad=st.one_of(st.none(), st.sampled_from(BAD_STRINGS)), at=st.integers(0, 8))
    def apply_deltas_strings(self, msg, fmt, side_names, bad, at):
        book_msg, ref_msg = self._with_bad(msg, bad, at)
        conv = lambda v: str_num(v, fmt) if type(v) is int else v  # noqa: E731
        s = [("bid", "ask")[r[0]] if side_names and r[0] in (0, 1) else r[0] for r in book_msg]
        p = [conv(r[1]) for r in book_msg]
        q = [conv(r[2]) for r in book_msg]
        self.expect(lambda: self.ref.apply(ref_msg), lambda: self.book.apply_deltas(s, p, q))

    @rule(side=sides, msg=st.lists(st.tuples(prices, sizes), max_size=6))
    def apply_deltas_one_side(self, side, msg):
        p = np.array([m[0] for m in msg], dtype=np.float64)
        q = np.array([m[1] for m in msg], dtype=np.float64)
        self.expect(lambda: self.ref.apply([(side, a, b) for a, b in msg]),
                    lambda: self.book.apply_deltas(("bid", "ask")[side], p, q))

    @rule(bids=st.lists(st.tuples(prices, sizes), max_size=6), asks=st.lists(st.tuples(prices, sizes), max_size=6),
          fmt=st.integers(0, 2), bad=st.one_of(st.none(), st.sampled_from(BAD_STRINGS[:-2])),
          bad_side=sides, at=st.integers(0, 6))
    def apply_levels(self, bids, asks, fmt, bad, bad_side, at):
        rows = [[[str_num(p, fmt), str_num(q, fmt)] for p, q in lv] for lv in (bids, asks)]
        ref = [[(BID, p, q) for p, q in bids], [(ASK, p, q) for p, q in asks]]
        if bad is not None:
            row = ["10", "1"]
            row[bad[0] == "qty"] = bad[1]
            at = min(at, len(rows[bad_side]))
            rows[bad_side].insert(at, row)
            ref[bad_side].insert(at, (bad_side, None, 1))
        self.expect(lambda: self.ref.apply(ref[0] + ref[1]), lambda: self.book.apply_levels(rows[0], rows[1]))

    @rule(bids=st.lists(st.tuples(prices, sizes), max_size=8), asks=st.lists(st.tuples(prices, sizes), max_size=8),
          update_id=st.one_of(st.none(), st.integers(0, 50)), as_array=st.booleans(),
          bad=st.one_of(st.none(), st.sampled_from(BAD_STRINGS[:-2])))
    def apply_snapshot(self, bids, asks, update_id, as_array, bad):
        ref = [(BID, p, q) for p, q in bids] + [(ASK, p, q) for p, q in asks]
        if as_array and bad is None:
            b = np.array(bids, dtype=np.float64).reshape(-1, 2)
            a = np.array(asks, dtype=np.float64).reshape(-1, 2)
        else:
            b = [[str(p), str(q)] for p, q in bids]
            a = [[str(p), str(q)] for p, q in asks]
            if bad is not None:
                row = ["10", "1"]
                row[bad[0] == "qty"] = bad[1]
                a.append(row)
                ref.append((ASK, None, 1))
        self.expect(lambda: self.ref.snapshot(ref, update_id), lambda: self.book.apply_snapshot(b, a, update_id))

    @precondition(lambda self: self.ref.sequence is not None)
    @rule(msg=st.lists(valid_delta, max_size=3), d_last=st.integers(-3, 4), d_first=st.integers(-3, 3),
          d_prev=st.integers(-2, 1), resync=st.booleans())
    def apply_sequenced(self, msg, d_last, d_first, d_prev, resync):
        """Ids near the book's last id, so normal, stale, gap, heartbeat and reset all occur."""
        if self.ref.last_id is None and resync:
            # a book without an id (cleared, or snapshot without one) gaps on every sequenced
            # message; half the time resynchronise it first, as a feed handler would
            self.book.apply_snapshot([], [], update_id=20)
            self.ref.snapshot([], 20)
        L = self.ref.last_id if self.ref.last_id is not None else 10
        last = L + d_last
        first = min(L + 1 + d_first, last) if self.ref.sequence != "okx" else None
        prev = L + d_prev
        if self.ref.sequence in ("binance_spot", "contiguous"):
            prev = None
        s = [d[0] for d in msg]
        p = [str(d[1]) for d in msg]
        q = [str(d[2]) for d in msg]
        got = self.expect(lambda: self.ref.apply_seq(msg, last, first, prev),
                          lambda: self.book.apply_deltas(s, p, q, last_id=last, first_id=first, prev_id=prev))
        assert got in (None, True, False)

    @rule()
    def clear(self):
        self.book.clear()
        self.ref.clear()

    @rule(method=st.sampled_from(["copy", "copy_module", "pickle", "bytes"]))
    def round_trip(self, method):
        import copy as copy_module

        old = self.book
        old_bytes = old.to_bytes()
        if method == "copy":
            new = old.copy()
        elif method == "copy_module":
            new = copy_module.deepcopy(old)
        elif method == "pickle":
            new = pickle.loads(pickle.dumps(old))
        else:
            new = OrderBook.from_bytes(old_bytes)
        assert new is not old
        assert new.to_bytes() == old_bytes
        assert (new.max_depth, new.cross_policy, new.sequence) == (old.max_depth, old.cross_policy, old.sequence)
        # the copy is independent: changing it leaves the original as it was
        new.clear()
        assert old.to_bytes() == old_bytes
        self.book = OrderBook.from_bytes(old_bytes) if method == "bytes" else old.copy()

    # ------------------------------------------------------------ invariants

    @invariant()
    def sides_are_sorted_and_positive(self):
        for side in (BID, ASK):
            lv = self.book.levels(side, raw=True)
            assert lv.dtype == np.int64 and lv.shape == (len(lv), 2)
            px = lv[:, 0].tolist()
            if side == BID:
                assert all(a > b for a, b in zip(px, px[1:])), px
            else:
                assert all(a < b for a, b in zip(px, px[1:])), px
            assert all(q > 0 for q in lv[:, 1].tolist())
            assert all(p > 0 for p in px)
            if self.book.max_depth:
                assert len(lv) <= self.book.max_depth

    @invariant()
    def best_and_counts(self):
        b = self.book.levels(BID, raw=True).tolist()
        a = self.book.levels(ASK, raw=True).tolist()
        assert self.book.bid_count == len(b) and self.book.ask_count == len(a)
        assert len(self.book) == len(b) + len(a)
        assert self.book.best_bid == (tuple(map(float, b[0])) if b else None)
        assert self.book.best_ask == (tuple(map(float, a[0])) if a else None)
        # bbo is cached per generation: read after every kind of step, it must be current
        nan2 = (math.nan, math.nan)
        want = (tuple(map(float, b[0])) if b else nan2) + (tuple(map(float, a[0])) if a else nan2)
        got = self.book.bbo
        assert all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(got, want)), (got, want)
        if b:
            assert b[0][0] == max(p for p, _ in b)
        if a:
            assert a[0][0] == min(p for p, _ in a)
        crossed = bool(a and b and b[0][0] > a[0][0])
        assert self.book.is_crossed == crossed
        if self.book.cross_policy != "allow":
            assert not crossed

    @invariant()
    def equals_reference(self):
        assert self.book.levels(BID, raw=True).tolist() == [list(x) for x in self.ref.levels(BID)]
        assert self.book.levels(ASK, raw=True).tolist() == [list(x) for x in self.ref.levels(ASK)]
        assert self.book.last_update_id == self.ref.last_id
        stats = self.book.stats
        assert {k: stats[k] for k in COUNTERS} == self.ref.stats


class SequenceMachine(BookMachine):
    """The same machine, always with a sequence rule, and sequenced messages drawn more often."""

    @initialize(max_depth=st.one_of(st.none(), st.integers(1, 5)),
                policy=st.sampled_from(["raise", "repair", "allow"]),
                rule_name=st.sampled_from(["binance_spot", "binance_futures", "okx", "contiguous", "prev"]))
    def setup(self, max_depth, policy, rule_name):
        self._setup(max_depth, policy, rule_name)

    apply_sequenced_2 = BookMachine.apply_sequenced
    apply_sequenced_3 = BookMachine.apply_sequenced


TestBookMachine = BookMachine.TestCase
TestBookMachine.settings = settings.get_profile(PROFILE)
TestSequenceMachine = SequenceMachine.TestCase
TestSequenceMachine.settings = settings.get_profile(PROFILE)


# ---------------------------------------------------------------- regressions and rule examples

def test_reference_repair_rule_examples():
    """The repair rule on hand-checked cases, both books (guards the reference itself)."""
    for book, ref in [(OrderBook(1, 1, price_decimals=0, size_decimals=0, cross_policy="repair"),
                       RefBook(cross_policy="repair"))]:
        book.apply_snapshot([[10, 1], [9, 1], [8, 1]], [[11, 1], [12, 1], [13, 1]])
        ref.snapshot([(BID, 10, 1), (BID, 9, 1), (BID, 8, 1), (ASK, 11, 1), (ASK, 12, 1), (ASK, 13, 1)])
        # a bid through the ask 11 and level with 12: asks are stale, 11 goes (a locked
        # level, bid == ask, does not cross)
        book.update(BID, 12, 5)
        ref.update(BID, 12, 5)
        assert book.asks().tolist() == [[12.0, 1.0], [13.0, 1.0]]
        # a message whose last delta is an ask below the best bid: bids are stale
        book.apply_deltas([ASK, ASK], [14, 9], [1, 2])
        ref.apply([(ASK, 14, 1), (ASK, 9, 2)])
        assert book.bids().tolist() == [[9.0, 1.0], [8.0, 1.0]]
        assert book.levels(BID, raw=True).tolist() == [list(x) for x in ref.levels(BID)]
        assert book.levels(ASK, raw=True).tolist() == [list(x) for x in ref.levels(ASK)]
        assert book.stats["repaired_levels"] == ref.stats["repaired_levels"] == 3


@pytest.mark.parametrize("policy", ["raise", "repair", "allow"])
def test_crossed_snapshot_policy(policy):
    book = OrderBook(1, 1, price_decimals=0, size_decimals=0, cross_policy=policy)
    if policy == "allow":
        book.apply_snapshot([[12, 1]], [[11, 1]])
        assert book.is_crossed
    else:
        with pytest.raises(CrossedBookError):
            book.apply_snapshot([[12, 1]], [[11, 1]])
        assert len(book) == 0


def _check(state):
    state.sides_are_sorted_and_positive()
    state.best_and_counts()
    state.equals_reference()


def test_regression_update_invalid_side_counts_rejected():
    """Found by the machine: ``update(2, ...)`` raised without counting in stats["rejected"]."""
    state = BookMachine()
    state.setup(max_depth=None, policy="raise", rule_name=None)
    _check(state)
    state.update_invalid(bad=("side", 2), side=0)
    _check(state)
    state.teardown()


def test_regression_int_side_array_out_of_range_counts_rejected():
    """Found with the machine's numpy rule: an int64 sides array holding 2 was rejected in the
    pre-check without counting in stats["rejected"] (a uint8 array went to C and was counted)."""
    state = BookMachine()
    state.setup(max_depth=2, policy="repair", rule_name=None)
    state.apply_deltas_numpy(msg=[(0, 5, 1)], price_dtype=np.float64, side_dtype=np.int64, bad=("side", 2), at=0)
    _check(state)
    state.apply_deltas_numpy(msg=[(0, 5, 1)], price_dtype=np.float64, side_dtype=np.uint8, bad=("side", 2), at=1)
    _check(state)
