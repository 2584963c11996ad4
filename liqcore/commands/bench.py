"""``liqcore bench``: the benchmark suite of a source checkout (pytest-benchmark, then the peer
table of ``benchmarks/report.py``); ``liqcore bench --check``: the seed's targets measured in
process in a few seconds, on the engine, the live feed through the simulator and the alert
monitor, with their margins (exit 1 when one is missed)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from liqcore.commands.common import Parser, fail, feed_missing, print_json

__all__ = ["HELP", "build_parser", "run", "Measure", "TARGETS", "check_engine", "check_feed", "check_monitor",
           "benchmarks_dir"]

HELP = "run the benchmark suite and print the peer table; --check: enforce the seed targets (a few seconds)"

#: the seed's targets: (metric, unit, bound, "max" | "min")
TARGETS = {"message_ms": ("ms per delta message", 10.0, "max"),
           "updates_per_s": ("updates/s", 1_000.0, "min"),
           "rss_mb": ("MB of RSS added", 100.0, "max")}


@dataclass(frozen=True)
class Measure:
    """One measured figure against its target: ``value`` in the target's unit; ``margin`` how many
    times better than the target it is (> 1 met: target / value for a maximum, value / target for a
    minimum)."""

    component: str
    metric: str
    value: float
    unit: str
    target: float
    kind: str
    note: str = ""

    @property
    def margin(self) -> float:
        if self.kind == "max":
            return self.target / self.value if self.value > 0 else float("inf")
        return self.value / self.target

    @property
    def ok(self) -> bool:
        return self.value < self.target if self.kind == "max" else self.value > self.target

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "margin": self.margin, "ok": self.ok}


def _measure(component: str, metric: str, value: float, note: str = "") -> Measure:
    unit, target, kind = TARGETS[metric]
    return Measure(component, metric, value, unit, target, kind, note)


def _rss_mb() -> float:
    """The process's resident set now, MB (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _p99(samples: list[float]) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(0.99 * len(s)))] if s else float("nan")


def _replay_frames() -> list[tuple[int, bytes]]:
    """The frames of the bundled Binance recording (``liqcore/data/``), read once, as (ns, raw)."""
    from liqcore.recordings import iter_hftbacktest
    from liqcore.replay import BUNDLED_RECORDING

    return [(rec.ts_ns, rec.raw) for rec in iter_hftbacktest(BUNDLED_RECORDING)]


def _replay_timed(frames: list[tuple[int, bytes]], on_update: Callable[[Any, int, int], None] | None = None,
                  ) -> tuple[list[float], Any]:
    """Decode and apply every frame to a new compiled book (BinanceReplayer, what ``liqcore replay``
    runs); returns the seconds each depth message took (JSON decode + sync + book) and the report."""
    import orjson

    from liqcore import OrderBook
    from liqcore.replay import BinanceReplayer

    replayer = BinanceReplayer(OrderBook("0.01", "0.00000001"), on_update=on_update)
    times: list[float] = []
    clock = time.perf_counter
    for ts, raw in frames:
        t0 = clock()
        replayer.on_message(orjson.loads(raw), ts)
        if b"depthUpdate" in raw:
            times.append(clock() - t0)
    return times, replayer.report


def check_engine(frames: list[tuple[int, bytes]]) -> list[Measure]:
    """The compiled book applying the recording's real deltas (with their JSON decoding): p99 time
    per delta message, updates/s over the delta messages, RSS added. Every bookTicker checkpoint
    must verify (else a correctness note). O(frames)."""
    before = _rss_mb()
    times, rep = _replay_timed(frames)
    added = _rss_mb() - before
    note = "" if rep.checkpoints_failed == 0 and rep.gaps == 0 else \
        f"NOT verified: {rep.checkpoints_failed} checkpoints failed, {rep.gaps} gaps"
    return [_measure("engine", "message_ms", _p99(times) * 1e3, f"p99 of {len(times):,} Binance depth messages"),
            _measure("engine", "updates_per_s", rep.applied / sum(times), note or
                     f"{rep.checkpoints_ok} bookTicker checkpoints verified"),
            _measure("engine", "rss_mb", max(added, 0.0))]


