/* Unit tests of src/book.h: lifecycle, validation, set/apply/snapshot, all-or-nothing,
 * sequence rules, cross policies, depth, copy, serialization, and a randomized
 * differential test against a tiny reference book. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "book.h"
#include "book_invariants.h"
#include "analytics.h"
#include "checksum.h"

static liq_delta DD(int side, int64_t px, int64_t qty, uint8_t pd, uint8_t qd)
{
    liq_delta d = {px, qty, (uint8_t)side, pd, qd};
    return d;
}
static liq_seq_ids IDS(int64_t first, int64_t last, int64_t prev)
{
    liq_seq_ids s = {first, last, prev};
    return s;
}
#define NONE LIQ_ID_NONE
#define NELEM(a) (sizeof(a) / sizeof *(a))

/* ---- serialized-state comparison and invariants (book_invariants.h) ------- */

typedef liq_blob blob;

static blob ser(const liq_book *b)
{
    blob r = liq_test_serialize(b);
    CHECK(r.p != NULL);
    return r;
}
#define same_state liq_test_same_state

/* Expect `call` to fail with `err` and leave the book's serialized state unchanged. */
#define EXPECT_UNCHANGED(b, call, err)                                                   \
    do {                                                                                 \
        blob before_ = ser(b);                                                           \
        uint64_t gen_ = (b)->generation;                                                 \
        CHECK_EQ_I64((call), err);                                                       \
        blob after_ = ser(b);                                                            \
        if (!same_state(before_, after_)) {                                              \
            fprintf(stderr, "%s:%d: book changed by rejected %s\n", __FILE__, __LINE__, #call); \
            liq_test_failures++;                                                         \
        }                                                                                \
        CHECK_EQ_I64((b)->generation, gen_);                                             \
        free(before_.p);                                                                 \
        free(after_.p);                                                                  \
    } while (0)

/* Structural invariants every book must satisfy after any call. */
static void check_invariants(const liq_book *b, int line)
{
    char msg[160];
    if (liq_test_invariant_error(b, msg, sizeof msg)) {
        fprintf(stderr, "line %d: %s\n", line, msg);
        liq_test_failures++;
    }
}
#define INV(b) check_invariants(b, __LINE__)

/* Array index of the i-th live level from the best (test convenience, O(i)). */
static size_t index_at(const liq_book *b, int side, size_t i)
{
    const liq_side *s = &b->side[side];
    size_t c = liq_side_best(s);
    while (i-- && c) c = liq_side_next(s, c);
    CHECK(c != 0);
    return c ? c - 1 : 0;
}
static int64_t px_at(const liq_book *b, int side, size_t i)
{
    int64_t k = b->side[side].key[index_at(b, side, i)];
    return side == LIQ_BID ? k : -k;
}
static int64_t qty_at(const liq_book *b, int side, size_t i) { return b->side[side].qty[index_at(b, side, i)]; }
static uint16_t dec_at(const liq_book *b, int side, size_t i) { return b->side[side].dec[index_at(b, side, i)]; }

/* Compare one side, best first, with an expected list of (px, qty) pairs. */
static void check_side(const liq_book *b, int side, const int64_t *exp, size_t n, int line)
{
    int64_t out[2 * 64];
    size_t got = liq_book_levels_i64(b, side, 64, out);
    if (got != n || memcmp(out, exp, n * 2 * sizeof *exp) != 0) {
        fprintf(stderr, "line %d: side %d has %zu levels:", line, side, got);
        for (size_t i = 0; i < got; i++) fprintf(stderr, " %lld@%lld", (long long)out[2 * i + 1], (long long)out[2 * i]);
        fprintf(stderr, "; want %zu:", n);
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %lld@%lld", (long long)exp[2 * i + 1], (long long)exp[2 * i]);
        fprintf(stderr, "\n");
        liq_test_failures++;
    }
}
#define SIDE_IS(b, side, ...)                                                       \
    do {                                                                            \
        static const int64_t e_[] = {__VA_ARGS__};                                  \
        check_side(b, side, e_, NELEM(e_) / 2, __LINE__);                           \
    } while (0)
#define SIDE_EMPTY(b, side) CHECK_EQ_I64(liq_book_count(b, side), 0)

/* BOOK-A (shared/research/analytics.md) at px/qty scale 1, tick = lot = 5 (0.5). */
static const liq_delta BOOK_A[] = {
    {995, 15, 0, 1, 1}, {990, 25, 0, 1, 1}, {980, 40, 0, 1, 1}, {970, 100, 0, 1, 1},
    {1000, 10, 1, 1, 1}, {1005, 20, 1, 1, 1}, {1010, 30, 1, 1, 1}, {1020, 50, 1, 1, 1}};

static void book_a(liq_book *b, size_t max_depth, int64_t id)
{
    CHECK_EQ_I64(liq_book_init(b, 1, 1, 5, 5, max_depth), LIQ_OK);
    CHECK_EQ_I64(liq_book_snapshot(b, BOOK_A, NELEM(BOOK_A), id, NULL), LIQ_OK);
}

/* ---- lifecycle ------------------------------------------------------------ */

static void test_init(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, -1, 0, 1, 1, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 0, -1, 1, 1, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 19, 0, 1, 1, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 0, 19, 1, 1, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 0, 1, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 0, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, -5, 1, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, INT64_MIN, 0), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_init(&b, 18, 18, INT64_MAX, INT64_MAX, SIZE_MAX), LIQ_OK);
    CHECK_EQ_I64(liq_book_init(&b, 2, 8, 1, 1, 5), LIQ_OK);
    CHECK_EQ_I64(b.px_scale, 2);
    CHECK_EQ_I64(b.qty_scale, 8);
    CHECK_EQ_I64(b.max_depth, 5);
    CHECK_EQ_I64(b.cross_policy, LIQ_CROSS_RAISE);
    CHECK_EQ_I64(b.seq_rule, LIQ_SEQ_NONE);
    CHECK_EQ_I64(b.last_id, LIQ_ID_NONE);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID) + liq_book_count(&b, LIQ_ASK), 0);
    CHECK(!liq_book_is_crossed(&b));
    int64_t px = 7, q = 7;
    CHECK(!liq_book_best(&b, LIQ_BID, &px, &q) && px == 7 && q == 7);
    CHECK(!liq_book_best(&b, LIQ_ASK, &px, &q));
    double f[4];
    CHECK_EQ_I64(liq_book_levels_f64(&b, LIQ_BID, 2, f), 0);
    liq_book_free(&b);
    liq_book_free(&b);   /* idempotent */
}

static void test_free_clear_reserve(void)
{
    liq_book b;
    book_a(&b, 0, 7);
    uint64_t gen = b.generation;
    liq_book_clear(&b);
    SIDE_EMPTY(&b, LIQ_BID);
    SIDE_EMPTY(&b, LIQ_ASK);
    CHECK_EQ_I64(b.last_id, LIQ_ID_NONE);
    CHECK_EQ_I64(b.after_snapshot, 0);
    CHECK(b.generation > gen);
    CHECK_EQ_I64(b.stats.snapshots, 1);   /* stats kept */
    CHECK(b.side[0].cap >= 4);            /* capacity kept */
    CHECK_EQ_I64(liq_book_reserve(&b, 2, 10), LIQ_ERR_SIDE);
    CHECK_EQ_I64(liq_book_reserve(&b, -1, 10), LIQ_ERR_SIDE);
    CHECK_EQ_I64(liq_book_reserve(&b, LIQ_ASK, 1000), LIQ_OK);
    CHECK(b.side[LIQ_ASK].cap >= 1000);
    size_t cap = b.side[LIQ_ASK].cap;
    CHECK_EQ_I64(liq_book_reserve(&b, LIQ_ASK, 10), LIQ_OK);   /* never shrinks */
    CHECK_EQ_I64(b.side[LIQ_ASK].cap, cap);
    /* a freed book is empty and usable again */
    liq_book_free(&b);
    SIDE_EMPTY(&b, LIQ_BID);
    CHECK_EQ_I64(b.side[0].cap, 0);
    liq_delta d = D(LIQ_BID, 100, 5);
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 100, 5);
    CHECK_EQ_I64(liq_book_snapshot(&b, BOOK_A, NELEM(BOOK_A), 1, NULL), LIQ_OK);
    INV(&b);
    liq_book_free(&b);
}

/* ---- validation ----------------------------------------------------------- */

static void test_delta_check(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);
    liq_delta d = D(LIQ_BID, 995, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_OK);
    d = D(LIQ_ASK, 5, 0);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_OK);   /* deletion, smallest price */
    d = D(2, 995, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_SIDE);
    d = D(255, 995, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_SIDE);
    d = D(LIQ_BID, 0, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_NEGATIVE);
    d = D(LIQ_BID, -995, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_NEGATIVE);
    d = D(LIQ_BID, INT64_MIN, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_NEGATIVE);
    d = D(LIQ_BID, 995, -5);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_NEGATIVE);
    d = D(LIQ_BID, 996, 15);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_OFF_GRID);
    d = D(LIQ_BID, 995, 16);
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_ERR_OFF_GRID);
    d = D(LIQ_ASK, INT64_MAX - 2, 5);   /* 9223372036854775805 is a multiple of 5 */
    CHECK_EQ_I64(liq_delta_check(&b, &d), LIQ_OK);

    liq_delta o;
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.5, 1.5, &o), LIQ_OK);
    CHECK(o.px == 995 && o.qty == 15 && o.side == LIQ_BID && o.px_dec == LIQ_DEC_NONE && o.qty_dec == LIQ_DEC_NONE);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_ASK, 100.0, 0.0, &o), LIQ_OK);
    CHECK(o.px == 1000 && o.qty == 0 && o.side == LIQ_ASK);
    CHECK_EQ_I64(liq_delta_from_f64(&b, 2, 99.5, 1.5, &o), LIQ_ERR_SIDE);
    CHECK_EQ_I64(liq_delta_from_f64(&b, -1, 99.5, 1.5, &o), LIQ_ERR_SIDE);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, NAN, 1.5, &o), LIQ_ERR_NAN);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.5, NAN, &o), LIQ_ERR_NAN);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, INFINITY, 1.5, &o), LIQ_ERR_INF);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.5, -INFINITY, &o), LIQ_ERR_INF);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.55, 1.5, &o), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.7, 1.5, &o), LIQ_ERR_OFF_GRID);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.5, 1.7, &o), LIQ_ERR_OFF_GRID);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 0.0, 1.5, &o), LIQ_ERR_NEGATIVE);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, -99.5, 1.5, &o), LIQ_ERR_NEGATIVE);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 99.5, -1.5, &o), LIQ_ERR_NEGATIVE);
    CHECK_EQ_I64(liq_delta_from_f64(&b, LIQ_BID, 1e300, 1.5, &o), LIQ_ERR_OVERFLOW);
    liq_book_free(&b);
}

