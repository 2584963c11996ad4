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
    A block's payload is at most MAX_BLOCK_BYTES (64 MiB) before compression, and its stored
    length at most zlib's bound for that (the stored length itself for codec 0): the writer never
    writes more (a frame is at most MAX_FRAME_BYTES), and a reader takes a larger declared size
    for damage (it allocates nothing for it).

Guarantees. A block is written with one ``write`` after it is complete, so a crash loses at most
the records not yet flushed and leaves at most one partial block at the end. Readers verify both
CRCs and the decoded structure of every block; a damaged or truncated block is skipped (and
reported in :attr:`RecordingReader.damage`) and reading resumes at the next valid block header, so
earlier and later records stay intact. A damaged file header is damage too, not the end of the
file: a file whose header lost its magic or CRC is still read when a valid block follows (found
by its magic and CRC). :class:`Recorder` reopens an existing recording to append: it rewrites a
damaged file header, cuts a damaged tail (bytes after the last valid block) and never touches
valid blocks. Each block carries its own source table, so every block decodes alone.

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
from liqcore.recorded import Damage, Record

__all__ = ["FILE_MAGIC", "VERSION", "KINDS", "MAX_BLOCK_BYTES", "MAX_FRAME_BYTES", "Damage", "Recorder",
           "RecordingReader", "iter_liqcore", "is_liqcore_recording"]

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
#: The largest block payload (bytes, before compression) the writer writes and a reader accepts:
#: a bound on what one block costs a reader, whatever its header declares. A frame may be up to
#: :data:`MAX_FRAME_BYTES`.
MAX_BLOCK_BYTES = 64 << 20
#: The largest frame :class:`Recorder` records, bytes: what fits in an empty block with its record
#: header and the longest source entry.
MAX_FRAME_BYTES = MAX_BLOCK_BYTES - _U16.size - _REC.size - (1 + 255 + 2 + 65535 + 1 + 255)


def _file_header() -> bytes:
    head = _FILE_HDR.pack(FILE_MAGIC, VERSION, 0, 0)[:12]
    return head + struct.pack("<I", zlib.crc32(head))


FILE_HEADER = _file_header()


def _has_magic(head: bytes) -> bool:
    """``head`` (the file's first bytes) starts with the magic, or is a non-empty prefix of it."""
    n = min(len(head), len(FILE_MAGIC))
    return n > 0 and head[:n] == FILE_MAGIC[:n]


def _file_header_damage(head: bytes, buf, size: int, path: str | Path) -> Damage | None:
    """None if ``head`` (the first 16 bytes of the file, ``buf`` its whole mapping, ``size``
    bytes) is a valid version-1 file header; a :class:`Damage` over the header when it is damaged
    but the file is a recording (its magic survives, or a valid block header follows it). Raises
    RecordingFormatError for a file that is not a recording, or one of another format version.
    O(1), or O(size) for a file without the magic (the scan for a block)."""
    if len(head) == _FILE_HDR.size and head[:8] == FILE_MAGIC:
        _, version, _, crc = _FILE_HDR.unpack_from(head)
        if zlib.crc32(head[:12]) == crc:
            if version != VERSION:
                raise RecordingFormatError(f"{path}: recording format version {version}, this liqcore reads {VERSION}")
            return None
        why = "CRC mismatch"
    elif head[:8] == FILE_MAGIC:
        why = "truncated"
    elif _next_header(buf, _FILE_HDR.size, size) < size:
        why = "no magic"
    else:
        raise RecordingFormatError(f"{path}: not a liqcore recording (no {FILE_MAGIC!r} magic, no valid block)")
    return Damage(0, len(head), f"damaged file header ({why})")


def is_liqcore_recording(path: str | Path) -> bool:
    """True when the file starts with the recording magic (or is a prefix of it: a recording whose
    creation was interrupted), or when it holds a valid block (a recording whose file header is
    damaged). O(1) for a file with the magic, else O(file size)."""
    with open(path, "rb") as fh:
        if _has_magic(fh.read(len(FILE_MAGIC))):
            return True
        size = os.fstat(fh.fileno()).st_size
        if size < _FILE_HDR.size + _BLOCK_HDR.size:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _next_header(buf, _FILE_HDR.size, size) < size


# ----------------------------------------------------------------------------- block scanning

def _zlib_bound(n: int) -> int:
    """The most bytes zlib's ``compress`` writes for ``n`` input bytes (zlib's compressBound)."""
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 13


