"""Real databases for the store tests (no mocks): a private PostgreSQL server started once per test
process from the installed binaries, and a ``target`` per test that is a fresh SQLite file or a
fresh PostgreSQL database (dropped afterwards).

The server: ``initdb`` + ``pg_ctl`` from PATH or ``/usr/lib/postgresql/*/bin`` (Debian), data and
socket in a temporary directory, listening on 127.0.0.1 on a free port, trust authentication for
the superuser ``liqcore`` (the server is reachable from this machine only, and lives as long as
the tests). initdb refuses to run as root, so as root the server runs as the ``postgres`` user
when there is one, else ``nobody``. Without binaries the PostgreSQL cases skip with the reason,
unless ``LIQCORE_REQUIRE_PG=1`` (set by ``.ci/run``), which turns that into a failure.

Import the fixtures into a test module: ``from store_servers import target  # noqa: F401``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from typing import Any, Iterator

import pytest

from server_once import ServerOnce

BACKENDS = ["sqlite", "postgresql"]


def _binaries() -> str | None:
    """The directory holding initdb and pg_ctl, the newest version first."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]) if
                  d.split("/")[-2].isdigit() else 0, reverse=True)
    for d in dirs:
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    return None


class PgServer:
    """A private PostgreSQL server; :meth:`url` of a database on it, :meth:`restart` it."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="liqcore-pg-")
        self.data = os.path.join(self.dir, "data")
        self.user: tuple[int, int] | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = (pw.pw_uid, pw.pw_gid)
                break
            if self.user is None:
                raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")
            os.chown(self.dir, *self.user)
        with socket.socket() as s:  # a free port (released just before the server takes it)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._run("initdb", "-D", self.data, "-U", "liqcore", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        kw: dict[str, Any] = {}
        if self.user is not None:
            kw = {"user": self.user[0], "group": self.user[1], "extra_groups": []}
        # the server is not under test: no sanitizer runtime preloaded into it (tests/sanitize.sh)
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
        res = subprocess.run([os.path.join(self.bindir, tool), *args], capture_output=True, text=True, cwd=self.dir,
                             timeout=120, env=env, **kw)
        if res.returncode != 0:
            raise RuntimeError(f"{tool} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-t", "60", "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=200", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop (fast: every client connection is dropped) and start again on the same port."""
        self.stop()
        self.start()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://liqcore@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as c:
            cur = c.execute(sql)
            return cur.fetchall() if cur.description else []

    def create_db(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {name}")
        return name

    def drop_db(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


_ONCE = ServerOnce(what="a PostgreSQL server", package="psycopg", install="pip install 'liqcore[store]'",
                   find=_binaries,
                   missing="no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin",
                   make=PgServer, require_env="LIQCORE_REQUIRE_PG")


def pg_server() -> PgServer:
    """The process's server, started on first use; skips (or fails under LIQCORE_REQUIRE_PG=1)
    when it cannot be."""
    return _ONCE.get()


class Target:
    """Where one test's stores live: ``url(name)`` is a SQLite file in the test's directory or a
    PostgreSQL database made for the test, one per name; ``kind`` is ``"sqlite"`` or
    ``"postgresql"``."""

    def __init__(self, kind: str, tmp_path: Any) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.server = pg_server() if kind == "postgresql" else None
        self._dbs: dict[str, str] = {}

    def url(self, name: str = "s") -> str:
        if self.server is None:
            return str(self.tmp_path / f"{name}.db")
        if name not in self._dbs:
            self._dbs[name] = self.server.create_db()
        return self.server.url(self._dbs[name])

    def execute(self, sql: str, name: str = "s") -> list[tuple[Any, ...]]:
        """Run SQL on the database behind ``url(name)`` directly (not through the store)."""
        if self.server is None:
            import sqlite3

            con = sqlite3.connect(self.url(name))
            try:
                rows = con.execute(sql).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        self.url(name)
        return self.server.execute(sql, self._dbs[name])

    def cleanup(self) -> None:
        if self.server is not None:
            for db in self._dbs.values():
                self.server.drop_db(db)


@pytest.fixture(params=BACKENDS)
def target(request: Any, tmp_path: Any) -> Iterator[Target]:
    """A fresh place for stores, once per backend."""
    t = Target(request.param, tmp_path)
    yield t
    t.cleanup()


@pytest.fixture
def pg(tmp_path: Any) -> Iterator[Target]:
    """A PostgreSQL target only (for the tests of what SQLite does not have)."""
    t = Target("postgresql", tmp_path)
    yield t
    t.cleanup()
