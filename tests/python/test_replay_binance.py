"""Replay of the bundled real Binance recording, verified against independent ground truth.

``liqcore/data/spot_btcusdt_20240808.gz`` (hftbacktest, MIT; see tests/data/binance/SOURCE.txt)
carries a bookTicker stream: after the depth event whose ``u`` equals a ticker's ``u`` the
book's best bid/ask price and size must equal the ticker exactly. EXPECTED.json holds the
counts and the final book (with its SHA-256) of an independent replay.

Negative controls prove the checks can fail: one depth event removed must produce a gap
(the recording has a single snapshot, so the book stays unsynced and the later
checkpoints are not silently "passed"); one level size altered must fail checkpoints.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from liqcore import OrderBook
from liqcore.replay import BUNDLED_RECORDING, BinanceReplayer, replay_binance

EXPECTED = json.loads((Path(__file__).parents[1] / "data" / "binance" / "EXPECTED.json").read_text())


def book_sha256(book) -> str:
    """EXPECTED's ``final_book_sha256_recipe``."""
    def fmt(prefix, rows):
        return "|".join(f"{prefix}{Decimal(p).normalize()}:{Decimal(q).normalize()}" for p, q in rows
                        if Decimal(q) != 0)
    s = fmt("B", book.level_strings(0)) + "||" + fmt("A", book.level_strings(1))
    return hashlib.sha256(s.encode()).hexdigest()


def book_sha256_units(book) -> str:
    """The same digest from raw int64 units (no strings kept by the book involved)."""
    ps, qs = book.price_decimals, book.size_decimals

    def fmt(prefix, side):
        return "|".join(f"{prefix}{Decimal(int(p)).scaleb(-ps).normalize()}:{Decimal(int(q)).scaleb(-qs).normalize()}"
                        for p, q in book.levels(side, raw=True))
    s = fmt("B", 0) + "||" + fmt("A", 1)
    return hashlib.sha256(s.encode()).hexdigest()


@pytest.fixture(scope="module")
def replayed():
    return replay_binance()


def test_bundled_recording_is_the_expected_file():
    assert BUNDLED_RECORDING.name == EXPECTED["file"]
    with gzip.open(BUNDLED_RECORDING, "rt") as f:
        assert sum(1 for _ in f) == EXPECTED["lines"]


def test_counts(replayed):
    book, rep = replayed
    assert rep.symbol == "BTCUSDT"
    assert rep.frames == EXPECTED["lines"]
    assert rep.depth_events == EXPECTED["streams"]["depth@100ms"]
    assert rep.snapshots == EXPECTED["streams"]["REST_snapshot"] == 1
    assert rep.applied == EXPECTED["applied"] == 3449
    assert rep.skipped == EXPECTED["dropped_before_snapshot"] == 2
    assert rep.gaps == 0
    assert book.stats["gaps"] == 0


def test_every_bbo_checkpoint_holds(replayed):
    _, rep = replayed
    assert rep.failures == []
    assert rep.checkpoints_failed == 0
    assert rep.checkpoints_ok == EXPECTED["bbo_checkpoints_match"] == 564


def test_final_book(replayed):
    book, _ = replayed
    assert book.last_update_id == EXPECTED["last_applied_u"]
    assert book.level_strings(0, 1) == [EXPECTED["final_best_bid"]]
    assert book.level_strings(1, 1) == [EXPECTED["final_best_ask"]]
    assert [book.bid_count, book.ask_count] == EXPECTED["final_levels_bids_asks"]
    assert book_sha256(book) == EXPECTED["final_book_sha256"]
    assert book_sha256_units(book) == EXPECTED["final_book_sha256"]


# ---------------------------------------------------------------- negative controls

def _records():
    with gzip.open(BUNDLED_RECORDING, "rb") as f:
        return f.read().splitlines()


