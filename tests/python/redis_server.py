"""A real Redis for the fan-out tests (no mocks): a private ``redis-server`` started once per test
process from PATH (Debian: ``/usr/bin/redis-server``), listening on 127.0.0.1 on a free port, its
files in a temporary directory, no persistence, killed at exit. Tests can :meth:`RedisServer.kill`
and :meth:`RedisServer.start` it again on the same port (a restart), or :meth:`RedisServer.pause`
/ :meth:`RedisServer.resume` it (SIGSTOP/SIGCONT: a stalled server).

Without the binary (or the ``redis`` package) the Redis cases skip with the reason, unless
``LIQCORE_REQUIRE_REDIS=1`` (set by ``.ci/run``), which turns that into a failure.

Use the fixture: ``from redis_server import redis_url  # noqa: F401`` gives each test a fresh
URL (its own database is flushed first); ``redis_server()`` gives the server itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Iterator

import pytest

from server_once import ServerOnce


class RedisServer:
    """A private ``redis-server`` on 127.0.0.1:``port``."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="liqcore-redis-")
        with socket.socket() as s:  # a free port (released just before the server takes it)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """Start the server (on the same port as before) and wait until it answers PING."""
        # the server is not under test: no sanitizer runtime preloaded into it (tests/sanitize.sh)
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
        log = open(os.path.join(self.dir, "log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir, "--save", "",
             "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"],
            cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                with open(os.path.join(self.dir, "log"), "rb") as f:
                    raise RuntimeError(f"redis-server exited ({self.proc.returncode}): {f.read()[-500:]!r}")
            if self._ping():
                return
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING within 30 s")
            time.sleep(0.02)

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Kill the server (SIGKILL: every client connection drops, nothing is saved)."""
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.kill()
            self.proc.wait(timeout=30)

    def restart(self) -> None:
        """Kill and start again on the same port (an empty server)."""
        self.kill()
        self.start()

    def pause(self) -> None:
        """Stall the server (SIGSTOP): connections stay open, nothing is answered."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause` (SIGCONT)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


_ONCE = ServerOnce(what="redis-server", package="redis", install="pip install 'liqcore[service]'",
                   find=lambda: shutil.which("redis-server"),
                   missing="no redis-server on PATH (Debian: apt-get install redis-server)",
                   make=RedisServer, require_env="LIQCORE_REQUIRE_REDIS")


def redis_server() -> RedisServer:
    """The process's server, started on first use (and started again if a test left it killed);
    skips (or fails under LIQCORE_REQUIRE_REDIS=1) when it cannot be."""
    server = _ONCE.get()
    if server.proc is None or server.proc.poll() is not None:
        server.start()
    server.resume()
    return server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The URL of an empty database 0 on the private server."""
    import redis

    server = redis_server()
    client = redis.Redis.from_url(server.url())
    client.flushdb()
    client.close()
    yield server.url()
