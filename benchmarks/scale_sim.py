"""The simulator process of the scale study (``benchmarks/bench_scale.py``): ``liqcore.sim`` serving N
synthetic Binance spot books on 127.0.0.1, at a pace, logging when each depth frame was sent.

    python -m benchmarks.scale_sim --books N --rate R --log LOG.npy --seconds S

It starts at 2,000 frames/s in total while the clients sync; SIGUSR1 switches to ``--rate``: ``0`` is the
simulator's maximum rate (a tick as soon as the previous one is sent, every book one frame per tick), ``R``
sends R frames per second in total, the books ticked one after another (``stagger``), so frames arrive one
by one. Always flow-controlled (``ExchangeSimulator(max_queued=...)``): a client that falls behind slows the
simulator rather than being cut. Prints ``URL http://127.0.0.1:PORT`` once listening; on SIGTERM (or
after ``--seconds``) it stops, writes the send log (an int64 array of rows ``(send time_ns, book index, u)``,
one per depth frame written to a socket) and prints one JSON line of its own counters. Its CPU is not part
of any figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from array import array

import numpy as np

from liqcore.sim import ExchangeSimulator, Instrument

from benchmarks.scale_consumer import KEY, run, symbol_ids

#: most changed levels of one synthetic event: about 3.4 levels per depthUpdate frame (measured by the study)
MAX_CHANGES = 16
#: frames a connection may hold before the simulator waits for its client (the maximum rate's flow control)
MAX_QUEUED = 1024
#: frames/s in total while the clients sync (before SIGUSR1)
SYNC_RATE = 2000.0

def instruments(books: int) -> list[Instrument]:
    return [Instrument("binance", sid, sid[:-4], "USDT", "0.01", "0.00001", "60000", wire_decimals=(8, 8))
            for sid in symbol_ids(books)]


async def serve(books: int, rate: float, seconds: float, log_path: str, seed: int) -> dict:
    index = {sid: i for i, sid in enumerate(symbol_ids(books))}
    log = array("q")
    match, now_ns = KEY.search, time.time_ns

    def on_sent(conn: object, text: str) -> None:
        ns = now_ns()                              # first: the frame has just been written
        m = match(text, 20, 120)
        if m is not None:
            log.extend((ns, index[m.group(1)], int(m.group(2))))

    # the clients sync at SYNC_RATE: at the maximum rate 500 REST snapshots would wait behind the ticks
    # until ccxt's request timeout; SIGUSR1 (sent by the consumer once every book is live) sets the pace
    sim = ExchangeSimulator(instruments(books), seed=seed, max_seconds=seconds, on_sent=on_sent,
                            interval=books / SYNC_RATE, stagger=True, max_queued=MAX_QUEUED,
                            synthetic_options={"max_changes": MAX_CHANGES})

    def pace() -> None:
        sim.interval, sim.stagger = (books / rate, True) if rate > 0 else (1e-6, False)
    await sim.start()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, pace)
    loop.add_signal_handler(signal.SIGTERM, lambda: loop.create_task(sim.close()))
    print(f"URL {sim.url}", flush=True)
    await sim.closed.wait()
    rows = np.frombuffer(log, dtype=np.int64).reshape(-1, 3)
    np.save(log_path, rows)
    return {"frames_sent": int(len(rows)), "ticks": sim.tick_count, "slow_consumers": sim.slow_consumers,
            "connections": len(sim.connections)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--books", type=int, required=True)
    p.add_argument("--rate", type=float, default=0.0, help="frames/s in total (0: the maximum rate)")
    p.add_argument("--seconds", type=float, default=600.0, help="stop after this long at the latest")
    p.add_argument("--log", required=True, help="where to write the send log (.npy)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    out = run(serve(a.books, a.rate, a.seconds, a.log, a.seed))
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
