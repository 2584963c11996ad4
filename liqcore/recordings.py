"""Readers for recorded raw feed traffic.

liqcore's own format is read by :mod:`liqcore.recorder` (through :func:`iter_records` too).
Two public capture formats are read here (the real recordings liqcore is tested on):

* hftbacktest's gzip text: one ``<receive time, ns since epoch> <raw JSON>`` per line;
* cryptofeed's raw text capture: ``<url> <-> <epoch>`` (connection opened),
  ``<url> <- <epoch>: <json>`` (sent by the client), ``<epoch>: <json>`` (received),
  ``<url> -> <epoch>: <json>`` (REST response); blank lines are skipped.

Readers yield :class:`Record` s lazily (constant memory) with the raw JSON bytes; parsing
is left to the caller (``orjson.loads``), so a replay decodes each frame once.
:func:`exchange_of` names the exchange of a record from its URL or its content.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import orjson

__all__ = ["Record", "Damage", "iter_hftbacktest", "iter_cryptofeed", "detect_format", "iter_records", "exchange_of",
           "EXCHANGES"]


@dataclass(frozen=True, slots=True)
class Record:
    """One recorded frame.

    Attributes
    ----------
    ts_ns : int
        Local receive time, ns since the Unix epoch.
    url : str | None
        Connection (websocket or REST URL) or stream name the frame belongs to, when the format says.
    kind : str
        ``"recv"`` (websocket frame from the exchange), ``"rest"`` (REST response) or ``"sent"``
        (sent by the client; liqcore recordings only).
    raw : bytes
        The frame's JSON text, as received.
    exchange, symbol : str | None
        The source's labels (liqcore recordings; None when the format does not say).
    mono_ns : int | None
        Monotonic receive time, ns (liqcore recordings; comparable within one recording session only).
    """

    ts_ns: int
    url: str | None
    kind: str
    raw: bytes
    exchange: str | None = None
    symbol: str | None = None
    mono_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Damage:
    """A region of a recording that could not be read and was skipped.

    ``offset`` and ``length`` are in bytes: of the file for a liqcore recording, of the text
    (decompressed, for a gzip capture) for the text formats, whose ``line`` (1-based) says where
    the region starts. ``length`` 0 means the rest of the file (a gzip stream that cannot be read
    on). ``reason`` says why.
    """

    offset: int
    length: int
    reason: str
    line: int | None = None


_UNPARSED: Any = object()


def _open(path: str | Path):
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def iter_hftbacktest(path: str | Path) -> Iterator[Record]:
    """Records of an hftbacktest capture (gzip or plain ``<ns> <json>`` lines)."""
    with _open(path) as fh:
        for line in fh:
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            ts, _, raw = line.partition(b" ")
            yield Record(int(ts), None, "recv", raw)


def iter_cryptofeed(path: str | Path) -> Iterator[Record]:
    """Received frames and REST responses of a cryptofeed raw capture, in file order."""
    url = None
    with _open(path) as fh:
        for line in fh:
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            if line[:1].isdigit():                      # "<epoch>: <json>" received
                ts, _, raw = line.partition(b": ")
                yield Record(round(float(ts) * 1e9), url, "recv", raw)
                continue
            head, sep, rest = line.partition(b" <-> ")
            if sep:                                     # connection opened
                url = head.decode()
                continue
            head, sep, rest = line.partition(b" -> ")
            if sep:                                     # REST response
                ts, _, raw = rest.partition(b": ")
                yield Record(round(float(ts) * 1e9), head.decode(), "rest", raw)
            # "<url> <- <epoch>: <json>": sent by the client, skipped


def detect_format(path: str | Path) -> str:
    """``"liqcore"`` (by its magic), else ``"hftbacktest"`` or ``"cryptofeed"`` from the first
    non-blank line."""
    from liqcore.recorder import is_liqcore_recording   # the recorder imports this module

    if is_liqcore_recording(path):
        return "liqcore"
    with _open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            ts, _, rest = line.partition(b" ")
            if ts.isdigit() and rest[:1] in (b"{", b"["):
                return "hftbacktest"
            return "cryptofeed"
    raise ValueError(f"{path}: empty recording")


def iter_records(path: str | Path) -> Iterator[Record]:
    """Records of a recording in any of the three formats (detected). Damaged blocks of a liqcore
    recording are skipped; use :class:`liqcore.recorder.RecordingReader` to see them."""
    fmt = detect_format(path)
    if fmt == "liqcore":
        from liqcore.recorder import iter_liqcore

        return iter_liqcore(path)
    return iter_hftbacktest(path) if fmt == "hftbacktest" else iter_cryptofeed(path)


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
