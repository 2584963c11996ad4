#include "liquidity.h"

#include <math.h>
#include <string.h>

#include "analytics.h"  /* the report's walks, imbalances, top sizes and depth profile */
#include "select.h"     /* liq_median: the robust baselines of walls and clusters */

/* px*qty of two int64 needs up to 126 bits (see analytics.c). */
__extension__ typedef __int128 liq_i128;

liq_shape_params liq_shape_defaults(void)
{
    liq_shape_params p = {200.0, 50, 5.0, 3.5, 3.0, 1, 0.0, {0, 0}};
    return p;
}

static int params_ok(const liq_shape_params *p)
{
    return p && p->band_bps >= 0 && p->window >= 1 && p->window <= LIQ_WALL_WINDOW_MAX && p->ratio >= 0 &&
           p->z_min >= 0 && (p->ratio > 0 || p->z_min > 0) && p->cluster_ratio >= 0 && p->gap_ticks >= 1 &&
           p->gap_bps >= 0;
}

/* Mid in price units, 0 when a side is empty. */
static double mid_units(const liq_book *b)
{
    int64_t bp, bq, ap, aq;
    if (!liq_book_best(b, LIQ_BID, &bp, &bq) || !liq_book_best(b, LIQ_ASK, &ap, &aq)) return 0;
    return ((double)bp + (double)ap) / 2;
}

static inline double px_units(const liq_side *s, int side, size_t j)
{
    return side == LIQ_BID ? (double)s->key[j] : -(double)s->key[j];
}

/* Is a level (price units) inside the band around mid? */
static inline int in_band(int side, double px, double mid, double band)
{
    return side == LIQ_BID ? px >= mid * (1 - band) : px <= mid * (1 + band);
}

/* The band as a key bound: a level is in the band iff key >= kmin (keys ascend towards the
 * touch on both sides), so the per-level loops compare integers. Computed from in_band's
 * own test at the boundary so both agree exactly. */
static int64_t band_kmin(int side, double mid, double band)
{
    /* 2^63 as a double: the first value an int64 cannot hold. Doubles below it are at most
     * 2^63 - 1024, so a t below it converts exactly; at or above it the cast is undefined
     * (on x86 it gave INT64_MIN, and the bid search below then counted up 2^63 keys). */
    const double two63 = 9223372036854775808.0;
    if (side == LIQ_BID) {
        double t = ceil(mid * (1 - band));
        if (t < 1) return INT64_MIN;
        /* t >= 2^63: the bound is 2^63 itself (a mid of at most 2^63 and band >= 0); the keys
         * whose double is 2^63 (2^63 - 512 and up) are in, and the walk down is <= 512 steps */
        int64_t k = t < two63 ? (int64_t)t : INT64_MAX;
        while (k > 1 && in_band(side, (double)(k - 1), mid, band)) k--;
        while (k < INT64_MAX && !in_band(side, (double)k, mid, band)) k++;
        return k;
    }
    double t = floor(mid * (1 + band));
    if (t >= two63) return -INT64_MAX;    /* every int64 price is <= the bound */
    int64_t px = (int64_t)t;              /* < 2^63 - 512, so px + 1 below cannot overflow */
    while (in_band(side, (double)(px + 1), mid, band)) px++;
    while (px > 0 && !in_band(side, (double)px, mid, band)) px--;
    return -px;
}

