"""Bitfinex websocket v2 ``book`` (aggregated precisions P0-P4), sans I/O: channel ids, the
one-level-per-frame updates and Bitfinex's checksum.

After ``{"event": "subscribed", "channel": "book", "chanId", "symbol", "prec", "len"}`` a channel
sends a snapshot ``[chanId, [[price, count, amount], ...]]``, then **one frame per changed level**
``[chanId, [price, count, amount]]``: ``amount > 0`` is a bid, ``< 0`` an ask (size ``|amount|``),
``count == 0`` deletes the level. With the connection's ``conf`` flag :data:`OB_CHECKSUM` each
update is followed by ``[chanId, "cs", checksum]``: the signed CRC32 of the best 25 bids and asks,
numbers written as JavaScript writes them (``1e-7``), ask amounts negative. Quiet channels send
``[chanId, "hb"]``; with ``SEQ_ALL`` a frame ends with the connection's sequence number (ignored).

* Book frames are decoded with every number kept as its text
  (:func:`~liqcore.exchanges.wire.loads_exact`); exponent forms are made plain (``1e-7`` ->
  ``0.0000001``), and the C checksum rebuilds Bitfinex's JavaScript spelling. Frames decoded by
  someone else (numbers as int/float: the shortest round-trip digits, which JavaScript writes
  too) give the same texts.
* There is no per-book sequence id: the checksum after every update is the consistency check (a
  lost, duplicated, reordered or corrupted frame shows as a mismatch). A ``cs`` frame is not a
  book message of its own: it verifies the book the update frames before it built (counted in
  ``checksum_ok``/``checksum_failed``). A heartbeat is a message with nothing to apply (counted
  received, and in ``heartbeats``), so an idle watchdog sees a quiet channel alive and the counts add up.
* Channel ids belong to a connection (``conn``): the protocol keeps, per connection, which market
  each ``chanId`` carries and whether it is still the market's current channel. A resync retires
  the channel (:meth:`BitfinexProtocol.retire_channel`: frames still in flight on it are counted
  skipped, never applied) and the adapter unsubscribes it; a new subscription brings a new
  ``chanId`` and a new snapshot. :meth:`~BitfinexProtocol.connection_lost` forgets a connection.
* The book keeps the subscribed ``len`` (at least the 25 levels the checksum covers). One level
  per frame means a book can be crossed between two frames of one update: the books allow it
  (:attr:`BitfinexProtocol.cross_policy`; the checksum after the update is what proves the
  book). Raw books (``R0``: order ids) are not book channels of the protocol.
* Sending ``conf`` and the unsubscribe requests is the adapter's (the protocol does no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Mapping

from liqcore.errors import FormatError
from liqcore.exchanges.protocol import BookProtocol
from liqcore.exchanges.wire import loads_exact
from liqcore.feed.scales import CrossPolicy

__all__ = ["BitfinexProtocol", "CHANNELS", "OB_CHECKSUM", "DEFAULT_LENGTH", "CHECKSUM_LEVELS", "MAX_CHANNELS"]

#: ``conf`` flag asking Bitfinex for a checksum after every book update
OB_CHECKSUM = 131072
#: Bitfinex's book length when a subscribe names none (levels per side)
DEFAULT_LENGTH = 25
#: levels per side Bitfinex's checksum covers
CHECKSUM_LEVELS = 25
#: the book channel (its depth is the subscription's ``len``)
CHANNELS: Mapping[str, int | None] = {"book": DEFAULT_LENGTH}
#: channel ids kept per connection at most (the oldest is forgotten beyond: retired channels whose
#: unsubscribe is never acknowledged cannot grow the protocol without bound)
MAX_CHANNELS = 1024


@dataclass
class _Channel:
    market_id: str
    length: int
    #: False once retired (a resync): its frames are skipped
    current: bool = True


@dataclass
class _Connection:
    #: chanId as text -> its channel
    channels: dict[str, _Channel] = field(default_factory=dict)
    #: market id -> its current chanId text
    current: dict[str, str] = field(default_factory=dict)


def _text(v: Any) -> str:
    """A number of a book frame as plain decimal text (exact text, or an int/float another decoder
    made of it); FormatError for anything else. O(digits)."""
    if type(v) is str:
        text = v
    elif type(v) is int or type(v) is float:
        text = repr(v)
    else:
        raise FormatError(f"bitfinex: not a number: {v!r}")
    if "e" in text or "E" in text:
        try:
            return format(Decimal(text), "f")
        except InvalidOperation:
            raise FormatError(f"bitfinex: not a number: {v!r}") from None
    return text


def _level(row: Any) -> tuple[bool, tuple[str, str]]:
    """``[price, count, amount]`` -> (is an ask, (price, size)); size ``"0"`` when ``count`` is 0
    (a deletion). FormatError for a malformed row."""
    if type(row) is not list or len(row) < 3:
        raise FormatError(f"bitfinex: bad book row {str(row)[:80]!r}")
    price, count, amount = _text(row[0]), _text(row[1]), _text(row[2])
    ask = amount.startswith("-")
    return ask, (price, "0" if count == "0" else (amount[1:] if ask else amount))


class BitfinexProtocol(BookProtocol):
    """Bitfinex's aggregated ``book`` channels; books keyed by the subscription's ``symbol``
    (``tBTCUSD``), channels by ``chanId`` per connection."""

    exchange: ClassVar[str] = "bitfinex"
    channels: ClassVar[Mapping[str, int | None]] = CHANNELS
    #: None: the checksum comes in its own ``cs`` frame, not with an update (see :data:`checksum`)
    checksum_kind: ClassVar[str | None] = None
    #: the kind of the ``cs`` frames' checksum (:meth:`liqcore.OrderBook.verify_checksum`)
    checksum: ClassVar[str] = "bitfinex"
    #: one level per frame: a book may be crossed between two frames of one update
    cross_policy: ClassVar[CrossPolicy] = "allow"

    #: each connection's channels (``chanId`` -> market)
    connection_class = _Connection

    # ------------------------------------------------------------ connections
    def channel_id(self, conn: Any, market_id: str) -> int | None:
        """The current ``chanId`` of ``market_id``'s book on ``conn`` (None: none)."""
        state = self.connection(conn, create=False)
        chan = state.current.get(market_id) if state is not None else None
        return None if chan is None else int(chan)

    def retire_channel(self, conn: Any, market_id: str) -> int | None:
        """Stop applying ``market_id``'s current channel on ``conn`` (a resync: frames still in
        flight on it are counted skipped); its ``chanId``, for the adapter's unsubscribe request,
        or None when it has none. O(1)."""
        state = self.connection(conn, create=False)
        chan = state.current.pop(market_id, None) if state is not None else None
        if state is None or chan is None or chan not in state.channels:
            return None
        state.channels[chan].current = False
        return int(chan)

    def drop_channel(self, conn: Any, chan_id: Any) -> None:
        """Forget channel ``chan_id`` of ``conn`` (its unsubscribe was acknowledged). O(1)."""
        state = self.connection(conn, create=False)
        if state is not None:
            state.channels.pop(str(chan_id), None)

    def _subscribed(self, conn: Any, msg: dict) -> None:
        """A book channel opened: it becomes its market's current channel (the previous one, if
        any, is retired)."""
        if msg.get("prec") == "R0" or msg.get("symbol") is None:
            return                       # raw books (order ids) are not price levels
        try:
            length = int(msg.get("len") or DEFAULT_LENGTH)
        except (TypeError, ValueError, OverflowError):
            length = DEFAULT_LENGTH
        state = self.connection(conn)
        market_id, chan = str(msg["symbol"]), str(msg.get("chanId"))
        old = state.current.get(market_id)
        if old is not None and old in state.channels:
            state.channels[old].current = False
        if len(state.channels) >= MAX_CHANNELS and chan not in state.channels:
            del state.channels[next(iter(state.channels))]
        state.channels[chan] = _Channel(market_id, max(1, min(length, 10_000)))
        state.current[market_id] = chan

    # ----------------------------------------------------------------- frames
    def on_frame(self, conn: Any, data: str) -> None:
        # a frame of a book channel is decoded with every number as its text; the rest as usual
        if data[:1] == "[":
            state = self.connection(conn, create=False)
            ch = state.channels.get(data[1:data.find(",")]) if state is not None else None
            if ch is not None:
                try:
                    msg = loads_exact(data)
                except FormatError as exc:
                    self.driver.malformed(conn, data, exc)
                    return
                self._on_channel(conn, ch, msg)
                return
        super().on_frame(conn, data)

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is dict:
            if msg.get("event") == "subscribed" and msg.get("channel") == "book":
                self._subscribed(conn, msg)
            return False                 # events are ccxt's too (it records the subscription)
        if type(msg) is not list or not msg:
            return False
        state = self.connection(conn, create=False)
        ch = state.channels.get(str(msg[0])) if state is not None else None
        if ch is None:
            return False
        self._on_channel(conn, ch, msg)
        return True

    def _on_channel(self, conn: Any, ch: _Channel, msg: Any) -> None:
        """One frame of a book channel: snapshot, level update, ``cs`` or ``hb``. O(levels in the
        frame); a checksum O(25)."""
        live = self.driver.book(conn, ch.market_id, None)
        if live is None:
            return
        body = msg[1] if type(msg) is list and len(msg) > 1 else None
        if body == "hb":
            live.heartbeat()
            return
        if not ch.current:                     # in flight on a retired channel
            live.skip()
            return
        try:
            if body == "cs":
                if live.state == "live":
                    self._check(conn, live, msg)
                return
            if type(body) is not list:
                raise FormatError(f"bitfinex {ch.market_id}: unexpected book frame {str(msg)[:80]!r}")
            is_snapshot = not body or type(body[0]) is list   # a snapshot (an empty book: [])
            bids: list[tuple[str, str]] = []
            asks: list[tuple[str, str]] = []
            for row in body if is_snapshot else (body,):
                ask, level = _level(row)
                (asks if ask else bids).append(level)
        except FormatError as exc:
            self.refused(conn, live, exc)
            return
        if is_snapshot:
            self.snapshot(conn, live, "book", bids, asks, depth=max(ch.length, CHECKSUM_LEVELS))
        else:
            self.update(conn, live, bids, asks)

    def _check(self, conn: Any, live: Any, msg: list) -> None:
        """Verify a ``cs`` frame against ``live`` (counted ok, or failed and reported). A ``cs``
        that is not an int32 is a malformed message (counted, and the book resyncs)."""
        try:
            expected = int(msg[2]) if len(msg) > 2 and type(msg[2]) in (str, int) else None
        except ValueError:
            expected = None
        if expected is None or not -(1 << 31) <= expected < (1 << 31):
            self.refused(conn, live, FormatError(f"bitfinex: bad checksum frame {str(msg)[:80]!r}"))
            return
        try:
            live.check(self.checksum, expected)
        except Exception as exc:          # ChecksumError: the book resyncs
            self.driver.failed(conn, live, exc)
