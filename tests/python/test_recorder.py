"""liqcore's recording format (liqcore/recorder.py): round trips, appending, and damage.

Damage tests are exhaustive over one block: the file cut at every byte offset of its last
block, every byte of a middle block flipped; earlier (and later) records must come back
intact and the damaged region must be reported exactly.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import RecordingFormatError
from liqcore.recorder import FILE_HEADER, MAX_BLOCK_BYTES, Damage, Recorder, RecordingReader, iter_liqcore
from liqcore.recordings import Record, convert, detect_format, iter_cryptofeed, iter_records

DATA = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"


def okx_frames(n=60):
    return [r for r in iter_cryptofeed(DATA / "OKX.ws.1.0") if r.kind == "recv"][:n]


def key(r: Record):
    return (r.ts_ns, r.mono_ns, r.url, r.kind, r.raw, r.exchange, r.symbol)


def write_blocks(path, groups):
    """One block per group of (raw, kwargs); returns the block boundaries (file offsets)."""
    bounds = [len(FILE_HEADER)]
    with Recorder(path, flush_interval=1e9) as rec:
        for group in groups:
            for raw, kw in group:
                rec.write(raw, **kw)
            rec.flush()
            bounds.append(os.path.getsize(path))
    return bounds


@pytest.fixture
def three_blocks(tmp_path):
    """A recording of three blocks of real OKX frames (the last one small) with explicit stamps."""
    frames = okx_frames(25)
    groups = [frames[:10], frames[10:20], frames[20:22]]
    groups = [[(r.raw, dict(exchange="okx", stream=r.url, ts_ns=r.ts_ns, mono_ns=1000 + i)) for i, r in
               enumerate(g)] for g in groups]
    path = tmp_path / "three.lqrec"
    bounds = write_blocks(path, groups)
    records = list(iter_liqcore(path))
    assert len(records) == 22 and [r.raw for r in records] == [r.raw for r in frames[:22]]
    return path, bounds, records


def test_round_trip_of_a_real_recording(tmp_path):
    src = DATA / "KRAKEN.ws.50.0"
    n = convert(src, tmp_path / "k.lqrec", block_bytes=64 * 1024)
    reader = RecordingReader(tmp_path / "k.lqrec")
    got = list(reader)
    want = list(iter_records(src))
    assert n == len(want) == len(got) == reader.records
    assert reader.blocks > 3 and reader.damage == []
    assert [(r.ts_ns, r.url, r.kind, r.raw) for r in got] == [(r.ts_ns, r.url, r.kind, r.raw) for r in want]
    assert {r.exchange for r in got} == {"kraken"} and all(r.mono_ns is None for r in got)
    assert detect_format(tmp_path / "k.lqrec") == "liqcore"
    assert os.path.getsize(tmp_path / "k.lqrec") < os.path.getsize(src) / 3      # compressed
    with pytest.raises(FileExistsError):
        convert(src, tmp_path / "k.lqrec")


def test_write_api_labels_clocks_and_kinds(tmp_path):
    clock = iter(range(5_000, 6_000, 10))
    p = tmp_path / "r.lqrec"
    with Recorder(p, wall_clock=lambda: 1_700_000_000_000_000_000, mono_clock=lambda: next(clock)) as rec:
        rec.write(b'{"a":1}', exchange="okx", stream="wss://ws.okx.com/ws/v5/public")
        rec.write('{"é":"ü"}', exchange="kraken", symbol="XBT/EUR", kind="sent")
        rec.write(b"", exchange="binance", symbol="BTCUSDT", kind="rest", ts_ns=-5, mono_ns=7)
        rec.write(bytes(range(256)), exchange="okx", stream="wss://ws.okx.com/ws/v5/public")
    got = list(iter_liqcore(p))
    assert [r.raw for r in got] == [b'{"a":1}', '{"é":"ü"}'.encode(), b"", bytes(range(256))]
    assert [r.kind for r in got] == ["recv", "sent", "rest", "recv"]
    assert [(r.exchange, r.url, r.symbol) for r in got] == [
        ("okx", "wss://ws.okx.com/ws/v5/public", None), ("kraken", None, "XBT/EUR"), ("binance", None, "BTCUSDT"),
        ("okx", "wss://ws.okx.com/ws/v5/public", None)]
    assert [r.ts_ns for r in got] == [1_700_000_000_000_000_000] * 2 + [-5, 1_700_000_000_000_000_000]
    assert [r.mono_ns for r in got][2] == 7 and got[0].mono_ns < got[1].mono_ns < got[3].mono_ns


def test_bad_writes_are_refused(tmp_path):
    rec = Recorder(tmp_path / "r.lqrec")
    with pytest.raises(ValueError, match="kind"):
        rec.write(b"{}", exchange="okx", kind="received")
    with pytest.raises(ValueError, match="symbol longer than 255"):
        rec.write(b"{}", exchange="okx", symbol="X" * 256)
    rec.close()
    with pytest.raises(ValueError, match="closed"):
        rec.write(b"{}", exchange="okx")
    assert list(iter_liqcore(tmp_path / "r.lqrec")) == []


def test_blocks_are_written_when_full_or_due(tmp_path):
    now = [0]
    p = tmp_path / "r.lqrec"
    rec = Recorder(p, block_bytes=1000, flush_interval=1.0, mono_clock=lambda: now[0])
    rec.write(b"x" * 100, exchange="okx")
    assert rec.pending == 1 and os.path.getsize(p) == len(FILE_HEADER)
    assert rec.flush_if_due() is False
    now[0] = 1_000_000_000                               # one second later
    assert rec.flush_if_due() is True and rec.pending == 0 and rec.blocks_written == 1
    rec.write(b"y" * 100, exchange="okx")
    now[0] += 2_000_000_000
    rec.write(b"z" * 100, exchange="okx")                # a write after the interval flushes
    assert rec.pending == 0 and rec.blocks_written == 2
    rec.write(b"w" * 2000, exchange="okx")               # a full block flushes at once
    assert rec.pending == 0 and rec.blocks_written == 3
    rec.close()
    assert [len(r.raw) for r in iter_liqcore(p)] == [100, 100, 100, 2000]


def test_reopen_appends(three_blocks):
    path, bounds, records = three_blocks
    with Recorder(path) as rec:
        assert rec.recovered_bytes == 0
        rec.write(b'{"new":1}', exchange="okx")
    got = list(iter_liqcore(path))
    assert [key(r) for r in got[:-1]] == [key(r) for r in records] and got[-1].raw == b'{"new":1}'


def test_cut_at_every_offset_of_the_last_block(three_blocks, tmp_path):
    path, bounds, records = three_blocks
    first_two = [key(r) for r in records[:20]]
    data = path.read_bytes()
    cut_path = tmp_path / "cut.lqrec"
    for cut in range(bounds[2], bounds[3]):
        cut_path.write_bytes(data[:cut])
        reader = RecordingReader(cut_path)
        assert [key(r) for r in reader] == first_two, cut
        if cut == bounds[2]:
            assert reader.damage == []
        else:
            assert reader.damage == [Damage(bounds[2], cut - bounds[2], reader.damage[0].reason)], cut
            assert "truncated" in reader.damage[0].reason
            with pytest.raises(RecordingFormatError, match=f"byte {bounds[2]:,}"):
                list(RecordingReader(cut_path, strict=True))
        # a recorder reopening after the crash cuts the partial block and appends after it
        with Recorder(cut_path) as rec:
            assert rec.recovered_bytes == cut - bounds[2]
            rec.write(b'{"after":"crash"}', exchange="okx")
        reader = RecordingReader(cut_path)
        assert [key(r) for r in reader][:-1] == first_two and reader.damage == []


def test_every_flipped_byte_of_a_middle_block_is_skipped_alone(three_blocks, tmp_path):
    path, bounds, records = three_blocks
    others = [key(r) for r in records[:10] + records[20:]]
    data = bytearray(path.read_bytes())
    bad = tmp_path / "flip.lqrec"
    for i in range(bounds[1], bounds[2]):
        data[i] ^= 0xFF
        bad.write_bytes(data)
        data[i] ^= 0xFF
        reader = RecordingReader(bad)
        assert [key(r) for r in reader] == others, i
        assert [(d.offset, d.length) for d in reader.damage] == [(bounds[1], bounds[2] - bounds[1])], i


def test_appending_after_middle_damage_keeps_the_later_blocks(three_blocks):
    path, bounds, records = three_blocks
    data = bytearray(path.read_bytes())
    data[bounds[1] + 60] ^= 0x01                          # inside block 2's payload
    path.write_bytes(data)
    with Recorder(path) as rec:
        assert rec.recovered_bytes == 0
        rec.write(b'{"new":1}', exchange="okx")
    reader = RecordingReader(path)
    got = [key(r) for r in reader]
    assert got[:-1] == [key(r) for r in records[:10] + records[20:]] and len(reader.damage) == 1
    assert reader.damage[0].reason == "block payload CRC mismatch"


def test_garbage_between_blocks_is_skipped(three_blocks):
    path, bounds, records = three_blocks
    data = path.read_bytes()
    path.write_bytes(data[:bounds[2]] + b"LQBK" + b"\0" * 100 + data[bounds[2]:])
    reader = RecordingReader(path)
    assert [key(r) for r in reader] == [key(r) for r in records]
    assert [(d.offset, d.length) for d in reader.damage] == [(bounds[2], 104)]


def test_valid_crc_but_undecodable_payload_is_damage(tmp_path):
    """A block whose CRCs hold but whose payload lies about its records (a writer bug, not noise)."""
    p = tmp_path / "r.lqrec"
    write_blocks(p, [[(b"{}", dict(exchange="okx"))]])
    data = bytearray(p.read_bytes())
    stored = zlib.compress(b"\x00\x00" + b"\x00" * 10)    # no sources, then a short record
    head = struct.pack("<4sHHIIIqqI", b"LQBK", 1, 1, 1, 12, len(stored), 0, 0, zlib.crc32(stored))
    data += head + struct.pack("<I", zlib.crc32(head)) + stored
    p.write_bytes(data)
    reader = RecordingReader(p)
    assert [r.raw for r in reader] == [b"{}"]
    assert len(reader.damage) == 1 and reader.damage[0].reason.startswith("undecodable block")


def test_not_a_recording_is_refused_untouched(tmp_path):
    text = tmp_path / "OKX.ws.1.0"
    shutil.copy(DATA / "OKX.ws.1.0", text)
    before = text.read_bytes()
    with pytest.raises(RecordingFormatError, match="not a liqcore recording"):
        Recorder(text)
    with pytest.raises(RecordingFormatError, match="not a liqcore recording"):
        list(RecordingReader(text))
    assert text.read_bytes() == before
    assert issubclass(RecordingFormatError, ValueError)


def test_newer_version_is_refused_untouched(tmp_path):
    p = tmp_path / "r.lqrec"
    write_blocks(p, [[(b"{}", dict(exchange="okx"))]])
    data = bytearray(p.read_bytes())
    v2 = FILE_HEADER[:8] + struct.pack("<HH", 2, 0)
    p.write_bytes(v2 + struct.pack("<I", zlib.crc32(v2)) + data[16:])
    with pytest.raises(RecordingFormatError, match="version 2"):
        list(RecordingReader(p))
    with pytest.raises(RecordingFormatError, match="version 2"):
        Recorder(p)
    assert p.read_bytes()[16:] == data[16:]


def test_interrupted_creation_holds_no_records_and_is_restarted(tmp_path):
    p = tmp_path / "r.lqrec"
    p.write_bytes(FILE_HEADER[:5])
    reader = RecordingReader(p)
    assert list(reader) == [] and reader.damage[0].reason == "truncated file header"
    with Recorder(p) as rec:
        assert rec.recovered_bytes == 5
        rec.write(b"{}", exchange="okx")
    assert [r.raw for r in iter_liqcore(p)] == [b"{}"]


def test_time_window_skips_blocks_without_decompressing(three_blocks):
    path, bounds, records = three_blocks
    start = records[10].ts_ns                            # first record of block 2
    reader = RecordingReader(path, start_ns=start)
    got = list(reader)
    assert reader.blocks == 2 and got[0].ts_ns == start and len(got) == 12


_text = st.text(max_size=20)
_record = st.builds(
    Record,
    ts_ns=st.integers(-(2**63), 2**63 - 1),
    url=st.one_of(st.none(), st.text(min_size=1, max_size=40)),
    kind=st.sampled_from(["recv", "rest", "sent"]),
    raw=st.binary(max_size=300),
    exchange=st.one_of(st.none(), st.sampled_from(["okx", "binance", "kraken", "bitgét"])),
    symbol=st.one_of(st.none(), st.text(min_size=1, max_size=12)),
    mono_ns=st.one_of(st.none(), st.integers(0, 2**63 - 1)),
)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(_record, max_size=40), block_bytes=st.integers(1, 2000), level=st.sampled_from([0, 1, 9]))
def test_any_records_round_trip(tmp_path_factory, records, block_bytes, level):
    p = tmp_path_factory.mktemp("h") / "r.lqrec"
    with Recorder(p, block_bytes=block_bytes, level=level) as rec:
        for r in records:
            rec.write_record(r)
    reader = RecordingReader(p)
    assert [key(r) for r in reader] == [key(r) for r in records]
    assert reader.damage == []


# ----------------------------------------------------------------------------- crafted block sizes
def _crafted_block(stored: bytes, raw_len: int, count: int = 1, codec: int = 1) -> bytes:
    """A block whose two CRCs hold but whose header says what a crafted file wants."""
    head = struct.pack("<4sHHIIIqqI", b"LQBK", 1, codec, count, raw_len, len(stored), 0, 0, zlib.crc32(stored))
    return head + struct.pack("<I", zlib.crc32(head)) + stored


def _peak_bytes(fn) -> int:
    """Peak of Python-visible allocations (bytes) while ``fn`` runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("raw_len", [MAX_BLOCK_BYTES + 1, 512 << 20, 0xFFFFFFFF])
