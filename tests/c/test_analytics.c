/* Analytics kernels on BOOK-A and edge cases (shared/research/analytics.md §1–2). */
#include <math.h>
#include "check.h"
#include "book_invariants.h"
#include "analytics.h"

/* BOOK-A at scale 1 (tick 0.5, lot 0.5): prices and sizes in tenths. */
static void book_a(liq_book *b)
{
    CHECK_EQ_I64(liq_book_init(b, 1, 1, 5, 5, 0), LIQ_OK);
    liq_delta snap[] = {D(0, 995, 15), D(0, 990, 25), D(0, 980, 40), D(0, 970, 100),
                        D(1, 1000, 10), D(1, 1005, 20), D(1, 1010, 30), D(1, 1020, 50)};
    CHECK_EQ_I64(liq_book_snapshot(b, snap, 8, LIQ_ID_NONE, NULL), LIQ_OK);
}

static void test_walk_book_a(void)
{
    liq_book b;
    liq_walk_result r;
    book_a(&b);

    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_BUY, 40, &r), LIQ_OK);   /* buy 4.0 */
    CHECK_NEAR(r.vwap, 100.5, 0);
    CHECK_NEAR(r.worst_px, 101.0, 0);
    CHECK_NEAR(r.filled, 4.0, 0);
    CHECK_NEAR(r.notional, 402.0, 0);
    CHECK_EQ_I64(r.levels, 3);
    CHECK_NEAR(r.slippage_bps, 50.0, 1e-9);
    CHECK_NEAR(r.slippage_mid_bps, 75.18796992481203, 1e-9);
    CHECK_NEAR(r.unfilled, 0.0, 0);
    CHECK(r.complete);

    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_SELL, 50, &r), LIQ_OK);  /* sell 5.0 */
    CHECK_NEAR(r.vwap, 98.95, 1e-12);
    CHECK_NEAR(r.notional, 494.75, 0);
    CHECK_NEAR(r.worst_px, 98.0, 0);
    CHECK_EQ_I64(r.levels, 3);
    CHECK_NEAR(r.slippage_bps, 55.276381909547, 1e-9);
    CHECK_NEAR(r.slippage_mid_bps, 80.200501253133, 1e-9);
    CHECK(r.complete);

    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_BUY, 200, &r), LIQ_OK);  /* buy 20: too big */
    CHECK_NEAR(r.filled, 11.0, 0);
    CHECK_NEAR(r.unfilled, 9.0, 0);
    CHECK_NEAR(r.notional, 1114.0, 0);
    CHECK_NEAR(r.vwap, 1114.0 / 11.0, 1e-12);
    CHECK_NEAR(r.worst_px, 102.0, 0);
    CHECK_EQ_I64(r.levels, 4);
    CHECK(!r.complete);

    /* exact fill on a level boundary: 3.0 empties the first two asks and no more */
    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_BUY, 30, &r), LIQ_OK);
    CHECK_EQ_I64(r.levels, 2);
    CHECK_NEAR(r.worst_px, 100.5, 0);
    CHECK_NEAR(r.notional, 301.0, 0);
    CHECK(r.complete);

    /* quote walk: 402 quote partially fills the third level with 1.0 */
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, 402.0, &r), LIQ_OK);
    CHECK_NEAR(r.filled, 4.0, 0);
    CHECK_NEAR(r.vwap, 100.5, 0);
    CHECK_NEAR(r.notional, 402.0, 0);
    CHECK_EQ_I64(r.levels, 3);
    CHECK_NEAR(r.worst_px, 101.0, 0);
    CHECK_NEAR(r.unfilled, 0.0, 0);
    CHECK(r.complete);

    /* quote walk partially filling the last level with a fraction off the lot grid */
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, 150.0, &r), LIQ_OK);
    CHECK_NEAR(r.filled, 1.0 + 50.0 / 100.5, 1e-12);
    CHECK_NEAR(r.notional, 150.0, 0);
    CHECK_EQ_I64(r.levels, 2);
    CHECK(r.complete);

    /* quote walk ending exactly on a level boundary: 301 = 100 + 201 */
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, 301.0, &r), LIQ_OK);
    CHECK_NEAR(r.filled, 3.0, 0);
    CHECK_EQ_I64(r.levels, 2);
    CHECK(r.complete);

    /* quote walk beyond the side: unfilled in quote */
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_SELL, 2000.0, &r), LIQ_OK);
    CHECK_NEAR(r.notional, 1758.75, 0);
    CHECK_NEAR(r.filled, 18.0, 0);
    CHECK_NEAR(r.unfilled, 241.25, 0);
    CHECK_EQ_I64(r.levels, 4);
    CHECK(!r.complete);

    /* an absurd request is capped, still incomplete, unfilled = request - filled */
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, 1e300, &r), LIQ_OK);
    CHECK_NEAR(r.notional, 1114.0, 0);
    CHECK(!r.complete);
    CHECK_NEAR(r.unfilled, 1e300, 0);

    /* bad arguments */
    CHECK_EQ_I64(liq_book_walk_qty(&b, 0, 10, &r), LIQ_ERR_SIDE);
    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_BUY, 0, &r), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_BUY, -5, &r), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_walk_notional(&b, 2, 1.0, &r), LIQ_ERR_SIDE);
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, NAN, &r), LIQ_ERR_NAN);
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, INFINITY, &r), LIQ_ERR_INF);
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, -1.0, &r), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_BUY, 0.0, &r), LIQ_ERR_ARG);
    liq_book_free(&b);
}

