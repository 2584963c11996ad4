/* Order-flow imbalance (src/flow.h) on the worked examples of shared/research/analytics.md
 * §2.3 (event OFI, Cont-Kukanov-Stoikov) and §2.4 (multi-level OFI), plus the event rules:
 * one event per applied call, snapshots and clears restart the reference, rejected calls
 * and an OFI that is off change nothing, copies carry their own state. Prices in ticks of
 * 0.5 (scale 1, tick 5), sizes in units. */
#include <string.h>
#include "check.h"
#include "book.h"
#include "book_invariants.h"
#include "flow.h"

/* Level-1 OFI accumulated so far (the window is not ended). */
static int64_t ofi1(liq_book *b)
{
    int64_t out[LIQ_OFI_MAX_LEVELS];
    uint64_t ev;
    CHECK(liq_book_ofi_read(b, out, &ev, 0) >= 1);
    return out[0];
}

/* §2.3: states (100.0,10 | 100.5,8) -> ... e = +3, +3, +9, -4, -2; OFI = 9. */
static void test_event_ofi_worked_example(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 5, 1, 0), LIQ_OK);
    liq_delta s0[] = {D(LIQ_BID, 1000, 10), D(LIQ_ASK, 1005, 8), D(LIQ_ASK, 1010, 6), D(LIQ_BID, 995, 1)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s0, 4, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(liq_book_ofi_enable(&b, 1), LIQ_OK);
    CHECK_EQ_I64(ofi1(&b), 0);
    liq_delta m1[] = {D(LIQ_BID, 1000, 13)};                          /* bid queue +3 */
    CHECK_EQ_I64(liq_book_apply(&b, m1, 1, NULL), LIQ_OK);
    CHECK_EQ_I64(ofi1(&b), 3);
    liq_delta m2[] = {D(LIQ_ASK, 1005, 5)};                           /* ask queue -3 */
    CHECK_EQ_I64(liq_book_apply(&b, m2, 1, NULL), LIQ_OK);
    CHECK_EQ_I64(ofi1(&b), 6);
    /* one message: the ask at 100.5 is taken, a bid of 4 rests at 100.5 (the old best bid
     * stays below it) -> bid up +4, ask up +5: e = +9 (transient states are not events) */
    liq_delta m3[] = {D(LIQ_ASK, 1005, 0), D(LIQ_BID, 1005, 4)};
    CHECK_EQ_I64(liq_book_apply(&b, m3, 2, NULL), LIQ_OK);
    CHECK_EQ_I64(ofi1(&b), 15);
    liq_delta m4[] = {D(LIQ_BID, 1005, 0), D(LIQ_BID, 1000, 9)};     /* bid down: -4 */
    CHECK_EQ_I64(liq_book_apply(&b, m4, 2, NULL), LIQ_OK);
    CHECK_EQ_I64(ofi1(&b), 11);
    liq_delta m5 = D(LIQ_ASK, 1005, 2);                               /* ask down: -2 (single update) */
    CHECK_EQ_I64(liq_book_set(&b, &m5), LIQ_OK);
    int64_t out[LIQ_OFI_MAX_LEVELS];
    uint64_t ev = 0;
    CHECK_EQ_I64(liq_book_ofi_read(&b, out, &ev, 1), 1);               /* take: the window ends */
    CHECK_EQ_I64(out[0], 9);
    CHECK_EQ_I64(ev, 5);
    CHECK_EQ_I64(liq_book_ofi_read(&b, out, &ev, 0), 1);
    CHECK_EQ_I64(out[0], 0);
    CHECK_EQ_I64(ev, 0);
    liq_book_free(&b);
}

