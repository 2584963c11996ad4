/* Frames parsed into a book (src/frames.h): worked frames, key order, whitespace,
 * escapes, wrappers, and every malformed variant -> an error with the book unchanged. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "book_invariants.h"
#include "checksum.h"
#include "frames.h"

#define S(lit) lit, sizeof(lit) - 1

static const char SNAP[] =
    "{\"lastUpdateId\":100,\"bids\":[[\"100.00\",\"1.5\"],[\"99.50\",\"2\"],[\"99.00\",\"3\"]],"
    "\"asks\":[[\"100.50\",\"1\"],[\"101.00\",\"4.25\"]]}";

static const char DEPTH[] =
    "{\"e\":\"depthUpdate\",\"E\":1723161255208,\"s\":\"BTCUSDT\",\"U\":101,\"u\":103,"
    "\"b\":[[\"100.00\",\"0\"],[\"99.75\",\"0.5\"]],\"a\":[[\"100.25\",\"0.75\"]]}";

/* tick 0.01, lot 0.0001 */
static void mk(liq_book *b, int rule)
{
    CHECK_EQ_I64(liq_book_init(b, 2, 4, 1, 1, 0), LIQ_OK);
    b->seq_rule = (liq_seq_rule)rule;
}

static void snap(liq_book *b)
{
    liq_frame_result r;
    CHECK_EQ_I64(liq_frame_binance_snapshot(b, S(SNAP), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_SNAPSHOT);
}

static int64_t best(const liq_book *b, int side, int64_t *qty)
{
    int64_t px = 0, q = 0;
    if (!liq_book_best(b, side, &px, &q)) return -1;
    if (qty) *qty = q;
    return px;
}

static void test_snapshot(void)
{
    liq_book b;
    liq_frame_result r;
    mk(&b, LIQ_SEQ_BINANCE_SPOT);
    CHECK_EQ_I64(liq_frame_binance_snapshot(&b, S(SNAP), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_SNAPSHOT);
    CHECK_EQ_I64(r.last_id, 100);
    CHECK_EQ_I64(r.bids, 3);
    CHECK_EQ_I64(r.asks, 2);
    CHECK_EQ_I64(r.max_px_dec, 2);
    CHECK_EQ_I64(r.max_qty_dec, 2);
    CHECK_EQ_I64(b.last_id, 100);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 3);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 2);
    int64_t q;
    CHECK_EQ_I64(best(&b, LIQ_BID, &q), 10000);
    CHECK_EQ_I64(q, 15000);
    CHECK_EQ_I64(best(&b, LIQ_ASK, &q), 10050);
    /* wire decimals kept: "1.5" has 1, "4.25" 2 */
    CHECK_EQ_I64(b.side[LIQ_BID].dec[b.side[LIQ_BID].len - 1], (2 << 8) | 1);
    /* the wrapped form, with blanks everywhere JSON allows them, asks first */
    CHECK_EQ_I64(liq_frame_binance_snapshot(&b, S(" \n{ \"data\" : { \"asks\" : [ [ \"100.60\" , \"1\" ] ] ,"
                                                 "\t\"bids\":[],\"lastUpdateId\" : 7 } ,\"stream\":\"x\"}\r\n"), 0, &r), LIQ_OK);
    CHECK_EQ_I64(b.last_id, 7);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 0);
    CHECK_EQ_I64(best(&b, LIQ_ASK, NULL), 10060);
    /* no lastUpdateId: another kind of object, nothing done */
    uint64_t gen = b.generation;
    CHECK_EQ_I64(liq_frame_binance_snapshot(&b, S("{\"bids\":[],\"asks\":[]}"), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_OTHER);
    CHECK_EQ_I64(b.generation, gen);
    liq_book_free(&b);
}

