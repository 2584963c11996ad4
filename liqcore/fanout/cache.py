"""A cache of order books and venue comparisons: in memory, or in Redis shared by processes.

::

    from liqcore.fanout import open_cache

    cache = open_cache()                                   # MemoryCache; open_cache("redis://...") -> RedisCache
    cache.cache_orderbook("binance", "BTC/USDT", book, ttl_s=2.0)
    cache.get_orderbook("binance", "BTC/USDT")             # an OrderBook copy, or None once expired
    cache.cache_comparison("BTC/USDT", ["binance", "okx"], compare_books(books), ttl_s=5.0)
    cache.get_comparison("BTC/USDT", ["okx", "binance"])   # the same entry (venue order does not matter)
    cache.invalidate("book:binance:*")                     # -> keys removed
    cache.stats()                                          # hits, misses, sets, invalidations, errors, evictions

Both caches implement :class:`BookCache` and store the same bytes under the same keys
(``<prefix>:cache:`` + ``book:<exchange>:<symbol>`` or ``comparison:<symbol>:<venue,venue,...>``,
venues sorted): a book as :meth:`OrderBook.to_bytes` (a get returns a new book, owned by the
caller), a comparison as JSON (orjson; NaN as null; an object with ``to_dict()`` such as a
:class:`~liqcore.venues.VenueComparison` is stored as its dict, and a get returns the dict).
``invalidate(pattern)`` takes a glob relative to ``<prefix>:cache:`` (``*``, ``?``, ``[abc]``).
TTLs are seconds, finite and > 0 (FanoutError otherwise; nothing is stored).
"""

from __future__ import annotations

import fnmatch
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, TypeVar, runtime_checkable

from liqcore._book import OrderBook
from liqcore.fanout.connection import Closing, check_seconds, check_url, connect, safe_url, unreachable
from liqcore.fanout.errors import FanoutError
from liqcore.fanout.names import DEFAULT_PREFIX, check_label, check_prefix, decode, encode_json

if TYPE_CHECKING:
    import redis

__all__ = ["BookCache", "MemoryCache", "RedisCache", "open_cache"]

T = TypeVar("T")


@runtime_checkable
class BookCache(Protocol):
    """The cache interface (:class:`MemoryCache`, :class:`RedisCache`)."""

    def cache_orderbook(self, exchange: str, symbol: str, book: OrderBook, ttl_s: float) -> None:
        """Store a snapshot of ``book`` for ``ttl_s`` seconds."""

    def get_orderbook(self, exchange: str, symbol: str) -> OrderBook | None:
        """The cached book (a new object) or None."""

    def cache_comparison(self, symbol: str, exchanges: Iterable[str], result: Any, ttl_s: float) -> None:
        """Store a comparison result (JSON-ready or with ``to_dict()``) for ``ttl_s`` seconds."""

    def get_comparison(self, symbol: str, exchanges: Iterable[str]) -> dict[str, Any] | None:
        """The cached comparison dict or None."""

    def invalidate(self, pattern: str) -> int:
        """Remove the keys matching a glob relative to ``<prefix>:cache:``; the number removed."""

    def stats(self) -> dict[str, int]:
        """hits, misses, sets, invalidations (keys removed), errors, evictions."""

    def close(self) -> None:
        """Release the cache's resources."""

    def __enter__(self) -> "BookCache":
        """``with open_cache(url) as cache:`` closes it at the end."""

    def __exit__(self, *exc: object) -> None:
        """Close."""


