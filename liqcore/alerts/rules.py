"""Anomaly rules over a stream of liquidity observations, debounced into alert episodes.

Each :class:`Observation` (one market at one time: mid, spread, ±1% depth per side, imbalance,
optionally the cross-venue median price) goes through every rule of an :class:`AlertEngine`. A
rule keeps its own baseline per market and says whether the observation *breaches* (and how
badly) or *clears*. The engine debounces (analytics.md §8: "fire after M of N consecutive
breaches, clear on a lower threshold"): an episode starts when ``fire`` of the last ``window``
observations breached, and ends after ``clear`` consecutive clearing observations, so one
episode is one alert, delivered at its start and again at its end (``ended_ms`` set).

The four rules (analytics.md §8's table; every threshold a parameter):

=================  =====================================  ==========================================
type               breach                                 clear / severity
=================  =====================================  ==========================================
SPREAD_WIDENING    robust z of log(spread) over the       z < ``clear_z`` or ratio < ``clear_ratio``;
                   lookback > ``z`` (3.5) **and** spread  HIGH at 5x the median spread, MEDIUM at 3x
                   > ``ratio`` (2) x its median
DEPTH_DROP         ±1% depth of a side below its EWMA     drop < ``clear_pct`` (30%); HIGH at a 90%
                   (half-life 10 min) by ``drop_pct``     drop (a side gone: 100%), MEDIUM at 70%
                   (50%)
IMBALANCE          ``|I| > level`` (0.6) held for         ``|I| < clear_level`` (0.4); HIGH at 0.9,
                   ``hold_s`` (10 s); optionally |z| of   MEDIUM at 0.75
                   I on an EWMA > ``z``
PRICE_ANOMALY      1-s log return > ``z`` (5) σ of its    z below and deviation below half their
                   EWMA, or ``|mid - venue median|`` >    thresholds; HIGH at 2x the threshold,
                   ``venue_spreads`` (5) x the spread     MEDIUM at 1.4x
                   and > ``venue_bps`` (10 bps)
=================  =====================================  ==========================================

A one-sided book (one side empty) is a depth drop of that side (100%, HIGH), not an imbalance
nor a spread or price event: those rules skip observations without both sides.

Baselines exclude the observation being judged. Robust baselines (spread) are recomputed from
their lookback every ``refresh_s`` seconds, so a check is O(1) and a refresh O(lookback); EWMA
baselines decay with time (``lam = 0.5 ** (dt / half_life_s)``), so irregular update rates do not
change their memory. Units: times in ns since the epoch (``ts``), prices quote per base, depth in
quote notional, spread in bps.

When every rule of an :class:`AlertEngine` is one of the four classes above (not a subclass),
the engine runs them compiled (``src/alerts.c`` through ``liqcore._alerts``: the same operations
in the same order, so the same alerts, about 12x faster); any other rule puts the whole engine
on the Python path below, which is the reference.
"""

from __future__ import annotations

import math
from collections import deque
from array import array
from dataclasses import dataclass, replace
from typing import Any, Iterable, NamedTuple, Optional, Protocol

import numpy as np

from liqcore import _alerts
from liqcore.alerts.baselines import robust_scale
from liqcore.alerts.records import ALERT_TYPES, LiquidityAlert
from liqcore.errors import AlertInputError
from liqcore.risk.checks import NUMBER_TYPES, number

__all__ = ["Observation", "Check", "Rule", "Debounce", "SpreadWidening", "DepthDrop", "Imbalance",
           "PriceAnomaly", "AlertEngine", "default_rules", "SUGGESTED_ACTIONS"]

_NS = 1_000_000_000

#: what a person should do about each alert type (the record's ``suggested_action``)
SUGGESTED_ACTIONS = {
    "SPREAD_WIDENING": "Use limit orders, reduce order size or wait: crossing the spread costs more than usual.",
    "DEPTH_DROP": "Reduce order sizes and split large orders over time: the book absorbs less than usual.",
    "IMBALANCE": "Expect pressure toward the thin side; check whether the heavy side's orders are genuine.",
    "PRICE_ANOMALY": "Check the price against other venues before trading; pause automated strategies.",
}


class Observation(NamedTuple):
    """One market's liquidity at one time (a named tuple: cheap to build on every book update).

    ``ts``: ns since the epoch; ``mid`` quote per base (NaN when a side is empty); ``spread_bps``
    (NaN when a side is empty); ``bid_depth`` / ``ask_depth``: quote notional within 1% of the
    mid (0 for an empty side); ``imbalance``: -1..1 (bid-heavy > 0); ``reference_price``: the
    median mid of the other venues (quote per base), None when not compared.
    """

    exchange: str
    symbol: str
    ts: int
    mid: float
    spread_bps: float
    bid_depth: float
    ask_depth: float
    imbalance: float
    reference_price: float | None = None

    @classmethod
    def from_report(cls, report: Any, ts: int, *, exchange: str | None = None, symbol: str | None = None,
                    reference_price: float | None = None) -> Observation:
        """From an :class:`liqcore.LiquidityReport` (``OrderBook.liquidity_report()``): its mid,
        spread, ±1% liquidity per side and weighted imbalance."""
        return cls(exchange if exchange is not None else (report.exchange or ""),
                   symbol if symbol is not None else (report.symbol or ""), ts, report.mid, report.spread_bps,
                   report.bid_liquidity_1pct, report.ask_liquidity_1pct, report.weighted_imbalance, reference_price)

    @property
    def two_sided(self) -> bool:
        """Both sides have depth and the mid is a number."""
        return self.bid_depth > 0.0 and self.ask_depth > 0.0 and self.mid == self.mid


