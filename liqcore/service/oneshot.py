"""What the one-shot service commands (``liqcore compare``, ``liqcore impact``) share: the venue
options of their parsers and one run of a :class:`~liqcore.service.hub.BookHub` (the venues, or
the local simulator with ``--sim``) around a query, with its errors said in one line."""

from __future__ import annotations

import argparse
from typing import Awaitable, Callable, TypeVar

from liqcore.commands.common import positive
from liqcore.service.hub import BookHub
from liqcore.service.models import DEFAULT_EXCHANGES

__all__ = ["add_venue_options", "venue_list", "with_hub", "explain"]

T = TypeVar("T")


def venue_list(text: str) -> list[str]:
    """``"binance,Coinbase"`` -> ``["binance", "coinbase"]`` (argparse type; empty names refused)."""
    names = [v.strip().lower() for v in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated exchange ids, e.g. binance,kraken")
    return names


def add_venue_options(p: argparse.ArgumentParser) -> None:
    """``SYMBOL``, ``--exchanges``, ``--sim``, ``--seed``, ``--timeout``, ``--json``."""
    p.add_argument("symbol", help="instrument, e.g. BTC/USDT (USD, USDT, USDC quotes are one instrument) or "
                                  "BTC/USDT:USDT (perpetual)")
    p.add_argument("--exchanges", type=venue_list, default=list(DEFAULT_EXCHANGES), metavar="A,B,...",
                   help=f"venues (ccxt ids; default {','.join(DEFAULT_EXCHANGES)})")
    p.add_argument("--sim", action="store_true", help="the local exchange simulator's books (offline) instead of "
                                                      "the venues")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulator's books (with --sim)")
    p.add_argument("--timeout", type=positive, default=20.0,
                   help="seconds each venue may take to deliver a live book (default 20)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def with_hub(args: argparse.Namespace, query: Callable[[BookHub], Awaitable[T]]) -> T:
    """Run ``query(hub)`` on a hub of the venues (or the simulator with ``args.sim``), on uvloop
    when installed; the hub is closed after."""
    from liqcore.feed import run

    async def main() -> T:
        async with BookHub(sim=args.sim, seed=args.seed, live_timeout=args.timeout,
                           sim_interval=0.05) as hub:
            return await query(hub)
    result: T = run(main())
    return result


def explain(exc: BaseException) -> str:
    """A pydantic validation error in one line (``field: message; ...``), else the message."""
    errors = getattr(exc, "errors", None)
    if callable(errors) and type(exc).__name__ == "ValidationError":
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in errors()[:3]]
        return "; ".join(parts)
    return " ".join(str(exc).split()) or type(exc).__name__

