/* Walls, clusters and the liquidity score (src/liquidity.h) on the worked examples of
 * shared/research/analytics.md §5 and §4.5, and the depth profile (analytics.h) against
 * liq_book_depth band by band. */
#include <math.h>
#include <string.h>
#include "check.h"
#include "book.h"
#include "book_invariants.h"
#include "analytics.h"
#include "liquidity.h"

/* §5: 12 bids from 100.0 down in 0.5 steps, sizes (0.1 units)
 * [1.2, 0.8, 1.0, 9.5, 1.1, 0.9, 1.3, 7.8, 8.4, 1.0, 0.7, 1.2]; one ask at 100.5 x 1. */
static void example_book(liq_book *b)
{
    static const int64_t q[12] = {12, 8, 10, 95, 11, 9, 13, 78, 84, 10, 7, 12};
    liq_delta d[13];
    CHECK_EQ_I64(liq_book_init(b, 1, 1, 5, 1, 0), LIQ_OK);
    for (int i = 0; i < 12; i++) d[i] = D(LIQ_BID, 1000 - 5 * i, q[i]);
    d[12] = D(LIQ_ASK, 1005, 10);
    CHECK_EQ_I64(liq_book_snapshot(b, d, 13, LIQ_ID_NONE, NULL), LIQ_OK);
}

static void test_walls_worked_example(void)
{
    liq_book b;
    example_book(&b);
    liq_shape_params p = liq_shape_defaults();
    p.band_bps = 600;                                    /* the example spans 5.7% below the mid */
    liq_wall w[8];
    liq_baseline base[2];
    size_t n = 99;
    CHECK_EQ_I64(liq_book_walls(&b, &p, -1, w, 8, &n, base), LIQ_OK);
    CHECK_NEAR(base[LIQ_BID].median, 1.15, 1e-12);
    CHECK_NEAR(base[LIQ_BID].mad, 0.20, 1e-12);
    CHECK_EQ_I64(base[LIQ_BID].n, 12);
    CHECK_NEAR(base[LIQ_BID].band_size, 34.9, 1e-9);
    CHECK_EQ_I64(n, 3);                                  /* the lone ask is its own median: no wall */
    static const double px[3] = {98.5, 96.5, 96.0}, ratio[3] = {8.26087, 6.78261, 7.30435},
                        z[3] = {28.16, 22.43, 24.45};
    static const size_t rank[3] = {3, 7, 8};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_I64(w[i].side, LIQ_BID);
        CHECK_NEAR(w[i].price, px[i], 1e-12);
        CHECK_NEAR(w[i].strength, ratio[i], 1e-5);
        CHECK_NEAR(w[i].z, z[i], 0.005);
        CHECK_EQ_I64(w[i].rank, rank[i]);
        CHECK_NEAR(w[i].distance_bps, (100.25 - px[i]) / 100.25 * 1e4, 1e-9);
        CHECK_NEAR(w[i].confidence, 1 - exp(-w[i].z / 3.5), 1e-12);
        CHECK_NEAR(w[i].notional, px[i] * w[i].size, 1e-9);
    }
    /* the ratio test alone at 8x keeps only 98.5; the z test alone at 25 keeps 98.5 (28.16) */
    p.ratio = 8;
    p.z_min = 0;
    CHECK_EQ_I64(liq_book_walls(&b, &p, LIQ_BID, w, 8, &n, NULL), LIQ_OK);
    CHECK_EQ_I64(n, 1);
    p.ratio = 0;
    p.z_min = 25;
    CHECK_EQ_I64(liq_book_walls(&b, &p, LIQ_BID, w, 8, &n, NULL), LIQ_OK);
    CHECK_EQ_I64(n, 1);
    CHECK_NEAR(w[0].price, 98.5, 1e-12);
    /* a narrow band (1%: bids >= 99.2475) sees 100.0, 99.5: no wall; the cap is respected */
    p = liq_shape_defaults();
    p.band_bps = 100;
    CHECK_EQ_I64(liq_book_walls(&b, &p, -1, w, 8, &n, base), LIQ_OK);
    CHECK_EQ_I64(n, 0);
    CHECK_EQ_I64(base[LIQ_BID].n, 2);
    p.band_bps = 600;
    CHECK_EQ_I64(liq_book_walls(&b, &p, -1, w, 2, &n, NULL), LIQ_OK);
    CHECK_EQ_I64(n, 3);                                  /* found 3, wrote 2 */
    p.window = 0;
    CHECK_EQ_I64(liq_book_walls(&b, &p, -1, w, 2, &n, NULL), LIQ_ERR_ARG);
    p.window = LIQ_WALL_WINDOW_MAX + 1;
    CHECK_EQ_I64(liq_book_walls(&b, &p, -1, w, 2, &n, NULL), LIQ_ERR_ARG);
    liq_book_free(&b);
}

