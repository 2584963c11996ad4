/*
 * fuzz_book.c — libFuzzer harness over the C core's entry points.
 *
 * The first input byte picks a mode:
 *   mode 0: liq_decimal_parse on the remaining bytes (scale from byte 1); an accepted
 *           value must format and parse back to itself.
 *   mode 1: liq_book_deserialize_labeled on the remaining bytes; never crashes, and a book
 *           it accepts satisfies the invariants and serializes back (with the labels it
 *           read) to the same bytes.
 *   else:   a sequence of book operations decoded from the bytes (snapshot, apply,
 *           set, apply_seq with ids, apply_f64 (also messages of 65..419 levels),
 *           serialize -> deserialize (plain and labeled), copy,
 *           deserialize of a mutated serialization, policy switch, liq_book_trim (changes
 *           nothing observable), the read kernels: walls/clusters/report shape with any
 *           sizes up to INT64_MAX, liq_book_top_size against an exact sum).
 * After every step the invariants of tests/c/book_invariants.h hold (sorted keys,
 * valid live levels, holes bounded and never at the touch, counts within max_depth,
 * not crossed unless the policy is ALLOW), and a call that did not return LIQ_OK left
 * the serialized book (minus the stats counters) and the generation unchanged.
 * Violations abort (libFuzzer reports a crash).
 *
 * Build: cmake -DLIQ_BUILD_FUZZ=ON with clang (target fuzz_book), or see
 * tests/sanitize.sh. With -DLIQ_FUZZ_STANDALONE the file gets a main() that replays
 * the files given on the command line (ctest runs tests/fuzz/corpus this way).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "book.h"
#include "fixed.h"
#include "book_invariants.h"
#include "flow.h"
#include "analytics.h"
#include "liquidity.h"

__extension__ typedef __int128 i128;

#define FUZZ_HARNESS "fuzz_book"
#include "fuzz_fail.h"

/* ---- input reader (returns zeros once exhausted) -------------------------- */

#include "fuzz_reader.h"

/* ---- invariants ------------------------------------------------------------ */

typedef liq_blob blob;

static blob ser(const liq_book *b)
{
    blob s = liq_test_serialize(b);
    if (!s.p) FAIL("serialize failed (size or allocation)");
    return s;
}
#define same_state liq_test_same_state

static void check_book(const liq_book *b)
{
    char msg[160];
    if (liq_test_invariant_error(b, msg, sizeof msg)) FAIL("%s", msg);
}

/* serialize -> deserialize -> serialize gives the same bytes */
static void check_roundtrip(const liq_book *b)
{
    blob s = ser(b);
    liq_book c;
    if (liq_book_init(&c, 0, 0, 1, 1, 0) != LIQ_OK) abort();
    liq_status st = liq_book_deserialize(&c, s.p, s.n);
    if (st != LIQ_OK) FAIL("deserialize of a serialized book: %d", st);
    blob s2 = ser(&c);
    if (s.n != s2.n || memcmp(s.p, s2.p, s.n) != 0) FAIL("serialize round trip differs");
    check_book(&c);
    free(s.p);
    free(s2.p);
    liq_book_free(&c);
}

/* v2 (labels) round trip with labels of arbitrary bytes (NULL, empty or not) */
static void check_labeled_roundtrip(const liq_book *b, rd *r)
{
    char sym[8], exch[8];
    for (int k = 0; k < 8; k++) sym[k] = (char)u8(r), exch[k] = (char)u8(r);
    const uint8_t f = u8(r);
    liq_labels lab = {(f & 1) ? sym : NULL, (f >> 1) % 9, (f & 0x20) ? exch : NULL, (f >> 6) % 4};
    if (!lab.symbol) lab.symbol_len = 0;
    if (!lab.exchange) lab.exchange_len = 0;
    size_t n = liq_book_serialized_size_labeled(b, &lab);
    uint8_t *s = malloc(n);
    if (!s) abort();
    if (liq_book_serialize_labeled(b, &lab, s) != n) FAIL("labeled size");
    liq_book c;
    liq_labels got;
    if (liq_book_init(&c, 0, 0, 1, 1, 0) != LIQ_OK) abort();
    if (liq_book_deserialize_labeled(&c, s, n, &got) != LIQ_OK) FAIL("labeled round trip rejected");
    if ((got.symbol == NULL) != (lab.symbol == NULL) || got.symbol_len != lab.symbol_len ||
        (lab.symbol && memcmp(got.symbol, lab.symbol, lab.symbol_len)) ||
        (got.exchange == NULL) != (lab.exchange == NULL) || got.exchange_len != lab.exchange_len ||
        (lab.exchange && memcmp(got.exchange, lab.exchange, lab.exchange_len)))
        FAIL("labels differ after a round trip");
    check_book(&c);
    liq_book_free(&c);
    free(s);
}

