"""The service operations (liqcore.service.queries) over live books from the simulator, checked
against independent computations on the same frozen books (a walk by hand over the levels, the
simulator's true books, liqcore.risk called directly, rows written to a real SQLite store)."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("pydantic")

from pydantic import ValidationError  # noqa: E402

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import run  # noqa: E402
from test_service_hub import TICK, settled  # noqa: E402

from liqcore.errors import FeedConfigError, InvalidDeltaError, RiskInputError  # noqa: E402
from liqcore.service import queries as q  # noqa: E402
from liqcore.service.hub import BookHub  # noqa: E402
from liqcore.service.models import CompareRequest, ImpactRequest, RiskRequest  # noqa: E402


def walk_by_hand(levels, quantity=None, notional=None):
    """(filled base, spent quote, levels touched) taking ``levels`` ([[price, size], ...]) best first."""
    filled = spent = 0.0
    touched = 0
    for price, size in levels:
        if (quantity is not None and filled >= quantity - 1e-12) or (notional is not None and spent >= notional - 1e-9):
            break
        take = size if quantity is None else min(size, quantity - filled)
        if notional is not None:
            take = min(size, (notional - spent) / price)
        filled += take
        spent += take * price
        touched += 1
    return filled, spent, touched


def test_compare_exchanges_the_default_trio():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            req = CompareRequest(symbol="BTC/USDT", exchanges=["binance", "coinbase", "kraken", "binanceusdm"],
                                 levels=5)
            await q.compare_exchanges(hub, req)               # subscribes
            await settled(hub)
            r = await q.compare_exchanges(hub, req)
            assert r.symbol == "BTC/USD" and r.exchanges_compared == 4 and r.successful_fetches == 3
            assert list(r.failures) == ["binanceusdm"]
            rows = {row.exchange: row for row in r.venues}
            assert [(v, rows[v].symbol) for v in sorted(rows)] == [("binance", "BTC/USDT"), ("coinbase", "BTC/USD"),
                                                                    ("kraken", "BTC/USD")]
            for venue, vid in (("binance", "BTCUSDT"), ("coinbase", "BTC-USD"), ("kraken", "XXBTZUSD")):
                truth = hub.simulator.true_book(venue, vid)
                row = rows[venue]
                assert row.best_bid == float(truth["bids"][0][0]) and row.best_ask == float(truth["asks"][0][0])
                assert row.bid_volume == pytest.approx(sum(float(s) for _, s, *_ in truth["bids"][:5]))
                assert row.spread_pct == pytest.approx((row.best_ask - row.best_bid) / row.mid_price * 100)
                assert row.state == "live"
            best_bid = max(rows.values(), key=lambda x: x.best_bid)
            best_ask = min(rows.values(), key=lambda x: x.best_ask)
            assert (r.best_bid_exchange, r.best_bid) == (best_bid.exchange, best_bid.best_bid)
            assert (r.best_ask_exchange, r.best_ask) == (best_ask.exchange, best_ask.best_ask)
            assert r.average_spread_pct == pytest.approx(sum(x.spread_pct for x in rows.values()) / 3)
            a = r.arbitrage
            assert a is not None and a.buy_exchange != a.sell_exchange
            assert a.buy_price == rows[a.buy_exchange].best_ask and a.sell_price == rows[a.sell_exchange].best_bid
            assert a.profit_pct == pytest.approx((a.sell_price - a.buy_price) / a.buy_price * 100)
            assert a.route.startswith(f"buy {a.buy_exchange} @ ") and f"-> sell {a.sell_exchange} @ " in a.route
            assert a.profitable == (a.net_profit_pct > 0)
            with pytest.raises(FeedConfigError, match="unknown exchange"):
                await q.compare_exchanges(hub, CompareRequest(symbol="BTC/USD", exchanges=["binance", "nope"]))
    run(body(), 60)


def test_market_impact_equals_a_walk_by_hand():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            await hub.ensure("kraken", "BTC/USD")
            await settled(hub)
            book = hub.book("kraken", "BTC/USD")
            asks, bids = book.asks().tolist(), book.bids().tolist()
            r = await q.market_impact(hub, ImpactRequest(exchange="kraken", symbol="BTC/USDT", side="buy", amount=0.5))
            filled, spent, touched = walk_by_hand(asks, quantity=0.5)
            assert r.total_base_amount == pytest.approx(filled) and r.levels_consumed == touched
            assert r.sufficient_liquidity == (filled >= 0.5 - 1e-12)
            assert r.average_price == pytest.approx(spent / filled) and r.best_price == asks[0][0]
            assert r.slippage_pct == pytest.approx((spent / filled - asks[0][0]) / asks[0][0] * 100)
            assert r.venue_symbol == "BTC/USD" and r.symbol == "BTC/USD"
            r = await q.market_impact(hub, ImpactRequest(exchange="kraken", symbol="BTC/USD", side="sell",
                                                         amount=50_000, amount_in="quote"))
            filled, spent, touched = walk_by_hand(bids, notional=50_000)
            assert r.total_quote_amount == pytest.approx(spent) and r.total_base_amount == pytest.approx(filled)
            assert r.levels_consumed == touched and r.best_price == bids[0][0]
            # a sell below the best bid is adverse: positive (0 when the best level fills it all)
            assert r.slippage_pct == pytest.approx((bids[0][0] - spent / filled) / bids[0][0] * 100, abs=1e-12)
            assert r.slippage_pct >= 0 and (r.slippage_pct > 0) == (touched > 1)
            whole = sum(s for _, s in bids)
            r = await q.market_impact(hub, ImpactRequest(exchange="kraken", symbol="BTC/USD", side="sell",
                                                         amount=round(whole + 1000, 8)))
            assert not r.sufficient_liquidity and r.total_base_amount == pytest.approx(whole)
            assert r.unfilled == pytest.approx(1000) and r.levels_consumed == len(bids)
            with pytest.raises(InvalidDeltaError):           # more decimals than the book keeps
                await q.market_impact(hub, ImpactRequest(exchange="kraken", symbol="BTC/USD", side="buy",
                                                         amount=1e-12))
    run(body(), 60)


def test_impact_request_validation():
    for bad in ({"amount": 0}, {"amount": -1}, {"amount": float("nan")}, {"amount": float("inf")}, {"side": "hold"},
                {"amount_in": "usd"}, {"extra": 1}, {"symbol": ""}):
        with pytest.raises(ValidationError):
            ImpactRequest(**{"exchange": "binance", "symbol": "BTC/USDT", "side": "buy", "amount": 1.0, **bad})


def test_snapshot_report_walls_venues_health_metrics():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            assert (await q.health(hub)).status == "empty"
            await hub.ensure("okx", "BTC/USDT")
            await settled(hub)
            s = await q.book_snapshot(hub, "okx", "BTC/USD", 4)
            truth = hub.simulator.true_book("okx", "BTC-USDT")
            assert [[lv.price, lv.size] for lv in s.bids] == [[float(p), float(z)] for p, z, *_ in truth["bids"][:4]]
            assert [[lv.price, lv.size] for lv in s.asks] == [[float(p), float(z)] for p, z, *_ in truth["asks"][:4]]
            assert s.update_id == truth["update_id"] and s.venue_symbol == "BTC/USDT"
            with pytest.raises(FeedConfigError, match="depth"):
                await q.book_snapshot(hub, "okx", "BTC/USD", 0)
            rep = await q.liquidity_report(hub, "okx", "BTC/USD")
            want = hub.book("okx", "BTC/USD").liquidity_report()
            assert (rep.spread_bps, rep.liquidity_1pct, rep.score, rep.walls) == \
                (want.spread_bps, want.liquidity_1pct, want.score, len(want.walls))
            w = await q.walls(hub, "okx", "BTC/USD", band_bps=100, limit=3)
            direct = hub.book("okx", "BTC/USD").walls(100, limit=3)
            assert [(x.side, x.price, x.size) for x in w.walls] == [(x.side, x.price, x.size) for x in direct]
            assert len(w.clusters) <= 3
            with pytest.raises(FeedConfigError, match="band_bps"):
                await q.walls(hub, "okx", "BTC/USD", band_bps=math.nan)
            v = await q.venues(hub)
            assert "kraken" in v.venues and v.simulator and "USDT" in v.usd_family
            assert [(p.exchange, p.symbol, p.venue_symbol, p.state) for p in v.pairs] == \
                [("okx", "BTC/USD", "BTC/USDT", "live")]
            h = await q.health(hub)
            assert (h.status, h.books, h.live) == ("ok", 1, 1)
            m = await q.metrics(hub, {"requests": 3})
            assert m.books_live == 1 and m.book_messages == v.pairs[0].messages and m.counters == {"requests": 3}
    run(body(), 60)


def test_position_risk_equals_liqcore_risk():
    from liqcore.risk import LeverageTiers, Position, liquidation_price

    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            req = RiskRequest(exchange="binance", side="long", size=2, entry_price=60000, leverage=20)
            r = await q.position_risk(hub, req)
            want = liquidation_price(Position("binance", "BTC/USDT:USDT", "long", 2, 60000, 20),
                                     LeverageTiers.default("binance", "BTCUSDT"))
            assert r.liquidation_price == pytest.approx(want.price) and 0 <= r.score <= 100
            assert r.exit_complete is True and r.exit_cost is not None      # priced on binanceusdm's live book
            assert [p.venue for p in hub.pairs()] == ["binanceusdm"]
            far = await q.position_risk(hub, req.model_copy(update={"leverage": 2}))
            assert far.liquidation_price < r.liquidation_price and far.score < r.score
            with pytest.raises(RiskInputError, match="tier"):
                await q.position_risk(hub, RiskRequest(exchange="bybit", side="long", size=1, entry_price=60000,
                                                       leverage=10, use_book=False))
            given = await q.position_risk(hub, RiskRequest(exchange="bybit", side="short", size=1, entry_price=60000,
                                                           leverage=10, liq_price=65000, use_book=False))
            assert given.liquidation_price == 65000 and given.exit_cost is None
    run(body(), 60)


def test_history_and_alerts_from_a_real_store(tmp_path):
    from liqcore import OrderBook
    from liqcore.store import StoreInputError, open_store

    book = OrderBook(tick_size="0.5", lot_size="0.5")
    book.apply_snapshot([["99.5", "1.5"], ["99.0", "2.5"]], [["100.0", "1.0"], ["101.0", "3.0"]], update_id=7)
    store = open_store(str(tmp_path / "h.db"))
    try:
        t0 = 1_700_000_000_000_000_000
        for i in range(5):
            store.write("liquidity_reports", book.liquidity_report(), ts=t0 + i, exchange="binance", symbol="BTC/USDT")
        store.write("alerts", [{"id": "a1", "type": "spread", "severity": "high", "current": 9.0, "baseline": 1.0,
                                "deviation_pct": 800.0}], ts=t0, exchange="binance", symbol="BTC/USDT")
        store.flush()
        h = asyncio.run(q.history(store, "liquidity_reports", "binance", "BTC/USDT", t0 + 1, t0 + 10, limit=3))
        assert (h.count, h.truncated) == (3, True)
        assert [row["ts"] for row in h.rows] == [t0 + 2, t0 + 3, t0 + 4]                 # the newest
        assert h.rows[0]["exchange"] == "binance" and h.rows[0]["spread"] == 0.5 and h.rows[0]["best_bid"] == 99.5
        a = asyncio.run(q.alerts(store, "binance", "BTC/USDT"))
        assert a.count == 1 and a.alerts[0]["id"] == "a1" and a.alerts[0]["deviation_pct"] == 800.0
        assert a.alerts[0]["z"] is None                                                  # NaN is null
        with pytest.raises(StoreInputError):
            asyncio.run(q.history(store, "nope", "binance", "BTC/USDT"))
        with pytest.raises(FeedConfigError, match="limit"):
            asyncio.run(q.history(store, "liquidity_reports", "binance", "BTC/USDT", limit=0))
    finally:
        store.close()
