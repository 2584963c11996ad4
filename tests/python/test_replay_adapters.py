"""Recordings of live sessions replayed through the live adapters (liqcore.replay.adapter).

A LiveFeed session against the simulator is recorded (every frame with its connection URL, every
REST snapshot body); replaying the file through the same adapter classes — frame handler, C frame
path or Python path, sync procedure, sequence/checksum checks, resync — must rebuild the books the
session ended with, level for level (wire strings) at the same update id, including after a gap
that made the live book resync. Negative control: a recording with a frame removed does not
rebuild the same book silently (the gap is caught).
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from test_feed_sim import VENUES, exchanges, settle  # noqa: E402
from test_sim import no_internet  # noqa: E402,F401

from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.recorder import Recorder, RecordingReader  # noqa: E402
from liqcore.replay.adapter import replay_through_adapters  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402

IDS = ("binance", "binanceusdm", "okx")


async def _session(path, faults=None, updates=60):
    """Record a live session; return the final books' (ids, bids, asks) and the markets used."""
    async with ExchangeSimulator(seed=12, interval=0.005, max_seconds=25, faults=faults) as sim:
        exs = exchanges(sim, *IDS)
        with Recorder(path) as rec:
            async with LiveFeed([(i, VENUES[i][0]) for i in IDS], exchanges=exs, recorder=rec,
                                backoff=(0.02, 0.5)) as feed:
                for i in IDS:
                    live = feed.live_book(i, VENUES[i][0])
                    while live.stats.applied < updates or not live.is_live:
                        await asyncio.sleep(0.02)
                await settle(feed, sim, list(IDS))
                books = {i: _state(feed.book(i, VENUES[i][0])) for i in IDS}
                stats = {i: feed.stats(i, VENUES[i][0]) for i in IDS}
                markets = {i: list(exs[i].markets.values()) for i in IDS}
    return books, stats, markets


def _state(book):
    return book.last_update_id, book.level_strings("bid"), book.level_strings("ask")


@pytest.mark.parametrize("fast_path", [True, False], ids=["C-frames", "python"])
def test_recorded_session_replays_to_the_same_books(tmp_path, fast_path):
    path = tmp_path / "session.lqrec"
    # a dropped Binance frame: the live book gaps and resyncs (re-SUBSCRIBE, new REST snapshot)
    books, stats, markets = asyncio.run(_session(path, faults={"binance": FaultPlan(drop={25})}))
    assert stats["binance"]["gaps"] == 1 and stats["binance"]["resyncs"] == 1
    replayed = asyncio.run(replay_through_adapters(path, fast_path=fast_path, markets=markets))
    for i in IDS:
        live = replayed[(i, VENUES[i][0])]
        assert _state(live.book) == books[i], i
        assert live.is_live and len(live.book.level_strings("bid")) > 10
        assert live.stats.gaps == stats[i]["gaps"] and live.stats.snapshots == stats[i]["snapshots"], i
    okx = replayed[("okx", "BTC/USDT")].stats
    assert okx.checksum_ok > 60 and okx.checksum_failed == 0


def test_replay_with_derived_markets(tmp_path):
    path = tmp_path / "session.lqrec"
    books, _, _ = asyncio.run(_session(path, updates=30))
    replayed = asyncio.run(replay_through_adapters(path))            # markets from the recorded ids
    for i in IDS:
        assert _state(replayed[(i, VENUES[i][0])].book) == books[i], i


def test_a_missing_frame_is_caught_not_hidden(tmp_path):
    path, cut = tmp_path / "session.lqrec", tmp_path / "cut.lqrec"
    books, _, markets = asyncio.run(_session(path, updates=40))
    recs = list(RecordingReader(path))
    depth = [k for k, r in enumerate(recs) if r.exchange == "binance" and b'"depthUpdate"' in r.raw]
    drop = depth[len(depth) // 2]
    with Recorder(cut) as w:
        for k, r in enumerate(recs):
            if k != drop:
                w.write(r.raw, exchange=r.exchange, stream=r.url, symbol=r.symbol or "", ts_ns=r.ts_ns,
                        mono_ns=r.mono_ns, kind=r.kind)
    replayed = asyncio.run(replay_through_adapters(cut, markets=markets))
    live = replayed[("binance", "BTC/USDT")]
    assert live.stats.gaps == 1 and not live.is_live                # no snapshot follows in the file
    assert _state(live.book) != books["binance"]
