"""``liqcore history TABLE EXCHANGE SYMBOL``: a time range of one series of a store table
(``liqcore.store``; tables and units in ``docs/store.md``), as a table, JSON, CSV or Parquet."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any, TextIO

from liqcore.commands.common import Parser, add_store_options, count, fail, iso_time, open_existing_store, print_json

__all__ = ["HELP", "build_parser", "run", "rows_of"]

HELP = "a time range of a stored table (reports, snapshots, liquidations...) for one market"

#: rows shown by the table view unless --limit says otherwise (JSON, CSV and Parquet take all)
TABLE_ROWS = 50


def build_parser(prog: str = "liqcore history") -> argparse.ArgumentParser:
    """The options of ``liqcore history``."""
    from liqcore.store import TABLES

    p = Parser(
        prog=prog,
        description="Print a time range [--from, --to) of one market's series from a liqcore store: the "
                    f"tables {', '.join(TABLES)} (columns and units: docs/store.md). Times are shown in UTC; "
                    "array columns (book levels, walls) as their lists in JSON and CSV.",
        epilog="Exit status: 0 when rows were found, 1 when the range holds none, 2 on an error (a bad option, "
               "an unknown table or column, a range that ends before it starts, a market the store does not "
               "hold, a store that is missing or cannot be reached).")
    p.add_argument("table", help="the table, e.g. liquidity_reports")
    p.add_argument("exchange", help="ccxt id, as stored (e.g. binance)")
    p.add_argument("symbol", help="symbol, as stored (e.g. BTC/USDT)")
    add_store_options(p)
    p.add_argument("--columns", "--metric", dest="columns", default=None, metavar="NAME[,NAME...]",
                   help="only these columns (the key exchange, symbol, ts always comes)")
    p.add_argument("--limit", type=count, default=None,
                   help=f"at most this many rows, the latest (default: all; the table view shows {TABLE_ROWS})")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", help="write the rows to a CSV file ('-': stdout)")
    out.add_argument("--parquet", metavar="FILE", help="write the rows to a Parquet file (needs pyarrow)")
    return p


def _value(v: Any) -> Any:
    """One stored value as JSON wants it: bytes decoded, numpy scalars and arrays as Python."""
    if isinstance(v, bytes):
        return v.decode("ascii", "replace")
    tolist = getattr(v, "tolist", None)
    return tolist() if tolist is not None else v


def rows_of(arr: Any) -> list[dict[str, Any]]:
    """The rows of a store read as dicts (``time`` added in ISO 8601 UTC), array columns as lists
    without the read's NaN padding (each cut to its count column). O(rows x columns)."""
    from liqcore.store import TABLES

    names = list(arr.dtype.names or ())
    # array columns come NaN-padded to the longest row; their count column says how many are real
    counts = {c.name: c.count for t in TABLES.values() for c in t.variable if c.kind == "array"}
    out = []
    for rec in arr:
        row = {"time": iso_time(int(rec["ts"]))}
        for n in names:
            v = rec[n]
            if n in counts and counts[n] in names:
                v = v[: int(rec[counts[n]])]
            row[n] = _value(v)
        out.append(row)
    return out


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return f"[{len(v)}]"
    return "-" if v is None else str(v)


def print_table(rows: list[dict[str, Any]], out: TextIO, shown: int) -> None:
    """Rows as aligned text columns (lists as their length), the last ``shown`` of them."""
    if not rows:
        return
    head = [k for k in rows[0] if k not in ("exchange", "symbol", "ts")]
    body = [[_cell(r[k]) for k in head] for r in rows[-shown:]]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)), file=out)
    for b in body:
        print("  ".join(c.ljust(w) for c, w in zip(b, widths)), file=out)


def _write_csv(rows: list[dict[str, Any]], path: str) -> None:
    fh = sys.stdout if path == "-" else open(path, "w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(fh)
        if rows:
            writer.writerow(list(rows[0]))
            writer.writerows([[v if not isinstance(v, list) else repr(v) for v in r.values()] for r in rows])
    finally:
        if fh is not sys.stdout:
            fh.close()


def _read(args: argparse.Namespace, store: Any) -> Any:
    """The rows ``args`` ask for (the latest ``--limit``). Raises StoreError for bad input, and
    StoreInputError when the store holds nothing of the market in the table."""
    from liqcore.store import StoreInputError

    columns = None if args.columns is None else [c.strip() for c in args.columns.split(",") if c.strip()]
    arr = store.read(args.table, args.exchange, args.symbol, args.start, args.end, columns=columns)
    if not len(arr):
        held = [(ex, sym) for ex, sym, *_ in store.series(args.table)]
        if (args.exchange, args.symbol) not in held:
            what = ", ".join(f"{ex} {sym}" for ex, sym in held[:10]) or "nothing"
            raise StoreInputError(f"the store holds no {args.table} of {args.exchange} {args.symbol} "
                                  f"(it holds: {what})")
    return arr if args.limit is None else arr[-args.limit:]


def run(args: argparse.Namespace) -> int:
    """Read and print the range; the exit status of the help."""
    from liqcore.errors import LiqError
    from liqcore.store import TABLES

    prog = "liqcore history"
    if args.table not in TABLES:           # said before a store is opened
        return fail(prog, f"unknown table {args.table!r}: expected one of {', '.join(TABLES)}")
    if args.start is not None and args.end is not None and args.end < args.start:
        return fail(prog, f"the range ends ({iso_time(args.end)}) before it starts ({iso_time(args.start)})")
    try:
        with open_existing_store(args.db) as store:
            arr = _read(args, store)
            if args.parquet:
                store.export_parquet(args.table, args.exchange, args.symbol, args.start, args.end, args.parquet,
                                     columns=None if args.columns is None else arr.dtype.names[3:])
    except (LiqError, OSError, ValueError) as exc:
        return fail(prog, exc)
    rows = rows_of(arr)
    if args.json:
        print_json({"table": args.table, "exchange": args.exchange, "symbol": args.symbol, "start": args.start,
                    "end": args.end, "count": len(rows), "rows": rows})
    elif args.csv:
        try:
            _write_csv(rows, args.csv)
        except OSError as exc:
            return fail(prog, exc)
    elif not args.parquet:
        print(f"{args.table} of {args.exchange} {args.symbol}: {len(rows)} row(s)"
              + (f", the last {TABLE_ROWS} shown (--limit)" if args.limit is None and len(rows) > TABLE_ROWS else ""))
        print_table(rows, sys.stdout, args.limit or TABLE_ROWS)
    if args.parquet and not args.json:
        print(f"{len(rows)} row(s) written to {args.parquet}")
    return 0 if rows else 1