/* Baseline of a side: median/MAD of the window's sizes (base), the band's total size. */
static void side_baseline(const liq_book *b, const liq_shape_params *p, int side, double mid, liq_baseline *out,
                          int full)
{
    double win[LIQ_WALL_WINDOW_MAX], dev[LIQ_WALL_WINDOW_MAX];
    const liq_side *s = &b->side[side];
    const double qdiv = liq_pow10_f64[b->qty_scale], band = p->band_bps / 1e4;
    const int64_t kmin = band_kmin(side, mid, band);
    size_t n = 0;
    liq_i128 total = 0;                      /* holes add 0; sizes up to 2^63 each: 128 bits */
    for (size_t j = s->len; j > 0 && s->key[j - 1] >= kmin; j--) {
        total += s->qty[j - 1];
        if (n < p->window && s->qty[j - 1]) win[n++] = (double)s->qty[j - 1] / qdiv;
        else if (!full && n == p->window) break;   /* the band total is summed by the caller's pass */
    }
    out->n = n;
    /* the total is complete when the pass was not cut short at the window */
    out->band_size = full || n < p->window ? (double)total / qdiv : NAN;
    if (!n) {
        out->median = out->mad = NAN;
        return;
    }
    out->median = liq_median(win, n);
    for (size_t i = 0; i < n; i++) dev[i] = fabs(win[i] - out->median);
    out->mad = liq_median(dev, n);
}

/* A size threshold in units: a level qualifies iff `on` and its size >= min. A flag, not a
 * sentinel size: every int64 size up to INT64_MAX is a real size a book may hold. */
typedef struct qty_floor {
    int64_t min;
    int on;
} qty_floor;

/* The smallest size in units that is >= q (base): q within 1e-12 (relative) above an integer
 * snaps to it, so thresholds computed in floating point do not miss an exact boundary. A
 * threshold no int64 size reaches (or NaN) is off. */
static qty_floor qty_ceil(double q, double qdiv)
{
    const double u = q * qdiv;
    if (!(u < 9223372036854775808.0)) return (qty_floor){0, 0};   /* 2^63: beyond every size */
    if (u <= 0) return (qty_floor){0, 1};
    const double c = ceil(u * (1 - 1e-12));
    /* doubles below 2^63 are at most 2^63 - 1024, so c converts exactly */
    return (qty_floor){(int64_t)c, 1};
}

/* The smallest size in units strictly above q (base); off when no int64 size is. */
static qty_floor qty_above(double q, double qdiv)
{
    const double u = floor(q * qdiv) + 1;
    if (!(u < 9223372036854775808.0)) return (qty_floor){0, 0};
    return (qty_floor){u < 1 ? 1 : (int64_t)u, 1};
}

/* The lower of two thresholds (an off one does not count). */
static qty_floor qty_floor_min(qty_floor a, qty_floor b)
{
    if (!a.on) return b;
    if (!b.on) return a;
    return a.min < b.min ? a : b;
}

/* First index of the side whose key is >= kmin (binary search; holes keep their keys). */
static size_t first_in_band(const liq_side *s, int64_t kmin)
{
    size_t lo = 0, hi = s->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->key[mid] < kmin) lo = mid + 1; else hi = mid;
    }
    return lo;
}

enum { SHAPE_CHUNK = 256 };

/* Two sizes per register (SSE2 on every x86-64, NEON on AArch64); two registers per sum make
 * four lanes. Wider GCC vectors are lowered through the stack on baseline x86-64. */
__extension__ typedef uint64_t liq_u64x2 __attribute__((vector_size(16)));

/*
 * The sums of a chunk q[0..n) of a side's sizes, modulo 2^64 (exact whenever the true values
 * are below 2^64): *sum = sum q_i, *bits = OR q_i, return sum i q_i. Branch-free and four
 * lanes wide: per block m of four (descending), A += q_m, B += A, so B_l = sum (m+1) q_{m,l}
 * and sum i q_i = 4 sum_l (B_l - A_l) + sum_l l A_l (i = 4m + l), plus the last n % 4 sizes.
 */
