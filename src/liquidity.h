/*
 * liquidity.h — the shape of a book: liquidity walls, order clusters and a 0-1 liquidity
 * score (shared/research/analytics.md §4.5 and §5). The cumulative depth profile over
 * several bands is liq_book_depth_profile (analytics.h).
 *
 * Walls (per side): levels within `band_bps` of the mid whose size stands out against a
 * robust baseline of that side's neighbourhood: the median and the MAD of the sizes of
 * the `window` levels nearest the touch inside the band. A level is a wall when
 *     size / median >= ratio            (default 5; 3 on thin books)
 *  or robust z = 0.6745 (size - median) / MAD >= z_min   (Iglewicz-Hoaglin; default 3.5).
 * Medians and MADs, not means and standard deviations: walls inflate the latter and hide
 * themselves (the worked example: classic z 1.4-1.9 for three walls of robust z 22-28).
 *
 * Clusters (per side): runs of levels whose size is >= cluster_ratio x median (default 3),
 * consecutive in the book and at most `gap_ticks` ticks (or `gap_bps` of the mid) apart,
 * reported with their total
 * size and notional, size-weighted price, span and share of the side's depth in the band.
 *
 * Units: prices in quote, sizes in base, notionals in quote, distances in bps of the mid.
 * No allocation beyond a caller-sized stack window (LIQ_WALL_WINDOW_MAX), no globals.
 * Cost: O(levels in the band) plus two O(window) selections per side.
 */
#ifndef LIQ_LIQUIDITY_H
#define LIQ_LIQUIDITY_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "book.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LIQ_WALL_WINDOW_MAX = 512 };

typedef struct liq_shape_params {
    double band_bps;          /* walls and clusters are looked for within mid*(1 -+ band) (default 200) */
    size_t window;            /* levels (nearest the touch, in the band) of the baseline; <= LIQ_WALL_WINDOW_MAX */
    double ratio;             /* wall when size/median >= ratio (0 disables this test) */
    double z_min;             /* wall when robust z >= z_min (0 disables this test) */
    double cluster_ratio;     /* cluster members: size/median >= cluster_ratio */
    int64_t gap_ticks;        /* members at most this many ticks apart (>= 1) */
    double gap_bps;           /* or, when > 0, at most this many bps of the mid apart (replaces gap_ticks) */
    double quote_bands_bps[2];/* also sum the quote notional within these bands of the mid in the same
                               * pass (0 = off; a band wider than band_bps is summed up to band_bps only) */
} liq_shape_params;

typedef struct liq_wall {
    int side;                 /* LIQ_BID / LIQ_ASK */
    double price, size, notional;
    double strength;          /* size / median */
    double z;                 /* robust z (inf when MAD is 0 and size > median) */
    double confidence;        /* 1 - exp(-z / z_min): 0.63 at the threshold, -> 1 beyond */
    double distance_bps;      /* |price - mid| / mid * 1e4 */
    size_t rank;              /* 0 = the best level of the side */
} liq_wall;

typedef struct liq_cluster {
    int side;
    double price_best, price_worst;   /* the member nearest to / farthest from the touch */
    double size, notional;
    double vwap;              /* notional / size */
    double span_bps;          /* |price_worst - price_best| / mid * 1e4 */
    double share;             /* size / the side's size within the band */
    size_t levels;            /* members */
} liq_cluster;

/* Baseline of one side: median and MAD of the window's sizes (base units); n levels used. */
typedef struct liq_baseline {
    double median, mad, band_size;    /* band_size: the side's total size within the band */
    double band_quote[2];             /* quote within quote_bands_bps[k] (walls/clusters pass only; else NaN) */
    size_t n;
} liq_baseline;

/* Defaults of liq_shape_params (band 200 bps, window 50, ratio 5, z 3.5, cluster 3x, gap 1). */
liq_shape_params liq_shape_defaults(void);

/*
 * Walls of one side (or both with side = -1), best first per side, into out[0..cap);
 * returns how many were found (may exceed cap: only cap are written). baseline (may be
 * NULL) receives each side's baseline (2 entries, [LIQ_BID], [LIQ_ASK]). LIQ_ERR_ARG on
 * bad parameters; an empty side or no mid gives 0 walls.
 */
liq_status liq_book_walls(const liq_book *b, const liq_shape_params *p, int side, liq_wall *out, size_t cap,
                          size_t *found, liq_baseline *baseline);

