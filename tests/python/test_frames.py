"""The native frame path (liqcore._frames, src/frames.c) against the Python path and real data.

* The real Binance recording (hftbacktest, tests/data/binance) replayed through the Binance
  protocol's native path (frames' text parsed and routed in C): all 564 bookTicker checkpoints
  hold, the final book is EXPECTED.json's, and after every frame the book is byte-identical
  (to_bytes(), stats included) to the one the decoded path (orjson + apply_levels) builds.
* The real OKX recording (cryptofeed capture): all 290 checksums verify in C, and every
  frame leaves the book byte-identical to the decoded path's book (liqcore.exchanges.okx.OkxProtocol in a replay).
* Random messages (hypothesis): fast path == orjson + apply_levels, outcome and bytes.
* Bad frames (every truncation of real frames, mutated bytes, wrong types): an exception
  of the liqcore hierarchy and the book byte-identical except the stats counter that
  documents the rejection.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcore import (ChecksumError, CrossedBookError, DepthError, FormatError, InvalidDeltaError, LiqError,
                     OrderBook, SequenceGapError)
from liqcore._frames import (FrameResult, FrameRoute, apply_binance_depth, apply_okx_books, load_binance_snapshot,
                             route_binance_depth, route_okx_books, scan_binance_depth, scan_okx_books)
from liqcore.exchanges.okx import OkxProtocol
from liqcore.replay.books import BinanceAdapter, ProtocolReplay
from liqcore.recordings import iter_cryptofeed, iter_hftbacktest
from liqcore.replay import BUNDLED_RECORDING

DATA = Path(__file__).resolve().parents[1] / "data"
EXPECTED_BINANCE = json.loads((DATA / "binance" / "EXPECTED.json").read_text())
EXPECTED_CF = json.loads((DATA / "cryptofeed" / "EXPECTED.json").read_text())
STATS_AT, STATS_END = 52, 124   # src/book.h LIQ_SER_STATS_OFF / _END


def without_stats(book):
    raw = book.to_bytes()
    return raw[:STATS_AT] + raw[STATS_END:]


# ---------------------------------------------------------------- Binance recording

@pytest.fixture(scope="module")
def binance_frames():
    return [r.raw for r in iter_hftbacktest(BUNDLED_RECORDING)]


@pytest.fixture(scope="module")
def binance_replay():
    """Both configurations of the Binance protocol side by side over the whole recording (the
    native path fed the frames' text, the decoded path orjson's messages), each into its own
    book; after every frame from the snapshot on the two books are byte-identical."""
    fast_book, py_book = OrderBook("0.01", "0.00000001"), OrderBook("0.01", "0.00000001")
    fast, py = BinanceAdapter(fast_path=True, book=fast_book), BinanceAdapter(fast_path=False, book=py_book)
    compared = 0
    for rec in iter_hftbacktest(BUNDLED_RECORDING):
        fast.on_frame(rec.raw, rec)
        py.on_message(orjson.loads(rec.raw), rec)
        if fast_book.last_update_id is not None:
            assert fast_book.to_bytes() == py_book.to_bytes()
            compared += 1
    return fast, py, compared


def test_binance_recording_checkpoints(binance_replay):
    fast, py, _ = binance_replay
    c = fast.counts("BTCUSDT")
    assert fast.failures == {}
    assert (c["checkpoints_ok"], c["checkpoints_failed"]) == (EXPECTED_BINANCE["bbo_checkpoints_match"], 0) == (564, 0)
    assert c["applied"] == EXPECTED_BINANCE["applied"] == 3449
    assert c["depth_events"] == EXPECTED_BINANCE["streams"]["depth@100ms"]
    assert c == py.counts("BTCUSDT")
    assert fast.protocol.fast_frames == c["depth_events"] and py.protocol.fast_frames == 0


def test_binance_recording_final_book(binance_replay):
    from test_replay_binance import book_sha256

    fast, py, compared = binance_replay
    fast_book, py_book = fast.books["BTCUSDT"].book, py.books["BTCUSDT"].book
    assert compared > 38000   # every frame from the snapshot on
    assert fast_book.to_bytes() == py_book.to_bytes()
    assert fast_book.last_update_id == EXPECTED_BINANCE["last_applied_u"]
    assert fast_book.level_strings(0, 1) == [EXPECTED_BINANCE["final_best_bid"]]
    assert fast_book.level_strings(1, 1) == [EXPECTED_BINANCE["final_best_ask"]]
    assert [fast_book.bid_count, fast_book.ask_count] == EXPECTED_BINANCE["final_levels_bids_asks"]
    assert book_sha256(fast_book) == EXPECTED_BINANCE["final_book_sha256"]


def test_binance_recording_gap_is_detected_by_the_routed_parse(binance_frames):
    """Negative control: one depth frame removed after the snapshot -> the routed parse refuses
    the next one as a SequenceGapError (returned, not raised), book unchanged."""
    snap_at = next(i for i, f in enumerate(binance_frames) if b'"lastUpdateId"' in f[:40])
    depth = [i for i, f in enumerate(binance_frames) if b"@depth" in f[:40] and i > snap_at]
    victim = depth[len(depth) // 2]
    book = OrderBook("0.01", "0.00000001", sequence="binance_spot")
    table = {"BTCUSDT": FrameRoute(book, "target")}
    load_binance_snapshot(book, binance_frames[snap_at])
    for raw in binance_frames[:snap_at]:                  # what the procedure had buffered
        if b"@depth" in raw[:40]:
            assert route_binance_depth(table, raw).error is None
    gaps = 0
    for i, raw in enumerate(binance_frames[snap_at + 1:], snap_at + 1):
        if i == victim or b"@depth" not in raw[:40]:
            continue
        before = book.to_bytes()
        res = route_binance_depth(table, raw)
        assert res.route is table["BTCUSDT"] and res.kind == "depth"
        if res.error is not None:
            assert type(res.error) is SequenceGapError and not res.applied
            gaps += 1
            assert without_stats(book) == before[:STATS_AT] + before[STATS_END:]
            break
    assert gaps == 1 and i == depth[len(depth) // 2 + 1]


def test_route_binance_depth():
    """One parse: the table's route of the frame's "s", its book applied to, or (no book) only
    scanned; errors returned with the book unchanged; str frames read as they are."""
    book = OrderBook("0.01", "1", sequence="binance_spot")
    load_binance_snapshot(book, b'{"lastUpdateId":100,"bids":[["1.00","1"]],"asks":[["2.00","1"]]}')
    waiting = FrameRoute(None, "eth")
    table = {"BTCUSDT": FrameRoute(book, "btc"), "ETHUSDT": waiting}
    frame = '{"e":"depthUpdate","E":17,"s":"BTCUSDT","U":101,"u":102,"b":[["1.50","3"]],"a":[]}'
    res = route_binance_depth(table, frame)
    assert (res.route.target, res.applied, res.error, res.last_id, res.event_ms) == ("btc", True, None, 102, 17)
    assert book.level_strings("bid", 1) == [["1.50", "3"]]
    assert route_binance_depth(table, frame).stale                       # the same again
    res = route_binance_depth(table, frame.replace("BTCUSDT", "ETHUSDT").replace('"1.50"', '"1.505"'))
    assert (res.route, res.applied, res.error, res.price_decimals) == (waiting, False, None, 3)   # scanned
    res = route_binance_depth(table, frame.replace("BTCUSDT", "XRPUSDT"))
    assert (res.route, res.symbol, res.kind) == (None, "XRPUSDT", "depth")
    res = route_binance_depth(table, frame.replace("101", "104").replace("102", "105"))
    assert type(res.error) is SequenceGapError and res.route.target == "btc" and book.last_update_id == 102
    res = route_binance_depth(table, frame[:-5])
    assert type(res.error) is FormatError and not res.applied
    other = route_binance_depth(table, '{"e":"trade","s":"BTCUSDT","p":"1"}')
    assert (other.kind, other.route, other.error) == ("other", None, None)
    # a spot bookTicker has no "e": its "s" is looked up, but it is no depthUpdate and has no route
    ticker = route_binance_depth(table, '{"u":400,"s":"BTCUSDT","b":"1.40","B":"2","a":"2.00","A":"1"}')
    assert (ticker.kind, ticker.route, ticker.applied) == ("other", None, False)
    assert book.last_update_id == 102
    esc = route_binance_depth(table, frame.replace('"BTCUSDT"', '"BTC\\u0055SDT"').replace("101", "103")
                              .replace("102", "103"))
    assert esc.route.target == "btc" and esc.applied and esc.symbol == "BTCUSDT"
    with pytest.raises(TypeError):
        route_binance_depth(table, 12)
    with pytest.raises(TypeError):
        route_binance_depth({"BTCUSDT": FrameRoute(object(), None)}, frame)


def test_route_okx_books():
    """One parse: an update of a book channel takes the route of its instId (its book applied to,
    checksum verified); snapshots, events, other channels and books without a route are scanned;
    errors are returned with the book unchanged."""
    book = OrderBook("0.1", "0.001", sequence="okx")
    snap = ('{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["101.0","1","0","1"]],'
            '"bids":[["100.0","2","0","1"]],"ts":"5","checksum":0,"prevSeqId":-1,"seqId":10}]}')
    apply_okx_books(book, snap)
    waiting = FrameRoute(None, "eth")
    table = {"BTC-USDT": FrameRoute(book, "btc"), "ETH-USDT": waiting}
    upd = ('{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],'
           '"bids":[["100.5","3","0","1"]],"ts":"7","checksum":0,"prevSeqId":10,"seqId":11}]}')
    res = route_okx_books(table, upd)
    assert (res.route.target, res.applied, res.error, res.last_id, res.event_ms, res.kind) == ("btc", True, None, 11, 7, "update")
    assert book.level_strings("bid", 1) == [["100.5", "3"]]
    assert route_okx_books(table, upd).stale                                # the same again
    assert book.last_update_id == 11
    # the checksum is verified in C: a wrong one is reported after applying
    bad = upd.replace('"prevSeqId":10,"seqId":11', '"prevSeqId":11,"seqId":12').replace('"checksum":0', '"checksum":123')
    res = route_okx_books(table, bad)
    assert res.applied and type(res.error) is ChecksumError and book.last_update_id == 12
    # not routed: a snapshot, an event, another channel, a market without a book or a route
    assert route_okx_books(table, snap).route is None and book.last_update_id == 12
    assert route_okx_books(table, '{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"}}').kind == "other"
    assert route_okx_books(table, upd.replace('"books"', '"books5"')).route is None
    res = route_okx_books(table, upd.replace("BTC-USDT", "ETH-USDT").replace('"100.5"', '"100.55"'))
    assert (res.route, res.applied, res.error, res.price_decimals) == (waiting, False, None, 2)
    assert route_okx_books(table, upd.replace("BTC-USDT", "XRP-USDT")).route is None
    res = route_okx_books(table, upd[:-3])
    assert type(res.error) is FormatError and not res.applied and book.last_update_id == 12
    # "data" before "arg" and "action" (not OKX's order): parsed again with the book, same result
    odd = ('{"data":[{"asks":[],"bids":[["99.0","1","0","1"]],"ts":"8","checksum":0,"prevSeqId":12,"seqId":13}],'
           '"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update"}')
    res = route_okx_books(table, odd)
    assert res.applied and res.route.target == "btc" and book.last_update_id == 13
    with pytest.raises(TypeError):
        route_okx_books(table, 12)


@pytest.fixture(scope="module")
def okx_frames():
    """The OKX recording's frames of its first snapshot's market, from that snapshot on (bytes)."""
    frames = [r.raw for r in iter_cryptofeed(DATA / "cryptofeed" / "OKX.ws.1.0") if r.kind == "recv"]
    first = next(i for i, f in enumerate(frames) if b'"snapshot"' in f)
    inst = orjson.loads(frames[first])["arg"]["instId"].encode()
    return [f for f in frames[first:first + 400] if b'"' + inst + b'"' in f]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(0, 1 << 20), cut=st.integers(0, 1 << 20), junk=st.binary(max_size=3), mutate=st.booleans())
def test_route_okx_books_equals_apply_okx_books(okx_frames, pick, cut, junk, mutate):
    """The routed parse and the direct call agree (status, error, book) on real OKX frames, with a
    few bytes replaced or not, whatever the routing table holds for their instId."""
    raw = okx_frames[pick % len(okx_frames)]
    at = cut % (len(raw) + 1)
    frame = raw[:at] + junk + raw[at + len(junk):] if mutate else raw
    base = OrderBook("0.1", "0.00000001", sequence="okx")
    snap = next(f for f in okx_frames if b'"snapshot"' in f)
    apply_okx_books(base, snap)
    direct, routed = base.copy(), base.copy()
    table = {orjson.loads(snap)["arg"]["instId"]: FrameRoute(routed, None)}
    want = _outcome(lambda: apply_okx_books(direct, frame).applied)
    res = route_okx_books(table, frame)
    if res.route is not None:                   # routed: the direct call's outcome and book
        got = (type(res.error).__name__,) if res.error is not None and not res.applied else ("ok", res.applied)
        if type(res.error).__name__ == "ChecksumError":
            got = ("ChecksumError",)
        assert got == want
        assert routed.to_bytes() == direct.to_bytes()
    else:          # scanned, or malformed (counted in the book's rejected when it was bound): unchanged
        assert without_stats(routed) == without_stats(base)


# ---------------------------------------------------------------- OKX recording

@pytest.fixture(scope="module")
def okx_replay():
    frames = [r.raw for r in iter_cryptofeed(DATA / "cryptofeed" / "OKX.ws.1.0") if r.kind == "recv"]
    py = ProtocolReplay(OkxProtocol, fast_path=False)          # the decoded path
    books = {}
    counts = {"ok": 0, "other": 0, "updates": 0, "snapshots": 0, "compared": 0}
    for raw in frames:
        scan = scan_okx_books(raw)
        is_book = py.on_message(orjson.loads(raw))
        if scan.kind == "other":
            counts["other"] += 1
            assert not is_book
            continue
        sym = scan.symbol
        assert is_book and sym in py.books
        if scan.kind == "snapshot":
            # the book's scales from the snapshot's strings, as the replay's books take them
            books[sym] = OrderBook(price_decimals=scan.price_decimals, size_decimals=scan.size_decimals,
                                   sequence=None if scan.last_id is None else "okx", symbol=sym, exchange="okx")
            counts["snapshots"] += 1
        else:
            counts["updates"] += 1
        res = apply_okx_books(books[sym], raw)
        assert res.applied and res.kind == scan.kind and res.symbol == sym and res.stream == "books"
        if res.checksum_ok:
            counts["ok"] += 1
        assert books[sym].to_bytes() == py.books[sym].book.to_bytes()
        counts["compared"] += 1
    return books, py, counts


def test_okx_recording_every_checksum_verifies(okx_replay):
    books, py, counts = okx_replay
    assert counts["ok"] == 290
    exp = EXPECTED_CF["OKX.ws.1.0"]["per_instrument"]
    assert counts["snapshots"] == len(exp) == 3
    assert counts["updates"] == sum(e["update"] for e in exp.values())
    assert counts["compared"] == counts["snapshots"] + counts["updates"]
    for sym, e in EXPECTED_CF["OKX.ws.1.0"]["final_state"].items():
        assert books[sym].level_strings("bid", 1) == [e["best_bid"]]
        assert books[sym].level_strings("ask", 1) == [e["best_ask"]]
        assert [books[sym].bid_count, books[sym].ask_count] == e["levels"]


def test_okx_checksum_mismatch_is_raised_after_applying():
    frames = [r.raw for r in iter_cryptofeed(DATA / "cryptofeed" / "OKX.ws.1.0") if r.kind == "recv"]
    snap = next(f for f in frames if b'"action":"snapshot"' in f and b"BTC-USDT\"" in f)
    upd = next(f for f in frames if b'"action":"update"' in f and b"BTC-USDT\"" in f)
    s = scan_okx_books(snap)
    book = OrderBook(price_decimals=s.price_decimals, size_decimals=s.size_decimals)
    assert apply_okx_books(book, snap).checksum_ok is True
    msg = orjson.loads(upd)
    good = msg["data"][0]["checksum"]
    msg["data"][0]["checksum"] = good ^ 1
    with pytest.raises(ChecksumError, match="BTC-USDT") as ei:
        apply_okx_books(book, orjson.dumps(msg))
    assert str(good) in str(ei.value) and "applied" in str(ei.value)
    # the update was applied: the book's checksum is the exchange's real one now
    assert book.checksum("okx") == good
    # checksum 0: absent, not verified
    msg["data"][0]["checksum"] = 0
    book2 = OrderBook(price_decimals=s.price_decimals, size_decimals=s.size_decimals)
    apply_okx_books(book2, snap)
    r = apply_okx_books(book2, orjson.dumps(msg))
    assert r.applied and r.checksum == 0 and r.checksum_ok is None
    # a book too shallow for the checksum: refused before applying
    shallow = OrderBook(price_decimals=s.price_decimals, size_decimals=s.size_decimals, max_depth=10)
    with pytest.raises(DepthError):
        apply_okx_books(shallow, snap)
    assert len(shallow) == 0


# ---------------------------------------------------------------- equality with apply_levels

_px = st.integers(1, 400).map(lambda t: f"{t * 0.05 + 90:.2f}" if t % 3 else f"{t * 0.05 + 90:.4f}")
_qty = st.one_of(st.integers(0, 5000).map(lambda q: f"{q * 0.002:.3f}"),
                 st.sampled_from(["0", "0.0", "1e-3", "-1", "x", "0.0001", "1.5", "100000000000000000000"]))
_level = st.tuples(_px, _qty).map(list)


def _fresh():
    b = OrderBook("0.05", "0.002", sequence="binance_spot")
    b.apply_snapshot([["100.00", "1"], ["99.95", "2"], ["95", "0.5"]], [["100.05", "1"], ["101", "3"]], update_id=10)
    return b


def _outcome(call):
    try:
        return ("ok", call())
    except LiqError as exc:
        return (type(exc).__name__,)


@settings(max_examples=300, deadline=None)
@given(bids=st.lists(_level, max_size=12), asks=st.lists(_level, max_size=12), first=st.integers(9, 13),
       span=st.integers(0, 3), asks_first=st.booleans(), policy=st.sampled_from(["raise", "repair", "allow"]))
def test_fast_path_equals_apply_levels(bids, asks, first, span, asks_first, policy):
    fast, ref = _fresh(), _fresh()
    fast.cross_policy = ref.cross_policy = policy
    payload = {"e": "depthUpdate", "E": 1, "s": "X", "U": first, "u": first + span}
    payload.update({"a": asks, "b": bids} if asks_first else {"b": bids, "a": asks})
    frame = orjson.dumps({"stream": "x@depth", "data": payload})
    got = _outcome(lambda: apply_binance_depth(fast, frame).applied)
    want = _outcome(lambda: ref.apply_levels(bids, asks, last_id=first + span, first_id=first))
    assert got == want
    assert fast.to_bytes() == ref.to_bytes()


# Venue strings at a book kept at wire decimals (Binance pads to 8): the frame parser reads 8
# fraction digits at a time there. Fractions of 0-12 characters, mostly digits, sometimes a byte
# next to the digits in ASCII ('/', ':') or another non-digit, where the 8-byte read must fall back.
_frac = st.lists(st.one_of(st.sampled_from("0123456789"), st.sampled_from("0"),
                           st.sampled_from(["/", ":", "e", "-", ".", " ", "\u00e9"])), max_size=12).map("".join)
_wire = st.tuples(st.integers(0, 999_999), _frac, st.booleans()).map(
    lambda t: f"{t[0]}.{t[1]}" if t[2] else str(t[0]))


@settings(max_examples=400, deadline=None)
@given(bids=st.lists(st.tuples(_wire, _wire).map(list), max_size=8),
       asks=st.lists(st.tuples(_wire, _wire).map(list), max_size=8),
       scales=st.sampled_from([(8, 8), (9, 8), (12, 10), (18, 8), (8, 0)]))
def test_fast_path_equals_apply_levels_at_wire_decimals(bids, asks, scales):
    """At 8 or more decimals the frame parser converts a fraction's first 8 digits in one step;
    values, wire decimals and refusals stay those of the decimal parser apply_levels uses."""
    def book():
        b = OrderBook(price_decimals=scales[0], size_decimals=scales[1], sequence="binance_spot", cross_policy="allow")
        b.apply_snapshot([], [], update_id=10)
        return b
    fast, ref = book(), book()
    frame = orjson.dumps({"e": "depthUpdate", "E": 1, "s": "X", "U": 11, "u": 11, "b": bids, "a": asks})
    got = _outcome(lambda: apply_binance_depth(fast, frame).applied)
    want = _outcome(lambda: ref.apply_levels(bids, asks, last_id=11, first_id=11))
    assert got == want
    assert fast.to_bytes() == ref.to_bytes()
    assert fast.level_strings("bid") == ref.level_strings("bid")


def test_snapshot_equals_apply_snapshot():
    rng = random.Random(7)
    bids = [[f"{100 - i * 0.05:.2f}", f"{rng.randint(0, 9) * 0.002:.3f}"] for i in range(300)]
    asks = [[f"{100.05 + i * 0.05:.2f}", f"{rng.randint(1, 9) * 0.002:.3f}"] for i in range(300)]
    fast, ref = OrderBook("0.05", "0.002"), OrderBook("0.05", "0.002")
    r = load_binance_snapshot(fast, orjson.dumps({"lastUpdateId": 5, "bids": bids, "asks": asks}))
    ref.apply_snapshot(bids, asks, update_id=5)
    assert (r.kind, r.last_id, r.bids, r.asks) == ("snapshot", 5, 300, 300)
    assert fast.to_bytes() == ref.to_bytes()
    # the GIL-released path (a frame over 64 KiB) gives the same book
    big = orjson.dumps({"lastUpdateId": 6, "bids": bids * 10, "asks": asks * 10, "pad": "x" * 70000})
    load_binance_snapshot(fast, big)
    ref.apply_snapshot(bids * 10, asks * 10, update_id=6)
    assert fast.to_bytes() == ref.to_bytes()


def test_result_fields_and_inputs():
    b = _fresh()
    frame = b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":17,"T":18,"s":"BTC\\u0055SDT","U":11,"u":12,"pu":10,"b":[["100.05","0"]],"a":[]}}'
    for f in (frame, bytearray(frame), memoryview(frame), frame.decode()):
        c = _fresh()
        r = apply_binance_depth(c, f)
        assert isinstance(r, FrameResult)
        assert (r.kind, r.applied, r.stale, r.first_id, r.last_id, r.prev_id) == ("depth", True, False, 11, 12, 10)
        assert (r.event_ms, r.txn_ms, r.stream, r.bids, r.asks) == (17, 18, "btcusdt@depth", 1, 0)
        assert r.symbol == "BTCUSDT"   # the string's text: escapes decoded, as orjson reads it
        assert (r.checksum, r.checksum_ok, r.price_decimals, r.size_decimals) == (None, None, 2, 0)
        assert "depth" in repr(r)
    r = apply_binance_depth(b, frame)
    assert apply_binance_depth(b, frame).stale
    other = apply_binance_depth(b, b'{"stream":"x@trade","data":{"e":"trade","E":1}}')
    assert (other.kind, other.applied, other.symbol, other.last_id) == ("other", False, None, None)
    with pytest.raises(TypeError):
        apply_binance_depth(object(), frame)
    with pytest.raises(TypeError):
        apply_binance_depth(b, 12)
    with pytest.raises(TypeError):
        FrameResult()
    s = scan_binance_depth(frame)
    assert (s.kind, s.applied, s.last_id) == ("depth", False, 12)


# ---------------------------------------------------------------- bad frames

GOOD = (b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT",'
        b'"U":11,"u":12,"b":[["99.95","0"],["99.90","1.5"]],"a":[["100.10","0.25"]]}}')


def _rejected(call, book, exc=LiqError, moved="rejected"):
    before, stats, gen = without_stats(book), book.stats, book.generation
    with pytest.raises(exc) as ei:
        call()
    assert isinstance(ei.value, LiqError) and isinstance(ei.value, (ValueError, RuntimeError))
    assert without_stats(book) == before and book.generation == gen
    after = book.stats
    assert after[moved] == stats[moved] + 1
    assert {k: v for k, v in after.items() if k not in ("rejected", "gaps", "crossed")} == \
        {k: v for k, v in stats.items() if k not in ("rejected", "gaps", "crossed")}
    return ei.value


def test_every_truncation_is_rejected():
    b = _fresh()
    for k in range(len(GOOD)):
        err = _rejected(lambda: apply_binance_depth(b, GOOD[:k]), b, FormatError)
        assert f"at byte {k}" in str(err) or k == 0 or "at byte" in str(err)
    assert apply_binance_depth(b, GOOD).applied


def test_truncated_real_frames_are_rejected(binance_frames):
    b = OrderBook("0.01", "0.00000001", sequence="binance_spot")
    snap = next(f for f in binance_frames if b'"lastUpdateId"' in f[:40])
    load_binance_snapshot(b, snap)
    depth = [f for f in binance_frames if b"@depth" in f[:40]]
    rng = random.Random(3)
    for f in rng.sample(depth, 20):
        for k in sorted(rng.sample(range(len(f)), 25)):
            _rejected(lambda: apply_binance_depth(b, f[:k]), b, FormatError)
    for k in range(0, len(snap), 97):
        _rejected(lambda: load_binance_snapshot(b, snap[:k]), b, FormatError)


BAD = [
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[["99.95","x"]],"a":[]}', InvalidDeltaError, "bids[0]"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[["100.10","1"],["100.1x","1"]]}', InvalidDeltaError, "asks[1]"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[["100.12","1"]]}', InvalidDeltaError, "asks[0]"),   # off grid
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[["100.10","0.0001"]]}', InvalidDeltaError, "asks[0]"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[[100.1,"1"]]}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":"11","u":12,"b":[],"a":[]}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12.5,"b":[],"a":[]}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[]}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"u":13,"b":[],"a":[]}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[],}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[]} x', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[],"x":"\x01"}', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[["100.10","1"]],"a":[]}', CrossedBookError, None),
    (b'[1,2]', FormatError, "at byte"),
    (b'', FormatError, "at byte"),
    (b'{"e":"depthUpdate","U":11,"u":12,"b":[],"a":[],"n":' + b"[" * 40 + b"]" * 40 + b"}", FormatError, "at byte"),
]


@pytest.mark.parametrize("frame,exc,names", BAD, ids=range(len(BAD)))
def test_bad_frames_leave_the_book_unchanged(frame, exc, names):
    b = _fresh()
    err = _rejected(lambda: apply_binance_depth(b, frame), b, exc)
    if names:
        assert names in str(err)


def test_gap_moves_only_the_gap_counter():
    b = _fresh()
    _rejected(lambda: apply_binance_depth(b, b'{"e":"depthUpdate","U":13,"u":14,"b":[],"a":[]}'), b,
              SequenceGapError, moved="gaps")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_frames_never_corrupt_the_book(data):
    """Any byte changed, inserted or deleted: either a clean outcome (the same as the Python
    path's on the decoded frame, when it still decodes) or a liqcore error, book unchanged."""
    f = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(f) - 1))
        op = data.draw(st.sampled_from(["set", "ins", "del"]))
        ch = data.draw(st.sampled_from(list(b'"[]{},:0123456789.-eE \\xu')))
        if op == "set":
            f[i] = ch
        elif op == "ins":
            f.insert(i, ch)
        else:
            del f[i]
    b = _fresh()
    before = without_stats(b)
    try:
        r = apply_binance_depth(b, bytes(f))
    except LiqError:
        assert without_stats(b) == before
        return
    try:
        # orjson as the reference of validity (numbers beyond a double included; see
        # test_frames_strict.py for the full differential)
        msg = orjson.loads(bytes(f))
    except ValueError:
        pytest.fail(f"accepted invalid JSON {bytes(f)!r}")
    if r.kind == "depth" and r.applied:
        ref = _fresh()
        d = msg["data"] if "data" in msg else msg
        ref.apply_levels(d["b"], d["a"], last_id=d["u"], first_id=d["U"])
        assert b.to_bytes() == ref.to_bytes()
    elif not r.applied:
        assert without_stats(b) == before


