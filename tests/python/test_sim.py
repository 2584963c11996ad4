"""The local exchange simulator (liqcore/sim) against stock ccxt.pro and raw websocket clients.

What is proved here:

* unmodified ccxt.pro (binance, binanceusdm, okx) loads its markets from the simulator and
  keeps a book equal to the simulator's true book, for the synthetic process and for
  replays of real recordings;
* every fault is visible on the wire exactly where it was configured (a raw aiohttp
  client sees the U/u or seqId gap, the duplicate, the swap, the malformed frame, the bad
  checksum, the close), and after a fault ccxt resynchronises to the unchanged true book;
* the replayed true books equal the recordings' independent ground truth (EXPECTED.json)
  and the simulator's own OKX checksum equals every checksum OKX sent;
* nothing leaves 127.0.0.1: an autouse guard refuses (and records) every non-loopback DNS
  lookup or connect, and fails the test that tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import json
import os
import socket
import threading
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

aiohttp = pytest.importorskip("aiohttp")
ccxt_pro = pytest.importorskip("ccxt.pro")
import ccxt  # noqa: E402  (after the importorskip)

from netguard import no_internet, ws_frames  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import FAST, run, until  # noqa: E402
from liqcore import ChecksumError, OrderBook, SequenceGapError  # noqa: E402
from liqcore.feed.binance import BinanceDepthSync  # noqa: E402
from liqcore.sim import (BinanceRecording, ExchangeSimulator, FaultPlan, Instrument, OkxRecording,  # noqa: E402
                         SyntheticBook, TrueBook, default_instruments, okx_checksum, okx_recording_instruments)
from liqcore.sim.connection import RECEIVED_CHARS, RECEIVED_FRAMES  # noqa: E402
from liqcore.sim.faults import DEFAULT_QUEUE_LIMIT  # noqa: E402
from liqcore.sim.market import Market  # noqa: E402
from liqcore.sim.recent import RecentList  # noqa: E402
from liqcore.sim.server import FINISHED_CONNECTIONS  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
OKX_CAPTURE = DATA / "cryptofeed" / "OKX.ws.1.0"
BINANCE_EXPECTED = json.loads((DATA / "binance" / "EXPECTED.json").read_text())
OKX_EXPECTED = json.loads((DATA / "cryptofeed" / "EXPECTED.json").read_text())["OKX.ws.1.0"]



# ------------------------------------------------------------------------ helpers


def floats(levels, n):
    return [[float(p), float(s)] for p, s in levels[:n]]


async def synced_book(ex, sim, symbol, venue, vid, updates, *, retry_errors=False):
    """Watch ``symbol`` for ``updates`` updates, freeze the simulator, return ccxt's book
    once it has caught up with the true book's last update id, and the errors seen."""
    errors = []
    got = 0
    while got < updates:
        try:
            ob = await asyncio.wait_for(ex.watch_order_book(symbol), 5)
        except ccxt.InvalidNonce as e:   # binance's ChecksumError is one too
            if not retry_errors:
                raise
            errors.append(e)
            await asyncio.sleep(0.02)    # ccxt re-raises a stale rejection without yielding
            continue
        got += 1
    sim.pause()
    target = sim.last_update_id(venue, vid)
    # the frames still in flight may be handled before a new watch registers its future (wait_for
    # starts it as a task): then no update is left to resolve it, so time out briefly and look again
    while ex.orderbooks[symbol]["nonce"] != target:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ex.watch_order_book(symbol), 0.5)
    return ex.orderbooks[symbol], errors


def assert_equal_to_truth(ob, sim, venue, vid, depth):
    truth = sim.true_book(venue, vid)
    assert ob["nonce"] == truth["update_id"]
    assert ob["bids"][:depth] == floats(truth["bids"], depth)
    assert ob["asks"][:depth] == floats(truth["asks"], depth)
    assert len(ob["bids"]) >= min(depth, len(truth["bids"]))


CCXT_CASES = [("binance", "BTC/USDT", "binance", "BTCUSDT"),
              ("binanceusdm", "BTC/USDT:USDT", "binanceusdm", "BTCUSDT"),
              ("okx", "BTC/USDT", "okx", "BTC-USDT")]


# ------------------------------------------------------------- stock ccxt.pro, synthetic
@pytest.mark.parametrize("exid,symbol,venue,vid", CCXT_CASES, ids=[c[0] for c in CCXT_CASES])
def test_ccxt_pro_book_equals_true_book(exid, symbol, venue, vid):
    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(getattr(ccxt_pro, exid)({"enableRateLimit": False}))
            try:
                ob, _ = await synced_book(ex, sim, symbol, venue, vid, 60)
                assert_equal_to_truth(ob, sim, venue, vid, 50)
                assert sim.market(venue, vid).updates >= 60
                assert ex.markets[symbol]["precision"]["price"] == float(sim.market(venue, vid).instrument.tick)
            finally:
                await ex.close()
            # markets came from the simulator's REST API, and nothing ccxt asked for went unanswered
            paths = [p for _, p in sim.requests]
            assert any("exchangeInfo" in p or "public/instruments" in p for p in paths)
            assert sim.unhandled == []
            if venue != "okx":    # binance books start from one REST snapshot; okx's come over the socket
                assert sim.snapshots_served == {(venue, vid): 1}
    run(body(), 15)


