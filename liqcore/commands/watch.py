"""``liqcore watch EXCHANGE:SYMBOL...``: live order books through ccxt.pro and liqcore's feed
(online; ``--sim``: the local simulator's synthetic books, offline), until Ctrl-C or ``--seconds``."""

from __future__ import annotations

import argparse
import json
import sys

from liqcore.commands.common import Parser, count, nothing_watched, positive, run_feed

__all__ = ["HELP", "build_parser", "run"]

HELP = "watch live order books (--sim: the local simulator's, offline)"


def build_parser(prog: str = "liqcore watch") -> argparse.ArgumentParser:
    """The options of ``liqcore watch``."""
    from liqcore.watch import SIM_VENUES

    p = Parser(
        prog=prog,
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
                   help=f"watch the local exchange simulator's synthetic books (offline; {', '.join(SIM_VENUES)}) "
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


def run(args: argparse.Namespace) -> int:
    """Watch the books of ``args.pairs``; the exit status of the help."""
    from liqcore.watch import print_watch_summary, watch

    prog = "liqcore watch"
    res = run_feed(prog, args.pairs, lambda pairs: watch(
        pairs, seconds=args.seconds, quiet=args.json, notional=args.notional, levels=args.levels, depth=args.depth,
        refresh=args.refresh, simulator=args.sim, seed=args.seed, fast_path=not args.python_path))
    if isinstance(res, int):
        return res
    if args.json:
        print(json.dumps(res))
    elif res["books"]:
        print_watch_summary(res, sys.stdout)
    if not res["books"]:
        return nothing_watched(prog, res)
    return 0 if res["ok"] else 1
