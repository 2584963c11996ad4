"""The Binance adapters of liqcore.feed run for real: ccxt.pro through liqcore's engine adapters
(BinanceEngine, BinanceUsdmEngine) against the local exchange simulator (Binance spot, Binance
USDⓈ-M), on the C frame path and on the Python one.

What is proved here:

* after a clean run and after every fault (gap, duplicate, reordering, disconnect mid-stream,
  malformed JSON, slow consumer) the compiled book equals the simulator's true book level for
  level (wire strings) at the same update id, and the counters say what happened (resyncs, gaps,
  disconnects, skipped frames); a clean run fetches one REST snapshot;
* ccxt's Python book stays empty (the levels live only in the compiled book);
* malformed frames are counted and skipped, and the connection survives them;
* an exception in the handler resyncs the book and the connection keeps delivering frames.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, assert_equals_truth, check_clean_counters, check_fault_counters,  # noqa: E402
                     check_frame_path, drained, exchanges, live_feed, local_tls, run, run_feed, settle, until)

from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402


# --------------------------------------------------------------------------- clean runs
@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
@pytest.mark.parametrize("ex_id", ["binance", "binanceusdm"])
def test_book_equals_true_book(ex_id, fast_path):
    r = run(run_feed([BOOKS[ex_id]], updates=80, fast_path=fast_path))
    check_frame_path(r.stats[0], r.exchange, fast_path)      # every depth frame through the C parser
    check_clean_counters(r.stats[0], 80)
    assert r.sim.snapshots_served[(BOOKS[ex_id].venue, BOOKS[ex_id].vid)] == 1


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (ccxt id, fault plan, expected counters: name -> minimum (or exact with "=="))
    ("binance", FaultPlan(drop={20}), {"gaps": 1, "resyncs": 1}),
    ("binanceusdm", FaultPlan(drop={20}), {"gaps": 1, "resyncs": 1}),
    ("binance", FaultPlan(duplicate={20, 30}), {"stale_skipped": 2, "resyncs": "==0"}),
    ("binance", FaultPlan(reorder={20}), {"gaps": 1}),
    ("binance", FaultPlan(malformed={20, 25}), {"resyncs": "==0"}),
    ("binance", [FaultPlan(disconnect_after=30)], {"disconnects": 1}),
    ("binanceusdm", [FaultPlan(disconnect_after=30, disconnect_mode="abort")], {"disconnects": 1}),
    ("binance", [FaultPlan(send_delay=0.02, queue_limit=3, on_overflow="disconnect")], {"disconnects": 1}),
    ("binance", FaultPlan(drop_rate=0.05, duplicate_rate=0.05, seed=5), {"gaps": 1, "stale_skipped": 1}),
]


@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
@pytest.mark.parametrize("ex_id,plan,expect", FAULTS,
                         ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(FAULTS)])
def test_book_equals_true_book_after_fault(ex_id, plan, expect, fast_path):
    r = run(run_feed([BOOKS[ex_id]], plan=plan, updates=60, fast_path=fast_path))
    check_fault_counters(r.stats[0], plan, expect, r.faults)


# ------------------------------------------------------------------------- read loops
@pytest.mark.parametrize("reader", ["native", "aiohttp", "ccxt"])
@pytest.mark.parametrize("plan,expect", [(None, None), ([FaultPlan(disconnect_after=30)], {"disconnects": 1}),
                                         (FaultPlan(malformed={20}, drop={40}), {"gaps": 1, "resyncs": 1})],
                         ids=["clean", "disconnect", "malformed-and-gap"])
def test_every_read_path_gives_the_true_book(plan, expect, reader):
    """liqcore's websocket (the default), the adapter's loop over aiohttp's connection and ccxt's
    receive loop end on the same true book, through a clean run, a server disconnect (the
    connection ends, ccxt reconnects and the new connection is read the same way) and bad frames."""
    r = run(run_feed([BOOKS["binance"]], plan=plan, updates=60, reader=reader))
    if plan is None:
        check_clean_counters(r.stats[0], 60)
    else:
        check_fault_counters(r.stats[0], plan, expect, r.faults)


def test_the_adapter_reads_its_sockets():
    """Each connection of the adapter is liqcore's websocket, started (its frames go to the
    protocol); closing it ends the connection for ccxt (its books are marked stale). With
    ``liq_reader = "aiohttp"`` each aiohttp connection is read by one task of the adapter's own,
    which ends with the connection."""
    from liqcore.feed.websocket import WebSocket

    async def body():
        async with ExchangeSimulator(seed=6, interval=FAST, max_seconds=20) as sim:
            async with live_feed(sim, "binance", ["BTC/USDT"], applied=30) as feed:
                ex = feed.exchange("binance")
                clients = list(ex.clients.values())
                conns = [c.connection for c in clients]
                assert clients and all(isinstance(w, WebSocket) and w.reader.messages > 30 for w in conns)
                assert not any(hasattr(c, "_liq_reader") for c in clients)
                live = feed.live_book("binance", "BTC/USDT")
                await clients[0].close()
                assert conns[0].closed and conns[0].close_code == 1000
                assert live.state != "live" or live.stats.disconnects >= 1
        async with ExchangeSimulator(seed=6, interval=FAST, max_seconds=20) as sim:
            async with live_feed(sim, "binance", ["BTC/USDT"], applied=30, reader="aiohttp") as feed:
                ex = feed.exchange("binance")
                clients = list(ex.clients.values())
                readers = [getattr(c, "_liq_reader", None) for c in clients]
                assert clients and all(isinstance(t, asyncio.Task) and not t.done() for t in readers)
                await clients[0].close()
                await asyncio.wait_for(asyncio.shield(readers[0]), 5)     # ended with its connection
                assert readers[0].exception() is None
    run(body())


def test_the_native_websocket_over_tls_with_a_local_ca():
    """The simulator serves HTTPS and WSS with a certificate of a local CA (trustme), and offers
    permessage-deflate: ccxt's REST and liqcore's websocket both verify it through the exchange's
    ``ssl_context``, the connections are liqcore's over TLS (no extension offered, so frames come
    uncompressed), and the book equals the simulator's true book (``test_ws.py``: an untrusted
    certificate is refused)."""
    from liqcore.feed.websocket import WebSocket

    server_ctx, client_ctx = local_tls("127.0.0.1")

    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=20, ssl=server_ctx, compress=True) as sim:
            assert sim.url.startswith("https://")
            ex = exchanges(sim, "binance")["binance"]
            ex.ssl_context = client_ctx
            assert ex.urls["api"]["ws"]["spot"].startswith("wss://127.0.0.1:")
            async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": ex}, backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                conns = [c.connection for c in ex.clients.values()]
                assert conns and all(isinstance(w, WebSocket) for w in conns)
                assert all(w._transport.get_extra_info("ssl_object") is not None for w in conns)
                live = feed.live_book("binance", "BTC/USDT")
                await until(lambda: live.stats.applied >= 20)
                await drained(sim, feed, "binance", ["BTC/USDT"])
                assert_equals_truth(feed, sim, BOOKS["binance"])
    run(body())


def test_a_connection_with_cookies_stays_on_aiohttp():
    """A connection that needs what only aiohttp does here (cookies; a proxy alike) is ccxt's aiohttp
    connection, read by the adapter's task, and the book is the same; an unknown reader is refused."""
    import aiohttp

    from liqcore.errors import FeedConfigError

    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=20) as sim:
            ex = exchanges(sim, "binance")["binance"]
            ex.options["ws"] = {"cookies": {"session": "liq"}}
            async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": ex}, backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                clients = list(ex.clients.values())
                assert clients and all(isinstance(c.connection, aiohttp.ClientWebSocketResponse) for c in clients)
                assert all(isinstance(c._liq_reader, asyncio.Task) for c in clients)
                live = feed.live_book("binance", "BTC/USDT")
                await until(lambda: live.stats.applied >= 20)
                await drained(sim, feed, "binance", ["BTC/USDT"])
                assert_equals_truth(feed, sim, BOOKS["binance"])
            bad = exchanges(sim, "binance")["binance"]
            bad.liq_reader = "fast"
            with pytest.raises(FeedConfigError, match="liq_reader"):
                bad.client("ws://127.0.0.1:1/ws")
            await bad.close()
    run(body())


