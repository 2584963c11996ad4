"""What the simulator-driven feed tests share: the tick, a time-limited runner, adapters attached
to the simulator, and a wait until everything the simulator sent has been handled."""

from __future__ import annotations

import asyncio
from typing import Any, Iterable, Sequence

from liqcore.feed import create_exchange

__all__ = ["FAST", "run", "exchanges", "drained"]

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
