"""Fault injection: what a connection does wrong on the wire, decided deterministically.

A :class:`FaultPlan` is attached to a websocket connection (chosen by the connection's
ordinal per venue, see ``ExchangeSimulator(faults=...)``). Index faults count the data
frames of each stream of the connection from 0 (acks and pongs are not data; an OKX
snapshot is its stream's frame 0). Rate faults draw from a ``random.Random`` seeded by
(plan seed, venue, connection ordinal, stream), so a rerun injects the same faults.

Faults change only what is sent: the market's true book and ids are never touched, so
after a gap, duplicate or corrupted frame the exchange's state is still the truth and a
client that resynchronises (REST snapshot / resubscribe) must end up equal to it.

Fault kinds (the names used in :attr:`FaultCursor.log` entries):

``drop``          the frame is not sent (a sequence gap for the client)
``duplicate``     the frame is sent twice in a row
``reorder``       the frame is held and sent right after the stream's next frame
``bad_checksum``  the frame's checksum field is changed (OKX; no-op where there is none)
``malformed``     a truncated, invalid JSON text frame is sent before the frame
``disconnect``    after ``disconnect_after`` data frames the connection ends
                  (``disconnect_mode`` "close": close frame 1001; "abort": TCP dropped)
slow consumer     ``send_delay`` seconds before every frame; a bounded send queue
                  (``queue_limit``, :data:`DEFAULT_QUEUE_LIMIT` frames unless set, for
                  connections without a plan too) that overflows either ends the connection
                  with close code 1008 ("disconnect", as an exchange cuts a client that does
                  not read) or drops frames ("drop")
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Iterable

from liqcore.sim.recent import RecentList

__all__ = ["FaultPlan", "FaultCursor", "INDEX_FAULTS", "DEFAULT_QUEUE_LIMIT", "FAULT_LOG_LIMIT"]

INDEX_FAULTS = ("drop", "duplicate", "reorder", "bad_checksum", "malformed")
#: frames a connection may have waiting to be sent before its overflow policy applies: far more
#: than a client that reads ever lets pile up (the socket buffers take megabytes first), few
#: enough to bound what a client that never reads can cost (most frames are under a few KiB)
DEFAULT_QUEUE_LIMIT = 4096
#: faults a stream's :attr:`FaultCursor.log` keeps (the newest; a rate fault on a long run adds one per frame)
FAULT_LOG_LIMIT = 10_000


def _ints(x: Iterable[int] | None) -> frozenset[int]:
    return frozenset(int(i) for i in (x or ()))


@dataclass(frozen=True)
class FaultPlan:
    """Faults of one connection (immutable; the per-stream state lives in FaultCursor).

    Parameters
    ----------
    drop, duplicate, reorder, bad_checksum, malformed : iterable of int
        Data-frame indices (per stream, from 0) that get this fault.
    drop_rate, duplicate_rate, reorder_rate, bad_checksum_rate, malformed_rate : float
        Probability per data frame, drawn from the seeded generator.
    seed : int
        Seed of the rate faults.
    stream : str | None
        Apply index/rate faults only to streams whose name contains this text
        (``"btcusdt@depth"``, ``"BTC-USDT"``); None = every stream.
    disconnect_after : int | None
        End the connection after this many data frames (all streams together).
    disconnect_mode : str
        ``"close"`` (websocket close 1001, as exchanges do on maintenance) or ``"abort"``
        (the TCP connection is dropped without a close frame).
    send_delay : float
        Seconds the server waits before sending each frame (a slow link / slow consumer).
    queue_limit : int
        Most frames waiting to be sent on the connection (>= 1; default
        :data:`DEFAULT_QUEUE_LIMIT`, also for connections without a plan).
    on_overflow : str
        ``"disconnect"`` (close 1008 "slow consumer", or the TCP connection dropped if the
        close frame cannot be delivered either) or ``"drop"`` (frames are lost).
    """

    drop: frozenset[int] = frozenset()
    duplicate: frozenset[int] = frozenset()
    reorder: frozenset[int] = frozenset()
    bad_checksum: frozenset[int] = frozenset()
    malformed: frozenset[int] = frozenset()
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    bad_checksum_rate: float = 0.0
    malformed_rate: float = 0.0
    seed: int = 0
    stream: str | None = None
    disconnect_after: int | None = None
    disconnect_mode: str = "close"
    send_delay: float = 0.0
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    on_overflow: str = "disconnect"

    def __post_init__(self) -> None:
        for name in INDEX_FAULTS:
            object.__setattr__(self, name, _ints(getattr(self, name)))
        if self.disconnect_mode not in ("close", "abort"):
            raise ValueError(f"disconnect_mode must be 'close' or 'abort', not {self.disconnect_mode!r}")
        if self.on_overflow not in ("disconnect", "drop"):
            raise ValueError(f"on_overflow must be 'disconnect' or 'drop', not {self.on_overflow!r}")
        # an unbounded queue lets a client that never reads grow the simulator's memory without end
        if not isinstance(self.queue_limit, int) or isinstance(self.queue_limit, bool) or self.queue_limit < 1:
            raise ValueError(f"queue_limit must be a positive number of frames, not {self.queue_limit!r}")


@dataclass
class FaultCursor:
    """The faults of one stream of one connection: call :meth:`decide` once per data frame.

    ``log`` records ``(fault, stream, index)`` for the newest :data:`FAULT_LOG_LIMIT` faults
    injected (``log.dropped`` counts the older ones; for debugging, tests should also look at the
    wire).
    """

    plan: FaultPlan | None
    stream: str
    rng_key: str
    log: RecentList[tuple[str, str, int]] = field(default_factory=lambda: RecentList(FAULT_LOG_LIMIT))
    index: int = 0
    _rng: random.Random | None = None

    def decide(self) -> frozenset[str]:
        """Faults for the stream's next data frame (advances the index). O(1)."""
        i = self.index
        self.index += 1
        plan = self.plan
        if plan is None or (plan.stream is not None and plan.stream not in self.stream):
            return frozenset()
        faults = {name for name in INDEX_FAULTS if i in getattr(plan, name)}
        for name in INDEX_FAULTS:
            rate = getattr(plan, name + "_rate")
            if rate > 0:
                if self._rng is None:
                    self._rng = random.Random(f"faults:{plan.seed}:{self.rng_key}:{self.stream}")
                if self._rng.random() < rate:
                    faults.add(name)
        for name in sorted(faults):
            self.log.append((name, self.stream, i))
        return frozenset(faults)
