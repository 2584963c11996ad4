#include "check.h"
#include "book.h"

static liq_delta D(int side, int64_t px, int64_t qty)
{
    liq_delta d = {px, qty, (uint8_t)side, LIQ_DEC_NONE, LIQ_DEC_NONE};
    return d;
}

static void test_basic(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);   /* BOOK-A: tick 0.5, lot 0.5 */
    liq_delta snap[] = {D(0, 995, 15), D(0, 990, 25), D(0, 980, 40), D(0, 970, 100),
                        D(1, 1000, 10), D(1, 1005, 20), D(1, 1010, 30), D(1, 1020, 50)};
    CHECK_EQ_I64(liq_book_snapshot(&b, snap, 8, 7, NULL), LIQ_OK);
    int64_t px, q;
    CHECK(liq_book_best(&b, LIQ_BID, &px, &q) && px == 995 && q == 15);
    CHECK(liq_book_best(&b, LIQ_ASK, &px, &q) && px == 1000 && q == 10);
    /* crossing message is rejected and leaves the book as it was */
    liq_delta msg[] = {D(0, 990, 0), D(0, 1005, 10)};
    size_t bad = 99;
    CHECK_EQ_I64(liq_book_apply(&b, msg, 2, &bad), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 4);
    CHECK(liq_book_best(&b, LIQ_BID, &px, &q) && px == 995);
    /* repair keeps the newer bid and drops the stale asks below it (1000); 1005 stays, locked */
    b.cross_policy = LIQ_CROSS_REPAIR;
    CHECK_EQ_I64(liq_book_apply(&b, msg, 2, &bad), LIQ_OK);
    CHECK(liq_book_best(&b, LIQ_ASK, &px, &q) && px == 1005);
    CHECK_EQ_I64(b.stats.repaired_levels, 1);
    liq_book_free(&b);
}

int main(void)
{
    test_basic();
    TEST_MAIN_END();
}
