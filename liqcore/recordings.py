"""Readers for recorded raw feed traffic.

liqcore's own format is read by :mod:`liqcore.recorder` (through :func:`iter_records` too);
:func:`convert` turns any of the three into a liqcore recording. The records themselves
(:class:`Record`, :class:`Damage`) are defined in :mod:`liqcore.recorded`, which the writer and
the readers share (so neither imports the other both ways).
Two public capture formats are read here (the real recordings liqcore is tested on):

* hftbacktest's gzip text: one ``<receive time, ns since epoch> <raw JSON>`` per line;
* cryptofeed's raw text capture: ``<url> <-> <epoch>`` (connection opened),
  ``<url> <- <epoch>: <json>`` (sent by the client), ``<epoch>: <json>`` (received),
  ``<url> -> <epoch>: <json>`` (REST response), ``configuration: <settings>`` (a header);
  blank lines are skipped.

Readers yield :class:`Record` s lazily (constant memory) with the raw JSON bytes; parsing
is left to the caller (``orjson.loads``), so a replay decodes each frame once. What cannot be
read (a line of another form, a truncated gzip stream, a damaged liqcore block) is skipped and
reported as :class:`Damage` by the readers (:class:`CaptureReader`, :func:`open_recording`).
:func:`exchange_of` names the exchange of a record from its URL or its content.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any, Iterator

import orjson

from liqcore.errors import RecordingFormatError
from liqcore.recorded import Damage, Record, damage_line
from liqcore.recorder import FILE_MAGIC, Recorder, RecordingReader, is_liqcore_recording

__all__ = ["Record", "Damage", "CaptureReader", "FORMATS", "iter_hftbacktest", "iter_cryptofeed", "detect_format",
           "open_recording", "iter_records", "damage_line", "exchange_of", "EXCHANGES", "convert"]


_UNPARSED: Any = object()


#: what liqcore reads, for messages about a file it cannot read
FORMATS = ("liqcore recordings (liqcore.recorder); hftbacktest captures ('<receive ns> <json>' lines) and "
           "cryptofeed raw captures ('<url> <-> <epoch>', '<epoch>: <json>' lines), plain or gzip")

_ARTICLE = {"hftbacktest": "an", "cryptofeed": "a"}
_GZIP_MAGIC = b"\x1f\x8b"
# a line is recognised by its first bytes; a longer prefix is never needed and a file without
# newlines (binary junk) is then never read whole
_PREFIX = 4096


def _open(path: str | Path):
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == _GZIP_MAGIC else open(path, "rb")


def _epoch_ns(text: bytes) -> int | None:
    """``<epoch>`` (seconds since the Unix epoch, decimal) in ns, or None if it is not one."""
    try:
        x = float(text)
    except ValueError:
        return None
    return round(x * 1e9) if 0 <= x < 9e9 else None


def _hftbacktest_line(line: bytes) -> Record | None:
    """The record of one ``<receive ns> <json>`` line, or None if the line is not one."""
    ts, sep, raw = line.partition(b" ")
    if not sep or not ts.isdigit() or len(ts) > 19 or int(ts) >= 1 << 63:
        return None
    return Record(int(ts), None, "recv", raw)


def _cryptofeed_line(line: bytes, url: str | None) -> tuple[Record | None, str | None] | None:
    """What one cryptofeed line holds: (its Record, or None for a line that holds none, and the
    connection URL from then on), or None if the line is none of the capture's forms."""
    if line[:1].isdigit():                              # "<epoch>: <json>" received
        ts, sep, raw = line.partition(b": ")
        ns = _epoch_ns(ts) if sep else None
        return None if ns is None else (Record(ns, url, "recv", raw), url)
    if line.startswith(b"configuration: "):           # the capture's header: the feed's settings
        return None, url
    head, _, rest = line.partition(b" ")                # "<url> <marker> <epoch>[: <json>]"
    marker, _, rest = rest.partition(b" ")
    try:
        where = head.decode()
    except UnicodeDecodeError:
        return None
    if not where or marker not in (b"<->", b"->", b"<-"):
        return None
    ts, sep, raw = rest.partition(b": ")
    ns = _epoch_ns(ts)
    if ns is None or (marker != b"<->") != bool(sep):
        return None
    if marker == b"<->":                                # connection opened
        return None, where
    if marker == b"->":                                 # REST response
        return Record(ns, where, "rest", raw), url
    return None, url                                    # sent by the client: not replayed


