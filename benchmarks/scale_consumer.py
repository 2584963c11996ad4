"""One consuming process of the scale study (``benchmarks/bench_scale.py``): N Binance spot books from the
simulator at ``--url``, measured over a steady window.

    python -m benchmarks.scale_consumer --consumer liqcore|ccxt|bare --url URL --books N --out OUT.json

Consumers (each in a process of its own, on the same event loop: ``liqcore.feed.run``, uvloop when installed):

* ``liqcore``: ``liqcore.feed.LiveFeed`` over liqcore's Binance adapter; one ``feed.subscribe`` callback per
  book (called after every frame that changed it) is where a book is seen;
* ``ccxt``: stock ``ccxt.pro.binance``, one ``watch_order_book`` loop per book (the feed's layout: one task
  per book; ccxt spreads the subscriptions over 50 sockets); a book is seen when ``watch_order_book`` returns;
* ``bare``: the transport floor, aiohttp websockets on the same 50-socket layout with the same streams
  (``<id>@depth@100ms`` in the URL), counting frames and decoding nothing;
* ``bare-native``: the floor of liqcore's own transport (``liqcore.feed.websocket``, what the ``liqcore``
  consumer's adapter reads its sockets with), on the same layout, counting frames: what liqcore's book path
  costs above its own transport is ``liqcore`` minus this.

Every consumer is measured the same way, after every book synced (then ``--sim-pid`` gets SIGUSR1: the
simulator leaves its sync pace for the measured one) and ``--warmup`` seconds: CPU time of the
process (``time.process_time()`` and ``getrusage`` user/system) over ``--window`` seconds, each book's
update id at both ends of the window (the orchestrator counts the frames in between from the simulator's send
log), every garbage collection in the window (``gc.callbacks``: generation and duration), and every 16th
time a consumer sees a book ``(time_ns, book, u)``, for the latency from the simulator's send time (the
bare reader reads ``s`` and ``u`` of those frames only). ``--freeze``: ``gc.collect(); gc.freeze()`` before
the window. After the window one ``gc.collect()`` is timed: what a generation-2 collection of that heap
costs. ``--profile PATH``: cProfile over the window (``.prof``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import re
import resource
import signal
import sys
import time
from array import array
from typing import Any, Callable

CONSUMERS = ("liqcore", "ccxt", "bare", "bare-native")
#: a consumer records one book observation in this many (a power of two)
SAMPLE_EVERY = 16
#: ccxt.pro's Binance spot subscriptions per socket round-robin over this many sockets (its streamLimits)
SOCKETS = 50
#: a binance depthUpdate as orjson writes it: symbol and last update id (a frame's key in the send log)
KEY = re.compile(r'"s":"([A-Z0-9]+)","U":\d+,"u":(\d+)')


def symbol_ids(books: int) -> list[str]:
    """Exchange ids of the study's books (``C0000USDT``...); ccxt's symbols are ``C0000/USDT``."""
    return [f"C{i:04d}USDT" for i in range(books)]


def run(main: Any) -> Any:
    """``liqcore.feed.run`` (uvloop when installed) without importing the feed: the bare reader's heap
    holds only what its transport needs, which matters to its garbage collections."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


class Probe:
    """Sampled book observations and garbage-collector pauses, recorded the same way in every consumer."""

    def __init__(self) -> None:
        self.seen_count = 0
        self.samples = array("q")                   # time_ns, book index, u
        self.collections: list[tuple[int, int, int]] = []   # generation, start perf_counter_ns, duration ns
        self._gc_start = 0
        gc.callbacks.append(self._on_gc)

    def seen(self, book: int, u: int) -> None:
        """A consumer saw ``book`` at update id ``u`` (every 16th call is kept, with its time)."""
        self.seen_count += 1
        if not self.seen_count & (SAMPLE_EVERY - 1):
            self.samples.extend((time.time_ns(), book, u))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter_ns()
        else:
            self.collections.append((info["generation"], self._gc_start, time.perf_counter_ns() - self._gc_start))


