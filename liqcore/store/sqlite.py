"""The SQLite backend (stdlib ``sqlite3``): one file, WAL mode, nothing to install or start.

Layout (schema v1). Each table is ``WITHOUT ROWID`` with the primary key ``(exchange, symbol, ts,
seq)``: the rows of one series lie together in time order, so a range query reads one contiguous
stretch of the B-tree. ``seq`` is a store-wide counter reserved per batch inside the writing
transaction (``store_meta.next_seq``), so rows of equal ts keep their write order and two writer
processes never collide. The fixed columns of a row are packed into one ``data`` BLOB
(``Table.stored_dtype``, little-endian); text columns are TEXT and array columns BLOBs of their
items. Why packed: the Python ``sqlite3`` module builds one Python object per value it returns,
about 0.3 us each, so a day of 1-s liquidity reports (86,400 rows x 26 numbers) would take ~0.7 s
column by column; packed and joined in SQL (``group_concat`` of the blobs, returned as one bytes
object that numpy reads in place) it takes a few tens of ms. The price: the numbers are not
columns SQL can filter on; ``read``/``export_parquet`` are the way to them.

Durability: WAL with ``synchronous=FULL`` by default (each committed batch is fsynced: it survives a
power cut, not only a crash of the process; one fsync per batch, not per row), ``"normal"`` on
request (survives a killed process; the last batches may be lost on a power cut).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt

from liqcore.store.errors import StoreInputError, StoreIOError, StoreSchemaError
from liqcore.store.rows import Batch
from liqcore.store.schema import EXCHANGE_BYTES, SCHEMA_VERSION, SYMBOL_BYTES, TABLES, Column, Table

__all__ = ["SQLiteBackend", "SQLiteConnection", "MIGRATIONS"]

#: 16 KiB pages: a 1-s report row is ~230 bytes, and WITHOUT ROWID tables want rows well under a
#: twentieth of a page; a range scan also costs about a third less than with 4 KiB pages (measured)
PAGE_SIZE = 16384
SYNCHRONOUS = ("full", "normal")


def _texts(t: Table) -> list[Column]:
    return [c for c in t.variable if c.kind == "text"]


def _arrays(t: Table) -> list[Column]:
    return [c for c in t.variable if c.kind == "array"]


def _items_table(t: Table) -> str:
    return f"{t.name}_items"


def _table_ddl(t: Table) -> list[str]:
    key = "exchange TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL"
    pk = "PRIMARY KEY (exchange, symbol, ts, seq)"
    cols = [key, "data BLOB NOT NULL"] + [f"{c.name} TEXT" for c in _texts(t)]
    out = [f"CREATE TABLE {t.name} ({', '.join(cols)}, {pk}) WITHOUT ROWID"]
    out += [f"CREATE UNIQUE INDEX {t.name}_{c.name} ON {t.name} ({c.name})" for c in t.variable if c.unique]
    if _arrays(t):
        # the items (book levels, walls: up to ~2 KB a row) in a companion table with the same key,
        # so a range of the numbers alone scans small rows (a report row is ~230 bytes: 60 per
        # 16 KiB page instead of 6 with its walls inline)
        out.append(f"CREATE TABLE {_items_table(t)} ({key}, "
                   f"{', '.join(f'{c.name} BLOB NOT NULL' for c in _arrays(t))}, {pk}) WITHOUT ROWID")
    return out


def _migration_1(conn: sqlite3.Connection) -> None:
    # built from TABLES while they are at version 1: the day a table changes, migration 2 alters it
    # and this one must keep creating the version-1 tables (freeze their DDL here first)
    conn.execute("CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute("INSERT INTO store_meta VALUES ('next_seq', 0)")
    for t in TABLES.values():
        for stmt in _table_ddl(t):
            conn.execute(stmt)


#: (version, description, apply): applied in order, all pending ones in one transaction
MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "tables of issue 12: snapshots, deltas, reports, liquidations, levels, open interest, funding, "
        "mark prices, alerts", _migration_1),
    # a local commit is acknowledged or not: nothing to record (PostgreSQL's commit tokens)
    (2, "commit tokens (PostgreSQL only; nothing here)", lambda conn: None),
]
assert MIGRATIONS[-1][0] == SCHEMA_VERSION


def _io_error(e: BaseException, path: str, doing: str) -> StoreIOError:
    err = StoreIOError(f"sqlite store {path}: cannot {doing}: {e}")
    err.__cause__ = e
    return err


class SQLiteConnection:
    """A connection to one store file (see :class:`liqcore.store.backend.Connection`)."""

    def __init__(self, path: str, synchronous: str, timeout_s: float, max_bytes: int | None) -> None:
        self.path = path
        try:
            # isolation_level=None: we open every transaction ourselves (BEGIN IMMEDIATE takes the
            # write lock up front, so the seq reservation and the inserts cannot interleave with
            # another writer process); check_same_thread=False: the store hands a connection to one
            # thread at a time under its own locks
            self.conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise _io_error(e, path, "open the file") from e
        try:
            self._setup(synchronous, max_bytes)
        except BaseException:
            self.conn.close()
            raise

    def _setup(self, synchronous: str, max_bytes: int | None) -> None:
        c = self.conn
        try:
            (n_tables,) = c.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if n_tables == 0:
                c.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only takes on an empty file
            mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreIOError(f"sqlite store {self.path}: cannot use WAL mode (journal_mode is {mode})")
            c.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            if max_bytes is not None:
                page = c.execute("PRAGMA page_size").fetchone()[0]
                c.execute(f"PRAGMA max_page_count = {max(1, max_bytes // page)}")
        except sqlite3.DatabaseError as e:
            if "not a database" in str(e) or "malformed" in str(e):
                raise StoreSchemaError(f"sqlite store {self.path}: not a liqcore store ({e})") from e
            raise _io_error(e, self.path, "open the file") from e
        self._migrate()

    def _version(self) -> int:
        row = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
        if row is None:
            others = self.conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if others:
                raise StoreSchemaError(f"sqlite store {self.path}: not a liqcore store (it has tables but no "
                                       f"schema_version)")
            return 0
        v = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        return int(v or 0)

    def _migrate(self) -> None:
        c = self.conn
        try:
            if self._version() == SCHEMA_VERSION:  # the common case: no write lock taken
                return
            c.execute("BEGIN IMMEDIATE")
            try:
                version = self._version()  # again, under the lock: another process may have migrated
                if version > SCHEMA_VERSION:
                    raise StoreSchemaError(
                        f"sqlite store {self.path}: written by a newer liqcore (schema version {version}; this "
                        f"liqcore reads up to {SCHEMA_VERSION}): upgrade liqcore to open it")
                if version == 0:
                    c.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ns INTEGER NOT "
                              "NULL, description TEXT NOT NULL)")
                for number, description, apply in MIGRATIONS:
                    if number > version:
                        apply(c)
                        c.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (number, time.time_ns(), description))
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:  # SQLite may have rolled back already (a full disk does)
                    c.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _io_error(e, self.path, "create or upgrade the schema") from e

    # -- writes ------------------------------------------------------------------------------

    def insert(self, batches: Sequence[Batch], token: str | None = None) -> None:
        # token unused: SQLite's COMMIT returns only once it is durable (or raises), in this process
        c = self.conn
        total = sum(len(b) for b in batches)
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                (seq,) = c.execute("SELECT value FROM store_meta WHERE key = 'next_seq'").fetchone()
                c.execute("UPDATE store_meta SET value = ? WHERE key = 'next_seq'", (seq + total,))
                for b in batches:
                    main, items = _rows(b, seq)
                    c.executemany(_insert_sql(b.table), main)
                    if items is not None:
                        c.executemany(f"INSERT INTO {_items_table(b.table)} VALUES "
                                      f"({', '.join('?' * (4 + len(_arrays(b.table))))})", items)
                    seq += len(b)
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _io_error(e, self.path, f"write {total} rows") from e

    # -- reads -------------------------------------------------------------------------------

    def read(self, table: Table, exchange: str, symbol: str, start: int, end: int,
             columns: Sequence[str]) -> npt.NDArray[Any]:
        texts = [c for c in _texts(table) if c.name in columns]
        arrays = [c for c in _arrays(table) if c.name in columns]
        where = "WHERE exchange = ? AND symbol = ? AND ts >= ? AND ts < ?"
        # one aggregate row per table: the blobs of the whole range joined inside SQLite, so Python
        # builds a handful of objects instead of one per value; the range is one stretch of the
        # primary key, scanned in key order (ts, seq)
        parts = ["count(*)", "CAST(group_concat(data, x'') AS BLOB)"]
        parts += [f"group_concat(ifnull({c.name}, char(30)), char(31))" for c in texts]
        args = (exchange, symbol, start, end)
        try:
            # one read transaction: the rows and their items from the same snapshot of the file
            self.conn.execute("BEGIN")
            try:
                row = self.conn.execute(f"SELECT {', '.join(parts)} FROM {table.name} {where}", args).fetchone()
                items = None
                if arrays:
                    items = self.conn.execute(
                        f"SELECT {', '.join(f'CAST(group_concat({c.name}, x{chr(39) * 2}) AS BLOB)' for c in arrays)} "
                        f"FROM {_items_table(table)} {where}", args).fetchone()
            finally:
                self.conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise _io_error(e, self.path, f"read {table.name}") from e
        n = int(row[0])
        stored = np.frombuffer(row[1] or b"", table.stored_dtype)
        if len(stored) != n:
            raise StoreIOError(f"sqlite store {self.path}: {table.name} rows of unexpected size (damaged file?)")
        variable: dict[str, Any] = {}
        for col, value in zip(texts, row[2:]):
            texts_ = [] if n == 0 else value.split("\x1f")
            variable[col.name] = [None if x == "\x1e" else x for x in texts_]
        for col, value in zip(arrays, items if items is not None else ()):
            variable[col.name] = np.frombuffer(value or b"", col.dtype)
            if len(variable[col.name]) != stored[col.count].sum():
                raise StoreIOError(f"sqlite store {self.path}: {table.name}: the items of {col.name} do not match "
                                   f"their counts (damaged file?)")
        order = None
        ts = stored["ts"]
        if n > 1 and not (ts[1:] >= ts[:-1]).all():  # pragma: no cover - SQLite scans the key in order
            order = np.argsort(ts, kind="stable")
        return _assemble(table, exchange, symbol, stored, variable, columns, order)

    def series(self, table: Table) -> list[tuple[str, str, int, int, int]]:
        try:
            rows = self.conn.execute(f"SELECT exchange, symbol, count(*), min(ts), max(ts) FROM {table.name} "
                                     f"GROUP BY exchange, symbol ORDER BY exchange, symbol").fetchall()
        except sqlite3.Error as e:
            raise _io_error(e, self.path, f"list the series of {table.name}") from e
        return [(str(a), str(b), int(n), int(lo), int(hi)) for a, b, n, lo, hi in rows]

    def close(self) -> None:
        self.conn.close()


def _insert_sql(t: Table) -> str:
    names = ["exchange", "symbol", "ts", "seq", "data"] + [c.name for c in _texts(t)]
    sql = f"INSERT INTO {t.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    unique = [c.name for c in t.variable if c.unique]
    if unique:  # an alert written again (its end recorded) replaces the stored one
        sets = ", ".join(f"{n} = excluded.{n}" for n in names if n not in ("seq", unique[0]))
        sql += f" ON CONFLICT ({unique[0]}) DO UPDATE SET {sets}"
    return sql


def _rows(b: Batch, seq0: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]] | None]:
    """The parameter tuples of the rows and of their items (None for a table without array
    columns); the packed fixed parts sliced out of one buffer. O(rows)."""
    size = b.fixed.dtype.itemsize
    buf = b.fixed.tobytes()
    ts = b.fixed["ts"].tolist()
    texts = [b.variable[c.name] for c in _texts(b.table)]
    main = [(b.exchange[i], b.symbol[i], ts[i], seq0 + i, buf[i * size:(i + 1) * size], *(c[i] for c in texts))
            for i in range(len(ts))]
    if not _arrays(b.table):
        return main, None
    blobs: list[list[bytes]] = []
    some = np.zeros(len(ts), bool)
    for c in _arrays(b.table):
        flat, offsets = b.variable[c.name]
        data = flat.tobytes()
        per_item = len(data) // int(offsets[-1]) if offsets[-1] else 0  # a (n, 2) level is one item
        o = (offsets * per_item).tolist()
        blobs.append([data[o[i]:o[i + 1]] for i in range(len(o) - 1)])
        some |= np.diff(offsets) > 0
    # a row without any item has no items row: the joined items of a range are the same without
    # it (the counts in the row say how to split them), and most reports of a calm book have none
    items = [(b.exchange[i], b.symbol[i], ts[i], seq0 + i, *(c[i] for c in blobs)) for i in np.flatnonzero(some).tolist()]
    return main, items


def _assemble(table: Table, exchange: str, symbol: str, stored: npt.NDArray[Any], variable: dict[str, Any],
              columns: Sequence[str], order: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
    """The result array: the key, then ``columns`` in table order; array columns NaN-padded to the
    longest row. O(rows x columns)."""
    n = len(stored)
    fields: list[tuple[Any, ...]] = [("exchange", f"S{EXCHANGE_BYTES}"), ("symbol", f"S{SYMBOL_BYTES}"), ("ts", "<i8")]
    if table.ts_ms and "ts_ms" in columns:
        fields.append(("ts_ms", "<i8"))
    widths: dict[str, int] = {}
    for col in table.columns:
        if col.name not in columns:
            continue
        if col.kind == "fixed":
            fields.append((col.name, col.dtype))
        elif col.kind == "text":
            fields.append((col.name, object))
        else:
            width = int(stored[col.count].max()) if n else 0
            widths[col.name] = width
            fields.append((col.name, col.dtype, (width,)))
    out = np.empty(n, np.dtype(fields))
    out["exchange"] = exchange
    out["symbol"] = symbol
    out["ts"] = stored["ts"]
    if "ts_ms" in (out.dtype.names or ()):
        out["ts_ms"] = stored["ts"] // 1_000_000
    for col in table.columns:
        if col.name not in columns:
            continue
        if col.kind == "fixed":
            out[col.name] = stored[col.name]
        elif col.kind == "text":
            out[col.name] = variable[col.name]
        else:
            _scatter(out[col.name], variable[col.name], stored[col.count], widths[col.name])
    return out if order is None else out[order]


def _scatter(dest: npt.NDArray[Any], flat: npt.NDArray[Any], counts: npt.NDArray[Any], width: int) -> None:
    """Spread the joined items of every row into a NaN-padded (rows, width) view. O(items)."""
    if dest.dtype.names is None:
        dest[...] = np.nan
    else:
        for name in dest.dtype.names:
            dest[name] = np.nan
    if len(flat) == 0:
        return
    counts = counts.astype(np.int64)
    row = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(flat)) - np.repeat(starts, counts)
    dest[row, pos] = flat


class SQLiteBackend:
    """A store file. ``synchronous``: ``"full"`` (default) or ``"normal"``; ``timeout_s``: how long
    a write waits for another process's lock; ``max_bytes``: a cap on the file size (writes past it
    fail like a full disk: StoreIOError, the rows stay buffered)."""

    def __init__(self, path: str, *, synchronous: str = "full", timeout_s: float = 5.0,
                 max_bytes: int | None = None) -> None:
        if synchronous not in SYNCHRONOUS:
            raise StoreInputError(f"synchronous: expected one of {SYNCHRONOUS}, got {synchronous!r}")
        if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes <= 0):
            raise StoreInputError(f"max_bytes: expected a positive int, got {max_bytes!r}")
        self.path = path
        self.url = f"sqlite:///{path}"
        self.synchronous = synchronous
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def connect(self) -> SQLiteConnection:
        if os.path.isdir(self.path):
            raise StoreInputError(f"sqlite store {self.path}: is a directory (give a file path)")
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as e:
                raise _io_error(e, self.path, "create its directory") from e
        with self._lock:  # two threads of one process migrate one at a time
            return SQLiteConnection(self.path, self.synchronous, self.timeout_s, self.max_bytes)