static void test_empty_sides(void)
{
    liq_book b;
    liq_walk_result r;
    liq_depth d;
    double base, quote, imb;
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);

    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_BUY, 10, &r), LIQ_OK);
    CHECK_NEAR(r.filled, 0.0, 0);
    CHECK_NEAR(r.notional, 0.0, 0);
    CHECK_NEAR(r.unfilled, 1.0, 0);
    CHECK(isnan(r.vwap) && isnan(r.worst_px) && isnan(r.slippage_bps) && isnan(r.slippage_mid_bps));
    CHECK_EQ_I64(r.levels, 0);
    CHECK(!r.complete);
    CHECK_EQ_I64(liq_book_walk_notional(&b, LIQ_WALK_SELL, 5.0, &r), LIQ_OK);
    CHECK_NEAR(r.unfilled, 5.0, 0);
    CHECK(isnan(r.vwap) && !r.complete);

    CHECK_EQ_I64(liq_book_depth(&b, 100, LIQ_REF_MID, &d), LIQ_OK);
    CHECK(d.bid_base == 0 && d.bid_quote == 0 && d.ask_base == 0 && d.ask_quote == 0);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_PLAIN, 50, 0, &imb), LIQ_OK);
    CHECK(isnan(imb));
    CHECK(isnan(liq_book_weighted_mid(&b)));

    /* bids only: a walk of the bids works, its mid slippage is undefined */
    liq_delta bid = D(0, 995, 15);
    CHECK_EQ_I64(liq_book_set(&b, &bid), LIQ_OK);
    CHECK_EQ_I64(liq_book_walk_qty(&b, LIQ_WALK_SELL, 10, &r), LIQ_OK);
    CHECK_NEAR(r.vwap, 99.5, 0);
    CHECK_NEAR(r.slippage_bps, 0.0, 0);
    CHECK(isnan(r.slippage_mid_bps));
    /* the mid is undefined: the bid side's sums are NaN, the empty ask side's 0 */
    CHECK_EQ_I64(liq_book_depth(&b, 100, LIQ_REF_MID, &d), LIQ_OK);
    CHECK(isnan(d.bid_base) && isnan(d.bid_quote) && d.ask_base == 0 && d.ask_quote == 0);
    CHECK_EQ_I64(liq_book_depth(&b, 100, LIQ_REF_TOUCH, &d), LIQ_OK);
    CHECK_NEAR(d.bid_base, 1.5, 0);
    CHECK_NEAR(d.bid_quote, 149.25, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, -100, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK(isnan(base) && isnan(quote));
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 100, LIQ_REF_TOUCH, &base, &quote), LIQ_OK);
    CHECK(base == 0 && quote == 0);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_EXP, 50, 0, &imb), LIQ_OK);
    CHECK_NEAR(imb, 1.0, 0);
    CHECK(isnan(liq_book_weighted_mid(&b)));
    liq_book_free(&b);
}

