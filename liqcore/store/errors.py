"""The errors of :mod:`liqcore.store`: every one is a :class:`liqcore.errors.LiqError` and also
subclasses the matching builtin, so ``except ValueError`` / ``except OSError`` keep working for
callers that do not know liqcore."""

from __future__ import annotations

from liqcore.errors import LiqError

__all__ = ["StoreError", "StoreInputError", "StoreSchemaError", "StoreIOError", "StoreClosedError"]


class StoreError(LiqError):
    """Base class of the store's errors."""


class StoreInputError(StoreError, ValueError):
    """A call to the store is unusable: an unknown table or column, a time range that ends before
    it starts, a row missing a required column or holding a value of the wrong type, a string too
    long for its field, an unknown URL scheme. The message names the argument (and the row index);
    nothing is buffered or written."""


class StoreSchemaError(StoreError, RuntimeError):
    """The database cannot be used by this liqcore: it was written by a newer schema version (upgrade
    liqcore), or it is not a liqcore store. Nothing in it is changed."""


class StoreIOError(StoreError, OSError):
    """The database cannot be opened or written: a read-only file or directory, a full disk, a
    locked or damaged file (an unreachable server for network backends). Buffered rows are kept
    and retried; the store's ``stats()`` counts the failures and holds the last message. The
    backend's own exception is the ``__cause__``."""


class StoreClosedError(StoreError, RuntimeError):
    """The store was used after :meth:`~liqcore.store.Store.close`."""