static void test_depth(void)
{
    liq_book b;
    liq_frame_result r;
    mk(&b, LIQ_SEQ_BINANCE_SPOT);
    snap(&b);
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S(DEPTH), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    CHECK_EQ_I64(r.first_id, 101);
    CHECK_EQ_I64(r.last_id, 103);
    CHECK_EQ_I64(r.prev_id, LIQ_ID_NONE);
    CHECK_EQ_I64(r.event_ms, 1723161255208LL);
    CHECK(r.sym_len == 7 && memcmp(DEPTH + r.sym_off, "BTCUSDT", 7) == 0);
    CHECK_EQ_I64(r.stream_len, 0);
    CHECK_EQ_I64(r.bids, 2);
    CHECK_EQ_I64(r.asks, 1);
    CHECK_EQ_I64(b.last_id, 103);
    int64_t q;
    CHECK_EQ_I64(best(&b, LIQ_BID, &q), 9975);
    CHECK_EQ_I64(q, 5000);
    CHECK_EQ_I64(best(&b, LIQ_ASK, &q), 10025);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 3);
    /* the same again: stale, nothing applied */
    uint64_t gen = b.generation;
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S(DEPTH), 0, &r), LIQ_STALE);
    CHECK_EQ_I64(b.generation, gen);
    CHECK_EQ_I64(b.stats.stale, 1);
    /* a gap: U > L + 1 */
    liq_blob before = liq_test_serialize(&b);
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S("{\"e\":\"depthUpdate\",\"U\":105,\"u\":106,\"b\":[],\"a\":[]}"), 0, &r),
                 LIQ_ERR_SEQ_GAP);
    liq_blob after = liq_test_serialize(&b);
    CHECK(liq_test_same_state(before, after));
    free(before.p); free(after.p);
    CHECK_EQ_I64(b.stats.gaps, 1);
    /* combined stream, keys in another order, asks before bids, unknown keys of every
     * type (escapes, nesting) skipped */
    static const char comb[] =
        "{\"data\":{\"a\":[[\"100.30\",\"1\"]],\"x\":{\"y\":[1,2.5e-3,-0,true,false,null,\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"]},"
        "\"u\":104,\"b\":[[\"99.80\",\"2\"],[\"99.80\",\"3\"]],\"U\":104,\"E\":5,\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\"},"
        "\"stream\":\"btcusdt@depth@100ms\"}";
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S(comb), 0, &r), LIQ_OK);
    CHECK(r.stream_len == 19 && memcmp(comb + r.stream_off, "btcusdt@depth@100ms", 19) == 0);
    CHECK_EQ_I64(best(&b, LIQ_BID, &q), 9980);
    CHECK_EQ_I64(q, 30000);   /* a repeated price: the last size wins */
    CHECK_EQ_I64(best(&b, LIQ_ASK, NULL), 10025);
    CHECK_EQ_I64(b.last_id, 104);
    /* other frames on the stream: nothing done, no error */
    static const char *others[] = {
        "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":50093239212,\"s\":\"BTCUSDT\",\"b\":\"61837.63000000\","
        "\"B\":\"3.78826000\",\"a\":\"61837.64000000\",\"A\":\"1.54698000\"}}",
        "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\",\"t\":3,\"p\":\"1\",\"q\":\"2\","
        "\"T\":1,\"m\":true,\"M\":true}}",
        "{\"e\":\"aggTrade\",\"a\":26129,\"b\":\"x\"}",
        "{}",
        "{\"result\":null,\"id\":1}",
    };
    gen = b.generation;
    uint64_t rej = b.stats.rejected;
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        CHECK_EQ_I64(liq_frame_binance_depth(&b, others[i], strlen(others[i]), 0, &r), LIQ_OK);
        CHECK_EQ_I64(r.kind, LIQ_FRAME_OTHER);
    }
    CHECK_EQ_I64(b.generation, gen);
    CHECK_EQ_I64(b.stats.rejected, rej);
    liq_book_free(&b);
}

static void test_futures(void)
{
    liq_book b;
    liq_frame_result r;
    mk(&b, LIQ_SEQ_BINANCE_FUTURES);
    snap(&b);   /* L = 100 */
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S("{\"e\":\"depthUpdate\",\"E\":1,\"T\":2,\"s\":\"BTCUSDT\",\"U\":90,\"u\":110,"
                                               "\"pu\":89,\"b\":[[\"99.90\",\"1\"]],\"a\":[]}"), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.prev_id, 89);
    CHECK_EQ_I64(r.txn_ms, 2);
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S("{\"e\":\"depthUpdate\",\"U\":111,\"u\":120,\"pu\":110,\"b\":[],\"a\":[]}"), 0, &r),
                 LIQ_OK);
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S("{\"e\":\"depthUpdate\",\"U\":122,\"u\":130,\"pu\":121,\"b\":[],\"a\":[]}"), 0, &r),
                 LIQ_ERR_SEQ_GAP);
    CHECK_EQ_I64(b.last_id, 120);
    liq_book_free(&b);
}