def test_ccxt_pro_okx_books5_is_the_true_top_five():
    async def body():
        async with ExchangeSimulator(seed=8, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(ccxt_pro.okx({"enableRateLimit": False}))
            try:
                for _ in range(10):
                    await asyncio.wait_for(ex.watch_order_book("ETH/USDT", 5), 5)
                sim.pause()
                (conn,) = sim.connections_of("okx")
                await until(conn.queue.empty)     # let the frames already produced go out
                await asyncio.sleep(0.05)
                ob = ex.orderbooks["ETH/USDT"]
                truth = sim.true_book("okx", "ETH-USDT", 5)
                assert [lv[:2] for lv in ob["bids"]] == floats(truth["bids"], 5)
                assert [lv[:2] for lv in ob["asks"]] == floats(truth["asks"], 5)
                assert '"books5"' in conn.received[0]
            finally:
                await ex.close()
    run(body(), 15)


# ------------------------------------------------------------- stock ccxt.pro, replays
def test_ccxt_pro_follows_binance_recording_replay():
    inst = Instrument("binance", "BTCUSDT", "BTC", "USDT", "0.01", "0.00001", "61700", wire_decimals=(8, 8))

    async def body():
        async with ExchangeSimulator([(inst, BinanceRecording())], interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(ccxt_pro.binance({"enableRateLimit": False}))
            try:
                ob, _ = await synced_book(ex, sim, "BTC/USDT", "binance", "BTCUSDT", 150)
                assert_equal_to_truth(ob, sim, "binance", "BTCUSDT", 200)
                # the recorded ids go out verbatim
                assert BINANCE_EXPECTED["snapshot_lastUpdateId"] < ob["nonce"] <= BINANCE_EXPECTED["last_applied_u"]
            finally:
                await ex.close()
    run(body(), 15)


def test_ccxt_pro_follows_okx_recording_replay():
    markets = [(i, OkxRecording(OKX_CAPTURE, i.id)) for i in okx_recording_instruments()]

    async def body():
        # a replay of the whole capture: generous limits, so a loaded machine (the sanitizer run) is slow, not failed
        async with ExchangeSimulator(markets, interval=FAST, max_seconds=90) as sim:
            ex = sim.attach(ccxt_pro.okx({"enableRateLimit": False}))
            try:
                for symbol, vid in (("UNI/USD:UNI", "UNI-USD-SWAP"), ("BTC/USDT", "BTC-USDT")):
                    ob, _ = await synced_book(ex, sim, symbol, "okx", vid, 20)
                    assert_equal_to_truth(ob, sim, "okx", vid, 400)
                    sim.resume()
                assert "BTC/USD:BTC-220527" in ex.markets
            finally:
                await ex.close()
            for (venue, vid), m in sim._markets.items():
                assert m.checksum_mismatches == [], vid
    run(body(), 60)


# ---------------------------------------------------------------------- ccxt after faults
def test_ccxt_pro_binance_resyncs_after_gap_to_true_book():
    async def body():
        plan = FaultPlan(drop={12})
        async with ExchangeSimulator(seed=11, interval=FAST, max_seconds=20, faults={"binance": plan}) as sim:
            ex = sim.attach(ccxt_pro.binance({"enableRateLimit": False}))
            try:
                ob, errors = await synced_book(ex, sim, "BTC/USDT", "binance", "BTCUSDT", 50, retry_errors=True)
                assert len(errors) >= 1 and isinstance(errors[0], ccxt.ChecksumError)
                assert_equal_to_truth(ob, sim, "binance", "BTCUSDT", 50)
            finally:
                await ex.close()
            (conn,) = sim.connections_of("binance")
            assert conn.faults_log == [("drop", "btcusdt@depth@100ms", 12)]
            # the gap made ccxt resubscribe on the same socket and take a second REST snapshot
            assert sum('"SUBSCRIBE"' in r for r in conn.received) == 2
            assert sim.snapshots_served[("binance", "BTCUSDT")] == 2
    run(body(), 15)


def test_ccxt_pro_okx_resyncs_after_gap_to_true_book():
    async def body():
        plan = FaultPlan(drop={12})
        async with ExchangeSimulator(seed=12, interval=FAST, max_seconds=20, faults={"okx": plan}) as sim:
            ex = sim.attach(ccxt_pro.okx({"enableRateLimit": False}))
            try:
                ob, errors = await synced_book(ex, sim, "BTC/USDT", "okx", "BTC-USDT", 50, retry_errors=True)
                assert len(errors) >= 1
                assert_equal_to_truth(ob, sim, "okx", "BTC-USDT", 50)
            finally:
                await ex.close()
            (conn,) = sim.connections_of("okx")
            ops = [orjson.loads(r)["op"] for r in conn.received if r.startswith("{")]
            assert ops == ["subscribe", "unsubscribe", "subscribe"]
    run(body(), 15)


# ------------------------------------------------------------ faults seen by a raw client
@pytest.mark.parametrize("venue", ["binance", "binanceusdm"])
def test_binance_faults_on_the_wire(venue):
    """drop 5, duplicate 10, reorder 15, malformed 20: exactly that on a faulty raw stream,
    compared with a clean combined stream (the first connection) of the same market."""
    plan = FaultPlan(drop={5}, duplicate={10}, reorder={15}, malformed={20})
    host = "stream.binance.com/ws" if venue == "binance" else "fstream.binance.com/public/ws"
    combined = host.rsplit("/", 1)[0] + "/stream"

    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=20, faults={venue: [None, plan]}) as sim:
            base = sim.url.replace("http", "ws")
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(f"{base}/{combined}?streams=btcusdt@depth@100ms") as clean_ws:
                    await sim.wait_updates(venue, "BTCUSDT", 2)
                    async with s.ws_connect(f"{base}/{host}/btcusdt@depth@100ms") as faulty_ws:
                        faulty = await ws_frames(faulty_ws, 30)
                    clean = [orjson.loads(f)["data"] for f in await ws_frames(clean_ws, 60)]
        assert len(faulty) == 30
        bad = [i for i, f in enumerate(faulty) if not _parses(f)]
        assert len(bad) == 1
        events = [orjson.loads(f) for i, f in enumerate(faulty) if i != bad[0]]
        by_u = [e["u"] for e in clean]
        c = by_u[by_u.index(events[0]["u"]):]
        expected = c[0:5] + c[6:11] + [c[10]] + c[11:15] + [c[16], c[15]] + c[17:]
        assert [e["u"] for e in events] == expected[:len(events)]
        assert bad[0] == expected.index(c[20])            # the malformed frame came right before event 20
        # the clean stream is continuous by the venue's own rule ...
        for prev, ev in zip(clean, clean[1:]):
            assert (ev["pu"] == prev["u"]) if venue == "binanceusdm" else (ev["U"] == prev["u"] + 1)
        # ... and liqcore's Binance procedure notices the gap on the faulty one
        sync = BinanceDepthSync(OrderBook(price_decimals=8, size_decimals=8), futures=venue == "binanceusdm")
        first = events[0]
        sync.on_snapshot({"lastUpdateId": first["U"] - 1 if venue == "binance" else first["U"],
                          "bids": [], "asks": []})
        with pytest.raises(SequenceGapError):
            for ev in events:
                sync.on_depth(ev)
    run(body(), 15)


def _parses(text):
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def test_okx_bad_checksum_and_gap_on_the_wire():
    """A corrupted checksum fails liqcore's (C) verification exactly once; every other
    checksum the simulator computed (independently) verifies; the dropped update breaks
    the seqId chain."""
    plan = FaultPlan(bad_checksum={3}, drop={6})

    async def body():
        async with ExchangeSimulator(seed=9, interval=FAST, max_seconds=20, faults={"okx": plan}) as sim:
            base = sim.url.replace("http", "ws")
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(f"{base}/ws.okx.com/ws/v5/public") as ws:
                    await ws.send_str("ping")
                    await ws.send_json({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
                    frames = await ws_frames(ws, 12)
        assert frames[0] == "pong"
        assert orjson.loads(frames[1])["event"] == "subscribe"
        msgs = [orjson.loads(f) for f in frames[2:]]
        assert msgs[0]["action"] == "snapshot" and msgs[0]["data"][0]["prevSeqId"] == -1
        data = [m["data"][0] for m in msgs]
        breaks = [i for i in range(1, len(data)) if data[i]["prevSeqId"] != data[i - 1]["seqId"]]
        assert breaks == [6]              # frame 6 (an update) never went out
        # every message through a book of its own rules: the corrupted checksum is the only one
        # that differs (the book goes on, to check the simulator's later checksums too)
        book = OrderBook(price_decimals=8, size_decimals=8, sequence="okx")
        ok, failed = 0, []
        for i, (m, d) in enumerate(zip(msgs, data)):
            if i == 6:
                with pytest.raises(SequenceGapError):
                    book.apply_levels(d["bids"], d["asks"], last_id=d["seqId"], prev_id=d["prevSeqId"])
                break
            if i == 0:
                book.apply_snapshot(d["bids"], d["asks"], update_id=d["seqId"])
            else:
                book.apply_levels(d["bids"], d["asks"], last_id=d["seqId"], prev_id=d["prevSeqId"])
            try:
                ok += book.verify_checksum("okx", d["checksum"])
            except ChecksumError:
                failed.append(i)
        assert failed == [3] and ok == 5
    run(body(), 15)


@pytest.mark.parametrize("mode", ["close", "abort"])
def test_disconnect_mid_stream(mode):
    plan = FaultPlan(disconnect_after=5, disconnect_mode=mode)

    async def body():
        async with ExchangeSimulator(seed=2, interval=FAST, max_seconds=20, faults={"binance": [plan]}) as sim:
            url = sim.url.replace("http", "ws") + "/stream.binance.com/ws/btcusdt@depth@100ms"
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url) as ws:
                    ends = []
                    got = await ws_frames(ws, 50, ends=ends)
                    if mode == "close":     # all 5 frames, then a close frame 1001
                        assert len(got) == 5
                        assert (ends[0].type, ends[0].data) == (aiohttp.WSMsgType.CLOSE, 1001)
                    else:                   # at most 5 frames, then the TCP connection is gone
                        assert len(got) <= 5
                        assert ends[0].type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
                async with s.ws_connect(url) as ws2:     # the exchange itself is fine
                    assert len(await ws_frames(ws2, 10)) == 10
    run(body(), 15)


@pytest.mark.parametrize("policy", ["disconnect", "drop"])
def test_slow_consumer(policy):
    """The server sends at most one frame per 30 ms but produces one per tick (5 ms) with a
    queue of 4: it either cuts the consumer (1008) or loses frames (a gap in U/u)."""
    plan = FaultPlan(send_delay=0.03, queue_limit=4, on_overflow=policy)

    async def body():
        async with ExchangeSimulator(seed=4, interval=FAST, max_seconds=20, faults={"binance": plan}) as sim:
            url = sim.url.replace("http", "ws") + "/stream.binance.com/ws/btcusdt@depth@100ms"
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url) as ws:
                    ends = []
                    got = await ws_frames(ws, 12, ends=ends)
                    if policy == "disconnect":
                        assert len(got) < 12
                        assert (ends[0].type, ends[0].data, ends[0].extra) == (aiohttp.WSMsgType.CLOSE, 1008,
                                                                               "slow consumer")
                    else:
                        us = [(e["U"], e["u"]) for e in map(orjson.loads, got)]
                        assert any(b[0] != a[1] + 1 for a, b in zip(us, us[1:]))
    run(body(), 15)


# ------------------------------------------------------------------- bounded memory
def test_recent_list_keeps_the_newest_within_both_bounds():
    kept = RecentList(3, budget=10, weight=len)
    for text in ["aaaa", "bbbb", "cc", "d", "e" * 11, "ffffff"]:
        kept.append(text)
    assert kept == ["cc", "d", "ffffff"] and kept.kept_weight == 9
    assert kept.dropped == 3                                 # "aaaa", "bbbb" pushed out, "e"*11 never kept
    counted = RecentList(2)
    counted.extend(range(5))
    assert counted == [3, 4] and counted.dropped == 3
    with pytest.raises(ValueError):
        RecentList(0)
    for bad in (None, 0, -1, True, 2.5):
        with pytest.raises(ValueError, match="queue_limit"):
            FaultPlan(queue_limit=bad)
    assert FaultPlan().queue_limit == DEFAULT_QUEUE_LIMIT


def test_received_frames_are_bounded():
    """What a client sends is kept only up to RECEIVED_FRAMES frames and RECEIVED_CHARS
    characters (newest first; a frame larger than that is not kept), with a count of the rest."""
    big = orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": -1, "pad": "x" * RECEIVED_CHARS}).decode()
    small = [orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}).decode() for i in range(RECEIVED_FRAMES + 200)]

    async def body():
        async with ExchangeSimulator(seed=1, interval=FAST, max_seconds=30) as sim:
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(sim.url.replace("http", "ws") + "/stream.binance.com/ws/0") as ws:
                    for text in [big] * 3 + small:
                        await ws.send_str(text)
                    answered = -2
                    while answered != len(small) - 1:      # every request handled, in order
                        answered = orjson.loads((await asyncio.wait_for(ws.receive(), 10)).data)["id"]
                    (conn,) = sim.connections_of("binance")
                    assert conn.received == small[-RECEIVED_FRAMES:]
                    assert conn.received.dropped == 3 + 200
                    assert sum(map(len, conn.received)) <= RECEIVED_CHARS
    run(body(), 30)


