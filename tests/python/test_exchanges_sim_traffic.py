"""Conformance of the venue protocols (liqcore.exchanges) on the simulator's traffic, without ccxt.

Bybit, Coinbase and Bitfinex have no real recordings, so every protocol is also driven with frames
captured from the local simulator (``liqcore.sim``, on 127.0.0.1) by a plain aiohttp websocket
client that subscribes as the venue's documentation says (Binance: the diff-depth stream, then the
REST snapshot, kept in the capture where its response arrived, and a new snapshot to resync). The captured list is then fed
synchronously through :class:`~liqcore.replay.books.ProtocolReplay` (the replay's driver of the
same protocol objects the live ccxt.pro adapters drive). What is proved, per venue:

* clean capture: the book ends equal, level for level (wire strings), to the simulator's true book
  at the moment it was frozen (and at the same update id where the venue has ids); every checksum
  the venue sent verified; every message is accounted for (``messages == snapshots + applied +
  stale_skipped + gaps + handler_errors + heartbeats``: ``BookStats.unaccounted == 0``);
* faults injected by the simulator (a dropped frame, a corrupted checksum) are caught by the very
  message where they show (a gap or a checksum mismatch, on the frame the simulator's fault log
  names), the book then waits stale (its updates skipped), and the client's resubscription brings
  a snapshot after which the book again equals the truth;
* hostile frames (mutated captured frames, random JSON) never escape a protocol nor corrupt a book.

The captures run once per module (a few seconds each); everything after them is synchronous.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

aiohttp = pytest.importorskip("aiohttp")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import BOOKS, FAST, SimBook, update_id_of  # noqa: E402

from liqcore.exchanges.binance import BinanceProtocol  # noqa: E402
from liqcore.exchanges.bitfinex import OB_CHECKSUM, BitfinexProtocol  # noqa: E402
from liqcore.exchanges.bitget import BitgetProtocol  # noqa: E402
from liqcore.exchanges.bybit import BybitProtocol  # noqa: E402
from liqcore.exchanges.coinbase import CoinbaseProtocol  # noqa: E402
from liqcore.exchanges.kraken import KrakenProtocol  # noqa: E402
from liqcore.exchanges.okx import OkxProtocol  # noqa: E402
from liqcore.exchanges.protocol import BookProtocol  # noqa: E402
from liqcore.recorded import Record  # noqa: E402
from liqcore.replay.books import BinanceAdapter, ProtocolReplay  # noqa: E402
from liqcore.replay.run import replay_records  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan, bitfinex_checksum, kraken_checksum, okx_checksum  # noqa: E402

@dataclass(frozen=True)
class Venue:
    """How a raw client speaks one venue's books to the simulator, and how to read the truth."""

    protocol: type[BookProtocol]
    book: SimBook                               #: the simulator's market (venue, id, window)
    path: str                                   #: websocket path on the simulator
    book_key: str                               #: the protocol's market id (ProtocolReplay.books key)
    subscribe: list[dict[str, Any]]
    #: the unsubscribe requests of a resync, from the frames captured so far
    unsubscribe: Callable[[list[str]], list[dict[str, Any]]]
    #: True for a frame that is a book message of the market (the capture counts them)
    is_book: Callable[[str], bool]
    checksum: str | None = None                 #: kind of the venue's checksum, if it sends one
    first: list[dict[str, Any]] = field(default_factory=list)    #: requests before the subscribe
    #: the venue's REST snapshot (path and query on the simulator) for venues whose stream carries
    #: none (Binance): fetched once the stream started, and again instead of a resubscription
    rest: str | None = None
    #: the replay that drives the protocol (Binance's routes REST snapshots to the market's book)
    replayer: Callable[[type[BookProtocol]], ProtocolReplay] = ProtocolReplay


_BYBIT_TOPIC = "orderbook.50.BTCUSDT"
_OKX_ARG = {"channel": "books", "instId": "BTC-USDT"}
_BITGET_ARG = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}
_KRAKEN_PARAMS = {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}


def _bitfinex_unsubscribe(frames: list[str]) -> list[dict[str, Any]]:
    # Bitfinex unsubscribes by the chanId its "subscribed" event named
    chan = next(m["chanId"] for m in map(json.loads, frames) if type(m) is dict and m.get("event") == "subscribed")
    return [{"event": "unsubscribe", "chanId": chan}]


