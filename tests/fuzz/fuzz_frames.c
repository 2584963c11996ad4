/*
 * fuzz_frames.c — libFuzzer harness over the frame parsers (src/frames.h).
 *
 * Input: byte 0 picks the entry point (bits 0-1: Binance depth, also through the routed
 * entry, Binance REST snapshot, OKX books) and the book (bit 2: sequence rule or none; bits 3-4: cross policy; bit 5:
 * max_depth 10; bit 6: the Binance wrapper check below; bit 7: scales 8/8 instead of 2/4); the remaining bytes are the frame,
 * copied into a buffer of exactly that size so any read past the frame is caught by ASan.
 *
 * The book starts from a valid snapshot (a frame of the same family). Checked:
 *   - the book invariants (tests/c/book_invariants.h) after every call;
 *   - a call that did not apply (an error other than an OKX checksum mismatch, LIQ_STALE,
 *     or kind OTHER) left the serialized book (minus the stats) and the generation as they
 *     were;
 *   - scan mode (no book) agrees with apply mode on what is malformed JSON/structure
 *     (LIQ_ERR_FORMAT) and on the kind of frame;
 *   - strict JSON: a frame not refused as LIQ_ERR_FORMAT passes strict_violation(), an
 *     oracle written apart from src/frames.c (one object then only blanks, no control byte
 *     but blanks outside strings, well-formed UTF-8, \u surrogates paired, every number finite
 *     as a double by strtod); the frame followed by a NUL byte is always LIQ_ERR_FORMAT;
 *   - Binance depth and OKX books: the routed entries (liq_frame_binance_depth_routed,
 *     liq_frame_okx_books_routed) with a router giving a copy of the base book give the direct
 *     call's status and book (the base book when not asked);
 *   - (bit 6, Binance; the frame X not malformed, so one object) a wrapper's keys are not
 *     the payload's: {"data":X} and the same wrapper with depthUpdate/snapshot keys of its
 *     own around "data" give the same status, result and book.
 * Violations abort (libFuzzer reports a crash).
 *
 * Build: cmake -DLIQ_BUILD_FUZZ=ON with clang (target fuzz_frames), or tests/sanitize.sh.
 * With -DLIQ_FUZZ_STANDALONE: a main() replaying the files given (ctest: corpus_frames/).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "book.h"
#include "frames.h"
#include "book_invariants.h"

#define FUZZ_HARNESS "fuzz_frames"
#include "fuzz_fail.h"

typedef liq_status (*frame_fn)(liq_book *, const char *, size_t, unsigned, liq_frame_result *);

static const char BINANCE_SNAP[] =
    "{\"lastUpdateId\":100,\"bids\":[[\"100.00\",\"1.5\"],[\"99.50\",\"2\"],[\"99.00\",\"3\"]],"
    "\"asks\":[[\"100.50\",\"1\"],[\"101.00\",\"4.25\"]]}";
static const char OKX_SNAP[] =
    "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"snapshot\",\"data\":[{"
    "\"asks\":[[\"100.50\",\"1\",\"0\",\"1\"],[\"101.00\",\"4.25\",\"0\",\"2\"]],"
    "\"bids\":[[\"100.00\",\"1.5\",\"0\",\"1\"],[\"99.50\",\"2\",\"0\",\"1\"]],\"ts\":\"1\",\"checksum\":0,"
    "\"prevSeqId\":-1,\"seqId\":100}]}";

static void check_book(const liq_book *b)
{
    char msg[160];
    if (liq_test_invariant_error(b, msg, sizeof msg)) FAIL("%s", msg);
}

/* 1 when s[0..n) is well-formed UTF-8: each sequence decoded to its code point, which must
 * be the shortest form, not a surrogate, at most U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF8 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (len == 0 || n - i < len) return 0;
        if (len == 1) { i++; continue; }
        uint32_t cp = c & (0x7Fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < shortest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* The 4 hex digits at s[i], or -1. */
