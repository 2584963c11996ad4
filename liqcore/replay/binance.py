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
from pathlib import Path
from typing import Any, Callable, Mapping

from liqcore._book import OrderBook
from liqcore.recordings import CaptureReader, Damage
from liqcore.replay.books import BinanceAdapter

__all__ = ["BinanceReplayReport", "BinanceReplayer", "replay_binance", "BUNDLED_RECORDING"]

#: The real recording shipped with the package (see liqcore/data/SOURCE.txt).
BUNDLED_RECORDING = Path(__file__).parents[1] / "data" / "spot_btcusdt_20240808.gz"


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


class BinanceReplayer:
    """Replay one Binance symbol's decoded frames through the venue's protocol
    (:class:`~liqcore.exchanges.binance.BinanceProtocol`, via a one-book
    :class:`~liqcore.replay.books.BinanceAdapter`) into ``book``.

    Parameters
    ----------
    book : the OrderBook to maintain (kept as given: never rebuilt at other scales)
    futures : USDⓈ-M/COIN-M sequence rules (``pu``) instead of spot
    on_update : called as ``on_update(book, ts_ns, report.frames)`` after every applied depth event
    report : where the counts go (a new :class:`BinanceReplayReport` by default); the caller
        counts ``frames`` there.

    :meth:`on_message` takes a combined-stream message (``{"stream", "data"}``), a raw stream
    payload or a REST depth snapshot. A gap (also one in the buffer a snapshot replays) is
    counted and clears the book, which then waits for the next snapshot; a snapshot older than
    the buffer is counted and ignored; a depth event the book refuses is counted as rejected and
    changes nothing. Every depth event read ends up in exactly one of ``applied``, ``skipped``,
    ``gaps``, ``rejected`` or :attr:`unsynced`. Memory is O(1) in the recording's length (bounded
    checkpoint matching window and buffer).
    """

    def __init__(self, book: OrderBook, *, futures: bool = False,
                 on_update: Callable[[OrderBook, int, int], None] | None = None,
                 report: BinanceReplayReport | None = None) -> None:
        self.book = book
        self.report = report if report is not None else BinanceReplayReport()
        user = on_update
        self._adapter = BinanceAdapter("binanceusdm" if futures else "binance", fast_path=False, book=book,
                                       on_update=None if user is None else
                                       lambda live, ts_ns: user(live.book, ts_ns, self.report.frames))

    def _sync_report(self) -> None:
        """The report's counts from the adapter's (one market). O(1)."""
        a, rep = self._adapter, self.report
        for market_id in a.books:
            c = a.counts(market_id)
            rep.depth_events, rep.applied, rep.skipped = c["depth_events"], c["applied"], c["skipped"]
            rep.gaps, rep.rejected, rep.snapshots = c["gaps"], c["rejected"], c["snapshots"]
            rep.snapshots_too_old, rep.snapshots_rejected = c["snapshots_too_old"], c["snapshots_rejected"]
            rep.checkpoints_ok, rep.checkpoints_failed = c["checkpoints_ok"], c["checkpoints_failed"]
            rep.failures = a.failures.setdefault(market_id, [])

    @property
    def unsynced(self) -> int:
        """Depth events buffered for a snapshot that has not come (yet): read, not applied."""
        return sum(self._adapter.protocol.waiting(live) for live in self._adapter.books.values())

    @property
    def synced(self) -> bool:
        """True when the book loaded a snapshot and has not gapped since."""
        return any(self._adapter.protocol.is_synced(live) for live in self._adapter.books.values())

    def on_message(self, msg: Mapping[str, Any], ts_ns: int = 0) -> bool:
        """Apply one decoded frame; returns False if it is none of depth/snapshot/bookTicker."""
        rep = self.report
        data = msg.get("data", msg)
        if rep.symbol is None and isinstance(data, dict) and "s" in data:
            rep.symbol = data["s"]
        used = self._adapter.on_decoded(msg, ts_ns)
        if not used:
            return False
        if "lastUpdateId" in msg or (isinstance(data, dict) and data.get("e") == "depthUpdate"):
            self._sync_report()
        else:                                             # a bookTicker: only checkpoints moved
            for cp in self._adapter.checkpoints.values():
                rep.checkpoints_ok, rep.checkpoints_failed = cp.ok, cp.failed
        return used


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
