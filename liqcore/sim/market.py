"""One instrument's market inside the simulator: the true book, its sequence ids, and the
subscribers (websocket streams) that are told about every change.

Ownership: the :class:`~liqcore.sim.server.ExchangeSimulator` owns the markets and calls
:meth:`Market.tick` once per tick (the venue's 100 ms push window, scaled by the
simulator's ``interval``). A market applies its source's event to the true book first,
then hands the resulting immutable :class:`Update` to each subscriber; subscribers (and
the faults they apply) only read it, so the true book is always what the exchange holds.

Sequence ids, per venue, when the source does not carry recorded ones:

* ``binance`` (spot): ``U = last + 1``, ``u = U + changes - 1 + extra`` — contiguous
  across events, ``extra`` internal updates that cancelled out (as on the real feed);
* ``binanceusdm``: ``pu = last``, ``U = last + 1 + skip``, ``u >= U`` — not contiguous;
  continuity is ``pu == previous u``;
* ``okx``: ``prevSeqId = last``, ``seqId = last + changes + extra``; the checksum is the
  CRC32 of the true book's best 25 levels after the event (Bitget: the same checksum);
* a recorded checksum (OKX, Bitget, Kraken replays) is compared with the market's own checksum of
  the true book after the event and published as recorded;
* ``bybit``, ``kraken``, ``coinbase``, ``bitget``: ``seq = last + changes + extra`` (Bybit's cross
  sequence; Bitget's ``seq``, increasing but not contiguous); Bybit's per-channel ``u`` is counted by the channel's window
  (:mod:`liqcore.sim.window`), Coinbase's ``sequence_num`` by each connection.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Protocol

from liqcore.sim.checksum import kraken_checksum, okx_checksum
from liqcore.sim.instruments import Instrument
from liqcore.sim.sources import BookSource
from liqcore.sim.true_book import Level, TrueBook

__all__ = ["Market", "Update", "Subscriber", "CHECKSUM_VENUES"]

#: venues whose book messages carry OKX's CRC32 of the best 25 levels (Bitget uses OKX's algorithm)
CHECKSUM_VENUES = frozenset({"okx", "bitget", "bitgetswap"})


@dataclass(frozen=True)
class Update:
    """One published change of a market (immutable; shared by every subscriber).

    ``ids`` holds the venue's sequence fields (``U``/``u``/``pu`` or ``seqId``/``prevSeqId``),
    ``checksum`` the exchange's checksum of the book after the change (the recorded one of a
    replay; the computed one for OKX and Bitget; None for venues whose streams compute their
    own), ``ts_ms`` the event time.
    """

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    ids: dict[str, int]
    ts_ms: int
    checksum: int | None = None


class Subscriber(Protocol):
    def on_tick(self, update: Update | None, tick: int) -> None:
        """Called every tick, with the tick's update or None when the book did not change."""
        ...