#: A rule's verdict on one observation, a plain tuple (built on every update, so no class):
#: ``(breach, clear, current, baseline, z, measure)`` -- breach / clear (both False: neither, the
#: episode state holds), the metric's current and baseline values, z when the rule has one (else
#: None), and the measure its severity is graded on (a ratio, a drop in %, |I|, a multiple).
Check = tuple[bool, bool, float, float, Optional[float], float]


class Rule(Protocol):
    """What the engine needs of a rule: its alert ``type``, a ``debounce`` (None: the engine's),
    ``state()`` (a fresh per-market state), ``check(state, obs)`` (a :data:`Check`, or None while
    the baseline is warming up: neither breach nor clear) and, when an alert fires,
    ``describe(state, obs, check)`` -> ``(metric, severity, baseline values)``. Optionally
    ``warm(state)``: False while the rule's baseline is warming up (a rule without it is always
    warm; :meth:`AlertEngine.warming` reads it)."""

    type: str
    debounce: Debounce | None

    def state(self) -> Any: ...

    def check(self, state: Any, obs: Observation) -> Check | None: ...

    def describe(self, state: Any, obs: Observation, check: Check) -> tuple[str, str, dict[str, Any]]: ...


def _severity(x: float, medium: float, high: float) -> str:
    return "HIGH" if x >= high else "MEDIUM" if x >= medium else "LOW"


def _positive(name: str, value: float) -> float:
    return number(name, value, low=0.0, error=AlertInputError)


class _TimeEwma:
    """EWMA mean and variance decaying with time, ``lam = 0.5 ** (dt / half_life)``, normalised by
    the weight seen so far (pandas' ``adjust=True``: ``mean = sum lam^i x_i / sum lam^i``), so the
    first values are weighted almost equally instead of the first one standing for the whole
    past. The variance is the same weighted mean of the squared deviations from the mean before
    each value."""

    __slots__ = ("half_life", "s", "w", "v", "wv", "mean", "var", "ts", "seconds")

    def __init__(self, half_life_s: float) -> None:
        self.half_life = half_life_s * _NS
        self.s = self.w = self.v = self.wv = 0.0   # decayed sums: values, weights, squared deviations, weights
        self.mean = math.nan
        self.var = 0.0
        self.ts = 0
        self.seconds = 0.0              # how long the baseline has been fed

    def update(self, ts: int, x: float) -> None:
        if self.w:
            dt = max(ts - self.ts, 0)
            lam = 0.5 ** (dt / self.half_life)
            self.seconds += dt / _NS
            d = x - self.mean
            self.v = d * d + lam * self.v
            self.wv = 1.0 + lam * self.wv
            self.var = self.v / self.wv
        else:
            lam = 0.0
        self.s = x + lam * self.s
        self.w = 1.0 + lam * self.w
        self.mean = self.s / self.w
        self.ts = ts


class _Window:
    """Timestamped values of the last ``lookback`` ns, at most one per ``sample`` ns, in flat
    arrays (appends O(1); a refresh views them without copying). The robust baseline's memory."""

    __slots__ = ("ts", "x", "start", "last")

    def __init__(self) -> None:
        self.ts = array("q")
        self.x = array("d")
        self.start = 0
        self.last = -(1 << 62)

    def add(self, ts: int, x: float, sample: int) -> None:
        if ts - self.last >= sample:
            self.ts.append(ts)
            self.x.append(x)
            self.last = ts

    def values(self, since: int) -> np.ndarray:
        ts = self.ts
        start = self.start
        while start < len(ts) and ts[start] < since:
            start += 1
        if start > 4096 and start * 2 > len(ts):      # drop the expired prefix now and then
            del self.ts[:start], self.x[:start]
            start = 0
        self.start = start
        # a copy: a view would pin the array's buffer and forbid the next append
        return np.frombuffer(self.x, dtype=np.float64)[start:].copy()


