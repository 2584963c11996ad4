"""Recordings of live sessions replayed through the live adapters (liqcore.replay.adapter).

A LiveFeed session against the simulator is recorded (every frame with its connection URL, every
REST snapshot body); replaying the file through the same adapter classes — frame handler, C frame
path or Python path, sync procedure, sequence/checksum checks, resync — must rebuild the books the
session ended with, level for level (wire strings) at the same update id, including after a gap
that made the live book resync. Negative control: a recording with a frame removed does not
rebuild the same book silently (the gap is caught). `liqcore replay` (the sans-I/O handlers) of
the same recordings accounts for every depth frame the live books read.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import orjson
import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401
from simtest import BOOKS, binance_depth, exchanges, settle, until  # noqa: E402

from liqcore.cli import main  # noqa: E402
from liqcore.feed import LiveFeed  # noqa: E402
from liqcore.recorder import Recorder, RecordingReader  # noqa: E402
from liqcore.replay import replay  # noqa: E402
from liqcore.replay.adapter import replay_through_adapters  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402

IDS = ("binance", "binanceusdm", "okx")


async def _session(path, faults=None, updates=60):
    """Record a live session; return the final books' (ids, bids, asks) and the markets used."""
    async with ExchangeSimulator(seed=12, interval=0.005, max_seconds=25, faults=faults) as sim:
        exs = exchanges(sim, *IDS)
        with Recorder(path) as rec:
            async with LiveFeed([(i, BOOKS[i].symbol) for i in IDS], exchanges=exs, recorder=rec,
                                backoff=(0.02, 0.5)) as feed:
                for i in IDS:
                    live = feed.live_book(i, BOOKS[i].symbol)
                    await until(lambda: live.stats.applied >= updates and live.is_live)
                await settle(sim, feed, [BOOKS[i] for i in IDS])
                books = {i: _state(feed.book(i, BOOKS[i].symbol)) for i in IDS}
                stats = {i: feed.stats(i, BOOKS[i].symbol) for i in IDS}
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
        live = replayed[(i, BOOKS[i].symbol)]
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
        assert _state(replayed[(i, BOOKS[i].symbol)].book) == books[i], i


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


# ----------------------------------------------------------------------------- liqcore replay
def _depth_frames(recs, ex_id):
    """The book update frames of ``ex_id`` in a recording (what its book read besides snapshots)."""
    mark = b'"action":"update"' if ex_id == "okx" else b'"depthUpdate"'
    return sum(1 for r in recs if r.exchange == ex_id and r.kind == "recv" and mark in r.raw)


