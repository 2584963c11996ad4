"""The store: checked writes into a bounded buffer, a background writer that commits them in
batches, and range reads; the same for every backend (``backend.py``)."""

from __future__ import annotations

import atexit
import collections
import datetime as _dt
import logging
import os
import sys
import threading
import time
import uuid
import weakref
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from liqcore.store.backend import Backend, Connection
from liqcore.store.errors import StoreClosedError, StoreError, StoreInputError, StoreIOError
from liqcore.store.rows import Batch, to_batch
from liqcore.store.schema import TABLES, Table
from liqcore.store.sqlite import SQLiteBackend

__all__ = ["Store", "StoreStats", "open_store", "default_data_dir", "default_path", "DEFAULT_FILE"]

log = logging.getLogger("liqcore.store")

#: the file name of the default store inside :func:`default_data_dir`
DEFAULT_FILE = "liqcore.db"
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def default_data_dir() -> str:
    """Where liqcore keeps its data when told nothing: ``$LIQCORE_DATA_DIR`` when set, else the
    platform's per-user data directory: ``$XDG_DATA_HOME/liqcore`` or ``~/.local/share/liqcore``
    (Linux and other Unixes), ``~/Library/Application Support/liqcore`` (macOS),
    ``%LOCALAPPDATA%\\liqcore`` (Windows). Not created here (opening a store creates it)."""
    env = os.environ.get("LIQCORE_DATA_DIR")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "liqcore")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "liqcore")
    xdg = os.environ.get("XDG_DATA_HOME")
    # the XDG spec: a relative $XDG_DATA_HOME is invalid and must be ignored
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(home, ".local", "share")
    return os.path.join(base, "liqcore")


def default_path() -> str:
    """The default store file: ``default_data_dir()/liqcore.db``."""
    return os.path.join(default_data_dir(), DEFAULT_FILE)


@dataclass(frozen=True)
class StoreStats:
    """Counters of a store since it was opened (a snapshot; see :meth:`Store.stats`).

    - ``written``: rows committed; ``batches``: transactions committed;
    - ``dropped``: rows refused because the buffer was full, plus rows given up at ``close()``
      after the database kept failing (never silently: each drop is also logged);
    - ``pending``: rows in the buffer, not yet committed;
    - ``errors``: failed write attempts (each retried with backoff, the rows kept);
      ``last_error``: the message of the latest failure, None once a later write succeeded.
    """

    written: int
    dropped: int
    batches: int
    errors: int
    pending: int
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ns(value: Any, name: str, default: int) -> int:
    """A time bound as ns since the epoch: an int (ns), an aware datetime or a numpy datetime64;
    None gives ``default``. A bound outside int64 ns (what the tables hold) is refused."""
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_)):
        raise StoreInputError(f"{name}: expected ns since the epoch (int) or an aware datetime, got {value!r}")
    if isinstance(value, (int, np.integer)):
        ns = int(value)
    elif isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise StoreInputError(f"{name}: a naive datetime is ambiguous; give it a tzinfo (e.g. UTC)")
        delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    elif isinstance(value, np.datetime64):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    else:
        raise StoreInputError(f"{name}: expected ns since the epoch (int) or an aware datetime, got {value!r}")
    if not _I64_MIN <= ns <= _I64_MAX:
        raise StoreInputError(f"{name}: {ns} ns is outside the int64 range the store keeps times in")
    return ns


