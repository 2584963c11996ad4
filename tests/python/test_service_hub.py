"""BookHub against the local exchange simulator: pairs subscribed on demand through LiveFeed
hold the simulator's true books, one instrument maps to each venue's own market, listeners
are told which books changed (coalesced, bounded), bad pairs are clear errors that change
nothing, and the bound on pairs holds."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import run  # noqa: E402

from liqcore.errors import FeedConfigError  # noqa: E402
from liqcore.service.hub import BookHub  # noqa: E402

TICK = 0.005


async def settled(hub: BookHub, timeout: float = 10.0) -> None:
    """Freeze the simulator and wait until no book receives anything for 200 ms."""
    hub.simulator.pause()

    async def _quiet() -> None:
        while True:
            seen = [p.messages for p in hub.pairs()]
            await asyncio.sleep(0.2)
            if seen == [p.messages for p in hub.pairs()] and all(p.state == "live" for p in hub.pairs()):
                return
    await asyncio.wait_for(_quiet(), timeout)


def test_one_instrument_on_every_venue_equals_the_simulators_true_books():
    venues = {"binance": "BTCUSDT", "coinbase": "BTC-USD", "kraken": "XXBTZUSD", "okx": "BTC-USDT",
              "bybit": "BTCUSDT", "bitget": "BTCUSDT", "bitfinex": "tBTCUSD"}

    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            books, failures = await hub.books_of("BTC/USDT", list(venues) + ["binanceusdm"])
            assert set(books) == set(venues)
            assert "perpetuals only" in failures["binanceusdm"]
            await settled(hub)
            for venue, vid in venues.items():
                truth = hub.simulator.true_book(venue, vid)
                book = hub.book(venue, "BTC/USD")
                # Kraken and Bybit keep a window of the book; compare the best levels
                assert book.level_strings("bid", 5) == [lv[:2] for lv in truth["bids"][:5]], venue
                assert book.level_strings("ask", 5) == [lv[:2] for lv in truth["asks"][:5]], venue
            pairs = {(p.venue, p.instrument): p for p in hub.pairs()}
            assert pairs[("binance", "BTC/USD")].symbol == "BTC/USDT"
            assert pairs[("kraken", "BTC/USD")].symbol == "BTC/USD"
            assert all(p.state == "live" and p.messages > 0 for p in pairs.values())
            # the perpetual is another book, on its own market
            perp = await hub.ensure("okx", "BTC/USDT:USDT")
            assert hub.symbol("okx", "BTC/USD:USD") == "BTC/USDT:USDT"
            truth = hub.simulator.true_book("okx", "BTC-USDT-SWAP")
            assert perp.level_strings("bid", 3) == [lv[:2] for lv in truth["bids"][:3]]
            assert hub.taker_fee("binance", "BTC/USD") is not None
    run(body(), 60)


def test_bad_pairs_are_clear_errors_and_change_nothing():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK, max_pairs=2) as hub:
            with pytest.raises(FeedConfigError, match="unknown exchange 'ftx'"):
                await hub.ensure("ftx", "BTC/USDT")
            with pytest.raises(FeedConfigError, match="binance lists no 'DOGE/USDT'"):
                await hub.ensure("binance", "DOGE/USDT")
            with pytest.raises(FeedConfigError, match="not a symbol"):
                await hub.ensure("binance", "BTCUSDT")
            with pytest.raises(FeedConfigError, match="not subscribed"):
                hub.book("binance", "BTC/USDT")
            assert hub.pairs() == []
            await hub.ensure("binance", "BTC/USDT")
            await hub.ensure("binance", "btc/usd")            # the same pair: no second book
            await hub.ensure("okx", "ETH/USDT")
            with pytest.raises(FeedConfigError, match="maximum of 2 books"):
                await hub.ensure("kraken", "BTC/USD")
            assert [(p.venue, p.instrument) for p in hub.pairs()] == [("binance", "BTC/USD"), ("okx", "ETH/USD")]
            assert hub.failed_subscriptions == 2
    run(body(), 60)


def test_concurrent_requests_for_one_pair_share_one_subscription():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            books = await asyncio.gather(*(hub.ensure("coinbase", "BTC/USD") for _ in range(5)))
            assert all(b is books[0] for b in books)
            assert len(hub.pairs()) == 1
    run(body(), 30)


def test_listeners_learn_which_books_changed_coalesced():
    async def body():
        async with BookHub([("binance", "BTC/USDT"), ("okx", "BTC/USDT")], sim=True, sim_interval=TICK) as hub:
            ch = hub.listen()
            await asyncio.sleep(0.3)                      # many updates, nobody reading
            keys = await ch.wait(1.0)
            assert sorted(keys) == [("binance", "BTC/USD"), ("okx", "BTC/USD")]   # each once: bounded
            assert ch.coalesced > 0                       # the intermediate states were counted
            hub.simulator.pause()
            await asyncio.sleep(0.2)
            await ch.wait(0)                              # drain what was in flight
            assert await ch.wait(0.2) == []               # nothing changes while paused
            hub.unlisten(ch)
            assert hub.listeners == 0
        assert ch.closed
    run(body(), 30)
