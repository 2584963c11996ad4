"""Publish book tops, liquidity reports and alerts to Redis without ever blocking the feed.

::

    from liqcore.fanout import RedisPublisher

    with RedisPublisher("redis://127.0.0.1:6379/0") as pub:
        pub.publish_top(book)                      # book labelled exchange/symbol
        pub.publish_alert(alert)
        unsubscribe = pub.attach(feed)             # every change of a LiveFeed's books

Each ``publish_*`` call encodes its message (orjson, O(1) for a top) and appends it to a bounded
buffer (``capacity`` messages); it never waits for Redis. A background thread drains the buffer
in batches through one pipeline per batch: ``PUBLISH`` on the channel, ``SET ... PX`` of the
latest-value key, and for alerts also ``XADD <prefix>:alerts MAXLEN ~ N``. Names and payloads:
:mod:`liqcore.fanout.names`.

Failures are counted, never raised into the feed: a full buffer refuses the new message
(``dropped``; ``publish_*`` returns False); a message whose command Redis refuses is lost
(``failed``); when the connection fails, the batch in flight is lost (``failed``) except its
alerts, which go back to the front of the buffer (``retried``: alerts are delivered at least once,
a duplicate has the same ``id`` and ``ended_ms``; the buffer then holds up to ``capacity +
batch`` messages), and the thread reconnects with an exponential backoff (``errors``,
``reconnects``) while the buffer fills. Every message offered ends in exactly one of
``published``, ``dropped``, ``failed`` or the buffer (``queued``).

Ownership: the publisher owns its thread and its Redis client; :meth:`close` (or leaving the
``with`` block) flushes for up to ``close_timeout_s`` and stops them. Thread-safe.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from liqcore import LiquidityReport, OrderBook
from liqcore.alerts.records import LiquidityAlert
from liqcore.fanout.connection import Closing, check_seconds, check_url, connect, safe_url
from liqcore.fanout.errors import FanoutError
from liqcore.fanout.names import (DEFAULT_PREFIX, check_prefix, encode_alert, encode_report, encode_top, market_name,
                                  stream_name)

if TYPE_CHECKING:
    import redis

__all__ = ["RedisPublisher"]

log = logging.getLogger("liqcore.fanout")

# (kind, name, payload): what the buffer holds
_Item = tuple[str, str, bytes]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FanoutError(f"{name}: expected an integer >= 1, got {value!r}")
    return value


class RedisPublisher(Closing):
    """The fan-out publisher (see the module docstring).

    Parameters
    ----------
    url : str
        ``redis://host:port/db`` (also ``rediss://``, ``unix://``). Checked now (FanoutError);
        Redis need not be up: the publisher connects in the background and keeps retrying.
    prefix : str
        First part of every name (``liqcore``).
    ttl_s : float
        Seconds a latest-value key lives after its last message (> 0).
    stream_maxlen : int
        Approximate bound of the alert stream (``MAXLEN ~``; Redis trims whole blocks, so the
        stream may hold somewhat more).
    capacity : int
        Messages the buffer holds; a full buffer drops new messages (counted).
    batch : int
        Messages sent per pipeline (one round trip).
    timeout_s : float
        Connect and command timeout: a stalled Redis fails a batch after this long.
    backoff_s : (float, float)
        First and largest pause between reconnect attempts (doubles after each failure).
    close_timeout_s : float
        How long :meth:`close` waits for the buffer to drain.
    """

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, ttl_s: float = 60.0, stream_maxlen: int = 10_000,
                 capacity: int = 10_000, batch: int = 256, timeout_s: float = 2.0,
                 backoff_s: tuple[float, float] = (0.05, 5.0), close_timeout_s: float = 5.0) -> None:
        self.url = check_url(url)
        self.prefix = check_prefix(prefix)
        self.ttl_ms = max(1, round(check_seconds("ttl_s", ttl_s) * 1000))
        self.stream_maxlen = _positive_int("stream_maxlen", stream_maxlen)
        self.capacity = _positive_int("capacity", capacity)
        self.batch = _positive_int("batch", batch)
        self.timeout_s = check_seconds("timeout_s", timeout_s)
        if not isinstance(backoff_s, tuple) or len(backoff_s) != 2:
            raise FanoutError(f"backoff_s: expected (first, largest) seconds, got {backoff_s!r}")
        first, largest = (check_seconds("backoff_s", b) for b in backoff_s)
        if largest < first:
            raise FanoutError(f"backoff_s: the largest pause {largest} is below the first {first}")
        self.backoff_s = (first, largest)
        self.close_timeout_s = check_seconds("close_timeout_s", close_timeout_s, allow_zero=True)
        self.stream = stream_name(self.prefix)
        self._buf: collections.deque[_Item] = collections.deque()
        # one lock, two conditions: the drain thread waits for messages (_wake), flush() for an
        # empty buffer (_idle); one condition would let a notify meant for one wake the other
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._inflight = 0
        self._closed = False
        self._stop = threading.Event()
        self._counts = dict.fromkeys(("offered", "published", "dropped", "failed", "retried", "errors",
                                      "reconnects"), 0)
        self._connected = False
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="liqcore-fanout", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ publishing
    def publish_top(self, book: OrderBook, exchange: str | None = None, symbol: str | None = None) -> bool:
        """Queue the book's top (best bid/ask and sizes, mid, spread): ``exchange``/``symbol``
        default to the book's labels. True if queued, False if the buffer was full (counted in
        ``dropped``). O(1); bad input raises FanoutError and queues nothing."""
        ex, sym, payload = encode_top(book, exchange, symbol)
        return self._offer("top", market_name(self.prefix, "top", ex, sym), payload)

    def publish_report(self, report: LiquidityReport) -> bool:
        """Queue a liquidity report (labelled by its book's exchange and symbol). As :meth:`publish_top`."""
        ex, sym, payload = encode_report(report)
        return self._offer("report", market_name(self.prefix, "report", ex, sym), payload)

    def publish_alert(self, alert: LiquidityAlert) -> bool:
        """Queue an alert for its channel, its key and the alert stream. As :meth:`publish_top`."""
        ex, sym, payload = encode_alert(alert)
        return self._offer("alert", market_name(self.prefix, "alert", ex, sym), payload)

    def attach(self, feed: Any, *, exchange: str | None = None, symbol: str | None = None) -> Callable[[], None]:
        """Publish the top of every matching book of a :class:`~liqcore.feed.LiveFeed` (started)
        after each message that changed it, labelled with the feed's exchange id and symbol.
        Returns the unsubscribe function. The callback runs in the feed's receive path and only
        queues (O(1))."""
        def on_change(live: Any) -> None:
            try:
                self.publish_top(live.book, live.exchange, live.symbol)
            except FanoutError as e:                 # a name that cannot be a key: counted, not raised
                self._count_error(e)
        result: Callable[[], None] = feed.subscribe(on_change, exchange, symbol)
        return result

    def _offer(self, kind: str, name: str, payload: bytes) -> bool:
        with self._lock:
            if self._closed:
                raise FanoutError("the publisher is closed")
            self._counts["offered"] += 1
            if len(self._buf) >= self.capacity:
                self._counts["dropped"] += 1
                return False
            self._buf.append((kind, name, payload))
            if len(self._buf) == 1:                  # the thread only waits on an empty buffer
                self._wake.notify()
            return True

    # ------------------------------------------------------------------ state
    def stats(self) -> dict[str, Any]:
        """Counters (messages unless named): ``offered``, ``published``, ``dropped`` (buffer
        full), ``failed`` (lost in a failed send), ``retried`` (alerts put back after a failed
        send), ``errors`` (failed connects and sends), ``reconnects`` (connections made after the
        first), ``queued`` (in the buffer now), ``capacity``, ``connected`` (bool), ``last_error``."""
        with self._lock:
            out: dict[str, Any] = dict(self._counts)
            out.update(queued=len(self._buf) + self._inflight, capacity=self.capacity, connected=self._connected,
                       last_error=self._last_error)
        return out

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued message was sent or failed; True if the buffer emptied within
        ``timeout_s`` seconds."""
        timeout = check_seconds("timeout_s", timeout_s, allow_zero=True)
        with self._lock:
            return self._idle.wait_for(lambda: not self._buf and not self._inflight, timeout)

    def close(self) -> None:
        """Refuse new messages, flush for up to ``close_timeout_s``, stop the thread and close the
        client. What is still queued then is counted as ``failed``. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.flush(self.close_timeout_s)
        self._stop.set()
        with self._lock:
            self._wake.notify_all()
        self._thread.join()
        with self._lock:
            self._counts["failed"] += len(self._buf)
            self._buf.clear()
            self._idle.notify_all()

    def __repr__(self) -> str:
        return f"RedisPublisher({safe_url(self.url)!r}, prefix={self.prefix!r})"

    # ------------------------------------------------------------------ the drain thread
    def _count_error(self, err: BaseException) -> None:
        with self._lock:
            self._counts["errors"] += 1
            self._last_error = f"{type(err).__name__}: {err}"

    def _take(self) -> list[_Item]:
        """The next batch (waits for one); empty when stopping."""
        with self._lock:
            self._wake.wait_for(lambda: self._buf or self._stop.is_set())
            if self._stop.is_set():
                return []
            n = min(self.batch, len(self._buf))
            items = [self._buf.popleft() for _ in range(n)]
            self._inflight = n
            return items

    def _send(self, client: "redis.Redis", items: list[_Item]) -> None:
        """One pipeline for the batch. A connection failure raises (the whole batch is in
        doubt); a command Redis refuses (e.g. the stream's key holds another type) fails only its
        message, counted in ``failed`` with the reply as ``last_error``."""
        pipe = client.pipeline(transaction=False)
        for kind, name, payload in items:
            pipe.publish(name, payload)
            pipe.set(name, payload, px=self.ttl_ms)
            if kind == "alert":
                pipe.xadd(self.stream, {"data": payload}, maxlen=self.stream_maxlen, approximate=True)
        replies = iter(pipe.execute(raise_on_error=False))
        refused: BaseException | None = None
        bad = 0
        for kind, _, _ in items:
            errs = [r for r in itertools.islice(replies, 3 if kind == "alert" else 2) if isinstance(r, Exception)]
            if errs:
                bad += 1
                refused = errs[0]
        with self._lock:
            self._counts["published"] += len(items) - bad
            self._counts["failed"] += bad
            if refused is not None:
                self._counts["errors"] += 1
                self._last_error = f"{type(refused).__name__}: {refused}"
            self._inflight = 0
            self._idle.notify_all()

    def _failed(self, items: list[_Item], err: BaseException, retry: bool) -> None:
        """A batch could not be sent: with ``retry`` (the connection failed, not the command)
        its alerts go back to the front of the buffer, the rest is counted lost."""
        alerts = [it for it in items if it[0] == "alert"] if retry else []
        with self._lock:
            self._counts["errors"] += 1
            self._last_error = f"{type(err).__name__}: {err}"
            self._counts["failed"] += len(items) - len(alerts)
            self._counts["retried"] += len(alerts)
            self._buf.extendleft(reversed(alerts))
            self._inflight = 0
            self._connected = False
            self._idle.notify_all()

    def _run(self) -> None:
        import redis

        client: redis.Redis | None = None
        ever = False
        pause = self.backoff_s[0]
        while not self._stop.is_set():
            if client is None:
                try:
                    client = connect(self.url, timeout_s=self.timeout_s)
                    client.ping()
                except (redis.RedisError, OSError) as e:
                    self._count_error(e)
                    if client is not None:
                        client.close()
                    client = None
                    log.info("fan-out: Redis at %s unreachable (%r), retrying in %.2f s", safe_url(self.url), e, pause)
                    self._stop.wait(pause)
                    pause = min(pause * 2, self.backoff_s[1])
                    continue
                with self._lock:
                    self._connected = True
                    self._counts["reconnects"] += ever
                ever = True
                pause = self.backoff_s[0]
            items = self._take()
            if not items:
                break
            try:
                self._send(client, items)
            except Exception as e:  # noqa: BLE001 - any failure of the send (connection, timeout, server) is counted
                self._failed(items, e, isinstance(e, (redis.ConnectionError, redis.TimeoutError, OSError)))
                log.info("fan-out: a batch of %d failed: %r", len(items), e)
                client.close()
                client = None
        if client is not None:
            client.close()
        with self._lock:
            self._connected = False