def test_finished_connections_are_forgotten_beyond_a_bounded_history():
    """Connections that ended stay in sim.connections only as the newest FINISHED_CONNECTIONS;
    their send queues are emptied; live ones are always listed."""
    n = FINISHED_CONNECTIONS + 6

    async def body():
        async with ExchangeSimulator(seed=1, interval=FAST, max_seconds=30) as sim:
            url = sim.url.replace("http", "ws") + "/stream.binance.com/ws/btcusdt@depth@100ms"
            async with aiohttp.ClientSession() as s:
                live = await s.ws_connect(url)
                for _ in range(n):
                    async with s.ws_connect(url) as ws:
                        await ws_frames(ws, 1)
                await until(lambda: sim.connections_forgotten >= n - FINISHED_CONNECTIONS)   # all n finished
                conns = sim.connections_of("binance")
                assert [c.ordinal for c in conns] == [0, *range(n + 1 - FINISHED_CONNECTIONS, n + 1)]
                assert not conns[0].finished and all(c.finished and c.queue.empty() for c in conns[1:])
                assert sim.connections_forgotten == n - FINISHED_CONNECTIONS
                await live.close()
    run(body(), 30)


def test_a_client_that_never_reads_is_cut_as_a_slow_consumer():
    """A client that completes the handshake and then reads nothing: with no fault plan, its
    send queue stops at DEFAULT_QUEUE_LIMIT frames and the simulator cuts it (close 1008 queued,
    TCP dropped when the close cannot be delivered), counts it, and goes on serving others."""
    streams = "/".join(f"{s}@{k}" for s in ("btcusdt", "ethusdt") for k in ("depth@100ms", "trade", "aggTrade"))
    markets = [i for i in default_instruments() if i.venue == "binance"]

    async def body():
        async with ExchangeSimulator(markets, seed=1, interval=0.001, max_seconds=60) as sim:
            loop = asyncio.get_running_loop()
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.setblocking(False)
                await loop.sock_connect(sock, ("127.0.0.1", sim.port))
                await loop.sock_sendall(sock, (
                    f"GET /stream.binance.com/ws/{streams} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n").encode())
                most = 0
                while not (sim.connections and sim.connections[0].finished):
                    if sim.connections:
                        most = max(most, sim.connections[0].queue.qsize())
                    await asyncio.sleep(0.005)
                (conn,) = sim.connections
                assert (conn.slow_consumer, conn.close_code, sim.slow_consumers) == (True, 1008, 1)
                assert most <= DEFAULT_QUEUE_LIMIT and conn.queue.empty()
            async with aiohttp.ClientSession() as s:         # the exchange itself is fine
                async with s.ws_connect(sim.url.replace("http", "ws") + "/stream.binance.com/ws/btcusdt@trade") as ws:
                    assert len(await ws_frames(ws, 3)) == 3
            assert sim.slow_consumers == 1
    run(body(), 60)


