"""Replay recordings of any supported exchange and format through the feed handlers.

:func:`replay` reads liqcore recordings and the public captures of :mod:`liqcore.recordings`
(format detected from the content), names each frame's exchange (the ``exchange`` argument, else
the record's label, URL or content: :func:`~liqcore.recordings.exchange_of`), decodes it once and
hands it to that exchange's adapter (:mod:`liqcore.replay.books`). Files are replayed in the
order given as one stream (the parts of a rotated recording continue each other's books).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import orjson

from liqcore.recordings import Record, exchange_of, open_recording
from liqcore.replay.books import ADAPTERS, BookReport, make_adapter

__all__ = ["ReplayReport", "replay", "replay_records"]


@dataclass
class ReplayReport:
    """The outcome of a replay: frames read, damage skipped, one :class:`BookReport` per book.

    ``frames`` counts every record read; ``book_frames`` those an adapter used (book messages,
    snapshots, Binance tickers); ``other_frames`` the rest (other channels, events, REST responses
    that are not book snapshots, frames the client sent); ``unknown_exchange`` frames whose
    exchange could not be named; ``no_adapter`` frames per exchange liqcore has no replay
    adapter for; ``unrouted`` REST snapshots of no book it could tell; ``undecodable`` frames
    that are not JSON. ``damage`` lists the regions of the files that could not be read and were
    skipped (file, offset, length, reason, line: see :class:`~liqcore.recordings.Damage`), e.g. a
    damaged liqcore block or the end of a truncated gzip capture.
    """

    files: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    frames: int = 0
    book_frames: int = 0
    other_frames: int = 0
    unknown_exchange: int = 0
    no_adapter: dict[str, int] = field(default_factory=dict)
    unrouted: int = 0
    undecodable: int = 0
    damage: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    speed: float | None = None
    books: list[BookReport] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Sums over the books of every count in :class:`BookReport`."""
        keys = ("messages", "applied", "skipped", "snapshots", "gaps", "resyncs", "rejected", "unsynced",
                "checksums_ok", "checksums_failed", "checksums_absent", "checkpoints_ok", "checkpoints_failed")
        return {k: sum(getattr(b, k) for b in self.books) for k in keys}

    def problems(self) -> list[str]:
        """Why the replay does not verify, one line per kind of problem (empty when it does)."""
        out = [] if self.books else ["no book was replayed (wrong --exchange, or no book channel recorded?)"]
        t = self.totals()
        for key, what in (("checksums_failed", "checksum mismatches"), ("checkpoints_failed", "checkpoint mismatches"),
                          ("gaps", "sequence gaps"), ("rejected", "messages rejected by the book"),
                          ("unsynced", "updates never applied (no snapshot followed them)")):
            if t[key]:
                out.append(f"{t[key]} {what}")
        bare = [f"{b.exchange} {b.symbol}" for b in self.books if b.messages and not b.snapshots]
        if bare:
            out.append(f"no snapshot, nothing verified: {', '.join(bare)}")
        unaccounted = sum(b.unaccounted for b in self.books)
        if unaccounted:
            out.append(f"{unaccounted} messages neither applied nor skipped for a reason")
        if self.damage:
            out.append(f"{len(self.damage)} damaged region(s) skipped")
        if self.undecodable:
            out.append(f"{self.undecodable} frames are not JSON")
        return out

    @property
    def ok(self) -> bool:
        """At least one book replayed, every book verified (see :attr:`BookReport.ok`), the files
        undamaged and every frame decoded."""
        return not self.problems()

    def book(self, exchange: str, symbol: str) -> BookReport:
        """The report of one book; KeyError if the replay did not see it."""
        for b in self.books:
            if b.exchange == exchange and b.symbol == symbol:
                return b
        raise KeyError((exchange, symbol))

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "formats": self.formats, "frames": self.frames, "book_frames": self.book_frames,
                "other_frames": self.other_frames, "unknown_exchange": self.unknown_exchange,
                "no_adapter": self.no_adapter, "unrouted": self.unrouted,
                "undecodable": self.undecodable, "damage": self.damage, "seconds": round(self.seconds, 4),
                "speed": self.speed, "ok": self.ok, "problems": self.problems(), "totals": self.totals(), "books": [b.to_dict() for b in self.books]}


