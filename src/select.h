/*
 * select.h — order statistics of a double array, for the C kernels' robust baselines.
 *
 * Header-only (static inline: each kernel inlines its own copy, no symbol exported).
 * liq_select_kth: the k-th smallest (0-based) of a[0..n), reordering a so that
 * a[0..k) <= a[k] <= a(k..n); quickselect with a three-way partition, so runs of equal
 * values (spreads in whole ticks, sizes in lots) stay O(n); O(n) expected.
 * liq_median: numpy.median's value, the middle one or, for an even count, the mean of the
 * two middle ones computed as numpy does, (lo + hi) / 2. n >= 1, no NaN (NaN does not
 * order); a is reordered. Used by src/liquidity.c (walls, clusters) and src/alerts.c.
 */
#ifndef LIQ_SELECT_H
#define LIQ_SELECT_H

#include <stddef.h>

static inline double liq_select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;                   /* the k-th lies in [lo, hi) */
    while (hi - lo > 1) {
        const double pivot = a[lo + (hi - lo) / 2];
        size_t lt = lo, i = lo, gt = hi;     /* [lo,lt) < pivot, [lt,i) == pivot, [gt,hi) > pivot */
        while (i < gt) {
            double t = a[i];
            if (t < pivot) {
                a[i++] = a[lt];
                a[lt++] = t;
            } else if (t > pivot) {
                a[i] = a[--gt];
                a[gt] = t;
            } else {
                i++;
            }
        }
        if (k < lt) hi = lt;
        else if (k >= gt) lo = gt;
        else return pivot;
    }
    return a[k];
}

static inline double liq_median(double *a, size_t n)
{
    const double hi = liq_select_kth(a, n, n / 2);
    if (n % 2) return hi;
    double lo = a[0];                        /* the largest of the lower half */
    for (size_t i = 1; i < n / 2; i++)
        if (a[i] > lo) lo = a[i];
    return (lo + hi) / 2;
}

#endif
