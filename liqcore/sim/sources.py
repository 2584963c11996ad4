"""What moves the simulator's books: a synthetic process or a replayed recording.

A *source* gives a market its initial book and then, once per tick, at most one
:class:`BookEvent` (the level changes of one exchange message). Sources never see
sockets or clocks; they are deterministic (synthetic: from a seed; replays: from a file).

* :class:`SyntheticBook` — a random book process near the touch (size changes,
  insertions, deletions, occasional consumption of the best level), never crossed, depth
  kept within ``[min_levels, max_levels]`` per side.
* :class:`BinanceRecording` — the diff-depth events of an hftbacktest capture of
  Binance's combined stream (e.g. the bundled ``liqcore/data/spot_btcusdt_20240808.gz``)
  after its REST snapshot, with the recorded ``U``/``u``/``E`` and price strings.
* :class:`OkxRecording` — one instrument's ``books`` messages of a cryptofeed capture
  (``tests/data/cryptofeed/OKX.ws.1.0``), with the recorded checksums kept so the
  market can verify its own checksum against the exchange's.
* :class:`KrakenRecording` — one pair's Kraken websocket v1 ``book-N`` messages of a
  cryptofeed capture (``tests/data/cryptofeed/KRAKEN.ws.50.0``), with the recorded
  checksums and the subscribed depth N; :func:`kraken_recording_markets` lists every pair
  of a capture as simulator markets whose precision is the recorded wire decimals.
* :class:`BitgetRecording` — the same for Bitget's ``books`` (``BITGET.ws.1.0``, spot v1, 2022:
  OKX's message layout and checksum), with the instrument's grid read off the recorded strings.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence

import orjson

from liqcore.exchanges.kraken import parse_v1_book
from liqcore.feed.scales import fraction_digits
from liqcore.recordings import iter_cryptofeed, iter_records
from liqcore.sim.instruments import Instrument
from liqcore.sim.true_book import Level, TrueBook

__all__ = ["BookEvent", "BookSource", "SyntheticBook", "BinanceRecording", "OkxRecording", "KrakenRecording",
           "kraken_recording_markets", "BitgetRecording", "bitget_recording_markets", "BUNDLED_BINANCE_RECORDING"]

#: the Binance spot BTCUSDT capture shipped inside the package
BUNDLED_BINANCE_RECORDING = Path(__file__).resolve().parents[1] / "data" / "spot_btcusdt_20240808.gz"


@dataclass(frozen=True)
class BookEvent:
    """The level changes of one exchange message (absolute sizes; size 0 deletes).

    ``ids`` carries recorded sequence ids (Binance ``U``/``u``, optional ``pu``) to send
    verbatim; None lets the market number the event. ``ts_ms`` is a recorded event time,
    ``checksum`` a recorded exchange checksum of the book after this event.
    """

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    ids: dict[str, int] | None = None
    ts_ms: int | None = None
    checksum: int | None = None


@dataclass(frozen=True)
class InitialBook:
    """A source's starting book and the update id it corresponds to (None: market picks).

    ``depth``: the source only knows the best ``depth`` levels per side (a recording of a
    depth-limited channel, Kraken ``book-1000``): the market truncates its true book to them
    after every event, as the recording client did, and streams of that depth may send the
    recorded messages as they are (see :class:`~liqcore.sim.market.Market`).
    """

    bids: Sequence[Level]
    asks: Sequence[Level]
    update_id: int | None = None
    ts_ms: int | None = None
    checksum: int | None = None
    depth: int | None = None


class BookSource(Protocol):
    """Interface of the book drivers (duck-typed)."""

    def initial(self) -> InitialBook: ...

    def next_event(self) -> BookEvent | None:
        """The next message's changes, or None when there is nothing this tick."""
        ...

    @property
    def exhausted(self) -> bool: ...


