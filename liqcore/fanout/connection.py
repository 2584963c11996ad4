"""Redis URLs and clients shared by the publisher, the reader and the cache.

One place checks a URL (``redis://``, ``rediss://`` or ``unix://``) and builds a client with
bounded timeouts and no hidden retries: the callers decide what a failure means (the publisher
reconnects with its own backoff, the cache raises).
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from liqcore.fanout.errors import FanoutConnectionError, FanoutError

if TYPE_CHECKING:
    import redis

__all__ = ["check_url", "safe_url", "connect", "check_seconds", "unreachable", "Closing"]

Self = TypeVar("Self", bound="Closing")


class Closing:
    """``with`` support for the fan-out's objects: leaving the block calls ``close()``."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SCHEMES = ("redis", "rediss", "unix")


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float number of seconds, finite and > 0 (>= 0 with ``allow_zero``), else
    FanoutError naming ``name``. O(1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FanoutError(f"{name}: expected a number of seconds, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise FanoutError(f"{name}: expected a finite number of seconds {'>=' if allow_zero else '>'} 0, got {value!r}")
    return v


def check_url(url: object) -> str:
    """``url`` if it is a usable Redis URL (scheme redis/rediss/unix, a host or a socket path, a
    port in 1..65535, a database number), else FanoutError. Does not connect. O(len(url))."""
    if not isinstance(url, str) or not url:
        raise FanoutError(f"url: expected a Redis URL (redis://host:port/db), got {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FanoutError(f"url: malformed Redis URL {safe_url(url)!r} ({e})") from None
    if parts.scheme not in _SCHEMES:
        raise FanoutError(f"url: scheme must be one of {', '.join(_SCHEMES)}, got {safe_url(url)!r}")
    if parts.scheme == "unix":
        if not parts.path:
            raise FanoutError(f"url: a unix:// URL needs a socket path, got {safe_url(url)!r}")
    else:
        if not parts.hostname:
            raise FanoutError(f"url: no host in {safe_url(url)!r}")
        if port == 0:
            raise FanoutError(f"url: port must be in 1..65535, got {safe_url(url)!r}")
        db = parts.path.strip("/")
        if db and not db.isdigit():
            raise FanoutError(f"url: the path must be a database number, got {safe_url(url)!r}")
    return url


def safe_url(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
    except ValueError:
        return "<unparsable url>"


def connect(url: str, *, timeout_s: float) -> "redis.Redis":
    """A client of ``url`` (checked) whose connects and commands time out after ``timeout_s``
    seconds and that never retries by itself. Does not connect yet. The caller owns (closes) it."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    check_url(url)
    kw: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s,
                          "retry": Retry(NoBackoff(), 0), "health_check_interval": 0}
    try:
        return redis.Redis.from_url(url, **kw)
    except ValueError as e:
        raise FanoutError(f"url: {safe_url(url)!r}: {e}") from None


def unreachable(url: str, err: BaseException) -> FanoutConnectionError:
    """The error raised when ``url`` failed with ``err`` (a redis ConnectionError/TimeoutError)."""
    return FanoutConnectionError(f"Redis at {safe_url(url)} is unreachable: {err}")