def _header_problem(buf, pos: int) -> str | None:
    """Why the block header at ``pos`` is not valid, or None. ``buf`` holds at least 44 bytes there."""
    if buf[pos:pos + 4] != BLOCK_MAGIC:
        return "no block magic"
    if zlib.crc32(buf[pos:pos + 40]) != struct.unpack_from("<I", buf, pos + 40)[0]:
        return "block header CRC mismatch"
    _, version, codec, _, raw_len, stored_len = struct.unpack_from("<4sHHIII", buf, pos)
    if version != VERSION:
        return f"block format version {version}"
    if codec not in (CODEC_STORED, CODEC_ZLIB):
        return f"unknown codec {codec}"
    # what the writer cannot have written: read nothing of it (the sizes would be allocations)
    if raw_len > MAX_BLOCK_BYTES:
        return f"block declares {raw_len} bytes, beyond the format's limit of {MAX_BLOCK_BYTES}"
    if stored_len > (_zlib_bound(raw_len) if codec == CODEC_ZLIB else raw_len):
        return f"block stores {stored_len} bytes for a payload of {raw_len}"
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


def _decode(hdr: tuple, stored: bytes) -> tuple[bytes, list[tuple[str | None, str | None, str | None]], int]:
    """Check one block whose CRCs hold: returns its payload, its sources and where its records
    start; raises _BlockError if it does not decode. Memory: the payload (at most its declared
    length, itself at most MAX_BLOCK_BYTES, whatever the stored bytes inflate to); time O(records)."""
    _, _, codec, count, raw_len, _, _, _, _, _ = hdr
    try:
        if codec == CODEC_ZLIB:
            inflater = zlib.decompressobj()
            # one byte more than declared tells a longer payload apart, without inflating it all
            payload = inflater.decompress(stored, raw_len + 1)
            if not inflater.eof and len(payload) <= raw_len:
                raise _BlockError("truncated zlib stream")
        else:
            payload = bytes(stored)
        if len(payload) > raw_len:
            raise _BlockError(f"payload inflates past the {raw_len} bytes its header says")
        if len(payload) < raw_len:
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
        start, end = off, len(payload)
        for _ in range(count):
            si, kind, _, _, n = _REC.unpack_from(payload, off)
            off += _REC.size + n
            if off > end:
                raise _BlockError("record runs past the payload")
            if si >= n_src or kind >= len(KINDS):
                raise _BlockError(f"record of source {si} (of {n_src}), kind {kind}")
        if off != end:
            raise _BlockError(f"{end - off} bytes after the last record")
        return payload, sources, start
    except (zlib.error, struct.error, IndexError, UnicodeDecodeError) as exc:
        raise _BlockError(f"{type(exc).__name__}: {exc}") from None


def _records(payload: bytes, sources: list[tuple[str | None, str | None, str | None]], off: int,
             count: int) -> Iterator[Record]:
    """The records of a block :func:`_decode` checked, one at a time (a block of many small
    frames never becomes a list of as many objects)."""
    for _ in range(count):
        si, kind, ts_ns, mono_ns, n = _REC.unpack_from(payload, off)
        off += _REC.size
        exchange, stream, symbol = sources[si]
        yield Record(ts_ns, stream, KINDS[kind], payload[off:off + n], exchange, symbol,
                     None if mono_ns < 0 else mono_ns)
        off += n


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
    :class:`Damage`: skipped regions, e.g. a truncated last block after a crash, or a damaged
    file header). Raises RecordingFormatError at once if the file is not a liqcore recording
    (neither the magic nor a valid block) or of an unsupported version. A file shorter than its
    header that is a prefix of it (creation interrupted) holds no records. Memory: one block's
    payload (at most :data:`MAX_BLOCK_BYTES`) and the record being yielded.
    """

    format = "liqcore"

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
            raise RecordingFormatError(f"{self.path}: damaged recording at {d.describe()}")
        self.damage.append(d)

    def __iter__(self) -> Iterator[Record]:
        with open(self.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(_FILE_HDR.size)
            if len(head) < _FILE_HDR.size and FILE_HEADER.startswith(head):
                if head:
                    self._skip(Damage(0, len(head), "truncated file header"))
                return
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                damage = _file_header_damage(head, buf, size, self.path)
                if damage is not None:
                    self._skip(damage)
                for item in _scan(buf, _FILE_HDR.size, size):
                    if isinstance(item, Damage):
                        self._skip(item)
                        continue
                    pos, hdr, stored = item
                    if (self.start_ns is not None and hdr[7] < self.start_ns) or \
                            (self.end_ns is not None and hdr[6] > self.end_ns):
                        continue
                    try:
                        payload, sources, start = _decode(hdr, stored)
                    except _BlockError as exc:
                        self._skip(Damage(pos, _BLOCK_HDR.size + len(stored), f"undecodable block: {exc}"))
                        continue
                    del item, stored                    # only the payload is kept while its records go out
                    self.blocks += 1
                    for rec in _records(payload, sources, start, hdr[3]):
                        self.records += 1
                        yield rec


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


def _prepare(path: Path) -> tuple[int, bool]:
    """Create ``path`` with a file header, or check it for appending: rewrite a damaged file
    header, cut a damaged tail. Returns (bytes cut, whether the header was rewritten). Raises
    RecordingFormatError, touching nothing, for a file that is not a recording."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size == 0:
        with open(path, "wb") as fh:
            fh.write(FILE_HEADER)
        return 0, False
    with open(path, "r+b") as fh:
        head = fh.read(_FILE_HDR.size)
        if len(head) < _FILE_HDR.size and FILE_HEADER.startswith(head):
            fh.seek(0)                                  # creation was interrupted: start again
            fh.truncate()
            fh.write(FILE_HEADER)
            return len(head), False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            damage = _file_header_damage(head, buf, size, path)
        if damage is not None:
            fh.seek(0)                                  # the blocks after it are intact: keep them
            fh.write(FILE_HEADER)
            size = max(size, _FILE_HDR.size)
        end = _valid_end(fh, size)
        if end < size:
            fh.truncate(end)
        return size - end, damage is not None


