"""The ``liqcore`` command line.

``liqcore`` is the main job, offline: the local exchange simulator replays a real recording (by
default the bundled Binance BTCUSDT capture) on 127.0.0.1, ccxt.pro watches it through liqcore's
live feed, and the live book is shown (progress, top of book, spread, imbalance, impact of a
$100k market order) while every best-bid/ask checkpoint of the recording is verified against it.

``liqcore watch binance:BTC/USDT okx:BTC/USDT`` watches real exchanges the same way (online;
Ctrl-C stops; ``--sim`` watches the local simulator's synthetic books instead).

``liqcore replay FILE...`` replays recordings of any supported exchange and format through
the feed handlers and prints, per book, what was applied and verified (see ``docs/recording.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from liqcore.commands.common import Parser, count, positive, step, why

__all__ = ["main"]


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


def _feed_missing() -> str | None:
    """Why the live main job cannot run here (ccxt.pro or aiohttp not importable), or None."""
    try:
        import aiohttp  # noqa: F401
        import ccxt.pro  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or exc}"
    return None


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
    p = Parser(prog="liqcore", description=about,
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


def _watch_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="liqcore watch",
        description="Watch live order books through ccxt.pro and liqcore's feed (online): per book, the top of "
                    "book, spread, imbalance and the impact of a market order, until Ctrl-C. Binance, USD-M and "
                    "OKX books are parsed in C from the raw frames (sequence checks and OKX checksums in C); "
                    "other ccxt exchanges are mirrored. An exchange that cannot be reached, or does not list a "
                    "symbol, is said in one line and the other books go on. Exit status: 0 if every book ended "
                    "live (and, with --sim, equal to the simulator's true book), 1 otherwise, 2 on an error (a bad "
                    "option or pair, an unknown exchange, no exchange reachable).")
    p.add_argument("pairs", nargs="+", metavar="EXCHANGE:SYMBOL",
                   help="e.g. binance:BTC/USDT okx:BTC/USDT binanceusdm:BTC/USDT:USDT")
    p.add_argument("--seconds", type=positive, default=None, help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--sim", action="store_true",
                   help="watch the local exchange simulator's synthetic books (offline; binance, binanceusdm, okx) "
                        "and check the final books against its true books")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulator's books (with --sim)")
    p.add_argument("--depth", type=count, default=None, help="order book depth to subscribe (exchange default)")
    p.add_argument("--notional", type=positive, default=100_000.0, help="quote notional of the impact estimate")
    p.add_argument("--levels", type=count, default=10, help="levels in the imbalance (default 10)")
    p.add_argument("--refresh", type=positive, default=1.0,
                   help="seconds between printed lines when the output is not a terminal (default 1)")
    p.add_argument("--python-path", action="store_true", help="decode frames in Python instead of C")
    p.add_argument("--json", action="store_true", help="print only a JSON summary at the end")
    return p


def _watch_cmd(argv: list[str]) -> int:
    p = _watch_parser()
    args = p.parse_args(argv)
    from liqcore.watch import parse_pair
    try:
        pairs = [parse_pair(t) for t in args.pairs]
    except ValueError as exc:
        p.error(str(exc))
    missing = _feed_missing()
    if missing:
        print(f"liqcore watch: needs ccxt and aiohttp ({missing} is missing): pip install ccxt aiohttp",
              file=sys.stderr)
        return 2
    from liqcore.errors import LiqError
    from liqcore.feed import run
    from liqcore.watch import print_watch_summary, watch
    try:
        res = run(watch(pairs, seconds=args.seconds, quiet=args.json, notional=args.notional, levels=args.levels,
                        depth=args.depth, refresh=args.refresh, simulator=args.sim, seed=args.seed,
                        fast_path=not args.python_path))
    except (LiqError, OSError, ValueError) as exc:
        print(f"liqcore watch: error: {why(exc)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res))
    elif res["books"]:
        print_watch_summary(res, sys.stdout)
    if not res["books"]:
        if res["interrupted"]:                                   # Ctrl-C while connecting
            print("liqcore watch: interrupted before any book was watched", file=sys.stderr)
            return 1
        return 2                          # nothing could be watched: each reason was said in one line
    return 0 if res["ok"] else 1


def _replay_parser() -> argparse.ArgumentParser:
    from liqcore.replay.books import ADAPTERS

    p = Parser(
        prog="liqcore replay",
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


def _print_replay(rep, out) -> None:
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


def _replay_cmd(argv: list[str]) -> int:
    from liqcore.errors import LiqError
    from liqcore.replay import replay

    args = _replay_parser().parse_args(argv)
    try:
        rep = replay(args.files, exchange=args.exchange, speed=args.speed, strict=args.strict)
    except (OSError, LiqError, ValueError) as exc:
        print(f"liqcore replay: error: {why(exc)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rep.to_dict()))
    else:
        _print_replay(rep, sys.stdout)
    return 0 if rep.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``liqcore`` command (``liqcore replay ...`` is the replay subcommand)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["replay"]:
        return _replay_cmd(argv[1:])
    if argv[:1] == ["watch"]:
        return _watch_cmd(argv[1:])
    args = _parser().parse_args(argv)
    if not args.direct:
        missing = _feed_missing()
        if missing is None:
            args.lot_size = args.lot_size or "0.00001"
            return _main_job(args)
        print(f"liqcore: the live main job (simulator + ccxt.pro + liqcore's feed) needs ccxt and aiohttp, and "
              f"{missing} is missing (pip install ccxt aiohttp); falling back to replaying the recording straight "
              f"into the book", file=sys.stderr)
    args.lot_size = args.lot_size or "0.00000001"
    return _demo(args)


if __name__ == "__main__":
    sys.exit(main())
