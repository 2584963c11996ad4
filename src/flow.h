/*
 * flow.h — order-flow imbalance maintained as a book changes.
 *
 * Event-level OFI (Cont, Kukanov & Stoikov 2014) and its multi-level form (Xu, Gould &
 * Howison): between consecutive top-of-book states n-1 -> n of level m (bid price/size
 * Pb, qb; ask Pa, qa)
 *
 *     e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1
 *         - 1{Pa_n <= Pa_n-1} qa_n + 1{Pa_n >= Pa_n-1} qa_n-1
 *
 * and OFI over a window is the sum of e_n. A missing level counts as price -inf (bids) /
 * +inf (asks) with size 0, so a level appearing adds its size and one vanishing removes it.
 *
 * An "event" is one applied call: a single update or a whole exchange message (states
 * inside a message are transient and not observed). A snapshot restarts the reference
 * state without contributing (a resync is not order flow). Rejected calls change nothing.
 *
 * Units: sizes at the book's size scale (int64 units), summed exactly (saturating).
 * Ownership: the book owns its liq_ofi (NULL when off); liq_book_ofi_enable allocates it.
 * Cost per event: O(levels) reads of the top of book (levels <= LIQ_OFI_MAX_LEVELS).
 */
#ifndef LIQ_FLOW_H
#define LIQ_FLOW_H

#include <stdint.h>
#include "book.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LIQ_OFI_MAX_LEVELS = 10 };

typedef struct liq_ofi {
    int levels;                                   /* 1..LIQ_OFI_MAX_LEVELS */
    uint64_t events;                              /* events accumulated since the last take */
    int64_t acc[LIQ_OFI_MAX_LEVELS];              /* sum of e_n per level (size units) */
    int64_t px[2][LIQ_OFI_MAX_LEVELS];            /* the reference state: price per side/level */
    int64_t qty[2][LIQ_OFI_MAX_LEVELS];           /* and size (0 for a missing level) */
} liq_ofi;

/*
 * Start (levels 1..LIQ_OFI_MAX_LEVELS) or stop (0) maintaining OFI on the book. Starting
 * takes the current top of book as the reference state and zero sums. LIQ_ERR_ARG for a
 * bad level count, LIQ_ERR_NOMEM. O(levels).
 */
liq_status liq_book_ofi_enable(liq_book *b, int levels);

/* Observe the book after an applied call (called by book.c; `reset`: a snapshot/clear). */
void liq_ofi_observe(liq_ofi *o, const liq_book *b, int reset);

/*
 * Copy the sums of the enabled levels into out (>= levels entries) and the event count
 * into *events; with `take` the sums and the count restart from zero (a window ends).
 * Returns the number of levels, 0 when OFI is off. O(levels).
 */
int liq_book_ofi_read(liq_book *b, int64_t *out, uint64_t *events, int take);

#ifdef __cplusplus
}
#endif
#endif