static void test_scan(void)
{
    liq_frame_result r;
    /* scan mode: no book needed, decimals measured, nothing converted */
    CHECK_EQ_I64(liq_frame_binance_depth(NULL, S(DEPTH), LIQ_FRAME_SCAN, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    CHECK_EQ_I64(r.first_id, 101);
    CHECK_EQ_I64(r.max_px_dec, 2);
    CHECK_EQ_I64(r.max_qty_dec, 2);
    CHECK_EQ_I64(liq_frame_binance_depth(NULL, S("{\"e\":\"depthUpdate\",\"U\":1,\"u\":2,\"b\":[[\"1.123456789012345678901\",\"x\"]],\"a\":[]}"),
                                         LIQ_FRAME_SCAN, &r), LIQ_ERR_PARSE);
    /* a book in scan mode is not touched */
    liq_book b;
    mk(&b, LIQ_SEQ_BINANCE_SPOT);
    CHECK_EQ_I64(liq_frame_binance_snapshot(&b, S(SNAP), LIQ_FRAME_SCAN, &r), LIQ_OK);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 0);
    CHECK_EQ_I64(b.last_id, LIQ_ID_NONE);
    liq_book_free(&b);
}

/* A frame that must be rejected with `want`, the book unchanged (stats.rejected + 1). */
static void rejected(const char *frame, size_t n, liq_status want, int which)
{
    liq_book b;
    liq_frame_result r;
    mk(&b, LIQ_SEQ_BINANCE_SPOT);
    snap(&b);
    liq_blob before = liq_test_serialize(&b);
    uint64_t gen = b.generation, rej = b.stats.rejected;
    liq_status st = which == 0 ? liq_frame_binance_depth(&b, frame, n, 0, &r)
                  : which == 1 ? liq_frame_binance_snapshot(&b, frame, n, 0, &r)
                               : liq_frame_okx_books(&b, frame, n, 0, &r);
    if (st != want)
        fprintf(stderr, "frame %.*s: status %d, expected %d\n", (int)n, frame, (int)st, (int)want);
    CHECK_EQ_I64(st, want);
    liq_blob after = liq_test_serialize(&b);
    CHECK(liq_test_same_state(before, after));
    CHECK_EQ_I64(b.generation, gen);
    CHECK_EQ_I64(b.stats.rejected, rej + 1);
    free(before.p); free(after.p);
    liq_book_free(&b);
}

static void test_malformed(void)
{
    /* truncated at every byte offset: never accepted; prefixes that end inside the value
     * are malformed, and the book is unchanged */
    for (size_t k = 0; k < sizeof DEPTH - 1; k++) {
        /* a prefix of only blanks/nothing is malformed too */
        rejected(DEPTH, k, LIQ_ERR_FORMAT, 0);
    }
    for (size_t k = 0; k < sizeof SNAP - 1; k++) rejected(SNAP, k, LIQ_ERR_FORMAT, 1);
    /* trailing bytes */
    char buf[512];
    snprintf(buf, sizeof buf, "%s}", DEPTH);
    rejected(buf, strlen(buf), LIQ_ERR_FORMAT, 0);
    snprintf(buf, sizeof buf, "%s x", DEPTH);
    rejected(buf, strlen(buf), LIQ_ERR_FORMAT, 0);
    static const struct { const char *f; liq_status st; } cases[] = {
        /* JSON errors */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\" \"U\":101,\"u\":103,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":01}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":1.}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":tru}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\q\"}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\u12g4\"}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"a\tb\"}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":[1,]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":{1:2}}", LIQ_ERR_FORMAT},
        {"[]", LIQ_ERR_FORMAT},
        {"\"depthUpdate\"", LIQ_ERR_FORMAT},
        /* repeated keys */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"u\":104,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"data\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[]}}", LIQ_ERR_FORMAT},
        /* missing or mistyped fields of a depthUpdate */
        {"{\"e\":\"depthUpdate\",\"u\":103,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":\"101\",\"u\":103,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103.0,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":1e3,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":99999999999999999999,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"E\":null,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"s\":1,\"b\":[],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":{},\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[\"1\",\"2\"],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"1\"]],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[1,2]],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"1\",2]],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[[\"1\",\"2\"]]],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"99\",\"1\"],[]],\"a\":[]}", LIQ_ERR_FORMAT},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"99\",\"1\"]],\"a\":[],\"lastUpdateId\":1}", LIQ_ERR_FORMAT},
        /* bad numbers (well-formed JSON) */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"99\",\"1\"],[\"x\",\"1\"]],\"a\":[]}", LIQ_ERR_PARSE},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"\",\"1\"]],\"a\":[]}", LIQ_ERR_PARSE},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"9\\u0039\",\"1\"]],\"a\":[]}", LIQ_ERR_PARSE},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"101\",\"1 \"]]}", LIQ_ERR_PARSE},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"101.001\",\"1\"]]}", LIQ_ERR_PRECISION},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"101\",\"0.00001\"]]}", LIQ_ERR_PRECISION},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"1e30\",\"1\"]]}", LIQ_ERR_OVERFLOW},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"101\",\"-1\"]]}", LIQ_ERR_NEGATIVE},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"0\",\"1\"]]}", LIQ_ERR_NEGATIVE},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"NaN\",\"1\"]]}", LIQ_ERR_NAN},
        /* a message that would cross the book (policy raise) */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"100.60\",\"1\"]],\"a\":[]}", LIQ_ERR_CROSSED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) rejected(cases[i].f, strlen(cases[i].f), cases[i].st, 0);
    /* the bad level's index: bids first, then asks */
    liq_book b;
    liq_frame_result r;
    mk(&b, LIQ_SEQ_BINANCE_SPOT);
    snap(&b);
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S("{\"a\":[[\"101\",\"1\"],[\"1x\",\"1\"]],\"e\":\"depthUpdate\",\"U\":101,\"u\":103,"
                                               "\"b\":[[\"99\",\"1\"]]}"), 0, &r), LIQ_ERR_PARSE);
    CHECK_EQ_I64(r.error_at, 2);
    CHECK_EQ_I64(liq_frame_binance_depth(&b, S("{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":[}"), 0, &r),
                 LIQ_ERR_FORMAT);
    CHECK_EQ_I64(r.error_at, 54);
    liq_book_free(&b);
    /* nesting: LIQ_FRAME_MAX_DEPTH levels accepted, one more refused */
    char deep[256];
    for (int d = LIQ_FRAME_MAX_DEPTH - 2; d <= LIQ_FRAME_MAX_DEPTH; d++) {
        size_t k = (size_t)snprintf(deep, sizeof deep, "{\"e\":\"x\",\"y\":");
        for (int j = 0; j < d; j++) deep[k++] = '[';
        for (int j = 0; j < d; j++) deep[k++] = ']';
        deep[k++] = '}';
        liq_book b2;
        mk(&b2, LIQ_SEQ_BINANCE_SPOT);
        CHECK_EQ_I64(liq_frame_binance_depth(&b2, deep, k, 0, &r), d < LIQ_FRAME_MAX_DEPTH ? LIQ_OK : LIQ_ERR_FORMAT);
        liq_book_free(&b2);
    }
}

/* OKX's documented checksum example levels, as a books snapshot + update. */
static void test_okx(void)
{
    liq_book b;
    liq_frame_result r;
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 1, 1, 0), LIQ_OK);
    b.seq_rule = LIQ_SEQ_OKX;
    static const char snapf[] =
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"snapshot\",\"data\":[{"
        "\"asks\":[[\"30238.8\",\"2\",\"0\",\"1\"],[\"30249.5\",\"50\",\"0\",\"1\"]],"
        "\"bids\":[[\"30229.4\",\"2\",\"0\",\"1\"]],\"ts\":\"1652459225464\",\"checksum\":0,\"prevSeqId\":-1,\"seqId\":10}]}";
    CHECK_EQ_I64(liq_frame_okx_books(&b, S(snapf), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_SNAPSHOT);
    CHECK_EQ_I64(r.check, LIQ_CHECK_ABSENT);
    CHECK_EQ_I64(r.event_ms, 1652459225464LL);
    CHECK(r.sym_len == 8 && memcmp(snapf + r.sym_off, "BTC-USDT", 8) == 0);
    CHECK(r.stream_len == 5 && memcmp(snapf + r.stream_off, "books", 5) == 0);
    CHECK_EQ_I64(b.last_id, 10);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 2);
    /* the checksum the book has now, and a frame carrying it (as signed int32) */
    uint32_t crc;
    CHECK_EQ_I64(liq_book_checksum(&b, LIQ_CHECKSUM_OKX, &crc), LIQ_OK);
    /* an update that deletes 30249.5: expected checksum of the result computed on a copy */
    liq_book cp;
    CHECK_EQ_I64(liq_book_copy(&cp, &b), LIQ_OK);
    liq_delta del = {302495, 0, LIQ_ASK, 1, 0};
    CHECK_EQ_I64(liq_book_apply(&cp, &del, 1, NULL), LIQ_OK);
    uint32_t want;
    CHECK_EQ_I64(liq_book_checksum(&cp, LIQ_CHECKSUM_OKX, &want), LIQ_OK);
    liq_book_free(&cp);
    char upd[512];
    snprintf(upd, sizeof upd,
             "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{"
             "\"asks\":[[\"30249.5\",\"0\",\"0\",\"0\"]],\"bids\":[],\"ts\":\"1\",\"checksum\":%d,\"prevSeqId\":10,\"seqId\":11}]}",
             (int)(int32_t)want);
    CHECK_EQ_I64(liq_frame_okx_books(&b, upd, strlen(upd), 0, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_UPDATE);
    CHECK_EQ_I64(r.check, LIQ_CHECK_OK);
    CHECK_EQ_I64(r.computed, want);
    CHECK_EQ_I64(b.last_id, 11);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 1);
    /* stale repeat: nothing, no checksum verified */
    CHECK_EQ_I64(liq_frame_okx_books(&b, upd, strlen(upd), 0, &r), LIQ_STALE);
    CHECK_EQ_I64(r.check, LIQ_CHECK_NONE);
    /* heartbeat (seq == prev) */
    CHECK_EQ_I64(liq_frame_okx_books(&b, S("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\","
                                          "\"data\":[{\"asks\":[],\"bids\":[],\"prevSeqId\":11,\"seqId\":11}]}"), 0, &r), LIQ_OK);
    /* a wrong checksum: applied, reported */
    CHECK_EQ_I64(liq_frame_okx_books(&b, S("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\","
                                          "\"data\":[{\"asks\":[],\"bids\":[[\"30229.5\",\"1\",\"0\",\"1\"]],\"checksum\":123,"
                                          "\"prevSeqId\":11,\"seqId\":12}]}"), 0, &r), LIQ_ERR_CHECKSUM);
    CHECK_EQ_I64(r.check, LIQ_CHECK_MISMATCH);
    CHECK_EQ_I64(r.checksum, 123);
    CHECK_EQ_I64(b.last_id, 12);
    /* a gap */
    liq_blob before = liq_test_serialize(&b);
    CHECK_EQ_I64(liq_frame_okx_books(&b, S("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\","
                                          "\"data\":[{\"asks\":[],\"bids\":[],\"prevSeqId\":13,\"seqId\":14}]}"), 0, &r),
                 LIQ_ERR_SEQ_GAP);
    liq_blob after = liq_test_serialize(&b);
    CHECK(liq_test_same_state(before, after));
    free(before.p); free(after.p);
    /* other frames */
    static const char *others[] = {
        "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"}}",
        "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":[{\"px\":\"1\",\"sz\":\"2\"}]}",
        "{\"arg\":{\"channel\":\"books5\",\"instId\":\"BTC-USDT\"},\"data\":[{\"asks\":[],\"bids\":[]}]}",
        "{\"event\":\"error\",\"code\":\"60012\",\"msg\":\"Invalid request\"}",
    };
    uint64_t gen = b.generation;
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        CHECK_EQ_I64(liq_frame_okx_books(&b, others[i], strlen(others[i]), 0, &r), LIQ_OK);
        CHECK_EQ_I64(r.kind, LIQ_FRAME_OTHER);
    }
    CHECK_EQ_I64(b.generation, gen);
    /* malformed books frames: the book unchanged */
    static const char *bad[] = {
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[],\"bids\":[],\"prevSeqId\":12,\"seqId\":13}]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{},{}]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[1]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":{}}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{\"asks\":\"x\",\"prevSeqId\":12,\"seqId\":13}]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{\"checksum\":4294967296,\"prevSeqId\":12,\"seqId\":13}]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{\"ts\":\"12a\",\"prevSeqId\":12,\"seqId\":13}]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{\"seqId\":13,\"seqId\":13}]}",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{\"prevSeqId\":12,\"seqId\":13}]",
    };
    uint64_t rej = b.stats.rejected;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        before = liq_test_serialize(&b);
        liq_status st = liq_frame_okx_books(&b, bad[i], strlen(bad[i]), 0, &r);
        if (st != LIQ_ERR_FORMAT) fprintf(stderr, "okx bad[%zu]: status %d\n", i, (int)st);
        CHECK_EQ_I64(st, LIQ_ERR_FORMAT);
        after = liq_test_serialize(&b);
        CHECK(liq_test_same_state(before, after));
        free(before.p); free(after.p);
    }
    CHECK_EQ_I64(b.stats.rejected, rej + sizeof bad / sizeof *bad);
    CHECK_EQ_I64(b.generation, gen);
    /* a checksum on a book that keeps too few levels is refused before applying */
    b.max_depth = 10;
    CHECK_EQ_I64(liq_frame_okx_books(&b, S("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\","
                                          "\"data\":[{\"asks\":[],\"bids\":[],\"checksum\":5,\"prevSeqId\":12,\"seqId\":13}]}"), 0, &r),
                 LIQ_ERR_DEPTH);
    CHECK_EQ_I64(b.last_id, 12);
    liq_book_free(&b);
}