/* ---- single updates ------------------------------------------------------- */

static void test_set(void)
{
    liq_book b;
    book_a(&b, 0, 7);
    uint64_t gen = b.generation;
    liq_delta d = D(LIQ_BID, 990, 70);            /* change */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    d = D(LIQ_ASK, 1005, 0);                      /* delete */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    d = D(LIQ_BID, 965, 10);                      /* insert at the worst end */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    d = D(LIQ_BID, 500, 0);                       /* delete absent: no-op */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    d = DD(LIQ_ASK, 1015, 5, 2, 3);               /* insert in the middle with wire decimals */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    d = D(LIQ_BID, 1000, 5);                      /* locked (bid == ask) is not crossed */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 1000, 5, 995, 15, 990, 70, 980, 40, 970, 100, 965, 10);
    SIDE_IS(&b, LIQ_ASK, 1000, 10, 1010, 30, 1015, 5, 1020, 50);
    CHECK_EQ_I64(dec_at(&b, LIQ_ASK, 2), 2 << 8 | 3);
    CHECK_EQ_I64(dec_at(&b, LIQ_ASK, 0), 1 << 8 | 1);
    CHECK_EQ_I64(px_at(&b, LIQ_ASK, 3), 1020);
    CHECK_EQ_I64(qty_at(&b, LIQ_BID, 2), 70);
    CHECK_EQ_I64(b.generation, gen + 6);
    CHECK_EQ_I64(b.stats.messages, 7);
    CHECK_EQ_I64(b.stats.levels, 6);
    CHECK_EQ_I64(b.stats.rejected, 0);
    INV(&b);

    /* invalid deltas are rejected without change */
    d = D(LIQ_BID, 996, 5);
    EXPECT_UNCHANGED(&b, liq_book_set(&b, &d), LIQ_ERR_OFF_GRID);
    d = D(3, 995, 5);
    EXPECT_UNCHANGED(&b, liq_book_set(&b, &d), LIQ_ERR_SIDE);
    d = D(LIQ_ASK, 995, -5);
    EXPECT_UNCHANGED(&b, liq_book_set(&b, &d), LIQ_ERR_NEGATIVE);
    /* crossing a single level: RAISE rejects, counts crossed and rejected */
    d = D(LIQ_BID, 1005, 5);
    EXPECT_UNCHANGED(&b, liq_book_set(&b, &d), LIQ_ERR_CROSSED);
    d = D(LIQ_ASK, 995, 5);
    EXPECT_UNCHANGED(&b, liq_book_set(&b, &d), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(b.stats.rejected, 5);
    CHECK_EQ_I64(b.stats.crossed, 2);
    /* deleting through the touch never crosses */
    d = D(LIQ_BID, 2000, 0);
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    INV(&b);
    liq_book_free(&b);
}

static void test_set_cross_policies(void)
{
    liq_book b;
    /* REPAIR: an ask at 98.0 is fresh; bids above it (99.5, 99.0) are stale and dropped */
    book_a(&b, 0, 7);
    b.cross_policy = LIQ_CROSS_REPAIR;
    liq_delta d = D(LIQ_ASK, 980, 5);
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 980, 40, 970, 100);
    SIDE_IS(&b, LIQ_ASK, 980, 5, 1000, 10, 1005, 20, 1010, 30, 1020, 50);
    CHECK_EQ_I64(b.stats.repaired_levels, 2);
    CHECK_EQ_I64(b.stats.crossed, 1);
    INV(&b);
    /* REPAIR with a bid through every ask empties the ask side */
    d = D(LIQ_BID, 1100, 5);
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_EMPTY(&b, LIQ_ASK);
    CHECK_EQ_I64(b.stats.repaired_levels, 7);
    INV(&b);
    liq_book_free(&b);
    /* ALLOW: applied, counted, book reports crossed */
    book_a(&b, 0, 7);
    b.cross_policy = LIQ_CROSS_ALLOW;
    d = D(LIQ_BID, 1005, 5);
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    CHECK(liq_book_is_crossed(&b));
    CHECK_EQ_I64(b.stats.crossed, 1);
    CHECK_EQ_I64(b.stats.rejected, 0);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 4);
    INV(&b);
    liq_book_free(&b);
}

static void test_set_max_depth(void)
{
    liq_book b;
    book_a(&b, 3, 7);   /* snapshot keeps the 3 best of each side */
    SIDE_IS(&b, LIQ_BID, 995, 15, 990, 25, 980, 40);
    SIDE_IS(&b, LIQ_ASK, 1000, 10, 1005, 20, 1010, 30);
    CHECK_EQ_I64(b.stats.truncated_levels, 0);   /* snapshot truncation is not a dropped level */
    liq_delta d = D(LIQ_BID, 960, 5);            /* worse than all kept: inserted and dropped */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 995, 15, 990, 25, 980, 40);
    CHECK_EQ_I64(b.stats.truncated_levels, 1);
    d = D(LIQ_BID, 985, 5);                      /* middle: the worst (98.0) falls off */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 995, 15, 990, 25, 985, 5);
    d = D(LIQ_ASK, 1000, 0);                     /* deleting does not refill */
    CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    SIDE_IS(&b, LIQ_ASK, 1005, 20, 1010, 30);
    CHECK_EQ_I64(b.stats.truncated_levels, 2);
    INV(&b);
    liq_book_free(&b);
    /* max_depth 1 */
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 1), LIQ_OK);
    for (int64_t p = 1; p <= 50; p++) {
        d = D(LIQ_BID, p, 1);
        CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
        d = D(LIQ_ASK, 200 - p, 1);
        CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    }
    SIDE_IS(&b, LIQ_BID, 50, 1);
    SIDE_IS(&b, LIQ_ASK, 150, 1);
    CHECK_EQ_I64(b.stats.truncated_levels, 98);
    liq_book_free(&b);
}

/* ---- messages ------------------------------------------------------------- */

static void test_apply(void)
{
    liq_book b;
    book_a(&b, 0, 7);
    /* apply in order: the same price twice keeps the last; insert+delete cancels */
    liq_delta msg[] = {D(LIQ_BID, 990, 5), D(LIQ_BID, 990, 30), D(LIQ_ASK, 1015, 5), D(LIQ_ASK, 1015, 0),
                       D(LIQ_ASK, 1020, 0), D(LIQ_ASK, 1030, 10), D(LIQ_BID, 100, 0)};
    size_t bad = 99;
    CHECK_EQ_I64(liq_book_apply(&b, msg, NELEM(msg), &bad), LIQ_OK);
    CHECK_EQ_I64(bad, 99);   /* untouched on success */
    SIDE_IS(&b, LIQ_BID, 995, 15, 990, 30, 980, 40, 970, 100);
    SIDE_IS(&b, LIQ_ASK, 1000, 10, 1005, 20, 1010, 30, 1030, 10);
    CHECK_EQ_I64(b.stats.messages, 2);
    CHECK_EQ_I64(b.stats.levels, NELEM(msg));
    INV(&b);
    /* empty message: OK, no change to the levels */
    CHECK_EQ_I64(liq_book_apply(&b, NULL, 0, &bad), LIQ_OK);
    SIDE_IS(&b, LIQ_ASK, 1000, 10, 1005, 20, 1010, 30, 1030, 10);
    /* bad may be NULL */
    CHECK_EQ_I64(liq_book_apply(&b, msg, 1, NULL), LIQ_OK);
    liq_book_free(&b);
}

/* After every kind of rejected message the book is byte-identical (except stats). */
static void test_apply_all_or_nothing(void)
{
    liq_book b;
    book_a(&b, 0, 7);
    /* make the book carry wire decimals and stats so their restoration is checked too */
    liq_delta pre[] = {DD(LIQ_BID, 990, 25, 3, 4), DD(LIQ_ASK, 1005, 20, 2, 2)};
    CHECK_EQ_I64(liq_book_apply(&b, pre, 2, NULL), LIQ_OK);
    size_t bad;
    /* an invalid delta at every position: bad index reported, nothing applied */
    for (size_t k = 0; k < 5; k++) {
        liq_delta msg[5] = {D(LIQ_BID, 995, 0), D(LIQ_BID, 985, 5), D(LIQ_ASK, 1000, 35), D(LIQ_ASK, 1010, 0),
                            D(LIQ_BID, 990, 50)};
        static const liq_delta bads[] = {{996, 5, 0, 0, 0}, {995, 6, 0, 0, 0}, {0, 5, 1, 0, 0},
                                         {995, -5, 0, 0, 0}, {995, 5, 7, 0, 0}};
        static const liq_status errs[] = {LIQ_ERR_OFF_GRID, LIQ_ERR_OFF_GRID, LIQ_ERR_NEGATIVE,
                                          LIQ_ERR_NEGATIVE, LIQ_ERR_SIDE};
        for (size_t e = 0; e < NELEM(bads); e++) {
            msg[k] = bads[e];
            bad = 99;
            uint64_t rej = b.stats.rejected;
            EXPECT_UNCHANGED(&b, liq_book_apply(&b, msg, 5, &bad), errs[e]);
            CHECK_EQ_I64(bad, k);
            CHECK_EQ_I64(b.stats.rejected, rej + 1);
        }
    }
    /* crossing under RAISE: every delta applied then rolled back, including inserts,
     * changes, deletes, repeats of one price and restored wire decimals */
    liq_delta cross[] = {D(LIQ_BID, 990, 0), D(LIQ_BID, 990, 10), D(LIQ_BID, 990, 0), D(LIQ_ASK, 1005, 5),
                         D(LIQ_ASK, 1000, 0), D(LIQ_ASK, 1015, 5), D(LIQ_BID, 975, 5), D(LIQ_BID, 970, 0),
                         DD(LIQ_BID, 1010, 5, 1, 1)};
    bad = 99;
    uint64_t crossed = b.stats.crossed;
    EXPECT_UNCHANGED(&b, liq_book_apply(&b, cross, NELEM(cross), &bad), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(bad, NELEM(cross));
    CHECK_EQ_I64(b.stats.crossed, crossed + 1);
    CHECK_EQ_I64(dec_at(&b, LIQ_BID, 1), 3 << 8 | 4);
    CHECK_EQ_I64(dec_at(&b, LIQ_ASK, 1), 2 << 8 | 2);
    /* a crossing message that also empties a side first */
    liq_delta cross2[] = {D(LIQ_ASK, 1000, 0), D(LIQ_ASK, 1005, 0), D(LIQ_ASK, 1010, 0), D(LIQ_ASK, 1020, 0),
                          D(LIQ_ASK, 990, 5)};
    EXPECT_UNCHANGED(&b, liq_book_apply(&b, cross2, NELEM(cross2), &bad), LIQ_ERR_CROSSED);
    /* the same through apply_f64 (conversion errors and crossing) */
    uint8_t sides[] = {0, 1, 0};
    double px[] = {99.0, 100.5, 99.7}, qty[] = {1.0, 2.0, 1.0};
    bad = 99;
    EXPECT_UNCHANGED(&b, liq_book_apply_f64(&b, sides, px, qty, 3, &bad), LIQ_ERR_OFF_GRID);
    CHECK_EQ_I64(bad, 2);
    px[2] = NAN;
    EXPECT_UNCHANGED(&b, liq_book_apply_f64(&b, sides, px, qty, 3, &bad), LIQ_ERR_NAN);
    px[2] = 98.5;
    sides[1] = 9;
    EXPECT_UNCHANGED(&b, liq_book_apply_f64(&b, sides, px, qty, 3, &bad), LIQ_ERR_SIDE);
    CHECK_EQ_I64(bad, 1);
    sides[1] = 1;
    px[1] = 99.0;   /* ask at 99.0 < best bid 99.5 */
    EXPECT_UNCHANGED(&b, liq_book_apply_f64(&b, sides, px, qty, 3, &bad), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(bad, 3);
    px[1] = 100.5;
    CHECK_EQ_I64(liq_book_apply_f64(&b, sides, px, qty, 3, &bad), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 995, 15, 990, 10, 985, 10, 980, 40, 970, 100);
    INV(&b);
    liq_book_free(&b);
}

/* Regression: liq_book_scratch(b, 0) returned NULL on a fresh book, so every empty
 * message through the scratch buffer (OKX heartbeat, empty snapshot) failed with
 * LIQ_ERR_NOMEM (MemoryError in Python). */
static void test_scratch_and_empty(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);
    CHECK(liq_book_scratch(&b, 0) != NULL);
    CHECK_EQ_I64(liq_book_apply_f64(&b, NULL, NULL, NULL, 0, NULL), LIQ_OK);
    liq_book_free(&b);
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);
    CHECK_EQ_I64(liq_book_apply_f64(&b, NULL, NULL, NULL, 0, NULL), LIQ_OK);
    CHECK_EQ_I64(b.stats.messages, 1);
    CHECK_EQ_I64(b.stats.rejected, 0);
    liq_delta *s = liq_book_scratch(&b, 3);
    CHECK(s != NULL);
    s[0] = D(LIQ_BID, 995, 5);
    s[1] = D(LIQ_ASK, 1000, 5);
    s[2] = D(LIQ_ASK, 1005, 5);
    liq_delta *s2 = liq_book_scratch(&b, 1000);   /* grows, keeps contents */
    CHECK(s2 != NULL && s2[2].px == 1005);
    CHECK(liq_book_scratch(&b, 10) == s2);          /* never shrinks */
    CHECK_EQ_I64(liq_book_snapshot(&b, s2, 3, 5, NULL), LIQ_OK);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 2);
    liq_book_free(&b);
}

