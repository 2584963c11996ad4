"""``liqcore compare SYMBOL``: one instrument across venues, a table and the best arbitrage route."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from liqcore.commands.common import Parser, count, fail, print_json

HELP = "compare one instrument across venues: top of book, spreads, depth, arbitrage"

__all__ = ["HELP", "build_parser", "run"]


def build_parser(prog: str) -> argparse.ArgumentParser:
    from liqcore.service.oneshot import add_venue_options
    p = Parser(prog=prog, description=HELP + ". One spelling for every venue: BTC/USDT is BTC/USD on Coinbase and "
                                            "Kraken (docs/service.md).",
               epilog="Exit status: 0 when compared on two venues or more, 1 when fewer than two venues could be "
                      "compared, 2 on an error (a bad option, an unknown exchange or symbol, no venue reachable).")
    add_venue_options(p)
    p.add_argument("--levels", type=count, default=20, help="levels per side summed into the volumes (default 20)")
    return p


def _num(x: float | None, fmt: str = ",.2f") -> str:
    return "-" if x is None else format(x, fmt)


def _table(r: Any, sim: bool) -> str:
    lines = [f"{r.symbol}: {r.successful_fetches} of {r.exchanges_compared} venues"
             f"{' (local simulator)' if sim else ''}"]
    head = f"{'venue':<12} {'symbol':<14} {'bid':>14} {'ask':>14} {'spread %':>9} {'bid vol':>11} {'ask vol':>11}"
    lines.append(head)
    for v in r.venues:
        lines.append(f"{v.exchange:<12} {v.symbol:<14} {_num(v.best_bid):>14} {_num(v.best_ask):>14} "
                     f"{_num(v.spread_pct, '.4f'):>9} {_num(v.bid_volume, ',.4f'):>11} {_num(v.ask_volume, ',.4f'):>11}")
    lines.append(f"best bid {r.best_bid_exchange or '-'} {_num(r.best_bid)}; best ask {r.best_ask_exchange or '-'} "
                 f"{_num(r.best_ask)}; tightest spread {r.tightest_spread_exchange or '-'}; "
                 f"average spread {_num(r.average_spread_pct, '.4f')} %")
    a = r.arbitrage
    if a is not None:
        verdict = (f"profitable: {a.quantity:,.6f} base for {a.profit:,.2f} quote after fees" if a.profitable
                   else "not profitable")
        lines.append(f"arbitrage: {a.route}: {a.profit_pct:+.4f} % before fees, {a.net_profit_pct:+.4f} % after "
                     f"taker fees ({verdict})")
    for venue, reason in r.failures.items():
        lines.append(f"{venue}: not compared: {reason}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from liqcore.service import queries
    from liqcore.service.models import CompareRequest
    from liqcore.service.oneshot import explain, with_hub

    prog = "liqcore compare"
    try:
        req = CompareRequest(symbol=args.symbol, exchanges=args.exchanges, levels=args.levels)
        result = with_hub(args, lambda hub: queries.compare_exchanges(hub, req))
    except KeyboardInterrupt:
        return fail(prog, "interrupted")
    except Exception as exc:            # one line, no traceback (bad input, network, store)
        return fail(prog, explain(exc))
    if result.successful_fetches == 0:
        return fail(prog, "no venue could be compared: " + "; ".join(f"{v}: {why}" for v, why in
                                                                     result.failures.items()))
    if args.json:
        print_json(result.model_dump())
    else:
        print(_table(result, args.sim), file=sys.stdout)
    return 0 if result.successful_fetches >= 2 else 1
