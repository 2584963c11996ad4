/*
 * book_invariants.h — book helpers shared by the C unit tests (tests/c/test_*.c) and the
 * fuzz harness (tests/fuzz/fuzz_book.c): a delta shorthand, the structural invariants of
 * a liq_book, and a comparison of serialized book state that ignores the stats counters
 * (a rejected call may move those, nothing else). Header-only, test code only.
 */
#ifndef LIQ_TEST_BOOK_INVARIANTS_H
#define LIQ_TEST_BOOK_INVARIANTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "book.h"

/* A delta without wire decimals (side, price units, size units): the tests' shorthand. */
static inline liq_delta D(int side, int64_t px, int64_t qty)
{
    liq_delta d = {px, qty, (uint8_t)side, LIQ_DEC_NONE, LIQ_DEC_NONE};
    return d;
}

typedef struct liq_blob {
    uint8_t *p;
    size_t n;
} liq_blob;

/* The serialized book (malloc'ed; the caller frees p). NULL p on allocation failure. */
static inline liq_blob liq_test_serialize(const liq_book *b)
{
    liq_blob r;
    r.n = liq_book_serialized_size(b);
    r.p = malloc(r.n);
    if (r.p && liq_book_serialize(b, r.p) != r.n) {
        free(r.p);
        r.p = NULL;
    }
    return r;
}

/* 1 if two serialized books are identical outside the stats counters. */
static inline int liq_test_same_state(liq_blob a, liq_blob b)
{
    if (!a.p || !b.p || a.n != b.n || a.n < LIQ_SER_STATS_END) return 0;
    return memcmp(a.p, b.p, LIQ_SER_STATS_OFF) == 0 &&
           memcmp(a.p + LIQ_SER_STATS_END, b.p + LIQ_SER_STATS_END, a.n - LIQ_SER_STATS_END) == 0;
}

/*
 * 0 if the book satisfies every structural invariant, else 1 with a description in
 * msg: keys strictly ascending (holes included), live levels have price > 0 and
 * size > 0 on the grids, holes have size 0 and never sit at the touch, live counts
 * match, holes within the compaction bound, the dense region [dstart, len) made of
 * consecutive steps of the side's stride (a multiple of the tick), counts within max_depth, not crossed
 * unless the policy allows it, and the best reads agree with the first live level.
 */
static inline int liq_test_invariant_error(const liq_book *b, char *msg, size_t cap)
{
    for (int sd = 0; sd < 2; sd++) {
        const liq_side *s = &b->side[sd];
        size_t live = 0;
        if (s->len > s->cap) { snprintf(msg, cap, "side %d: len %zu > cap %zu", sd, s->len, s->cap); return 1; }
        for (size_t i = 0; i < s->len; i++) {
            if (i && s->key[i] <= s->key[i - 1]) { snprintf(msg, cap, "side %d not strictly sorted at %zu", sd, i); return 1; }
            if (s->qty[i] == 0) continue;
            live++;
            if (sd == LIQ_ASK && s->key[i] == INT64_MIN) { snprintf(msg, cap, "ask key INT64_MIN"); return 1; }
            int64_t px = sd == LIQ_BID ? s->key[i] : -s->key[i];
            if (px <= 0 || s->qty[i] < 0 || px % b->tick || s->qty[i] % b->lot) {
                snprintf(msg, cap, "side %d level %zu broken (px %lld qty %lld)", sd, i, (long long)px,
                         (long long)s->qty[i]);
                return 1;
            }
        }
        if (live != s->live) { snprintf(msg, cap, "side %d: live %zu, counted %zu", sd, s->live, live); return 1; }
        if (s->len && s->qty[s->len - 1] == 0) { snprintf(msg, cap, "side %d: a hole at the touch", sd); return 1; }
        if (s->dstart > s->len) { snprintf(msg, cap, "side %d: dstart %zu > len %zu", sd, s->dstart, s->len); return 1; }
        const int64_t step = liq_side_stride(s, b->tick);
        if (step < 1 || step % b->tick) { snprintf(msg, cap, "side %d: stride %lld off the tick", sd, (long long)step); return 1; }
        for (size_t i = s->dstart + 1; i < s->len; i++) {
            if (s->key[i] - s->key[i - 1] != step) {
                snprintf(msg, cap, "side %d: dense region broken at %zu (dstart %zu)", sd, i, s->dstart);
                return 1;
            }
        }
        if (s->len - s->live > s->live / 2 + 64) {
            snprintf(msg, cap, "side %d: %zu holes for %zu levels", sd, s->len - s->live, s->live);
            return 1;
        }
        if (b->max_depth && s->live > b->max_depth) {
            snprintf(msg, cap, "side %d has %zu levels > max_depth %zu", sd, s->live, b->max_depth);
            return 1;
        }
        /* px, q and first are read only where the call that writes them said it did: a
         * side with live levels must report a best level through both reads. */
        int64_t px, q, first[2];
        int has_best = liq_book_best(b, sd, &px, &q);
        size_t n_first = liq_book_levels_i64(b, sd, 1, first);
        if (has_best != (s->live > 0) || n_first != (size_t)has_best) {
            snprintf(msg, cap, "side %d: best read %d and first levels %zu for %zu live levels", sd, has_best,
                     n_first, s->live);
            return 1;
        }
        if (has_best && (px != first[0] || q != first[1] || q <= 0)) {
            snprintf(msg, cap, "side %d: best read disagrees with the first level", sd);
            return 1;
        }
    }
    if (b->cross_policy != LIQ_CROSS_ALLOW && liq_book_is_crossed(b)) {
        snprintf(msg, cap, "crossed under policy %d", b->cross_policy);
        return 1;
    }
    return 0;
}

#endif