static void test_apply_cross_policies(void)
{
    liq_book b;
    size_t bad;
    /* REPAIR, the fresh side is the last delta that rests through the other side */
    book_a(&b, 0, 7);
    b.cross_policy = LIQ_CROSS_REPAIR;
    liq_delta m1[] = {D(LIQ_BID, 990, 0), D(LIQ_BID, 1005, 10)};
    CHECK_EQ_I64(liq_book_apply(&b, m1, 2, &bad), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 1005, 10, 995, 15, 980, 40, 970, 100);
    SIDE_IS(&b, LIQ_ASK, 1005, 20, 1010, 30, 1020, 50);   /* 1000 dropped; 1005 stays, locked */
    CHECK_EQ_I64(b.stats.repaired_levels, 1);
    INV(&b);
    liq_book_free(&b);
    /* an ask through the bids, followed by an unrelated bid change: asks are fresh */
    book_a(&b, 0, 7);
    b.cross_policy = LIQ_CROSS_REPAIR;
    liq_delta m2[] = {D(LIQ_ASK, 985, 5), D(LIQ_BID, 970, 20)};
    CHECK_EQ_I64(liq_book_apply(&b, m2, 2, &bad), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 980, 40, 970, 20);
    SIDE_IS(&b, LIQ_ASK, 985, 5, 1000, 10, 1005, 20, 1010, 30, 1020, 50);
    CHECK_EQ_I64(b.stats.repaired_levels, 2);
    INV(&b);
    liq_book_free(&b);
    /* ALLOW keeps the crossed book and counts it; a later message still counts it */
    book_a(&b, 0, 7);
    b.cross_policy = LIQ_CROSS_ALLOW;
    liq_delta m3[] = {D(LIQ_BID, 1010, 5)};
    CHECK_EQ_I64(liq_book_apply(&b, m3, 1, &bad), LIQ_OK);
    CHECK(liq_book_is_crossed(&b));
    CHECK_EQ_I64(b.stats.crossed, 1);
    CHECK_EQ_I64(liq_book_apply(&b, NULL, 0, &bad), LIQ_OK);
    CHECK_EQ_I64(b.stats.crossed, 2);
    INV(&b);
    /* switching back to RAISE on a crossed book: an uncrossing message is accepted */
    b.cross_policy = LIQ_CROSS_RAISE;
    liq_delta m4[] = {D(LIQ_BID, 1010, 0)};
    CHECK_EQ_I64(liq_book_apply(&b, m4, 1, &bad), LIQ_OK);
    CHECK(!liq_book_is_crossed(&b));
    liq_book_free(&b);
}

static void test_apply_max_depth(void)
{
    liq_book b;
    book_a(&b, 2, 7);
    liq_delta m[] = {D(LIQ_BID, 985, 5), D(LIQ_BID, 992, 0), D(LIQ_ASK, 1015, 5), D(LIQ_ASK, 1000, 0)};
    /* 992 is off grid (tick 5): whole message rejected */
    EXPECT_UNCHANGED(&b, liq_book_apply(&b, m, 4, NULL), LIQ_ERR_OFF_GRID);
    m[1] = D(LIQ_BID, 995, 0);
    CHECK_EQ_I64(liq_book_apply(&b, m, 4, NULL), LIQ_OK);
    /* bids: {990, 985}; asks {1005, 1015} (1015 was inserted before the truncation) */
    SIDE_IS(&b, LIQ_BID, 990, 25, 985, 5);
    SIDE_IS(&b, LIQ_ASK, 1005, 20, 1015, 5);
    INV(&b);
    liq_book_free(&b);
}

/* ---- snapshots ------------------------------------------------------------ */

static void test_snapshot(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 0), LIQ_OK);
    /* unsorted, interleaved sides, duplicates (last wins), zero sizes skipped */
    liq_delta s1[] = {D(LIQ_ASK, 105, 1), D(LIQ_BID, 98, 2), D(LIQ_BID, 99, 3), D(LIQ_ASK, 103, 4),
                      D(LIQ_BID, 97, 0), D(LIQ_BID, 98, 5), D(LIQ_ASK, 104, 6), D(LIQ_ASK, 103, 7),
                      D(LIQ_ASK, 110, 0), D(LIQ_BID, 96, 8), D(LIQ_BID, 96, 0), D(LIQ_ASK, 106, 0),
                      D(LIQ_ASK, 106, 9)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s1, NELEM(s1), 42, NULL), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 99, 3, 98, 5);               /* 96: last row is 0, so absent */
    SIDE_IS(&b, LIQ_ASK, 103, 7, 104, 6, 105, 1, 106, 9);
    CHECK_EQ_I64(b.last_id, 42);
    CHECK_EQ_I64(b.after_snapshot, 1);
    CHECK_EQ_I64(b.stats.snapshots, 1);
    INV(&b);
    /* exchange order (best first), reversed order, and fully sorted ascending */
    liq_delta s2[] = {D(LIQ_BID, 99, 1), D(LIQ_BID, 98, 2), D(LIQ_BID, 97, 3), D(LIQ_ASK, 100, 4),
                      D(LIQ_ASK, 101, 5), D(LIQ_ASK, 102, 6)};
    liq_delta s3[] = {D(LIQ_ASK, 102, 6), D(LIQ_ASK, 101, 5), D(LIQ_ASK, 100, 4), D(LIQ_BID, 97, 3),
                      D(LIQ_BID, 98, 2), D(LIQ_BID, 99, 1)};
    liq_delta s4[] = {D(LIQ_BID, 98, 2), D(LIQ_ASK, 101, 5), D(LIQ_BID, 99, 1), D(LIQ_ASK, 102, 6),
                      D(LIQ_BID, 97, 3), D(LIQ_ASK, 100, 4)};
    liq_delta *all[] = {s2, s3, s4};
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_I64(liq_book_snapshot(&b, all[k], 6, NONE, NULL), LIQ_OK);
        SIDE_IS(&b, LIQ_BID, 99, 1, 98, 2, 97, 3);
        SIDE_IS(&b, LIQ_ASK, 100, 4, 101, 5, 102, 6);
        CHECK_EQ_I64(b.last_id, NONE);
        INV(&b);
    }
    /* one side only, then empty */
    liq_delta s5[] = {D(LIQ_ASK, 7, 1)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s5, 1, 3, NULL), LIQ_OK);
    SIDE_EMPTY(&b, LIQ_BID);
    SIDE_IS(&b, LIQ_ASK, 7, 1);
    CHECK_EQ_I64(liq_book_snapshot(&b, NULL, 0, 4, NULL), LIQ_OK);
    SIDE_EMPTY(&b, LIQ_ASK);
    CHECK_EQ_I64(b.last_id, 4);
    /* all zeros and duplicate-only rows */
    liq_delta s6[] = {D(LIQ_BID, 5, 0), D(LIQ_BID, 5, 0), D(LIQ_ASK, 6, 3), D(LIQ_ASK, 6, 3)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s6, 4, 5, NULL), LIQ_OK);
    SIDE_EMPTY(&b, LIQ_BID);
    SIDE_IS(&b, LIQ_ASK, 6, 3);
    /* locked snapshot is fine, crossed is rejected under RAISE and REPAIR, kept under ALLOW */
    liq_delta s7[] = {D(LIQ_BID, 100, 1), D(LIQ_ASK, 100, 1)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s7, 2, 6, NULL), LIQ_OK);
    liq_delta s8[] = {D(LIQ_BID, 101, 1), D(LIQ_ASK, 100, 1), D(LIQ_BID, 50, 1)};
    size_t bad = 0;
    EXPECT_UNCHANGED(&b, liq_book_snapshot(&b, s8, 3, 7, &bad), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(bad, 3);
    b.cross_policy = LIQ_CROSS_REPAIR;
    EXPECT_UNCHANGED(&b, liq_book_snapshot(&b, s8, 3, 7, &bad), LIQ_ERR_CROSSED);
    b.cross_policy = LIQ_CROSS_ALLOW;
    uint64_t crossed = b.stats.crossed;
    CHECK_EQ_I64(liq_book_snapshot(&b, s8, 3, 7, &bad), LIQ_OK);
    CHECK(liq_book_is_crossed(&b));
    CHECK_EQ_I64(b.stats.crossed, crossed + 1);
    CHECK_EQ_I64(b.last_id, 7);
    b.cross_policy = LIQ_CROSS_RAISE;
    /* invalid rows anywhere: bad index, nothing changes (id included) */
    liq_delta s9[] = {D(LIQ_BID, 90, 1), D(LIQ_ASK, 110, 1), D(LIQ_BID, -1, 1)};
    EXPECT_UNCHANGED(&b, liq_book_snapshot(&b, s9, 3, 8, &bad), LIQ_ERR_NEGATIVE);
    CHECK_EQ_I64(bad, 2);
    s9[2] = D(2, 90, 1);
    EXPECT_UNCHANGED(&b, liq_book_snapshot(&b, s9, 3, 8, &bad), LIQ_ERR_SIDE);
    s9[2] = D(LIQ_BID, 90, -1);
    EXPECT_UNCHANGED(&b, liq_book_snapshot(&b, s9, 3, 8, &bad), LIQ_ERR_NEGATIVE);
    liq_book_free(&b);
    /* off-grid rows */
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);
    liq_delta s10[] = {D(LIQ_BID, 995, 5), D(LIQ_ASK, 1001, 5)};
    EXPECT_UNCHANGED(&b, liq_book_snapshot(&b, s10, 2, 1, &bad), LIQ_ERR_OFF_GRID);
    CHECK_EQ_I64(bad, 1);
    liq_book_free(&b);
}