def test_the_rest_snapshot_stays_text_and_a_users_request_is_decoded():
    """The snapshot task's REST depth reaches the protocol as the text the venue sent (ccxt does
    not decode it); a caller's own fetch_order_book on the same exchange, even concurrent with it,
    still gets ccxt's decoded book."""
    async def body():
        async with ExchangeSimulator(seed=9, interval=FAST, max_seconds=20) as sim:
            ex = exchanges(sim, "binance")["binance"]
            try:
                await ex.load_markets()
                text, book = await asyncio.gather(ex.liq_fetch_depth("BTC/USDT", 50, None),
                                                  ex.fetch_order_book("BTC/USDT", 50))
                assert type(text) is str and text.startswith('{"lastUpdateId"')
                assert book["bids"] and type(book["bids"][0][0]) is float and book["nonce"] > 0
                assert type(await ex.liq_fetch_depth("BTC/USDT", 50, None)) is str
            finally:
                await ex.close()
    run(body())


def test_malformed_frames_are_counted_and_skipped():
    async def body():
        plan = FaultPlan(malformed={10, 20})
        async with ExchangeSimulator(seed=4, interval=FAST, max_seconds=20, faults={"binance": plan}) as sim:
            exs = exchanges(sim, "binance")
            async with LiveFeed([("binance", "BTC/USDT")], exchanges=exs) as feed:
                live = feed.live_book("binance", "BTC/USDT")
                await until(lambda: live.stats.applied >= 40)
                assert exs["binance"].liq_malformed == 2
                await settle(sim, feed, [BOOKS["binance"]])
                assert_equals_truth(feed, sim, BOOKS["binance"])
                # the connection survived: ccxt's decoder would have raised out of its receive loop
                assert len(sim.connections_of("binance")) == 1
    run(body())


