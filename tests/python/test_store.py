"""liqcore.store on both backends (a SQLite file and a database on a private PostgreSQL server,
``store_servers.py``): every table round-trips what was written (records, dicts, numpy arrays),
ranges and columns, the bounded buffer, flush/close, migrations, bad input. PostgreSQL-only
behaviour (partitioning mode, a restarted server, an unreachable URL): ``test_store_postgres.py``."""

from __future__ import annotations

import datetime as dt
import math
import os
import sqlite3
import sys
import time

import numpy as np
import pytest

from liqcore import LiquidityReport, OrderBook
from liqcore.errors import LiqError
from liqcore.feed.records import FundingRate, Liquidation, MarkPrice, OpenInterest, from_array, to_array
from liqcore.risk import LiquidationLevel
from liqcore.store import (SCHEMA_VERSION, TABLES, StoreClosedError, StoreInputError, StoreSchemaError,
                           default_data_dir, default_path, open_store)
from liqcore.store import postgres as postgres_backend
from liqcore.store import sqlite as sqlite_backend
from liqcore.store.schema import REPORT_FIELDS
from store_servers import target  # noqa: F401 - the fixture: every store test runs on both backends

EX, SYM = "binanceusdm", "BTC/USDT:USDT"
T0 = 1_722_000_000_000_000_000  # 2024-07-26, ns


@pytest.fixture
def store(target):
    s = open_store(target.url(), flush_interval_s=0.01)
    yield s
    s.close()


def a_book(n: int = 50, exchange: str = "binance", symbol: str = "BTC/USDT") -> OrderBook:
    b = OrderBook(tick_size="0.1", lot_size="0.001", exchange=exchange, symbol=symbol)
    b.apply_snapshot([[f"{60000 - i * 0.1:.1f}", "9" if i % 7 == 0 else "0.5"] for i in range(n)],
                     [[f"{60000.1 + i * 0.1:.1f}", "8" if i % 5 == 0 else "0.5"] for i in range(n)])
    return b


# -- round trips ---------------------------------------------------------------------------------

def test_feed_records_round_trip_with_their_own_dtype(store):
    """A record table reads back in the record's own DTYPE, so records.from_array rebuilds the exact
    records (None fields, sides, ts_ms included), in time order whatever the write order."""
    liqs = [Liquidation(EX, SYM, 2_000, "long", 60_000.5, 0.25, recv_ns=7),
            Liquidation(EX, SYM, 1_000, "short", 61_000.0, 1.5)]
    funding = [FundingRate(EX, SYM, 1_000, 0.0001, 28_800_000, 2_000, None, 60_001.0)]
    marks = [MarkPrice(EX, SYM, 1_000 + i, 60_000.0 + i, None if i % 2 else 59_999.0) for i in range(5)]
    oi = [OpenInterest(EX, SYM, 1_000, contracts=10.0, size=None, value=600_000.0)]
    for table, recs, cls in (("liquidations", liqs, Liquidation), ("funding_rates", funding, FundingRate),
                             ("mark_prices", marks, MarkPrice), ("open_interest", oi, OpenInterest)):
        assert store.write(table, recs) == len(recs)
        store.flush()
        got = store.read(table, EX, SYM)
        assert got.dtype == cls.DTYPE
        assert from_array(got, cls) == sorted(recs, key=lambda r: r.ts_ms)


def test_numpy_arrays_and_dicts_are_accepted(store):
    """to_array output goes in as it is; dicts with ts_ms or ts, side words or ints."""
    recs = [MarkPrice(EX, SYM, 1_000 + i, 100.0 + i) for i in range(100)]
    store.write("mark_prices", to_array(recs))
    store.write("liquidations", [{"exchange": EX, "symbol": SYM, "ts_ms": 5, "side": "short", "price": 1.0,
                                  "size": 2.0},
                                 {"exchange": EX, "symbol": SYM, "ts": 6_000_000, "side": 1, "price": 1.5,
                                  "size": 2.5}])
    store.flush()
    assert from_array(store.read("mark_prices", EX, SYM), MarkPrice) == recs
    liq = store.read("liquidations", EX, SYM)
    assert liq["side"].tolist() == [-1, 1] and liq["ts"].tolist() == [5_000_000, 6_000_000]
    assert liq["ts_ms"].tolist() == [5, 6]


