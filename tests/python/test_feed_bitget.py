"""The Bitget adapter of liqcore.feed run for real: ccxt.pro ``bitget`` through
:class:`~liqcore.feed.ccxt_bitget.BitgetEngine` against the simulator's Bitget v2 protocol.

What is proved here:

* the real Bitget capture (tests/data/cryptofeed/BITGET.ws.1.0, spot v1, 8 instruments) served
  through the simulator's v2 protocol: every recorded update arrives, every **recorded** checksum
  (the simulator sends the exchange's values) verifies in C — 443 over 8 instruments (every
  ``books`` message of the capture), per instrument as EXPECTED.json counts them — and the final
  books are EXPECTED.json's;
* clean synthetic runs (spot, and the USDT-M perpetual with the same id ``BTCUSDT`` beside it):
  the compiled book equals the simulator's true book level for level at the same ``seq``, every
  message's checksum verified in C, ccxt's Python book empty;
* after each fault the book again equals the truth and the counters say what happened: lost
  messages and a corrupted checksum are checksum failures, a reordered frame is a checksum
  failure or a backwards ``seq``, each resynced by unsubscribe + subscribe on the same socket; a
  duplicate is skipped (same ``seq``); malformed frames are skipped; a disconnect is healed;
* Bitget's ``seq`` rule on the wire: a repeated ``seq`` is skipped, a lower one is a gap;
* negative control: a book altered behind the feed's back is caught by the next checksum;
* the protocol's own answers (pong, acks, Bitget's error codes) as a raw client sees them.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, SimBook, assert_equals_truth, assert_final_book, check_fault_counters,  # noqa: E402
                     drained, exchanges, run, run_feed, serving_capture, tamper_until_caught, until)

from liqcore.feed import LiveFeed, create_exchange  # noqa: E402
from liqcore.feed.ccxt_bitget import BitgetEngine  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan, bitget_recording_markets, okx_checksum  # noqa: E402

CAPTURE = Path(__file__).resolve().parents[1] / "data" / "cryptofeed" / "BITGET.ws.1.0"
SPOT = BOOKS["bitget"]
SWAP = SimBook("bitget", "BTC/USDT:USDT", "bitgetswap", "BTCUSDT")       # on the spot pair's socket


# ------------------------------------------------------- the real recording through the adapter
def test_bitget_recording_served_to_the_live_adapter_verifies_every_checksum():
    """The 2022 Bitget spot capture (8 instruments, v1 ``sp`` books without ``seq``) replayed by
    the simulator over its v2 protocol to ccxt.pro and liqcore's Bitget adapter: every recorded
    update arrives, every recorded checksum verifies in C (snapshots included: 443, every ``books``
    message of the capture), and the final books are the ones EXPECTED.json lists."""
    expected = json.loads((CAPTURE.parent / "EXPECTED.json").read_text())["BITGET.ws.1.0"]
    markets = bitget_recording_markets(CAPTURE)
    assert sorted(i.id for i, _ in markets) == sorted(expected["per_instrument"])
    symbols = {i.id: f"{i.base}/{i.quote}" for i, _ in markets}

    want = {vid: expected["per_instrument"][vid]["update"] for vid in symbols}

    async def body():
        async with ExchangeSimulator(markets, interval=FAST, max_seconds=40) as sim:
            async with serving_capture(sim, "bitget", symbols, want, live_within=15) as (_, lives):
                total = 0
                for vid, live in lives.items():
                    st = live.stats
                    assert (st.applied, st.snapshots, st.checksum_failed, st.gaps, st.resyncs) == \
                        (want[vid], 1, 0, 0, 0), (vid, st)
                    assert st.checksum_ok == expected["per_instrument"][vid]["checksum_ok"], vid
                    assert st.checksum_absent == 0 and st.stale_skipped == 0 and st.handler_errors == 0
                    total += st.checksum_ok
                    assert_final_book(live.book, expected["final_state"][vid], vid)
                    # the simulator's own checksum agreed with every recorded one (it is an oracle,
                    # but what the client compared against was the recorded value)
                    market = sim.market("bitget", vid)
                    assert market.checksum_mismatches == [] and market.checksums_compared == want[vid] + 1
                assert total == sum(v["checksum_ok"] for v in expected["per_instrument"].values()) == 443
            (conn,) = sim.connections_of("bitget")
            subs = [r for r in conn.received if r != "ping"]          # ccxt may ping on a slow machine
            assert len(subs) == 8 and all('"op":"subscribe"' in r and '"books"' in r for r in subs)
    run(body(), timeout=60)


# --------------------------------------------------------------------------- clean runs
def test_spot_and_perpetual_books_equal_their_true_books():
    # the spot pair and the USDT-M perpetual are both BTCUSDT at Bitget: one socket, instType apart
    r = run(run_feed([SPOT, SWAP], updates=60, seed=4))
    (spot, swap), received, ex = r.stats, r.received, r.exchange
    for st in (spot, swap):
        assert st["applied"] >= 60 and st["resyncs"] == 0 and st["gaps"] == 0 and st["snapshots"] == 1, st
        assert st["state"] == "live" and st["watch_calls"] == 1 and st["stale_skipped"] == 0
        # every message (snapshot too) carries Bitget's checksum, each verified in C
        assert st["checksum_ok"] == st["applied"] + st["snapshots"] and st["checksum_failed"] == 0
        assert st["last_latency_ns"] > 0
    assert sorted(r for r in received if r != "ping") == sorted(
        orjson.dumps({"op": "subscribe", "args": [{"instType": t, "channel": "books", "instId": "BTCUSDT"}]}).decode()
        for t in ("SPOT", "USDT-FUTURES"))
    assert ex.options["watchOrderBook"]["checksum"] is False     # ccxt's own checksum code is off


def test_adapter_is_registered():
    assert type(create_exchange("bitget")) is BitgetEngine


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (fault plan, expected counters: name -> minimum (or exact with "=="))
    # Bitget's seq is not contiguous: a lost message shows as a checksum mismatch on the next one,
    # unless the next one rewrites the same levels (the book is then right anyway): lose five
    (FaultPlan(drop=range(15, 20)), {"checksum_failed": "==1", "resyncs": "==1", "gaps": "==0"}),
    (FaultPlan(duplicate={15, 25}), {"stale_skipped": "==2", "resyncs": "==0"}),
    # the later frame first: its checksum fails, or (if it rewrote the held frame's levels) the
    # held one then comes with a lower seq — a gap. Either way one resync
    (FaultPlan(reorder={15}), {"resyncs": 1}),
    (FaultPlan(bad_checksum={15}), {"checksum_failed": "==1", "resyncs": "==1", "gaps": "==0"}),
    (FaultPlan(malformed={15, 20}), {"resyncs": "==0", "checksum_failed": "==0"}),
    ([FaultPlan(disconnect_after=20, disconnect_mode="abort")], {"disconnects": "==1", "snapshots": "==2"}),
    ([FaultPlan(disconnect_after=20)], {"disconnects": "==1", "snapshots": "==2"}),
]


@pytest.mark.parametrize("plan,expect", FAULTS, ids=[str(i) for i in range(len(FAULTS))])
def test_book_equals_true_book_after_fault(plan, expect):
    r = run(run_feed([SPOT], plan=plan, updates=40))
    (stats,), received, ex = r.stats, r.received, r.exchange
    plans = check_fault_counters(stats, plan, expect, r.faults)
    assert stats["watch_errors"] == 0
    if stats["resyncs"] and not stats["disconnects"]:
        # resynced on the same socket: unsubscribe, then subscribe again; the unsubscribe's
        # acknowledgement was the engine's (ccxt did not reject the new watch over it)
        kinds = ["unsubscribe" if "unsubscribe" in r else "subscribe" for r in received if r != "ping"]
        assert kinds == ["subscribe"] + ["unsubscribe", "subscribe"] * stats["resyncs"], received
        assert ex.liq_unsubscribes == stats["resyncs"] and sum(ex.liq_unsub_acks_due.values()) == 0
    assert ex.liq_malformed == sum(len(p.malformed) for p in plans)     # counted and skipped


# ----------------------------------------------------------------- the seq rule on the wire
def test_repeated_seq_is_skipped_and_a_lower_seq_is_a_gap():
    """Frames the simulator's own stream would never send, written to the socket by the
    simulator: one repeating the book's ``seq`` (a repeat, skipped), then one going back below
    it (out of order or a maintenance reset: a gap, resynced from a new snapshot)."""
    async def body():
        async with ExchangeSimulator(seed=5, interval=FAST, max_seconds=25) as sim:
            async with LiveFeed([("bitget", SPOT.symbol)], exchanges=exchanges(sim, "bitget"),
                                backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                live = feed.live_book("bitget", SPOT.symbol)
                await until(lambda: live.stats.applied >= 20)
                await drained(sim, feed, "bitget", [SPOT.symbol])
                (conn,) = sim.connections_of("bitget")
                truth = sim.true_book("bitget", "BTCUSDT")
                seq = live.book.last_update_id
                best = truth["bids"][0]

                def frame(s, size):     # a real-looking update of the best bid
                    bids = [[best[0], size]] + truth["bids"][1:]
                    return orjson.dumps({"action": "update", "arg": {"instType": "SPOT", "channel": "books",
                                                                     "instId": "BTCUSDT"},
                                         "data": [{"asks": [], "bids": [[best[0], size]], "seq": s,
                                                   "checksum": okx_checksum(bids, truth["asks"]),
                                                   "ts": "1716912345678"}], "ts": 1716912345679}).decode()
                st = live.stats
                conn.send_control(frame(seq, "1.000000"))                 # the same seq again
                await until(lambda: st.stale_skipped != 0)
                assert live.book.level_strings("bid", 1)[0] == best[:2] and st.resyncs == 0
                conn.send_control(frame(seq - 1, "1.000000"))             # below the book's seq
                await until(lambda: st.resyncs != 0)
                assert st.gaps == 1 and st.checksum_failed == 0 and "rule increasing" in repr(live.last_error)
                assert live.book.level_strings("bid", 1)[0] == best[:2]    # neither was applied
                sim.resume()
                applied = st.applied
                await until(lambda: st.applied >= applied + 20 and live.is_live)
                await drained(sim, feed, "bitget", [SPOT.symbol])
                assert_equals_truth(feed, sim, SPOT)
                assert st.snapshots == 2 and st.resyncs == 1
    run(body(), 25)


# --------------------------------------------------------------- negative control
def test_tampered_book_is_caught_by_the_bitget_checksum_and_resynced():
    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=25) as sim:
            async with LiveFeed([("bitget", SPOT.symbol)], exchanges=exchanges(sim, "bitget"),
                                backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                live = feed.live_book("bitget", SPOT.symbol)
                await until(lambda: live.stats.applied >= 10)
                # one size in the checksummed top 25 grows by one lot
                live = await tamper_until_caught(sim, feed, "bitget", SPOT.symbol, 20, "0.000001",
                                                 lambda sim: [lv[:2] for lv in sim.true_book("bitget", "BTCUSDT")["asks"]])
                assert live.stats.checksum_failed == 1 and live.stats.gaps == 0
                assert_equals_truth(feed, sim, SPOT)
                assert "checksum mismatch" in repr(live.last_error)
    run(body(), 25)


# ------------------------------------------------------------------ the protocol itself
def test_protocol_answers_as_bitget_does():
    async def body():
        async with ExchangeSimulator(seed=2, interval=FAST, max_seconds=20) as sim:
            sim.pause()
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(f"{sim.url.replace('http', 'ws')}/ws.bitget.com/v2/ws/public") as ws:
                    await ws.send_str("ping")
                    assert await ws.receive_str(timeout=5) == "pong"
                    await ws.send_str("{not json")
                    assert orjson.loads(await ws.receive_str(timeout=5)) == {
                        "event": "error", "code": 30016, "msg": "Param error"}
                    bad = {"instType": "SPOT", "channel": "books", "instId": "NOPEUSDT"}
                    await ws.send_str(orjson.dumps({"op": "subscribe", "args": [bad]}).decode())
                    err = orjson.loads(await ws.receive_str(timeout=5))
                    assert err["event"] == "error" and err["code"] == 30001 and err["arg"] == bad
                    assert "doesn't exist" in err["msg"]
                    arg = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}
                    await ws.send_str(orjson.dumps({"op": "subscribe", "args": [arg]}).decode())
                    assert orjson.loads(await ws.receive_str(timeout=5)) == {"event": "subscribe", "arg": arg}
                    snap = orjson.loads(await ws.receive_str(timeout=5))
                    assert snap["action"] == "snapshot" and snap["arg"] == arg
                    (d,) = snap["data"]
                    truth = sim.true_book("bitget", "BTCUSDT")
                    assert d["bids"] == truth["bids"] and d["asks"] == truth["asks"]      # every level
                    assert d["checksum"] == okx_checksum(truth["bids"], truth["asks"]) and d["seq"] == truth["update_id"]
                    assert all(len(px.split(".")[1]) == 2 and len(sz.split(".")[1]) == 6 for px, sz in d["bids"])
                    sim.resume()
                    upd = orjson.loads(await ws.receive_str(timeout=5))
                    assert upd["action"] == "update" and upd["data"][0]["seq"] > d["seq"]
                    await ws.send_str(orjson.dumps({"op": "unsubscribe", "args": [arg]}).decode())
                    while (msg := orjson.loads(await ws.receive_str(timeout=5))).get("event") is None:
                        pass                                         # updates in flight before the ack
                    assert msg == {"event": "unsubscribe", "arg": arg}
            assert sim.unhandled == []
    run(body(), 25)
