/*
 * book.h — the L2 (price-level) order book.
 *
 * Storage: each side is three parallel arrays sorted so that the best level is
 * LAST (index n-1): bids by ascending price, asks by descending price. Frequent
 * changes near the touch therefore move few bytes, and the best level is an O(1)
 * read. To share one search routine both sides store a *key* that ascends:
 * key = price for bids and key = -price for asks.
 *
 * Units: prices are int64 at scale px_scale (price * 10^px_scale), sizes int64 at
 * qty_scale. `tick`/`lot` are the grid steps in those units (>= 1). Each level also
 * keeps the number of fraction digits its price and size had on the wire
 * (LIQ_DEC_NONE when they came from floats) so exchange checksums can be rebuilt
 * from the exchange's own strings. 18 bytes per level.
 *
 * Holes: deleting a level away from the touch only zeroes its size (a hole keeps its
 * key, so the arrays stay sorted and searchable); an insertion next to a hole fills
 * it instead of shifting everything up to the touch, and a side is compacted when
 * holes exceed half its live levels. Deep deletions are then O(log n) instead of a
 * move of every level above them. The touch (index len-1) is always a live level, so
 * best reads stay O(1); readers walk live levels with liq_side_best/liq_side_next.
 * Serialization, counts and exports never show holes.
 *
 * Dense region: the top entries [dstart, len) are consecutive steps of the side's
 * stride (holes fill the missing ones), so a price near the touch is found by
 * arithmetic, O(1), instead of a search; below it the sparse part is searched by
 * galloping from the touch. The stride is the greatest common divisor of the top
 * levels' distances, not the book's tick: a book kept at a venue's wire decimals
 * (Binance pads 0.01 prices to 8 decimals: tick 1e-8) still gets a region of one
 * entry per cent. The region is rebuilt on snapshots and compactions (at most a
 * quarter holes) and grows as levels are added next to it; a price between its steps
 * cuts it above that price. It only accelerates, correctness never depends on it.
 *
 * Ownership: the caller owns the liq_book struct (it may be embedded); the book
 * owns its arrays. Storage grows only inside the calls documented to grow it.
 * Not thread-safe: one writer, no concurrent readers during a write.
 *
 * All-or-nothing: every mutating call validates first; on any error the book and
 * its sequence state are unchanged (only the rejected/gaps/crossed counters move).
 */
#ifndef LIQ_BOOK_H
#define LIQ_BOOK_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "fixed.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LIQ_BID = 0, LIQ_ASK = 1 };

typedef enum liq_cross_policy {
    LIQ_CROSS_RAISE = 0,   /* reject a message that leaves best bid > best ask */
    LIQ_CROSS_REPAIR = 1,  /* drop the stale side's crossed levels (the side not refreshed last) */
    LIQ_CROSS_ALLOW = 2    /* apply anyway; still counted in stats.crossed */
} liq_cross_policy;

/* Sequence rules (see liq_book_apply_seq). The per-exchange mapping is data in Python. */
typedef enum liq_seq_rule {
    LIQ_SEQ_NONE = 0,            /* ids not checked */
    LIQ_SEQ_BINANCE_SPOT = 1,    /* skip u <= L; gap if U > L + 1 */
    LIQ_SEQ_BINANCE_FUTURES = 2, /* skip u < L; first after snapshot U <= L <= u or pu == L; then pu == L */
    LIQ_SEQ_OKX = 3,             /* prevSeqId == L (heartbeat seq == prev, reset seq < prev); skip old */
    LIQ_SEQ_CONTIGUOUS = 4,      /* skip last <= L; gap unless first == L + 1 (Bybit u, Coinbase, Gate) */
    LIQ_SEQ_PREV = 5,            /* prev == L (Deribit change ids); skip last <= L */
    LIQ_SEQ_INCREASING = 6,      /* last > L applies (any step); last == L skipped (a repeat);
                                    last < L a gap (out of order or a reset): Bitget seq */
    LIQ_SEQ_RULE_MAX = LIQ_SEQ_INCREASING
} liq_seq_rule;

#define LIQ_ID_NONE INT64_MIN

