"""The LiveFeed API over several exchanges, run for real: ccxt.pro through liqcore's engine
adapters against the local exchange simulator (Binance spot, Binance USDⓈ-M, OKX).

What is proved here:

* callbacks (one raising, one unsubscribed), several books on three venues, the coalescing
  update iterator: every book still equals the simulator's true book;
* recording: every frame the feed received is written with its receive times, the sockets'
  frames in arrival order, the REST snapshot beside them.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import BOOKS, FAST, assert_equals_truth, exchanges, run, settle, until  # noqa: E402

from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.recorder import RecordingReader, Recorder  # noqa: E402
from liqcore.sim import ExchangeSimulator  # noqa: E402


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
                    await until(lambda: live.stats.applied >= 20)
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


# ------------------------------------------------------------------------ gc.freeze
def test_freeze_gc_freezes_once_every_book_is_live_and_unfreezes_at_close():
    """freeze_gc: nothing is frozen while a book syncs; once both are live the objects alive then
    sit in the permanent generation (a full collection no longer walks them), and the feed's
    close gives them back."""
    import gc

    pairs = [("binance", "BTC/USDT"), ("okx", "BTC/USDT")]
    assert gc.get_freeze_count() == 0

    async def body():
        async with ExchangeSimulator(seed=4, interval=FAST, max_seconds=20) as sim:
            feed = LiveFeed(pairs, exchanges=exchanges(sim, "binance", "okx"), freeze_gc=True)
            async with feed:
                assert feed.gc_frozen == 0
                await feed.wait_live(10)
                for _ in range(200):                      # the freeze comes with the next publish
                    if feed.gc_frozen:
                        break
                    await asyncio.sleep(0.01)
                # (objects freed by their reference count leave the permanent generation too)
                assert feed.gc_frozen > 10_000 and 10_000 < gc.get_freeze_count() <= feed.gc_frozen
                await settle(sim, feed, [BOOKS["binance"], BOOKS["okx"]])
                for ex_id in ("binance", "okx"):
                    assert_equals_truth(feed, sim, BOOKS[ex_id])   # the books go on as before
            assert feed.gc_frozen == 0 and gc.get_freeze_count() == 0
    run(body())