def _write(tmp_path, lines, name):
    p = tmp_path / name
    with gzip.open(p, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return p


def _split(line):
    ts, raw = line.split(b" ", 1)
    return ts, orjson.loads(raw)


def test_unmodified_copy_replays_identically(tmp_path):
    """The rewrite helper itself changes nothing (so the controls below test only their edit)."""
    book, rep = replay_binance(_write(tmp_path, _records(), "same.gz"))
    assert (rep.applied, rep.checkpoints_ok, rep.checkpoints_failed, rep.gaps) == (3449, 564, 0, 0)
    assert book_sha256(book) == EXPECTED["final_book_sha256"]


def test_removed_depth_event_is_a_gap_not_a_pass(tmp_path):
    lines = _records()
    snap_at = next(i for i, ln in enumerate(lines) if b'"lastUpdateId"' in ln)
    depth = [i for i, ln in enumerate(lines) if b"@depth" in ln and i > snap_at]
    victim = depth[len(depth) // 2]
    path = _write(tmp_path, lines[:victim] + lines[victim + 1:], "gap.gz")
    book, rep = replay_binance(path)
    assert rep.gaps == 1
    assert book.stats["gaps"] == 1
    # the only snapshot is before the gap: the book is cleared and waits for one that never comes
    assert len(book) == 0 and book.last_update_id is None
    assert rep.applied < EXPECTED["applied"] - 1
    # checkpoints after the gap are not silently counted as ok
    assert rep.checkpoints_ok < EXPECTED["bbo_checkpoints_match"]
    assert rep.checkpoints_failed == 0


def test_removed_depth_event_resyncs_on_a_later_snapshot(tmp_path):
    """Same gap, plus a later REST snapshot (built from a clean replay's book at a later
    event X and inserted right after that event): the replay resynchronises and ends on
    exactly the expected final book, with every checked checkpoint ok."""
    lines = _records()
    snap_at = next(i for i, ln in enumerate(lines) if b'"lastUpdateId"' in ln)
    depth = [i for i, ln in enumerate(lines) if b"@depth" in ln and i > snap_at]
    victim, later = depth[len(depth) // 2], depth[len(depth) // 2 + 50]
    ts_x, ev_x = _split(lines[later])
    x = int(ev_x["data"]["u"])
    captured = {}

    def capture(book, ts_ns, frame):
        if book.last_update_id == x:
            captured["bids"], captured["asks"] = book.level_strings(0), book.level_strings(1)

    replay_binance(_write(tmp_path, lines, "clean.gz"), on_update=capture)
    assert captured, "the clean replay never reached the chosen event"
    snapshot = ts_x + b" " + orjson.dumps({"lastUpdateId": x, **captured})
    edited = lines[:victim] + lines[victim + 1:later + 1] + [snapshot] + lines[later + 1:]
    book, rep = replay_binance(_write(tmp_path, edited, "gap_resync.gz"))
    assert rep.gaps == 1 and rep.snapshots == 2
    assert rep.checkpoints_failed == 0
    assert 0 < rep.checkpoints_ok < EXPECTED["bbo_checkpoints_match"]   # those in the gap are not checked
    assert book.last_update_id == EXPECTED["last_applied_u"]
    assert book_sha256(book) == EXPECTED["final_book_sha256"]


def test_altered_level_size_fails_checkpoints(tmp_path):
    lines = _records()
    tickers = {}
    for ln in lines:
        if b"@bookTicker" in ln:
            d = _split(ln)[1]["data"]
            tickers[int(d["u"])] = d
    snap_at = next(i for i, ln in enumerate(lines) if b'"lastUpdateId"' in ln)
    for i in range(snap_at + 1, len(lines)):
        if b"@depth" not in lines[i]:
            continue
        ts, msg = _split(lines[i])
        d = msg["data"]
        t = tickers.get(int(d["u"]))
        if t is None:
            continue
        for lvl in d["b"]:
            if lvl[0] == t["b"] and lvl[1] == t["B"]:
                lvl[1] = str(Decimal(lvl[1]) + Decimal("0.00001"))
                break
        else:
            continue
        lines[i] = ts + b" " + orjson.dumps(msg)
        break
    else:
        pytest.fail("no depth event sets the ticker's best bid")
    book, rep = replay_binance(_write(tmp_path, lines, "altered.gz"))
    assert rep.gaps == 0
    assert rep.checkpoints_failed >= 1
    assert rep.failures
    assert rep.checkpoints_ok + rep.checkpoints_failed == EXPECTED["bbo_checkpoints_match"]


def _depth(first, last, bids=(), asks=()):
    return {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "s": "BTCUSDT", "U": first, "u": last,
                                                      "b": [list(b) for b in bids], "a": [list(a) for a in asks]}}


def test_a_gap_in_the_buffer_a_snapshot_replays_is_counted_not_raised():
    """Every event is accounted for: applied, skipped, a gap, rejected, or still waiting (unsynced)."""
    r = BinanceReplayer(OrderBook("0.01", "0.00001"))
    r.on_message(_depth(1, 5, bids=[("100.00", "1")]))
    r.on_message(_depth(7, 9, bids=[("100.01", "1")]))             # 6 is missing
    assert r.unsynced == 2
    r.on_message({"lastUpdateId": 3, "bids": [["99.00", "1"]], "asks": [["101.00", "1"]]})
    rep = r.report
    assert (rep.gaps, rep.skipped, rep.applied, r.unsynced, r.synced) == (1, 1, 0, 0, False)
    r.on_message(_depth(10, 11, asks=[("100.50", "1")]))
    r.on_message({"lastUpdateId": 10, "bids": [["99.00", "1"]], "asks": [["101.00", "1"]]})
    r.on_message(_depth(12, 12, bids=[("102.00", "1")]))           # would cross the ask at 100.50
    r.on_message(_depth(12, 12, bids=[("99.50", "2")]))
    assert (rep.applied, rep.rejected, rep.depth_events) == (2, 1, 5)
    assert rep.depth_events == rep.applied + rep.skipped + rep.gaps + rep.rejected + r.unsynced
    assert r.book.level_strings("bid", 1) == [["99.50", "2"]]
