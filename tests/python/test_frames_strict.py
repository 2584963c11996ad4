"""The C frame parser against a strict JSON parser (issue 10, items 9, 10 and 11 for OKX).

* Regressions, each failing before the fix: a NUL byte ending the document, a combined-stream
  wrapper's keys taken as the payload's, invalid UTF-8 and lone surrogate escapes, numbers
  orjson refuses, escaped keys, a snapshot id overwritten by "u", ids equal to -2^63 (the C
  "no id" marker), an OKX frame with a non-UTF-8 instId and a wrong checksum.
* The differential (hypothesis): real frames (the Binance recording in liqcore/data, the OKX
  recording in tests/data/cryptofeed) mutated by byte flips, insertions, deletions,
  truncations, NUL, invalid UTF-8, surrogate escapes, escaped and repeated keys, nested
  wrappers. A frame orjson rejects is never applied (FormatError, the book unchanged but
  stats["rejected"]); a frame orjson accepts gives the same outcome, book (to_bytes(), stats
  included), ids, symbol and level counts as decoding it with orjson and applying it with
  OrderBook.apply_levels / apply_snapshot, except where docs/frames.md says why not:
    - a known key repeated in an object the parser reads: FormatError (orjson keeps the last);
    - nesting deeper than LIQ_FRAME_MAX_DEPTH (32): FormatError (orjson allows 1024);
    - a price or size written with an escape: InvalidDeltaError (orjson decodes it).
  The reference sees what orjson sees: it reads a decode that keeps every key and remembers
  which strings had escapes, and checks that this decode equals orjson.loads().

Examples: LIQ_FUZZ_EXAMPLES (default 300, what CI runs). The long run (>= 1M examples):
    LIQ_FUZZ_EXAMPLES=1000000 python -m pytest -q -p no:cacheprovider \
        tests/python/test_frames_strict.py -k differential
"""

from __future__ import annotations

import functools
import json
import json.decoder
import json.scanner
import os
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from liqcore import ChecksumError, FormatError, InvalidDeltaError, LiqError, OrderBook
from liqcore._frames import (apply_binance_depth, apply_okx_books, load_binance_snapshot,
                             scan_binance_depth, scan_binance_snapshot, scan_okx_books)
from liqcore.recordings import iter_cryptofeed, iter_hftbacktest
from liqcore.replay.books import BinanceAdapter
from liqcore.replay import BUNDLED_RECORDING

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = int(os.environ.get("LIQ_FUZZ_EXAMPLES", "300"))
STATS_AT, STATS_END = 52, 124   # src/book.h LIQ_SER_STATS_OFF / _END
ID_NONE = -(2**63)              # LIQ_ID_NONE
MAX_DEPTH = 32                  # LIQ_FRAME_MAX_DEPTH
OKX_CHANNELS = ("books", "books-l2-tbt", "books50-l2-tbt")


def without_stats(raw):
    return raw[:STATS_AT] + raw[STATS_END:]


# ---------------------------------------------------------------- regressions

DEPTH = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":11,"u":12,"b":[["99.95","0"],["99.90","1.5"]],"a":[["100.10","0.25"]]}'


def _spot():
    b = OrderBook("0.05", "0.002", sequence="binance_spot")
    b.apply_snapshot([["100.00", "1"], ["99.95", "2"]], [["100.05", "1"], ["101", "3"]], update_id=10)
    return b


def _refused(call, book, exc=FormatError):
    """call() raises exc; the book is unchanged but one more rejection."""
    before, rejected = book.to_bytes(), book.stats["rejected"]
    with pytest.raises(exc) as ei:
        call()
    assert isinstance(ei.value, LiqError)
    assert without_stats(book.to_bytes()) == without_stats(before)
    assert book.stats["rejected"] == rejected + 1
    return ei.value


