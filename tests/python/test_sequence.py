"""Every sequence rule and its edge cases through the Python API.

Rules (src/book.h, shared/research/exchange_protocols.md §3.1, §3.5, §4):
  binance_spot      skip u <= L; gap if U > L + 1 (U == L + 1 is accepted)
  binance_futures   skip u < L; first after a snapshot U <= L <= u, or pu == L; then pu == L
  okx               prevSeqId == L (heartbeat seqId == prevSeqId, reset seqId < prevSeqId); old -> skip
  contiguous        (Bybit u, Coinbase, Gate) skip last <= L; gap unless first == L + 1
  prev              (Deribit change ids) prev == L; skip last <= L
A skipped (stale) message returns False and counts in stats["stale"]; a gap raises
SequenceGapError (also a RuntimeError) with the book unchanged and counts in stats["gaps"].
"""

from __future__ import annotations

import pytest

from liqcore import OrderBook
from liqcore.errors import InvalidDeltaError, LiqError, SequenceGapError

BIDS = [["100", "1"], ["99", "2"]]
ASKS = [["101", "1"], ["102", "2"]]


def make(rule, update_id=100):
    b = OrderBook("1", "1", sequence=rule)
    b.apply_snapshot(BIDS, ASKS, update_id=update_id)
    return b


def state(b):
    return (b.levels(0, raw=True).tolist(), b.levels(1, raw=True).tolist(), b.last_update_id)


def assert_gap(b, **ids):
    before, stats = state(b), b.stats
    with pytest.raises(SequenceGapError) as ei:
        b.apply_levels([["100", "9"]], [], **ids)
    assert isinstance(ei.value, RuntimeError) and isinstance(ei.value, LiqError)
    assert "rule" in str(ei.value) and str(ids["last_id"]) in str(ei.value)
    assert state(b) == before
    after = b.stats
    assert after["gaps"] == stats["gaps"] + 1
    assert after["rejected"] == stats["rejected"] + 1
    assert after["messages"] == stats["messages"]


def assert_stale(b, **ids):
    before, stats = state(b), b.stats
    assert b.apply_levels([["100", "9"]], [], **ids) is False
    assert state(b) == before
    assert b.stats["stale"] == stats["stale"] + 1
    assert b.stats["messages"] == stats["messages"]


def assert_applied(b, **ids):
    assert b.apply_levels([["100", "9"]], [], **ids) is True
    assert b.last_update_id == ids["last_id"]
    assert b.levels(0, 1, raw=True).tolist() == [[100, 9]]


@pytest.mark.parametrize("name,rule", [("binance", "binance_spot"), ("binance_spot", "binance_spot"),
                                       ("binanceusdm", "binance_futures"), ("binancecoinm", "binance_futures"),
                                       ("okx", "okx"), ("bybit", "contiguous"), ("coinbase", "contiguous"),
                                       ("gate", "contiguous"), ("deribit", "prev"), ("Binance-Futures", "binance_futures")])
def test_rule_names(name, rule):
    assert OrderBook(sequence=name).sequence == rule


# ---------------------------------------------------------------- Binance spot

class TestBinanceSpot:
    def test_u_at_or_below_L_is_skipped(self):
        b = make("binance_spot")
        assert_stale(b, first_id=90, last_id=99)
        assert_stale(b, first_id=95, last_id=100)          # u == L

    def test_first_event_straddles_L(self):
        b = make("binance_spot")
        assert_applied(b, first_id=95, last_id=105)         # U <= L + 1 <= u

    def test_U_equal_L_plus_1_accepted(self):
        # real data (spot_ethusdt_20240808): L = ...512, first event U = ...513
        b = make("binance_spot")
        assert_applied(b, first_id=101, last_id=102)
        assert_applied(b, first_id=103, last_id=103)

    def test_gap(self):
        b = make("binance_spot")
        assert_gap(b, first_id=102, last_id=110)
        assert_applied(b, first_id=101, last_id=110)        # book unchanged: the right event still fits
        assert_gap(b, first_id=112, last_id=120)

    def test_first_id_required(self):
        b = make("binance_spot")
        with pytest.raises(InvalidDeltaError):
            b.apply_levels([["100", "9"]], [], last_id=101)

    def test_no_snapshot_id_is_a_gap(self):
        b = OrderBook("1", "1", sequence="binance_spot")
        assert_gap(b, first_id=1, last_id=2)
        b.apply_snapshot(BIDS, ASKS)                        # snapshot without an id
        assert_gap(b, first_id=1, last_id=2)
        b.apply_snapshot(BIDS, ASKS, update_id=1)
        assert_applied(b, first_id=2, last_id=2)
        b.clear()                                           # clear forgets the id
        assert b.last_update_id is None
        assert_gap(b, first_id=3, last_id=3)