static void test_snapshot_max_depth(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 3), LIQ_OK);
    liq_delta s[40];
    size_t n = 0;
    for (int64_t i = 0; i < 20; i++) {   /* worst first, with a few zeros and duplicates */
        s[n++] = D(LIQ_BID, 80 + i, i % 7 == 6 ? 0 : i + 1);
        s[n++] = D(LIQ_ASK, 200 - i, i + 1);
    }
    s[n - 2] = D(LIQ_BID, 99, 0);   /* best bid row is a zero: next best rows are kept */
    CHECK_EQ_I64(liq_book_snapshot(&b, s, n, 1, NULL), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 98, 19, 97, 18, 96, 17);
    SIDE_IS(&b, LIQ_ASK, 181, 20, 182, 19, 183, 18);
    INV(&b);
    liq_book_free(&b);
}

/* ---- sequence rules ------------------------------------------------------- */

/* apply_seq with an empty message; returns the status */
static liq_status seq(liq_book *b, int64_t first, int64_t last, int64_t prev)
{
    return liq_book_apply_seq(b, NULL, 0, IDS(first, last, prev), NULL);
}

/* a rejected/stale sequenced message leaves the book unchanged and moves only its counter */
#define SEQ_REJECT(b, first, last, prev, err)                                                  \
    do {                                                                                       \
        liq_delta m_[] = {D(LIQ_BID, 5, 1)};                                                   \
        uint64_t st_ = (b)->stats.stale, gp_ = (b)->stats.gaps, rj_ = (b)->stats.rejected;     \
        size_t bad_ = 99;                                                                      \
        CHECK_EQ_I64(liq_book_check_seq(b, IDS(first, last, prev)), err);                      \
        EXPECT_UNCHANGED(b, liq_book_apply_seq(b, m_, 1, IDS(first, last, prev), &bad_), err); \
        CHECK_EQ_I64((b)->stats.stale, st_ + ((err) == LIQ_STALE));                            \
        CHECK_EQ_I64((b)->stats.gaps, gp_ + ((err) == LIQ_ERR_SEQ_GAP));                       \
        CHECK_EQ_I64((b)->stats.rejected, rj_ + ((err) < 0));                                  \
        if ((err) < 0) CHECK_EQ_I64(bad_, 1);                                                  \
    } while (0)
#define SEQ_OK(b, first, last, prev)                                     \
    do {                                                                 \
        CHECK_EQ_I64(liq_book_check_seq(b, IDS(first, last, prev)), LIQ_OK); \
        CHECK_EQ_I64(seq(b, first, last, prev), LIQ_OK);                 \
        CHECK_EQ_I64((b)->last_id, last);                                \
        CHECK_EQ_I64((b)->after_snapshot, 0);                            \
    } while (0)

static void seq_book(liq_book *b, liq_seq_rule rule, int64_t id)
{
    CHECK_EQ_I64(liq_book_init(b, 0, 0, 1, 1, 0), LIQ_OK);
    b->seq_rule = rule;
    liq_delta s[] = {D(LIQ_BID, 10, 1), D(LIQ_ASK, 20, 1)};
    CHECK_EQ_I64(liq_book_snapshot(b, s, 2, id, NULL), LIQ_OK);
}

static void test_seq_common(void)
{
    liq_book b;
    /* NONE: ids not checked, last id still recorded when given */
    seq_book(&b, LIQ_SEQ_NONE, 100);
    SEQ_OK(&b, NONE, 5, NONE);
    SEQ_OK(&b, 999, 3, 77);
    CHECK_EQ_I64(seq(&b, NONE, NONE, NONE), LIQ_OK);
    CHECK_EQ_I64(b.last_id, 3);
    liq_book_free(&b);
    /* every rule: last id required; no id to continue from is a gap */
    for (int r = LIQ_SEQ_BINANCE_SPOT; r <= LIQ_SEQ_RULE_MAX; r++) {
        seq_book(&b, (liq_seq_rule)r, 100);
        SEQ_REJECT(&b, 101, NONE, 100, LIQ_ERR_ARG);
        liq_book_free(&b);
        seq_book(&b, (liq_seq_rule)r, NONE);
        SEQ_REJECT(&b, 101, 101, 100, LIQ_ERR_SEQ_GAP);
        liq_book_free(&b);
    }
    /* an unknown rule value is an argument error */
    seq_book(&b, LIQ_SEQ_NONE, 100);
    b.seq_rule = (liq_seq_rule)99;
    SEQ_REJECT(&b, 101, 101, 100, LIQ_ERR_ARG);
    liq_book_free(&b);
}

static void test_seq_binance_spot(void)
{
    liq_book b;
    seq_book(&b, LIQ_SEQ_BINANCE_SPOT, 100);
    SEQ_REJECT(&b, NONE, 105, NONE, LIQ_ERR_ARG);    /* U required */
    SEQ_REJECT(&b, 90, 100, NONE, LIQ_STALE);        /* u == L */
    SEQ_REJECT(&b, 50, 60, NONE, LIQ_STALE);         /* u < L */
    SEQ_REJECT(&b, 102, 110, NONE, LIQ_ERR_SEQ_GAP); /* U > L + 1 */
    SEQ_OK(&b, 101, 105, NONE);                      /* U == L + 1 (real ETHUSDT 2024-08-08 case) */
    SEQ_OK(&b, 103, 108, NONE);                      /* overlap U <= L < u */
    SEQ_OK(&b, 109, 109, NONE);                      /* one-id event */
    SEQ_REJECT(&b, 109, 109, NONE, LIQ_STALE);       /* duplicate */
    SEQ_REJECT(&b, 111, 120, NONE, LIQ_ERR_SEQ_GAP);
    liq_book_free(&b);
    /* Regression: far-apart ids overflowed first - L (signed overflow, UB). */
    seq_book(&b, LIQ_SEQ_BINANCE_SPOT, -10);
    SEQ_REJECT(&b, INT64_MAX, INT64_MAX, NONE, LIQ_ERR_SEQ_GAP);
    SEQ_OK(&b, INT64_MIN + 1, 0, NONE);
    liq_book_free(&b);
    seq_book(&b, LIQ_SEQ_BINANCE_SPOT, INT64_MIN + 1);
    SEQ_REJECT(&b, INT64_MAX, INT64_MAX, NONE, LIQ_ERR_SEQ_GAP);
    SEQ_OK(&b, INT64_MIN + 2, INT64_MAX, NONE);
    SEQ_REJECT(&b, INT64_MAX, INT64_MAX, NONE, LIQ_STALE);
    liq_book_free(&b);
}

static void test_seq_binance_futures(void)
{
    liq_book b;
    seq_book(&b, LIQ_SEQ_BINANCE_FUTURES, 100);
    SEQ_REJECT(&b, NONE, 105, 90, LIQ_ERR_ARG);
    SEQ_REJECT(&b, 95, 105, NONE, LIQ_ERR_ARG);
    SEQ_REJECT(&b, 80, 99, 70, LIQ_STALE);          /* u < L dropped */
    SEQ_REJECT(&b, 101, 110, 99, LIQ_ERR_SEQ_GAP);  /* first event: U > L and pu != L */
    CHECK_EQ_I64(b.after_snapshot, 1);              /* still waiting for the first event */
    SEQ_OK(&b, 90, 100, 80);                         /* U <= L <= u with u == L: accepted, pu ignored */
    /* then pu == previous u */
    SEQ_REJECT(&b, 95, 100, 90, LIQ_STALE);          /* u == L after the first event: stale */
    SEQ_OK(&b, 101, 120, 100);
    SEQ_REJECT(&b, 121, 130, 119, LIQ_ERR_SEQ_GAP);
    SEQ_OK(&b, 140, 150, 120);                       /* ids need not be contiguous */
    SEQ_REJECT(&b, 120, 149, 110, LIQ_STALE);
    liq_book_free(&b);
    /* first event with U < L < u */
    seq_book(&b, LIQ_SEQ_BINANCE_FUTURES, 100);
    SEQ_OK(&b, 95, 110, 94);
    /* a new snapshot restarts the first-event rule */
    liq_delta s[] = {D(LIQ_BID, 10, 1)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s, 1, 200, NULL), LIQ_OK);
    CHECK_EQ_I64(b.after_snapshot, 1);
    SEQ_REJECT(&b, 202, 210, 199, LIQ_ERR_SEQ_GAP);
    SEQ_OK(&b, 200, 210, 150);
    liq_book_free(&b);
    /* the snapshot ended on an event boundary: the next event has U > L but pu == L */
    seq_book(&b, LIQ_SEQ_BINANCE_FUTURES, 100);
    SEQ_OK(&b, 105, 110, 100);
    SEQ_REJECT(&b, 111, 120, 109, LIQ_ERR_SEQ_GAP);  /* then pu continuity as usual */
    SEQ_OK(&b, 111, 120, 110);
    liq_book_free(&b);
}