class Store:
    """A store of market history: write rows from the feed without blocking, read ranges back.

    Made by :func:`open_store`, which opens the database and brings its schema up to date. The
    store owns its connections and its writer thread: :meth:`close` (or ``with``) flushes and
    releases them; rows still buffered when the process exits without ``close()`` are lost.

    **Writes** (:meth:`write`) check the rows in the caller's thread (bad input raises
    StoreInputError and buffers nothing), then append them to a bounded in-memory buffer of
    ``buffer_rows`` rows and return at once: never a wait on the disk. When the buffer is full the
    rows of the call are dropped and counted (``stats().dropped``, and a warning in the log). A
    background thread commits the buffer in batches of up to ``batch_rows`` rows, one transaction
    each, as soon as ``batch_rows`` are waiting or ``flush_interval_s`` after the oldest row came
    in. A failed commit keeps the rows, counts the error and retries with backoff (50 ms doubling to
    2 s). :meth:`flush` waits until everything written before it is committed.

    **Reads** (:meth:`read`, :meth:`series`, :meth:`export_parquet`) see committed rows only.

    Thread-safety: every method may be called from any thread; writes take a lock for O(1) work,
    reads are serialised on one read connection.
    """

    def __init__(self, backend: Backend, *, buffer_rows: int = 1_000_000, batch_rows: int = 50_000,
                 flush_interval_s: float = 0.2) -> None:
        for name, v in (("buffer_rows", buffer_rows), ("batch_rows", batch_rows)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise StoreInputError(f"{name}: expected an int >= 1, got {v!r}")
        if isinstance(flush_interval_s, bool) or not isinstance(flush_interval_s, (int, float)) \
                or not 0 <= flush_interval_s < float("inf"):
            raise StoreInputError(f"flush_interval_s: expected a finite number >= 0, got {flush_interval_s!r}")
        self.backend = backend
        self.buffer_rows = buffer_rows
        self.batch_rows = batch_rows
        self.flush_interval_s = float(flush_interval_s)
        # both connections open here, so an unusable database fails open_store, not a later write
        self._wconn: Connection | None = backend.connect()
        try:
            self._rconn = backend.connect()
        except BaseException:
            self._wconn.close()
            raise
        self._rlock = threading.Lock()
        self._cond = threading.Condition(threading.Lock())
        self._buffer: collections.deque[Batch] = collections.deque()
        self._pending = 0
        self._accepted = 0       # rows accepted by write() since open
        self._done = 0           # rows of those committed or given up, in FIFO order
        self._oldest = 0.0       # monotonic time the oldest buffered row came in
        self._flush_wanted = 0
        self._written = self._dropped = self._batches = self._errors = 0
        self._last_error: StoreError | None = None
        self._failing = False
        self._closing = self._closed = False
        self._drop_logged = False
        # a daemon thread, so a forgotten store never keeps the process alive; the exit hook below
        # still commits what it holds when the interpreter exits normally
        self._thread = threading.Thread(target=self._run, name=f"liqcore-store-writer {backend.url}", daemon=True)
        self._thread.start()
        _OPEN.add(self)

    # -- properties --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database's URL (``sqlite:///path``)."""
        return self.backend.url

    @property
    def closed(self) -> bool:
        return self._closed

    # -- writes ------------------------------------------------------------------------------

    def write(self, table: str, rows: Any, *, ts: int | None = None, exchange: str | None = None,
              symbol: str | None = None) -> int:
        """Buffer ``rows`` for ``table``; return how many were accepted (0 when the buffer was full
        and they were dropped). Never waits on the database.

        ``rows``: one record or mapping, a sequence of them, or a numpy structured array (fields
        named as the columns, :data:`TABLES`). ``ts`` (ns since the epoch), ``exchange`` and
        ``symbol`` fill rows that carry none (a :class:`liqcore.LiquidityReport` has no time of its
        own). All or nothing: a bad row raises StoreInputError and nothing of the call is buffered.
        O(rows x columns) in the caller's thread.
        """
        if self._closing:
            raise StoreClosedError(f"store {self.url} is closed")
        batch = to_batch(_table(table), rows, ts=ts, exchange=exchange, symbol=symbol)
        n = len(batch)
        if n == 0:
            return 0
        with self._cond:
            if self._closing:
                raise StoreClosedError(f"store {self.url} is closed")
            if self._pending + n > self.buffer_rows:
                self._dropped += n
                warn, self._drop_logged = not self._drop_logged, True
            else:
                warn = False
                if not self._buffer:
                    self._oldest = time.monotonic()
                    self._cond.notify()  # the writer sleeps without a deadline while the buffer is empty
                self._buffer.append(batch)
                self._pending += n
                self._accepted += n
                self._drop_logged = False
                if self._pending >= self.batch_rows:
                    self._cond.notify()
                return n
        if warn:
            log.warning("store %s: buffer full (%d rows pending): dropping rows (counted in stats().dropped)",
                        self.url, self.buffer_rows)
        return 0

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every row accepted before this call is committed. Raises StoreIOError when a
        commit fails meanwhile (the rows stay buffered and are retried) or after ``timeout_s``;
        StoreClosedError after close(). Returns at once when nothing is pending."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            target, errors0 = self._accepted, self._errors
            self._flush_wanted += 1
            self._cond.notify_all()
            try:
                while self._done < target:
                    if self._errors > errors0 and self._last_error is not None:
                        raise StoreIOError(f"{self._last_error} ({self._pending} rows kept in the buffer, "
                                           f"retried)") from self._last_error
                    if self._closed:
                        raise StoreClosedError(f"store {self.url} is closed")
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise StoreIOError(f"store {self.url}: flush timed out after {timeout_s} s "
                                           f"({self._pending} rows pending)")
                    self._cond.wait(remaining)
            finally:
                self._flush_wanted -= 1

    def _run(self) -> None:
        """The writer thread: take a prefix of the buffer, commit it, repeat."""
        backoff = 0.05
        tries_closing = 0
        retry: tuple[list[Batch], int, str] | None = None
        while True:
            with self._cond:
                while True:
                    if not self._buffer:
                        if self._closing:
                            return
                        self._cond.wait()
                        continue
                    wait = self._oldest + self.flush_interval_s - time.monotonic()
                    if (self._closing or self._flush_wanted or self._pending >= self.batch_rows or wait <= 0):
                        break
                    self._cond.wait(wait)
                if retry is None:
                    take: list[Batch] = []
                    n = 0
                    for b in self._buffer:
                        if take and n + len(b) > self.batch_rows:
                            break
                        take.append(b)
                        n += len(b)
                    token = uuid.uuid4().hex
                else:
                    # a retry is the same rows under the same token: had the failed try committed
                    # (its answer lost), the backend finds the token and writes nothing twice
                    take, n, token = retry
                closing = self._closing
            try:
                if self._wconn is None:
                    self._wconn = self.backend.connect()
                self._wconn.insert(take, token)
            except Exception as e:  # noqa: BLE001 - every failure keeps the rows and is counted
                err = e if isinstance(e, StoreError) else StoreIOError(f"store {self.url}: write failed: {e!r}")
                if err is not e:
                    err.__cause__ = e
                # a fresh connection next time: a file made writable again, a server back
                if self._wconn is not None:
                    try:
                        self._wconn.close()
                    except Exception:  # noqa: BLE001 - it is being replaced
                        pass
                    self._wconn = None
                tries_closing += closing
                with self._cond:
                    self._errors += 1
                    self._last_error = err
                    self._failing = True
                    if tries_closing >= 2:  # closing and still failing: give the rows up, counted
                        lost = self._pending
                        self._dropped += lost
                        self._done += lost
                        self._buffer.clear()
                        self._pending = 0
                    self._cond.notify_all()
                log.warning("store %s: %s (%d rows kept, retrying in %.2f s)", self.url, err, self._pending, backoff)
                if tries_closing >= 2:
                    log.error("store %s: closing after repeated failures: %d rows lost (counted as dropped)",
                              self.url, lost)
                    return
                retry = (take, n, token)
                with self._cond:
                    self._cond.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            retry = None
            with self._cond:
                for _ in take:
                    self._buffer.popleft()
                self._pending -= n
                self._done += n
                self._written += n
                self._batches += 1
                self._failing = False
                self._last_error = None
                # _oldest stays: rows left behind came in after it, so they go at once (no row waits
                # more than flush_interval_s plus the commits ahead of it)
                self._cond.notify_all()

    def stats(self) -> StoreStats:
        """The store's counters now (see :class:`StoreStats`). O(1)."""
        with self._cond:
            return StoreStats(self._written, self._dropped, self._batches, self._errors, self._pending,
                              None if self._last_error is None else str(self._last_error))

    # -- reads -------------------------------------------------------------------------------

    def read(self, table: str, exchange: str, symbol: str, start: Any = None, end: Any = None, *,
             columns: Sequence[str] | None = None, frame: bool = False) -> Any:
        """The committed rows of one series with ``start <= ts < end``, time-ordered.

        ``start``/``end``: ns since the epoch (int), aware datetimes or numpy datetime64; None for
        open-ended. ``columns``: a subset of the table's columns (default all; the key ``exchange``,
        ``symbol``, ``ts`` always comes). Returns a numpy structured array: strings as ASCII bytes
        (``S16``/``S40``) as in :mod:`liqcore.feed.records` (for the record tables the dtype is the
        record's ``DTYPE``, so ``records.from_array`` gives the records back), text columns as
        objects, array columns (book levels, walls) NaN-padded to the longest row. ``frame=True``
        returns a pandas DataFrame instead (strings decoded; needs pandas). O(log n + rows).
        """
        t = _table(table)
        wanted = _columns(t, columns)
        ex, sym = _name("exchange", exchange), _name("symbol", symbol)
        lo, hi = _ns(start, "start", _I64_MIN), _ns(end, "end", _I64_MAX)
        if hi < lo:
            raise StoreInputError(f"end ({hi}) is before start ({lo}): the range [start, end) would be negative")
        with self._rlock:
            if self._closed:
                raise StoreClosedError(f"store {self.url} is closed")
            arr = self._rconn.read(t, ex, sym, lo, hi, wanted)
        return _frame(arr) if frame else arr

    def series(self, table: str) -> list[tuple[str, str, int, int, int]]:
        """(exchange, symbol, rows, first ts, last ts) of every series stored in ``table``, sorted.
        O(rows of the table)."""
        t = _table(table)
        with self._rlock:
            if self._closed:
                raise StoreClosedError(f"store {self.url} is closed")
            return self._rconn.series(t)

    def export_parquet(self, table: str, exchange: str, symbol: str, start: Any, end: Any, path: str | os.PathLike[str],
                       *, columns: Sequence[str] | None = None) -> int:
        """Write the rows :meth:`read` returns to a Parquet file at ``path`` (replaced if present);
        return the number of rows. ``ts`` becomes a ``timestamp[ns, UTC]`` column, strings UTF-8,
        array columns lists (of ``[price, size]`` pairs, of wall/cluster structs) without the
        padding. Needs pyarrow (``pip install liqcore[store]``). O(rows)."""
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as e:  # pragma: no cover - pyarrow is installed in the tests
            raise StoreInputError("export_parquet needs pyarrow: pip install 'liqcore[store]'") from e
        t = _table(table)
        arr = self.read(table, exchange, symbol, start, end, columns=columns)
        cols: dict[str, Any] = {}
        for name in arr.dtype.names or ():
            col = t.column(name) if name not in ("exchange", "symbol", "ts", "ts_ms") else None
            v = arr[name]
            if name == "ts":
                cols[name] = pa.array(v, pa.timestamp("ns", tz="UTC"))
            elif v.dtype.kind == "S":
                cols[name] = pa.array(np.char.decode(v, "ascii"), pa.string())
            elif col is not None and col.kind == "text":
                cols[name] = pa.array(v.tolist(), pa.string())
            elif col is not None and col.kind == "array":
                counts = arr[col.count] if col.count in (arr.dtype.names or ()) else \
                    np.count_nonzero(~np.isnan(v.reshape(len(v), v.shape[1] if v.ndim > 1 else 0, -1)[..., 0]), axis=1)
                width = v.shape[1] if v.ndim > 1 else 0
                mask = np.arange(width)[None, :] < np.asarray(counts)[:, None]
                flat = v[mask]
                if flat.dtype.names is None:
                    values = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[-1])
                else:
                    values = pa.StructArray.from_arrays([pa.array(flat[f]) for f in flat.dtype.names],
                                                        list(flat.dtype.names))
                offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
                cols[name] = pa.ListArray.from_arrays(pa.array(offsets), values)
            else:
                cols[name] = pa.array(v)
        pq.write_table(pa.table(cols), os.fspath(path))
        return len(arr)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self, timeout_s: float = 30.0) -> None:
        """Commit what is buffered, stop the writer and release the connections. Idempotent.

        If the database keeps failing, the buffered rows are given up after one more attempt,
        counted in ``stats().dropped``, and StoreIOError is raised once everything is released.
        """
        with self._cond:
            if self._closed:
                return
            self._closing = True
            self._cond.notify_all()
        _OPEN.discard(self)
        self._thread.join(timeout_s)
        with self._cond:
            stuck = self._thread.is_alive()
            failed = self._last_error if self._failing else None
            self._closed = True
            self._cond.notify_all()
        with self._rlock:
            self._rconn.close()
        if not stuck and self._wconn is not None:
            self._wconn.close()
            self._wconn = None
        if stuck:
            raise StoreIOError(f"store {self.url}: the writer did not finish within {timeout_s} s "
                               f"({self._pending} rows pending)")
        if failed is not None:
            raise StoreIOError(f"store {self.url}: closed with rows not written: {failed}") from failed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.stats()
        return f"Store({self.url!r}, written={s.written}, pending={s.pending}, dropped={s.dropped})"