/* The read kernels on any book (sizes up to INT64_MAX): no crash, and the top size is the
 * exact sum of the best levels. */
static void check_reads(const liq_book *b, rd *r)
{
    liq_shape_params p = liq_shape_defaults();
    p.band_bps = (double)(u8(r) % 8) * 100.0;
    p.window = 1 + u8(r) % 64;
    p.ratio = (double)(u8(r) % 6);
    p.z_min = p.ratio == 0 ? 1.0 : (double)(u8(r) % 5);
    p.quote_bands_bps[0] = 100.0;
    p.quote_bands_bps[1] = 200.0;
    liq_wall w[8];
    liq_cluster cl[8];
    liq_baseline base[2];
    size_t nw = 0, nc = 0;
    const int side = (int)(u8(r) % 3) - 1;
    if (liq_book_shape(b, &p, side, w, 8, &nw, cl, 8, &nc, base) != LIQ_OK) FAIL("shape");
    if (liq_book_walls(b, &p, side, w, 8, &nw, NULL) != LIQ_OK) FAIL("walls");
    if (liq_book_clusters(b, &p, side, cl, 8, &nc) != LIQ_OK) FAIL("clusters");
    for (int sd = 0; sd < 2; sd++) {
        const size_t levels = u8(r) % 40;
        i128 want = 0;
        size_t k = 0;
        const liq_side *s = &b->side[sd];
        for (size_t c = liq_side_best(s); c && k < levels; c = liq_side_next(s, c), k++) want += s->qty[c - 1];
        const double got = liq_book_top_size(b, sd, levels), exact = (double)want / liq_pow10_f64[b->qty_scale];
        if (got != exact) FAIL("top size %.17g != %.17g", got, exact);
        if (base[sd].n && !(base[sd].band_size >= 0)) FAIL("negative band size");
    }
}

/* ---- mode 0: decimals ------------------------------------------------------ */

static void fuzz_decimal(const uint8_t *data, size_t size)
{
    if (size < 1) return;
    int scale = data[0] % (LIQ_MAX_SCALE + 2);   /* includes one invalid scale */
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    int64_t v = 0;
    uint8_t dec = 0;
    liq_status st = liq_decimal_parse(s, n, scale, &v, &dec);
    if (scale > LIQ_MAX_SCALE) {
        if (st != LIQ_ERR_ARG) FAIL("bad scale accepted");
        return;
    }
    if (st != LIQ_OK && st != LIQ_ERR_PARSE && st != LIQ_ERR_PRECISION && st != LIQ_ERR_OVERFLOW)
        FAIL("parse returned %d", st);
    if (st != LIQ_OK) return;
    if (v == INT64_MIN) FAIL("parse produced INT64_MIN");
    {   /* integers scale exactly or overflow */
        int64_t w = 0;
        const i128 want = (i128)v * liq_pow10[scale];
        const liq_status si = liq_fixed_from_i64(v, scale, &w);
        if (want > INT64_MAX || want < INT64_MIN ? si != LIQ_ERR_OVERFLOW : (si != LIQ_OK || w != (int64_t)want))
            FAIL("from_i64(%lld, %d)", (long long)v, scale);
    }
    char buf[LIQ_DECIMAL_BUF + 8];
    memset(buf, 0x5A, sizeof buf);
    size_t len = liq_decimal_format(v, scale, dec, buf);
    if (len >= LIQ_DECIMAL_BUF || buf[len] != '\0' || strlen(buf) != len) FAIL("format length %zu", len);
    for (size_t k = LIQ_DECIMAL_BUF; k < sizeof buf; k++)
        if (buf[k] != 0x5A) FAIL("format wrote past LIQ_DECIMAL_BUF");
    int64_t back = 0;
    uint8_t dec2 = 0;
    if (liq_decimal_parse(buf, len, scale, &back, &dec2) != LIQ_OK || back != v)
        FAIL("format/parse round trip: '%s' at scale %d", buf, scale);
    if (dec != LIQ_DEC_NONE && dec <= 24 && dec2 < dec) FAIL("format lost wire decimals");
    /* the double nearest the value converts back when it fits a double exactly */
    if (v > -((int64_t)1 << 49) && v < ((int64_t)1 << 49)) {
        int64_t w = 0;
        double x = (double)v / (double)liq_pow10[scale];
        if (liq_fixed_from_double(x, scale, &w) != LIQ_OK || w != v) FAIL("from_double(%.17g) != %lld", x, (long long)v);
    }
}

