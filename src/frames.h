/*
 * frames.h — exchange websocket/REST frames parsed straight into a book.
 *
 * A small, strict, allocation-free JSON scanner for exactly the frames a book needs
 * (not a JSON library): the bytes of one frame go in, the book's scratch deltas are
 * filled from the decimal strings (liq_decimal_parse: exact, wire decimals kept for
 * checksums), and the message is applied once, all or nothing, with its sequence ids.
 * No Python object (nor any other allocation beyond the book's own scratch) per level.
 *
 * Frames (keys in any order, unknown keys skipped whatever their value, whitespace
 * anywhere JSON allows it):
 *   Binance depthUpdate   raw stream {"e":"depthUpdate","E":ms,"s":"BTCUSDT","U":id,"u":id,
 *                         ["pu":id,"T":ms,] "b":[["px","qty"],...],"a":[...]}, or the same
 *                         object as "data" of a combined stream {"stream":"..","data":{..}}
 *                         (spot and USD-M/COIN-M: pu).
 *   Binance REST depth    {"lastUpdateId":id,"bids":[["px","qty"],...],"asks":[...]} (also
 *                         wrapped as "data", as a recorder may store it).
 *   OKX books             {"arg":{"channel":"books"|"books-l2-tbt"|"books50-l2-tbt","instId":".."},
 *                         "action":"snapshot"|"update","data":[{"asks":[["px","qty","0","n"],...],
 *                         "bids":[...],"ts":"ms","checksum":int,"prevSeqId":int,"seqId":int}]}
 *                         (exactly one element in "data", as OKX sends).
 * A Binance object with a "data" key is a wrapper whatever else it holds (as
 * msg.get("data", msg) reads it): the payload is the value of "data" (not an object: a
 * frame of another kind), and the wrapper's other keys but "stream" are not the payload's.
 * Levels are arrays whose first two elements are decimal strings (price, size); further
 * elements (OKX's "0" and order count) are skipped. A repeated known key within one object
 * is malformed. Nesting deeper than LIQ_FRAME_MAX_DEPTH is malformed. Integers (ids, E, T,
 * checksum) are JSON integers within int64 (OKX's "ts" is a digit string); an id the book
 * is given (U, u, pu, lastUpdateId, seqId, prevSeqId) cannot be INT64_MIN, which is
 * LIQ_ID_NONE, the book's "no id". A depthUpdate with "lastUpdateId", "bids" or "asks", and
 * a snapshot with "U", "u", "pu", "b" or "a", are malformed. Prices and sizes are strings
 * (never JSON numbers).
 *
 * Strict JSON: a frame is accepted only when a strict parser (RFC 8259 + UTF-8, as orjson)
 * accepts the whole document: one value, then only blanks (a NUL byte is not an end);
 * strings of well-formed UTF-8 without control bytes, with known escapes and \u surrogates
 * only as high + low pairs; numbers whose value is finite as a double (orjson refuses the
 * others); all of it in skipped values too. Keys, and the strings compared ("e", "action",
 * "channel") or read as a number ("ts"), mean their text: escapes are decoded ("\u0062" is
 * the key "b"). Where a frame orjson accepts is refused: nesting beyond the limit, a
 * repeated known key (orjson keeps the last), a price or size written with an escape
 * (LIQ_ERR_PARSE, as any byte that is not part of a decimal).
 *
 * Sequencing: every frame is applied with liq_book_apply_seq using the book's seq_rule
 * (ids: Binance U/u/pu, OKX seqId/prevSeqId as last/prev); with LIQ_SEQ_NONE nothing is
 * checked and the last id is just recorded. An OKX update without seqId and prevSeqId
 * (older feeds) is applied with liq_book_apply, as OrderBook.apply_levels does without ids. Binance bids are applied before asks,
 * whatever order the keys come in, as liq_book_apply would see them from Python.
 *
 * Errors and the book: a frame that is not valid JSON, lacks a required key, has a value
 * of the wrong type or a level that is not [string, string, ...] gives LIQ_ERR_FORMAT;
 * a price/size string that is not a decimal, or does not fit the book, gives the
 * liq_decimal_parse/liq_delta_check status (LIQ_ERR_PARSE, _PRECISION, _OFF_GRID,
 * _OVERFLOW, _NEGATIVE); sequence and cross outcomes are those of liq_book_apply_seq /
 * liq_book_snapshot. In every such case the book is unchanged except stats.rejected
 * (+1; and gaps/crossed as the core counts them; a scratch grown past liq_book_trim's bound
 * is given back, as every apply does). One exception, documented with
 * liq_frame_okx_books: a checksum mismatch is found after the update was applied.
 *
 * A valid JSON object that is not a frame of the function's kind (a trade, a bookTicker,
 * an OKX subscribe event or another channel) gives LIQ_OK with kind LIQ_FRAME_OTHER and
 * leaves the book and its stats untouched.
 *
 * Threads: one writer per book, as for book.h; the frame bytes are only read.
 */
