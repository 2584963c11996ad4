"""What ``LiveFeed`` and ``MarketData`` share: the exchanges they own, their background tasks, and
their life cycle (start once, close once, ``async with``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from liqcore.feed.retry import Backoff

__all__ = ["stop_tasks", "close_exchanges", "ExchangeSession"]

_S = TypeVar("_S", bound="ExchangeSession")


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


class ExchangeSession:
    """Base of the feeds that own ccxt exchanges and tasks: ``start`` runs :meth:`_open` once (a
    failure closes what was opened and re-raises); ``close`` stops the tasks, then
    :meth:`_tasks_stopped`, closes the exchanges, then :meth:`_closed`; both are idempotent.

    Parameters
    ----------
    exchanges : ccxt instances to use (owned by the session from then on: closed with it).
    config : per exchange id, the ccxt config of the instances the session creates.
    backoff : (initial, maximum) seconds between retries of a failing watch (checked here).
    poll_interval : seconds between REST polls of what has no websocket (a number, or per kind).
    """

    def __init__(self, exchanges: Mapping[str, Any] | None, config: Mapping[str, dict] | None,
                 backoff: tuple[float, float], poll_interval: Any) -> None:
        Backoff(*backoff)    # a bad pair is refused before anything starts
        self.backoff = backoff
        self.poll_interval = poll_interval
        self._exchanges: dict[str, Any] = dict(exchanges or {})
        self._config = {k: dict(v) for k, v in (config or {}).items()}
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._closing = False

    async def _open(self) -> None:
        """Create and prepare the exchanges and start the tasks (subclasses)."""
        raise NotImplementedError

    def _tasks_stopped(self) -> None:
        """Called by :meth:`close` once the tasks are stopped, before the exchanges close."""

    def _closed(self) -> None:
        """Called by :meth:`close` last (wake the consumers)."""

    async def start(self: _S) -> _S:
        """Create/prepare the exchanges, load markets, start the tasks (once)."""
        if self._started:
            return self
        self._started = True
        try:
            await self._open()
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Stop the tasks, close every exchange. Idempotent."""
        if self._closing:
            return
        self._closing = True
        await stop_tasks(self._tasks)
        self._tasks_stopped()
        await close_exchanges(self._exchanges.values())
        self._closed()

    async def __aenter__(self: _S) -> _S:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def exchange(self, exchange: str) -> Any:
        """The ccxt exchange instance serving ``exchange``."""
        return self._exchanges[exchange]

    def _own_cancel(self) -> bool:
        """True when the current task is being cancelled by its owner (the session closing, or a
        ``cancel()`` of the task), not by ccxt dropping a connection."""
        task = asyncio.current_task()
        return self._closing or bool(task is not None and getattr(task, "cancelling", lambda: 0)())