static long hex_at(const unsigned char *s, size_t i, size_t n)
{
    long v = 0;
    if (n < i || n - i < 4) return -1;
    for (size_t k = i; k < i + 4; k++) {
        int c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* What a strict JSON parser (orjson) demands of a whole frame, as far as it can be told
 * without a grammar: NULL when s[0..n) may be accepted, else the reason. */
static const char *strict_violation(const unsigned char *s, size_t n)
{
    if (!utf8_ok(s, n)) return "invalid UTF-8";
    int in_str = 0;
    size_t first = n, last = n;
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        int blank = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (c < 0x20 && (in_str || !blank)) return "control byte";
        if (in_str) {
            if (c == '"') { in_str = 0; last = i; }
            if (c != '\\') continue;
            if (i + 1 >= n) return "escape at the end";
            if (s[i + 1] != 'u') {
                if (!s[i + 1] || !strchr("\"\\/bfnrt", s[i + 1])) return "unknown escape";
                i++;
                continue;
            }
            long v = hex_at(s, i + 2, n);
            if (v < 0) return "\\u without 4 hex digits";
            if (v >= 0xDC00 && v <= 0xDFFF) return "lone low surrogate";
            if (v >= 0xD800 && v <= 0xDBFF) {
                long lo = n - i >= 12 && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex_at(s, i + 8, n) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) return "lone high surrogate";
                i += 6;
            }
            i += 5;
            continue;
        }
        if (blank) continue;
        if (first == n) first = i;
        last = i;
        if (c == '"') { in_str = 1; continue; }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            while (j < n && strchr("0123456789+-.eE", s[j]) && s[j]) j++;
            char *num = malloc(j - i + 1);
            if (!num) abort();
            memcpy(num, s + i, j - i);
            num[j - i] = 0;
            double d = strtod(num, NULL);
            free(num);
            if (isinf(d)) return "number beyond a double";
            i = j - 1;
            last = i;
        }
    }
    if (in_str) return "unterminated string";
    if (first == n || s[first] != '{' || s[last] != '}') return "not one object";
    return NULL;
}

/* fn over buf, a frame on the heap of exactly n bytes (ASan sees reads past it). */
static liq_status run(frame_fn fn, liq_book *b, const char *buf, size_t n, unsigned flags, liq_frame_result *r)
{
    char *copy = malloc(n ? n : 1);
    if (!copy) abort();
    if (n) memcpy(copy, buf, n);
    liq_status st = fn(b, copy, n, flags, r);
    free(copy);
    return st;
}

/* {"data":X} and the same wrapper with keys of a depthUpdate and of a snapshot around "data"
 * (U, u, pu, E, T, s, e, b, a, bids, asks, lastUpdateId): the same outcome on equal books. */
static void check_wrapper(frame_fn fn, const liq_book *base, const char *x, size_t n)
{
    static const char plain_pre[] = "{\"data\":";
    static const char junk_pre[] = "{\"U\":7,\"u\":9,\"pu\":8,\"E\":1,\"s\":\"W\",\"e\":\"depthUpdate\","
                                   "\"b\":[[\"99.00\",\"1\"]],\"a\":[],\"lastUpdateId\":3,\"stream\":\"s\",\"data\":";
    static const char junk_post[] = ",\"T\":2,\"bids\":[],\"asks\":[[\"1\",\"x\"]],\"U\":1}";
    size_t pn = sizeof plain_pre - 1 + n + 1, jn = sizeof junk_pre - 1 + n + sizeof junk_post - 1;
    char *plain = malloc(pn), *junk = malloc(jn);
    if (!plain || !junk) abort();
    memcpy(plain, plain_pre, sizeof plain_pre - 1);
    memcpy(plain + sizeof plain_pre - 1, x, n);
    plain[pn - 1] = '}';
    memcpy(junk, junk_pre, sizeof junk_pre - 1);
    memcpy(junk + sizeof junk_pre - 1, x, n);
    memcpy(junk + sizeof junk_pre - 1 + n, junk_post, sizeof junk_post - 1);
    liq_book b1, b2;
    if (liq_book_copy(&b1, base) != LIQ_OK || liq_book_copy(&b2, base) != LIQ_OK) abort();
    liq_frame_result r1, r2;
    liq_status s1 = run(fn, &b1, plain, pn, 0, &r1), s2 = run(fn, &b2, junk, jn, 0, &r2);
    /* a repeated key of the junk wrapper is malformed on its own ("U" twice) */
    if (s2 != LIQ_ERR_FORMAT) FAIL("a wrapper with a repeated key: status %d", s2);
    jn -= sizeof ",\"U\":1" - 1;
    junk[jn - 1] = '}';
    liq_book_free(&b2);
    if (liq_book_copy(&b2, base) != LIQ_OK) abort();
    s2 = run(fn, &b2, junk, jn, 0, &r2);
    if (s1 != s2) FAIL("wrapper keys changed the status: %d vs %d", s1, s2);
    if (s1 != LIQ_ERR_FORMAT &&
        (r1.kind != r2.kind || r1.present != r2.present || r1.first_id != r2.first_id || r1.last_id != r2.last_id ||
         r1.prev_id != r2.prev_id || r1.event_ms != r2.event_ms || r1.txn_ms != r2.txn_ms || r1.bids != r2.bids ||
         r1.asks != r2.asks || r1.sym_len != r2.sym_len || r1.max_px_dec != r2.max_px_dec ||
         r1.max_qty_dec != r2.max_qty_dec))
        FAIL("wrapper keys changed the result");
    liq_blob a1 = liq_test_serialize(&b1), a2 = liq_test_serialize(&b2);
    if (!a1.p || !a2.p || a1.n != a2.n || memcmp(a1.p, a2.p, a1.n) != 0) FAIL("wrapper keys changed the book");
    free(a1.p);
    free(a2.p);
    liq_book_free(&b1);
    liq_book_free(&b2);
    free(plain);
    free(junk);
}