typedef struct liq_side {
    int64_t *key;     /* ascending; key = px (bids) or -px (asks) */
    int64_t *qty;     /* > 0 for a level, 0 for a hole (never at index len-1) */
    uint16_t *dec;    /* wire decimals: price << 8 | size (each LIQ_DEC_NONE if unknown) */
    size_t len;       /* array entries in use: live levels + holes */
    size_t live;      /* levels */
    size_t cap;
    size_t dstart;    /* [dstart, len) holds consecutive steps of `stride` (empty when dstart >= len) */
    int64_t stride;   /* the dense region's step in price units: a multiple of the tick learned
                         from the levels (0: the book's tick) */
} liq_side;

typedef struct liq_book_stats {
    uint64_t messages;        /* messages (snapshots, deltas, single updates) applied */
    uint64_t levels;          /* level changes applied */
    uint64_t snapshots;       /* snapshots applied */
    uint64_t rejected;        /* calls rejected for invalid input or policy */
    uint64_t stale;           /* sequenced messages skipped as older than the book */
    uint64_t gaps;            /* sequence gaps detected */
    uint64_t crossed;         /* messages that found the book crossed (any policy) */
    uint64_t repaired_levels; /* levels dropped by LIQ_CROSS_REPAIR */
    uint64_t truncated_levels;/* levels dropped by max_depth */
} liq_book_stats;

typedef struct liq_delta {
    int64_t px;        /* price units (> 0) */
    int64_t qty;       /* size units (>= 0; 0 deletes) */
    uint8_t side;      /* LIQ_BID / LIQ_ASK */
    uint8_t px_dec;    /* wire decimals or LIQ_DEC_NONE */
    uint8_t qty_dec;
} liq_delta;

typedef struct liq_seq_ids {
    int64_t first;     /* first update id in the message (Binance U), or LIQ_ID_NONE */
    int64_t last;      /* last update id (Binance u, OKX seqId, Bybit u) */
    int64_t prev;      /* previous message's last id (Binance pu, OKX prevSeqId), or LIQ_ID_NONE */
} liq_seq_ids;

typedef struct liq_book {
    liq_side side[2];
    int px_scale, qty_scale;
    int64_t tick, lot;             /* grid steps in units, >= 1 */
    size_t max_depth;              /* levels kept per side; 0 = unbounded */
    liq_cross_policy cross_policy;
    liq_seq_rule seq_rule;
    int64_t last_id;               /* LIQ_ID_NONE until a snapshot or message carries one */
    int after_snapshot;            /* no sequenced delta applied since the last snapshot */
    uint64_t generation;           /* bumped by every change (for views / caches) */
    liq_book_stats stats;
    struct liq_ofi *ofi;           /* order-flow imbalance state (flow.h), NULL when off; owned */
    /* scratch owned by the book: converted deltas and the undo log of one message */
    liq_delta *scratch;
    size_t scratch_cap;
    liq_delta *undo;
    size_t undo_cap;
} liq_book;

/*
 * Initialise an empty book. px_scale/qty_scale in 0..18; tick/lot >= 1 (units);
 * max_depth 0 = unbounded. Allocates nothing. LIQ_ERR_ARG on bad parameters.
 */
liq_status liq_book_init(liq_book *b, int px_scale, int qty_scale, int64_t tick, int64_t lot,
                         size_t max_depth);
/* Release the book's storage; the book is left empty and usable. */
void liq_book_free(liq_book *b);
/* Remove all levels and the sequence id (keeps capacity, scales, policy, stats). O(1). */
void liq_book_clear(liq_book *b);
/* dst (uninitialised or freed) becomes a deep copy of src, without scratch. O(levels). */
liq_status liq_book_copy(liq_book *dst, const liq_book *src);
/* Make room for n levels on a side (grows only). */
liq_status liq_book_reserve(liq_book *b, int side, size_t n);

/*
 * Validate one level from doubles into *d (price > 0 on the tick grid, size >= 0 on
 * the lot grid, finite, in range). O(1), no allocation.
 */