static void test_clusters_worked_example(void)
{
    liq_book b;
    example_book(&b);
    liq_shape_params p = liq_shape_defaults();
    p.band_bps = 600;
    liq_cluster c[8];
    size_t n = 0;
    CHECK_EQ_I64(liq_book_clusters(&b, &p, -1, c, 8, &n), LIQ_OK);
    CHECK_EQ_I64(n, 2);
    CHECK_NEAR(c[0].price_best, 98.5, 1e-12);
    CHECK_NEAR(c[0].size, 9.5, 1e-12);
    CHECK_EQ_I64(c[0].levels, 1);
    CHECK_NEAR(c[1].price_best, 96.5, 1e-12);
    CHECK_NEAR(c[1].price_worst, 96.0, 1e-12);
    CHECK_NEAR(c[1].size, 16.2, 1e-12);
    CHECK_NEAR(c[1].vwap, 96.2407407, 1e-6);
    CHECK_NEAR(c[1].span_bps, 0.5 / 100.25 * 1e4, 1e-9);
    CHECK_NEAR(c[1].share, 16.2 / 34.9, 1e-12);
    CHECK_EQ_I64(c[1].levels, 2);
    /* a 4-tick gap joins 98.5 with 96.5 (4 ticks apart) and 96.0 */
    p.gap_ticks = 4;
    CHECK_EQ_I64(liq_book_clusters(&b, &p, LIQ_BID, c, 8, &n), LIQ_OK);
    CHECK_EQ_I64(n, 1);
    CHECK_NEAR(c[0].size, 25.7, 1e-12);
    CHECK_EQ_I64(c[0].levels, 3);
    liq_book_free(&b);
}

static void test_score(void)
{
    /* §4.5: spread 3 bps, D1 $750k, slippage 12 bps, half-life 15 s -> 0.64088 */
    CHECK_NEAR(liq_liquidity_score(3, 750000, 12, 15, 500000), 0.64088, 5e-6);
    double no_resil = liq_liquidity_score(3, 750000, 12, NAN, 500000);
    CHECK_NEAR(no_resil, (0.25 * exp(-0.3) + 0.35 * 0.6 + 0.25 * exp(-12.0 / 25)) / 0.85, 1e-12);
    CHECK(isnan(liq_liquidity_score(-1, 1, 1, 1, 1)));
    CHECK(isnan(liq_liquidity_score(1, NAN, 1, 1, 1)));
    CHECK(isnan(liq_liquidity_score(1, 1, 1, 1, 0)));
    CHECK(liq_liquidity_score(0, 1e12, 0, 0, 1) > 0.999999);
}

static void test_profile_matches_depth(void)
{
    liq_book b;
    example_book(&b);
    static const double bands[5] = {0, 30, 100, 250, 600};
    liq_depth prof[5], one;
    for (int ref = LIQ_REF_MID; ref <= LIQ_REF_TOUCH; ref++) {
        CHECK_EQ_I64(liq_book_depth_profile(&b, bands, 5, ref, prof), LIQ_OK);
        for (int k = 0; k < 5; k++) {
            CHECK_EQ_I64(liq_book_depth(&b, bands[k], ref, &one), LIQ_OK);
            CHECK(memcmp(&one, &prof[k], sizeof one) == 0);
        }
    }
    static const double bad[2] = {100, 50};
    CHECK_EQ_I64(liq_book_depth_profile(&b, bad, 2, LIQ_REF_MID, prof), LIQ_ERR_ARG);
    liq_book_free(&b);
}

/* Issue 10: a size of INT64_MAX units is a size, not "not requested" (walls() with no cluster
 * output and clusters() with no wall output segfaulted on it), and band sums do not wrap. */
