"""A private test server started once per test process, on first use (``store_servers.py``:
PostgreSQL, ``redis_server.py``: Redis): the client package and the server binary are looked for,
the server started and stopped at exit; when any of it is missing the test skips with the reason,
or fails when the CI variable that requires the server is set."""

from __future__ import annotations

import atexit
import importlib
import os
import threading
from typing import Any, Callable, Generic, TypeVar

import pytest

S = TypeVar("S")


class ServerOnce(Generic[S]):
    """``get()`` returns the one server (``make(found)``, where ``found = find()`` is its binary or
    directory), or skips / fails (``require_env`` = "1") with why it is not there."""

    def __init__(self, *, what: str, package: str, install: str, find: Callable[[], Any], missing: str,
                 make: Callable[[Any], S], require_env: str) -> None:
        self.what, self.package, self.install, self.find, self.missing = what, package, install, find, missing
        self.make, self.require_env = make, require_env
        self.server: S | None = None
        self.failed: str | None = None
        self._lock = threading.Lock()

    def get(self) -> S:
        with self._lock:
            if self.server is None and self.failed is None:
                self.failed = self._start()
        if self.server is None:
            if os.environ.get(self.require_env) == "1":
                pytest.fail(f"{self.require_env}=1 but {self.failed}")
            pytest.skip(str(self.failed))
        return self.server

    def _start(self) -> str | None:
        try:
            importlib.import_module(self.package)
        except ImportError:
            return f"{self.package} is not installed ({self.install})"
        found = self.find()
        if found is None:
            return self.missing
        try:
            self.server = self.make(found)
        except Exception as e:  # noqa: BLE001 - reported as the skip reason
            return f"cannot start {self.what}: {e}"
        atexit.register(self.server.close)  # type: ignore[attr-defined]
        return None
