"""``liqcore mcp``: the agent tools over the Model Context Protocol (stdio or streamable HTTP),
over live books from the venues or, with ``--sim``, from the local simulator (no network)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

from liqcore.commands.common import Parser, checked, fail, positive

__all__ = ["HELP", "build_parser", "run"]

PROG = "liqcore mcp"

HELP = "serve the agent tools (compare, impact, liquidity, risk, alerts) over MCP: stdio or streamable HTTP"

_EPILOG = """\
tools: compare_exchanges, calculate_market_impact, liquidity_report, liquidation_risk, and
liquidity_alerts when a store is open (--store, or the default store file if it exists).
Books are subscribed when a tool first needs them; PAIRS (EXCHANGE:SYMBOL, e.g. binance:BTC/USDT,
binanceusdm:BTC/USDT:USDT) are subscribed at start. With --transport stdio, stdout carries the
protocol only: messages go to stderr. The HTTP endpoint (http://HOST:PORT/mcp) has no
authentication and binds loopback addresses only.

Exit status: 0 when stopped (the client closed stdin with stdio, or Ctrl-C / SIGTERM), 2 on an
error (bad arguments, a pair that cannot be subscribed, a store that cannot be opened, a port that
cannot be bound).
"""


def _pair(text: str) -> tuple[str, str]:
    from liqcore.errors import FeedConfigError
    from liqcore.service.symbols import check_venue, parse_instrument
    venue, sep, symbol = text.partition(":")
    if not sep or not symbol:
        raise argparse.ArgumentTypeError(f"{text!r} is not EXCHANGE:SYMBOL (e.g. binance:BTC/USDT)")
    try:
        return check_venue(venue), str(parse_instrument(symbol))
    except FeedConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _loopback(text: str) -> str:
    from liqcore.service.net import is_loopback
    if not is_loopback(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a loopback address: the MCP endpoint has no "
                                         f"authentication and binds 127.0.0.1, ::1 or localhost only")
    return text


_port = checked(int, "an integer", "in 0..65535 (0: any free port)", lambda n: 0 <= n <= 65535)


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = Parser(prog=prog, description=HELP, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pairs", nargs="*", type=_pair, metavar="EXCHANGE:SYMBOL", help="books to subscribe at start")
    p.add_argument("--sim", action="store_true", help="books from the local exchange simulator (no network)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulator's books (with --sim; default 0)")
    p.add_argument("--sim-interval", type=positive, default=0.1,
                   help="seconds between the simulator's book updates (with --sim; default 0.1)")
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                   help="stdio (default: the client starts this command) or streamable HTTP")
    p.add_argument("--host", type=_loopback, default="127.0.0.1", help="address of the HTTP endpoint "
                                                                       "(loopback only; default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8765, help="port of the HTTP endpoint (default 8765; 0: any)")
    p.add_argument("--store", default=None, metavar="URL",
                   help="history store for liquidity_alerts (sqlite:///path.db, a path, postgresql://...); "
                        "default: the default store file if it exists, else no alerts tool")
    p.add_argument("--live-timeout", type=positive, default=20.0,
                   help="seconds a new book may take to go live (default 20)")
    return p


def _open_store(url: str | None) -> Any:
    """The store named by ``url``, else the default store file if it exists, else None."""
    from liqcore.store import default_path, open_store
    if url is None:
        path = default_path()
        if not os.path.exists(path):
            return None
        url = path
    return open_store(url)


async def _serve(args: argparse.Namespace, store: Any) -> int:
    from liqcore.errors import LiqError
    from liqcore.service.hub import BookHub
    from liqcore.service.mcp_server import HttpEndpoint, serve_stdio, tools_for

    prog = PROG
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):     # not on Windows / not the main thread
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    hub = BookHub(args.pairs, sim=args.sim, seed=args.seed, sim_interval=args.sim_interval,
                  live_timeout=args.live_timeout)
    try:
        await hub.start()
    except (LiqError, OSError) as exc:
        return fail(prog, exc)
    try:
        names = ", ".join(tools_for(store))
        if args.transport == "stdio":
            print(f"{prog}: serving {names} on stdio", file=sys.stderr, flush=True)
            work = asyncio.ensure_future(serve_stdio(hub, store))
        else:
            try:
                endpoint = await HttpEndpoint(hub, store, args.host, args.port).start()
            except (LiqError, OSError) as exc:
                return fail(prog, f"cannot serve on {args.host}:{args.port}: {exc}")
            print(f"{prog}: serving {names} on {endpoint.url}", file=sys.stderr, flush=True)
            work = asyncio.ensure_future(endpoint.wait())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if args.transport == "http":
            await endpoint.close()
        failed = work.exception() if work.done() and not work.cancelled() else None
        for task in (work, stopped):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        # the transport itself failed (stdin or stdout unusable): one line, not a traceback
        return 0 if failed is None else fail(prog, failed)
    finally:
        await hub.close()


def run(args: argparse.Namespace) -> int:
    from liqcore.store import StoreError
    try:
        store = _open_store(args.store)
    except (StoreError, OSError) as exc:
        return fail(PROG, exc)
    try:
        return asyncio.run(_serve(args, store))
    except KeyboardInterrupt:
        return 0
    finally:
        if store is not None:
            store.close()


if __name__ == "__main__":      # python -m liqcore.commands.mcp ARGS (liqcore mcp ARGS through liqcore.cli)
    sys.exit(run(build_parser().parse_args()))
