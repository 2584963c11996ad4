"""Bounded records of what the simulator saw: a list that keeps only its newest items.

The simulator keeps what clients sent (``SimConnection.received``), the HTTP requests it served
(``ExchangeSimulator.requests``), finished connections and injected faults for tests to look at; a
client that sends without end (or a simulator left running) must not grow them without bound.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterable, TypeVar

__all__ = ["RecentList"]

T = TypeVar("T")


class RecentList(list[T], Generic[T]):
    """The newest items appended: at most ``limit`` of them, together weighing at most
    ``budget`` (``weight(item)``, e.g. characters), the oldest dropped first. An item heavier
    than the whole budget is not kept at all. :attr:`dropped` counts the items appended and no
    longer (or never) kept.

    Otherwise a plain list (compares equal to a list, indexes, slices, iterates as one), owned by
    whoever appends to it; :meth:`append` and :meth:`extend` are the ways in that keep the
    bounds. ``append`` is O(1) until the list is full, then one shift of the kept items, O(limit).

    Parameters
    ----------
    limit : int
        Most items kept (>= 1).
    budget : int | None
        Most total weight kept; None = no weight bound.
    weight : callable, optional
        An item's weight (required with ``budget``).
    """

    def __init__(self, limit: int, budget: int | None = None, weight: Callable[[T], int] | None = None) -> None:
        super().__init__()
        if limit < 1:
            raise ValueError(f"limit must be >= 1, not {limit}")
        if budget is not None and weight is None:
            raise ValueError("a budget needs a weight function")
        self.limit = limit
        self.budget = budget
        self._weight = weight
        #: total weight of the items kept
        self.kept_weight = 0
        #: items appended but not (or no longer) kept
        self.dropped = 0

    def append(self, item: T) -> None:
        w = 0 if self._weight is None else self._weight(item)
        if self.budget is not None and w > self.budget:
            self.dropped += 1
            return
        super().append(item)
        self.kept_weight += w
        # drop the oldest items until both bounds hold again
        n = max(0, len(self) - self.limit)
        if self.budget is not None and self._weight is not None:
            excess = self.kept_weight - self.budget
            freed = sum(self._weight(x) for x in self[:n])
            while freed < excess:
                freed += self._weight(self[n])
                n += 1
            self.kept_weight -= freed
        if n:
            del self[:n]
            self.dropped += n

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)