def test_liquidity_report_every_field(store):
    """Every number of LiquidityReport.DTYPE comes back bit for bit (NaN and inf included), with the
    walls and clusters as item arrays (up to 16 each) in the report's order."""
    book = a_book()
    reports = [book.liquidity_report(), OrderBook(tick_size="0.1", lot_size="0.001").liquidity_report()]
    store.write("liquidity_reports", reports, ts=T0, exchange="binance", symbol="BTC/USDT")
    store.flush()
    got = store.read("liquidity_reports", "binance", "BTC/USDT")
    assert len(got) == 2
    for row, rep in zip(got, reports):
        ref = rep.to_numpy()
        for name in LiquidityReport.DTYPE.names:
            assert np.array_equal(row[name], ref[name], equal_nan=True), name
        for w, wall in zip(row["wall_list"][: row["walls"]], rep.walls):
            assert (w["side"], w["price"], w["size"], w["z"], w["rank"]) == \
                   (1.0 if wall.side == "bid" else -1.0, wall.price, wall.size, wall.z, wall.rank)
        for c, cl in zip(row["cluster_list"][: row["clusters"]], rep.clusters):
            assert (c["price_best"], c["vwap"], c["levels"]) == (cl.price_best, cl.vwap, cl.levels)
        assert np.isnan(row["wall_list"][row["walls"]:]["price"]).all()  # padding
    assert got[0]["walls"] == len(reports[0].walls) > 0 and math.isinf(got[0]["wall_list"][0]["z"])
    # to_dict() form too (walls as a list of dicts)
    d = reports[0].to_dict() | {"ts": T0 + 1}
    store.write("liquidity_reports", d)
    store.flush()
    again = store.read("liquidity_reports", "binance", "BTC/USDT", T0 + 1)
    assert again["walls"][0] == got["walls"][0]
    assert again["wall_list"][0].tobytes() == got["wall_list"][0].tobytes()


def test_book_snapshots_levels_padded_to_the_deepest(store):
    book = a_book(30)
    store.write("book_snapshots", [{"ts": T0, "bids": book.bids(20), "asks": book.asks(5), "update_id": 42},
                                   {"ts": T0 + 2, "bids": book.bids(3), "asks": []},
                                   {"ts": T0 + 1, "bids": [], "asks": []}],  # an empty book between them
                exchange="binance", symbol="BTC/USDT")
    store.flush()
    got = store.read("book_snapshots", "binance", "BTC/USDT")
    assert np.isnan(got["bids"][1]).all() and got["n_bids"][1] == 0 == got["n_asks"][1]
    got = got[[0, 2]]
    assert got["bids"].shape == (2, 20, 2) and got["asks"].shape == (2, 5, 2)
    assert got["n_bids"].tolist() == [20, 3] and got["n_asks"].tolist() == [5, 0]
    assert np.array_equal(got["bids"][0], book.bids(20)) and np.array_equal(got["bids"][1][:3], book.bids(3))
    assert np.isnan(got["bids"][1][3:]).all() and np.isnan(got["asks"][1]).all()
    assert got["update_id"].tolist() == [42, -1]
    # the read form writes back as it is (a copy of a range into another series)
    store.write("book_snapshots", got, symbol="COPY")
    store.write("book_snapshots", got[["ts", "bids", "asks", "n_bids", "n_asks"]], exchange="x", symbol="COPY")
    store.flush()
    copy = store.read("book_snapshots", "x", "COPY")
    assert np.array_equal(copy["bids"], got["bids"], equal_nan=True)


