"""Per-exchange replay adapters: decoded frames in, the code a live feed runs driven, one
:class:`BookReport` per book out.

* every venue with a protocol (:data:`liqcore.exchanges.PROTOCOLS`): :class:`ProtocolReplay`, the
  venue's protocol from :mod:`liqcore.exchanges` — the same object the live ccxt.pro adapter
  drives — with a replay's driver: books by market id, and the reaction a live feed has to a gap
  or a checksum mismatch (the book is stale until the next snapshot, as a resubscription would
  bring one).
* Binance: :class:`BinanceAdapter`, a :class:`ProtocolReplay` of
  :class:`~liqcore.exchanges.binance.BinanceProtocol` (the live feeds' procedure) that also checks
  the recording's bookTicker checkpoints and routes REST snapshots by their record's label.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping

from liqcore._book import OrderBook
from liqcore.errors import FormatError, LiqError, SequenceGapError, SnapshotTooOld
from liqcore.exchanges import PROTOCOLS, protocol_class
from liqcore.exchanges.binance import BinanceProtocol, subscribed_depth
from liqcore.exchanges.protocol import BookProtocol
from liqcore.feed.live_book import LiveBook
from liqcore.recordings import Record

__all__ = ["BookReport", "BinanceAdapter", "ProtocolReplay", "binance_market_id", "make_adapter", "ADAPTERS"]

_MAX_FAILURES = 20

# How many applied ids / unmatched tickers are remembered for matching Binance checkpoints. A
# ticker and its depth event arrive within a few events of each other (the ticker usually
# first); the bound keeps memory constant over recordings of any length.
_MATCH_WINDOW = 4096


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

    def on_sent(self, msg: Any) -> None:
        """A decoded message the live feed sent (a record of kind ``"sent"``). Default: nothing (the
        venues that send their snapshots on the socket start a subscription with the snapshot)."""

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
        self._note(live.symbol, f"{live.symbol} message {live.stats.messages}: {type(exc).__name__}: {exc}")

    def _note(self, market_id: str, line: str) -> None:
        """Keep ``line`` among the market's failures (the first _MAX_FAILURES)."""
        notes = self.failures.setdefault(market_id, [])
        if len(notes) < _MAX_FAILURES:
            notes.append(line)

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


class _Checkpoints:
    """One Binance market's bookTicker checkpoints: after the depth event whose ``u`` equals a
    ticker's ``u``, the book's best bid/ask price and size must equal the ticker's. Tickers
    usually arrive before their event, so both sides are matched by id within a bounded window
    (memory O(1) in the recording's length)."""

    __slots__ = ("pending", "seen", "ok", "failed")

    def __init__(self) -> None:
        self.pending: dict[int, tuple[int, int, int, int]] = {}   # ticker u -> expected (bp, bq, ap, aq) units
        self.seen: dict[int, tuple[int, int, int, int]] = {}      # applied u -> the book's bbo units then
        self.ok = 0
        self.failed = 0


def _units(s: str, scale: int) -> int:
    return int(Decimal(s).scaleb(scale))


def _bbo_units(book: OrderBook) -> tuple[int, int, int, int]:
    b, a = book.levels(0, 1, raw=True), book.levels(1, 1, raw=True)
    return (int(b[0, 0]), int(b[0, 1]), int(a[0, 0]), int(a[0, 1])) if len(b) and len(a) else (0, 0, 0, 0)