/* Clusters, as liq_book_walls (best first per side). */
liq_status liq_book_clusters(const liq_book *b, const liq_shape_params *p, int side, liq_cluster *out,
                             size_t cap, size_t *found);

/*
 * Walls and clusters in one call sharing each side's baseline (either output may be
 * skipped with a NULL count). Same arguments and results as the two calls above.
 */
liq_status liq_book_shape(const liq_book *b, const liq_shape_params *p, int side, liq_wall *walls, size_t wcap,
                          size_t *nwalls, liq_cluster *clusters, size_t ccap, size_t *nclusters,
                          liq_baseline *baseline);

/* The liquidity report (liq_book_report): its parameters ... */
typedef struct liq_report_params {
    size_t levels;            /* top levels per side of the volumes and imbalances (>= 1) */
    double notional;          /* quote notional of the reference buy and sell (> 0) */
    double half_life_s;       /* depth recovery half-life of the score, seconds (NaN: unknown) */
    double depth_half;        /* the score's D1 at which its depth term is 1/2, quote (> 0) */
    double band_bps;          /* walls and clusters within this band of the mid (>= 0) */
} liq_report_params;

enum { LIQ_REPORT_ITEMS = 16 };   /* walls and clusters a report keeps (the best of each side first) */

/* ... and its record. Prices in quote, volumes in base, liquidity in quote, NaN where a side
 * the figure needs is empty. */
typedef struct liq_report {
    double best_bid, best_bid_size, best_ask, best_ask_size;
    double mid, spread;       /* the same arithmetic as the binding's mid/spread: equal to the bit */
    double spread_bps, spread_pct;
    double bid_volume, ask_volume, total_volume;     /* sizes of the top `levels` per side */
    double bid_liquidity_1pct, ask_liquidity_1pct, liquidity_1pct;   /* quote within 1% of the mid */
    double bid_liquidity_2pct, ask_liquidity_2pct, liquidity_2pct;   /* ... within 2% */
    double imbalance_ratio;   /* bid_volume / ask_volume */
    double imbalance, weighted_imbalance;            /* plain / linear weights over `levels`, -1..+1 */
    double slippage_bps;      /* mean mid-slippage of the reference buy and sell */
    double score;             /* liq_liquidity_score(spread_bps, liquidity_1pct, slippage_bps >= 0, ...) */
    size_t levels;
    size_t nwalls, nclusters; /* entries written below (found beyond LIQ_REPORT_ITEMS are dropped) */
    liq_wall walls[LIQ_REPORT_ITEMS];           /* bids then asks, best first */
    liq_cluster clusters[LIQ_REPORT_ITEMS];
} liq_report;

/*
 * The whole liquidity report of a book in one call: top of book, spreads, top-`levels`
 * volumes, 1%/2% quote liquidity, imbalances, the reference slippage, walls and clusters
 * (liq_book_shape with the default thresholds within band_bps: the first LIQ_REPORT_ITEMS of
 * each, bids then asks; once both are full the rest of the band is only summed) and the score. With
 * band_bps >= 200 the 1%/2% liquidity comes from the walls' own pass over the band; a
 * narrower band costs one more pass (liq_book_depth_profile). LIQ_ERR_ARG for levels < 1,
 * notional <= 0 or NaN, band_bps < 0 or NaN (*out unwritten); a depth_half or half-life the
 * score refuses gives a NaN score.
 * No allocation. O(levels within max(band_bps, 200 bps) of the mid).
 */
liq_status liq_book_report(const liq_book *b, const liq_report_params *p, liq_report *out);

/*
 * 0-1 liquidity score (analytics.md §4.5):
 *     s_spread = exp(-spread_bps / 10)            s_depth = D1 / (D1 + depth_half)
 *     s_slip   = exp(-slippage_bps / 25)          s_resil = exp(-half_life_s / 30)
 *     score    = 0.25 s_spread + 0.35 s_depth + 0.25 s_slip + 0.15 s_resil
 * D1 = quote depth within 1% of mid, slippage of a reference order in bps (>= 0). A NaN
 * half-life (unknown resilience) drops that term and renormalises the weights (/0.85).
 * Monotone: decreasing in spread, slippage and half-life, increasing in depth. Returns
 * NaN for NaN/negative spread, depth or slippage, or a non-positive depth_half.
 */
double liq_liquidity_score(double spread_bps, double depth_1pct_quote, double slippage_bps, double half_life_s,
                           double depth_half);

#ifdef __cplusplus
}
#endif
#endif
