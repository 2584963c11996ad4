"""liqcore's own recording format: raw feed frames with receive times, compressed, appendable.

A recording keeps every frame exactly as received (websocket text/binary frames, REST response
bodies, optionally the frames the client sent) with two receive timestamps: wall clock
(``time.time_ns()``, ns since the Unix epoch, to line frames up with the world) and monotonic
(``time.monotonic_ns()``, ns, to measure intervals inside one recording session; not comparable
across sessions or machines). Each frame is labelled with its source: exchange, stream (the
connection URL or a stream name) and symbol (empty when one connection carries many).

Layout, version 1 (all integers little-endian)::

    file header, 16 bytes
      0  8  magic  b"\\x89LIQREC\\n"   (non-ASCII first byte: never mistaken for text)
      8  2  format version, u16 = 1
     10  2  flags, u16 = 0 (reserved)
     12  4  CRC-32 of bytes 0..12
    then blocks, back to back, each independently compressed:
    block header, 44 bytes
      0  4  magic  b"LQBK"            (lets a reader resynchronise after damage)
      4  2  format version, u16 = 1
      6  2  codec, u16: 0 stored, 1 zlib (RFC 1950)
      8  4  record count, u32
     12  4  payload length before compression, u32
     16  4  stored payload length, u32
     20  8  smallest wall-clock receive time in the block, i64 ns
     28  8  largest wall-clock receive time in the block, i64 ns
     36  4  CRC-32 of the stored payload
     40  4  CRC-32 of header bytes 0..40
    payload (after decompression)
      u16 source count, then per source: u8 length + exchange (UTF-8),
          u16 length + stream (UTF-8), u8 length + symbol (UTF-8)
      per record, in receive order: u16 source index (into this block's sources), u8 kind
          (0 recv, 1 rest, 2 sent), i64 wall ns, i64 monotonic ns (-1: not recorded),
          u32 frame length, the frame's bytes

Guarantees. A block is written with one ``write`` after it is complete, so a crash loses at most
the records not yet flushed and leaves at most one partial block at the end. Readers verify both
CRCs and the decoded structure of every block; a damaged or truncated block is skipped (and
reported in :attr:`RecordingReader.damage`) and reading resumes at the next valid block header, so
earlier and later records stay intact. :class:`Recorder` reopens an existing recording to append:
it cuts a damaged tail (bytes after the last valid block) first and never touches valid blocks.
Each block carries its own source table, so every block decodes alone.

Why zlib: it is in the standard library, its ratio on JSON frames is that of gzip, and it
compresses a 256 KiB block in a few milliseconds. zstd would decompress faster but needs a
third-party package before Python 3.14; the codec field leaves room for it.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from liqcore.errors import RecordingFormatError
from liqcore.recordings import Record, exchange_of, iter_records

__all__ = ["FILE_MAGIC", "VERSION", "KINDS", "Damage", "Recorder", "RecordingReader", "iter_liqcore",
           "is_liqcore_recording", "convert"]

FILE_MAGIC = b"\x89LIQREC\n"
BLOCK_MAGIC = b"LQBK"
VERSION = 1
#: record kinds, by their code in the file
KINDS = ("recv", "rest", "sent")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
CODEC_STORED, CODEC_ZLIB = 0, 1

_FILE_HDR = struct.Struct("<8sHHI")
_BLOCK_HDR = struct.Struct("<4sHHIIIqqII")
_REC = struct.Struct("<HBqqI")
_U16 = struct.Struct("<H")
_U32_MAX = 0xFFFFFFFF


def _file_header() -> bytes:
    head = _FILE_HDR.pack(FILE_MAGIC, VERSION, 0, 0)[:12]
    return head + struct.pack("<I", zlib.crc32(head))


FILE_HEADER = _file_header()


@dataclass(frozen=True, slots=True)
class Damage:
    """A skipped region of a recording: byte ``offset``, ``length`` bytes, and why."""

    offset: int
    length: int
    reason: str


def _check_file_header(head: bytes, path: str | Path) -> None:
    """Raise RecordingFormatError unless ``head`` (16 bytes) is a valid version-1 file header."""
    if len(head) < _FILE_HDR.size or head[:8] != FILE_MAGIC:
        raise RecordingFormatError(f"{path}: not a liqcore recording (no {FILE_MAGIC!r} magic)")
    _, version, _, crc = _FILE_HDR.unpack_from(head)
    if zlib.crc32(head[:12]) != crc:
        raise RecordingFormatError(f"{path}: damaged file header (CRC mismatch)")
    if version != VERSION:
        raise RecordingFormatError(f"{path}: recording format version {version}, this liqcore reads {VERSION}")


def is_liqcore_recording(path: str | Path) -> bool:
    """True when the file starts with the recording magic (or is a prefix of it: a recording whose
    creation was interrupted)."""
    with open(path, "rb") as fh:
        head = fh.read(len(FILE_MAGIC))
    return bool(head) and FILE_MAGIC.startswith(head) if len(head) < len(FILE_MAGIC) else head == FILE_MAGIC


# ----------------------------------------------------------------------------- block scanning

def _header_problem(buf, pos: int) -> str | None:
    """Why the block header at ``pos`` is not valid, or None. ``buf`` holds at least 44 bytes there."""
    if buf[pos:pos + 4] != BLOCK_MAGIC:
        return "no block magic"
    if zlib.crc32(buf[pos:pos + 40]) != struct.unpack_from("<I", buf, pos + 40)[0]:
        return "block header CRC mismatch"
    _, version, codec = struct.unpack_from("<4sHH", buf, pos)
    if version != VERSION:
        return f"block format version {version}"
    if codec not in (CODEC_STORED, CODEC_ZLIB):
        return f"unknown codec {codec}"
    return None


def _next_header(buf, start: int, size: int) -> int:
    """Offset of the next valid block header at or after ``start``, or ``size``. O(bytes scanned)."""
    while True:
        i = buf.find(BLOCK_MAGIC, start, size)
        if i < 0 or i + _BLOCK_HDR.size > size:
            return size
        if _header_problem(buf, i) is None:
            return i
        start = i + 1


def _scan(buf, pos: int, size: int) -> Iterator[tuple | Damage]:
    """Walk the blocks of ``buf[pos:size]``: yields ``(offset, header tuple, stored payload)`` per
    block whose header and payload CRCs hold, and a :class:`Damage` per skipped region."""
    while pos < size:
        if size - pos < _BLOCK_HDR.size:
            yield Damage(pos, size - pos, "truncated block header")
            return
        reason = _header_problem(buf, pos)
        if reason is None:
            hdr = _BLOCK_HDR.unpack_from(buf, pos)
            end = pos + _BLOCK_HDR.size + hdr[5]
            if end > size:
                reason = f"truncated block ({size - pos} of {end - pos} bytes)"
            else:
                stored = buf[pos + _BLOCK_HDR.size:end]
                if zlib.crc32(stored) == hdr[8]:
                    yield pos, hdr, stored
                    pos = end
                    continue
                reason = "block payload CRC mismatch"
        # resynchronise at the next valid header (inside the damaged region too: a valid
        # header cannot start there by chance but with probability 2**-32)
        nxt = _next_header(buf, pos + 1, size)
        yield Damage(pos, nxt - pos, reason)
        pos = nxt


class _BlockError(Exception):
    pass


def _decode(hdr: tuple, stored: bytes) -> list[Record]:
    """The records of one block whose CRCs hold; raises _BlockError if it does not decode."""
    _, _, codec, count, raw_len, _, _, _, _, _ = hdr
    try:
        payload = zlib.decompress(stored, bufsize=max(raw_len, 1)) if codec == CODEC_ZLIB else stored
        if len(payload) != raw_len:
            raise _BlockError(f"payload is {len(payload)} bytes, header says {raw_len}")
        (n_src,), off = _U16.unpack_from(payload, 0), 2
        sources = []
        for _ in range(n_src):
            n = payload[off]
            exchange = payload[off + 1:off + 1 + n].decode()
            off += 1 + n
            (n,) = _U16.unpack_from(payload, off)
            stream = payload[off + 2:off + 2 + n].decode()
            off += 2 + n
            n = payload[off]
            symbol = payload[off + 1:off + 1 + n].decode()
            off += 1 + n
            sources.append((exchange or None, stream or None, symbol or None))
        out = []
        for _ in range(count):
            si, kind, ts_ns, mono_ns, n = _REC.unpack_from(payload, off)
            off += _REC.size
            raw = payload[off:off + n]
            off += n
            if len(raw) != n:
                raise _BlockError("record runs past the payload")
            exchange, stream, symbol = sources[si]
            out.append(Record(ts_ns, stream, KINDS[kind], raw, exchange, symbol, None if mono_ns < 0 else mono_ns))
        if off != len(payload):
            raise _BlockError(f"{len(payload) - off} bytes after the last record")
        return out
    except (zlib.error, struct.error, IndexError, UnicodeDecodeError) as exc:
        raise _BlockError(f"{type(exc).__name__}: {exc}") from None


# ----------------------------------------------------------------------------- reading

class RecordingReader:
    """The records of a liqcore recording, in file order, lazily (one block in memory at a time).

    Parameters
    ----------
    path : the recording
    strict : raise :class:`~liqcore.errors.RecordingFormatError` at the first damaged region
        instead of skipping it.
    start_ns, end_ns : only blocks whose wall-clock range meets ``[start_ns, end_ns]`` are
        decompressed (the block headers carry the range); records outside it are still yielded
        from those blocks — filter on ``Record.ts_ns`` for an exact cut.

    After (or during) iteration: ``blocks`` and ``records`` read, ``damage`` (list of
    :class:`Damage`: skipped regions, e.g. a truncated last block after a crash).
    Raises RecordingFormatError at once if the file is not a liqcore recording (wrong magic,
    unsupported version). A file shorter than its header that is a prefix of it (creation
    interrupted) holds no records.
    """

    def __init__(self, path: str | Path, *, strict: bool = False, start_ns: int | None = None,
                 end_ns: int | None = None) -> None:
        self.path = Path(path)
        self.strict = strict
        self.start_ns, self.end_ns = start_ns, end_ns
        self.blocks = 0
        self.records = 0
        self.damage: list[Damage] = []

    def _skip(self, d: Damage) -> None:
        if self.strict:
            raise RecordingFormatError(f"{self.path}: damaged recording at byte {d.offset} "
                                       f"({d.length} bytes): {d.reason}")
        self.damage.append(d)

    def __iter__(self) -> Iterator[Record]:
        with open(self.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(_FILE_HDR.size)
            if len(head) < _FILE_HDR.size and FILE_HEADER.startswith(head):
                if head:
                    self._skip(Damage(0, len(head), "truncated file header"))
                return
            _check_file_header(head, self.path)
            if size == _FILE_HDR.size:
                return
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                for item in _scan(buf, _FILE_HDR.size, size):
                    if isinstance(item, Damage):
                        self._skip(item)
                        continue
                    pos, hdr, stored = item
                    if (self.start_ns is not None and hdr[7] < self.start_ns) or \
                            (self.end_ns is not None and hdr[6] > self.end_ns):
                        continue
                    try:
                        records = _decode(hdr, stored)
                    except _BlockError as exc:
                        self._skip(Damage(pos, _BLOCK_HDR.size + len(stored), f"undecodable block: {exc}"))
                        continue
                    self.blocks += 1
                    self.records += len(records)
                    yield from records


def iter_liqcore(path: str | Path, *, strict: bool = False) -> Iterator[Record]:
    """Records of a liqcore recording (see :class:`RecordingReader`; damage is skipped silently
    unless ``strict``; use the class to see it)."""
    return iter(RecordingReader(path, strict=strict))


# ----------------------------------------------------------------------------- writing

def _valid_end(fh, size: int) -> int:
    """End offset of the last valid block of an open recording (the file header's end if none).

    Fast path O(blocks): hop from header to header and check the last block's payload CRC; any
    surprise falls back to a full scan (O(file size)), which also finds valid blocks after
    damage in the middle, so those are never cut.
    """
    pos, last = _FILE_HDR.size, None
    while pos + _BLOCK_HDR.size <= size:
        fh.seek(pos)
        hdr = fh.read(_BLOCK_HDR.size)
        if _header_problem(hdr, 0) is not None:
            break
        end = pos + _BLOCK_HDR.size + _BLOCK_HDR.unpack_from(hdr)[5]
        if end > size:
            break
        last, pos = (pos, end, _BLOCK_HDR.unpack_from(hdr)[8]), end
    if pos == size:
        if last is None:
            return pos
        fh.seek(last[0] + _BLOCK_HDR.size)
        if zlib.crc32(fh.read(last[1] - last[0] - _BLOCK_HDR.size)) == last[2]:
            return size
    end = _FILE_HDR.size
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        for item in _scan(buf, _FILE_HDR.size, size):
            if not isinstance(item, Damage):
                end = item[0] + _BLOCK_HDR.size + len(item[2])
    return end


def _prepare(path: Path) -> int:
    """Create ``path`` with a file header, or check it and cut a damaged tail for appending.
    Returns the number of bytes cut."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size == 0:
        with open(path, "wb") as fh:
            fh.write(FILE_HEADER)
        return 0
    with open(path, "r+b") as fh:
        head = fh.read(_FILE_HDR.size)
        if len(head) < _FILE_HDR.size and FILE_HEADER.startswith(head):
            fh.seek(0)                                  # creation was interrupted: start again
            fh.truncate()
            fh.write(FILE_HEADER)
            return len(head)
        _check_file_header(head, path)
        end = _valid_end(fh, size)
        if end < size:
            fh.truncate(end)
        return size - end


def _utf8(s: str | None, limit: int, what: str) -> bytes:
    s = s or ""
    b = s.encode()
    if len(b) > limit:
        raise ValueError(f"{what} longer than {limit} bytes in UTF-8: {s[:40]!r}...")
    return b


class Recorder:
    """Append raw frames to a liqcore recording (created if missing, appended to if it exists).

    Parameters
    ----------
    path : the recording file; one Recorder per file at a time.
    block_bytes : a block is compressed and written once its records hold this many bytes
        (default 256 KiB).
    flush_interval : seconds; a pending block older than this is written by the next
        :meth:`write` or :meth:`flush_if_due` (default 1.0). A crash loses at most this much.
    level : zlib level 1..9, or 0 to store blocks uncompressed.
    fsync : ``os.fsync`` after every block (survives power loss, costs a disk round trip).
    wall_clock, mono_clock : the clocks stamping frames (``time.time_ns``, ``time.monotonic_ns``).

    ``write`` only copies the frame into the pending block (O(frame size)); the block is
    compressed and written in one ``write`` call when full or due, so the Recorder can be called
    from asyncio callbacks. Compressing a 256 KiB block costs a few ms of that callback: lower
    ``block_bytes`` or ``level``, or write from a thread, if that matters. After opening,
    :attr:`recovered_bytes` is the size of a damaged tail cut off (a crash's partial block).

    Examples
    --------
    >>> with Recorder("okx.lqrec") as rec:                       # doctest: +SKIP
    ...     async for frame in ws:
    ...         rec.write(frame, exchange="okx", stream=ws_url)
    """

    def __init__(self, path: str | Path, *, block_bytes: int = 256 * 1024, flush_interval: float = 1.0,
                 level: int = 6, fsync: bool = False, wall_clock: Callable[[], int] = time.time_ns,
                 mono_clock: Callable[[], int] = time.monotonic_ns) -> None:
        if not 0 <= level <= 9:
            raise ValueError(f"zlib level must be 0..9, got {level}")
        if not 0 < block_bytes <= 1 << 30:
            raise ValueError(f"block_bytes must be in 1..2**30, got {block_bytes}")
        self.path = Path(path)
        self.block_bytes = block_bytes
        self.flush_interval_ns = int(flush_interval * 1e9)
        self.level = level
        self.fsync = fsync
        self._wall, self._mono = wall_clock, mono_clock
        self.recovered_bytes = _prepare(self.path)
        # O_APPEND: every block lands at the end even if the file was extended meanwhile
        self._fh = open(self.path, "ab", buffering=0)
        self.blocks_written = 0
        self.records_written = 0
        self._reset()

    def _reset(self) -> None:
        self._buf = bytearray()
        self._sources: dict[tuple[str | None, str | None, str | None], int] = {}
        self._table = bytearray()
        self._count = 0
        self._started = 0
        self._ts_min = self._ts_max = 0

    # context manager
    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._fh.closed

    @property
    def pending(self) -> int:
        """Records written but not yet flushed to the file."""
        return self._count

    def write(self, raw: bytes | bytearray | memoryview | str, *, exchange: str, stream: str = "",
              symbol: str = "", kind: str = "recv", ts_ns: int | None = None, mono_ns: int | None = None) -> None:
        """Record one frame as received (``str`` frames are stored as their UTF-8 bytes).

        ``ts_ns``/``mono_ns`` default to the clocks now; pass the values taken when the frame
        arrived if the call comes later. ``kind``: ``"recv"`` (from the exchange), ``"rest"``
        (a REST response body) or ``"sent"`` (sent by the client)."""
        now = self._mono()
        self._add(raw, exchange, stream, symbol, kind, self._wall() if ts_ns is None else ts_ns,
                  now if mono_ns is None else mono_ns, now)

    def write_record(self, rec: Record) -> None:
        """Record a :class:`~liqcore.recordings.Record` as it is (e.g. converted from another format)."""
        self._add(rec.raw, rec.exchange, rec.url, rec.symbol, rec.kind, rec.ts_ns,
                  -1 if rec.mono_ns is None else rec.mono_ns, self._mono())

    def _add(self, raw, exchange, stream, symbol, kind, ts_ns: int, mono_ns: int, now: int) -> None:
        if self._fh.closed:
            raise ValueError("write to a closed Recorder")
        if isinstance(raw, str):
            raw = raw.encode()
        code = _KIND_CODE.get(kind)
        if code is None:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        n = len(raw)
        if n > _U32_MAX - 1024:
            raise ValueError(f"frame of {n} bytes is too large for a block")
        if self._count and len(self._buf) + len(self._table) + n + _REC.size > _U32_MAX - 1024:
            self.flush()
        key = (exchange, stream, symbol)
        idx = self._sources.get(key)
        if idx is None:
            entry = [_utf8(exchange, 255, "exchange"), _utf8(stream, 65535, "stream"), _utf8(symbol, 255, "symbol")]
            if len(self._sources) == 0xFFFF:
                self.flush()
            idx = self._sources[key] = len(self._sources)
            self._table += bytes([len(entry[0])]) + entry[0] + _U16.pack(len(entry[1])) + entry[1] \
                + bytes([len(entry[2])]) + entry[2]
        if self._count == 0:
            self._started = now
            self._ts_min = self._ts_max = ts_ns
        else:
            self._ts_min, self._ts_max = min(self._ts_min, ts_ns), max(self._ts_max, ts_ns)
        self._buf += _REC.pack(idx, code, ts_ns, mono_ns, n)
        self._buf += raw
        self._count += 1
        if len(self._buf) >= self.block_bytes or now - self._started >= self.flush_interval_ns:
            self.flush()

    def flush_if_due(self) -> bool:
        """Write the pending block if it is older than ``flush_interval`` (call it from a timer
        when frames may stop arriving). Returns True if a block was written."""
        if self._count and self._mono() - self._started >= self.flush_interval_ns:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        """Compress the pending records into one block and write it (nothing if none pend)."""
        if not self._count:
            return
        payload = _U16.pack(len(self._sources)) + self._table + self._buf
        codec = CODEC_ZLIB if self.level else CODEC_STORED
        stored = zlib.compress(payload, self.level) if self.level else bytes(payload)
        head = _BLOCK_HDR.pack(BLOCK_MAGIC, VERSION, codec, self._count, len(payload), len(stored),
                               self._ts_min, self._ts_max, zlib.crc32(stored), 0)[:40]
        block = memoryview(head + struct.pack("<I", zlib.crc32(head)) + stored)
        while block:                  # a raw FileIO write may be partial
            block = block[self._fh.write(block):]
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.blocks_written += 1
        self.records_written += self._count
        self._reset()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if not self._fh.closed:
            try:
                self.flush()
            finally:
                self._fh.close()


def convert(src: str | Path, dst: str | Path, *, exchange: str | None = None, **recorder_options) -> int:
    """Convert a recording in any format :func:`liqcore.recordings.iter_records` reads (hftbacktest,
    cryptofeed, liqcore) into a new liqcore recording ``dst``, frames and timestamps unchanged.

    Each record is labelled with ``exchange`` if given, else its own, else the one
    :func:`~liqcore.recordings.exchange_of` recognises (from the URL or the frame). Raises
    FileExistsError if ``dst`` exists. Returns the number of records written.
    """
    dst = Path(dst)
    if dst.exists():
        raise FileExistsError(f"{dst} exists; convert writes a new recording")
    with Recorder(dst, **recorder_options) as rec:
        for r in iter_records(src):
            ex = exchange or r.exchange or exchange_of(r)
            rec.write_record(r if ex == r.exchange else Record(r.ts_ns, r.url, r.kind, r.raw, ex, r.symbol, r.mono_ns))
    return rec.records_written            # after close: the last block is flushed