class Consumer:
    """What the window needs from a consumer: each book's update id and the frames it counted itself.
    ``tasks``: the consumer's own reading tasks, which must run until the window ends."""

    tasks: list[asyncio.Task[None]] = []

    def update_ids(self) -> list[int]:
        raise NotImplementedError

    def frames_counted(self) -> int | None:
        return None

    def resyncs(self) -> int | None:
        """Resyncs so far, if the consumer counts them."""
        return None

    def check(self) -> None:
        """Raise if the consumer broke (a task of its own ended, a book no longer live)."""
        for t in self.tasks:
            if t.done():
                raise RuntimeError(f"{type(self).__name__}: a task ended: "
                                   f"{'cancelled' if t.cancelled() else repr(t.exception())}")

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class LiqcoreConsumer(Consumer):
    def __init__(self, url: str, ids: list[str], probe: Probe) -> None:
        from liqcore.feed import LiveFeed, create_exchange
        from liqcore.sim.urls import loopback_urls
        ex = create_exchange("binance", {"enableRateLimit": False})
        ex.urls["api"] = loopback_urls(ex.urls["api"], url)
        self.symbols = [f"{i[:-4]}/USDT" for i in ids]
        self.feed = LiveFeed([("binance", s) for s in self.symbols], exchanges={"binance": ex},
                             idle_timeout=None, sync_timeout=120.0)
        self.probe = probe

    async def start(self) -> None:
        await self.feed.start()
        await self.feed.wait_live(180)
        seen = self.probe.seen
        for i, s in enumerate(self.symbols):
            def on_book(live: Any, i: int = i) -> None:
                seen(i, live.book.last_update_id)
            self.feed.subscribe(on_book, "binance", s)

    def update_ids(self) -> list[int]:
        return [self.feed.book("binance", s).last_update_id for s in self.symbols]

    def frames_counted(self) -> int:
        return sum(self.feed.stats("binance", s)["applied"] for s in self.symbols)

    def resyncs(self) -> int:
        return sum(self.feed.stats("binance", s)["resyncs"] for s in self.symbols)

    def check(self) -> None:
        bad = [(s, st["state"]) for s in self.symbols if (st := self.feed.stats("binance", s))["state"] != "live"]
        if bad or self.feed.fatal:
            raise RuntimeError(f"liqcore books not live: {bad[:5]} {self.feed.fatal[:1]}")

    async def close(self) -> None:
        await self.feed.close()


class CcxtConsumer(Consumer):
    def __init__(self, url: str, ids: list[str], probe: Probe) -> None:
        import ccxt.pro

        from liqcore.sim.urls import loopback_urls
        self.ex = ccxt.pro.binance({"enableRateLimit": False})
        self.ex.urls["api"] = loopback_urls(self.ex.urls["api"], url)
        self.symbols = [f"{i[:-4]}/USDT" for i in ids]
        self.probe = probe
        self.tasks = []

    async def start(self) -> None:
        await self.ex.load_markets()
        synced = [asyncio.get_running_loop().create_future() for _ in self.symbols]
        seen = self.probe.seen

        async def watch(i: int, symbol: str) -> None:
            watch_order_book = self.ex.watch_order_book
            ob = await watch_order_book(symbol)
            synced[i].set_result(None)
            while True:
                seen(i, ob["nonce"])
                ob = await watch_order_book(symbol)
        self.tasks = [asyncio.create_task(watch(i, s)) for i, s in enumerate(self.symbols)]
        await asyncio.wait_for(asyncio.gather(*synced), 180)

    def update_ids(self) -> list[int]:
        return [self.ex.orderbooks[s]["nonce"] for s in self.symbols]

    async def close(self) -> None:
        await super().close()
        await self.ex.close()


class BareConsumer(Consumer):
    """aiohttp websockets that count frames: no decode, no book (the transport floor)."""

    def __init__(self, url: str, ids: list[str], probe: Probe) -> None:
        self.ws_base = url.replace("http://", "ws://", 1) + "/stream.binance.com/ws/"
        self.ids = ids
        self.index = {sid: i for i, sid in enumerate(ids)}
        self.probe = probe
        self.count = 0
        self.tasks = []

    async def start(self) -> None:
        import aiohttp
        self.session = aiohttp.ClientSession()
        sockets = [self.ids[k::SOCKETS] for k in range(min(SOCKETS, len(self.ids)))]   # ccxt's round-robin
        first = [asyncio.get_running_loop().create_future() for _ in sockets]
        frame = self.frame

        async def read(k: int, ids: list[str]) -> None:
            streams = "/".join(f"{i.lower()}@depth@100ms" for i in ids)
            async with self.session.ws_connect(self.ws_base + streams, max_msg_size=1 << 22) as ws:
                async for msg in ws:
                    frame(first[k], msg.data)
        self.tasks = [asyncio.create_task(read(k, ids)) for k, ids in enumerate(sockets)]
        await asyncio.wait_for(asyncio.gather(*first), 180)

    def frame(self, first: asyncio.Future[None], text: str) -> None:
        """One frame read (its socket's ``first`` future resolves on the first): counted, and every
        16th sampled with the ``s`` and ``u`` it carries."""
        self.count += 1
        if not first.done():
            first.set_result(None)
        probe = self.probe
        probe.seen_count += 1
        if not probe.seen_count & (SAMPLE_EVERY - 1):
            ns = time.time_ns()
            m = KEY.search(text, 20, 120)
            if m is not None:
                probe.samples.extend((ns, self.index[m.group(1)], int(m.group(2))))

    def update_ids(self) -> list[int]:
        return []

    def frames_counted(self) -> int:
        return self.count

    async def close(self) -> None:
        await super().close()
        await self.session.close()


