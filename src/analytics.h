/*
 * analytics.h — read-only analytics kernels over one L2 book (src/book.h).
 *
 * Definitions and worked examples: shared/research/analytics.md §1.1–1.3 (walk, depth
 * band, cost to move) and §2.1–2.2, 2.5 (imbalance, weighted mid).
 *
 * Conventions shared by every function here:
 *  - A *buy* walks the asks, a *sell* walks the bids; D = +1 for a buy, -1 for a sell,
 *    so adverse slippage is positive.
 *  - Results are doubles in natural units: prices in quote per base, quantities in
 *    base, notionals in quote (units divided by 10^scale, as liq_book_levels_f64).
 *    Sums are accumulated exactly in integers (px*qty as 128-bit products) and
 *    converted once at the end, so a notional is the double nearest (within 2
 *    roundings) to the exact decimal sum.
 *  - "mid" is (best bid + best ask) / 2; the "touch" of a side is its best price.
 *  - Bands and moves are given in basis points (1 bp = 1e-4) of the reference. A price
 *    threshold ref*(1 +- x) that lies within float rounding (~1e-15 relative) of a price
 *    unit is snapped onto that unit, so a level placed exactly on a decimal boundary
 *    (100.0 * 1.01 = 101.0) is classified by the documented inclusive/strict rule, not by
 *    binary rounding of x. The reference and threshold are doubles, so beyond 2^53 price
 *    units (where doubles are more than one unit apart) a level is compared exactly with
 *    the double threshold, which may lie a few units off the decimal one.
 *  - No allocation, no globals, thread-safe for concurrent readers (the book must not be
 *    written meanwhile). Cost is O(levels touched): the loops stop at the first level
 *    past the request, band or N.
 *  - Requires a compiler with __int128 (GCC, Clang).
 */
#ifndef LIQ_ANALYTICS_H
#define LIQ_ANALYTICS_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "book.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Direction of a simulated market order; the value is the sign D of the slippage. */
typedef enum liq_walk_dir { LIQ_WALK_SELL = -1, LIQ_WALK_BUY = 1 } liq_walk_dir;

/* Reference price of a band or move: the mid, or the touch of the side concerned. */
typedef enum liq_ref { LIQ_REF_MID = 0, LIQ_REF_TOUCH = 1 } liq_ref;

/* Level weightings of liq_book_imbalance (i = 1 is the best level). */
typedef enum liq_weighting {
    LIQ_WEIGHT_PLAIN = 0,    /* w_i = 1 */
    LIQ_WEIGHT_LINEAR = 1,   /* w_i = 1 - (i-1)/N */
    LIQ_WEIGHT_INVERSE = 2,  /* w_i = 1/i */
    LIQ_WEIGHT_EXP = 3       /* w_i = exp(-d_i/h), d_i = |p_i - mid|/mid in bps, h in bps */
} liq_weighting;

/* Outcome of a simulated market order (liq_book_walk_qty / liq_book_walk_notional). */
typedef struct liq_walk_result {
    double vwap;              /* average fill price (notional / filled); NaN if nothing filled */
    double worst_px;          /* price of the last level touched; NaN if nothing filled */
    double filled;            /* base quantity filled */
    double notional;          /* quote notional filled (sum px*take) */
    double slippage_bps;      /* D*(vwap - touch)/touch * 1e4; NaN if nothing filled */
    double slippage_mid_bps;  /* D*(vwap - mid)/mid * 1e4; NaN if nothing filled or a side is empty */
    double unfilled;          /* remainder of the request, in the request's unit (base or quote) */
    size_t levels;            /* levels consumed, the last one possibly partially */
    int complete;             /* 1 if the whole request was filled */
} liq_walk_result;

/* Base and quote sums of each side (liq_book_depth). */
typedef struct liq_depth {
    double bid_base, bid_quote;
    double ask_base, ask_quote;
} liq_depth;

/*
 * Simulate a market order of `qty` base units (at the book's qty_scale, > 0) in
 * direction `dir`: take min(size, remaining) from each level from the touch outwards.
 * `unfilled` is in base. An empty side gives filled 0, NaN prices, complete 0 (LIQ_OK).
 * Returns LIQ_OK, LIQ_ERR_SIDE (dir not +-1) or LIQ_ERR_ARG (qty <= 0); *out is
 * written only on LIQ_OK. The notional sum cannot overflow (it is < qty * max px <
 * 2^126 units). O(levels consumed).
 */
liq_status liq_book_walk_qty(const liq_book *b, int dir, int64_t qty, liq_walk_result *out);

