"""The Kraken adapter of liqcore.feed run for real: ccxt.pro ``kraken`` through liqcore's engine
adapter (KrakenEngine) against the local exchange simulator's Kraken websocket v2 protocol, on
the real Kraken capture (tests/data/cryptofeed/KRAKEN.ws.50.0: websocket v1 ``book``, depth 1000,
10 pairs, 2021) served by the simulator's websocket v2, and on synthetic books.

What is proved here:

* the replay itself (no sockets): the simulator's true book follows the recording (kept to the
  subscribed 1000 levels) and its independent Python checksum equals every one of the 4,269
  checksums Kraken sent; the pairs' precision is the recorded wire decimals, served where ccxt
  reads it (AssetPairs) and announced by the v2 ``instrument`` channel;
* through ccxt.pro: the client receives exactly the recorded book messages (the snapshot's levels,
  then every update's levels in recorded order with the recorded checksum), every recorded
  checksum verifies in C, nothing is a gap, failure or resync, and the final books equal
  EXPECTED.json's ``final_state`` and the simulator's true book level for level;
* faults still work on a replay: a corrupted recorded checksum is one failure and one resync
  (unsubscribe + subscribe: a fresh snapshot of the true book), after which the recorded
  messages continue to verify and the book ends equal to the recording's final book;
* a clean synthetic run: the compiled book equals the simulator's true best-10 window level for
  level (wire strings), every one of Kraken's checksums (snapshot too) verified in C and agreeing
  with the simulator's independent Python checksum; ccxt's Python book stays empty;
* after each synthetic fault the book again equals the truth and the counters say what happened:
  Kraken sends no ids, so lost frames and a corrupted checksum are checksum failures, each
  resynced by unsubscribe + subscribe on the same socket; a duplicate is harmless; malformed
  frames are skipped; a disconnect is counted and healed;
* negative control: a live book altered behind the feed's back is caught by Kraken's checksum.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

import aiohttp  # noqa: E402
from netguard import no_internet, ws_frames  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import (BOOKS, FAST, SimBook, assert_equals_truth, assert_final_book, check_clean_counters,  # noqa: E402
                     check_fault_counters, check_resynced_in_place, check_subscribed_once, exchanges, run, run_feed,
                     serving_capture, tamper_until_caught, until)

from liqcore.feed import LiveFeed, create_exchange  # noqa: E402
from liqcore.exchanges.kraken import parse_v1_book  # noqa: E402
from liqcore.feed.ccxt_kraken import KrakenEngine  # noqa: E402
from liqcore.recorder import RecordingReader, Recorder  # noqa: E402
from liqcore.recordings import iter_cryptofeed  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan, Market, kraken_checksum, kraken_recording_markets  # noqa: E402
from liqcore.sim.kraken_protocol import ws_symbol  # noqa: E402
from liqcore.sim.true_book import TrueBook  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"
CAPTURE, ASSET_PAIRS = DATA / "KRAKEN.ws.50.0", DATA / "KRAKEN.0"
EXPECTED_ALL = json.loads((DATA / "EXPECTED.json").read_text())
EXPECTED = EXPECTED_ALL["KRAKEN.ws.50.0"]
DEPTH = 1000      # the recording's subscribed depth: the adapter subscribes with the same limit


def recorded_messages() -> dict[str, list]:
    """pair -> its v1 book messages of the capture, in order (parsed independently of the source)."""
    out: dict[str, list] = {}
    for rec in iter_cryptofeed(CAPTURE):
        if rec.kind == "recv" and rec.raw.startswith(b"["):
            m = parse_v1_book(json.loads(rec.raw))
            if m is not None:
                out.setdefault(m.pair, []).append(m)
    return out


def levels(entries) -> list[list[str]]:
    return [[e[0], e[1]] for e in entries]


def book_of(inst) -> SimBook:
    """The feed's book of a recorded pair: its whole book (the recording's 1000 levels)."""
    return SimBook("kraken", ws_symbol(inst), "kraken", inst.id)


# ------------------------------------------------------------------------ the replay itself
def test_true_book_follows_the_recording_and_every_recorded_checksum_matches():
    markets = kraken_recording_markets(CAPTURE, ASSET_PAIRS)
    assert sorted(i.extra["wsname"] for i, _ in markets) == sorted(EXPECTED["per_pair"])   # the 10 pairs
    total = 0
    for inst, replay in markets:
        pair = inst.extra["wsname"]
        # the instrument's precision is what the recording writes (not AssetPairs pair_decimals)
        assert list(replay.wire_decimals) == EXPECTED_ALL["KRAKEN.ws.50.0_wire_decimals"][pair], pair
        assert (inst.price_decimals, inst.size_decimals) == replay.wire_decimals == inst.wire_decimals
        market = Market(inst, replay)
        assert market.depth == DEPTH
        while not replay.exhausted:
            market.tick(0, 0)
        exp = EXPECTED["per_pair"][pair]
        assert market.updates == exp["update_msgs"], pair
        assert (market.checksums_compared, market.checksum_mismatches) == (exp["checksum_ok"], []), pair
        total += market.checksums_compared
        fin = EXPECTED["final_state"][pair]
        assert list(market.book.top(0, 1)[0]) == fin["best_bid"] and list(market.book.top(1, 1)[0]) == fin["best_ask"]
        assert [market.book.depth(0), market.book.depth(1)] == fin["levels"], pair
        assert market.checksum() == kraken_checksum(market.book.top(0), market.book.top(1))
    assert total == 4269
    # XMR/USD: 8 price decimals on the wire for a pair AssetPairs listed with 2 in 2021
    xmr = next(i for i, _ in markets if i.extra["wsname"] == "XMR/USD")
    assert xmr.price_decimals == 8 and EXPECTED_ALL["KRAKEN.0_pair_precisions"]["XMR/USD"]["pair_decimals"] == 2
    assert (xmr.id, ws_symbol(xmr), xmr.extra["base_id"], xmr.extra["quote_id"]) == (
        "XXMRZUSD", "XMR/USD", "XXMR", "ZUSD")


def test_true_book_truncation_keeps_the_best_levels():
    book = TrueBook()
    book.load([(str(p), "1") for p in range(10, 0, -1)], [(str(p), "1") for p in range(11, 21)])
    book.truncate(3)
    assert book.as_lists()["bids"] == [["10", "1"], ["9", "1"], ["8", "1"]]
    assert book.as_lists()["asks"] == [["11", "1"], ["12", "1"], ["13", "1"]]
    book.set(0, ("7", "2"))                     # a level below the kept ones is a new level again
    assert book.depth(0) == 4 and book.price(0, 3) == 7


# ------------------------------------------------------------ the precision, where it is read
def test_served_precision_is_the_recorded_wire_decimals():
    """ccxt builds market precision from AssetPairs (pair_decimals, lot_decimals); websocket v2's
    ``instrument`` channel announces the precision book numbers are written with. Both say the
    recorded wire decimals, and the book numbers carry exactly that many digits."""
    markets = kraken_recording_markets(CAPTURE, ASSET_PAIRS)

    async def body():
        async with ExchangeSimulator(markets, interval=FAST, max_seconds=30) as sim:
            sim.pause()
            ex = sim.attach(create_exchange("kraken", {"enableRateLimit": False}))
            try:
                await ex.load_markets()
            finally:
                await ex.close()
            for inst, _ in markets:
                prec = ex.markets[ws_symbol(inst)]["precision"]
                assert (prec["price"], prec["amount"]) == (float(inst.tick_size), float(inst.lot_size)), inst.id
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(sim.url.replace("http", "ws") + "/ws.kraken.com/v2") as ws:
                    await ws.send_str('{"method":"subscribe","params":{"channel":"instrument"},"req_id":1}')
                    await ws.send_str('{"method":"subscribe","params":{"channel":"book","symbol":["XMR/USD"],'
                                      '"depth":1000},"req_id":2}')
                    msgs = [json.loads(f, parse_float=str) for f in await ws_frames(ws, 5)]
            assert [m.get("channel") or m["result"]["channel"] for m in msgs] == [
                "status", "instrument", "instrument", "book", "book"]
            pairs = {p["symbol"]: p for p in msgs[2]["data"]["pairs"]}
            for inst, _ in markets:
                p = pairs[ws_symbol(inst)]
                assert (p["price_precision"], p["qty_precision"]) == inst.wire_decimals
                assert (p["price_increment"], p["qty_increment"]) == (inst.tick_size, inst.lot_size)
            snap = msgs[4]["data"][0]
            assert msgs[4]["type"] == "snapshot" and snap["symbol"] == "XMR/USD"
            recorded = recorded_messages()["XMR/USD"][0]
            assert [[lv["price"], lv["qty"]] for lv in snap["bids"]] == levels(recorded.bids)
            assert {len(lv["price"].split(".")[1]) for lv in snap["bids"] + snap["asks"]} == {
                pairs["XMR/USD"]["price_precision"]} == {8}
            assert sim.unhandled == []
    run(body(), timeout=40)


# --------------------------------------------------------------- through ccxt.pro, clean
def test_kraken_recording_served_to_the_live_adapter_verifies_every_checksum(tmp_path):
    """Every recorded update of the 10 pairs arrives at ccxt.pro + KrakenEngine exactly as recorded
    and every recorded checksum (4,269) verifies in C; the final books are EXPECTED.json's."""
    markets = kraken_recording_markets(CAPTURE, ASSET_PAIRS)
    symbols = {inst.extra["wsname"]: ws_symbol(inst) for inst, _ in markets}
    path = tmp_path / "kraken.lqrec"
    want = {pair: EXPECTED["per_pair"][pair]["update_msgs"] for pair in symbols}

    async def body():
        with Recorder(path) as rec:
            async with ExchangeSimulator(markets, interval=FAST, max_seconds=150) as sim:
                async with serving_capture(sim, "kraken", symbols, want, live_within=60, depth=DEPTH,
                                           recorder=rec) as (feed, lives):
                    ok = 0
                    for inst, _ in markets:
                        pair = inst.extra["wsname"]
                        live, st = lives[pair], lives[pair].stats
                        assert (st.applied, st.snapshots, st.checksum_failed, st.gaps, st.resyncs, st.rescaled,
                                st.handler_errors, st.stale_skipped) == (want[pair], 1, 0, 0, 0, 0, 0, 0), pair
                        # every message carries a checksum: the recorded ones, and the snapshot's
                        # (v1 snapshots had none; the simulator computes it, as v2 sends one)
                        assert st.checksum_ok - st.snapshots == EXPECTED["per_pair"][pair]["checksum_ok"], pair
                        ok += st.checksum_ok - st.snapshots
                        assert live.book.max_depth == DEPTH
                        # the book's scales hold every recorded decimal: the served precision
                        assert (live.book.price_decimals, live.book.size_decimals) == inst.wire_decimals
                        assert_final_book(live.book, EXPECTED["final_state"][pair], pair)
                        assert_equals_truth(feed, sim, book_of(inst))
                        assert sim.market("kraken", inst.id).checksum_mismatches == []
                    assert ok == 4269
                    subs = [json.loads(r) for c in sim.connections_of("kraken") for r in c.received
                            if '"subscribe"' in r]
                    assert len(sim.connections_of("kraken")) == 1 and len(subs) == len(symbols)
                    assert all(s["params"]["depth"] == DEPTH for s in subs)
    run(body(), timeout=180)

    # what the client received, frame by frame, is the recording translated (nothing added, nothing lost)
    recorded = recorded_messages()
    got: dict[str, list] = {}
    for r in RecordingReader(path):
        msg = json.loads(r.raw, parse_float=str, parse_int=str) if r.kind == "recv" else {}  # numbers as text
        if msg.get("channel") == "book":                       # not the acks, status, pongs
            for d in msg["data"]:
                got.setdefault(d["symbol"], []).append((msg["type"], d))
    for pair, symbol in symbols.items():
        msgs, frames = recorded[pair], got[symbol]
        assert len(frames) == len(msgs) == 1 + EXPECTED["per_pair"][pair]["update_msgs"], pair
        for m, (kind, d) in zip(msgs, frames):
            assert kind == ("snapshot" if m.snapshot else "update"), pair
            assert [[lv["price"], lv["qty"]] for lv in d["bids"]] == levels(m.bids), pair
            assert [[lv["price"], lv["qty"]] for lv in d["asks"]] == levels(m.asks), pair
            if not m.snapshot:
                assert int(d["checksum"]) == int(m.checksum), pair


