"""The agent tools (liqcore.service.tools) as plain async functions and through their registry,
over live books from the simulator: every result equals the numbers computed directly from the
frozen books (best prices, a walk by hand, OrderBook.liquidity_report, liqcore.risk called
directly) and validates against the tool's output schema; bad arguments are clear liqcore
errors that subscribe nothing; the alerts come from a real SQLite store."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("pydantic")
jsonschema = pytest.importorskip("jsonschema")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import run  # noqa: E402
from test_service_hub import TICK, settled  # noqa: E402
from test_service_queries import walk_by_hand  # noqa: E402

from liqcore.errors import FeedConfigError, LiqError, RiskInputError  # noqa: E402
from liqcore.service import models, tools  # noqa: E402
from liqcore.service.hub import BookHub  # noqa: E402
from liqcore.service.tools import TOOLS, ToolInputError, call_tool  # noqa: E402

#: (name, arguments) of one call of each hub tool, checked by check_hub_tools
CALLS = {
    "compare_exchanges": {"symbol": "BTC/USDT", "exchanges": ["binance", "coinbase", "kraken"], "levels": 5},
    "calculate_market_impact": {"exchange": "binance", "symbol": "BTC/USDT", "side": "buy", "amount": 3.5},
    "liquidity_report": {"exchange": "kraken", "symbol": "BTC/USD"},
    "liquidation_risk": {"exchange": "binance", "side": "long", "size": 2, "entry_price": 60000, "leverage": 20},
}
T0 = 1_700_000_000_000_000_000
ALERT = {"id": "a1", "type": "spread", "severity": "high", "current": 9.0, "baseline": 1.0, "deviation_pct": 800.0}

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def check_hub_tools(call: Call, hub: BookHub) -> None:
    """Call each hub tool through ``call`` (the registry, or an MCP session) and check the JSON
    result against the numbers computed directly from ``hub``'s books (frozen by the caller)."""
    from liqcore.risk import DAYS_PER_YEAR, LeverageTiers, Position, liquidation_price, liquidation_risk

    r = await call("compare_exchanges", CALLS["compare_exchanges"])
    assert r["symbol"] == "BTC/USD" and r["successful_fetches"] == r["exchanges_compared"] == 3
    rows = {row["exchange"]: row for row in r["venues"]}
    books = {v: hub.book(v, "BTC/USD") for v in ("binance", "coinbase", "kraken")}
    for venue, book in books.items():
        row = rows[venue]
        assert (row["best_bid"], row["best_ask"]) == (book.best_bid[0], book.best_ask[0]), venue
        assert (row["best_bid_size"], row["best_ask_size"]) == (book.best_bid[1], book.best_ask[1]), venue
        assert row["bid_volume"] == pytest.approx(float(book.bids(5)[:, 1].sum()), rel=1e-12)
        assert row["ask_volume"] == pytest.approx(float(book.asks(5)[:, 1].sum()), rel=1e-12)
        mid = (book.best_bid[0] + book.best_ask[0]) / 2
        assert row["spread_pct"] == pytest.approx((book.best_ask[0] - book.best_bid[0]) / mid * 100, rel=1e-9)
    top_bid = max(books, key=lambda v: books[v].best_bid[0])
    top_ask = min(books, key=lambda v: books[v].best_ask[0])
    assert (r["best_bid_exchange"], r["best_bid"]) == (top_bid, books[top_bid].best_bid[0])
    assert (r["best_ask_exchange"], r["best_ask"]) == (top_ask, books[top_ask].best_ask[0])
    a = r["arbitrage"]
    assert a["buy_price"] == books[a["buy_exchange"]].best_ask[0]
    assert a["sell_price"] == books[a["sell_exchange"]].best_bid[0]
    assert a["profit_pct"] == pytest.approx((a["sell_price"] - a["buy_price"]) / a["buy_price"] * 100, rel=1e-9)

    r = await call("calculate_market_impact", CALLS["calculate_market_impact"])
    book = hub.book("binance", "BTC/USD")
    filled, spent, touched = walk_by_hand(book.asks(5000).tolist(), quantity=3.5)
    assert r["total_base_amount"] == pytest.approx(filled, rel=1e-12)
    assert r["total_quote_amount"] == pytest.approx(spent, rel=1e-12)
    assert r["levels_consumed"] == touched and r["best_price"] == book.best_ask[0]
    assert r["average_price"] == pytest.approx(spent / filled, rel=1e-12)
    assert r["slippage_pct"] == pytest.approx((spent / filled / book.best_ask[0] - 1) * 100, rel=1e-6)
    assert r["sufficient_liquidity"] is (filled >= 3.5 - 1e-12)
    assert (r["symbol"], r["venue_symbol"], r["amount_in"]) == ("BTC/USD", "BTC/USDT", "base")

    r = await call("liquidity_report", CALLS["liquidity_report"])
    want = hub.book("kraken", "BTC/USD").liquidity_report()
    for name in ("best_bid", "best_ask", "mid", "spread_bps", "bid_volume", "ask_volume", "liquidity_1pct",
                 "liquidity_2pct", "imbalance", "slippage_bps", "score"):
        assert r[name] == pytest.approx(float(getattr(want, name)), rel=1e-12), name
    assert (r["walls"], r["clusters"], r["levels"]) == (len(want.walls), len(want.clusters), want.levels)

    r = await call("liquidation_risk", CALLS["liquidation_risk"])
    pos = Position("binance", "BTC/USDT:USDT", "long", 2, 60000, 20)
    tiers = LeverageTiers.default("binance", "BTC/USDT:USDT")
    want_risk = liquidation_risk(pos, sigma=0.6, tiers=tiers, book=hub.book("binanceusdm", "BTC/USD:USD"),
                                 horizon=1.0 / DAYS_PER_YEAR)
    assert r["liquidation_price"] == pytest.approx(liquidation_price(pos, tiers).price, rel=1e-12)
    assert r["score"] == pytest.approx(want_risk.score, rel=1e-12)
    assert r["mark"] == pytest.approx(want_risk.mark, rel=1e-12)
    assert r["probability"] == pytest.approx(want_risk.probability, rel=1e-12)
    assert r["exit_cost"] == pytest.approx(want_risk.exit_cost, rel=1e-12) and r["exit_complete"] is True