/*
 * Same for an order of `notional` quote (a finite double > 0): take min(p*s, remaining)
 * from each level; the base taken from the last, partial level is remaining/p (so
 * `filled` need not lie on the lot grid). `unfilled` is in quote. The request is
 * rounded once to units of 10^-(px_scale+qty_scale) quote (exact for decimal amounts
 * such as 402.0 whenever that product is below 2^53); a request beyond 2^126 units is
 * walked as 2^126 units (more than any book holds) and reported incomplete with
 * `unfilled` = request - filled. Returns LIQ_OK, LIQ_ERR_SIDE, LIQ_ERR_NAN,
 * LIQ_ERR_INF or LIQ_ERR_ARG (notional <= 0). O(levels consumed).
 */
liq_status liq_book_walk_notional(const liq_book *b, int dir, double notional, liq_walk_result *out);

/*
 * Liquidity within `band_bps` (>= 0) of a reference, per side: bids with
 * p >= ref_b*(1 - x) and asks with p <= ref_a*(1 + x), x = band_bps/1e4, boundary
 * INCLUSIVE. ref is the mid for both sides (LIQ_REF_MID), or the best bid for bids and
 * the best ask for asks (LIQ_REF_TOUCH). An empty side sums to 0; a non-empty side
 * whose reference is undefined (mid with the other side empty) gives NaN.
 * Returns LIQ_OK, LIQ_ERR_ARG (band negative or NaN, unknown ref) or LIQ_ERR_OVERFLOW
 * (a quote sum beyond 2^127 units: needs levels near the int64 limits). O(levels in band).
 */
liq_status liq_book_depth(const liq_book *b, double band_bps, int ref, liq_depth *out);

/*
 * The cumulative depth profile: liq_book_depth at n bands at once (bps[] ascending, each
 * >= 0), one pass over each side: out[k] = the liq_depth of band bps[k]. LIQ_ERR_ARG for
 * a band that is negative, NaN or smaller than the one before. O(levels within the
 * widest band + n).
 */
liq_status liq_book_depth_profile(const liq_book *b, const double *bps, size_t n, int ref, liq_depth *out);

/*
 * Base and quote needed to move the price by `move_bps` (signed): for move_bps > 0 the
 * target is P* = ref*(1 + x) and every ask with p < P* is consumed; for move_bps < 0,
 * P* = ref*(1 - |x|) and every bid with p > P* (STRICT: a level exactly on P* stays,
 * it becomes the new touch). ref is the mid or the touch of the consumed side.
 * move_bps = 0 consumes nothing. Empty consumed side: 0; undefined reference: NaN.
 * Returns LIQ_OK, LIQ_ERR_ARG (NaN move, unknown ref) or LIQ_ERR_OVERFLOW (as
 * liq_book_depth); the outputs are written only on LIQ_OK. O(levels consumed).
 */
liq_status liq_book_cost_to_move(const liq_book *b, double move_bps, int ref, double *base,
                                 double *quote);

/*
 * Weighted imbalance over the best `levels` (>= 1) of each side, in [-1, 1]:
 * (sum w_i v_i^bid - sum w_i v_i^ask) / (sum w_i v_i^bid + sum w_i v_i^ask), with v the
 * size, or p*size when `notional` is non-zero. Sides with fewer levels use what they
 * have. `half_width_bps` (> 0) is h of LIQ_WEIGHT_EXP (ignored otherwise). Both sides
 * empty: NaN; one side empty: +-1 (whatever the weights). Returns LIQ_OK or
 * LIQ_ERR_ARG (levels 0, unknown weighting, h not > 0 for EXP). O(levels).
 */
liq_status liq_book_imbalance(const liq_book *b, size_t levels, int weighting, double half_width_bps,
                              int notional, double *out);

/*
 * Size-weighted mid of the touch: rho*ask + (1 - rho)*bid with rho = q_bid/(q_bid + q_ask)
 * (leans toward the side with less size). Price in quote; NaN if a side is empty. This
 * is the weighted mid, not Stoikov's micro-price (which needs a fitted model). O(1).
 */
double liq_book_weighted_mid(const liq_book *b);

/*
 * Total size (base) of the best `levels` levels of a side (all when it has fewer); 0 for an
 * empty side. Summed exactly in 128 bits (sizes reach 2^63 units each), converted once. O(levels).
 */
double liq_book_top_size(const liq_book *b, int side, size_t levels);

#ifdef __cplusplus
}
#endif
#endif
