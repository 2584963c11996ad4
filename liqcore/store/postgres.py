"""The PostgreSQL backend (psycopg 3): one database shared by many writers on many machines.

Why psycopg 3 rather than asyncpg: the store's writer and readers are threads, not an event loop,
and psycopg 3 is a blocking driver with a binary COPY both ways, server-side transactions and
libpq's connection handling (URLs, ``PG*`` environment variables, ``.pgpass``, TLS) as users
already configure them; asyncpg would need a loop of its own in the writer thread for nothing.

Layout (schema v1). Every table has **real typed columns**: ``exchange``/``symbol`` text, ``ts``
bigint (ns since the epoch), ``seq`` bigint from the database's own sequence (``liqcore_seq``:
rows of equal ts keep the order of their writer's COPY, and any number of writers never collide),
the fixed columns as ``double precision`` / ``bigint`` / ``smallint`` (``NOT NULL``: NaN and -1
stand for missing, as in the arrays), text columns ``text``, array columns 2-D ``float8[]``
(``bids[1][1]`` is the best bid's price, ``wall_list[k][2]`` the k-th wall's price), so SQL can
filter and aggregate on any number. A series is indexed by ``(exchange, symbol, ts, seq)``.

Time partitioning, one code path with a capability check made when the schema is created: when
the TimescaleDB extension can be created (``CREATE EXTENSION IF NOT EXISTS timescaledb``), the
time-series tables are hypertables chunked by ``ts`` (with compression and retention policies
when asked); otherwise they are declaratively partitioned by range of ``ts``, one partition per
``partition_s`` seconds, created on demand before the rows that need them. The mode is recorded in
``store_meta`` and logged at open. ``alerts`` is a plain table: a unique ``id`` must not have to
include the time (PostgreSQL and TimescaleDB both require a unique index of a partitioned table to
contain the partition key), and writing an alert again replaces it (``INSERT ... ON CONFLICT``).

Writes: every batch of a table goes in with one binary ``COPY ... FROM STDIN``, built with numpy
(the fixed columns of all rows as one big-endian structured array, the variable fields joined per
row), all batches of a call in one transaction. Reads: a binary ``COPY (SELECT ...) TO STDOUT`` of
the fixed columns parsed in place by numpy (every row of it has the same width), the array columns
by a second COPY whose row layout follows from the counts, the text columns by a plain query, all
in one REPEATABLE READ transaction (one snapshot).

Durability: ``synchronous="full"`` keeps ``synchronous_commit = on`` (a committed batch is on the
server's disk), ``"normal"`` sets it ``off`` for the store's connections (a server crash may lose
the last batches; a killed client never loses a committed one).
"""

from __future__ import annotations

import logging
import re
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt

from liqcore.store.errors import StoreInputError, StoreIOError, StoreSchemaError
from liqcore.store.rows import Batch
from liqcore.store.schema import SCHEMA_VERSION, TABLES, Column, Table
from liqcore.store.sqlite import _assemble  # the result layout is one for every backend

try:  # the `store` extra; open_store gives a clear error when it is missing
    import psycopg
    from psycopg import pq as _pq
    from psycopg import sql as _sql
except ImportError:  # pragma: no cover - psycopg is installed in the tests
    psycopg = None  # type: ignore[assignment]

__all__ = ["PostgresBackend", "PostgresConnection", "MIGRATIONS", "MODES"]

log = logging.getLogger("liqcore.store")

#: the two time-partitioning modes (``store_meta.mode``)
MODES = ("timescaledb", "partitioned")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
#: the key of the advisory lock that serialises migrations and partition creation across clients
_LOCK_KEY = 0x6C6971636F7265  # "liqcore"
#: how long a commit token is kept (ns): a writer retries a batch for as long as the server is away,
#: and a token only has to outlive the retries of its batch
TOKEN_KEEP_NS = 7 * 86_400 * 10**9
_PRUNE_EVERY = 1_000  # commits of a connection between two prunings of old tokens (and its first)
_PG_TYPE = {"f8": "double precision", "i8": "bigint", "i1": "smallint"}
_BE_TYPE = {"f8": ">f8", "i8": ">i8", "i1": ">i2"}
_FLOAT8_OID = 701
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_NULL = struct.pack(">i", -1)
_EMPTY_ARRAY = struct.pack(">iiii", 12, 0, 0, _FLOAT8_OID)  # field length 12, then ndim 0, flags, oid
#: rows past 512 bytes move their arrays out of line (the default, ~2 KB, keeps a report's walls
#: inline and only one of its two item arrays would move); a row of numbers alone is ~350 bytes
_WITH = " WITH (toast_tuple_target = 512)"