liq_status liq_delta_from_f64(const liq_book *b, int side, double px, double qty, liq_delta *d);
/* Validate an already converted delta against the book (side, grids, signs). O(1). */
liq_status liq_delta_check(const liq_book *b, const liq_delta *d);

/*
 * Set one level (qty 0 deletes; deleting an absent level is a no-op), then apply the
 * cross policy and max_depth. O(log n) search + O(distance from the touch) move.
 * Grows storage by at most one level. The delta must pass liq_delta_check (checked).
 */
liq_status liq_book_set(liq_book *b, const liq_delta *d);
/* liq_book_set from doubles (liq_delta_from_f64 + set, validating once). */
liq_status liq_book_set_f64(liq_book *b, int side, double px, double qty);

/*
 * Apply a message of n deltas in order, all or nothing: validate all, reserve, apply
 * with an undo log, check crossing at the end (per policy), truncate to max_depth.
 * On error *bad (may be NULL) receives the index of the offending delta (or n for
 * a book-level error such as crossing). O(n log levels).
 */
liq_status liq_book_apply(liq_book *b, const liq_delta *d, size_t n, size_t *bad);

/*
 * The book's scratch buffer with room for n deltas (grows; NULL only on allocation
 * failure, also for n == 0). Owned by the book, valid until the next call that grows it or
 * the next apply/snapshot/liq_book_trim (which may release it); callers
 * convert a message into it and pass it to liq_book_apply/_snapshot/_apply_seq.
 */
liq_delta *liq_book_scratch(liq_book *b, size_t n);

/*
 * Give back storage beyond bounds: a scratch or undo log of more than 16384 deltas is
 * released, and a side whose capacity exceeds 4x its entries by more than 4096 is
 * shrunk (a failed shrink keeps the larger arrays). liq_book_apply, _apply_f64,
 * _apply_seq and _snapshot call it before returning (their d is not read after), so
 * one huge message does not pin its peak memory; a caller that fills the scratch and
 * then gives up (a bad element) calls it itself. O(1), O(levels) when it shrinks.
 */
void liq_book_trim(liq_book *b);

/*
 * A message the caller refused before it reached the book (its conversion failed: a bad
 * number, side, update id or shape; or the caller ran out of memory converting it): counted
 * in stats.rejected like every refusal of the core (the core is the one counter), and the
 * scratch a caller filled and gave up is trimmed (liq_book_trim). Levels, ids and the
 * generation are unchanged. O(1), O(levels) when the trim shrinks a side.
 */
void liq_book_reject(liq_book *b);

/*
 * Same from parallel arrays of sides (0/1) and doubles, converted on the fly (twice:
 * once to validate, once to apply; no scratch). A message larger than the book is
 * made undoable by copying the book, not by logging every delta.
 */
liq_status liq_book_apply_f64(liq_book *b, const uint8_t *sides, const double *px, const double *qty,
                              size_t n, size_t *bad);

/*
 * Replace the book with a snapshot of n levels (any order; zero sizes skipped; a
 * repeated price keeps the last size). `id` becomes the sequence id (LIQ_ID_NONE to
 * keep none). A crossed snapshot is rejected unless the policy is ALLOW. On success
 * a book scratch larger than 256 deltas is released (d may be that scratch: it is
 * not read afterwards), so a large snapshot does not pin its conversion buffer.
 * O(n log n) (O(n) when each side arrives sorted, as exchanges send them).
 */
liq_status liq_book_snapshot(liq_book *b, const liq_delta *d, size_t n, int64_t id, size_t *bad);

/*
 * Check ids against b->seq_rule and the book's last id, then apply the message
 * (liq_book_apply) and advance the id. Returns LIQ_STALE (nothing applied) for an
 * old message, LIQ_ERR_SEQ_GAP (nothing applied) on a gap. O(1) + apply.
 */
liq_status liq_book_apply_seq(liq_book *b, const liq_delta *d, size_t n, liq_seq_ids ids, size_t *bad);

/* Only the id check of liq_book_apply_seq (no change to the book). */
liq_status liq_book_check_seq(const liq_book *b, liq_seq_ids ids);

/*
 * Copy up to n best levels of a side, best first, into out (n x 2 doubles: price,
 * size) or out_i64 (n x 2 units); returns the number written. O(n).
 */
