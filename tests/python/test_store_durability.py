"""The store keeps what it said it committed, on real files, real servers and real processes (no
mocks):

- a writer process killed with SIGKILL at random moments loses no batch that flush() reported
  committed, and leaves a store that opens, holds a prefix of what was written (batches are all or
  nothing, in order) and, on SQLite, passes the integrity check; on both backends;
- a store left open is committed at a normal exit; on both backends;
- a read-only file or directory (SQLite) or a read-only database (PostgreSQL), and a full disk
  (SQLite's file-size cap, which fails exactly like a full device; a PostgreSQL server's disk
  cannot be filled from a test without a filesystem of its own, and a failing COPY takes the same
  path as the read-only case), raise a clear StoreIOError, count the failures, keep the buffered
  rows, keep reads working, and commit the rows once the database is writable again.

A PostgreSQL server restarted under a writer: ``test_store_postgres.py``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from liqcore.feed.records import MarkPrice
from liqcore.store import StoreIOError, open_store
from store_servers import target  # noqa: F401 - the fixtures (a SQLite file, a PostgreSQL database)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from liqcore.store import open_store
    path, synchronous = sys.argv[1], sys.argv[2]
    s = open_store(path, synchronous=synchronous, flush_interval_s=0.005, batch_rows=700)
    got = s.read("mark_prices", "x", "y", columns=[])
    i = int(got["ts"][-1]) + 1 if len(got) else 0   # go on after the rows a killed run left
    rows = np.zeros(100, [("ts", "<i8"), ("mark_price", "<f8")])
    k = 0
    while True:
        rows["ts"] = np.arange(i, i + 100)
        rows["mark_price"] = rows["ts"] * 0.5
        s.write("mark_prices", rows, exchange="x", symbol="y")
        i += 100
        k += 1
        if k % 7 == 0:
            s.flush()
            print(i, flush=True)        # every row below i is committed
""")


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_sigkill_loses_no_committed_batch(target, tmp_path, synchronous):
    path = target.url("kill")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    reported = 0
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, str(script), str(path), synchronous], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT)
        first = proc.stdout.readline()  # the writer is running and has committed at least once
        assert first, proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, err
        lines = [first] + out.splitlines()
        reported = max([reported] + [int(x) for x in lines if x.strip()])
        with open_store(path) as s:
            got = s.read("mark_prices", "x", "y")
        n = len(got)
        assert n >= reported, f"seed {seed}, kill {attempt}: {reported} rows reported committed, {n} found"
        # a prefix of what was written, nothing twice, nothing torn
        assert np.array_equal(got["ts"], np.arange(n)), f"seed {seed}, kill {attempt}"
        assert np.array_equal(got["mark_price"], np.arange(n) * 0.5)
        if target.kind == "sqlite":
            con = sqlite3.connect(path)
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            con.close()


