"""Redis fan-out of book tops, liquidity reports and alerts, and the book/comparison cache.

- :class:`RedisPublisher`: one feed process publishes to Redis (pub/sub channels, latest-value
  keys with a TTL, a bounded alert stream) through a bounded buffer drained by a thread, so
  publishing never blocks the feed; drops and failures are counted, Redis restarts survived.
- :class:`FanoutReader`: any number of readers on other processes/machines: latest values,
  live messages, the alert stream from an id.
- :func:`open_cache`: :class:`RedisCache` or :class:`MemoryCache` (no URL), one
  :class:`BookCache` interface.

Names and payloads: :mod:`liqcore.fanout.names`; the guide: docs/fanout.md. Needs ``redis`` and
``orjson`` (``pip install 'liqcore[service]'``).
"""

from liqcore.fanout.cache import BookCache, MemoryCache, RedisCache, open_cache
from liqcore.fanout.errors import FanoutConnectionError, FanoutError
from liqcore.fanout.names import DEFAULT_PREFIX, KINDS, market_name, stream_name
from liqcore.fanout.publisher import RedisPublisher
from liqcore.fanout.reader import FanoutReader, Message, Subscription

__all__ = [
    "RedisPublisher", "FanoutReader", "Subscription", "Message",
    "BookCache", "MemoryCache", "RedisCache", "open_cache",
    "FanoutError", "FanoutConnectionError",
    "KINDS", "DEFAULT_PREFIX", "market_name", "stream_name",
]
