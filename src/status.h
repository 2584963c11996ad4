/*
 * status.h — the one list of liqcore status codes.
 *
 * Every fallible C function returns a liq_status; LIQ_OK is 0 and every error is
 * negative, informational outcomes (a message skipped as stale) are positive.
 * liq_status_str() gives a short stable English description (static storage,
 * never NULL). The Cython layer maps each code to one exception class in a single
 * table (liqcore/_status.pyx), so a new code is added here, in the string table in
 * status.c, and in that table — nowhere else.
 */
#ifndef LIQ_STATUS_H
#define LIQ_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum liq_status {
    LIQ_OK = 0,
    LIQ_STALE = 1,            /* sequenced message older than the book: ignored, book unchanged */

    /* invalid input (ValueError family) */
    LIQ_ERR_NAN = -1,         /* price or size is NaN */
    LIQ_ERR_INF = -2,         /* price or size is +-inf */
    LIQ_ERR_NEGATIVE = -3,    /* negative size, or a price <= 0 */
    LIQ_ERR_PARSE = -4,       /* not a decimal number */
    LIQ_ERR_PRECISION = -5,   /* non-zero digits beyond the book's scale */
    LIQ_ERR_OFF_GRID = -6,    /* price not a multiple of the tick, or size of the lot */
    LIQ_ERR_OVERFLOW = -7,    /* value does not fit int64 at the book's scale */
    LIQ_ERR_SIDE = -8,        /* side is neither LIQ_BID nor LIQ_ASK */
    LIQ_ERR_LENGTH = -9,      /* arrays of a message have different lengths */
    LIQ_ERR_ARG = -10,        /* invalid argument (scale, depth, kind, ...) */
    LIQ_ERR_FORMAT = -11,     /* malformed serialized book or frame */

    /* state errors */
    LIQ_ERR_SEQ_GAP = -20,    /* sequence gap: message not applied (RuntimeError family) */
    LIQ_ERR_CROSSED = -21,    /* message would leave the book crossed (policy RAISE) */
    LIQ_ERR_CHECKSUM = -22,   /* exchange checksum mismatch */
    LIQ_ERR_EMPTY = -23,      /* query needs a level the book does not have */
    LIQ_ERR_DEPTH = -24,      /* checksum needs more levels than max_depth keeps */
    LIQ_ERR_BUSY = -25,       /* the book is held by a call of the same thread (a callback re-entered it) */

    LIQ_ERR_NOMEM = -30       /* allocation failed (MemoryError) */
} liq_status;

/* Short description of a status code; static storage, never NULL. O(1). */
const char *liq_status_str(liq_status st);

#ifdef __cplusplus
}
#endif
#endif
