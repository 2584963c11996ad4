/* Frames parsed into a book (src/frames.h): worked frames, key order, whitespace,
 * escapes, wrappers, and every malformed variant -> an error with the book unchanged. */
#include <stdio.h>
#include <stdlib.h>
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

/* A frame applied to a fresh synced book (spot rule, L = 100): its status, *r filled. */
static liq_status applied(const char *frame, size_t n, int which, liq_book *b, liq_frame_result *r)
{
    mk(b, which == 2 ? LIQ_SEQ_OKX : LIQ_SEQ_BINANCE_SPOT);
    snap(b);
    return which == 0 ? liq_frame_binance_depth(b, frame, n, 0, r)
         : which == 1 ? liq_frame_binance_snapshot(b, frame, n, 0, r)
                      : liq_frame_okx_books(b, frame, n, 0, r);
}

/* Only what a strict JSON parser (orjson) accepts: the whole document, every string's
 * UTF-8 and escapes, every number's range, skipped values included (issue 10, item 10). */
static void test_strict_json(void)
{
    char buf[512];
    /* a NUL byte after the document is trailing garbage, not an end */
    memcpy(buf, DEPTH, sizeof DEPTH - 1);
    memcpy(buf + sizeof DEPTH - 1, "\0garbage", 8);
    rejected(buf, sizeof DEPTH - 1 + 8, LIQ_ERR_FORMAT, 0);
    rejected(buf, sizeof DEPTH, LIQ_ERR_FORMAT, 0);
    memcpy(buf, SNAP, sizeof SNAP - 1);
    memcpy(buf + sizeof SNAP - 1, " \0", 2);
    rejected(buf, sizeof SNAP + 1, LIQ_ERR_FORMAT, 1);
    static const char okx[] = "{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"update\",\"data\":[{\"asks\":[],"
                              "\"bids\":[]}]}";
    memcpy(buf, okx, sizeof okx);   /* with its NUL terminator */
    rejected(buf, sizeof okx, LIQ_ERR_FORMAT, 2);
    static const struct { const char *f; int which; } bad[] = {
        /* invalid UTF-8: in a skipped value, in the symbol, in a key, in a level's extra element */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\xff\"}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"s\":\"BTC\xc3\",\"b\":[],\"a\":[]}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"\x80\":1}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"99\",\"1\",\"\xc0\xaf\"]],\"a\":[]}", 0},   /* overlong */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\xed\xa0\x80\"}", 0},   /* encoded surrogate */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\xf4\x90\x80\x80\"}", 0},   /* > U+10FFFF */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\xe2\x82\"}", 0},   /* cut short */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"abcdefgh\xe2\x82xyzabcdefgh\"}", 0},
        /* surrogate escapes: only a high + low pair */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\ud800\"}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\udc00\\ud800\"}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\ud800\\u0041\"}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\uD800x\"}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\ud800\\ud800\"}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":\"\\ud800\\u\"}", 0},
        {"{\"arg\":{\"channel\":\"books\",\"instId\":\"\\udfff\"},\"action\":\"update\",\"data\":[{\"asks\":[],\"bids\":[]}]}", 2},
        /* numbers a double cannot hold (orjson refuses them); the limit is 2^1024 - 2^970 */
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":1e400}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":[-1.8e308]}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":0.1e99999999999999999999999}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":1.79769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792e308}", 0},
        {"{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"E\":1e999}", 0},
        {"{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"update\",\"data\":[{\"asks\":[],\"bids\":[],\"n\":2E+309}]}", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) rejected(bad[i].f, strlen(bad[i].f), LIQ_ERR_FORMAT, bad[i].which);
    /* what a strict parser accepts: multi-byte UTF-8, pairs, the largest finite doubles, underflow */
    static const char *good[] = {
        "{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\","
        "\"b\":[],\"a\":[],\"x\":\"\\ud83d\\ude00\\uDBFF\\uDFFF\x7f\"}",
        "{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":[1e308,-1.7976931348623158e308,1e-400,0e99999,"
        "0.0000000000000000000000000000001e338]}",
        "{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"x\":1.79769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791999e308}",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        liq_book b;
        liq_frame_result r;
        liq_status st = applied(good[i], strlen(good[i]), 0, &b, &r);
        if (st != LIQ_OK) fprintf(stderr, "good[%zu]: status %d at %zu\n", i, (int)st, r.error_at);
        CHECK_EQ_I64(st, LIQ_OK);
        CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
        liq_book_free(&b);
    }
}