@pytest.mark.parametrize("frame", [
    DEPTH + b"\x00garbage", DEPTH + b"\x00", DEPTH + b" \x00 ", DEPTH + b"\x00{}",
    DEPTH[:-1] + b',"x":"\xff"}', DEPTH[:-1] + b',"x":"\xc0\xaf"}', DEPTH[:-1] + b',"x":"\xed\xa0\x80"}',
    DEPTH.replace(b"BTCUSDT", b"BTC\xe2\x82"), DEPTH[:-1] + b',"\x80":1}',
    DEPTH[:-1] + b',"x":"\\ud800"}', DEPTH[:-1] + b',"x":"\\udc00"}', DEPTH[:-1] + b',"x":"\\ud800\\u0041"}',
    DEPTH.replace(b"BTCUSDT", b"\\uDBFF"),
    DEPTH[:-1] + b',"x":1e400}', DEPTH[:-1] + b',"x":[-2e308]}',
], ids=lambda f: repr(f[-24:]))
def test_not_json_is_refused(frame):
    """Item 10: what orjson refuses (a NUL after the document, invalid UTF-8, lone surrogate
    escapes, numbers beyond a double) is a FormatError, the book unchanged."""
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(frame)
    book = _spot()
    _refused(lambda: apply_binance_depth(book, frame), book)
    with pytest.raises(FormatError):
        scan_binance_depth(frame)


def test_wrapper_keys_are_not_the_payloads():
    """Item 10: the combined-stream wrapper's ids were merged into its payload."""
    book = _spot()
    payload = DEPTH.replace(b'"U":11,', b"")
    # U only in the wrapper: the payload has none
    _refused(lambda: apply_binance_depth(book, b'{"stream":"x","data":' + payload + b',"U":11}'), book)
    _refused(lambda: apply_binance_depth(book, b'{"U":11,"stream":"x","data":' + payload + b"}"), book)
    # the wrapper's own U/u/b are not the payload's, wherever they are
    r = apply_binance_depth(book, b'{"U":1,"u":99,"b":[["99.00","7"]],"data":' + DEPTH + b',"pu":3,"stream":"s"}')
    assert (r.kind, r.applied, r.first_id, r.last_id, r.prev_id, r.stream) == ("depth", True, 11, 12, None, "s")
    assert book.last_update_id == 12 and [px for px, _ in book.level_strings("bid", 3)] == ["100.00", "99.90"]
    # a value of "data" that is not an object: another kind of frame, whatever the wrapper holds
    assert apply_binance_depth(book, DEPTH[:-1] + b',"data":null}').kind == "other"
    # a snapshot's id is lastUpdateId: a "u" beside it was taken as the id
    _refused(lambda: load_binance_snapshot(book, b'{"lastUpdateId":20,"u":25,"bids":[],"asks":[]}'), book)


def test_escaped_keys_mean_their_text():
    """Item 10: "\\u0062" is the key "b" (orjson's reading): next to "b" it was a second, ignored
    "b" (orjson keeps the last, so the two paths gave different books); now a repeated key."""
    book = _spot()
    frame = DEPTH[:-1] + b',"\\u0062":[]}'
    assert orjson.loads(frame)["b"] == []
    _refused(lambda: apply_binance_depth(book, frame), book)
    r = apply_binance_depth(book, DEPTH.replace(b'"e":"depthUpdate"', b'"\\u0065":"depth\\u0055pdate"'))
    assert r.applied and book.last_update_id == 12


@pytest.mark.parametrize("frame", [
    DEPTH.replace(b'"U":11', b'"U":-9223372036854775808'),
    DEPTH.replace(b'"u":12', b'"u":-9223372036854775808'),
    DEPTH.replace(b'"U":11', b'"pu":-9223372036854775808,"U":11'),
])
def test_binance_id_none_is_refused(frame):
    """Item 11: -2^63 is the C "no id"; the book cannot hold it (apply_levels refuses it too)."""
    book, ref = _spot(), _spot()
    d = orjson.loads(frame)
    with pytest.raises(InvalidDeltaError):
        ref.apply_levels(d["b"], d["a"], last_id=d["u"], first_id=d["U"], prev_id=d.get("pu"))
    _refused(lambda: apply_binance_depth(book, frame), book)
    empty = OrderBook("0.05", "0.002", sequence="binance_spot")
    _refused(lambda: load_binance_snapshot(empty, b'{"lastUpdateId":-9223372036854775808,"bids":[],"asks":[]}'), empty)