def check_monitor(frames: list[tuple[int, bytes]]) -> list[Measure]:
    """:class:`~liqcore.alerts.LiveLiquidityMonitor` evaluating (default rules, every update) the
    real book after each delta of the recording: p99 time per update, updates/s, RSS added."""
    from liqcore.alerts import LiveLiquidityMonitor

    monitor = LiveLiquidityMonitor()
    times: list[float] = []
    clock = time.perf_counter

    def on_update(book: Any, ts: int, frame: int) -> None:
        t0 = clock()
        monitor.on_book("binance", "BTC/USDT", book, ts)
        times.append(clock() - t0)

    before = _rss_mb()
    _replay_timed(frames, on_update)
    added = _rss_mb() - before
    st = monitor.stats()
    return [_measure("alert monitor", "message_ms", _p99(times) * 1e3, f"p99 of {st['evaluated']:,} book updates"),
            _measure("alert monitor", "updates_per_s", len(times) / sum(times), f"{st['alerts']} alerts"),
            _measure("alert monitor", "rss_mb", max(added, 0.0))]


def check_feed(timeout: float = 60.0) -> list[Measure]:
    """The live feed: the bundled recording replayed by the local simulator on 127.0.0.1 as fast
    as it goes, through ccxt.pro and :class:`~liqcore.feed.LiveFeed` (``liqcore``'s main job,
    every checkpoint verified): mean time per delta message end to end (simulator, websocket,
    ccxt.pro and the book in this one process), updates/s, RSS added."""
    from liqcore.feed import run as run_async
    from liqcore.watch import main_job

    before = _rss_mb()
    s = run_async(main_job(quiet=True, timeout=timeout))
    added = _rss_mb() - before
    per_ms = s["seconds"] / max(s["applied"], 1) * 1e3
    note = "all checkpoints verified" if s["ok"] else \
        f"NOT verified: {s['checkpoints_failed']} failed, {s['checkpoints_missed']} missed, {s['gaps']} gaps"
    return [_measure("live feed (simulator)", "message_ms", per_ms, f"mean of {s['applied']:,}, end to end"),
            _measure("live feed (simulator)", "updates_per_s", s["applied"] / s["seconds"], note),
            _measure("live feed (simulator)", "rss_mb", max(added, 0.0), "simulator included")]


def _check(args: argparse.Namespace) -> int:
    prog = "liqcore bench"
    missing = feed_missing()
    if missing:
        return fail(prog, f"--check measures the live feed through ccxt.pro and needs ccxt and aiohttp ({missing} "
                          f"is missing): pip install 'liqcore[feed]'")
    from liqcore.errors import LiqError
    import liqcore.alerts  # noqa: F401  (imported before the RSS baselines: libraries are not the components)
    import liqcore.feed  # noqa: F401
    import liqcore.sim  # noqa: F401
    import liqcore.watch  # noqa: F401

    t0 = time.perf_counter()
    try:
        frames = _replay_frames()
        gc.collect()
        measures = check_engine(frames) + check_monitor(frames) + check_feed()
    except (LiqError, OSError, ValueError, TimeoutError) as exc:
        return fail(prog, exc)
    seconds = time.perf_counter() - t0
    bad_notes = [m for m in measures if m.note.startswith("NOT")]
    ok = all(m.ok for m in measures) and not bad_notes
    if args.json:
        print_json({"ok": ok, "seconds": round(seconds, 2), "process_rss_mb": round(_rss_mb(), 1),
                    "measures": [m.to_dict() for m in measures]})
    else:
        print(f"liqcore bench --check: the seed targets, measured in {seconds:.1f} s (process RSS now "
              f"{_rss_mb():.0f} MB, libraries included)")
        print(f"{'component':<22} {'metric':<22} {'measured':>10} {'target':>8} {'margin':>9}  ok  note")
        for m in measures:
            bound = "<" if m.kind == "max" else ">"
            value = f"{m.value:,.0f}" if m.value >= 100 else f"{m.value:.3f}"
            print(f"{m.component:<22} {m.unit:<22} {value:>10} {bound + format(m.target, ',g'):>8} "
                  f"{m.margin:>8,.0f}x  {'yes' if m.ok else 'NO ':<3} {m.note}")
        print("OK: every target met" if ok else "NOT OK: " + "; ".join(
            [f"{m.component} {m.unit}" for m in measures if not m.ok] + [f"{m.component}: {m.note}" for m in bad_notes]))
    return 0 if ok else 1


