"""LiveBook (liqcore/feed/live_book.py): one book's state and the one stats type of live feeds and
replays. Every message is counted once: ``messages == snapshots + applied + stale_skipped + gaps +
handler_errors`` whatever path it took (decoded, native, mirrored), and a failed message leaves the
levels as they were."""

from __future__ import annotations

import zlib

import pytest

from liqcore import ChecksumError, InvalidDeltaError, OrderBook, SequenceGapError
from liqcore.feed.generic import mirror
from liqcore.feed.live_book import LiveBook


def _live(**kw):
    return LiveBook("x", "A/B", OrderBook(price_decimals=1, size_decimals=1, symbol="A/B", exchange="x", **kw))


def _balanced(st):
    return st.unaccounted == 0


def test_snapshot_update_skip_and_failures_count_once():
    live = _live(sequence="bitget")
    live.skip()                                                    # before the snapshot
    live.load_snapshot([["1.0", "1"]], [["2.0", "1"]], 10)
    assert live.apply([["1.0", "2"]], [], 11)
    assert not live.apply([["1.0", "3"]], [], 11)                  # the same message again: not applied
    with pytest.raises(SequenceGapError):
        live.apply([["1.0", "4"]], [], 9)                          # backwards
    assert live.mark_stale_by(SequenceGapError("gap")) == "gap"
    st = live.stats
    assert (st.messages, st.snapshots, st.applied, st.stale_skipped, st.gaps, st.resyncs) == (5, 1, 1, 2, 1, 1)
    assert _balanced(st) and live.state == "stale"
    assert live.book.level_strings("bid") == [["1.0", "2"]]


def test_mark_stale_by_classifies_once():
    live = _live()
    assert live.mark_stale_by(ChecksumError("x")) == "checksum"
    assert live.mark_stale_by(InvalidDeltaError("x")) == "error"
    assert (live.stats.checksum_failed, live.stats.handler_errors, live.stats.resyncs) == (1, 1, 2)


def test_check_counts_ok_and_absent_and_raises_on_mismatch():
    live = _live()
    live.load_snapshot([["1.0", "1.0"]], [["2.0", "1.0"]])
    good = zlib.crc32(b"2010" + b"1010")                           # Kraken: asks then bids, no dots
    assert live.check("kraken", str(good)) and not live.check("kraken", None)
    with pytest.raises(ChecksumError):
        live.check("kraken", str(good ^ 1))
    assert (live.stats.checksum_ok, live.stats.checksum_absent) == (1, 1)


def test_counted_is_the_native_paths_tally():
    live = _live()
    live.counted(True, True)
    live.counted(True, False)
    live.counted(True)                                             # applied, its checksum failed
    live.counted(False)
    live.counted(None)                                             # refused: the resync says why
    live.mark_stale_by(InvalidDeltaError("bad level"))
    st = live.stats
    assert (st.messages, st.applied, st.checksum_ok, st.checksum_absent, st.stale_skipped) == (5, 3, 1, 1, 1)
    assert _balanced(st)


def test_more_decimals_widen_the_book_exactly():
    live = _live()
    live.load_snapshot([["1.0", "1"]], [["2.0", "1"]], 1)
    assert live.apply([["1.05", "0.25"]], [])
    assert (live.book.price_decimals, live.book.size_decimals, live.stats.rescaled) == (2, 2, 1)
    assert live.book.level_strings("bid") == [["1.05", "0.25"], ["1.0", "1"]]


def test_mirror_counts_one_applied_message_and_takes_off_grid_floats_exactly():
    live = _live()
    mirror(live, {"bids": [[1.5, 2.0]], "asks": [[2.5, 1.0]]}, 0)
    mirror(live, {"bids": [[1.25, 0.125]], "asks": [[2.5, 1.0]]}, 0)   # off the 1-decimal grid
    st = live.stats
    assert (st.messages, st.applied, st.snapshots) == (2, 2, 0) and _balanced(st)
    assert live.book.level_strings("bid") == [["1.25", "0.125"]]
    with pytest.raises(InvalidDeltaError):
        mirror(live, {"bids": [[float("nan"), 1.0]], "asks": []}, 0)
    assert live.book.level_strings("bid") == [["1.25", "0.125"]]      # unchanged by the refusal