def test_deltas_levels_and_alerts(store):
    store.write("book_deltas", [{"exchange": "okx", "symbol": "BTC/USDT", "ts_ms": 1, "side": "bid", "price": 10.0,
                                 "size_before": 0.0, "size_after": 2.0},
                                {"exchange": "okx", "symbol": "BTC/USDT", "ts_ms": 1, "side": "ask", "price": 11.0,
                                 "size_before": 1.0, "size_after": 0.0}])
    levels = [LiquidationLevel(EX, SYM, 58_000.0, 100.0, "long", 2.0, 116_000.0, 10.0, "open"),
              LiquidationLevel(EX, SYM, 62_000.0, 100.0, "short", 1.0, 62_000.0, None, "exchange")]
    store.write("liquidation_levels", levels, ts=T0)
    alert = {"id": "a-1", "ts": T0, "exchange": EX, "symbol": SYM, "type": "SPREAD_WIDENING", "severity": "HIGH",
             "current": 4.0, "baseline": 1.0, "deviation_pct": 300.0, "message": "spread 4.0 bps vs 1.0",
             "suggested_action": "widen quotes", "requires_action": True,
             "baseline_values": {"median": 1.0, "mad": 0.05}}
    store.write("alerts", alert)
    store.flush()
    d = store.read("book_deltas", "okx", "BTC/USDT")
    assert d["side"].tolist() == [1, -1] and d["size_after"].tolist() == [2.0, 0.0]  # write order at equal ts
    lv = store.read("liquidation_levels", EX, SYM)
    assert lv["source"].tolist() == ["open", "exchange"] and np.isnan(lv["leverage"][1])
    assert lv["side"].tolist() == [1, -1] and (lv["ts"] == T0).all()
    a = store.read("alerts", EX, SYM)
    assert a["ended_ts"].tolist() == [-1] and a["requires_action"].tolist() == [1]
    assert a["baseline_values"][0] == '{"median": 1.0, "mad": 0.05}'
    # the episode ends: the same id written again replaces the row
    store.write("alerts", alert | {"ended_ts": T0 + 5_000_000_000, "message": None})
    store.flush()
    a = store.read("alerts", EX, SYM)
    assert len(a) == 1 and a["ended_ts"][0] == T0 + 5_000_000_000 and a["message"][0] is None


def test_ranges_are_half_open_and_series_are_separate(store):
    marks = [MarkPrice(EX, SYM, 1_000 + i, float(i)) for i in range(10)]
    store.write("mark_prices", marks)
    store.write("mark_prices", [MarkPrice(EX, "ETH/USDT:USDT", 1_003, 9.0), MarkPrice("okx", SYM, 1_003, 9.0)])
    store.flush()
    ms = 1_000_000
    got = store.read("mark_prices", EX, SYM, 1_002 * ms, 1_005 * ms)
    assert got["ts_ms"].tolist() == [1_002, 1_003, 1_004]
    assert len(store.read("mark_prices", EX, SYM, 1_002 * ms, 1_002 * ms)) == 0
    assert len(store.read("mark_prices", EX, SYM, end=1_000 * ms)) == 0
    assert len(store.read("mark_prices", EX, SYM, start=1_009 * ms)) == 1
    start = dt.datetime.fromtimestamp(1.002, dt.timezone.utc)
    assert len(store.read("mark_prices", EX, SYM, start, np.datetime64(1_005, "ms"))) == 3
    assert store.series("mark_prices") == [(EX, SYM, 10, 1_000 * ms, 1_009 * ms),
                                           (EX, "ETH/USDT:USDT", 1, 1_003 * ms, 1_003 * ms),
                                           ("okx", SYM, 1, 1_003 * ms, 1_003 * ms)]
    assert store.read("mark_prices", "nope", SYM).dtype == MarkPrice.DTYPE  # empty, typed


def test_columns_subset_and_pandas(store):
    store.write("liquidity_reports", [a_book().liquidity_report()] * 3, ts=T0)
    store.flush()
    got = store.read("liquidity_reports", "binance", "BTC/USDT", columns=["spread_bps", "wall_list"])
    assert got.dtype.names == ("exchange", "symbol", "ts", "spread_bps", "walls", "wall_list")
    full = store.read("liquidity_reports", "binance", "BTC/USDT")
    for name in got.dtype.names:  # a subset reads the same values (PostgreSQL reads only those columns)
        assert got[name].tobytes() == full[name].tobytes(), name
    assert store.read("liquidity_reports", "binance", "BTC/USDT", columns=[]).dtype.names == ("exchange", "symbol", "ts")
    pd = pytest.importorskip("pandas")
    df = store.read("mark_prices", EX, SYM, frame=True)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(MarkPrice.DTYPE.names)
    df = store.read("liquidity_reports", "binance", "BTC/USDT", frame=True)
    assert df["exchange"].tolist() == ["binance"] * 3 and len(df["wall_list"][0]) == 16


