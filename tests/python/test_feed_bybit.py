"""The Bybit, Coinbase and Kraken adapters of liqcore.feed run for real: ccxt.pro through the
adapters against the local exchange simulator (its Bybit v5, Coinbase Advanced Trade and
Kraken v2 protocols).

What is proved here:

* clean runs: the compiled book equals the simulator's true book level for level (wire
  strings) — Bybit's best-50 window at the same ``u``, Coinbase's whole book at the
  ``sequence_num`` of the product's last message, Kraken's best-10 window with every one of
  Kraken's checksums verified in C — and ccxt's Python book stays empty;
* after each fault the book again equals the truth and the counters say what happened: a
  dropped or reordered frame is a gap (Bybit ``u``, Coinbase ``sequence_num``) or a checksum
  failure (Kraken, which has no ids), resynced by unsubscribe + subscribe on the same socket; a
  duplicate is skipped without a resync (Bybit, Coinbase) or harmless (Kraken); a corrupted
  Kraken checksum is one checksum failure and one resync; malformed frames are skipped;
  disconnects are counted and healed;
* Bybit's "u == 1" restart snapshot resets the book without a resync;
* Coinbase numbers every message of a connection: two products on one socket interleave and
  neither sees a false gap, while a frame lost on one is a gap of that book only;
* Bybit USDT perpetuals (``BTC/USDT:USDT``, the simulator venue ``bybitlinear`` on
  ``/v5/public/linear``): the linear book equals its true best-50 window at the same ``u`` while the
  spot book with the same id ``BTCUSDT`` runs beside it on its own socket and equals its own truth;
  a dropped linear delta is one gap, resynced on the linear socket, and the book is equal again;
* negative control: a live book altered behind the feed's back is caught by Kraken's checksum.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from test_sim import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, SimBook, assert_equals_truth, check_fault_counters, drained, exchanges,  # noqa: E402
                     run, run_feed, tamper_until_caught)

from liqcore.feed import LiveFeed, create_exchange  # noqa: E402
from liqcore.feed.ccxt_bybit import BybitEngine  # noqa: E402
from liqcore.feed.ccxt_coinbase import CoinbaseEngine  # noqa: E402
from liqcore.feed.ccxt_kraken import KrakenEngine  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402

VENUES = ("bybit", "coinbase", "kraken")


# --------------------------------------------------------------------------- clean runs
@pytest.mark.parametrize("ex_id", list(VENUES))
def test_book_equals_true_book(ex_id):
    r = run(run_feed([BOOKS[ex_id]]))
    stats, received = r.stats[0], r.received
    assert stats["applied"] >= 50 and stats["resyncs"] == 0 and stats["gaps"] == 0, stats
    assert stats["state"] == "live" and stats["watch_calls"] == 1 and stats["snapshots"] == 1
    assert stats["stale_skipped"] == 0 and stats["handler_errors"] == 0
    assert 0 < stats["last_latency_ns"] < 50_000_000
    assert len(received) == 1 and "subscribe" in received[0]        # one subscription, nothing else
    if ex_id == "kraken":   # every Kraken message (snapshot too) carries a checksum, each verified in C
        assert stats["checksum_ok"] == stats["applied"] + stats["snapshots"] and stats["checksum_failed"] == 0
    else:
        assert stats["checksum_ok"] == 0


def test_adapters_are_registered():
    for ex_id, cls in (("bybit", BybitEngine), ("coinbase", CoinbaseEngine), ("kraken", KrakenEngine)):
        assert type(create_exchange(ex_id)) is cls


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (ccxt id, fault plan, expected counters: name -> minimum (or exact with "=="))
    ("bybit", FaultPlan(drop={15}), {"gaps": "==1", "resyncs": "==1", "snapshots": "==2"}),
    ("coinbase", FaultPlan(drop={15}), {"gaps": "==1", "resyncs": "==1", "snapshots": "==2"}),
    # Kraken has no ids: a lost update shows as a checksum mismatch on the next message, unless the
    # next one rewrites the same levels (then the book is right anyway): lose five in a row
    ("kraken", FaultPlan(drop=range(15, 20)), {"checksum_failed": 1, "resyncs": 1, "gaps": "==0"}),
    ("bybit", FaultPlan(duplicate={15, 25}), {"stale_skipped": "==2", "resyncs": "==0"}),
    ("coinbase", FaultPlan(duplicate={15, 25}), {"stale_skipped": "==2", "resyncs": "==0"}),
    ("kraken", FaultPlan(duplicate={15, 25}), {"resyncs": "==0", "checksum_failed": "==0"}),
    ("bybit", FaultPlan(reorder={15}), {"gaps": 1, "resyncs": 1}),
    ("coinbase", FaultPlan(reorder={15}), {"gaps": 1, "resyncs": 1}),
    ("kraken", FaultPlan(bad_checksum={15}), {"checksum_failed": "==1", "resyncs": "==1", "gaps": "==0"}),
    ("bybit", FaultPlan(malformed={15, 20}), {"resyncs": "==0"}),
    ("coinbase", FaultPlan(malformed={15}), {"resyncs": "==0"}),
    ("kraken", FaultPlan(malformed={15}), {"resyncs": "==0"}),
    ("bybit", [FaultPlan(disconnect_after=20)], {"disconnects": "==1", "snapshots": "==2"}),
    ("coinbase", [FaultPlan(disconnect_after=20, disconnect_mode="abort")], {"disconnects": "==1"}),
    ("kraken", [FaultPlan(disconnect_after=20, disconnect_mode="abort")], {"disconnects": "==1"}),
]


@pytest.mark.parametrize("ex_id,plan,expect", FAULTS, ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(FAULTS)])
def test_book_equals_true_book_after_fault(ex_id, plan, expect):
    r = run(run_feed([BOOKS[ex_id]], plan=plan, updates=40))
    stats, received = r.stats[0], r.received
    check_fault_counters(stats, plan, expect, r.faults)
    if stats["resyncs"] and not stats["disconnects"]:
        # resynced on the same socket: unsubscribe, then subscribe again
        kinds = ["unsubscribe" if "unsubscribe" in r else "subscribe" for r in received if "subscribe" in r]
        assert kinds == ["subscribe"] + ["unsubscribe", "subscribe"] * stats["resyncs"], received


# ----------------------------------------------------------------- Bybit restart (u == 1)
def test_bybit_restart_snapshot_resets_the_book():
    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=20) as sim:
            async with LiveFeed([("bybit", "BTC/USDT")], exchanges=exchanges(sim, "bybit")) as feed:
                await feed.wait_live(8)
                live = feed.live_book("bybit", "BTC/USDT")
                while live.stats.applied < 20:
                    await asyncio.sleep(0.02)
                assert live.book.last_update_id > 1_000_000
                await drained(sim, feed, "bybit", ["BTC/USDT"])     # frozen, nothing of the old numbering in flight
                assert sim.restart_channels("bybit", "BTCUSDT") == 1     # a snapshot with u == 1 goes out
                applied = live.stats.applied
                sim.resume()
                while live.stats.applied < applied + 20:
                    await asyncio.sleep(0.02)
                await drained(sim, feed, "bybit", ["BTC/USDT"])
                assert_equals_truth(feed, sim, BOOKS["bybit"])
                assert 20 <= live.book.last_update_id < 1000        # counted again from u = 1
                st = live.stats
                assert st.snapshots == 2 and st.resyncs == 0 and st.gaps == 0 and st.stale_skipped == 0
    run(body())


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
                while eth.stats.applied < 40:
                    await asyncio.sleep(0.01)
                # two products interleave on one counter: no false gap
                assert btc.stats.applied >= 30 and btc.stats.gaps == 0 and eth.stats.gaps == 0
                ids = (btc.book.last_update_id, eth.book.last_update_id)
                assert ids[0] != ids[1] and abs(ids[0] - ids[1]) < 10
                while (btc.stats.resyncs == 0 or eth.stats.resyncs == 0 or btc.stats.applied < 80
                       or eth.stats.applied < 80 or not (btc.is_live and eth.is_live)):
                    await asyncio.sleep(0.02)
                await drained(sim, feed, "coinbase", ["BTC/USD", "ETH/USD"])
                assert_equals_truth(feed, sim, BOOKS["coinbase"])
                assert_equals_truth(feed, sim, SimBook("coinbase", "ETH/USD", "coinbase", "ETH-USD"))
                for live in (btc, eth):
                    assert live.stats.gaps == 1 and live.stats.resyncs == 1, live.stats
            (conn,) = sim.connections_of("coinbase")         # both resynced on the same socket
            assert conn.faults_log == [("drop", "level2:ETH-USD", 60)]
            assert sum('"unsubscribe"' in r for r in conn.received) == 2
    run(body())


# --------------------------------------------------------------- negative control
def test_tampered_book_is_caught_by_the_kraken_checksum_and_resynced():
    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=20) as sim:
            async with LiveFeed([("kraken", "BTC/USD")], exchanges=exchanges(sim, "kraken"),
                                backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                live = feed.live_book("kraken", "BTC/USD")
                while live.stats.applied < 10:
                    await asyncio.sleep(0.02)
                # one size in the checksummed top 10 changes by one lot (or the level is pushed out of
                # the top 10 first: Kraken sends no ids, so only a checksum can tell)
                live = await tamper_until_caught(
                    sim, feed, "kraken", "BTC/USD", 5, "0.00000001",
                    lambda sim: [lv[:2] for lv in sim.true_book("kraken", "XXBTZUSD", 10)["asks"]])
                assert live.stats.checksum_failed == 1 and live.stats.gaps == 0
                assert_equals_truth(feed, sim, BOOKS["kraken"])
                assert "checksum mismatch" in repr(live.last_error)
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
                while spot.stats.applied < 50 or lin.stats.applied < 50:
                    await asyncio.sleep(0.02)
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
                while live.stats.applied < 40 or live.stats.resyncs == 0 or not live.is_live:
                    await asyncio.sleep(0.02)
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