/* ---- mode 1: deserialize arbitrary bytes ----------------------------------- */

static void fuzz_deserialize(const uint8_t *data, size_t size)
{
    liq_book b;
    if (liq_book_init(&b, 2, 2, 1, 1, 0) != LIQ_OK) abort();
    liq_delta d = {100, 5, LIQ_BID, LIQ_DEC_NONE, LIQ_DEC_NONE};
    if (liq_book_set(&b, &d) != LIQ_OK) abort();
    blob before = ser(&b);
    liq_labels lab;
    liq_status st = liq_book_deserialize_labeled(&b, data, size, &lab);
    if (st == LIQ_OK) {
        check_book(&b);
        /* v1 input: no labels, written back as v1; v2: the labels it read (into data) */
        const int v2 = size >= 8 && data[4] == 2;
        size_t n = liq_book_serialized_size_labeled(&b, v2 ? &lab : NULL);
        uint8_t *s = malloc(n ? n : 1);
        if (!s) abort();
        if (liq_book_serialize_labeled(&b, v2 ? &lab : NULL, s) != n) FAIL("labeled size");
        if (n != size || memcmp(s, data, size) != 0) FAIL("accepted bytes do not serialize back");
        free(s);
        /* the accepted book keeps working */
        d.px = b.tick;
        d.qty = 0;
        d.side = LIQ_ASK;
        if (liq_book_set(&b, &d) != LIQ_OK) FAIL("set on a deserialized book");
        check_book(&b);
    } else {
        if (st != LIQ_ERR_FORMAT) FAIL("deserialize returned %d", st);
        blob after = ser(&b);
        if (after.n != before.n || memcmp(after.p, before.p, after.n) != 0) FAIL("failed deserialize changed the book");
        free(after.p);
    }
    free(before.p);
    liq_book_free(&b);
}

/* ---- mode 2+: operation sequences ------------------------------------------ */

enum { MAXMSG = 24 };

static int64_t read_px(rd *r, const liq_book *b)
{
    uint8_t c = u8(r);
    switch (c >> 6) {
    case 0: return (int64_t)(c & 63) * b->tick;            /* on grid, 0..63 ticks (0 is invalid) */
    case 1: return (int64_t)(20 + (c & 31)) * b->tick;     /* dense around the touch */
    case 2: return (int64_t)(c & 63) * b->tick + (c & 1);  /* sometimes off grid */
    default: return (int64_t)u64(r);                       /* anything */
    }
}

static int64_t read_qty(rd *r, const liq_book *b)
{
    uint8_t c = u8(r);
    if (c < 64) return 0;                                   /* deletions are common */
    if (c < 240) return (int64_t)(c & 15) * b->lot;
    if (c < 250) return (int64_t)(c & 15) * b->lot + 1;
    return (int64_t)u64(r);
}

static liq_delta read_delta(rd *r, const liq_book *b)
{
    liq_delta d;
    uint8_t c = u8(r);
    d.side = (uint8_t)(c & 1);
    if (c == 0xFF) d.side = (uint8_t)u8(r);                 /* occasionally an invalid side */
    d.px = read_px(r, b);
    d.qty = read_qty(r, b);
    d.px_dec = (c & 2) ? (uint8_t)(c >> 2) : LIQ_DEC_NONE;
    d.qty_dec = (c & 4) ? (uint8_t)(c >> 3) : LIQ_DEC_NONE;
    return d;
}

static size_t read_msg(rd *r, const liq_book *b, liq_delta *m)
{
    size_t n = u8(r) % (MAXMSG + 1);
    for (size_t i = 0; i < n; i++) m[i] = read_delta(r, b);
    return n;
}