def test_okx_bad_frames():
    book = OrderBook(price_decimals=1, size_decimals=0, sequence="okx")
    apply_okx_books(book, b'{"arg":{"channel":"books","instId":"X"},"action":"snapshot","data":[{"asks":[["2.0","1","0","1"]],'
                          b'"bids":[["1.0","1","0","1"]],"ts":"1","checksum":0,"seqId":5,"prevSeqId":-1}]}')
    for frame, exc in [
        (b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[["2.0","x","0","1"]],"bids":[],"seqId":6,"prevSeqId":5}]}', InvalidDeltaError),
        (b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[],"bids":[],"seqId":6,"prevSeqId":5},{}]}', FormatError),
        (b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[],"bids":[],"seqId":"6","prevSeqId":5}]}', FormatError),
        (b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[],"bids":[],"seqId":6,"prevSeqId":5}]', FormatError),
        (b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[["2.05","1","0","1"]],"bids":[],"seqId":6,"prevSeqId":5}]}', InvalidDeltaError),
    ]:
        _rejected(lambda: apply_okx_books(book, frame), book, exc)
    _rejected(lambda: apply_okx_books(book, b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[],"bids":[],"seqId":9,"prevSeqId":8}]}'),
              book, SequenceGapError, moved="gaps")
    r = apply_okx_books(book, b'{"event":"subscribe","arg":{"channel":"books","instId":"X"}}')
    assert r.kind == "other" and not r.applied