/* A combined-stream wrapper's keys are not the payload's (issue 10, item 10). */
static void test_wrapper(void)
{
    liq_book b;
    liq_frame_result r;
    /* U only in the wrapper: the payload lacks U */
    rejected(S("{\"stream\":\"x\",\"data\":{\"e\":\"depthUpdate\",\"u\":103,\"b\":[],\"a\":[]},\"U\":101}"), LIQ_ERR_FORMAT, 0);
    rejected(S("{\"U\":101,\"stream\":\"x\",\"data\":{\"e\":\"depthUpdate\",\"u\":103,\"b\":[],\"a\":[]}}"), LIQ_ERR_FORMAT, 0);
    /* the wrapper's ids, levels and kind are ignored, before or after "data" */
    static const char w1[] =
        "{\"e\":\"depthUpdate\",\"U\":1,\"u\":2,\"pu\":7,\"b\":[[\"99.90\",\"1\"]],\"s\":\"W\","
        "\"data\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[[\"100.75\",\"1\"]]},"
        "\"a\":\"x\",\"E\":\"y\",\"stream\":\"s\"}";
    CHECK_EQ_I64(applied(S(w1), 0, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    CHECK_EQ_I64(r.first_id, 101);
    CHECK_EQ_I64(r.last_id, 103);
    CHECK_EQ_I64(r.present, LIQ_FRAME_HAS_FIRST | LIQ_FRAME_HAS_LAST);
    CHECK_EQ_I64(r.sym_len, 0);
    CHECK(r.stream_len == 1 && w1[r.stream_off] == 's');
    CHECK_EQ_I64(r.bids, 0);
    CHECK_EQ_I64(r.asks, 1);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 3);   /* 99.90 not applied */
    CHECK_EQ_I64(b.last_id, 103);
    liq_book_free(&b);
    /* "data" that is not an object: a frame of another kind, whatever the wrapper holds */
    static const char w2[] = "{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],\"data\":[1]}";
    CHECK_EQ_I64(applied(S(w2), 0, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_OTHER);
    CHECK_EQ_I64(b.last_id, 100);
    liq_book_free(&b);
    /* a snapshot wrapped: the payload's lastUpdateId, not the wrapper's */
    CHECK_EQ_I64(applied(S("{\"lastUpdateId\":7,\"data\":{\"lastUpdateId\":8,\"bids\":[],\"asks\":[]}}"), 1, &b, &r), LIQ_OK);
    CHECK_EQ_I64(b.last_id, 8);
    liq_book_free(&b);
    CHECK_EQ_I64(applied(S("{\"data\":{\"bids\":[],\"asks\":[]},\"lastUpdateId\":7}"), 1, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_OTHER);
    liq_book_free(&b);
    /* a snapshot's id is lastUpdateId alone: a "u" beside it was taken as the id */
    rejected(S("{\"lastUpdateId\":101,\"u\":109,\"bids\":[],\"asks\":[]}"), LIQ_ERR_FORMAT, 1);
    rejected(S("{\"u\":109,\"lastUpdateId\":101,\"bids\":[],\"asks\":[]}"), LIQ_ERR_FORMAT, 1);
    rejected(S("{\"lastUpdateId\":101,\"U\":1,\"bids\":[],\"asks\":[]}"), LIQ_ERR_FORMAT, 1);
    /* a repeated key of the wrapper, of the payload, a "stream" that is not a string */
    rejected(S("{\"stream\":\"x\",\"stream\":\"y\",\"data\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[]}}"),
             LIQ_ERR_FORMAT, 0);
    rejected(S("{\"data\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[]},\"U\":1,\"U\":2}"), LIQ_ERR_FORMAT, 0);
    rejected(S("{\"stream\":1,\"data\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[]}}"), LIQ_ERR_FORMAT, 0);
    rejected(S("{\"data\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[]},\"stream\":1}"), LIQ_ERR_FORMAT, 0);
}

/* Keys and compared strings mean their text, escapes decoded. */
static void test_escaped_keys(void)
{
    liq_book b;
    liq_frame_result r;
    /* "\u0062" is "b": with "b" it is a repeated key (orjson would keep the last, silently) */
    rejected(S("{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"99.90\",\"1\"]],\"a\":[],\"\\u0062\":[]}"), LIQ_ERR_FORMAT, 0);
    CHECK_EQ_I64(applied(S("{\"\\u0065\":\"depth\\u0055pdate\",\"\\u0055\":101,\"u\":103,\"\\u0062\":[[\"99.90\",\"1\"]],"
                           "\"a\":[]}"), 0, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    CHECK_EQ_I64(r.first_id, 101);
    CHECK_EQ_I64(liq_book_count(&b, LIQ_BID), 4);
    liq_book_free(&b);
    CHECK_EQ_I64(applied(S("{\"d\\u0061ta\":{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[]}}"), 0, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    liq_book_free(&b);
    /* a key longer than any known one, escaped: unknown */
    CHECK_EQ_I64(applied(S("{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[],\"a\":[],"
                           "\"\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062"
                           "\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\\u0062\":1}"), 0, &b, &r), LIQ_OK);
    liq_book_free(&b);
    /* OKX: action, channel and ts as text */
    CHECK_EQ_I64(applied(S("{\"arg\":{\"ch\\u0061nnel\":\"book\\u0073\",\"instId\":\"X\"},\"action\":\"\\u0075pdate\",\"data\":[{"
                           "\"asks\":[],\"bids\":[],\"ts\":\"1\\u0032\"}]}"), 2, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_UPDATE);
    CHECK_EQ_I64(r.event_ms, 12);
    liq_book_free(&b);
    /* a price written with an escape is not a plain decimal string */
    rejected(S("{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"b\":[[\"9\\u0039\",\"1\"]],\"a\":[]}"), LIQ_ERR_PARSE, 0);
}

/* INT64_MIN is the book's "no id" (LIQ_ID_NONE): as an id it is out of range, not absent
 * (issue 10, item 11); E/T may carry it, told apart by r.present. */
static void test_id_none(void)
{
    liq_book b;
    liq_frame_result r;
    rejected(S("{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"update\",\"data\":[{\"asks\":[],"
               "\"bids\":[[\"99.90\",\"1\",\"0\",\"1\"]],\"seqId\":-9223372036854775808,\"prevSeqId\":-9223372036854775808}]}"),
             LIQ_ERR_FORMAT, 2);
    rejected(S("{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"snapshot\",\"data\":[{\"asks\":[],"
               "\"bids\":[],\"seqId\":-9223372036854775808}]}"), LIQ_ERR_FORMAT, 2);
    rejected(S("{\"e\":\"depthUpdate\",\"U\":-9223372036854775808,\"u\":103,\"b\":[],\"a\":[]}"), LIQ_ERR_FORMAT, 0);
    rejected(S("{\"e\":\"depthUpdate\",\"U\":101,\"u\":-9223372036854775808,\"b\":[],\"a\":[]}"), LIQ_ERR_FORMAT, 0);
    rejected(S("{\"e\":\"depthUpdate\",\"U\":101,\"u\":103,\"pu\":-9223372036854775808,\"b\":[],\"a\":[]}"), LIQ_ERR_FORMAT, 0);
    rejected(S("{\"lastUpdateId\":-9223372036854775808,\"bids\":[],\"asks\":[]}"), LIQ_ERR_FORMAT, 1);
    /* one above is an id like any other */
    CHECK_EQ_I64(applied(S("{\"lastUpdateId\":-9223372036854775807,\"bids\":[],\"asks\":[]}"), 1, &b, &r), LIQ_OK);
    CHECK_EQ_I64(b.last_id, INT64_MIN + 1);
    liq_book_free(&b);
    /* E and T: times, reported as present */
    CHECK_EQ_I64(applied(S("{\"e\":\"depthUpdate\",\"E\":-9223372036854775808,\"T\":-9223372036854775808,\"U\":101,"
                           "\"u\":103,\"b\":[],\"a\":[]}"), 0, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.present, LIQ_FRAME_HAS_EVENT | LIQ_FRAME_HAS_TXN | LIQ_FRAME_HAS_FIRST | LIQ_FRAME_HAS_LAST);
    CHECK_EQ_I64(r.event_ms, INT64_MIN);
    liq_book_free(&b);
    /* OKX without ids: a plain apply; with only one of them, the rule's check */
    CHECK_EQ_I64(applied(S("{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"update\",\"data\":[{\"asks\":[],"
                           "\"bids\":[],\"ts\":-9223372036854775808}]}"), 2, &b, &r), LIQ_OK);
    CHECK_EQ_I64(r.present, LIQ_FRAME_HAS_EVENT);
    liq_book_free(&b);
    CHECK_EQ_I64(applied(S("{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"update\",\"data\":[{\"asks\":[],"
                           "\"bids\":[],\"seqId\":101}]}"), 2, &b, &r), LIQ_ERR_ARG);
    liq_book_free(&b);
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

/* Routed frames: a table of two markets; the router records what it was asked. */
typedef struct route_tab {
    liq_book *btc, *eth;   /* NULL: scan only (a book waiting for its snapshot) */
    int calls;
    char last[16];
} route_tab;

static liq_book *route(void *ctx, const char *sym, size_t len, int esc)
{
    route_tab *t = ctx;
    (void)esc;
    t->calls++;
    size_t k = len < sizeof t->last - 1 ? len : sizeof t->last - 1;
    memcpy(t->last, sym, k);
    t->last[k] = 0;
    if (len == 7 && memcmp(sym, "BTCUSDT", 7) == 0) return t->btc;
    if (len == 7 && memcmp(sym, "ETHUSDT", 7) == 0) return t->eth;
    return NULL;
}

static void test_routed(void)
{
    liq_book btc, eth, ref;
    liq_frame_result r, rr;
    mk(&btc, LIQ_SEQ_BINANCE_SPOT);
    mk(&eth, LIQ_SEQ_BINANCE_SPOT);
    mk(&ref, LIQ_SEQ_BINANCE_SPOT);
    snap(&btc);
    snap(&ref);
    route_tab t = {&btc, NULL, 0, ""};
    /* the symbol's book: applied in the parse that read the route, as the direct call does */
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(DEPTH), &r), LIQ_OK);
    CHECK_EQ_I64(liq_frame_binance_depth(&ref, S(DEPTH), 0, &rr), LIQ_OK);
    CHECK_EQ_I64(t.calls, 1);
    CHECK(strcmp(t.last, "BTCUSDT") == 0);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    CHECK(r.sym_len == 7 && memcmp(DEPTH + r.sym_off, "BTCUSDT", 7) == 0);
    CHECK_EQ_I64(r.event_ms, 1723161255208);
    CHECK_EQ_I64(btc.last_id, 103);
    liq_blob sa = liq_test_serialize(&btc), sb = liq_test_serialize(&ref);
    CHECK(sa.p && sb.p && liq_test_same_state(sa, sb));
    free(sa.p);
    free(sb.p);
    /* again: older than the book */
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(DEPTH), &r), LIQ_STALE);
    /* a market routed to NULL (buffering): scanned, nothing applied anywhere */
    static const char eth_f[] =
        "{\"e\":\"depthUpdate\",\"E\":5,\"s\":\"ETHUSDT\",\"U\":7,\"u\":9,"
        "\"b\":[[\"10.125\",\"1\"]],\"a\":[]}";
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(eth_f), &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_DEPTH);
    CHECK_EQ_I64(r.first_id, 7);
    CHECK_EQ_I64(r.last_id, 9);
    CHECK_EQ_I64(r.max_px_dec, 3);
    CHECK_EQ_I64(liq_book_count(&eth, LIQ_BID), 0);
    /* the same frame once the book is given: its scale is too small for 10.125 -> refused, unchanged */
    t.eth = &eth;
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(eth_f), &r), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(eth.stats.rejected, 1);
    CHECK(eth.last_id == LIQ_ID_NONE);
    /* not a depthUpdate ("e" first): the router is not asked */
    int calls = t.calls;
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t,
                 S("{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"b\":\"1\"}"), &r), LIQ_OK);
    CHECK_EQ_I64(r.kind, LIQ_FRAME_OTHER);
    CHECK_EQ_I64(t.calls, calls);
    /* a combined stream: the payload's "s" routes, not the wrapper's */
    static const char wrapped[] =
        "{\"s\":\"ETHUSDT\",\"stream\":\"btcusdt@depth\",\"data\":{\"e\":\"depthUpdate\",\"E\":2,"
        "\"s\":\"BTCUSDT\",\"U\":104,\"u\":104,\"b\":[[\"99.75\",\"0.25\"]],\"a\":[]}}";
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(wrapped), &r), LIQ_OK);
    CHECK(strcmp(t.last, "BTCUSDT") == 0);
    CHECK_EQ_I64(btc.last_id, 104);
    CHECK_EQ_I64(liq_book_count(&eth, LIQ_BID), 0);
    /* "s" after the levels (not Binance's order): still applied to the routed book */
    static const char late[] =
        "{\"e\":\"depthUpdate\",\"U\":105,\"u\":105,\"b\":[[\"99.75\",\"0.5\"]],\"a\":[],\"s\":\"BTCUSDT\"}";
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(late), &r), LIQ_OK);
    CHECK_EQ_I64(btc.last_id, 105);
    /* a gap: refused, the book unchanged */
    static const char gap[] =
        "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":107,\"u\":108,\"b\":[],\"a\":[]}";
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S(gap), &r), LIQ_ERR_SEQ_GAP);
    CHECK_EQ_I64(btc.last_id, 105);
    /* malformed: format error, nothing applied; no router: an argument error */
    CHECK_EQ_I64(liq_frame_binance_depth_routed(route, &t, S("{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\""), &r),
                 LIQ_ERR_FORMAT);
    CHECK_EQ_I64(liq_frame_binance_depth_routed(NULL, &t, S(DEPTH), &r), LIQ_ERR_ARG);
    char msg[256];
    CHECK_EQ_I64(liq_test_invariant_error(&btc, msg, sizeof msg), 0);
    liq_book_free(&btc);
    liq_book_free(&eth);
    liq_book_free(&ref);
}

int main(void)
{
    test_snapshot();
    test_depth();
    test_futures();
    test_scan();
    test_malformed();
    test_strict_json();
    test_wrapper();
    test_escaped_keys();
    test_id_none();
    test_okx();
    test_large();
    test_routed();
    TEST_MAIN_END();
}