def benchmarks_dir(given: str | None = None) -> Path | None:
    """The benchmark suite: ``given``, else ``benchmarks/`` beside the ``liqcore`` package (a
    source checkout or an editable install), else ``./benchmarks``; None when none holds report.py."""
    import liqcore

    candidates = [Path(given)] if given else [Path(liqcore.__file__).resolve().parent.parent / "benchmarks",
                                              Path.cwd() / "benchmarks"]
    return next((d.resolve() for d in candidates if (d / "report.py").is_file()), None)


def _suite(args: argparse.Namespace) -> int:
    prog = "liqcore bench"
    where = benchmarks_dir(args.benchmarks)
    if where is None:
        return fail(prog, f"no benchmark suite at {args.benchmarks or 'benchmarks/'} (it ships with a source "
                          f"checkout of liqcore, not with the installed package; liqcore bench --check needs none)")
    try:
        import pytest_benchmark  # noqa: F401
    except ImportError:
        return fail(prog, "the benchmark suite needs pytest-benchmark: pip install 'liqcore[bench]'")
    files = [f if f.startswith("bench_") else f"bench_{f}" for f in args.files]
    files = [f if f.endswith(".py") else f + ".py" for f in files]
    unknown = [f for f in files if not (where / f).is_file()]
    if unknown:
        have = ", ".join(sorted(p.name for p in where.glob("bench_*.py")))
        return fail(prog, f"no {', '.join(unknown)} in {where} (there: {have})")
    env = dict(os.environ)
    if args.quick:
        env.update(LIQ_BENCH_N="20000", LIQ_BENCH_ROUNDS="1", LIQ_BENCH_MEM_BOOKS="50")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [sys.executable, "-m", "pytest", *(f"{where.name}/{f}" for f in files), "-q", "-p", "no:cacheprovider",
               f"--benchmark-json={out}"]
        # from the checkout's root: benchmarks/ is imported as a package there (see its README)
        done = subprocess.run(cmd, cwd=where.parent, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not out.is_file():
            tail = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
            return fail(prog, f"the benchmark run failed (pytest exit {done.returncode}: {tail})", code=1)
        report = subprocess.run([sys.executable, "-m", f"{where.name}.report", str(out)], cwd=where.parent,
                                capture_output=True, text=True)
        if report.returncode != 0:
            return fail(prog, f"{where.name}/report.py failed: {report.stderr.strip().splitlines()[-1:]}", code=1)
        data = json.loads(out.read_text())
    if args.json:
        print_json({"suite": str(where), "files": files, "quick": args.quick, "report": report.stdout,
                    "benchmarks": [{"name": b["name"], "group": b["group"], "median_s": b["stats"]["median"],
                                    "extra_info": b.get("extra_info", {})} for b in data["benchmarks"]]})
    else:
        print(report.stdout, end="")
    return 0


def build_parser(prog: str = "liqcore bench") -> argparse.ArgumentParser:
    """The options of ``liqcore bench``."""
    p = Parser(
        prog=prog,
        description="Without --check: run the benchmark suite of a source checkout (benchmarks/, with "
                    "pytest-benchmark; liqcore against its peers) and print the peer table of benchmarks/report.py "
                    "(medians per operation, peer/liqcore ratios, margins on the targets). With --check: measure "
                    "in this process, in a few seconds, the seed targets (< 10 ms per delta message, > 1,000 "
                    "updates/s, < 100 MB of RSS added) on the compiled book applying the bundled Binance "
                    "recording's real deltas, on the live feed (the recording replayed by the local simulator on "
                    "127.0.0.1 through ccxt.pro and LiveFeed) and on the alert monitor, and print measured vs "
                    "target with the margin. Offline.",
        epilog="Exit status: 0 when the suite ran (--check: every target met and every replay verified), 1 when the "
               "suite failed (--check: a target missed or a replay not verified), 2 on an error (a bad option, no "
               "benchmark suite here, pytest-benchmark or ccxt missing).")
    p.add_argument("--check", action="store_true", help="measure and enforce the seed targets (no suite needed)")
    p.add_argument("--benchmarks", metavar="DIR", default=None,
                   help="the benchmark suite (default: benchmarks/ of the source checkout liqcore runs from)")
    p.add_argument("--files", nargs="+", default=["bench_book.py"], metavar="FILE",
                   help="benchmark files of the suite (default bench_book.py, the peer table)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 20,000 updates, 1 round, 50 books for memory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the suite or the check; the exit status of the help."""
    return _check(args) if args.check else _suite(args)