static void test_seq_okx(void)
{
    liq_book b;
    seq_book(&b, LIQ_SEQ_OKX, 10);                   /* snapshot: prevSeqId -1, seqId 10 */
    SEQ_REJECT(&b, NONE, 15, NONE, LIQ_ERR_ARG);
    SEQ_OK(&b, NONE, 15, 10);                        /* normal */
    SEQ_OK(&b, NONE, 15, 15);                        /* heartbeat: seq == prev */
    SEQ_OK(&b, NONE, 3, 15);                         /* reset: seq < prev */
    SEQ_OK(&b, NONE, 5, 3);                          /* normal after reset */
    SEQ_REJECT(&b, NONE, 5, 3, LIQ_STALE);           /* duplicate */
    SEQ_REJECT(&b, NONE, 4, 3, LIQ_STALE);           /* older */
    SEQ_REJECT(&b, NONE, 9, 7, LIQ_ERR_SEQ_GAP);     /* missed 5 -> 7 */
    SEQ_REJECT(&b, NONE, 15, 10, LIQ_ERR_SEQ_GAP);   /* pre-reset message: not provably old */
    SEQ_REJECT(&b, NONE, 2, 4, LIQ_ERR_SEQ_GAP);     /* a reset that does not continue from L */
    CHECK_EQ_I64(b.last_id, 5);
    /* the heartbeat with an empty message goes through the empty scratch path too */
    liq_delta *d = liq_book_scratch(&b, 0);
    CHECK(d != NULL);
    CHECK_EQ_I64(liq_book_apply_seq(&b, d, 0, IDS(NONE, 5, 5), NULL), LIQ_OK);
    liq_book_free(&b);
}

static void test_seq_contiguous_prev(void)
{
    liq_book b;
    seq_book(&b, LIQ_SEQ_CONTIGUOUS, 100);
    SEQ_OK(&b, NONE, 101, NONE);                     /* Bybit u only */
    SEQ_REJECT(&b, NONE, 101, NONE, LIQ_STALE);
    SEQ_REJECT(&b, NONE, 50, NONE, LIQ_STALE);
    SEQ_REJECT(&b, NONE, 103, NONE, LIQ_ERR_SEQ_GAP);
    SEQ_OK(&b, 102, 110, NONE);                      /* Gate U == L + 1 */
    SEQ_REJECT(&b, 105, 115, NONE, LIQ_ERR_SEQ_GAP); /* overlapping U is not contiguous */
    SEQ_REJECT(&b, 112, 115, NONE, LIQ_ERR_SEQ_GAP);
    SEQ_REJECT(&b, NONE, INT64_MAX, NONE, LIQ_ERR_SEQ_GAP);
    liq_book_free(&b);
    seq_book(&b, LIQ_SEQ_CONTIGUOUS, INT64_MIN + 1);
    SEQ_REJECT(&b, NONE, INT64_MAX, NONE, LIQ_ERR_SEQ_GAP);   /* no overflow in first - 1 */
    liq_book_free(&b);

    seq_book(&b, LIQ_SEQ_PREV, 100);                 /* Deribit change_id / prev_change_id */
    SEQ_REJECT(&b, NONE, 105, NONE, LIQ_ERR_ARG);
    SEQ_OK(&b, NONE, 105, 100);
    SEQ_OK(&b, NONE, 230, 105);
    SEQ_REJECT(&b, NONE, 230, 105, LIQ_STALE);
    SEQ_REJECT(&b, NONE, 200, 150, LIQ_STALE);
    SEQ_REJECT(&b, NONE, 300, 250, LIQ_ERR_SEQ_GAP);
    liq_book_free(&b);

    seq_book(&b, LIQ_SEQ_INCREASING, 100);           /* Bitget seq: rises, not contiguous */
    SEQ_OK(&b, NONE, 101, NONE);
    SEQ_OK(&b, 7, 180, 3);                           /* any step; first/prev ignored */
    SEQ_REJECT(&b, NONE, 180, NONE, LIQ_STALE);      /* the same message again */
    SEQ_REJECT(&b, NONE, 150, NONE, LIQ_ERR_SEQ_GAP);/* backwards: out of order or a reset */
    CHECK_EQ_I64(b.last_id, 180);
    SEQ_OK(&b, NONE, INT64_MAX, NONE);
    liq_book_free(&b);
}

/* A sequenced message that passes the id check but fails to apply keeps the id. */
static void test_seq_apply_failure(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 1, 5, 5, 0), LIQ_OK);
    b.seq_rule = LIQ_SEQ_BINANCE_FUTURES;
    CHECK_EQ_I64(liq_book_snapshot(&b, BOOK_A, NELEM(BOOK_A), 100, NULL), LIQ_OK);
    liq_delta cross[] = {D(LIQ_BID, 1010, 5)};
    liq_delta off[] = {D(LIQ_BID, 990, 5), D(LIQ_BID, 991, 5)};
    size_t bad = 99;
    EXPECT_UNCHANGED(&b, liq_book_apply_seq(&b, cross, 1, IDS(90, 110, 80), &bad), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(bad, 1);
    EXPECT_UNCHANGED(&b, liq_book_apply_seq(&b, off, 2, IDS(90, 110, 80), &bad), LIQ_ERR_OFF_GRID);
    CHECK_EQ_I64(bad, 1);
    CHECK_EQ_I64(b.last_id, 100);
    CHECK_EQ_I64(b.after_snapshot, 1);
    CHECK_EQ_I64(b.stats.gaps, 0);
    off[1] = D(LIQ_ASK, 1030, 5);
    CHECK_EQ_I64(liq_book_apply_seq(&b, off, 2, IDS(90, 110, 80), &bad), LIQ_OK);
    CHECK_EQ_I64(b.last_id, 110);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 5);
    liq_book_free(&b);
}

/* ---- copy and serialization ---------------------------------------------- */

static void test_copy(void)
{
    liq_book a, c;
    book_a(&a, 6, 33);
    a.cross_policy = LIQ_CROSS_REPAIR;
    a.seq_rule = LIQ_SEQ_OKX;
    liq_delta m[] = {DD(LIQ_ASK, 1030, 5, 4, 8)};
    CHECK_EQ_I64(liq_book_apply(&a, m, 1, NULL), LIQ_OK);
    CHECK(liq_book_scratch(&a, 10) != NULL);
    memset(&c, 0xAB, sizeof c);   /* dst may be uninitialised */
    CHECK_EQ_I64(liq_book_copy(&c, &a), LIQ_OK);
    blob sa = ser(&a), sc = ser(&c);
    CHECK(sa.n == sc.n && memcmp(sa.p, sc.p, sa.n) == 0);   /* stats included */
    CHECK(c.scratch == NULL && c.undo == NULL && c.scratch_cap == 0 && c.undo_cap == 0);
    CHECK(c.side[0].key != a.side[0].key);
    /* deep: changing one does not change the other */
    liq_delta d = D(LIQ_BID, 995, 0);
    CHECK_EQ_I64(liq_book_set(&a, &d), LIQ_OK);
    CHECK_EQ_I64(liq_book_count(&c, LIQ_BID), 4);
    CHECK_EQ_I64(liq_book_set(&c, &d), LIQ_OK);   /* the copy works on its own */
    CHECK_EQ_I64(liq_book_apply(&c, m, 1, NULL), LIQ_OK);
    INV(&c);
    free(sa.p);
    free(sc.p);
    liq_book_free(&a);
    liq_book_free(&c);
    /* an empty book */
    CHECK_EQ_I64(liq_book_init(&a, 3, 4, 1, 1, 0), LIQ_OK);
    CHECK_EQ_I64(liq_book_copy(&c, &a), LIQ_OK);
    CHECK(c.px_scale == 3 && c.qty_scale == 4 && liq_book_count(&c, 0) == 0 && c.side[0].key == NULL);
    liq_book_free(&a);
    liq_book_free(&c);
}

static void test_levels_export(void)
{
    liq_book b;
    book_a(&b, 0, 1);
    double f[2 * 8];
    int64_t i[2 * 8];
    CHECK_EQ_I64(liq_book_levels_f64(&b, LIQ_BID, 8, f), 4);
    CHECK(f[0] == 99.5 && f[1] == 1.5 && f[6] == 97.0 && f[7] == 10.0);
    CHECK_EQ_I64(liq_book_levels_f64(&b, LIQ_ASK, 2, f), 2);
    CHECK(f[0] == 100.0 && f[1] == 1.0 && f[2] == 100.5 && f[3] == 2.0);
    CHECK_EQ_I64(liq_book_levels_i64(&b, LIQ_ASK, 0, i), 0);
    CHECK_EQ_I64(liq_book_levels_i64(&b, LIQ_ASK, 100, i), 4);
    CHECK(i[6] == 1020 && i[7] == 50);
    int64_t px, q;
    CHECK(liq_book_best(&b, LIQ_ASK, &px, &q) && px == 1000 && q == 10);
    liq_book_free(&b);
}

/* More levels than the f64 export's chunk (64), with holes: every value the units divided by
 * 10^scale, the same as the i64 export. */
static void test_levels_export_beyond_a_chunk(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 2, 3, 1, 1, 0), LIQ_OK);
    for (int64_t k = 0; k < 300; k++) {
        liq_delta d = D(LIQ_BID, 100000 - 7 * k, 1 + k);
        CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
        d = D(LIQ_ASK, 100001 + 3 * k, 1000 + k);
        CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    }
    for (int64_t k = 0; k < 300; k += 5) {      /* holes in the dense run */
        liq_delta d = D(LIQ_BID, 100000 - 7 * k, 0);
        CHECK_EQ_I64(liq_book_set(&b, &d), LIQ_OK);
    }
    static double f[2 * 300];
    static int64_t u[2 * 300];
    for (int sd = 0; sd < 2; sd++) {
        size_t want = liq_book_levels_i64(&b, sd, 300, u);
        CHECK_EQ_I64(want, sd == LIQ_BID ? 240 : 300);
        size_t ns[] = {0, 1, 63, 64, 65, 128, 129, 239, 240, 300};
        for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
            size_t got = liq_book_levels_f64(&b, sd, ns[t], f);
            CHECK_EQ_I64(got, ns[t] < want ? ns[t] : want);
            for (size_t j = 0; j < got; j++)
                CHECK(f[2 * j] == (double)u[2 * j] / 100.0 && f[2 * j + 1] == (double)u[2 * j + 1] / 1000.0);
        }
    }
    liq_book_free(&b);
}