# ------------------------------------------------------------ REST/websocket protocol details
def test_rest_and_ws_protocol_details():
    async def body():
        async with ExchangeSimulator(seed=1, interval=FAST, max_seconds=20) as sim:
            async with aiohttp.ClientSession() as s:
                async def get(path):
                    async with s.get(sim.url + path) as r:
                        return r.status, await r.json()
                assert await get("/api.binance.com/api/v3/depth?symbol=NOPE") == (400, {"code": -1121,
                                                                                       "msg": "Invalid symbol."})
                assert (await get("/api.binance.com/api/v3/depth"))[1]["code"] == -1102
                sim.pause()                 # no tick between the snapshot and the comparison
                st, depth = await get("/api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=5")
                assert st == 200 and len(depth["bids"]) == 5 and len(depth["bids"][0][0].split(".")[1]) == 8
                assert depth["lastUpdateId"] == sim.last_update_id("binance", "BTCUSDT")
                sim.resume()
                st, fdepth = await get("/fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=5")
                assert {"E", "T", "lastUpdateId"} <= set(fdepth)
                assert (await get("/www.okx.com/api/v5/public/instruments?instType=BAD"))[1]["code"] == "51000"
                st, books = await get("/www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=3")
                assert books["code"] == "0" and len(books["data"][0]["asks"][0]) == 4
                assert (await get("/api.binance.com/sapi/v1/capital/config/getall"))[0] == 404
                assert sim.unhandled == [("GET", "/api.binance.com/sapi/v1/capital/config/getall")]
                ws = await s.ws_connect(sim.url.replace("http", "ws") + "/stream.binance.com/ws/0")
                await ws.send_str("{not json")
                await ws.send_json({"method": "SUBSCRIBE", "params": ["ethusdt@depth"], "id": 7})
                await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
                frames = [orjson.loads(f) for f in await ws_frames(ws, 3)]
                assert frames[0]["error"]["code"] == 3
                assert frames[1] == {"result": None, "id": 7}
                assert frames[2] == {"result": ["0", "ethusdt@depth"], "id": 8}
                # @depth is the 1000 ms stream: ten ticks merged into one event (the first event may
                # cover only the ticks since the subscribe; the second covers a whole window)
                first, ev = [orjson.loads(f) for f in await ws_frames(ws, 2)]
                assert ev["s"] == "ETHUSDT" and ev["U"] == first["u"] + 1 and ev["u"] - ev["U"] >= 9
                await ws.close()
                okx = await s.ws_connect(sim.url.replace("http", "ws") + "/ws.okx.com/ws/v5/public")
                await okx.send_json({"op": "subscribe", "args": [{"channel": "books-l2-tbt", "instId": "BTC-USDT"},
                                                                 {"channel": "books", "instId": "NOPE"}]})
                errs = [orjson.loads(f) for f in await ws_frames(okx, 2)]
                assert [e["code"] for e in errs] == ["60011", "60018"]
                await okx.close()
    run(body(), 15)


# ------------------------------------------------------- REST: malformed requests refused
_SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
# (path, status, what the body holds): each venue's own refusal (liqcore.sim.rest)
MALFORMED = [
    ("/api.binance.com/api/v3/exchangeInfo?symbols=[1", 400,
     {"code": -1100, "msg": f"Illegal characters found in parameter 'symbols'; legal range is '{_SYMBOLS_RANGE}'."}),
    ("/fapi.binance.com/fapi/v1/exchangeInfo?symbols=null", 400, {"code": -1100}),
    ('/api.binance.com/api/v3/exchangeInfo?symbols=["NOPE"]', 400, {"code": -1121, "msg": "Invalid symbol."}),
    ("/api.binance.com/api/v3/exchangeInfo?symbol=btcusdt", 400, {"code": -1100}),
    ("/api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1e3", 400,
     {"code": -1100, "msg": "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."}),
    ("/api.binance.com/api/v3/depth?symbol=BTC/USDT", 400, {"code": -1100}),
    ("/api.binance.com/api/v3/trades?symbol=BTCUSDT&limit=x", 400, {"code": -1100}),
    ("/fapi.binance.com/fapi/v1/fundingRate?symbol=BTCUSDT&limit=-1", 400, {"code": -1100}),
    ("/fapi.binance.com/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=%201", 400, {"code": -1100}),
    ("/fapi.binance.com/fapi/v1/premiumIndex?symbol=", 400, {"code": -1102}),
    ("/www.okx.com/api/v5/market/trades?instId=BTC-USDT&limit=x", 400,
     {"code": "51000", "msg": "Parameter limit error", "data": []}),
    ("/www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=1_0", 400, {"code": "51000", "msg": "Parameter sz error"}),
    ("/api.bybit.com/v5/market/open-interest?category=linear&symbol=BTCUSDT&intervalTime=5min&limit=x", 200,
     {"retCode": 10001, "retMsg": "params error: limit"}),
    ("/api.bybit.com/v5/market/funding/history?category=linear&symbol=BTCUSDT&limit=[]", 200, {"retCode": 10001}),
    ("/api.kraken.com/0/public/Depth?pair=XBTUSD&count=-5", 200, {"error": ["EGeneral:Invalid arguments"]}),
    ("/api.coinbase.com/api/v3/brokerage/market/products/BTC-USD/book?limit=-5", 400,
     {"error": "INVALID_ARGUMENT", "message": "limit"}),
    ("/api.bitget.com/api/v2/spot/market/orderbook?symbol=BTCUSDT&limit=%D9%A1", 400, {"code": "40034"}),
    ("/api-pub.bitfinex.com/v2/book/tBTCUSD/P0?len=%2025", 500, ["error", 10020, "len: invalid"]),
]


@pytest.mark.parametrize("path,status,want", MALFORMED, ids=[m[0].split("?")[1] for m in MALFORMED])
def test_rest_malformed_requests_get_the_venue_error(path, status, want):
    async def body():
        async with ExchangeSimulator(seed=1, interval=FAST, max_seconds=20) as sim:
            async with aiohttp.ClientSession() as s:
                async with s.get(sim.url + path) as r:
                    got = orjson.loads(await r.read())
                    assert r.status == status, got
                    if isinstance(want, dict):
                        assert {k: got.get(k) for k in want} == want
                    else:
                        assert got == want
    run(body(), 15)