# ---------------------------------------------------------------- Binance futures

class TestBinanceFutures:
    def test_first_event_after_snapshot(self):
        b = make("binance_futures")
        assert_stale(b, first_id=80, last_id=99, prev_id=79)          # u < L dropped
        assert_gap(b, first_id=101, last_id=110, prev_id=99)          # U > L and pu != L: spot would accept
        assert_applied(b, first_id=100, last_id=110, prev_id=99)      # U <= L <= u (U == L)

    def test_first_event_u_equal_L(self):
        b = make("binance_futures")
        assert_applied(b, first_id=90, last_id=100, prev_id=89)       # u == L is not stale after a snapshot

    def test_then_pu_continuity(self):
        b = make("binance_futures")
        assert_applied(b, first_id=95, last_id=110, prev_id=94)
        assert_gap(b, first_id=111, last_id=120, prev_id=109)         # pu != L
        assert_stale(b, first_id=100, last_id=110, prev_id=99)        # u == L (duplicate) now stale
        assert_stale(b, first_id=90, last_id=105, prev_id=89)
        assert_applied(b, first_id=140, last_id=150, prev_id=110)     # ids need not be contiguous
        assert_applied(b, first_id=151, last_id=151, prev_id=150)

    def test_snapshot_resets_first_event_rule(self):
        b = make("binance_futures")
        assert_applied(b, first_id=95, last_id=110, prev_id=94)
        b.apply_snapshot(BIDS, ASKS, update_id=200)
        assert_gap(b, first_id=202, last_id=210, prev_id=199)
        assert_applied(b, first_id=199, last_id=210, prev_id=198)

    def test_snapshot_on_an_event_boundary(self):
        # the snapshot's L is the u of an event never received: the next event has U > L and
        # pu == L, and continues the book exactly
        b = make("binance_futures")
        assert_applied(b, first_id=105, last_id=110, prev_id=100)
        assert_gap(b, first_id=111, last_id=120, prev_id=109)

    def test_prev_id_required(self):
        b = make("binance_futures")
        with pytest.raises(InvalidDeltaError):
            b.apply_levels([["100", "9"]], [], first_id=95, last_id=110)


# ---------------------------------------------------------------- OKX

class TestOKX:
    """The documented example: snapshot seqId=10; (10->15); heartbeat (15->15); reset (15->3); (3->5)."""

    def test_documented_sequence(self):
        b = make("okx", update_id=10)
        assert_applied(b, prev_id=10, last_id=15)
        before = state(b)
        assert b.apply_levels([], [], prev_id=15, last_id=15) is True          # heartbeat, empty levels
        assert state(b) == before
        assert_applied(b, prev_id=15, last_id=3)                               # reset: seqId < prevSeqId
        assert_applied(b, prev_id=3, last_id=5)

    def test_duplicate_and_old_are_stale(self):
        b = make("okx", update_id=10)
        assert_applied(b, prev_id=10, last_id=15)
        assert_stale(b, prev_id=10, last_id=15)                                # duplicate
        assert_stale(b, prev_id=5, last_id=10)                                 # older
        assert_stale(b, prev_id=12, last_id=12)                                # old heartbeat

    def test_gap(self):
        b = make("okx", update_id=10)
        assert_gap(b, prev_id=11, last_id=20)
        assert_gap(b, prev_id=9, last_id=20)               # overlaps L but does not continue it
        assert_gap(b, prev_id=20, last_id=20)              # heartbeat from the future
        assert_applied(b, prev_id=10, last_id=20)

    def test_snapshot_prev_minus_one(self):
        # snapshots carry prevSeqId = -1; they go through apply_snapshot with update_id=seqId
        b = OrderBook("1", "1", sequence="okx")
        b.apply_snapshot(BIDS, ASKS, update_id=10)
        assert b.last_update_id == 10
        assert_applied(b, prev_id=10, last_id=11)

    def test_prev_id_required(self):
        b = make("okx", update_id=10)
        with pytest.raises(InvalidDeltaError):
            b.apply_levels([["100", "9"]], [], last_id=11)


