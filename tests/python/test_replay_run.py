"""liqcore.replay.replay over every real recording, in their own formats and converted to liqcore's.

Ground truth: the exchanges' own checksums (OKX 290, Bitget 443, Kraken 4,269) and the Binance
bookTicker checkpoints (564), plus EXPECTED.json's final books (tests/data/*/SOURCE.txt).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import orjson
import pytest

from liqcore import RecordingFormatError
from liqcore.recorder import Recorder, RecordingReader
from liqcore.recordings import Record, convert, exchange_of, iter_cryptofeed
from liqcore.replay import BUNDLED_RECORDING, replay, replay_binance
from liqcore.replay.books import binance_market_id
from liqcore.replay.run import _Pacer, replay_records

DATA = Path(__file__).resolve().parents[1] / "data"
CF = DATA / "cryptofeed"
EXPECTED_CF = json.loads((CF / "EXPECTED.json").read_text())
EXPECTED_BN = json.loads((DATA / "binance" / "EXPECTED.json").read_text())
REAL = [CF / "OKX.ws.1.0", CF / "BITGET.ws.1.0", CF / "KRAKEN.ws.50.0", CF / "KRAKEN.0", BUNDLED_RECORDING]
EXCHANGE = {"OKX.ws.1.0": "okx", "BITGET.ws.1.0": "bitget", "KRAKEN.ws.50.0": "kraken"}


def per_book(rep):
    return {(b.exchange, b.symbol): b.to_dict() for b in rep.books}


@pytest.fixture(scope="module")
def original():
    return replay(REAL)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    d = tmp_path_factory.mktemp("lqrec")
    paths = [d / (p.name + ".lqrec") for p in REAL]
    for src, dst in zip(REAL, paths):
        convert(src, dst)
    return replay(paths)


def check_against_expected(rep):
    books = per_book(rep)
    for name, exchange in EXCHANGE.items():
        exp = EXPECTED_CF[name]
        per = exp.get("per_instrument") or exp["per_pair"]
        assert sorted(s for e, s in books if e == exchange) == sorted(per)
        for sym, e in per.items():
            b = books[exchange, sym]
            assert b["checksums_ok"] == e["checksum_ok"] and b["checksums_failed"] == 0, sym
            assert b["applied"] == e.get("update", e.get("update_msgs")) and b["snapshots"] == 1, sym
            assert (b["gaps"], b["resyncs"], b["rejected"], b["skipped"], b["checksums_absent"]) == (0, 0, 0, 0, 0)
            final = exp["final_state"][sym]
            assert [b["best_bid"], b["best_ask"], b["levels"]] == [final["best_bid"], final["best_ask"],
                                                                   final["levels"]], sym
    b = books["binance", "BTCUSDT"]
    assert (b["checkpoints_ok"], b["checkpoints_failed"]) == (EXPECTED_BN["bbo_checkpoints_match"], 0) == (564, 0)
    assert (b["applied"], b["skipped"], b["gaps"]) == (EXPECTED_BN["applied"], EXPECTED_BN["dropped_before_snapshot"], 0)
    assert [b["best_bid"], b["best_ask"], b["levels"], b["last_update_id"]] == [
        EXPECTED_BN["final_best_bid"], EXPECTED_BN["final_best_ask"], EXPECTED_BN["final_levels_bids_asks"],
        EXPECTED_BN["last_applied_u"]]
    t = rep.totals()
    assert t["checksums_ok"] == 290 + 443 + 4269 and t["checksums_failed"] == 0
    assert t["checkpoints_ok"] == 564 and t["checkpoints_failed"] == 0
    assert rep.ok and rep.problems() == [] and len(rep.books) == 3 + 8 + 10 + 1


def test_every_real_recording_verifies(original):
    assert original.formats == ["cryptofeed"] * 4 + ["hftbacktest"]
    check_against_expected(original)
    assert original.unknown_exchange == 0 and original.undecodable == 0


def test_converted_recordings_replay_identically(original, converted):
    assert converted.formats == ["liqcore"] * 5
    check_against_expected(converted)
    assert per_book(converted) == per_book(original)
    assert (converted.frames, converted.book_frames, converted.other_frames) == \
        (original.frames, original.book_frames, original.other_frames)


def test_generic_binance_replay_equals_the_main_jobs():
    book, rep = replay_binance()
    b = replay(BUNDLED_RECORDING).book("binance", "BTCUSDT")
    assert (b.applied, b.skipped, b.gaps, b.checkpoints_ok, b.checkpoints_failed) == \
        (rep.applied, rep.skipped, rep.gaps, rep.checkpoints_ok, rep.checkpoints_failed)
    assert [b.best_bid, b.best_ask, b.levels] == [book.level_strings(0, 1)[0], book.level_strings(1, 1)[0],
                                                 [book.bid_count, book.ask_count]]


def test_explicit_exchange():
    rep = replay(CF / "OKX.ws.1.0", exchange="okx")
    assert rep.ok and rep.totals()["checksums_ok"] == 290
    wrong = replay(CF / "OKX.ws.1.0", exchange="kraken")       # nothing is a Kraken book: not "ok"
    assert wrong.books == [] and not wrong.ok and "no book was replayed" in wrong.problems()[0]
    with pytest.raises(ValueError, match="no replay adapter"):
        replay(CF / "OKX.ws.1.0", exchange="deribit")


def test_exchange_detection_from_content():
    def rec(raw, url=None):
        return Record(0, url, "recv", orjson.dumps(raw))
    assert exchange_of(rec({"stream": "btcusdt@depth@100ms", "data": {}})) == "binance"
    assert exchange_of(rec({"lastUpdateId": 1, "bids": [], "asks": []})) == "binance"
    assert exchange_of(rec({"e": "depthUpdate", "E": 1, "s": "BTCUSDT"})) == "binance"
    assert exchange_of(rec({"arg": {"channel": "books", "instId": "BTC-USDT"}, "data": []})) == "okx"
    assert exchange_of(rec({"arg": {"instType": "sp", "channel": "books", "instId": "X"}})) == "bitget"
    assert exchange_of(rec([1, {"a": []}, "book-10", "XBT/EUR"])) == "kraken"
    assert exchange_of(rec({"event": "heartbeat"})) == "kraken"
    assert exchange_of(rec({"hello": 1})) is None
    assert exchange_of(rec({"hello": 1}, "wss://ws.okx.com:8443/ws/v5/public")) == "okx"
    assert exchange_of(Record(0, None, "recv", b"not json")) is None
    assert exchange_of(Record(0, None, "recv", b"{}", exchange="bitget")) == "bitget"


def test_a_damaged_block_is_reported_and_caught_by_the_checksums(tmp_path):
    """Negative control: one block of the Kraken recording corrupted. The replay reports the damage
    and the missing updates make later checksums fail: the replay is not OK."""
    p = tmp_path / "k.lqrec"
    convert(CF / "KRAKEN.ws.50.0", p, block_bytes=32 * 1024)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x40
    p.write_bytes(data)
    rep = replay(p)
    assert len(rep.damage) == 1 and rep.damage[0]["reason"] == "block payload CRC mismatch"
    t = rep.totals()
    assert t["checksums_failed"] > 0 and t["checksums_ok"] < 4269
    assert not rep.ok and any("checksum mismatches" in p for p in rep.problems())


def _okx(action, bids, asks, seq, prev):
    return orjson.dumps({"arg": {"channel": "books", "instId": "X-USDT"}, "action": action,
                         "data": [{"bids": bids, "asks": asks, "checksum": 0, "seqId": seq, "prevSeqId": prev}]})


def test_okx_gap_drops_the_book_until_the_next_snapshot(tmp_path):
    p = tmp_path / "gap.lqrec"
    frames = [_okx("snapshot", [["1", "1"]], [["2", "1"]], 10, -1),
              _okx("update", [["1", "2"]], [], 11, 10),
              _okx("update", [["1", "3"]], [], 13, 12),        # gap: 11 -> 12 missing
              _okx("update", [["1", "4"]], [], 14, 13),        # no book: skipped
              _okx("snapshot", [["1", "5"]], [["2", "1"]], 20, -1),
              _okx("update", [["1", "6"]], [], 21, 20)]
    with Recorder(p) as rec:
        for f in frames:
            rec.write(f, exchange="okx", symbol="X-USDT")
    b = replay(p).book("okx", "X-USDT")
    assert (b.messages, b.snapshots, b.applied, b.gaps, b.skipped, b.resyncs) == (6, 2, 2, 1, 1, 1)
    assert b.checksums_absent == 4 and b.best_bid == ["1", "6"] and b.last_update_id == 21
    assert not b.ok and "SequenceGapError" in b.failures[0]


def test_frames_sent_by_the_client_are_not_replayed(tmp_path):
    p = tmp_path / "sent.lqrec"
    with Recorder(p) as rec:
        for r in iter_cryptofeed(CF / "OKX.ws.1.0"):
            rec.write_record(Record(r.ts_ns, r.url, r.kind, r.raw, "okx"))
        rec.write(_okx("snapshot", [["1", "1"]], [["2", "1"]], 1, -1), exchange="okx", kind="sent")
    rep = replay(p)
    assert rep.ok and "X-USDT" not in {b.symbol for b in rep.books}


class SimClock:
    """A clock that advances only when slept on (pacing is then exact and instant)."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.slept.append(s)
        self.now += s