class BareNativeConsumer(BareConsumer):
    """liqcore's websockets (frames read in C inside the socket's callback) that count frames: no book."""

    async def start(self) -> None:
        from liqcore.feed.websocket import connect
        sockets = [self.ids[k::SOCKETS] for k in range(min(SOCKETS, len(self.ids)))]   # ccxt's round-robin
        first = [asyncio.get_running_loop().create_future() for _ in sockets]
        self.conns = []
        for k, ids in enumerate(sockets):
            ws = await connect(self.ws_base + "/".join(f"{i.lower()}@depth@100ms" for i in ids))
            ws.start(functools.partial(self.frame, first[k]), lambda msg: None)
            self.conns.append(ws)
        await asyncio.wait_for(asyncio.gather(*first), 180)

    async def close(self) -> None:
        for ws in self.conns:
            await ws.close()


def _mark(consumer: Consumer) -> dict[str, Any]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": time.process_time(), "utime_s": ru.ru_utime, "stime_s": ru.ru_stime, "time_ns": time.time_ns(),
            "perf_ns": time.perf_counter_ns(), "update_ids": consumer.update_ids(),
            "frames_counted": consumer.frames_counted(), "resyncs": consumer.resyncs()}


async def measure(kind: str, url: str, books: int, warmup: float, window: float, freeze: bool,
                  profile: str | None, sim_pid: int | None = None) -> dict[str, Any]:
    probe = Probe()
    cls: Callable[..., Any] = {"liqcore": LiqcoreConsumer, "ccxt": CcxtConsumer, "bare": BareConsumer,
                               "bare-native": BareNativeConsumer}[kind]
    consumer = cls(url, symbol_ids(books), probe)
    t_start = time.monotonic()
    await consumer.start()
    synced_s = time.monotonic() - t_start
    if sim_pid is not None:
        os.kill(sim_pid, signal.SIGUSR1)               # every book is live: the simulator takes its pace
    try:
        await asyncio.sleep(warmup)
        consumer.check()
        if freeze:
            gc.collect()
            gc.freeze()
        tracked = len(gc.get_objects())
        prof = None
        if profile:
            import cProfile
            prof = cProfile.Profile()
        start = _mark(consumer)
        print("window", flush=True)                  # for an outside profiler (docs/scale.md)
        if prof is not None:
            prof.enable()
        await asyncio.sleep(window)
        if prof is not None:
            prof.disable()
        end = _mark(consumer)
        consumer.check()
        t = time.perf_counter_ns()
        gc.collect()                    # after the window: what a full collection of this heap costs
        full_collection_ms = (time.perf_counter_ns() - t) / 1e6
    finally:
        await consumer.close()
    if prof is not None and profile:
        prof.dump_stats(profile)
    samples = [probe.samples[k:k + 3].tolist() for k in range(0, len(probe.samples), 3)]
    return {
        "consumer": kind, "books": books, "synced_s": synced_s, "start": start, "end": end,
        "tracked_objects": tracked, "frozen_objects": gc.get_freeze_count(), "full_collection_ms": full_collection_ms,
        "samples": [s for s in samples if start["time_ns"] <= s[0] <= end["time_ns"]],
        "collections": [c for c in probe.collections if start["perf_ns"] <= c[1] <= end["perf_ns"]],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumer", choices=CONSUMERS, required=True)
    p.add_argument("--url", required=True, help="the simulator's http://127.0.0.1:PORT")
    p.add_argument("--books", type=int, required=True)
    p.add_argument("--warmup", type=float, default=2.0, help="seconds after every book synced, before the window")
    p.add_argument("--window", type=float, default=5.0, help="seconds measured")
    p.add_argument("--freeze", action="store_true", help="gc.collect(); gc.freeze() before the window")
    p.add_argument("--profile", help="write a cProfile of the window here")
    p.add_argument("--out", required=True, help="JSON written here")
    p.add_argument("--sim-pid", type=int, help="the simulator process: SIGUSR1 once every book is live (its pace)")
    a = p.parse_args(argv)
    out = run(measure(a.consumer, a.url, a.books, a.warmup, a.window, a.freeze, a.profile, a.sim_pid))
    with open(a.out, "w") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