def _text_format(line: bytes) -> str | None:
    """``"hftbacktest"`` or ``"cryptofeed"`` if ``line`` (a capture's first non-blank line, or its
    first bytes) is one of theirs, else None."""
    if _hftbacktest_line(line) is not None and line.partition(b" ")[2][:1] in (b"{", b"["):
        return "hftbacktest"
    return "cryptofeed" if _cryptofeed_line(line, None) is not None else None


def _first_line(path: str | Path) -> bytes:
    """The first non-blank line of a text capture (its first bytes if long); b"" if none.
    Raises RecordingFormatError if the gzip stream cannot be read that far."""
    try:
        with _open(path) as fh:
            while True:
                line = fh.readline(_PREFIX)
                if not line or line.strip():
                    return line.strip()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise RecordingFormatError(f"{path}: not a recording liqcore can read (unreadable gzip stream: {exc}); "
                                   f"it reads {FORMATS}") from None


def detect_format(path: str | Path) -> str:
    """``"liqcore"``, ``"hftbacktest"`` or ``"cryptofeed"``, from the content: the liqcore magic
    (or a valid block, for a recording whose file header is damaged), else the first non-blank
    line. Raises :class:`~liqcore.errors.RecordingFormatError` for a file of none of them (empty,
    text of another kind, binary junk) and OSError for a file that cannot be opened."""
    with open(path, "rb") as fh:
        head = fh.read(len(FILE_MAGIC))
    if not head:
        raise RecordingFormatError(f"{path}: empty file, not a recording; liqcore reads {FORMATS}")
    if head == FILE_MAGIC:
        return "liqcore"
    fmt = _text_format(_first_line(path))
    if fmt is not None:
        return fmt
    if is_liqcore_recording(path):
        return "liqcore"
    raise RecordingFormatError(f"{path}: not a recording liqcore can read; it reads {FORMATS}")


class CaptureReader:
    """The records of an hftbacktest or cryptofeed capture (plain or gzip), in file order, lazily.

    Parameters
    ----------
    path : the capture
    fmt : ``"hftbacktest"`` or ``"cryptofeed"``; None: detected (:func:`detect_format`)
    strict : raise :class:`~liqcore.errors.RecordingFormatError` at the first damaged line
        instead of skipping it.

    A line of none of the format's forms is skipped and reported in ``damage`` (consecutive ones
    as one :class:`Damage`); a gzip stream that ends early (a truncated file) or is corrupt ends
    the reading there, with a :class:`Damage` saying after which line. Every record before it is
    yielded. Raises RecordingFormatError at once if the file is not a capture of ``fmt``. After
    (or during) iteration: ``lines`` and ``records`` read, ``damage``. Memory O(longest line).
    """

    def __init__(self, path: str | Path, fmt: str | None = None, *, strict: bool = False) -> None:
        if fmt not in (None, "hftbacktest", "cryptofeed"):
            raise ValueError(f"fmt must be 'hftbacktest' or 'cryptofeed', got {fmt!r}")
        self.path = Path(path)
        self.format = fmt
        self.strict = strict
        self.lines = 0
        self.records = 0
        self.damage: list[Damage] = []

    def _skip(self, d: Damage) -> None:
        if self.strict:
            raise RecordingFormatError(f"{self.path}: damaged capture at {d.describe()}")
        last = self.damage[-1] if self.damage else None
        if last is not None and last.length and d.length and last.offset + last.length == d.offset \
                and last.reason == d.reason:
            self.damage[-1] = Damage(last.offset, last.length + d.length, last.reason, last.line)
        else:
            self.damage.append(d)

    def __iter__(self) -> Iterator[Record]:
        detected = _text_format(_first_line(self.path))
        if self.format is None:
            if detected is None:
                detect_format(self.path)                    # says what the file is instead
                raise RecordingFormatError(f"{self.path}: a liqcore recording, not a text capture "
                                           f"(read it with liqcore.recorder.RecordingReader)")
            self.format = detected
        elif detected != self.format:
            raise RecordingFormatError(f"{self.path}: not {_ARTICLE[self.format]} {self.format} capture"
                                       + (f" (a {detected} one)" if detected else "") + f"; liqcore reads {FORMATS}")
        hft = self.format == "hftbacktest"
        offset, url = 0, None
        with _open(self.path) as fh:
            try:
                for line in fh:
                    self.lines += 1
                    start, offset = offset, offset + len(line)
                    line = line.rstrip(b"\r\n")
                    if not line:
                        continue
                    if hft:
                        rec = _hftbacktest_line(line)
                        valid = rec is not None
                    else:
                        got = _cryptofeed_line(line, url)
                        valid = got is not None
                        rec, url = got if got is not None else (None, url)
                    if not valid:
                        what = "'<receive ns> <json>'" if hft else "a cryptofeed capture line"
                        self._skip(Damage(start, offset - start, f"not {what}", self.lines))
                    elif rec is not None:
                        self.records += 1
                        yield rec
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                why = "ends early (truncated file?)" if isinstance(exc, EOFError) else f"is corrupt ({exc})"
                self._skip(Damage(offset, 0, f"the gzip stream {why}; nothing from this line on can be read",
                                  self.lines + 1))