def test_speed_paces_by_monotonic_stamps(tmp_path):
    """10 frames recorded 50 ms apart (monotonic) while the wall clock stepped back once: at 2x
    the replay takes 9 * 25 ms; the wall-clock step does not count."""
    frames = [r.raw for r in iter_cryptofeed(CF / "OKX.ws.1.0") if r.kind == "recv"][:10]
    p = tmp_path / "paced.lqrec"
    with Recorder(p) as rec:
        for i, raw in enumerate(frames):
            wall = 1_000_000_000_000 + i * 50_000_000 - (3_600_000_000_000 if i >= 5 else 0)
            rec.write(raw, exchange="okx", ts_ns=wall, mono_ns=7_000_000 + i * 50_000_000)
    clock = SimClock()
    rep = replay(p, speed=2.0, clock=clock, sleep=clock.sleep)
    assert rep.frames == 10 and rep.speed == 2.0
    assert clock.now - 100.0 == pytest.approx(9 * 0.025)
    assert len(clock.slept) == 9


def test_speed_in_real_time_for_public_formats():
    """Wall-clock stamps (cryptofeed: seconds with microseconds) drive the pace; real sleeping."""
    recs = [r for r in iter_cryptofeed(CF / "OKX.ws.1.0")][:8]
    span = (recs[-1].ts_ns - recs[0].ts_ns) / 1e9
    pacer = _Pacer(span / 0.2, time.perf_counter, time.sleep)   # the span replayed in 0.2 s
    t0 = time.perf_counter()
    replay_records(recs, pacer=pacer)
    assert time.perf_counter() - t0 >= 0.19      # paced: never faster (no upper bound: a busy machine is slower)
    with pytest.raises(ValueError, match="speed"):
        replay(CF / "OKX.ws.1.0", speed=-1)