#: stores not closed yet (the writer thread holds each one alive until close)
_OPEN: weakref.WeakSet[Store] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """Commit what open stores still buffer when the interpreter exits (not on a kill)."""
    for store in list(_OPEN):
        try:
            store.close(timeout_s=10.0)
        except StoreError as e:
            log.error("store %s: at exit: %s", store.url, e)


def _table(name: Any) -> Table:
    t = TABLES.get(name) if isinstance(name, str) else None
    if t is None:
        raise StoreInputError(f"unknown table {name!r}: expected one of {', '.join(TABLES)}")
    return t


def _columns(t: Table, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(t.names)
    if isinstance(columns, str):
        raise StoreInputError("columns: expected a list of column names, got a string")
    unknown = [c for c in columns if c not in t.names]
    if unknown:
        raise StoreInputError(f"columns: {unknown} are not columns of {t.name!r} ({', '.join(t.names)})")
    wanted = set(columns)
    # an array column needs its count to be laid out
    wanted |= {c.count for c in t.variable if c.kind == "array" and c.name in wanted}  # type: ignore[misc]
    return [n for n in t.names if n in wanted]


def _name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise StoreInputError(f"{what}: expected a non-empty string, got {value!r}")
    return value


def _frame(arr: npt.NDArray[Any]) -> Any:
    try:
        import pandas as pd
    except ImportError as e:
        raise StoreInputError("frame=True needs pandas (pip install pandas)") from e
    data: dict[str, Any] = {}
    for name in arr.dtype.names or ():
        v = arr[name]
        if v.dtype.kind == "S":
            data[name] = np.char.decode(v, "ascii")
        elif v.ndim > 1 or v.dtype.names is not None:
            data[name] = list(v)
        else:
            data[name] = v
    return pd.DataFrame(data)


def open_store(url_or_path: str | os.PathLike[str] | None = None, *, synchronous: str = "full",
               buffer_rows: int = 1_000_000, batch_rows: int = 50_000, flush_interval_s: float = 0.2,
               max_bytes: int | None = None, timeout_s: float = 5.0) -> Store:
    """Open (creating or upgrading) a store and start its writer.

    ``url_or_path``: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (SQLAlchemy's
    spelling), a plain file path, or None for :func:`default_path` (``$LIQCORE_DATA_DIR/liqcore.db``,
    else the platform's user data directory). Missing directories are created.
    ``postgresql://user:password@host:port/dbname`` (or ``postgres://``) opens a PostgreSQL database
    with psycopg 3 (:class:`liqcore.store.postgres.PostgresBackend`; for its TimescaleDB policies
    and partition size, give ``Store(PostgresBackend(url, ...))`` instead). Options:
    ``synchronous`` ``"full"`` (each committed batch fsynced: survives a power cut) or ``"normal"``
    (survives a killed process); ``buffer_rows``, ``batch_rows``, ``flush_interval_s``: see
    :class:`Store`; ``max_bytes``: cap on the database size (writes past it fail as on a full
    disk; SQLite only); ``timeout_s``: how long a commit waits for another process's lock (and, for
    PostgreSQL, the connect timeout). For PostgreSQL ``synchronous="normal"`` is
    ``synchronous_commit = off`` (a server crash may lose the last batches, a killed client none).

    Raises StoreInputError (a URL of an unknown kind), StoreIOError (the file cannot be opened or
    created, the server cannot be reached), StoreSchemaError (written by a newer liqcore, or not a store).
    The caller owns the store: close it (or use ``with``).
    """
    if url_or_path is None:
        path = default_path()
    elif isinstance(url_or_path, (str, os.PathLike)):
        raw = os.fspath(url_or_path)
        scheme, sep, rest = raw.partition("://")
        if not sep:
            path = raw
        elif scheme == "sqlite":
            if not rest.startswith("/") or rest == "/":
                raise StoreInputError(f"{raw!r}: expected sqlite:///relative/path or sqlite:////absolute/path")
            path = rest[1:]
        elif scheme in ("postgresql", "postgres"):
            if max_bytes is not None:
                raise StoreInputError("max_bytes caps a SQLite file; a PostgreSQL server manages its own disk")
            try:
                from liqcore.store.postgres import PostgresBackend
            except ImportError as e:  # pragma: no cover - psycopg is in the store and test extras
                raise StoreInputError(f"{scheme}:// stores need psycopg 3: pip install 'liqcore[store]' ({e})") from None
            return Store(PostgresBackend(raw, synchronous=synchronous, timeout_s=timeout_s),
                         buffer_rows=buffer_rows, batch_rows=batch_rows, flush_interval_s=flush_interval_s)
        else:
            raise StoreInputError(f"{raw!r}: unknown store URL scheme {scheme!r} (expected sqlite:///path, "
                                  f"postgresql://... or a path)")
        if path in ("", ":memory:") or path.startswith("file:"):
            raise StoreInputError(f"{raw!r}: in-memory and URI SQLite databases are not supported (the writer "
                                  f"thread and the readers need one file); use a temporary file")
    else:
        raise StoreInputError(f"url_or_path: expected a URL, a path or None, got {type(url_or_path).__name__}")
    return Store(SQLiteBackend(path, synchronous=synchronous, timeout_s=timeout_s, max_bytes=max_bytes),
                 buffer_rows=buffer_rows, batch_rows=batch_rows, flush_interval_s=flush_interval_s)