def test_export_parquet(store, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    book = a_book()
    store.write("book_snapshots", [{"ts": T0, "bids": book.bids(3), "asks": book.asks(2)}], exchange="binance",
                symbol="BTC/USDT")
    store.write("liquidity_reports", book.liquidity_report(), ts=T0)
    store.flush()
    assert store.export_parquet("book_snapshots", "binance", "BTC/USDT", None, None, tmp_path / "s.parquet") == 1
    rows = pq.read_table(tmp_path / "s.parquet").to_pylist()
    assert rows[0]["bids"] == book.bids(3).tolist() and rows[0]["asks"] == book.asks(2).tolist()
    assert rows[0]["ts"].value == T0 and rows[0]["exchange"] == "binance"
    assert store.export_parquet("liquidity_reports", "binance", "BTC/USDT", T0, T0 + 1, tmp_path / "r.parquet") == 1
    t = pq.read_table(tmp_path / "r.parquet")
    assert len(t.column("wall_list")[0]) == len(book.liquidity_report().walls)


# -- the buffer ----------------------------------------------------------------------------------

def test_full_buffer_drops_and_counts(target, caplog):
    """A write that does not fit is dropped whole, counted, logged, and never blocks."""
    with open_store(target.url(), buffer_rows=10, flush_interval_s=60) as s:
        recs = [MarkPrice(EX, SYM, i, 1.0) for i in range(8)]
        assert s.write("mark_prices", recs) == 8
        assert s.write("mark_prices", recs[:3]) == 0  # 8 + 3 > 10
        assert s.write("mark_prices", recs[:2]) == 2
        st = s.stats()
        assert (st.dropped, st.pending, st.written) == (3, 10, 0)
        assert "buffer full" in caplog.text
        s.flush()
        st = s.stats()
        assert (st.written, st.pending, st.batches, st.dropped) == (10, 0, 1, 3)
        assert len(s.read("mark_prices", EX, SYM)) == 10


def test_batches_commit_without_flush(target):
    """The writer commits on its own: as soon as batch_rows rows wait (prefixes of the buffer of at
    most batch_rows rows), and flush_interval_s after the oldest row came in."""
    with open_store(target.url(), batch_rows=100, flush_interval_s=3600) as s:
        for k in range(10):
            s.write("mark_prices", [MarkPrice(EX, SYM, k * 25 + i, 1.0) for i in range(25)])
        _wait(lambda: s.stats().written >= 200)
        st = s.stats()
        assert (st.written, st.batches, st.pending) == (200, 2, 50)  # the last 50 wait for the interval
    with open_store(target.url("t"), flush_interval_s=0.05) as s:
        s.write("mark_prices", MarkPrice(EX, SYM, 1, 1.0))
        _wait(lambda: s.stats().written == 1)


def _wait(cond, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_close_flushes_and_then_refuses(target):
    s = open_store(target.url(), flush_interval_s=60)
    s.write("mark_prices", MarkPrice(EX, SYM, 1, 1.0))
    s.close()
    s.close()  # idempotent
    with pytest.raises(StoreClosedError):
        s.write("mark_prices", MarkPrice(EX, SYM, 2, 1.0))
    with pytest.raises(StoreClosedError):
        s.read("mark_prices", EX, SYM)
    with open_store(target.url()) as again:
        assert len(again.read("mark_prices", EX, SYM)) == 1


def test_two_stores_on_one_file(target):
    """Two writers (here two stores of one process, as two processes would) share the seq counter
    (SQLite: under the write lock; PostgreSQL: its sequence): no collision, no lost row."""
    url = target.url()
    a, b = open_store(url), open_store(f"sqlite:///{url}" if target.kind == "sqlite" else url)
    for i in range(50):
        a.write("mark_prices", MarkPrice(EX, SYM, 1_000, float(i)))
        b.write("mark_prices", MarkPrice(EX, SYM, 1_000, float(100 + i)))
    a.flush()
    b.flush()
    got = a.read("mark_prices", EX, SYM)
    assert sorted(got["mark_price"].tolist()) == [float(i) for i in range(50)] + [float(100 + i) for i in range(50)]
    a.close()
    b.close()


def test_threads_write_and_read_at_once(target):
    """Four threads write while another reads: every row lands once, each thread's rows in its
    write order, and every read sees a time-ordered prefix of committed rows."""
    import threading

    with open_store(target.url(), batch_rows=500, flush_interval_s=0.001) as s:
        def writer(k):
            for i in range(40):
                s.write("mark_prices", [MarkPrice(EX, f"S{k}", i * 10 + j, float(i * 10 + j)) for j in range(10)])

        seen, failures = [], []

        def reader():
            try:
                for _ in range(30):
                    got = s.read("mark_prices", EX, "S0")
                    assert np.array_equal(got["ts"], np.arange(len(got)) * 1_000_000), got["ts"]
                    seen.append(len(got))
            except Exception as e:  # noqa: BLE001 - reported by the test thread below
                failures.append(e)

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)] + [threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s.flush()
        assert not failures, failures
        for k in range(4):
            assert s.read("mark_prices", EX, f"S{k}")["mark_price"].tolist() == [float(i) for i in range(400)]
        assert s.stats().written == 1_600 and s.stats().dropped == 0 and seen == sorted(seen)


# -- opening, schema -----------------------------------------------------------------------------

def test_urls_and_default_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///rel/a.db") as s:
        assert s.url == "sqlite:///rel/a.db"
    assert (tmp_path / "rel" / "a.db").exists()
    with open_store(f"sqlite:///{tmp_path}/abs.db"):
        pass
    assert (tmp_path / "abs.db").exists()
    monkeypatch.setenv("LIQCORE_DATA_DIR", str(tmp_path / "data"))
    assert default_data_dir() == str(tmp_path / "data")
    with open_store() as s:
        assert s.url == f"sqlite:///{default_path()}"
    assert (tmp_path / "data" / "liqcore.db").exists()
    monkeypatch.delenv("LIQCORE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_data_dir() == str(tmp_path / "xdg" / "liqcore")
        monkeypatch.delenv("XDG_DATA_HOME")
        assert default_data_dir() == os.path.expanduser("~/.local/share/liqcore")


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://", "sqlite:///:memory:", ":memory:",
                                 "sqlite:///file:x?mode=memory", 42])
