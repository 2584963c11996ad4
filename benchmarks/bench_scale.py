"""The feed's scale study (issue 15, "Scale"): the simulator in its own process serving N Binance spot books,
three consumers each in its own process, CPU per frame of the consuming process at three arrival modes.

    python -m benchmarks.bench_scale            # N = 1, 10, 100, 500; about 10 minutes
    python -m benchmarks.bench_scale --quick    # N = 1, 50, shorter windows; about 2 minutes

Per (N, mode), for each consumer (``benchmarks/scale_consumer.py``: liqcore ``LiveFeed``, stock ccxt.pro
``watch_order_book``, a bare aiohttp reader that builds no book, and a bare reader on liqcore's own websocket)
a fresh simulator process
(``benchmarks/scale_sim.py``) is started, the consumer syncs every book, warms up, and is measured over a
steady window. Modes: ``max`` (the simulator's maximum rate, flow-controlled by the client), ``paced``
(2,000 frames/s in total, books ticked one after another), ``single`` (200 frames/s: every frame arrives
alone). Reported per (consumer, N, mode): frames/s consumed, CPU µs per frame (process time of the consumer
over the window / frames applied in it; frames counted from the simulator's send log between the book
update ids at both ends of the window), the figure above the bare aiohttp reader (the transport floor) and
above the bare reader on liqcore's websocket (liqcore's own floor) of the same N and mode, ccxt / liqcore, latency p50/p99 from the simulator's send time (``time.time_ns()`` right after
the frame was written to the socket; same clock in both processes) to the moment the consumer sees the
book (every 16th observation), and the garbage collector's pauses in the window per generation.

Results: a table on stdout and a JSON (``--out``, default ``benchmarks/results/scale_<commit>.json``).
No figure is asserted; ``tests/python/test_bench_scale.py`` runs the smallest study and checks its shape.
See ``docs/scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONSUMERS = ("liqcore", "ccxt", "bare", "bare-native")
#: arrival modes: frames/s in total (0: the simulator's maximum rate)
MODES = {"max": 0.0, "paced": 2000.0, "single": 200.0}


class Preset(NamedTuple):
    books: tuple[int, ...]
    warmup: float       # seconds after every book synced, before the window
    window: float       # seconds measured per point


FULL = Preset((1, 10, 100, 500), 2.0, 6.0)
QUICK = Preset((1, 50), 1.0, 2.5)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_point(consumer: str, books: int, mode: str, *, warmup: float, window: float, workdir: Path,
              freeze: bool = False) -> dict[str, Any]:
    """One measurement: a fresh simulator process and one consumer process. Returns the raw figures."""
    tag = f"{consumer}-{books}-{mode}{'-freeze' if freeze else ''}"
    log, out, sim_log = workdir / f"{tag}.sends.npy", workdir / f"{tag}.json", workdir / f"{tag}.sim.log"
    with open(sim_log, "w") as err:     # a file, not a pipe nobody reads while the simulator runs
        sim = subprocess.Popen([sys.executable, "-m", "benchmarks.scale_sim", "--books", str(books),
                                "--rate", str(MODES[mode]), "--log", str(log), "--seconds", "900"],
                               stdout=subprocess.PIPE, stderr=err, text=True, cwd=workdir, env=_env())
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if not line.startswith("URL "):
            raise RuntimeError(f"the simulator did not start: {line!r} {sim_log.read_text()[-3000:]}")
        url = line.split()[1]
        cmd = [sys.executable, "-m", "benchmarks.scale_consumer", "--consumer", consumer, "--url", url,
               "--books", str(books), "--warmup", str(warmup), "--window", str(window), "--out", str(out),
               "--sim-pid", str(sim.pid)]
        if freeze:
            cmd.append("--freeze")
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=_env(), timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"{tag}: the consumer failed:\n{done.stderr[-3000:]}")
    finally:
        sim.send_signal(signal.SIGTERM)
        try:
            sim_out, _ = sim.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim_out, _ = sim.communicate()
    sim_stats = json.loads(sim_out.strip().splitlines()[-1])
    sends = np.load(log)
    row = summarise(json.loads(out.read_text()), sends, mode, sim_stats)
    row["loadavg_1min"] = os.getloadavg()[0]      # the machine is shared: how busy it was
    return row


def summarise(raw: dict[str, Any], sends: np.ndarray, mode: str, sim_stats: dict[str, Any]) -> dict[str, Any]:
    """The figures of one point from the consumer's window and the simulator's send log."""
    start, end = raw["start"], raw["end"]
    window_s = (end["time_ns"] - start["time_ns"]) / 1e9
    counted = None if end["frames_counted"] is None else end["frames_counted"] - start["frames_counted"]
    if start["update_ids"]:             # books: the frames sent between the ids seen at both ends
        lo = np.asarray(start["update_ids"], dtype=np.int64)[sends[:, 1]]
        hi = np.asarray(end["update_ids"], dtype=np.int64)[sends[:, 1]]
        frames = int(((sends[:, 2] > lo) & (sends[:, 2] <= hi)).sum())
    else:                               # the bare reader counts what it read
        frames = int(counted or 0)
    cpu_s = end["cpu_s"] - start["cpu_s"]
    row: dict[str, Any] = {
        "consumer": raw["consumer"], "books": raw["books"], "mode": mode, "window_s": window_s, "frames": frames,
        "frames_counted": counted, "frames_per_s": frames / window_s if window_s else 0.0,
        "cpu_s": cpu_s, "user_s": end["utime_s"] - start["utime_s"], "system_s": end["stime_s"] - start["stime_s"],
        "cpu_us_per_frame": cpu_s / frames * 1e6 if frames else float("nan"),
        "cpu_share": cpu_s / window_s if window_s else 0.0,
        "resyncs": None if end["resyncs"] is None else end["resyncs"] - start["resyncs"],
        "synced_s": raw["synced_s"], "tracked_objects": raw["tracked_objects"],
        "frozen_objects": raw["frozen_objects"], "full_collection_ms": raw.get("full_collection_ms"), "sim": sim_stats,
    }
    row.update(latency(raw["samples"], sends))
    row["gc"] = collections_by_generation(raw["collections"])
    return row


def latency(samples: list[list[int]], sends: np.ndarray) -> dict[str, Any]:
    """p50/p99 (µs) from the send time of the frame that brought a book to update id u to the sampled time
    the consumer saw it at u."""
    if not samples or not len(sends):
        return {"latency_samples": 0, "latency_p50_us": None, "latency_p99_us": None}
    key = (sends[:, 1] << 40) | sends[:, 2]
    order = np.argsort(key, kind="stable")
    key, sent_ns = key[order], sends[order, 0]
    s = np.asarray(samples, dtype=np.int64)
    want = (s[:, 1] << 40) | s[:, 2]
    pos = np.clip(np.searchsorted(key, want), 0, len(key) - 1)
    hit = key[pos] == want
    lat = (s[hit, 0] - sent_ns[pos[hit]]) / 1e3
    if not len(lat):
        return {"latency_samples": 0, "latency_p50_us": None, "latency_p99_us": None}
    return {"latency_samples": int(len(lat)), "latency_p50_us": float(np.percentile(lat, 50)),
            "latency_p99_us": float(np.percentile(lat, 99)), "latency_max_us": float(lat.max())}


def collections_by_generation(collections: list[list[int]]) -> dict[str, dict[str, float]]:
    """Count, max and total pause (ms) per generation."""
    out: dict[str, dict[str, float]] = {}
    for gen in (0, 1, 2):
        pauses = [c[2] / 1e6 for c in collections if c[0] == gen]
        out[str(gen)] = {"count": len(pauses), "max_ms": max(pauses, default=0.0), "total_ms": sum(pauses)}
    return out


def add_relative(rows: list[dict[str, Any]]) -> None:
    """Per row: CPU per frame above the bare aiohttp reader of the same (N, mode); per liqcore row: above the
    bare reader on liqcore's websocket, and ccxt / liqcore."""
    by = {(r["consumer"], r["books"], r["mode"]): r for r in rows}
    for r in rows:
        floor = by.get(("bare", r["books"], r["mode"]))
        r["above_floor_us"] = None if floor is None or r["consumer"].startswith("bare") else \
            r["cpu_us_per_frame"] - floor["cpu_us_per_frame"]
        native = by.get(("bare-native", r["books"], r["mode"]))
        r["above_native_floor_us"] = None if native is None or r["consumer"] != "liqcore" else \
            r["cpu_us_per_frame"] - native["cpu_us_per_frame"]
        ccxt = by.get(("ccxt", r["books"], r["mode"]))
        r["ccxt_over_liqcore"] = None if ccxt is None or r["consumer"] != "liqcore" else \
            ccxt["cpu_us_per_frame"] / r["cpu_us_per_frame"]