/* §2.4: MLOFI L0 -> L1 = [2, 10], L1 -> L2 = [11, 22]. */
static void test_multi_level_worked_example(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 5, 1, 0), LIQ_OK);
    liq_delta l0[] = {D(LIQ_BID, 1000, 10), D(LIQ_BID, 995, 20), D(LIQ_ASK, 1005, 8), D(LIQ_ASK, 1010, 15)};
    CHECK_EQ_I64(liq_book_snapshot(&b, l0, 4, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(liq_book_ofi_enable(&b, 2), LIQ_OK);
    liq_delta m1[] = {D(LIQ_BID, 1000, 12), D(LIQ_BID, 995, 25), D(LIQ_ASK, 1010, 10)};
    CHECK_EQ_I64(liq_book_apply(&b, m1, 3, NULL), LIQ_OK);
    int64_t out[LIQ_OFI_MAX_LEVELS];
    uint64_t ev;
    CHECK_EQ_I64(liq_book_ofi_read(&b, out, &ev, 1), 2);
    CHECK_EQ_I64(out[0], 2);
    CHECK_EQ_I64(out[1], 10);
    /* L2 bids (100.5,3),(100.0,12); asks (101.0,10),(101.5,30) */
    liq_delta m2[] = {D(LIQ_BID, 995, 0), D(LIQ_ASK, 1005, 0), D(LIQ_ASK, 1015, 30), D(LIQ_BID, 1005, 3)};
    CHECK_EQ_I64(liq_book_apply(&b, m2, 4, NULL), LIQ_OK);
    CHECK_EQ_I64(liq_book_ofi_read(&b, out, &ev, 1), 2);
    CHECK_EQ_I64(out[0], 11);
    CHECK_EQ_I64(out[1], 22);
    liq_book_free(&b);
}

/* Snapshots, clears, rejected calls, off, copies, bad arguments. */
static void test_event_rules(void)
{
    liq_book b, c;
    int64_t out[LIQ_OFI_MAX_LEVELS];
    uint64_t ev;
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 0), LIQ_OK);
    CHECK_EQ_I64(liq_book_ofi_read(&b, out, &ev, 0), 0);               /* off */
    CHECK_EQ_I64(liq_book_ofi_enable(&b, 0), LIQ_OK);
    CHECK_EQ_I64(liq_book_ofi_enable(&b, LIQ_OFI_MAX_LEVELS + 1), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_ofi_enable(&b, -1), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_ofi_enable(&b, 1), LIQ_OK);                  /* on an empty book */
    liq_delta bid = D(LIQ_BID, 100, 5);
    CHECK_EQ_I64(liq_book_set(&b, &bid), LIQ_OK);                      /* a level appears: +5 */
    CHECK_EQ_I64(ofi1(&b), 5);
    liq_delta snap[] = {D(LIQ_BID, 90, 50), D(LIQ_ASK, 110, 70)};
    CHECK_EQ_I64(liq_book_snapshot(&b, snap, 2, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(ofi1(&b), 5);                                         /* a resync is not flow */
    liq_delta cross[] = {D(LIQ_BID, 95, 1), D(LIQ_BID, 120, 1)};       /* crossed: rejected */
    CHECK_EQ_I64(liq_book_apply(&b, cross, 2, NULL), LIQ_ERR_CROSSED);
    liq_delta bad[] = {D(LIQ_BID, 95, 1), D(LIQ_BID, -1, 1)};
    CHECK_EQ_I64(liq_book_apply(&b, bad, 2, NULL), LIQ_ERR_NEGATIVE);
    CHECK_EQ_I64(liq_book_ofi_read(&b, out, &ev, 0), 1);
    CHECK_EQ_I64(out[0], 5);
    CHECK_EQ_I64(ev, 1);                                               /* only the set counted */
    CHECK_EQ_I64(liq_book_copy(&c, &b), LIQ_OK);                       /* the copy has its own state */
    liq_delta more = D(LIQ_BID, 90, 60);
    CHECK_EQ_I64(liq_book_set(&c, &more), LIQ_OK);
    CHECK_EQ_I64(ofi1(&c), 15);
    CHECK_EQ_I64(ofi1(&b), 5);
    liq_book_clear(&b);                                                /* restarts the reference */
    CHECK_EQ_I64(ofi1(&b), 5);
    liq_delta again = D(LIQ_ASK, 110, 3);
    CHECK_EQ_I64(liq_book_set(&b, &again), LIQ_OK);                    /* ask appears: -3 */
    CHECK_EQ_I64(ofi1(&b), 2);
    CHECK_EQ_I64(liq_book_ofi_enable(&b, 0), LIQ_OK);
    CHECK(b.ofi == NULL);
    liq_book_free(&b);
    liq_book_free(&c);
}

int main(void)
{
    test_event_ofi_worked_example();
    test_multi_level_worked_example();
    test_event_rules();
    TEST_MAIN_END();
}
