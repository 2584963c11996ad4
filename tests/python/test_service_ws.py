"""The websocket /ws through a real uvicorn and a real websockets client, over live books from the
simulator: subscriptions, pushes that end on the book's latest state, clear errors on bad
messages (the connection stays open), alerts pushed and stored, and coalescing for a
deliberately slow client (it gets fewer, newer pushes; the skipped states are counted)."""

from __future__ import annotations

import json
import socket
import time

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
wsc = pytest.importorskip("websockets.sync.client")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from test_service_api import running  # noqa: E402

from liqcore.service.hub import BookHub  # noqa: E402


def ws_url(srv) -> str:
    return srv.url.replace("http://", "ws://") + "/ws"


def recv_json(ws, timeout=10.0):
    return json.loads(ws.recv(timeout=timeout))


def drain(ws, quiet=0.5):
    """Every message until none arrives for ``quiet`` s."""
    out = []
    while True:
        try:
            out.append(json.loads(ws.recv(timeout=quiet)))
        except TimeoutError:
            return out


def sub(pairs, channels=("top",), **extra):
    return json.dumps({"op": "subscribe", "pairs": [{"exchange": e, "symbol": s} for e, s in pairs],
                       "channels": list(channels), **extra})


def settle(srv, client, keys, quiet=0.3, timeout=10.0):
    """Pause the simulator and wait until the books' update ids stop moving."""
    srv.hub.simulator.pause()
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        now = [client.get("/api/v1/book", params={"exchange": e, "symbol": s, "depth": 1}).json()["update_id"]
               for e, s in keys]
        if now == last:
            return
        last = now
        time.sleep(quiet)
    raise AssertionError("books did not settle")


def test_tops_end_on_the_latest_state_and_bad_messages_are_errors():
    with running(rate=None) as srv, httpx.Client(base_url=srv.url, timeout=30) as client, \
            wsc.connect(ws_url(srv), open_timeout=10) as ws:
        ws.send("not json")
        assert recv_json(ws)["type"] == "error"
        ws.send(json.dumps({"op": "dance"}))
        assert "expected" in recv_json(ws)["detail"]
        ws.send(sub([("ftx", "BTC/USD")]))
        assert recv_json(ws) == {"type": "error", "detail": "unknown exchange 'ftx'; one of binance, binanceusdm, "
                                                            "okx, bybit, bitget, coinbase, kraken, bitfinex"}
        ws.send(sub([("binance", "BTC/USD")], channels=["nope"]))
        assert "channels" in recv_json(ws)["detail"]
        ws.send(sub([("binance", "BTC/USDT"), ("kraken", "BTC/USD")], channels=["top", "liquidity"]))
        ack = recv_json(ws)
        assert ack == {"type": "subscribed", "channels": ["top", "liquidity"],
                       "pairs": [{"exchange": "binance", "symbol": "BTC/USD"}, {"exchange": "kraken", "symbol": "BTC/USD"}]}
        first = [recv_json(ws) for _ in range(8)]
        assert {(m["type"], m["exchange"]) for m in first} >= {("top", "binance"), ("top", "kraken"),
                                                               ("liquidity", "binance"), ("liquidity", "kraken")}
        keys = [("binance", "BTC/USD"), ("kraken", "BTC/USD")]
        settle(srv, client, keys)
        msgs = first + drain(ws)
        for e, s in keys:
            last_top = [m for m in msgs if m["type"] == "top" and m["exchange"] == e][-1]
            book = client.get("/api/v1/book", params={"exchange": e, "symbol": s, "depth": 1}).json()
            assert last_top["update_id"] == book["update_id"] or e == "kraken"    # kraken has no ids
            assert (last_top["bid"], last_top["ask"]) == (book["bids"][0]["price"], book["asks"][0]["price"])
            assert last_top["state"] == "live" and last_top["book_ns"] > 0
            last_liq = [m for m in msgs if m["type"] == "liquidity" and m["exchange"] == e][-1]
            assert (last_liq["best_bid"], last_liq["best_ask"]) == (last_top["bid"], last_top["ask"])
        ws.send(json.dumps({"op": "unsubscribe", "pairs": [{"exchange": "kraken", "symbol": "BTC/USD"}]}))
        assert recv_json(ws)["type"] == "unsubscribed"
        metrics = client.get("/api/v1/metrics").json()["counters"]
        assert metrics["ws_clients"] == 1 and metrics["ws_pushes"] >= len(msgs)


