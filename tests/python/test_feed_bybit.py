"""The Bybit adapter of liqcore.feed run for real: ccxt.pro ``bybit`` through liqcore's engine
adapter (BybitEngine) against the local exchange simulator's Bybit v5 protocol.

What is proved here:

* a clean run: the compiled book equals the simulator's true best-50 window level for level
  (wire strings) at the same ``u``, after one subscription and one snapshot; ccxt's Python book
  stays empty;
* after each fault the book again equals the truth and the counters say what happened: a
  dropped or reordered frame is a gap, resynced by unsubscribe + subscribe on the same socket; a
  duplicate is skipped without a resync; malformed frames are skipped; a disconnect is counted
  and healed;
* Bybit's "u == 1" restart snapshot resets the book without a resync;
* Bybit USDT perpetuals (``BTC/USDT:USDT``, the simulator venue ``bybitlinear`` on
  ``/v5/public/linear``): the linear book equals its true best-50 window at the same ``u`` while the
  spot book with the same id ``BTCUSDT`` runs beside it on its own socket and equals its own truth;
  a dropped linear delta is one gap, resynced on the linear socket, and the book is equal again.
"""

from __future__ import annotations

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, SimBook, assert_equals_truth, check_clean_counters,  # noqa: E402
                     check_fault_counters, check_resynced_in_place, check_subscribed_once, drained, exchanges, run,
                     run_feed, until)

from liqcore.feed import LiveFeed, create_exchange  # noqa: E402
from liqcore.feed.ccxt_bybit import BybitEngine  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402


# --------------------------------------------------------------------------- clean runs
def test_book_equals_true_book():
    r = run(run_feed([BOOKS["bybit"]]))
    check_clean_counters(r.stats[0], 50)
    check_subscribed_once(r)
    assert r.stats[0]["checksum_ok"] == 0


def test_adapter_is_registered():
    assert type(create_exchange("bybit")) is BybitEngine


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (fault plan, expected counters: name -> minimum (or exact with "=="))
    (FaultPlan(drop={15}), {"gaps": "==1", "resyncs": "==1", "snapshots": "==2"}),
    (FaultPlan(duplicate={15, 25}), {"stale_skipped": "==2", "resyncs": "==0"}),
    (FaultPlan(reorder={15}), {"gaps": 1, "resyncs": 1}),
    (FaultPlan(malformed={15, 20}), {"resyncs": "==0"}),
    ([FaultPlan(disconnect_after=20)], {"disconnects": "==1", "snapshots": "==2"}),
]


@pytest.mark.parametrize("plan,expect", FAULTS, ids=[str(i) for i in range(len(FAULTS))])
def test_book_equals_true_book_after_fault(plan, expect):
    r = run(run_feed([BOOKS["bybit"]], plan=plan, updates=40))
    check_fault_counters(r.stats[0], plan, expect, r.faults)
    check_resynced_in_place(r.stats[0], r.received)


# ----------------------------------------------------------------- Bybit restart (u == 1)
def test_bybit_restart_snapshot_resets_the_book():
    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=20) as sim:
            async with LiveFeed([("bybit", "BTC/USDT")], exchanges=exchanges(sim, "bybit")) as feed:
                await feed.wait_live(8)
                live = feed.live_book("bybit", "BTC/USDT")
                await until(lambda: live.stats.applied >= 20)
                assert live.book.last_update_id > 1_000_000
                await drained(sim, feed, "bybit", ["BTC/USDT"])     # frozen, nothing of the old numbering in flight
                assert sim.restart_channels("bybit", "BTCUSDT") == 1     # a snapshot with u == 1 goes out
                applied = live.stats.applied
                sim.resume()
                await until(lambda: live.stats.applied >= applied + 20)
                await drained(sim, feed, "bybit", ["BTC/USDT"])
                assert_equals_truth(feed, sim, BOOKS["bybit"])
                assert 20 <= live.book.last_update_id < 1000        # counted again from u = 1
                st = live.stats
                assert st.snapshots == 2 and st.resyncs == 0 and st.gaps == 0 and st.stale_skipped == 0
    run(body())


# ------------------------------------------------- Bybit USDT perpetuals (category linear)
LINEAR = SimBook("bybit", "BTC/USDT:USDT", "bybitlinear", "BTCUSDT", 50)   # Bybit id: the spot pair's too


def test_bybit_linear_and_spot_books_equal_their_true_books():
    # the perpetual and the spot pair are both BTCUSDT at Bybit: one feed, two sockets, two books
    async def body():
        pairs = [("bybit", "BTC/USDT"), ("bybit", LINEAR.symbol)]
        async with ExchangeSimulator(seed=8, interval=FAST, max_seconds=25) as sim:
            async with LiveFeed(pairs, exchanges=exchanges(sim, "bybit"), backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                spot, lin = feed.live_book(*pairs[0]), feed.live_book(*pairs[1])
                await until(lambda: spot.stats.applied >= 50 and lin.stats.applied >= 50)
                await drained(sim, feed, "bybit", [p[1] for p in pairs], venues=("bybit", "bybitlinear"))
                assert_equals_truth(feed, sim, BOOKS["bybit"])
                assert_equals_truth(feed, sim, LINEAR)
                # two different books: the perpetual's grid is 0.10 / 0.001, the spot pair's 0.01 / 0.000001
                assert lin.book.level_strings("bid", 5) != spot.book.level_strings("bid", 5)
                assert all(px.endswith("0") and len(sz.split(".")[1]) == 3 for px, sz in lin.book.level_strings("bid"))
                assert "/v5/public/linear" in lin.client_url and "/v5/public/spot" in spot.client_url
                st = feed.stats("bybit", LINEAR.symbol)
                assert st["gaps"] == 0 and st["resyncs"] == 0 and st["snapshots"] == 1 and st["handler_errors"] == 0
                assert st["state"] == "live" and st["checksum_ok"] == 0
            (conn,) = sim.connections_of("bybitlinear")
            assert len(conn.received) == 1 and '"orderbook.50.BTCUSDT"' in conn.received[0]
            assert len(sim.connections_of("bybit")) == 1
    run(body())


def test_bybit_linear_dropped_delta_is_a_gap_then_resynced():
    async def body():
        plan = FaultPlan(drop={15})
        sym = LINEAR.symbol
        async with ExchangeSimulator(seed=9, interval=FAST, max_seconds=25, faults={"bybitlinear": plan}) as sim:
            async with LiveFeed([("bybit", sym)], exchanges=exchanges(sim, "bybit"), backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                live = feed.live_book("bybit", sym)
                await until(lambda: live.stats.applied >= 40 and live.stats.resyncs != 0 and live.is_live)
                await drained(sim, feed, "bybit", [sym], venues=("bybitlinear",))
                assert_equals_truth(feed, sim, LINEAR)
                st = feed.stats("bybit", sym)
                assert st["gaps"] == 1 and st["resyncs"] == 1 and st["snapshots"] == 2, st
                assert st["state"] == "live" and st["handler_errors"] == 0
                assert "gap" in repr(live.last_error).lower()
            (conn,) = sim.connections_of("bybitlinear")       # resynced on the same socket
            assert conn.faults_log == [("drop", "orderbook.50.BTCUSDT", 15)]
            kinds = ["unsubscribe" if "unsubscribe" in r else "subscribe" for r in conn.received]
            assert kinds == ["subscribe", "unsubscribe", "subscribe"], conn.received
    run(body())
