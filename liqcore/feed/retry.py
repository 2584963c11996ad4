"""Retry policy of the live feed: one function decides retry vs fatal, one backoff schedule.

Why a backoff even for the first retry: ccxt re-raises a parked ("stale") rejection from
``watch_*`` without ever yielding to the event loop (``Client.future`` hands back an
already-failed future), so ``while True: try: await watch() except: continue`` spins forever
and never lets the re-subscription go out. Every retry here sleeps at least ``initial`` s.
"""

from __future__ import annotations

import asyncio
import random
from typing import Literal

from liqcore.errors import FeedConfigError, FeedError, LiqError

__all__ = ["Backoff", "classify_error", "RETRY", "FATAL"]

RETRY: Literal["retry"] = "retry"
FATAL: Literal["fatal"] = "fatal"


def _ccxt_fatal_types() -> tuple[type[BaseException], ...]:
    try:
        import ccxt
    except ImportError:   # the policy still works for liqcore's own errors
        return ()
    names = ("AuthenticationError", "PermissionDenied", "AccountSuspended", "BadSymbol", "NotSupported",
             "ArgumentsRequired", "BadRequest")
    return tuple(getattr(ccxt, n) for n in names if hasattr(ccxt, n))


def _ccxt_retry_types() -> tuple[type[BaseException], ...]:
    try:
        import ccxt
    except ImportError:
        return ()
    # NetworkError covers RequestTimeout, ExchangeNotAvailable, DDoSProtection/RateLimitExceeded and
    # InvalidNonce (binance's gap "ChecksumError" is one). OperationFailed/ExchangeError: venues use it
    # for "system busy"-type answers, which pass.
    return tuple(getattr(ccxt, n) for n in ("NetworkError", "OperationFailed", "ExchangeError") if hasattr(ccxt, n))


_FATAL = _ccxt_fatal_types()
_RETRY = _ccxt_retry_types()


def classify_error(exc: BaseException) -> Literal["retry", "fatal"]:
    """``"retry"`` for transient errors (network, timeouts, rate limits, gaps, checksum
    mismatches, exchange-side failures), ``"fatal"`` for errors a retry cannot fix
    (credentials, unknown symbol, unsupported channel, bad arguments, liqcore configuration
    errors, programming errors such as TypeError). The one place this decision is made."""
    if isinstance(exc, (FeedConfigError, FeedError)):
        return FATAL
    if _FATAL and isinstance(exc, _FATAL):     # before _RETRY: these subclass ExchangeError
        return FATAL
    if isinstance(exc, LiqError):              # gaps, checksum, bad levels: resync fixes them
        return RETRY
    if _RETRY and isinstance(exc, _RETRY):
        return RETRY
    if isinstance(exc, (OSError, asyncio.TimeoutError, ConnectionError, EOFError)):
        return RETRY
    return FATAL


class Backoff:
    """Exponential backoff with jitter that resets on success.

    ``next()`` returns ``min(maximum, initial * factor**n)`` seconds (n = failures since the last
    :meth:`reset`), scaled by a random factor in ``[1 - jitter, 1]`` so many books do not retry in
    lock step. O(1).
    """

    def __init__(self, initial: float = 0.05, maximum: float = 30.0, factor: float = 2.0, jitter: float = 0.2,
                 seed: int | None = None) -> None:
        if not 0 < initial <= maximum or factor < 1 or not 0 <= jitter < 1:
            raise FeedConfigError("backoff needs 0 < initial <= maximum, factor >= 1, 0 <= jitter < 1")
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self.failures = 0
        self._rng = random.Random(seed)

    def next(self) -> float:
        delay = min(self.maximum, self.initial * self.factor ** min(self.failures, 64))
        self.failures += 1
        return delay * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.failures = 0