# ---------------------------------------------------------------- contiguous (Bybit u, Coinbase, Gate)

class TestContiguous:
    @pytest.mark.parametrize("rule", ["bybit", "coinbase", "gate", "contiguous", "krakenfutures"])
    def test_single_ids(self, rule):
        b = make(rule, update_id=7)
        assert_applied(b, last_id=8)
        assert_stale(b, last_id=8)
        assert_stale(b, last_id=3)
        assert_gap(b, last_id=10)
        assert_applied(b, last_id=9)

    def test_first_and_last(self):
        b = make("gate", update_id=7)
        assert_applied(b, first_id=8, last_id=12)          # U == L + 1
        assert_gap(b, first_id=14, last_id=20)
        assert_gap(b, first_id=12, last_id=20)             # overlap is not continuation
        assert_stale(b, first_id=10, last_id=12)
        assert_applied(b, first_id=13, last_id=20)

    def test_bybit_restart_snapshot_u_1(self):
        # Bybit: after a backend restart a snapshot with u=1 overwrites the book
        b = make("bybit", update_id=5000)
        b.apply_snapshot([["90", "1"]], [["191", "1"]], update_id=1)
        assert b.last_update_id == 1
        assert_applied(b, last_id=2)


# ---------------------------------------------------------------- prev (Deribit)

class TestPrev:
    def test_change_ids(self):
        b = make("deribit", update_id=1000)
        assert_applied(b, prev_id=1000, last_id=1003)
        assert_stale(b, prev_id=1000, last_id=1003)
        assert_stale(b, prev_id=990, last_id=995)
        assert_gap(b, prev_id=1004, last_id=1010)
        assert_applied(b, prev_id=1003, last_id=1010)

    def test_prev_id_required(self):
        b = make("deribit", update_id=1000)
        with pytest.raises(InvalidDeltaError):
            b.apply_levels([["100", "9"]], [], last_id=1001)


# ---------------------------------------------------------------- interaction with other errors

def test_invalid_message_with_good_ids_does_not_advance_id():
    b = make("binance_spot")
    before, rej = state(b), b.stats["rejected"]
    with pytest.raises(InvalidDeltaError):
        b.apply_levels([["100", "-1"]], [], first_id=101, last_id=101)
    assert state(b) == before and b.stats["rejected"] == rej + 1
    assert_applied(b, first_id=101, last_id=101)


def test_crossed_message_with_good_ids_does_not_advance_id():
    from liqcore.errors import CrossedBookError

    b = make("contiguous", update_id=7)
    before = state(b)
    with pytest.raises(CrossedBookError):
        b.apply_levels([["105", "1"]], [], last_id=8)
    assert state(b) == before
    assert_applied(b, last_id=8)


def test_counters_accumulate():
    b = make("bybit", update_id=1)
    assert_applied(b, last_id=2)
    for _ in range(3):
        assert_stale(b, last_id=2)
    for _ in range(2):
        assert_gap(b, last_id=9)
    s = b.stats
    assert (s["stale"], s["gaps"], s["rejected"], s["snapshots"], s["messages"]) == (3, 2, 2, 1, 2)


def test_sequence_setter_and_ids_without_rule():
    b = OrderBook("1", "1")
    b.apply_snapshot(BIDS, ASKS, update_id=5)
    with pytest.raises(InvalidDeltaError, match="no sequence rule"):
        b.apply_levels([["100", "9"]], [], last_id=6)
    b.sequence = "bybit"
    assert_applied(b, last_id=6)
    b.sequence = None
    assert b.sequence is None
    assert b.apply_levels([["100", "8"]], []) is True       # unsequenced: ids not checked
    assert b.last_update_id == 6
