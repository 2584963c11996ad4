"""Real recordings (cryptofeed captures, tests/data/cryptofeed/SOURCE.txt): every exchange
checksum must verify against the book maintained by liqcore.feed.checksummed, and the final
books must equal EXPECTED.json (recomputed independently of liqcore)."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from liqcore import ChecksumError, SequenceGapError
from liqcore.feed.checksummed import BitgetBooks, KrakenV1Books, OkxBooks
from liqcore.recordings import iter_cryptofeed

DATA = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"
EXPECTED = json.loads((DATA / "EXPECTED.json").read_text())

RECORDINGS = {"OKX.ws.1.0": OkxBooks, "BITGET.ws.1.0": BitgetBooks, "KRAKEN.ws.50.0": KrakenV1Books}


def _frames(name):
    return [r.raw for r in iter_cryptofeed(DATA / name) if r.kind == "recv"]


def _replay(name, **kw):
    feed = RECORDINGS[name](**kw)
    for raw in _frames(name):
        feed.on_frame(raw)
    return feed


@pytest.fixture(scope="module", params=sorted(RECORDINGS))
def replayed(request):
    return request.param, _replay(request.param)


def test_every_checksum_verifies(replayed):
    name, feed = replayed
    exp = EXPECTED[name]
    per = exp.get("per_instrument") or exp["per_pair"]
    assert sorted(feed.counts) == sorted(per)
    assert feed.failures == []
    for sym, c in feed.counts.items():
        e = per[sym]
        assert (c.checksum_failed, c.checksum_absent, c.skipped) == (0, 0, 0), sym
        assert c.snapshots == e["snapshot"] == 1, sym
        assert c.updates == e.get("update", e.get("update_msgs")), sym
        assert c.checksum_ok == e["checksum_ok"], sym


def test_totals_match_the_recordings_descriptions(replayed):
    name, feed = replayed
    ok = sum(c.checksum_ok for c in feed.counts.values())
    if name == "KRAKEN.ws.50.0":
        # Kraken sends no checksum with a snapshot: 10 snapshots + 4,269 checked updates
        assert sum(c.snapshots for c in feed.counts.values()) == 10
        assert sum(c.updates for c in feed.counts.values()) == ok == 4269
    elif name == "OKX.ws.1.0":
        assert ok == 290
    else:
        assert len(feed.counts) == 8


def test_final_books_equal_expected(replayed):
    name, feed = replayed
    for sym, e in EXPECTED[name]["final_state"].items():
        book = feed.books[sym]
        assert book.level_strings("bid", 1) == [e["best_bid"]], sym
        assert book.level_strings("ask", 1) == [e["best_ask"]], sym
        assert [book.bid_count, book.ask_count] == e["levels"], sym


def test_kraken_scales_are_the_wire_decimals():
    """Scales derived from the snapshot strings are Kraken's wire decimals, not AssetPairs'."""
    feed = _replay("KRAKEN.ws.50.0")
    wire = EXPECTED["KRAKEN.ws.50.0_wire_decimals"]
    assert {p: [b.price_decimals, b.size_decimals] for p, b in feed.books.items()} == wire
    assert all(b.max_depth == 1000 for b in feed.books.values())
    rest = EXPECTED["KRAKEN.0_pair_precisions"]
    assert any(wire[p][0] != rest[p]["pair_decimals"] for p in wire)


@pytest.mark.parametrize("name", ["KRAKEN.ws.50.0", "OKX.ws.1.0"])
def test_corrupting_a_level_fails_the_next_checksum(name):
    """Negative control: one wrong size in the top levels mid-replay is caught by the very
    next checksum of that instrument (the check is real, not vacuous)."""
    frames = _frames(name)
    feed = RECORDINGS[name]()
    half = len(frames) // 2
    for raw in frames[:half]:
        feed.on_frame(raw)
    assert feed.failures == []
    sym = max(feed.counts, key=lambda s: feed.counts[s].checksum_ok)
    book = feed.books[sym]
    # a level in the checksummed top that the instrument's next message does not overwrite
    nxt = next(raw for raw in frames[half:] if sym.encode() in raw and b"book" in raw)
    px, size = next(lv for lv in book.level_strings("bid", 10)[1:] if f'"{lv[0]}"'.encode() not in nxt)
    book.update("bid", px, f"{Decimal(size) + 1:f}")     # same wire decimals, different size
    before = feed.counts[sym].checksum_ok
    for raw in frames[half:]:
        if feed.on_frame(raw) == sym and feed.counts[sym].checksum_ok + feed.counts[sym].checksum_failed > before:
            break
    assert feed.counts[sym].checksum_failed == 1
    assert feed.counts[sym].checksum_ok == before
    assert feed.failures and feed.failures[0].startswith(sym)


def test_strict_raises_on_mismatch():
    feed = OkxBooks(strict=True)
    frames = _frames("OKX.ws.1.0")
    it = iter(frames)
    for raw in it:
        if feed.on_frame(raw) is not None:
            break
    sym = next(iter(feed.books))
    msg = {"arg": {"channel": "books", "instId": sym}, "action": "update",
           "data": [{"asks": [], "bids": [], "checksum": 12345}]}
    with pytest.raises(ChecksumError, match="exchange 12345"):
        feed.on_message(msg)
    assert feed.counts[sym].checksum_failed == 1


def _okx(action, bids, asks, checksum, **extra):
    return orjson.dumps({"arg": {"channel": "books", "instId": "X-USDT"}, "action": action,
                         "data": [{"bids": bids, "asks": asks, "checksum": checksum, **extra}]})


def _signed_crc(s):
    c = zlib.crc32(s.encode())
    return c - (1 << 32) if c >= 1 << 31 else c


def test_update_with_more_decimals_rescales_exactly():
    feed = OkxBooks()
    feed.on_frame(_okx("snapshot", [["10.5", "1", "0", "1"]], [["11", "2", "0", "1"]],
                       _signed_crc("10.5:1:11:2")))
    assert feed.books["X-USDT"].price_decimals == 1 and feed.books["X-USDT"].size_decimals == 0
    feed.on_frame(_okx("update", [["10.55", "0.250", "0", "1"]], [],
                       _signed_crc("10.55:0.250:11:2:10.5:1")))
    c = feed.counts["X-USDT"]
    assert (c.checksum_ok, c.checksum_failed, c.rescaled) == (2, 0, 1)
    assert feed.books["X-USDT"].level_strings("bid") == [["10.55", "0.250"], ["10.5", "1"]]


def test_okx_zero_checksum_is_absent_and_seq_ids_are_checked():
    feed = OkxBooks()
    feed.on_frame(_okx("update", [["1", "1"]], [], 0))      # before any snapshot: skipped
    feed.on_frame(_okx("snapshot", [["1", "1"]], [["2", "1"]], 0, seqId=10, prevSeqId=-1))
    feed.on_frame(_okx("update", [["1", "2"]], [], 0, seqId=15, prevSeqId=10))
    c = feed.counts["X-USDT"]
    assert (c.skipped, c.snapshots, c.updates, c.checksum_absent, c.checksum_ok) == (1, 1, 1, 2, 0)
    assert feed.books["X-USDT"].last_update_id == 15
    with pytest.raises(SequenceGapError):
        feed.on_frame(_okx("update", [["1", "3"]], [], 0, seqId=20, prevSeqId=16))
    assert feed.books["X-USDT"].level_strings("bid") == [["1", "2"]]


def test_kraken_two_dict_update_and_republish_flag():
    feed = KrakenV1Books()
    snap = [1, {"as": [["2.0", "1.00", "1.0"]], "bs": [["1.0", "1.00", "1.0"]]}, "book-10", "A/B"]
    assert feed.on_message(snap) == "A/B"
    # asks then bids, "r" marks a republished entry; checksum over "201.00" style digits
    want = zlib.crc32(b"20100" + b"19200" + b"10100")
    upd = [1, {"a": [["2.0", "1.00", "2.0", "r"]]}, {"b": [["1.9", "2.00", "2.0"]], "c": str(want)},
           "book-10", "A/B"]
    assert feed.on_message(upd) == "A/B"
    c = feed.counts["A/B"]
    assert (c.updates, c.checksum_ok, c.checksum_failed) == (1, 1, 0)
    assert feed.on_message([1, "heartbeat"]) is None
    assert feed.on_message({"event": "heartbeat"}) is None
