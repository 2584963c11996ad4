/* Exchange checksums: every worked example of research/exchange_protocols.md §3. */
#include <string.h>
#include "check.h"
#include "checksum.h"

/* A level from wire strings, parsed at the book's scales (keeps the wire decimals). */
static liq_delta W(const liq_book *b, int side, const char *px, const char *qty)
{
    liq_delta d = {0, 0, (uint8_t)side, LIQ_DEC_NONE, LIQ_DEC_NONE};
    CHECK_EQ_I64(liq_decimal_parse(px, strlen(px), b->px_scale, &d.px, &d.px_dec), LIQ_OK);
    CHECK_EQ_I64(liq_decimal_parse(qty, strlen(qty), b->qty_scale, &d.qty, &d.qty_dec), LIQ_OK);
    return d;
}

/* A level from a JSON number (Kraken v2, Bitfinex): no wire decimals. */
static liq_delta F(const liq_book *b, int side, double px, double qty)
{
    liq_delta d;
    CHECK_EQ_I64(liq_delta_from_f64(b, side, px, qty, &d), LIQ_OK);
    return d;
}

static uint32_t crc_str(const char *s) { return liq_crc32(0, s, strlen(s)); }

static uint32_t book_crc(const liq_book *b, int kind)
{
    uint32_t c = 0;
    CHECK_EQ_I64(liq_book_checksum(b, kind, &c), LIQ_OK);
    return c;
}

static void test_crc32(void)
{
    CHECK_EQ_I64(crc_str("123456789"), 0xCBF43926u);   /* the CRC-32/ISO-HDLC check value */
    CHECK_EQ_I64(liq_crc32(0, NULL, 0), 0);
    /* pieces chain like zlib's crc32() */
    CHECK_EQ_I64(liq_crc32(liq_crc32(0, "12345", 5), "6789", 4), 0xCBF43926u);
}

