"""What the simulator-driven feed tests share: the tick, a time-limited runner, adapters attached
to the simulator, each venue's default test book, the book-equals-truth check, the waits until
everything the simulator sent has been handled, the fault-run checks, and hand-made Binance depth
frames for the protocol and replay tests."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, AsyncIterator, Callable, Iterable, Sequence

import orjson

from liqcore.feed import create_exchange
from liqcore.sim import bitfinex_checksum, kraken_checksum, okx_checksum

__all__ = ["FAST", "SimBook", "BOOKS", "run", "exchanges", "drained", "settle", "live_feed", "update_id_of",
           "assert_equals_truth", "assert_final_book", "serving_capture", "FeedRun", "run_feed", "tamper_until_caught",
           "check_clean_counters", "check_frame_path", "check_subscribed_once", "check_fault_counters",
           "check_resynced_in_place"]

#: seconds per simulator tick in tests (the venues' 100 ms push window, 20x faster)
FAST = 0.005


@dataclass(frozen=True)
class SimBook:
    """One book a feed follows on the simulator: the ccxt id and unified symbol the feed names it
    by, the simulator venue and instrument id it is served as, and the window the venue's channel
    keeps (levels per side; None: the whole book)."""

    ex_id: str
    symbol: str
    venue: str
    vid: str
    depth: int | None = None


#: each adapter's default test book on the simulator (ccxt id -> its BTC book)
BOOKS = {b.ex_id: b for b in (
    SimBook("binance", "BTC/USDT", "binance", "BTCUSDT"),
    SimBook("binanceusdm", "BTC/USDT:USDT", "binanceusdm", "BTCUSDT"),
    SimBook("okx", "BTC/USDT", "okx", "BTC-USDT"),
    SimBook("bybit", "BTC/USDT", "bybit", "BTCUSDT", 50),
    SimBook("coinbase", "BTC/USD", "coinbase", "BTC-USD"),
    SimBook("kraken", "BTC/USD", "kraken", "XXBTZUSD", 10),
    SimBook("bitget", "BTC/USDT", "bitget", "BTCUSDT"),
    SimBook("bitfinex", "BTC/USD", "bitfinex", "tBTCUSD", 25),
)}


def binance_depth(first: int, last: int, bids: Iterable[Sequence[str]] = (), asks: Iterable[Sequence[str]] = (),
                  prev: int | None = None, sym: str = "BTCUSDT", e: int = 7) -> str:
    """A Binance ``depthUpdate`` frame's text, as the combined stream sends it (``pu`` for futures
    when ``prev`` is given)."""
    d: dict[str, Any] = {"e": "depthUpdate", "E": e, "s": sym, "U": first, "u": last, "b": [list(b) for b in bids],
                         "a": [list(a) for a in asks]}
    if prev is not None:
        d["pu"] = prev
    return orjson.dumps({"stream": sym.lower() + "@depth", "data": d}).decode()


async def until(cond: Callable[[], Any], timeout: float | None = None) -> None:
    """Poll ``cond()`` every 10 ms until it is true (a feed's counters reaching a figure while the
    simulator streams); TimeoutError after ``timeout`` seconds (None: the test body's own limit,
    :func:`run`'s)."""
    async def _poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(_poll(), timeout)


def run(coro: Any, timeout: float = 20.0) -> Any:
    """Run one async test body with a hard time limit (seconds)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def exchanges(sim: Any, *ids: str, **liq: Any) -> dict[str, Any]:
    """liqcore's exchange for each id (its adapter, or stock ccxt.pro) pointed at ``sim``;
    ``liq``: the adapters' options (``max_depth``, ``recorder``...)."""
    return {i: sim.attach(create_exchange(i, {"enableRateLimit": False}, **liq)) for i in ids}


def _live(books: Any, ex_id: str, symbol: str) -> Any:
    """The LiveBook of ``symbol`` in ``books``: a LiveFeed or an engine exchange."""
    return books.live_book(ex_id, symbol) if hasattr(books, "live_book") else books.liq_books[symbol]


async def drained(sim: Any, books: Any, ex_id: str, symbols: Sequence[str],
                  venues: Iterable[str] | None = None, timeout: float = 10.0) -> None:
    """Freeze the simulator and wait until everything it sent was handled: its send queues empty,
    the books live and quiet for 150 ms (a frame may still sit in a socket buffer on a loaded
    machine). ``books``: a LiveFeed or an engine exchange holding the LiveBooks of ``symbols``;
    ``venues``: the simulator venues whose connections carry them (default ``ex_id``)."""
    sim.pause()
    lives = [_live(books, ex_id, s) for s in symbols]
    conns = [c for v in (venues or (ex_id,)) for c in sim.connections_of(v)]

    async def _quiet() -> None:
        while True:
            if all(c.queue.empty() or c.closing for c in conns) and all(lb.is_live for lb in lives):
                seen = [lb.stats.messages for lb in lives]
                await asyncio.sleep(0.15)
                if seen == [lb.stats.messages for lb in lives]:
                    return
            await asyncio.sleep(0.01)
    await asyncio.wait_for(_quiet(), timeout)


def update_id_of(sim: Any, book: SimBook) -> int | None:
    """The id the venue's channel last sent for ``book`` (what a synced book's
    ``last_update_id`` must be): Bybit's ``u`` of the window, Coinbase's ``sequence_num`` of the
    current subscription, the market's last ``u``/``seqId``/``seq`` elsewhere; None for Kraken
    and Bitfinex, whose frames carry no ids."""
    if book.venue in ("kraken", "bitfinex"):
        return None
    if book.venue.startswith("bybit"):
        return sim.last_update_id(book.venue, book.vid, book.depth)
    if book.venue == "coinbase":
        return sim.market(book.venue, book.vid).subscribers[-1].last_sequence_num
    return sim.last_update_id(book.venue, book.vid)


async def settle(sim: Any, books: Any, want: Sequence[SimBook], timeout: float = 5.0) -> None:
    """Freeze the simulator and wait until every book of ``want`` is live at the id the venue
    last sent for it (:func:`update_id_of`; venues without ids: live). ``books``: a LiveFeed or
    an engine exchange."""
    sim.pause()

    async def _caught_up() -> None:
        while True:
            done = True
            for b in want:
                live, last = _live(books, b.ex_id, b.symbol), update_id_of(sim, b)
                if not live.is_live or (last is not None and live.book.last_update_id != last):
                    done = False
            if done:
                return
            await asyncio.sleep(0.01)
    await asyncio.wait_for(_caught_up(), timeout)


def assert_equals_truth(books: Any, sim: Any, book: SimBook) -> None:
    """The compiled book of ``book`` in ``books`` (a LiveFeed or an engine exchange; the
    simulator drained) equals the simulator's true book (its window) level for level, as wire
    strings, with at least 20 levels a side (the synthetic books' floor; fewer if the window is
    smaller); it is at the same point of the stream: the same id (:func:`update_id_of`), and
    where the venue sends checksums (Kraken, Bitfinex, Bitget) the C checksum of the book equals
    the simulator's independent Python one (Bitfinex: the book keeps the 25-level window). The
    ccxt book ccxt resolves is the compiled book's shell, with no Python levels at all."""
    live = _live(books, book.ex_id, book.symbol)
    ob = live.book
    truth = sim.true_book(book.venue, book.vid, book.depth)
    bids, asks = [lv[:2] for lv in truth["bids"]], [lv[:2] for lv in truth["asks"]]
    assert ob.level_strings("bid") == bids, book
    assert ob.level_strings("ask") == asks, book
    floor = min(book.depth or 20, 20)
    assert len(bids) >= floor and len(asks) >= floor, book
    last = update_id_of(sim, book)
    if last is not None:
        assert ob.last_update_id == last, book
    if book.venue == "kraken":
        assert ob.checksum("kraken") == kraken_checksum(truth["bids"], truth["asks"])
    elif book.venue == "bitfinex":
        assert ob.max_depth == book.depth and ob.checksum("bitfinex") == bitfinex_checksum(bids, asks)
    elif book.venue.startswith("bitget"):
        assert ob.checksum("bitget") == okx_checksum(truth["bids"], truth["asks"])
    ex = books.exchange(book.ex_id) if hasattr(books, "exchange") else books
    shell = ex.orderbooks[book.symbol]
    assert shell.live is live and len(shell["bids"]) == 0 and len(shell["asks"]) == 0, book


def assert_final_book(book: Any, final: dict[str, Any], name: str) -> None:
    """``book`` (an OrderBook) ends as a capture's EXPECTED.json ``final_state`` entry ``final``
    of instrument ``name`` says: best bid, best ask (``[price, size]`` wire strings) and the
    number of levels of each side."""
    assert book.level_strings("bid", 1)[0] == final["best_bid"], name
    assert book.level_strings("ask", 1)[0] == final["best_ask"], name
    assert [book.bid_count, book.ask_count] == final["levels"], name


def local_tls(host: str) -> tuple[Any, Any]:
    """(server, client) SSL contexts: the server's with a certificate for ``host`` from a fresh local
    CA (trustme), the client's trusting that CA only. Skips the test without trustme."""
    import ssl

    import pytest
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@contextlib.asynccontextmanager
async def live_feed(sim: Any, ex_id: str, symbols: Sequence[str], *, applied: int = 0, fast_path: bool = True,
                    reader: str = "native", **feed_opts: Any) -> AsyncIterator[Any]:
    """A LiveFeed of ``ex_id``'s ``symbols`` against ``sim`` (quick backoff unless ``feed_opts``
    say otherwise), entered once every book is live and applied ``applied`` messages;
    ``fast_path`` False: the adapter decodes frames in Python instead of C; ``reader``: how the
    sockets are read (``EngineMixin.liq_reader``: native, aiohttp or ccxt)."""
    from liqcore.feed import LiveFeed
    feed_opts.setdefault("backoff", (0.02, 0.5))
    exs = exchanges(sim, ex_id)
    if not fast_path:
        exs[ex_id].liq_fast_path = False
    exs[ex_id].liq_reader = reader
    async with LiveFeed([(ex_id, s) for s in symbols], exchanges=exs, **feed_opts) as feed:
        await feed.wait_live(8)
        lives = [feed.live_book(ex_id, s) for s in symbols]
        await until(lambda: all(lb.stats.applied >= applied and lb.is_live for lb in lives))
        yield feed


@contextlib.asynccontextmanager
async def serving_capture(sim: Any, ex_id: str, symbols: dict[str, str], want: dict[str, int], *,
                          live_within: float, **feed_opts: Any) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    """``sim`` (just started on a real capture's markets) serves it to a LiveFeed of ``ex_id``'s
    ``symbols`` (instrument key -> unified symbol; ``feed_opts`` go to the feed): paused until
    every book is live (``live_within`` seconds at most), so nothing of the capture is published
    before the books sync, then resumed. Entered once every book applied the ``want[key]``
    updates the capture holds; yields ``(feed, {key: LiveBook})``."""
    from liqcore.feed import LiveFeed
    sim.pause()
    async with LiveFeed([(ex_id, s) for s in symbols.values()], exchanges=exchanges(sim, ex_id), **feed_opts) as feed:
        await feed.wait_live(live_within)
        sim.resume()
        lives = {key: feed.live_book(ex_id, s) for key, s in symbols.items()}
        await until(lambda: all(lives[k].stats.applied >= want[k] for k in symbols))
        yield feed, lives


@dataclass
class FeedRun:
    """What :func:`run_feed` saw: per-book feed stats, the client frames the simulator received,
    the faults it injected, the exchange object and the (closed) simulator."""

    stats: list[dict[str, Any]]
    received: list[str]
    faults: list[tuple[str, str, int]]
    exchange: Any
    sim: Any


async def run_feed(books: Sequence[SimBook], *, plan: Any = None, venue: str | None = None, updates: int = 50,
                   seed: int = 3, fast_path: bool = True, reader: str = "native") -> FeedRun:
    """A LiveFeed of ``books`` (one exchange) against a synthetic simulator with fault plan
    ``plan`` on the ``venue`` sockets (default: the exchange's id): once every book applied
    ``updates`` messages and is live, the simulator is frozen, drained and settled
    (:func:`drained`, :func:`settle`) and every book must equal its truth
    (:func:`assert_equals_truth`). ``fast_path``, ``reader``: see :func:`live_feed`."""
    from liqcore.sim import ExchangeSimulator
    ex_id = books[0].ex_id
    symbols = [b.symbol for b in books]
    venue = venue or ex_id
    faults = None if plan is None else {venue: plan}
    async with ExchangeSimulator(seed=seed, interval=FAST, max_seconds=25, faults=faults) as sim:
        async with live_feed(sim, ex_id, symbols, applied=updates, fast_path=fast_path, reader=reader) as feed:
            await drained(sim, feed, ex_id, symbols, [venue])
            await settle(sim, feed, books)
            for b in books:
                assert_equals_truth(feed, sim, b)
            conns = sim.connections_of(venue)
            return FeedRun([feed.stats(ex_id, s) for s in symbols], [r for c in conns for r in c.received],
                           [f for c in conns for f in c.faults_log], feed.exchange(ex_id), sim)


async def tamper_until_caught(sim: Any, feed: Any, ex_id: str, symbol: str, level: int, bump: str,
                              truth_asks: Callable[[Any], list[list[str]]], *, patience: int = 5,
                              after: int = 20) -> Any:
    """The negative control of a checksum: behind the feed's back, grow the size of the book's ask
    number ``level`` (0 = best, inside the checksummed levels) by ``bump``, and let the simulator
    run until a checksum catches it. The next messages may rewrite that very level before a
    checksum covers it (the book is then right again): after ``patience`` messages without a
    failure the tamper is repeated, five times at most. Returns the LiveBook once it resynced,
    applied ``after`` more messages and the simulator is drained (frozen)."""
    live = feed.live_book(ex_id, symbol)
    for _ in range(5):
        await drained(sim, feed, ex_id, [symbol])
        px, sz = live.book.level_strings("ask", level + 1)[level]
        live.book.update("ask", px, str(Decimal(sz) + Decimal(bump)))
        assert live.book.level_strings("ask") != truth_asks(sim)         # the comparison can fail
        assert live.stats.checksum_failed == 0
        seen = live.stats.messages
        sim.resume()
        await until(lambda: live.stats.checksum_failed or live.stats.messages >= seen + patience)
        if live.stats.checksum_failed:
            break
    await until(lambda: live.stats.resyncs)
    applied = live.stats.applied
    await until(lambda: live.stats.applied >= applied + after and live.is_live)
    await drained(sim, feed, ex_id, [symbol])
    return live


def check_clean_counters(stats: dict[str, Any], updates: int) -> None:
    """The counters of any clean run: at least ``updates`` messages applied, no resync, no gap,
    the book live after one watch call, and a receive-to-book latency measured (0 < it < 50 ms:
    a sanity bound on the stamp, not a timing)."""
    assert stats["applied"] >= updates and stats["resyncs"] == 0 and stats["gaps"] == 0, stats
    assert stats["state"] == "live" and stats["watch_calls"] == 1
    assert 0 < stats["last_latency_ns"] < 50_000_000


def check_frame_path(stats: dict[str, Any], exchange: Any, fast_path: bool) -> None:
    """Which path the frames of an adapter with a C frame parser (Binance, OKX) took: with
    ``fast_path`` every message of the book but its snapshots (Binance's come over REST, OKX's
    are decoded by ccxt) went through C; without it, none did. ``messages`` counts each update
    once: on arrival, or when it leaves the buffer of a sync (``applied + buffered`` would count
    twice an update buffered and then applied, as when the snapshot is older than the buffer's
    last updates)."""
    if fast_path:
        assert exchange.liq_fast_frames >= stats["messages"] - stats["snapshots"], (exchange.liq_fast_frames, stats)
    else:
        assert exchange.liq_fast_frames == 0


def check_subscribed_once(run: FeedRun) -> None:
    """A clean run of a venue whose snapshot comes on the socket (Bybit, Coinbase, Kraken): the
    client sent one subscribe request and nothing else; one snapshot, nothing skipped, no
    handler error (each book of the run)."""
    for stats in run.stats:
        assert stats["snapshots"] == 1 and stats["stale_skipped"] == 0 and stats["handler_errors"] == 0, stats
    assert len(run.received) == 1 and "subscribe" in run.received[0]        # one subscription, nothing else


def check_fault_counters(stats: dict[str, Any], plan: Any, expect: dict[str, Any], log: list[Any]) -> list[Any]:
    """The common checks of a fault run: each ``expect`` counter (an int: at least; ``"==n"``:
    exactly), the index faults were injected, the book ends live with no handler error. Returns
    the run's fault plans (``plan`` may be one plan or a per-connection list)."""
    for name, want in expect.items():
        if isinstance(want, str):
            assert stats[name] == int(want[2:]), (name, stats)
        else:
            assert stats[name] >= want, (name, stats)
    plans = plan if isinstance(plan, list) else [plan]
    if any(p.drop or p.duplicate or p.reorder or p.bad_checksum or p.malformed for p in plans):
        assert log, "the fault was never injected"
    assert stats["state"] == "live" and stats["handler_errors"] == 0, stats
    return plans


def check_resynced_in_place(stats: dict[str, Any], received: list[str]) -> None:
    """A book that resynced without losing its connection did it on the same socket: in the
    client's subscribe requests (``received``; other frames ignored), the first subscribe, then
    one unsubscribe + subscribe per resync."""
    if stats["resyncs"] and not stats["disconnects"]:
        kinds = ["unsubscribe" if "unsubscribe" in r else "subscribe" for r in received if "subscribe" in r]
        assert kinds == ["subscribe"] + ["unsubscribe", "subscribe"] * stats["resyncs"], received
