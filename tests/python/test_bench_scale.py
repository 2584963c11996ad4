"""The scale study (``benchmarks/bench_scale.py``) at its smallest size, as a subprocess (simulator and
consumers in processes of their own, as the study runs them).

What is proved (no timing is asserted): the study runs every consumer at every arrival mode, the JSON has
one row per (consumer, N, mode) with every figure, every consumer received and applied frames (a broken
consumer, simulator or send log fails here), the frames counted from the simulator's send log between the
book ids equal what liqcore's feed counted itself, latencies were matched against the send log, and the
table on stdout has a line per row."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ccxt.pro")
aiohttp = pytest.importorskip("aiohttp")

from liqcore.sim import ExchangeSimulator  # noqa: E402
from simtest import run  # noqa: E402

pytestmark = pytest.mark.io_bound

ROOT = Path(__file__).resolve().parents[2]


def test_smallest_study_has_every_figure_and_every_consumer_got_frames(tmp_path):
    if not (ROOT / "benchmarks" / "bench_scale.py").exists():
        pytest.skip("not a source checkout")
    out = tmp_path / "scale.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    p = subprocess.run([sys.executable, "-m", "benchmarks.bench_scale", "--books", "1", "--warmup", "0.3",
                        "--window", "1.0", "--out", str(out)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    doc = json.loads(out.read_text())
    rows = doc["rows"]
    assert [(r["consumer"], r["books"], r["mode"]) for r in rows] == [
        (c, 1, m) for m in ("max", "paced", "single") for c in ("liqcore", "ccxt", "bare", "bare-native")]
    for r in rows:
        assert r["frames"] > 0 and r["frames_per_s"] > 0, r
        assert r["sim"]["frames_sent"] >= r["frames"] and r["sim"]["slow_consumers"] == 0, r
        assert r["cpu_s"] > 0 and math.isfinite(r["cpu_us_per_frame"]), r
        assert r["latency_samples"] > 0 and 0 < r["latency_p50_us"] <= r["latency_p99_us"], r
        assert set(r["gc"]) == {"0", "1", "2"} and all(g["count"] >= 0 for g in r["gc"].values())
        if r["consumer"] == "liqcore":
            # the send log's count between the book ids is the feed's own count of applied frames
            assert r["frames"] == r["frames_counted"], r
            assert r["ccxt_over_liqcore"] > 0 and r["above_floor_us"] is not None
            assert r["above_native_floor_us"] is not None
        elif r["consumer"].startswith("bare"):
            assert r["above_floor_us"] is None and r["frames"] == r["frames_counted"]
    lines = p.stdout.splitlines()
    assert lines[0].split()[:4] == ["consumer", "N", "mode", "frames/s"]
    assert len([ln for ln in lines if ln.split()[:1] in (["liqcore"], ["ccxt"], ["bare"], ["bare-native"])]) == len(rows)
    assert lines[-1] == f"written {out}"


# ------------------------------------------------------------------ the simulator's knobs the study uses
def _depth_frames(texts):
    return [json.loads(t) for t in texts if '"depthUpdate"' in t]


def test_on_sent_sees_every_frame_the_client_reads_in_order():
    async def body():
        sent = []
        async with ExchangeSimulator(seed=1, interval=0.005, on_sent=lambda conn, text: sent.append(text)) as sim:
            async with aiohttp.ClientSession() as s:
                url = f"{sim.url.replace('http', 'ws')}/stream.binance.com/ws/btcusdt@depth@100ms"
                async with s.ws_connect(url) as ws:
                    got = [(await ws.receive()).data for _ in range(20)]
        return sent, got
    sent, got = run(body())
    assert sent[:20] == got and len(_depth_frames(got)) == 20


def test_stagger_ticks_the_markets_one_after_another():
    async def counts(stagger):
        seen = set()
        async with ExchangeSimulator(seed=1, interval=0.05, stagger=stagger) as sim:
            markets = [sim.market("binance", "BTCUSDT"), sim.market("binance", "ETHUSDT")]
            while min(m.updates for m in markets) < 6:
                seen.add(tuple(m.updates for m in markets))
                await asyncio.sleep(0.002)
        return seen
    # all at once: the books move together; staggered: one book has moved and the other not yet
    assert all(len(set(c)) == 1 for c in run(counts(False)))
    assert any(len(set(c)) == 2 for c in run(counts(True)))


def test_max_queued_paces_the_simulator_by_its_client_instead_of_cutting_it():
    from liqcore.sim import FaultPlan

    async def body():
        slow_link = {"binance": FaultPlan(send_delay=0.05)}      # a client that takes 20 frames/s
        async with ExchangeSimulator(seed=1, interval=1e-6, max_queued=50, faults=slow_link) as sim:
            async with aiohttp.ClientSession() as s:
                url = f"{sim.url.replace('http', 'ws')}/stream.binance.com/ws/btcusdt@depth@100ms"
                async with s.ws_connect(url) as ws:
                    await asyncio.sleep(1.5)
                    queued = sim.connections_of("binance")[0].queue.qsize()
                    frames = [json.loads((await ws.receive()).data) for _ in range(10)]
            return queued, frames, sim.slow_consumers
    queued, frames, slow = run(body())
    # the ticks waited for the client: at most max_queued + one tick's frame were waiting, where an
    # unpaced simulator queues a frame per tick until the queue limit (4096) cuts the client
    assert queued <= 51 and slow == 0
    assert all(b["U"] == a["u"] + 1 for a, b in zip(frames, frames[1:]))   # nothing lost on the way
