"""What the simulator-driven feed tests share: the tick, a time-limited runner, adapters attached
to the simulator, and a wait until everything the simulator sent has been handled."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, AsyncIterator, Callable, Iterable, Sequence

from liqcore.feed import create_exchange

__all__ = ["FAST", "run", "exchanges", "drained", "live_feed", "FeedRun", "feed_run", "tamper_until_caught", "check_fault_counters"]

#: seconds per simulator tick in tests (the venues' 100 ms push window, 20x faster)
FAST = 0.005


def run(coro: Any, timeout: float = 20.0) -> Any:
    """Run one async test body with a hard time limit (seconds)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def exchanges(sim: Any, *ids: str, **liq: Any) -> dict[str, Any]:
    """liqcore's exchange for each id (its adapter, or stock ccxt.pro) pointed at ``sim``;
    ``liq``: the adapters' options (``max_depth``, ``recorder``...)."""
    return {i: sim.attach(create_exchange(i, {"enableRateLimit": False}, **liq)) for i in ids}


async def drained(sim: Any, books: Any, ex_id: str, symbols: Sequence[str],
                  venues: Iterable[str] | None = None, timeout: float = 10.0) -> None:
    """Freeze the simulator and wait until everything it sent was handled: its send queues empty,
    the books live and quiet for 150 ms (a frame may still sit in a socket buffer on a loaded
    machine). ``books``: a LiveFeed or an engine exchange holding the LiveBooks of ``symbols``;
    ``venues``: the simulator venues whose connections carry them (default ``ex_id``)."""
    sim.pause()
    if hasattr(books, "live_book"):
        lives = [books.live_book(ex_id, s) for s in symbols]
    else:
        lives = [books.liq_books[s] for s in symbols]
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


@contextlib.asynccontextmanager
async def live_feed(sim: Any, ex_id: str, symbols: Sequence[str], *, applied: int = 0,
                    **feed_opts: Any) -> AsyncIterator[Any]:
    """A LiveFeed of ``ex_id``'s ``symbols`` against ``sim`` (quick backoff unless ``feed_opts``
    say otherwise), entered once every book is live and applied ``applied`` messages."""
    from liqcore.feed import LiveFeed
    feed_opts.setdefault("backoff", (0.02, 0.5))
    async with LiveFeed([(ex_id, s) for s in symbols], exchanges=exchanges(sim, ex_id), **feed_opts) as feed:
        await feed.wait_live(8)
        lives = [feed.live_book(ex_id, s) for s in symbols]
        while any(lb.stats.applied < applied or not lb.is_live for lb in lives):
            await asyncio.sleep(0.02)
        yield feed


@dataclass
class FeedRun:
    """What :func:`feed_run` saw: per-symbol feed stats, the client frames the simulator received,
    the faults it injected, the exchange object and the (closed) simulator."""

    stats: list[dict[str, Any]]
    received: list[str]
    faults: list[tuple[str, str, int]]
    exchange: Any
    sim: Any


async def feed_run(ex_id: str, symbols: Sequence[str], check: Callable[[Any, Any], None], *, plan: Any = None,
                   venue: str | None = None, updates: int = 50, seed: int = 3) -> FeedRun:
    """A LiveFeed of ``ex_id``'s ``symbols`` against a synthetic simulator with fault plan ``plan``
    on the ``venue`` sockets (default ``ex_id``): once every book applied ``updates`` messages and
    is live, the simulator is frozen and drained and ``check(feed, sim)`` runs (the book-equals-
    truth assertions)."""
    from liqcore.sim import ExchangeSimulator
    venue = venue or ex_id
    faults = None if plan is None else {venue: plan}
    async with ExchangeSimulator(seed=seed, interval=FAST, max_seconds=25, faults=faults) as sim:
        async with live_feed(sim, ex_id, symbols, applied=updates) as feed:
            await drained(sim, feed, ex_id, symbols, [venue])
            check(feed, sim)
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
        while live.stats.checksum_failed == 0 and live.stats.messages < seen + patience:
            await asyncio.sleep(0.01)
        if live.stats.checksum_failed:
            break
    while live.stats.resyncs == 0:
        await asyncio.sleep(0.01)
    applied = live.stats.applied
    while live.stats.applied < applied + after or not live.is_live:
        await asyncio.sleep(0.02)
    await drained(sim, feed, ex_id, [symbol])
    return live


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