# every REST endpoint the simulator serves: path ({name}: a path segment) -> its query parameters
REST_ENDPOINTS = {
    **{f"/{host}/{p}": params for host in ("api.binance.com/api/v3", "fapi.binance.com/fapi/v1")
       for p, params in [("ping", ()), ("time", ()), ("exchangeInfo", ("symbol", "symbols")),
                         ("depth", ("symbol", "limit")), ("trades", ("symbol", "limit")),
                         ("aggTrades", ("symbol", "fromId", "startTime", "endTime", "limit"))]},
    "/fapi.binance.com/fapi/v1/premiumIndex": ("symbol",),
    "/fapi.binance.com/fapi/v1/fundingRate": ("symbol", "limit"),
    "/fapi.binance.com/fapi/v1/openInterest": ("symbol",),
    **{f"/dapi.binance.com/dapi/v1/{p}": ("symbol",) for p in ("ping", "time", "exchangeInfo")},
    "/www.okx.com/api/v5/public/instruments": ("instType", "instId"),
    "/www.okx.com/api/v5/public/time": (), "/www.okx.com/api/v5/system/status": (),
    "/www.okx.com/api/v5/market/books": ("instId", "sz"),
    "/www.okx.com/api/v5/market/trades": ("instId", "limit"),
    **{f"/www.okx.com/api/v5/public/{p}": ("instId",) for p in ("funding-rate", "open-interest", "mark-price")},
    "/api.bybit.com/v5/market/instruments-info": ("category", "symbol", "status"),
    "/api.bybit.com/v5/market/time": (),
    **{f"/api.bybit.com/v5/market/{p}": ("category", "symbol", "limit")
       for p in ("orderbook", "recent-trade", "tickers", "funding/history")},
    "/api.bybit.com/v5/market/open-interest": ("category", "symbol", "intervalTime", "limit"),
    "/api.bybit.com/v5/market/risk-limit": ("category", "symbol"),
    **{f"/api.kraken.com/0/public/{p}": () for p in ("AssetPairs", "Assets", "Time", "SystemStatus")},
    "/api.kraken.com/0/public/Depth": ("pair", "count"),
    "/api.coinbase.com/api/v3/brokerage/market/products": ("product_type",),
    "/api.coinbase.com/api/v3/brokerage/market/products/{product_id}/book": ("limit",),
    "/api.coinbase.com/api/v3/brokerage/time": (),
    **{f"/api.coinbase.com/v2/{p}": () for p in ("currencies", "currencies/crypto", "exchange-rates")},
    **{f"/api.bitget.com/api/v2/{p}": () for p in ("spot/public/coins", "margin/currencies", "public/time")},
    "/api.bitget.com/api/v2/spot/public/symbols": ("symbol",),
    "/api.bitget.com/api/v2/mix/market/contracts": ("productType",),
    "/api.bitget.com/api/v2/spot/market/orderbook": ("symbol", "limit"),
    "/api-pub.bitfinex.com/v2/conf/{config}": (), "/api-pub.bitfinex.com/v2/platform/status": (),
    "/api-pub.bitfinex.com/v2/book/{symbol}/{precision}": ("len",),
}
# values that reach past the first checks of a handler, and odd ones
GOOD_VALUES = {
    "symbol": ["BTCUSDT", "ETHUSDT", "tBTCUSD"], "symbols": ['["BTCUSDT"]', '["BTCUSDT","ETHUSDT"]', "[]"],
    "limit": ["1", "5", "500", "5000"], "fromId": ["0", "1"], "startTime": ["0"], "endTime": ["99999999999999"],
    "instId": ["BTC-USDT", "BTC-USDT-SWAP"], "instType": ["SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN"],
    "sz": ["1", "400"], "category": ["spot", "linear", "inverse", "option"], "status": ["PreLaunch", "Trading"],
    "intervalTime": ["5min", "1h"], "pair": ["XBTUSD", "XXBTZUSD", "XBT/USD"], "count": ["1", "100"],
    "product_type": ["SPOT", "FUTURE"], "productType": ["USDT-FUTURES", "SPOT", "usdt-futures"],
    "len": ["1", "25", "100"], "product_id": ["BTC-USD", "ETH-USD", "NOPE"], "precision": ["P0", "R0", "P1"],
    "config": ["pub:info:pair", "pub:list:pair:exchange,pub:list:currency", "pub:nope"],
}
ODD_VALUES = ["", "[1", "[", "]", "[]", "{}", "null", "-1", "0", "1e3", "1.5", "0x10", " 5", "5 ", "1_0", "\u0661",
              "+5", "nan", "inf", "-0", "99999999999999999999", "9" * 400, '["BTCUSDT",1]', '["btcusdt"]', "\x00",
              "%", "BTC/USDT", "btcusdt", "\u00e9"]


def _encoded(value: str | bytes) -> str:
    """Percent-encoded query text: a str as UTF-8, bytes as they are (maybe not UTF-8)."""
    raw = value.encode() if isinstance(value, str) else value
    return "".join(f"%{b:02X}" for b in raw)


def _odd_values():
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
    return st.one_of(st.sampled_from(ODD_VALUES), text, st.binary(max_size=6))


@st.composite
def _request_path(draw, template: str, params: tuple[str, ...]) -> str:
    """A request of ``template``: mostly a valid one (each parameter usually present with a good
    value) with some values odd, some parameters repeated, bare or unknown."""
    path = template
    for segment in ("product_id", "config", "symbol", "precision"):
        if "{" + segment + "}" in path:
            good = GOOD_VALUES[segment] if segment != "symbol" else ["tBTCUSD", "BTCUSD", "tNOPE"]
            path = path.replace("{" + segment + "}", draw(st.sampled_from(good + ["NOPE", "%00", "%FF", "x" * 300])))
    pairs = []
    for name in params:
        if draw(st.integers(0, 4)) < 2:
            continue                                    # left out
        good = draw(st.integers(0, 4)) > 1
        value = draw(st.sampled_from(GOOD_VALUES[name]) if good else _odd_values())
        pairs.append(f"{name}={_encoded(value)}")
    for _ in range(draw(st.integers(0, 2))):          # repeated, bare or unknown parameters
        key = draw(st.sampled_from((*params, "x", "", "limit", "symbol")))
        pairs.append(key if draw(st.booleans()) else f"{key}={_encoded(draw(_odd_values()))}")
    order = draw(st.permutations(pairs))
    return path + ("?" + "&".join(order) if order else "")


def _venue_answer(path: str, status: int, raw: bytes) -> bool:
    """True if the answer is JSON in the venue's own format (a reply or its refusal)."""
    body = orjson.loads(raw)
    host = path.split("/")[1]
    if host.endswith("binance.com"):
        return status == 200 or (status == 400 and isinstance(body["code"], int) and body["code"] < 0
                                 and isinstance(body["msg"], str))
    if host == "www.okx.com":
        return (status, body["code"]) == (200, "0") or (status == 400 and body["code"] != "0" and body["data"] == [])
    if host == "api.bybit.com":
        return status == 200 and isinstance(body["retCode"], int) and isinstance(body["retMsg"], str)
    if host == "api.kraken.com":
        return status == 200 and isinstance(body["error"], list) and (bool(body["error"]) or "result" in body)
    if host == "api.coinbase.com":
        return status == 200 or (status in (400, 404) and set(body) == {"error", "message"})
    if host == "api.bitget.com":
        return (status, body["code"]) == (200, "00000") or (status == 400 and body["code"] != "00000")
    assert host == "api-pub.bitfinex.com", host
    return status == 200 or (status == 500 and body[:2] == ["error", 10020] and isinstance(body[2], str))


@pytest.fixture(scope="module")
def threaded_sim():
    """One simulator for the fuzz tests, serving from a thread and event loop of its own (the
    fuzz's clients are synchronous), frozen after 50 ticks (trades, marks and books to serve, no
    stream traffic). Yields (port, loop)."""
    ready = threading.Event()
    state: dict = {}

    async def serve():
        async with ExchangeSimulator(seed=5, interval=0.01, max_seconds=86_400) as sim:
            await asyncio.wait_for(sim.wait_updates("binanceusdm", "BTCUSDT", 50), 30)
            sim.pause()
            state["stop"] = asyncio.Event()
            state["port"] = sim.port
            ready.set()
            await state["stop"].wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(40)
    yield state["port"], loop
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(15)
    loop.close()