static void test_serialize(void)
{
    liq_book a, c;
    book_a(&a, 10, -5);
    a.cross_policy = LIQ_CROSS_ALLOW;
    a.seq_rule = LIQ_SEQ_BINANCE_FUTURES;
    liq_delta m[] = {DD(LIQ_ASK, 1030, 5, 4, 8), D(LIQ_BID, 1005, 5)};   /* crossed, allowed */
    CHECK_EQ_I64(liq_book_apply(&a, m, 2, NULL), LIQ_OK);
    blob s = ser(&a);
    CHECK_EQ_I64(s.n, 140 + 10 * 18);
    CHECK(s.p[0] == 'L' && s.p[1] == 'Q' && s.p[2] == 'B' && s.p[3] == '1');
    CHECK_EQ_I64(liq_book_init(&c, 0, 0, 1, 1, 0), LIQ_OK);
    liq_delta d = D(LIQ_BID, 1, 1);
    CHECK_EQ_I64(liq_book_set(&c, &d), LIQ_OK);   /* replaced storage is freed (ASan checks) */
    CHECK(liq_book_scratch(&c, 5) != NULL);
    uint64_t gen = c.generation;
    CHECK_EQ_I64(liq_book_deserialize(&c, s.p, s.n), LIQ_OK);
    CHECK(c.generation > gen);
    blob s2 = ser(&c);
    CHECK(s2.n == s.n && memcmp(s.p, s2.p, s.n) == 0);
    CHECK(c.px_scale == 1 && c.qty_scale == 1 && c.tick == 5 && c.lot == 5 && c.max_depth == 10);
    CHECK(c.cross_policy == LIQ_CROSS_ALLOW && c.seq_rule == LIQ_SEQ_BINANCE_FUTURES && c.last_id == -5);
    CHECK(c.after_snapshot == 1 && c.stats.snapshots == 1 && c.stats.messages == 2 && c.stats.crossed == 1);
    CHECK_EQ_I64(dec_at(&c, LIQ_ASK, 4), 4 << 8 | 8);
    CHECK(liq_book_is_crossed(&c));
    /* the deserialized book keeps working (capacity and scratch are its own) */
    liq_delta m2[] = {D(LIQ_BID, 1005, 0), D(LIQ_ASK, 1040, 5)};
    CHECK_EQ_I64(liq_book_apply(&c, m2, 2, NULL), LIQ_OK);
    INV(&c);
    free(s2.p);
    /* an empty book round trips */
    liq_book e;
    CHECK_EQ_I64(liq_book_init(&e, 18, 0, 7, 3, 0), LIQ_OK);
    blob se = ser(&e);
    CHECK_EQ_I64(se.n, 140);
    CHECK_EQ_I64(liq_book_deserialize(&c, se.p, se.n), LIQ_OK);
    CHECK(c.px_scale == 18 && c.tick == 7 && c.lot == 3 && c.last_id == LIQ_ID_NONE &&
          liq_book_count(&c, 0) + liq_book_count(&c, 1) == 0);
    free(se.p);
    liq_book_free(&e);
    free(s.p);
    liq_book_free(&a);
    liq_book_free(&c);
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* corrupt a copy of s with f and expect LIQ_ERR_FORMAT with the target unchanged */
#define EXPECT_BAD_BLOB(target, s, stmt)                                                \
    do {                                                                                \
        uint8_t *q = malloc((s).n + 8);                                                 \
        memcpy(q, (s).p, (s).n);                                                        \
        size_t qn = (s).n;                                                              \
        stmt;                                                                           \
        blob before_ = ser(target);                                                     \
        if (liq_book_deserialize(target, q, qn) != LIQ_ERR_FORMAT) {                    \
            fprintf(stderr, "%s:%d: corrupted buffer (%s) accepted\n", __FILE__, __LINE__, #stmt); \
            liq_test_failures++;                                                        \
        }                                                                               \
        blob after_ = ser(target);                                                      \
        CHECK(before_.n == after_.n && memcmp(before_.p, after_.p, before_.n) == 0);    \
        free(before_.p);                                                                \
        free(after_.p);                                                                 \
        free(q);                                                                        \
    } while (0)

static void test_deserialize_rejects(void)
{
    liq_book a, t;
    book_a(&a, 0, 7);
    blob s = ser(&a);
    CHECK_EQ_I64(liq_book_init(&t, 2, 2, 1, 1, 0), LIQ_OK);
    liq_delta d = D(LIQ_ASK, 77, 1);
    CHECK_EQ_I64(liq_book_set(&t, &d), LIQ_OK);
    /* every truncation, and one byte too many */
    for (size_t cut = 0; cut < s.n; cut++) EXPECT_BAD_BLOB(&t, s, qn = cut);
    EXPECT_BAD_BLOB(&t, s, (q[qn] = 0, qn++));
    CHECK_EQ_I64(liq_book_deserialize(&t, NULL, 0), LIQ_ERR_FORMAT);
    /* header fields */
    EXPECT_BAD_BLOB(&t, s, q[0] ^= 1);                    /* magic */
    EXPECT_BAD_BLOB(&t, s, q[3] = 0);
    EXPECT_BAD_BLOB(&t, s, q[4] = 2);                     /* version */
    EXPECT_BAD_BLOB(&t, s, q[8] = 19);                    /* px_scale */
    EXPECT_BAD_BLOB(&t, s, q[11] = 0x80);                 /* px_scale as negative int */
    EXPECT_BAD_BLOB(&t, s, q[12] = 19);                   /* qty_scale */
    EXPECT_BAD_BLOB(&t, s, put64(q + 16, 0));             /* tick 0 */
    EXPECT_BAD_BLOB(&t, s, put64(q + 16, (uint64_t)-5));  /* tick < 0 */
    EXPECT_BAD_BLOB(&t, s, put64(q + 16, 3));             /* levels off the new tick grid */
    EXPECT_BAD_BLOB(&t, s, put64(q + 24, 0));             /* lot 0 */
    EXPECT_BAD_BLOB(&t, s, put64(q + 24, 2));             /* sizes off the lot grid */
    EXPECT_BAD_BLOB(&t, s, put64(q + 32, 3));             /* max_depth below the level count */
    EXPECT_BAD_BLOB(&t, s, q[40] = 3);                    /* cross policy */
    EXPECT_BAD_BLOB(&t, s, q[41] = LIQ_SEQ_RULE_MAX + 1);   /* seq rule */
    EXPECT_BAD_BLOB(&t, s, q[42] = 2);                    /* unknown flag bit */
    EXPECT_BAD_BLOB(&t, s, q[43] = 1);
    /* level counts */
    EXPECT_BAD_BLOB(&t, s, put64(q + 124, 5));
    EXPECT_BAD_BLOB(&t, s, put64(q + 132, 3));
    EXPECT_BAD_BLOB(&t, s, (put64(q + 124, 3), put64(q + 132, 5)));   /* right total, wrong split */
    EXPECT_BAD_BLOB(&t, s, put64(q + 124, UINT64_MAX));
    EXPECT_BAD_BLOB(&t, s, (put64(q + 124, (uint64_t)1 << 63), put64(q + 132, (uint64_t)1 << 63)));
    /* level contents: bids at 140 (keys 4x8, qty 4x8, dec 4x2), asks at 140+72 */
    const size_t bk = 140, bq = 140 + 32, ak = 140 + 72, aq = 140 + 72 + 32;
    EXPECT_BAD_BLOB(&t, s, put64(q + bk, 1000));                     /* unsorted (970 -> 1000 > 980) */
    EXPECT_BAD_BLOB(&t, s, put64(q + bk + 8, 970));                  /* duplicate key */
    EXPECT_BAD_BLOB(&t, s, put64(q + bq + 8, 0));                    /* zero qty */
    EXPECT_BAD_BLOB(&t, s, put64(q + bq, (uint64_t)-5));             /* negative qty */
    EXPECT_BAD_BLOB(&t, s, put64(q + bk, (uint64_t)-5));             /* bid price <= 0 */
    EXPECT_BAD_BLOB(&t, s, put64(q + bk, 0));
    EXPECT_BAD_BLOB(&t, s, put64(q + ak, (uint64_t)INT64_MIN));      /* ask key INT64_MIN */
    EXPECT_BAD_BLOB(&t, s, put64(q + ak + 24, 5));                   /* ask price < 0 */
    EXPECT_BAD_BLOB(&t, s, put64(q + aq, 0));
    EXPECT_BAD_BLOB(&t, s, put64(q + bk + 24, 1005));                /* crossed under RAISE */
    /* the same crossed book is fine under ALLOW */
    {
        uint8_t *q = malloc(s.n);
        memcpy(q, s.p, s.n);
        put64(q + bk + 24, 1005);
        q[40] = LIQ_CROSS_ALLOW;
        CHECK_EQ_I64(liq_book_deserialize(&t, q, s.n), LIQ_OK);
        CHECK(liq_book_is_crossed(&t));
        free(q);
    }
    /* wire decimals and stats are free-form */
    {
        uint8_t *q = malloc(s.n);
        memcpy(q, s.p, s.n);
        memset(q + 52, 0xFF, 72);
        memset(q + bk + 64, 0xFF, 8);
        CHECK_EQ_I64(liq_book_deserialize(&t, q, s.n), LIQ_OK);
        CHECK(t.stats.messages == UINT64_MAX && dec_at(&t, LIQ_BID, 0) == 0xFFFF);
        free(q);
    }
    free(s.p);
    liq_book_free(&a);
    liq_book_free(&t);
}

/* ---- randomized differential test against a reference book --------------- */

enum { RP = 48 };   /* prices 1..RP ticks */
typedef struct ref_book {
    int64_t q[2][RP + 1];
} ref_book;

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int ref_crossed(const ref_book *r)
{
    int bb = 0, ba = 0;
    for (int p = RP; p >= 1; p--) if (r->q[0][p]) { bb = p; break; }
    for (int p = 1; p <= RP; p++) if (r->q[1][p]) { ba = p; break; }
    return bb && ba && bb > ba;
}

static void ref_truncate(ref_book *r, size_t depth)
{
    if (!depth) return;
    size_t k = 0;
    for (int p = RP; p >= 1; p--) if (r->q[0][p] && ++k > depth) r->q[0][p] = 0;
    k = 0;
    for (int p = 1; p <= RP; p++) if (r->q[1][p] && ++k > depth) r->q[1][p] = 0;
}

static int ref_equal(const liq_book *b, const ref_book *r)
{
    int64_t out[2 * (RP + 1)];
    for (int sd = 0; sd < 2; sd++) {
        size_t n = liq_book_levels_i64(b, sd, RP + 1, out), k = 0;
        for (int i = 0; i < RP; i++) {
            int p = sd == LIQ_BID ? RP - i : 1 + i;
            if (!r->q[sd][p]) continue;
            if (k >= n || out[2 * k] != p || out[2 * k + 1] != r->q[sd][p]) return 0;
            k++;
        }
        if (k != n) return 0;
    }
    return 1;
}

static void test_random_vs_reference(void)
{
    for (int round = 0; round < 60; round++) {
        size_t depth = round % 3 == 0 ? 0 : (size_t)(1 + rnd() % 6);
        liq_cross_policy pol = round % 2 ? LIQ_CROSS_ALLOW : LIQ_CROSS_RAISE;
        liq_book b;
        CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, depth), LIQ_OK);
        b.cross_policy = pol;
        ref_book r;
        memset(&r, 0, sizeof r);
        for (int step = 0; step < 400; step++) {
            liq_delta m[12];
            size_t n = rnd() % 12;
            int kind = (int)(rnd() % 8);   /* 0 snapshot, 1 set, else apply */
            if (kind == 1) n = 1;
            for (size_t i = 0; i < n; i++) {
                int sd = (int)(rnd() & 1);
                /* bids mostly below 25, asks mostly above 24, so crossings are occasional */
                int64_t p = sd == LIQ_BID ? 1 + (int64_t)(rnd() % 26) : 23 + (int64_t)(rnd() % 26);
                int64_t q = rnd() % 3 == 0 ? 0 : 1 + (int64_t)(rnd() % 9);
                m[i] = D(sd, p, q);
            }
            int corrupt = rnd() % 10 == 0 && n > 0;
            if (corrupt) m[rnd() % n].px = -1;
            ref_book nr = r;
            if (kind == 0) memset(&nr, 0, sizeof nr);
            for (size_t i = 0; i < n && !corrupt; i++) nr.q[m[i].side][m[i].px] = m[i].qty;
            int reject = corrupt || (pol == LIQ_CROSS_RAISE && ref_crossed(&nr));
            blob before = ser(&b);
            liq_status st;
            if (kind == 0) st = liq_book_snapshot(&b, m, n, step, NULL);
            else if (kind == 1) st = liq_book_set(&b, &m[0]);
            else st = liq_book_apply(&b, m, n, NULL);
            if (reject) {
                blob after = ser(&b);
                if (st == LIQ_OK || !same_state(before, after)) {
                    fprintf(stderr, "round %d step %d kind %d: rejection expected (st %d) and no change\n",
                            round, step, kind, st);
                    liq_test_failures++;
                }
                free(after.p);
            } else {
                ref_truncate(&nr, depth);
                r = nr;
                if (st != LIQ_OK) {
                    fprintf(stderr, "round %d step %d kind %d: st %d\n", round, step, kind, st);
                    liq_test_failures++;
                }
            }
            free(before.p);
            INV(&b);
            if (!ref_equal(&b, &r)) {
                fprintf(stderr, "round %d step %d kind %d: book differs from the reference\n", round, step, kind);
                liq_test_failures++;
                liq_book_free(&b);
                return;
            }
            if (step % 50 == 0) {   /* serialize -> deserialize -> same book */
                blob s = ser(&b);
                liq_book c;
                CHECK_EQ_I64(liq_book_init(&c, 0, 0, 1, 1, 0), LIQ_OK);
                CHECK_EQ_I64(liq_book_deserialize(&c, s.p, s.n), LIQ_OK);
                blob s2 = ser(&c);
                CHECK(s.n == s2.n && memcmp(s.p, s2.p, s.n) == 0);
                free(s.p);
                free(s2.p);
                liq_book_free(&c);
            }
        }
        liq_book_free(&b);
    }
}