class SpreadWidening:
    """SPREAD_WIDENING: robust z of ``log(spread_bps)`` against its median/MAD over the last
    ``lookback_s`` seconds (one value kept per ``sample_s``, the baseline recomputed every
    ``refresh_s``, at least ``min_count`` values) above ``z`` **and** the spread above ``ratio`` x
    the baseline median; clears when z < ``clear_z`` or the ratio < ``clear_ratio``; severity by
    the ratio (``medium_ratio``, ``high_ratio``). Log because spreads are right-skewed
    (analytics.md §8)."""

    type = "SPREAD_WIDENING"

    def __init__(self, *, z: float = 3.5, ratio: float = 2.0, clear_z: float = 2.0, clear_ratio: float = 1.5,
                 lookback_s: float = 300.0, sample_s: float = 0.1, refresh_s: float = 5.0, min_count: int = 30,
                 medium_ratio: float = 3.0, high_ratio: float = 5.0, debounce: Debounce | None = None) -> None:
        self.z, self.ratio = _positive("z", z), _positive("ratio", ratio)
        self.clear_z, self.clear_ratio = _positive("clear_z", clear_z), _positive("clear_ratio", clear_ratio)
        if self.clear_z > self.z or self.clear_ratio > self.ratio:
            raise AlertInputError("clear_z/clear_ratio: the clear thresholds must not exceed the breach ones")
        self.lookback = int(_positive("lookback_s", lookback_s) * _NS)
        self.sample = int(number("sample_s", sample_s, low=0.0, low_open=False, error=AlertInputError) * _NS)
        self.refresh = int(_positive("refresh_s", refresh_s) * _NS)
        self.min_count = _count("min_count", min_count)
        self.medium_ratio, self.high_ratio = _positive("medium_ratio", medium_ratio), _positive("high_ratio", high_ratio)
        self.debounce = debounce

    def state(self) -> list[Any]:
        # window, median of log spread, its robust scale, last refresh (ns), values in the baseline
        return [_Window(), math.nan, math.nan, None, 0]

    def check(self, st: list[Any], obs: Observation) -> Check | None:
        s = obs.spread_bps
        if not (0.0 < s < math.inf):
            return None                 # a locked, crossed or one-sided book has no log spread
        x = math.log(s)
        window: _Window = st[0]
        if st[3] is None or obs.ts - st[3] >= self.refresh:
            v = window.values(obs.ts - self.lookback)
            st[4] = len(v)
            if len(v):
                st[1], _, st[2], _ = robust_scale(v, 1e-12)
            st[3] = obs.ts
        window.add(obs.ts, x, self.sample)
        if not self.warm(st):
            return None
        z = (x - st[1]) / st[2]
        base = math.exp(st[1])
        ratio = s / base
        return (z > self.z and ratio > self.ratio, z < self.clear_z or ratio < self.clear_ratio, s, base, z, ratio)

    def warm(self, st: list[Any]) -> bool:
        """Whether the baseline held ``min_count`` values at its last refresh."""
        return st[4] >= self.min_count

    def describe(self, st: list[Any], obs: Observation, check: Check) -> tuple[str, str, dict[str, Any]]:
        return "spread_bps", _severity(check[5], self.medium_ratio, self.high_ratio), {
            "median_spread_bps": check[3], "log_scale": st[2], "count": st[4], "lookback_s": self.lookback / _NS,
            "z": self.z, "ratio": self.ratio}


class DepthDrop:
    """DEPTH_DROP: the ±1% depth of a side (quote) below its time-decaying EWMA (``half_life_s``,
    fed ``warmup_s`` before judging) by at least ``drop_pct`` percent; clears below
    ``clear_pct``; severity by the drop (``medium_pct``, ``high_pct``). The side that dropped
    most is reported. The baseline keeps learning during an episode: a drop that lasts many
    half-lives becomes the new normal (and the episode clears), as a desk would expect."""

    type = "DEPTH_DROP"

    def __init__(self, *, drop_pct: float = 50.0, clear_pct: float = 30.0, half_life_s: float = 600.0,
                 warmup_s: float = 30.0, medium_pct: float = 70.0, high_pct: float = 90.0,
                 debounce: Debounce | None = None) -> None:
        self.drop = number("drop_pct", drop_pct, low=0.0, high=100.0, error=AlertInputError)
        self.clear = number("clear_pct", clear_pct, low=0.0, low_open=False, high=self.drop, error=AlertInputError)
        self.half_life = _positive("half_life_s", half_life_s)
        self.warmup = number("warmup_s", warmup_s, low=0.0, low_open=False, error=AlertInputError)
        self.medium_pct, self.high_pct = _positive("medium_pct", medium_pct), _positive("high_pct", high_pct)
        self.debounce = debounce

    def state(self) -> list[Any]:
        # bid and ask baselines, the side that dropped most at the last check
        return [_TimeEwma(self.half_life), _TimeEwma(self.half_life), "bid"]

    def check(self, st: list[Any], obs: Observation) -> Check | None:
        bid: _TimeEwma = st[0]
        ask: _TimeEwma = st[1]
        ready = self.warm(st)
        if ready:
            bid_drop = 100.0 * (1.0 - obs.bid_depth / bid.mean)
            ask_drop = 100.0 * (1.0 - obs.ask_depth / ask.mean)
            cleared = bid_drop < self.clear and ask_drop < self.clear
            if bid_drop >= ask_drop:
                out: Check = (bid_drop >= self.drop, cleared, obs.bid_depth, bid.mean, None, bid_drop)
                st[2] = "bid"
            else:
                out = (ask_drop >= self.drop, cleared, obs.ask_depth, ask.mean, None, ask_drop)
                st[2] = "ask"
        if 0.0 <= obs.bid_depth < math.inf:
            bid.update(obs.ts, obs.bid_depth)
        if 0.0 <= obs.ask_depth < math.inf:
            ask.update(obs.ts, obs.ask_depth)
        return out if ready else None

    def warm(self, st: list[Any]) -> bool:
        """Whether both sides' baselines have been fed ``warmup_s`` seconds of positive depth."""
        bid: _TimeEwma = st[0]
        ask: _TimeEwma = st[1]
        return bid.seconds >= self.warmup and ask.seconds >= self.warmup and bid.mean > 0 and ask.mean > 0

    def describe(self, st: list[Any], obs: Observation, check: Check) -> tuple[str, str, dict[str, Any]]:
        return "depth_1pct", _severity(check[5], self.medium_pct, self.high_pct), {
            "side": st[2], "drop_pct": check[5], "bid_baseline": st[0].mean, "ask_baseline": st[1].mean,
            "half_life_s": self.half_life, "threshold_pct": self.drop}