def test_times_may_be_int64_min():
    """Item 11: E/T are not ids: -2^63 is a value, not "absent"."""
    r = scan_binance_depth(DEPTH.replace(b'"E":1', b'"E":-9223372036854775808,"T":-9223372036854775808'))
    assert (r.event_ms, r.txn_ms) == (ID_NONE, ID_NONE)
    assert scan_binance_depth(DEPTH).txn_ms is None


def _okx_recording():
    return [r.raw for r in iter_cryptofeed(DATA / "cryptofeed" / "OKX.ws.1.0") if r.kind == "recv"]


@pytest.fixture(scope="module")
def okx_frames():
    return _okx_recording()


def _okx_book(snap):
    s = scan_okx_books(snap)
    book = OrderBook(price_decimals=s.price_decimals, size_decimals=s.size_decimals, sequence="okx")
    apply_okx_books(book, snap)
    return book


def test_okx_id_none_is_refused(okx_frames):
    """Item 11: seqId = prevSeqId = -2^63 skipped the sequence check (taken as "no ids")."""
    snap = next(f for f in okx_frames if b'"action":"snapshot"' in f and b'"BTC-USDT"' in f)
    upd = next(f for f in okx_frames if b'"action":"update"' in f and b'"BTC-USDT"' in f)
    book = _okx_book(snap)
    msg = orjson.loads(upd)
    d = msg["data"][0]
    d["seqId"] = d["prevSeqId"] = ID_NONE
    with pytest.raises(InvalidDeltaError):
        _okx_book(snap).apply_levels(d["bids"], d["asks"], last_id=d["seqId"], prev_id=d["prevSeqId"])
    _refused(lambda: apply_okx_books(book, orjson.dumps(msg)), book)
    # -2^63 + 1 is an id like another: a gap on this book, checked
    d["seqId"] = d["prevSeqId"] = ID_NONE + 1
    with pytest.raises(LiqError, match="sequence gap"):
        apply_okx_books(book, orjson.dumps(msg))


def test_okx_bad_instid_and_checksum(okx_frames):
    """Item 9: a wrong checksum with a non-UTF-8 instId raised UnicodeDecodeError (after
    applying the update). Such a frame is not JSON: FormatError, nothing applied."""
    snap = next(f for f in okx_frames if b'"action":"snapshot"' in f and b'"BTC-USDT"' in f)
    upd = next(f for f in okx_frames if b'"action":"update"' in f and b'"BTC-USDT"' in f)
    msg = orjson.loads(upd)
    msg["data"][0]["checksum"] ^= 1
    bad = orjson.dumps(msg).replace(b'"BTC-USDT"', b'"BTC-\xff"')
    book = _okx_book(snap)
    _refused(lambda: apply_okx_books(book, bad), book)
    with pytest.raises(FormatError):
        scan_okx_books(bad)
    # escaped and non-ASCII instIds are text: symbol never raises, and names the book
    for inst, text in [(b"BTC\\u002dUSDT", "BTC-USDT"), (b"\\ud83d\\ude00\xc3\xa9", "\U0001f600\u00e9"), (b"\\\\", "\\")]:
        frame = orjson.dumps(msg).replace(b'"BTC-USDT"', b'"' + inst + b'"')
        assert scan_okx_books(frame).symbol == text
        with pytest.raises(ChecksumError, match=re.escape(text)):
            apply_okx_books(_okx_book(snap), frame)


# ---------------------------------------------------------------- the reference

class _Text(str):
    """A JSON string's text, remembering whether it was written with escapes."""
    escaped = False


class _Obj:
    """A JSON object as its (key, value) pairs in order, repeats kept."""
    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = pairs

    def last(self):
        """The object as orjson reads it: the last value of a repeated key."""
        return dict(self.pairs)

    def repeats(self, known):
        keys = [k for k, _ in self.pairs if k in known]
        return len(keys) != len(set(keys))

    def first(self, key):
        return next((v for k, v in self.pairs if k == key), None)


def _scanstring(s, end, strict=True):
    text, new_end = json.decoder.py_scanstring(s, end, strict)
    if "\\" in s[end:new_end - 1]:
        text = _Text(text)
        text.escaped = True
    return text, new_end