def test_unsupported_urls(url):
    with pytest.raises(StoreInputError):
        open_store(url)


def _snapshot(target):
    """What must not change when a store refuses to open: the file's bytes, or the database's
    schema_version rows and tables."""
    if target.kind == "sqlite":
        with open(target.url(), "rb") as f:
            return f.read()
    return (target.execute("SELECT * FROM schema_version ORDER BY version"),
            target.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1"))


def test_a_schema_from_the_future_is_refused(target):
    with open_store(target.url()):
        pass
    target.execute(f"INSERT INTO schema_version VALUES ({SCHEMA_VERSION + 1}, 0, 'from the future')")
    before = _snapshot(target)
    with pytest.raises(StoreSchemaError, match="newer liqcore") as e:
        open_store(target.url())
    assert isinstance(e.value, LiqError) and isinstance(e.value, RuntimeError)
    assert _snapshot(target) == before


def test_not_a_store_is_refused(target, tmp_path):
    if target.kind == "sqlite":
        (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
        with pytest.raises(StoreSchemaError, match="not a liqcore store"):
            open_store(tmp_path / "junk.db")
        target.execute("CREATE TABLE t (x)", "other")
    else:
        # a shared database may hold other applications' tables, but not one named as the store's
        target.execute("CREATE TABLE unrelated (x int)", "other")
        with open_store(target.url("other")):
            pass
        target.execute("CREATE TABLE mark_prices (x int)", "third")
    with pytest.raises(StoreSchemaError, match="not a liqcore store"):
        open_store(target.url("other" if target.kind == "sqlite" else "third"))


def test_migrations_upgrade_in_place_in_one_transaction(target, monkeypatch):
    """A store at today's version V, with data, opened by a liqcore with a migration V + 1: upgraded
    in place, data kept; a migration that fails half-way leaves the store exactly at V (one
    transaction)."""
    v = SCHEMA_VERSION
    with open_store(target.url()) as s:
        s.write("mark_prices", MarkPrice(EX, SYM, 1, 2.0))
    module = sqlite_backend if target.kind == "sqlite" else postgres_backend
    psycopg = pytest.importorskip("psycopg") if target.kind == "postgresql" else None

    def broken(conn, *layout):
        conn.execute("CREATE TABLE extra (x INTEGER)")
        if target.kind == "sqlite":
            raise sqlite3.OperationalError("disk I/O error (simulated by a failing migration)")
        raise psycopg.OperationalError("disk I/O error (simulated by a failing migration)")

    monkeypatch.setattr(module, "MIGRATIONS", module.MIGRATIONS + [(v + 1, "broken", broken)])
    monkeypatch.setattr(module, "SCHEMA_VERSION", v + 1)
    with pytest.raises(LiqError):
        open_store(target.url())
    assert target.execute("SELECT max(version) FROM schema_version") == [(v,)]
    catalog = "sqlite_master WHERE name" if target.kind == "sqlite" else "pg_class WHERE relname"
    assert target.execute(f"SELECT count(*) FROM {catalog} = 'extra'") == [(0,)]

    def add_table(conn, *layout):
        conn.execute("CREATE TABLE extra (x INTEGER)")

    monkeypatch.setattr(module, "MIGRATIONS", module.MIGRATIONS[:v] + [(v + 1, "extra", add_table)])
    with open_store(target.url()) as s:
        assert s.read("mark_prices", EX, SYM)["mark_price"].tolist() == [2.0]
    assert target.execute("SELECT version FROM schema_version ORDER BY version") == [(k,) for k in range(1, v + 2)]


def test_report_table_covers_every_report_field():
    """A new field of LiquidityReport.DTYPE fails here until the table (and a migration) has it."""
    cols = {c.name for c in TABLES["liquidity_reports"].columns}
    assert set(LiquidityReport.DTYPE.names) <= cols
    assert REPORT_FIELDS == tuple(n for n in LiquidityReport.DTYPE.names if LiquidityReport.DTYPE[n] == np.float64)


@pytest.mark.parametrize("table,cls", [("liquidations", Liquidation), ("mark_prices", MarkPrice),
                                       ("funding_rates", FundingRate), ("open_interest", OpenInterest)])
def test_record_tables_have_the_record_columns(table, cls):
    assert TABLES[table].names == cls.DTYPE.names


def test_delta_table_matches_the_delta_record():
    """liqcore.feed.records.OrderBookDelta (being merged): exchange, symbol, ts, ts_ms, side +1 bid /
    -1 ask, price, size_before, size_after, recv_ns."""
    assert TABLES["book_deltas"].names == ("exchange", "symbol", "ts", "ts_ms", "side", "price", "size_before",
                                           "size_after", "recv_ns")


# -- bad input -----------------------------------------------------------------------------------

GOOD = {"exchange": EX, "symbol": SYM, "ts": 1, "mark_price": 1.0}


@pytest.mark.parametrize("table,rows,kw,match", [
    ("nope", [GOOD], {}, "unknown table"),
    (None, [GOOD], {}, "unknown table"),
    ("mark_prices", [{"exchange": EX, "symbol": SYM, "ts": 1}], {}, "missing column 'mark_price'"),
    ("mark_prices", [{"exchange": EX, "ts": 1, "mark_price": 1.0}], {}, r"rows\[0\].symbol"),
    ("mark_prices", [{"exchange": EX, "symbol": SYM, "mark_price": 1.0}], {}, "no ts"),
    ("mark_prices", [GOOD, GOOD | {"ts": 1.5}], {}, r"rows\[1\].ts: expected an int"),
    ("mark_prices", [GOOD, GOOD | {"mark_price": "abc"}], {}, r"rows\[1\].mark_price"),
    ("mark_prices", [GOOD | {"symbol": "X" * 41}], {}, "longer than 40 bytes"),
    ("mark_prices", [GOOD | {"exchange": "bînance"}], {}, "not ASCII"),
    ("liquidations", [GOOD | {"side": "up", "price": 1.0, "size": 1.0}], {}, "unknown side"),
    ("liquidations", [GOOD | {"side": 2, "price": 1.0, "size": 1.0}], {}, "expected \\+1"),
    ("book_snapshots", [{"exchange": EX, "symbol": SYM, "ts": 1, "bids": [[1.0]], "asks": []}], {}, "bids"),
    ("alerts", [{"exchange": EX, "symbol": SYM, "ts": 1, "id": "x\x1fy", "type": "T", "severity": "LOW",
                 "current": 1.0, "baseline": 1.0, "deviation_pct": 0.0}], {}, "control characters"),
    ("mark_prices", [GOOD | {"symbol": "BTC\x00/USDT"}], {}, "NUL"),
    ("alerts", [{"exchange": EX, "symbol": SYM, "ts": 1, "id": "x", "type": "T", "severity": "LOW",
                 "current": 1.0, "baseline": 1.0, "deviation_pct": 0.0, "message": "a\x00b"}], {}, "control characters"),
    ("alerts", [{"exchange": EX, "symbol": SYM, "ts": 1, "id": "x", "type": "T", "severity": "LOW",
                 "current": 1.0, "baseline": 1.0, "deviation_pct": 0.0, "message": "a\ud800"}], {}, "lone surrogate"),
    ("mark_prices", ["not a row"], {}, "expected a record"),
    ("mark_prices", np.zeros(3, [("ts", "<i8")]), {"exchange": EX, "symbol": SYM}, "missing column 'mark_price'"),
    ("mark_prices", np.zeros(3), {}, "must be structured"),
    ("mark_prices", np.zeros(3, [("ts", "<f8"), ("mark_price", "<f8")]), {"exchange": EX, "symbol": SYM},
     "expected integers"),
])
def test_bad_rows_raise_and_buffer_nothing(store, table, rows, kw, match):
    with pytest.raises(StoreInputError, match=match) as e:
        store.write(table, rows, **kw)
    assert isinstance(e.value, ValueError) and isinstance(e.value, LiqError)
    assert store.stats().pending == 0 and store.stats().dropped == 0
    store.flush()
    assert len(store.read("mark_prices", EX, SYM)) == 0


@pytest.mark.parametrize("args,kw,match", [
    (("mark_prices", EX, SYM, 10, 5), {}, "before start"),
    (("nope", EX, SYM), {}, "unknown table"),
    (("mark_prices", "", SYM), {}, "exchange"),
    (("mark_prices", EX, SYM, dt.datetime(2024, 1, 1)), {}, "naive"),
    (("mark_prices", EX, SYM, "yesterday"), {}, "start"),
    (("mark_prices", EX, SYM, None, 2**63), {}, "outside the int64"),
    (("mark_prices", EX, SYM, -(2**63) - 1), {}, "outside the int64"),
    (("mark_prices", EX, SYM, dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)), {}, "outside the int64"),
    (("mark_prices", EX, SYM), {"columns": ["nope"]}, "not columns"),
    (("mark_prices", EX, SYM), {"columns": "mark_price"}, "a list"),
])
def test_bad_reads(store, args, kw, match):
    with pytest.raises(StoreInputError, match=match):
        store.read(*args, **kw)


@pytest.mark.parametrize("kw", [{"buffer_rows": 0}, {"batch_rows": 1.5}, {"flush_interval_s": -1},
                                {"synchronous": "off"}, {"max_bytes": 0}])
def test_bad_options(target, kw):
    with pytest.raises(StoreInputError):
        open_store(target.url(), **kw)