class Imbalance:
    """IMBALANCE: ``|I| > level`` held for at least ``hold_s`` seconds, or (when ``z`` is given)
    ``|z|`` of I against its time-decaying EWMA above ``z``; clears when ``|I| < clear_level``;
    severity by ``|I|`` (``medium_level``, ``high_level``). ``z`` is off by default: on a calm
    book the imbalance swings widely and a z rule alone fires on noise; the held absolute level
    is what a desk watches."""

    type = "IMBALANCE"

    def __init__(self, *, level: float = 0.6, hold_s: float = 10.0, clear_level: float = 0.4,
                 z: float | None = None, half_life_s: float = 300.0, medium_level: float = 0.75,
                 high_level: float = 0.9, debounce: Debounce | None = None) -> None:
        self.level = number("level", level, low=0.0, high=1.0, high_open=True, error=AlertInputError)
        self.clear_level = number("clear_level", clear_level, low=0.0, low_open=False, high=self.level,
                                  error=AlertInputError)
        self.hold = int(number("hold_s", hold_s, low=0.0, low_open=False, error=AlertInputError) * _NS)
        self.z = None if z is None else _positive("z", z)
        self.half_life = _positive("half_life_s", half_life_s)
        self.medium_level, self.high_level = _positive("medium_level", medium_level), _positive("high_level", high_level)
        self.debounce = debounce

    def state(self) -> list[Any]:
        # since when |I| > level (ns, None), on which side (+1/-1), the EWMA of I
        return [None, 0, _TimeEwma(self.half_life)]

    def check(self, st: list[Any], obs: Observation) -> Check | None:
        i = obs.imbalance
        if not (obs.bid_depth > 0.0 and obs.ask_depth > 0.0 and -1.0 <= i <= 1.0):
            st[0] = None                # one-sided: a depth event, not an imbalance
            return None
        ew: _TimeEwma = st[2]
        z = (i - ew.mean) / math.sqrt(ew.var) if ew.var > 0.0 else None
        ew.update(obs.ts, i)
        a = abs(i)
        if a > self.level:
            sign = 1 if i > 0 else -1
            if st[0] is None or st[1] != sign:
                st[0], st[1] = obs.ts, sign
        else:
            st[0] = None
        held = st[0] is not None and obs.ts - st[0] >= self.hold
        by_z = self.z is not None and z is not None and abs(z) > self.z
        return (held or by_z, a < self.clear_level, i, ew.mean, z, a)

    def warm(self, st: list[Any]) -> bool:
        """Always: the held level needs no baseline (the optional z judges once I has a variance)."""
        return True

    def describe(self, st: list[Any], obs: Observation, check: Check) -> tuple[str, str, dict[str, Any]]:
        ew: _TimeEwma = st[2]
        return "imbalance", _severity(check[5], self.medium_level, self.high_level), {
            "level": self.level, "hold_s": self.hold / _NS, "held_since_ns": st[0], "ewma_mean": ew.mean,
            "ewma_std": math.sqrt(ew.var), "z": self.z}


