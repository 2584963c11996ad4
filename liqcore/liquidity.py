"""Liquidity walls over time: which walls persist and which flash (appear and vanish).

:meth:`liqcore.OrderBook.walls` sees one book state. A wall that stands for many updates
and seconds is information; one that appears and is pulled within seconds is what
spoofing looks like. :class:`WallTracker` follows walls by (side, price) across calls:

    tracker = WallTracker(min_updates=3, min_seconds=30.0, flash_seconds=5.0)
    for each book update:
        current = tracker.update(book.walls(200), now=time.monotonic())
        for ev in tracker.drain_events():  # ("appeared" | "removed" | "flash", TrackedWall)
            ...

Confidence rises with age: ``1 - (1 - c0) * exp(-age / tau_s)``, c0 being the wall's
single-snapshot confidence (robust z). Times in seconds (any monotonic clock; pass
``now``); sizes/prices as in :class:`liqcore.Wall`. O(walls) per update.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["TrackedWall", "WallTracker"]


@dataclass
class TrackedWall:
    """A wall followed over time. ``wall``: the latest :class:`liqcore.Wall`; ``first_seen``
    and ``last_seen`` (s, the tracker's clock); ``updates``: calls it was present in;
    ``persistent``: seen for at least ``min_updates`` calls and ``min_seconds``;
    ``confidence``: the single-snapshot confidence raised by persistence."""

    side: str
    price: float
    wall: object
    first_seen: float
    last_seen: float
    updates: int
    persistent: bool = False
    confidence: float = 0.0

    @property
    def age(self) -> float:
        return self.last_seen - self.first_seen


class WallTracker:
    """Follow walls across book updates (see the module docstring)."""

    def __init__(self, *, min_updates: int = 3, min_seconds: float = 30.0, flash_seconds: float = 5.0,
                 tau_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        if min_updates < 1 or min_seconds < 0 or flash_seconds < 0 or tau_s <= 0:
            raise ValueError("min_updates >= 1, min_seconds >= 0, flash_seconds >= 0, tau_s > 0")
        self.min_updates, self.min_seconds, self.flash_seconds, self.tau_s = min_updates, min_seconds, flash_seconds, tau_s
        self.clock = clock
        self._walls: dict[tuple[str, float], TrackedWall] = {}
        self._events: list[tuple[str, TrackedWall]] = []

    def update(self, walls: Iterable[object], now: float | None = None) -> list[TrackedWall]:
        """Feed the walls of the current book state; returns the tracked walls present now,
        in the order given. Walls gone since the last call emit "removed" (or "flash" when
        they lived less than ``flash_seconds`` and never became persistent)."""
        t = self.clock() if now is None else now
        seen: dict[tuple[str, float], TrackedWall] = {}
        out = []
        for w in walls:
            key = (w.side, w.price)  # type: ignore[attr-defined]
            tw = self._walls.get(key)
            if tw is None:
                tw = TrackedWall(key[0], key[1], w, t, t, 0)
                self._events.append(("appeared", tw))
            tw.wall, tw.last_seen = w, t
            tw.updates += 1
            tw.persistent = tw.updates >= self.min_updates and tw.age >= self.min_seconds
            c0 = w.confidence  # type: ignore[attr-defined]
            tw.confidence = 1 - (1 - c0) * math.exp(-tw.age / self.tau_s)
            seen[key] = tw
            out.append(tw)
        for key, tw in self._walls.items():
            if key not in seen:
                flash = not tw.persistent and (t - tw.first_seen) < self.flash_seconds
                self._events.append(("flash" if flash else "removed", tw))
        self._walls = seen
        return out

    def drain_events(self) -> list[tuple[str, TrackedWall]]:
        """The events since the last drain, oldest first: ("appeared" | "removed" | "flash", wall)."""
        ev, self._events = self._events, []
        return ev

    @property
    def walls(self) -> list[TrackedWall]:
        """The walls present at the last update."""
        return list(self._walls.values())
