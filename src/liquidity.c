#include "liquidity.h"

#include <math.h>

liq_shape_params liq_shape_defaults(void)
{
    liq_shape_params p = {200.0, 50, 5.0, 3.5, 3.0, 1};
    return p;
}

static int params_ok(const liq_shape_params *p)
{
    return p && p->band_bps >= 0 && p->window >= 1 && p->window <= LIQ_WALL_WINDOW_MAX && p->ratio >= 0 &&
           p->z_min >= 0 && (p->ratio > 0 || p->z_min > 0) && p->cluster_ratio >= 0 && p->gap_ticks >= 1;
}

/* k-th smallest of a[0..n) (0-based), reordering a so that a[0..k) <= a[k] <= a(k..n).
 * Quickselect with a three-way partition (sizes repeat often: equal keys stay O(n)). */
static double select_kth(double *a, size_t n, size_t k)
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

/* Median of a[0..n) (n >= 1; reorders a): the mean of the two middle values for even n. */
static double median(double *a, size_t n)
{
    double hi = select_kth(a, n, n / 2);
    if (n % 2) return hi;
    double lo = a[0];                        /* the largest of the lower half */
    for (size_t i = 1; i < n / 2; i++) if (a[i] > lo) lo = a[i];
    return (lo + hi) / 2;
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
    if (side == LIQ_BID) {
        double t = ceil(mid * (1 - band));
        if (t < 1) return INT64_MIN;
        int64_t k = (int64_t)t;
        while (k > 1 && in_band(side, (double)(k - 1), mid, band)) k--;
        while (!in_band(side, (double)k, mid, band)) k++;
        return k;
    }
    double t = floor(mid * (1 + band));
    if (t >= 9.2e18) return -INT64_MAX;
    int64_t px = (int64_t)t;
    while (in_band(side, (double)(px + 1), mid, band)) px++;
    while (px > 0 && !in_band(side, (double)px, mid, band)) px--;
    return -px;
}

/* Baseline of a side: median/MAD of the window's sizes (base), the band's total size. */
static void side_baseline(const liq_book *b, const liq_shape_params *p, int side, double mid, liq_baseline *out)
{
    double win[LIQ_WALL_WINDOW_MAX], dev[LIQ_WALL_WINDOW_MAX];
    const liq_side *s = &b->side[side];
    const double qdiv = liq_pow10_f64[b->qty_scale], band = p->band_bps / 1e4;
    const int64_t kmin = band_kmin(side, mid, band);
    size_t n = 0;
    int64_t total = 0;                       /* holes add 0 */
    for (size_t j = s->len; j > 0 && s->key[j - 1] >= kmin; j--) {
        total += s->qty[j - 1];
        if (n < p->window && s->qty[j - 1]) win[n++] = (double)s->qty[j - 1] / qdiv;
    }
    out->n = n;
    out->band_size = (double)total / qdiv;
    if (!n) {
        out->median = out->mad = NAN;
        return;
    }
    out->median = median(win, n);
    for (size_t i = 0; i < n; i++) dev[i] = fabs(win[i] - out->median);
    out->mad = median(dev, n);
}