#ifndef LIQ_FRAMES_H
#define LIQ_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "book.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { LIQ_FRAME_MAX_DEPTH = 32 };   /* nesting of arrays/objects accepted (skipped values too) */

typedef enum liq_frame_kind {
    LIQ_FRAME_OTHER = 0,      /* valid JSON, not a frame of this kind: nothing done */
    LIQ_FRAME_DEPTH = 1,      /* Binance depthUpdate */
    LIQ_FRAME_SNAPSHOT = 2,   /* Binance REST depth snapshot, OKX action "snapshot" */
    LIQ_FRAME_UPDATE = 3      /* OKX action "update" */
} liq_frame_kind;

/* Flags of the liq_frame_* calls. */
enum {
    /* Parse and validate the whole frame (structure, ids, every decimal string's grammar),
     * fill the result, apply nothing. Decimals are not converted at the book's scales
     * (b may be NULL); max_px_dec/max_qty_dec tell the scales a book needs. */
    LIQ_FRAME_SCAN = 1
};

typedef enum liq_frame_check {
    LIQ_CHECK_NONE = 0,       /* no checksum in the frame (or not verified: stale, error, scan) */
    LIQ_CHECK_OK = 1,
    LIQ_CHECK_ABSENT = 2,     /* OKX checksum 0: "no checksum" (deprecated by OKX in 2026) */
    LIQ_CHECK_MISMATCH = 3
} liq_frame_check;

/* liq_frame_result.present: the integer fields the frame carries. An absent one holds
 * LIQ_ID_NONE; event_ms and txn_ms may also carry INT64_MIN as a value, so read the bit. */
enum {
    LIQ_FRAME_HAS_FIRST = 1 << 0,
    LIQ_FRAME_HAS_LAST = 1 << 1,
    LIQ_FRAME_HAS_PREV = 1 << 2,
    LIQ_FRAME_HAS_EVENT = 1 << 3,
    LIQ_FRAME_HAS_TXN = 1 << 4,
    LIQ_FRAME_IDS = LIQ_FRAME_HAS_FIRST | LIQ_FRAME_HAS_LAST | LIQ_FRAME_HAS_PREV   /* given to the book */
};

typedef struct liq_frame_result {
    int kind;                 /* liq_frame_kind */
    unsigned present;         /* LIQ_FRAME_HAS_* */
    int64_t first_id;         /* Binance U; LIQ_ID_NONE when absent */
    int64_t last_id;          /* Binance u / lastUpdateId, OKX seqId; LIQ_ID_NONE when absent */
    int64_t prev_id;          /* Binance pu, OKX prevSeqId; LIQ_ID_NONE when absent */
    int64_t event_ms;         /* Binance E, OKX ts; LIQ_ID_NONE when absent (see present) */
    int64_t txn_ms;           /* Binance T (USD-M); LIQ_ID_NONE when absent (see present) */
    size_t sym_off, sym_len;  /* Binance "s" / OKX instId: raw bytes inside the quotes, escapes
                               * not decoded (len 0: absent or empty) */
    size_t stream_off, stream_len;  /* Binance combined "stream", OKX "channel", as sym_off/len */
    size_t bids, asks;        /* levels in the frame */
    int has_checksum;         /* OKX: the frame carries "checksum" */
    int32_t checksum;         /* as sent (signed) */
    uint32_t computed;        /* the book's CRC after the apply (when verified) */
    int check;                /* liq_frame_check */
    int max_px_dec, max_qty_dec;   /* most fraction digits of the frame's prices / sizes */
    size_t error_at;          /* malformed frame: byte offset of the error; bad value: the
                               * level index (bids first, then asks) */
} liq_frame_result;