/* The routed entries (liq_frame_binance_depth_routed, liq_frame_okx_books_routed) agree with the
 * direct ones: a router that gives a copy of the base book for any symbol must yield the direct
 * call's status and book; when it is not asked (no "s", not a depthUpdate; an OKX snapshot, event
 * or other channel), the copy stays as it was. The Binance router is asked at most twice: for the
 * top object's "s", and again for the payload's when a "data" read after that "s" makes the top
 * object a combined stream's wrapper (its route is then forgotten, and the router, a table
 * lookup, has no effect to undo); the OKX router at most once. */
typedef struct fuzz_route {
    liq_book *b;
    int calls;
} fuzz_route;

static liq_book *fuzz_router(void *ctx, const char *sym, size_t len, int esc)
{
    fuzz_route *t = ctx;
    (void)sym; (void)len; (void)esc;
    t->calls++;
    return t->b;
}

typedef liq_status (*routed_fn)(liq_frame_router, void *, const char *, size_t, liq_frame_result *);

static void check_routed(routed_fn routed, int max_calls, const liq_book *base, const liq_book *direct, liq_status st,
                         const char *buf, size_t n)
{
    liq_book b2;
    if (liq_book_copy(&b2, base) != LIQ_OK) abort();
    fuzz_route t = {&b2, 0};
    liq_frame_result r2;
    liq_status s2 = routed(fuzz_router, &t, buf, n, &r2);
    check_book(&b2);
    if (t.calls > max_calls) FAIL("router asked %d times", t.calls);
    if (r2.sym_off + r2.sym_len > n) FAIL("routed result slice outside the frame");
    liq_blob want = liq_test_serialize(t.calls ? direct : base), got = liq_test_serialize(&b2);
    if (t.calls && s2 != st) FAIL("routed status %d vs direct %d", s2, st);
    if (!t.calls && (s2 == LIQ_ERR_FORMAT) != (st == LIQ_ERR_FORMAT)) FAIL("unrouted status %d vs direct %d", s2, st);
    if (!liq_test_same_state(want, got)) FAIL("routed book differs (status %d, router asked %d)", s2, t.calls);
    free(want.p);
    free(got.p);
    liq_book_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    int which = sel & 3;
    if (which == 3) which = 0;
    frame_fn fn = which == 0 ? liq_frame_binance_depth : which == 1 ? liq_frame_binance_snapshot : liq_frame_okx_books;
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1);
    if (!buf) abort();
    if (n) memcpy(buf, data + 1, n);

    liq_book b;
    /* bit 7: the scales of a book kept at a venue's wire decimals (8: fractions read 8 digits at a time) */
    if (liq_book_init(&b, (sel & 128) ? 8 : 2, (sel & 128) ? 8 : 4, 1, 1, (sel & 32) ? 10 : 0) != LIQ_OK) abort();
    b.cross_policy = (liq_cross_policy)(((sel >> 3) & 3) % 3);
    liq_frame_result r;
    liq_status st;
    if (which == 2) {
        b.seq_rule = (sel & 4) ? LIQ_SEQ_OKX : LIQ_SEQ_NONE;
        st = liq_frame_okx_books(&b, OKX_SNAP, sizeof OKX_SNAP - 1, 0, &r);
    } else {
        b.seq_rule = (sel & 4) ? LIQ_SEQ_BINANCE_SPOT : LIQ_SEQ_NONE;
        st = liq_frame_binance_snapshot(&b, BINANCE_SNAP, sizeof BINANCE_SNAP - 1, 0, &r);
    }
    if (st != LIQ_OK) FAIL("base snapshot: %d", st);
    check_book(&b);

    liq_blob before = liq_test_serialize(&b);
    uint64_t gen = b.generation;
    liq_book base;
    if (liq_book_copy(&base, &b) != LIQ_OK) abort();
    st = fn(&b, buf, n, 0, &r);
    check_book(&b);
    if (which == 0) check_routed(liq_frame_binance_depth_routed, 2, &base, &b, st, buf, n);
    if (which == 2) check_routed(liq_frame_okx_books_routed, 1, &base, &b, st, buf, n);
    liq_book_free(&base);
    int applied = (st == LIQ_OK && r.kind != LIQ_FRAME_OTHER) || st == LIQ_ERR_CHECKSUM;
    if (st == LIQ_ERR_CHECKSUM && (which != 2 || r.check != LIQ_CHECK_MISMATCH)) FAIL("checksum status without a mismatch");
    if (!applied) {
        liq_blob after = liq_test_serialize(&b);
        if (!liq_test_same_state(before, after)) FAIL("status %d (kind %d) changed the book", st, r.kind);
        if (b.generation != gen) FAIL("status %d (kind %d) moved the generation", st, r.kind);
        free(after.p);
    }
    if (st < 0 && st != LIQ_ERR_CHECKSUM && st != LIQ_ERR_FORMAT && r.kind == LIQ_FRAME_OTHER)
        FAIL("error %d for a frame of another kind", st);
    if (r.sym_off + r.sym_len > n || r.stream_off + r.stream_len > n) FAIL("result slice outside the frame");

    /* scan mode agrees on structure and kind */
    liq_frame_result rs;
    liq_status ss = fn(NULL, buf, n, LIQ_FRAME_SCAN, &rs);
    if ((ss == LIQ_ERR_FORMAT) != (st == LIQ_ERR_FORMAT))
        FAIL("scan status %d vs apply status %d", ss, st);
    if (ss != LIQ_ERR_FORMAT && rs.kind != r.kind) FAIL("scan kind %d vs apply kind %d", rs.kind, r.kind);
    if (ss != LIQ_ERR_FORMAT && (rs.bids != r.bids || rs.asks != r.asks || rs.last_id != r.last_id ||
                                 rs.present != r.present))
        FAIL("scan and apply read different levels or ids");

    /* only what a strict JSON parser accepts */
    const char *why = st == LIQ_ERR_FORMAT ? NULL : strict_violation((const unsigned char *)buf, n);
    if (why) FAIL("status %d for a frame a strict parser refuses: %s", st, why);
    if ((r.present & LIQ_FRAME_HAS_FIRST && r.first_id == LIQ_ID_NONE) ||
        (r.present & LIQ_FRAME_HAS_LAST && r.last_id == LIQ_ID_NONE) ||
        (r.present & LIQ_FRAME_HAS_PREV && r.prev_id == LIQ_ID_NONE))
        FAIL("an id equal to LIQ_ID_NONE was read as present");
    char *nul = malloc(n + 1);
    if (!nul) abort();
    if (n) memcpy(nul, buf, n);
    nul[n] = 0;
    if (run(fn, NULL, nul, n + 1, LIQ_FRAME_SCAN, &rs) != LIQ_ERR_FORMAT) FAIL("a NUL byte after the frame accepted");
    free(nul);
    /* X is one object when the parser took it whole (else X could add keys to the wrapper) */
    if ((sel & 64) && which != 2 && st != LIQ_ERR_FORMAT) check_wrapper(fn, &b, buf, n);

    free(before.p);
    liq_book_free(&b);
    free(buf);
    return 0;
}

#include "fuzz_standalone.h"   /* main() for -DLIQ_FUZZ_STANDALONE (corpus replay) */