class _PairsDecoder(json.JSONDecoder):
    def __init__(self):
        super().__init__(object_pairs_hook=_Obj)
        self.parse_string = _scanstring
        self.scan_once = json.scanner.py_make_scanner(self)


def _plain(v):
    """The decode as orjson gives it (last key wins, str, integers beyond 64 bits as float)."""
    if isinstance(v, _Obj):
        return {k: _plain(x) for k, x in v.last().items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, str):
        return str(v)
    if type(v) is int and not -(2**63) <= v < 2**64:
        return float(v)
    return v


def _depth(v):
    if isinstance(v, _Obj):
        return 1 + max((_depth(x) for _, x in v.pairs), default=0)
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    return 0


@functools.lru_cache(maxsize=2)   # a Binance frame is checked as a depth frame, then as a snapshot
def _decode(raw):
    """None when orjson refuses the frame, else the pairs decode (checked equal to orjson's)."""
    try:
        want = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    got = _PairsDecoder().decode(raw.decode())
    assert _plain(got) == want, "the reference does not read what orjson reads"
    return got


FORMAT, OTHER, INVALID = "FormatError", "other", "InvalidDeltaError"


def _int(v, *, book_id):
    return type(v) is int and -(2**63) <= v < 2**63 and not (book_id and v == ID_NONE)


def _levels(v):
    return isinstance(v, list) and all(isinstance(lv, list) and len(lv) >= 2 and isinstance(lv[0], str)
                                       and isinstance(lv[1], str) for lv in v)


def _escaped(*sides):
    return any(getattr(x, "escaped", False) for side in sides for lv in side for x in lv[:2])


def _pairs(side):
    return [[str(lv[0]), str(lv[1])] for lv in side]


BINANCE_KEYS = {"e", "E", "s", "U", "u", "pu", "T", "b", "a", "bids", "asks", "lastUpdateId"}


def ref_binance(raw, kind):
    """What the frame must do, by the documented rules over orjson's decode: FORMAT, OTHER,
    INVALID, or (kind, apply(book) -> "applied"/"stale" | raises, fields)."""
    top = _decode(raw)
    if not isinstance(top, _Obj):
        return FORMAT
    data = top.first("data")
    if (_depth(top) > MAX_DEPTH or top.repeats(BINANCE_KEYS | {"stream", "data"})
            or (isinstance(data, _Obj) and data.repeats(BINANCE_KEYS))):
        return FORMAT
    t = top.last()
    payload = t["data"] if "data" in t else top   # msg.get("data", msg)
    if not isinstance(payload, _Obj):
        return OTHER
    p = payload.last()
    if kind == "depth" and p.get("e") != "depthUpdate":
        return OTHER
    if kind == "snapshot" and "lastUpdateId" not in p:
        return OTHER
    ids = ("U", "u", "pu") if kind == "depth" else ("lastUpdateId",)
    bad = ("stream" in t and not isinstance(t["stream"], str)) or ("s" in p and not isinstance(p["s"], str))
    bad |= any(k in p and not _int(p[k], book_id=k in ids) for k in ids + ("E", "T"))
    if kind == "depth":
        bids, asks = p.get("b"), p.get("a")
        bad |= "U" not in p or "u" not in p or any(k in p for k in ("bids", "asks", "lastUpdateId"))
    else:
        bids, asks = p.get("bids"), p.get("asks")
        bad |= any(k in p for k in ("b", "a", "U", "u", "pu"))
    if bad or not _levels(bids) or not _levels(asks):
        return FORMAT
    if _escaped(bids, asks):
        return INVALID
    fields = {"first_id": p.get("U"), "last_id": p.get("u", p.get("lastUpdateId")), "prev_id": p.get("pu"),
              "event_ms": p.get("E"), "txn_ms": p.get("T"), "symbol": p.get("s") or None,
              "stream": t.get("stream") or None, "bids": len(bids), "asks": len(asks)}
    if kind == "depth":
        def apply(book):
            return "applied" if book.apply_levels(_pairs(bids), _pairs(asks), last_id=p["u"], first_id=p["U"],
                                                  prev_id=p.get("pu")) else "stale"
    else:
        def apply(book):
            book.apply_snapshot(_pairs(bids), _pairs(asks), update_id=p["lastUpdateId"])
            return "applied"
    return kind, apply, fields


