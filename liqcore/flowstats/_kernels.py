"""numba kernels of liqcore.flowstats.

This module imports numba at the top, so it is itself imported only inside the public functions
(``import liqcore`` and ``import liqcore.flowstats`` stay free of numba and LLVM). Every kernel is
compiled once for float64 arrays and cached on disk (``cache=True``: next to this file, or in the
user-wide numba cache when the package directory is read-only). Inputs are validated by the callers;
kernels assume contiguous float64 arrays of matching lengths.
"""

from __future__ import annotations

import math

import numpy as np
try:
    from numba import njit
except ImportError as exc:     # numba is the `stats` extra: say how to get it, not just its name
    raise ImportError("liqcore.flowstats needs numba for this statistic: pip install 'liqcore[stats]'") from exc


@njit(cache=True, nogil=True)
def time_weighted(t, s_abs, s_bps, edges):  # pragma: no cover - compiled
    """Time-weighted means of two step series over consecutive windows [edges[w], edges[w+1]).

    Value i holds over [t[i], t[i+1]); the last one holds to the end of every window. Time before
    the first value is not covered and gets no weight. Returns (mean_abs, mean_bps, covered).
    One pass over quotes and windows: O(len(t) + len(edges)).
    """
    nq = t.shape[0]
    nw = edges.shape[0] - 1
    out_abs = np.empty(nw)
    out_bps = np.empty(nw)
    covered = np.empty(nw)
    i = 0  # first quote with t[i] > window start
    for w in range(nw):
        a = edges[w]
        b = edges[w + 1]
        while i < nq and t[i] <= a:
            i += 1
        acc_abs = 0.0
        acc_bps = 0.0
        cov = 0.0
        k = i - 1  # the quote prevailing at a (if any)
        if k >= 0:
            end = b
            if k + 1 < nq and t[k + 1] < b:
                end = t[k + 1]
            d = end - a
            acc_abs += s_abs[k] * d
            acc_bps += s_bps[k] * d
            cov += d
        m = i
        while m < nq and t[m] < b:
            end = b
            if m + 1 < nq and t[m + 1] < b:
                end = t[m + 1]
            d = end - t[m]
            acc_abs += s_abs[m] * d
            acc_bps += s_bps[m] * d
            cov += d
            m += 1
        covered[w] = cov
        if cov > 0.0:
            out_abs[w] = acc_abs / cov
            out_bps[w] = acc_bps / cov
        else:
            out_abs[w] = np.nan
            out_bps[w] = np.nan
    return out_abs, out_bps, covered


@njit(cache=True, nogil=True)
def norm_cdf(z):  # pragma: no cover - compiled
    """Standard normal CDF, elementwise: Phi(z) = erfc(-z / sqrt 2) / 2 (accurate in both tails)."""
    out = np.empty(z.shape[0])
    r = 1.0 / math.sqrt(2.0)
    for i in range(z.shape[0]):
        out[i] = 0.5 * math.erfc(-z[i] * r)
    return out


@njit(cache=True, nogil=True)
def volume_buckets(volume, buy_frac, vbs, max_buckets):  # pragma: no cover - compiled
    """Fill volume buckets of size ``vbs`` in time order, splitting an element across a boundary
    (each part keeps the element's buy fraction). Returns (buy, sell, end, fill): per bucket the
    index of the element that completed it, and the volume of the unfinished last bucket. A bucket that a rounding error leaves short by less than
    1e-12 * vbs is closed by the element that nearly fills it."""
    buy = np.empty(max_buckets)
    sell = np.empty(max_buckets)
    end = np.empty(max_buckets, dtype=np.int64)
    tol = vbs * 1e-12
    k = 0
    fill = 0.0
    b = 0.0
    s = 0.0
    for i in range(volume.shape[0]):
        v = volume[i]
        f = buy_frac[i]
        while v > 0.0:
            room = vbs - fill
            if v >= room - tol and k < max_buckets:
                b += room * f
                s += room * (1.0 - f)
                buy[k] = b
                sell[k] = s
                end[k] = i
                k += 1
                v -= room
                fill = 0.0
                b = 0.0
                s = 0.0
            else:
                b += v * f
                s += v * (1.0 - f)
                fill += v
                v = 0.0
    return buy[:k], sell[:k], end[:k], fill


@njit(cache=True, nogil=True)
def rolling_vpin(oi, window, vbs):  # pragma: no cover - compiled
    """VPIN_j = sum(oi[j-window+1..j]) / (window * vbs); NaN for the first window-1 buckets.
    Each window is summed afresh (no running-sum drift); clipped to 1 against rounding."""
    n = oi.shape[0]
    out = np.full(n, np.nan)
    denom = window * vbs
    for j in range(window - 1, n):
        acc = 0.0
        for m in range(j - window + 1, j + 1):
            acc += oi[m]
        v = acc / denom
        out[j] = v if v < 1.0 else 1.0
    return out


@njit(cache=True, nogil=True)
def trade_spreads(t, p, d, tq, mid_q, q_bps, h, qend):  # pragma: no cover - compiled
    """Per-trade mid before the trade (last quote with tq < t), quoted bps, effective bps, and for
    each horizon the mid at t + h (last quote with tq <= t + h; NaN past ``qend``), realized and
    impact bps. Trade times are sorted, so every lookup is a pointer that only moves forward:
    O(n_trades * k + n_quotes * (k + 1))."""
    n = t.shape[0]
    k = h.shape[0]
    nq = tq.shape[0]
    m0 = np.empty(n)
    qb = np.empty(n)
    eff = np.empty(n)
    m1 = np.empty((n, k))
    real = np.empty((n, k))
    imp = np.empty((n, k))
    i0 = 0  # number of quotes with tq < t
    ptr = np.zeros(k, dtype=np.int64)  # number of quotes with tq <= t + h[j]
    for i in range(n):
        ti = t[i]
        while i0 < nq and tq[i0] < ti:
            i0 += 1
        if i0 == 0:
            m0[i] = np.nan
            qb[i] = np.nan
            eff[i] = np.nan
            for j in range(k):
                m1[i, j] = np.nan
                real[i, j] = np.nan
                imp[i, j] = np.nan
            continue
        m = mid_q[i0 - 1]
        m0[i] = m
        qb[i] = q_bps[i0 - 1]
        s = 2.0 * d[i] / m * 1e4
        eff[i] = s * (p[i] - m)
        for j in range(k):
            ta = ti + h[j]
            c = ptr[j]
            while c < nq and tq[c] <= ta:
                c += 1
            ptr[j] = c
            if ta > qend:
                m1[i, j] = np.nan
                real[i, j] = np.nan
                imp[i, j] = np.nan
            else:
                ma = mid_q[c - 1]
                m1[i, j] = ma
                real[i, j] = s * (p[i] - ma)
                imp[i, j] = s * (ma - m)
    return m0, qb, eff, m1, real, imp