def _f(v: Any, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def _cell(r: dict[str, Any] | None, key: str, spec: str = ".1f") -> str:
    return _f(None if r is None else r.get(key), spec)


def table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'consumer':11} {'N':>4} {'mode':6} {'frames/s':>9} {'cpu%':>5} {'µs/frame':>8} {'>floor':>7} "
            f"{'ccxt/lq':>7} {'p50 µs':>8} {'p99 µs':>8} {'gc0 n/max':>10} {'gc1 n/max':>10} {'gc2 n/max ms':>13}")
    lines = [head, "-" * len(head)]
    for r in rows:
        g = r["gc"]
        lines.append(
            f"{r['consumer']:11} {r['books']:>4} {r['mode']:6} {r['frames_per_s']:>9,.0f} {100 * r['cpu_share']:>5.0f} "
            f"{r['cpu_us_per_frame']:>8.1f} {_f(r['above_floor_us']):>7} {_f(r['ccxt_over_liqcore'], '.2f'):>7} "
            f"{_f(r['latency_p50_us'], '.0f'):>8} {_f(r['latency_p99_us'], '.0f'):>8} "
            + " ".join(f"{g[k]['count']:>4}/{g[k]['max_ms']:<5.1f}" for k in "01")
            + f" {g['2']['count']:>4}/{g['2']['max_ms']:<8.1f}")
    return "\n".join(lines)