async def subscribe_and_freeze(hub: BookHub) -> None:
    """Subscribe every book the calls of CALLS read, then freeze the simulator until they are quiet."""
    await hub.books_of("BTC/USD", ["binance", "coinbase", "kraken"])
    await hub.ensure("binanceusdm", "BTC/USD:USD")
    await settled(hub)


def write_alerts(path: str) -> None:
    """A real SQLite store at ``path`` holding ALERT for binance BTC/USDT at T0 and a later one."""
    from liqcore.store import open_store
    with open_store(path) as store:
        store.write("alerts", [ALERT], ts=T0, exchange="binance", symbol="BTC/USDT")
        store.write("alerts", [dict(ALERT, id="a2", current=4.0, deviation_pct=300.0)], ts=T0 + 10,
                    exchange="binance", symbol="BTC/USDT")
        store.flush()


def test_the_registry_lists_five_tools_with_the_models_schemas():
    assert list(TOOLS) == ["compare_exchanges", "calculate_market_impact", "liquidity_report", "liquidation_risk",
                           "liquidity_alerts"]
    assert TOOLS["calculate_market_impact"].input_schema == models.ImpactRequest.model_json_schema()
    assert TOOLS["calculate_market_impact"].output_schema == \
        models.ImpactResponse.model_json_schema(mode="serialization")
    assert TOOLS["compare_exchanges"].result is models.CompareResponse
    assert TOOLS["liquidation_risk"].arguments is models.RiskRequest
    for tool in TOOLS.values():
        for schema in (tool.input_schema, tool.output_schema):
            jsonschema.Draft202012Validator.check_schema(schema)
            assert schema["type"] == "object" and json.loads(json.dumps(schema)) == schema
            # every field says what it is (its unit, for a number)
            assert all(p.get("description") for p in schema["properties"].values()), tool.name
        assert tool.description.count(".") >= 2 and len(tool.description) > 200
    assert "percent" in TOOLS["calculate_market_impact"].description
    assert "quote" in TOOLS["liquidity_report"].description
    assert TOOLS["liquidity_alerts"].needs_store and not TOOLS["liquidity_report"].needs_store
    assert set(TOOLS["liquidity_report"].input_schema["required"]) == {"exchange", "symbol"}
    assert set(TOOLS["liquidation_risk"].input_schema["required"]) == {"exchange", "side", "size", "entry_price",
                                                                       "leverage"}


