"""Per-exchange replay adapters: decoded frames in, the feed layer's sans-I/O handlers driven,
one :class:`BookReport` per book out.

Each adapter wraps the handler a live feed would use (:class:`~liqcore.feed.binance.BinanceDepthSync`
through :class:`~liqcore.replay.binance.BinanceReplayer`, :class:`~liqcore.feed.checksummed.OkxBooks`,
``BitgetBooks``, ``KrakenV1Books``) and adds only what a replay needs: routing frames to books,
counting, and the reaction a live feed would have to a gap (drop the book until the next snapshot,
as a resubscription would bring one).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from liqcore._book import OrderBook
from liqcore.errors import LiqError, SequenceGapError
from liqcore.feed.checksummed import BitgetBooks, KrakenV1Books, OkxBooks, _ChecksummedBooks
from liqcore.recordings import Record
from liqcore.replay.binance import BinanceReplayer

__all__ = ["BookReport", "BinanceAdapter", "ChecksummedAdapter", "binance_market_id", "make_adapter", "ADAPTERS"]

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


class ChecksummedAdapter:
    """OKX, Bitget or Kraken v1 book channels through the feed layer's checksum-verifying handler.

    A sequence gap (OKX ``seqId``) drops the instrument's book, so its updates count as skipped
    until the next snapshot; a message the book rejects (:class:`~liqcore.errors.LiqError`) is
    counted and leaves the book unchanged. Checksum mismatches are counted, not raised.
    """

    def __init__(self, handler: _ChecksummedBooks) -> None:
        self.handler = handler
        self.exchange = handler.exchange
        self.gaps: dict[str, int] = {}
        self.rejected: dict[str, int] = {}
        self.failures: dict[str, list[str]] = {}

    def _symbol(self, msg: Any) -> str:
        if isinstance(msg, dict):
            return str((msg.get("arg") or {}).get("instId"))
        return str(msg[-1])

    def _fail(self, counter: dict[str, int], msg: Any, exc: Exception) -> None:
        sym = self._symbol(msg)
        counter[sym] = counter.get(sym, 0) + 1
        notes = self.failures.setdefault(sym, [])
        if len(notes) < _MAX_FAILURES:
            notes.append(f"{type(exc).__name__}: {exc}")

    def on_message(self, msg: Any, rec: Record) -> bool:
        try:
            return self.handler.on_message(msg) is not None
        except SequenceGapError as exc:
            self._fail(self.gaps, msg, exc)
            self.handler.books.pop(self._symbol(msg), None)   # unsynced until the next snapshot
        except LiqError as exc:
            self._fail(self.rejected, msg, exc)
        return True

    def reports(self) -> list[BookReport]:
        out = []
        fails: dict[str, list[str]] = {}
        for line in self.handler.failures:                 # "<symbol> message <n>: <what>"
            fails.setdefault(line.split(" message ", 1)[0], []).append(line)
        for symbol, c in self.handler.counts.items():
            gaps, rejected = self.gaps.get(symbol, 0), self.rejected.get(symbol, 0)
            rep = BookReport(self.exchange, symbol, messages=c.snapshots + c.updates + c.skipped + gaps + rejected,
                             applied=c.updates, skipped=c.skipped, snapshots=c.snapshots, gaps=gaps,
                             resyncs=max(c.snapshots - 1, 0), rejected=rejected, checksums_ok=c.checksum_ok,
                             checksums_failed=c.checksum_failed, checksums_absent=c.checksum_absent,
                             failures=(fails.get(symbol, []) + self.failures.get(symbol, []))[:_MAX_FAILURES])
            rep.set_book(self.handler.books.get(symbol))
            out.append(rep)
        return out


#: exchange -> adapter factory
ADAPTERS: dict[str, Callable[[], BinanceAdapter | ChecksummedAdapter]] = {
    "binance": BinanceAdapter,
    "binanceusdm": lambda: BinanceAdapter("binanceusdm"),
    "binancecoinm": lambda: BinanceAdapter("binancecoinm"),
    "okx": lambda: ChecksummedAdapter(OkxBooks()),
    "bitget": lambda: ChecksummedAdapter(BitgetBooks()),
    "kraken": lambda: ChecksummedAdapter(KrakenV1Books()),
}


def make_adapter(exchange: str) -> BinanceAdapter | ChecksummedAdapter:
    """A new adapter for ``exchange`` (one of :data:`ADAPTERS`); ValueError otherwise."""
    try:
        return ADAPTERS[exchange]()
    except KeyError:
        raise ValueError(f"no replay adapter for exchange {exchange!r}; known: {', '.join(ADAPTERS)}") from None
