"""Read what a :class:`~liqcore.fanout.RedisPublisher` publishes, from any process or machine.

::

    from liqcore.fanout import FanoutReader

    with FanoutReader("redis://127.0.0.1:6379/0") as reader:
        top = reader.latest("top", "binance", "BTC/USDT")        # dict or None (expired / never)
        with reader.subscribe("top", exchange="binance") as sub:  # live messages
            msg = sub.get(timeout_s=1.0)                          # Message or None
        last = "0"                                                # resume: the last id you handled
        for entry_id, alert in reader.alerts(after=last, block_s=1.0):
            last = entry_id

Same names and payloads as the publisher (:mod:`liqcore.fanout.names`). Redis failures raise
:class:`~liqcore.fanout.FanoutConnectionError`. Ownership: the reader owns its client, each
:class:`Subscription` its own connection; close them (``with``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from liqcore.alerts.records import LiquidityAlert
from liqcore.fanout.connection import Closing, check_seconds, check_url, connect, safe_url, unreachable
from liqcore.fanout.errors import FanoutConnectionError, FanoutError
from liqcore.fanout.names import (DEFAULT_PREFIX, KINDS, alert_from_dict, check_label, check_prefix, decode,
                                  market_name, parse_name, stream_name)

if TYPE_CHECKING:
    import redis
    from redis.client import PubSub

__all__ = ["FanoutReader", "Subscription", "Message"]

T = TypeVar("T")


def guarded(url: str, call: Callable[[], T]) -> T:
    """``call()`` with Redis connection failures turned into FanoutConnectionError."""
    import redis

    try:
        return call()
    except (redis.ConnectionError, redis.TimeoutError) as e:
        raise unreachable(url, e) from None


@dataclass(frozen=True)
class Message:
    """One published message: its kind (``top``/``report``/``alert``), market and decoded payload."""

    kind: str
    exchange: str
    symbol: str
    data: dict[str, Any]


class Subscription(Closing):
    """Live messages of a pattern of names (made by :meth:`FanoutReader.subscribe`). Messages
    published before it subscribed are not seen (read :meth:`FanoutReader.latest` for those).
    Redis buffers the messages of a slow subscriber on the server (bounded by its
    ``client-output-buffer-limit pubsub``, which disconnects the subscriber when exceeded)."""

    def __init__(self, url: str, prefix: str, pubsub: "PubSub",
                 want: tuple[str | None, str | None, str | None]) -> None:
        self.url, self.prefix = url, prefix
        self._want = want
        pattern = f"{prefix}:" + ":".join("*" if part is None else part for part in want)
        self.pattern = pattern
        self._pubsub = pubsub
        guarded(url, lambda: pubsub.psubscribe(pattern))
        # wait for the server's confirmation: after it, every message published is delivered
        while True:
            msg = guarded(url, lambda: pubsub.get_message(timeout=5.0))
            if msg is None:
                raise FanoutConnectionError(f"Redis at {safe_url(url)} did not confirm the subscription to {pattern}")
            if msg["type"] == "psubscribe":
                break

    def get(self, timeout_s: float = 1.0) -> Message | None:
        """The next message, or None when none came within ``timeout_s`` seconds."""
        timeout = check_seconds("timeout_s", timeout_s, allow_zero=True)
        msg = guarded(self.url, lambda: self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout))
        if msg is None or msg["type"] != "pmessage":
            return None
        channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
        names = parse_name(self.prefix, channel)
        # "*" also matches ":", so "<prefix>:*:okx:*" matches an exchange "okx" and a symbol that
        # starts with "okx:" alike: keep only the parts asked for
        if any(w is not None and w != got for w, got in zip(self._want, names)):
            return None
        return Message(*names, decode(msg["data"]))

    def __iter__(self) -> Iterator[Message]:
        """Messages as they come (blocks; stop by breaking out)."""
        while True:
            msg = self.get(1.0)
            if msg is not None:
                yield msg

    def close(self) -> None:
        """Unsubscribe and close the connection. Idempotent."""
        self._pubsub.close()


class FanoutReader(Closing):
    """Latest values, live messages and the alert stream of one ``prefix`` on one Redis.

    ``url`` is checked now (FanoutError); the first command connects (FanoutConnectionError
    when Redis is unreachable). ``timeout_s`` bounds every command except blocking reads.
    """

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout_s: float = 2.0) -> None:
        self.url = check_url(url)
        self.prefix = check_prefix(prefix)
        self.timeout_s = check_seconds("timeout_s", timeout_s)
        self.stream = stream_name(self.prefix)
        self._client: redis.Redis = connect(self.url, timeout_s=self.timeout_s)

    def latest(self, kind: str, exchange: str, symbol: str) -> dict[str, Any] | None:
        """The last message of a market's kind while its key lives (the publisher's ``ttl_s``),
        else None. O(1) round trip."""
        raw = guarded(self.url, lambda: self._client.get(market_name(self.prefix, kind, exchange, symbol)))
        return None if raw is None else dict(decode(raw))

    def subscribe(self, kind: str | None = None, exchange: str | None = None,
                  symbol: str | None = None) -> Subscription:
        """A subscription to the live messages of one kind/exchange/symbol; None means any."""
        if kind is not None and kind not in KINDS:
            raise FanoutError(f"kind: expected one of {', '.join(KINDS)} or None, got {kind!r}")
        want = (kind, None if exchange is None else check_label("exchange", exchange),
                None if symbol is None else check_label("symbol", symbol))
        return Subscription(self.url, self.prefix, self._client.pubsub(), want)

    def alerts(self, after: str = "0", *, count: int = 100,
               block_s: float | None = None) -> list[tuple[str, LiquidityAlert]]:
        """Up to ``count`` alerts of the stream after the entry id ``after`` (``"0"``: from the
        oldest kept; ``"$"``: only new ones), oldest first, as (entry id, alert). Pass the last id
        you handled to resume there. With ``block_s``, waits up to that long when there is none.
        O(count)."""
        if not isinstance(after, str) or not after:
            raise FanoutError(f"after: expected a stream entry id such as '0' or '1700000000000-0', got {after!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FanoutError(f"count: expected an integer >= 1, got {count!r}")
        block = None if block_s is None else max(1, round(check_seconds("block_s", block_s) * 1000))
        import redis

        def read() -> Any:
            if block is None:
                return self._client.xread({self.stream: after}, count=count)
            # a blocking read may wait longer than the client's timeout: a client of its own
            client = connect(self.url, timeout_s=self.timeout_s + block / 1000)
            try:
                return client.xread({self.stream: after}, count=count, block=block)
            finally:
                client.close()

        try:
            reply = guarded(self.url, read)
        except redis.ResponseError as e:
            raise FanoutError(f"after: {after!r} is not a stream entry id ({e})") from None
        out = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                out.append((eid, alert_from_dict(decode(fields[b"data"]))))
        return out

    def close(self) -> None:
        """Close the client. Idempotent."""
        self._client.close()
