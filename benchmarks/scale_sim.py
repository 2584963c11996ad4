"""The simulator process of the scale study (``benchmarks/bench_scale.py``): ``liqcore.sim`` serving N
synthetic Binance spot books on 127.0.0.1, at a pace, logging when each depth frame was sent.

    python -m benchmarks.scale_sim --books N --rate R --log LOG.npy --seconds S

``--rate 0`` is the simulator's maximum rate: a tick as soon as the previous one is sent, flow-controlled
by the clients (``ExchangeSimulator(max_queued=...)``), every book one frame per tick. ``--rate R`` sends R
frames per second in total, the books ticked one after another (``stagger``), so frames arrive one by one.
Prints ``URL http://127.0.0.1:PORT`` once listening; on SIGTERM (or after ``--seconds``) it stops, writes
the send log (an int64 array of rows ``(send time_ns, book index, u)``, one per depth frame written to a
socket) and prints one JSON line of its own counters. Its CPU is not part of any figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from array import array

import numpy as np

from liqcore.feed import run
from liqcore.sim import ExchangeSimulator, Instrument

#: most changed levels of one synthetic event: about 3.4 levels per depthUpdate frame (measured by the study)
MAX_CHANGES = 16
#: frames a connection may hold before the maximum-rate simulator waits for its client
MAX_QUEUED = 1024
#: a binance depthUpdate as orjson writes it: symbol and last update id (the frame's key in the log)
_KEY = re.compile(r'"s":"([A-Z0-9]+)","U":\d+,"u":(\d+)')


def symbol_ids(books: int) -> list[str]:
    """Exchange ids of the study's books (``C0000USDT``...); ccxt's symbols are ``C0000/USDT``."""
    return [f"C{i:04d}USDT" for i in range(books)]


def instruments(books: int) -> list[Instrument]:
    return [Instrument("binance", sid, sid[:-4], "USDT", "0.01", "0.00001", "60000", wire_decimals=(8, 8))
            for sid in symbol_ids(books)]


async def serve(books: int, rate: float, seconds: float, log_path: str, seed: int) -> dict:
    index = {sid: i for i, sid in enumerate(symbol_ids(books))}
    log = array("q")
    match, now_ns = _KEY.search, time.time_ns

    def on_sent(conn: object, text: str) -> None:
        ns = now_ns()                              # first: the frame has just been written
        m = match(text, 20, 120)
        if m is not None:
            log.extend((ns, index[m.group(1)], int(m.group(2))))

    if rate > 0:
        opts = dict(interval=books / rate, stagger=True)
    else:
        opts = dict(interval=1e-6, max_queued=MAX_QUEUED)
    sim = ExchangeSimulator(instruments(books), seed=seed, max_seconds=seconds, on_sent=on_sent,
                            synthetic_options={"max_changes": MAX_CHANGES}, **opts)
    await sim.start()
    loop = asyncio.get_running_loop()
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
