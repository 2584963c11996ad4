"""The ``liqcore`` command line.

``liqcore`` is the main job, offline: the local exchange simulator replays a real recording (by
default the bundled Binance BTCUSDT capture) on 127.0.0.1, ccxt.pro watches it through liqcore's
live feed, and the live book is shown (progress, top of book, spread, imbalance, impact of a
$100k market order) while every best-bid/ask checkpoint of the recording is verified against it.

``liqcore <subcommand> ...`` runs ``liqcore.commands.<subcommand>`` (:data:`COMMANDS`; the
interface of a subcommand module is in :mod:`liqcore.commands`): ``watch`` live books (``--sim``:
the simulator's), ``replay`` recordings, ``record`` a feed, ``history`` and ``alerts`` from a
store, ``risk`` of a position, ``bench`` the benchmarks and targets, and the service commands.
A module is imported only when its command runs (``--help`` reads every HELP line).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from liqcore.commands.common import Parser, count, feed_missing, positive, step, why

__all__ = ["main", "COMMANDS", "available_commands"]


def _fmt_px(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:,.2f}"


class _Live:
    """Progress + live top-of-book line: redrawn in place on a terminal, periodic lines otherwise."""

    def __init__(self, out, total_frames: int, notional: float, levels: int, speed: float | None):
        self.out = out
        self.tty = out.isatty()
        self.total = max(total_frames, 1)
        self.notional = notional
        self.levels = levels
        self.speed = speed
        self.next_draw = 0.0
        self.next_pct = 10
        self.first_ts: int | None = None
        self.t0 = time.perf_counter()

    def line(self, book, ts_ns: int, frame: int) -> str:
        pct = 100.0 * frame / self.total
        bar = "#" * int(pct / 5) + "." * (20 - int(pct / 5))
        bp, bq, ap, aq = book.bbo
        buy = book.walk("buy", notional=self.notional)
        sell = book.walk("sell", notional=self.notional)
        clock = time.strftime("%H:%M:%S", time.gmtime(ts_ns / 1e9))
        return (f"[{bar}] {pct:5.1f}% {clock} | bid {_fmt_px(bp)} x {bq:.5f} | ask {_fmt_px(ap)} x {aq:.5f} "
                f"| spread {book.spread_bps:.3f} bps | imb{self.levels} {book.imbalance(self.levels):+.3f} "
                f"| ${self.notional:,.0f} buy {buy.slippage_mid_bps:+.2f} bps sell {sell.slippage_mid_bps:+.2f} bps")

    def __call__(self, book, ts_ns: int, frame: int) -> None:
        if self.speed:
            # pace the replay at `speed` x the recorded time
            if self.first_ts is None:
                self.first_ts = ts_ns
            due = self.t0 + (ts_ns - self.first_ts) / 1e9 / self.speed
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        if self.tty:
            now = time.perf_counter()
            if now >= self.next_draw:
                self.next_draw = now + 0.1
                self.out.write("\r\x1b[2K" + self.line(book, ts_ns, frame))
                self.out.flush()
        elif 100 * frame >= self.next_pct * self.total:
            self.next_pct += 10
            print(self.line(book, ts_ns, frame), file=self.out, flush=True)

    def done(self, book, ts_ns: int) -> None:
        """Draw the final state at 100% and end the line."""
        if self.tty:
            self.out.write("\r\x1b[2K" + self.line(book, ts_ns, self.total) + "\n")
        elif self.next_pct <= 100:
            print(self.line(book, ts_ns, self.total), file=self.out, flush=True)


def _count_frames(path: Path) -> int:
    from liqcore.recordings import iter_hftbacktest

    return sum(1 for _ in iter_hftbacktest(path))


def _main_job(args: argparse.Namespace) -> int:
    import asyncio

    import ccxt

    from liqcore.errors import LiqError
    from liqcore.feed import run
    from liqcore.watch import main_job, print_main_summary

    out = sys.stdout
    try:
        s = run(main_job(args.file, speed=args.speed, quiet=args.json, notional=args.notional, levels=args.levels,
                         tick_size=args.tick_size, lot_size=args.lot_size, timeout=args.timeout,
                         fast_path=not args.python_path))
    except (TimeoutError, asyncio.TimeoutError, OSError, ValueError, LiqError, ccxt.BaseError) as exc:
        print(f"liqcore: error: {why(exc)}", file=sys.stderr)
        return 2
    s.pop("book")
    if args.json:
        print(json.dumps(s))
    else:
        print_main_summary(s, out)
    return 0 if s["ok"] else 1


def _demo(args: argparse.Namespace) -> int:
    """The direct replay (no simulator, no ccxt): the fallback main job."""
    from liqcore import OrderBook
    from liqcore.errors import LiqError
    from liqcore.recordings import damage_line
    from liqcore.replay import BUNDLED_RECORDING, replay_binance

    path = Path(args.file) if args.file else BUNDLED_RECORDING
    out = sys.stdout
    live = None
    try:
        book = OrderBook(args.tick_size, args.lot_size)            # a bad grid is said before anything runs
        if not args.json:
            frames = _count_frames(path)
            print(f"liqcore: replaying {path.name} (Binance spot depth@100ms + bookTicker) through the compiled book",
                  file=out)
            live = _Live(out, frames, args.notional, args.levels, args.speed)
        book, rep = replay_binance(path, book=book, on_update=live)
    except (OSError, ValueError, LiqError) as exc:
        print(f"liqcore: error: {why(exc)}", file=sys.stderr)
        return 2
    if live is not None:
        live.done(book, rep.last_ts_ns)
    buy = book.walk("buy", notional=args.notional)
    sell = book.walk("sell", notional=args.notional)
    summary: dict[str, Any] = {
        "mode": "direct replay",
        "recording": str(path),
        "symbol": rep.symbol,
        "frames": rep.frames,
        "depth_events": rep.depth_events,
        "applied": rep.applied,
        "skipped_before_snapshot_or_stale": rep.skipped,
        "gaps": rep.gaps,
        "rejected": rep.rejected + rep.snapshots_rejected,
        "unsynced": rep.unsynced,
        "checkpoints_ok": rep.checkpoints_ok,
        "checkpoints_failed": rep.checkpoints_failed,
        "seconds": round(rep.seconds, 4),
        "undecodable": rep.undecodable,
        "damage": [d.to_dict(path) for d in rep.damage],
        "best_bid": book.level_strings("bid", 1)[0] if book.bid_count else None,
        "best_ask": book.level_strings("ask", 1)[0] if book.ask_count else None,
        "levels": [book.bid_count, book.ask_count],
        "spread_bps": book.spread_bps,
        f"imbalance_{args.levels}": book.imbalance(args.levels),
        "impact": {
            "notional": args.notional,
            "buy_vwap": buy.vwap, "buy_slippage_mid_bps": buy.slippage_mid_bps, "buy_levels": buy.levels,
            "sell_vwap": sell.vwap, "sell_slippage_mid_bps": sell.slippage_mid_bps, "sell_levels": sell.levels,
        },
    }
    if args.json:
        print(json.dumps(summary))
    else:
        ok = "all" if rep.checkpoints_failed == 0 else "NOT all"
        print(f"\n{rep.symbol}: {rep.applied} depth events applied ({rep.skipped} older than the snapshot "
              f"dropped, {rep.gaps} gaps) in {rep.seconds * 1e3:.0f} ms "
              f"({rep.frames / max(rep.seconds, 1e-9):,.0f} frames/s incl. JSON parsing)")
        print(f"best bid/ask checkpoints: {rep.checkpoints_ok} ok, {rep.checkpoints_failed} failed "
              f"({ok} match the exchange's bookTicker)")
        bb, ba = summary["best_bid"] or ["-", "-"], summary["best_ask"] or ["-", "-"]
        print(f"final book: {book.bid_count} bids, {book.ask_count} asks; best bid {bb[0]} x {bb[1]}, "
              f"best ask {ba[0]} x {ba[1]}; spread {book.spread_bps:.4f} bps; "
              f"imbalance(top {args.levels}) {book.imbalance(args.levels):+.4f}")
        print(f"${args.notional:,.0f} market buy:  VWAP {_fmt_px(buy.vwap)}, levels consumed {buy.levels}, "
              f"{buy.slippage_mid_bps:+.3f} bps vs mid{'' if buy.complete else ' (NOT fully filled)'}")
        print(f"${args.notional:,.0f} market sell: VWAP {_fmt_px(sell.vwap)}, levels consumed {sell.levels}, "
              f"{sell.slippage_mid_bps:+.3f} bps vs mid{'' if sell.complete else ' (NOT fully filled)'}")
        for f in rep.failures:
            print(f"  failure: {f}")
        for what, n in (("frames are not JSON (skipped)", rep.undecodable),
                        ("messages rejected by the book", summary["rejected"]),
                        ("depth events never applied (no snapshot followed them)", rep.unsynced)):
            if n:
                print(f"{n} {what}", file=out)
        for d in summary["damage"]:
            print(damage_line(d), file=out)
    verified = not (rep.checkpoints_failed or rep.gaps or summary["rejected"] or rep.unsynced or rep.damage
                    or rep.undecodable or rep.snapshots == rep.snapshots_too_old + rep.snapshots_rejected)
    return 0 if verified else 1


def _parser() -> argparse.ArgumentParser:
    about = __doc__.split("\n\n")[1].replace("\n", " ").replace("``", "")
    p = _MainParser(prog="liqcore", description=about,
                epilog="Exit status: 0 if every checkpoint verified (none failed or missed, no gap, the whole "
                       "recording read), 1 otherwise (a truncated or damaged recording is replayed as far as it "
                       "can be read, and the summary says where and why it stopped), 2 on an error (a bad option, "
                       "a file that is not an hftbacktest recording). Live exchanges: liqcore watch "
                       "binance:BTC/USDT okx:BTC/USDT (see liqcore watch --help). Other recordings, any exchange: "
                       "liqcore replay FILE... (see liqcore replay --help)")
    p.add_argument("--file", help="hftbacktest-format Binance spot recording, plain or gzip (default: the bundled one)")
    p.add_argument("--tick-size", type=step, default="0.01", help="price grid of the symbol (default 0.01, BTCUSDT)")
    p.add_argument("--lot-size", type=step, default=None,
                   help="size grid (default 1e-5, BTCUSDT's; the direct replay: 1e-8, Binance's wire decimals)")
    p.add_argument("--notional", type=positive, default=100_000.0, help="quote notional of the impact estimate")
    p.add_argument("--levels", type=count, default=10, help="levels in the imbalance (default 10)")
    p.add_argument("--speed", type=positive, default=None,
                   help="replay at SPEED x the recorded pace, SPEED > 0 (default: as fast as possible)")
    p.add_argument("--json", action="store_true", help="print only a JSON summary")
    p.add_argument("--timeout", type=positive, default=120.0, help="bound of the whole run, seconds (default 120)")
    p.add_argument("--python-path", action="store_true",
                   help="decode frames in Python (ccxt's JSON path) instead of the adapters' C frame parser")
    p.add_argument("--direct", action="store_true",
                   help="replay the recording straight into the book (no simulator, no ccxt): the fallback "
                        "when ccxt or aiohttp are missing")
    return p


#: the subcommands, in the order ``liqcore --help`` lists them: ``liqcore <name>`` runs
#: ``liqcore.commands.<name>`` (a name whose module is not installed is not offered)
COMMANDS = ("watch", "replay", "record", "history", "alerts", "risk", "compare", "impact", "serve", "mcp", "bench")


def available_commands() -> list[str]:
    """The names of :data:`COMMANDS` whose module is present (found, not imported). O(commands)."""
    from importlib.util import find_spec

    return [name for name in COMMANDS if find_spec(f"liqcore.commands.{name}") is not None]


class _MainParser(Parser):
    """The main job's parser, whose help ends with the subcommands and their HELP lines."""

    def format_help(self) -> str:
        from importlib import import_module

        names = available_commands()
        width = max(map(len, names), default=0)
        rows = [f"  {n:<{width}}  {import_module(f'liqcore.commands.{n}').HELP}" for n in names]
        return super().format_help() + "\nsubcommands (liqcore <subcommand> --help):\n" + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``liqcore`` command: ``liqcore <subcommand> ...`` runs the subcommand
    (:data:`COMMANDS`), anything else is the main job. Returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in available_commands():
        from importlib import import_module

        module = import_module(f"liqcore.commands.{argv[0]}")
        prog = f"liqcore {argv[0]}"
        return int(module.run(module.build_parser(prog).parse_args(argv[1:])))
    args = _parser().parse_args(argv)
    if not args.direct:
        missing = feed_missing()
        if missing is None:
            args.lot_size = args.lot_size or "0.00001"
            return _main_job(args)
        print(f"liqcore: the live main job (simulator + ccxt.pro + liqcore's feed) needs ccxt and aiohttp, and "
              f"{missing} is missing (pip install 'liqcore[feed]'); falling back to replaying the recording straight "
              f"into the book", file=sys.stderr)
    args.lot_size = args.lot_size or "0.00000001"
    return _demo(args)


if __name__ == "__main__":
    sys.exit(main())
