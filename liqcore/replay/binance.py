"""Replay a recorded Binance depth stream through a compiled book and verify it.

Used by the ``liqcore`` main job, ``liqcore replay`` and the tests. The recording's
bookTicker stream is an independent ground truth: after the depth event whose final id ``u``
equals a bookTicker's ``u``, best bid/ask price and size must equal the ticker exactly.
Tickers usually arrive before their depth event, so checkpoints are matched by id.

:class:`BinanceReplayer` takes one symbol's decoded frames one at a time (depth events,
REST snapshots, bookTickers); :func:`replay_binance` runs it over an hftbacktest file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from liqcore._book import OrderBook
from liqcore.errors import LiqError, SequenceGapError
from liqcore.feed.binance import BinanceDepthSync, SnapshotTooOld
from liqcore.recordings import CaptureReader, Damage

__all__ = ["BinanceReplayReport", "BinanceReplayer", "replay_binance", "BUNDLED_RECORDING"]

#: The real recording shipped with the package (see liqcore/data/SOURCE.txt).
BUNDLED_RECORDING = Path(__file__).parents[1] / "data" / "spot_btcusdt_20240808.gz"

# How many applied ids / unmatched tickers are remembered for matching checkpoints. A ticker
# and its depth event arrive within a few events of each other (the ticker usually first);
# the bound keeps memory constant over recordings of any length.
_MATCH_WINDOW = 4096


@dataclass
class BinanceReplayReport:
    """What a replay did and verified (counts of messages, not levels, unless named)."""

    symbol: str | None = None
    frames: int = 0
    depth_events: int = 0
    applied: int = 0
    skipped: int = 0              # buffered events older than the snapshot, or stale; events of a failed sync
    gaps: int = 0                 # sequence gaps seen (each followed by a resync)
    rejected: int = 0             # depth events the book refused (invalid levels, crossed book)
    unsynced: int = 0             # depth events still waiting for a snapshot at the end (replay_binance)
    snapshots: int = 0
    snapshots_too_old: int = 0    # REST snapshots older than the first buffered event (ignored)
    snapshots_rejected: int = 0   # REST snapshots the book refused (invalid levels; ignored)
    checkpoints_ok: int = 0
    checkpoints_failed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    last_ts_ns: int = 0           # receive time of the last frame
    undecodable: int = 0          # frames that are not JSON (skipped)
    damage: list[Damage] = field(default_factory=list)   # what of the file could not be read (skipped)


def _units(s: str, scale: int) -> int:
    return int(Decimal(s).scaleb(scale))


class BinanceReplayer:
    """Replay one Binance symbol's decoded frames through a :class:`BinanceDepthSync`.

    Parameters
    ----------
    book : the OrderBook to maintain
    futures : USDⓈ-M/COIN-M sequence rules (``pu``) instead of spot
    on_update : called as ``on_update(book, ts_ns, report.frames)`` after every applied depth event
    report : where the counts go (a new :class:`BinanceReplayReport` by default); the caller
        counts ``frames`` there.

    :meth:`on_message` takes a combined-stream message (``{"stream", "data"}``), a raw stream
    payload or a REST depth snapshot. A gap (also one in the buffer a snapshot replays) is
    counted and resets the sync, which then waits for the next snapshot; a snapshot older than
    the buffer is counted and ignored; a depth event the book refuses is counted as rejected and
    changes nothing. Every depth event read ends up in exactly one of ``applied``, ``skipped``,
    ``gaps``, ``rejected`` or :attr:`unsynced`. Memory is O(1) in the recording's length (bounded
    checkpoint matching window).
    """

    def __init__(self, book: OrderBook, *, futures: bool = False,
                 on_update: Callable[[OrderBook, int, int], None] | None = None,
                 report: BinanceReplayReport | None = None) -> None:
        self.book = book
        self.sync = BinanceDepthSync(book, futures=futures)
        self.report = report if report is not None else BinanceReplayReport()
        self.on_update = on_update
        self._ps, self._qs = book.price_decimals, book.size_decimals
        self._pending: dict[int, tuple[int, int, int, int]] = {}   # ticker u -> expected (bp, bq, ap, aq) units
        self._seen: dict[int, tuple[int, int, int, int]] = {}      # applied u -> book's bbo units then

    @property
    def unsynced(self) -> int:
        """Depth events buffered for a snapshot that has not come (yet): read, not applied."""
        return len(self.sync.buffer)

    def _bbo_units(self) -> tuple[int, int, int, int]:
        b = self.book.levels(0, 1, raw=True)
        a = self.book.levels(1, 1, raw=True)
        return (int(b[0, 0]), int(b[0, 1]), int(a[0, 0]), int(a[0, 1])) if len(b) and len(a) else (0, 0, 0, 0)

    def _note(self, failure: str) -> None:
        """Keep a failure's description (the first 20: the counts say how many there were)."""
        if len(self.report.failures) < 20:
            self.report.failures.append(failure)

    def _check(self, u: int, want: tuple[int, int, int, int], got: tuple[int, int, int, int]) -> None:
        rep = self.report
        if want == got:
            rep.checkpoints_ok += 1
        else:
            rep.checkpoints_failed += 1
            self._note(f"u={u}: bookTicker {want} != book {got}")

    def _after_apply(self, ev: Mapping[str, Any], ts_ns: int) -> None:
        u = int(ev["u"])
        got = self._bbo_units()
        self._seen[u] = got
        if len(self._seen) > _MATCH_WINDOW:                  # dicts keep insertion order: drop the oldest
            del self._seen[next(iter(self._seen))]
        want = self._pending.pop(u, None)
        if want is not None:
            self._check(u, want, got)
        if len(self._pending) > _MATCH_WINDOW:               # tickers at ids no depth event ends on
            self._pending = {k: v for k, v in self._pending.items() if k > u}
        if self.on_update is not None:
            self.on_update(self.book, ts_ns, self.report.frames)

    def on_message(self, msg: Mapping[str, Any], ts_ns: int = 0) -> bool:
        """Apply one decoded frame; returns False if it is none of depth/snapshot/bookTicker."""
        rep, sync = self.report, self.sync
        if "lastUpdateId" in msg:                         # a REST snapshot
            rep.snapshots += 1
            buffered = list(sync.buffer)
            try:
                n = sync.on_snapshot(msg)
            except SnapshotTooOld as exc:
                rep.snapshots_too_old += 1
                self._note(str(exc))
                return True
            except SequenceGapError:
                # the buffer does not continue the snapshot: the book is dropped with what it
                # applied of the buffer, whose events count as skipped (one as the gap)
                rep.gaps += 1
                rep.skipped += len(buffered) - 1
                sync.reset()
                return True
            except LiqError as exc:                   # refused by the book, which is unchanged
                rep.snapshots_rejected += 1
                self._note(f"snapshot {msg.get('lastUpdateId')}: {type(exc).__name__}: {exc}")
                return True
            rep.applied += n
            rep.skipped += len(buffered) - n
            for ev in buffered:
                if int(ev["u"]) > msg["lastUpdateId"]:
                    self._after_apply(ev, ts_ns)
            return True
        stream, data = msg.get("stream", ""), msg.get("data", msg)
        if rep.symbol is None and "s" in data:
            rep.symbol = data["s"]
        if "@depth" in stream or data.get("e") == "depthUpdate":
            rep.depth_events += 1
            try:
                applied = sync.on_depth(data)
            except SequenceGapError:
                rep.gaps += 1
                sync.reset()
                return True
            except LiqError as exc:                   # refused by the book, which is unchanged
                rep.rejected += 1
                self._note(f"u={data.get('u')}: {type(exc).__name__}: {exc}")
                return True
            if applied:
                rep.applied += 1
                self._after_apply(data, ts_ns)
            elif sync.synced:
                rep.skipped += 1
            return True
        if "@bookTicker" in stream or data.get("e") == "bookTicker" or ("e" not in data and "B" in data and "u" in data):
            u = int(data["u"])
            want = (_units(data["b"], self._ps), _units(data["B"], self._qs),
                    _units(data["a"], self._ps), _units(data["A"], self._qs))
            if u in self._seen:
                self._check(u, want, self._seen[u])
            elif self.book.last_update_id is None or u > self.book.last_update_id:
                self._pending[u] = want
            return True
        return False


