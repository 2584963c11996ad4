"""The simulator's true order book of one instrument: what the exchange itself holds.

Levels are kept with the exchange's own wire strings (``"61737.63000000"``, ``"0.1"``) so
snapshots, deltas and checksums are emitted exactly as the exchange would format them;
prices are compared as :class:`decimal.Decimal` (exact, any number of decimals).

Ownership: a ``TrueBook`` belongs to one :class:`~liqcore.sim.market.Market`; protocol
code only reads it (``top``), faults never touch it.

Complexity: ``set`` is O(log L) to find a level plus O(L) list insert/delete when a level
appears or disappears (L = levels on that side, a few hundred here); ``top(n)`` is O(n).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from decimal import Decimal
from typing import Iterable, Sequence

__all__ = ["TrueBook", "Level"]

#: one level as sent on the wire: price string, size string, then exchange extras
#: (OKX: the deprecated liquidated-orders field "0" and the number of orders)
Level = tuple[str, ...]


class TrueBook:
    """Both sides of one instrument's book, best level first on export.

    Internally each side is a dict price -> wire level plus an ascending list of prices
    (bids are stored under ``-price`` so both lists ascend from the touch).
    """

    __slots__ = ("_levels", "_keys")

    def __init__(self) -> None:
        self._levels: tuple[dict[Decimal, Level], dict[Decimal, Level]] = ({}, {})
        self._keys: tuple[list[Decimal], list[Decimal]] = ([], [])

    # ----------------------------------------------------------------- writes
    def clear(self) -> None:
        for d in self._levels:
            d.clear()
        for k in self._keys:
            k.clear()

    def set(self, side: int, level: Sequence[str]) -> None:
        """Set the absolute size of one level (side 0 bids, 1 asks); size 0 deletes.

        Deleting an absent level is a no-op, as on every exchange.
        """
        price = Decimal(level[0])
        key = -price if side == 0 else price
        levels, keys = self._levels[side], self._keys[side]
        if Decimal(level[1]) == 0:
            if levels.pop(key, None) is not None:
                del keys[bisect_left(keys, key)]
            return
        if key not in levels:
            insort(keys, key)
        levels[key] = tuple(str(x) for x in level)

    def apply(self, bids: Iterable[Sequence[str]] = (), asks: Iterable[Sequence[str]] = ()) -> None:
        """Apply one message's level changes (absolute sizes, in order)."""
        for lv in bids:
            self.set(0, lv)
        for lv in asks:
            self.set(1, lv)

    def truncate(self, depth: int) -> None:
        """Keep only the best ``depth`` levels per side (a client's rule on depth-limited channels
        such as Kraken ``book``: no delete comes for levels that fall out of scope). O(excess)."""
        for levels, keys in zip(self._levels, self._keys):
            for key in keys[depth:]:
                del levels[key]
            del keys[depth:]

    def load(self, bids: Iterable[Sequence[str]], asks: Iterable[Sequence[str]]) -> None:
        """Replace the whole book (a snapshot)."""
        self.clear()
        self.apply(bids, asks)

    # ------------------------------------------------------------------ reads
    def top(self, side: int, n: int | None = None) -> list[Level]:
        """The best ``n`` levels of a side (all when None), best first, as wire tuples."""
        keys = self._keys[side] if n is None else self._keys[side][:n]
        levels = self._levels[side]
        return [levels[k] for k in keys]

    def price(self, side: int, i: int = 0) -> Decimal | None:
        """Price of the ``i``-th best level of a side, or None when there are fewer."""
        keys = self._keys[side]
        if i >= len(keys):
            return None
        return -keys[i] if side == 0 else keys[i]

    def get(self, side: int, price: Decimal) -> Level | None:
        """The level at ``price`` or None."""
        return self._levels[side].get(-price if side == 0 else price)

    def depth(self, side: int) -> int:
        return len(self._keys[side])

    @property
    def best_bid(self) -> Decimal | None:
        return self.price(0)

    @property
    def best_ask(self) -> Decimal | None:
        return self.price(1)

    @property
    def is_crossed(self) -> bool:
        """Best bid >= best ask (a locked book counts as crossed: no exchange shows one)."""
        b, a = self.best_bid, self.best_ask
        return b is not None and a is not None and b >= a

    def as_lists(self, depth: int | None = None, fields: int = 2) -> dict[str, list[list[str]]]:
        """``{"bids": [[px, sz], ...], "asks": ...}``, best first, ``fields`` strings per level."""
        return {"bids": [list(lv[:fields]) for lv in self.top(0, depth)],
                "asks": [list(lv[:fields]) for lv in self.top(1, depth)]}