size_t liq_book_levels_f64(const liq_book *b, int side, size_t n, double *out);
size_t liq_book_levels_i64(const liq_book *b, int side, size_t n, int64_t *out);

/*
 * Serialized form (little-endian, versioned "LQB1" v1): a 140-byte header (magic,
 * version, scales, grids, max_depth, policy/rule flags, last id, the 9 stats counters
 * at bytes [LIQ_SER_STATS_OFF, LIQ_SER_STATS_END), level counts), then per side the live
 * levels worst first: keys, sizes, wire decimals. liq_book_serialized_size gives the
 * buffer size liq_book_serialize needs.
 */
enum { LIQ_SER_HEADER = 140, LIQ_SER_STATS_OFF = 52, LIQ_SER_STATS_END = 124 };
size_t liq_book_serialized_size(const liq_book *b);
size_t liq_book_serialize(const liq_book *b, uint8_t *buf);
/* b must be initialised (its storage is replaced). LIQ_ERR_FORMAT on malformed input.
 * Reads v1 and v2 (v2's labels are checked, then ignored). */
liq_status liq_book_deserialize(liq_book *b, const uint8_t *buf, size_t len);

/*
 * Labels carried with a serialized book (v2, "labeled"): the symbol and the exchange,
 * opaque bytes to the core (UTF-8 to the binding), each at most LIQ_LABEL_MAX bytes; a
 * NULL pointer is "no label" (distinct from an empty one). v2 is v1 followed by, per
 * label, a u32 length (0xFFFFFFFF: none) and its bytes. The caller owns the strings;
 * deserialized labels point into the input buffer.
 */
enum { LIQ_LABEL_MAX = 1024 };
typedef struct liq_labels {
    const char *symbol;
    size_t symbol_len;
    const char *exchange;
    size_t exchange_len;
} liq_labels;
/* Size and writing of v2 with the labels (lab NULL: v1, as liq_book_serialize). */
size_t liq_book_serialized_size_labeled(const liq_book *b, const liq_labels *lab);
size_t liq_book_serialize_labeled(const liq_book *b, const liq_labels *lab, uint8_t *buf);
/* Read v1 or v2; *lab (may be NULL) receives the labels (none for v1), pointing into buf. */
liq_status liq_book_deserialize_labeled(liq_book *b, const uint8_t *buf, size_t len, liq_labels *lab);

/* ---- O(1) inline reads ------------------------------------------------- */

static inline size_t liq_book_count(const liq_book *b, int side) { return b->side[side].live; }

/* The step between consecutive entries of a side's dense region [dstart, len): its learned
 * stride, else the book's tick. */
static inline int64_t liq_side_stride(const liq_side *s, int64_t tick) { return s->stride ? s->stride : tick; }

/*
 * Cursor over a side's live levels, best first: a cursor is an array index + 1, 0 at
 * the end. O(1) amortised per step (holes are bounded by a quarter of the levels).
 *     for (size_t c = liq_side_best(s); c; c = liq_side_next(s, c)) { ... s->qty[c - 1] ... }
 */
static inline size_t liq_side_best(const liq_side *s) { return s->len; }
static inline size_t liq_side_next(const liq_side *s, size_t c)
{
    for (c--; c && !s->qty[c - 1]; c--) {}
    return c;
}

/* 1 if the side has a level (writing its price and size units), else 0. */
static inline int liq_book_best(const liq_book *b, int side, int64_t *px, int64_t *qty)
{
    const liq_side *s = &b->side[side];
    if (s->len == 0) return 0;
    *px = side == LIQ_BID ? s->key[s->len - 1] : -s->key[s->len - 1];
    *qty = s->qty[s->len - 1];
    return 1;
}

/* 1 if both sides have levels and best bid > best ask. */
static inline int liq_book_is_crossed(const liq_book *b)
{
    const liq_side *bi = &b->side[LIQ_BID], *as = &b->side[LIQ_ASK];
    return bi->len && as->len && bi->key[bi->len - 1] > -as->key[as->len - 1];
}

#ifdef __cplusplus
}
#endif
#endif
