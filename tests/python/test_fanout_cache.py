"""The book/comparison cache: the same interface tests on a MemoryCache and on a RedisCache of a
real redis-server (tests/python/redis_server.py); TTLs honoured by both; bad input refused with
FanoutError and nothing stored; an unreachable or killed Redis gives FanoutConnectionError."""

from __future__ import annotations

import math
import socket
import time

import numpy as np
import pytest
import redis
from redis_server import redis_server, redis_url  # noqa: F401  (the fixture)
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard)

from liqcore import OrderBook
from liqcore.errors import LiqError
from liqcore.fanout import BookCache, FanoutConnectionError, FanoutError, MemoryCache, RedisCache, open_cache
from liqcore.venues import compare_books


def make_book(exchange: str = "binance", symbol: str = "BTC/USDT", bid: float = 100.0) -> OrderBook:
    b = OrderBook(tick_size="0.01", lot_size="0.001", symbol=symbol, exchange=exchange)
    b.apply_snapshot([[bid, 1.0], [bid - 0.01, 2.5]], [[bid + 0.02, 1.5], [bid + 0.05, 0.25]], update_id=42)
    return b


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> BookCache:
    if request.param == "memory":
        c: BookCache = open_cache()
    else:
        c = open_cache(request.getfixturevalue("redis_url"))
    yield c
    c.close()