static int64_t read_id(rd *r, int64_t last)
{
    uint8_t c = u8(r);
    switch (c >> 5) {
    case 0: return LIQ_ID_NONE;
    case 1: return (int64_t)u64(r);
    /* near the int64 limits the id wraps (unsigned arithmetic): any id is a fair input, an
     * overflowing signed add in the harness is not */
    case 2: return last == LIQ_ID_NONE ? (int64_t)(c & 31) : (int64_t)((uint64_t)last - (uint64_t)(c & 3));
    default: return last == LIQ_ID_NONE ? (int64_t)(c & 31) : (int64_t)((uint64_t)last + (uint64_t)(c & 7));
    }
}

/* Run one mutating call and check the all-or-nothing contract around it. */
#define MUTATE(b, call)                                                                     \
    do {                                                                                    \
        blob before_ = ser(b);                                                              \
        uint64_t gen_ = (b)->generation;                                                    \
        liq_status st_ = (call);                                                            \
        if (st_ != LIQ_OK) {                                                                \
            blob after_ = ser(b);                                                           \
            if (!same_state(before_, after_)) FAIL("%s returned %d but changed the book", #call, st_); \
            if ((b)->generation != gen_) FAIL("%s returned %d but bumped generation", #call, st_);     \
            free(after_.p);                                                                 \
        } else if ((b)->generation == gen_) {                                               \
            FAIL("%s succeeded without bumping generation", #call);                         \
        }                                                                                   \
        free(before_.p);                                                                    \
        check_book(b);                                                                      \
    } while (0)

static void fuzz_ops(const uint8_t *data, size_t size)
{
    rd r = {data, size, 0};
    liq_book b;
    int px_scale = u8(&r) % 5, qty_scale = u8(&r) % 5;
    int64_t tick = 1 + u8(&r) % 5, lot = 1 + u8(&r) % 3;
    size_t depth = u8(&r) % 8;
    if (liq_book_init(&b, px_scale, qty_scale, tick, lot, depth) != LIQ_OK) abort();
    b.cross_policy = (liq_cross_policy)(u8(&r) % 3);
    b.seq_rule = (liq_seq_rule)(u8(&r) % (LIQ_SEQ_RULE_MAX + 1));
    int allow_ever = b.cross_policy == LIQ_CROSS_ALLOW;
    liq_delta m[MAXMSG];
    int steps = 0;
    while (more(&r) && steps++ < 200) {
        uint8_t op = u8(&r) % 12;
        size_t bad = (size_t)-1, n;
        switch (op) {
        case 0: {
            n = read_msg(&r, &b, m);
            int64_t id = read_id(&r, b.last_id);
            MUTATE(&b, liq_book_snapshot(&b, m, n, id, &bad));
            break;
        }
        case 1:
        case 2:
            n = read_msg(&r, &b, m);
            MUTATE(&b, liq_book_apply(&b, m, n, &bad));
            break;
        case 3:
            m[0] = read_delta(&r, &b);
            MUTATE(&b, liq_book_set(&b, &m[0]));
            break;
        case 4:
        case 5: {
            n = read_msg(&r, &b, m);
            liq_seq_ids ids;
            ids.first = read_id(&r, b.last_id);
            ids.last = read_id(&r, b.last_id);
            ids.prev = read_id(&r, b.last_id);
            liq_status chk = liq_book_check_seq(&b, ids);
            int64_t old_last = b.last_id;
            uint64_t gen = b.generation;
            blob before = ser(&b);
            liq_status st = liq_book_apply_seq(&b, m, n, ids, &bad);
            if (chk != LIQ_OK && st != chk) FAIL("apply_seq %d but check_seq %d", st, chk);
            if (st != LIQ_OK) {
                blob after = ser(&b);
                if (!same_state(before, after) || b.generation != gen) FAIL("apply_seq %d changed the book", st);
                free(after.p);
            } else if (ids.last != LIQ_ID_NONE && b.last_id != ids.last) {
                FAIL("apply_seq did not advance the id");
            } else if (ids.last == LIQ_ID_NONE && b.last_id != old_last) {
                FAIL("apply_seq changed the id without one");
            }
            free(before.p);
            check_book(&b);
            break;
        }
        case 6: {   /* doubles from raw bytes (NaN, inf, huge, off grid) or from small ints */
            uint8_t cnt = u8(&r);
            n = cnt % (MAXMSG + 1);
            enum { BIG = 420 };
            uint8_t sides[BIG];
            double px[BIG], qty[BIG];
            for (size_t i = 0; i < n; i++) {
                uint8_t c = u8(&r);
                sides[i] = (uint8_t)(c == 0xFF ? 2 : c & 1);
                if (c & 0x80) {
                    uint64_t a = u64(&r), q = u64(&r);
                    memcpy(&px[i], &a, sizeof a);
                    memcpy(&qty[i], &q, sizeof q);
                } else {
                    px[i] = (double)((u8(&r) % 64) * tick) / (double)liq_pow10[px_scale];
                    qty[i] = (double)((u8(&r) % 8) * lot) / (double)liq_pow10[qty_scale];
                }
            }
            if ((cnt & 0x40) && n) {
                /* a large message (the one-pass path, undone from a log or from a copy of
                 * the book): the decoded levels again at shifted prices, the sizes cycled */
                size_t big = 65 + u8(&r) % (BIG - 65);
                for (size_t i = n; i < big; i++) {
                    sides[i] = sides[i % n];
                    px[i] = px[i % n] + (double)((i / n) % 5 * tick) / (double)liq_pow10[px_scale];
                    qty[i] = qty[(i + i / n) % n];
                }
                n = big;
            }
            MUTATE(&b, liq_book_apply_f64(&b, sides, px, qty, n, &bad));
            break;
        }
        case 7:
            check_roundtrip(&b);
            check_labeled_roundtrip(&b, &r);
            break;
        case 10: {  /* trimming gives memory back and changes nothing observable */
            blob before = ser(&b);
            uint64_t gen = b.generation;
            liq_book_trim(&b);
            blob after = ser(&b);
            if (before.n != after.n || memcmp(before.p, after.p, before.n) || b.generation != gen)
                FAIL("liq_book_trim changed the book");
            free(before.p);
            free(after.p);
            check_book(&b);
            break;
        }
        case 11:
            check_reads(&b, &r);
            break;
        case 8: {   /* copy, or deserialize a serialization with a few bytes flipped */
            if (u8(&r) & 1) {
                liq_book c;
                if (liq_book_copy(&c, &b) != LIQ_OK) abort();
                blob s1 = ser(&b), s2 = ser(&c);
                if (s1.n != s2.n || memcmp(s1.p, s2.p, s1.n) != 0) FAIL("copy differs");
                free(s1.p);
                free(s2.p);
                liq_book_free(&c);
            } else {
                blob s = ser(&b);
                int flips = u8(&r) % 4;
                for (int k = 0; k < flips; k++) {
                    size_t pos = (size_t)u64(&r) % s.n;
                    s.p[pos] ^= (uint8_t)(1u << (u8(&r) % 8));
                }
                size_t cut = (u8(&r) & 0x80) ? (size_t)u64(&r) % (s.n + 1) : s.n;
                liq_book c;
                if (liq_book_init(&c, 0, 0, 1, 1, 0) != LIQ_OK) abort();
                liq_status st = liq_book_deserialize(&c, s.p, cut);
                if (st == LIQ_OK) check_book(&c);
                else if (st != LIQ_ERR_FORMAT) FAIL("deserialize returned %d", st);
                free(s.p);
                liq_book_free(&c);
            }
            break;
        }
        default: {   /* switch between RAISE and REPAIR (ALLOW books may be crossed for good);
                      * start, restart or stop order-flow tracking (its hooks run in every call) */
            uint8_t x = u8(&r);
            if (!allow_ever) b.cross_policy = (x & 1) ? LIQ_CROSS_REPAIR : LIQ_CROSS_RAISE;
            if (x & 2) {
                int64_t acc[LIQ_OFI_MAX_LEVELS];
                uint64_t ev;
                if (liq_book_ofi_enable(&b, (x >> 2) % (LIQ_OFI_MAX_LEVELS + 1)) != LIQ_OK) abort();
                (void)liq_book_ofi_read(&b, acc, &ev, x >> 7);
            }
            check_book(&b);
            break;
        }
        }
        (void)bad;
    }
    check_roundtrip(&b);
    liq_book_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    switch (data[0] % 4) {
    case 0: fuzz_decimal(data + 1, size - 1); break;
    case 1: fuzz_deserialize(data + 1, size - 1); break;
    default: fuzz_ops(data + 1, size - 1); break;
    }
    return 0;
}

#include "fuzz_standalone.h"   /* main() for -DLIQ_FUZZ_STANDALONE (corpus replay) */