static void test_okx(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 1, 1, 0), LIQ_OK);
    liq_delta s1[] = {W(&b, LIQ_BID, "3366.1", "7"), W(&b, LIQ_BID, "3366", "6"),
                      W(&b, LIQ_ASK, "3366.8", "9"), W(&b, LIQ_ASK, "3368", "8")};
    CHECK_EQ_I64(liq_book_snapshot(&b, s1, 4, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64((int32_t)book_crc(&b, LIQ_CHECKSUM_OKX), -1881014294);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_OKX), 2413953002u);
    /* fewer bids than asks: the missing bids are skipped, asks continue alone */
    liq_delta s2[] = {W(&b, LIQ_BID, "3366.1", "7"), W(&b, LIQ_ASK, "3366.8", "9"),
                      W(&b, LIQ_ASK, "3368", "8"), W(&b, LIQ_ASK, "3372", "8")};
    CHECK_EQ_I64(liq_book_snapshot(&b, s2, 4, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64((int32_t)book_crc(&b, LIQ_CHECKSUM_OKX), 831078360);
    /* only the top 25 levels count */
    liq_delta deep[60];   /* bids and asks alternate: the first 50 are 25 per side */
    for (int i = 0; i < 30; i++) {
        deep[2 * i] = (liq_delta){(int64_t)(1000 - i) * 10, 1, LIQ_BID, 1, 0};
        deep[2 * i + 1] = (liq_delta){(int64_t)(1001 + i) * 10, 1, LIQ_ASK, 1, 0};
    }
    CHECK_EQ_I64(liq_book_snapshot(&b, deep, 50, LIQ_ID_NONE, NULL), LIQ_OK);
    uint32_t top25 = book_crc(&b, LIQ_CHECKSUM_OKX);
    CHECK_EQ_I64(liq_book_snapshot(&b, deep, 60, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_OKX), top25);
    liq_book_free(&b);
}

static void test_bitget_wire_strings(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 1, 1, 0), LIQ_OK);
    liq_delta s[] = {W(&b, LIQ_BID, "43231.1", "4"), W(&b, LIQ_BID, "43231", "6"),
                     W(&b, LIQ_ASK, "43232.8", "9"), W(&b, LIQ_ASK, "43232.9", "8")};
    CHECK_EQ_I64(liq_book_snapshot(&b, s, 4, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64((int32_t)book_crc(&b, LIQ_CHECKSUM_BITGET), -1504501796);
    liq_book_free(&b);
    /* "0.5000" is hashed as "0.5000", not "0.5" (Bitget rule 3) */
    CHECK_EQ_I64(liq_book_init(&b, 4, 2, 1, 1, 0), LIQ_OK);
    liq_delta z[] = {W(&b, LIQ_BID, "0.5000", "1.20"), W(&b, LIQ_ASK, "0.5100", "3")};
    CHECK_EQ_I64(liq_book_snapshot(&b, z, 2, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_BITGET), crc_str("0.5000:1.20:0.5100:3"));
    CHECK_EQ_I64((int32_t)book_crc(&b, LIQ_CHECKSUM_BITGET), -1189026213);
    /* levels from floats have no wire decimals: the shortest form */
    liq_delta f[] = {F(&b, LIQ_BID, 0.5, 1.2), F(&b, LIQ_ASK, 0.51, 3)};
    CHECK_EQ_I64(liq_book_snapshot(&b, f, 2, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_OKX), crc_str("0.5:1.2:0.51:3"));
    liq_book_free(&b);
}

static void test_kraken_v1(void)
{
    /* Kraken v1 doc example: wire strings with 5 price and 8 size decimals */
    static const char *asks[] = {"0.05005", "0.05010", "0.05015", "0.05020", "0.05025",
                                 "0.05030", "0.05035", "0.05040", "0.05045", "0.05050"};
    static const char *bids[] = {"0.05000", "0.04995", "0.04990", "0.04980", "0.04975",
                                 "0.04970", "0.04965", "0.04960", "0.04955", "0.04950"};
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 5, 8, 1, 1, 10), LIQ_OK);
    liq_delta s[22];
    for (int i = 0; i < 10; i++) {
        s[i] = W(&b, LIQ_ASK, asks[i], "0.00000500");
        s[10 + i] = W(&b, LIQ_BID, bids[i], "0.00000500");
    }
    /* an 11th level per side must not count (top 10 only); max_depth 10 drops it */
    s[20] = W(&b, LIQ_ASK, "0.05055", "1.00000000");
    s[21] = W(&b, LIQ_BID, "0.04945", "1.00000000");
    CHECK_EQ_I64(liq_book_snapshot(&b, s, 22, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(crc_str("50055005010500501550050205005025500503050050355005040500504550050505005000500499550049905004980"
                         "500497550049705004965500496050049555004950500"),
                 974947235u);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_KRAKEN), 974947235u);
    liq_book_free(&b);
    /* same levels in a deeper, more precise book: wire decimals, not scales, decide */
    CHECK_EQ_I64(liq_book_init(&b, 9, 10, 1, 1, 0), LIQ_OK);
    for (int i = 0; i < 10; i++) {
        s[i] = W(&b, LIQ_ASK, asks[i], "0.00000500");
        s[10 + i] = W(&b, LIQ_BID, bids[i], "0.00000500");
    }
    CHECK_EQ_I64(liq_book_snapshot(&b, s, 20, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_KRAKEN), 974947235u);
    liq_book_free(&b);
}

static void test_kraken_v2(void)
{
    /* Kraken v2 doc example: JSON numbers, price_precision 1, qty_precision 8 */
    static const double bids[10][2] = {
        {45283.5, 0.10000000}, {45283.4, 1.54582015}, {45282.1, 0.10000000}, {45281.0, 0.10000000},
        {45280.3, 1.54592586}, {45279.0, 0.07990000}, {45277.6, 0.03310103}, {45277.5, 0.30000000},
        {45277.3, 1.54602737}, {45276.6, 0.15445238}};
    static const double asks[10][2] = {
        {45285.2, 0.00100000}, {45286.4, 1.54571953}, {45286.6, 1.54571109}, {45289.6, 1.54560911},
        {45290.2, 0.15890660}, {45291.8, 1.54553491}, {45294.7, 0.04454749}, {45296.1, 0.35380000},
        {45297.5, 0.09945542}, {45299.5, 0.18772827}};
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 1, 8, 1, 1, 0), LIQ_OK);
    liq_delta s[20];
    for (int i = 0; i < 10; i++) {
        s[i] = F(&b, LIQ_BID, bids[i][0], bids[i][1]);
        s[10 + i] = F(&b, LIQ_ASK, asks[i][0], asks[i][1]);
    }
    CHECK_EQ_I64(liq_book_snapshot(&b, s, 20, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_KRAKEN), 3310070434u);
    liq_book_free(&b);
}

static void check_js(int64_t v, int scale, const char *want)
{
    char buf[LIQ_DECIMAL_BUF];
    size_t n = liq_format_js(v, scale, buf);
    CHECK_EQ_I64(n, strlen(want));
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "liq_format_js(%lld, %d) = \"%s\", want \"%s\"\n", (long long)v, scale, buf, want);
        liq_test_failures++;
    }
}

