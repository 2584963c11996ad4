#include "analytics.h"

#include <math.h>

#ifndef __SIZEOF_INT128__
#error "liqcore analytics need __int128 (GCC or Clang) for exact notional sums"
#endif
/* __extension__ keeps -Wpedantic quiet about the non-ISO type; px*qty of two int64
 * needs up to 126 bits, so notional sums are exact in this type. */
__extension__ typedef __int128 liq_i128;

/* 2^126 as a double: the largest request a quote walk tracks exactly (see the header). */
#define LIQ_I128_CAP 8.5070591730234616e37

/* Quote units (10^-(px_scale+qty_scale)) per quote: exact for px_scale+qty_scale <= 22. */
static double notional_div(const liq_book *b)
{
    return (double)liq_pow10[b->px_scale] * (double)liq_pow10[b->qty_scale];
}

/* Mid in price units; exact (a half-integer) while both prices are below 2^52. */
static double mid_units(const liq_book *b)
{
    const liq_side *bi = &b->side[LIQ_BID], *as = &b->side[LIQ_ASK];
    return ((double)bi->key[bi->len - 1] - (double)as->key[as->len - 1]) * 0.5;
}

/*
 * Fill the result of a walk from its exact sums. The side arrays hold key = +-px, so the
 * walk loops accumulate key*take without a per-level branch; `sign` turns it back into
 * px. filled_units may be fractional (partial level of a quote walk).
 */
static void walk_finish(const liq_book *b, int dir, int side, liq_i128 key_sum, double filled_units,
                        size_t levels, int64_t last_key, liq_walk_result *out)
{
    const double pdiv = (double)liq_pow10[b->px_scale];
    const double sign = side == LIQ_BID ? 1.0 : -1.0;
    out->levels = levels;
    out->filled = filled_units / (double)liq_pow10[b->qty_scale];
    out->notional = sign * (double)key_sum / notional_div(b);
    if (levels == 0) {
        out->vwap = out->worst_px = out->slippage_bps = out->slippage_mid_bps = NAN;
        return;
    }
    /* In price units first: one rounding for the average, then one per conversion. */
    const double vwap_u = sign * (double)key_sum / filled_units;
    const liq_side *s = &b->side[side];
    const double best_u = sign * (double)s->key[s->len - 1];
    const double d = (double)dir;
    out->vwap = vwap_u / pdiv;
    out->worst_px = sign * (double)last_key / pdiv;
    out->slippage_bps = d * (vwap_u - best_u) / best_u * 1e4;
    if (b->side[1 - side].len) {
        const double mid = mid_units(b);
        out->slippage_mid_bps = d * (vwap_u - mid) / mid * 1e4;
    } else {
        out->slippage_mid_bps = NAN;
    }
}

liq_status liq_book_walk_qty(const liq_book *b, int dir, int64_t qty, liq_walk_result *out)
{
    if (dir != LIQ_WALK_BUY && dir != LIQ_WALK_SELL) return LIQ_ERR_SIDE;
    if (qty <= 0) return LIQ_ERR_ARG;
    const int side = dir == LIQ_WALK_BUY ? LIQ_ASK : LIQ_BID;
    const liq_side *s = &b->side[side];
    const int64_t *key = s->key, *sz = s->qty;
    liq_i128 acc = 0;
    int64_t rem = qty, last_key = 0;
    size_t j = s->len, levels = 0;
    while (j > 0 && rem > 0) {
        if (!sz[--j]) continue;                 /* a hole */
        const int64_t take = sz[j] < rem ? sz[j] : rem;
        acc += (liq_i128)key[j] * take;
        rem -= take;
        last_key = key[j];
        levels++;
    }
    walk_finish(b, dir, side, acc, (double)(qty - rem), levels, last_key, out);
    out->unfilled = (double)rem / (double)liq_pow10[b->qty_scale];
    out->complete = rem == 0;
    return LIQ_OK;
}

liq_status liq_book_walk_notional(const liq_book *b, int dir, double notional, liq_walk_result *out)
{
    if (dir != LIQ_WALK_BUY && dir != LIQ_WALK_SELL) return LIQ_ERR_SIDE;
    if (notional != notional) return LIQ_ERR_NAN;
    if (notional > 1.7976931348623157e308) return LIQ_ERR_INF;
    if (!(notional > 0)) return LIQ_ERR_ARG;
    const double ndiv = notional_div(b);
    const double target = notional * ndiv + 0.5;
    const int capped = target >= LIQ_I128_CAP;
    const liq_i128 want = capped ? (liq_i128)LIQ_I128_CAP : (liq_i128)target;
    if (want <= 0) return LIQ_ERR_ARG;  /* below half a unit: nothing to walk */

    const int side = dir == LIQ_WALK_BUY ? LIQ_ASK : LIQ_BID;
    const liq_side *s = &b->side[side];
    const int64_t *key = s->key, *sz = s->qty;
    /* Asks store -px: walking with -key keeps every product positive. */
    const int64_t sign = side == LIQ_BID ? 1 : -1;
    liq_i128 rem = want, base = 0;
    double part = 0.0;  /* base units taken from a partially consumed last level */
    int64_t last_key = 0;
    size_t j = s->len, levels = 0;
    while (j > 0 && rem > 0) {
        if (!sz[--j]) continue;                 /* a hole */
        levels++;
        const int64_t px = sign * key[j];
        const liq_i128 lvl = (liq_i128)px * sz[j];
        last_key = key[j];
        if (lvl <= rem) {
            rem -= lvl;
            base += sz[j];
        } else {
            part = (double)rem / (double)px;
            rem = 0;
        }
    }
    /* key_sum in the book's signed key convention, as walk_finish expects */
    const liq_i128 spent = want - rem;
    walk_finish(b, dir, side, sign * spent, (double)base + part, levels, last_key, out);
    out->complete = rem == 0 && !capped;
    out->unfilled = capped ? notional - out->notional : (double)rem / ndiv;
    return LIQ_OK;
}