/* A large snapshot grows the scratch while parsing. */
static void test_large(void)
{
    size_t cap = 1 << 20, k = 0;
    char *f = malloc(cap);
    CHECK(f != NULL);
    if (!f) return;
    k += (size_t)snprintf(f + k, cap - k, "{\"lastUpdateId\":5,\"bids\":[");
    for (int i = 0; i < 3000; i++) k += (size_t)snprintf(f + k, cap - k, "%s[\"%d.%02d\",\"1.0\"]", i ? "," : "", 1000 - i / 100, 99 - i % 100);
    k += (size_t)snprintf(f + k, cap - k, "],\"asks\":[");
    for (int i = 0; i < 3000; i++) k += (size_t)snprintf(f + k, cap - k, "%s[\"%d.%02d\",\"2\"]", i ? "," : "", 2000 + i / 100, i % 100);
    k += (size_t)snprintf(f + k, cap - k, "]}");
    liq_book b;
    liq_frame_result r;
    mk(&b, LIQ_SEQ_BINANCE_SPOT);
    CHECK_EQ_I64(liq_frame_binance_snapshot(&b, f, k, 0, &r), LIQ_OK);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 3000);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_ASK), 3000);
    CHECK_EQ_I64(best(&b, LIQ_BID, NULL), 100099);
    CHECK_EQ_I64(best(&b, LIQ_ASK, NULL), 200000);
    char msg[256];
    CHECK_EQ_I64(liq_test_invariant_error(&b, msg, sizeof msg), 0);
    liq_book_free(&b);
    free(f);
}

int main(void)
{
    test_snapshot();
    test_depth();
    test_futures();
    test_scan();
    test_malformed();
    test_okx();
    test_large();
    TEST_MAIN_END();
}
