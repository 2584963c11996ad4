"""OKX v5 order books, sans I/O: channels, routing, the ``okx`` sequence rule and OKX's checksum.

Messages: ``{"arg": {"channel", "instId"}, "action": "snapshot"|"update", "data": [{"asks":
[[px, sz, "0", orders], ...], "bids", "checksum": int32, "seqId", "prevSeqId", "ts"}]}``. OKX
sends a snapshot after each subscribe; updates continue it under the book's ``okx`` rule
(``prevSeqId`` == the book's ``seqId``; a heartbeat has ``seqId == prevSeqId``; a reset
``seqId < prevSeqId``), then OKX's CRC32 of the top 25 levels is recomputed in C from the book's
wire strings. A checksum of 0 means "none" (deprecated by OKX from June 2026) and is counted as
absent. A message without ``seqId`` (older recordings) is checked by its checksum only.

Native frame path (``fast_path``): an ``update`` frame's text goes to
:func:`liqcore._frames.apply_okx_books` — no JSON decode, no Python object per level; the
sequence rule and the checksum run in C — with the same counts and reactions as the decoded path,
which takes snapshots (rare) and anything the C parser declines (more decimals than the book's
scale: the decoded path widens the book).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from liqcore._frames import apply_okx_books
from liqcore.errors import ChecksumError, FormatError, InvalidDeltaError
from liqcore.exchanges.protocol import BookProtocol
from liqcore.exchanges.wire import text_field

__all__ = ["OkxProtocol", "CHANNELS"]

#: OKX's incremental book channels and the levels each keeps (``books5``/``bbo-tbt`` are whole
#: top-N replacements, not incremental: not book channels of the protocol)
CHANNELS: Mapping[str, int] = {"books": 400, "books-l2-tbt": 400, "books50-l2-tbt": 50, "books-rpi": 400}


def _int(v: Any) -> int | None:
    """An id or a time in ms sent as an integer or a decimal string; None when absent. Anything
    else (a float, a bool) raises TypeError rather than being truncated."""
    if v is None or type(v) is int:
        return v
    if type(v) is str:
        return int(v)
    raise TypeError(f"not an integer: {v!r}")


class OkxProtocol(BookProtocol):
    """OKX's book channels (:data:`CHANNELS`); books keyed by ``instId``."""

    exchange: ClassVar[str] = "okx"
    channels: ClassVar[Mapping[str, int | None]] = CHANNELS
    checksum_kind: ClassVar[str | None] = "okx"
    #: the sequence rule of books whose messages carry ``seqId``
    sequence_rule: ClassVar[str] = "okx"
    #: the field of the sequence number in a data entry
    seq_field: ClassVar[str] = "seqId"

    def on_frame(self, conn: Any, data: str) -> None:
        if self.fast_path and '"action":"update"' in data and self._fast_update(conn, data):
            return
        super().on_frame(conn, data)

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is not dict or "action" not in msg:
            return False
        arg = msg.get("arg")
        if type(arg) is not dict or type(arg.get("channel")) is not str or arg["channel"] not in self.channels:
            return False
        live = self.driver.book(conn, str(arg.get("instId")), self.market_type(arg))
        if live is None:
            return True                                   # a market the driver does not keep
        channel = arg["channel"]
        snapshot = msg["action"] == "snapshot"
        data = msg.get("data")
        for d in data if type(data) is list else ():
            try:
                seq, ts = _int(d.get(self.seq_field)), _int(d.get("ts"))
            except (AttributeError, TypeError, ValueError):
                self.refused(conn, live, FormatError(f"{self.exchange} {arg.get('instId')}: bad data entry "
                                                     f"{str(d)[:80]!r}"))
                continue
            bids, asks = d.get("bids") or (), d.get("asks") or ()
            if snapshot:
                self.snapshot(conn, live, channel, bids, asks, update_id=seq,
                              sequence=None if seq is None else self.sequence_rule, checksum=d.get("checksum"),
                              timestamp_ms=ts)
            else:
                self.update(conn, live, bids, asks, last_id=seq, prev_id=d.get("prevSeqId"),
                            checksum=d.get("checksum"), timestamp_ms=ts)
        return True

    def market_type(self, arg: Mapping[str, Any]) -> str | None:
        """The instrument type the market id is read with (None: OKX's ids are unique)."""
        return None

    def _fast_update(self, conn: Any, data: str) -> bool:
        """One ``update`` frame's text parsed in C straight into the book of its ``instId``.
        False when the frame must take the decoded path (another channel, an unknown market,
        several ``data`` entries, a frame the C parser declines)."""
        channel = text_field(data, '"channel":"')
        inst_id = text_field(data, '"instId":"')
        if channel not in self.channels or inst_id is None:
            return False
        live = self.driver.book(conn, inst_id, None)
        if live is None:
            return False
        if live.state != "live":
            live.skip()                                   # in flight before the resync's snapshot
            return True
        try:
            res = apply_okx_books(live.book, data)
        except (FormatError, InvalidDeltaError):
            return False                                  # the decoded path widens, or fails the book
        except ChecksumError as exc:                      # applied, then the checksum differed
            live.counted(True)
            self.driver.failed(conn, live, exc)
            return True
        except Exception as exc:                          # gap, crossed, depth: resync this book
            self.refused(conn, live, exc)
            return True
        if res.kind != "update" or res.symbol != inst_id:
            return False
        self.fast_frames += 1
        live.counted(res.applied, res.checksum_ok is True)            # None: absent or OKX's 0
        if res.applied:
            self.driver.changed(conn, live, res.last_id, res.event_ms if res.event_ms is not None else res.txn_ms)
        return True