#: the fuzz tests' hypothesis settings: examples per REST endpoint and per websocket venue
#: (LIQ_SIM_FUZZ_EXAMPLES=1000 for a long run); the no-internet guard is the same for every example
FUZZ_SETTINGS = settings(max_examples=int(os.environ.get("LIQ_SIM_FUZZ_EXAMPLES", "40")), deadline=None,
                         database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("template", list(REST_ENDPOINTS))
@FUZZ_SETTINGS
@given(data=st.data())
def test_rest_fuzzed_query_strings_never_end_in_a_server_error(threaded_sim, template, data):
    """Any query string on any REST endpoint is answered in the venue's own format: the reply
    or the venue's refusal, never aiohttp's 500 of an unhandled exception (Bitfinex refuses
    with HTTP 500 ``["error", 10020, ...]`` itself)."""
    path = data.draw(_request_path(template, REST_ENDPOINTS[template]))
    conn = http.client.HTTPConnection("127.0.0.1", threaded_sim[0], timeout=15)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    assert _venue_answer(path, r.status, raw), (path, r.status, raw[:300])


# ------------------------------------------------- websocket: malformed requests answered
# per venue: its websocket path, valid requests to mutate, and a probe with the answer it gets
# (after the fuzzed request: a connection that still answers it survived the request)
WS_VENUES = {
    "binance": ("/stream.binance.com/ws/0",
                [{"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms", "ethusdt@trade"], "id": 1},
                 {"method": "UNSUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 2},
                 {"method": "SET_PROPERTY", "params": ["combined", True], "id": 3},
                 {"method": "GET_PROPERTY", "params": ["combined"], "id": 4}],
                {"method": "LIST_SUBSCRIPTIONS", "id": "probe"}, '"id":"probe"'),
    "okx": ("/ws.okx.com/ws/v5/public",
            [{"op": "subscribe", "args": [{"channel": "books5", "instId": "BTC-USDT"},
                                          {"channel": "trades", "instId": "BTC-USDT-SWAP"}]},
             {"op": "subscribe", "args": [{"channel": "liquidation-orders", "instType": "SWAP"}]},
             {"op": "unsubscribe", "args": [{"channel": "books5", "instId": "BTC-USDT"}]}],
            "ping", "pong"),
    "bybitlinear": ("/stream.bybit.com/v5/public/linear",
                    [{"op": "subscribe", "req_id": "1", "args": ["orderbook.50.BTCUSDT", "tickers.BTCUSDT"]},
                     {"op": "unsubscribe", "args": ["orderbook.50.BTCUSDT"]}],
                    {"op": "ping", "req_id": "probe"}, '"req_id":"probe"'),
    "kraken": ("/ws.kraken.com/v2",
               [{"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}, "req_id": 1},
                {"method": "subscribe", "params": {"channel": "instrument", "snapshot": True}},
                {"method": "unsubscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}}],
               {"method": "ping", "req_id": 424242}, '"req_id":424242'),
    "coinbase": ("/advanced-trade-ws.coinbase.com",
                 [{"type": "subscribe", "channel": "level2", "product_ids": ["BTC-USD", "ETH-USD"]},
                  {"type": "unsubscribe", "channel": "level2", "product_ids": ["BTC-USD"]},
                  {"type": "subscribe", "channel": "heartbeats"}],
                 {"type": "probe"}, "Failed to parse message"),
    "bitget": ("/ws.bitget.com/v2/ws/public",
               [{"op": "subscribe", "args": [{"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}]},
                {"op": "unsubscribe", "args": [{"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"}]}],
               "ping", "pong"),
    "bitfinex": ("/api-pub.bitfinex.com/ws/2",
                 [{"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P0", "freq": "F0",
                   "len": "25"},
                  {"event": "conf", "flags": 131072}, {"event": "unsubscribe", "chanId": 17000}],
                 {"event": "ping", "cid": 424242}, '"cid":424242'),
}
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                     | st.text(max_size=12), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@st.composite
def _mutated(draw, value):
    """``value`` (a JSON document) with one node replaced by any JSON value, or a key removed."""
    children = list(value.items()) if isinstance(value, dict) else list(enumerate(value)) \
        if isinstance(value, list) else []
    if not children or draw(st.integers(0, 3)) == 0:
        return draw(_JSON)
    key, child = draw(st.sampled_from(children))
    out = dict(value) if isinstance(value, dict) else list(value)
    if isinstance(out, dict) and draw(st.integers(0, 4)) == 0:
        del out[key]
    else:
        out[key] = draw(_mutated(child))
    return out


@pytest.mark.parametrize("venue", list(WS_VENUES))
@FUZZ_SETTINGS
@given(data=st.data())
def test_ws_fuzzed_requests_are_answered_and_the_connection_lives_on(threaded_sim, venue, data):
    """A malformed subscription request (one field of a valid one replaced by any JSON value, a
    key removed, or any JSON document) is answered the venue's way and the connection goes on:
    it answers the venue's ping (or a request of known answer) sent after it."""
    path, valid, probe, answer = WS_VENUES[venue]
    request = data.draw(st.one_of(st.sampled_from(valid).flatmap(_mutated), _JSON))
    port, loop = threaded_sim

    async def exchange() -> list[str]:
        frames: list[str] = []
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(f"ws://127.0.0.1:{port}{path}") as ws:
                await ws.send_str(json.dumps(request))
                await ws.send_str(probe if isinstance(probe, str) else json.dumps(probe))
                while not frames or answer not in frames[-1]:
                    msg = await ws.receive(timeout=10)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        raise AssertionError(f"{venue} ended the connection ({msg.type.name} {msg.data}) "
                                             f"after {request!r}: {frames[-3:]}")
                    frames.append(msg.data)
        return frames

    asyncio.run_coroutine_threadsafe(exchange(), loop).result(30)


def test_server_is_loopback_only_and_stops_itself():
    with pytest.raises(ValueError):
        ExchangeSimulator(host="0.0.0.0")

    async def body():
        sim = await ExchangeSimulator(interval=FAST, max_seconds=0.3).start()
        assert sim.url.startswith("http://127.0.0.1:") and sim.port > 0
        async with aiohttp.ClientSession() as s:
            ws = await s.ws_connect(sim.url.replace("http", "ws") + "/stream.binance.com/ws/btcusdt@depth@100ms")
            await asyncio.wait_for(sim.closed.wait(), 3)
            ends = []
            await ws_frames(ws, 10_000, ends=ends)                # the open stream is closed too
            assert (ends[0].type, ends[0].data) == (aiohttp.WSMsgType.CLOSE, 1001)
            await ws.close()
            with pytest.raises(aiohttp.ClientConnectionError):
                await s.get(sim.url + "/api.binance.com/api/v3/ping")
    run(body(), 15)


def test_guard_catches_a_client_not_pointed_at_the_simulator(no_internet):
    async def body():
        ex = ccxt_pro.binance({"enableRateLimit": False})
        try:
            with pytest.raises(ccxt.NetworkError):
                await ex.load_markets()
        finally:
            await ex.close()
    run(body(), 15)
    assert any("binance.com" in str(a) for a in no_internet)
    no_internet.clear()


# ------------------------------------------------------------------ truth of the sources
def test_binance_replay_true_book_equals_expected():
    market = Market(Instrument("binance", "BTCUSDT", "BTC", "USDT", "0.01", "0.00001", wire_decimals=(8, 8)),
                    BinanceRecording())
    assert market.last_id == BINANCE_EXPECTED["snapshot_lastUpdateId"]
    while not market.source.exhausted:
        market.tick(0, 0)
    assert market.updates == BINANCE_EXPECTED["applied"]
    assert market.last_id == BINANCE_EXPECTED["last_applied_u"]
    book = market.book

    def norm(lv):
        return f"{Decimal(lv[0]).normalize()}:{Decimal(lv[1]).normalize()}"
    text = "|".join("B" + norm(lv) for lv in book.top(0)) + "||" + "|".join("A" + norm(lv) for lv in book.top(1))
    assert hashlib.sha256(text.encode()).hexdigest() == BINANCE_EXPECTED["final_book_sha256"]


def test_okx_replay_checksums_equal_the_recorded_ones():
    total = 0
    for inst in okx_recording_instruments():
        market = Market(inst, OkxRecording(OKX_CAPTURE, inst.id))
        while not market.source.exhausted:
            market.tick(0, 0)
        exp = OKX_EXPECTED["per_instrument"][inst.id]
        assert market.updates == exp["update"]
        assert market.checksums_compared == exp["checksum_ok"]
        assert market.checksum_mismatches == []
        total += market.checksums_compared
        final = OKX_EXPECTED["final_state"][inst.id]
        assert list(market.book.top(0, 1)[0][:2]) == final["best_bid"]
        assert list(market.book.top(1, 1)[0][:2]) == final["best_ask"]
        assert [market.book.depth(0), market.book.depth(1)] == final["levels"]
        # and the C checksum agrees with the simulator's on the final book
        ob = OrderBook(price_decimals=inst.price_decimals, size_decimals=inst.size_decimals)
        ob.apply_snapshot(market.book.as_lists()["bids"], market.book.as_lists()["asks"])
        assert ob.checksum("okx") == market.checksum()
    assert total == 290
    # OKX's documented example
    assert okx_checksum([["3366.1", "7"], ["3366", "6"]], [["3366.8", "9"], ["3368", "8"]]) == -1881014294


@pytest.mark.parametrize("venue", ["binance", "okx"])
def test_synthetic_book_is_deterministic_uncrossed_and_on_grid(venue):
    inst = next(i for i in default_instruments() if i.venue == venue)

    def events(seed):
        src = SyntheticBook(inst, seed=seed)
        out = [src.next_event() for _ in range(1500)]
        return src, out

    src, a = events(1)
    _, b = events(1)
    _, c = events(2)
    assert a == b and a != c
    book = src.book
    assert not book.is_crossed
    assert src.min_levels <= book.depth(0) <= src.max_levels and src.min_levels <= book.depth(1) <= src.max_levels
    for ev in a:
        assert ev.bids or ev.asks
        for lv in ev.bids + ev.asks:
            assert Decimal(lv[0]) % inst.tick == 0 and Decimal(lv[1]) % inst.lot == 0
            if venue == "binance":
                assert len(lv) == 2 and lv[0].split(".")[1].__len__() == 8
            else:
                assert len(lv) == 4 and lv[2] == "0"
    # the changes concentrate near the touch: most are within 10 ticks of the best price
    near = 0
    total = 0
    start = SyntheticBook(inst, seed=3).initial()
    book = TrueBook()
    book.load(start.bids, start.asks)
    for ev in events(3)[1]:
        bb, ba = book.best_bid, book.best_ask
        book.apply(ev.bids, ev.asks)
        assert not book.is_crossed
        for lv in ev.bids:
            total += 1
            near += abs(bb - Decimal(lv[0])) <= 10 * inst.tick
        for lv in ev.asks:
            total += 1
            near += abs(Decimal(lv[0]) - ba) <= 10 * inst.tick
    assert near / total > 0.6


# ------------------------------------------------- stock ccxt.pro: Bybit, Kraken, Coinbase
NEW_CASES = [("bybit", "BTC/USDT", "BTCUSDT", 50), ("kraken", "BTC/USD", "XXBTZUSD", 10),
             ("coinbase", "BTC/USD", "BTC-USD", None)]


async def _quiet(sim, venue):
    """Freeze the simulator and let the client take everything already sent."""
    sim.pause()
    await until(lambda: all(c.queue.empty() or c.closing for c in sim.connections_of(venue)))
    await asyncio.sleep(0.1)


@pytest.mark.parametrize("exid,symbol,vid,depth", NEW_CASES, ids=[c[0] for c in NEW_CASES])
def test_ccxt_pro_new_venues_book_equals_true_book(exid, symbol, vid, depth):
    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(getattr(ccxt_pro, exid)({"enableRateLimit": False}))
            try:
                for _ in range(40):
                    await asyncio.wait_for(ex.watch_order_book(symbol), 5)
                await _quiet(sim, exid)
                ob = ex.orderbooks[symbol]
                truth = sim.true_book(exid, vid, depth)
                assert ob["bids"][:] == floats(truth["bids"], 10**6)
                assert ob["asks"][:] == floats(truth["asks"], 10**6)
                assert len(truth["bids"]) >= min(depth or 20, 20)
                assert ex.markets[symbol]["precision"]["price"] == float(sim.market(exid, vid).instrument.tick)
            finally:
                await ex.close()
            paths = [p for _, p in sim.requests]
            assert paths and sim.unhandled == []
    run(body(), 15)


def test_bybit_kraken_coinbase_wire_protocols():
    """What a raw client sees: Bybit's contiguous u (and the dropped one), Kraken's numbers
    with the pair's decimals and checksums (the corrupted one too), Coinbase's sequence_num
    over every message of the connection (and the dropped one)."""
    from liqcore.sim import kraken_checksum

    async def body():
        faults = {"bybit": FaultPlan(drop={5}), "kraken": FaultPlan(bad_checksum={3}),
                  "coinbase": FaultPlan(drop={4}, stream="BTC-USD")}
        async with ExchangeSimulator(seed=2, interval=FAST, max_seconds=20, faults=faults) as sim:
            async with aiohttp.ClientSession() as http:
                # Bybit
                async with http.ws_connect(sim.url.replace("http", "ws") + "/stream.bybit.com/v5/public/spot") as ws:
                    await ws.send_str('{"op":"subscribe","req_id":"7","args":["orderbook.50.BTCUSDT"]}')
                    frames = [orjson.loads(f) for f in await ws_frames(ws, 10)]
                    assert frames[0] == {"success": True, "ret_msg": "subscribe", "conn_id": frames[0]["conn_id"],
                                         "op": "subscribe", "req_id": "7"}
                    assert frames[1]["type"] == "snapshot" and len(frames[1]["data"]["b"]) == 50
                    us = [f["data"]["u"] for f in frames[1:]]
                    assert us[1:5] == list(range(us[0] + 1, us[0] + 5)) and us[5] == us[4] + 2   # frame 5 lost
                    assert all(len(lv[1].split(".")[1]) == 6 for f in frames[1:] for lv in f["data"]["b"])
                    await ws.send_str('{"op":"subscribe","req_id":"8","args":["orderbook.50.BTCUSDT"]}')
                    await ws.send_str('{"op":"ping","req_id":"9"}')
                    replies = [orjson.loads(f) for f in await ws_frames(ws, 30)]
                    replies = [r for r in replies if "op" in r]
                    assert replies[0]["success"] is False and "already subscribed" in replies[0]["ret_msg"]
                    assert replies[1]["ret_msg"] == "pong"
                # Kraken
                async with http.ws_connect(sim.url.replace("http", "ws") + "/ws.kraken.com/v2") as ws:
                    await ws.send_str('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"]},'
                                      '"req_id":3}')
                    raw = await ws_frames(ws, 8)
                    msgs = [json.loads(f, parse_float=str) for f in raw]
                    assert msgs[0]["channel"] == "status" and msgs[1]["success"] is True
                    snap = msgs[2]["data"][0]
                    assert msgs[2]["type"] == "snapshot" and len(snap["bids"]) == 10
                    assert '"qty":' in raw[2] and all(len(lv["qty"].split(".")[1]) == 8 for lv in snap["asks"])
                    book = OrderBook(price_decimals=1, size_decimals=8, max_depth=10)
                    oks = []
                    for i, m in enumerate(msgs[2:]):
                        d = m["data"][0]
                        side = book.apply_snapshot if i == 0 else book.apply_levels
                        side([(lv["price"], lv["qty"]) for lv in d["bids"]], [(lv["price"], lv["qty"]) for lv in d["asks"]])
                        oks.append(book.checksum("kraken") == d["checksum"])
                        assert book.checksum("kraken") == kraken_checksum(book.level_strings("bid"),
                                                                          book.level_strings("ask"))
                    assert oks == [True, True, True, False, True, True]        # data frame 3 corrupted
                # Coinbase
                async with http.ws_connect(sim.url.replace("http", "ws") + "/advanced-trade-ws.coinbase.com") as ws:
                    await ws.send_str('{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}')
                    msgs = [orjson.loads(f) for f in await ws_frames(ws, 16)]
                    seqs = [m["sequence_num"] for m in msgs]
                    assert [m["channel"] for m in msgs[:3]] == ["l2_data", "l2_data", "subscriptions"]
                    assert msgs[2]["events"] == [{"subscriptions": {"level2": ["BTC-USD", "ETH-USD"]}}]
                    assert seqs[:3] == [0, 1, 2]
                    missing = sorted(set(range(seqs[-1])) - set(seqs))
                    assert len(missing) == 1                                 # BTC-USD's data frame 4
                    assert {m["events"][0]["product_id"] for m in msgs[3:]} == {"BTC-USD", "ETH-USD"}
            assert sim.unhandled == []
    run(body(), 15)


def test_bybit_linear_wire_protocol():
    """Bybit USDT perpetuals beside the spot pair with the same id: REST routed by ``category``,
    the ``linear`` socket (venue ``bybitlinear``, its own fault plan) with books, trades, tickers
    and liquidations as Bybit writes them, all equal to the simulator's records."""
    async def body():
        faults = {"bybitlinear": FaultPlan(drop={2}, stream="orderbook")}
        async with ExchangeSimulator(seed=4, interval=FAST, max_seconds=20, faults=faults) as sim:
            api = sim.url + "/api.bybit.com/v5/market"
            async with aiohttp.ClientSession() as http:
                async def get(path):
                    async with http.get(api + path) as r:
                        return await r.json()
                lin = (await get("/instruments-info?category=linear"))["result"]["list"]
                spot = (await get("/instruments-info?category=spot"))["result"]["list"]
                assert [i["symbol"] for i in lin] == ["BTCUSDT"] and lin[0]["contractType"] == "LinearPerpetual"
                assert lin[0]["priceFilter"]["tickSize"] == "0.10" and lin[0]["settleCoin"] == "USDT"
                assert "BTCUSDT" in [i["symbol"] for i in spot] and "contractType" not in spot[0]
                assert (await get("/instruments-info?category=linear&status=PreLaunch"))["result"]["list"] == []
                ob_l = (await get("/orderbook?category=linear&symbol=BTCUSDT&limit=5"))["result"]
                ob_s = (await get("/orderbook?category=spot&symbol=BTCUSDT&limit=5"))["result"]
                assert len(ob_l["b"][0][1].split(".")[1]) == 3 and len(ob_s["b"][0][1].split(".")[1]) == 6
                assert (await get("/orderbook?category=inverse&symbol=BTCUSDT"))["retCode"] == 10001
                await asyncio.sleep(0.1)
                t = (await get("/tickers?category=linear&symbol=BTCUSDT"))["result"]["list"][0]
                proc = sim.market_data[("bybitlinear", "BTCUSDT")]
                assert {"markPrice", "indexPrice", "fundingRate", "nextFundingTime", "openInterest"} <= set(t)
                assert int(t["nextFundingTime"]) % (8 * 3_600_000) == 0
                oi = (await get("/open-interest?category=linear&symbol=BTCUSDT&intervalTime=5min"))["result"]["list"]
                assert oi[0]["openInterest"] in [f"{Decimal(v):.8f}" for _, v in proc.open_interest]
                assert (await get("/open-interest?category=spot&symbol=BTCUSDT&intervalTime=5min"))["retCode"] == 10001
                async with http.ws_connect(sim.url.replace("http", "ws") + "/stream.bybit.com/v5/public/linear") as ws:
                    await ws.send_str('{"op":"subscribe","req_id":"1","args":["orderbook.50.BTCUSDT",'
                                      '"publicTrade.BTCUSDT","tickers.BTCUSDT","allLiquidation.BTCUSDT"]}')
                    msgs = [orjson.loads(f) for f in await ws_frames(ws, 200)]
                assert msgs[0]["success"] is True
                by_topic: dict = {}
                for m in msgs[1:]:
                    by_topic.setdefault(m["topic"].split(".")[0], []).append(m)
                us = [m["data"]["u"] for m in by_topic["orderbook"]]
                assert us[2] == us[1] + 2 and all(b == a + 1 for a, b in zip(us[2:], us[3:]))   # frame 2 lost
                assert sim.connections_of("bybitlinear")[0].faults_log == [("drop", "orderbook.50.BTCUSDT", 2)]
                assert not sim.connections_of("bybit")
                raw = {str(i): (px, sz, ts, "Sell" if bm else "Buy") for i, px, sz, ts, bm in proc.raw_trades()}
                trades = [d for m in by_topic["publicTrade"] for d in m["data"]]
                assert trades and all((d["p"], d["v"], d["T"], d["S"]) == raw[d["i"]] for d in trades)
                tick = by_topic["tickers"]
                assert tick[0]["type"] == "snapshot" and all(m["type"] == "delta" for m in tick[1:])
                marks = {m.ts_ms: m for m in proc.marks}
                assert all(m["data"]["markPrice"] == marks[m["ts"]].mark for m in tick[1:] if "markPrice" in m["data"])
                liqs = {(q.ts_ms, q.price, q.size): q.side for q in proc.liquidations}
                rows = [d for m in by_topic.get("allLiquidation", []) for d in m["data"]]
                assert rows and all(liqs[(d["T"], d["p"], d["v"])] == ("sell" if d["S"] == "Buy" else "buy")
                                    for d in rows)
    asyncio.run(asyncio.wait_for(body(), 20))


def test_the_guard_sees_aiohttp_on_uvloop(no_internet):
    """liqcore.feed.run runs on uvloop, whose DNS and connects bypass the socket module: the
    guard must still see a lookup that aiohttp (ccxt's transport) makes there."""
    uvloop = pytest.importorskip("uvloop")
    import aiohttp

    async def fetch():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(OSError):
                await session.get("http://exchange.invalid/api")

    uvloop.run(fetch())
    assert no_internet == ["exchange.invalid"]
    no_internet.clear()


def test_bybit_risk_limit_through_stock_ccxt():
    """ccxt's fetch_market_leverage_tiers (Bybit v5 ``/market/risk-limit``) against the simulator:
    the tiers ccxt parses are the simulator's table, and a malformed request gets Bybit's error."""
    from liqcore.sim.bybit_protocol import RISK_LIMITS

    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=20) as sim:
            ex = sim.attach(ccxt_pro.bybit({"enableRateLimit": False}))
            try:
                tiers = await ex.fetch_market_leverage_tiers("BTC/USDT:USDT")
                with pytest.raises(ccxt.BadRequest):
                    await ex.fetch_market_leverage_tiers("BTC/USDT")          # spot: no tiers
                async with __import__("aiohttp").ClientSession() as http:
                    async with http.get(sim.url + "/api.bybit.com/v5/market/risk-limit?category=spot") as r:
                        bad = await r.json()
            finally:
                await ex.close()
        return tiers, bad

    tiers, bad = run(body())
    assert bad["retCode"] == 10001
    assert len(tiers) == len(RISK_LIMITS) == 10
    for n, (t, row) in enumerate(zip(tiers, RISK_LIMITS)):
        assert t["tier"] == n + 1 and t["symbol"] == "BTC/USDT:USDT" and t["currency"] == "USDT"
        assert t["minNotional"] == (0 if n == 0 else float(RISK_LIMITS[n - 1]["riskLimitValue"]))
        assert t["maxNotional"] == float(row["riskLimitValue"])
        assert t["maintenanceMarginRate"] == float(row["maintenanceMargin"])
        assert t["maxLeverage"] == float(row["maxLeverage"])
    assert tiers[2]["maintenanceMarginRate"] == 0.015 and tiers[2]["info"]["mmDeduction"] == "30000"