static uint64_t chunk_sums(const int64_t *q, size_t n, uint64_t *sum, uint64_t *bits)
{
    const size_t blocks = n / 4;
    liq_u64x2 a0 = {0, 0}, a1 = {0, 0}, w0 = {0, 0}, w1 = {0, 0}, o0 = {0, 0}, o1 = {0, 0};
    for (size_t m = blocks; m-- > 0;) {
        liq_u64x2 v0, v1;
        memcpy(&v0, q + 4 * m, sizeof v0);        /* lanes l = 0, 1 */
        memcpy(&v1, q + 4 * m + 2, sizeof v1);    /* lanes l = 2, 3 */
        a0 += v0;
        a1 += v1;
        o0 |= v0;
        o1 |= v1;
        w0 += a0;
        w1 += a1;
    }
    const liq_u64x2 d = (w0 - a0) + (w1 - a1);
    uint64_t s = a0[0] + a0[1] + a1[0] + a1[1], x = o0[0] | o0[1] | o1[0] | o1[1];
    uint64_t idx = 4 * (d[0] + d[1]) + a0[1] + 2 * a1[0] + 3 * a1[1];
    for (size_t i = 4 * blocks; i < n; i++) {
        s += (uint64_t)q[i];
        x |= (uint64_t)q[i];
        idx += (uint64_t)i * (uint64_t)q[i];
    }
    *sum = s;
    *bits = x;
    return idx;
}
_Static_assert(SHAPE_CHUNK <= 256, "256 sizes below 2^47: their sum of running sums stays below 2^63");

/*
 * Walls and/or clusters of side sd against its baseline (appended to out[*found..cap),
 * counted in *found; a NULL count skips that output), plus the band's total size and the
 * quote within quote_bands_bps. A level is a wall iff its size in units reaches the
 * smaller of the two tests' thresholds (both turned into integer sizes once), a cluster
 * member iff it reaches the cluster floor. Two phases per chunk of the band: a branch-free
 * pass (sums, and the indices of candidate levels), then the candidates only, where a
 * branch per level would mispredict constantly. With count_all 0 (the liquidity report), once
 * both outputs are full the counts stop at the caps and the rest of the band is only summed
 * (chunk_sums, four lanes wide).
 */