def test_a_store_left_open_is_committed_at_exit(target, tmp_path):
    """A script that never closes its store still commits its rows when it exits normally."""
    code = ("import sys\nfrom liqcore.store import open_store\n"
            "s = open_store(sys.argv[1], flush_interval_s=3600)\n"
            "s.write('mark_prices', [{'exchange': 'x', 'symbol': 'y', 'ts': i, 'mark_price': 1.0} for i in range(5)])\n")
    # cwd: with -c the working directory is on sys.path, and the repository root would import the
    # source tree (no compiled modules) instead of the installed package
    res = subprocess.run([sys.executable, "-c", code, target.url()], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    with open_store(target.url()) as s:
        assert len(s.read("mark_prices", "x", "y")) == 5


def _read_only(target, on: bool) -> None:
    """Make a file or directory read-only (or writable again). Root ignores permission bits, so as
    root the immutable attribute does it (chattr), which binds root too."""
    if os.geteuid() != 0:
        os.chmod(target, (0o444 if os.path.isfile(target) else 0o555) if on else
                 (0o644 if os.path.isfile(target) else 0o755))
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no way to make a file read-only for root")
    res = subprocess.run(["chattr", "+i" if on else "-i", str(target)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"chattr unsupported here: {res.stderr.strip()}")


def _row(i):
    return {"exchange": "x", "symbol": "y", "ts": i, "mark_price": 1.0}


def _store_read_only(target, on: bool) -> None:
    """SQLite: the file made read-only. PostgreSQL: the database's new sessions made read-only (as
    on a hot standby, or after ALTER DATABASE ... default_transaction_read_only); the writer's
    fresh connection after each failure picks the change up."""
    if target.kind == "sqlite":
        _read_only(target.url(), on)
    else:
        db = target.url().rsplit("/", 1)[1]
        target.server.execute(f"ALTER DATABASE {db} SET default_transaction_read_only = {'on' if on else 'off'}")


def test_read_only_store_raises_keeps_the_buffer_and_recovers(target):
    with open_store(target.url()) as s:
        s.write("mark_prices", [_row(i) for i in range(10)])
    _store_read_only(target, True)
    try:
        s = open_store(target.url(), flush_interval_s=0.01)  # reads need no write access
        assert s.write("mark_prices", [_row(i) for i in range(10, 20)]) == 10
        with pytest.raises(StoreIOError, match="readonly|read-only") as e:
            s.flush(timeout_s=30)
        assert isinstance(e.value, OSError) and "10 rows kept" in str(e.value) and "\n" not in str(e.value)
        st = s.stats()
        assert st.errors >= 1 and st.pending == 10 and st.written == 0 and st.dropped == 0, st
        assert "readonly" in st.last_error or "read-only" in st.last_error
        assert len(s.read("mark_prices", "x", "y")) == 10  # reads go on
    finally:
        _store_read_only(target, False)
    # writable again: the kept rows go in with the next retry (the writer reconnects)
    deadline = time.monotonic() + 30
    while True:
        try:
            s.flush(timeout_s=30)
            break
        except StoreIOError:  # a retry that ran before the store became writable
            assert time.monotonic() < deadline
    st = s.stats()
    assert st.written == 10 and st.pending == 0 and st.last_error is None, st
    assert s.read("mark_prices", "x", "y")["ts"].tolist() == list(range(20))
    s.close()


def test_read_only_directory_is_a_clear_error(tmp_path):
    """In WAL mode SQLite needs to create its -wal/-shm files beside the database: in a read-only
    directory the store cannot open, and says so in one line."""
    d = tmp_path / "ro"
    d.mkdir()
    with open_store(d / "s.db") as s:
        s.write("mark_prices", _row(1))
    before = (d / "s.db").read_bytes()
    _read_only(d, True)
    try:
        with pytest.raises(StoreIOError, match="unable to open|readonly") as e:
            open_store(d / "s.db")
        assert isinstance(e.value, OSError) and "\n" not in str(e.value)
        with pytest.raises(StoreIOError):
            open_store(d / "new.db")
    finally:
        _read_only(d, False)
    assert (d / "s.db").read_bytes() == before


def test_full_disk_raises_keeps_the_buffer_and_counts(tmp_path):
    """max_bytes caps the file as a full device would (SQLITE_FULL): the rows stay buffered, every
    failed attempt is counted, reads go on; close() gives the rows up, counted as dropped."""
    path = tmp_path / "full.db"
    with open_store(path):
        pass
    cap = os.path.getsize(path) + 64 * 1024
    s = open_store(path, max_bytes=cap, flush_interval_s=0.01)
    recs = [MarkPrice("x", "y", i, float(i)) for i in range(20_000)]
    s.write("mark_prices", recs[:10])
    s.flush()
    s.write("mark_prices", recs[10:])
    with pytest.raises(StoreIOError, match="full") as e:
        s.flush(timeout_s=30)
    assert isinstance(e.value, OSError)
    st = s.stats()
    assert st.errors >= 1 and st.pending == len(recs) - 10 and "full" in st.last_error
    assert len(s.read("mark_prices", "x", "y")) == 10
    with pytest.raises(StoreIOError, match="not written"):
        s.close()
    st = s.stats()
    assert st.dropped == len(recs) - 10 and st.pending == 0 and st.written == 10
    with open_store(path) as again:  # nothing torn
        assert len(again.read("mark_prices", "x", "y")) == 10