def iter_hftbacktest(path: str | Path) -> Iterator[Record]:
    """Records of an hftbacktest capture (gzip or plain ``<ns> <json>`` lines); damaged lines and
    a truncated gzip tail are skipped (use :class:`CaptureReader` to see them)."""
    return iter(CaptureReader(path, "hftbacktest"))


def iter_cryptofeed(path: str | Path) -> Iterator[Record]:
    """Received frames and REST responses of a cryptofeed raw capture, in file order; damaged
    lines and a truncated gzip tail are skipped (use :class:`CaptureReader` to see them)."""
    return iter(CaptureReader(path, "cryptofeed"))


def open_recording(path: str | Path, *, strict: bool = False) -> Any:
    """A reader of the recording at ``path``, in its format (:func:`detect_format`): a
    :class:`liqcore.recorder.RecordingReader` or a :class:`CaptureReader`. Both are iterables of
    :class:`Record` with ``format``, ``records`` and ``damage``; ``strict`` raises at damage."""
    fmt = detect_format(path)
    if fmt == "liqcore":
        return RecordingReader(path, strict=strict)
    return CaptureReader(path, fmt, strict=strict)


def iter_records(path: str | Path) -> Iterator[Record]:
    """Records of a recording in any of the three formats (detected). Damage is skipped; use
    :func:`open_recording` to see it."""
    return iter(open_recording(path))


#: exchanges whose book feeds liqcore replays (see liqcore.replay)
EXCHANGES = ("binance", "okx", "bitget", "kraken")
_KRAKEN_EVENTS = frozenset({"systemStatus", "subscriptionStatus", "heartbeat"})


def exchange_of(rec: Record, msg: Any = _UNPARSED) -> str | None:
    """The exchange a record comes from, or None if neither its labels, URL nor content tell.

    Order: the record's ``exchange`` label; an exchange's name in the URL's host; the frame's
    shape (``msg``, the decoded frame, is parsed from ``rec.raw`` if not given): Binance combined
    streams (``"stream": "...@..."``), raw streams (``"e"``) and REST snapshots
    (``"lastUpdateId"``); OKX/Bitget ``"arg"`` objects (Bitget's carry ``instType``, OKX's book
    channels do not); Kraken v1 arrays (``"book-N"``) and events. Undecodable frames give None.
    """
    if rec.exchange:
        return rec.exchange
    if rec.url:
        host = rec.url.partition("://")[2].partition("/")[0].lower()
        for name in EXCHANGES:
            if name in host:
                return name
    if msg is _UNPARSED:
        try:
            msg = orjson.loads(rec.raw)
        except orjson.JSONDecodeError:
            return None
    if isinstance(msg, dict):
        if "lastUpdateId" in msg or "@" in str(msg.get("stream", "")) or "e" in msg and "E" in msg:
            return "binance"
        arg = msg.get("arg")
        if isinstance(arg, dict) and "instId" in arg:
            return "bitget" if "instType" in arg else "okx"
        if msg.get("event") in _KRAKEN_EVENTS:
            return "kraken"
    elif isinstance(msg, list) and len(msg) >= 4 and isinstance(msg[-2], str) and msg[-2].startswith("book-"):
        return "kraken"
    return None


def convert(src: str | Path, dst: str | Path, *, exchange: str | None = None, **recorder_options) -> int:
    """Convert a recording in any format :func:`iter_records` reads (hftbacktest,
    cryptofeed, liqcore) into a new liqcore recording ``dst``, frames and timestamps unchanged.

    Each record is labelled with ``exchange`` if given, else its own, else the one
    :func:`exchange_of` recognises (from the URL or the frame). Raises
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
