"""What every ccxt.pro adapter shares: the empty ccxt book shell, raw-frame interception,
error containment, resync and connection-loss bookkeeping.

How an adapter plugs into ccxt.pro (see ``docs/feed.md`` and
``shared/research/ccxt_integration.md`` §2):

* ``order_book()`` returns a :class:`ShellOrderBook`: ccxt's book dict without levels. ccxt
  keeps using it for ``nonce``/``timestamp`` bookkeeping and resolves ``watch_order_book``
  with it; the levels live in the compiled book (``exchange.liq_books[symbol].book``). The
  ~53 µs per message ccxt spends storing levels in Python lists is gone.
* ``client(url)`` patches each new ccxt ``Client`` so raw frames reach
  :meth:`EngineMixin.liq_on_frame` first: receive timestamp, optional recording, then the
  frame handler (``liq_frame_handler``, by default the protocol's ``on_frame``), which gives the frame to
  the venue's protocol (``protocol_class``, :mod:`liqcore.exchanges`: book frames applied straight
  to the compiled book — in C where the venue has a native frame path and ``liq_fast_path`` is on —
  ccxt's per-frame method table skipped) and the protocol hands every other frame back to ccxt's
  ``handle_message`` through the adapter's :class:`~liqcore.feed.driver.CcxtDriver`.
* Nothing raised while handling a frame escapes into ccxt's receive loop (an escaping exception
  silently stops that connection: ``Client.receive_loop`` re-arms only after ``handle_message``
  returns). Book errors become a resync of that book; other errors reject the pending futures.
* ``watch_order_book_for_symbols`` (one call, several symbols) runs through the same handlers; the
  mixin narrows a re-subscribe to the books being resynced (``watch_multiple``) and makes the call
  fair between the symbols (ccxt's race would starve all but the first of a batch).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import orjson
from aiohttp import WSMsgType
from ccxt.async_support.base.ws.order_book import OrderBook as CcxtOrderBook
from ccxt.base.errors import NetworkError

from liqcore.errors import FeedConfigError
from liqcore.exchanges.protocol import BookProtocol
from liqcore.feed import websocket
from liqcore.feed.driver import CcxtDriver
from liqcore.feed.live_book import LiveBook
from liqcore.feed.scales import CrossPolicy, book_for_market

__all__ = ["ShellOrderBook", "EngineMixin", "FrameHandler"]

log = logging.getLogger("liqcore.feed")

_TEXT, _CLOSE, _ERROR, _CLOSED = WSMsgType.TEXT, WSMsgType.CLOSE, WSMsgType.ERROR, WSMsgType.CLOSED
#: the values of ``EngineMixin.liq_reader``
READERS = ("native", "aiohttp", "ccxt")
_monotonic_ns = time.monotonic_ns

#: ``handler(client, frame_text)``: applies one raw frame; must not raise (it may, the caller contains
#: it, but then the frame's book is resynced). The default is the venue protocol's ``on_frame``.
FrameHandler = Callable[[Any, str], None]


class ShellOrderBook(CcxtOrderBook):
    """ccxt's OrderBook without levels: ``nonce``/``timestamp``/``symbol``/``cache`` only.

    ``reset(snapshot)`` loads the snapshot's levels into the linked :class:`LiveBook` (``live``)
    instead of Python lists, so any ccxt path that still resets a book feeds the compiled one;
    ``limit()`` trims nothing (the compiled book's own ``max_depth`` rules). O(1) apart from reset.
    """

    def __init__(self, snapshot: dict = {}, depth: int | None = None) -> None:  # noqa: B006 (ccxt's signature)
        super().__init__({}, depth)
        self.live: LiveBook | None = None

    def limit(self) -> "ShellOrderBook":
        return self

    def reset(self, snapshot: dict = {}) -> None:  # noqa: B006
        if self.live is not None and (snapshot.get("bids") or snapshot.get("asks")):
            self.live.load_snapshot(snapshot.get("bids") or [], snapshot.get("asks") or [], snapshot.get("nonce"))
        self["nonce"] = snapshot.get("nonce")
        self["timestamp"] = snapshot.get("timestamp")
        self["symbol"] = snapshot.get("symbol", self.get("symbol"))


if TYPE_CHECKING:
    # to a type checker the mixin is a ccxt exchange (ccxt ships no types: Any), so the ccxt
    # attributes it relies on (markets, orderbooks, clients, safe_market...) type-check
    from ccxt.async_support.base.exchange import Exchange as _CcxtExchange
else:
    _CcxtExchange = object


class EngineMixin(_CcxtExchange):
    """Mixed into a ccxt.pro exchange class before it: ``class X(EngineMixin, ccxt.pro.x)``.

    Keyword options (besides ccxt's config dict): ``recorder`` (a
    :class:`liqcore.recorder.Recorder`: every frame received, with wall and monotonic receive
    times, and every REST snapshot body), ``max_depth`` and ``cross_policy`` of the books
    (:class:`~liqcore.OrderBook`), ``buffer_limit`` (deltas held per book before its snapshot).

    Attributes: ``liq_books`` (unified symbol -> LiveBook), ``liq_frames`` (frames received),
    ``liq_malformed`` (frames that were not valid JSON), ``liq_handler_errors`` (exceptions
    contained while handling frames), ``liq_record_errors`` (frames or REST bodies the recorder
    refused or could not write: counted and logged, the feed goes on), ``liq_recv_ns``
    (monotonic ns of the frame being handled).
    """

    #: the venue's protocol (:mod:`liqcore.exchanges`), set by each adapter: every frame goes to it
    #: (its ``on_frame`` is the default frame handler) and it reports to the adapter's :class:`CcxtDriver`
    protocol_class: ClassVar[type[BookProtocol]]
    liq_protocol: BookProtocol
    _liq_fast_path = True
    #: how each connection is read: ``"native"`` (the default): liqcore's websocket
    #: (:mod:`liqcore.feed.websocket`), frames read in C and handed to the protocol inside the socket's
    #: ``data_received`` (aiohttp's is kept where ccxt needs it: a proxy, cookies, ``aiohttp_trust_env``);
    #: ``"aiohttp"``: ccxt's aiohttp connection, read by :meth:`_liq_read`; ``"ccxt"``: ccxt's own
    #: receive loop. The same books each way, at falling cost per frame (``docs/scale.md``).
    liq_reader: str = "native"

    @property
    def liq_fast_path(self) -> bool:
        """Adapters with a native frame path (Binance, OKX) parse book frames' text in C straight
        into the book when True (the default; ``exchange.liq_fast_path = False`` selects the
        decoded path: the same books)."""
        return self._liq_fast_path

    @liq_fast_path.setter
    def liq_fast_path(self, on: bool) -> None:
        self._liq_fast_path = bool(on)
        protocol = self.__dict__.get("liq_protocol")   # ccxt's __init__ sets attributes before ours
        if protocol is not None:
            protocol.fast_path = bool(on)

    @property
    def liq_fast_frames(self) -> int:
        """Frames applied (or buffered) through the native frame path, for stats and tests."""
        protocol = self.__dict__.get("liq_protocol")   # read by ccxt's __init__ before ours runs
        return 0 if protocol is None else protocol.fast_frames

    def __init__(self, config: dict | None = None, *, recorder: Any = None, max_depth: int | None = None,
                 cross_policy: CrossPolicy = "raise", buffer_limit: int = 10_000) -> None:
        super().__init__(config or {})
        self.liq_books: dict[str, LiveBook] = {}
        self.liq_recorder = recorder
        self.liq_max_depth = max_depth
        self.liq_cross_policy = cross_policy
        self.liq_buffer_limit = buffer_limit
        self.liq_protocol = self.protocol_class(CcxtDriver(self), fast_path=self._liq_fast_path)
        #: what every raw frame is handed to (tests swap it to corrupt frames on the way in)
        self.liq_frame_handler: FrameHandler = self.liq_protocol.on_frame
        self.liq_frames = 0
        self.liq_malformed = 0
        self.liq_handler_errors = 0
        self.liq_record_errors = 0
        self.liq_recv_ns = 0
        self._liq_symbols: dict[tuple[str, str], str] = {}
        #: per symbols list of watch_order_book_for_symbols: symbol -> book version last returned
        self._liq_seen: dict[tuple[str, ...], dict[str, int]] = {}
        self._liq_last_returned: dict[tuple[str, ...], str] = {}

    # ------------------------------------------------------------ per-exchange knobs
    def liq_sequence_rule(self, market: dict) -> str | None:
        """The compiled book's sequence rule for ``market`` (None: the adapter checks ids itself)."""
        return None

    def liq_message_hash(self, symbol: str) -> str:
        """ccxt's message hash of the book subscription of ``symbol``."""
        return "orderbook::" + symbol

    def liq_book_hash(self, symbol: str, channel: str) -> str:
        """ccxt's message hash of ``symbol``'s book subscription on the venue's ``channel`` (the
        protocol's channel name; default: :meth:`liq_message_hash`, one book channel)."""
        return self.liq_message_hash(symbol)

    def liq_market_symbol(self, client: Any, market_id: str, market_type: str | None) -> str | None:
        """The unified symbol of a venue market id in a book message seen on ``client`` (None: not a
        loaded market; the message is ignored). Default: ccxt's ``safe_market``, cached."""
        symbol = self.liq_symbol(client, market_id, market_type)
        return symbol if symbol in (self.markets or {}) else None

    def liq_other(self, client: Any, msg: Any) -> None:
        """A decoded frame that is not a book message of the venue's protocol: ccxt's dispatch."""
        self.handle_message(client, msg)

    def handle_order_book(self, client: Any, message: Any, *args: Any) -> Any:
        # ccxt's own dispatch reaches here only if a book frame bypassed the frame handler
        if self.liq_protocol.on_message(client, message):
            return None
        return super().handle_order_book(client, message, *args)

    def liq_hash_symbol(self, message_hash: str) -> str | None:
        """The symbol of a book subscription's ccxt message hash (None: not a book hash)."""
        prefix = self.liq_message_hash("")
        return message_hash[len(prefix):] if message_hash.startswith(prefix) else None

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        """ccxt's book subscribe request (and its subscription record) for several symbols,
        narrowed to ``symbols``. Default: unchanged (the venue's request names no symbols, or ccxt
        narrows it itself, as Bybit's ``watch_topics`` does)."""
        return message, subscription

    # ------------------------------------------------------------------ books
    def liq_book(self, symbol: str) -> LiveBook:
        """The LiveBook of ``symbol``, created (empty, syncing) from the markets metadata."""
        live = self.liq_books.get(symbol)
        if live is None:
            if self.markets is None or symbol not in self.markets:
                raise FeedConfigError(f"{self.id}: unknown symbol {symbol!r} (markets not loaded?)")
            market = self.markets[symbol]
            opts: dict[str, Any] = {"max_depth": self.liq_max_depth, "cross_policy": self.liq_cross_policy}
            book = book_for_market(self.id, market, precision_mode=self.precisionMode,
                                   sequence=self.liq_sequence_rule(market), **opts)
            live = self.liq_books[symbol] = LiveBook(self.id, symbol, book)
            live.message_hash = self.liq_message_hash(symbol)
        return live

    def liq_symbol(self, client: Any, market_id: str, market_type: str | None = None) -> str:
        """Unified symbol of an exchange market id seen on ``client`` (cached per url and id:
        ``safe_market`` is a few µs, a dict hit ~50 ns). An id of no loaded market is not cached:
        its symbol may change when markets load (a replay derives them from the frames)."""
        key = (client.url, market_id)
        sym = self._liq_symbols.get(key)
        if sym is None:
            sym = self.safe_market(market_id, None, None, market_type)["symbol"]
            if sym in (self.markets or {}):
                self._liq_symbols[key] = sym
        return sym

    def order_book(self, snapshot: dict = {}, depth: int | None = None) -> ShellOrderBook:  # noqa: B006
        return ShellOrderBook(snapshot, depth)

    def liq_shell(self, symbol: str, live: LiveBook, depth: int | None = None) -> ShellOrderBook:
        """The shell ccxt resolves for ``symbol`` (created and registered if missing)."""
        shell = self.orderbooks.get(symbol)
        if shell is None:
            shell = self.orderbooks[symbol] = self.order_book({}, depth)
        shell.live = live
        shell["symbol"] = symbol
        return shell

    # ------------------------------------------------- multi-symbol subscriptions
    def watch_multiple(self, url: str, message_hashes: list[str], message: Any = None,
                       subscribe_hashes: list[str] | None = None, subscription: Any = None) -> Any:
        """ccxt's subscribe-and-wait for several hashes (``watch_order_book_for_symbols`` and,
        on most venues, ``watch_order_book`` too). ccxt sends the whole request as soon as one of
        ``subscribe_hashes`` has no subscription, e.g. after one book of a multi-symbol
        subscription was dropped for a resync; the books that are still subscribed would then be
        subscribed again (a second snapshot, a venue error, or Binance re-syncing a healthy book).
        A book request is narrowed to the symbols whose subscription is missing instead."""
        client = self.clients.get(url)
        if message is not None and client is not None and subscribe_hashes and len(subscribe_hashes) > 1:
            missing = [h for h in subscribe_hashes if h not in client.subscriptions]
            if 0 < len(missing) < len(subscribe_hashes):
                symbols = {self.liq_hash_symbol(h) for h in missing}
                if None not in symbols:
                    message, subscription = self.liq_narrow_subscribe(message, subscription, symbols)  # type: ignore[arg-type]
        return super().watch_multiple(url, message_hashes, message, subscribe_hashes, subscription)

    async def watch_order_book_for_symbols(self, symbols: list[str], limit: int | None = None,
                                           params: dict = {}) -> Any:  # noqa: B006 (ccxt's signature)
        """ccxt's multi-symbol watch (one subscribe request; resolves with the shell of a symbol
        that changed), made fair. ccxt races one future per symbol and forgets the losers: when
        the symbols' frames arrive in one batch (lockstep updates, a busy socket) the symbol
        whose frame is handled first wins every call and the others are never returned. Here a
        call first returns, round-robin, the shell of a symbol of the same ``symbols`` list that
        changed since that list's loop last got it — only while every book of the list is live
        and subscribed, so a resync always goes through ccxt's subscribe — and otherwise waits in
        ccxt's race. O(len(symbols)) per call."""
        if len(symbols) < 2:
            return await super().watch_order_book_for_symbols(symbols, limit, params)
        key = tuple(symbols)
        seen = self._liq_seen.setdefault(key, {})
        shell = self._liq_unseen_shell(key, seen)
        if shell is None:
            shell = await super().watch_order_book_for_symbols(symbols, limit, params)
        else:
            await asyncio.sleep(0)        # a loop over it never holds the event loop
        live = self.liq_books.get(shell.get("symbol"))
        if live is not None:
            seen[live.symbol] = live.stats.applied + live.stats.snapshots
            self._liq_last_returned[key] = live.symbol
        return shell

    def _liq_unseen_shell(self, key: tuple[str, ...], seen: dict[str, int]) -> ShellOrderBook | None:
        """The shell of the first symbol after the last one returned for ``key`` whose book
        changed since (None if none did, or a book of ``key`` is not live and subscribed)."""
        shells = []
        for symbol in key:
            live = self.liq_books.get(symbol)
            shell = self.orderbooks.get(symbol)
            if live is None or shell is None or live.state != "live":
                return None
            shells.append((symbol, live, shell))
        last = self._liq_last_returned.get(key)
        start = key.index(last) + 1 if last in key else 0
        for i in range(len(key)):
            symbol, live, shell = shells[(start + i) % len(key)]
            if seen.get(symbol) != live.stats.applied + live.stats.snapshots:
                return shell
        return None

    # ------------------------------------------------------------ raw frames
    def client(self, url: str) -> Any:
        client = super().client(url)
        if not getattr(client, "_liq_patched", False):
            if self.liq_reader not in READERS:
                raise FeedConfigError(f"{self.id}: liq_reader must be one of {READERS}, not {self.liq_reader!r}")
            # instance attributes shadow the Client's methods: ccxt's Client.handle_message
            # (WSMessage -> text, gunzip/inflate) then calls us, and the connection, once open,
            # is read by our reader instead of ccxt's receive loop
            client.handle_text_or_binary_message = functools.partial(self.liq_on_frame, client)
            client.send = functools.partial(self._liq_send, client)
            if self.liq_reader != "ccxt":
                client.receive_loop = functools.partial(self._liq_start_reader, client)
            if self.liq_reader == "native":
                client.create_connection = functools.partial(self._liq_connect, client)
            client._liq_patched = True
        return client

    def _liq_connect(self, client: Any, session: Any) -> Any:
        """What ccxt's ``Client.open`` awaits for a connection (in place of ``create_connection``):
        liqcore's websocket, or ccxt's aiohttp one where the connection needs what only aiohttp
        does here (a proxy, cookies, proxies from the environment)."""
        if client.proxy or "cookies" in client.options or self.aiohttp_trust_env \
                or any(self.check_ws_proxy_settings()):
            return type(client).create_connection(client, session)
        if self.ssl_context is None and client.url.startswith("wss:"):
            self.open()                          # ccxt builds its TLS context (cafile, verify) there
        # the message bound is the reader's default: ccxt's aiohttp connections' 10 MiB
        return websocket.connect(client.url, headers=client.options.get("headers"), ssl=self.ssl_context)

    def _liq_start_reader(self, client: Any) -> None:
        """What ccxt's ``Client.open`` schedules once the socket is open (in place of its receive
        loop): liqcore's websocket starts handing frames over; an aiohttp connection gets one task
        that reads it until it closes."""
        if client.closed():
            client.on_close(1006)        # terminated between the connect and this call (as ccxt does)
            return
        ws = client.connection
        if isinstance(ws, websocket.WebSocket):
            ws.start(functools.partial(self.liq_on_frame, client), functools.partial(self._liq_message, client))
        else:
            client._liq_reader = asyncio.ensure_future(self._liq_read(client, ws))

    async def _liq_read(self, client: Any, ws: Any) -> None:
        """The read loop of one connection (aiohttp's ``receive``, the same call a bare reader
        makes): a text frame goes straight to :meth:`liq_on_frame`; every other message (ping,
        pong, close, error, a binary frame to gunzip or inflate) to ccxt's ``handle_message``, as
        its own loop would. Frames already buffered are read in the same wake-up without a
        suspension. ccxt's loop costs a task, a done-callback and a ``call_soon`` per wake-up and
        two method calls per frame on top of this (``docs/scale.md``)."""
        on_frame = self.liq_on_frame
        receive = ws.receive
        try:
            while not ws.closed:
                msg = await receive()
                if msg.type is _TEXT:
                    on_frame(client, msg.data)
                    continue
                client.handle_message(msg)
                if msg.type is _CLOSE or msg.type is _ERROR:
                    return                   # ccxt's on_close / on_error ran
            client.on_close(1006)            # closed under us (a local close, the peer gone)
        except asyncio.CancelledError:
            raise
        except Exception as exc:             # as ccxt's loop: every pending watcher sees it
            log.warning("%s: read loop of %s ended: %r", self.id, client.url, exc)
            client.reject(NetworkError(str(exc)))

    def _liq_message(self, client: Any, msg: Any) -> None:
        """A message of liqcore's websocket that is not text (ping, pong, binary, the last one):
        ccxt's ``handle_message``, as :meth:`_liq_read` does; ``CLOSED`` (a local close, or the
        socket ended without a close frame) is ccxt's ``on_close(1006)``."""
        try:
            client.handle_message(msg)
        except Exception as exc:         # never into the socket's callback: every pending watcher sees it
            log.warning("%s: %r on %s: %r", self.id, msg.type, client.url, exc)
            client.reject(NetworkError(str(exc)))
        if msg.type is _CLOSED:
            client.on_close(1006)

    def liq_on_frame(self, client: Any, data: Any) -> None:
        """One frame as received on ``client`` (text, or bytes that must be UTF-8): the receive
        time, the recording, then the frame handler (by default the venue protocol's
        ``on_frame``). What the read loop calls per text frame; never raises. O(frame)."""
        recv = self.liq_recv_ns = _monotonic_ns()
        self.liq_frames += 1
        if self.liq_recorder is not None:
            self._liq_record(data, stream=client.url, ts_ns=time.time_ns(), mono_ns=recv)
        if type(data) is not str:
            try:
                data = bytes(data).decode()
            except UnicodeDecodeError:
                self.liq_malformed += 1          # not text: skipped like any undecodable frame
                log.warning("%s: non-UTF-8 frame on %s skipped", self.id, client.url)
                return
        try:
            self.liq_frame_handler(client, data)
        except Exception as exc:        # never into ccxt's receive loop (it would stop reading)
            self.liq_handler_errors += 1
            log.exception("%s: handler error on %s", self.id, client.url)
            client.reject(exc)           # every pending watcher of this connection sees it

    async def _liq_send(self, client: Any, message: Any) -> Any:
        """ccxt's ``Client.send`` (an instance attribute of each client), with the message recorded
        first (kind ``"sent"``, the connection's url) when a recorder is set: a replay learns from
        a recorded subscribe where a book's new subscription starts, as the live feed does. The
        message is made text here as ccxt would (orjson), and ccxt sends that text unchanged."""
        if self.liq_recorder is not None:
            if not isinstance(message, str):
                message = orjson.dumps(message).decode()
            self._liq_record(message, stream=client.url, kind="sent")
        return await type(client).send(client, message)

    def _liq_record(self, raw: Any, **fields: Any) -> None:
        """Write to the recorder; a refusal (a frame beyond the format's limit, a full disk) is
        counted and logged, never raised into ccxt's receive loop (it would stop reading)."""
        try:
            self.liq_recorder.write(raw, exchange=self.id, **fields)
        except (ValueError, OSError) as exc:
            self.liq_record_errors += 1
            if self.liq_record_errors == 1 or self.liq_record_errors % 1000 == 0:
                log.error("%s: recorder refused a %s (%d so far): %s", self.id, fields.get("kind", "frame"),
                          self.liq_record_errors, exc)

    # ---------------------------------------------------------------- resync
    def liq_fail(self, client: Any, live: LiveBook, exc: BaseException) -> None:
        """The book cannot continue from this message: mark it stale (counted by kind), make ccxt
        resubscribe on the next ``watch_order_book`` and fail a pending watcher (not a parked
        rejection: that would make the next watch raise without yielding)."""
        if live.mark_stale_by(exc) == "error":
            log.warning("%s %s: %r -> resync", self.id, live.symbol, exc)
        self.liq_drop_subscription(client, live)
        h = live.message_hash
        if h is not None and h in client.futures:
            client.reject(exc, h)

    def liq_drop_subscription(self, client: Any, live: LiveBook) -> None:
        """Forget the subscription so the next watch resubscribes (and resnapshots). Default:
        delete ccxt's subscription entry and book (binance's own gap recovery)."""
        if live.message_hash is not None:
            client.subscriptions.pop(live.message_hash, None)
        self.orderbooks.pop(live.symbol, None)

    def liq_drop_connection(self, client: Any, exc: BaseException) -> None:
        """Resync by reconnecting (venues whose fresh snapshot comes only with a new
        subscription and where ccxt has no re-subscribe path): every book of the connection is
        marked stale, pending futures fail, the socket closes, the next watch dials again."""
        for live in self.liq_books.values():
            if live.client_url == client.url and live.state == "live":
                live.mark_stale("disconnect", exc)
            self.orderbooks.pop(live.symbol, None) if live.client_url == client.url else None
        if client.error is None:
            client.error = exc           # ccxt's on_close must not treat this as a server close
        client.reject(exc)               # before close(): close() cancels pending futures
        if self.clients.get(client.url) is client:
            del self.clients[client.url]
        self.liq_protocol.connection_lost(client)
        asyncio.ensure_future(client.close())

    # ------------------------------------------------------- connection losses
    def liq_replaced(self, client: Any) -> bool:
        """True when ``client`` is no longer its url's connection: a new one took its place (its
        late close must not touch the new connection's state)."""
        current = self.clients.get(client.url)
        return current is not None and current is not client

    def _liq_connection_lost(self, client: Any, error: Any) -> None:
        # syncing books too: a snapshot task may still complete for a connection that is gone
        for live in self.liq_books.values():
            if live.client_url == client.url and live.state in ("live", "syncing"):
                live.mark_stale("disconnect", error if isinstance(error, BaseException) else None)
        self.liq_protocol.connection_lost(client)     # what the protocol kept about this connection

    def on_close(self, client: Any, error: Any) -> None:
        super().on_close(client, error)
        self._liq_connection_lost(client, error)

    def on_error(self, client: Any, error: Any) -> None:
        super().on_error(client, error)
        self._liq_connection_lost(client, error)
