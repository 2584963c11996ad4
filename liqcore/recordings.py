"""Readers for recorded raw feed traffic.

Two public capture formats are read (the real recordings liqcore is tested on):

* hftbacktest's gzip text: one ``<receive time, ns since epoch> <raw JSON>`` per line;
* cryptofeed's raw text capture: ``<url> <-> <epoch>`` (connection opened),
  ``<url> <- <epoch>: <json>`` (sent by the client), ``<epoch>: <json>`` (received),
  ``<url> -> <epoch>: <json>`` (REST response); blank lines are skipped.

Readers yield :class:`Record` s lazily (constant memory) with the raw JSON bytes; parsing
is left to the caller (``orjson.loads``), so a replay decodes each frame once.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

__all__ = ["Record", "iter_hftbacktest", "iter_cryptofeed", "detect_format", "iter_records"]


@dataclass(frozen=True, slots=True)
class Record:
    """One recorded frame.

    Attributes
    ----------
    ts_ns : int
        Local receive time, ns since the Unix epoch.
    url : str | None
        Connection (websocket or REST URL) the frame belongs to, when the format says.
    kind : str
        ``"recv"`` (websocket frame from the exchange) or ``"rest"`` (REST response).
    raw : bytes
        The frame's JSON text, as received.
    """

    ts_ns: int
    url: str | None
    kind: str
    raw: bytes


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
    """``"hftbacktest"`` or ``"cryptofeed"`` from the first non-blank line."""
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
    """Records of a recording in either format (detected)."""
    fmt = detect_format(path)
    return iter_hftbacktest(path) if fmt == "hftbacktest" else iter_cryptofeed(path)