def test_every_tool_equals_the_books_and_its_output_schema():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            await subscribe_and_freeze(hub)

            async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
                out = await call_tool(name, arguments, hub=hub)
                jsonschema.validate(out, TOOLS[name].output_schema)
                return out
            await check_hub_tools(call, hub)
    run(body(), 90)


def test_the_plain_functions_take_keywords_and_return_the_models():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            await tools.calculate_market_impact(hub, "coinbase", "BTC/USD", "sell", 1000.0, amount_in="quote")
            await settled(hub)
            book = hub.book("coinbase", "BTC/USD")
            r = await tools.calculate_market_impact(hub, "coinbase", "BTC/USD", "sell", 1000.0, amount_in="quote")
            assert isinstance(r, models.ImpactResponse)
            filled, got, touched = walk_by_hand(book.bids(5000).tolist(), notional=1000.0)
            assert r.total_quote_amount == pytest.approx(got, rel=1e-9) and r.levels_consumed == touched
            assert r.total_base_amount == pytest.approx(filled, rel=1e-9) and r.best_price == book.best_bid[0]
            c = await tools.compare_exchanges(hub, "BTC/USD", ("coinbase", "okx"))
            assert isinstance(c, models.CompareResponse) and [v.exchange for v in c.venues] == ["coinbase", "okx"]
            rep = await tools.liquidity_report(hub, " Coinbase ", "btc/usd")
            assert (rep.exchange, rep.symbol) == ("coinbase", "BTC/USD")
            risk = await tools.liquidation_risk(hub, "bybit", "short", 1, 60000, 10, liq_price=65000, use_book=False)
            assert risk.liquidation_price == 65000 and risk.exit_cost is None
            with pytest.raises(RiskInputError, match="tier"):
                await tools.liquidation_risk(hub, "bybit", "long", 1, 60000, 10, use_book=False)
    run(body(), 60)


@pytest.mark.parametrize("name, arguments, match", [
    ("calculate_market_impact", {"exchange": "binance", "symbol": "BTC/USDT", "side": "buy", "amount": -1},
     r"^amount: Input should be greater than 0 \(got -1\)$"),
    ("calculate_market_impact", {"exchange": "binance", "symbol": "BTC/USDT", "side": "hold", "amount": 1},
     r"^side: Input should be 'buy' or 'sell'"),
    ("calculate_market_impact", {"exchange": "binance", "symbol": "BTC/USDT", "side": "buy"},
     r"^amount: Field required$"),
    ("calculate_market_impact", {"exchange": "binance", "symbol": "BTC/USDT", "side": "buy", "amount": 1, "fee": 0},
     r"^fee: Extra inputs are not permitted$"),
    ("compare_exchanges", {"symbol": "BTC/USDT", "exchanges": []}, r"^exchanges: List should have at least 1 item"),
    ("compare_exchanges", {"symbol": "BTC/USDT", "levels": "many"}, r"^levels: Input should be a valid integer"),
    ("liquidity_report", {"exchange": "kraken"}, r"^symbol: Field required$"),
    ("liquidation_risk", {"exchange": "okx", "side": "long", "size": 1, "entry_price": 1, "leverage": 5},
     r"^exchange: Input should be 'binance', 'binanceusdm' or 'bybit'"),
    ("liquidation_risk", {"exchange": "binance", "side": "long", "size": 1, "entry_price": 1, "leverage": 1e9},
     r"^leverage: Input should be less than or equal to 1000"),
    ("liquidity_alerts", {"exchange": "binance", "symbol": "BTC/USDT", "limit": 0},
     r"^limit: Input should be greater than or equal to 1"),
    ("nope", {}, r"^unknown tool 'nope'; one of compare_exchanges, "),
])
def test_a_bad_argument_is_a_tool_input_error_and_subscribes_nothing(name, arguments, match):
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            with pytest.raises(ToolInputError, match=match) as caught:
                await call_tool(name, arguments, hub=hub, store=object())
            assert isinstance(caught.value, LiqError) and isinstance(caught.value, ValueError)
            assert "\n" not in str(caught.value) and hub.pairs() == [] and hub.failed_subscriptions == 0
    run(body(), 30)