static void test_js_format(void)
{
    check_js(0, 8, "0");
    check_js(64100, 0, "64100");
    check_js(6410000, 2, "64100");
    check_js(1000000000, 0, "1000000000");
    check_js(5, 1, "0.5");
    check_js(-5, 1, "-0.5");
    check_js(291, 8, "0.00000291");
    check_js(1, 6, "0.000001");             /* 1e-6 is still positional */
    check_js(1, 7, "1e-7");                 /* below 1e-6: exponent form */
    check_js(25, 9, "2.5e-8");
    check_js(-2, 8, "-2e-8");
    check_js(48, 8, "4.8e-7");              /* Kraken's qty 0.00000048 trap */
    check_js(1, 18, "1e-18");
    check_js(123456789012345, 6, "123456789.012345");   /* 15 digits: exact */
    /* beyond 15 digits: the shortest round-trip of the nearest double (as JS/Python repr) */
    check_js(9007199254740993, 0, "9007199254740992");
    check_js(123456789012345678, 0, "123456789012345680");
    check_js(1234567890123456789, 18, "1.2345678901234567");
    check_js(INT64_MAX, 0, "9223372036854776000");
    check_js(-INT64_MAX, 0, "-9223372036854776000");
    check_js(10000000000000001, 16, "1");   /* 1.0000000000000001 rounds to 1.0 */
}

static void test_bitfinex(void)
{
    liq_book b;
    CHECK_EQ_I64(liq_book_init(&b, 0, 8, 1, 1, 0), LIQ_OK);
    /* crossed on purpose (the formatting case of the research notes) */
    b.cross_policy = LIQ_CROSS_ALLOW;
    liq_delta s[] = {F(&b, LIQ_BID, 1000000000, 5), F(&b, LIQ_BID, 64000, 1e-8), F(&b, LIQ_ASK, 64100, 2e-8)};
    CHECK_EQ_I64(liq_book_snapshot(&b, s, 3, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_BITFINEX), crc_str("1000000000:5:64100:-2e-8:64000:1e-8"));
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_BITFINEX), 884068822u);
    liq_book_free(&b);
    /* wire decimals do not matter to Bitfinex: "0.10" is the number 0.1 */
    CHECK_EQ_I64(liq_book_init(&b, 2, 8, 1, 1, 0), LIQ_OK);
    liq_delta w[] = {W(&b, LIQ_BID, "0.10", "1.50000000"), W(&b, LIQ_ASK, "0.20", "0.00000291")};
    CHECK_EQ_I64(liq_book_snapshot(&b, w, 2, LIQ_ID_NONE, NULL), LIQ_OK);
    CHECK_EQ_I64(book_crc(&b, LIQ_CHECKSUM_BITFINEX), crc_str("0.1:1.5:0.2:-0.00000291"));
    liq_book_free(&b);
}

static void test_errors(void)
{
    liq_book b;
    uint32_t c = 7;
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 1, 1, 10), LIQ_OK);
    CHECK_EQ_I64(liq_book_checksum(&b, LIQ_CHECKSUM_OKX, &c), LIQ_ERR_DEPTH);
    CHECK_EQ_I64(liq_book_checksum(&b, LIQ_CHECKSUM_BITFINEX, &c), LIQ_ERR_DEPTH);
    CHECK_EQ_I64(c, 7);
    CHECK_EQ_I64(liq_book_checksum(&b, LIQ_CHECKSUM_KRAKEN, &c), LIQ_OK);
    CHECK_EQ_I64(c, 0);                    /* empty book: CRC of the empty string */
    CHECK_EQ_I64(liq_book_checksum(&b, 0, &c), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_checksum(&b, 99, &c), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_checksum(&b, LIQ_CHECKSUM_OKX, NULL), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_book_checksum(NULL, LIQ_CHECKSUM_OKX, &c), LIQ_ERR_ARG);
    liq_book_free(&b);
    CHECK_EQ_I64(liq_book_init(&b, 1, 0, 1, 1, 25), LIQ_OK);
    CHECK_EQ_I64(liq_book_checksum(&b, LIQ_CHECKSUM_OKX, &c), LIQ_OK);
    liq_book_free(&b);
}

int main(void)
{
    test_crc32();
    test_okx();
    test_bitget_wire_strings();
    test_kraken_v1();
    test_kraken_v2();
    test_js_format();
    test_bitfinex();
    test_errors();
    TEST_MAIN_END();
}
