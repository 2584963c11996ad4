"""OKX v5 order books, sans I/O: channels, routing, the ``okx`` sequence rule and OKX's checksum.

Messages: ``{"arg": {"channel", "instId"}, "action": "snapshot"|"update", "data": [{"asks":
[[px, sz, "0", orders], ...], "bids", "checksum": int32, "seqId", "prevSeqId", "ts"}]}``. OKX
sends a snapshot after each subscribe; updates continue it under the book's ``okx`` rule
(``prevSeqId`` == the book's ``seqId``; a heartbeat has ``seqId == prevSeqId``; a reset
``seqId < prevSeqId``), then OKX's CRC32 of the top 25 levels is recomputed in C from the book's
wire strings. A checksum of 0 means "none" (deprecated by OKX from June 2026) and is counted as
absent. A message without ``seqId`` (older recordings) is checked by its checksum only.

Native frame path (``fast_path``): every frame's text goes to :func:`liqcore._frames.route_okx_books`,
which reads an ``update``'s ``instId``, takes its book from the connection's routing table and
applies the levels in the same pass — no JSON decode, no Python scan of the text, no Python object
per level; the sequence rule and the checksum run in C — with the same counts and reactions as the
decoded path, which takes snapshots (rare), events, books that are not live, and anything the C
parser declines (more decimals than the book's scale: the decoded path widens the book).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from liqcore._frames import FrameRoute, route_okx_books
from liqcore.errors import ChecksumError, FormatError, InvalidDeltaError
from liqcore.exchanges.protocol import NO_ROUTES, BookProtocol
from liqcore.feed.live_book import LiveBook

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

    #: update frames parsed in C straight into their book (routed by ``instId`` in the same pass)
    native_frames: ClassVar[bool] = True

    def on_frame(self, conn: Any, data: str) -> None:
        if self.fast_path and self.native_frames:
            res = route_okx_books(self.routes.get(conn, NO_ROUTES), data)
            route = res.route
            if route is not None and route.book is not None and self._native(conn, route, res):
                return
        super().on_frame(conn, data)         # decoded: snapshots, events, books not live, widening

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is not dict or "action" not in msg:
            return False
        arg = msg.get("arg")
        if type(arg) is not dict or type(arg.get("channel")) is not str or arg["channel"] not in self.channels:
            return False
        inst_id = str(arg.get("instId"))
        live = self.driver.book(conn, inst_id, self.market_type(arg))
        if live is None:
            return True                                   # a market the driver does not keep
        try:
            self._book_message(conn, live, arg, msg)
        finally:
            if self.native_frames:
                self._route(conn, inst_id, live)
        return True

    def _book_message(self, conn: Any, live: LiveBook, arg: Mapping[str, Any], msg: Mapping[str, Any]) -> None:
        """The data entries of one decoded book message of ``live``: snapshots loaded, updates applied."""
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

    def market_type(self, arg: Mapping[str, Any]) -> str | None:
        """The instrument type the market id is read with (None: OKX's ids are unique)."""
        return None

    def _route(self, conn: Any, inst_id: str, live: LiveBook) -> None:
        """Point ``inst_id``'s route on ``conn`` (what the C parser looks an update's ``instId`` up
        in) at ``live``'s book while it is live, None otherwise: kept current by :meth:`on_message`,
        where a book is loaded, rebuilt or fails. O(1)."""
        route = self.routes.route(conn, inst_id)
        if route is None:
            route = FrameRoute(None, live)
            self.routes.put(conn, inst_id, route)
        route.book = live.book if live.state == "live" else None

    def _native(self, conn: Any, route: FrameRoute, res: Any) -> bool:
        """An update routed to a live book's route and parsed in C (applied, or refused with the
        book unchanged): counted and reported. False when the decoded path must take it (a value
        the book's scales cannot hold: that path widens the book, or fails it)."""
        live: LiveBook = route.target
        if live.state != "live":                          # marked stale from outside (idle, disconnect)
            route.book = None
            live.skip()
            return True
        err = res.error
        if err is None:
            self.fast_frames += 1
            live.counted(res.applied, res.checksum_ok is True)          # None: absent or OKX's 0
            if res.applied:
                self.driver.changed(conn, live, res.last_id, res.event_ms if res.event_ms is not None else res.txn_ms)
            return True
        kind = type(err)
        if kind is FormatError or kind is InvalidDeltaError:
            return False
        self.fast_frames += 1
        if kind is ChecksumError:                         # applied, then the checksum differed
            live.counted(True)
            self.driver.failed(conn, live, err)
        else:                                             # gap, crossed, depth: resync this book
            self.refused(conn, live, err)
        route.book = None if live.state != "live" else live.book
        return True
