"""The deterministic synthetic L2 stream of ``research/peers.md``, generated once and cached.

Every peer and liqcore are fed exactly this stream, so per-update figures are comparable
within one run. Generation is pure Python (about 5 s for 1M updates); the result is
cached as ``.npy`` under ``benchmarks/.cache/`` keyed by the generator version and N.

Stream (peers.md, "The stream"):

- rng ``np.random.default_rng(20240611)``; tick 0.1, lot 0.001.
- snapshot: 1000 levels per side around 60000.0, ~20% of ticks empty, best bid 60000.0,
  best ask 60000.1, lognormal sizes with mean ~0.8 rounded to 3 decimals.
- updates: ~70% size changes of an existing level at Geometric(0.2) levels from the
  touch; ~14.3% deletions (half Geometric(0.1) from the touch, half anywhere on the
  side); ~15% insertions at a new price Geometric(0.08) ticks from a drifting centre
  (random walk, sigma 0.25 tick per update). An insertion that would cross the book is
  emitted as the deletion of the opposite touch (a "sweep"), so the book is never crossed.
- each update is (side 0 bid / 1 ask, price float = tick / 10, size float = lots / 1000;
  size 0 deletes): the same floats a JSON parser produces for the wire strings.

peers.md describes the stream but does not publish its generator; this is an
implementation of that description. Its summary statistics (``stream_stats``) are
printed by ``python -m benchmarks.stream`` to compare with peers.md.
"""

from __future__ import annotations

import bisect
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 20240611
LEVELS = 1000
TICK = 0.1
LOT = 0.001
MID_TICK = 600000          # 60000.0 in ticks of 0.1
N_UPDATES = 1_000_000
GEN_VERSION = 2            # bump when the generator changes (invalidates the cache)