def _kind(col: Column) -> str:
    dt: np.dtype[Any] = col.dtype  # type: ignore[assignment]
    return f"{dt.kind}{dt.itemsize}"


def _texts(t: Table) -> list[Column]:
    return [c for c in t.variable if c.kind == "text"]


def _arrays(t: Table) -> list[Column]:
    return [c for c in t.variable if c.kind == "array"]


def _width(col: Column) -> int:
    """Floats per item of an array column: 2 for a book level, 9 for a wall or a cluster."""
    item: np.dtype[Any] = col.dtype  # type: ignore[assignment]
    return item.itemsize // 8


def _partitioned(t: Table) -> bool:
    """Whether a table is split by time (every table but alerts, whose unique id excludes ts)."""
    return not any(c.unique for c in t.columns)


# -- schema ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Layout:
    """What migrations need to know besides the SQL: the partitioning mode and its options."""

    mode: str
    partition_ns: int
    compress_after_ns: int | None
    retain_ns: int | None


def _table_ddl(t: Table, layout: _Layout) -> list[str]:
    cols = ["exchange text NOT NULL", "symbol text NOT NULL", "ts bigint NOT NULL",
            "seq bigint NOT NULL DEFAULT nextval('liqcore_seq')"]
    cols += [f"{c.name} {_PG_TYPE[_kind(c)]} NOT NULL" for c in t.fixed]
    cols += [f"{c.name} text" for c in _texts(t)]
    cols += [f"{c.name} double precision[] NOT NULL DEFAULT '{{}}'" for c in _arrays(t)]
    part = _partitioned(t) and layout.mode == "partitioned"
    # a partitioned parent takes no storage parameters: its partitions get them (_ensure_partitions)
    out = [f"CREATE TABLE {t.name} ({', '.join(cols)})" + (" PARTITION BY RANGE (ts)" if part else _WITH)]
    # the items (walls, book levels: up to ~2.4 KB a row) out of line, uncompressed: the numbers of
    # a range then scan ~300-byte rows instead of 2.6 KB ones (as SQLite's companion table does)
    out += [f"ALTER TABLE {t.name} ALTER COLUMN {c.name} SET STORAGE EXTERNAL" for c in _arrays(t)]
    if _partitioned(t) and layout.mode == "timescaledb":
        out.append(f"SELECT create_hypertable('{t.name}', 'ts', chunk_time_interval => {layout.partition_ns}::bigint, "
                   f"create_default_indexes => false)")
        out.append(f"SELECT set_integer_now_func('{t.name}', 'liqcore_now_ns')")
        if layout.compress_after_ns is not None:
            out.append(f"ALTER TABLE {t.name} SET (timescaledb.compress, timescaledb.compress_segmentby = "
                       f"'exchange, symbol', timescaledb.compress_orderby = 'ts, seq')")
            out.append(f"SELECT add_compression_policy('{t.name}', {layout.compress_after_ns}::bigint)")
        if layout.retain_ns is not None:
            out.append(f"SELECT add_retention_policy('{t.name}', {layout.retain_ns}::bigint)")
    # the time index of a series; on a partitioned table it is created on every partition
    out.append(f"CREATE INDEX {t.name}_series ON {t.name} (exchange, symbol, ts, seq)")
    out += [f"CREATE UNIQUE INDEX {t.name}_{c.name} ON {t.name} ({c.name})" for c in t.variable if c.unique]
    return out


def _migration_1(cur: Any, layout: _Layout) -> None:
    # built from TABLES while they are at version 1: the day a table changes, migration 2 alters it
    # and this one must keep creating the version-1 tables (freeze their DDL here first)
    cur.execute("CREATE TABLE store_meta (key text PRIMARY KEY, value text NOT NULL)")
    cur.execute("INSERT INTO store_meta VALUES ('mode', %s), ('partition_ns', %s)",
                (layout.mode, str(layout.partition_ns)))
    cur.execute("CREATE SEQUENCE liqcore_seq AS bigint")
    if layout.mode == "timescaledb":
        # what "now" is for a bigint time column in ns: the policies' reference point
        cur.execute("CREATE FUNCTION liqcore_now_ns() RETURNS bigint LANGUAGE sql STABLE AS "
                    "$$ SELECT (extract(epoch FROM now()) * 1e9)::bigint $$")
    for t in TABLES.values():
        for stmt in _table_ddl(t, layout):
            cur.execute(stmt)