def test_a_declared_block_size_beyond_the_writers_limit_is_damage_not_an_allocation(tmp_path, raw_len):
    p = tmp_path / "r.lqrec"
    bounds = write_blocks(p, [[(b'{"a":1}', dict(exchange="okx"))], [(b'{"b":2}', dict(exchange="okx"))]])
    data = p.read_bytes()
    crafted = _crafted_block(zlib.compress(b"\x00" * 4096), raw_len)
    p.write_bytes(data[:bounds[1]] + crafted + data[bounds[1]:])
    reader = RecordingReader(p)
    peak = _peak_bytes(lambda: [r.raw for r in reader])
    assert peak < 8 << 20, peak
    assert reader.records == 2 and [(d.offset, d.length) for d in reader.damage] == [(bounds[1], len(crafted))]
    assert "limit" in reader.damage[0].reason


def test_a_block_inflating_past_its_declared_size_stops_there(tmp_path):
    """A zlib bomb: 100 MiB of zeros compress to ~100 KB; the block says 256 KiB."""
    p = tmp_path / "r.lqrec"
    p.write_bytes(FILE_HEADER + _crafted_block(zlib.compress(bytes(100 << 20), 9), 256 << 10))
    reader = RecordingReader(p)
    peak = _peak_bytes(lambda: list(reader))
    assert peak < 8 << 20, peak
    assert reader.records == 0 and len(reader.damage) == 1 and "undecodable" in reader.damage[0].reason