static void shape_side(const liq_book *b, const liq_shape_params *p, int sd, double mid, liq_baseline *base,
                       liq_wall *walls, size_t wcap, size_t *nwalls, liq_cluster *clusters, size_t ccap,
                       size_t *nclusters, int count_all)
{
    const double pdiv = liq_pow10_f64[b->px_scale], qdiv = liq_pow10_f64[b->qty_scale];
    const double zref = p->z_min > 0 ? p->z_min : 3.5;
    const liq_side *s = &b->side[sd];
    const size_t lo = first_in_band(s, band_kmin(sd, mid, p->band_bps / 1e4));
    /* the smallest size in units either wall test flags: size/median >= ratio, or robust z
     * >= z_min (with MAD 0, any size above the median), and the cluster floor */
    qty_floor wq = {0, 0};
    if (nwalls && p->ratio > 0) wq = qty_ceil(p->ratio * base->median, qdiv);
    if (nwalls && p->z_min > 0) {
        /* with MAD 0: the smallest size strictly above the median */
        const qty_floor zq = base->mad > 0 ? qty_ceil(base->median + p->z_min * base->mad / 0.6745, qdiv)
                                           : qty_above(base->median, qdiv);
        wq = qty_floor_min(wq, zq);
    }
    const qty_floor cq = nclusters ? qty_ceil(p->cluster_ratio * base->median, qdiv) : (qty_floor){0, 0};
    const qty_floor any = qty_floor_min(wq, cq);
    /* holes never qualify. With nothing asked for that can qualify, only a size of INT64_MAX
     * is a candidate, and the candidate pass checks each test's own flag: harmless. */
    const int64_t qmin = !any.on ? INT64_MAX : any.min < 1 ? 1 : any.min;
    /* integer sums: exact, and a 1-cycle add chain (a double sum's 4-cycle chain was the
     * bottleneck of this pass) */
    liq_i128 qacc = 0, qsum[2] = {0, 0};
    /* Each term |key x size| < 2^126, so a sum of many may leave 128 bits, but only on absurd
     * books: when (largest |key| in the band) x INT64_MAX x levels could reach 2^127, the quote
     * sums are done in doubles after the pass instead (keys are monotonic: the largest |key|
     * is at one end of the band), and the pass sums no products. */
    const double kmax = s->len > lo ? fmax(fabs((double)s->key[lo]), fabs((double)s->key[s->len - 1])) : 0;
    const int qovf = kmax * 9.3e18 * (double)(s->len - lo) >= 1.7e38;
    /* Keys ascend towards the touch, so a quote band is the top of the side down to its first
     * index: the pass keeps one running sum and reads it off when it reaches that index (the
     * chunks end there), with no per-level band test. SIZE_MAX: band off. */
    int64_t qband[2];                        /* the bands' key bounds */
    size_t qlo[2];
    for (int k = 0; k < 2; k++) {
        qband[k] = p->quote_bands_bps[k] > 0 ? band_kmin(sd, mid, fmin(p->quote_bands_bps[k], p->band_bps) / 1e4)
                                             : INT64_MAX;
        qlo[k] = p->quote_bands_bps[k] > 0 && !qovf ? first_in_band(s, qband[k]) : SIZE_MAX;
        if (qlo[k] != SIZE_MAX && qlo[k] < lo) qlo[k] = lo;
    }
    const size_t qstop = qlo[0] < qlo[1] ? qlo[0] : qlo[1];   /* below it no band needs products */
    const size_t c0 = nclusters ? *nclusters : 0;
    /* the cluster gap in price units (a hair of slack: a gap of exactly gap_bps joins) */
    const double gap_units = p->gap_bps > 0 ? mid * p->gap_bps / 1e4 * (1 + 1e-12) : (double)p->gap_ticks * (double)b->tick;
    liq_i128 total = 0;                      /* sizes up to 2^63 each: an int64 sum could wrap */
    /* a wall's rank (live levels above it) is counted when the wall is written, not per level
     * in the pass: nonzero sizes at indices >= rpos counted so far */
    size_t rpos = s->len, rcount = 0;
    liq_cluster cur = {0};
    double last_px = 0;
    int open = 0;
    size_t cand[SHAPE_CHUNK];
    for (size_t hi = s->len; hi > lo;) {
        size_t end = hi - lo > SHAPE_CHUNK ? hi - SHAPE_CHUNK : lo;
        for (int k = 0; k < 2; k++)
            if (qlo[k] > end && qlo[k] < hi) end = qlo[k];
        if (s->dstart > end && s->dstart < hi) end = s->dstart;   /* a chunk is dense or sparse */
        size_t nc = 0;
        /* The chunk's sizes summed in 64 bits, exact while every size is below 2^47 (the OR
         * tells): csum below 2^55, and wsum (the sum of the running csum) below 2^63. Otherwise the
         * chunk is summed again in 128 bits (a 128-bit add per level cost a sixth of this pass).
         * In the dense region key_j = key_end + (j - end) stride, so the chunk's quote sum is
         * key_end csum + stride sum_j (j - end) q_j: idx, from the running sums (wsum less the
         * last csum) or chunk_sums, with no product per level. */
        uint64_t csum = 0, cor = 0, wsum = 0, idx;     /* idx = sum (j - end) q_j */
        /* with count_all 0, once both outputs are full the rest of the band is summed only */
        const int full = !count_all && (!nwalls || *nwalls >= wcap) && (!nclusters || *nclusters >= ccap);
        if (full) {
            idx = chunk_sums(s->qty + end, hi - end, &csum, &cor);
        } else {
            for (size_t j = hi; j-- > end;) {    /* branch-free: sums and candidate indices */
                const int64_t qu = s->qty[j];
                csum += (uint64_t)qu;
                cor |= (uint64_t)qu;
                wsum += csum;
                cand[nc] = j;
                nc += qu >= qmin;
            }
            idx = wsum - csum;
        }
        const int small = cor < ((uint64_t)1 << 47);
        if (end >= qstop) {
            if (small && end >= s->dstart)
                qacc += (liq_i128)s->key[end] * (int64_t)csum + (liq_i128)liq_side_stride(s, b->tick) * (int64_t)idx;
            else
                for (size_t j = hi; j-- > end;) qacc += (liq_i128)s->key[j] * s->qty[j];
        }
        for (int k = 0; k < 2; k++)
            if (qlo[k] == end) qsum[k] = qacc;
        if (small) {
            total += csum;
        } else {
            for (size_t j = hi; j-- > end;) total += s->qty[j];
        }
        hi = end;
        for (size_t i = 0; i < nc; i++) {
            const size_t j = cand[i];
            const int64_t qu = s->qty[j];
            const double px = px_units(s, sd, j), q = (double)qu / qdiv;
            if (wq.on && qu >= wq.min) {
                if (*nwalls < wcap) {
                    liq_wall *w = &walls[*nwalls];
                    const double z = base->mad > 0 ? 0.6745 * (q - base->median) / base->mad
                                                   : (q > base->median ? INFINITY : 0);
                    w->side = sd;
                    w->price = px / pdiv;
                    w->size = q;
                    w->notional = w->price * q;
                    w->strength = base->median > 0 ? q / base->median : INFINITY;
                    w->z = z;
                    w->confidence = z > 0 ? 1 - exp(-z / zref) : 0;
                    w->distance_bps = fabs(px - mid) / mid * 1e4;
                    while (rpos > j + 1) rcount += s->qty[--rpos] != 0;
                    w->rank = rcount;
                }
                (*nwalls)++;
            }
            if (!cq.on || qu < cq.min) continue;
            /* a member farther than the gap from the previous one closes the run */
            if (open && fabs(px - last_px) > gap_units) {
                cur.vwap = cur.notional / cur.size;
                cur.span_bps = fabs(cur.price_worst - cur.price_best) * pdiv / mid * 1e4;
                if (*nclusters < ccap) clusters[*nclusters] = cur;
                (*nclusters)++;
                open = 0;
            }
            if (!open) {
                cur = (liq_cluster){0};
                cur.side = sd;
                cur.price_best = px / pdiv;
                open = 1;
            }
            cur.price_worst = px / pdiv;
            cur.size += q;
            cur.notional += px / pdiv * q;
            cur.levels++;
            last_px = px;
        }
    }
    if (open) {
        cur.vwap = cur.notional / cur.size;
        cur.span_bps = fabs(cur.price_worst - cur.price_best) * pdiv / mid * 1e4;
        if (*nclusters < ccap) clusters[*nclusters] = cur;
        (*nclusters)++;
    }
    base->band_size = (double)total / qdiv;
    for (int k = 0; k < 2; k++) {    /* keys are -px on the ask side */
        if (!(p->quote_bands_bps[k] > 0)) {
            base->band_quote[k] = NAN;
            continue;
        }
        double q = (double)qsum[k];
        if (qovf) {
            q = 0;
            for (size_t j = s->len; j-- > lo;) if (s->key[j] >= qband[k]) q += (double)s->key[j] * (double)s->qty[j];
        }
        base->band_quote[k] = (sd == LIQ_BID ? 1 : -1) * q / (pdiv * qdiv) + 0.0;
    }
    for (size_t i = c0; nclusters && i < *nclusters && i < ccap; i++)
        clusters[i].share = base->band_size > 0 ? clusters[i].size / base->band_size : NAN;
}