class BinanceAdapter(ProtocolReplay):
    """Binance depth streams (spot, or futures for ``binanceusdm``/``binancecoinm``) through the
    venue's protocol (:class:`~liqcore.exchanges.binance.BinanceProtocol`, the live feeds'
    procedure), any number of markets, with the recording's bookTicker stream as checkpoints.

    Books are created at a market's first depth event, ticker or snapshot, with 8 price and size
    decimals (Binance's widest wire format) — or every market uses ``book`` when given (one-market
    replays into the caller's book, never rebuilt) — under the futures rule for a futures exchange
    or when the event carries ``pu``. A book's subscription starts at its first depth event; a REST
    snapshot (no symbol inside) goes to the book of the record's ``symbol`` label
    (:func:`binance_market_id`), else to the only book; it is counted in :attr:`unrouted`
    otherwise. A gap clears the book, which buffers again for the recording's next snapshot; an
    event the book refuses (bad levels, a crossed book) is counted as rejected and changes nothing,
    the sync going on (the next event's ids tell whether it mattered). A snapshot whose buffer
    replay ends in a gap drops the book with what it applied of the buffer: those events count as
    skipped. ``on_update(live, ts_ns)`` is called after every applied depth event.
    """

    def __init__(self, exchange: str = "binance", *, fast_path: bool = True, book: OrderBook | None = None,
                 on_update: Callable[[LiveBook, int], None] | None = None) -> None:
        super().__init__(_binance_protocol(exchange), fast_path=fast_path)
        self.protocol: BinanceProtocol = self.protocol
        self.exchange = exchange
        self.futures = exchange in ("binanceusdm", "binancecoinm")
        self.protocol.widen = book is None                # the caller's book keeps its scales
        self.unrouted = 0
        self.on_update = on_update
        self.checkpoints: dict[str, _Checkpoints] = {}
        #: market id -> REST snapshots read / older than the buffer / refused by the book
        self.rest: dict[str, list[int]] = {}
        self._book = book
        self._futures_hint = False
        self._ts_ns = 0
        #: applied buffered events of a snapshot whose replay then gapped (counted as skipped)
        self._voided: dict[str, int] = {}
        self._replaying: list[tuple[LiveBook, int, tuple[int, int, int, int]]] | None = None
        self._replay_gap = False
        self._rec: Record | None = None

    # ------------------------------------------------------------------ input
    def on_message(self, msg: Any, rec: Record | None = None) -> bool:
        """Route one decoded frame; True if it was a book frame (depth, snapshot, ticker)."""
        return self.on_decoded(msg, rec.ts_ns, rec.symbol) if rec is not None else self.on_decoded(msg)

    def on_decoded(self, msg: Any, ts_ns: int = 0, label: str | None = None) -> bool:
        """:meth:`on_message` of a frame received at ``ts_ns`` whose record is labelled ``label``."""
        if not isinstance(msg, dict):
            return False
        self._ts_ns = ts_ns
        if "lastUpdateId" in msg:
            market_id = binance_market_id(label) if label else next(iter(self.books)) if len(self.books) == 1 else None
            if market_id is None:
                self.unrouted += 1
                return False
            self._futures_hint = "T" in msg                 # futures snapshots carry "E" and "T"
            self.snapshot(self.book(None, market_id, None), msg)
            return True
        data = msg.get("data", msg)
        if not isinstance(data, dict) or type(data.get("s")) is not str or "u" not in data:
            return False                                    # trades, other streams, responses
        if data.get("e") == "depthUpdate":
            self._futures_hint = "pu" in data
            return self.protocol.on_message(None, msg)
        stream = msg.get("stream", "")
        if "@bookTicker" in stream or data.get("e") == "bookTicker" or ("e" not in data and "B" in data):
            self._futures_hint = data.get("e") == "bookTicker"   # futures tickers carry "e"
            self._ticker(self.book(None, data["s"], None), data)
            return True
        return False

    def on_frame(self, raw: bytes | str, rec: Record | None = None) -> None:
        """One recorded frame's text through the protocol (``depthUpdate`` frames parsed in C on
        the native frame path; books of a new market take the exchange's rule); snapshots and
        tickers come back decoded (:meth:`other`) and are handled as by :meth:`on_message`."""
        self._rec = rec
        super().on_frame(raw)

    def other(self, conn: Any, msg: Any) -> None:
        self.on_message(msg, self._rec)

    def on_sent(self, msg: Any) -> None:
        """A ``SUBSCRIBE`` naming a known market's depth stream starts that book's new
        subscription, as the live feed's resubscription does (after a reconnect, or a resync): its
        events are buffered until the recording's next REST snapshot, instead of being applied to
        the book of the old subscription and counted as a gap. The first subscribe of a market
        finds no book yet (its first depth event starts it). O(streams named)."""
        for market_id in subscribed_depth(msg):
            live = self.books.get(market_id)
            if live is not None:
                self.protocol.begin(None, live, live.symbol)

    def snapshot(self, live: LiveBook, msg: Mapping[str, Any]) -> None:
        """One REST snapshot of ``live``'s market (decoded): loaded with the buffered events, or
        counted as too old / refused (the book unchanged)."""
        counts = self.rest.setdefault(live.symbol, [0, 0, 0])
        counts[0] += 1
        applied0 = live.stats.applied
        self._replaying, self._replay_gap = [], False
        try:
            self.protocol.on_snapshot(None, live, msg)
        except SnapshotTooOld as exc:
            counts[1] += 1
            self._note(live.symbol, str(exc))
        except LiqError as exc:
            counts[2] += 1
            self._note(live.symbol, f"snapshot {msg.get('lastUpdateId')}: {type(exc).__name__}: {exc}")
        finally:
            held, self._replaying = self._replaying or [], None
        if self._replay_gap:
            self._voided[live.symbol] = self._voided.get(live.symbol, 0) + live.stats.applied - applied0
            return
        for book_live, u, bbo in held:
            self._applied(book_live, u, bbo)

    def _ticker(self, live: LiveBook, data: Mapping[str, Any]) -> None:
        book = live.book
        ps, qs = book.price_decimals, book.size_decimals
        u = int(data["u"])
        want = (_units(data["b"], ps), _units(data["B"], qs), _units(data["a"], ps), _units(data["A"], qs))
        cp = self.checkpoints.setdefault(live.symbol, _Checkpoints())
        if u in cp.seen:
            self._check(live.symbol, cp, u, want, cp.seen[u])
        elif book.last_update_id is None or u > book.last_update_id:
            cp.pending[u] = want

    def _check(self, market_id: str, cp: _Checkpoints, u: int, want: tuple[int, int, int, int],
               got: tuple[int, int, int, int]) -> None:
        if want == got:
            cp.ok += 1
        else:
            cp.failed += 1
            self._note(market_id, f"u={u}: bookTicker {want} != book {got}")

    def _applied(self, live: LiveBook, u: int, got: tuple[int, int, int, int]) -> None:
        cp = self.checkpoints.setdefault(live.symbol, _Checkpoints())
        cp.seen[u] = got
        if len(cp.seen) > _MATCH_WINDOW:                    # dicts keep insertion order: drop the oldest
            del cp.seen[next(iter(cp.seen))]
        want = cp.pending.pop(u, None)
        if want is not None:
            self._check(live.symbol, cp, u, want, got)
        if len(cp.pending) > _MATCH_WINDOW:                 # tickers at ids no depth event ends on
            cp.pending = {k: v for k, v in cp.pending.items() if k > u}
        if self.on_update is not None:
            self.on_update(live, self._ts_ns)

    # ------------------------------------------------------- BookDriver
    def book(self, conn: Any, market_id: str, market_type: str | None) -> LiveBook:
        live = self.books.get(market_id)
        if live is None:
            book = self._book
            if book is None:
                book = OrderBook(price_decimals=8, size_decimals=8, symbol=market_id, exchange=self.exchange)
            if self.futures or self._futures_hint:
                book.sequence = "binance_futures"
            live = self.books[market_id] = LiveBook(self.exchange, market_id, book)
        return live

    def changed(self, conn: Any, live: LiveBook, nonce: int | None, timestamp_ms: int | None) -> None:
        bbo = _bbo_units(live.book)
        if self._replaying is not None:                     # a snapshot's buffer: checked once it is whole
            self._replaying.append((live, int(nonce or 0), bbo))
        else:
            self._applied(live, int(nonce or 0), bbo)

    def failed(self, conn: Any, live: LiveBook, exc: BaseException) -> None:
        if isinstance(exc, SequenceGapError):
            super().failed(conn, live, exc)
            if self._replaying is not None:
                self._replay_gap = True
            live.book.clear()                               # waits for the recording's next snapshot
            self.protocol.begin(conn, live, live.symbol)
            return
        live.stats.handler_errors += 1                      # refused: the book is unchanged, the sync goes on
        self._note(live.symbol, f"{live.symbol}: {type(exc).__name__}: {exc}")
        self.protocol.resume(live)

    # ---------------------------------------------------------------- output
    def counts(self, market_id: str) -> dict[str, int]:
        """One market's counts of messages as the Binance replay reports them: ``depth_events``
        (each one of ``applied``, ``skipped``, ``gaps``, ``rejected``, ``unsynced``),
        ``snapshots`` (REST snapshots read: ``snapshots_too_old`` and ``snapshots_rejected`` of
        them left the book as it was), ``checkpoints_ok``/``checkpoints_failed``."""
        live = self.books[market_id]
        st = live.stats
        rest = self.rest.get(market_id, [0, 0, 0])
        voided = self._voided.get(market_id, 0)
        cp = self.checkpoints.get(market_id) or _Checkpoints()
        waiting = self.protocol.waiting(live)
        return {"depth_events": st.messages - st.snapshots + waiting, "applied": st.applied - voided,
                "skipped": st.stale_skipped + voided, "gaps": st.gaps, "rejected": st.handler_errors,
                "unsynced": waiting, "snapshots": rest[0], "snapshots_too_old": rest[1],
                "snapshots_rejected": rest[2], "checkpoints_ok": cp.ok, "checkpoints_failed": cp.failed}

    def reports(self) -> list[BookReport]:
        out = []
        for market_id, live in self.books.items():
            c = self.counts(market_id)
            rep = BookReport(self.exchange, market_id, messages=c["depth_events"] + c["snapshots"],
                             applied=c["applied"], skipped=c["skipped"],
                             snapshots=c["snapshots"] - c["snapshots_rejected"], gaps=c["gaps"],
                             resyncs=max(live.stats.snapshots - 1, 0),
                             rejected=c["rejected"] + c["snapshots_rejected"], unsynced=c["unsynced"],
                             checkpoints_ok=c["checkpoints_ok"], checkpoints_failed=c["checkpoints_failed"],
                             failures=list(self.failures.get(market_id, ())))
            rep.set_book(live.book if self.protocol.is_synced(live) else None)
            out.append(rep)
        return out


def _binance_protocol(exchange: str) -> type[BinanceProtocol]:
    cls: type[BinanceProtocol] = protocol_class(exchange)
    return cls


def _protocol_replay(exchange: str) -> ProtocolReplay:
    return ProtocolReplay(protocol_class(exchange))


#: exchange -> adapter factory
ADAPTERS: dict[str, Callable[[], BinanceAdapter | ProtocolReplay]] = {
    "binance": BinanceAdapter,
    "binanceusdm": lambda: BinanceAdapter("binanceusdm"),
    "binancecoinm": lambda: BinanceAdapter("binancecoinm"),
}
# every venue with a protocol replays through it (the live code path)
# (Binance's replays also check the bookTicker checkpoints: theirs are the entries above)
ADAPTERS.update({ex: functools.partial(_protocol_replay, ex) for ex in PROTOCOLS if ex not in ADAPTERS})


def make_adapter(exchange: str) -> BinanceAdapter | ProtocolReplay:
    """A new adapter for ``exchange`` (one of :data:`ADAPTERS`); ValueError otherwise."""
    try:
        return ADAPTERS[exchange]()
    except KeyError:
        raise ValueError(f"no replay adapter for exchange {exchange!r}; known: {', '.join(ADAPTERS)}") from None