def test_many_tiny_records_are_yielded_lazily(tmp_path):
    """A 64 KiB block of empty frames decodes one record at a time, not into a list of them all."""
    p = tmp_path / "r.lqrec"
    with Recorder(p, block_bytes=MAX_BLOCK_BYTES, flush_interval=1e9, level=9) as rec:
        for _ in range(200_000):
            rec.write(b"", exchange="okx")
    reader = RecordingReader(p)
    it = iter(reader)
    peak = _peak_bytes(lambda: next(it))
    assert peak < 3 * 200_000 * 24, peak                  # about the payload, not 200k Records
    assert 1 + sum(1 for _ in it) == 200_000


def test_the_writer_never_writes_a_block_the_reader_refuses(tmp_path):
    p = tmp_path / "r.lqrec"
    half = bytes(MAX_BLOCK_BYTES // 2)
    with Recorder(p, block_bytes=MAX_BLOCK_BYTES, flush_interval=1e9, level=0) as rec:
        rec.write(half, exchange="okx")
        rec.write(half, exchange="okx")                   # together past the limit: two blocks
        assert rec.blocks_written == 1
        with pytest.raises(ValueError, match="limit"):
            rec.write(bytes(MAX_BLOCK_BYTES), exchange="okx")
    with pytest.raises(ValueError, match="block_bytes"):
        Recorder(tmp_path / "s.lqrec", block_bytes=MAX_BLOCK_BYTES + 1)
    reader = RecordingReader(p)
    assert [len(r.raw) for r in reader] == [len(half)] * 2 and reader.blocks == 2 and reader.damage == []


# ----------------------------------------------------------------------------- damaged file header
@pytest.mark.parametrize("byte", range(16))
def test_a_flipped_bit_in_the_file_header_loses_no_block(three_blocks, byte):
    path, bounds, records = three_blocks
    data = bytearray(path.read_bytes())
    data[byte] ^= 0x10
    path.write_bytes(data)
    assert detect_format(path) == "liqcore"
    reader = RecordingReader(path)
    assert [key(r) for r in reader] == [key(r) for r in records]
    assert [(d.offset, d.length) for d in reader.damage] == [(0, 16)]
    assert "file header" in reader.damage[0].reason
    with pytest.raises(RecordingFormatError, match="file header"):
        list(RecordingReader(path, strict=True))
    with Recorder(path) as rec:                           # appending repairs the header
        assert rec.header_repaired and rec.recovered_bytes == 0
        rec.write(b'{"new":1}', exchange="okx")
    reader = RecordingReader(path)
    got = list(reader)
    assert reader.damage == [] and [key(r) for r in got[:-1]] == [key(r) for r in records]
    assert got[-1].raw == b'{"new":1}'


def test_a_damaged_header_with_a_damaged_first_block_keeps_the_later_ones(three_blocks):
    path, bounds, records = three_blocks
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    data[bounds[0] + 50] ^= 0x01
    path.write_bytes(data)
    reader = RecordingReader(path)
    assert [key(r) for r in reader] == [key(r) for r in records[10:]]
    assert [(d.offset, d.length) for d in reader.damage] == [(0, 16), (16, bounds[1] - 16)]


def test_no_magic_and_no_block_is_still_not_a_recording(tmp_path):
    p = tmp_path / "r.bin"
    p.write_bytes(b"\x89LIQREX\n" + bytes(8) + b"LQBK" + bytes(60))
    with pytest.raises(RecordingFormatError, match="not a liqcore recording"):
        list(RecordingReader(p))
    with pytest.raises(RecordingFormatError, match="not a liqcore recording"):
        Recorder(p)


def test_a_recorder_that_refuses_frames_does_not_stop_the_live_feed(tmp_path):
    """A recorder write that raises (here: the recorder was closed; in life a frame beyond the
    format's limit or a full disk) is counted on the exchange and logged; the books go on."""
    pytest.importorskip("ccxt.pro")
    from simtest import FAST, exchanges, run, until

    from liqcore.feed import LiveFeed
    from liqcore.sim import ExchangeSimulator

    async def body():
        async with ExchangeSimulator(seed=11, interval=FAST, max_seconds=20) as sim:
            rec = Recorder(tmp_path / "feed.lqrec")
            async with LiveFeed([("binance", "BTC/USDT")], exchanges=exchanges(sim, "binance"), recorder=rec) as feed:
                live = feed.live_book("binance", "BTC/USDT")
                await until(lambda: live.stats.applied >= 5)
                rec.close()                      # every later write raises ValueError
                applied = live.stats.applied
                await until(lambda: live.stats.applied >= applied + 10)
                ex = feed.exchange("binance")
                return ex.liq_record_errors, ex.liq_handler_errors, live.stats.applied - applied

    errors, handler_errors, more = run(body())
    assert errors >= 10 and handler_errors == 0 and more >= 10