/*
 * Apply one Binance depthUpdate frame (raw or combined stream) to b.
 * Returns LIQ_OK (applied, or kind OTHER), LIQ_STALE (older than the book: nothing
 * applied), or an error with the book unchanged (see above). *r (required) is filled
 * as far as the frame was read. O(frame bytes + levels * log levels); grows only the
 * book's scratch and, as liq_book_apply, its level storage.
 */
liq_status liq_frame_binance_depth(liq_book *b, const char *buf, size_t n, unsigned flags,
                                   liq_frame_result *r);

/*
 * Resolver of a routed frame (liq_frame_binance_depth_routed; liq_frame_okx_books_routed,
 * with an OKX update's instId, below): for Binance, called once per depthUpdate payload,
 * with the raw bytes of its "s" (inside the quotes; esc non-zero when they hold an
 * escape, so the text is the decoded string), as soon as "s" is read
 * (before the levels, in the order Binance writes its keys). Returns the book the frame is
 * applied to, or NULL to only scan it (a book still waiting for its snapshot buffers the
 * frame; an unknown market ignores it). It must not touch the frame's bytes nor call back
 * into frames.c, and must have no effect to undo: a top object whose "s" comes before a
 * "data" turns out to be a combined stream's wrapper, and its route is forgotten for the
 * payload's (so at most twice per frame).
 */
typedef liq_book *(*liq_frame_router)(void *ctx, const char *sym, size_t len, int esc);

/*
 * liq_frame_binance_depth for a connection carrying many markets, parsed once: the frame's
 * "s" chooses the book (route(ctx, ...)) during the same pass that converts its levels at
 * that book's scales and applies them. r->sym_off/sym_len tell the symbol the route was
 * asked for (len 0: none, e.g. a wrapper whose payload has no "s"); a frame routed to NULL
 * is scanned (LIQ_FRAME_SCAN's result: ids, level counts, decimals). Statuses as
 * liq_frame_binance_depth for the chosen book; LIQ_ERR_ARG when route is NULL. Frames whose
 * "s" comes after their levels (not Binance's order) are parsed a second time with the book.
 * O(frame bytes + levels * log levels).
 */
liq_status liq_frame_binance_depth_routed(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                          liq_frame_result *r);

/*
 * Replace b with a Binance REST depth snapshot (liq_book_snapshot, id lastUpdateId).
 * Kind LIQ_FRAME_SNAPSHOT, or OTHER when the object has no "lastUpdateId".
 */
liq_status liq_frame_binance_snapshot(liq_book *b, const char *buf, size_t n, unsigned flags,
                                      liq_frame_result *r);

/*
 * Apply one OKX books frame: a snapshot replaces the book (id seqId when present), an
 * update goes through liq_book_apply_seq (ids seqId/prevSeqId). Then, when the frame
 * carries a non-zero checksum, the book's OKX checksum (checksum.h) is compared with it:
 * on a mismatch the frame HAS been applied (the exchange's book moved on; the caller
 * resubscribes) and LIQ_ERR_CHECKSUM is returned with r->check = LIQ_CHECK_MISMATCH and
 * both values in r. A frame with a checksum on a book whose max_depth (non-zero) is below
 * 25 is refused before applying (LIQ_ERR_DEPTH). Channels other than books,
 * books-l2-tbt, books50-l2-tbt, and event frames, are kind OTHER.
 */
liq_status liq_frame_okx_books(liq_book *b, const char *buf, size_t n, unsigned flags,
                               liq_frame_result *r);

/*
 * liq_frame_okx_books for a connection carrying many markets, parsed once: an update of a
 * book channel is given to route(ctx, instId bytes, len, esc) (the resolver contract above),
 * asked once per frame as "data" starts (OKX writes "arg" and "action" before it), and its
 * levels are converted at that book's scales and applied in the same pass. Snapshots, other
 * channels and events are never routed, nor frames the resolver gives NULL: they are scanned
 * (LIQ_FRAME_SCAN's result; r->sym_off/sym_len the instId). Statuses as liq_frame_okx_books
 * for the chosen book (a checksum mismatch after applying included); LIQ_ERR_ARG when route
 * is NULL. A frame whose "arg" or "action" comes after its "data" is parsed a second time with
 * the book. O(frame bytes + levels * log levels).
 */
liq_status liq_frame_okx_books_routed(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                      liq_frame_result *r);

#ifdef __cplusplus
}
#endif
#endif