# ---------------------------------------------------------------- through ccxt.pro, a fault
def test_corrupted_recorded_checksum_resyncs_and_the_replay_continues():
    """A corrupted checksum on one pair's 40th update: one failure, one resync (a fresh snapshot of
    the true book), then the recorded messages verify again up to the recording's final book."""
    markets = [m for m in kraken_recording_markets(CAPTURE, ASSET_PAIRS)
               if m[0].extra["wsname"] in ("XBT/CHF", "GRT/ETH")]
    symbols = {inst.extra["wsname"]: ws_symbol(inst) for inst, _ in markets}
    plan = FaultPlan(bad_checksum={40}, stream="book:BTC/CHF:")     # websocket v2 names XBT BTC

    async def body():
        async with ExchangeSimulator(markets, interval=FAST, max_seconds=100, faults={"kraken": plan}) as sim:
            sim.pause()
            async with LiveFeed([("kraken", s) for s in symbols.values()], exchanges=exchanges(sim, "kraken"),
                                depth=DEPTH, backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(30)
                sim.resume()
                for inst, replay in markets:
                    while not replay.exhausted:
                        await sim.wait_updates("kraken", inst.id, 1, timeout=30)
                lives = {pair: feed.live_book("kraken", s) for pair, s in symbols.items()}

                def equal(inst, live):
                    truth = sim.true_book("kraken", inst.id)
                    return live.is_live and live.book.level_strings("bid") == truth["bids"] and \
                        live.book.level_strings("ask") == truth["asks"]

                async def caught_up():     # every recorded update was published: wait for the books
                    await until(lambda: all(equal(i, lives[i.extra["wsname"]]) for i, _ in markets))
                await asyncio.wait_for(caught_up(), 30)
                for inst, _ in markets:
                    pair = inst.extra["wsname"]
                    st = lives[pair].stats
                    assert_final_book(lives[pair].book, EXPECTED["final_state"][pair], pair)
                    assert_equals_truth(feed, sim, book_of(inst))
                    if pair == "XBT/CHF":
                        assert (st.checksum_failed, st.resyncs, st.snapshots, st.gaps) == (1, 1, 2, 0)
                        # one recorded checksum corrupted; those sent while resubscribing are covered
                        # by the fresh snapshot instead
                        assert 0 < st.checksum_ok - st.snapshots < EXPECTED["per_pair"][pair]["checksum_ok"]
                    else:
                        assert (st.checksum_failed, st.resyncs, st.snapshots) == (0, 0, 1)
                        assert st.checksum_ok - st.snapshots == EXPECTED["per_pair"][pair]["checksum_ok"]
                log = [f for c in sim.connections_of("kraken") for f in c.faults_log]
                assert len(log) == 1 and "bad_checksum" in str(log[0])
    run(body(), timeout=120)


# ------------------------------------------------------------------- synthetic books, clean
def test_book_equals_true_book():
    r = run(run_feed([BOOKS["kraken"]]))
    stats = r.stats[0]
    check_clean_counters(stats, 50)
    check_subscribed_once(r)
    # every Kraken message (snapshot too) carries a checksum, each verified in C
    assert stats["checksum_ok"] == stats["applied"] + stats["snapshots"] and stats["checksum_failed"] == 0


def test_adapter_is_registered():
    assert type(create_exchange("kraken")) is KrakenEngine


# ------------------------------------------------------------------------------ faults
FAULTS = [
    # (fault plan, expected counters: name -> minimum (or exact with "=="))
    # Kraken has no ids: a lost update shows as a checksum mismatch on the next message, unless the
    # next one rewrites the same levels (then the book is right anyway): lose five in a row
    (FaultPlan(drop=range(15, 20)), {"checksum_failed": 1, "resyncs": 1, "gaps": "==0"}),
    (FaultPlan(duplicate={15, 25}), {"resyncs": "==0", "checksum_failed": "==0"}),
    (FaultPlan(bad_checksum={15}), {"checksum_failed": "==1", "resyncs": "==1", "gaps": "==0"}),
    (FaultPlan(malformed={15}), {"resyncs": "==0"}),
    ([FaultPlan(disconnect_after=20, disconnect_mode="abort")], {"disconnects": "==1"}),
]


@pytest.mark.parametrize("plan,expect", FAULTS, ids=[str(i) for i in range(len(FAULTS))])
def test_book_equals_true_book_after_fault(plan, expect):
    r = run(run_feed([BOOKS["kraken"]], plan=plan, updates=40))
    check_fault_counters(r.stats[0], plan, expect, r.faults)
    check_resynced_in_place(r.stats[0], r.received)


# --------------------------------------------------------------- negative control
def test_tampered_book_is_caught_by_the_kraken_checksum_and_resynced():
    async def body():
        async with ExchangeSimulator(seed=7, interval=FAST, max_seconds=20) as sim:
            async with LiveFeed([("kraken", "BTC/USD")], exchanges=exchanges(sim, "kraken"),
                                backoff=(0.02, 0.5)) as feed:
                await feed.wait_live(8)
                live = feed.live_book("kraken", "BTC/USD")
                await until(lambda: live.stats.applied >= 10)
                # one size in the checksummed top 10 changes by one lot (or the level is pushed out of
                # the top 10 first: Kraken sends no ids, so only a checksum can tell)
                live = await tamper_until_caught(
                    sim, feed, "kraken", "BTC/USD", 5, "0.00000001",
                    lambda sim: [lv[:2] for lv in sim.true_book("kraken", "XXBTZUSD", 10)["asks"]])
                assert live.stats.checksum_failed == 1 and live.stats.gaps == 0
                assert_equals_truth(feed, sim, BOOKS["kraken"])
                assert "checksum mismatch" in repr(live.last_error)
    run(body())
