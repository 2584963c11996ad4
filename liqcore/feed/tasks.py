"""Shutting down a feed's background work: shared by ``LiveFeed`` and ``MarketData``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["stop_tasks", "close_exchanges"]


async def stop_tasks(tasks: Iterable[asyncio.Task]) -> None:
    """Cancel every task, then wait for each to finish; their errors are not re-raised
    (a stopping feed has nobody left to report them to)."""
    tasks = list(tasks)
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t


async def close_exchanges(exchanges: Iterable[Any]) -> None:
    """Close every ccxt exchange (its sockets and HTTP session); a failing close does not
    stop the others."""
    for ex in exchanges:
        with contextlib.suppress(Exception):
            await ex.close()