def test_a_bad_venue_or_symbol_is_a_feed_config_error_and_the_hub_goes_on():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            impact = TOOLS["calculate_market_impact"]
            with pytest.raises(FeedConfigError, match="unknown exchange 'ftx'"):
                await impact.call({"exchange": "ftx", "symbol": "BTC/USDT", "side": "buy", "amount": 1}, hub=hub)
            with pytest.raises(FeedConfigError, match="not a symbol"):
                await impact.call({"exchange": "binance", "symbol": "BTCUSDT", "side": "buy", "amount": 1}, hub=hub)
            with pytest.raises(FeedConfigError, match="binance lists no 'DOGE/USDT'"):
                await TOOLS["liquidity_report"].call({"exchange": "binance", "symbol": "DOGE/USDT"}, hub=hub)
            with pytest.raises(ToolInputError, match="JSON object, got list"):
                await impact.call([1, 2], hub=hub)                     # type: ignore[arg-type]
            with pytest.raises(ToolInputError, match="needs a book hub"):
                await TOOLS["liquidity_report"].call({"exchange": "kraken", "symbol": "BTC/USD"})
            assert hub.pairs() == []
            out = await TOOLS["liquidity_report"].call({"exchange": "kraken", "symbol": "BTC/USD"}, hub=hub)
            assert out["state"] == "live" and out["best_bid"] < out["best_ask"]
    run(body(), 60)


def test_liquidity_alerts_from_a_real_store(tmp_path):
    from liqcore.store import open_store
    write_alerts(str(tmp_path / "h.db"))
    with open_store(str(tmp_path / "h.db")) as store:
        out = asyncio.run(call_tool("liquidity_alerts", {"exchange": "binance", "symbol": "BTC/USDT"}, store=store))
        jsonschema.validate(out, TOOLS["liquidity_alerts"].output_schema)
        assert (out["count"], out["truncated"]) == (2, False)
        assert [(a["id"], a["ts"], a["deviation_pct"]) for a in out["alerts"]] == [("a1", T0, 800.0),
                                                                                   ("a2", T0 + 10, 300.0)]
        newest = asyncio.run(tools.liquidity_alerts(store, "binance", "BTC/USDT", limit=1))
        assert (newest.count, newest.truncated, newest.alerts[0]["id"]) == (1, True, "a2")
        ranged = asyncio.run(tools.liquidity_alerts(store, "binance", "BTC/USDT", start_ns=T0 + 1))
        assert [a["id"] for a in ranged.alerts] == ["a2"]
        assert asyncio.run(tools.liquidity_alerts(store, "kraken", "BTC/USD")).count == 0
        with pytest.raises(ToolInputError, match="start_ns: Input should be greater than or equal to 0"):
            asyncio.run(tools.liquidity_alerts(store, "binance", "BTC/USDT", start_ns=-5))
        with pytest.raises(ToolInputError, match="needs a store"):
            asyncio.run(call_tool("liquidity_alerts", {"exchange": "binance", "symbol": "BTC/USDT"}))