def test_a_slow_client_gets_the_latest_state_not_a_queue():
    """A client that does not read (a 4 KiB receive buffer) while 3 books of 1,000 levels change
    every 5 ms: the server's sends block, its pushes coalesce per book; when the client reads
    again it gets each book's latest state, and the skipped states are counted."""
    hub = BookHub(sim=True, sim_interval=0.002)
    with running(hub, rate=None) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        keys = [("binance", "BTC/USD"), ("okx", "BTC/USD"), ("coinbase", "BTC/USD")]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(srv.url.rsplit(":", 1)[1])))
        # no permessage-deflate: consecutive states of a book compress to a few hundred bytes, and the
        # kernel's send buffer would hold them all (no back-pressure, nothing to coalesce)
        with wsc.connect(ws_url(srv), sock=sock, open_timeout=10, max_size=None, compression=None) as ws:
            ws.send(sub(keys, channels=["book"], depth=1000))
            assert recv_json(ws)["type"] == "subscribed"
            applied0 = {p["exchange"]: p["applied"] for p in client.get("/api/v1/venues").json()["pairs"]}
            time.sleep(5.0)                                   # not reading: longer than the kernel buffers absorb
            settle(srv, client, keys)
            applied = {p["exchange"]: p["applied"] for p in client.get("/api/v1/venues").json()["pairs"]}
            msgs = drain(ws, quiet=1.0)
            counters = client.get("/api/v1/metrics").json()["counters"]
            assert counters["ws_coalesced"] > 0
            changes = sum(applied[e] - applied0[e] for e, _ in keys)
            assert 0 < len(msgs) < changes                    # fewer pushes than book changes
            for e, s in keys:
                last = [m for m in msgs if m["exchange"] == e][-1]
                book = client.get("/api/v1/book", params={"exchange": e, "symbol": s, "depth": 1000}).json()
                assert last["update_id"] == book["update_id"]
                assert last["bids"] == [[lv["price"], lv["size"]] for lv in book["bids"]]
                assert last["asks"] == [[lv["price"], lv["size"]] for lv in book["asks"]]


def test_alerts_are_pushed_and_stored(tmp_path):
    from liqcore.store import open_store

    store = open_store(str(tmp_path / "alerts.db"))
    try:
        hub = BookHub(sim=True, sim_interval=0.002)
        from liqcore.alerts import Imbalance
        # a hair-trigger rule (any imbalance at all, no hold) so the synthetic books raise alerts at once
        opts = {"alert_interval_ms": 0.0,
                "monitor_options": {"rules": [Imbalance(level=1e-4, hold_s=0.0, clear_level=0.0)]}}
        with running(hub, store=store, rate=None, ws_options=opts) as srv, \
                httpx.Client(base_url=srv.url, timeout=30) as client, wsc.connect(ws_url(srv), open_timeout=10) as ws:
            ws.send(sub([("okx", "BTC/USDT")], channels=["alerts"]))
            assert recv_json(ws)["type"] == "subscribed"
            deadline = time.monotonic() + 20
            alert = None
            while alert is None and time.monotonic() < deadline:
                m = recv_json(ws, timeout=20)
                if m["type"] == "alert":
                    alert = m
            assert alert is not None and alert["exchange"] == "okx" and alert["symbol"] == "BTC/USD"
            store.flush()
            assert alert["alert"]["type"] == "IMBALANCE" and alert["alert"]["symbol"] == "BTC/USD"
            stored = client.get("/api/v1/alerts", params={"exchange": "okx", "symbol": "BTC/USD"}).json()
            assert alert["alert"]["id"] in {a["id"] for a in stored["alerts"]}
            assert client.get("/api/v1/metrics").json()["counters"]["alerts"] >= 1
    finally:
        store.close()


# ------------------------------------------------------------------ the trades channel
def sim_process(srv, venue, symbol):
    """The simulator's market-data process of a venue's market (what it published)."""
    sim = srv.hub.simulator
    return sim.market_data[(venue, sim.find_market(venue, symbol).instrument.id)]


def marks_of(msgs, kind):
    return [r for m in msgs if m["type"] == "trades" for r in m[kind]]