CACHE_DIR = Path(os.environ.get("LIQ_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))


@dataclass
class Stream:
    """Snapshot (ticks/lots as int64 and as floats) and the update arrays."""

    snap_bids: np.ndarray   # (1000, 2) float64 (price, size), best first
    snap_asks: np.ndarray
    sides: np.ndarray       # (N,) uint8
    prices: np.ndarray      # (N,) float64
    sizes: np.ndarray       # (N,) float64; 0 deletes
    ref_bids: np.ndarray    # final book, all bid levels best first, (k, 2) float64
    ref_asks: np.ndarray
    stats: dict

    @property
    def n(self) -> int:
        return int(self.sides.shape[0])

    def updates(self, n: int | None = None) -> list[tuple[int, float, float]]:
        """The first n updates as a list of (side, price, size) Python tuples (what peers get)."""
        k = self.n if n is None else n
        return list(zip(self.sides[:k].tolist(), self.prices[:k].tolist(), self.sizes[:k].tolist()))


def _lot_sizes(rng: np.random.Generator, k: int) -> np.ndarray:
    # lognormal with mean 0.8 BTC: mean = exp(mu + s^2/2)
    s = 1.0
    mu = np.log(0.8) - s * s / 2
    lots = np.rint(rng.lognormal(mu, s, k) * 1000).astype(np.int64)
    return np.maximum(lots, 1)


def generate(n: int = N_UPDATES) -> Stream:
    rng = np.random.default_rng(SEED)
    # ---- snapshot: walk outwards from the touch, keeping ~80% of ticks
    bid_ticks, ask_ticks = [], []
    t = MID_TICK
    while len(bid_ticks) < LEVELS:
        if not bid_ticks or rng.random() < 0.8:
            bid_ticks.append(t)
        t -= 1
    t = MID_TICK + 1
    while len(ask_ticks) < LEVELS:
        if not ask_ticks or rng.random() < 0.8:
            ask_ticks.append(t)
        t += 1
    snap_lots = _lot_sizes(rng, 2 * LEVELS)
    # per side: a sorted list of ticks (ascending) + dict tick -> lots
    bids = sorted(bid_ticks)
    asks = sorted(ask_ticks)
    bq = dict(zip(bid_ticks, snap_lots[:LEVELS].tolist()))
    aq = dict(zip(ask_ticks, snap_lots[LEVELS:].tolist()))
    snap_b = np.array([[t / 10, bq[t] / 1000] for t in bid_ticks])
    snap_a = np.array([[t / 10, aq[t] / 1000] for t in ask_ticks])

    # ---- random draws in bulk (the per-update loop only consumes them)
    kind_u = rng.random(n)
    side_u = rng.integers(0, 2, n)
    geo_change = rng.geometric(0.2, n) - 1
    geo_del = rng.geometric(0.1, n) - 1
    any_u = rng.random(n)
    half_u = rng.random(n)
    geo_ins = rng.geometric(0.08, n) - 1
    drift = rng.normal(0.0, 0.25, n)
    new_lots = _lot_sizes(rng, n).tolist()

    out_side = np.empty(n, np.uint8)
    out_tick = np.empty(n, np.int64)
    out_lots = np.empty(n, np.int64)
    centre = MID_TICK + 0.5
    n_change = n_del = n_ins = n_sweep = 0
    min_lv, max_lv = LEVELS, LEVELS
    kind_l, side_l, gc_l, gd_l, any_l, half_l, gi_l, drift_l = (
        kind_u.tolist(), side_u.tolist(), geo_change.tolist(), geo_del.tolist(), any_u.tolist(),
        half_u.tolist(), geo_ins.tolist(), drift.tolist())
    spread_max = 0
    for i in range(n):
        centre += drift_l[i]
        # keep the centre tied to the book so it cannot wander off (a real mid does not)
        mid = (bids[-1] + asks[0]) / 2
        centre += 0.001 * (mid - centre)
        sd = side_l[i]
        ticks, qty = (bids, bq) if sd == 0 else (asks, aq)
        nlev = len(ticks)
        k = kind_l[i]
        if k < 0.70 or (k < 0.843 and nlev <= 900):
            # size change near the touch (deletions turn into changes when a side runs thin)
            d = min(gc_l[i], nlev - 1)
            t = ticks[-1 - d] if sd == 0 else ticks[d]
            q = new_lots[i]
            if q == qty[t]:
                q += 1
            qty[t] = q
            n_change += 1
        elif k < 0.843 or nlev >= LEVELS:
            # deletion; an insertion on a full side (1000 levels) deletes instead, which
            # keeps each side between ~940 and 1000 levels as in peers.md
            if half_l[i] < 0.5 and k < 0.843:
                d = min(gd_l[i], nlev - 1)
            else:
                d = int(any_l[i] * nlev)
            t = ticks[-1 - d] if sd == 0 else ticks[d]
            ticks.pop(bisect.bisect_left(ticks, t))
            del qty[t]
            q = 0
            n_del += 1
        else:
            d = gi_l[i]
            if sd == 0:
                t = int(np.floor(centre)) - d
                while t in bq:
                    t -= 1
                cross = t >= asks[0]
            else:
                t = int(np.ceil(centre)) + d
                while t in aq:
                    t += 1
                cross = t <= bids[-1]
            if cross:
                # sweep: the opposite touch is taken out instead
                sd = 1 - sd
                ticks, qty = (bids, bq) if sd == 0 else (asks, aq)
                if len(ticks) <= 1:      # never empty a side: fall back to a size change
                    t = ticks[0]
                    q = qty[t] + 1
                    qty[t] = q
                    n_change += 1
                else:
                    t = ticks[-1] if sd == 0 else ticks[0]
                    ticks.pop(-1 if sd == 0 else 0)
                    del qty[t]
                    q = 0
                    n_sweep += 1
            else:
                q = new_lots[i]
                bisect.insort(ticks, t)
                qty[t] = q
                n_ins += 1
        out_side[i] = sd
        out_tick[i] = t
        out_lots[i] = q
        nb, na = len(bids), len(asks)
        if nb < min_lv:
            min_lv = nb
        if na < min_lv:
            min_lv = na
        if nb > max_lv:
            max_lv = nb
        if na > max_lv:
            max_lv = na
        if (i & 1023) == 0:
            spread_max = max(spread_max, asks[0] - bids[-1])
        assert bids[-1] < asks[0]
    ref_b = np.array([[t / 10, bq[t] / 1000] for t in reversed(bids)])
    ref_a = np.array([[t / 10, aq[t] / 1000] for t in asks])
    stats = {
        "n": n,
        "change_pct": 100 * n_change / n, "delete_pct": 100 * n_del / n,
        "insert_pct": 100 * n_ins / n, "sweep_pct": 100 * n_sweep / n,
        "levels_min": min_lv, "levels_max": max_lv,
        "final_bids": len(bids), "final_asks": len(asks),
        "final_mid": (bids[-1] + asks[0]) / 20,
        "sampled_spread_max_ticks": spread_max,
    }
    return Stream(snap_b, snap_a, out_side, out_tick / 10, out_lots / 1000, ref_b, ref_a, stats)


_FIELDS = ("snap_bids", "snap_asks", "sides", "prices", "sizes", "ref_bids", "ref_asks")


def load(n: int = N_UPDATES) -> Stream:
    """The stream of n updates, from the cache when present (generated and cached otherwise)."""
    d = CACHE_DIR / f"stream_v{GEN_VERSION}_{SEED}_{n}"
    if (d / "done").exists():
        arrs = {f: np.load(d / f"{f}.npy") for f in _FIELDS}
        import json
        return Stream(**arrs, stats=json.loads((d / "stats.json").read_text()))
    s = generate(n)
    d.mkdir(parents=True, exist_ok=True)
    for f in _FIELDS:
        np.save(d / f"{f}.npy", getattr(s, f))
    import json
    (d / "stats.json").write_text(json.dumps(s.stats, indent=1))
    (d / "done").write_text("ok\n")
    return s


def walk_levels(levels, notional: float) -> tuple[float, float]:
    """Average price and quantity of a market order of `notional` quote over
    (price, size) pairs, best first, taking part of the last level (peers.md d)).
    The one Python walk every peer is measured with."""
    left = notional
    qty = 0.0
    for p, s in levels:
        v = p * s
        if v >= left:
            qty += left / p
            return notional / qty, qty
        left -= v
        qty += s
    return (notional - left) / qty if qty else float("nan"), qty


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_UPDATES
    s = load(n)
    for k, v in s.stats.items():
        print(f"{k:>26}: {v}")
    print(f"{'walk $1M buy':>26}: vwap {walk_levels(s.ref_asks.tolist(), 1e6)}")