/*
 * Smallest key of the levels of `side` that lie on the inner side of the price threshold
 * t (price units): asks p <= t / p < t, bids p >= t / p > t (`inclusive` picks <=/>=).
 * Returns 0 when no price can qualify. t is first snapped onto a unit when it is within
 * float rounding of one, so decimal boundaries behave as decimals (see the header).
 */
static int key_limit(int side, double t, int inclusive, int64_t *kmin)
{
    const double r = floor(t + 0.5);
    if (fabs(t - r) <= fabs(t) * 1e-15) t = r;
    /* Integers in int64 from here: near 2^63 doubles are 1024 apart, so t - 1 == t there, and
     * a double of 2^63 or more has no int64 (the cast is undefined). */
    const double two63 = 9223372036854775808.0;
    if (t != t) return 0;
    const double fl = floor(t);
    if (side == LIQ_ASK) {
        if (fl >= two63) { *kmin = -INT64_MAX; return 1; }     /* every int64 price qualifies */
        if (fl < 1.0) return 0;
        const int64_t pmax = (int64_t)fl - (!inclusive && fl == t);
        if (pmax < 1) return 0;
        *kmin = -pmax;
        return 1;
    }
    if (fl >= two63) return 0;                                  /* above every int64 price */
    if (fl < 1.0) { *kmin = INT64_MIN; return 1; }             /* every price >= 1 qualifies */
    *kmin = (int64_t)fl + (inclusive ? fl != t : 1);
    return 1;
}

/* Running sums of one side from the touch down: the levels at and above index j are summed
 * (holes add 0). A fresh one, {len, 0, 0}, starts at the touch; wider bands extend it. */
typedef struct side_sums {
    size_t j;
    liq_i128 qb, qq;
} side_sums;

/* Extend a's sums down to key >= kmin; base and quote of the levels summed so far. */
static liq_status sum_levels(const liq_book *b, int side, int64_t kmin, side_sums *a, double *base, double *quote)
{
    const liq_side *s = &b->side[side];
    const int64_t *key = s->key, *sz = s->qty;
    while (a->j > 0 && key[a->j - 1] >= kmin) {
        const size_t j = --a->j;
        a->qb += sz[j];
        /* a term is < 2^126 in magnitude; only a sum over many near-int64 levels overflows */
        if (__builtin_add_overflow(a->qq, (liq_i128)key[j] * sz[j], &a->qq)) return LIQ_ERR_OVERFLOW;
    }
    *base = (double)a->qb / (double)liq_pow10[b->qty_scale];
    *quote = (side == LIQ_BID ? 1.0 : -1.0) * (double)a->qq / notional_div(b) + 0.0;   /* + 0.0: no -0 for an empty band */
    return LIQ_OK;
}

/* Reference price (units) for a side, or NaN when it is undefined. */
static double ref_units(const liq_book *b, int ref, int side)
{
    if (ref == LIQ_REF_MID) return b->side[LIQ_BID].len && b->side[LIQ_ASK].len ? mid_units(b) : NAN;
    const liq_side *s = &b->side[side];
    if (!s->len) return NAN;
    return side == LIQ_BID ? (double)s->key[s->len - 1] : -(double)s->key[s->len - 1];
}

/* Sums of one side within threshold t (units), continuing a (see side_sums; thresholds
 * widen from call to call); empty side 0, undefined t NaN. */
static liq_status sum_within(const liq_book *b, int side, double t, int inclusive, side_sums *a, double *base,
                             double *quote)
{
    int64_t kmin;
    if (!b->side[side].len) {
        *base = *quote = 0.0;
        return LIQ_OK;
    }
    if (t != t) {
        *base = *quote = NAN;
        return LIQ_OK;
    }
    if (!key_limit(side, t, inclusive, &kmin)) {
        *base = *quote = 0.0;
        return LIQ_OK;
    }
    return sum_levels(b, side, kmin, a, base, quote);
}

liq_status liq_book_depth(const liq_book *b, double band_bps, int ref, liq_depth *out)
{
    liq_depth d;
    liq_status st = liq_book_depth_profile(b, &band_bps, 1, ref, &d);
    if (st == LIQ_OK) *out = d;
    return st;
}

