"""``liqcore record EXCHANGE:SYMBOL... --out FILE``: a live feed (or, with ``--sim``, the local
simulator's) written as a liqcore recording (``liqcore.recorder``; format in ``docs/recording.md``),
with a progress line (frames, bytes written) and, at the end, the file's size and contents."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from typing import Any, TextIO

from liqcore.commands.common import Parser, count, nothing_watched, positive, print_json, run_feed

__all__ = ["HELP", "build_parser", "run", "record"]

HELP = "record live (or --sim simulated) order book feeds to a liqcore recording"


def build_parser(prog: str = "liqcore record") -> argparse.ArgumentParser:
    """The options of ``liqcore record``."""
    from liqcore.watch import SIM_VENUES

    p = Parser(
        prog=prog,
        description="Record the raw frames (websocket frames and REST snapshots, with wall and monotonic receive "
                    "times) of live order books through ccxt.pro and liqcore's feed into a liqcore recording, "
                    "appending when the file exists, until Ctrl-C or --seconds. A progress line says the frames "
                    "and bytes written so far; the end says the file's size and what it holds. liqcore replay "
                    "FILE replays it. An exchange that cannot be reached, or does not list a symbol, is said in "
                    "one line and the other books are recorded.",
        epilog="Exit status: 0 when every book was recorded to the end (live, and with --sim equal to the "
               "simulator's true book), 1 when something was recorded but a book is missing or not live, 2 on an "
               "error (a bad option or pair, an unknown exchange, a file that cannot be written, nothing reachable).")
    p.add_argument("pairs", nargs="+", metavar="EXCHANGE:SYMBOL",
                   help="e.g. binance:BTC/USDT okx:BTC/USDT binanceusdm:BTC/USDT:USDT")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="the recording (created, or appended to)")
    p.add_argument("--seconds", type=positive, default=None, help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--sim", action="store_true",
                   help=f"record the local exchange simulator's synthetic books (offline; {', '.join(SIM_VENUES)})")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulator's books (with --sim)")
    p.add_argument("--depth", type=count, default=None, help="order book depth to subscribe (exchange default)")
    p.add_argument("--refresh", type=positive, default=1.0,
                   help="seconds between progress lines when stderr is not a terminal (default 1)")
    p.add_argument("--json", action="store_true", help="print only a JSON summary at the end")
    return p


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


async def _progress(rec: Any, path: str, every: float, err: TextIO, t0: float) -> None:
    """Say frames and bytes written every ``every`` s (redrawn in place on a terminal) and write
    a pending block when due, so the file grows even when frames stop. Runs until cancelled."""
    tty = bool(getattr(err, "isatty", lambda: False)())
    while True:
        await asyncio.sleep(0.1 if tty else every)
        rec.flush_if_due()
        line = (f"liqcore record: {time.perf_counter() - t0:6.1f} s, {rec.records_written + rec.pending:,} frames, "
                f"{_size(path):,} bytes written to {path}")
        err.write("\r\x1b[2K" + line if tty else line + "\n")
        err.flush()


async def record(pairs: list[tuple[str, str]], path: str, *, seconds: float | None = None, simulator: bool = False,
                 seed: int = 0, depth: int | None = None, refresh: float = 1.0,
                 err: TextIO | None = None) -> dict[str, Any]:
    """Record ``pairs`` (``(exchange, symbol)``) into the liqcore recording at ``path`` until
    ``seconds`` pass or Ctrl-C, saying progress on ``err`` (stderr). Returns the watch summary of
    :func:`liqcore.watch.watch` plus ``file`` (its size in bytes, records per exchange and kind
    read back from it). Raises OSError (the file), FeedConfigError (an unknown exchange), ValueError."""
    from liqcore.recorder import Recorder, RecordingReader
    from liqcore.watch import watch

    err = sys.stderr if err is None else err
    created = not os.path.exists(path)
    before = _size(path)
    written = 0
    try:
        with Recorder(path) as rec:
            t0 = time.perf_counter()
            ticker = asyncio.ensure_future(_progress(rec, path, refresh, err, t0))
            try:
                res = await watch(pairs, seconds=seconds, quiet=True, depth=depth, simulator=simulator, seed=seed,
                                  recorder=rec, err=err)
            finally:
                ticker.cancel()
                if getattr(err, "isatty", lambda: False)():
                    err.write("\n")
                written = rec.records_written + rec.pending
    finally:
        if created and written == 0 and os.path.exists(path):   # bad input or nothing reached: no file left
            os.unlink(path)
    if not res["books"]:
        res["file"] = {"path": path, "bytes": before, "bytes_added": 0, "frames_added": 0, "records": 0,
                       "blocks": 0, "by_exchange_kind": {}, "damage": []}
        return res
    reader = RecordingReader(path)
    kinds: Counter[str] = Counter(f"{r.exchange} {r.kind}" for r in reader)
    res["file"] = {"path": path, "bytes": _size(path), "bytes_added": _size(path) - before, "frames_added": written,
                   "records": reader.records, "blocks": reader.blocks, "by_exchange_kind": dict(kinds),
                   "damage": [d.describe() for d in reader.damage]}
    return res


def run(args: argparse.Namespace) -> int:
    """Record; the exit status of the help."""
    prog = "liqcore record"
    res = run_feed(prog, args.pairs, lambda pairs: record(
        pairs, args.out, seconds=args.seconds, simulator=args.sim, seed=args.seed, depth=args.depth,
        refresh=args.refresh))
    if isinstance(res, int):
        return res
    if not res["books"]:
        return nothing_watched(prog, res)
    f = res["file"]
    if args.json:
        print_json(res)
    else:
        print(f"liqcore record: {f['path']}: {f['bytes']:,} bytes ({f['bytes_added']:,} added: {f['frames_added']:,} "
              f"frames), {f['records']:,} records in {f['blocks']} blocks")
        for key, n in sorted(f["by_exchange_kind"].items()):
            print(f"  {key}: {n:,}")
        for b in res["books"]:
            check = "" if "matches_simulator" not in b else \
                ("; equals the simulator's true book" if b["matches_simulator"] else "; DIFFERS from the simulator")
            print(f"{b['exchange']} {b['symbol']}: {b['state']}, {b['messages']:,} messages{check}")
        for u in res["unavailable"]:
            print(f"{u['exchange']} {u['symbol']}: not recorded: {u['reason']}")
    return 0 if res["ok"] and not f["damage"] else 1