def _migration_2(cur: Any, layout: _Layout) -> None:
    # the token of every committed batch, so a retry after a lost acknowledgement finds its rows in
    cur.execute("CREATE TABLE store_commits (token text PRIMARY KEY, committed_ns bigint NOT NULL)")


#: (version, description, apply(cursor, layout)): applied in order, all pending ones in one transaction
MIGRATIONS: list[tuple[int, str, Callable[[Any, _Layout], None]]] = [
    (1, "tables of issue 12: snapshots, deltas, reports, liquidations, levels, open interest, funding, "
        "mark prices, alerts", _migration_1),
    (2, "store_commits: the token of each committed batch (a retry after a lost commit acknowledgement "
        "does not write its rows twice)", _migration_2),
]
assert MIGRATIONS[-1][0] == SCHEMA_VERSION


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def redact(url: str) -> str:
    """``url`` without its password (``postgresql://user:***@host/db``), for errors and logs."""
    url = re.sub(r"(://[^:/@?]*:)[^@/?]*@", r"\1***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


def _io_error(e: BaseException, url: str, doing: str) -> StoreIOError:
    err = StoreIOError(f"postgresql store {url}: cannot {doing}: {_one_line(e)}")
    err.__cause__ = e
    return err


# -- COPY payloads -----------------------------------------------------------------------------

def _head_dtype(t: Table, fixed: Sequence[Column] | None = None) -> np.dtype[Any]:
    """One row's field count, then ``ts`` and the fixed columns (``fixed``, default all), each
    behind its 4-byte length: the fixed-width start of a binary COPY row, big-endian."""
    fields: list[tuple[str, str]] = [("n", ">i2"), ("l_ts", ">i4"), ("ts", ">i8")]
    for c in t.fixed if fixed is None else fixed:
        fields += [(f"l_{c.name}", ">i4"), (c.name, _BE_TYPE[_kind(c)])]
    return np.dtype(fields)


def _copy_columns(t: Table) -> list[str]:
    return ["ts"] + [c.name for c in t.fixed] + ["exchange", "symbol"] + [c.name for c in t.variable]


def _field(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">i", len(raw)) + raw


def _copy_payload(b: Batch) -> bytes:
    """The binary COPY stream of a batch (header, rows, trailer). O(rows): the fixed columns in
    one numpy pass, one join of a few slices per row for the strings and arrays."""
    t = b.table
    n = len(b)
    head = np.empty(n, _head_dtype(t))
    head["n"] = len(_copy_columns(t))
    head["l_ts"] = 8
    head["ts"] = b.fixed["ts"]
    for c in t.fixed:
        head[f"l_{c.name}"] = head.dtype[c.name].itemsize
        head[c.name] = b.fixed[c.name]
    names: dict[str, bytes] = {}
    for s in set(b.exchange) | set(b.symbol):
        names[s] = _field(s)
    tail = _constant_tail(b, names)
    if tail is not None:
        # the common case (one series, no text, no items: a tracker's reports and records): every
        # row is the same bytes after the fixed columns, so the whole stream is one numpy array
        rows_ = np.empty(n, [("head", head.dtype), ("tail", f"V{len(tail)}")])
        rows_["head"] = head
        rows_["tail"] = np.void(tail)
        return _COPY_HEADER + rows_.tobytes() + _COPY_TRAILER
    hb = head.tobytes()
    size = head.dtype.itemsize
    columns: list[list[bytes]] = [[names[s] for s in b.exchange], [names[s] for s in b.symbol]]
    for c in t.variable:
        if c.kind == "text":
            columns.append([_NULL if v is None else _field(v) for v in b.variable[c.name]])
        else:
            columns.append(_array_fields(c, *b.variable[c.name]))
    rows = [hb[i * size:(i + 1) * size] for i in range(n)]
    parts = [p for row in zip(rows, *columns) for p in row]
    return _COPY_HEADER + b"".join(parts) + _COPY_TRAILER


def _constant_tail(b: Batch, names: dict[str, bytes]) -> bytes | None:
    """The bytes every row of ``b`` has after its fixed columns, when they are the same for all
    rows (one exchange, one symbol, no text column, no items), else None. O(rows)."""
    if len(names) > 2 or _texts(b.table) or len(set(b.exchange)) != 1 or len(set(b.symbol)) != 1:
        return None
    if any(b.variable[c.name][1][-1] for c in _arrays(b.table)):  # the item offsets: any item at all
        return None
    return names[b.exchange[0]] + names[b.symbol[0]] + _EMPTY_ARRAY * len(_arrays(b.table))


def _array_fields(col: Column, flat: npt.NDArray[Any], offsets: npt.NDArray[Any]) -> list[bytes]:
    """Each row's items as the binary field of a 2-D float8 array (rows x width), or an empty
    array. The elements of all rows are laid out at once (4-byte length 8, then the value)."""
    k = _width(col)
    counts = np.diff(offsets).tolist()
    elems = np.empty(int(offsets[-1]) * k, [("l", ">i4"), ("v", ">f8")])
    elems["l"] = 8
    elems["v"] = np.ascontiguousarray(flat).view(np.float64).reshape(-1)
    eb = elems.tobytes()
    o = (offsets * (12 * k)).tolist()
    out = []
    for i, c in enumerate(counts):
        if c == 0:
            out.append(_EMPTY_ARRAY)
        else:
            out.append(struct.pack(">iiiiiiii", 28 + c * k * 12, 2, 0, _FLOAT8_OID, c, 1, k, 1) + eb[o[i]:o[i + 1]])
    return out


# -- the connection ----------------------------------------------------------------------------

class PostgresConnection:
    """A connection to one database (see :class:`liqcore.store.backend.Connection`). Not
    thread-safe: the store gives it to one thread at a time. A read on a connection the server
    dropped reconnects once (reads are idempotent); a failed insert raises and the store's writer
    reconnects with backoff."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.backend = backend
        self.url = backend.url
        self.conn = self._open()
        self.mode, self.partition_ns = "partitioned", backend.partition_ns
        try:
            self._migrate()
            self._load_meta()
        except BaseException:
            self.conn.close()
            raise
        self._parts: set[str] = set()
        self._commits = 0

    def _open(self) -> Any:
        b = self.backend
        try:
            conn = psycopg.connect(b.conninfo, autocommit=True, connect_timeout=max(1, int(round(b.timeout_s))),
                                   application_name="liqcore-store")
        except psycopg.Error as e:
            raise _io_error(e, self.url, "connect") from e
        try:
            # a commit waiting on another client's lock gives up (and is retried) rather than hang
            conn.execute(f"SET lock_timeout = {int(b.timeout_s * 1000)}")
            conn.execute(f"SET synchronous_commit = {'on' if b.synchronous == 'full' else 'off'}")
        except psycopg.Error as e:
            conn.close()
            raise _io_error(e, self.url, "configure the session") from e
        return conn

    # -- schema --------------------------------------------------------------------------------

    def _version(self, cur: Any) -> int:
        cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
        if not cur.fetchone()[0]:
            cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relname = ANY(%s)", (list(TABLES) + ["store_meta"],))
            if cur.fetchone()[0]:
                raise StoreSchemaError(f"postgresql store {self.url}: not a liqcore store (it has tables named as "
                                       f"the store's but no schema_version)")
            return 0
        cur.execute("SELECT max(version) FROM schema_version")
        return int(cur.fetchone()[0] or 0)

    def _layout(self, cur: Any) -> _Layout:
        """The capability check: TimescaleDB when the extension can be created, else declarative
        partitioning. A savepoint keeps a refused CREATE EXTENSION from aborting the migration."""
        b = self.backend
        mode = "partitioned"
        if b.timescale:
            cur.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
            if cur.fetchone()[0]:
                try:
                    with self.conn.transaction():
                        cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
                    mode = "timescaledb"
                except psycopg.Error as e:  # e.g. not in shared_preload_libraries, or no privilege
                    log.info("postgresql store %s: TimescaleDB present but unusable (%s)", self.url, _one_line(e))
        return _Layout(mode, b.partition_ns, b.compress_after_ns, b.retain_ns)

    def _migrate(self) -> None:
        try:
            with self.conn.cursor() as cur:
                if self._version(cur) == SCHEMA_VERSION:  # the common case: no lock taken
                    return
                with self.conn.transaction():
                    # one client migrates at a time; the others find the work done under the lock
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                    version = self._version(cur)
                    if version > SCHEMA_VERSION:
                        raise StoreSchemaError(
                            f"postgresql store {self.url}: written by a newer liqcore (schema version {version}; "
                            f"this liqcore reads up to {SCHEMA_VERSION}): upgrade liqcore to open it")
                    if version == SCHEMA_VERSION:
                        return
                    if version == 0:
                        cur.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, applied_ns bigint "
                                    "NOT NULL, description text NOT NULL)")
                    layout = self._layout(cur) if version == 0 else self._stored_layout(cur)
                    for number, description, apply in MIGRATIONS:
                        if number > version:
                            apply(cur, layout)
                            cur.execute("INSERT INTO schema_version VALUES (%s, %s, %s)",
                                        (number, time.time_ns(), description))
        except psycopg.Error as e:
            raise _io_error(e, self.url, "create or upgrade the schema") from e

    def _stored_layout(self, cur: Any) -> _Layout:
        cur.execute("SELECT key, value FROM store_meta")
        meta = dict(cur.fetchall())
        b = self.backend
        return _Layout(meta.get("mode", "partitioned"), int(meta.get("partition_ns", b.partition_ns)),
                       b.compress_after_ns, b.retain_ns)

    def _load_meta(self) -> None:
        try:
            with self.conn.cursor() as cur:
                layout = self._stored_layout(cur)
        except psycopg.Error as e:
            raise _io_error(e, self.url, "read store_meta") from e
        if layout.mode not in MODES:
            raise StoreSchemaError(f"postgresql store {self.url}: unknown mode {layout.mode!r} in store_meta")
        self.mode, self.partition_ns = layout.mode, layout.partition_ns
        self.backend._announce(self.mode, self.partition_ns)

    # -- writes --------------------------------------------------------------------------------

    def _partition_name(self, t: Table, k: int) -> str:
        return f"{t.name}_p{k}" if k >= 0 else f"{t.name}_pm{-k}"

    def _ensure_partitions(self, batches: Sequence[Batch]) -> None:
        """Create the time partitions the rows need, in their own short transaction (creating a
        partition locks its parent: held only for that, not for the whole COPY). O(rows) for the
        unique partition numbers, O(1) statements once the partitions exist."""
        missing: list[tuple[Table, int]] = []
        for b in batches:
            if not _partitioned(b.table):
                continue
            for k in np.unique(b.fixed["ts"] // self.partition_ns).tolist():
                if self._partition_name(b.table, k) not in self._parts:
                    missing.append((b.table, k))
        if not missing:
            return
        with self.conn.cursor() as cur:
            cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%s)",
                        (list({t.name for t, _ in missing}),))
            self._parts.update(r[0] for r in cur.fetchall())
            todo = [(t, k) for t, k in missing if self._partition_name(t, k) not in self._parts]
            if not todo:
                return
            with self.conn.transaction():
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                for t, k in todo:
                    lo, hi = k * self.partition_ns, (k + 1) * self.partition_ns
                    cur.execute(f"CREATE TABLE IF NOT EXISTS {self._partition_name(t, k)} PARTITION OF {t.name} "
                                f"FOR VALUES FROM ({lo if lo >= _I64_MIN else 'MINVALUE'}) "
                                f"TO ({hi if hi <= _I64_MAX else 'MAXVALUE'}){_WITH}")
        self._parts.update(self._partition_name(t, k) for t, k in todo)

    def insert(self, batches: Sequence[Batch], token: str | None = None) -> None:
        """See :meth:`liqcore.store.backend.Connection.insert`. With a ``token``, the transaction
        records it with the rows, and does nothing when it finds it recorded: the server committed
        an earlier try whose acknowledgement was lost with the connection. Tokens older than
        :data:`TOKEN_KEEP_NS` are pruned now and then."""
        total = sum(len(b) for b in batches)
        try:
            if self.mode == "partitioned":
                self._ensure_partitions(batches)
            with self.conn.transaction(), self.conn.cursor() as cur:
                if token is not None:
                    now = time.time_ns()
                    cur.execute("INSERT INTO store_commits VALUES (%s, %s) ON CONFLICT (token) DO NOTHING",
                                (token, now))
                    if cur.rowcount == 0:
                        return  # committed before: the rows are in
                    self._commits += 1
                    if self._commits % _PRUNE_EVERY == 1:
                        cur.execute("DELETE FROM store_commits WHERE committed_ns < %s", (now - TOKEN_KEEP_NS,))
                for b in batches:
                    if any(c.unique for c in b.table.columns):
                        self._upsert(cur, b)
                        continue
                    payload = _copy_payload(b)
                    with cur.copy(f"COPY {b.table.name} ({', '.join(_copy_columns(b.table))}) FROM STDIN "
                                  f"(FORMAT BINARY)") as copy:
                        copy.write(payload)
        except psycopg.Error as e:
            raise _io_error(e, self.url, f"write {total} rows") from e

    def _upsert(self, cur: Any, b: Batch) -> None:
        """Alerts: a row whose id is stored replaces it (its end recorded), in write order, so
        two writes of one id in a batch leave the later one."""
        t = b.table
        names = ["exchange", "symbol", "ts"] + [c.name for c in t.fixed] + [c.name for c in _texts(t)]
        unique = next(c.name for c in t.variable if c.unique)
        sets = ", ".join(f"{n} = excluded.{n}" for n in names if n != unique)
        fixed = [b.fixed[c.name].tolist() for c in t.fixed]
        texts = [b.variable[c.name] for c in _texts(t)]
        rows = list(zip(b.exchange, b.symbol, b.fixed["ts"].tolist(), *fixed, *texts))
        cur.executemany(f"INSERT INTO {t.name} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
                        f"ON CONFLICT ({unique}) DO UPDATE SET {sets}", rows)

    # -- reads ---------------------------------------------------------------------------------

    def read(self, table: Table, exchange: str, symbol: str, start: int, end: int,
             columns: Sequence[str]) -> npt.NDArray[Any]:
        try:
            return self._read(table, exchange, symbol, start, end, columns)
        except psycopg.OperationalError as e:
            if not self.conn.closed and not self.conn.broken:
                raise _io_error(e, self.url, f"read {table.name}") from e
        # the server dropped the connection (restarted): reads are idempotent, so one more try
        self._reopen()
        try:
            return self._read(table, exchange, symbol, start, end, columns)
        except psycopg.Error as e:
            raise _io_error(e, self.url, f"read {table.name}") from e

    def _reopen(self) -> None:
        self.conn.close()
        self.conn = self._open()

    def _read(self, table: Table, exchange: str, symbol: str, start: int, end: int,
              columns: Sequence[str]) -> npt.NDArray[Any]:
        texts = [c for c in _texts(table) if c.name in columns]
        arrays = [c for c in _arrays(table) if c.name in columns]
        where = _sql.SQL("FROM {} WHERE exchange = {} AND symbol = {} AND ts >= {} AND ts < {} ORDER BY ts, seq").format(
            _sql.Identifier(table.name), _sql.Literal(exchange), _sql.Literal(symbol), _sql.Literal(start),
            _sql.Literal(end))
        # only the fixed columns asked for (and the counts of the arrays asked for: store.read adds
        # them): the server's binary output costs ~50 ns a value, so a day of one metric is cheap
        counts = {c.count for c in arrays}
        fixed = [c for c in table.fixed if c.name in columns or c.name in counts]
        fixed_names = ["ts"] + [c.name for c in fixed]
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                # one snapshot for the rows, their texts and their items
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # a series comes out in index order, partition after partition, with no sort; the
                # default cost of a random page (4, a spinning disk) makes the planner prefer a seq
                # scan of whole partitions and a sort once a series is a third of them (measured:
                # 71 ms against 37 ms for a day of one metric, 3 series per partition)
                cur.execute("SET LOCAL random_page_cost = 1.1")
                raw = self._copy_out(cur, _sql.SQL("SELECT {} ").format(
                    _sql.SQL(", ").join(map(_sql.Identifier, fixed_names))) + where)
                head = _parse_fixed(raw, table, fixed, self.url)
                variable: dict[str, Any] = {}
                if texts:
                    cur.execute(_sql.SQL("SELECT {} ").format(
                        _sql.SQL(", ").join(_sql.Identifier(c.name) for c in texts)) + where)
                    rows = cur.fetchall()
                    for j, c in enumerate(texts):
                        variable[c.name] = [r[j] for r in rows]
                if arrays:
                    raw = self._copy_out(cur, _sql.SQL("SELECT {} ").format(
                        _sql.SQL(", ").join(_sql.Identifier(c.name) for c in arrays)) + where)
                    variable.update(_parse_arrays(raw, arrays, head, self.url))
        except psycopg.OperationalError:
            raise
        except psycopg.Error as e:
            raise _io_error(e, self.url, f"read {table.name}") from e
        stored = np.zeros(len(head), table.stored_dtype)  # the columns not asked for are not shown
        for name in fixed_names:
            stored[name] = head[name]
        return _assemble(table, exchange, symbol, stored, variable, columns, None)

    def _copy_out(self, cur: Any, query: Any) -> bytes:
        """The whole binary COPY output of ``query``, in one bytes object. Through libpq directly
        (psycopg's ``pq`` layer): libpq hands COPY data over one row at a time, and psycopg's
        ``Copy`` iterator costs ~5 us a row in Python (0.45 s for a day of 1-s rows), the bare
        ``get_copy_data`` loop ~0.3 us. Runs inside the caller's transaction."""
        statement = _sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query).as_bytes(self.conn)
        pgconn = self.conn.pgconn
        with self.conn.lock:  # psycopg's own lock: nothing else uses the connection meanwhile
            res = pgconn.exec_(statement)  # PQexec blocks whatever the nonblocking flag
            if res.status != _pq.ExecStatus.COPY_OUT:
                raise self._pq_error(res.error_message)
            parts = []
            get = pgconn.get_copy_data
            while True:
                n, data = get(0)
                if n > 0:
                    parts.append(data)
                elif n == -1:
                    break
                else:
                    raise self._pq_error(pgconn.error_message)
            res = pgconn.get_result()
            while pgconn.get_result() is not None:  # drain to the idle state psycopg expects
                pass
            if res is None or res.status != _pq.ExecStatus.COMMAND_OK:
                raise self._pq_error(res.error_message if res is not None else pgconn.error_message)
        return b"".join(parts)

    def _pq_error(self, message: bytes) -> Exception:
        text = message.decode("utf-8", "replace").strip() or "COPY failed"
        bad = self.conn.pgconn.status == _pq.ConnStatus.BAD
        return (psycopg.OperationalError if bad else psycopg.DatabaseError)(text)

    def series(self, table: Table) -> list[tuple[str, str, int, int, int]]:
        try:
            with self.conn.cursor() as cur:
                # byte order of the names, as SQLite sorts them, whatever the database's collation
                cur.execute(f"SELECT exchange, symbol, count(*), min(ts), max(ts) FROM {table.name} "
                            f"GROUP BY exchange, symbol ORDER BY exchange COLLATE \"C\", symbol COLLATE \"C\"")
                rows = cur.fetchall()
        except psycopg.Error as e:
            raise _io_error(e, self.url, f"list the series of {table.name}") from e
        return [(str(a), str(b), int(n), int(lo), int(hi)) for a, b, n, lo, hi in rows]

    def close(self) -> None:
        self.conn.close()


def _parse_fixed(raw: bytes, table: Table, fixed: Sequence[Column], url: str) -> npt.NDArray[Any]:
    """The rows of a binary COPY of ``ts`` and the fixed columns, read in place: every row has the
    same width (no NULLs, fixed-size types). O(rows), no per-row Python work."""
    dt = _head_dtype(table, fixed)
    body = memoryview(raw)[len(_COPY_HEADER):len(raw) - 2]
    if raw[:11] != _COPY_HEADER[:11] or len(body) % dt.itemsize:
        raise StoreIOError(f"postgresql store {url}: {table.name}: unexpected COPY data ({len(raw)} bytes)")
    head = np.frombuffer(body, dt)
    if len(head) and (head["n"] != 1 + len(fixed)).any():
        raise StoreIOError(f"postgresql store {url}: {table.name}: unexpected COPY rows")
    return head


def _parse_arrays(raw: bytes, arrays: list[Column], head: npt.NDArray[Any], url: str) -> dict[str, npt.NDArray[Any]]:
    """The items of the array columns from a binary COPY of them: a row's layout follows from the
    counts already read (an empty array is 12 bytes; a (c, k) one 28 + 12 c k), so the element
    runs are located with numpy and gathered with one slice each. O(rows + items)."""
    n = len(head)
    sizes = np.full(n, 2, np.int64)
    field_size = {}
    for c in arrays:
        cnt = head[c.count].astype(np.int64)
        fs = np.where(cnt == 0, 12, 28 + cnt * _width(c) * 12) + 4
        field_size[c.name] = fs
        sizes += fs
    starts = len(_COPY_HEADER) + np.concatenate([[0], np.cumsum(sizes)[:-1]]) if n else np.zeros(0, np.int64)
    if len(_COPY_HEADER) + int(sizes.sum()) + 2 != len(raw):
        raise StoreIOError(f"postgresql store {url}: array columns of unexpected size (damaged rows?)")
    out: dict[str, npt.NDArray[Any]] = {}
    pos = starts + 2
    for c in arrays:
        cnt = head[c.count].astype(np.int64)
        k = _width(c)
        rows = np.flatnonzero(cnt).tolist()
        lo = (pos + 4 + 28).tolist()
        hi = (pos + 4 + 28 + cnt * k * 12).tolist()
        joined = b"".join([raw[lo[i]:hi[i]] for i in rows])
        elems = np.frombuffer(joined, [("l", ">i4"), ("v", ">f8")])
        values = elems["v"].astype(np.float64)
        item: np.dtype[Any] = c.dtype  # type: ignore[assignment]
        out[c.name] = values.view(item).reshape(-1) if item.names is not None else values.reshape(-1, k)
        pos = pos + field_size[c.name]
    return out


class PostgresBackend:
    """A PostgreSQL database (see :class:`liqcore.store.backend.Backend`).

    ``url``: a libpq URL (``postgresql://user:password@host:port/dbname?sslmode=...``; the ``PG*``
    environment variables and ``~/.pgpass`` fill what it leaves out). ``synchronous``: ``"full"``
    (``synchronous_commit = on``) or ``"normal"`` (``off``: a server crash may lose the last
    batches). ``timeout_s``: the connect timeout and the ``lock_timeout`` of a commit.
    ``partition_s``: seconds of ``ts`` per partition or hypertable chunk (default one day), fixed
    when the schema is created. ``timescale``: use TimescaleDB when it can be created (False:
    declarative partitioning regardless). ``compress_after_s`` / ``retain_s``: with TimescaleDB,
    compress chunks older than that and drop chunks older than that (None: no policy); ignored
    (and logged) in partitioned mode. Thread-safe: each thread gets its own connection.
    """

    def __init__(self, url: str, *, synchronous: str = "full", timeout_s: float = 5.0, partition_s: int = 86_400,
                 timescale: bool = True, compress_after_s: int | None = None, retain_s: int | None = None) -> None:
        if psycopg is None:  # pragma: no cover
            raise StoreInputError("postgresql:// stores need psycopg 3: pip install 'liqcore[store]'")
        if synchronous not in ("full", "normal"):
            raise StoreInputError(f"synchronous: expected one of ('full', 'normal'), got {synchronous!r}")
        for name, v in (("partition_s", partition_s), ("compress_after_s", compress_after_s), ("retain_s", retain_s)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
                raise StoreInputError(f"{name}: expected a positive int (seconds), got {v!r}")
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s < float("inf"):
            raise StoreInputError(f"timeout_s: expected a positive number of seconds, got {timeout_s!r}")
        self.conninfo = url
        self.url = redact(url)
        self.synchronous = synchronous
        self.timeout_s = float(timeout_s)
        self.partition_ns = partition_s * 1_000_000_000
        self.timescale = timescale
        self.compress_after_ns = None if compress_after_s is None else compress_after_s * 1_000_000_000
        self.retain_ns = None if retain_s is None else retain_s * 1_000_000_000
        self.mode: str | None = None
        self._lock = threading.Lock()

    def _announce(self, mode: str, partition_ns: int) -> None:
        """Log the partitioning mode once per backend (the issue: the log says which is active)."""
        with self._lock:
            if self.mode == mode:
                return
            self.mode = mode
        days = partition_ns / 86_400e9
        if mode == "timescaledb":
            log.info("postgresql store %s: TimescaleDB mode: hypertables chunked by %.4g day(s) of ts%s%s", self.url,
                     days, "" if self.compress_after_ns is None else ", compression policy",
                     "" if self.retain_ns is None else ", retention policy")
        else:
            log.info("postgresql store %s: partitioned mode (TimescaleDB not available): tables partitioned by range "
                     "of ts, %.4g day(s) per partition, indexed by (exchange, symbol, ts)", self.url, days)
            if self.compress_after_ns is not None or self.retain_ns is not None:
                log.warning("postgresql store %s: compression and retention policies need TimescaleDB: ignored",
                            self.url)

    def connect(self) -> PostgresConnection:
        return PostgresConnection(self)
