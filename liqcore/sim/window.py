"""Depth-limited book channels: what an exchange sends when a client subscribes to its best
``depth`` levels only (Bybit ``orderbook.{depth}``, Kraken ``book`` with ``depth``).

The exchange keeps, per channel depth, the window it last published (the best ``depth``
levels per side of its true book) and after every change of the true book sends the
difference between the old and the new window:

* levels of the new window whose size changed or that entered the window (also levels that
  moved up from below the window because a better one went away) with their absolute size;
* ``"pushed_out"`` (Bybit): size 0 for every level that left the window, whether deleted or
  pushed below it by better levels — the client's book is always exactly the window;
* ``"truncate"`` (Kraken): size 0 only for levels that were deleted from the book; a level
  pushed below the window is not mentioned ("you will not receive qty 0 for levels that fall
  out of scope") and the client truncates its book to ``depth`` after each message.

A :class:`BookWindow` belongs to one market and one depth and is shared by every stream of
that depth (so every subscriber sees the same ids): :meth:`catch_up` is memoised per market
update. Its ``update_id`` counts the window's changes (Bybit's ``u``: contiguous per channel);
after :meth:`restart` the window is update id 1 (Bybit's "u == 1 after a service restart").

Complexity: O(depth) per market update.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from liqcore.sim.true_book import Level

if TYPE_CHECKING:
    from liqcore.sim.market import Market

__all__ = ["BookWindow", "WindowDiff", "window_of"]

#: (bid changes, ask changes, update id after them)
WindowDiff = tuple[tuple[Level, ...], tuple[Level, ...], int]
Mode = Literal["pushed_out", "truncate"]


class BookWindow:
    """The last published best-``depth`` window of a market and its update id."""

    def __init__(self, market: "Market", depth: int, mode: Mode = "pushed_out", start_id: int = 0) -> None:
        self.market = market
        self.depth = depth
        self.mode = mode
        self.update_id = start_id
        self._window = self._current()
        self._seen = market.updates
        self._memo: WindowDiff | None = None

    def _current(self) -> tuple[list[Level], list[Level]]:
        book = self.market.book
        return [lv[:2] for lv in book.top(0, self.depth)], [lv[:2] for lv in book.top(1, self.depth)]

    def _side_diff(self, side: int, old: list[Level], new: list[Level]) -> tuple[Level, ...]:
        zero = self.market.instrument.size_text(Decimal(0))
        now = {lv[0]: lv for lv in new}
        was = {lv[0]: lv for lv in old}
        out: list[Level] = []
        for price, lv in was.items():
            if price in now:
                continue
            if self.mode == "pushed_out" or self.market.book.get(side, Decimal(price)) is None:
                out.append((price, zero))
        out.extend(lv for price, lv in now.items() if was.get(price) != lv)
        return tuple(out)

    def catch_up(self) -> WindowDiff | None:
        """The window's change since the last call (None when it did not change), numbered
        with the next update id; the same result for every stream within one market update."""
        if self.market.updates == self._seen:
            return self._memo
        self._seen = self.market.updates
        new = self._current()
        bids = self._side_diff(0, self._window[0], new[0])
        asks = self._side_diff(1, self._window[1], new[1])
        self._window = new
        if not bids and not asks:
            self._memo = None
            return None
        self.update_id += 1
        self._memo = (bids, asks, self.update_id)
        return self._memo

    def snapshot(self) -> tuple[list[Level], list[Level], int]:
        """The current window (bids, asks, best first) and its update id."""
        self.catch_up()
        return list(self._window[0]), list(self._window[1]), self.update_id

    def restart(self) -> None:
        """The exchange restarted the channel: the window is republished as update id 1 (its
        streams send it as a snapshot, see ``ExchangeSimulator.restart_channels``)."""
        self.catch_up()
        self.update_id = 1


def window_of(market: "Market", key: str, depth: int, mode: Mode = "pushed_out", start_id: int = 0) -> BookWindow:
    """The market's shared window for channel ``key`` at ``depth`` (created on first use,
    numbered from ``start_id``)."""
    windows = market.windows
    w = windows.get((key, depth))
    if w is None:
        w = windows[(key, depth)] = BookWindow(market, depth, mode, start_id)
    return w