class PriceAnomaly:
    """PRICE_ANOMALY: the log return of the mid over at least ``interval_s`` (1 s; a longer gap's
    return scaled by ``sqrt(gap / interval)``) above ``z`` (5) σ of its time-decaying EWMA
    (``half_life_s``; ``warmup`` returns first), or, with a ``reference_price`` on the
    observation, ``|mid - reference|`` above ``venue_spreads`` x the spread and above ``venue_bps``
    of the mid (the floor: on a liquid pair the quoted spread is a tick while venues sit a few
    ticks apart). A spell without a mid (a one-sided book) restarts the returns: no return is
    taken across it. Clears when both are below half their thresholds. Severity by the larger of the two as a multiple of its threshold
    (MEDIUM at ``medium``, HIGH at ``high``). A jump is judged on its first return, so this rule
    fires on one breach by default (``Debounce(1, 1, 3)``)."""

    type = "PRICE_ANOMALY"

    def __init__(self, *, z: float = 5.0, venue_spreads: float = 5.0, venue_bps: float = 10.0, interval_s: float = 1.0,
                 half_life_s: float = 300.0, warmup: int = 30, medium: float = 1.4, high: float = 2.0,
                 debounce: Debounce | None = None) -> None:
        self.z, self.venue_spreads = _positive("z", z), _positive("venue_spreads", venue_spreads)
        self.venue_bps = number("venue_bps", venue_bps, low=0.0, low_open=False, error=AlertInputError)
        self.interval = int(_positive("interval_s", interval_s) * _NS)
        self.half_life = _positive("half_life_s", half_life_s)
        self.warmup = _count("warmup", warmup)
        self.medium, self.high = _positive("medium", medium), _positive("high", high)
        self.debounce: Debounce | None = debounce if debounce is not None else Debounce(fire=1, window=1, clear=3)

    def venue_threshold(self, obs: Observation) -> float:
        """The cross-venue threshold in spreads for ``obs``: ``venue_spreads``, or the
        ``venue_bps`` floor expressed in spreads when it is larger (the compiled path reports the
        same number). O(1)."""
        thr = self.venue_spreads
        if obs.reference_price is not None and obs.spread_bps > 0:
            floor = self.venue_bps / obs.spread_bps      # the bps floor, in spreads
            thr = floor if floor > thr else thr
        return thr

    def state(self) -> list[Any]:
        # mid and time at the last return's end, the mid before it, returns seen, EWMA of r^2, last z,
        # the last deviation from the venues and its threshold, in spreads
        return [math.nan, 0, math.nan, 0, _TimeEwma(self.half_life), 0.0, 0.0, self.venue_spreads]

    def check(self, st: list[Any], obs: Observation) -> Check | None:
        mid = obs.mid
        if not (obs.bid_depth > 0.0 and obs.ask_depth > 0.0 and 0.0 < mid < math.inf):
            # no mid (a one-sided spell): the next return starts afresh, not across the gap
            st[0], st[5] = math.nan, 0.0
            return None
        ew: _TimeEwma = st[4]
        if st[0] != st[0]:
            st[0], st[1] = mid, obs.ts
        elif obs.ts - st[1] >= self.interval:
            # per interval: a return over a longer gap (slow updates, a one-sided spell) is scaled
            # by sqrt(gap / interval), as a random walk's
            r = math.log(mid / st[0]) / math.sqrt((obs.ts - st[1]) / self.interval)
            sigma = math.sqrt(ew.mean) if ew.mean > 0 else 0.0     # EWMA of r^2 (NaN before any)
            st[5] = r / sigma if self.warm(st) and sigma > 0 else 0.0
            ew.update(obs.ts, r * r)
            st[3] += 1
            st[2], st[0], st[1] = st[0], mid, obs.ts
        z = st[5]
        ref = obs.reference_price
        dev = 0.0
        thr = self.venue_threshold(obs)
        if ref is not None and obs.spread_bps > 0:
            dev = abs(mid - ref) / (obs.spread_bps * 1e-4 * mid)
        st[6], st[7] = dev, thr
        if ref is None and not self.warm(st):
            return None
        worst = max(abs(z) / self.z, dev / thr)
        by_venue = dev > thr
        return (abs(z) > self.z or by_venue, worst < 0.5, mid, float(ref) if by_venue and ref is not None else st[2],
                z, worst)

    def warm(self, st: list[Any]) -> bool:
        """Whether ``warmup`` returns have been taken (the cross-venue check judges before that)."""
        return st[3] >= self.warmup

    def describe(self, st: list[Any], obs: Observation, check: Check) -> tuple[str, str, dict[str, Any]]:
        ew: _TimeEwma = st[4]
        by_venue = st[6] > st[7]
        return "venue_deviation" if by_venue else "log_return", _severity(check[5], self.medium, self.high), {
            "z": check[4], "sigma_1s": math.sqrt(ew.mean) if ew.mean > 0 else None,
            "venue_deviation_spreads": st[6], "venue_threshold_spreads": st[7], "reference_price": obs.reference_price,
            "z_threshold": self.z, "venue_spreads": self.venue_spreads, "venue_bps": self.venue_bps}


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AlertInputError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class Debounce:
    """An episode starts when at least ``fire`` (M) of the last ``window`` (N) observations
    breached, and ends after ``clear`` consecutive clearing observations (analytics.md §8)."""

    fire: int = 3
    window: int = 5
    clear: int = 5

    def __post_init__(self) -> None:
        for name in ("fire", "window", "clear"):
            _count(name, getattr(self, name))
        if self.fire > self.window:
            raise AlertInputError(f"fire: {self.fire} breaches cannot happen in a window of {self.window}")


