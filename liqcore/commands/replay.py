"""``liqcore replay FILE...``: recordings of any supported exchange and format through the feed
handlers, with what was applied and verified per book (see ``docs/recording.md``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from liqcore.commands.common import Parser, fail, positive

__all__ = ["HELP", "build_parser", "run"]

HELP = "replay recordings (liqcore, hftbacktest, cryptofeed) and verify checksums and checkpoints"


def build_parser(prog: str = "liqcore replay") -> argparse.ArgumentParser:
    """The options of ``liqcore replay``."""
    from liqcore.replay.books import ADAPTERS

    p = Parser(
        prog=prog,
        description="Replay recordings (liqcore, hftbacktest or cryptofeed format, plain or gzip; Binance, OKX, "
                    "Bitget or Kraken v1 books) through liqcore's feed handlers and verify every exchange checksum "
                    "and Binance best-bid/ask checkpoint. Files are replayed in order as one stream. What cannot be "
                    "read (a damaged block, a truncated gzip file) is skipped and said, where and why. Exit "
                    "status: 0 if everything verified (every update read was applied, or skipped for a reason "
                    "the table shows), 1 if anything failed, was damaged or left unexplained, 2 on an error (a bad "
                    "option, a file that is missing or not a recording; --strict: damage).")
    p.add_argument("files", nargs="+", metavar="FILE", help="recording(s)")
    p.add_argument("--exchange", choices=sorted(ADAPTERS),
                   help="treat every frame as this exchange's (default: detected per frame)")
    p.add_argument("--speed", type=positive, default=None,
                   help="replay at SPEED x the recorded pace, SPEED > 0 (default: as fast as possible)")
    p.add_argument("--strict", action="store_true", help="stop at damage (exit 2) instead of skipping and "
                                                        "reporting it")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return p


def _top(level: list[str] | None) -> str:
    return "-" if level is None else f"{level[0]} x {level[1]}"


def _print_replay(rep: Any, out: TextIO) -> None:
    from collections import Counter

    from liqcore.recordings import damage_line

    fmts = ", ".join(f"{f} x{n}" if n > 1 else f for f, n in Counter(rep.formats).items())
    print(f"liqcore replay: {len(rep.files)} file(s) ({fmts}), {rep.frames:,} frames "
          f"({rep.book_frames:,} book frames) in {rep.seconds:.2f} s", file=out)
    head = (f"{'exchange':<11} {'book':<16} {'msgs':>6} {'applied':>7} {'skip':>4} {'snap':>4} {'gaps':>4} "
            f"{'resync':>6} {'rej':>3} {'unsync':>6} {'checksums ok/fail':>17} {'checkpoints ok/fail':>19}  "
            f"{'best bid':<28} {'best ask':<28} levels")
    print(head, file=out)
    for b in rep.books:
        cs = f"{b.checksums_ok}/{b.checksums_failed}" if b.checksums_ok + b.checksums_failed else "-"
        cp = f"{b.checkpoints_ok}/{b.checkpoints_failed}" if b.checkpoints_ok + b.checkpoints_failed else "-"
        print(f"{b.exchange:<11} {b.symbol:<16} {b.messages:>6} {b.applied:>7} {b.skipped:>4} {b.snapshots:>4} "
              f"{b.gaps:>4} {b.resyncs:>6} {b.rejected:>3} {b.unsynced:>6} {cs:>17} {cp:>19}  "
              f"{_top(b.best_bid):<28} {_top(b.best_ask):<28} {b.levels[0]}/{b.levels[1]}", file=out)
    t = rep.totals()
    print(f"total: {len(rep.books)} books; checksums {t['checksums_ok']:,} verified, {t['checksums_failed']} failed"
          f" ({t['checksums_absent']} absent); best bid/ask checkpoints {t['checkpoints_ok']:,} verified, "
          f"{t['checkpoints_failed']} failed; {t['gaps']} gaps, {t['resyncs']} resyncs, {t['rejected']} rejected",
          file=out)
    if rep.unknown_exchange or rep.undecodable or rep.no_adapter or rep.unrouted:
        others = ", ".join(f"{ex} {n}" for ex, n in rep.no_adapter.items()) or "none"
        print(f"frames skipped: {rep.unknown_exchange} of no known exchange, {rep.undecodable} not JSON, "
              f"{rep.unrouted} snapshots of no known book; of exchanges liqcore does not replay: {others}", file=out)
    for d in rep.damage:
        print(damage_line(d), file=out)
    for b in rep.books:
        for f in b.failures:
            print(f"failure: {b.exchange} {b.symbol}: {f}", file=out)
    print("OK: every checksum and checkpoint verified" if rep.ok else "NOT OK: " + "; ".join(rep.problems()), file=out)


def run(args: argparse.Namespace) -> int:
    """Replay ``args.files``; the exit status of the help."""
    from liqcore.errors import LiqError
    from liqcore.replay import replay

    try:
        rep = replay(args.files, exchange=args.exchange, speed=args.speed, strict=args.strict)
    except (OSError, LiqError, ValueError) as exc:
        return fail("liqcore replay", exc)
    if args.json:
        print(json.dumps(rep.to_dict()))
    else:
        _print_replay(rep, sys.stdout)
    return 0 if rep.ok else 1