def _coinbase(kind: str, *ids: str) -> dict[str, Any]:
    return {"type": kind, "channel": "level2", "product_ids": list(ids or ["BTC-USD"])}


VENUES: dict[str, Venue] = {
    # the stream buffers until the REST snapshot; a resync is a new snapshot on the same stream
    "binance": Venue(BinanceProtocol, BOOKS["binance"], "/stream.binance.com/ws", "BTCUSDT",
                     [{"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}], lambda _: [],
                     lambda f: '"depthUpdate"' in f, rest="/api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000",
                     replayer=lambda _: BinanceAdapter("binance")),
    "bybit": Venue(BybitProtocol, BOOKS["bybit"], "/stream.bybit.com/v5/public/spot", "BTCUSDT",
                   [{"op": "subscribe", "req_id": "1", "args": [_BYBIT_TOPIC]}],
                   lambda _: [{"op": "unsubscribe", "req_id": "2", "args": [_BYBIT_TOPIC]}],
                   lambda f: f'"topic":"{_BYBIT_TOPIC}"' in f),
    "coinbase": Venue(CoinbaseProtocol, BOOKS["coinbase"], "/advanced-trade-ws.coinbase.com", "BTC-USD",
                      [_coinbase("subscribe")], lambda _: [_coinbase("unsubscribe")],
                      lambda f: '"channel":"l2_data"' in f),
    "okx": Venue(OkxProtocol, BOOKS["okx"], "/ws.okx.com/ws/v5/public", "BTC-USDT",
                 [{"op": "subscribe", "args": [_OKX_ARG]}], lambda _: [{"op": "unsubscribe", "args": [_OKX_ARG]}],
                 lambda f: '"action"' in f, checksum="okx"),
    "bitget": Venue(BitgetProtocol, BOOKS["bitget"], "/ws.bitget.com/v2/ws/public", "BTCUSDT",
                    [{"op": "subscribe", "args": [_BITGET_ARG]}],
                    lambda _: [{"op": "unsubscribe", "args": [_BITGET_ARG]}],
                    lambda f: '"action"' in f, checksum="bitget"),
    "kraken": Venue(KrakenProtocol, BOOKS["kraken"], "/ws.kraken.com/v2", "BTC/USD",
                    [{"method": "subscribe", "params": _KRAKEN_PARAMS}],
                    lambda _: [{"method": "unsubscribe", "params": _KRAKEN_PARAMS}],
                    lambda f: '"channel":"book"' in f and '"type"' in f, checksum="kraken"),
    # one frame per changed level, then a "cs" frame (conf: checksums on) after each update
    "bitfinex": Venue(BitfinexProtocol, BOOKS["bitfinex"], "/api-pub.bitfinex.com/ws/2", "tBTCUSD",
                      [{"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P0", "len": "25"}],
                      _bitfinex_unsubscribe, lambda f: f.startswith("[") and '"hb"' not in f, checksum="bitfinex",
                      first=[{"event": "conf", "flags": OB_CHECKSUM}]),
}


@dataclass
class Capture:
    """Frames a raw client received, the truth when the simulator was frozen, the injected faults."""

    frames: list[str]
    truth: dict[str, Any]
    last_id: int | None
    faults: list[tuple[str, str, int]]
    #: index in ``frames`` of the first frame after the resync requests were sent (None: no resync)
    resync_at: int | None = None


async def _read(ws: Any, frames: list[str], until: Callable[[], bool], quiet: float | None = None) -> None:
    """Append text frames until ``until()`` holds, or (``quiet``) no frame came for that long."""
    while not until():
        try:
            msg = await ws.receive(timeout=quiet)
        except asyncio.TimeoutError:
            return
        if msg.type == aiohttp.WSMsgType.TEXT:
            frames.append(msg.data)
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise AssertionError(f"connection ended: {msg}")


async def _rest(http: Any, url: str, frames: list[str]) -> None:
    """The REST snapshot's body, kept in ``frames`` where it arrived (frames received meanwhile are
    read after it: a depth event buffered before the snapshot and not read yet comes after it, as
    it would reach a live client whose read loop waited on the request)."""
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        frames.append(await resp.text())


async def _capture(v: Venue, books: int, *, plan: FaultPlan | None = None, resync_after: int | None = None,
                   seed: int = 3) -> Capture:
    """Subscribe ``v``'s market, read until ``books`` book frames came (after ``resync_after`` of
    them: unsubscribe and subscribe again, as a live adapter resyncs), freeze the simulator, read
    what was still in flight, and take the truth."""
    faults = None if plan is None else {v.book.venue: plan}
    async with ExchangeSimulator(seed=seed, interval=FAST, max_seconds=25, faults=faults) as sim:
        async with aiohttp.ClientSession() as http, http.ws_connect(sim.url + v.path) as ws:
            frames: list[str] = []
            n_books = lambda: sum(map(v.is_book, frames))          # noqa: E731
            for req in v.first + v.subscribe:
                await ws.send_str(json.dumps(req))
            if v.rest is not None:               # Binance: snapshot once the stream is buffering
                await _read(ws, frames, lambda: n_books() >= 2)
                await _rest(http, sim.url + v.rest, frames)
            resync_at = None
            if resync_after is not None:
                await _read(ws, frames, lambda: n_books() >= resync_after)
                if v.rest is not None:
                    await _rest(http, sim.url + v.rest, frames)
                for req in v.unsubscribe(frames) + ([] if v.rest is not None else v.subscribe):
                    await ws.send_str(json.dumps(req))
                resync_at = len(frames)
            await _read(ws, frames, lambda: n_books() >= books)
            sim.pause()
            # everything the simulator sent: its queues empty and nothing more for 0.3 s
            while True:
                await _read(ws, frames, lambda: False, quiet=0.3)
                if all(c.queue.empty() or c.closing for c in sim.connections_of(v.book.venue)):
                    break
            truth = sim.true_book(v.book.venue, v.book.vid, v.book.depth)
            last_id = update_id_of(sim, v.book)
        log = [f for c in sim.connections_of(v.book.venue) for f in c.faults_log]
    return Capture(frames, truth, last_id, log, resync_at)


def capture(name: str, books: int = 80, **kw: Any) -> Capture:
    return asyncio.run(asyncio.wait_for(_capture(VENUES[name], books, **kw), 30))


def replay(name: str, frames: list[str]) -> ProtocolReplay:
    r = VENUES[name].replayer(VENUES[name].protocol)
    for f in frames:
        r.on_frame(f)
    return r


def assert_accounted(r: ProtocolReplay) -> None:
    for key, live in r.books.items():
        c = live.stats
        assert c.unaccounted == 0, (key, c)


def assert_equals_truth(name: str, r: ProtocolReplay, cap: Capture) -> None:
    v = VENUES[name]
    live = r.books[v.book_key]
    book = live.book
    assert live.state == "live", (live, r.failures)
    assert book.level_strings("bid") == [lv[:2] for lv in cap.truth["bids"]]
    assert book.level_strings("ask") == [lv[:2] for lv in cap.truth["asks"]]
    assert book.bid_count >= 10 and book.ask_count >= 10           # not trivially equal
    if cap.last_id is not None:
        assert book.last_update_id == cap.last_id
    if v.checksum is not None:     # the simulator's independent Python checksum of the truth agrees with C's
        python = {"kraken": kraken_checksum, "bitfinex": bitfinex_checksum}.get(v.checksum, okx_checksum)
        assert book.checksum(v.checksum) == python(cap.truth["bids"], cap.truth["asks"])


@pytest.fixture(scope="module")
def clean() -> dict[str, Capture]:
    return {}


def _clean(clean: dict[str, Capture], name: str) -> Capture:
    if name not in clean:
        clean[name] = capture(name)
    return clean[name]


# ------------------------------------------------------------------------------ clean runs
@pytest.mark.parametrize("name", list(VENUES))
def test_clean_capture_equals_the_true_book(clean, name):
    cap = _clean(clean, name)
    r = replay(name, cap.frames)
    v = VENUES[name]
    assert list(r.books) == [v.book_key] and r.failures == {} and r.undecodable == 0
    assert_equals_truth(name, r, cap)
    c = r.books[v.book_key].stats
    assert c.snapshots == 1 and c.applied >= 50 and (c.gaps, c.handler_errors) == (0, 0), c
    # Binance: depth events buffered before the REST snapshot and older than it are skipped
    before_snapshot = next((i for i, f in enumerate(cap.frames) if '"lastUpdateId"' in f), 0) if v.rest else 0
    assert c.stale_skipped <= sum(map(v.is_book, cap.frames[:before_snapshot])), c
    if v.checksum is None:
        assert c.checksum_ok == 0 and c.checksum_failed == 0
    elif v.checksum == "bitfinex":   # a "cs" frame after each update (several level frames): each verified
        assert c.checksum_failed == 0 and c.checksum_ok == sum(',"cs",' in f for f in cap.frames) >= 10
        assert c.applied > c.checksum_ok
    else:        # every book message carried a checksum (OKX: a snapshot too) and each verified
        assert c.checksum_failed == 0 and c.checksum_absent == 0
        assert c.checksum_ok == c.applied + c.snapshots
    assert_accounted(r)


@pytest.mark.parametrize("name", list(VENUES))
def test_liqcore_replay_of_the_capture_verifies(clean, name):
    """``liqcore replay``'s path (records decoded by the runner, then by the protocol from the
    record's text: Kraken v2's numbers keep their trailing zeros) reports the capture ok and ends on
    the true book."""
    cap = _clean(clean, name)
    adapters: dict[str, Any] = {}
    rep = replay_records([Record(0, None, "recv", f.encode()) for f in cap.frames], exchange=name, adapters=adapters)
    assert rep.undecodable == 0 and rep.book_frames > 0
    (book,) = adapters[name].reports()
    assert book.ok and book.unaccounted == 0 and book.snapshots == 1, book
    assert book.best_bid == cap.truth["bids"][0][:2] and book.best_ask == cap.truth["asks"][0][:2]
    assert book.levels == [len(cap.truth["bids"]), len(cap.truth["asks"])]


# ---------------------------------------------------------------------------------- faults
def _caught_where_injected(name: str, plan: FaultPlan, kind: str) -> None:
    v = VENUES[name]
    cap = capture(name, 60, plan=plan, resync_after=30)
    (fault,) = cap.faults
    r = v.replayer(v.protocol)
    live = None
    books_seen = 0
    caught_at = None
    for i, f in enumerate(cap.frames):
        r.on_frame(f)
        books_seen += v.is_book(f)
        live = r.books.get(v.book_key)
        if caught_at is None and live is not None and live.state == "stale":
            caught_at = books_seen
            assert i < cap.resync_at                    # before the resubscription
    assert live is not None and caught_at is not None, r.failures
    # data frames are counted from 0 (the snapshot) per stream: a frame lost at index k shows at the
    # next one (the k+1-th book frame the client saw, k frames kept before it); a corrupted checksum
    # at index k on that very frame (the k+1-th)
    assert fault[0] == kind
    assert caught_at == fault[2] + 1
    c = live.stats
    assert c.resyncs == 1 and c.snapshots == 2, c
    assert (c.gaps, c.checksum_failed) == ((1, 0) if kind == "drop" else (0, 1)), c
    assert c.stale_skipped >= 1                      # updates in flight before the new snapshot: not applied
    assert_accounted(r)
    assert_equals_truth(name, r, cap)


@pytest.mark.parametrize("name", ["binance", "bybit", "coinbase", "okx"])
def test_dropped_frame_is_a_gap_where_it_was_lost_and_the_snapshot_heals(name):
    _caught_where_injected(name, FaultPlan(drop={15}), "drop")


@pytest.mark.parametrize("name", ["okx", "bitget", "kraken"])
def test_bad_checksum_is_caught_on_its_frame_and_the_snapshot_heals(name):
    _caught_where_injected(name, FaultPlan(bad_checksum={15}), "bad_checksum")


@pytest.mark.parametrize("name", ["bybit", "coinbase"])
def test_duplicate_frame_is_skipped_without_a_resync(name):
    v = VENUES[name]
    cap = capture(name, 40, plan=FaultPlan(duplicate={15, 25}))
    assert [f[0] for f in cap.faults] == ["duplicate", "duplicate"]
    r = replay(name, cap.frames)
    c = r.books[v.book_key].stats
    assert (c.stale_skipped, c.resyncs, c.gaps, c.snapshots) == (2, 0, 0, 1), c
    assert_accounted(r)
    assert_equals_truth(name, r, cap)


def test_coinbase_products_share_one_numbering_without_false_gaps():
    """Two products on one socket interleave on one ``sequence_num`` counter: neither book sees a
    gap; a frame lost on one product is a gap of every book whose next message follows it (nobody
    can tell whose it was), each healed by its own resubscription."""
    both = replace(VENUES["coinbase"], subscribe=[_coinbase("subscribe", "BTC-USD", "ETH-USD")],
                   unsubscribe=lambda _: [_coinbase("unsubscribe", "BTC-USD", "ETH-USD")])
    cap = asyncio.run(asyncio.wait_for(_capture(both, 80), 30))
    r = replay("coinbase", cap.frames)
    assert sorted(r.books) == ["BTC-USD", "ETH-USD"] and r.failures == {}
    btc, eth = r.books["BTC-USD"], r.books["ETH-USD"]
    assert btc.stats.applied >= 20 and eth.stats.applied >= 20
    ids = (btc.book.last_update_id, eth.book.last_update_id)
    assert ids[0] != ids[1]                                    # one counter, two books on it
    assert_accounted(r)
    assert_equals_truth("coinbase", r, cap)

    lost = asyncio.run(asyncio.wait_for(_capture(both, 80, plan=FaultPlan(drop={20}, stream="ETH-USD"),
                                                 resync_after=50), 30))
    assert lost.faults == [("drop", "level2:ETH-USD", 20)]
    r = replay("coinbase", lost.frames)
    for live in r.books.values():
        assert (live.stats.gaps, live.stats.resyncs, live.stats.snapshots) == (1, 1, 2), live.stats
        assert live.state == "live"
    assert_accounted(r)
    assert_equals_truth("coinbase", r, lost)


def test_coinbase_connection_state_is_dropped_with_the_connection(clean):
    """``sequence_num`` restarts at 0 on a new connection: the numbering state is the connection's,
    forgotten when the driver reports the connection lost, and when the numbering restarts at 0
    under the same key (a recording replayed across a reconnect labels both connections with one
    URL). Without either, the same numbers again are late duplicates: the negative control (the
    frames after the first, whose number is 0, replayed on the same connection)."""
    frames = _clean(clean, "coinbase").frames
    assert '"sequence_num":0,' in frames[0] and '"type":"snapshot"' in frames[0]
    r = ProtocolReplay(CoinbaseProtocol)
    for f in frames:
        r.protocol.on_frame("conn", f)
    live = r.books["BTC-USD"]
    applied = live.stats.applied
    for f in frames[1:]:                               # same connection, same numbers: all late
        r.protocol.on_frame("conn", f)
    assert live.stats.applied == applied and live.stats.stale_skipped == applied
    r.protocol.connection_lost("conn")
    for f in frames:                                   # a new connection numbered from 0 again
        r.protocol.on_frame("conn", f)
    assert live.stats.applied == 2 * applied and live.stats.snapshots == 2 and live.state == "live"
    for f in frames:                                   # 0 again under the same key: a new connection
        r.protocol.on_frame("conn", f)
    assert live.stats.applied == 3 * applied and live.stats.snapshots == 3 and live.state == "live"
    assert_accounted(r)


@pytest.mark.parametrize("protocol", [CoinbaseProtocol, BitfinexProtocol])
def test_a_protocol_keeps_a_bounded_state_per_connection(protocol):
    """What a protocol keeps per connection (Coinbase's numbering, Bitfinex's channels) is made on
    first use, forgotten with the connection, and bounded: beyond MAX_CONNECTIONS (a driver that
    never reports a lost connection) the oldest connection's is forgotten. Protocols that keep
    nothing per connection make nothing."""
    from liqcore.exchanges.protocol import MAX_CONNECTIONS
    p = protocol(ProtocolReplay(protocol))
    first = p.connection("c0")
    assert first is not None and p.connection("c0") is first and p.connection("c1", create=False) is None
    for i in range(1, MAX_CONNECTIONS + 3):
        p.connection(f"c{i}")
    assert p.connection("c0", create=False) is None and p.connection("c2", create=False) is None
    assert p.connection("c3", create=False) is not None
    p.connection_lost("c3")
    assert p.connection("c3", create=False) is None
    assert BinanceProtocol(ProtocolReplay(BinanceProtocol)).connection("c0") is None


def test_bitfinex_bad_checksum_is_caught_on_its_cs_frame_and_the_new_channel_heals():
    """The simulator corrupts the ``cs`` frames among data frames 10-19 (level frames pass
    untouched): the first of them fails the book; the book then waits (stale) and the client's
    unsubscribe + subscribe opens a new ``chanId`` whose snapshot heals it."""
    v = VENUES["bitfinex"]
    cap = capture("bitfinex", 80, plan=FaultPlan(bad_checksum=range(10, 20)), resync_after=40)
    data = [f for f in cap.frames if v.is_book(f)]
    first_bad = next(i for i, f in enumerate(data) if i >= 10 and ',"cs",' in f)
    r = ProtocolReplay(BitfinexProtocol)
    seen = 0
    caught_at = None
    for f in cap.frames:
        r.on_frame(f)
        seen += v.is_book(f)
        live = r.books.get(v.book_key)
        if caught_at is None and live is not None and live.state == "stale":
            caught_at = seen
    assert caught_at == first_bad + 1, (caught_at, first_bad)
    c = r.books[v.book_key].stats
    assert (c.checksum_failed, c.resyncs, c.snapshots, c.gaps) == (1, 1, 2, 0), c
    assert c.stale_skipped >= 1
    assert_accounted(r)
    assert_equals_truth("bitfinex", r, cap)


def test_bitfinex_frames_of_a_replaced_channel_are_never_applied():
    """A resubscription opens a new ``chanId``: from its ``subscribed`` event on, frames still in
    flight on the old one are skipped (counted), and the new snapshot rebuilds the book."""
    v = VENUES["bitfinex"]
    cap = capture("bitfinex", 80, resync_after=30)
    chans = [m["chanId"] for m in map(json.loads, cap.frames) if type(m) is dict and m.get("event") == "subscribed"]
    assert len(chans) == 2 and chans[0] != chans[1]
    r = replay("bitfinex", cap.frames)
    c = r.books[v.book_key].stats
    assert (c.snapshots, c.resyncs, c.checksum_failed, c.handler_errors) == (2, 0, 0, 0), c
    assert r.protocol.channel_id(None, v.book_key) == chans[1]
    assert_accounted(r)
    assert_equals_truth("bitfinex", r, cap)
    # the old channel's frames after the new channel opened, sent again: skipped, the book unchanged
    old = [f for f in cap.frames if f.startswith(f"[{chans[0]},")][-5:]
    bids = r.books[v.book_key].book.level_strings("bid")
    for f in old:
        r.on_frame(f)
    assert c.stale_skipped == len(old) and r.books[v.book_key].book.level_strings("bid") == bids
    assert_accounted(r)


# --------------------------------------------------------------------------- hostile frames
_json = st.recursive(st.none() | st.booleans() | st.integers(-(1 << 64), 1 << 64) | st.floats()
                     | st.text(max_size=8), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                                  max_size=4),
                     max_leaves=12)


def _graft(msg: Any, data: Any) -> Any:
    """``msg`` with one value somewhere inside it (drawn by walking down from the top) replaced by
    random JSON: a frame of the right shape with one wrong part."""
    if isinstance(msg, (dict, list)) and msg and data.draw(st.integers(0, 3)):
        keys = list(msg) if isinstance(msg, dict) else list(range(len(msg)))
        k = data.draw(st.sampled_from(keys))
        msg[k] = _graft(msg[k], data)
        return msg
    return data.draw(_json)


@pytest.mark.parametrize("name", list(VENUES))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_frames_never_escape_nor_corrupt(clean, name, data):
    """Mutated captured frames and random JSON, after a prefix of the clean capture: the protocol
    never raises to its caller; a book is either unchanged, changed by a message it accepted, or
    waiting for a snapshot after a gap; and the counts still add up."""
    frames = _clean(clean, name).frames
    r = replay(name, frames[:40])
    before = {k: (lv.book.level_strings("bid"), lv.book.level_strings("ask"), lv.stats.applied, lv.stats.snapshots,
                  lv.stats.gaps) for k, lv in r.books.items()}
    raw = data.draw(st.sampled_from(frames[:80]))
    at = data.draw(st.integers(0, len(raw)))
    junk = data.draw(st.text(max_size=6))
    r.on_frame(raw[:at] + junk + raw[at + len(junk):])
    r.on_frame(json.dumps(data.draw(_json)) if data.draw(st.booleans()) else data.draw(st.text(max_size=40)))
    r.on_message(data.draw(_json))
    r.on_frame(json.dumps(_graft(json.loads(data.draw(st.sampled_from(frames[:80]))), data)))
    assert_accounted(r)
    for k, lv in r.books.items():
        if k not in before or (lv.stats.applied, lv.stats.snapshots) != before[k][2:4]:
            continue                   # changed by a message it accepted
        if lv.stats.gaps > before[k][4] and lv.state != "live":
            continue                   # a gap: waiting for a snapshot (Binance's replay clears the book)
        assert (lv.book.level_strings("bid"), lv.book.level_strings("ask")) == before[k][:2], k
