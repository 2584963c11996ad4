"""Books of exchanges that checksum them (OKX, Bitget, Kraken v1), sans I/O.

Each class takes decoded websocket messages of one exchange's book channel, keeps one
compiled :class:`~liqcore.OrderBook` per instrument, and verifies every checksum the
exchange sends against the checksum computed in C (:meth:`OrderBook.verify_checksum`).
Sockets, clocks and subscriptions belong to the caller; so does the reaction to a
mismatch (resubscribe), which is counted here and, with ``strict=True``, raised.

Book scales. A checksum is rebuilt from the exchange's own number strings, so a book
must hold every decimal the exchange sends. Unless ``decimals`` gives them per
instrument (the instrument's tick/lot decimals from metadata), the scales are the most
fraction digits in the snapshot's price and size strings: for Kraken v1 these are the
pair's wire decimals (which differ from REST AssetPairs ``pair_decimals``; e.g. XMR/USD
sends 8 price decimals for a 2-decimal pair). Should an update carry more fraction
digits than the book holds, the book is rebuilt at the larger scale from its own wire
strings (exact) and the update applied again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import orjson

from liqcore._book import ASK, BID, OrderBook
from liqcore.errors import ChecksumError, InvalidDeltaError
from liqcore.feed.scales import CrossPolicy, fraction_digits

__all__ = ["InstrumentCounts", "OkxBooks", "BitgetBooks", "KrakenV1Books", "KrakenV1Message", "parse_kraken_v1_book"]


@dataclass
class InstrumentCounts:
    """What one instrument's messages did (counts of messages)."""

    snapshots: int = 0
    updates: int = 0
    checksum_ok: int = 0
    checksum_failed: int = 0
    checksum_absent: int = 0   # the message carried no checksum (OKX sends 0 since June 2026)
    skipped: int = 0           # updates before any snapshot of the instrument (not applied)
    rescaled: int = 0          # book rebuilt at a larger scale for an update's extra decimals


class _ChecksummedBooks:
    """Per-instrument books and checksum counting shared by the exchange classes.

    Parameters
    ----------
    decimals : mapping of instrument -> (price decimals, size decimals), optional
        Book scales; instruments not in it take their scales from the snapshot strings.
    strict : bool
        Raise :class:`~liqcore.errors.ChecksumError` on a mismatch (after counting it)
        instead of only counting it.
    cross_policy : str
        The books' cross policy (see :class:`~liqcore.OrderBook`).
    """

    #: checksum kind passed to OrderBook.verify_checksum
    kind = ""
    #: label of the books
    exchange = ""

    def __init__(self, *, decimals: Mapping[str, tuple[int, int]] | None = None, strict: bool = False,
                 cross_policy: CrossPolicy = "raise") -> None:
        self.decimals = dict(decimals or {})
        self.strict = strict
        self.cross_policy = cross_policy
        self.books: dict[str, OrderBook] = {}
        self.counts: dict[str, InstrumentCounts] = {}
        #: one line per checksum mismatch: instrument, message number, both values
        self.failures: list[str] = []

    def on_frame(self, raw: bytes | str) -> str | None:
        """Decode one JSON frame and pass it to :meth:`on_message`."""
        return self.on_message(orjson.loads(raw))

    def on_message(self, msg: Any) -> str | None:
        """Apply one decoded message; returns the instrument whose book it changed, or
        None for messages of other channels (events, trades, heartbeats)."""
        raise NotImplementedError

    def _counts(self, symbol: str) -> InstrumentCounts:
        c = self.counts.get(symbol)
        if c is None:
            c = self.counts[symbol] = InstrumentCounts()
        return c

    def _snapshot(self, symbol: str, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], *,
                  max_depth: int | None = None, update_id: int | None = None,
                  sequence: str | None = None) -> OrderBook:
        pd, qd = self.decimals.get(symbol) or (
            max(fraction_digits(bids, 0, strings_only=False), fraction_digits(asks, 0, strings_only=False)),
            max(fraction_digits(bids, 1, strings_only=False), fraction_digits(asks, 1, strings_only=False)))
        book = OrderBook(price_decimals=pd, size_decimals=qd, max_depth=max_depth, cross_policy=self.cross_policy,
                         sequence=sequence, symbol=symbol, exchange=self.exchange)
        book.apply_snapshot(bids, asks, update_id=update_id)
        self.books[symbol] = book
        self._counts(symbol).snapshots += 1
        return book

    def _update(self, symbol: str, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], *,
                last_id: int | None = None, prev_id: int | None = None) -> OrderBook | None:
        book = self.books.get(symbol)
        counts = self._counts(symbol)
        if book is None:
            counts.skipped += 1
            return None
        try:
            book.apply_levels(bids, asks, last_id=last_id, prev_id=prev_id)
        except InvalidDeltaError:
            pd = max(fraction_digits(bids, 0, strings_only=False), fraction_digits(asks, 0, strings_only=False))
            qd = max(fraction_digits(bids, 1, strings_only=False), fraction_digits(asks, 1, strings_only=False))
            if pd <= book.price_decimals and qd <= book.size_decimals:
                raise
            book = self._rescale(book, pd, qd)
            counts.rescaled += 1
            book.apply_levels(bids, asks, last_id=last_id, prev_id=prev_id)
        counts.updates += 1
        return book

    def _rescale(self, book: OrderBook, pd: int, qd: int) -> OrderBook:
        """The same book at scales of at least (pd, qd), rebuilt from its wire strings (exact)."""
        new = OrderBook(price_decimals=max(pd, book.price_decimals), size_decimals=max(qd, book.size_decimals),
                        max_depth=book.max_depth, cross_policy=book.cross_policy, sequence=book.sequence,
                        symbol=book.symbol, exchange=book.exchange)
        new.apply_snapshot(book.level_strings(BID), book.level_strings(ASK), update_id=book.last_update_id)
        self.books[str(book.symbol)] = new       # the books here are created with their symbol
        return new

    def _check(self, symbol: str, expected: int | str) -> bool:
        """Verify the instrument's book against the exchange's checksum and count it."""
        counts = self._counts(symbol)
        try:
            checked = self.books[symbol].verify_checksum(self.kind, expected)
        except ChecksumError as exc:
            counts.checksum_failed += 1
            self.failures.append(f"{symbol} message {counts.snapshots + counts.updates}: {exc}")
            if self.strict:
                raise
            return False
        if checked:
            counts.checksum_ok += 1
        else:
            counts.checksum_absent += 1
        return checked


