"""Per-exchange replay adapters: decoded frames in, the code a live feed runs driven, one
:class:`BookReport` per book out.

* every venue with a protocol (:data:`liqcore.exchanges.PROTOCOLS`): :class:`ProtocolReplay`, the
  venue's protocol from :mod:`liqcore.exchanges` — the same object the live ccxt.pro adapter
  drives — with a replay's driver: books by market id, and the reaction a live feed has to a gap
  or a checksum mismatch (the book is stale until the next snapshot, as a resubscription would
  bring one).
* Binance: :class:`BinanceAdapter`, the sync procedure a live feed runs
  (:class:`~liqcore.feed.binance.BinanceDepthSync` through :class:`~liqcore.replay.binance.BinanceReplayer`).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from liqcore._book import OrderBook
from liqcore.errors import FormatError
from liqcore.exchanges import PROTOCOLS, protocol_class
from liqcore.exchanges.protocol import BookProtocol
from liqcore.feed.live_book import LiveBook
from liqcore.recordings import Record
from liqcore.replay.binance import BinanceReplayer

__all__ = ["BookReport", "BinanceAdapter", "ProtocolReplay", "binance_market_id", "make_adapter", "ADAPTERS"]

_MAX_FAILURES = 20


@dataclass
class BookReport:
    """What a replay did to one book and what it verified (counts of messages).

    ``applied`` counts update messages applied (snapshots are counted apart); ``skipped`` counts
    updates not applied because the book was not synchronised yet (before its first snapshot,
    after a gap) or they were stale; ``unsynced`` counts updates still waiting for a snapshot
    when the recording ended (Binance buffers them: read, never applied); ``rejected`` counts
    messages the book refused; ``resyncs`` counts snapshots that rebuilt an existing book.
    Every message is one of these: ``messages == snapshots + applied + skipped + gaps +
    rejected + unsynced`` (:attr:`unaccounted` is the difference, 0 unless a handler miscounts).
    ``checksums_*``: the exchange's book checksums (OKX, Bitget, Kraken); ``checkpoints_*``:
    Binance bookTicker best bid/ask checkpoints. ``best_bid``/``best_ask`` are the final
    ``[price, size]`` wire strings (None if that side is empty); ``levels`` is [bids, asks].
    """

    exchange: str
    symbol: str
    messages: int = 0
    applied: int = 0
    skipped: int = 0
    snapshots: int = 0
    gaps: int = 0
    resyncs: int = 0
    rejected: int = 0
    unsynced: int = 0
    checksums_ok: int = 0
    checksums_failed: int = 0
    checksums_absent: int = 0
    checkpoints_ok: int = 0
    checkpoints_failed: int = 0
    best_bid: list[str] | None = None
    best_ask: list[str] | None = None
    levels: list[int] = field(default_factory=lambda: [0, 0])
    last_update_id: int | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def unaccounted(self) -> int:
        """Messages counted as read but as none of applied, skipped, gap, rejected, unsynced or
        snapshot (0 when the counts add up)."""
        return self.messages - (self.snapshots + self.applied + self.skipped + self.gaps + self.rejected
                                + self.unsynced)

    @property
    def ok(self) -> bool:
        """Nothing failed and every update is accounted for: no checksum or checkpoint mismatch,
        gap or rejected message, no update left waiting for a snapshot, a snapshot if there were
        messages at all, and the counts add up."""
        return not (self.checksums_failed or self.checkpoints_failed or self.gaps or self.rejected or self.unsynced
                    or self.unaccounted or (self.messages and not self.snapshots))

    def set_book(self, book: OrderBook | None) -> None:
        """Take the final top of book, level counts and last update id from ``book``."""
        if book is None:
            return
        self.best_bid = book.level_strings("bid", 1)[0] if book.bid_count else None
        self.best_ask = book.level_strings("ask", 1)[0] if book.ask_count else None
        self.levels = [book.bid_count, book.ask_count]
        self.last_update_id = book.last_update_id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def binance_market_id(label: str) -> str:
    """Binance's market id for a record's ``symbol`` label, which is either that id (``BTCUSDT``)
    or ccxt's unified symbol, as liqcore's live feed labels the REST snapshots it records:
    ``BTC/USDT`` and ``BTC/USDT:USDT`` -> ``BTCUSDT``, ``BTC/USD:BTC`` -> ``BTCUSD_PERP`` (COIN-M
    perpetual), ``BTC/USDT:USDT-250926`` -> ``BTCUSDT_250926`` (delivery)."""
    if "/" not in label:
        return label.upper()
    base, _, rest = label.upper().partition("/")
    quote, _, settle = rest.partition(":")
    settle, _, expiry = settle.partition("-")
    if expiry:
        return f"{base}{quote}_{expiry}"
    return f"{base}{quote}_PERP" if settle and settle == base else base + quote


class BinanceAdapter:
    """Binance depth streams (spot, or futures for ``binanceusdm``/``binancecoinm``), any number
    of symbols (one :class:`BinanceReplayer` each).

    Books are created at the first depth event or snapshot of a symbol with 8 price and size
    decimals (Binance's widest wire format), futures rules for a futures exchange or if the
    event carries ``pu``. A REST snapshot (no symbol inside) goes to the book of the record's
    ``symbol`` label (:func:`binance_market_id`), else to the only symbol seen; it is counted in
    :attr:`unrouted` otherwise.
    """

    def __init__(self, exchange: str = "binance") -> None:
        self.exchange = exchange
        self.futures = exchange in ("binanceusdm", "binancecoinm")
        self.replayers: dict[str, BinanceReplayer] = {}
        self.unrouted = 0

    def _replayer(self, symbol: str, futures: bool) -> BinanceReplayer:
        r = self.replayers.get(symbol)
        if r is None:
            book = OrderBook(price_decimals=8, size_decimals=8, symbol=symbol, exchange=self.exchange)
            r = self.replayers[symbol] = BinanceReplayer(book, futures=self.futures or futures)
            r.report.symbol = symbol
        return r

    def on_message(self, msg: Any, rec: Record) -> bool:
        """Route one decoded frame; returns True if it was a book frame (depth, snapshot, ticker)."""
        if not isinstance(msg, dict):
            return False
        if "lastUpdateId" in msg:
            if rec.symbol:
                symbol: str | None = binance_market_id(rec.symbol)
            else:
                symbol = next(iter(self.replayers)) if len(self.replayers) == 1 else None
            if symbol is None:
                self.unrouted += 1
                return False
            r = self._replayer(symbol, futures="T" in msg)     # futures snapshots carry "E" and "T"
        else:
            data = msg.get("data", msg)
            if not isinstance(data, dict) or "s" not in data or "u" not in data:
                return False                            # trades, other streams, responses
            # tickers can precede the first depth event and still be checkpoints: start the book
            # at either (futures depth events carry "pu", futures tickers "e")
            r = self._replayer(data["s"], futures="pu" in data or data.get("e") == "bookTicker")
        r.report.frames += 1
        return r.on_message(msg, rec.ts_ns)

    def reports(self) -> list[BookReport]:
        out = []
        for symbol, r in self.replayers.items():
            b = r.report
            used = b.snapshots - b.snapshots_too_old - b.snapshots_rejected
            rep = BookReport(self.exchange, symbol, messages=b.depth_events + b.snapshots, applied=b.applied,
                             skipped=b.skipped, snapshots=b.snapshots - b.snapshots_rejected, gaps=b.gaps,
                             resyncs=max(used - 1, 0), rejected=b.rejected + b.snapshots_rejected,
                             unsynced=r.unsynced, checkpoints_ok=b.checkpoints_ok,
                             checkpoints_failed=b.checkpoints_failed, failures=list(b.failures))
            rep.set_book(r.book if r.sync.synced else None)
            out.append(rep)
        return out


class ProtocolReplay:
    """A venue's recorded frames through its protocol (:mod:`liqcore.exchanges`), the driver a
    replay needs: books keyed by the venue's market id, created at the first message of a market
    (scales from its snapshot's strings, widened exactly when an update carries more decimals),
    with the live feed's state and :class:`~liqcore.feed.live_book.BookStats`.

    A book that cannot continue (a gap, a checksum mismatch, a message it refuses) is marked stale,
    as a live feed marks it before resubscribing: its updates are counted as skipped until the
    recording's next snapshot of it. O(levels) per message, like the live path.

    Parameters
    ----------
    protocol : the venue's protocol class (``OkxProtocol``, ``BitgetProtocol``, ``KrakenProtocol``...)
    fast_path : the protocol's native frame path for :meth:`on_frame` (the same books)
    """

    def __init__(self, protocol: type[BookProtocol], *, fast_path: bool = True) -> None:
        self.protocol = protocol(self, fast_path=fast_path)
        self.exchange = self.protocol.exchange
        #: market id -> its book
        self.books: dict[str, LiveBook] = {}
        #: market id -> why its book failed, one line each (the first _MAX_FAILURES)
        self.failures: dict[str, list[str]] = {}
        #: frames that were not UTF-8 JSON
        self.undecodable = 0

    # ------------------------------------------------------------------ input
    def on_frame(self, raw: bytes | str) -> None:
        """One recorded frame's text (the protocol decodes it, or parses it in C)."""
        if isinstance(raw, str):
            text = raw
        else:
            try:
                text = bytes(raw).decode()
            except UnicodeDecodeError:
                self.undecodable += 1
                return
        self.protocol.on_frame(None, text)

    def on_message(self, msg: Any, rec: Record | None = None) -> bool:
        """One decoded frame; True if it was a book message of the venue. With its record ``rec``
        the protocol decodes the recorded text itself, as it does live: a generic decode turns
        numbers into floats, which lose the digits a checksum hashes (Kraken v2's trailing zeros),
        so ``msg`` is then used only if the text does not decode."""
        if rec is not None and rec.raw:
            try:
                msg = self.protocol.decode(bytes(rec.raw).decode())
            except (UnicodeDecodeError, FormatError):
                pass
        return self.protocol.on_message(None, msg)

    # ------------------------------------------------------- BookDriver
    def book(self, conn: Any, market_id: str, market_type: str | None) -> LiveBook:
        live = self.books.get(market_id)
        if live is None:
            book = OrderBook(price_decimals=0, size_decimals=0, symbol=market_id, exchange=self.exchange,
                             cross_policy=self.protocol.cross_policy)
            live = self.books[market_id] = LiveBook(self.exchange, market_id, book)
        return live

    def depth(self, conn: Any, live: LiveBook) -> int | None:
        return None

    def synced(self, conn: Any, live: LiveBook, channel: str, timestamp_ms: int | None) -> None:
        pass

    def changed(self, conn: Any, live: LiveBook, nonce: int | None, timestamp_ms: int | None) -> None:
        pass

    def failed(self, conn: Any, live: LiveBook, exc: BaseException) -> None:
        live.mark_stale_by(exc)
        notes = self.failures.setdefault(live.symbol, [])
        if len(notes) < _MAX_FAILURES:
            notes.append(f"{live.symbol} message {live.stats.messages}: {type(exc).__name__}: {exc}")

    def other(self, conn: Any, msg: Any) -> None:
        pass

    def malformed(self, conn: Any, data: str, exc: BaseException) -> None:
        self.undecodable += 1

    # ---------------------------------------------------------------- output
    def reports(self) -> list[BookReport]:
        out = []
        for market_id, live in self.books.items():
            st = live.stats
            rep = BookReport(self.exchange, market_id, messages=st.messages, applied=st.applied,
                             skipped=st.stale_skipped, snapshots=st.snapshots, gaps=st.gaps,
                             resyncs=max(st.snapshots - 1, 0), rejected=st.handler_errors,
                             checksums_ok=st.checksum_ok, checksums_failed=st.checksum_failed,
                             checksums_absent=st.checksum_absent, failures=list(self.failures.get(market_id, ())))
            rep.set_book(live.book if st.snapshots else None)
            out.append(rep)
        return out


def _protocol_replay(exchange: str) -> ProtocolReplay:
    return ProtocolReplay(protocol_class(exchange))


#: exchange -> adapter factory
ADAPTERS: dict[str, Callable[[], BinanceAdapter | ProtocolReplay]] = {
    "binance": BinanceAdapter,
    "binanceusdm": lambda: BinanceAdapter("binanceusdm"),
    "binancecoinm": lambda: BinanceAdapter("binancecoinm"),
}
# every venue with a protocol replays through it (the live code path)
ADAPTERS.update({ex: functools.partial(_protocol_replay, ex) for ex in PROTOCOLS})


def make_adapter(exchange: str) -> BinanceAdapter | ProtocolReplay:
    """A new adapter for ``exchange`` (one of :data:`ADAPTERS`); ValueError otherwise."""
    try:
        return ADAPTERS[exchange]()
    except KeyError:
        raise ValueError(f"no replay adapter for exchange {exchange!r}; known: {', '.join(ADAPTERS)}") from None
