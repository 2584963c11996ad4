"""The OKX adapter of liqcore.feed run for real: ccxt.pro ``okx`` through liqcore's engine adapter
(OkxEngine) against the local exchange simulator, on the C frame path and on the Python one.

What is proved here:

* after a clean run and after every fault (gap, duplicate, reordering, corrupted checksum,
  disconnect mid-stream, malformed JSON) the compiled book equals the simulator's true book level
  for level (wire strings) at the same update id, and the counters say what happened (resyncs,
  gaps, checksum failures, disconnects, skipped frames); every OKX message carries a checksum,
  each verified in C; ccxt's Python book stays empty;
* negative control: a book altered behind the feed's back is caught by OKX's checksum on the
  next message and resynced (so the equality checks and checksum checks can fail);
* the real OKX capture (tests/data/cryptofeed, 3 instruments) served to the adapter: every
  recorded checksum verifies in C and the final books are EXPECTED.json's.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, assert_equals_truth, assert_final_book, check_clean_counters,  # noqa: E402
                     check_fault_counters, check_frame_path, exchanges, run, run_feed, serving_capture, settle, until)

from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402


# --------------------------------------------------------------------------- clean runs
@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
def test_book_equals_true_book(fast_path):
    r = run(run_feed([BOOKS["okx"]], updates=80, fast_path=fast_path))
    stats = r.stats[0]
    check_frame_path(stats, r.exchange, fast_path)      # every update frame through the C parser
    check_clean_counters(stats, 80)
    # every OKX message carries a checksum, each verified in C
    assert stats["checksum_ok"] == stats["applied"] + stats["snapshots"] and stats["checksum_failed"] == 0


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (fault plan, expected counters: name -> minimum (or exact with "=="))
    (FaultPlan(drop={20}), {"gaps": 1, "resyncs": 1}),
    (FaultPlan(duplicate={20, 30}), {"stale_skipped": 2, "resyncs": "==0"}),
    (FaultPlan(reorder={20}), {"gaps": 1}),
    (FaultPlan(bad_checksum={20}), {"checksum_failed": "==1", "resyncs": "==1", "gaps": "==0"}),
    (FaultPlan(malformed={20}), {"resyncs": "==0"}),
    ([FaultPlan(disconnect_after=30, disconnect_mode="abort")], {"disconnects": 1}),
]


@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
@pytest.mark.parametrize("plan,expect", FAULTS, ids=[str(i) for i in range(len(FAULTS))])
def test_book_equals_true_book_after_fault(plan, expect, fast_path):
    r = run(run_feed([BOOKS["okx"]], plan=plan, updates=60, fast_path=fast_path))
    check_fault_counters(r.stats[0], plan, expect, r.faults)


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
                await until(lambda: live.stats.resyncs != 0)
                assert live.stats.checksum_failed == 1 and live.stats.gaps == 0
                applied = live.stats.applied
                await until(lambda: live.stats.applied >= applied + 30 and live.is_live)
                await settle(sim, feed, [BOOKS["okx"]])
                assert_equals_truth(feed, sim, BOOKS["okx"])
                assert isinstance(live.last_error, Exception)
    run(body())


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
    want = {vid: expected["per_instrument"][vid]["update"] for vid in symbols}

    async def body():
        async with ExchangeSimulator(markets, interval=FAST, max_seconds=30) as sim:
            async with serving_capture(sim, "okx", symbols, want, live_within=10) as (_, lives):
                for vid, live in lives.items():
                    st = live.stats
                    assert (st.applied, st.checksum_failed, st.gaps, st.resyncs) == (want[vid], 0, 0, 0), vid
                    assert st.checksum_ok == expected["per_instrument"][vid]["checksum_ok"], vid
                    assert_final_book(live.book, expected["final_state"][vid], vid)
    run(body(), timeout=40)