def default_rules() -> list[Rule]:
    """One of each rule with its documented defaults."""
    return [SpreadWidening(), DepthDrop(), Imbalance(), PriceAnomaly()]


class _Episode:
    __slots__ = ("recent", "breaches", "clears", "alert")

    def __init__(self, window: int) -> None:
        self.recent: deque[bool] = deque(maxlen=window)
        self.breaches = 0
        self.clears = 0
        self.alert: LiquidityAlert | None = None


class AlertEngine:
    """Runs rules over observations of many markets and turns their breaches into debounced
    alert episodes.

    ``rules``: default :func:`default_rules`; ``debounce``: for rules without their own.
    :meth:`observe` returns the alerts that started or ended with this observation (usually
    none); :meth:`active` the episodes under way. State per (exchange, symbol, rule); memory
    O(markets x rules x lookback). Not thread-safe (one owner, e.g. the event loop).

    When every rule is a :class:`SpreadWidening`, :class:`DepthDrop`, :class:`Imbalance` or
    :class:`PriceAnomaly` (exactly these classes) with parameters the kernel represents (ints
    within int64, debounce windows up to 64, at most 64 rules), the checks run compiled
    (:attr:`compiled` True): same alerts, about 0.6 µs per update with the four default rules
    instead of about 7 (benchmarks/bench_alerts.py). The rules' parameters are then read once, here: change a rule after
    building the engine and only the Python path would see it. ``compiled``: None (default)
    compiled when possible; False the Python path (the reference); True compiled or
    AlertInputError.
    """

    def __init__(self, rules: Iterable[Rule] | None = None, *, debounce: Debounce = Debounce(),
                 compiled: bool | None = None) -> None:
        self.rules = list(default_rules() if rules is None else rules)
        for k, r in enumerate(self.rules):
            if getattr(r, "type", None) not in ALERT_TYPES or not all(
                    callable(getattr(r, m, None)) for m in ("state", "check", "describe")):
                raise AlertInputError(f"rules[{k}]: not an alert rule ({r!r})")
        if not isinstance(debounce, Debounce):
            raise AlertInputError(f"debounce: expected a Debounce, got {debounce!r}")
        self.debounce = debounce
        self._states: dict[tuple[str, str], list[tuple[Rule, Any, _Episode, Debounce]]] = {}
        # compiled path: the rules' parameters in C, and per market its C state with the alert
        # of each rule's episode under way (the record is built here, once per episode)
        if compiled is not None and not isinstance(compiled, bool):
            raise AlertInputError(f"compiled: expected None, True or False, got {compiled!r}")
        self._kernel = None if compiled is False else _kernel_rules(self.rules, debounce)
        if compiled and self._kernel is None:
            raise AlertInputError("compiled: these rules cannot run compiled (not all built-in, or a parameter "
                                  "beyond the kernel: an int beyond int64, a debounce window above 64)")
        self._kstates: dict[tuple[str, str], tuple[_alerts.AlertKernel, list[LiquidityAlert | None]]] = {}

    @property
    def compiled(self) -> bool:
        """True when the rules run compiled (see the class docstring)."""
        return self._kernel is not None

    def _market(self, key: tuple[str, str]) -> list[tuple[Rule, Any, _Episode, Debounce]]:
        """A new market's rule states and episodes."""
        st = self._states[key] = [(r, r.state(), _Episode((r.debounce or self.debounce).window),
                                   r.debounce or self.debounce) for r in self.rules]
        return st

    def observe(self, obs: Observation) -> list[LiquidityAlert]:
        """Judge one observation; the alerts that start or end with it. O(rules), plus a
        baseline refresh now and then.

        AlertInputError, with nothing changed, when ``obs`` is not an :class:`Observation`,
        its ``ts`` not an integer within int64, a value not a number (NaN and infinities are
        data: a check that cannot use them skips), or ``reference_price`` neither None nor a
        finite price > 0."""
        if type(obs) is not Observation:
            raise AlertInputError(f"obs: expected an Observation, got {type(obs).__name__}")
        if self._kernel is not None:
            # the compiled path, inline: this is the per-update cost the issue bounds
            key = (obs.exchange, obs.symbol)
            kmarket = self._kstates.get(key)
            if kmarket is None:
                kmarket = (_alerts.AlertKernel(self._kernel), [None] * len(self.rules))
                events = kmarket[0].observe(obs)     # bad input raises here: the market is not kept
                self._kstates[key] = kmarket
            else:
                events = kmarket[0].observe(obs)
            return self._compiled_alerts(kmarket[1], obs, events) if events else []
        obs = _checked(obs)
        market = self._states.get((obs.exchange, obs.symbol)) or self._market((obs.exchange, obs.symbol))
        out: list[LiquidityAlert] = []
        for rule, state, ep, deb in market:
            check = rule.check(state, obs)
            if check is None:
                continue
            if ep.alert is None:
                recent = ep.recent
                if len(recent) == deb.window and recent[0]:
                    ep.breaches -= 1
                recent.append(check[0])
                if check[0]:
                    ep.breaches += 1
                    if ep.breaches >= deb.fire:
                        ep.alert = _alert(rule, state, obs, check)
                        ep.clears = 0
                        out.append(ep.alert)
            else:
                ep.clears = ep.clears + 1 if check[1] and not check[0] else 0
                if ep.clears >= deb.clear:
                    out.append(_ended(ep.alert, obs))
                    ep.alert = None
                    ep.recent.clear()
                    ep.breaches = 0
        return out

    def _compiled_alerts(self, alerts: list[LiquidityAlert | None], obs: Observation,
                         events: tuple[Any, ...]) -> list[LiquidityAlert]:
        """The records of the kernel's events; ``alerts``: the market's episodes under way."""
        obs = _checked(obs)             # the records carry plain numbers, as on the Python path
        out: list[LiquidityAlert] = []
        for ev in events:
            k = ev[0]
            started = alerts[k]
            if ev[1] == _alerts.START:
                alerts[k] = started = _kernel_alert(self.rules[k], obs, ev)
                out.append(started)
            elif started is not None:           # an END: always after its START
                out.append(_ended(started, obs))
                alerts[k] = None
        return out

    def warming(self, exchange: str, symbol: str) -> list[str]:
        """The alert types whose rule is still warming up on ``(exchange, symbol)``, in rule
        order (a market not yet observed: every rule that needs a baseline). A rule warming up
        raises nothing: an empty list means every rule judges. O(rules)."""
        key = (exchange, symbol)
        kmarket = self._kstates.get(key)
        if kmarket is not None:
            return [r.type for k, r in enumerate(self.rules) if not kmarket[0].warm(k)]
        market = self._states.get(key)
        if market is not None:
            return [r.type for r, st, _, _ in market if not _warm(r, st)]
        return [r.type for r in self.rules if not _warm(r, r.state())]

    def active(self) -> list[LiquidityAlert]:
        """The episodes under way, by start time."""
        found = [ep.alert for st in self._states.values() for _, _, ep, _ in st if ep.alert is not None]
        found += [a for _, alerts in self._kstates.values() for a in alerts if a is not None]
        return sorted(found, key=lambda a: a.ts_ms)


