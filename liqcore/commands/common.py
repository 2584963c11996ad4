"""What every ``liqcore`` subcommand shares: the argument parser that says a usage error in one
line (exit 2), argument types with clear bounds, errors on one line, JSON output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from decimal import Decimal
from typing import Any, Awaitable, Callable, NoReturn, TextIO

__all__ = ["Parser", "checked", "positive", "count", "step", "why", "fail", "print_json", "feed_missing", "run_feed",
           "nothing_watched",
           "instant", "iso_time", "open_existing_store", "add_store_options"]


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (what is wrong, where the help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def checked(convert: Any, kind: str, bound: str, valid: Any, keep_text: bool = False) -> Any:
    """An argparse type: ``convert(text)`` (``kind``, e.g. "a number") that ``valid`` accepts
    (``bound``, e.g. "> 0"); the text itself if ``keep_text``."""
    def parse(text: str) -> Any:
        try:
            x = convert(text)
        except (ValueError, ArithmeticError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not valid(x):
            raise argparse.ArgumentTypeError(f"must be {kind} {bound}, got {text}")
        return text if keep_text else x
    return parse


#: a finite number > 0
positive = checked(float, "a number", "> 0", lambda x: x > 0 and math.isfinite(x))
#: an integer >= 1
count = checked(int, "an integer", ">= 1", lambda n: n >= 1)
#: a grid step (tick or lot size) > 0, kept as written for the book
step = checked(Decimal, "a decimal number", "> 0", lambda x: x.is_finite() and x > 0, keep_text=True)


def why(exc: BaseException) -> str:
    """An error in one line: ``<file>: <reason>`` for an OSError about a file, else its message
    (a chained cause's message when the exception's own is empty)."""
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename is None:
            return exc.strerror
        return f"{exc.filename or repr(exc.filename)}: {exc.strerror}"
    text = " ".join(str(exc).split())
    if not text and exc.__cause__ is not None:
        text = " ".join(str(exc.__cause__).split())
    return text or type(exc).__name__


def fail(prog: str, message: str | BaseException, code: int = 2, err: TextIO | None = None) -> int:
    """Say ``<prog>: error: <message>`` on one line on stderr; returns ``code`` (2 by default)."""
    text = why(message) if isinstance(message, BaseException) else " ".join(str(message).split())
    print(f"{prog}: error: {text}", file=err or sys.stderr)
    return code


def print_json(obj: Any, out: TextIO | None = None) -> None:
    """``obj`` as one JSON document on stdout (NaN and inf as null, which JSON lacks)."""
    print(json.dumps(_finite(obj), separators=(",", ":"), default=str), file=out or sys.stdout)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def run_feed(prog: str, texts: list[str], job: Callable[[list[tuple[str, str]]], Awaitable[dict[str, Any]]]
             ) -> dict[str, Any] | int:
    """Run ``job(pairs)`` (a :func:`liqcore.watch.watch`-like coroutine) on the feed's event loop,
    the pairs parsed from ``EXCHANGE:SYMBOL`` texts; returns its result, or the exit status after
    an error said in one line (a bad pair is a usage error: SystemExit 2)."""
    from liqcore.watch import parse_pair

    try:
        pairs = [parse_pair(t) for t in texts]
    except ValueError as exc:
        Parser(prog=prog).error(str(exc))
    missing = feed_missing()
    if missing:
        return fail(prog, f"needs ccxt and aiohttp ({missing} is missing): pip install 'liqcore[feed]'")
    from liqcore.errors import LiqError
    from liqcore.feed import run

    try:
        return run(job(pairs))
    except (LiqError, OSError, ValueError) as exc:
        return fail(prog, exc)


def nothing_watched(prog: str, result: dict[str, Any]) -> int:
    """The exit status of a feed command whose ``result`` has no book: 1 after Ctrl-C while
    connecting (said here), else 2 (each reason was said in one line as it happened)."""
    if result["interrupted"]:
        print(f"{prog}: interrupted before any book was watched", file=sys.stderr)
        return 1
    return 2


def feed_missing() -> str | None:
    """Why a live feed cannot run here (the name of ccxt.pro or aiohttp when one is not
    importable), or None."""
    try:
        import aiohttp  # noqa: F401
        import ccxt.pro  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or exc}"
    return None


def _instant(text: str) -> int:
    import datetime as dt

    t = text.strip()
    if t.lstrip("-").isdigit():
        return int(t)                                      # ns since the epoch, as the store keeps them
    when = dt.datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith(("Z", "z")) else t)
    if when.tzinfo is None:                                # a time without a zone is UTC, as the store's
        when = when.replace(tzinfo=dt.timezone.utc)
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1) * 1000


#: a time: ISO 8601 (``2024-08-08``, ``2024-08-08T10:00:00Z``; UTC when no zone is given) or an
#: integer, ns since the epoch; parsed to ns since the epoch
instant = checked(_instant, "a time", "(ISO 8601 or ns since the epoch)", lambda ns: -(2**63) <= ns < 2**63)


def iso_time(ns: int) -> str:
    """ns since the epoch as ISO 8601 UTC with milliseconds (``2024-08-08T10:00:00.123Z``)."""
    import datetime as dt

    when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=ns // 1000)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def add_store_options(p: argparse.ArgumentParser) -> None:
    """``--db`` (the store), ``--from``/``--to`` (a half-open range) and ``--json``."""
    p.add_argument("--db", metavar="PATH_OR_URL", default=None,
                   help="the store: a SQLite file, sqlite:///path or postgresql://user@host/db (default: "
                        "$LIQCORE_DATA_DIR/liqcore.db, else the user data directory, see docs/store.md)")
    p.add_argument("--from", dest="start", type=instant, default=None, metavar="TIME",
                   help="start of the range, included: ISO 8601 (UTC unless a zone is given) or ns since the "
                        "epoch (default: the first row)")
    p.add_argument("--to", dest="end", type=instant, default=None, metavar="TIME",
                   help="end of the range, excluded (default: after the last row)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def open_existing_store(where: str | None) -> Any:
    """Open the store at ``where`` (a path, ``sqlite:///`` or ``postgresql://`` URL, None: the
    default path) for reading; a SQLite file that does not exist is an error instead of a new empty
    store (reading must change nothing). The caller closes it. Raises StoreError (StoreIOError:
    missing file, unreachable server)."""
    import os

    from liqcore.store import StoreIOError, default_path, open_store

    raw = default_path() if where is None else where
    scheme, sep, rest = raw.partition("://")
    path = rest[1:] if sep and scheme == "sqlite" else (None if sep else raw)
    if path is not None and not os.path.isfile(path):
        raise StoreIOError(f"no store at {path} (give the store with --db)")
    return open_store(raw)
