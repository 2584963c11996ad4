"""The Bitfinex adapter of liqcore.feed run for real: ccxt.pro ``bitfinex`` through
:class:`~liqcore.feed.ccxt_bitfinex.BitfinexEngine` against the simulator's Bitfinex v2 protocol.

What is proved here:

* clean runs (two pairs on one socket): the compiled book equals the simulator's 25-level book
  window level for level, every ``cs`` frame the simulator sent was verified in C (the C
  checksum, with JavaScript number formatting, agrees with the simulator's independent Python
  one), ccxt's Python book stays empty and ccxt's own checksum and ``conf`` are off;
* after each fault the book again equals the truth and the counters say what happened: lost,
  duplicated, reordered or corrupted frames are checksum failures, each resynced by
  ``unsubscribe`` (chanId) + ``subscribe`` on the same socket, so resyncs equal checksum
  failures; malformed frames are skipped; a disconnect is healed;
* numbers in exponent form (``1.5e-9``) and prices with more decimals than the book holds widen
  the book's scales, and the checksum over them still verifies;
* ``info`` 20051/20061 (restart, maintenance over) reconnect and resync;
* heartbeats keep a quiet book live under the feed's idle watchdog (and without them the
  watchdog resyncs it: the negative control);
* a book altered behind the feed's back is caught by the next checksum;
* the protocol's own answers (info, pong, conf, Bitfinex's error codes, SEQ_ALL, REST) as a raw
  client sees them.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import orjson
import pytest

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, SimBook, assert_equals_truth, check_fault_counters, drained, live_feed,  # noqa: E402
                     run, run_feed, tamper_until_caught, until)

from liqcore.feed import create_exchange  # noqa: E402
from liqcore.feed.ccxt_bitfinex import BitfinexEngine  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan, SyntheticBook, bitfinex_checksum, js_number  # noqa: E402
from liqcore.sim.bitfinex_protocol import BitfinexBookStream  # noqa: E402
from liqcore.sim.instruments import default_instruments  # noqa: E402

BTC = BOOKS["bitfinex"]
ETH = SimBook("bitfinex", "ETH/USD", "bitfinex", "tETHUSD", 25)


def window(sim, vid, depth=25):
    truth = sim.true_book("bitfinex", vid, depth)
    return [lv[:2] for lv in truth["bids"]], [lv[:2] for lv in truth["asks"]]


# --------------------------------------------------------------------------- clean runs
def test_books_equal_their_true_books_and_every_checksum_verifies():
    r = run(run_feed([BTC, ETH], updates=200, seed=4))
    stats, received, ex = r.stats, r.received, r.exchange
    sent = [r.sim.checksums_sent.get(("bitfinex", b.vid), 0) for b in (BTC, ETH)]
    for st, n in zip(stats, sent):
        assert st["applied"] >= 200 and st["resyncs"] == 0 and st["snapshots"] == 1, st
        assert st["state"] == "live" and st["watch_calls"] == 1 and st["stale_skipped"] == 0
        # every cs frame the simulator sent was verified in C (one per update, several level frames each)
        assert n >= 30 and st["checksum_ok"] == n and st["checksum_failed"] == 0, (st, n)
        assert st["applied"] > st["checksum_ok"]
        assert st["last_latency_ns"] > 0
    subs = [orjson.loads(r) for r in received]
    assert {"event": "conf", "flags": 131072} in subs and ex.liq_confs == 1       # the engine's conf, once
    assert sorted(s["symbol"] for s in subs if s["event"] == "subscribe") == ["tBTCUSD", "tETHUSD"]
    assert len(subs) == 3
    assert ex.options["checksum"] is False and ex.options["watchOrderBook"]["checksum"] is False


def test_adapter_is_registered():
    ex = create_exchange("bitfinex")
    assert type(ex) is BitfinexEngine and ex.liq_cross_policy == "allow"


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (fault plan, expected counters: name -> minimum (or exact with "=="))
    # four level frames in a row lost: the next checksum cannot match (unless the frames were only
    # checksums, or later frames rewrote every lost level: then the book is right anyway)
    (FaultPlan(drop=range(40, 44)), {"checksum_failed": 1}),
    # a level frame twice is the same absolute size again, a cs frame twice the same check: harmless
    (FaultPlan(duplicate={40, 60}), {"resyncs": "==0", "checksum_failed": "==0"}),
    # two level frames swapped: harmless unless the held frame is sent after its update's cs (that
    # checksum then fails, and the book resyncs); either way the book ends on the truth
    (FaultPlan(reorder={40}), {"resyncs": 0}),
    (FaultPlan(bad_checksum=set(range(30, 60))), {"checksum_failed": 1}),
    (FaultPlan(malformed={40, 60}), {"resyncs": "==0", "checksum_failed": "==0"}),
    ([FaultPlan(disconnect_after=60, disconnect_mode="abort")], {"disconnects": "==1", "snapshots": "==2"}),
    ([FaultPlan(disconnect_after=60)], {"disconnects": "==1", "snapshots": "==2"}),
]


@pytest.mark.parametrize("plan,expect", FAULTS, ids=[str(i) for i in range(len(FAULTS))])
def test_book_equals_true_book_after_fault(plan, expect):
    r = run(run_feed([BTC], plan=plan, updates=150))
    (stats,), received, ex = r.stats, r.received, r.exchange
    plans = check_fault_counters(stats, plan, expect, r.faults)
    assert stats["watch_errors"] == 0
    # no sequence ids at Bitfinex: every resync is a checksum failure or a lost connection
    assert stats["gaps"] == 0 and stats["resyncs"] == stats["checksum_failed"] + stats["disconnects"], stats
    if stats["resyncs"] and not stats["disconnects"]:
        # resynced on the same socket: unsubscribe the old chanId, subscribe again; the unsubscribe's
        # acknowledgement was the engine's (ccxt did not fail over it)
        kinds = [orjson.loads(r)["event"] for r in received]
        assert kinds == ["subscribe", "conf"] + ["unsubscribe", "subscribe"] * stats["resyncs"] or \
            kinds == ["conf", "subscribe"] + ["unsubscribe", "subscribe"] * stats["resyncs"], received
        assert ex.liq_unsubscribes == stats["resyncs"] and sum(ex.liq_unsub_acks_due.values()) == 0
    assert ex.liq_malformed == sum(len(p.malformed) for p in plans)     # counted and skipped


# ------------------------------------------------------------ numbers and scales on the wire
def test_exponent_amounts_and_extra_price_decimals_widen_the_book():
    """Frames the synthetic process never sends, written to the socket by the simulator: a new
    best bid with 10 price decimals and an amount in exponent form (``1.5e-9``: 9 decimals, more
    than the 8 of the book), then the checksum Bitfinex would send for the resulting book."""
    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=25) as sim:
            async with live_feed(sim, "bitfinex", [BTC.symbol], applied=30) as feed:
                live = feed.live_book("bitfinex", BTC.symbol)
                await drained(sim, feed, "bitfinex", [BTC.symbol])
                ex = feed.exchange("bitfinex")
                chan = ex.liq_protocol.channel_id(next(iter(ex.clients.values())), BTC.vid)
                bids, asks = window(sim, BTC.vid)
                assert (live.book.price_decimals, live.book.size_decimals) == (8, 8)
                price = str(Decimal(bids[0][0]) + Decimal("0.0000000001"))        # 10 decimals
                assert len(price) == 16 and len(price.replace(".", "")) == 15
                new_bids = ([(price, "0.0000000015")] + bids)[:25]                   # len 25: the last falls off
                (conn,) = sim.connections_of("bitfinex")
                conn.send_control(f"[{chan},[{price},1,1.5e-9]]")
                conn.send_control(f'[{chan},"cs",{bitfinex_checksum(new_bids, asks)}]')
                ok = live.stats.checksum_ok
                await until(lambda: live.stats.checksum_ok != ok or live.stats.resyncs != 0)
                assert live.stats.resyncs == 0 and live.stats.checksum_failed == 0
                assert (live.book.price_decimals, live.book.size_decimals) == (10, 10)
                assert live.stats.rescaled >= 1
                assert live.book.level_strings("bid") == [list(lv) for lv in new_bids]
                assert js_number("0.0000000015") == "1.5e-9"
    run(body(), 25)


# ----------------------------------------------------------------- info events
@pytest.mark.parametrize("code", [20051, 20061])
def test_info_restart_and_maintenance_end_reconnect_and_resync(code):
    """Bitfinex's ``info`` 20051 ("please reconnect") and 20061 ("maintenance ended: resubscribe"),
    written to the socket by the simulator: the engine drops the connection, the feed redials,
    subscribes again and the book is back on the truth from a new snapshot."""
    async def body():
        async with ExchangeSimulator(seed=6, interval=FAST, max_seconds=25) as sim:
            async with live_feed(sim, "bitfinex", [BTC.symbol], applied=20) as feed:
                live = feed.live_book("bitfinex", BTC.symbol)
                (conn,) = sim.connections_of("bitfinex")
                conn.send_control({"event": "info", "code": code, "msg": "Stopping. Please try to reconnect"})
                await until(lambda: live.stats.snapshots >= 2 and live.is_live and live.stats.applied >= 60)
                await drained(sim, feed, "bitfinex", [BTC.symbol])
                assert_equals_truth(feed, sim, BTC)
                st = feed.stats("bitfinex", BTC.symbol)
                assert st["disconnects"] == 1 and st["resyncs"] == 1 and st["checksum_failed"] == 0, st
                assert len(sim.connections_of("bitfinex")) == 2 and feed.exchange("bitfinex").liq_confs == 2
    run(body(), 25)


# ---------------------------------------------------------------------------- heartbeats
class _QuietAfter:
    """A synthetic book that stops changing after ``n`` events (the market keeps ticking)."""

    def __init__(self, inst, n):
        self._book, self._left = SyntheticBook(inst, seed=1), n

    def initial(self):
        return self._book.initial()

    def next_event(self):
        self._left -= 1
        return self._book.next_event()

    @property
    def exhausted(self):
        return self._left <= 0


@pytest.mark.parametrize("heartbeats", [True, False])
def test_heartbeats_keep_a_quiet_book_live(monkeypatch, heartbeats):
    # 40 ticks = 0.2 s at the test tick; without heartbeats the channel is silent
    monkeypatch.setattr(BitfinexBookStream, "heartbeat_ticks", 40 if heartbeats else 10**9)
    (inst,) = [i for i in default_instruments() if i.venue == "bitfinex" and i.id == BTC.vid]

    async def body():
        async with ExchangeSimulator([(inst, _QuietAfter(inst, 60))], interval=FAST, max_seconds=25) as sim:
            async with live_feed(sim, "bitfinex", [BTC.symbol], idle_timeout=1.0) as feed:
                live = feed.live_book("bitfinex", BTC.symbol)
                await until(lambda: sim.market("bitfinex", BTC.vid).source.exhausted)
                seen = live.stats.messages
                await asyncio.sleep(3.0)                        # three idle timeouts without a change
                st = feed.stats("bitfinex", BTC.symbol)
                if heartbeats:
                    assert st["resyncs"] == 0 and st["snapshots"] == 1 and st["state"] == "live", st
                    assert live.stats.messages >= seen + 10           # the heartbeats, counted
                else:
                    assert st["resyncs"] >= 2 and st["snapshots"] >= 3, st    # the idle watchdog resubscribed
                assert st["checksum_failed"] == 0 and st["handler_errors"] == 0
                await drained(sim, feed, "bitfinex", [BTC.symbol])
                assert feed.book("bitfinex", BTC.symbol).level_strings("bid") == window(sim, BTC.vid)[0]
    run(body(), 30)


# --------------------------------------------------------------- negative control
def test_tampered_book_is_caught_by_the_bitfinex_checksum_and_resynced():
    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=25) as sim:
            async with live_feed(sim, "bitfinex", [BTC.symbol], applied=20) as feed:
                live = feed.live_book("bitfinex", BTC.symbol)
                # one size of the checksummed top 25 grows by 1e-8; Bitfinex sends a frame per level,
                # so a checksum comes every few messages
                live = await tamper_until_caught(sim, feed, "bitfinex", BTC.symbol, 20, "0.00000001",
                                                 lambda sim: window(sim, BTC.vid)[1], patience=20, after=40)
                assert live.stats.checksum_failed == 1
                assert_equals_truth(feed, sim, BTC)
                assert "checksum mismatch" in repr(live.last_error)
    run(body(), 25)


# ------------------------------------------------------------------ the protocol itself
def test_protocol_answers_as_bitfinex_does():
    async def body():
        async with ExchangeSimulator(seed=2, interval=FAST, max_seconds=20) as sim:
            sim.pause()
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(f"{sim.url.replace('http', 'ws')}/api-pub.bitfinex.com/ws/2") as ws:
                    async def recv():
                        return orjson.loads(await ws.receive_str(timeout=5))

                    async def send(obj):
                        await ws.send_str(obj if isinstance(obj, str) else orjson.dumps(obj).decode())

                    info = await recv()
                    assert info["event"] == "info" and info["version"] == 2 and info["platform"] == {"status": 1}
                    await send({"event": "ping", "cid": 1234})
                    pong = await recv()
                    assert pong["event"] == "pong" and pong["cid"] == 1234 and pong["ts"] > 0
                    await send("{not json")
                    assert (await recv())["code"] == 10000
                    await send({"event": "nope"})
                    assert (await recv())["code"] == 10001
                    book = {"event": "subscribe", "channel": "book", "symbol": "tBTCUSD"}
                    for req, code in [({**book, "symbol": "tNOPE"}, 10300), ({**book, "prec": "P1"}, 10011),
                                      ({**book, "len": "7"}, 10012), ({**book, "channel": "candles"}, 10302),
                                      ({**book, "freq": "F1"}, 10300)]:
                        await send(req)
                        err = await recv()
                        assert err["event"] == "error" and err["code"] == code, (req, err)
                        assert err["symbol"] == req["symbol"]                  # the request's fields echoed
                    await send({"event": "unsubscribe", "chanId": 1})
                    assert (await recv())["code"] == 10400
                    await send({"event": "conf", "flags": 131072 + 65536})
                    assert await recv() == {"event": "conf", "status": "OK", "flags": 131072 + 65536}
                    await send(book)
                    sub = await recv()
                    chan = sub["chanId"]
                    assert sub == {"event": "subscribed", "channel": "book", "chanId": chan, "symbol": "tBTCUSD",
                                   "prec": "P0", "freq": "F0", "len": "25", "pair": "BTCUSD"}
                    raw = await ws.receive_str(timeout=5)
                    snap = json.loads(raw, parse_float=str, parse_int=str)      # the numbers' text
                    await send(book)
                    assert (await recv())["code"] == 10301                    # already subscribed
                    assert snap[0] == str(chan) and len(snap[1]) == 50 and snap[2] == "1"   # SEQ_ALL numbers frames
                    bids, asks = window(sim, "tBTCUSD")
                    assert [[p, a] for p, _, a in snap[1][:25]] == [[js_number(p), js_number(a)] for p, a in bids]
                    assert [[p, a] for p, _, a in snap[1][25:]] == \
                        [[js_number(p), js_number("-" + a)] for p, a in asks]
                    assert all(int(c) >= 1 for _, c, _ in snap[1])
                    assert ".0," not in raw                          # JavaScript numbers: 60000, not 60000.0
                    sim.resume()
                    seq, frames = 1, []
                    while not frames or frames[-1][1] != "cs":
                        frames.append(await recv())
                        assert frames[-1][0] == chan and frames[-1][-1] == seq + 1
                        seq += 1
                    for f in frames[:-1]:                                # one level per frame
                        price, count, amount = f[1]
                        assert count >= 0 and amount != 0 and (count > 0 or abs(amount) == 1)
                    sim.pause()
                    await send({"event": "unsubscribe", "chanId": chan})
                    while (msg := await recv()) and not isinstance(msg, dict):
                        pass                                             # frames in flight before the ack
                    assert msg == {"event": "unsubscribed", "status": "OK", "chanId": chan}
                async with s.get(f"{sim.url}/api-pub.bitfinex.com/v2/conf/pub:info:pair,pub:list:pair:margin") as r:
                    pairs, margin = await r.json()
                    assert [p[0] for p in pairs] == ["BTCUSD", "ETHUSD"] and margin == ["BTCUSD", "ETHUSD"]
                async with s.get(f"{sim.url}/api-pub.bitfinex.com/v2/conf/pub:nope") as r:
                    assert r.status == 500 and await r.json() == ["error", 10020, "config: invalid"]
                async with s.get(f"{sim.url}/api-pub.bitfinex.com/v2/book/tBTCUSD/P0?len=25") as r:
                    levels = await r.json()
                    assert len(levels) == 50 and all(a > 0 for _, _, a in levels[:25]) and \
                        all(a < 0 for _, _, a in levels[25:])
            assert sim.unhandled == []
    run(body(), 25)


def test_simulator_checksum_matches_javascript_and_c_on_awkward_numbers():
    """The simulator's Python checksum and liqcore's C one agree on numbers JavaScript writes in
    exponent form or with many digits (both are compared against Bitfinex's rendering rules)."""
    from liqcore import OrderBook
    bids = [("64000", "0.00000001"), ("63999.99999999", "1.5"), ("100", "12345.6789")]
    asks = [("64100", "0.00000002"), ("64100.5", "0.0000009"), ("1000000", "0.000001")]
    assert [js_number(a) for _, a in asks] == ["2e-8", "9e-7", "0.000001"]
    book = OrderBook(price_decimals=8, size_decimals=8)
    book.apply_snapshot(bids, asks)
    assert book.checksum("bitfinex") == bitfinex_checksum(bids, asks)