def _warm(rule: Rule, state: Any) -> bool:
    """``rule.warm(state)``, True for a rule without one (the Rule protocol)."""
    warm = getattr(rule, "warm", None)
    return True if warm is None else bool(warm(state))


_INT64 = (-(1 << 63), (1 << 63) - 1)
_KERNEL_TYPES = {SpreadWidening: "SPREAD_WIDENING", DepthDrop: "DEPTH_DROP", Imbalance: "IMBALANCE",
                 PriceAnomaly: "PRICE_ANOMALY"}


def _kernel_rules(rules: list[Rule], debounce: Debounce) -> Any:
    """The compiled form of ``rules`` (``liqcore._alerts.KernelRules``), or None when one is not a
    built-in rule or has a parameter beyond the kernel (then the Python path runs them all)."""
    if not all(type(r) in _KERNEL_TYPES for r in rules):
        return None
    try:
        return _alerts.KernelRules([(_KERNEL_TYPES[type(r)], r, r.debounce or debounce) for r in rules])
    except AlertInputError:
        return None


_FLOATS = ("mid", "spread_bps", "bid_depth", "ask_depth", "imbalance")


def _checked(obs: Observation) -> Observation:
    """``obs`` validated as the compiled path validates it (liqcore/_alerts.pyx), with its
    numbers as Python floats and ``ts`` as an int (a copy only when they are not already: numpy
    scalars would otherwise compute in their own precision, e.g. float32). O(1)."""
    ts = obs.ts
    if type(ts) is not int:
        if isinstance(ts, (bool, np.bool_)) or not isinstance(ts, (int, np.integer)):
            raise AlertInputError(f"ts must be an integer, got {ts!r}")
        ts = int(ts)
    if not _INT64[0] <= ts <= _INT64[1]:
        raise AlertInputError(f"ts must fit int64, got {ts!r}")
    plain = ts is obs.ts
    values: list[float] = []
    for name in _FLOATS:
        v = getattr(obs, name)
        if type(v) is not float:
            v = _float(name, v)
            plain = False
        values.append(v)
    ref = obs.reference_price
    if ref is not None:
        if type(ref) is not float:
            ref = _float("reference_price", ref)
            plain = False
        if not (math.isfinite(ref) and ref > 0.0):
            raise AlertInputError(f"reference_price must be a finite price > 0 or None, got {obs.reference_price!r}")
    if plain:
        return obs
    mid, spread_bps, bid_depth, ask_depth, imbalance = values
    return Observation(obs.exchange, obs.symbol, ts, mid, spread_bps, bid_depth, ask_depth, imbalance, ref)