def _latency_cell(r: dict[str, Any] | None) -> str:
    return f"{_cell(r, 'latency_p50_us', ',.0f')} / {_cell(r, 'latency_p99_us', ',.0f')}"


def markdown(rows: list[dict[str, Any]]) -> str:
    """One Markdown table per mode: N down, the three consumers' µs/frame across (docs/scale.md)."""
    by = {(r["consumer"], r["books"], r["mode"]): r for r in rows}
    head = ("| N | frames/s (liqcore) | liqcore µs/frame | ccxt.pro µs/frame | bare µs/frame | bare-native µs/frame "
            "| liqcore above floor | liqcore above its own floor | ccxt above floor | ccxt / liqcore "
            "| p50 / p99 µs liqcore | p50 / p99 µs ccxt |")
    out = []
    for mode in dict.fromkeys(r["mode"] for r in rows):
        out += [f"\n`{mode}`\n", head, "|---:" * 12 + "|"]
        for n in dict.fromkeys(r["books"] for r in rows):
            lq, cx, bare, native = (by.get((c, n, mode)) for c in CONSUMERS)
            cells = [str(n), _cell(lq, "frames_per_s", ",.0f"), _cell(lq, "cpu_us_per_frame"),
                     _cell(cx, "cpu_us_per_frame"), _cell(bare, "cpu_us_per_frame"), _cell(native, "cpu_us_per_frame"),
                     _cell(lq, "above_floor_us"), _cell(lq, "above_native_floor_us"), _cell(cx, "above_floor_us"),
                     _cell(lq, "ccxt_over_liqcore", ".2f"), _latency_cell(lq), _latency_cell(cx)]
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def study(books: tuple[int, ...], modes: tuple[str, ...], consumers: tuple[str, ...], *, warmup: float,
          window: float, freeze: bool = False, progress: bool = True) -> dict[str, Any]:
    """Every (N, mode, consumer) point; returns the JSON document (rows in the order measured)."""
    rows = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="liq-scale-") as tmp:
        for n in books:
            for mode in modes:
                for consumer in consumers:
                    rows.append(run_point(consumer, n, mode, warmup=warmup, window=window, workdir=Path(tmp),
                                          freeze=freeze))
                    if progress:
                        r = rows[-1]
                        print(f"  {consumer:11} N={n:<4} {mode:6} {r['frames_per_s']:>9,.0f} frames/s "
                              f"{r['cpu_us_per_frame']:6.1f} µs/frame", file=sys.stderr, flush=True)
    add_relative(rows)
    return {"benchmark": "scale", "commit": _commit(), "python": platform.python_version(),
            "machine": platform.machine(), "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
            "seconds": time.monotonic() - t0, "warmup_s": warmup, "window_s": window, "freeze": freeze,
            "modes": {m: MODES[m] for m in modes}, "rows": rows}