class OkxBooks(_ChecksummedBooks):
    """OKX v5 order-book channels (``books``, ``books-l2-tbt``, ``books50-l2-tbt``).

    Messages: ``{"arg": {"channel", "instId"}, "action": "snapshot"|"update", "data":
    [{"asks": [[px, sz, "0", orders], ...], "bids": ..., "checksum": int32, "seqId"?,
    "prevSeqId"?}]}``. When ``seqId`` is present the books use the ``okx`` sequence rule
    (:class:`~liqcore.errors.SequenceGapError` on a gap, book unchanged). A checksum of 0
    is "no checksum" (deprecated by OKX from June 2026) and counted as absent.
    """

    kind = "okx"
    exchange = "okx"
    channels = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})

    def on_message(self, msg: Any) -> str | None:
        if not isinstance(msg, dict) or "data" not in msg or "action" not in msg:
            return None
        arg = msg.get("arg") or {}
        if arg.get("channel") not in self.channels:
            return None
        symbol = arg["instId"]
        for d in msg["data"]:
            seq = d.get("seqId")
            if msg["action"] == "snapshot":
                self._snapshot(symbol, d.get("bids", ()), d.get("asks", ()), update_id=seq,
                               sequence=None if seq is None else self.kind)
            elif self._update(symbol, d.get("bids", ()), d.get("asks", ()), last_id=seq,
                              prev_id=d.get("prevSeqId")) is None:
                continue
            if "checksum" in d:
                self._check(symbol, d["checksum"])
        return symbol


class BitgetBooks(OkxBooks):
    """Bitget ``books`` (spot v1 and v2): OKX's message layout and checksum algorithm
    (``{"action", "arg": {"instType", "channel", "instId"}, "data": [{"asks": [[px, sz]],
    "bids", "checksum", "ts"}]}``). Bitget's 0 is a real checksum value."""

    kind = "bitget"
    exchange = "bitget"
    channels = frozenset({"books"})


@dataclass(frozen=True)
class KrakenV1Message:
    """One Kraken websocket v1 ``book-N`` message, its dicts merged.

    ``bids``/``asks`` are the entries as sent, in order (``[price, volume, timestamp]``, a
    4th field ``"r"`` on republished ones); ``checksum`` is the unsigned CRC32 as its decimal
    string (updates only; None when absent); ``depth`` is the subscribed depth N.
    """

    pair: str
    depth: int
    snapshot: bool
    bids: list[Sequence[Any]]
    asks: list[Sequence[Any]]
    checksum: str | None = None


def parse_kraken_v1_book(msg: Any) -> KrakenV1Message | None:
    """The book message in a decoded Kraken v1 frame, or None for other frames (events,
    heartbeats, other channels).

    Snapshot ``[chan, {"as": [...], "bs": [...]}, "book-N", pair]``; update ``[chan, {"a":
    [...]}, ({"b": [...], "c": "crc"},) "book-N", pair]`` with one or two dicts, the
    checksum in the last. O(entries).
    """
    if not isinstance(msg, list) or len(msg) < 4:
        return None
    channel, pair = msg[-2], msg[-1]
    if not isinstance(channel, str) or not channel.startswith("book-"):
        return None
    parts = msg[1:-2]
    depth = int(channel[5:])
    if "as" in parts[0] or "bs" in parts[0]:
        return KrakenV1Message(pair, depth, True, list(parts[0].get("bs", ())), list(parts[0].get("as", ())))
    bids: list[Sequence[Any]] = []
    asks: list[Sequence[Any]] = []
    expected = None
    for p in parts:
        asks.extend(p.get("a", ()))
        bids.extend(p.get("b", ()))
        expected = p.get("c", expected)
    return KrakenV1Message(pair, depth, False, bids, asks, expected)


class KrakenV1Books(_ChecksummedBooks):
    """Kraken spot websocket v1 ``book-N`` channels (messages: :func:`parse_kraken_v1_book`).

    Entries are applied in order (republish entries, flagged ``"r"``, like any other); the
    whole message is applied, the book truncated to the subscribed depth N (the books'
    ``max_depth``, since Kraken sends no deletes for levels that fall out of scope), then the
    checksum checked.
    """

    kind = "kraken_v1"
    exchange = "kraken"

    def on_message(self, msg: Any) -> str | None:
        m = parse_kraken_v1_book(msg)
        if m is None:
            return None
        if m.snapshot:
            self._snapshot(m.pair, m.bids, m.asks, max_depth=m.depth)
        elif self._update(m.pair, m.bids, m.asks) is not None and m.checksum is not None:
            self._check(m.pair, m.checksum)
        return m.pair