def _float(name: str, v: Any) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, NUMBER_TYPES):
        raise AlertInputError(f"{name} must be a number, got {v!r}")
    try:
        return float(v)
    except OverflowError:
        raise AlertInputError(f"{name} is beyond a float: {v!r}") from None


def _ended(alert: LiquidityAlert, obs: Observation) -> LiquidityAlert:
    """The episode's record at its end."""
    return replace(alert, ended_ms=max(obs.ts // 1_000_000, alert.ts_ms))


def _kernel_alert(rule: Any, obs: Observation, ev: tuple[Any, ...]) -> LiquidityAlert:
    """The record of an episode the kernel started: ``ev`` as liqcore._alerts.AlertKernel.observe
    gives it; the same metric, severity and baseline values as the rule's ``describe``."""
    _, _, flags, current, baseline, z, measure, v0, v1, iv = ev
    check = (True, False, current, baseline, z if flags & _alerts.HAS_Z else None, measure)
    kind = rule.type
    values: dict[str, Any]
    if kind == "SPREAD_WIDENING":
        metric, severity = "spread_bps", _severity(measure, rule.medium_ratio, rule.high_ratio)
        values = {"median_spread_bps": baseline, "log_scale": v0, "count": iv, "lookback_s": rule.lookback / _NS,
                  "z": rule.z, "ratio": rule.ratio}
    elif kind == "DEPTH_DROP":
        metric, severity = "depth_1pct", _severity(measure, rule.medium_pct, rule.high_pct)
        values = {"side": "ask" if iv else "bid", "drop_pct": measure, "bid_baseline": v0, "ask_baseline": v1,
                  "half_life_s": rule.half_life, "threshold_pct": rule.drop}
    elif kind == "IMBALANCE":
        metric, severity = "imbalance", _severity(measure, rule.medium_level, rule.high_level)
        values = {"level": rule.level, "hold_s": rule.hold / _NS,
                  "held_since_ns": iv if flags & _alerts.HAS_HELD else None, "ewma_mean": v0, "ewma_std": v1,
                  "z": rule.z}
    else:
        metric = "venue_deviation" if flags & _alerts.BY_VENUE else "log_return"
        severity = _severity(measure, rule.medium, rule.high)
        thr = rule.venue_threshold(obs)
        values = {"z": z, "sigma_1s": v0 if flags & _alerts.HAS_SIGMA else None, "venue_deviation_spreads": v1,
                  "venue_threshold_spreads": thr, "reference_price": obs.reference_price, "z_threshold": rule.z,
                  "venue_spreads": rule.venue_spreads, "venue_bps": rule.venue_bps}
    return _record(kind, obs, check, metric, severity, values)


def _alert(rule: Rule, state: Any, obs: Observation, check: Check) -> LiquidityAlert:
    metric, severity, values = rule.describe(state, obs, check)
    return _record(rule.type, obs, check, metric, severity, values)


def _record(kind: str, obs: Observation, check: Check, metric: str, severity: str,
            values: dict[str, Any]) -> LiquidityAlert:
    """The alert record of an episode's start (both paths)."""
    current, baseline, z = check[2], check[3], check[4]
    ts_ms = obs.ts // 1_000_000
    dev = 100.0 * (current / baseline - 1.0) if baseline else math.nan
    what = {"SPREAD_WIDENING": f"spread {current:.3g} bps vs a median of {baseline:.3g} bps",
            "DEPTH_DROP": f"{values.get('side', '')} depth within 1% {current:,.0f} vs a baseline of "
                          f"{baseline:,.0f} ({dev:+.0f}%)",
            "IMBALANCE": f"book imbalance {current:+.2f} held",
            "PRICE_ANOMALY": f"mid {current:.8g} vs {baseline:.8g}" + (f" ({z:+.1f} sigma)" if z else "")}[kind]
    return LiquidityAlert(
        id=f"{obs.exchange}:{obs.symbol}:{kind}:{ts_ms}", ts_ms=ts_ms, exchange=obs.exchange, symbol=obs.symbol,
        type=kind, severity=severity, metric=metric, current=float(current), baseline=float(baseline),
        deviation_pct=dev, z=None if z is None else float(z),
        message=f"{kind.replace('_', ' ').lower()} on {obs.exchange} {obs.symbol}: {what}",
        suggested_action=SUGGESTED_ACTIONS[kind], requires_action=severity == "HIGH", baseline_values=_plain(values))


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready copy: numpy scalars to Python numbers."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}
