"""The service over loopback, measured from other processes (issue 13's targets):

* ``market-impact``: ``POST /api/v1/market-impact`` on a live simulated book, closed-loop over
  keep-alive connections by a raw asyncio HTTP/1.1 load client in its own process (so the
  server keeps its core): requests/s and latency percentiles. Target >= 2,000 req/s on one core,
  p99 <= 5 ms.
* websocket fan-out: 50 clients (one process) subscribed to the ``top`` of one book that changes
  100 times a second (simulator tick 10 ms); push delay = client receive time - the server's
  receive time of the book frame (``book_ns``: both ``time.monotonic_ns()``, one host). Target
  p99 <= 20 ms.

The server is ``liqcore serve --sim`` itself (a subprocess, uvicorn on uvloop)::

    python benchmarks/bench_service.py            # both; --json for one JSON object

``LIQ_BENCH_SECONDS`` (default 5) is each measurement's length, ``LIQ_BENCH_CONNECTIONS`` (8)
the load client's connections, ``LIQ_BENCH_CLIENTS`` (50) the websocket clients. Figures depend
on the machine and on what else runs on it: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from typing import Any

SECONDS = float(os.environ.get("LIQ_BENCH_SECONDS", 5))
CONNECTIONS = int(os.environ.get("LIQ_BENCH_CONNECTIONS", 8))
CLIENTS = int(os.environ.get("LIQ_BENCH_CLIENTS", 50))
RUN = ("import sys; from liqcore.commands import serve as m; "
       "sys.exit(m.run(m.build_parser('liqcore serve').parse_args(sys.argv[1:])))")


def _percentiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    if not xs:
        return {}
    def q(p: float) -> float:
        return xs[min(len(xs) - 1, int(p * len(xs)))]
    return {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": xs[-1]}


def start_server(sim_interval: float) -> tuple[subprocess.Popen[str], str]:
    """``liqcore serve --sim`` on an ephemeral port; (process, base url)."""
    proc = subprocess.Popen([sys.executable, "-c", RUN, "--sim", "--port", "0", "--sim-interval", str(sim_interval),
                             "--rate", "1e9", "--burst", "1000000000", "binance:BTC/USDT"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("liqcore serve: http://"):
        proc.kill()
        raise RuntimeError(f"the server did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
    return proc, line.split()[2]


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------ HTTP load client
async def _http_load(host: str, port: int, seconds: float, connections: int) -> dict[str, Any]:
    body = b'{"exchange":"binance","symbol":"BTC/USDT","side":"buy","amount":1.5}'
    request = (b"POST /api/v1/market-impact HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    t_end = 0.0

    async def one(measure: bool) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < t_end:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                if measure:
                    latencies.append(time.perf_counter() - t0)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    t_end = time.perf_counter() + 1.0                        # warm-up
    await asyncio.gather(*(one(False) for _ in range(connections)))
    t0 = time.perf_counter()
    t_end = t0 + seconds
    await asyncio.gather(*(one(True) for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    ms = [x * 1e3 for x in latencies]
    return {"requests": len(latencies), "seconds": round(elapsed, 3), "req_per_s": round(len(latencies) / elapsed),
            "latency_ms": {k: round(v, 3) for k, v in _percentiles(ms).items()}, "statuses": statuses,
            "connections": connections}


def _http_child(url: str, seconds: float, connections: int, out: Any) -> None:
    import uvloop
    hostport = url.split("//", 1)[1]
    host, port = hostport.rsplit(":", 1)
    out.put(uvloop.run(_http_load(host, int(port), seconds, connections)))


def bench_market_impact() -> dict[str, Any]:
    proc, url = start_server(0.1)
    try:
        import httpx
        httpx.post(url + "/api/v1/market-impact", json={"exchange": "binance", "symbol": "BTC/USDT", "side": "buy",
                                                        "amount": 1.5}, timeout=60).raise_for_status()
        q: Any = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(target=_http_child, args=(url, SECONDS, CONNECTIONS, q))
        child.start()
        result: dict[str, Any] = q.get(timeout=SECONDS + 120)
        child.join(30)
        return result
    finally:
        stop_server(proc)


# ------------------------------------------------------------------ websocket fan-out
async def _ws_clients(url: str, seconds: float, clients: int) -> dict[str, Any]:
    import websockets
    delays: list[float] = []
    counts = [0] * clients
    sub = json.dumps({"op": "subscribe", "pairs": [{"exchange": "binance", "symbol": "BTC/USDT"}],
                      "channels": ["top"]})
    measuring = asyncio.Event()

    async def one(i: int) -> None:
        async with websockets.connect(url.replace("http://", "ws://") + "/ws", max_size=None) as ws:
            await ws.send(sub)
            await ws.recv()                                   # subscribed
            t_end = None
            while True:
                msg = await ws.recv()
                now = time.monotonic_ns()
                if not measuring.is_set():
                    continue
                if t_end is None:
                    t_end = time.monotonic() + seconds
                if time.monotonic() > t_end:
                    return
                m = json.loads(msg)
                if m.get("type") == "top" and m.get("book_ns"):
                    delays.append((now - m["book_ns"]) / 1e6)
                    counts[i] += 1

    tasks = [asyncio.create_task(one(i)) for i in range(clients)]
    await asyncio.sleep(2.0)                                  # every client subscribed, warm
    measuring.set()
    await asyncio.gather(*tasks)
    return {"clients": clients, "pushes": len(delays), "pushes_per_client_per_s": round(sum(counts) / clients / seconds,
                                                                                         1),
            "push_delay_ms": {k: round(v, 3) for k, v in _percentiles(delays).items()}}


def _ws_child(url: str, seconds: float, clients: int, out: Any) -> None:
    import uvloop
    out.put(uvloop.run(_ws_clients(url, seconds, clients)))


def bench_ws_fanout() -> dict[str, Any]:
    proc, url = start_server(0.01)                            # 100 book updates per second
    try:
        import httpx
        httpx.get(url + "/api/v1/book", params={"exchange": "binance", "symbol": "BTC/USDT"},
                  timeout=60).raise_for_status()
        q: Any = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(target=_ws_child, args=(url, SECONDS, CLIENTS, q))
        child.start()
        result: dict[str, Any] = q.get(timeout=SECONDS + 120)
        child.join(30)
        with httpx.Client(base_url=url, timeout=30) as c:
            result["server_coalesced"] = c.get("/api/v1/metrics").json()["counters"].get("ws_coalesced", 0)
        return result
    finally:
        stop_server(proc)


def main() -> None:
    res = {"market_impact": bench_market_impact(), "ws_fanout": bench_ws_fanout(), "cpus": os.cpu_count()}
    if "--json" in sys.argv:
        print(json.dumps(res))
        return
    mi, ws = res["market_impact"], res["ws_fanout"]
    print(f"market-impact over loopback: {mi['req_per_s']:,} req/s ({mi['connections']} keep-alive connections, "
          f"{mi['requests']:,} requests in {mi['seconds']} s, statuses {mi['statuses']}); latency ms "
          f"p50 {mi['latency_ms'].get('p50')} p90 {mi['latency_ms'].get('p90')} p99 {mi['latency_ms'].get('p99')}")
    print(f"websocket fan-out: {ws['clients']} clients, {ws['pushes_per_client_per_s']} tops/s each; push delay ms "
          f"p50 {ws['push_delay_ms'].get('p50')} p90 {ws['push_delay_ms'].get('p90')} "
          f"p99 {ws['push_delay_ms'].get('p99')} max {ws['push_delay_ms'].get('max')}; "
          f"states coalesced by the server {ws['server_coalesced']}")


if __name__ == "__main__":
    main()
