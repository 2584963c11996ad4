"""What every venue protocol shares: the driver interface and the book steps of a message.

A *protocol* (one per venue, :mod:`liqcore.exchanges.okx` ...) knows a venue's order-book
messages: its channels, how a message is routed to a market, the venue's sequence rule and
checksum, what a snapshot and an update look like. It holds no socket, no clock, no task and
imports no ccxt: it is handed frames (``on_frame``: text as received) or decoded messages
(``on_message``) and tells its *driver* what happened. Two drivers exist, and both drive the same
protocol classes, so a replay of a recording runs the live code path:

* the live ccxt.pro adapter (:class:`liqcore.feed.driver.CcxtDriver`): a market id becomes the
  unified symbol of ccxt's markets, a synced or changed book resolves ccxt's watchers, a failed
  book is resubscribed;
* the replay (:class:`liqcore.replay.books.ProtocolReplay`): books keyed by the venue's market id,
  a failed book waits for the recording's next snapshot.

Books are :class:`~liqcore.feed.live_book.LiveBook` objects (the compiled book, its state and its
:class:`~liqcore.feed.live_book.BookStats`, one stats type for live feeds and replays); the
driver creates them, the protocol writes into them through :meth:`BookProtocol.snapshot` and
:meth:`BookProtocol.update`, which count every message once.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Protocol, Sequence

import orjson

from liqcore.errors import FormatError
from liqcore.feed.live_book import LiveBook
from liqcore.feed.scales import CrossPolicy

if TYPE_CHECKING:
    from liqcore._frames import FrameRoute

__all__ = ["BookDriver", "BookProtocol", "Levels", "RouteTables", "NO_ROUTES", "MAX_CONNECTIONS", "iso_ms"]

#: one side of a message: ``[price, size, ...]`` rows, prices and sizes as the venue's strings
Levels = Sequence[Sequence[Any]]


_SUBMICRO = re.compile(r"(\.\d{6})\d+")


def iso_ms(iso: Any) -> int | None:
    """An RFC 3339 time (``2024-05-01T12:00:00.123456789Z``: fractions beyond µs are cut) as ms
    since the epoch; None when absent or unreadable (a display field: no book depends on it)."""
    if type(iso) is not str:
        return None
    try:     # Python 3.10's fromisoformat reads neither "Z" nor more than 6 fraction digits
        return int(_dt.datetime.fromisoformat(_SUBMICRO.sub(r"\1", iso.replace("Z", "+00:00"))).timestamp() * 1000)
    except (ValueError, OverflowError):
        return None


class BookDriver(Protocol):
    """What a protocol calls. ``conn`` is the driver's own handle of the connection a frame came
    from (a ccxt ``Client`` live, None in a replay), passed back unchanged."""

    def book(self, conn: Any, market_id: str, market_type: str | None) -> LiveBook | None:
        """The book of the venue's ``market_id`` (``market_type``: the venue's instrument type
        when ids are shared between types, e.g. Bitget's ``SPOT``/``USDT-FUTURES``), created on
        first use; None when the market is not one the driver keeps (the message is ignored)."""

    def depth(self, conn: Any, live: LiveBook) -> int | None:
        """The depth ``live``'s subscription asked for, when the venue's snapshot does not say it
        (Kraken v2); None: not known (the protocol uses the venue's default)."""

    def synced(self, conn: Any, live: LiveBook, channel: str, timestamp_ms: int | None) -> None:
        """A snapshot of ``channel`` was loaded into ``live`` (the book is live); ``timestamp_ms``
        the venue's time of it, when the message carries one."""

    def changed(self, conn: Any, live: LiveBook, nonce: int | None, timestamp_ms: int | None) -> None:
        """An update changed ``live``; ``nonce`` is the venue's sequence number, ``timestamp_ms``
        the venue's event time (ms since the epoch), when the message carries them."""

    def failed(self, conn: Any, live: LiveBook, exc: BaseException) -> None:
        """``live`` cannot continue from this message (a gap, a checksum mismatch, bad levels):
        the driver marks it stale and resynchronises it."""

    def other(self, conn: Any, msg: Any) -> None:
        """A decoded frame that is not a book message of the protocol (events, acks, trades)."""

    def malformed(self, conn: Any, data: str, exc: BaseException) -> None:
        """A frame that is not valid JSON (skipped; a real update it hid shows as a gap or a
        checksum mismatch at the next message)."""


#: connections whose state a protocol keeps at most (the oldest is forgotten beyond: a driver that
#: never reports a lost connection cannot grow a protocol without bound)
MAX_CONNECTIONS = 256

#: the routes of a connection without any (read only: a table is made by its first route)
NO_ROUTES: dict[str, Any] = {}


class RouteTables(dict[Any, dict[str, "FrameRoute"]]):
    """Per connection, the routes a native frame parser looks a frame's market up in (connection ->
    market id -> :class:`~liqcore._frames.FrameRoute`), as the protocols with native frames
    (Binance, OKX) keep them. A dict, so a frame's lookup is ``routes.get(conn, NO_ROUTES)`` (no
    Python call per frame); a connection's table is made by its first route and forgotten with its
    last one or with the connection (:meth:`BookProtocol.connection_lost`). O(1) each."""

    __slots__ = ()

    def route(self, conn: Any, market_id: str) -> FrameRoute | None:
        """``market_id``'s route on ``conn`` (None: none)."""
        return self.get(conn, NO_ROUTES).get(market_id)

    def put(self, conn: Any, market_id: str, route: FrameRoute) -> None:
        table = self.get(conn)
        if table is None:
            table = self[conn] = {}
        table[market_id] = route

    def remove(self, conn: Any, market_id: str, route: FrameRoute) -> None:
        """Forget ``market_id``'s route on ``conn`` if it is still ``route``."""
        table = self.get(conn)
        if table is not None and table.get(market_id) is route:
            del table[market_id]
            if not table:
                del self[conn]

    def drop(self, conn: Any) -> None:
        """``conn`` is gone: its table with it."""
        self.pop(conn, None)


class BookProtocol:
    """Base of the venue protocols: decoding, and the two book steps every venue shares.

    Subclasses set :attr:`exchange`, :attr:`channels` (the venue's one list of book channels and
    the depth each keeps) and :attr:`checksum_kind`, and implement :meth:`on_message`. Frames are
    handled synchronously, one at a time; nothing here raises to the caller: a book that cannot
    continue is reported to :meth:`BookDriver.failed`.
    """

    #: ccxt id of the venue
    exchange: ClassVar[str] = ""
    #: book channel -> levels per side it keeps (None: every level)
    channels: ClassVar[Mapping[str, int | None]] = {}
    #: kind passed to :meth:`liqcore.OrderBook.verify_checksum` (None: the venue sends none)
    checksum_kind: ClassVar[str | None] = None
    #: the cross policy of the books a driver creates for the venue (:class:`liqcore.OrderBook`):
    #: "allow" where a message can leave a book crossed until the next one (Bitfinex)
    cross_policy: ClassVar[CrossPolicy] = "raise"
    #: what the protocol keeps per connection (:meth:`connection`), made without arguments; None:
    #: nothing
    connection_class: ClassVar[type | None] = None

    def __init__(self, driver: BookDriver, *, fast_path: bool = True) -> None:
        self.driver = driver
        #: parse book frames' text in C where the venue has a native frame path (same books)
        self.fast_path = fast_path
        #: frames applied through the native frame path
        self.fast_frames = 0
        #: the native frame parser's routes, per connection (Binance, OKX)
        self.routes = RouteTables()
        self._connections: dict[Any, Any] = {}

    # ------------------------------------------------------------------ frames
    def decode(self, data: str) -> Any:
        """One text frame decoded (JSON iff it starts with ``{`` or ``[``, ccxt's rule; other
        text such as ``"pong"`` is returned as is). Raises FormatError when it is not JSON."""
        if not data or data[0] not in "{[":
            return data
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"{self.exchange}: frame is not JSON: {exc}") from None

    def on_frame(self, conn: Any, data: str) -> None:
        """One text frame as received: book messages to their books, the rest to
        :meth:`BookDriver.other`. O(frame)."""
        try:
            msg = self.decode(data)
        except FormatError as exc:
            self.driver.malformed(conn, data, exc)
            return
        if not self.on_message(conn, msg):
            self.driver.other(conn, msg)

    def on_message(self, conn: Any, msg: Any) -> bool:
        """One decoded message; True if it was a book message of this protocol (handled), False
        otherwise (nothing done)."""
        raise NotImplementedError

    # ------------------------------------------- snapshots the driver fetches
    def begin(self, conn: Any, live: LiveBook, market_id: str | None = None) -> None:
        """A subscription of ``live`` (the venue's ``market_id`` on ``conn``) starts. For venues
        whose snapshot the driver fetches apart (Binance's REST depth): the protocol buffers the
        book's updates from here until :meth:`on_snapshot`. Default: nothing (the venue sends
        its snapshot on the socket after a subscribe)."""

    def on_snapshot(self, conn: Any, live: LiveBook, body: Any) -> int:
        """The snapshot the driver fetched for ``live``'s subscription (``body``: its text as
        received, or decoded); returns the buffered updates applied. Venues without such
        snapshots raise NotImplementedError."""
        raise NotImplementedError(f"{self.exchange}: snapshots come on the socket")

    def connection(self, conn: Any, *, create: bool = True) -> Any:
        """What the protocol keeps about ``conn`` (a ``connection_class()``: Coinbase's numbering,
        Bitfinex's channels), made on first use when ``create`` (else None when there is none).
        Beyond :data:`MAX_CONNECTIONS` the oldest connection's is forgotten. O(1)."""
        state = self._connections.get(conn)
        if state is None and create and self.connection_class is not None:
            if len(self._connections) >= MAX_CONNECTIONS:
                del self._connections[next(iter(self._connections))]
            state = self._connections[conn] = self.connection_class()
        return state

    def connection_lost(self, conn: Any) -> None:
        """The driver's connection ``conn`` is gone: forget what the protocol kept about it (its
        routes, its :meth:`connection` state). O(1)."""
        self.routes.drop(conn)
        self._connections.pop(conn, None)

    # ------------------------------------------------------------- book steps
    def snapshot(self, conn: Any, live: LiveBook, channel: str, bids: Levels, asks: Levels, *,
                 update_id: int | None = None, sequence: str | None = None, checksum: Any = None,
                 depth: int | None = None, timestamp_ms: int | None = None) -> bool:
        """Load a snapshot into ``live`` under the ``sequence`` rule (None: ids unchecked), with
        ``depth`` levels per side kept (None: the book's current depth), verify ``checksum`` (None:
        absent) and report it synced. False (and reported failed) when the book refused it."""
        try:
            if depth is not None:
                live.resize(depth)
            live.book.sequence = sequence
            live.load_snapshot(bids, asks, update_id)
            if self.checksum_kind is not None and checksum is not None:   # Kraken v1 snapshots carry none
                live.check(self.checksum_kind, checksum)
        except Exception as exc:      # bad levels, crossed, checksum: the book resyncs
            self.driver.failed(conn, live, exc)
            return False
        self.driver.synced(conn, live, channel, timestamp_ms)
        return True

    def refused(self, conn: Any, live: LiveBook, exc: BaseException) -> None:
        """A message of ``live``'s that cannot be applied (unreadable, or refused by a native frame
        parser): counted as received and the book reported failed (the resync counts why). O(1)."""
        live.counted(None)
        self.driver.failed(conn, live, exc)

    def update(self, conn: Any, live: LiveBook, bids: Levels, asks: Levels, *, last_id: int | None = None,
               first_id: int | None = None, prev_id: int | None = None, checksum: Any = None,
               timestamp_ms: int | None = None) -> bool:
        """Apply one update to ``live`` under its sequence rule, verify ``checksum`` (None: absent)
        and report the change. An update to a book that is not live (before its snapshot, after a
        failure) or older than the book is counted as skipped. False when nothing changed or the
        book failed (reported)."""
        if live.state != "live":
            live.skip()
            return False
        try:
            if not live.apply(bids, asks, last_id, first_id, prev_id):
                return False
            if self.checksum_kind is not None:
                live.check(self.checksum_kind, checksum)
        except Exception as exc:      # gap, checksum, bad levels: the book resyncs
            self.driver.failed(conn, live, exc)
            return False
        self.driver.changed(conn, live, last_id, timestamp_ms)
        return True
