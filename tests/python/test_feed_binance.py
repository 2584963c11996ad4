"""The live feed (liqcore.feed) run for real: ccxt.pro through liqcore's engine adapters against
the local exchange simulator (Binance spot, Binance USDⓈ-M, OKX).

What is proved here:

* after a clean run and after every fault (gap, duplicate, reordering, corrupted checksum,
  disconnect mid-stream, malformed JSON, slow consumer) the compiled book equals the
  simulator's true book level for level (wire strings) at the same update id, and the
  counters say what happened (resyncs, gaps, checksum failures, disconnects, skipped frames);
* ccxt's Python book stays empty (the levels live only in the compiled book);
* negative control: a book altered behind the feed's back is caught by OKX's checksum on the
  next message and resynced (so the equality checks and checksum checks can fail);
* an exception in the handler resyncs the book and the connection keeps delivering frames;
* callbacks, several books, the coalescing update iterator, recording of the raw frames.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from test_sim import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, assert_equals_truth, check_fault_counters, exchanges, run, run_feed,  # noqa: E402
                     settle)

from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.recorder import RecordingReader, Recorder  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402

VENUES = ("binance", "binanceusdm", "okx")


# --------------------------------------------------------------------------- clean runs
@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
@pytest.mark.parametrize("ex_id", list(VENUES))
def test_book_equals_true_book(ex_id, fast_path):
    r = run(run_feed([BOOKS[ex_id]], updates=80, fast_path=fast_path))
    stats, ex, sim = r.stats[0], r.exchange, r.sim
    if fast_path:       # every depth/update frame went through the C frame parser...
        # ...except, on Binance, a frame that arrives before its book's sync exists (right after
        # the SUBSCRIBE ack): ccxt decodes that one and the Python path creates the sync
        slack = stats["snapshots"] if ex_id == "okx" else 1
        assert ex.liq_fast_frames >= stats["applied"] + stats["buffered"] - slack
        assert ex.liq_fast_frames >= stats["applied"] - stats["snapshots"] - 1
    else:
        assert ex.liq_fast_frames == 0
    assert stats["applied"] >= 80 and stats["resyncs"] == 0 and stats["gaps"] == 0, stats
    assert stats["state"] == "live" and stats["watch_calls"] == 1
    assert 0 < stats["last_latency_ns"] < 50_000_000
    if ex_id == "okx":     # every OKX message carries a checksum, each verified in C
        assert stats["checksum_ok"] == stats["applied"] + stats["snapshots"] and stats["checksum_failed"] == 0
    else:
        assert sim.snapshots_served[(BOOKS[ex_id].venue, BOOKS[ex_id].vid)] == 1


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (ccxt id, fault plan, expected counters: name -> minimum (or exact with "=="))
    ("binance", FaultPlan(drop={20}), {"gaps": 1, "resyncs": 1}),
    ("binanceusdm", FaultPlan(drop={20}), {"gaps": 1, "resyncs": 1}),
    ("okx", FaultPlan(drop={20}), {"gaps": 1, "resyncs": 1}),
    ("binance", FaultPlan(duplicate={20, 30}), {"stale_skipped": 2, "resyncs": "==0"}),
    ("okx", FaultPlan(duplicate={20, 30}), {"stale_skipped": 2, "resyncs": "==0"}),
    ("binance", FaultPlan(reorder={20}), {"gaps": 1}),
    ("okx", FaultPlan(reorder={20}), {"gaps": 1}),
    ("okx", FaultPlan(bad_checksum={20}), {"checksum_failed": "==1", "resyncs": "==1", "gaps": "==0"}),
    ("binance", FaultPlan(malformed={20, 25}), {"resyncs": "==0"}),
    ("okx", FaultPlan(malformed={20}), {"resyncs": "==0"}),
    ("binance", [FaultPlan(disconnect_after=30)], {"disconnects": 1}),
    ("binanceusdm", [FaultPlan(disconnect_after=30, disconnect_mode="abort")], {"disconnects": 1}),
    ("okx", [FaultPlan(disconnect_after=30, disconnect_mode="abort")], {"disconnects": 1}),
    ("binance", [FaultPlan(send_delay=0.02, queue_limit=3, on_overflow="disconnect")], {"disconnects": 1}),
    ("binance", FaultPlan(drop_rate=0.05, duplicate_rate=0.05, seed=5), {"gaps": 1, "stale_skipped": 1}),
]


@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
@pytest.mark.parametrize("ex_id,plan,expect", FAULTS,
                         ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(FAULTS)])
def test_book_equals_true_book_after_fault(ex_id, plan, expect, fast_path):
    r = run(run_feed([BOOKS[ex_id]], plan=plan, updates=60, fast_path=fast_path))
    check_fault_counters(r.stats[0], plan, expect, r.faults)


def test_malformed_frames_are_counted_and_skipped():
    async def body():
        plan = FaultPlan(malformed={10, 20})
        async with ExchangeSimulator(seed=4, interval=FAST, max_seconds=20, faults={"binance": plan}) as sim:
            exs = exchanges(sim, "binance")
            async with LiveFeed([("binance", "BTC/USDT")], exchanges=exs) as feed:
                live = feed.live_book("binance", "BTC/USDT")
                while live.stats.applied < 40:
                    await asyncio.sleep(0.02)
                assert exs["binance"].liq_malformed == 2
                await settle(sim, feed, [BOOKS["binance"]])
                assert_equals_truth(feed, sim, BOOKS["binance"])
                # the connection survived: ccxt's decoder would have raised out of its receive loop
                assert len(sim.connections_of("binance")) == 1
    run(body())


# --------------------------------------------------------------- negative control
def test_tampered_book_is_caught_by_the_okx_checksum_and_resynced():
    async def body():
        async with ExchangeSimulator(seed=6, interval=FAST, max_seconds=20) as sim:
            async with LiveFeed([("okx", "BTC/USDT")], exchanges=exchanges(sim, "okx")) as feed:
                await feed.wait_live(8)
                live = feed.live_book("okx", "BTC/USDT")
                sim.pause()
                await asyncio.sleep(0.1)
                # behind the feed's back: a bid level that does not exist, inside the checksummed top 25
                from decimal import Decimal
                bids = live.book.level_strings("bid", 25)
                gap = next(i for i in range(10, 24) if Decimal(bids[i][0]) - Decimal(bids[i + 1][0]) > Decimal("0.1"))
                live.book.update("bid", str(Decimal(bids[gap][0]) - Decimal("0.1")), "1.5")
                truth = sim.true_book("okx", "BTC-USDT")
                assert live.book.level_strings("bid") != [lv[:2] for lv in truth["bids"]]   # the comparison can fail
                assert live.stats.checksum_failed == 0
                sim.resume()
                while live.stats.resyncs == 0:
                    await asyncio.sleep(0.01)
                assert live.stats.checksum_failed == 1 and live.stats.gaps == 0
                applied = live.stats.applied
                while live.stats.applied < applied + 30 or not live.is_live:
                    await asyncio.sleep(0.02)
                await settle(sim, feed, [BOOKS["okx"]])
                assert_equals_truth(feed, sim, BOOKS["okx"])
                assert isinstance(live.last_error, Exception)
    run(body())


# ------------------------------------------------------------------ handler errors
def test_handler_exception_resyncs_and_the_connection_keeps_going():
    async def body():
        async with ExchangeSimulator(seed=8, interval=FAST, max_seconds=20) as sim:
            exs = exchanges(sim, "binance")
            ex = exs["binance"]
            stock = ex.liq_frame_handler
            seen = {"n": 0, "armed": False, "bad": False}

            def corrupting(exchange, client, data):
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
                stock(exchange, client, data)
            ex.liq_frame_handler = corrupting
            async with LiveFeed([("binance", "BTC/USDT")], exchanges=exs, backoff=(0.02, 0.5)) as feed:
                live = feed.live_book("binance", "BTC/USDT")
                await feed.wait_live(10)
                seen["armed"] = True
                while seen["n"] < 90 or not seen["bad"] or not live.is_live:
                    await asyncio.sleep(0.02)
                assert live.stats.handler_errors == 1 and live.stats.resyncs >= 1
                assert ex.liq_handler_errors == 1          # contained, not into ccxt's receive loop
                await settle(sim, feed, [BOOKS["binance"]])
                assert_equals_truth(feed, sim, BOOKS["binance"])
            (conn,) = sim.connections_of("binance")       # same socket throughout: re-SUBSCRIBEd on it
            assert sum('"SUBSCRIBE"' in r for r in conn.received) >= 2
    run(body())


# ------------------------------------------------------- callbacks, several books
def test_callbacks_iterator_and_several_books_on_three_venues():
    pairs = [("binance", "BTC/USDT"), ("binance", "ETH/USDT"), ("binanceusdm", "BTC/USDT:USDT"), ("okx", "BTC/USDT")]

    async def body():
        async with ExchangeSimulator(seed=9, interval=FAST, max_seconds=20) as sim:
            exs = exchanges(sim, "binance", "binanceusdm", "okx")
            async with LiveFeed(pairs, exchanges=exs) as feed:
                a, b, allbooks = [], [], []
                feed.subscribe(lambda lb: a.append(lb.book.last_update_id), "okx", "BTC/USDT")
                unsub = feed.subscribe(lambda lb: b.append(lb.book.last_update_id), "okx", "BTC/USDT")
                feed.subscribe(lambda lb: 1 / 0, "binance", "ETH/USDT")      # a raising subscriber
                feed.subscribe(lambda lb: allbooks.append(lb.symbol))
                seen = set()
                async for up in feed:
                    assert up.book is feed.book(up.exchange, up.symbol)
                    seen.add((up.exchange, up.symbol))
                    if len(seen) == 4 and len(a) > 20:
                        break
                unsub()
                n = len(b)
                await asyncio.sleep(0.1)
                assert len(b) == n and len(a) > n            # the other subscriber keeps getting calls
                assert a[:n] == b and a == sorted(a)
                eth = feed.stats("binance", "ETH/USDT")
                assert eth["callback_errors"] >= 1 and eth["state"] == "live"
                assert set(allbooks) == {"BTC/USDT", "ETH/USDT", "BTC/USDT:USDT"}
                await settle(sim, feed, [BOOKS["binance"], BOOKS["binanceusdm"], BOOKS["okx"]])
                for ex_id in ("binance", "binanceusdm", "okx"):
                    assert_equals_truth(feed, sim, BOOKS[ex_id])
                sym, venue, vid = "ETH/USDT", "binance", "ETHUSDT"
                truth = sim.true_book(venue, vid)
                assert feed.book("binance", sym).level_strings("ask") == [lv[:2] for lv in truth["asks"]]
    run(body())


# ------------------------------------------------------------------------ recording
def test_frames_are_recorded_with_receive_times(tmp_path):
    path = tmp_path / "feed.lqrec"

    async def body():
        async with ExchangeSimulator(seed=10, interval=FAST, max_seconds=20) as sim:
            with Recorder(path) as rec:
                async with LiveFeed([("binance", "BTC/USDT"), ("okx", "BTC/USDT")],
                                    exchanges=exchanges(sim, "binance", "okx"), recorder=rec) as feed:
                    live = feed.live_book("binance", "BTC/USDT")
                    while live.stats.applied < 20:
                        await asyncio.sleep(0.02)
                    return feed.exchange("binance").liq_frames + feed.exchange("okx").liq_frames
    frames = run(body())
    records = list(RecordingReader(path))
    recv = [r for r in records if r.kind == "recv"]
    assert len(recv) >= frames > 40
    assert any(b'"depthUpdate"' in r.raw for r in recv) and any(b'"books"' in r.raw for r in recv)
    assert {r.exchange for r in recv} == {"binance", "okx"}
    rest = [r for r in records if r.kind == "rest"]
    assert len(rest) == 1 and b"lastUpdateId" in rest[0].raw
    assert all(r.mono_ns and r.mono_ns > 0 for r in recv)
    # the two exchanges' sockets interleave in the file; each socket's frames are in the order they
    # arrived (monotonic receive clock: the wall clock may step)
    arrivals: dict[tuple[str, str], list[int]] = {}
    for r in recv:
        arrivals.setdefault((r.exchange, r.url), []).append(r.mono_ns)
    assert {ex for ex, _ in arrivals} == {"binance", "okx"}
    for times in arrivals.values():
        assert times == sorted(times)


# ------------------------------------------------------- a real recording through the adapter
def test_okx_recording_served_to_the_live_adapter_verifies_every_checksum():
    """The real OKX capture (tests/data/cryptofeed, 3 instruments) served by the simulator to
    ccxt.pro and liqcore's OKX adapter: every recorded update arrives, every recorded checksum
    verifies in C (92 + 97 + 98 updates, plus the snapshots), and the final books are the ones
    EXPECTED.json lists."""
    import json
    from pathlib import Path

    from liqcore.sim import OkxRecording, okx_recording_instruments

    data = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"
    expected = json.loads((data / "EXPECTED.json").read_text())["OKX.ws.1.0"]
    markets = [(i, OkxRecording(data / "OKX.ws.1.0", i.id)) for i in okx_recording_instruments()]
    symbols = {"BTC-USDT": "BTC/USDT", "UNI-USD-SWAP": "UNI/USD:UNI", "BTC-USD-220527": "BTC/USD:BTC-220527"}

    async def body():
        async with ExchangeSimulator(markets, interval=FAST, max_seconds=30) as sim:
            sim.pause()                                   # nothing published before the books sync
            async with LiveFeed([("okx", s) for s in symbols.values()], exchanges=exchanges(sim, "okx")) as feed:
                await feed.wait_live(10)
                sim.resume()
                lives = {vid: feed.live_book("okx", s) for vid, s in symbols.items()}
                want = {vid: expected["per_instrument"][vid]["update"] for vid in symbols}
                while any(lives[v].stats.applied < want[v] for v in symbols):
                    await asyncio.sleep(0.02)
                for vid, live in lives.items():
                    st = live.stats
                    assert (st.applied, st.checksum_failed, st.gaps, st.resyncs) == (want[vid], 0, 0, 0), vid
                    assert st.checksum_ok == expected["per_instrument"][vid]["checksum_ok"], vid
                    fin = expected["final_state"][vid]
                    assert live.book.level_strings("bid", 1)[0] == fin["best_bid"], vid
                    assert live.book.level_strings("ask", 1)[0] == fin["best_ask"], vid
                    assert [live.book.bid_count, live.book.ask_count] == fin["levels"], vid
    run(body(), timeout=40)