def ref_okx(raw):
    top = _decode(raw)
    if not isinstance(top, _Obj):
        return FORMAT
    arg, data = top.first("arg"), top.first("data")
    d0 = data[0] if isinstance(data, list) and data and isinstance(data[0], _Obj) else None
    if (_depth(top) > MAX_DEPTH or top.repeats({"arg", "action", "data"})
            or (isinstance(arg, _Obj) and arg.repeats({"channel", "instId"}))
            or (d0 is not None and d0.repeats({"asks", "bids", "ts", "checksum", "seqId", "prevSeqId"}))):
        return FORMAT
    t = top.last()
    a = t["arg"].last() if isinstance(t.get("arg"), _Obj) else {}
    channel, action = a.get("channel"), t.get("action")
    if not (isinstance(channel, str) and channel in OKX_CHANNELS and isinstance(action, str)
            and action in ("snapshot", "update") and "data" in t):
        return OTHER
    data = t["data"]
    if not isinstance(a.get("instId"), str) or not isinstance(data, list) or len(data) != 1 \
            or not isinstance(data[0], _Obj):
        return FORMAT
    d = data[0].last()
    ts = d.get("ts")
    bad = any(k in d and not _levels(d[k]) for k in ("asks", "bids"))
    bad |= "ts" in d and not (_int(ts, book_id=False) or (isinstance(ts, str) and re.fullmatch("[0-9]{1,18}", ts)))
    bad |= "checksum" in d and not (type(d["checksum"]) is int and -(2**31) <= d["checksum"] < 2**32)
    bad |= any(k in d and not _int(d[k], book_id=True) for k in ("seqId", "prevSeqId"))
    if bad:
        return FORMAT
    bids, asks = d.get("bids", []), d.get("asks", [])
    if _escaped(bids, asks):
        return INVALID
    seq, prev, cs = d.get("seqId"), d.get("prevSeqId"), d.get("checksum")
    fields = {"first_id": None, "last_id": seq, "prev_id": prev, "event_ms": int(ts) if ts is not None else None,
              "txn_ms": None, "symbol": a["instId"] or None, "stream": channel, "bids": len(bids), "asks": len(asks)}

    def apply(book):
        if action == "snapshot":
            book.apply_snapshot(_pairs(bids), _pairs(asks), update_id=seq)
        elif seq is None and prev is None:
            book.apply_levels(_pairs(bids), _pairs(asks))
        elif not book.apply_levels(_pairs(bids), _pairs(asks), last_id=seq, prev_id=prev):
            return "stale"
        if cs and (book.checksum("okx") - cs) % 2**32:
            raise ChecksumError("mismatch")
        return "applied"
    return action, apply, fields


def _outcome(call):
    try:
        return "ok", call()
    except LiqError as exc:
        return type(exc).__name__, None


def check_frame(raw, state, fn, scan, want):
    """Run fn(book, raw) on a book restored from state; compare with the expectation want.
    Returns what fn did: its error class name, or the kind of frame it read."""
    fast = OrderBook.from_bytes(state)
    got, res = _outcome(lambda: fn(fast, raw))
    # scan mode agrees on what is malformed and on the kind
    sgot, sres = _outcome(lambda: scan(raw))
    assert (sgot == FORMAT) == (got == FORMAT), (sgot, got)
    if want in (FORMAT, INVALID):
        assert got == want, f"{raw!r}: {got} instead of {want}"
        assert without_stats(fast.to_bytes()) == without_stats(state)
        assert fast.stats["rejected"] == OrderBook.from_bytes(state).stats["rejected"] + 1
        return got
    if want == OTHER:
        assert got == "ok" and res.kind == "other" and not res.applied, f"{raw!r}: {got} {res}"
        assert fast.to_bytes() == state
        assert sres.kind == "other"
        return res.kind
    kind, apply, fields = want
    ref = OrderBook.from_bytes(state)
    rgot, rres = _outcome(lambda: apply(ref))
    if rgot == "ok":
        assert got == "ok", f"{raw!r}: {got}, the reference {rres}"
        assert (res.kind, res.applied, res.stale) == (kind, rres == "applied", rres == "stale")
        assert {k: getattr(res, k) for k in fields} == fields
        assert sres.kind == kind
    else:
        assert got == rgot, f"{raw!r}: {got}, the reference {rgot}"
    assert fast.to_bytes() == ref.to_bytes()
    return got if res is None else res.kind