class _Pacer:
    """Sleeps so that records are handled at ``speed`` x their recorded pace.

    Intervals come from the monotonic stamps when two successive records have them (immune to
    wall-clock steps), else from the wall-clock stamps; a negative interval counts as 0.
    """

    def __init__(self, speed: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed, self.clock, self.sleep = speed, clock, sleep
        self.restart()

    def restart(self) -> None:
        """Start a new timeline (each file has its own epoch)."""
        self.t0 = self.clock()
        self.elapsed = 0.0
        self.prev: tuple[int, int | None] | None = None

    def wait(self, rec: Record) -> None:
        if self.prev is not None:
            ts, mono = self.prev
            if mono is not None and rec.mono_ns is not None and rec.mono_ns >= mono:
                dt = rec.mono_ns - mono
            else:
                dt = max(rec.ts_ns - ts, 0)
            self.elapsed += dt / 1e9 / self.speed
        self.prev = (rec.ts_ns, rec.mono_ns)
        delay = self.t0 + self.elapsed - self.clock()
        if delay > 0:
            self.sleep(delay)


def replay_records(records: Iterable[Record], *, exchange: str | None = None, report: ReplayReport | None = None,
                   adapters: dict[str, Any] | None = None, pacer: _Pacer | None = None) -> ReplayReport:
    """Replay records already read (any source); ``adapters`` carries books across calls.

    Books are reported in ``report.books`` only by :func:`replay`; here the caller collects
    ``adapter.reports()`` from ``adapters`` when done.
    """
    report = report if report is not None else ReplayReport()
    adapters = adapters if adapters is not None else {}
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    for rec in records:
        report.frames += 1
        if pacer is not None:
            pacer.wait(rec)
        try:
            msg = loads(rec.raw)
        except JSONDecodeError:
            if rec.kind == "sent":
                report.other_frames += 1
            else:
                report.undecodable += 1
            continue
        ex = exchange or exchange_of(rec, msg)
        if rec.kind == "sent":                       # what the feed sent: where subscriptions start
            report.other_frames += 1
            if ex in adapters:
                adapters[ex].on_sent(msg)
            continue
        if ex is None:
            report.unknown_exchange += 1
            continue
        adapter = adapters.get(ex)
        if adapter is None:
            if ex not in ADAPTERS:
                report.no_adapter[ex] = report.no_adapter.get(ex, 0) + 1
                continue
            adapter = adapters[ex] = make_adapter(ex)
        if adapter.on_message(msg, rec):
            report.book_frames += 1
        else:
            report.other_frames += 1
    return report


def replay(paths: str | Path | Sequence[str | Path], *, exchange: str | None = None, speed: float | None = None,
           strict: bool = False, clock: Callable[[], float] = time.perf_counter,
           sleep: Callable[[float], None] = time.sleep) -> ReplayReport:
    """Replay one or more recordings and verify them.

    Parameters
    ----------
    paths : recording file(s): liqcore, hftbacktest or cryptofeed format (detected per file)
    exchange : treat every frame as this exchange's (one of :data:`~liqcore.replay.books.ADAPTERS`:
        ``binance``, ``binanceusdm``, ``binancecoinm``, ``okx``, ``bitget``, ``kraken``) instead of
        naming it per frame
    speed : None for as fast as possible, else replay at ``speed`` x the recorded pace
    strict : raise :class:`~liqcore.errors.RecordingFormatError` at damage (a damaged liqcore
        block, a line of another form, a truncated gzip stream) instead of skipping and reporting it
    clock, sleep : used for pacing

    Returns a :class:`ReplayReport`; ``report.ok`` says whether everything verified. Raises
    :class:`~liqcore.errors.RecordingFormatError` before replaying anything if a file is not a
    recording liqcore reads, OSError if one cannot be opened. Time is O(frames), memory O(books)
    plus one recording block.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if exchange is not None:
        make_adapter(exchange)                            # ValueError now for an unknown exchange
    pacer = _Pacer(speed, clock, sleep) if speed is not None else None
    # every file is checked before any is replayed: one that is not a recording stops nothing halfway
    readers = [open_recording(path, strict=strict) for path in paths]
    report = ReplayReport(speed=speed)
    adapters: dict[str, Any] = {}
    t0 = time.perf_counter()
    for path, reader in zip(paths, readers):
        report.files.append(str(path))
        report.formats.append(reader.format)
        if pacer is not None:
            pacer.restart()
        replay_records(reader, exchange=exchange, report=report, adapters=adapters, pacer=pacer)
        report.damage += [d.to_dict(path) for d in reader.damage]
    report.seconds = time.perf_counter() - t0
    for adapter in adapters.values():
        report.books += adapter.reports()
        report.unrouted += getattr(adapter, "unrouted", 0)
    return report
