"""liqcore.store on SQLite and on PostgreSQL against issue 12's targets (no peer store: the targets
are the baselines):

- writes: >= 100,000 liquidity-report rows/s into SQLite, and into PostgreSQL over loopback, on
  one core (``store.write`` of the reports then ``flush``: the check and layout in the caller's
  thread, the commit in the writer thread, one after the other since the batch is larger than
  what is written, so one core on the client; the server's own process works during the COPY);
- reads: a one-day range of one symbol at 1 s resolution (86,400 rows) <= 50 ms, in a store that
  holds three symbols;
- the encoding of book levels measured both ways (float64 blobs, which the SQLite store uses, and
  JSON).

    python -m pytest benchmarks/bench_store.py -p no:cacheprovider --benchmark-columns=min,median

PostgreSQL: a private server started from the installed binaries (``tests/python/store_servers.py``,
127.0.0.1, default settings: fsync on), a fresh database per fixture; the PostgreSQL cases skip
when no server binaries are installed. A round's figure in rows/s is rows / time. The durability
mode is part of the figure: the default ``synchronous="full"`` fsyncs each batch (SQLite) or keeps
``synchronous_commit`` on (PostgreSQL), so the write rounds are run in both modes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys

import numpy as np
import pytest

from liqcore import LiquidityReport, OrderBook
from liqcore.store import open_store

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "python"))
from store_servers import BACKENDS, pg_server  # noqa: E402 - the tests' private PostgreSQL server

RNG = np.random.default_rng(12)
N_WRITE = 50_000
DAY = 86_400
T0 = 1_722_000_000_000_000_000
SECOND = 1_000_000_000


def _book(walls: bool) -> OrderBook:
    """A 1,000-level book; with ``walls`` some levels stand out (16 walls and 16 clusters reported,
    the most a report carries), without them none do."""
    b = OrderBook(tick_size="0.1", lot_size="0.001", exchange="binance", symbol="BTC/USDT")
    size = (lambda i: "25" if i % 37 == 0 else f"{RNG.uniform(0.1, 2):.3f}") if walls else (lambda i: "1")
    b.apply_snapshot([[f"{60000 - i * 0.1:.1f}", size(i)] for i in range(1000)],
                     [[f"{60000.1 + i * 0.1:.1f}", size(i)] for i in range(1000)])
    return b


class _Where:
    """A fresh SQLite file or PostgreSQL database per call of :meth:`url`; :meth:`execute` runs SQL
    on the latest one directly; :meth:`cleanup` drops the databases."""

    def __init__(self, kind: str, tmp) -> None:
        self.kind, self.tmp, self.dbs = kind, tmp, []
        self.server = pg_server() if kind == "postgresql" else None

    def url(self, name: str) -> str:
        if self.server is None:
            self.dbs.append(str(self.tmp / f"{name}.db"))
            return self.dbs[-1]
        self.dbs.append(self.server.create_db())
        return self.server.url(self.dbs[-1])

    def execute(self, sql: str) -> None:
        if self.server is None:
            con = sqlite3.connect(self.dbs[-1])
            con.execute(sql)
            con.commit()
            con.close()
        else:
            self.server.execute(sql, self.dbs[-1])

    def cleanup(self) -> None:
        for db in self.dbs if self.server is not None else ():
            self.server.drop_db(db)


@pytest.fixture(params=BACKENDS)
def where(request, tmp_path):
    w = _Where(request.param, tmp_path)
    yield w
    w.cleanup()


@pytest.fixture(scope="module", params=["no walls", "16 walls + 16 clusters"])
def reports(request) -> list[LiquidityReport]:
    book = _book(request.param != "no walls")
    return [book.liquidity_report() for _ in range(N_WRITE)]


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_write_liquidity_reports(benchmark, where, reports, synchronous):
    benchmark.group = f"store: write {N_WRITE:,} liquidity reports + flush (target >= 100k rows/s: <= 500 ms)"
    store = open_store(where.url("w"), synchronous=synchronous, batch_rows=N_WRITE, flush_interval_s=60)
    ts = iter(range(T0, T0 + 10**12 * SECOND, SECOND))

    def run():
        store.write("liquidity_reports", reports, ts=next(ts))
        store.flush()

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert store.stats().written == 6 * N_WRITE and store.stats().dropped == 0
    store.close()


def test_write_report_arrays(benchmark, where):
    """The columnar path: a structured array of LiquidityReport.DTYPE rows (to_numpy) and ts."""
    benchmark.group = f"store: write {N_WRITE:,} liquidity reports + flush (target >= 100k rows/s: <= 500 ms)"
    one = _book(False).liquidity_report().to_numpy()
    arr = np.zeros(N_WRITE, [("ts", "<i8")] + [(n, one.dtype[n]) for n in one.dtype.names])
    for n in one.dtype.names:
        arr[n] = one[n]
    arr["walls"] = arr["clusters"] = 0
    store = open_store(where.url("a"), batch_rows=N_WRITE, flush_interval_s=60)
    t = [T0]

    def run():
        arr["ts"] = np.arange(t[0], t[0] + N_WRITE)
        t[0] += N_WRITE
        store.write("liquidity_reports", arr, exchange="binance", symbol="BTC/USDT")
        store.flush()

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    store.close()


@pytest.fixture(scope="module", params=BACKENDS)
def day_store(request, tmp_path_factory):
    """One day at 1 s of liquidity reports for three symbols (written hour by hour, interleaved as
    a tracker would), the 16 walls and 16 clusters of a busy book on every row."""
    where = _Where(request.param, tmp_path_factory.mktemp("day"))
    path = where.url("day")
    rep = _book(True).liquidity_report()
    with open_store(path, synchronous="normal", batch_rows=3 * 3_600) as s:
        s.write("liquidity_reports", [rep] * 3_600, ts=0)
        s.flush()
        hour = s.read("liquidity_reports", "binance", "BTC/USDT")  # the read form writes back as it is
        for h in range(24):
            hour["ts"] = T0 + (h * 3_600 + np.arange(3_600)) * SECOND
            for sym in ("BTC/USDT", "ETH/USDT", "SOL/USDT"):
                hour["symbol"] = sym
                s.write("liquidity_reports", hour)
        s.flush()
    where.execute("DELETE FROM liquidity_reports WHERE ts = 0")
    if where.kind == "postgresql":
        where.execute("VACUUM ANALYZE")  # as autovacuum would have by then: fresh statistics, visibility map
    s = open_store(path)
    yield s
    s.close()
    where.cleanup()


@pytest.mark.parametrize("columns", ["all columns", "numbers only", "one metric"])
def test_read_one_day_one_symbol(benchmark, day_store, columns):
    benchmark.group = "store: read one day of one symbol at 1 s, 86,400 rows (target <= 50 ms)"
    cols = {"all columns": None, "numbers only": list(LiquidityReport.DTYPE.names),
            "one metric": ["spread_bps"]}[columns]
    out = benchmark.pedantic(day_store.read, args=("liquidity_reports", "binance", "ETH/USDT", T0, T0 + DAY * SECOND),
                             kwargs={"columns": cols}, rounds=10, iterations=1, warmup_rounds=1)
    assert len(out) == DAY and (np.diff(out["ts"]) == SECOND).all()


# -- book levels: float64 blobs or JSON -----------------------------------------------------------

N_SNAP = 20_000
DEPTH = 20


@pytest.fixture(scope="module")
def levels():
    book = _book(True)
    return book.bids(DEPTH), book.asks(DEPTH)


@pytest.mark.parametrize("encoding", ["float64 blob", "json"])
def test_levels_encoding(benchmark, tmp_path, levels, encoding):
    """Write then read back N_SNAP snapshots of 20 + 20 levels as arrays, raw sqlite3: the store's
    choice (blob) against JSON text; the file size is printed."""
    benchmark.group = f"store: {N_SNAP:,} snapshots of {DEPTH}+{DEPTH} levels, write + read back as arrays"
    bids, asks = levels
    con = sqlite3.connect(tmp_path / f"{encoding[:4]}.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"CREATE TABLE s (ts INTEGER PRIMARY KEY, bids {'BLOB' if encoding != 'json' else 'TEXT'}, "
                f"asks {'BLOB' if encoding != 'json' else 'TEXT'})")
    t = [0]

    def run():
        con.execute("DELETE FROM s")
        if encoding == "json":
            rows = [(t[0] + i, json.dumps(bids.tolist()), json.dumps(asks.tolist())) for i in range(N_SNAP)]
        else:
            rows = [(t[0] + i, bids.tobytes(), asks.tobytes()) for i in range(N_SNAP)]
        con.execute("BEGIN")
        con.executemany("INSERT INTO s VALUES (?, ?, ?)", rows)
        con.execute("COMMIT")
        got = con.execute("SELECT bids, asks FROM s ORDER BY ts").fetchall()
        if encoding == "json":
            out = [(np.array(json.loads(b)), np.array(json.loads(a))) for b, a in got]
        else:
            out = [(np.frombuffer(b).reshape(-1, 2), np.frombuffer(a).reshape(-1, 2)) for b, a in got]
        assert np.array_equal(out[-1][0], bids)
        return out

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    size = con.execute("SELECT sum(length(bids) + length(asks)) FROM s").fetchone()[0]
    benchmark.extra_info["bytes_per_snapshot"] = size / N_SNAP
    print(f"\n{encoding}: {size / N_SNAP:.0f} bytes of levels per snapshot")
    con.close()
