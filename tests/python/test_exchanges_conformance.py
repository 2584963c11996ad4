"""Conformance of the venue protocols (liqcore.exchanges) on real recordings, network-free.

Every protocol with a real recording (cryptofeed captures, tests/data/cryptofeed/SOURCE.txt) is
driven frame by frame through the replay's driver (the same protocol classes the live ccxt.pro
adapters drive): every exchange checksum must verify, the per-instrument counts and the final
books must equal EXPECTED.json (recomputed independently of liqcore), through the decoded path and
through the native (C) frame path where the venue has one. Negative controls prove the checks are
real; hostile frames never escape the protocol nor corrupt a book.
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.exchanges.bitget import BitgetProtocol
from liqcore.exchanges.kraken import KrakenProtocol, parse_v1_book
from liqcore.exchanges.okx import OkxProtocol
from liqcore.recordings import iter_cryptofeed
from liqcore.replay.books import ProtocolReplay

DATA = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"
EXPECTED = json.loads((DATA / "EXPECTED.json").read_text())

#: recording -> the protocol that speaks it
RECORDINGS = {"OKX.ws.1.0": OkxProtocol, "BITGET.ws.1.0": BitgetProtocol, "KRAKEN.ws.50.0": KrakenProtocol}
#: (recording, native frame path) pairs: OKX has a C frame path, the others decode every frame
PATHS = [("OKX.ws.1.0", True), ("OKX.ws.1.0", False), ("BITGET.ws.1.0", False), ("KRAKEN.ws.50.0", False)]


def _frames(name):
    return [r.raw for r in iter_cryptofeed(DATA / name) if r.kind == "recv"]


def _replay(name, fast_path=False, frames=None):
    r = ProtocolReplay(RECORDINGS[name], fast_path=fast_path)
    for raw in frames if frames is not None else _frames(name):
        r.on_frame(raw)
    return r


@pytest.fixture(scope="module", params=PATHS, ids=[f"{n}-{'c' if f else 'decoded'}" for n, f in PATHS])
def replayed(request):
    name, fast = request.param
    return name, _replay(name, fast)


def test_every_checksum_verifies(replayed):
    name, r = replayed
    exp = EXPECTED[name]
    per = exp.get("per_instrument") or exp["per_pair"]
    assert sorted(r.books) == sorted(per)
    assert r.failures == {} and r.undecodable == 0
    for sym, live in r.books.items():
        c, e = live.stats, per[sym]
        assert live.state == "live", sym
        assert (c.checksum_failed, c.checksum_absent, c.stale_skipped, c.gaps, c.handler_errors) == (0, 0, 0, 0, 0), sym
        assert c.snapshots == e["snapshot"] == 1, sym
        assert c.applied == e.get("update", e.get("update_msgs")), sym
        assert c.checksum_ok == e["checksum_ok"], sym
        assert c.messages == c.snapshots + c.applied, sym


def test_totals_match_the_recordings_descriptions(replayed):
    name, r = replayed
    ok = sum(live.stats.checksum_ok for live in r.books.values())
    if name == "KRAKEN.ws.50.0":
        # Kraken sends no checksum with a snapshot: 10 snapshots + 4,269 checked updates
        assert sum(live.stats.snapshots for live in r.books.values()) == 10
        assert sum(live.stats.applied for live in r.books.values()) == ok == 4269
    elif name == "OKX.ws.1.0":
        assert ok == 290
        assert (r.protocol.fast_frames > 0) == r.protocol.fast_path
    else:
        assert len(r.books) == 8


def test_final_books_equal_expected(replayed):
    name, r = replayed
    for sym, e in EXPECTED[name]["final_state"].items():
        book = r.books[sym].book
        assert book.level_strings("bid", 1) == [e["best_bid"]], sym
        assert book.level_strings("ask", 1) == [e["best_ask"]], sym
        assert [book.bid_count, book.ask_count] == e["levels"], sym


def test_replay_reports_account_for_every_message(replayed):
    name, r = replayed
    reports = r.reports()
    assert len(reports) == len(r.books)
    for rep in reports:
        assert rep.ok and rep.unaccounted == 0, rep
        assert rep.checksums_ok == r.books[rep.symbol].stats.checksum_ok


def test_the_two_okx_paths_build_identical_books():
    fast, decoded = _replay("OKX.ws.1.0", True), _replay("OKX.ws.1.0", False)
    assert fast.protocol.fast_frames > 0 and decoded.protocol.fast_frames == 0
    for sym, live in decoded.books.items():
        assert fast.books[sym].book.level_strings("bid") == live.book.level_strings("bid")
        assert fast.books[sym].book.level_strings("ask") == live.book.level_strings("ask")
        assert fast.books[sym].book.last_update_id == live.book.last_update_id
        assert fast.books[sym].stats.checksum_ok == live.stats.checksum_ok


def test_kraken_scales_are_the_wire_decimals():
    """Scales derived from the snapshot strings are Kraken's wire decimals, not AssetPairs'."""
    r = _replay("KRAKEN.ws.50.0")
    wire = EXPECTED["KRAKEN.ws.50.0_wire_decimals"]
    assert {p: [lv.book.price_decimals, lv.book.size_decimals] for p, lv in r.books.items()} == wire
    assert all(lv.book.max_depth == 1000 for lv in r.books.values())
    rest = EXPECTED["KRAKEN.0_pair_precisions"]
    assert any(wire[p][0] != rest[p]["pair_decimals"] for p in wire)


@pytest.mark.parametrize("name,fast", [("KRAKEN.ws.50.0", False), ("OKX.ws.1.0", False), ("OKX.ws.1.0", True)])
def test_corrupting_a_level_fails_the_next_checksum(name, fast):
    """Negative control: one wrong size in the top levels mid-replay is caught by the very next
    checksum of that instrument (the check is real, not vacuous); the book is then stale, as a
    live book before its resubscription, and its later updates are skipped, not applied."""
    frames = _frames(name)
    r = ProtocolReplay(RECORDINGS[name], fast_path=fast)
    half = len(frames) // 2
    for raw in frames[:half]:
        r.on_frame(raw)
    assert r.failures == {}
    sym = max(r.books, key=lambda s: r.books[s].stats.checksum_ok)
    live = r.books[sym]
    # a level in the checksummed top that the instrument's next message does not overwrite
    nxt = next(raw for raw in frames[half:] if sym.encode() in raw and b"book" in raw)
    px, size = next(lv for lv in live.book.level_strings("bid", 10)[1:] if f'"{lv[0]}"'.encode() not in nxt)
    live.book.update("bid", px, f"{Decimal(size) + 1:f}")     # same wire decimals, different size
    before, absent = live.stats.checksum_ok, live.stats.checksum_absent
    for raw in frames[half:]:
        r.on_frame(raw)
    st_ = live.stats
    assert st_.checksum_failed == 1 and st_.checksum_ok == before and st_.resyncs == 1
    assert st_.checksum_absent == absent                 # the failed one is not also "absent"
    assert live.state == "stale" and st_.stale_skipped > 0
    assert st_.messages == st_.snapshots + st_.applied + st_.stale_skipped
    assert r.failures[sym][0].startswith(f"{sym} message ") and "ChecksumError" in r.failures[sym][0]
    rep = next(rep for rep in r.reports() if rep.symbol == sym)
    assert not rep.ok and rep.checksums_failed == 1 and rep.unaccounted == 0


def _okx(action, bids, asks, checksum, **extra):
    return orjson.dumps({"arg": {"channel": "books", "instId": "X-USDT"}, "action": action,
                         "data": [{"bids": bids, "asks": asks, "checksum": checksum, **extra}]})


def _signed_crc(s):
    c = zlib.crc32(s.encode())
    return c - (1 << 32) if c >= 1 << 31 else c


@pytest.mark.parametrize("fast", [False, True])
def test_update_with_more_decimals_widens_exactly(fast):
    r = ProtocolReplay(OkxProtocol, fast_path=fast)
    r.on_frame(_okx("snapshot", [["10.5", "1", "0", "1"]], [["11", "2", "0", "1"]], _signed_crc("10.5:1:11:2")))
    live = r.books["X-USDT"]
    assert (live.book.price_decimals, live.book.size_decimals) == (1, 0)
    r.on_frame(_okx("update", [["10.55", "0.250", "0", "1"]], [], _signed_crc("10.55:0.250:11:2:10.5:1")))
    c = live.stats
    assert (c.checksum_ok, c.checksum_failed, c.applied) == (2, 0, 1)
    assert live.book.level_strings("bid") == [["10.55", "0.250"], ["10.5", "1"]]


@pytest.mark.parametrize("fast", [False, True])
def test_okx_zero_checksum_is_absent_and_seq_ids_are_checked(fast):
    r = ProtocolReplay(OkxProtocol, fast_path=fast)
    r.on_frame(_okx("update", [["1", "1"]], [], 0))          # before any snapshot: skipped
    r.on_frame(_okx("snapshot", [["1", "1"]], [["2", "1"]], 0, seqId=10, prevSeqId=-1))
    r.on_frame(_okx("update", [["1", "2"]], [], 0, seqId=15, prevSeqId=10))
    live = r.books["X-USDT"]
    c = live.stats
    assert (c.stale_skipped, c.snapshots, c.applied, c.checksum_absent, c.checksum_ok) == (1, 1, 1, 2, 0)
    assert live.book.last_update_id == 15
    r.on_frame(_okx("update", [["1", "3"]], [], 0, seqId=20, prevSeqId=16))   # 16 != 15: a gap
    assert (c.gaps, c.resyncs, live.state) == (1, 1, "stale")
    assert live.book.level_strings("bid") == [["1", "2"]]                   # unchanged by the gap
    r.on_frame(_okx("update", [["1", "4"]], [], 0, seqId=21, prevSeqId=20))   # stale: skipped
    assert c.stale_skipped == 2 and live.book.level_strings("bid") == [["1", "2"]]
    r.on_frame(_okx("snapshot", [["1", "5"]], [["2", "1"]], 0, seqId=30, prevSeqId=-1))   # the resync
    assert live.state == "live" and live.book.level_strings("bid") == [["1", "5"]]
    assert c.messages == c.snapshots + c.applied + c.stale_skipped + c.gaps


@pytest.mark.parametrize("channel", ["books", "books-l2-tbt", "books50-l2-tbt", "books-rpi"])
def test_every_okx_book_channel_takes_the_native_path(channel):
    """One channel list: each channel the protocol keeps is parsed by C (not refused by it and
    decoded again)."""
    r = ProtocolReplay(OkxProtocol, fast_path=True)
    frame = _okx("snapshot", [["1", "1"]], [["2", "1"]], 0, seqId=10, prevSeqId=-1).replace(b'"books"', f'"{channel}"'.encode())
    r.on_frame(frame)
    r.on_frame(_okx("update", [["1", "2"]], [], 0, seqId=11, prevSeqId=10).replace(b'"books"', f'"{channel}"'.encode()))
    assert r.protocol.fast_frames == 1 and r.books["X-USDT"].stats.applied == 1
    assert r.books["X-USDT"].book.level_strings("bid") == [["1", "2"]]


def test_bitget_seq_rule():
    """Bitget's seq: increasing (any step) applies, equal is the same message again (skipped),
    backwards is a gap."""
    def msg(action, seq, bids):
        return orjson.dumps({"arg": {"instType": "SPOT", "channel": "books", "instId": "XUSDT"}, "action": action,
                             "data": [{"bids": bids, "asks": [["2", "1"]] if action == "snapshot" else [],
                                       "seq": seq, "ts": "1700000000000"}]})
    r = ProtocolReplay(BitgetProtocol)
    r.on_frame(msg("snapshot", 100, [["1", "1"]]))
    r.on_frame(msg("update", 105, [["1", "2"]]))
    r.on_frame(msg("update", 105, [["1", "3"]]))
    live = r.books["XUSDT"]
    assert (live.stats.applied, live.stats.stale_skipped) == (1, 1)
    assert live.book.level_strings("bid") == [["1", "2"]]
    r.on_frame(msg("update", 104, [["1", "4"]]))
    assert live.stats.gaps == 1 and live.state == "stale"


def test_kraken_two_dict_update_and_republish_flag():
    r = ProtocolReplay(KrakenProtocol)
    snap = [1, {"as": [["2.0", "1.00", "1.0"]], "bs": [["1.0", "1.00", "1.0"]]}, "book-10", "A/B"]
    assert r.on_message(snap)
    # asks then bids, "r" marks a republished entry; checksum over "201.00" style digits
    want = zlib.crc32(b"20100" + b"19200" + b"10100")
    upd = [1, {"a": [["2.0", "1.00", "2.0", "r"]]}, {"b": [["1.9", "2.00", "2.0"]], "c": str(want)}, "book-10", "A/B"]
    assert r.on_message(upd)
    c = r.books["A/B"].stats
    assert (c.applied, c.checksum_ok, c.checksum_failed) == (1, 1, 0)
    assert r.books["A/B"].book.max_depth == 10
    assert not r.on_message([1, "heartbeat"])
    assert not r.on_message({"event": "heartbeat"})
    assert parse_v1_book([1, {"a": []}, "book-x", "A/B"]) is None        # not a depth: not a book message


# ------------------------------------------------------------------ hostile frames

_json = st.recursive(st.none() | st.booleans() | st.integers(-(1 << 64), 1 << 64) | st.floats()
                     | st.text(max_size=8), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                                  max_size=4),
                     max_leaves=12)


def _mutations(name):
    frames = [f for f in _frames(name) if b"book" in f][:40]
    return st.tuples(st.sampled_from(frames), st.integers(0, 400), st.binary(max_size=6))


@pytest.mark.parametrize("name,fast", PATHS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_hostile_frames_never_escape_nor_corrupt(name, fast, data):
    """Mutated real frames and random JSON: the protocol never raises to its caller; every book
    is either unchanged or changed by a message it accepted, and the counts still add up."""
    r = _replay(name, fast, frames=[f for f in _frames(name)][:60])
    before = {s: (lv.book.level_strings("bid"), lv.book.level_strings("ask"), lv.stats.applied, lv.stats.snapshots)
              for s, lv in r.books.items()}
    raw, at, junk = data.draw(_mutations(name))
    mutated = raw[:at] + junk + raw[at + len(junk):]
    r.on_frame(mutated)
    r.on_message(data.draw(_json))
    for s, lv in r.books.items():
        c = lv.stats
        assert c.unaccounted == 0, s
        if s in before and (c.applied, c.snapshots) == before[s][2:]:
            assert (lv.book.level_strings("bid"), lv.book.level_strings("ask")) == before[s][:2], s


# ------------------------------------------------------------------ Binance

from liqcore.errors import SnapshotTooOld  # noqa: E402
from liqcore.exchanges.binance import BinanceProtocol  # noqa: E402
from liqcore.recordings import iter_hftbacktest  # noqa: E402
from liqcore.replay import BUNDLED_RECORDING  # noqa: E402
from liqcore.replay.books import BinanceAdapter  # noqa: E402
from simtest import binance_depth  # noqa: E402

EXPECTED_BN = json.loads((DATA.parent / "binance" / "EXPECTED.json").read_text())


def _bn_records():
    return list(iter_hftbacktest(BUNDLED_RECORDING))


def _bn_replay(fast, records):
    """The recording through the Binance protocol: frames' text on the native path (``fast``),
    orjson-decoded messages otherwise."""
    r = BinanceAdapter(fast_path=fast)
    for rec in records:
        if fast:
            r.on_frame(rec.raw, rec)
        else:
            r.on_message(orjson.loads(rec.raw), rec)
    return r


@pytest.fixture(scope="module")
def bn_records():
    return _bn_records()


@pytest.fixture(scope="module", params=[True, False], ids=["binance-c", "binance-decoded"])
def bn_replayed(request, bn_records):
    return request.param, _bn_replay(request.param, bn_records)


def _bn_accounted(protocol, live):
    """Every message of a Binance book is one of: a snapshot, applied, skipped, a gap, refused
    (``BookStats.unaccounted`` 0); events still buffered for a snapshot count when they leave it."""
    return live.stats.unaccounted == 0 and protocol.waiting(live) <= live.stats.buffered


def test_binance_every_checkpoint_and_the_final_book(bn_replayed):
    from test_replay_binance import book_sha256

    fast, r = bn_replayed
    assert list(r.books) == ["BTCUSDT"] and r.failures == {}
    c = r.counts("BTCUSDT")
    assert (c["checkpoints_ok"], c["checkpoints_failed"]) == (EXPECTED_BN["bbo_checkpoints_match"], 0) == (564, 0)
    assert c["applied"] == EXPECTED_BN["applied"] == 3449
    assert c["skipped"] == EXPECTED_BN["dropped_before_snapshot"]
    assert c["depth_events"] == EXPECTED_BN["streams"]["depth@100ms"]
    assert (c["gaps"], c["rejected"], c["unsynced"], c["snapshots"]) == (0, 0, 0, 1)
    live = r.books["BTCUSDT"]
    assert live.state == "live" and _bn_accounted(r.protocol, live)
    assert live.stats.buffered == EXPECTED_BN["buffered_before_snapshot"]
    book = live.book
    assert book.last_update_id == EXPECTED_BN["last_applied_u"]
    assert book.level_strings("bid", 1) == [EXPECTED_BN["final_best_bid"]]
    assert book.level_strings("ask", 1) == [EXPECTED_BN["final_best_ask"]]
    assert book_sha256(book) == EXPECTED_BN["final_book_sha256"]
    (rep,) = r.reports()
    assert rep.ok and rep.unaccounted == 0
    # every depth frame (buffered or applied) went through C on the native path, none otherwise
    assert r.protocol.fast_frames == (c["depth_events"] if fast else 0)


def test_binance_a_removed_event_is_a_gap_in_both_configurations(bn_records):
    """Negative control: one depth event removed after the snapshot is a gap; the book is cleared
    and waits for a snapshot that never comes; later checkpoints are not passed silently."""
    snap_at = next(i for i, rec in enumerate(bn_records) if b'"lastUpdateId"' in rec.raw[:40])
    depth = [i for i, rec in enumerate(bn_records) if b"@depth" in rec.raw[:40] and i > snap_at]
    victim = depth[len(depth) // 2]
    for fast in (True, False):
        r = _bn_replay(fast, bn_records[:victim] + bn_records[victim + 1:])
        c = r.counts("BTCUSDT")
        live = r.books["BTCUSDT"]
        assert (c["gaps"], c["checkpoints_failed"]) == (1, 0)
        assert c["checkpoints_ok"] < EXPECTED_BN["bbo_checkpoints_match"]
        assert c["unsynced"] == len(depth) - depth.index(victim) - 2     # after the gap: buffered
        assert len(live.book) == 0 and _bn_accounted(r.protocol, live)
        (rep,) = r.reports()
        assert not rep.ok and rep.unaccounted == 0


class _Driver:
    """A BookDriver that keeps one book per market id and records what it is told."""

    def __init__(self):
        self.books, self.events = {}, []

    def book(self, conn, market_id, market_type):
        from liqcore import OrderBook
        from liqcore.feed.live_book import LiveBook

        if market_id not in self.books:
            self.books[market_id] = LiveBook("binance", market_id, OrderBook(price_decimals=2, size_decimals=0))
        return self.books[market_id]

    def depth(self, conn, live):
        return None

    def synced(self, conn, live, channel, timestamp_ms):
        self.events.append(("synced", live.symbol, channel))

    def changed(self, conn, live, nonce, timestamp_ms):
        self.events.append(("changed", live.symbol, nonce, timestamp_ms))

    def failed(self, conn, live, exc):
        live.mark_stale_by(exc)
        self.events.append(("failed", live.symbol, type(exc).__name__))

    def other(self, conn, msg):
        self.events.append(("other", msg))

    def malformed(self, conn, data, exc):
        self.events.append(("malformed", data))


def _bn_feed(p, fast, frame):
    p.on_frame(None, frame) if fast else p.on_message(None, orjson.loads(frame))


@pytest.mark.parametrize("fast", [True, False], ids=["c", "decoded"])
def test_binance_procedure(fast):
    """Buffer from the start, refuse a snapshot older than the buffer, drop events at or below
    lastUpdateId, the first applied straddles lastUpdateId + 1, a gap fails the book (skipped
    until the next subscription), and more decimals than the book holds widen it exactly."""
    d = _Driver()
    p = BinanceProtocol(d, fast_path=fast)
    _bn_feed(p, fast, binance_depth(10, 12, bids=[("1.00", "1")]))
    _bn_feed(p, fast, binance_depth(13, 14, asks=[("2.005", "3")]))       # 3 decimals: the book widens
    live = d.books["BTCUSDT"]
    assert p.waiting(live) == 2 and live.state == "syncing" and live.book.sequence == "binance_spot"
    with pytest.raises(SnapshotTooOld):
        p.on_snapshot(None, live, b'{"lastUpdateId":9,"bids":[],"asks":[]}')
    assert p.waiting(live) == 2 and live.stats.snapshots == 0 and len(live.book) == 0
    body = '{"lastUpdateId":12,"bids":[["0.50","1"]],"asks":[["3.00","1"]]}'
    assert p.on_snapshot(None, live, body if fast else orjson.loads(body)) == 1          # 10-12 dropped
    assert live.state == "live" and live.book.price_decimals == 3 and live.stats.rescaled == 1
    assert live.book.level_strings("ask") == [["2.005", "3"], ["3.00", "1"]]
    assert d.events[-2:] == [("synced", "BTCUSDT", "depth"), ("changed", "BTCUSDT", 14, 7)]
    _bn_feed(p, fast, binance_depth(15, 15, bids=[("1.50", "2")], e=99))
    assert d.events[-1] == ("changed", "BTCUSDT", 15, 99) and live.book.last_update_id == 15
    _bn_feed(p, fast, binance_depth(15, 15, bids=[("1.50", "9")]))           # again: older than the book
    _bn_feed(p, fast, binance_depth(17, 18, bids=[("1.60", "1")]))           # 16 missing: a gap
    assert d.events[-1] == ("failed", "BTCUSDT", "SequenceGapError") and live.state == "stale"
    before = live.book.level_strings("bid")
    _bn_feed(p, fast, binance_depth(19, 19, bids=[("1.70", "1")]))           # skipped until a new subscription
    assert live.book.level_strings("bid") == before == [["1.50", "2"], ["0.50", "1"]]
    c = live.stats
    assert (c.applied, c.stale_skipped, c.gaps, c.buffered) == (2, 3, 1, 2)
    assert _bn_accounted(p, live)
    p.begin(None, live, "BTCUSDT")                                      # the resubscription
    _bn_feed(p, fast, binance_depth(20, 21, bids=[("1.80", "1")]))
    assert p.waiting(live) == 1 and live.state == "stale"
    assert p.on_snapshot(None, live, b'{"lastUpdateId":20,"bids":[["1.00","1"]],"asks":[["3.00","1"]]}') == 1
    assert live.state == "live" and live.book.level_strings("bid") == [["1.80", "1"], ["1.00", "1"]]
    assert _bn_accounted(p, live) and (p.fast_frames > 0) == fast


@pytest.mark.parametrize("fast", [True, False], ids=["c", "decoded"])
def test_binance_futures_pu_chain_and_the_bounded_buffer(fast):
    d = _Driver()
    p = BinanceProtocol(d, fast_path=fast)
    p.buffer_limit = 2
    live = d.book(None, "BTCUSDT", None)
    live.book.sequence = "binance_futures"                             # as the live driver makes it
    p.begin(None, live, "BTCUSDT")
    for first, last, prev in ((1, 3, 0), (4, 6, 3), (7, 9, 6)):
        _bn_feed(p, fast, binance_depth(first, last, bids=[("1.00", str(last))], prev=prev))
    assert p.waiting(live) == 2 and p.buffer_dropped == 1 and live.stats.stale_skipped == 1
    assert p.on_snapshot(None, live, b'{"lastUpdateId":5,"E":1,"T":1,"bids":[],"asks":[]}') == 2
    _bn_feed(p, fast, binance_depth(10, 11, bids=[("1.00", "11")], prev=9))
    assert live.book.level_strings("bid") == [["1.00", "11"]]
    _bn_feed(p, fast, binance_depth(12, 13, prev=12))                       # pu 12 != 11: a gap
    assert live.stats.gaps == 1 and _bn_accounted(p, live)


def test_binance_markets_route_per_connection_and_unknown_ones_are_ignored():
    """One table per connection: the same market id on two sockets is two books (spot and swap
    on Binance); a market the driver does not keep is ignored; non-book frames go to ``other``."""
    class Two(_Driver):
        asked = 0

        def book(self, conn, market_id, market_type):
            self.asked += 1
            return None if market_id == "NOPE" else super().book(conn, f"{conn}:{market_id}", None)

    d = Two()
    p = BinanceProtocol(d)
    p.on_frame("spot", binance_depth(1, 2, bids=[("1.00", "1")]))
    p.on_frame("swap", binance_depth(5, 6, bids=[("2.00", "1")]))
    p.on_frame("spot", binance_depth(1, 2, sym="NOPE"))
    p.on_frame("spot", '{"result":null,"id":1}')
    assert sorted(d.books) == ["spot:BTCUSDT", "swap:BTCUSDT"]
    assert [p.waiting(d.books[k]) for k in sorted(d.books)] == [1, 1]
    assert d.events == [("other", {"result": None, "id": 1})]
    p.decode_other = False                                               # a driver of books only
    p.on_frame("spot", '{"result":null,"id":2}')
    p.on_frame("spot", '{"result":null,"id":3')                          # malformed: still reported
    assert d.events[1:] == [("malformed", '{"result":null,"id":3')]
    # a resubscription on a new connection: the new socket's frames are routed without asking
    # the driver; the old socket's route was forgotten with the old subscription (asked again)
    live = d.books["spot:BTCUSDT"]
    p.begin("spot2", live, "BTCUSDT")
    asked = d.asked
    p.on_frame("spot2", binance_depth(3, 4, bids=[("1.00", "2")]))
    assert (p.waiting(live), d.asked) == (1, asked)
    p.on_frame("spot", binance_depth(5, 5, bids=[("1.00", "3")]))
    assert d.asked == asked + 1


@pytest.mark.parametrize("fast", [True, False], ids=["c", "decoded"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_binance_hostile_frames_never_escape_nor_corrupt(bn_records, fast, data):
    """Mutated real frames and random JSON after the snapshot: nothing escapes the protocol, a
    book changes only through a message it accepted, and every message is accounted for."""
    head = [rec for rec in bn_records[:400]]
    r = _bn_replay(fast, head)
    live = r.books["BTCUSDT"]
    before = (live.book.level_strings("bid"), live.book.level_strings("ask"), live.stats.applied,
              live.stats.snapshots)
    depth = [rec.raw for rec in head if b"@depth" in rec.raw[:40]]
    raw, at, junk = data.draw(st.tuples(st.sampled_from(depth), st.integers(0, 600), st.binary(max_size=6)))
    mutated = raw[:at] + junk + raw[at + len(junk):]
    if fast:
        r.on_frame(mutated)
    else:
        try:
            r.on_message(orjson.loads(mutated))
        except orjson.JSONDecodeError:
            pass                                      # not JSON: the replay's reader skips it
    r.on_message(data.draw(_json))
    r.on_message({"stream": "btcusdt@depth", "data": dict(data.draw(st.dictionaries(st.sampled_from(
        ["U", "u", "pu", "b", "a", "E"]), _json, max_size=6)), e="depthUpdate", s="BTCUSDT")})
    assert _bn_accounted(r.protocol, live)
    if (live.stats.applied, live.stats.snapshots) == before[2:]:
        assert (live.book.level_strings("bid"), live.book.level_strings("ask")) == before[:2]
