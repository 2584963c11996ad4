/*
 * checksum.h — exchange order-book checksums computed from the fixed-point book.
 *
 * Every exchange that checksums its book does CRC-32 (zlib / ISO-HDLC: reflected
 * polynomial 0xEDB88320, init and xorout 0xFFFFFFFF) over an ASCII rendering of its
 * top levels. The rendering is exchange specific, and it must reproduce the
 * exchange's own number strings, which is why the book keeps per-level wire
 * decimals (book.h). The algorithms, with the exchanges' worked examples, are in
 * research/exchange_protocols.md §3.
 *
 * All functions are pure reads of the book: no allocation, no globals, thread-safe
 * against other readers. Results are the raw uint32 CRC; the Python layer presents
 * OKX/Bitget/Bitfinex as signed int32 and Kraken as unsigned, as the exchanges send them.
 */
#ifndef LIQ_CHECKSUM_H
#define LIQ_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "book.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum liq_checksum_kind {
    /* Top 25 levels interleaved "bidpx:bidsz:askpx:asksz:..." (a side's missing levels
     * are skipped), numbers as on the wire ("0.5000" stays "0.5000"). */
    LIQ_CHECKSUM_OKX = 1,
    LIQ_CHECKSUM_BITGET = LIQ_CHECKSUM_OKX,   /* Bitget uses OKX's algorithm verbatim */
    /* Top 10 asks low->high then top 10 bids high->low, each "price size" with '.'
     * removed and leading zeros stripped, no separators (Kraken spot WS v1 and v2). */
    LIQ_CHECKSUM_KRAKEN = 2,
    /* Top 25 interleaved "bidpx:bidamt:askpx:-askamt", numbers as JavaScript
     * Number#toString renders them (Bitfinex v2 `book`, precision P0..P4). */
    LIQ_CHECKSUM_BITFINEX = 3
} liq_checksum_kind;

/* Levels per side each checksum covers (the book's max_depth must be 0 or >= this). */
enum { LIQ_CHECKSUM_OKX_LEVELS = 25, LIQ_CHECKSUM_KRAKEN_LEVELS = 10, LIQ_CHECKSUM_BITFINEX_LEVELS = 25 };

/*
 * Continue a CRC-32 (zlib crc32() semantics): start with crc = 0, feed the bytes
 * p[0..n) in any number of calls, the return value after the last call is the CRC.
 * p may be NULL when n == 0. Table driven (a static const table). O(n).
 */
uint32_t liq_crc32(uint32_t crc, const void *p, size_t n);

/*
 * The exchange checksum of the book's current top levels into *out.
 *
 * Number strings per kind:
 *   OKX/Bitget — each level's price and size with its wire decimals
 *                (liq_decimal_format; the shortest form for levels that came from floats);
 *   Kraken     — digits of the price and size with their wire decimals, or, for levels
 *                that came from floats/ints (WS v2 JSON numbers), with the book's scales
 *                (px_scale/qty_scale = the instrument's price_precision/qty_precision);
 *                then '.' removed and leading zeros stripped;
 *   Bitfinex   — the shortest decimal that round-trips through a double, laid out like
 *                JavaScript (exponent form below 1e-6 and at or above 1e21: "1e-7",
 *                "2.5e-8"); ask amounts negated.
 * The string is fed to the CRC piece by piece (no buffer, no allocation).
 *
 * Ownership: the book is only read; *out (caller's) is written only on LIQ_OK.
 * Returns LIQ_OK; LIQ_ERR_ARG for an unknown kind or NULL pointers; LIQ_ERR_DEPTH when
 * the book's max_depth (non-zero) is below the levels the checksum covers, since the
 * levels the exchange counts may have been dropped. O(levels covered).
 */
liq_status liq_book_checksum(const liq_book *b, int kind, uint32_t *out);

/*
 * Write v / 10^scale the way JavaScript's Number#toString writes the double nearest to
 * it, into buf (>= LIQ_DECIMAL_BUF bytes), NUL-terminated; returns the length. Values
 * with at most 15 significant digits are rendered from the integer digits directly
 * (their shortest round-trip form is the value itself); longer ones go through the C
 * library's correctly rounded conversions, locale-independently. O(digits).
 */
size_t liq_format_js(int64_t v, int scale, char *buf);

#ifdef __cplusplus
}
#endif
#endif