/* The same levels rebuilt by a snapshot: no holes, a fresh dense region. */
static void rebuilt(const liq_book *b, liq_book *c)
{
    size_t n[2] = {liq_book_count(b, LIQ_BID), liq_book_count(b, LIQ_ASK)};
    int64_t *lv = malloc((n[0] + n[1] + 1) * 2 * sizeof *lv);
    liq_delta *d = malloc((n[0] + n[1] + 1) * sizeof *d);
    size_t k = 0;
    for (int sd = 0; sd < 2; sd++) {
        size_t got = liq_book_levels_i64(b, sd, n[sd], lv);
        for (size_t i = 0; i < got; i++) d[k++] = D(sd, lv[2 * i], lv[2 * i + 1]);   /* the test books carry no wire decimals */
    }
    CHECK_EQ_I64(liq_book_init(c, b->px_scale, b->qty_scale, b->tick, b->lot, b->max_depth), LIQ_OK);
    c->cross_policy = LIQ_CROSS_ALLOW;
    CHECK_EQ_I64(liq_book_snapshot(c, d, k, LIQ_ID_NONE, NULL), LIQ_OK);
    free(lv);
    free(d);
}

/* Every reader gives the same answer on b (holes, a moved region) and on its rebuild. */
static void check_readers_agree(const liq_book *b, int line)
{
    liq_book c;
    rebuilt(b, &c);
    blob x = ser(b), y = ser(&c);
    /* the serialized levels (after the header) are the book's content, holes excluded */
    if (x.n != y.n || memcmp(x.p + LIQ_SER_HEADER, y.p + LIQ_SER_HEADER, x.n - LIQ_SER_HEADER) != 0) {
        fprintf(stderr, "line %d: serialized levels differ from the rebuilt book\n", line);
        liq_test_failures++;
    }
    free(x.p);
    free(y.p);
    for (int kind = LIQ_CHECKSUM_OKX; kind <= LIQ_CHECKSUM_BITFINEX; kind++) {
        uint32_t u = 1, v = 2;
        CHECK_EQ_I64(liq_book_checksum(b, kind, &u), LIQ_OK);
        CHECK_EQ_I64(liq_book_checksum(&c, kind, &v), LIQ_OK);
        if (u != v) { fprintf(stderr, "line %d: checksum %d differs\n", line, kind); liq_test_failures++; }
    }
    static const int dirs[] = {LIQ_WALK_BUY, LIQ_WALK_SELL};
    for (size_t di = 0; di < 2; di++) {
        const int dir = dirs[di];
        liq_walk_result u, v;
        CHECK_EQ_I64(liq_book_walk_qty(b, dir, 37, &u), LIQ_OK);
        CHECK_EQ_I64(liq_book_walk_qty(&c, dir, 37, &v), LIQ_OK);
        if (u.levels != v.levels || u.filled != v.filled || !(u.vwap == v.vwap || (u.vwap != u.vwap && v.vwap != v.vwap)) ||
            !(u.worst_px == v.worst_px || (u.worst_px != u.worst_px && v.worst_px != v.worst_px))) {
            fprintf(stderr, "line %d: walk %d differs (%zu vs %zu levels)\n", line, dir, u.levels, v.levels);
            liq_test_failures++;
        }
        CHECK_EQ_I64(liq_book_walk_notional(b, dir, 5000.0, &u), LIQ_OK);
        CHECK_EQ_I64(liq_book_walk_notional(&c, dir, 5000.0, &v), LIQ_OK);
        if (u.levels != v.levels || u.notional != v.notional) {
            fprintf(stderr, "line %d: notional walk %d differs\n", line, dir);
            liq_test_failures++;
        }
    }
    for (int w = LIQ_WEIGHT_PLAIN; w <= LIQ_WEIGHT_EXP; w++) {
        double u = 0, v = 1;
        CHECK_EQ_I64(liq_book_imbalance(b, 7, w, 50.0, 0, &u), LIQ_OK);
        CHECK_EQ_I64(liq_book_imbalance(&c, 7, w, 50.0, 0, &v), LIQ_OK);
        if (!(u == v || (u != u && v != v))) { fprintf(stderr, "line %d: imbalance %d differs\n", line, w); liq_test_failures++; }
    }
    liq_depth u, v;
    CHECK_EQ_I64(liq_book_depth(b, 300.0, LIQ_REF_TOUCH, &u), LIQ_OK);
    CHECK_EQ_I64(liq_book_depth(&c, 300.0, LIQ_REF_TOUCH, &v), LIQ_OK);
    if (u.bid_base != v.bid_base || u.ask_base != v.ask_base) {
        fprintf(stderr, "line %d: depth differs\n", line);
        liq_test_failures++;
    }
    liq_book_free(&c);
}

/*
 * Large drifting books (hundreds of levels over thousands of ticks, ticks of 1 and
 * 5): deep deletions make holes, insertions fill them or extend the dense region,
 * compactions and capacity-exhausted inserts happen, messages are rejected and
 * rolled back across all of that. After every step the book equals a reference
 * array, satisfies the invariants, and every reader agrees with a rebuilt copy.
 */
enum { HP = 3000 };
static void test_random_holes_and_region(void)
{
    static int64_t ref[2][HP + 1];
    for (int round = 0; round < 8; round++) {
        int64_t tick = round % 2 ? 5 : 1;
        size_t depth = round % 4 == 3 ? 120 : 0;
        liq_book b;
        CHECK_EQ_I64(liq_book_init(&b, 0, 0, tick, 1, depth), LIQ_OK);
        b.cross_policy = LIQ_CROSS_ALLOW;   /* the drift leaves stale levels across the mid */
        memset(ref, 0, sizeof ref);
        int64_t mid = HP / 2;
        for (int step = 0; step < 1500; step++) {
            liq_delta m[40];
            size_t n = 1 + rnd() % (step % 7 == 0 ? 40 : 6);
            int corrupt = rnd() % 12 == 0;
            mid += (int64_t)(rnd() % 3) - 1;
            if (mid < 400) mid = 400;
            if (mid > HP - 400) mid = HP - 400;
            for (size_t i = 0; i < n; i++) {
                int sd = (int)(rnd() & 1);
                int64_t off = rnd() % 4 == 0 ? 1 + (int64_t)(rnd() % 380) : 1 + (int64_t)(rnd() % 12);
                int64_t p = sd == LIQ_BID ? mid - off : mid + off;
                int64_t q = rnd() % 3 == 0 ? 0 : 1 + (int64_t)(rnd() % 50);
                m[i] = D(sd, p * tick, q);
            }
            if (corrupt) m[rnd() % n].qty = -1;
            liq_status st = n == 1 && step % 2 ? liq_book_set(&b, &m[0]) : liq_book_apply(&b, m, n, NULL);
            if (corrupt) {
                CHECK(st != LIQ_OK);
            } else {
                CHECK_EQ_I64(st, LIQ_OK);
                for (size_t i = 0; i < n; i++) ref[m[i].side][m[i].px / tick] = m[i].qty;
                if (depth) {
                    size_t k = 0;
                    for (int p = HP; p >= 1; p--) if (ref[0][p] && ++k > depth) ref[0][p] = 0;
                    k = 0;
                    for (int p = 1; p <= HP; p++) if (ref[1][p] && ++k > depth) ref[1][p] = 0;
                }
            }
            INV(&b);
            /* compare with the reference, best first */
            int64_t out[2 * (HP + 1)];
            for (int sd = 0; sd < 2; sd++) {
                size_t got = liq_book_levels_i64(&b, sd, HP + 1, out), k = 0, bad = 0;
                for (int i = 1; i <= HP; i++) {
                    int p = sd == LIQ_BID ? HP + 1 - i : i;
                    if (!ref[sd][p]) continue;
                    if (k >= got || out[2 * k] != p * tick || out[2 * k + 1] != ref[sd][p]) bad = 1;
                    k++;
                }
                if (bad || k != got || got != liq_book_count(&b, sd)) {
                    fprintf(stderr, "round %d step %d: side %d differs from the reference\n", round, step, sd);
                    liq_test_failures++;
                    liq_book_free(&b);
                    return;
                }
            }
            if (step % 25 == 0) check_readers_agree(&b, __LINE__);
        }
        liq_book_free(&b);
    }
}

/*
 * Holes that fill the spare capacity: a message whose insertions above the touch
 * each pad the dense region with holes until len == cap, then inserts once more.
 * The insertion must squeeze the holes out (the capacity reserved for the message's
 * insertions is still there once they are gone), and a rejected message must roll
 * back to the identical book across that compaction.
 */