def default_out(commit: str, *, quick: bool, freeze: bool, partial: bool) -> Path:
    """``benchmarks/results/scale_<commit>[_quick][_freeze][_partial][_<k>].json``: ``_partial`` when
    the points or their timing are not the preset's, and never a file that exists (``_2``, ``_3``...):
    a partial run must not replace a whole study of the same commit."""
    stem = f"scale_{commit}" + "_quick" * quick + "_freeze" * freeze + "_partial" * partial
    out, k = ROOT / "benchmarks" / "results" / f"{stem}.json", 1
    while out.exists():
        k += 1
        out = out.with_name(f"{stem}_{k}.json")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 1 and 50, shorter windows")
    p.add_argument("--books", help="comma-separated N (default 1,10,100,500; --quick 1,50)")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    p.add_argument("--consumers", default=",".join(CONSUMERS), help=f"comma-separated, of {', '.join(CONSUMERS)}")
    p.add_argument("--warmup", type=float, help="seconds after the books synced before the window")
    p.add_argument("--window", type=float, help="seconds measured per point")
    p.add_argument("--freeze", action="store_true", help="every consumer calls gc.freeze() before the window")
    p.add_argument("--out", help="JSON written here (default benchmarks/results/scale_<commit>[_quick][_freeze]"
                                 "[_partial].json, never over an existing file)")
    p.add_argument("--report", metavar="JSON", help="print the tables of a study written before (no run)")
    a = p.parse_args(argv)
    if a.report:
        rows = json.loads(Path(a.report).read_text())["rows"]
        print(table(rows))
        print(markdown(rows))
        return 0
    preset = QUICK if a.quick else FULL
    books = tuple(int(x) for x in a.books.split(",")) if a.books else preset.books
    modes = tuple(a.modes.split(","))
    consumers = tuple(a.consumers.split(","))
    if not set(modes) <= set(MODES) or not set(consumers) <= set(CONSUMERS) or min(books) < 1:
        p.error("unknown mode or consumer, or N < 1")
    doc = study(books, modes, consumers, warmup=preset.warmup if a.warmup is None else a.warmup,
                window=preset.window if a.window is None else a.window, freeze=a.freeze)
    doc["quick"] = a.quick
    print(table(doc["rows"]))
    partial = ((books, modes, consumers) != (tuple(preset.books), tuple(MODES), CONSUMERS)
               or a.warmup is not None or a.window is not None)
    out = Path(a.out) if a.out else default_out(doc["commit"], quick=a.quick, freeze=a.freeze, partial=partial)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