static void test_int64_max_sizes(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 0), LIQ_OK);
    liq_delta d[6] = {D(LIQ_BID, 100, INT64_MAX), D(LIQ_BID, 99, 1), D(LIQ_BID, 98, 1), D(LIQ_BID, 97, 1),
                      D(LIQ_ASK, 101, INT64_MAX), D(LIQ_ASK, 102, INT64_MAX)};
    CHECK_EQ_I64(liq_book_snapshot(&b, d, 6, LIQ_ID_NONE, NULL), LIQ_OK);
    liq_shape_params p = liq_shape_defaults();
    p.band_bps = 500;
    liq_wall w[8];
    liq_cluster c[8];
    liq_baseline base[2];
    size_t nw = 99, nc = 99;
    CHECK_EQ_I64(liq_book_walls(&b, &p, -1, w, 8, &nw, base), LIQ_OK);
    CHECK_EQ_I64(nw, 1);                                 /* the bid at 100 against a median of 1 */
    CHECK_NEAR(w[0].price, 100.0, 0);
    CHECK_NEAR(base[LIQ_BID].band_size, (double)INT64_MAX + 3.0, 1e3);
    CHECK_NEAR(base[LIQ_ASK].band_size, 2.0 * (double)INT64_MAX, 1e3);   /* was negative: an int64 sum */
    CHECK_EQ_I64(liq_book_clusters(&b, &p, -1, c, 8, &nc), LIQ_OK);
    CHECK_EQ_I64(nc, 1);
    p.ratio = 0;                                         /* the z test alone */
    CHECK_EQ_I64(liq_book_walls(&b, &p, LIQ_ASK, w, 8, &nw, NULL), LIQ_OK);
    CHECK_EQ_I64(nw, 0);                                 /* two equal asks: nothing stands out */
    CHECK_NEAR(liq_book_top_size(&b, LIQ_ASK, 5), 2.0 * (double)INT64_MAX, 1e3);
    CHECK_NEAR(liq_book_top_size(&b, LIQ_BID, 2), (double)INT64_MAX + 1.0, 1e3);
    CHECK_NEAR(liq_book_top_size(&b, LIQ_BID, 0), 0.0, 0);
    liq_book_free(&b);
}

/* liq_book_report: every field equals the kernel it is made of, on both of its liquidity paths
 * (the walls' pass when the band reaches 2%, the depth profile below), one-sided and empty
 * books give NaN where a side is missing, and bad parameters are refused. */
static void check_report_parts(const liq_book *b, double band_bps)
{
    liq_report_params rp = {3, 50.0, NAN, 500000.0, band_bps};
    liq_report r;
    CHECK_EQ_I64(liq_book_report(b, &rp, &r), LIQ_OK);
    liq_shape_params p = liq_shape_defaults();
    p.band_bps = band_bps;
    liq_wall w[LIQ_REPORT_ITEMS];
    liq_cluster c[LIQ_REPORT_ITEMS];
    size_t nw = 0, nc = 0;
    CHECK_EQ_I64(liq_book_shape(b, &p, -1, w, LIQ_REPORT_ITEMS, &nw, c, LIQ_REPORT_ITEMS, &nc, NULL), LIQ_OK);
    CHECK_EQ_I64(r.nwalls, nw);
    CHECK_EQ_I64(r.nclusters, nc);
    for (size_t i = 0; i < nw; i++) {                   /* field by field: the structs have padding */
        CHECK_EQ_I64(r.walls[i].side, w[i].side);
        CHECK_EQ_I64(r.walls[i].rank, w[i].rank);
        CHECK_NEAR(r.walls[i].price, w[i].price, 0);
        CHECK_NEAR(r.walls[i].z, w[i].z, 0);
    }
    for (size_t i = 0; i < nc; i++) {
        CHECK_EQ_I64(r.clusters[i].levels, c[i].levels);
        CHECK_NEAR(r.clusters[i].vwap, c[i].vwap, 0);
        CHECK_NEAR(r.clusters[i].share, c[i].share, 0);
    }
    CHECK_EQ_I64(r.levels, 3);
    CHECK_NEAR(r.bid_volume, liq_book_top_size(b, LIQ_BID, 3), 0);
    CHECK_NEAR(r.ask_volume, liq_book_top_size(b, LIQ_ASK, 3), 0);
    liq_depth d1, d2;
    CHECK_EQ_I64(liq_book_depth(b, 100, LIQ_REF_MID, &d1), LIQ_OK);
    CHECK_EQ_I64(liq_book_depth(b, 200, LIQ_REF_MID, &d2), LIQ_OK);
    CHECK_NEAR(r.bid_liquidity_1pct, d1.bid_quote, 1e-9);
    CHECK_NEAR(r.ask_liquidity_1pct, d1.ask_quote, 1e-9);
    CHECK_NEAR(r.bid_liquidity_2pct, d2.bid_quote, 1e-9);
    CHECK_NEAR(r.ask_liquidity_2pct, d2.ask_quote, 1e-9);
    CHECK_NEAR(r.liquidity_1pct, r.bid_liquidity_1pct + r.ask_liquidity_1pct, 0);
    double imb, wimb;
    CHECK_EQ_I64(liq_book_imbalance(b, 3, LIQ_WEIGHT_PLAIN, 50, 0, &imb), LIQ_OK);
    CHECK_EQ_I64(liq_book_imbalance(b, 3, LIQ_WEIGHT_LINEAR, 50, 0, &wimb), LIQ_OK);
    CHECK_NEAR(r.imbalance, imb, 0);
    CHECK_NEAR(r.weighted_imbalance, wimb, 0);
    liq_walk_result wb, ws;
    CHECK_EQ_I64(liq_book_walk_notional(b, LIQ_WALK_BUY, 50.0, &wb), LIQ_OK);
    CHECK_EQ_I64(liq_book_walk_notional(b, LIQ_WALK_SELL, 50.0, &ws), LIQ_OK);
    CHECK_NEAR(r.slippage_bps, (wb.slippage_mid_bps + ws.slippage_mid_bps) / 2, 0);
    CHECK_NEAR(r.score, liq_liquidity_score(r.spread_bps, r.liquidity_1pct, r.slippage_bps, NAN, 500000.0), 0);
}

