"""``liqcore impact SYMBOL SIZE``: what a market order of SIZE costs on each venue's live book."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from liqcore.commands.common import Parser, fail, positive, print_json

HELP = "market impact of an order size on each venue: average price, slippage, levels, liquidity"

__all__ = ["HELP", "build_parser", "run"]


def build_parser(prog: str) -> argparse.ArgumentParser:
    from liqcore.service.oneshot import add_venue_options
    p = Parser(prog=prog, description=HELP + " (the visible book, no fees).",
               epilog="Exit status: 0 when every venue priced the whole order, 1 when a venue could not be read or its "
                      "book cannot fill the whole order, 2 on an error (a bad option, an unknown exchange or "
                      "symbol, no venue reachable).")
    add_venue_options(p)
    p.add_argument("size", type=positive, help="order size, in base (BTC) or with --quote in quote (USD)")
    p.add_argument("--side", choices=("buy", "sell"), default="buy", help="buy takes the asks (default), sell the bids")
    p.add_argument("--quote", action="store_true", help="SIZE is in the quote currency (spend or receive)")
    return p


async def _impacts(hub: Any, args: argparse.Namespace) -> tuple[list[Any], dict[str, str]]:
    """The impact on every venue: (results, failures by venue). An unknown exchange or a
    malformed symbol raises (nothing is subscribed); what one venue cannot do is its failure."""
    from liqcore.errors import LiqError
    from liqcore.service import queries
    from liqcore.service.models import ImpactRequest
    from liqcore.service.symbols import check_venue, parse_instrument

    parse_instrument(args.symbol)
    venues = list(dict.fromkeys(check_venue(v, hub.venues) for v in args.exchanges))
    reqs = [ImpactRequest(exchange=v, symbol=args.symbol, side=args.side, amount=args.size,
                          amount_in="quote" if args.quote else "base") for v in venues]
    results = await asyncio.gather(*(queries.market_impact(hub, r) for r in reqs), return_exceptions=True)
    rows, failures = [], {}
    for r, res in zip(reqs, results):
        if isinstance(res, LiqError):
            failures[r.exchange] = " ".join(str(res).split())
        elif isinstance(res, BaseException):
            raise res
        else:
            rows.append(res)
    return rows, failures


def _table(rows: list[Any], failures: dict[str, str], args: argparse.Namespace) -> str:
    unit = "quote" if args.quote else "base"
    out = [f"{args.side} {args.size:g} ({unit}) of {rows[0].symbol if rows else args.symbol}"
           f"{' (local simulator)' if args.sim else ''}",
           f"{'venue':<12} {'symbol':<14} {'best':>12} {'average':>14} {'slippage %':>11} {'levels':>6} "
           f"{'base filled':>14} {'filled':>6}"]
    for r in sorted(rows, key=lambda r: (r.slippage_pct is None, r.slippage_pct)):
        def n(x: float | None, f: str = ",.2f") -> str:
            return "-" if x is None else format(x, f)
        out.append(f"{r.exchange:<12} {r.venue_symbol:<14} {n(r.best_price):>12} {n(r.average_price):>14} "
                   f"{n(r.slippage_pct, '.4f'):>11} {r.levels_consumed:>6} {r.total_base_amount:>14,.6f} "
                   f"{'yes' if r.sufficient_liquidity else 'NO':>6}")
    for venue, reason in failures.items():
        out.append(f"{venue}: not priced: {reason}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from liqcore.service.oneshot import explain, with_hub

    prog = "liqcore impact"
    try:
        rows, failures = with_hub(args, lambda hub: _impacts(hub, args))
    except KeyboardInterrupt:
        return fail(prog, "interrupted")
    except Exception as exc:            # one line, no traceback
        return fail(prog, explain(exc))
    if not rows:
        return fail(prog, "no venue could price the order: " + "; ".join(f"{v}: {w}" for v, w in failures.items()))
    if args.json:
        print_json({"symbol": rows[0].symbol, "side": args.side, "amount": args.size,
                    "amount_in": "quote" if args.quote else "base", "venues": [r.model_dump() for r in rows],
                    "failures": failures})
    else:
        print(_table(rows, failures, args), file=sys.stdout)
    return 0 if not failures and all(r.sufficient_liquidity for r in rows) else 1
