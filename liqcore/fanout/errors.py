"""Errors of the Redis fan-out and the cache (as ``liqcore.store.errors`` for the store).

Both are :class:`~liqcore.errors.LiqError` and subclass the matching builtin, so callers that do
not know liqcore can catch ``ValueError`` / ``ConnectionError``.
"""

from __future__ import annotations

from liqcore.errors import LiqError

__all__ = ["FanoutError", "FanoutConnectionError"]


class FanoutError(LiqError, ValueError):
    """Bad input to the fan-out or the cache: a TTL that is not a positive finite number of
    seconds, a malformed Redis URL, an exchange or symbol that cannot be part of a key name, an
    unknown kind, a bad pattern or setting, a payload that is not JSON-ready. Nothing changed."""


class FanoutConnectionError(LiqError, ConnectionError):
    """Redis could not be reached or did not answer in time (refused, timed out, closed). The
    operation did not happen; the message names the URL (without its password)."""