class Market:
    """The true book of one instrument and its publication.

    Parameters
    ----------
    instrument : Instrument
    source : BookSource
        Initial book and per-tick events.
    seed : int
        Seeds the id arithmetic (start id, skips); deterministic.
    """

    def __init__(self, instrument: Instrument, source: BookSource, seed: int = 0) -> None:
        self.instrument = instrument
        self.source = source
        self.book = TrueBook()
        self._rng = random.Random(f"ids:{seed}:{instrument.venue}:{instrument.id}")
        init = source.initial()
        self.book.load(init.bids, init.asks)
        #: the source knows only the best ``depth`` levels (a depth-limited recording): the true
        #: book is kept to them and streams of that depth send the recorded events as they are
        self.depth: int | None = init.depth
        if self.depth is not None:
            self.book.truncate(self.depth)
        self.last_id: int = init.update_id if init.update_id is not None else self._rng.randint(10**9, 10**10)
        self.subscribers: list[Subscriber] = []
        #: depth-limited channels' published windows, by (channel, depth) (see liqcore.sim.window)
        self.windows: dict[tuple[str, int], Any] = {}
        #: events applied since the start
        self.updates = 0
        #: recorded exchange checksums compared with ours, and the mismatches (update no., theirs, ours)
        self.checksums_compared = 0
        self.checksum_mismatches: list[tuple[int, int, int]] = []
        self._changed = asyncio.Event()
        #: the exchange's recorded checksum of the current book (None once the book is not a recorded state)
        self._recorded_checksum: int | None = None
        if init.checksum is not None:
            self._compare_checksum(int(init.checksum))
            self._recorded_checksum = int(init.checksum)

    @property
    def venue(self) -> str:
        return self.instrument.venue

    def checksum(self) -> int:
        """The venue's checksum of the current true book: Kraken's (best 10, O(10)) for
        ``kraken``, OKX's (best 25, O(25)) otherwise."""
        if self.venue == "kraken":
            return kraken_checksum(self.book.top(0, 10), self.book.top(1, 10))
        return okx_checksum(self.book.top(0, 25), self.book.top(1, 25))

    def wire_checksum(self) -> int:
        """The checksum a message showing the current book carries: the exchange's recorded
        value while the book is a recorded state (a replay), else :meth:`checksum`. O(25)."""
        return self._recorded_checksum if self._recorded_checksum is not None else self.checksum()

    def _compare_checksum(self, recorded: int) -> int:
        ours = self.checksum()
        self.checksums_compared += 1
        if ours != recorded:
            self.checksum_mismatches.append((self.updates, recorded, ours))
        return ours

    def tick(self, tick: int, now_ms: int) -> Update | None:
        """Advance one tick: apply the source's event (if any), then notify subscribers."""
        update = None
        ev = None if self.source.exhausted else self.source.next_event()
        if ev is not None and (ev.bids or ev.asks):
            self.book.apply(ev.bids, ev.asks)
            if self.depth is not None:
                self.book.truncate(self.depth)
            ids = self._number(ev.ids, len(ev.bids) + len(ev.asks))
            checksum = None
            self._recorded_checksum = None
            if ev.checksum is not None:
                # ours is compared with the exchange's, and the exchange's goes on the wire: the
                # client verifies the recorded checksum, not the simulator's opinion of it
                self._compare_checksum(int(ev.checksum))
                checksum = self._recorded_checksum = int(ev.checksum)
            elif self.venue in CHECKSUM_VENUES:
                checksum = self.checksum()
            self.updates += 1
            update = Update(ev.bids, ev.asks, ids, ev.ts_ms if ev.ts_ms is not None else now_ms, checksum)
            self._changed.set()
            self._changed = asyncio.Event()
        for sub in list(self.subscribers):
            sub.on_tick(update, tick)
        return update

    def _number(self, recorded: dict[str, int] | None, n: int) -> dict[str, int]:
        rng, last = self._rng, self.last_id
        if recorded is not None:
            ids = dict(recorded)
            self.last_id = ids.get("u", ids.get("seqId", last))
            return ids
        if self.venue == "binance":
            first = last + 1
            ids = {"U": first, "u": first + n - 1 + rng.randint(0, 3)}
            self.last_id = ids["u"]
        elif self.venue == "binanceusdm":
            first = last + 1 + rng.randint(0, 4)
            ids = {"U": first, "u": first + n - 1 + rng.randint(0, 6), "pu": last}
            self.last_id = ids["u"]
        elif self.venue == "okx":
            ids = {"prevSeqId": last, "seqId": last + n + rng.randint(0, 2)}
            self.last_id = ids["seqId"]
        else:
            # bybit (cross sequence ``seq``; the per-channel ``u`` is the window's), kraken and
            # coinbase (no per-book ids on the wire): an event counter with internal updates
            ids = {"seq": last + n + rng.randint(0, 2)}
            self.last_id = ids["seq"]
        return ids

    async def wait_changed(self) -> None:
        """Wait for the next update of this market."""
        await self._changed.wait()

    def subscribe(self, sub: Subscriber) -> None:
        self.subscribers.append(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)

    def snapshot(self, depth: int | None = None, fields: int = 2) -> dict[str, Any]:
        """The true book's best ``depth`` levels per side and its update id."""
        out: dict[str, Any] = self.book.as_lists(depth, fields)
        out["update_id"] = self.last_id
        return out