def test_liqcore_replay_of_a_live_recording_accounts_for_every_depth_frame(tmp_path, capsys):
    """`liqcore replay` of what LiveFeed recorded: the REST snapshots (labelled with the unified
    symbol) reach the books of the depth streams (market ids), so every book applies what the live
    book applied, skips what it skipped, and ends on the live book's top at its update id."""
    path = tmp_path / "session.lqrec"
    books, stats, _ = asyncio.run(_session(path, updates=60))
    recs = list(RecordingReader(path))
    rep = replay(path)
    assert rep.problems() == [] and rep.ok
    assert sorted((b.exchange, b.symbol) for b in rep.books) == sorted((i, BOOKS[i].vid) for i in IDS)
    for i in IDS:
        b, live = rep.book(i, BOOKS[i].vid), stats[i]
        assert b.messages - b.snapshots == _depth_frames(recs, i) >= 60, i   # the session waited for 60 applied
        assert (b.messages, b.applied, b.skipped, b.snapshots) == (
            live["messages"], live["applied"], live["stale_skipped"], live["snapshots"]), i
        assert (b.gaps, b.rejected, b.unsynced, b.unaccounted) == (0, 0, 0, 0), i
        last_id, bids, asks = books[i]
        assert b.last_update_id == last_id and b.levels == [len(bids), len(asks)], i
        assert [Decimal(x) for x in b.best_bid + b.best_ask] == [Decimal(x) for x in bids[0] + asks[0]], i
    assert main(["replay", str(path)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("OK: every checksum and checkpoint verified")


def test_a_replay_that_cannot_apply_what_it_read_is_not_ok(tmp_path, capsys):
    """Negative control: without its REST snapshot the Binance book buffers every depth frame and
    applies none; the replay says so and exits 1 instead of printing OK."""
    path, cut = tmp_path / "session.lqrec", tmp_path / "no-snapshot.lqrec"
    asyncio.run(_session(path, updates=30))
    recs = list(RecordingReader(path))
    with Recorder(cut) as w:
        for r in recs:
            if not (r.exchange == "binance" and r.kind == "rest"):
                w.write_record(r)
    rep = replay(cut)
    b = rep.book("binance", "BTCUSDT")
    assert (b.applied, b.snapshots, b.unsynced) == (0, 0, _depth_frames(recs, "binance"))
    assert not rep.ok and "updates never applied (no snapshot followed them)" in " ".join(rep.problems())
    assert main(["replay", str(cut)]) == 1
    out = capsys.readouterr().out
    assert "NOT OK" in out and "no snapshot, nothing verified: binance BTCUSDT" in out


def _rest(last_id, bid_size):
    return orjson.dumps({"lastUpdateId": last_id, "bids": [["1.00", bid_size]], "asks": [["2.00", "1"]]})


@pytest.mark.parametrize("with_subscribe", [True, False])
def test_a_binance_resubscription_recorded_as_sent_starts_a_new_sync(tmp_path, with_subscribe):
    """After a reconnect the live feed subscribes again and buffers the new connection's events
    until its REST snapshot. The recorded SUBSCRIBE (kind "sent") tells the replay the same, so
    events missed while disconnected are not a gap; without it (negative control) the first event
    of the new connection is applied to the old subscription's book: a gap. Both replays: `liqcore
    replay` and the one through the live adapter."""
    url = "wss://stream.binance.com:9443/ws"
    p = tmp_path / "resubscribe.lqrec"
    subscribe = '{"method":"SUBSCRIBE","params":["xusdt@depth@100ms"],"id":%d}'
    with Recorder(p) as rec:
        if with_subscribe:                          # the first subscribe comes before any market is known
            rec.write(subscribe % 1, exchange="binance", stream=url, kind="sent")
        rec.write('{"result":null,"id":1}', exchange="binance", stream=url)
        rec.write(binance_depth(5, 6, [("1.00", "1")], sym="XUSDT"), exchange="binance", stream=url)
        rec.write(_rest(5, "1"), exchange="binance", stream="rest", symbol="X/USDT", kind="rest")
        rec.write(binance_depth(7, 8, [("1.00", "2")], sym="XUSDT"), exchange="binance", stream=url)
        # the connection dropped; events 9..11 were never received
        if with_subscribe:
            rec.write(subscribe % 2, exchange="binance", stream=url, kind="sent")
        rec.write('{"result":null,"id":2}', exchange="binance", stream=url)
        rec.write(binance_depth(12, 13, [("1.00", "3")], sym="XUSDT"), exchange="binance", stream=url)
        rec.write(_rest(12, "3"), exchange="binance", stream="rest", symbol="X/USDT", kind="rest")
        rec.write(binance_depth(14, 15, [("1.00", "4")], sym="XUSDT"), exchange="binance", stream=url)
    rep = replay(p)                                 # liqcore replay
    b = rep.book("binance", "XUSDT")
    live = asyncio.run(replay_through_adapters(p))[("binance", "X/USDT")]   # the live adapter
    if with_subscribe:
        assert rep.ok and (b.gaps, b.applied, b.skipped, b.snapshots) == (0, 4, 0, 2)  # 5-6, 7-8, 12-13, 14-15
        assert (b.last_update_id, b.best_bid) == (15, ["1.00", "4"])
        assert live.is_live and live.stats.gaps == 0 and live.book.last_update_id == 15
        assert live.book.level_strings("bid", 1) == [["1.00", "4"]]
    else:                   # 12-13 reveals the gap and is lost with the old book; 14-15 then misses 13
        assert not rep.ok and b.gaps == 2 and b.last_update_id is None
        assert not live.is_live and live.stats.gaps == 1       # the adapter waits for an ack that never comes


async def _reconnect_session(path, ex_id, updates=40):
    """Record a live session of ``ex_id`` whose socket the simulator closes after 30 messages: the
    feed reconnects and resyncs on a new connection; return the final book's state and stats."""
    faults = {ex_id: FaultPlan(disconnect_after=30)}
    async with ExchangeSimulator(seed=14, interval=0.005, max_seconds=25, faults=faults) as sim:
        exs = exchanges(sim, ex_id)
        with Recorder(path) as rec:
            async with LiveFeed([(ex_id, BOOKS[ex_id].symbol)], exchanges=exs, recorder=rec,
                                backoff=(0.02, 0.5)) as feed:
                live = feed.live_book(ex_id, BOOKS[ex_id].symbol)
                await until(lambda: live.stats.disconnects >= 1 and live.stats.applied >= updates + 30 and live.is_live)
                await settle(sim, feed, [BOOKS[ex_id]])
                state = _state(feed.book(ex_id, BOOKS[ex_id].symbol))
                stats = feed.stats(ex_id, BOOKS[ex_id].symbol)
                markets = {ex_id: list(exs[ex_id].markets.values())}
    return state, stats, markets


@pytest.mark.parametrize("ex_id", ["binance", "okx", "bybit", "coinbase", "kraken", "bitget", "bitfinex"])
def test_a_recording_that_spans_a_reconnect_replays_to_the_live_book(tmp_path, ex_id):
    """A live session whose connection dropped (the feed reconnected and resynced): replaying its
    recording through the adapters, and with `liqcore replay`, ends on the live book."""
    path = tmp_path / "session.lqrec"
    state, stats, markets = asyncio.run(_reconnect_session(path, ex_id))
    assert stats["disconnects"] >= 1
    # the feed's subscribes are recorded (one per connection at least): where a replay's Binance
    # book starts its new subscription, so the events missed while disconnected are no gap
    assert sum(r.kind == "sent" and r.exchange == ex_id for r in RecordingReader(path)) >= 2
    replayed = asyncio.run(replay_through_adapters(path, markets=markets))
    live = replayed[(ex_id, BOOKS[ex_id].symbol)]
    assert _state(live.book) == state and live.is_live
    rep = replay(path)
    (b,) = rep.books                            # the one book (Kraken's is named by its v2 symbol)
    assert rep.ok, rep.problems()
    assert b.exchange == ex_id and b.last_update_id == state[0] and b.levels == [len(state[1]), len(state[2])]
    assert [Decimal(x) for x in b.best_bid + b.best_ask] == [Decimal(x) for x in state[1][0] + state[2][0]]