def test_truncated_recording_fails_strict_replays(tmp_path):
    p = tmp_path / "o.lqrec"
    convert(CF / "OKX.ws.1.0", p)
    p.write_bytes(p.read_bytes()[:-10])
    reader = RecordingReader(p)
    list(reader)
    assert len(reader.damage) == 1
    with pytest.raises(RecordingFormatError):
        replay(p, strict=True)


def test_damaged_lines_of_a_text_capture_are_skipped_and_reported(tmp_path):
    """Lines of no cryptofeed form (an epoch that is not a number, junk) are damage: reported with
    their line (consecutive ones as one region), the other lines replayed; strict stops there."""
    lines = (CF / "OKX.ws.1.0").read_bytes().split(b"\n")
    recv = [i for i, ln in enumerate(lines) if ln[:1].isdigit()]
    k = recv[len(recv) // 2]
    for i in (k, k + 1):
        lines[i] = b"x" + lines[i]
    lines.insert(recv[-1], b"\x00\x01 not a line")
    p = tmp_path / "OKX.ws.1.0"
    p.write_bytes(b"\n".join(lines))
    rep = replay(p)
    assert [(d["line"], d["reason"]) for d in rep.damage] == [
        (k + 1, "not a cryptofeed capture line"), (recv[-1] + 1, "not a cryptofeed capture line")]
    assert rep.damage[0]["length"] == len(lines[k]) + len(lines[k + 1]) + 2
    assert rep.frames == len(list(iter_cryptofeed(CF / "OKX.ws.1.0"))) - 2
    assert not rep.ok and "2 damaged region(s) skipped" in rep.problems()
    with pytest.raises(RecordingFormatError, match=f"line {k + 1}: not a cryptofeed capture line"):
        replay(p, strict=True)


def test_frames_of_an_exchange_without_a_replay_adapter_are_counted(tmp_path):
    p = tmp_path / "mixed.lqrec"
    with Recorder(p) as rec:
        for i, r in enumerate(iter_cryptofeed(CF / "OKX.ws.1.0")):
            rec.write_record(Record(r.ts_ns, r.url, r.kind, r.raw, "okx"))
            if i % 100 == 0:
                rec.write(b'{"params":{"channel":"book.BTC-PERPETUAL.100ms"}}', exchange="deribit",
                          stream="wss://www.deribit.com/ws/api/v2")
    rep = replay(p)
    assert rep.no_adapter == {"deribit": 5} and rep.ok
    assert rep.totals()["checksums_ok"] == 290


@pytest.mark.parametrize("label, market_id", [
    ("BTCUSDT", "BTCUSDT"), ("btcusdt", "BTCUSDT"), ("BTC/USDT", "BTCUSDT"), ("BTC/USDT:USDT", "BTCUSDT"),
    ("BTC/USD:BTC", "BTCUSD_PERP"), ("BTC/USDT:USDT-250926", "BTCUSDT_250926"), ("ETH/USD:ETH-250926", "ETHUSD_250926"),
])
def test_binance_market_id_of_a_snapshot_label(label, market_id):
    assert binance_market_id(label) == market_id