/* liq_book_shape; with count_all 0 the counts stop at the caps (the liquidity report, which
 * keeps the first LIQ_REPORT_ITEMS, does not look at the rest of the band's levels once both
 * outputs are full). */
static liq_status shape(const liq_book *b, const liq_shape_params *p, int side, liq_wall *walls, size_t wcap,
                        size_t *nwalls, liq_cluster *clusters, size_t ccap, size_t *nclusters, liq_baseline *baseline,
                        int count_all)
{
    if (!params_ok(p) || side < -1 || side > 1) return LIQ_ERR_ARG;
    if (nwalls) *nwalls = 0;
    if (nclusters) *nclusters = 0;
    const double mid = mid_units(b);
    for (int sd = 0; sd < 2; sd++) {
        liq_baseline base = {NAN, NAN, 0, {NAN, NAN}, 0};
        const int wanted = mid > 0 && (side < 0 || sd == side);
        /* with count_all 0 and both outputs full, the side needs no baseline: its pass only sums */
        const int full = !count_all && (!nwalls || *nwalls >= wcap) && (!nclusters || *nclusters >= ccap);
        /* the baseline reads only the window unless the caller wants the band total too
         * (shape_side sums it in its own pass over the band) */
        if (mid > 0 && (wanted || baseline) && !(wanted && full))
            side_baseline(b, p, sd, mid, &base, baseline && !wanted);
        if (wanted && (base.n || full) && (nwalls || nclusters))
            shape_side(b, p, sd, mid, &base, walls, wcap, nwalls, clusters, ccap, nclusters, count_all);
        else if (wanted && baseline && base.n != 0 && base.band_size != base.band_size)
            side_baseline(b, p, sd, mid, &base, 1);
        if (baseline) baseline[sd] = base;
    }
    return LIQ_OK;
}

