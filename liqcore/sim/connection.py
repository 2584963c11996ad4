"""One websocket connection of a client to the simulator: an ordered send queue, a writer
task, and the connection's fault plan applied to data frames.

Everything a connection sends goes through its queue in order, so an acknowledgement
queued before a stream starts always reaches the client first (ccxt's Binance client
creates its book on the ack and drops depth events that come earlier).

Everything a connection holds is bounded: the send queue (the plan's ``queue_limit``, by
default :data:`~liqcore.sim.faults.DEFAULT_QUEUE_LIMIT`: a client that does not read is cut as an
exchange cuts it), the frames kept from the client (:attr:`SimConnection.received`) and the
fault log.

Ownership: created and closed by the venue's websocket handler; the simulator keeps its live
connections (to close them at shutdown) and a bounded history of finished ones
(``ExchangeSimulator.connections``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Callable

import orjson
from aiohttp import WSMsgType, web

from liqcore.sim.faults import DEFAULT_QUEUE_LIMIT, FaultCursor, FaultPlan
from liqcore.sim.recent import RecentList

__all__ = ["SimConnection", "SLOW_CONSUMER", "SLOW_CONSUMER_GRACE", "RECEIVED_FRAMES", "RECEIVED_CHARS"]

_CLOSE = object()   # queue sentinel: end the connection after what was queued before it

#: close code and reason for a consumer that cannot keep up (RFC 6455 1008 policy violation)
SLOW_CONSUMER = (1008, b"slow consumer")
#: seconds a cut slow consumer has to take its close frame before the TCP connection is dropped
#: (a client that reads nothing never takes it: the writer stays blocked on the full socket)
SLOW_CONSUMER_GRACE = 2.0
#: most client frames :attr:`SimConnection.received` keeps, and most characters all together
RECEIVED_FRAMES = 1000
RECEIVED_CHARS = 1 << 18


class SimConnection:
    """A client's websocket as the server sees it.

    Parameters
    ----------
    venue : str
        ``"binance"``, ``"binanceusdm"`` or ``"okx"``.
    ordinal : int
        This connection's number among the venue's connections (0 = first), which picks
        its fault plan.
    ws : aiohttp.web.WebSocketResponse
        The prepared websocket.
    plan : FaultPlan | None
        Faults of this connection.
    transport : asyncio transport, optional
        The request's transport, aborted by ``disconnect_mode="abort"`` and when a slow
        consumer does not take its close frame.
    on_slow_consumer : callable, optional
        Called once when the connection is cut for not reading (the simulator counts them).
    on_sent : callable, optional
        Called as ``on_sent(connection, text)`` right after each text frame was written to the
        socket (data and control frames alike), e.g. to log send times.
    """

    def __init__(self, venue: str, ordinal: int, ws: web.WebSocketResponse, plan: FaultPlan | None,
                 transport: asyncio.Transport | None = None,
                 on_slow_consumer: Callable[[], None] | None = None,
                 on_sent: Callable[["SimConnection", str], None] | None = None) -> None:
        self.venue = venue
        self.transport = transport
        self.ordinal = ordinal
        self.ws = ws
        self.plan = plan
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queue_limit = DEFAULT_QUEUE_LIMIT if plan is None else plan.queue_limit
        self.cursors: dict[str, FaultCursor] = {}
        self._held: dict[str, list[str]] = {}
        self.data_frames = 0          # data frames decided (including dropped ones)
        self.sent_frames = 0          # text frames written to the socket
        self.overflow_dropped = 0     # frames lost to a full queue (on_overflow="drop")
        self.slow_consumer = False    # cut for not reading (on_overflow="disconnect")
        self.closing = False
        self.close_code: int | None = None
        self.finished = False         # the writer is done and nothing is queued any more
        #: the newest text frames received from the client (at most RECEIVED_FRAMES frames and
        #: RECEIVED_CHARS characters; ``received.dropped`` counts the others)
        self.received: RecentList[str] = RecentList(RECEIVED_FRAMES, RECEIVED_CHARS, len)
        self._on_slow_consumer = on_slow_consumer
        self._on_sent = on_sent
        self._grace: asyncio.TimerHandle | None = None
        self._writer = asyncio.create_task(self._write_loop(), name=f"sim-{venue}-{ordinal}-writer")

    # -------------------------------------------------------------- receiving
    async def requests(self, text_ping: bool = False) -> AsyncIterator[str]:
        """The client's text frames until the socket closes, the newest kept in :attr:`received`
        (binary and control frames are ignored). ``text_ping``: a bare ``ping`` text is answered
        ``pong`` and not yielded (OKX, Bitget); each venue decodes the rest in its own format."""
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            self.received.append(msg.data)
            if text_ping and msg.data == "ping":
                self.send_control("pong")
                continue
            yield msg.data

    # ---------------------------------------------------------------- sending
    @property
    def faults_log(self) -> list[tuple[str, str, int]]:
        """Every fault injected on this connection, in order: (fault, stream, frame index)."""
        out: list[tuple[str, str, int]] = []
        for c in self.cursors.values():
            out.extend(c.log)
        return out

    def send_control(self, obj: Any) -> None:
        """Queue a non-data frame (ack, error, pong): never faulted, except by overflow."""
        self._enqueue(obj if isinstance(obj, str) else orjson.dumps(obj).decode())

    def send_data(self, stream: str, obj: Any, corrupt_checksum: Callable[[Any], Any] | None = None) -> None:
        """Queue one data frame of ``stream`` (a JSON object or array) after applying this
        connection's faults; ``corrupt_checksum`` returns the frame with its checksum altered."""
        if self.closing:
            return
        cursor = self.cursors.get(stream)
        if cursor is None:
            cursor = self.cursors[stream] = FaultCursor(self.plan, stream, f"{self.venue}:{self.ordinal}")
        faults = cursor.decide()
        self.data_frames += 1
        if "bad_checksum" in faults and corrupt_checksum is not None:
            obj = corrupt_checksum(obj)
        text = orjson.dumps(obj).decode()
        if "malformed" in faults:
            # cut inside the JSON: unbalanced braces, so no JSON parser accepts it
            self._enqueue(text[: max(1, len(text) // 2)])
        if "drop" in faults:
            pass
        elif "reorder" in faults:
            self._held.setdefault(stream, []).append(text)
        else:
            self._enqueue(text)
            if "duplicate" in faults:
                self._enqueue(text)
            for held in self._held.pop(stream, ()):
                self._enqueue(held)
        plan = self.plan
        if plan is not None and plan.disconnect_after is not None and self.data_frames >= plan.disconnect_after:
            self.close(1001, b"disconnect fault", abort=plan.disconnect_mode == "abort")

    def _enqueue(self, text: str) -> None:
        if self.closing:
            return
        if self.queue.qsize() >= self.queue_limit:
            if self.plan is not None and self.plan.on_overflow == "drop":
                self.overflow_dropped += 1
                return
            self._cut_slow_consumer()
            return
        self.queue.put_nowait(text)

    def _cut_slow_consumer(self) -> None:
        # an exchange cuts a consumer that cannot keep up at once: what waits is lost; the close
        # frame goes out if the client still reads, else the TCP connection is dropped
        while not self.queue.empty():
            self.queue.get_nowait()
        self.slow_consumer = True
        self.close(*SLOW_CONSUMER)
        self._grace = asyncio.get_running_loop().call_later(SLOW_CONSUMER_GRACE, self._drop_if_stuck)
        if self._on_slow_consumer is not None:
            self._on_slow_consumer()

    def _drop_if_stuck(self) -> None:
        if not self._writer.done():
            if self.transport is not None:
                self.transport.abort()
            self._writer.cancel()

    def close(self, code: int = 1001, message: bytes = b"", *, abort: bool = False) -> None:
        """End the connection after the frames already queued (abort: drop TCP right away)."""
        if self.closing:
            return
        self.closing = True
        self.close_code = None if abort else code
        if abort:
            if self.transport is not None:
                self.transport.abort()
            self._writer.cancel()
            return
        self.queue.put_nowait((_CLOSE, code, message))

    async def _write_loop(self) -> None:
        delay = 0.0 if self.plan is None else self.plan.send_delay
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, tuple) and item[0] is _CLOSE:
                    await self.ws.close(code=item[1], message=item[2])
                    return
                if delay:
                    await asyncio.sleep(delay)
                if self.ws.closed:
                    return
                await self.ws.send_str(item)
                self.sent_frames += 1
                if self._on_sent is not None:
                    self._on_sent(self, item)
        except (ConnectionError, RuntimeError):
            # the client went away mid-send: nothing to deliver any more
            return

    async def wait_closed(self) -> None:
        """Wait for the writer to finish (after close()), then forget what was still queued."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._forget_pending()

    def _forget_pending(self) -> None:
        # a finished connection may stay in the simulator's history: keep none of its frames
        if self._grace is not None:
            self._grace.cancel()
        while not self.queue.empty():
            self.queue.get_nowait()
        self._held.clear()
        self.finished = True

    async def shutdown(self) -> None:
        """Close now (server shutdown): going-away close frame, writer stopped."""
        self.closing = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer
        self._forget_pending()
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close(code=1001, message=b"server shutting down")