def _utf8(s: str | None, limit: int, what: str) -> bytes:
    s = s or ""
    b = s.encode()
    if len(b) > limit:
        raise ValueError(f"{what} longer than {limit} bytes in UTF-8: {s[:40]!r}...")
    return b


def _source_entry(exchange: str | None, stream: str | None, symbol: str | None) -> bytes:
    """One source of a block's source table (ValueError for a label too long)."""
    ex, st, sy = _utf8(exchange, 255, "exchange"), _utf8(stream, 65535, "stream"), _utf8(symbol, 255, "symbol")
    return bytes([len(ex)]) + ex + _U16.pack(len(st)) + st + bytes([len(sy)]) + sy


class Recorder:
    """Append raw frames to a liqcore recording (created if missing, appended to if it exists).

    Parameters
    ----------
    path : the recording file; one Recorder per file at a time.
    block_bytes : a block is compressed and written once its records hold this many bytes
        (default 256 KiB, at most :data:`MAX_BLOCK_BYTES`).
    flush_interval : seconds; a pending block older than this is written by the next
        :meth:`write` or :meth:`flush_if_due` (default 1.0). A crash loses at most this much.
    level : zlib level 1..9, or 0 to store blocks uncompressed.
    fsync : ``os.fsync`` after every block (survives power loss, costs a disk round trip).
    wall_clock, mono_clock : the clocks stamping frames (``time.time_ns``, ``time.monotonic_ns``).

    ``write`` only copies the frame into the pending block (O(frame size)); the block is
    compressed and written in one ``write`` call when full or due, so the Recorder can be called
    from asyncio callbacks. Compressing a 256 KiB block costs a few ms of that callback: lower
    ``block_bytes`` or ``level``, or write from a thread, if that matters. After opening,
    :attr:`recovered_bytes` is the size of a damaged tail cut off (a crash's partial block) and
    :attr:`header_repaired` says whether a damaged file header was rewritten. A block never holds
    more than :data:`MAX_BLOCK_BYTES` (a block is written early rather than grow past it); a
    frame may hold up to :data:`MAX_FRAME_BYTES`.

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
        if not 0 < block_bytes <= MAX_BLOCK_BYTES:
            raise ValueError(f"block_bytes must be in 1..{MAX_BLOCK_BYTES}, got {block_bytes}")
        self.path = Path(path)
        self.block_bytes = block_bytes
        self.flush_interval_ns = int(flush_interval * 1e9)
        self.level = level
        self.fsync = fsync
        self._wall, self._mono = wall_clock, mono_clock
        self.recovered_bytes, self.header_repaired = _prepare(self.path)
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
        if n > MAX_FRAME_BYTES:
            raise ValueError(f"frame of {n} bytes is beyond the recording's limit of {MAX_FRAME_BYTES} bytes")
        key = (exchange, stream, symbol)
        idx = self._sources.get(key)
        entry = b"" if idx is not None else _source_entry(exchange, stream, symbol)
        # a block never grows past what readers accept (MAX_FRAME_BYTES leaves room for one
        # frame and its source in an empty block), nor past 65535 sources
        if self._count and (_U16.size + len(self._table) + len(entry) + len(self._buf) + _REC.size + n
                            > MAX_BLOCK_BYTES or idx is None and len(self._sources) == 0xFFFF):
            self.flush()
            if idx is not None:
                idx, entry = None, _source_entry(exchange, stream, symbol)
        if idx is None:
            idx = self._sources[key] = len(self._sources)
            self._table += entry
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