# ---------------------------------------------------------------------------- synthetic
@dataclass
class SyntheticBook:
    """A deterministic random book process for one instrument.

    Parameters
    ----------
    instrument : Instrument
        Grid (tick, lot), start price and wire formatting.
    seed : int
        Same seed and instrument -> the same sequence of events.
    levels : int
        Levels per side of the initial book.
    min_levels, max_levels : int
        Depth bounds per side kept by every event (deep levels added/removed as needed).
    max_changes : int
        Most level changes per event (at least 1).

    The process keeps its own book (the "matching engine"); every change is checked
    against it as it is made, so the book is never crossed (nor locked) after any change.
    Changes concentrate near the touch: the level index of an edit is geometric (p=0.35).
    O(max_changes · L) per event.

    :meth:`move` makes the next event a repricing of the whole book by a number of ticks (a
    sudden move, for tests and demos of what follows the price: marks, funding, liquidation
    risk). :meth:`disturb` plays a liquidity anomaly for a number of events -- a spread
    blow-out, a depth drop, a one-sided book -- for tests and demos of what watches liquidity
    (alerts, the live monitor).
    """

    instrument: Instrument
    seed: int = 0
    levels: int = 60
    min_levels: int = 20
    max_levels: int = 150
    max_changes: int = 8
    book: TrueBook = field(init=False)
    _rng: random.Random = field(init=False)
    _pending_move: int = field(init=False, default=0)
    #: the anomaly being played: (kind, events left, parameters); None when calm
    _disturbance: tuple[str, int, dict[str, Any]] | None = field(init=False, default=None)
    _pending_disturbance: tuple[str, int, dict[str, Any]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # str seeds hash with SHA-512 in CPython: stable across runs and processes
        self._rng = random.Random(f"{self.seed}:{self.instrument.venue}:{self.instrument.id}")
        self.book = TrueBook()
        self._okx = self.instrument.venue == "okx"
        inst = self.instrument
        # typical level size ~ 10 000 quote units, at least one lot
        self._typical_lots = max(1.0, float(Decimal(10_000) / Decimal(inst.start_price) / inst.lot))
        mid = (Decimal(inst.start_price) / inst.tick).to_integral_value() * inst.tick
        bid, ask = mid - inst.tick, mid + inst.tick
        for _ in range(self.levels):
            self.book.set(0, self._level(bid, self._size()))
            self.book.set(1, self._level(ask, self._size()))
            bid -= inst.tick * self._rng.randint(1, 3)
            ask += inst.tick * self._rng.randint(1, 3)

    @property
    def exhausted(self) -> bool:
        return False

    def initial(self) -> InitialBook:
        return InitialBook(self.book.top(0), self.book.top(1))

    def move(self, ticks: int) -> None:
        """Shift the whole book by ``ticks`` price ticks (negative: down) in the next event:
        every level moves with its size, in one message (deletes of the old prices, the new
        levels). Calls before the next tick add up. Raises ValueError when the deepest bid would
        reach a price <= 0. O(1) here, O(levels) in the event."""
        if isinstance(ticks, bool) or not isinstance(ticks, int):
            raise TypeError(f"ticks must be an int, got {ticks!r}")
        total = self._pending_move + ticks
        worst = self.book.price(0, self.book.depth(0) - 1)
        if worst is not None and worst + self.instrument.tick * total <= 0:
            raise ValueError(f"moving {total} ticks takes the deepest bid {worst} to a price <= 0")
        self._pending_move = total

    def disturb(self, kind: str, events: int, *, ticks: int = 100, factor: float = 0.2, side: str = "bid") -> None:
        """Play a liquidity anomaly from the next event for ``events`` events, then let the book
        recover:

        - ``"spread"``: every bid is requoted ``ticks`` ticks lower and every ask ``ticks`` ticks
          higher, sizes kept (market makers widening: the mid stays, the spread grows by
          ``2 x ticks``), nothing is quoted inside the gap while it lasts, and the quotes move back
          at the end (a spread blow-out);
        - ``"depth"``: every size is cut to ``factor`` of itself (new sizes too) and restored at the
          end (a depth drop on both sides);
        - ``"one_sided"``: every level of ``side`` (``"bid"`` / ``"ask"``) is pulled and none is
          placed there while it lasts, the other side only changing sizes; the pulled levels come
          back as they were at the end (the mid with them).

        Edits the anomaly forbids are skipped (the random draws go on). A new call replaces an
        anomaly not yet started; one that starts while another plays ends that one first. Raises ValueError for an unknown kind or bad
        parameters. O(1) here, O(levels) in the events that start and end it."""
        if kind not in ("spread", "depth", "one_sided"):
            raise ValueError(f"kind must be spread, depth or one_sided, got {kind!r}")
        if isinstance(events, bool) or not isinstance(events, int) or events < 1:
            raise ValueError(f"events must be an int >= 1, got {events!r}")
        if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks < 1:
            raise ValueError(f"ticks must be an int >= 1, got {ticks!r}")
        worst = self.book.price(0, self.book.depth(0) - 1)
        if kind == "spread" and worst is not None and worst - self.instrument.tick * ticks <= 0:
            raise ValueError(f"widening by {ticks} ticks takes the deepest bid {worst} to a price <= 0")
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        if side not in ("bid", "ask"):
            raise ValueError(f"side must be bid or ask, got {side!r}")
        self._pending_disturbance = (kind, events, {"ticks": ticks, "factor": factor,
                                                    "side": 0 if side == "bid" else 1})

    @property
    def disturbed(self) -> str | None:
        """The kind of anomaly being played, None when calm."""
        return None if self._disturbance is None else self._disturbance[0]

    # the wire level of a price/size; OKX levels carry "0" and an order count
    def _level(self, price: Decimal, size: Decimal) -> Level:
        inst = self.instrument
        lv: Level = (inst.price_text(price), inst.size_text(size))
        if self._okx:
            lv += ("0", str(self._rng.randint(1, 30)) if size else "0")
        return lv

    def _size(self) -> Decimal:
        lots = max(1, int(self._rng.lognormvariate(math.log(self._typical_lots), 1.0)))
        d = self._disturbance
        if d is not None and d[0] == "depth":       # the random draw is the same; its size is cut
            lots = max(1, int(lots * d[2]["factor"]))
        return self.instrument.lot * lots

    def _near(self, side: int) -> int:
        # geometric index from the touch, capped at the side's depth
        i = 0
        while self._rng.random() > 0.35:
            i += 1
        return min(i, self.book.depth(side) - 1)

    def next_event(self) -> BookEvent:
        rng, book = self._rng, self.book
        changes: tuple[dict[Decimal, Level], dict[Decimal, Level]] = ({}, {})

        def put(side: int, price: Decimal, size: Decimal, level: Level | None = None) -> None:
            lv = self._level(price, size) if level is None else level
            book.set(side, lv)
            changes[side][price] = lv   # several edits of one price in an event: the last wins

        if self._pending_move:
            ticks, self._pending_move = self._pending_move, 0
            self._shift(put, ticks, ticks)
        if self._pending_disturbance is not None:
            if self._disturbance is not None:
                self._end_disturbance(put)
            self._disturbance, self._pending_disturbance = self._pending_disturbance, None
            self._start_disturbance(put)
        # edits that would be invalid (a crossing insert, a cancel at minimum depth) are
        # skipped, so draw until the event changes something: an exchange sends no empty diff
        while not (changes[0] or changes[1]):
            self._edit(put, rng.randint(1, self.max_changes))
        self._keep_depth(put)
        d = self._disturbance
        if d is not None:
            self._disturbance = (d[0], d[1] - 1, d[2])
            if d[1] <= 1:
                self._end_disturbance(put)
                self._disturbance = None
        assert not book.is_crossed
        return BookEvent(tuple(changes[0].values()), tuple(changes[1].values()))

    def _shift(self, put: Any, bid_ticks: int, ask_ticks: int) -> None:
        """Every bid ``bid_ticks`` and every ask ``ask_ticks`` ticks away (up when > 0) with its
        size and other fields (no random draw: the process continues as it would have). Deletes
        first, so a price both left and reached ends with the level that reached it."""
        steps = (self.instrument.tick * bid_ticks, self.instrument.tick * ask_ticks)
        old = [self.book.top(0), self.book.top(1)]
        for side in (0, 1):
            for lv in old[side]:
                put(side, Decimal(lv[0]), Decimal(0))
        for side in (0, 1):
            for lv in old[side]:
                price = Decimal(lv[0]) + steps[side]
                if price > 0:       # the deepest bids of a long fall could not exist
                    put(side, price, Decimal(lv[1]), (self.instrument.price_text(price), *lv[1:]))

    def _start_disturbance(self, put: Any) -> None:
        assert self._disturbance is not None
        kind, _, p = self._disturbance
        book = self.book
        if kind == "spread":
            self._shift(put, -p["ticks"], p["ticks"])
            p["gap"] = (book.price(0), book.price(1))      # nothing quoted inside these while it lasts
        elif kind == "depth":
            for side in (0, 1):
                for lv in book.top(side):
                    put(side, Decimal(lv[0]), self._scaled(Decimal(lv[1]), p["factor"]))
        else:
            p["pulled"] = book.top(p["side"])
            for lv in p["pulled"]:
                put(p["side"], Decimal(lv[0]), Decimal(0))

    def _end_disturbance(self, put: Any) -> None:
        assert self._disturbance is not None
        kind, _, p = self._disturbance
        book = self.book
        if kind == "spread":
            self._shift(put, p["ticks"], -p["ticks"])
        elif kind == "depth":
            for side in (0, 1):
                for lv in book.top(side):
                    put(side, Decimal(lv[0]), self._scaled(Decimal(lv[1]), 1.0 / p["factor"]))
        else:
            # the pulled quotes come back as they were (the other side only changed sizes meanwhile,
            # so they cannot cross it): the book, and its mid, are where they were
            side = p["side"]
            for lv in p["pulled"]:
                put(side, Decimal(lv[0]), Decimal(lv[1]), lv)

    def _scaled(self, size: Decimal, factor: float) -> Decimal:
        lot = self.instrument.lot
        return lot * max(1, int(int(size / lot) * factor + 0.5))

    def _frozen(self) -> bool:
        """Whether the anomaly being played holds every price still (a one-sided book: the side
        left only changes sizes, so the mid comes back where it was)."""
        d = self._disturbance
        return d is not None and d[0] == "one_sided"

    def _allowed(self, side: int, price: Decimal | None, size: Decimal) -> bool:
        """Whether the anomaly being played lets an edit of ``side`` through (``price`` None:
        whether the side may be edited at all)."""
        d = self._disturbance
        if d is None:
            return True
        kind, _, p = d
        if kind == "one_sided":
            return side != p["side"]
        if kind == "spread" and size > 0 and price is not None:
            bid, ask = p["gap"]
            return not ((bid is not None and side == 0 and price > bid) or (ask is not None and side == 1 and price < ask))
        return True

    def _edit(self, put: Any, n: int) -> None:
        """Make ``n`` random edits near the touch (each applied to the engine book at once)."""
        rng, book, tick = self._rng, self.book, self.instrument.tick
        for _ in range(n):
            side = rng.randint(0, 1)
            r = rng.random()
            if not book.depth(side) or not self._allowed(side, None, Decimal(0)):
                continue                                   # a side pulled by a one-sided anomaly
            if r < 0.45:                                   # size change near the touch
                p = book.price(side, self._near(side))
                assert p is not None
                put(side, p, self._size())
            elif self._frozen():                           # prices held still: sizes only
                continue
            elif r < 0.65:                                 # cancel near the touch
                if book.depth(side) > self.min_levels:
                    p = book.price(side, self._near(side))
                    assert p is not None
                    put(side, p, Decimal(0))
            elif r < 0.95:                                 # new level, maybe inside the spread
                best, other = book.price(side), book.price(1 - side)
                k = rng.randint(-6, 2)
                if best is None or other is None:          # no spread to quote inside of
                    continue
                p = best + tick * k if side == 0 else best - tick * k
                inside = p < other if side == 0 else p > other
                if inside and book.get(side, p) is None and self._allowed(side, p, Decimal(1)):
                    put(side, p, self._size())
            else:                                          # the best level is taken out
                if book.depth(side) > self.min_levels:
                    p = book.price(side)
                    assert p is not None
                    put(side, p, Decimal(0))

    def _keep_depth(self, put: Any) -> None:
        """Trim or extend each side far from the touch to stay within [min_levels, max_levels]."""
        rng, book, tick = self._rng, self.book, self.instrument.tick
        for side in (0, 1):                                # depth bounds, far from the touch
            if not self._allowed(side, None, Decimal(0)) or self._frozen():
                continue
            while book.depth(side) > self.max_levels:
                p = book.price(side, book.depth(side) - 1)
                assert p is not None
                put(side, p, Decimal(0))
            while book.depth(side) < self.min_levels:
                worst = book.price(side, book.depth(side) - 1)
                assert worst is not None
                step = tick * rng.randint(1, 3)
                put(side, worst - step if side == 0 else worst + step, self._size())


# ---------------------------------------------------------------------------- replays
def _levels(rows: Any) -> tuple[Level, ...]:
    return tuple(tuple(str(x) for x in row) for row in rows)


class BinanceRecording:
    """Replay of the depth events of a Binance capture (hftbacktest format), one per tick.

    The capture's REST snapshot (``{"lastUpdateId", "bids", "asks"}``) is the initial book;
    the events follow from the first one that continues it (``u > lastUpdateId``, in the
    capture's order, including those received before the snapshot). Only one symbol's
    ``<symbol>@depth...`` events are used. Loads the whole capture once: O(events).
    """

    def __init__(self, path: str | Path = BUNDLED_BINANCE_RECORDING, symbol: str = "BTCUSDT") -> None:
        self.path = Path(path)
        self.symbol = symbol
        snapshot: dict[str, Any] | None = None
        events: list[dict[str, Any]] = []
        prefix = symbol.lower() + "@depth"
        for rec in iter_records(self.path):
            msg = orjson.loads(rec.raw)
            if "lastUpdateId" in msg:
                snapshot = snapshot or msg
            elif str(msg.get("stream", "")).startswith(prefix) and msg["data"].get("e") == "depthUpdate":
                events.append(msg["data"])
        if snapshot is None:
            raise ValueError(f"{self.path}: no REST depth snapshot in the capture")
        last = int(snapshot["lastUpdateId"])
        self._snapshot = snapshot
        self._events: list[dict[str, Any]] = [e for e in events if int(e["u"]) > last]
        self._next = 0

    @property
    def exhausted(self) -> bool:
        return self._next >= len(self._events)

    def __len__(self) -> int:
        return len(self._events)

    @property
    def events(self) -> tuple[dict[str, Any], ...]:
        """The depth events the source replays, in order, as decoded from the capture (a copy:
        O(events))."""
        return tuple(self._events)

    def initial(self) -> InitialBook:
        s = self._snapshot
        return InitialBook(_levels(s["bids"]), _levels(s["asks"]), int(s["lastUpdateId"]))

    def next_event(self) -> BookEvent | None:
        if self.exhausted:
            return None
        e = self._events[self._next]
        self._next += 1
        ids = {"U": int(e["U"]), "u": int(e["u"])}
        if e.get("pu") is not None:
            ids["pu"] = int(e["pu"])
        return BookEvent(_levels(e["b"]), _levels(e["a"]), ids, int(e["E"]))


def _grid(decimals: int) -> str:
    """The grid step ``10**-decimals`` as the exchanges write it (``"0.00000001"``, ``"1"``)."""
    return f"{Decimal(1).scaleb(-decimals):f}"


class _RecordedEvents:
    """What the message replays share: an initial book, then one recorded event per call of
    :meth:`next_event` until the recording ends. Subclasses fill ``_initial`` and ``_events``."""

    _initial: InitialBook | None
    _events: list[BookEvent]
    _next: int = 0

    @property
    def exhausted(self) -> bool:
        return self._next >= len(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def initial(self) -> InitialBook:
        assert self._initial is not None
        return self._initial

    def next_event(self) -> BookEvent | None:
        if self.exhausted:
            return None
        self._next += 1
        return self._events[self._next - 1]

    @property
    def wire_decimals(self) -> tuple[int, int]:
        """The most (price, volume) fraction digits the recording sends for this pair: the
        precision an instrument must have to send these strings verbatim. O(levels)."""
        init = self.initial()
        sides = [init.bids, init.asks] + [side for ev in self._events for side in (ev.bids, ev.asks)]
        return (max(fraction_digits(s, 0) for s in sides), max(fraction_digits(s, 1) for s in sides))


class OkxRecording(_RecordedEvents):
    """Replay of one instrument's OKX ``books`` messages of a cryptofeed capture.

    The first snapshot is the initial book; each later ``update`` is one event, with its
    recorded ``ts`` and ``checksum``. The 2022 capture has no ``seqId``, so the market
    numbers the events itself (as OKX does today).
    """

    def __init__(self, path: str | Path, inst_id: str, channel: str = "books") -> None:
        self.path = Path(path)
        self.inst_id = inst_id
        self._initial = None
        self._events = []
        for msg in self._messages(channel):
            for d in msg["data"]:
                if msg["action"] == "snapshot" and self._initial is None:
                    self._initial = InitialBook(_levels(d.get("bids", ())), _levels(d.get("asks", ())),
                                                ts_ms=int(d["ts"]), checksum=d.get("checksum"))
                elif msg["action"] == "update" and self._initial is not None:
                    self._events.append(BookEvent(_levels(d.get("bids", ())), _levels(d.get("asks", ())),
                                                  ts_ms=int(d["ts"]), checksum=d.get("checksum")))
        if self._initial is None:
            raise ValueError(f"{self.path}: no {channel} snapshot of {inst_id}")

    def _messages(self, channel: str) -> Iterator[dict[str, Any]]:
        for rec in iter_cryptofeed(self.path):
            if rec.kind != "recv" or not rec.raw.startswith(b"{"):
                continue
            msg = orjson.loads(rec.raw)
            arg = msg.get("arg") or {}
            if arg.get("channel") == channel and arg.get("instId") == self.inst_id and "action" in msg:
                yield msg


def _price_size(entries: Sequence[Sequence[Any]]) -> tuple[Level, ...]:
    # a Kraken v1 entry is [price, volume, timestamp(, "r")]: the level is its first two fields
    return tuple((str(e[0]), str(e[1])) for e in entries)


def _latest_ms(entries: Sequence[Sequence[Any]]) -> int | None:
    # the exchange time of a Kraken v1 message: its newest entry's timestamp (seconds, text)
    return max((round(float(e[2]) * 1000) for e in entries), default=None)


class KrakenRecording(_RecordedEvents):
    """Replay of one pair's Kraken websocket v1 ``book-N`` messages of a cryptofeed capture.

    The first snapshot is the initial book (its ``depth`` is the subscribed N: the market
    keeps only the best N levels, as the recording client did); each later update message
    (one or two dicts) is one event with its entries in recorded order (timestamps and the
    republish flag dropped: websocket v2 levels are ``{price, qty}``), the recorded checksum
    ``c`` and the newest entry's timestamp. Prices and volumes keep their recorded text, so
    the events carry the wire decimals Kraken's checksum hashes. Messages are parsed by
    :func:`liqcore.exchanges.kraken.parse_v1_book` (as in the sans-I/O replay).
    O(messages of the capture) to load.
    """

    def __init__(self, path: str | Path, pair: str) -> None:
        self.path = Path(path)
        self.pair = pair
        self._initial = None
        self._events = []
        suffix = orjson.dumps(pair) + b"]"          # the pair closes every book array: skip others undecoded
        for rec in iter_cryptofeed(self.path):
            if rec.kind != "recv" or not rec.raw.startswith(b"[") or not rec.raw.endswith(suffix):
                continue
            m = parse_v1_book(orjson.loads(rec.raw))
            if m is None or m.pair != pair:
                continue
            if m.snapshot and self._initial is None:
                self._initial = InitialBook(_price_size(m.bids), _price_size(m.asks),
                                            ts_ms=_latest_ms(m.bids + m.asks), depth=m.depth)
            elif not m.snapshot and self._initial is not None:
                self._events.append(BookEvent(_price_size(m.bids), _price_size(m.asks),
                                              ts_ms=_latest_ms(m.bids + m.asks),
                                              checksum=None if m.checksum is None else int(m.checksum)))
        if self._initial is None:
            raise ValueError(f"{self.path}: no book snapshot of {pair}")


#: websocket v1 / AssetPairs codes that ccxt and websocket v2 spell differently
_KRAKEN_CODES = {"XBT": "BTC", "XDG": "DOGE"}


def kraken_recording_markets(path: str | Path, asset_pairs: str | Path) -> list[tuple[Instrument, KrakenRecording]]:
    """Every pair of a Kraken v1 book capture as a simulator market (instrument, replay).

    ``asset_pairs``: a cryptofeed capture holding Kraken's REST ``AssetPairs`` response
    (``tests/data/cryptofeed/KRAKEN.0``), which gives each pair's id (``XXMRZUSD``),
    ``altname`` and asset codes. The instrument's price and lot decimals are the recorded
    **wire** decimals (:attr:`KrakenRecording.wire_decimals`), not the response's
    ``pair_decimals``: websocket v2 writes numbers with the instrument's precision, so only an
    instrument of that precision sends the recorded digits (XMR/USD: 8 price decimals; its
    2021 ``pair_decimals`` is 2). The simulator serves that precision in ``AssetPairs``, where
    ccxt (and so the adapter's book scales) read it. Pairs in capture order.
    """
    pairs: list[str] = []
    for rec in iter_cryptofeed(path):
        if rec.kind == "recv" and rec.raw.startswith(b"["):
            m = parse_v1_book(orjson.loads(rec.raw))
            if m is not None and m.snapshot and m.pair not in pairs:
                pairs.append(m.pair)
    by_wsname: dict[str, tuple[str, dict[str, Any]]] = {}
    for rec in iter_cryptofeed(asset_pairs):
        if rec.kind == "rest":
            for pair_id, info in (orjson.loads(rec.raw).get("result") or {}).items():
                if "wsname" in info:
                    by_wsname[info["wsname"]] = (pair_id, info)
    out: list[tuple[Instrument, KrakenRecording]] = []
    for pair in pairs:
        if pair not in by_wsname:
            raise ValueError(f"{asset_pairs}: no AssetPairs entry with wsname {pair!r}")
        pair_id, info = by_wsname[pair]
        replay = KrakenRecording(path, pair)
        pd, qd = replay.wire_decimals
        base, quote = (_KRAKEN_CODES.get(c, c) for c in pair.split("/"))
        best = replay.initial().bids[0][0]
        inst = Instrument("kraken", pair_id, base, quote, _grid(pd), _grid(qd),
                          best, wire_decimals=(pd, qd),
                          extra={"altname": info["altname"], "wsname": pair, "base_id": info["base"],
                                 "quote_id": info["quote"]})
        out.append((inst, replay))
    return out


class BitgetRecording(OkxRecording):
    """Replay of one instrument's Bitget ``books`` messages of a cryptofeed capture (e.g. the
    spot v1 capture ``tests/data/cryptofeed/BITGET.ws.1.0``, ``instType "sp"``, no ``seq``).

    Bitget's v1 and v2 ``books`` messages have OKX's layout (``action``, ``arg.instId``,
    ``data[i]`` with ``asks``/``bids``/``checksum``/``ts``), so the OKX replay reads them; the
    market numbers the events with ``seq`` itself. The recorded checksums travel with the
    events: the simulator sends them, and compares its own with them.
    """

    def __init__(self, path: str | Path, inst_id: str) -> None:
        super().__init__(path, inst_id, "books")

    def instrument(self, venue: str = "bitget") -> Instrument:
        """The spot instrument this replay describes: base/quote split off the id's quote
        suffix, tick and lot ``10**-decimals`` with the most fraction digits of the recorded
        price and size strings (Bitget pads to the pair's precision: ``"0.00003505"``,
        ``"39768615.0000"``), so the strings go out verbatim and ccxt's metadata agrees."""
        init = self.initial()
        pd, qd = self.wire_decimals
        quote = next(q for q in ("USDT", "USDC", "BTC", "ETH") if self.inst_id.endswith(q))
        mid = (Decimal(init.bids[0][0]) + Decimal(init.asks[0][0])) / 2
        return Instrument(venue, self.inst_id, self.inst_id[: -len(quote)], quote, _grid(pd), _grid(qd),
                          str(mid), wire_decimals=(pd, qd))


def bitget_recording_markets(path: str | Path) -> list[tuple[Instrument, "BitgetRecording"]]:
    """Every instrument with ``books`` messages in a Bitget capture, as simulator market specs
    ``(instrument, replay)`` (``ExchangeSimulator(markets=...)``), in order of first appearance.
    Reads the capture once per instrument: O(instruments x frames)."""
    ids: dict[str, None] = {}
    for rec in iter_cryptofeed(path):
        if rec.kind == "recv" and rec.raw.startswith(b"{") and b'"books"' in rec.raw:
            arg = orjson.loads(rec.raw).get("arg") or {}
            if arg.get("channel") == "books":
                ids.setdefault(arg["instId"])
    out = []
    for inst_id in ids:
        replay = BitgetRecording(path, inst_id)
        out.append((replay.instrument(), replay))
    return out