static void test_report(void)
{
    liq_book b;
    example_book(&b);                                    /* bids 100.0 down, one ask at 100.5 */
    check_report_parts(&b, 600);
    check_report_parts(&b, 200);
    check_report_parts(&b, 50);                          /* narrower than 2%: the profile's pass */
    liq_report_params rp = {10, 100.0, NAN, 500000.0, 200};
    liq_report r;
    CHECK_EQ_I64(liq_book_report(&b, &rp, &r), LIQ_OK);
    CHECK_NEAR(r.best_bid, 100.0, 0);
    CHECK_NEAR(r.best_ask, 100.5, 0);
    CHECK_NEAR(r.mid, 100.25, 0);
    CHECK_NEAR(r.spread, 0.5, 0);
    CHECK_NEAR(r.spread_bps, 0.5 / 100.25 * 1e4, 1e-12);
    CHECK_NEAR(r.ask_liquidity_1pct, 100.5, 1e-12);     /* the lone ask, 100.5 x 1.0 */
    CHECK(r.nwalls >= 1);
    /* one side: NaN where the other side is needed, volumes and liquidity of the side held */
    liq_delta del = D(LIQ_ASK, 1005, 0);
    CHECK_EQ_I64(liq_book_apply(&b, &del, 1, NULL), LIQ_OK);
    CHECK_EQ_I64(liq_book_report(&b, &rp, &r), LIQ_OK);
    CHECK(isnan(r.best_ask) && isnan(r.mid) && isnan(r.spread_bps) && isnan(r.imbalance));
    CHECK(isnan(r.imbalance_ratio) && isnan(r.score));
    CHECK_NEAR(r.bid_volume, 1.2 + 0.8 + 1.0 + 9.5 + 1.1 + 0.9 + 1.3 + 7.8 + 8.4 + 1.0, 1e-12);
    CHECK_EQ_I64(r.nwalls, 0);                           /* no mid, no band */
    liq_book_clear(&b);
    CHECK_EQ_I64(liq_book_report(&b, &rp, &r), LIQ_OK);
    CHECK(isnan(r.best_bid) && isnan(r.best_ask));
    CHECK_NEAR(r.total_volume, 0, 0);
    liq_report_params bad[4] = {{0, 100.0, NAN, 1, 200}, {1, 0.0, NAN, 1, 200}, {1, NAN, NAN, 1, 200},
                                {1, 100.0, NAN, 1, -1}};
    for (int i = 0; i < 4; i++) CHECK_EQ_I64(liq_book_report(&b, &bad[i], &r), LIQ_ERR_ARG);
    liq_book_free(&b);
}