liq_status liq_book_depth_profile(const liq_book *b, const double *bps, size_t n, int ref, liq_depth *out)
{
    if (ref != LIQ_REF_MID && ref != LIQ_REF_TOUCH) return LIQ_ERR_ARG;
    for (size_t k = 0; k < n; k++)
        if (!(bps[k] >= 0) || (k && bps[k] < bps[k - 1])) return LIQ_ERR_ARG;
    for (int side = 0; side < 2; side++) {
        const double r = ref_units(b, ref, side);
        side_sums a = {b->side[side].len, 0, 0};      /* one pass per side: each band extends the last */
        for (size_t k = 0; k < n; k++) {
            /* ref + ref*x rounds once on the small term: closer to the decimal target than ref*(1+x) */
            const double t = side == LIQ_BID ? r - r * (bps[k] / 1e4) : r + r * (bps[k] / 1e4);
            double *base = side == LIQ_BID ? &out[k].bid_base : &out[k].ask_base;
            double *quote = side == LIQ_BID ? &out[k].bid_quote : &out[k].ask_quote;
            liq_status st = sum_within(b, side, t, 1, &a, base, quote);
            if (st != LIQ_OK) return st;
        }
    }
    return LIQ_OK;
}

liq_status liq_book_cost_to_move(const liq_book *b, double move_bps, int ref, double *base,
                                 double *quote)
{
    if (move_bps != move_bps || (ref != LIQ_REF_MID && ref != LIQ_REF_TOUCH)) return LIQ_ERR_ARG;
    if (move_bps == 0) {
        *base = *quote = 0.0;
        return LIQ_OK;
    }
    const int side = move_bps > 0 ? LIQ_ASK : LIQ_BID;
    const double r = ref_units(b, ref, side);
    side_sums a = {b->side[side].len, 0, 0};
    return sum_within(b, side, r + r * (move_bps / 1e4), 0, &a, base, quote);
}

liq_status liq_book_imbalance(const liq_book *b, size_t levels, int weighting, double half_width_bps,
                              int notional, double *out)
{
    if (levels == 0 || weighting < LIQ_WEIGHT_PLAIN || weighting > LIQ_WEIGHT_EXP) return LIQ_ERR_ARG;
    if (weighting == LIQ_WEIGHT_EXP && !(half_width_bps > 0)) return LIQ_ERR_ARG;
    const size_t nb = b->side[LIQ_BID].live, na = b->side[LIQ_ASK].live;
    if (!nb || !na) {
        /* positive weights on one side only: the ratio is +-1 whatever they are */
        *out = nb ? 1.0 : na ? -1.0 : NAN;
        return LIQ_OK;
    }
    const double mid = mid_units(b);
    /* exp(-d/h) with d = |p - mid|/mid*1e4: fold the constants into one factor */
    const double decay = weighting == LIQ_WEIGHT_EXP ? 1e4 / (mid * half_width_bps) : 0.0;
    const double inv_n = 1.0 / (double)levels;
    double sum[2];
    for (int side = 0; side < 2; side++) {
        const liq_side *s = &b->side[side];
        const double sign = side == LIQ_BID ? 1.0 : -1.0;
        double acc = 0.0;
        size_t i = 0;
        for (size_t c = liq_side_best(s); c && i < levels; c = liq_side_next(s, c), i++) {
            const size_t j = c - 1;
            const double px = sign * (double)s->key[j];
            double v = (double)s->qty[j];
            if (notional) v *= px;
            switch (weighting) {
            case LIQ_WEIGHT_LINEAR: v *= (double)(levels - i) * inv_n; break;
            case LIQ_WEIGHT_INVERSE: v /= (double)(i + 1); break;
            case LIQ_WEIGHT_EXP: v *= exp(-fabs(px - mid) * decay); break;
            default: break;
            }
            acc += v;
        }
        sum[side] = acc;
    }
    const double tot = sum[LIQ_BID] + sum[LIQ_ASK];
    *out = tot > 0 ? (sum[LIQ_BID] - sum[LIQ_ASK]) / tot : NAN;
    return LIQ_OK;
}

double liq_book_weighted_mid(const liq_book *b)
{
    int64_t bp, bq, ap, aq;
    if (!liq_book_best(b, LIQ_BID, &bp, &bq) || !liq_book_best(b, LIQ_ASK, &ap, &aq)) return NAN;
    /* rho*ask + (1-rho)*bid = (q_b*ask + q_a*bid)/(q_b + q_a), numerator exact */
    const liq_i128 num = (liq_i128)bq * ap + (liq_i128)aq * bp;
    const double den = (double)bq + (double)aq;
    return (double)num / den / (double)liq_pow10[b->px_scale];
}

double liq_book_top_size(const liq_book *b, int side, size_t levels)
{
    const liq_side *s = &b->side[side];
    liq_i128 tot = 0;
    size_t i = 0;
    for (size_t c = liq_side_best(s); c && i < levels; c = liq_side_next(s, c), i++) tot += s->qty[c - 1];
    return (double)tot / liq_pow10_f64[b->qty_scale];
}
