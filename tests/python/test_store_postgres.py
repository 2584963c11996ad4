"""What only the PostgreSQL backend has, on a private real server (``store_servers.py``, no mocks):
a server restarted under a writer, an unreachable URL, the partitioning mode and its capability
check, real SQL columns. Everything else runs on both backends in ``test_store.py`` and
``test_store_durability.py``."""

from __future__ import annotations

import logging
import socket
import threading
import time

import numpy as np
import pytest

from liqcore import OrderBook
from liqcore.errors import LiqError
from liqcore.store import Store, StoreIOError, open_store
from liqcore.store.postgres import PostgresBackend, redact
from store_servers import pg  # noqa: F401 - the fixture: a database on the private server

EX, SYM = "binanceusdm", "BTC/USDT:USDT"
T0 = 1_722_000_000_000_000_000
DAY = 86_400 * 10**9


def _rows(lo: int, hi: int) -> list[dict]:
    return [{"exchange": EX, "symbol": SYM, "ts": i, "mark_price": float(i)} for i in range(lo, hi)]


def _flush_until_done(s: Store, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            s.flush(timeout_s=timeout_s)
            return
        except StoreIOError:  # a retry that ran before the server was back
            assert time.monotonic() < deadline, s.stats()
            time.sleep(0.05)


def test_a_restarted_server_reconnects_with_backoff_and_loses_no_row(pg):
    """The issue's case: the server goes away under a writer (stopped, every connection dropped)
    and comes back. The rows written meanwhile stay buffered, the writer retries on fresh
    connections with growing waits (not a busy loop), and once the server is back every row is
    committed exactly once; reads reconnect too."""
    s = open_store(pg.url(), flush_interval_s=0.01)
    try:
        s.write("mark_prices", _rows(0, 100))
        s.flush()
        pg.server.stop()
        try:
            assert s.write("mark_prices", _rows(100, 250)) == 150  # never blocks, server or not
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.5:
                time.sleep(0.05)
            st = s.stats()
            assert st.pending == 150 and st.written == 100 and st.dropped == 0, st
            # 50 ms doubling: about 5 attempts in 1.5 s; a busy loop would make hundreds
            assert 2 <= st.errors <= 8, st
            assert "cannot" in st.last_error and "\n" not in st.last_error
        finally:
            pg.server.start()
        s.write("mark_prices", _rows(250, 300))
        _flush_until_done(s)
        got = s.read("mark_prices", EX, SYM)  # the read connection was dropped too: reconnected
        assert got["ts"].tolist() == list(range(300))
        st = s.stats()
        assert st.written == 300 and st.pending == 0 and st.dropped == 0 and st.last_error is None, st
        # a restart while idle: the next write and read just work
        pg.server.restart()
        s.write("mark_prices", _rows(300, 310))
        _flush_until_done(s)
        assert len(s.read("mark_prices", EX, SYM)) == 310
    finally:
        s.close()


class _AckEater:
    """A TCP proxy to the server that, once armed, forwards a client's COMMIT and then closes
    that connection before the server's answer reaches the client: the commit is done, its
    acknowledgement lost (what a dropped network does at the worst moment)."""

    def __init__(self, port: int) -> None:
        self.port, self.armed, self.eaten = port, False, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url_port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.port))
            state = {"eat": False}
            threading.Thread(target=self._pump, args=(client, server, state, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, state, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, state: dict, to_server: bool) -> None:
        try:
            while data := src.recv(65536):
                if to_server and self.armed and b"COMMIT\x00" in data:
                    self.armed, state["eat"] = False, True   # before the server can answer
                elif not to_server and state["eat"]:
                    self.eaten += 1
                    break                                     # the answer is dropped with the line
                dst.sendall(data)
        except OSError:
            pass
        for sk in (src, dst):
            try:
                sk.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sk.close()

    def close(self) -> None:
        self.sock.close()


def test_a_lost_commit_acknowledgement_writes_the_rows_once(pg):
    """The connection drops after the server committed a batch and before the writer heard so:
    the writer retries the same batch under the same token on a fresh connection, finds it
    committed and writes nothing twice (without the token: every row twice)."""
    proxy = _AckEater(pg.server.port)
    s = open_store(pg.url().replace(f":{pg.server.port}/", f":{proxy.url_port}/"), flush_interval_s=0.01)
    try:
        s.write("mark_prices", _rows(0, 10))  # the schema and the day's partition exist after this
        s.flush()
        proxy.armed = True
        s.write("mark_prices", _rows(10, 110))
        _flush_until_done(s)
        assert proxy.eaten == 1
        st = s.stats()
        assert st.errors >= 1 and st.written == 110 and st.pending == 0 and st.dropped == 0, st
        assert s.read("mark_prices", EX, SYM)["ts"].tolist() == list(range(110))
        assert pg.execute("SELECT count(*) FROM store_commits")[0][0] == 2
    finally:
        s.close()
        proxy.close()


def test_schema_version_1_is_upgraded_in_place(pg):
    """A store of schema version 1 (before the commit tokens) opens at version 2, rows intact."""
    with open_store(pg.url()) as s:
        s.write("mark_prices", _rows(0, 5))
    pg.execute("DROP TABLE store_commits")
    pg.execute("DELETE FROM schema_version WHERE version = 2")
    with open_store(pg.url()) as s:
        assert len(s.read("mark_prices", EX, SYM)) == 5
        s.write("mark_prices", _rows(5, 7))
    assert pg.execute("SELECT max(version) FROM schema_version")[0][0] == 2
    assert pg.execute("SELECT count(*) FROM store_commits")[0][0] == 1


def test_an_unreachable_url_is_one_clear_line():
    """No server on the port: StoreIOError (also OSError and LiqError) in one line naming the URL
    without its password; the same for a database that does not exist."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreIOError, match="cannot connect") as e:
        open_store(f"postgresql://me:s3cret@127.0.0.1:{port}/nope", timeout_s=2)
    msg = str(e.value)
    assert isinstance(e.value, OSError) and isinstance(e.value, LiqError)
    assert "\n" not in msg and "s3cret" not in msg and f"postgresql://me:***@127.0.0.1:{port}/nope" in msg


def test_a_missing_database_is_one_clear_line(pg):
    with pytest.raises(StoreIOError, match='database "no_such_db" does not exist') as e:
        open_store(pg.server.url("no_such_db"))
    assert "\n" not in str(e.value)


def test_redact():
    assert redact("postgresql://u:p@h:5/d?sslmode=require") == "postgresql://u:***@h:5/d?sslmode=require"
    assert redact("postgresql://h/d?password=x&user=u") == "postgresql://h/d?password=***&user=u"
    assert redact("postgres://h/d") == "postgres://h/d"


def _timescale(pg) -> bool:
    return bool(pg.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")[0][0])


def test_partitioned_mode_is_logged_and_follows_time(pg, caplog):
    """Without TimescaleDB (or with timescale=False) the capability check falls back to declarative
    range partitioning, says so in the log, and records it; partitions are made on demand, one per
    day of ts, for any ts an int64 holds; alerts stay one plain table (a unique id); a one-day read
    touches only the partitions of its range, through their time index."""
    caplog.set_level(logging.INFO, "liqcore.store")
    ts = [-DAY - 1, 0, 5, T0, T0 + DAY, 2**63 - 2]  # the last: read(end=None) is < 2**63 - 1
    with Store(PostgresBackend(pg.url(), timescale=False), flush_interval_s=0.01) as s:
        s.write("mark_prices", [{"exchange": EX, "symbol": SYM, "ts": t, "mark_price": float(i)} for i, t in enumerate(ts)])
        s.write("alerts", {"id": "a", "ts": T0, "exchange": EX, "symbol": SYM, "type": "DEPTH_DROP", "severity": "LOW",
                           "current": 1.0, "baseline": 2.0, "deviation_pct": -50.0})
        s.flush()
        assert s.read("mark_prices", EX, SYM)["ts"].tolist() == ts
        assert s.read("mark_prices", EX, SYM, T0, T0 + DAY)["ts"].tolist() == [T0]
    assert "partitioned mode (TimescaleDB not available)" in caplog.text
    assert pg.execute("SELECT value FROM store_meta WHERE key = 'mode'") == [("partitioned",)]
    parts = pg.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p "
                       "ON p.oid = i.inhparent WHERE p.relname = 'mark_prices' AND c.relkind = 'r' ORDER BY 1")
    assert len(parts) == 5  # -DAY-1, {0, 5}, T0, T0 + DAY, the last day of int64
    kinds = dict(pg.execute("SELECT relname, relkind::text FROM pg_class WHERE relname IN ('mark_prices', 'alerts', "
                            "'liquidity_reports')"))
    assert kinds == {"mark_prices": "p", "liquidity_reports": "p", "alerts": "r"}
    plan = "\n".join(r[0] for r in pg.execute(
        f"EXPLAIN SELECT * FROM mark_prices WHERE exchange = '{EX}' AND symbol = '{SYM}' AND ts >= {T0} "
        f"AND ts < {T0 + DAY} ORDER BY ts, seq"))
    # T0 is not at midnight: the day spans two partitions, the other three are pruned
    assert plan.count("Index Scan using") == 2 and plan.count(" on mark_prices_p") == 2, plan


def test_capability_check(pg, caplog):
    """open_store asks for TimescaleDB; where the extension is not installed (as here, most likely)
    the check falls back without failing the migration, and where it is, the tables are
    hypertables. Either way the log and store_meta name the mode."""
    caplog.set_level(logging.INFO, "liqcore.store")
    with open_store(pg.url()) as s:
        s.write("mark_prices", _rows(0, 3))
        s.flush()
        assert len(s.read("mark_prices", EX, SYM)) == 3
    mode = pg.execute("SELECT value FROM store_meta WHERE key = 'mode'")[0][0]
    if _timescale(pg):  # pragma: no cover - no TimescaleDB on the development machine
        assert mode == "timescaledb" and "TimescaleDB mode" in caplog.text
        assert pg.execute("SELECT count(*) FROM timescaledb_information.hypertables")[0][0] == 8
    else:
        assert mode == "partitioned" and "partitioned mode (TimescaleDB not available)" in caplog.text


def test_numbers_are_real_sql_columns(pg):
    """Every number is a typed column SQL can use: a report's spread, a snapshot's best bid as
    bids[1][1], a wall's price; the values are the ones read() returns."""
    book = OrderBook(tick_size="0.1", lot_size="0.001", exchange="binance", symbol="BTC/USDT")
    book.apply_snapshot([[f"{60000 - i * 0.1:.1f}", "9" if i % 7 == 0 else "0.5"] for i in range(50)],
                        [[f"{60000.1 + i * 0.1:.1f}", "8" if i % 5 == 0 else "0.5"] for i in range(50)])
    with open_store(pg.url()) as s:
        s.write("liquidity_reports", [book.liquidity_report()] * 3, ts=T0)
        s.write("book_snapshots", {"ts": T0, "bids": book.bids(5), "asks": book.asks(5)}, exchange="binance",
                symbol="BTC/USDT")
        s.flush()
        rep = s.read("liquidity_reports", "binance", "BTC/USDT")
        snap = s.read("book_snapshots", "binance", "BTC/USDT")
    (spread, wall_price, n_walls, dims), = pg.execute(
        "SELECT avg(spread_bps), max(wall_list[1][2]), max(walls), max(array_dims(wall_list)) FROM liquidity_reports")
    assert spread == pytest.approx(rep["spread_bps"].mean()) and wall_price == rep["wall_list"][0][0]["price"]
    assert n_walls == rep["walls"][0] and dims == f"[1:{rep['walls'][0]}][1:9]"
    assert pg.execute("SELECT bids[1][1], asks[5][2] FROM book_snapshots") == [(snap["bids"][0][0][0],
                                                                               snap["asks"][0][4][1])]
    types = dict(pg.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = "
                            "'liquidity_reports'"))
    assert types["spread_bps"] == "double precision" and types["levels"] == "bigint" and types["bids" if False else
                                                                                                "wall_list"] == "ARRAY"
    assert np.isinf(rep["wall_list"][0][0]["z"])  # inf survives the binary path both ways
