"""``liqcore alerts``: the liquidity alerts a store holds (``liqcore.alerts`` records in the
store's ``alerts`` table) over a time range, filtered by exchange, symbol, type and severity."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from liqcore.commands.common import Parser, add_store_options, fail, iso_time, open_existing_store, print_json

__all__ = ["HELP", "build_parser", "run", "stored_alerts"]

HELP = "the stored liquidity alerts of a time range (filters: exchange, symbol, type, severity)"


def build_parser(prog: str = "liqcore alerts") -> argparse.ArgumentParser:
    """The options of ``liqcore alerts``."""
    from liqcore.alerts import ALERT_TYPES, SEVERITIES

    p = Parser(
        prog=prog,
        description="List the liquidity alerts stored in a liqcore store whose episode started in [--from, --to), "
                    "oldest first: type, severity, metric with its value and baseline, and whether the episode "
                    "has ended. Times in UTC.",
        epilog="Exit status: 0 when alerts were found, 1 when none match, 2 on an error (a bad option, a range "
               "that ends before it starts, a store that is missing or cannot be reached).")
    add_store_options(p)
    p.add_argument("--exchange", default=None, help="only this exchange (ccxt id, as stored)")
    p.add_argument("--symbol", default=None, help="only this symbol (as stored, e.g. BTC/USDT)")
    p.add_argument("--type", dest="types", type=str.upper, choices=ALERT_TYPES, action="append", default=None,
                   help="only this type (repeat for several)")
    p.add_argument("--severity", type=str.upper, choices=SEVERITIES, default=None,
                   help="only this severity and above (LOW < MEDIUM < HIGH)")
    p.add_argument("--active", action="store_true", help="only the episodes that have not ended")
    return p


def stored_alerts(store: Any, *, exchange: str | None = None, symbol: str | None = None, start: int | None = None,
                  end: int | None = None, types: list[str] | None = None, severity: str | None = None,
                  active: bool = False) -> list[Any]:
    """The :class:`~liqcore.alerts.LiquidityAlert` records of ``store`` that started in
    ``[start, end)`` (ns; None: open-ended) and match the filters, oldest first. O(series + rows)."""
    from liqcore.alerts import SEVERITIES, alerts_from_rows

    floor = SEVERITIES.index(severity) if severity else 0
    found = []
    for ex, sym, *_ in store.series("alerts"):
        if (exchange is None or ex == exchange) and (symbol is None or sym == symbol):
            found += [a for a in alerts_from_rows(store.read("alerts", ex, sym, start, end))
                      if (not types or a.type in types) and SEVERITIES.index(a.severity) >= floor
                      and (not active or a.active)]
    found.sort(key=lambda a: (a.ts_ms, a.id))
    return found


def _print(alerts: list[Any]) -> None:
    print(f"{len(alerts)} alert(s)")
    for a in alerts:
        until = "active" if a.active else f"ended {iso_time(a.ended_ts)}"
        z = "" if a.z is None else f", z {a.z:+.2f}"
        print(f"{iso_time(a.ts)}  {a.severity:<6} {a.type:<16} {a.exchange} {a.symbol}: {a.metric} {a.current:.6g} "
              f"vs baseline {a.baseline:.6g} ({a.deviation_pct:+.1f}%{z}); {until}; {a.message}")


def run(args: argparse.Namespace) -> int:
    """Read, filter and print the alerts; the exit status of the help."""
    from liqcore.errors import LiqError

    prog = "liqcore alerts"
    if args.start is not None and args.end is not None and args.end < args.start:
        return fail(prog, f"the range ends ({iso_time(args.end)}) before it starts ({iso_time(args.start)})")
    try:
        with open_existing_store(args.db) as store:
            alerts = stored_alerts(store, exchange=args.exchange, symbol=args.symbol, start=args.start,
                                   end=args.end, types=args.types, severity=args.severity, active=args.active)
    except (LiqError, OSError, ValueError) as exc:
        return fail(prog, exc)
    if args.json:
        print_json({"count": len(alerts), "alerts": [a.to_dict() for a in alerts]})
    else:
        _print(alerts)
    sys.stdout.flush()
    return 0 if alerts else 1