def test_trades_and_liquidations_pushed_equal_what_the_simulator_published():
    """A perpetual's trades and liquidations over the channel ``trades``: after the simulator is
    paused, the records received are exactly the simulator's from the first one received on
    (none lost, none repeated, same time, price, size, side); its stream stops with the last
    client that wanted it."""
    hub = BookHub(sim=True, sim_interval=0.01)
    with running(hub, rate=None) as srv, httpx.Client(base_url=srv.url, timeout=30) as client, \
            wsc.connect(ws_url(srv), open_timeout=10) as ws:
        ws.send(sub([("binanceusdm", "BTC/USDT:USDT")], channels=["trades"]))
        assert recv_json(ws) == {"type": "subscribed", "channels": ["trades"],
                                 "pairs": [{"exchange": "binanceusdm", "symbol": "BTC/USD:USD"}]}
        msgs = []
        deadline = time.monotonic() + 20
        while (len(marks_of(msgs, "trades")) < 50 or len(marks_of(msgs, "liquidations")) < 3) \
                and time.monotonic() < deadline:
            msgs.append(recv_json(ws))
        assert client.get("/api/v1/metrics").json()["counters"]["ws_trade_streams"] == 1
        srv.hub.simulator.pause()
        msgs += drain(ws, quiet=1.0)
        assert {m["type"] for m in msgs} == {"trades"}           # nothing but the channel asked for
        assert all(m["exchange"] == "binanceusdm" and m["symbol"] == "BTC/USD:USD" and m["dropped"] == 0
                   for m in msgs)
        proc = sim_process(srv, "binanceusdm", "BTC/USDT:USDT")
        got = marks_of(msgs, "trades")
        published = [t for t in proc.trades if t.agg_id >= int(got[0]["id"])]
        assert got == [{"id": str(t.agg_id), "ts_ms": t.ts_ms, "price": float(t.price), "size": float(t.size),
                        "side": t.side} for t in published]
        liqs = marks_of(msgs, "liquidations")
        first = next(i for i, x in enumerate(proc.liquidations)
                     if (x.ts_ms, float(x.avg_price)) == (liqs[0]["ts_ms"], liqs[0]["price"]))
        # the record's side is the liquidated position's: a forced sell closes a long
        assert liqs == [{"ts_ms": x.ts_ms, "price": float(x.avg_price), "size": float(x.size),
                         "side": "long" if x.side == "sell" else "short"} for x in list(proc.liquidations)[first:]]
        ws.send(json.dumps({"op": "unsubscribe", "pairs": [{"exchange": "binanceusdm", "symbol": "BTC/USD:USD"}]}))
        assert recv_json(ws)["type"] == "unsubscribed"
        assert client.get("/api/v1/metrics").json()["counters"]["ws_trade_streams"] == 0


def test_a_slow_client_gets_the_newest_trades_and_the_dropped_are_counted():
    """A client that does not read (4 KiB socket buffers) while three markets trade every 2 ms
    (their books, also subscribed, fill the buffers): its queue keeps the
    newest ``trade_queue`` records, the older are dropped and counted (in the metrics and in the
    pushes), and what it gets when it reads again is, per market, in order, never repeated,
    the simulator's, and ends on the simulator's last trade. Its streams close when it leaves."""
    hub = BookHub(sim=True, sim_interval=0.002)
    with running(hub, rate=None, ws_options={"trade_queue": 60, "trade_batch": 5}) as srv, \
            httpx.Client(base_url=srv.url, timeout=30) as client:
        venues = {"binance": "BTC/USDT", "okx": "BTC/USDT", "binanceusdm": "BTC/USDT:USDT"}
        # small kernel buffers on both ends (the server's connection inherits its listener's)
        srv.server.servers[0].sockets[0].setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(srv.url.rsplit(":", 1)[1])))
        with wsc.connect(ws_url(srv), sock=sock, open_timeout=10, max_size=None) as ws:
            ws.send(sub(venues.items(), channels=["book", "trades"]))
            assert recv_json(ws)["type"] == "subscribed"
            procs = {v: sim_process(srv, v, s) for v, s in venues.items()}
            start = {v: p.trades[-1].agg_id for v, p in procs.items()}
            time.sleep(5.0)                                   # not reading: longer than the kernel buffers absorb
            srv.hub.simulator.pause()
            time.sleep(0.5)
            dropped = client.get("/api/v1/metrics").json()["counters"]["ws_trades_dropped"]
            msgs = drain(ws, quiet=1.0)
        deadline = time.monotonic() + 10                      # the client is gone: so are its streams
        while client.get("/api/v1/metrics").json()["counters"]["ws_trade_streams"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/api/v1/metrics").json()["counters"]["ws_trade_streams"] == 0
        pushes = [m for m in msgs if m["type"] == "trades"]
        assert dropped > 0 and pushes[-1]["dropped"] == dropped
        assert max(len(m["trades"]) for m in pushes) <= 5
        received = published = 0
        for v, proc in procs.items():
            got = [t for m in pushes if m["exchange"] == v for t in m["trades"]]
            sent = {str(t.agg_id): t for t in proc.trades if t.agg_id > start[v]}
            ids = [int(t["id"]) for t in got]
            assert ids == sorted(set(ids)) and str(ids[-1]) == str(proc.trades[-1].agg_id)
            assert all((t["ts_ms"], t["price"], t["size"], t["side"]) ==
                       (sent[t["id"]].ts_ms, float(sent[t["id"]].price), float(sent[t["id"]].size), sent[t["id"]].side)
                       for t in got)
            received += len(got)
            published += len([i for i in sent if int(i) >= ids[0]])
        assert received < published <= received + dropped


def test_trade_queue_options_are_checked():
    from liqcore.service.errors import ServiceConfigError
    from liqcore.service.guard import Counters
    from liqcore.service.ws import Pusher

    for bad in ({"trade_queue": 0}, {"trade_batch": 0}):
        with pytest.raises(ServiceConfigError, match="trade_queue and trade_batch must be >= 1"):
            Pusher(BookHub(sim=True), Counters(), **bad)
