"""Order-flow imbalance maintained by the book (OrderBook.track_ofi / ofi; src/flow.c).

Worked examples of shared/research/analytics.md: §2.3 event OFI (states (100.0,10|100.5,8)
... -> e = +3, +3, +9, -4, -2, OFI 9) and §2.4 multi-level OFI (L0 -> L1 = [2, 10],
L1 -> L2 = [11, 22]). Then a property test: for random messages, the C sums equal e_n
recomputed in Python from the top-of-book states read before and after every call.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import CrossedBookError, InvalidDeltaError


def test_event_ofi_worked_example():
    b = OrderBook("0.5", "1")
    b.apply_snapshot([["100.0", "10"], ["99.5", "1"]], [["100.5", "8"], ["101.0", "6"]])
    b.track_ofi()
    seen = []
    b.update("bid", "100.0", "13")                                   # +3
    seen.append(b.ofi()[0])
    b.update("ask", "100.5", "5")                                    # +3
    seen.append(b.ofi()[0])
    b.apply_levels([["100.5", "4"]], [["100.5", "0"]])               # bid up +4, ask up +5: +9
    seen.append(b.ofi()[0])
    b.apply_levels([["100.5", "0"], ["100.0", "9"]], [])             # bid down: -4
    seen.append(b.ofi()[0])
    b.update("ask", "100.5", "2")                                    # ask down: -2
    seen.append(b.ofi()[0])
    assert seen == [3, 6, 15, 11, 9]
    assert b.ofi_events == 5
    assert b.ofi(take=True).tolist() == [9.0]                        # the window ends
    assert b.ofi().tolist() == [0.0] and b.ofi_events == 0


def test_multi_level_worked_example():
    b = OrderBook("0.5", "1")
    b.apply_snapshot([["100.0", "10"], ["99.5", "20"]], [["100.5", "8"], ["101.0", "15"]])
    b.track_ofi(2)
    b.apply_levels([["100.0", "12"], ["99.5", "25"]], [["101.0", "10"]])
    assert b.ofi(take=True).tolist() == [2.0, 10.0]
    b.apply_levels([["99.5", "0"], ["100.5", "3"]], [["100.5", "0"], ["101.5", "30"]])
    assert b.ofi(take=True).tolist() == [11.0, 22.0]


def test_rules_snapshot_rejections_off_and_copies():
    b = OrderBook("1", "0.001")
    assert b.ofi_levels == 0 and b.ofi().shape == (0,)
    b.track_ofi(3)
    assert b.ofi_levels == 3 and b.ofi().tolist() == [0.0, 0.0, 0.0]
    b.update(0, 100.0, 0.5)                                          # a bid appears: +0.5 (sizes in base)
    assert b.ofi()[0] == pytest.approx(0.5)
    b.apply_snapshot([["90", "5"]], [["110", "7"]])                   # a resync is not flow
    assert b.ofi()[0] == pytest.approx(0.5) and b.ofi_events == 1
    with pytest.raises(CrossedBookError):
        b.apply_levels([["120", "1"]], [])
    with pytest.raises(InvalidDeltaError):
        b.update(0, "nan", "1")
    assert b.ofi_events == 1                                         # rejected calls add nothing
    c = b.copy()
    c.update(0, 90.0, 6.0)
    assert c.ofi()[0] == pytest.approx(1.5) and b.ofi()[0] == pytest.approx(0.5)
    b.clear()
    b.update(1, 110.0, 3.0)                                          # an ask appears: -3
    assert b.ofi()[0] == pytest.approx(-2.5)
    b.track_ofi(0)
    assert b.ofi_levels == 0
    for bad in (-1, 11):
        with pytest.raises(ValueError):
            b.track_ofi(bad)


def _state(book, m):
    """Top m (price, size) units per side; missing levels as -inf/+inf with size 0."""
    out = []
    for side, pad in ((0, -np.inf), (1, np.inf)):
        lv = book.levels(side, m, raw=True).tolist()
        out.append([(float(p), q) for p, q in lv] + [(pad, 0)] * (m - len(lv)))
    return out


def _e(prev, cur, m):
    e = []
    for k in range(m):
        (pb0, qb0), (pb, qb) = prev[0][k], cur[0][k]
        (pa0, qa0), (pa, qa) = prev[1][k], cur[1][k]
        e.append((qb if pb >= pb0 else 0) - (qb0 if pb <= pb0 else 0)
                 - (qa if pa <= pa0 else 0) + (qa0 if pa >= pa0 else 0))
    return e


message = st.lists(st.tuples(st.integers(0, 1), st.integers(90, 110), st.integers(0, 5)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.lists(message, min_size=1, max_size=25))
def test_matches_e_n_recomputed_from_states(m, msgs):
    b = OrderBook("1", "1", cross_policy="allow")
    b.apply_snapshot([["99", "3"], ["97", "2"]], [["101", "4"], ["104", "1"]])
    b.track_ofi(m)
    want = [0] * m
    prev = _state(b, m)
    events = 0
    for msg in msgs:
        sides = np.array([s for s, _, _ in msg], np.uint8)
        prices = np.array([p for _, p, _ in msg], np.float64)
        sizes = np.array([q for _, _, q in msg], np.float64)
        b.apply_deltas(sides, prices, sizes)
        cur = _state(b, m)
        want = [w + e for w, e in zip(want, _e(prev, cur, m))]
        prev = cur
        events += 1
    assert b.ofi().tolist() == [float(w) for w in want]
    assert b.ofi_events == events
