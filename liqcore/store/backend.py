"""What a store backend provides (SQLite today, PostgreSQL next): the seam between the
backend-neutral :class:`~liqcore.store.Store` (buffer, writer thread, checks, conversions) and one
database's SQL.

A backend keeps every dialect difference to itself: its DDL and migrations, its placeholders, how a
batch goes in (``executemany`` in one transaction on SQLite; COPY on PostgreSQL) and how a range
comes out. The store calls :meth:`Backend.connect` once per thread that needs a connection (the
writer thread, and the readers under the store's read lock), and never shares a connection between
threads.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy.typing as npt

from liqcore.store.rows import Batch
from liqcore.store.schema import Table

__all__ = ["Backend", "Connection"]


class Connection(Protocol):
    """One open connection of a backend. Not thread-safe: one thread at a time."""

    def insert(self, batches: Sequence[Batch], token: str | None = None) -> None:
        """Insert every row of ``batches`` in **one transaction**: all of them are committed when it
        returns, none when it raises :class:`~liqcore.store.StoreIOError` (the caller keeps them and
        retries with the same batches and ``token``). A backend whose commit acknowledgement can be
        lost (a server: the connection drops after the commit, before its answer) records
        ``token`` in the same transaction and does nothing when a retry finds it recorded, so a
        retried batch is never written twice; a local one may ignore it. O(rows)."""

    def read(self, table: Table, exchange: str, symbol: str, start: int, end: int,
             columns: Sequence[str]) -> npt.NDArray[Any]:
        """The committed rows of one series with ``start <= ts < end`` (ns), time-ordered (rows of
        equal ts in the order they were written), as a structured array of the key and ``columns``.
        O(log n + rows)."""

    def series(self, table: Table) -> list[tuple[str, str, int, int, int]]:
        """(exchange, symbol, rows, first ts, last ts) of every series of ``table``."""

    def close(self) -> None:
        """Release the connection (idempotent)."""


class Backend(Protocol):
    """A database kind, made from a URL by :func:`liqcore.store.open_store`."""

    #: the URL it was opened with, without any secret (shown in errors and logs)
    url: str

    def connect(self) -> Connection:
        """A new connection, the schema brought to :data:`~liqcore.store.schema.SCHEMA_VERSION` on
        first use (migrations in one transaction). Raises StoreIOError when the database cannot be
        reached or opened, StoreSchemaError when it is from a newer liqcore or not a store."""
