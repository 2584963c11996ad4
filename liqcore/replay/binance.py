"""Replay a recorded Binance depth stream through a compiled book and verify it.

Used by the ``liqcore`` main job and by the tests. The recording's bookTicker stream is
an independent ground truth: after the depth event whose final id ``u`` equals a
bookTicker's ``u``, best bid/ask price and size must equal the ticker exactly. Tickers
usually arrive before their depth event, so checkpoints are matched by id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from liqcore._book import OrderBook
from liqcore.errors import SequenceGapError
from liqcore.feed.binance import BinanceDepthSync
from liqcore.recordings import iter_hftbacktest

__all__ = ["BinanceReplayReport", "replay_binance", "BUNDLED_RECORDING"]

#: The real recording shipped with the package (see liqcore/data/SOURCE.txt).
BUNDLED_RECORDING = Path(__file__).with_name("data") / "spot_btcusdt_20240808.gz"


@dataclass
class BinanceReplayReport:
    """What a replay did and verified (counts of messages, not levels, unless named)."""

    symbol: str | None = None
    frames: int = 0
    depth_events: int = 0
    applied: int = 0
    skipped: int = 0              # buffered events older than the snapshot, or stale
    gaps: int = 0                 # sequence gaps seen (each followed by a resync)
    snapshots: int = 0
    checkpoints_ok: int = 0
    checkpoints_failed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    last_ts_ns: int = 0           # receive time of the last frame


def _units(s: str, scale: int) -> int:
    return int(Decimal(s).scaleb(scale))


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
    counted and the book waits for the next snapshot in the file.
    """
    import orjson

    book = book if book is not None else OrderBook(tick_size, lot_size)
    sync = BinanceDepthSync(book)
    rep = BinanceReplayReport()
    ps, qs = book.price_decimals, book.size_decimals
    pending: dict[int, tuple[int, int, int, int]] = {}   # ticker u -> expected (bp, bq, ap, aq) units
    seen: dict[int, tuple[int, int, int, int]] = {}      # applied u -> book's bbo units then
    t0 = time.perf_counter()

    def bbo_units() -> tuple[int, int, int, int]:
        b = book.levels(0, 1, raw=True)
        a = book.levels(1, 1, raw=True)
        return (int(b[0, 0]), int(b[0, 1]), int(a[0, 0]), int(a[0, 1])) if len(b) and len(a) else (0, 0, 0, 0)

    def check(u: int, want: tuple[int, int, int, int], got: tuple[int, int, int, int]) -> None:
        if want == got:
            rep.checkpoints_ok += 1
        else:
            rep.checkpoints_failed += 1
            if len(rep.failures) < 20:
                rep.failures.append(f"u={u}: bookTicker {want} != book {got}")

    def after_apply(ev: dict, ts_ns: int) -> None:
        u = int(ev["u"])
        got = bbo_units()
        seen[u] = got
        want = pending.pop(u, None)
        if want is not None:
            check(u, want, got)
        if on_update is not None:
            on_update(book, ts_ns, rep.frames)

    for rec in iter_hftbacktest(path):
        rep.frames += 1
        rep.last_ts_ns = rec.ts_ns
        msg = orjson.loads(rec.raw)
        if "lastUpdateId" in msg:                         # the REST snapshot
            rep.snapshots += 1
            buffered = list(sync.buffer)
            n = sync.on_snapshot(msg)
            rep.applied += n
            rep.skipped += len(buffered) - n
            for ev in buffered:
                if int(ev["u"]) > msg["lastUpdateId"]:
                    after_apply(ev, rec.ts_ns)
            continue
        stream, data = msg.get("stream", ""), msg.get("data", msg)
        if rep.symbol is None and "s" in data:
            rep.symbol = data["s"]
        if "@depth" in stream:
            rep.depth_events += 1
            try:
                applied = sync.on_depth(data)
            except SequenceGapError:
                rep.gaps += 1
                sync.reset()
                continue
            if applied:
                rep.applied += 1
                after_apply(data, rec.ts_ns)
            elif sync.synced:
                rep.skipped += 1
        elif "@bookTicker" in stream:
            u = int(data["u"])
            want = (_units(data["b"], ps), _units(data["B"], qs), _units(data["a"], ps), _units(data["A"], qs))
            if u in seen:
                check(u, want, seen[u])
            elif book.last_update_id is None or u > book.last_update_id:
                pending[u] = want
    rep.seconds = time.perf_counter() - t0
    return book, rep