class _KeyedCache(Closing):
    """What both caches share: key names, checks, encoding and the counters. Subclasses store
    bytes with ``_put(key, value, ttl_s)``, ``_fetch(key)`` and ``_remove(glob) -> count``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = check_prefix(prefix)
        # the cache's own namespace: invalidating "*" never reaches the fan-out's keys and stream
        self.space = f"{self.prefix}:cache:"
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("hits", "misses", "sets", "invalidations", "errors", "evictions"), 0)

    # storage (subclasses)
    def _put(self, key: str, value: bytes, ttl_s: float) -> None:
        raise NotImplementedError

    def _fetch(self, key: str) -> bytes | None:
        raise NotImplementedError

    def _remove(self, glob: str) -> int:
        raise NotImplementedError

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    # keys
    def _book_key(self, exchange: str, symbol: str) -> str:
        return f"{self.space}book:{check_label('exchange', exchange)}:{check_label('symbol', symbol)}"

    def _comparison_key(self, symbol: str, exchanges: Iterable[str]) -> str:
        if isinstance(exchanges, str):                 # a lone string would be split into letters
            raise FanoutError(f"exchanges: expected a list of exchange ids, got the string {exchanges!r}")
        try:
            venues = sorted({check_label("exchange", e) for e in exchanges})
        except TypeError:
            raise FanoutError(f"exchanges: expected a list of exchange ids, got {exchanges!r}") from None
        if not venues or any("," in v for v in venues):
            raise FanoutError(f"exchanges: expected one or more exchange ids without ',', got {venues!r}")
        return f"{self.space}comparison:{check_label('symbol', symbol)}:{','.join(venues)}"

    # the interface
    def cache_orderbook(self, exchange: str, symbol: str, book: OrderBook, ttl_s: float) -> None:
        """Store ``book.to_bytes()`` under ``book:<exchange>:<symbol>`` for ``ttl_s`` seconds
        (later changes of ``book`` are not seen). O(levels)."""
        ttl = check_seconds("ttl_s", ttl_s)
        key = self._book_key(exchange, symbol)
        if not isinstance(book, OrderBook):
            raise FanoutError(f"book: expected a liqcore.OrderBook, got {type(book).__name__}")
        self._put(key, book.to_bytes(), ttl)
        self._count("sets")

    def get_orderbook(self, exchange: str, symbol: str) -> OrderBook | None:
        """A new book rebuilt from the cached bytes (labels included), or None (never cached,
        expired, invalidated). O(levels)."""
        raw = self._get(self._book_key(exchange, symbol))
        return None if raw is None else OrderBook.from_bytes(raw)

    def cache_comparison(self, symbol: str, exchanges: Iterable[str], result: Any, ttl_s: float) -> None:
        """Store a comparison result for ``symbol`` over the set of ``exchanges`` for ``ttl_s``
        seconds. O(size of the result)."""
        ttl = check_seconds("ttl_s", ttl_s)
        key = self._comparison_key(symbol, exchanges)
        self._put(key, encode_json(result, "result"), ttl)
        self._count("sets")

    def get_comparison(self, symbol: str, exchanges: Iterable[str]) -> dict[str, Any] | None:
        """The cached comparison (a dict; NaN came back as None) or None."""
        raw = self._get(self._comparison_key(symbol, exchanges))
        return None if raw is None else dict(decode(raw))

    def invalidate(self, pattern: str) -> int:
        """Remove every key whose name after ``<prefix>:cache:`` matches the glob ``pattern`` (``*``,
        ``?``, ``[abc]``; e.g. ``"book:binance:*"``, ``"comparison:BTC/USDT:*"``, ``"*"``); the
        number removed (added to ``invalidations``). O(keys of the cache)."""
        if not isinstance(pattern, str) or not pattern or "\\" in pattern or "[^" in pattern:
            raise FanoutError(f"pattern: expected a non-empty glob (*, ?, [abc]), got {pattern!r}")
        n = self._remove(self.space + pattern)
        self._count("invalidations", n)
        return n

    def stats(self) -> dict[str, int]:
        """Counters: ``hits``, ``misses``, ``sets``, ``invalidations`` (keys removed), ``errors``
        (failed Redis calls), ``evictions`` (entries pushed out of a full MemoryCache)."""
        with self._lock:
            return dict(self._counts)

    def close(self) -> None:
        """Release resources (nothing for a MemoryCache)."""

    def _get(self, key: str) -> bytes | None:
        raw = self._fetch(key)
        self._count("misses" if raw is None else "hits")
        return raw



class MemoryCache(_KeyedCache):
    """The in-process cache: a dict of (expiry, bytes) of at most ``max_entries`` entries; a set
    into a full cache first drops the expired entries, then the oldest set (``evictions``).
    Expiry uses the monotonic clock. Thread-safe. Get/set O(1) (a full cache: O(entries))."""

    def __init__(self, *, prefix: str = DEFAULT_PREFIX, max_entries: int = 10_000) -> None:
        super().__init__(prefix)
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise FanoutError(f"max_entries: expected an integer >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._data: dict[str, tuple[float, bytes]] = {}

    def _put(self, key: str, value: bytes, ttl_s: float) -> None:
        now = time.monotonic()
        with self._lock:
            self._data.pop(key, None)               # a re-set entry becomes the newest
            if len(self._data) >= self.max_entries:
                for k in [k for k, (exp, _) in self._data.items() if exp <= now]:
                    del self._data[k]
            while len(self._data) >= self.max_entries:
                del self._data[next(iter(self._data))]
                self._counts["evictions"] += 1
            self._data[key] = (now + ttl_s, value)

    def _fetch(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._data[key]
                return None
            return entry[1]

    def _remove(self, glob: str) -> int:
        with self._lock:
            keys = [k for k in self._data if fnmatch.fnmatchcase(k, glob)]
            for k in keys:
                del self._data[k]
            return len(keys)

    def __len__(self) -> int:
        """Entries held (expired ones included until they are read or pushed out)."""
        return len(self._data)


class RedisCache(_KeyedCache):
    """The shared cache: ``SET key value PX ttl`` / ``GET`` on a Redis server; invalidation walks
    the keys with ``SCAN MATCH`` (never ``KEYS``, which blocks the server) and ``UNLINK``s them.
    Connects (and pings) at construction: an unreachable server raises FanoutConnectionError, as
    does every later call that cannot reach it (counted in ``errors``). Owns its client."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout_s: float = 2.0) -> None:
        super().__init__(prefix)
        self.url = check_url(url)
        self._client: redis.Redis = connect(self.url, timeout_s=check_seconds("timeout_s", timeout_s))
        self._call(self._client.ping)

    def _call(self, call: Callable[[], T]) -> T:
        import redis

        try:
            return call()
        except (redis.ConnectionError, redis.TimeoutError) as e:
            self._count("errors")
            raise unreachable(self.url, e) from None
        except redis.RedisError as e:
            self._count("errors")
            raise FanoutError(f"Redis at {safe_url(self.url)} refused the command: {e}") from None

    def _put(self, key: str, value: bytes, ttl_s: float) -> None:
        self._call(lambda: self._client.set(key, value, px=max(1, round(ttl_s * 1000))))

    def _fetch(self, key: str) -> bytes | None:
        raw: Any = self._call(lambda: self._client.get(key))
        return None if raw is None else bytes(raw)

    def _remove(self, glob: str) -> int:
        def run() -> int:
            n = 0
            batch: list[Any] = []
            for key in self._client.scan_iter(match=glob, count=500):
                batch.append(key)
                if len(batch) == 500:
                    n += self._client.unlink(*batch)
                    batch = []
            if batch:
                n += self._client.unlink(*batch)
            return n
        return self._call(run)

    def close(self) -> None:
        """Close the client. Idempotent."""
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisCache({safe_url(self.url)!r}, prefix={self.prefix!r})"


def open_cache(url: str | None = None, *, prefix: str = DEFAULT_PREFIX, timeout_s: float = 2.0,
               max_entries: int = 10_000) -> BookCache:
    """A :class:`RedisCache` of ``url``, or a :class:`MemoryCache` when ``url`` is None (or
    empty). A bad URL raises FanoutError, an unreachable server FanoutConnectionError."""
    if url is None or url == "":
        return MemoryCache(prefix=prefix, max_entries=max_entries)
    return RedisCache(url, prefix=prefix, timeout_s=timeout_s)
