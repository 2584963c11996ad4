"""ccxt's own order-book test, run unmodified against liqcore through an adapter.

``ccxt.pro.test.base.test_order_book.test_ws_order_book`` ships in the ccxt wheel and
binds ``OrderBook``, ``IndexedOrderBook`` and ``CountedOrderBook`` as module globals.
We replace ``OrderBook`` with :class:`LiqOrderBook`, a float-view, ccxt-shaped object
whose levels live in a :class:`liqcore.OrderBook`; ccxt's assertions then run against
liqcore's snapshot, update, delete-of-absent-level and ordering rules.

``IndexedOrderBook`` (L3: levels keyed by order id) and ``CountedOrderBook`` (levels
carry an order count; a count of 0 deletes) stay ccxt's own classes: liqcore's
``OrderBook`` is an L2 price -> size book and has neither concept, so there is nothing of
ours for those parts of the test to exercise.

What the adapter maps (ccxt semantics -> liqcore):
  * construction / ``reset(snapshot)``: ``apply_snapshot`` (a repeated price keeps its last
    size and size 0 drops the level, which is ccxt's "deltas applied in order");
  * ``side.store(price, size)`` / ``store_array`` / ``storeArray``: ``update`` (0 deletes,
    deleting an absent level is a no-op);
  * ``limit()``: ccxt enforces depth only here, and trimmed levels are gone for good:
    the levels beyond ``depth`` are deleted from the liqcore book with one
    ``apply_deltas`` message;
  * reads (``len``, indexing, iteration, ``==`` with plain lists/dicts): copies of
    ``levels()``, best first, as ``[price, size]`` float lists.
The liqcore book uses cross_policy="allow" because ccxt's cache never checks crossing.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("ccxt")

import ccxt.pro.test.base.test_order_book as ccxt_test  # noqa: E402
from ccxt import Exchange  # noqa: E402

from liqcore import OrderBook as LiqBook  # noqa: E402


class LiqSide:
    """One side of a :class:`LiqOrderBook`: a live, read-only list view plus ccxt's writers."""

    def __init__(self, owner: "LiqOrderBook", side: int):
        self._owner = owner
        self._side = side

    # ---- ccxt writers
    def store(self, price, size):
        self._owner.book.update(self._side, float(price), float(size))

    def store_array(self, delta):
        self.store(delta[0], delta[1])

    storeArray = store_array

    def limit(self):
        book, depth = self._owner.book, self._owner.depth
        extra = book.levels(self._side)[depth:]
        if len(extra):
            book.apply_deltas(self._side, extra[:, 0].copy(), np.zeros(len(extra)))

    # ---- reads
    def _rows(self):
        return self._owner.book.levels(self._side).tolist()

    def __len__(self):
        return self._owner.book.bid_count if self._side == 0 else self._owner.book.ask_count

    def __getitem__(self, i):
        return self._rows()[i]

    def __iter__(self):
        return iter(self._rows())

    def __eq__(self, other):
        if isinstance(other, LiqSide):
            other = other._rows()
        return isinstance(other, list) and self._rows() == other

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return repr(self._rows())


class LiqOrderBook(dict):
    """ccxt ``OrderBook`` look-alike backed by a liqcore book (see module docstring)."""

    def __init__(self, snapshot=None, depth=None):
        super().__init__()
        self.depth = depth or sys.maxsize
        self.book = LiqBook(cross_policy="allow")
        self["bids"] = LiqSide(self, 0)
        self["asks"] = LiqSide(self, 1)
        self.reset(snapshot or {})

    def reset(self, snapshot=None):
        snapshot = snapshot or {}
        self.book.apply_snapshot([[float(p), float(q)] for p, q, *_ in snapshot.get("bids", [])],
                                 [[float(p), float(q)] for p, q, *_ in snapshot.get("asks", [])])
        self["timestamp"] = snapshot.get("timestamp")
        self["datetime"] = Exchange.iso8601(self["timestamp"])
        self["nonce"] = snapshot.get("nonce")
        self["symbol"] = snapshot.get("symbol")

    def limit(self):
        self["asks"].limit()
        self["bids"].limit()
        return self


class BrokenLimitBook(LiqOrderBook):
    """Negative control: ``limit()`` forgets to trim."""

    def limit(self):
        return self


class DeleteIgnoringBook(LiqOrderBook):
    """Negative control: deltas of size 0 are ignored on store (stores go to the real book)."""

    def __init__(self, snapshot=None, depth=None):
        super().__init__(snapshot, depth)
        for name in ("bids", "asks"):
            side = self[name]
            real = side.store
            side.store = lambda p, q, real=real: None if float(q) == 0 else real(p, q)


def test_ccxt_order_book_suite_against_liqcore(monkeypatch):
    created = []

    class Tracking(LiqOrderBook):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            created.append(self)

    monkeypatch.setattr(ccxt_test, "OrderBook", Tracking)
    ccxt_test.test_ws_order_book()
    # the adapter really carried the L2 part of the test: books were built and written
    assert len(created) >= 4
    assert sum(b.book.stats["messages"] for b in created) >= 10
    assert any(b.book.stats["levels"] for b in created)


def test_ccxt_order_book_suite_unpatched_still_passes():
    """The suite itself passes on ccxt's own classes (so a failure above is ours)."""
    assert ccxt_test.OrderBook is not LiqOrderBook
    ccxt_test.test_ws_order_book()


@pytest.mark.parametrize("broken", [BrokenLimitBook, DeleteIgnoringBook])
def test_negative_control_broken_adapter_fails(monkeypatch, broken):
    monkeypatch.setattr(ccxt_test, "OrderBook", broken)
    with pytest.raises(AssertionError):
        ccxt_test.test_ws_order_book()


def test_adapter_matches_ccxt_on_a_random_walk():
    """Beyond ccxt's fixed cases: the same random stores and limits on ccxt's OrderBook and
    the adapter give equal books (prices on a 0.1 grid, sizes with 3 decimals)."""
    rng = np.random.default_rng(7)
    snap = {"bids": [[round(100 - 0.1 * i, 1), 1.0] for i in range(20)],
            "asks": [[round(100.1 + 0.1 * i, 1), 1.0] for i in range(20)], "timestamp": 1, "nonce": 3}
    theirs = ccxt_test.OrderBook(snap, 10)
    ours = LiqOrderBook(snap, 10)
    for step in range(400):
        side = "bids" if rng.random() < 0.5 else "asks"
        base = 95 if side == "bids" else 100.1
        price = round(base + 0.1 * int(rng.integers(0, 50)), 1)
        size = 0.0 if rng.random() < 0.3 else round(float(rng.integers(1, 5000)) / 1000, 3)
        theirs[side].store(price, size)
        ours[side].store(price, size)
        if step % 7 == 0:
            theirs.limit()
            ours.limit()
            assert ours == theirs
    theirs.limit()
    ours.limit()
    assert ours == dict(theirs)