liq_status liq_book_shape(const liq_book *b, const liq_shape_params *p, int side, liq_wall *walls, size_t wcap,
                          size_t *nwalls, liq_cluster *clusters, size_t ccap, size_t *nclusters,
                          liq_baseline *baseline)
{
    return shape(b, p, side, walls, wcap, nwalls, clusters, ccap, nclusters, baseline, 1);
}

liq_status liq_book_walls(const liq_book *b, const liq_shape_params *p, int side, liq_wall *out, size_t cap,
                          size_t *found, liq_baseline *baseline)
{
    if (!found) return LIQ_ERR_ARG;
    return liq_book_shape(b, p, side, out, cap, found, NULL, 0, NULL, baseline);
}

liq_status liq_book_clusters(const liq_book *b, const liq_shape_params *p, int side, liq_cluster *out,
                             size_t cap, size_t *found)
{
    if (!found) return LIQ_ERR_ARG;
    return liq_book_shape(b, p, side, NULL, 0, NULL, out, cap, found, NULL);
}

liq_status liq_book_report(const liq_book *b, const liq_report_params *p, liq_report *out)
{
    if (!p || p->levels < 1 || !(p->notional > 0) || !(p->band_bps >= 0)) return LIQ_ERR_ARG;
    const double pdiv = liq_pow10_f64[b->px_scale], qdiv = liq_pow10_f64[b->qty_scale];
    int64_t bp = 0, bq = 0, ap = 0, aq = 0;
    const int has_b = liq_book_best(b, LIQ_BID, &bp, &bq), has_a = liq_book_best(b, LIQ_ASK, &ap, &aq);
    const int two = has_b && has_a;
    liq_status st;
    out->levels = p->levels;
    out->best_bid = has_b ? (double)bp / pdiv : NAN;
    out->best_bid_size = has_b ? (double)bq / qdiv : NAN;
    out->best_ask = has_a ? (double)ap / pdiv : NAN;
    out->best_ask_size = has_a ? (double)aq / qdiv : NAN;
    /* OrderBook.mid/.spread/.spread_bps's arithmetic (an integer difference of the prices in
     * units, one division), so the report and the book agree to the last bit */
    out->mid = two ? ((double)bp + (double)ap) / (2.0 * pdiv) : NAN;
    out->spread = two ? (double)(ap - bp) / pdiv : NAN;
    out->spread_bps = two ? (double)(ap - bp) / (((double)bp + (double)ap) / 2.0) * 1e4 : NAN;
    out->spread_pct = out->spread_bps / 100;
    out->bid_volume = liq_book_top_size(b, LIQ_BID, p->levels);
    out->ask_volume = liq_book_top_size(b, LIQ_ASK, p->levels);
    out->total_volume = out->bid_volume + out->ask_volume;
    /* walls, clusters and (when the band reaches 2%) the 1%/2% liquidity in one pass per side */
    liq_shape_params sp = liq_shape_defaults();
    liq_baseline base[2];
    size_t nw = 0, nc = 0;
    sp.band_bps = p->band_bps;
    sp.quote_bands_bps[0] = 100.0;
    sp.quote_bands_bps[1] = 200.0;
    st = shape(b, &sp, -1, out->walls, LIQ_REPORT_ITEMS, &nw, out->clusters, LIQ_REPORT_ITEMS, &nc, base, 0);
    if (st != LIQ_OK) return st;
    out->nwalls = nw < LIQ_REPORT_ITEMS ? nw : LIQ_REPORT_ITEMS;
    out->nclusters = nc < LIQ_REPORT_ITEMS ? nc : LIQ_REPORT_ITEMS;
    if (p->band_bps >= 200.0 && two) {
        for (int sd = 0; sd < 2; sd++)         /* NaN: the side's pass did not run (no level in the band) */
            for (int k = 0; k < 2; k++)
                if (base[sd].band_quote[k] != base[sd].band_quote[k]) base[sd].band_quote[k] = 0.0;
        out->bid_liquidity_1pct = base[LIQ_BID].band_quote[0];
        out->ask_liquidity_1pct = base[LIQ_ASK].band_quote[0];
        out->bid_liquidity_2pct = base[LIQ_BID].band_quote[1];
        out->ask_liquidity_2pct = base[LIQ_ASK].band_quote[1];
    } else {                  /* a narrower band (or no mid): the exact profile, a pass of its own */
        const double bands[2] = {100.0, 200.0};
        liq_depth prof[2];
        if ((st = liq_book_depth_profile(b, bands, 2, LIQ_REF_MID, prof)) != LIQ_OK) return st;
        out->bid_liquidity_1pct = prof[0].bid_quote;
        out->ask_liquidity_1pct = prof[0].ask_quote;
        out->bid_liquidity_2pct = prof[1].bid_quote;
        out->ask_liquidity_2pct = prof[1].ask_quote;
    }
    out->liquidity_1pct = out->bid_liquidity_1pct + out->ask_liquidity_1pct;
    out->liquidity_2pct = out->bid_liquidity_2pct + out->ask_liquidity_2pct;
    out->imbalance_ratio = out->ask_volume > 0 ? out->bid_volume / out->ask_volume : NAN;
    out->imbalance = out->weighted_imbalance = NAN;
    if (two) {
        if ((st = liq_book_imbalance(b, p->levels, LIQ_WEIGHT_PLAIN, 50.0, 0, &out->imbalance)) != LIQ_OK ||
            (st = liq_book_imbalance(b, p->levels, LIQ_WEIGHT_LINEAR, 50.0, 0, &out->weighted_imbalance)) != LIQ_OK)
            return st;
    }
    liq_walk_result wb, ws;
    if ((st = liq_book_walk_notional(b, LIQ_WALK_BUY, p->notional, &wb)) != LIQ_OK ||
        (st = liq_book_walk_notional(b, LIQ_WALK_SELL, p->notional, &ws)) != LIQ_OK)
        return st;
    out->slippage_bps = (wb.slippage_mid_bps + ws.slippage_mid_bps) / 2;
    out->score = liq_liquidity_score(out->spread_bps, out->liquidity_1pct,
                                     out->slippage_bps > 0 ? out->slippage_bps : 0.0, p->half_life_s, p->depth_half);
    return LIQ_OK;
}

double liq_liquidity_score(double spread_bps, double depth_1pct_quote, double slippage_bps, double half_life_s,
                           double depth_half)
{
    if (!(spread_bps >= 0) || !(depth_1pct_quote >= 0) || !(slippage_bps >= 0) || !(depth_half > 0) ||
        half_life_s < 0)
        return NAN;
    const double s_spread = exp(-spread_bps / 10), s_depth = depth_1pct_quote / (depth_1pct_quote + depth_half);
    const double s_slip = exp(-slippage_bps / 25);
    double score = 0.25 * s_spread + 0.35 * s_depth + 0.25 * s_slip;
    if (half_life_s != half_life_s) return score / 0.85;      /* unknown resilience: renormalise */
    return score + 0.15 * exp(-half_life_s / 30);
}