def replay_binance(path: str | Path = BUNDLED_RECORDING, *, tick_size: str = "0.01",
                   lot_size: str = "0.00000001", book: OrderBook | None = None,
                   on_update: Callable[[OrderBook, int, int], None] | None = None) -> tuple[OrderBook, BinanceReplayReport]:
    """Rebuild the book of an hftbacktest-format Binance spot recording.

    Parameters
    ----------
    path : recording (``<ns> <json>`` lines, gzip or plain)
    tick_size, lot_size : the symbol's grid (BTCUSDT by default)
    book : an OrderBook to fill (a new one by default)
    on_update : called as ``on_update(book, ts_ns, frame_index)`` after every applied depth event

    Returns the book and a :class:`BinanceReplayReport`. A gap in the recording is
    counted and the book waits for the next snapshot in the file (events still waiting at the
    end are ``report.unsynced``). What cannot be read (a line of another form, the end of a
    truncated gzip file) is skipped and listed in ``report.damage``; RecordingFormatError if the
    file is not an hftbacktest capture.
    """
    import orjson

    book = book if book is not None else OrderBook(tick_size, lot_size)
    replayer = BinanceReplayer(book, on_update=on_update)
    rep = replayer.report
    t0 = time.perf_counter()
    reader = CaptureReader(path, "hftbacktest")
    for rec in reader:
        rep.frames += 1
        rep.last_ts_ns = rec.ts_ns
        try:
            msg = orjson.loads(rec.raw)
        except orjson.JSONDecodeError:
            rep.undecodable += 1
            continue
        if isinstance(msg, dict):
            replayer.on_message(msg, rec.ts_ns)
    rep.seconds = time.perf_counter() - t0
    rep.unsynced = replayer.unsynced
    rep.damage = reader.damage
    return book, rep