# ---------------------------------------------------------------- real frames and their books

@functools.lru_cache(maxsize=1)
def real_frames():
    """(family, frame, book state before it) for real frames of every kind: Binance depth
    frames on the synced book they continue (and a few before the snapshot), the REST snapshot
    on an empty book, bookTickers and trades; OKX snapshots on an empty book, updates on their
    instrument's book, events and other channels."""
    items = []
    okx_frames = _okx_recording()
    frames = [r.raw for r in iter_hftbacktest(BUNDLED_RECORDING)]
    book = OrderBook("0.01", "0.00000001", sequence="binance_spot")
    replay = BinanceAdapter(book=book)             # the Binance protocol, native frame path
    empty = book.to_bytes()
    depth_at = [i for i, f in enumerate(frames) if b"@depth" in f[:40]]
    pick = set(depth_at[:3]) | set(depth_at[:: max(1, len(depth_at) // 40)])
    others = [i for i, f in enumerate(frames) if b"@bookTicker" in f[:40]][:3] + \
             [i for i, f in enumerate(frames) if b"@trade" in f[:40]][:3]
    for i, f in enumerate(frames):
        if i in pick or i in others:
            items.append(("binance", f, book.to_bytes()))
        if b'"lastUpdateId"' in f[:40]:
            items.append(("binance", f, empty))
        replay.on_frame(f)
    books = {}
    updates = [f for f in okx_frames if b'"action":"update"' in f]
    pick = set(updates[:: max(1, len(updates) // 25)])
    for f in okx_frames:
        s = scan_okx_books(f)
        if s.kind == "other":
            if b"tickers" in f or b"subscribe" in f:
                items.append(("okx", f, OrderBook("0.1", "1", sequence="okx").to_bytes()))
            continue
        if s.kind == "snapshot":
            books[s.symbol] = OrderBook(price_decimals=s.price_decimals, size_decimals=s.size_decimals, sequence="okx")
            items.append(("okx", f, books[s.symbol].to_bytes()))
        elif f in pick:
            items.append(("okx", f, books[s.symbol].to_bytes()))
        apply_okx_books(books[s.symbol], f)
    return items


def test_real_frames_unmutated():
    """The unmutated frames go through both paths alike, and most of them apply."""
    results = []
    for family, raw, state in real_frames():
        if family == "binance":
            results.append(check_frame(raw, state, apply_binance_depth, scan_binance_depth, ref_binance(raw, "depth")))
            results.append(check_frame(raw, state, load_binance_snapshot, scan_binance_snapshot,
                                       ref_binance(raw, "snapshot")))
        else:
            results.append(check_frame(raw, state, apply_okx_books, scan_okx_books, ref_okx(raw)))
    assert results.count("depth") >= 40 and results.count("snapshot") == 4
    assert results.count("update") >= 20 and results.count("other") >= 60


# Bytes and fragments the mutations insert: structure, NUL, invalid and valid UTF-8, escapes
# (surrogates, escaped key letters and digits), numbers at the edges, ids of every kind.
TOKENS = [
    b"\x00", b"\xff", b"\x80", b"\xc3", b"\xc3\xa9", b"\xc0\xaf", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98\x80", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\ud800\\u0041", b"\\u0062", b"\\u0055",
    b"\\u0075", b"\\u0030", b"\\u0000", b"\\", b"\\\\", b"\\n", b"\\x", b'"', b",", b":", b"{", b"}", b"[", b"]",
    b" ", b"\t", b"0", b"-", b".", b"e", b"1e400", b"-1e-400", b"1.7976931348623158e308", b"1.8e308",
    b"18446744073709551616", b"-9223372036854775808", b"9223372036854775807", b"null", b"true",
    b'"U":5,', b'"u":7,', b'"pu":3,', b'"E":-9223372036854775808,', b'"b":[],', b'"a":[["1","1"]],',
    b'"e":"depthUpdate",', b'"data":{},', b'"data":', b'"lastUpdateId":3,', b'"stream":1,',
    b'"seqId":-9223372036854775808,', b'"prevSeqId":-9223372036854775808,', b'"checksum":0,',
    b'"instId":"X",', b'"action":"update",', b'"ts":"1",',
]
VALUES = [b"5", b"-9223372036854775808", b'"x"', b"[]", b'[["1","1"]]', b"null", b"{}", b'"\\u0031"', b"1.5",
          b'{"e":"depthUpdate"}']
KEYS = re.compile(rb'"(e|E|s|U|u|pu|T|b|a|bids|asks|lastUpdateId|stream|data|arg|action|channel|instId|ts|'
                  rb'checksum|seqId|prevSeqId)"\s*:')
WRAPS = [b'{"stream":"s","data":%s}', b'{"data":%s,"U":1,"u":2,"e":"depthUpdate","b":[]}', b'{"U":1,"data":%s}',
         b'{"stream":"s","data":{"stream":"t","data":%s}}', b"[%s]", b"%s\x00", b"%s %s", b"%s\x00garbage",
         b'{"arg":{"channel":"books","instId":"X"},"action":"update","data":[%s]}', b"\xef\xbb\xbf%s"]


@st.composite
def mutated(draw, frame):
    f = bytearray(frame)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["set", "ins", "del", "trunc", "digit", "digit", "dupkey", "dupkey", "esckey",
                                   "wrap", "unwrap"]))
        i = draw(st.integers(0, max(len(f) - 1, 0)))
        if op == "digit":        # still JSON: another price, size, id or checksum
            digits = [m.start() for m in re.finditer(rb"[0-9]", f)]
            if digits:
                f[digits[draw(st.integers(0, len(digits) - 1))]] = draw(st.sampled_from(b"0123456789"))
        elif op == "set" and f:
            f[i] = draw(st.one_of(st.integers(0, 255), st.sampled_from(list(b'\x00"\\{}[],: 0-.eu\x80\xff'))))
        elif op == "ins":
            f[i:i] = draw(st.sampled_from(TOKENS))
        elif op == "del":
            del f[i:i + draw(st.integers(1, 8))]
        elif op == "trunc":
            del f[i:]
        elif op in ("dupkey", "esckey"):
            keys = list(KEYS.finditer(f))
            if not keys:
                continue
            m = keys[draw(st.integers(0, len(keys) - 1))]
            if op == "dupkey":   # the same key again, just before, in the same object
                f[m.start():m.start()] = m.group(0) + draw(st.sampled_from(VALUES)) + b","
            else:                # its first letter as a \u escape
                f[m.start() + 1:m.start() + 2] = b"\\u%04x" % f[m.start() + 1]
        elif op == "wrap":
            w = draw(st.sampled_from(WRAPS))
            f = bytearray(w.replace(b"%s", bytes(f)))
        elif op == "unwrap":     # the raw-stream form: the value of "data" alone
            at = f.find(b'"data":')
            if at >= 0:
                f = f[at + 7:-1]
    return bytes(f)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_differential_against_orjson(data):
    family, frame, state = real_frames()[data.draw(st.integers(0, len(real_frames()) - 1), label="frame")]
    raw = data.draw(mutated(frame), label="mutated")
    if family == "binance":
        checks = [(apply_binance_depth, scan_binance_depth, ref_binance(raw, "depth")),
                  (load_binance_snapshot, scan_binance_snapshot, ref_binance(raw, "snapshot"))]
    else:
        checks = [(apply_okx_books, scan_okx_books, ref_okx(raw))]
    for fn, scan, want in checks:
        did = check_frame(raw, state, fn, scan, want)
        event(f"{fn.__name__}: {want if isinstance(want, str) else 'reference ' + want[0]} -> {did}")