static void test_capacity_exhausted_by_holes(void)
{
    for (int reject = 0; reject < 2; reject++) {
        liq_book b;
        CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 0), LIQ_OK);
        liq_delta snap[101];
        for (int i = 0; i < 100; i++) snap[i] = D(LIQ_BID, 1000 + i, 1 + i);
        snap[100] = D(LIQ_ASK, 5000, 1);
        CHECK_EQ_I64(liq_book_snapshot(&b, snap, 101, LIQ_ID_NONE, NULL), LIQ_OK);
        CHECK_EQ_I64(liq_book_reserve(&b, LIQ_BID, 300), LIQ_OK);
        CHECK_EQ_I64(b.side[LIQ_BID].cap, 300);
        CHECK_EQ_I64(b.side[LIQ_BID].len, 100);
        liq_delta m[9];
        int64_t top = 1099;
        for (int i = 0; i < 6; i++) m[i] = D(LIQ_BID, top += 33, 7);   /* 32 holes + the level each */
        m[6] = D(LIQ_BID, top += 2, 8);                                /* 1 hole: len reaches cap */
        m[7] = D(LIQ_BID, 990, 9);                                     /* no room left: squeeze */
        m[8] = D(LIQ_ASK, reject ? 1050 : 6000, 1);                    /* crosses when rejecting */
        if (reject) {
            EXPECT_UNCHANGED(&b, liq_book_apply(&b, m, 9, NULL), LIQ_ERR_CROSSED);
            CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 100);
        } else {
            CHECK_EQ_I64(liq_book_apply(&b, m, 9, NULL), LIQ_OK);
            CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 108);
            CHECK(b.side[LIQ_BID].len <= b.side[LIQ_BID].cap && b.side[LIQ_BID].cap == 300);
            static const int64_t want[] = {1299, 8, 1297, 7, 1264, 7, 1231, 7, 1198, 7, 1165, 7, 1132, 7, 1099, 100};
            int64_t got[2 * 108];
            CHECK_EQ_I64(liq_book_levels_i64(&b, LIQ_BID, 108, got), 108);
            CHECK(memcmp(got, want, sizeof want) == 0);
            CHECK(got[2 * 107] == 990 && got[2 * 107 + 1] == 9 && got[2 * 106] == 1000);
        }
        INV(&b);
        check_readers_agree(&b, __LINE__);
        liq_book_free(&b);
    }
}

/* liq_book_set_f64: converts, validates once, sets; a rejection is counted and changes nothing. */
static void test_set_f64(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 3, 5, 1, 0), LIQ_OK);   /* tick 0.5 */
    CHECK_EQ_I64(liq_book_set_f64(&b, LIQ_BID, 100.5, 1.25), LIQ_OK);
    CHECK_EQ_I64(liq_book_set_f64(&b, LIQ_ASK, 101.0, 2.0), LIQ_OK);
    SIDE_IS(&b, LIQ_BID, 1005, 1250);
    SIDE_IS(&b, LIQ_ASK, 1010, 2000);
    EXPECT_UNCHANGED(&b, liq_book_set_f64(&b, LIQ_BID, 100.2, 1.0), LIQ_ERR_OFF_GRID);
    EXPECT_UNCHANGED(&b, liq_book_set_f64(&b, LIQ_BID, NAN, 1.0), LIQ_ERR_NAN);
    EXPECT_UNCHANGED(&b, liq_book_set_f64(&b, LIQ_BID, 100.0, -1.0), LIQ_ERR_NEGATIVE);
    EXPECT_UNCHANGED(&b, liq_book_set_f64(&b, 2, 100.0, 1.0), LIQ_ERR_SIDE);
    EXPECT_UNCHANGED(&b, liq_book_set_f64(&b, LIQ_BID, 101.5, 1.0), LIQ_ERR_CROSSED);
    CHECK_EQ_I64(b.stats.rejected, 5);
    CHECK_EQ_I64(liq_book_set_f64(&b, LIQ_BID, 100.5, 0.0), LIQ_OK);
    SIDE_EMPTY(&b, LIQ_BID);
    INV(&b);
    liq_book_free(&b);
}

/* Issue 10: Deribit's prev rule skips last <= L before it looks at prev (prev == L with
 * last < L moved the id backwards). */
static void test_prev_rule_stale_first(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 0), LIQ_OK);
    b.seq_rule = LIQ_SEQ_PREV;
    liq_delta d[2] = {D(LIQ_BID, 100, 1), D(LIQ_ASK, 101, 1)};
    CHECK_EQ_I64(liq_book_snapshot(&b, d, 2, 10, NULL), LIQ_OK);
    liq_delta m = D(LIQ_BID, 99, 1);
    CHECK_EQ_I64(liq_book_apply_seq(&b, &m, 1, (liq_seq_ids){LIQ_ID_NONE, 9, 10}, NULL), LIQ_STALE);
    CHECK_EQ_I64(liq_book_apply_seq(&b, &m, 1, (liq_seq_ids){LIQ_ID_NONE, 10, 10}, NULL), LIQ_STALE);
    CHECK_EQ_I64(b.last_id, 10);
    CHECK_EQ_I64(liq_book_apply_seq(&b, &m, 1, (liq_seq_ids){LIQ_ID_NONE, 12, 11}, NULL), LIQ_ERR_SEQ_GAP);
    CHECK_EQ_I64(liq_book_apply_seq(&b, &m, 1, (liq_seq_ids){LIQ_ID_NONE, 11, 10}, NULL), LIQ_OK);
    CHECK_EQ_I64(b.last_id, 11);
    liq_book_free(&b);
}

/* Issue 10: one huge message does not pin its scratch, undo log and side capacity. */
static void test_trim_after_a_huge_message(void)
{
    enum { N = 100000 };
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 0, 0, 1, 1, 0), LIQ_OK);
    liq_delta *d = liq_book_scratch(&b, N);
    CHECK(d != NULL);
    for (int i = 0; i < N; i++) d[i] = D(LIQ_BID, 1 + i, 1);
    CHECK_EQ_I64(liq_book_apply(&b, d, N, NULL), LIQ_OK);
    CHECK(b.scratch == NULL && b.scratch_cap == 0);       /* released: beyond 16384 deltas */
    CHECK_EQ_I64(b.side[LIQ_BID].live, N);
    d = liq_book_scratch(&b, N);
    CHECK(d != NULL);
    for (int i = 0; i < N; i++) d[i] = D(LIQ_BID, 1 + i, 0);
    CHECK_EQ_I64(liq_book_apply(&b, d, N, NULL), LIQ_OK);
    CHECK_EQ_I64(b.side[LIQ_BID].live, 0);
    CHECK(b.side[LIQ_BID].cap <= 4096 && b.undo_cap <= 16384 && b.scratch == NULL);
    /* a small book keeps its buffers: no churn on ordinary messages */
    liq_delta m[3] = {D(LIQ_BID, 5, 1), D(LIQ_BID, 6, 1), D(LIQ_ASK, 9, 1)};
    d = liq_book_scratch(&b, 3);
    memcpy(d, m, sizeof m);
    CHECK_EQ_I64(liq_book_apply(&b, d, 3, NULL), LIQ_OK);
    CHECK(b.scratch != NULL);
    liq_book_free(&b);
}

/* Issue 10: v2 serialization carries the labels; v1 is still read. */
static void test_labeled_serialization(void)
{
    liq_book b, c;
    CHECK_EQ_I64(liq_book_init(&b, 2, 3, 1, 1, 0), LIQ_OK);
    liq_delta d[2] = {D(LIQ_BID, 100, 1), D(LIQ_ASK, 101, 1)};
    CHECK_EQ_I64(liq_book_snapshot(&b, d, 2, 7, NULL), LIQ_OK);
    liq_labels lab = {"BTC/USDT", 8, NULL, 0}, got;
    size_t n = liq_book_serialized_size_labeled(&b, &lab);
    CHECK_EQ_I64(n, liq_book_serialized_size(&b) + 4 + 8 + 4);
    uint8_t *buf = malloc(n);
    CHECK_EQ_I64(liq_book_serialize_labeled(&b, &lab, buf), n);
    CHECK_EQ_I64(liq_book_init(&c, 0, 0, 1, 1, 0), LIQ_OK);
    CHECK_EQ_I64(liq_book_deserialize_labeled(&c, buf, n, &got), LIQ_OK);
    CHECK(got.symbol != NULL && got.symbol_len == 8 && memcmp(got.symbol, "BTC/USDT", 8) == 0);
    CHECK(got.exchange == NULL && got.exchange_len == 0);
    CHECK_EQ_I64(liq_book_deserialize(&c, buf, n), LIQ_OK);        /* labels checked, then ignored */
    CHECK_EQ_I64(liq_book_deserialize(&c, buf, n - 1), LIQ_ERR_FORMAT);
    buf[n - 4 - 8 - 4] = 0xFF;                                      /* a symbol length past the end */
    CHECK_EQ_I64(liq_book_deserialize_labeled(&c, buf, n, &got), LIQ_ERR_FORMAT);
    free(buf);
    liq_book_free(&b);
    liq_book_free(&c);
}

/* Issue 10: integers scale exactly (no double), or overflow. */
static void test_fixed_from_i64(void)
{
    int64_t v = 0;
    CHECK_EQ_I64(liq_fixed_from_i64(((int64_t)1 << 53) - 1, 3, &v), LIQ_OK);
    CHECK_EQ_I64(v, 9007199254740991000);
    CHECK_EQ_I64(liq_fixed_from_i64(INT64_MAX / 10 + 1, 1, &v), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_fixed_from_i64(INT64_MIN, 0, &v), LIQ_OK);
    CHECK_EQ_I64(liq_fixed_from_i64(-1, 18, &v), LIQ_OK);
    CHECK_EQ_I64(v, -1000000000000000000);
}

int main(void)
{
    test_prev_rule_stale_first();
    test_trim_after_a_huge_message();
    test_labeled_serialization();
    test_fixed_from_i64();
    test_init();
    test_free_clear_reserve();
    test_delta_check();
    test_set();
    test_set_cross_policies();
    test_set_max_depth();
    test_apply();
    test_apply_all_or_nothing();
    test_scratch_and_empty();
    test_apply_cross_policies();
    test_apply_max_depth();
    test_snapshot();
    test_snapshot_max_depth();
    test_seq_common();
    test_seq_binance_spot();
    test_seq_binance_futures();
    test_seq_okx();
    test_seq_contiguous_prev();
    test_seq_apply_failure();
    test_copy();
    test_levels_export();
    test_levels_export_beyond_a_chunk();
    test_serialize();
    test_deserialize_rejects();
    test_random_vs_reference();
    test_set_f64();
    test_random_holes_and_region();
    test_capacity_exhausted_by_holes();
    TEST_MAIN_END();
}