/* A busy book: 1500 levels a side around 60000.0 (tick 0.1), every 7th level 20x the others (more
 * walls and clusters than a report keeps, so its pass goes on summing only), holes near the
 * touch, a sparse tail and sizes from 1 unit to beyond 2^47 units (the exact 128-bit fallback).
 * The report's quote liquidity equals liq_book_depth's to the bit, its walls and clusters are
 * liq_book_shape's first LIQ_REPORT_ITEMS. */
static void test_report_busy_book(void)
{
    enum { N = 1500 };
    static liq_delta d[2 * N + 64];
    for (int big = 0; big < 2; big++) {
        liq_book b;
        CHECK_EQ_I64(liq_book_init(&b, 1, 3, 1, 1, 0), LIQ_OK);
        size_t n = 0;
        for (int i = 0; i < N; i++) {
            int64_t q = (i % 7 == 3 ? 20000 : 1000) + i % 13;
            if (big && i % 11 == 0) q = ((int64_t)1 << 50) + i;
            d[n++] = D(LIQ_BID, 600000 - 1 - i, q);
            d[n++] = D(LIQ_ASK, 600000 + i, q + 1);
        }
        for (int i = 0; i < 32; i++) {       /* a sparse tail */
            d[n++] = D(LIQ_BID, 580000 - 37 * i, 5000);
            d[n++] = D(LIQ_ASK, 620000 + 41 * i, 5000);
        }
        CHECK_EQ_I64(liq_book_snapshot(&b, d, n, LIQ_ID_NONE, NULL), LIQ_OK);
        liq_delta holes[40];
        for (int i = 0; i < 20; i++) {
            holes[2 * i] = D(LIQ_BID, 600000 - 5 - 9 * i, 0);
            holes[2 * i + 1] = D(LIQ_ASK, 600000 + 4 + 9 * i, 0);
        }
        CHECK_EQ_I64(liq_book_apply(&b, holes, 40, NULL), LIQ_OK);
        for (int band = 50; band <= 600; band *= 2) {
            liq_report_params rp = {10, 1e5, NAN, 5e5, band};
            liq_report r;
            CHECK_EQ_I64(liq_book_report(&b, &rp, &r), LIQ_OK);
            liq_depth d1, d2;
            CHECK_EQ_I64(liq_book_depth(&b, 100, LIQ_REF_MID, &d1), LIQ_OK);
            CHECK_EQ_I64(liq_book_depth(&b, 200, LIQ_REF_MID, &d2), LIQ_OK);
            CHECK_NEAR(r.bid_liquidity_1pct, d1.bid_quote, 0);
            CHECK_NEAR(r.ask_liquidity_1pct, d1.ask_quote, 0);
            CHECK_NEAR(r.bid_liquidity_2pct, d2.bid_quote, 0);
            CHECK_NEAR(r.ask_liquidity_2pct, d2.ask_quote, 0);
            liq_shape_params p = liq_shape_defaults();
            p.band_bps = band;
            liq_wall w[LIQ_REPORT_ITEMS];
            liq_cluster c[LIQ_REPORT_ITEMS];
            size_t nw = 0, nc = 0;
            CHECK_EQ_I64(liq_book_shape(&b, &p, -1, w, LIQ_REPORT_ITEMS, &nw, c, LIQ_REPORT_ITEMS, &nc, NULL), LIQ_OK);
            CHECK(nw > LIQ_REPORT_ITEMS && nc > LIQ_REPORT_ITEMS);   /* the report stops looking */
            CHECK_EQ_I64(r.nwalls, LIQ_REPORT_ITEMS);
            CHECK_EQ_I64(r.nclusters, LIQ_REPORT_ITEMS);
            for (size_t i = 0; i < LIQ_REPORT_ITEMS; i++) {
                CHECK_NEAR(r.walls[i].price, w[i].price, 0);
                CHECK_EQ_I64(r.walls[i].rank, w[i].rank);
                CHECK_NEAR(r.clusters[i].size, c[i].size, 0);
                CHECK_NEAR(r.clusters[i].share, c[i].share, 0);
            }
        }
        liq_book_free(&b);
    }
}

int main(void)
{
    test_int64_max_sizes();
    test_walls_worked_example();
    test_clusters_worked_example();
    test_score();
    test_profile_matches_depth();
    test_report();
    test_report_busy_book();
    TEST_MAIN_END();
}
