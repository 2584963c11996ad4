"""The Coinbase adapter of liqcore.feed run for real: ccxt.pro ``coinbase`` through liqcore's
engine adapter (CoinbaseEngine) against the local exchange simulator's Coinbase Advanced Trade
protocol.

What is proved here:

* a clean run: the compiled book equals the simulator's whole true book level for level (wire
  strings) at the ``sequence_num`` of the product's last message, after one subscription and one
  snapshot; ccxt's Python book stays empty;
* after each fault the book again equals the truth and the counters say what happened: a
  dropped or reordered frame is a ``sequence_num`` gap, resynced by unsubscribe + subscribe on the
  same socket; a duplicate is skipped without a resync; malformed frames are skipped; a
  disconnect is counted and healed;
* Coinbase numbers every message of a connection: two products on one socket interleave and
  neither sees a false gap, while a frame lost on one is a gap of every book whose next message
  comes after it.
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
from liqcore.feed.ccxt_coinbase import CoinbaseEngine  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402


# --------------------------------------------------------------------------- clean runs
def test_book_equals_true_book():
    r = run(run_feed([BOOKS["coinbase"]]))
    check_clean_counters(r.stats[0], 50)
    check_subscribed_once(r)
    assert r.stats[0]["checksum_ok"] == 0


def test_adapter_is_registered():
    assert type(create_exchange("coinbase")) is CoinbaseEngine


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (fault plan, expected counters: name -> minimum (or exact with "=="))
    (FaultPlan(drop={15}), {"gaps": "==1", "resyncs": "==1", "snapshots": "==2"}),
    (FaultPlan(duplicate={15, 25}), {"stale_skipped": "==2", "resyncs": "==0"}),
    (FaultPlan(reorder={15}), {"gaps": 1, "resyncs": 1}),
    (FaultPlan(malformed={15}), {"resyncs": "==0"}),
    ([FaultPlan(disconnect_after=20, disconnect_mode="abort")], {"disconnects": "==1"}),
]


@pytest.mark.parametrize("plan,expect", FAULTS, ids=[str(i) for i in range(len(FAULTS))])
def test_book_equals_true_book_after_fault(plan, expect):
    r = run(run_feed([BOOKS["coinbase"]], plan=plan, updates=40))
    check_fault_counters(r.stats[0], plan, expect, r.faults)
    check_resynced_in_place(r.stats[0], r.received)


# -------------------------------------------------- Coinbase: one socket, several products
def test_coinbase_sequence_num_spans_products_on_one_connection():
    # the 60th ETH-USD frame is lost: nobody can tell whose it was, so every book on the
    # connection whose next message comes after it sees the gap (and resyncs), none before
    plan = FaultPlan(drop={60}, stream="ETH-USD")

    async def body():
        pairs = [("coinbase", "BTC/USD"), ("coinbase", "ETH/USD")]
        async with ExchangeSimulator(seed=6, interval=FAST, max_seconds=20, faults={"coinbase": plan}) as sim:
            async with LiveFeed(pairs, exchanges=exchanges(sim, "coinbase"), backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                btc, eth = feed.live_book(*pairs[0]), feed.live_book(*pairs[1])
                await until(lambda: eth.stats.applied >= 40)
                # two products interleave on one counter: no false gap
                assert btc.stats.applied >= 30 and btc.stats.gaps == 0 and eth.stats.gaps == 0
                ids = (btc.book.last_update_id, eth.book.last_update_id)
                assert ids[0] != ids[1] and abs(ids[0] - ids[1]) < 10
                await until(lambda: btc.stats.resyncs and eth.stats.resyncs and btc.stats.applied >= 80
                            and eth.stats.applied >= 80 and btc.is_live and eth.is_live)
                await drained(sim, feed, "coinbase", ["BTC/USD", "ETH/USD"])
                assert_equals_truth(feed, sim, BOOKS["coinbase"])
                assert_equals_truth(feed, sim, SimBook("coinbase", "ETH/USD", "coinbase", "ETH-USD"))
                for live in (btc, eth):
                    assert live.stats.gaps == 1 and live.stats.resyncs == 1, live.stats
            (conn,) = sim.connections_of("coinbase")         # both resynced on the same socket
            assert conn.faults_log == [("drop", "level2:ETH-USD", 60)]
            assert sum('"unsubscribe"' in r for r in conn.received) == 2
    run(body())
