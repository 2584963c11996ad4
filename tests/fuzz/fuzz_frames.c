/*
 * fuzz_frames.c — libFuzzer harness over the frame parsers (src/frames.h).
 *
 * Input: byte 0 picks the entry point (bits 0-1: Binance depth, Binance REST snapshot,
 * OKX books) and the book (bit 2: sequence rule or none; bits 3-4: cross policy; bit 5:
 * max_depth 10); the remaining bytes are the frame, copied into a buffer of exactly
 * that size so any read past the frame is caught by ASan.
 *
 * The book starts from a valid snapshot (a frame of the same family). Checked:
 *   - the book invariants (tests/c/book_invariants.h) after every call;
 *   - a call that did not apply (an error other than an OKX checksum mismatch, LIQ_STALE,
 *     or kind OTHER) left the serialized book (minus the stats) and the generation as they
 *     were;
 *   - scan mode (no book) agrees with apply mode on what is malformed JSON/structure
 *     (LIQ_ERR_FORMAT) and on the kind of frame.
 * Violations abort (libFuzzer reports a crash).
 *
 * Build: cmake -DLIQ_BUILD_FUZZ=ON with clang (target fuzz_frames), or tests/sanitize.sh.
 * With -DLIQ_FUZZ_STANDALONE: a main() replaying the files given (ctest: corpus_frames/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "book.h"
#include "frames.h"
#include "book_invariants.h"

#define FAIL(...)                                                       \
    do {                                                                \
        fprintf(stderr, "fuzz_frames invariant violated: " __VA_ARGS__); \
        fprintf(stderr, "\n");                                          \
        abort();                                                        \
    } while (0)

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
    if (liq_book_init(&b, 2, 4, 1, 1, (sel & 32) ? 10 : 0) != LIQ_OK) abort();
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
    st = fn(&b, buf, n, 0, &r);
    check_book(&b);
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
    if (ss != LIQ_ERR_FORMAT && (rs.bids != r.bids || rs.asks != r.asks || rs.last_id != r.last_id))
        FAIL("scan and apply read different levels or ids");

    free(before.p);
    liq_book_free(&b);
    free(buf);
    return 0;
}

#include "fuzz_standalone.h"   /* main() for -DLIQ_FUZZ_STANDALONE (corpus replay) */
