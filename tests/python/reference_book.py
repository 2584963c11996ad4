"""A tiny, obviously-correct pure-Python L2 book: the oracle for the property tests.

Prices and sizes are plain Python ints ("units", i.e. what ``OrderBook.levels(side,
raw=True)`` returns). Each side is a dict ``price -> size``; ordering is computed on
demand by sorting. No performance tricks, so the rules can be read off the code.

Semantics mirrored from ``src/book.h`` / ``src/book.c`` (the contracts):

* A delta is ``(side, price, size)``; side 0 = bid, 1 = ask; valid iff price > 0, size >= 0
  and both on the grid (tick/lot multiples). Size 0 deletes; deleting an absent level is
  a no-op.
* A message (``apply``) is all-or-nothing: every delta is validated first (the first invalid
  one rejects the message, index reported), then applied in order; then the crossed check;
  then ``max_depth`` truncation of the worst levels of each side.
* Crossed means best bid > best ask (a locked book, bid == ask, is not crossed).
  Policies: ``raise`` rejects the message (book unchanged); ``allow`` applies anyway;
  ``repair`` — the rule written in ``liq_book_apply``'s comment, "the side refreshed last is
  trusted: find the last delta that rests a level through the other side's touch; the
  other side is stale": scanning the message's deltas from the last one backwards, the
  first delta with size > 0 whose price is through the *post-apply* opposite best (a bid
  above the best ask, or an ask below the best bid) names the fresh side; if there is
  none, the side of the message's last delta (bid for an empty message) is fresh. Then
  every level of the stale side that crosses the fresh side's best is dropped
  (``drop_crossed``). A single ``update`` is the same as a one-delta message (the C code
  checks the new level against the opposite touch before setting it, which for a book
  that is not already crossed is the same test).
* A snapshot replaces the book: validate all rows; per side, later duplicates win, zero
  sizes are dropped, the best ``max_depth`` levels are kept; a crossed snapshot is
  rejected unless the policy is ``allow`` (also under ``repair``). ``update_id`` becomes the
  last id (None keeps none); the book is "just after a snapshot".
* ``clear`` empties both sides and forgets the last id.
* Sequence rules: :meth:`check_seq` is ``liq_book_check_seq`` transcribed; a stale message
  changes nothing but the ``stale`` counter, a gap changes nothing but ``gaps`` and
  ``rejected``; an applied message sets the last id to ``last`` and leaves "after snapshot".
* Counters (``stats``) follow the C code: every rejected call adds one to ``rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BID, ASK = 0, 1


class Reject(Exception):
    """The reference rejected a call. ``kind`` is "invalid", "crossed" or "gap"."""

    def __init__(self, kind: str, index: int | None = None):
        super().__init__(kind, index)
        self.kind = kind
        self.index = index


STALE = "stale"
COUNTERS = ("messages", "levels", "snapshots", "rejected", "stale", "gaps", "crossed",
            "repaired_levels", "truncated_levels")


@dataclass
class RefBook:
    max_depth: int | None = None
    cross_policy: str = "raise"
    sequence: str | None = None      # None, "binance_spot", "binance_futures", "okx", "contiguous", "prev"
    tick: int = 1
    lot: int = 1
    sides: tuple[dict, dict] = field(default_factory=lambda: ({}, {}))
    last_id: int | None = None
    after_snapshot: bool = False
    stats: dict = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    # ------------------------------------------------------------ reads

    def levels(self, side: int) -> list[tuple[int, int]]:
        """Best first: bids by descending price, asks by ascending price."""
        return sorted(self.sides[side].items(), reverse=(side == BID))

    def best(self, side: int) -> tuple[int, int] | None:
        lv = self.levels(side)
        return lv[0] if lv else None

    def is_crossed(self) -> bool:
        b, a = self.best(BID), self.best(ASK)
        return b is not None and a is not None and b[0] > a[0]

    def copy(self) -> "RefBook":
        return RefBook(self.max_depth, self.cross_policy, self.sequence, self.tick, self.lot,
                       (dict(self.sides[0]), dict(self.sides[1])), self.last_id, self.after_snapshot,
                       dict(self.stats))

    # ------------------------------------------------------------ validation

    def valid(self, side, price, size) -> bool:
        return (side in (BID, ASK) and type(price) is int and type(size) is int
                and price > 0 and size >= 0 and price % self.tick == 0 and size % self.lot == 0)

    def _validate(self, deltas) -> None:
        for i, (side, price, size) in enumerate(deltas):
            if not self.valid(side, price, size):
                self.stats["rejected"] += 1
                raise Reject("invalid", i)

    # ------------------------------------------------------------ writes

    def update(self, side: int, price: int, size: int) -> None:
        """One level; the same rules as a one-delta message (see module docstring)."""
        self.apply([(side, price, size)], _single=True)

    def apply(self, deltas, *, _single: bool = False) -> None:
        deltas = list(deltas)
        self._validate(deltas)
        new = (dict(self.sides[0]), dict(self.sides[1]))
        for side, price, size in deltas:
            if size == 0:
                new[side].pop(price, None)
            else:
                new[side][price] = size
        trial = RefBook(self.max_depth, self.cross_policy, sides=new)
        if _single:
            # liq_book_set tests the new level against the opposite touch before setting it;
            # that differs from trial.is_crossed() only for a book already crossed ("allow")
            side, price, size = deltas[0]
            o = self.best(1 - side)
            found = bool(size) and o is not None and (price > o[0] if side == BID else price < o[0])
        else:
            found = trial.is_crossed()
        if found:
            self.stats["crossed"] += 1
            if self.cross_policy == "raise":
                self.stats["rejected"] += 1
                raise Reject("crossed")
            if self.cross_policy == "repair":
                bb, ab = trial.best(BID)[0], trial.best(ASK)[0]
                fresh = deltas[-1][0] if deltas else BID
                for side, price, size in reversed(deltas):
                    if size and ((side == BID and price > ab) or (side == ASK and price < bb)):
                        fresh = side
                        break
                stale = 1 - fresh
                fresh_best = trial.best(fresh)[0]
                for price in list(new[stale]):
                    if (stale == BID and price > fresh_best) or (stale == ASK and price < fresh_best):
                        del new[stale][price]
                        self.stats["repaired_levels"] += 1
        if self.max_depth:
            for side in (BID, ASK):
                keep = RefBook(sides=new).levels(side)[: self.max_depth]
                self.stats["truncated_levels"] += len(new[side]) - len(keep)
                new[side].clear()
                new[side].update(keep)
        self.sides = new
        self.stats["messages"] += 1
        self.stats["levels"] += len(deltas)

    def snapshot(self, deltas, update_id: int | None = None) -> None:
        deltas = list(deltas)
        self._validate(deltas)
        new: tuple[dict, dict] = ({}, {})
        for side, price, size in deltas:          # later duplicates win
            new[side][price] = size
        for side in (BID, ASK):
            live = [(p, q) for p, q in new[side].items() if q]
            live.sort(reverse=(side == BID))
            if self.max_depth:
                live = live[: self.max_depth]
            new[side].clear()
            new[side].update(live)
        if RefBook(sides=new).is_crossed():
            self.stats["crossed"] += 1
            if self.cross_policy != "allow":
                self.stats["rejected"] += 1
                raise Reject("crossed")
        self.sides = new
        self.last_id = update_id
        self.after_snapshot = True
        self.stats["snapshots"] += 1
        self.stats["messages"] += 1

    def clear(self) -> None:
        self.sides = ({}, {})
        self.last_id = None
        self.after_snapshot = False

    # ------------------------------------------------------------ sequence

    def check_seq(self, last: int, first: int | None = None, prev: int | None = None) -> str:
        """"ok", "stale" or "gap" (``liq_book_check_seq``; missing required ids are the
        caller's error and are not modelled)."""
        L, rule = self.last_id, self.sequence
        if rule is None:
            return "ok"
        if L is None:
            return "gap"                      # no snapshot id to continue from
        if rule == "binance_spot":
            if last <= L:
                return STALE
            return "gap" if first > L + 1 else "ok"
        if rule == "binance_futures":
            if last < L:
                return STALE
            if self.after_snapshot:
                return "ok" if first <= L or prev == L else "gap"
            if last == L:
                return STALE
            return "ok" if prev == L else "gap"
        if rule == "okx":
            if prev == L:
                return "ok"                   # normal, heartbeat (seq == prev), reset (seq < prev)
            if prev <= last <= L:
                return STALE
            return "gap"
        if rule == "contiguous":
            f = last if first is None else first
            if last <= L:
                return STALE
            return "ok" if f - 1 == L else "gap"
        if rule == "prev":
            if last <= L:                     # README: last <= L is stale, whatever prev says
                return STALE
            return "ok" if prev == L else "gap"
        raise AssertionError(rule)

    def apply_seq(self, deltas, last: int, first: int | None = None, prev: int | None = None) -> bool:
        """Returns False for a stale message; raises Reject("gap") on a gap."""
        verdict = self.check_seq(last, first, prev)
        if verdict == STALE:
            self.stats["stale"] += 1
            return False
        if verdict == "gap":
            self.stats["gaps"] += 1
            self.stats["rejected"] += 1
            raise Reject("gap")
        self.apply(deltas)
        self.last_id = last
        self.after_snapshot = False
        return True