static void test_depth_and_cost_book_a(void)
{
    liq_book b;
    liq_depth d;
    double base, quote;
    book_a(&b);

    CHECK_EQ_I64(liq_book_depth(&b, 100, LIQ_REF_MID, &d), LIQ_OK);  /* +-1% of mid */
    CHECK_NEAR(d.bid_quote, 396.75, 0);
    CHECK_NEAR(d.bid_base, 4.0, 0);
    CHECK_NEAR(d.ask_quote, 301.0, 0);
    CHECK_NEAR(d.ask_base, 3.0, 0);
    CHECK_EQ_I64(liq_book_depth(&b, 50, LIQ_REF_MID, &d), LIQ_OK);
    CHECK_NEAR(d.bid_quote, 149.25, 0);
    CHECK_NEAR(d.ask_quote, 100.0, 0);
    CHECK_EQ_I64(liq_book_depth(&b, 200, LIQ_REF_MID, &d), LIQ_OK);
    CHECK_NEAR(d.bid_quote, 788.75, 0);
    CHECK_NEAR(d.ask_quote, 604.0, 0);
    CHECK_EQ_I64(liq_book_depth(&b, 0, LIQ_REF_TOUCH, &d), LIQ_OK);  /* the touch only */
    CHECK_NEAR(d.bid_base, 1.5, 0);
    CHECK_NEAR(d.ask_base, 1.0, 0);
    CHECK_EQ_I64(liq_book_depth(&b, 1e9, LIQ_REF_MID, &d), LIQ_OK);  /* everything */
    CHECK_NEAR(d.bid_base, 18.0, 0);
    CHECK_NEAR(d.ask_base, 11.0, 0);
    CHECK_EQ_I64(liq_book_depth(&b, -1, LIQ_REF_MID, &d), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_depth(&b, NAN, LIQ_REF_MID, &d), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_depth(&b, 100, 7, &d), LIQ_ERR_ARG);

    CHECK_EQ_I64(liq_book_cost_to_move(&b, 100, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 3.0, 0);
    CHECK_NEAR(quote, 301.0, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, -100, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 4.0, 0);
    CHECK_NEAR(quote, 396.75, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 200, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 6.0, 0);
    CHECK_NEAR(quote, 604.0, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 0, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK(base == 0 && quote == 0);
    /* -100% (and beyond) takes every bid */
    CHECK_EQ_I64(liq_book_cost_to_move(&b, -1e4, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 18.0, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, -2e4, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 18.0, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, NAN, LIQ_REF_MID, &base, &quote), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 1, 9, &base, &quote), LIQ_ERR_ARG);
    liq_book_free(&b);
}

/* Levels exactly on the threshold: depth includes them, cost to move does not. */
static void test_boundary_rules(void)
{
    liq_book b;
    liq_depth d;
    double base, quote;
    /* scale 2, tick 0.01: bid 99.00, asks 101.00 / 102.00 / 103.00, mid 100.00 */
    CHECK_EQ_I64(liq_book_init(&b, 2, 0, 1, 1, 0), LIQ_OK);
    liq_delta snap[] = {D(0, 9900, 1), D(0, 9800, 2), D(1, 10100, 1), D(1, 10200, 2), D(1, 10300, 4)};
    CHECK_EQ_I64(liq_book_snapshot(&b, snap, 5, LIQ_ID_NONE, NULL), LIQ_OK);

    /* +2% of mid 100.00 is exactly 102.00 (100 * 1.02 is 102.00000000000001 in binary) */
    CHECK_EQ_I64(liq_book_depth(&b, 200, LIQ_REF_MID, &d), LIQ_OK);
    CHECK_NEAR(d.ask_base, 3.0, 0);
    CHECK_NEAR(d.ask_quote, 305.0, 0);
    CHECK_NEAR(d.bid_base, 3.0, 0);     /* 98.00 sits exactly on -2% */
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 200, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 1.0, 0);
    CHECK_NEAR(quote, 101.0, 0);
    CHECK_EQ_I64(liq_book_cost_to_move(&b, -200, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 1.0, 0);
    CHECK_NEAR(quote, 99.0, 0);
    /* touch reference: 1% above the best ask 101.00 is 102.01, so 101 and 102 are taken */
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 100, LIQ_REF_TOUCH, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 3.0, 0);
    /* 7% of 100 = 107: between 103 and 110 nothing sits; takes everything */
    CHECK_EQ_I64(liq_book_cost_to_move(&b, 700, LIQ_REF_MID, &base, &quote), LIQ_OK);
    CHECK_NEAR(base, 7.0, 0);
    liq_book_free(&b);
}

static void test_imbalance_and_wmid(void)
{
    liq_book b;
    double v;
    book_a(&b);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_PLAIN, 0, 0, &v), LIQ_OK);
    CHECK_NEAR(v, 1.0 / 7.0, 1e-12);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_LINEAR, 0, 0, &v), LIQ_OK);
    CHECK_NEAR(v, 0.148936170212766, 1e-12);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_INVERSE, 0, 0, &v), LIQ_OK);
    CHECK_NEAR(v, 0.152941176470588, 1e-12);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_EXP, 50.0, 0, &v), LIQ_OK);
    CHECK_NEAR(v, 0.100392, 1e-6);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_PLAIN, 0, 1, &v), LIQ_OK);
    CHECK_NEAR(v, 184.75 / 1392.75, 1e-12);
    CHECK_EQ_I64(liq_book_imbalance(&b, 1, LIQ_WEIGHT_PLAIN, 0, 0, &v), LIQ_OK);
    CHECK_NEAR(v, 0.2, 1e-15);
    /* N beyond the book uses every level: 18 vs 11 */
    CHECK_EQ_I64(liq_book_imbalance(&b, 100, LIQ_WEIGHT_PLAIN, 0, 0, &v), LIQ_OK);
    CHECK_NEAR(v, 7.0 / 29.0, 1e-12);
    CHECK_EQ_I64(liq_book_imbalance(&b, 0, LIQ_WEIGHT_PLAIN, 0, 0, &v), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, 4, 0, 0, &v), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, -1, 0, 0, &v), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_EXP, 0.0, 0, &v), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_imbalance(&b, 3, LIQ_WEIGHT_EXP, NAN, 0, &v), LIQ_ERR_ARG);

    CHECK_NEAR(liq_book_weighted_mid(&b), 99.8, 0);
    liq_book_free(&b);
}

int main(void)
{
    test_walk_book_a();
    test_empty_sides();
    test_depth_and_cost_book_a();
    test_boundary_rules();
    test_imbalance_and_wmid();
    TEST_MAIN_END();
}