# ------------------------------------------------------------------ handler errors
def test_handler_exception_resyncs_and_the_connection_keeps_going():
    async def body():
        async with ExchangeSimulator(seed=8, interval=FAST, max_seconds=20) as sim:
            exs = exchanges(sim, "binance")
            ex = exs["binance"]
            stock = ex.liq_frame_handler
            seen = {"n": 0, "armed": False, "bad": False}

            def corrupting(client, data):
                # the pluggable handler slot: once the book is live, the first depth frame from
                # the 30th on that carries bids gets an unparsable price; the 60th makes the
                # handler itself raise (outside any book). Counting from "live" keeps the bad
                # frame out of the pre-snapshot buffer on a slow run (under the sanitizers).
                if seen["armed"] and '"depthUpdate"' in data:
                    seen["n"] += 1
                    if seen["n"] >= 30 and not seen["bad"] and '"b":[["' in data:
                        data = data.replace('"b":[["', '"b":[["x', 1)
                        seen["bad"] = True
                    elif seen["n"] == 60:
                        raise RuntimeError("handler bug")
                stock(client, data)
            ex.liq_frame_handler = corrupting
            async with LiveFeed([("binance", "BTC/USDT")], exchanges=exs, backoff=(0.02, 0.5)) as feed:
                live = feed.live_book("binance", "BTC/USDT")
                await feed.wait_live(10)
                seen["armed"] = True
                await until(lambda: seen["n"] >= 90 and seen["bad"] and live.is_live)
                assert live.stats.handler_errors == 1 and live.stats.resyncs >= 1
                assert ex.liq_handler_errors == 1          # contained, not into ccxt's receive loop
                await settle(sim, feed, [BOOKS["binance"]])
                assert_equals_truth(feed, sim, BOOKS["binance"])
            (conn,) = sim.connections_of("binance")       # same socket throughout: re-SUBSCRIBEd on it
            assert sum('"SUBSCRIBE"' in r for r in conn.received) >= 2
    run(body())
