"""``liqcore serve``: the HTTP and websocket API over live books (``--sim``: the local simulator's)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from typing import Any

from liqcore.commands.common import Parser, count, fail, positive

HELP = "serve live books over HTTP and websocket (FastAPI on uvicorn; --sim works offline)"

__all__ = ["HELP", "build_parser", "run"]


def build_parser(prog: str) -> argparse.ArgumentParser:
    from liqcore.service.api import BURST, DEFAULT_PORT, MAX_BODY_BYTES, RATE
    p = Parser(prog=prog, description=HELP + ". Routes under /api/v1 (compare-exchanges, market-impact, book, "
                                            "liquidity, walls, venues, risk, history, alerts, health, metrics), "
                                            "a websocket at /ws, the OpenAPI schema at /openapi.json and docs at "
                                            "/docs (docs/service.md).",
               epilog="Exit status: 0 when stopped (Ctrl-C or SIGTERM), 2 on an error (a bad option or pair, a "
                      "non-loopback address without an API key, an address that cannot be listened on, a store "
                      "that cannot be opened).")
    p.add_argument("pairs", nargs="*", metavar="EXCHANGE:SYMBOL",
                   help="books subscribed at startup, e.g. binance:BTC/USDT (others on the first request)")
    p.add_argument("--sim", action="store_true", help="serve the local exchange simulator's books (offline)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulator's books (with --sim)")
    p.add_argument("--sim-interval", type=positive, default=0.1,
                   help="seconds per simulator tick, one book update per tick (with --sim; default 0.1)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other than loopback needs --api-key)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0 picks one)")
    p.add_argument("--api-key", default=None,
                   help="require this key (16+ characters) in the X-API-Key header of every route "
                        "(default: $LIQCORE_API_KEY)")
    p.add_argument("--db", metavar="PATH_OR_URL", default=None,
                   help="the store for history and alerts, where the service writes a liquidity report of every "
                        "live book each --history-interval and its alerts: a SQLite file, sqlite:///path or "
                        "postgresql://user@host/db (default: the default store, $LIQCORE_DATA_DIR/liqcore.db or "
                        "the user data directory; with --sim, a temporary file removed at exit, so simulated "
                        "history never mixes with real)")
    p.add_argument("--no-store", action="store_true",
                   help="no store: nothing written, the history and alerts routes answer 503")
    p.add_argument("--history-interval", type=positive, default=1.0,
                   help="seconds between the liquidity reports written to the store (default 1)")
    p.add_argument("--rate", type=positive, default=RATE,
                   help=f"requests per second per client address (default {RATE:g}; 429 beyond)")
    p.add_argument("--burst", type=count, default=BURST, help=f"burst above the rate (default {BURST})")
    p.add_argument("--max-body", type=count, default=MAX_BODY_BYTES,
                   help=f"largest request body in bytes (default {MAX_BODY_BYTES}; 413 beyond)")
    p.add_argument("--max-pairs", type=count, default=64, help="most books held at once (default 64)")
    p.add_argument("--no-dashboard", action="store_true",
                   help="serve the API only, without the live page at / (which needs the plotly package)")
    return p


def run(args: argparse.Namespace) -> int:
    from liqcore.service.api import check_bind, create_app, serve
    from liqcore.service.hub import BookHub
    from liqcore.service.net import listen
    from liqcore.watch import parse_pair

    prog = "liqcore serve"
    api_key = args.api_key or os.environ.get("LIQCORE_API_KEY") or None
    if not 0 <= args.port <= 65535:
        return fail(prog, f"--port must be 0..65535, got {args.port}")
    store = None
    scratch: list[str] = []
    try:
        pairs = [parse_pair(t) for t in args.pairs]
        check_bind(args.host, api_key)
        hub = BookHub(sim=args.sim, seed=args.seed, max_pairs=args.max_pairs, sim_interval=args.sim_interval)
        if not args.no_store:
            store = _open_store(args.db, args.sim, scratch)
        # the live page at / shows the first pair (binance BTC/USDT without one) and the
        # venues of the pairs given
        page: dict[str, Any] = {"exchange": pairs[0][0], "symbol": pairs[0][1]} if pairs else {}
        if len({v for v, _ in pairs}) > 1:
            page["venues"] = list(dict.fromkeys(v for v, _ in pairs))
        app = create_app(hub, store, api_key=api_key, max_body_bytes=args.max_body, rate=args.rate,
                         burst=args.burst, pairs=pairs, dashboard=None if args.no_dashboard else page,
                         history_interval_s=args.history_interval)
        sock = listen(args.host, args.port)
    except OSError as exc:
        return _closed(store, scratch, fail(prog, f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"))
    except Exception as exc:            # bad input, unsafe bind, a store that cannot be opened: one line
        return _closed(store, scratch, fail(prog, exc))
    host, port = sock.getsockname()[:2]
    where = f"[{host}]" if ":" in host else host
    print(f"liqcore serve: http://{where}:{port} ({'local simulator' if args.sim else 'live venues'}"
          f"{', API key required' if api_key else ''}); "
          f"{'' if args.no_dashboard else 'the live page at / (with a key: /#key=KEY), '}"
          f"docs at /docs, websocket at /ws; Ctrl-C stops",
          file=sys.stdout, flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the handlers
    # it found: make SIGTERM's a KeyboardInterrupt, so a stop is exit 0 like Ctrl-C
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(app, host=args.host, port=port, api_key=api_key, sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    return _closed(store, scratch, 0)


def _open_store(where: str | None, sim: bool, scratch: list[str]) -> Any:
    """The service's store: ``where``; else, for the simulator, a temporary SQLite file (its
    directory is put in ``scratch`` and removed at exit); else the default store."""
    from liqcore.store import open_store

    if where is None and sim:
        scratch.append(tempfile.mkdtemp(prefix="liqcore-serve-sim-"))
        where = os.path.join(scratch[0], "sim.db")
    return open_store(where)


def _interrupt(_sig: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _closed(store: object, scratch: list[str], code: int) -> int:
    if store is not None:
        store.close()                   # type: ignore[attr-defined]
    for d in scratch:
        shutil.rmtree(d, ignore_errors=True)
    return code