/* Walls of side sd against its baseline (appended to out[*found..cap), counted in *found). */
static void walls_side(const liq_book *b, const liq_shape_params *p, int sd, double mid, const liq_baseline *base,
                       liq_wall *out, size_t cap, size_t *found)
{
    const double pdiv = liq_pow10_f64[b->px_scale], qdiv = liq_pow10_f64[b->qty_scale];
    const double zref = p->z_min > 0 ? p->z_min : 3.5;
    const liq_side *s = &b->side[sd];
    const int64_t kmin = band_kmin(sd, mid, p->band_bps / 1e4);
    /* a cheap integer prefilter: no level below the smallest size either test could flag */
    double qlo = INFINITY;
    if (p->ratio > 0) qlo = fmin(qlo, p->ratio * base->median);
    if (p->z_min > 0) qlo = fmin(qlo, base->mad > 0 ? base->median + p->z_min * base->mad / 0.6745 : base->median);
    const int64_t qmin = qlo * qdiv >= 9.2e18 ? INT64_MAX : (int64_t)floor(qlo * qdiv * (1 - 1e-12));
    size_t rank = 0;
    for (size_t j = s->len; j > 0 && s->key[j - 1] >= kmin; j--) {
        if (!s->qty[j - 1]) continue;       /* a hole */
        rank++;
        if (s->qty[j - 1] < qmin) continue;
        const double px = px_units(s, sd, j - 1);
        const double q = (double)s->qty[j - 1] / qdiv;
        const double ratio = base->median > 0 ? q / base->median : INFINITY;
        const double z = base->mad > 0 ? 0.6745 * (q - base->median) / base->mad : (q > base->median ? INFINITY : 0);
        if (!((p->ratio > 0 && ratio >= p->ratio) || (p->z_min > 0 && z >= p->z_min))) continue;
        if (*found < cap) {
            liq_wall *w = &out[*found];
            w->side = sd;
            w->price = px / pdiv;
            w->size = q;
            w->notional = w->price * q;
            w->strength = ratio;
            w->z = z;
            w->confidence = z > 0 ? 1 - exp(-z / zref) : 0;
            w->distance_bps = fabs(px - mid) / mid * 1e4;
            w->rank = rank - 1;
        }
        (*found)++;
    }
}

/* Clusters of side sd against its baseline (as walls_side). */
static void clusters_side(const liq_book *b, const liq_shape_params *p, int sd, double mid,
                          const liq_baseline *base, liq_cluster *out, size_t cap, size_t *found)
{
    const double pdiv = liq_pow10_f64[b->px_scale], qdiv = liq_pow10_f64[b->qty_scale];
    const double min_q = p->cluster_ratio * base->median;
    const liq_side *s = &b->side[sd];
    const int64_t kmin = band_kmin(sd, mid, p->band_bps / 1e4);
    const int64_t qmin = min_q * qdiv >= 9.2e18 ? INT64_MAX : (int64_t)floor(min_q * qdiv * (1 - 1e-12));
    liq_cluster cur = {0};
    double last_px = 0;
    int open = 0;
    for (size_t j = s->len;; j--) {
        const int more = j > 0 && s->key[j - 1] >= kmin;
        if (more && s->qty[j - 1] < (qmin > 1 ? qmin : 1)) continue;   /* holes and small levels */
        const double px = more ? px_units(s, sd, j - 1) : 0;
        const double q = more ? (double)s->qty[j - 1] / qdiv : 0;
        const int member = more && q >= min_q;
        /* a member more than gap_ticks from the previous one, or the end, closes the run */
        if (open && (!more || (member && fabs(px - last_px) > (double)(p->gap_ticks * b->tick)))) {
            cur.vwap = cur.notional / cur.size;
            cur.span_bps = fabs(cur.price_worst - cur.price_best) * pdiv / mid * 1e4;
            cur.share = base->band_size > 0 ? cur.size / base->band_size : NAN;
            if (*found < cap) out[*found] = cur;
            (*found)++;
            open = 0;
        }
        if (!more) break;
        if (!member) continue;
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

liq_status liq_book_shape(const liq_book *b, const liq_shape_params *p, int side, liq_wall *walls, size_t wcap,
                          size_t *nwalls, liq_cluster *clusters, size_t ccap, size_t *nclusters,
                          liq_baseline *baseline)
{
    if (!params_ok(p) || side < -1 || side > 1) return LIQ_ERR_ARG;
    if (nwalls) *nwalls = 0;
    if (nclusters) *nclusters = 0;
    const double mid = mid_units(b);
    for (int sd = 0; sd < 2; sd++) {
        liq_baseline base = {NAN, NAN, 0, 0};
        if (mid > 0) side_baseline(b, p, sd, mid, &base);
        if (baseline) baseline[sd] = base;
        if (mid <= 0 || (side >= 0 && sd != side) || !base.n) continue;
        if (nwalls) walls_side(b, p, sd, mid, &base, walls, wcap, nwalls);
        if (nclusters) clusters_side(b, p, sd, mid, &base, clusters, ccap, nclusters);
    }
    return LIQ_OK;
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
