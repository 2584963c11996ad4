"""Input checks shared by the flowstats functions: one place that turns a bad array into an
:class:`~liqcore.errors.InvalidSeriesError` naming the argument and the first bad index."""

from __future__ import annotations

from typing import Any

import numpy as np

from liqcore.errors import InvalidSeriesError


def _numeric(name: str, x: Any) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == np.bool_ or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise InvalidSeriesError(f"{name}: expected a real numeric array, got dtype {a.dtype}")
    if a.ndim != 1:
        raise InvalidSeriesError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if a.size == 0:
        raise InvalidSeriesError(f"{name}: empty array")
    return a


def _finite(name: str, a: np.ndarray) -> None:
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidSeriesError(f"{name}[{i}] is {a[i]} (NaN or inf)")


def floats(name: str, x: Any, *, positive: bool = False, nonnegative: bool = False) -> np.ndarray:
    """1-D, non-empty, finite float64 (contiguous); optionally > 0 or >= 0 everywhere."""
    a = _numeric(name, x)
    a = np.ascontiguousarray(a, dtype=np.float64)
    _finite(name, a)
    if positive and not (a > 0).all():
        i = int(np.flatnonzero(~(a > 0))[0])
        raise InvalidSeriesError(f"{name}[{i}] is {a[i]}: must be > 0")
    if nonnegative and not (a >= 0).all():
        i = int(np.flatnonzero(~(a >= 0))[0])
        raise InvalidSeriesError(f"{name}[{i}] is {a[i]}: must be >= 0")
    return a


def times(name: str, x: Any, *, strict: bool = False) -> np.ndarray:
    """1-D, non-empty, finite, non-decreasing (``strict``: increasing) times, int64 or float64."""
    a = _numeric(name, x)
    a = np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float64)
    _finite(name, a)
    if a.size > 1:
        d = np.diff(a)
        bad = d <= 0 if strict else d < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0]) + 1
            word = "increasing" if strict else "non-decreasing"
            raise InvalidSeriesError(f"{name} must be {word}: {name}[{i}] = {a[i]} after {a[i - 1]}")
    return a


def sides(name: str, x: Any) -> np.ndarray:
    """Aggressor sides: +1 (buy) / -1 (sell) as float64."""
    a = floats(name, x)
    bad = (a != 1.0) & (a != -1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidSeriesError(f"{name}[{i}] is {a[i]}: a side must be +1 (buy) or -1 (sell)")
    return a


def same_length(**arrays: np.ndarray) -> int:
    items = list(arrays.items())
    n = len(items[0][1])
    for k, v in items[1:]:
        if len(v) != n:
            raise InvalidSeriesError(f"length mismatch: {items[0][0]} has {n} elements, {k} has {len(v)}")
    return n


def quotes(t: Any, bid: Any, ask: Any, tname: str = "t") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A quote series: non-decreasing times, positive prices, never crossed (bid <= ask)."""
    tq = times(tname, t)
    b = floats("bid", bid, positive=True)
    a = floats("ask", ask, positive=True)
    same_length(t=tq, bid=b, ask=a)
    crossed = b > a
    if crossed.any():
        i = int(np.flatnonzero(crossed)[0])
        raise InvalidSeriesError(f"crossed quote at index {i}: bid {b[i]} > ask {a[i]}")
    return tq, b, a


def scalar(name: str, x: Any, *, positive: bool = False, nonnegative: bool = False) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InvalidSeriesError(f"{name}: expected a number, got {x!r}") from None
    if isinstance(x, bool) or not np.isfinite(v):
        raise InvalidSeriesError(f"{name}: expected a finite number, got {x!r}")
    if positive and not v > 0:
        raise InvalidSeriesError(f"{name} is {x!r}: must be > 0")
    if nonnegative and not v >= 0:
        raise InvalidSeriesError(f"{name} is {x!r}: must be >= 0")
    return v


def count(name: str, x: Any, minimum: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < minimum:
        raise InvalidSeriesError(f"{name} is {x!r}: must be an integer >= {minimum}")
    return int(x)


def rebase(origin: Any, *arrays: np.ndarray) -> list[np.ndarray]:
    """Times relative to ``origin`` as float64. Integer times (e.g. int64 ns since the epoch) are
    subtracted in integer arithmetic first, so differences keep their precision."""
    out = []
    all_int = all(a.dtype.kind in "iu" for a in arrays) and isinstance(origin, (int, np.integer))
    for a in arrays:
        if all_int:
            out.append((a - np.int64(origin)).astype(np.float64))
        else:
            out.append(a.astype(np.float64) - float(origin))
    return out