def wait_gone(get, limit_s: float = 10.0) -> bool:
    """Poll until ``get()`` returns None (no timing asserted: only that it happens)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if get() is None:
            return True
        time.sleep(0.01)
    return False


def test_open_cache_picks_the_backend(redis_url: str) -> None:
    assert isinstance(open_cache(), MemoryCache) and isinstance(open_cache(""), MemoryCache)
    with open_cache(redis_url) as c:
        assert isinstance(c, RedisCache) and isinstance(c, BookCache)


def test_a_book_comes_back_equal_and_owned_by_the_caller(cache: BookCache) -> None:
    book = make_book()
    cache.cache_orderbook("binance", "BTC/USDT", book, ttl_s=30)
    book.update("bid", 100.0, 0)                                # later changes are not in the cache
    got = cache.get_orderbook("binance", "BTC/USDT")
    assert got is not None and got is not book
    np.testing.assert_array_equal(got.bids(), make_book().bids())
    np.testing.assert_array_equal(got.asks(), make_book().asks())
    assert (got.exchange, got.symbol, got.last_update_id) == ("binance", "BTC/USDT", 42)
    assert cache.get_orderbook("okx", "BTC/USDT") is None
    assert cache.stats() == {"hits": 1, "misses": 1, "sets": 1, "invalidations": 0, "errors": 0, "evictions": 0}


def test_a_perpetual_symbol_with_a_colon_is_its_own_key(cache: BookCache) -> None:
    cache.cache_orderbook("bybit", "BTC/USDT:USDT", make_book("bybit", "BTC/USDT:USDT", 200.0), ttl_s=30)
    cache.cache_orderbook("bybit", "BTC/USDT", make_book("bybit", "BTC/USDT", 100.0), ttl_s=30)
    assert cache.get_orderbook("bybit", "BTC/USDT:USDT").best_bid == (200.0, 1.0)
    assert cache.get_orderbook("bybit", "BTC/USDT").best_bid == (100.0, 1.0)


def test_ttl_expires_entries(cache: BookCache) -> None:
    cache.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=0.05)
    cache.cache_comparison("BTC/USDT", ["binance"], {"x": 1}, ttl_s=0.05)
    cache.cache_orderbook("okx", "BTC/USDT", make_book("okx"), ttl_s=60)
    assert wait_gone(lambda: cache.get_orderbook("binance", "BTC/USDT"))
    assert wait_gone(lambda: cache.get_comparison("BTC/USDT", ["binance"]))
    assert cache.get_orderbook("okx", "BTC/USDT") is not None       # a long TTL outlives them


def test_a_new_set_replaces_the_value_and_its_ttl(cache: BookCache) -> None:
    cache.cache_orderbook("binance", "BTC/USDT", make_book(bid=100.0), ttl_s=0.05)
    cache.cache_orderbook("binance", "BTC/USDT", make_book(bid=101.0), ttl_s=60)
    time.sleep(0.1)                                                  # past the first TTL
    assert cache.get_orderbook("binance", "BTC/USDT").best_bid == (101.0, 1.0)


def test_comparisons_are_keyed_by_symbol_and_the_set_of_venues(cache: BookCache) -> None:
    books = {"binance": make_book(), "okx": make_book("okx", bid=100.5)}
    result = compare_books(books, symbol="BTC/USDT")
    cache.cache_comparison("BTC/USDT", ["okx", "binance"], result, ttl_s=30)
    got = cache.get_comparison("BTC/USDT", ("binance", "okx", "binance"))
    assert got is not None and got["symbol"] == "BTC/USDT" and got["best_bid"] == ["okx", 100.5]
    assert [q["venue"] for q in got["quotes"]] == ["binance", "okx"]
    assert got["arbitrage"]["buy_venue"] == "binance"
    assert cache.get_comparison("BTC/USDT", ["binance"]) is None
    assert cache.get_comparison("ETH/USDT", ["binance", "okx"]) is None


def test_nan_in_a_result_comes_back_as_none(cache: BookCache) -> None:
    cache.cache_comparison("BTC/USDT", ["binance"], {"spread": math.nan, "n": 1}, ttl_s=30)
    assert cache.get_comparison("BTC/USDT", ["binance"]) == {"spread": None, "n": 1}


def test_invalidate_removes_what_the_pattern_matches(cache: BookCache) -> None:
    for ex in ("binance", "binanceusdm", "okx"):
        cache.cache_orderbook(ex, "BTC/USDT", make_book(ex), ttl_s=30)
        cache.cache_orderbook(ex, "ETH/USDT", make_book(ex, "ETH/USDT"), ttl_s=30)
    cache.cache_comparison("BTC/USDT", ["binance", "okx"], {"x": 1}, ttl_s=30)
    assert cache.invalidate("book:binance:*") == 2
    assert cache.get_orderbook("binance", "BTC/USDT") is None and cache.get_orderbook("binanceusdm", "BTC/USDT")
    assert cache.invalidate("book:*:ETH/USDT") == 2
    assert cache.invalidate("book:okx:ETH/USDT") == 0
    assert cache.invalidate("comparison:*") == 1 and cache.get_comparison("BTC/USDT", ["binance", "okx"]) is None
    assert cache.invalidate("*") == 2
    assert cache.stats()["invalidations"] == 7


def test_invalidate_stays_inside_the_prefix(redis_url: str) -> None:
    with open_cache(redis_url, prefix="a") as a, open_cache(redis_url, prefix="b") as b:
        a.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        b.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        assert a.invalidate("*") == 1
        assert b.get_orderbook("binance", "BTC/USDT") is not None


def test_invalidate_leaves_the_published_keys_and_stream_alone(redis_url: str) -> None:
    from liqcore.fanout import FanoutReader, RedisPublisher

    with open_cache(redis_url) as cache, RedisPublisher(redis_url) as pub, FanoutReader(redis_url) as reader:
        cache.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        pub.publish_top(make_book())
        assert pub.flush()
        assert cache.invalidate("*") == 1
        assert reader.latest("top", "binance", "BTC/USDT") is not None
        raw = redis.Redis.from_url(redis_url)
        assert raw.keys("liqcore:cache:*") == [] and raw.keys("liqcore:*") == [b"liqcore:top:binance:BTC/USDT"]
        raw.close()


def test_two_redis_caches_share_entries(redis_url: str) -> None:
    with open_cache(redis_url) as writer, open_cache(redis_url) as reader:
        writer.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        assert reader.get_orderbook("binance", "BTC/USDT").best_ask == (100.02, 1.5)


BAD_TTLS = [-1, 0, math.nan, math.inf, True, "5", None]


@pytest.mark.parametrize("ttl", BAD_TTLS)
def test_a_bad_ttl_is_refused_and_nothing_is_stored(cache: BookCache, ttl: object) -> None:
    with pytest.raises(FanoutError, match="ttl_s"):
        cache.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=ttl)  # type: ignore[arg-type]
    with pytest.raises(FanoutError, match="ttl_s"):
        cache.cache_comparison("BTC/USDT", ["binance"], {}, ttl_s=ttl)  # type: ignore[arg-type]
    assert cache.get_orderbook("binance", "BTC/USDT") is None and cache.get_comparison("BTC/USDT", ["binance"]) is None
    assert cache.stats()["sets"] == 0


@pytest.mark.parametrize("call, match", [
    (lambda c: c.cache_orderbook("", "BTC/USDT", make_book(), 1), "exchange"),
    (lambda c: c.cache_orderbook("bin:ance", "BTC/USDT", make_book(), 1), "exchange"),
    (lambda c: c.cache_orderbook("binance", "BTC USDT", make_book(), 1), "symbol"),
    (lambda c: c.cache_orderbook("binance", "BTC/*", make_book(), 1), "symbol"),
    (lambda c: c.cache_orderbook("binance", "BTC/USDT", {"bids": []}, 1), "book"),
    (lambda c: c.cache_comparison("BTC/USDT", "binance", {}, 1), "exchanges"),
    (lambda c: c.cache_comparison("BTC/USDT", [], {}, 1), "exchanges"),
    (lambda c: c.cache_comparison("BTC/USDT", None, {}, 1), "exchanges"),
    (lambda c: c.cache_comparison("BTC/USDT", ["a,b"], {}, 1), "exchanges"),
    (lambda c: c.cache_comparison("BTC/USDT", ["binance"], {"x": object()}, 1), "result"),
    (lambda c: c.get_orderbook("binance", None), "symbol"),
    (lambda c: c.invalidate(""), "pattern"),
    (lambda c: c.invalidate("book\\*"), "pattern"),
    (lambda c: c.invalidate(3), "pattern"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(cache: BookCache, call, match: str) -> None:
    cache.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
    before = cache.stats()
    with pytest.raises(FanoutError, match=match) as info:
        call(cache)
    assert isinstance(info.value, LiqError) and isinstance(info.value, ValueError)
    assert cache.stats() == before and cache.get_orderbook("binance", "BTC/USDT") is not None


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "redis://127.0.0.1:99999",
                                 "redis://127.0.0.1:6379/x", "unix://", 6379, "redis://127.0.0.1:0"])
def test_a_bad_url_is_refused(url: object) -> None:
    with pytest.raises(FanoutError, match="url"):
        open_cache(url)  # type: ignore[arg-type]


def test_an_unreachable_redis_is_a_clear_error() -> None:
    with socket.socket() as s:                                  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FanoutConnectionError, match=f"127.0.0.1:{port}") as info:
        open_cache(f"redis://:secret@127.0.0.1:{port}/0")
    assert isinstance(info.value, ConnectionError) and "secret" not in str(info.value)


def test_a_killed_redis_gives_errors_then_works_again(redis_url: str) -> None:
    server = redis_server()
    with open_cache(redis_url, timeout_s=1.0) as c:
        c.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        server.kill()
        with pytest.raises(FanoutConnectionError):
            c.get_orderbook("binance", "BTC/USDT")
        with pytest.raises(FanoutConnectionError):
            c.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        assert c.stats()["errors"] == 2
        server.start()                                          # empty again (no persistence)
        assert c.get_orderbook("binance", "BTC/USDT") is None
        c.cache_orderbook("binance", "BTC/USDT", make_book(), ttl_s=30)
        assert c.get_orderbook("binance", "BTC/USDT") is not None


def test_a_full_memory_cache_drops_expired_then_oldest_and_counts_it() -> None:
    c = MemoryCache(max_entries=3)
    c.cache_orderbook("a", "X/USDT", make_book("a"), ttl_s=0.01)
    c.cache_orderbook("b", "X/USDT", make_book("b"), ttl_s=60)
    c.cache_orderbook("c", "X/USDT", make_book("c"), ttl_s=60)
    time.sleep(0.02)
    c.cache_orderbook("d", "X/USDT", make_book("d"), ttl_s=60)   # the expired one makes room
    assert len(c) == 3 and c.stats()["evictions"] == 0
    c.cache_orderbook("b", "X/USDT", make_book("b"), ttl_s=60)   # re-set: b is now the newest
    c.cache_orderbook("e", "X/USDT", make_book("e"), ttl_s=60)   # c, the oldest, goes
    assert len(c) == 3 and c.stats()["evictions"] == 1
    assert c.get_orderbook("c", "X/USDT") is None
    assert all(c.get_orderbook(x, "X/USDT") is not None for x in "bde")
    with pytest.raises(FanoutError, match="max_entries"):
        MemoryCache(max_entries=0)
