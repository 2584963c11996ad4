/* Unit tests of src/fixed.h and src/status.h: exact decimal parsing/formatting and float conversion. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "fixed.h"
#include "status.h"

/* parse a NUL-terminated string, expect status; on LIQ_OK also value and wire decimals */
#define PARSE_OK(str, scale, val, wd)                                                \
    do {                                                                             \
        int64_t v_ = 12345;                                                          \
        uint8_t d_ = 77;                                                             \
        CHECK_EQ_I64(liq_decimal_parse(str, strlen(str), scale, &v_, &d_), LIQ_OK); \
        CHECK_EQ_I64(v_, val);                                                       \
        CHECK_EQ_I64(d_, wd);                                                        \
    } while (0)
#define PARSE_ERR(str, scale, err)                                                  \
    do {                                                                            \
        int64_t v_ = 12345;                                                         \
        CHECK_EQ_I64(liq_decimal_parse(str, strlen(str), scale, &v_, NULL), err);  \
    } while (0)
#define FORMAT_IS(v, scale, dec, expect)                                             \
    do {                                                                             \
        char b_[LIQ_DECIMAL_BUF];                                                    \
        memset(b_, 'x', sizeof b_);                                                  \
        size_t n_ = liq_decimal_format(v, scale, dec, b_);                           \
        if (strcmp(b_, expect) != 0 || n_ != strlen(expect)) {                       \
            fprintf(stderr, "%s:%d: format(%lld, %d, %d) = '%s' (len %zu), want '%s'\n", \
                    __FILE__, __LINE__, (long long)(v), scale, dec, b_, n_, expect);   \
            liq_test_failures++;                                                     \
        }                                                                            \
    } while (0)

/* deterministic xorshift PRNG for the property loops */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void test_pow10(void)
{
    int64_t p = 1;
    for (int k = 0; k <= LIQ_MAX_SCALE; k++) {
        CHECK_EQ_I64(liq_pow10[k], p);
        if (k < LIQ_MAX_SCALE) p *= 10;
    }
}

static void test_status_str(void)
{
    static const liq_status all[] = {
        LIQ_OK, LIQ_STALE, LIQ_ERR_NAN, LIQ_ERR_INF, LIQ_ERR_NEGATIVE, LIQ_ERR_PARSE, LIQ_ERR_PRECISION,
        LIQ_ERR_OFF_GRID, LIQ_ERR_OVERFLOW, LIQ_ERR_SIDE, LIQ_ERR_LENGTH, LIQ_ERR_ARG, LIQ_ERR_FORMAT,
        LIQ_ERR_SEQ_GAP, LIQ_ERR_CROSSED, LIQ_ERR_CHECKSUM, LIQ_ERR_EMPTY, LIQ_ERR_DEPTH, LIQ_ERR_NOMEM};
    const char *unknown = liq_status_str((liq_status)12345);
    CHECK(unknown != NULL && strcmp(unknown, "unknown status") == 0);
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        const char *s = liq_status_str(all[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, unknown) != 0);   /* every code has its own entry */
        for (size_t j = 0; j < i; j++) CHECK(strcmp(s, liq_status_str(all[j])) != 0);
    }
    CHECK(LIQ_OK == 0 && LIQ_STALE > 0);
}

static void test_parse_basic(void)
{
    PARSE_OK("61685.99000000", 2, 6168599, 8);
    PARSE_OK("0.5000", 4, 5000, 4);
    PARSE_OK("0.5000", 1, 5, 4);          /* trailing zeros beyond the scale are fine */
    PARSE_OK("0.5", 4, 5000, 1);
    PARSE_OK("1", 0, 1, 0);
    PARSE_OK("7", 3, 7000, 0);
    PARSE_OK("-2.5", 1, -25, 1);
    PARSE_OK("+2.5", 1, 25, 1);
    PARSE_OK("-0", 2, 0, 0);
    PARSE_OK("+0.000", 2, 0, 3);
    PARSE_OK("0", 0, 0, 0);
    PARSE_OK("00012.3400", 2, 1234, 4);
    PARSE_OK("000", 5, 0, 0);
    PARSE_OK(".5", 1, 5, 1);              /* no integer digits */
    PARSE_OK("5.", 0, 5, 0);              /* no fraction digits */
    PARSE_OK("-.25", 2, -25, 2);
    PARSE_OK("0.00000048", 8, 48, 8);
    PARSE_OK("100", 0, 100, 0);           /* trailing zeros of the integer part */
    PARSE_OK("1000000000000000000", 0, 1000000000000000000LL, 0);
    /* many leading / trailing zeros do not count as significant digits */
    PARSE_OK("0000000000000000000000000000001.5000000000000000000000000000000", 1, 15, 31);
    PARSE_OK("0.000000000000000000000000000000", 0, 0, 30);
}

static void test_parse_errors(void)
{
    static const char *bad[] = {"", ".", "-", "+", "+-1", "--1", "-.", "abc", "1a", "a1", " 1", "1 ",
                                "1.2.3", "1..2", "1,5", "0x10", "infinit", "nana", "1e", "1e+",
                                "1e-", "e5", ".e5", "1.e", "1ee2", "1e2.5", "1e2e3", "\xd9\xa1", "\t1", "1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v = 42;
        liq_status st = liq_decimal_parse(bad[i], strlen(bad[i]), 2, &v, NULL);
        if (st != LIQ_ERR_PARSE) {
            fprintf(stderr, "%s:%d: parse('%s') = %d, want LIQ_ERR_PARSE\n", __FILE__, __LINE__, bad[i], st);
            liq_test_failures++;
        }
        CHECK_EQ_I64(v, 42);   /* out untouched on error */
    }
    /* the special values are named, for a clearer error than "not a number" */
    static const char *nan_inf[] = {"nan", "NaN", "-nan", "inf", "-inf", "+Inf", "Infinity", "-infinity"};
    for (size_t i = 0; i < sizeof nan_inf / sizeof *nan_inf; i++) {
        int64_t w = 42;
        liq_status st = liq_decimal_parse(nan_inf[i], strlen(nan_inf[i]), 2, &w, NULL);
        CHECK_EQ_I64(st, i < 3 ? LIQ_ERR_NAN : LIQ_ERR_INF);
        CHECK_EQ_I64(w, 42);
    }
    /* embedded NUL: the length is authoritative, not the terminator */
    int64_t v;
    CHECK_EQ_I64(liq_decimal_parse("1\0002", 3, 0, &v, NULL), LIQ_ERR_PARSE);
    CHECK_EQ_I64(liq_decimal_parse("12", 1, 0, &v, NULL), LIQ_OK);
    CHECK_EQ_I64(v, 1);
    CHECK_EQ_I64(liq_decimal_parse(NULL, 0, 0, &v, NULL), LIQ_ERR_PARSE);
    /* bad scale */
    CHECK_EQ_I64(liq_decimal_parse("1", 1, -1, &v, NULL), LIQ_ERR_ARG);
    CHECK_EQ_I64(liq_decimal_parse("1", 1, LIQ_MAX_SCALE + 1, &v, NULL), LIQ_ERR_ARG);
    PARSE_OK("1", LIQ_MAX_SCALE, 1000000000000000000LL, 0);
}

static void test_parse_precision(void)
{
    PARSE_ERR("1.005", 2, LIQ_ERR_PRECISION);
    PARSE_ERR("0.001", 2, LIQ_ERR_PRECISION);
    PARSE_ERR("-0.001", 2, LIQ_ERR_PRECISION);
    PARSE_ERR("0.5", 0, LIQ_ERR_PRECISION);
    PARSE_OK("0.0010", 3, 1, 4);
    PARSE_ERR("0.00100000001", 3, LIQ_ERR_PRECISION);
    /* 20+ significant digits with the last one below the scale */
    PARSE_ERR("1.0000000000000000001", 18, LIQ_ERR_PRECISION);
    PARSE_ERR("12345678901234567890.1", 0, LIQ_ERR_PRECISION);
    PARSE_ERR("1e-19", 18, LIQ_ERR_PRECISION);
    PARSE_ERR("1e-3", 2, LIQ_ERR_PRECISION);
}

static void test_parse_overflow(void)
{
    /* INT64_MAX = 9223372036854775807 */
    PARSE_OK("9223372036854775807", 0, INT64_MAX, 0);
    PARSE_OK("-9223372036854775807", 0, -INT64_MAX, 0);
    PARSE_ERR("9223372036854775808", 0, LIQ_ERR_OVERFLOW);
    PARSE_ERR("-9223372036854775808", 0, LIQ_ERR_OVERFLOW);   /* INT64_MIN is not representable */
    PARSE_ERR("9999999999999999999", 0, LIQ_ERR_OVERFLOW);    /* 19 digits, > INT64_MAX */
    PARSE_ERR("18446744073709551616", 0, LIQ_ERR_OVERFLOW);   /* 2^64: 20 digits */
    PARSE_ERR("99999999999", 9, LIQ_ERR_OVERFLOW);
    PARSE_OK("9.223372036854775807", 18, INT64_MAX, 18);
    PARSE_ERR("9.223372036854775808", 18, LIQ_ERR_OVERFLOW);
    PARSE_OK("92233720368.54775807", 8, INT64_MAX, 8);
    PARSE_ERR("92233720368.54775808", 8, LIQ_ERR_OVERFLOW);
    PARSE_OK("92233720368.547758070000", 8, INT64_MAX, 12);   /* trailing zeros beyond 19 digits */
    PARSE_OK("0000000000092233720368.54775807", 8, INT64_MAX, 8);
    PARSE_ERR("10", 18, LIQ_ERR_OVERFLOW);
    PARSE_OK("9", 18, 9000000000000000000LL, 0);
    PARSE_ERR("1e19", 0, LIQ_ERR_OVERFLOW);                  /* k > 18 */
    PARSE_OK("1e18", 0, 1000000000000000000LL, LIQ_DEC_NONE);
    PARSE_ERR("1e1", 18, LIQ_ERR_OVERFLOW);
    PARSE_ERR("100000000000000000000", 0, LIQ_ERR_OVERFLOW);  /* 21 digits, trailing zeros stripped */
}

static void test_parse_exponent(void)
{
    PARSE_OK("1e-7", 8, 10, LIQ_DEC_NONE);
    PARSE_OK("1E-7", 8, 10, LIQ_DEC_NONE);
    PARSE_OK("1.5e2", 0, 150, LIQ_DEC_NONE);
    PARSE_OK("1.5e+2", 0, 150, LIQ_DEC_NONE);
    PARSE_OK("-1.5E+02", 1, -1500, LIQ_DEC_NONE);
    PARSE_OK("15e-1", 1, 15, LIQ_DEC_NONE);
    PARSE_OK("1000e-3", 0, 1, LIQ_DEC_NONE);     /* trailing zeros make it integral */
    PARSE_ERR("1500e-3", 0, LIQ_ERR_PRECISION);
    PARSE_OK("0.0001e4", 0, 1, LIQ_DEC_NONE);
    PARSE_OK("1e0", 0, 1, LIQ_DEC_NONE);
    PARSE_OK("1e-0", 0, 1, LIQ_DEC_NONE);
    PARSE_OK("1e00000000000000000000000000002", 0, 100, LIQ_DEC_NONE);
    PARSE_OK("2.5e-17", 18, 25, LIQ_DEC_NONE);
    PARSE_ERR("2.5e-18", 18, LIQ_ERR_PRECISION);
}

/* Regression: exponents beyond 100000 used to give LIQ_ERR_OVERFLOW even for zero or tiny values. */
static void test_parse_huge_exponent(void)
{
    PARSE_OK("0e999999", 2, 0, LIQ_DEC_NONE);
    PARSE_OK("0.000e-99999999999999999999999", 2, 0, LIQ_DEC_NONE);
    PARSE_OK("-0E+123456789012345678901234567890", 0, 0, LIQ_DEC_NONE);
    PARSE_ERR("1e-999999", 2, LIQ_ERR_PRECISION);
    PARSE_ERR("1e-99999999999999999999999999999999", 18, LIQ_ERR_PRECISION);
    PARSE_ERR("1e999999", 0, LIQ_ERR_OVERFLOW);
    PARSE_ERR("1e99999999999999999999999999999999", 0, LIQ_ERR_OVERFLOW);
    PARSE_ERR("-1e100001", 0, LIQ_ERR_OVERFLOW);
    PARSE_ERR("1e100000", 0, LIQ_ERR_OVERFLOW);
}

static void test_wire_decimals(void)
{
    uint8_t d;
    int64_t v;
    char s[400];
    /* 254 fraction digits are still recorded, 255 and more are "unknown" */
    memset(s, '0', sizeof s);
    s[0] = '1';
    s[1] = '.';
    CHECK_EQ_I64(liq_decimal_parse(s, 2 + 254, 2, &v, &d), LIQ_OK);
    CHECK_EQ_I64(v, 100);
    CHECK_EQ_I64(d, 254);
    CHECK_EQ_I64(liq_decimal_parse(s, 2 + 255, 2, &v, &d), LIQ_OK);
    CHECK_EQ_I64(d, LIQ_DEC_NONE);
    CHECK_EQ_I64(liq_decimal_parse(s, sizeof s, 2, &v, &d), LIQ_OK);
    CHECK_EQ_I64(d, LIQ_DEC_NONE);
    CHECK_EQ_I64(v, 100);
    /* a long run of significant digits: precision, not a crash */
    memset(s, '7', sizeof s);
    s[1] = '.';
    CHECK_EQ_I64(liq_decimal_parse(s, sizeof s, 8, &v, &d), LIQ_ERR_PRECISION);
    memset(s, '7', sizeof s);
    CHECK_EQ_I64(liq_decimal_parse(s, sizeof s, 8, &v, &d), LIQ_ERR_OVERFLOW);
    /* wire_dec may be NULL */
    CHECK_EQ_I64(liq_decimal_parse("1.50", 4, 2, &v, NULL), LIQ_OK);
    CHECK_EQ_I64(v, 150);
}

static void test_format(void)
{
    FORMAT_IS(6168599, 2, 8, "61685.99000000");
    FORMAT_IS(5000, 4, LIQ_DEC_NONE, "0.5");
    FORMAT_IS(5000, 4, 4, "0.5000");
    FORMAT_IS(5000, 4, 0, "0.5");          /* never fewer digits than the value needs */
    FORMAT_IS(5000, 4, 1, "0.5");
    FORMAT_IS(5000, 4, 6, "0.500000");     /* padded below the scale */
    FORMAT_IS(48, 8, 8, "0.00000048");
    FORMAT_IS(48, 8, LIQ_DEC_NONE, "0.00000048");
    FORMAT_IS(300, 2, LIQ_DEC_NONE, "3");
    FORMAT_IS(300, 2, 0, "3");
    FORMAT_IS(300, 2, 2, "3.00");
    FORMAT_IS(-25, 1, LIQ_DEC_NONE, "-2.5");
    FORMAT_IS(-5, 3, LIQ_DEC_NONE, "-0.005");
    FORMAT_IS(0, 0, LIQ_DEC_NONE, "0");
    FORMAT_IS(0, 8, LIQ_DEC_NONE, "0");
    FORMAT_IS(0, 8, 3, "0.000");
    FORMAT_IS(7, 0, LIQ_DEC_NONE, "7");
    FORMAT_IS(7, 0, 2, "7.00");
    FORMAT_IS(INT64_MAX, 0, LIQ_DEC_NONE, "9223372036854775807");
    FORMAT_IS(INT64_MIN, 0, LIQ_DEC_NONE, "-9223372036854775808");
    FORMAT_IS(INT64_MAX, 18, LIQ_DEC_NONE, "9.223372036854775807");
    FORMAT_IS(INT64_MIN, 18, LIQ_DEC_NONE, "-9.223372036854775808");
    FORMAT_IS(1, 18, LIQ_DEC_NONE, "0.000000000000000001");
    FORMAT_IS(-1, 18, LIQ_DEC_NONE, "-0.000000000000000001");
    FORMAT_IS(INT64_MAX, 8, LIQ_DEC_NONE, "92233720368.54775807");
    /* padding is capped at 24 fraction digits so the result always fits LIQ_DECIMAL_BUF */
    FORMAT_IS(INT64_MIN, 0, 254, "-9223372036854775808.000000000000000000000000");
    FORMAT_IS(1, 18, 254, "0.000000000000000001000000");
    FORMAT_IS(1, 0, 24, "1.000000000000000000000000");
    FORMAT_IS(1, 0, 25, "1.000000000000000000000000");
}

/* format -> parse round trip, and parse of the shortest form gives the same value back */
static void test_format_parse_roundtrip(void)
{
    char buf[LIQ_DECIMAL_BUF];
    for (int it = 0; it < 200000; it++) {
        uint64_t r = rnd();
        int64_t v;
        switch (it % 4) {
        case 0: v = (int64_t)r; break;                              /* full range */
        case 1: v = (int64_t)(r % 2000001) - 1000000; break;        /* small */
        case 2: v = (int64_t)(r >> (r % 63)); break;                /* all magnitudes */
        default: v = -(int64_t)((r >> 1) >> (r % 62)); break;
        }
        if (v == INT64_MIN) v++;                                    /* not parseable, see overflow test */
        int scale = (int)(rnd() % (LIQ_MAX_SCALE + 1));
        int dec = (int)(rnd() % 30);
        if (dec > 24) dec = LIQ_DEC_NONE;
        size_t n = liq_decimal_format(v, scale, dec, buf);
        CHECK(n < LIQ_DECIMAL_BUF && buf[n] == '\0' && strlen(buf) == n);
        int64_t back = 0;
        uint8_t wd = 0;
        liq_status st = liq_decimal_parse(buf, n, scale, &back, &wd);
        if (st != LIQ_OK || back != v) {
            fprintf(stderr, "roundtrip %lld scale %d dec %d: '%s' -> st %d, %lld\n", (long long)v, scale,
                    dec, buf, st, (long long)back);
            liq_test_failures++;
            return;
        }
        /* wire decimals as written: max(needed, dec) */
        const char *dot = strchr(buf, '.');
        CHECK_EQ_I64(wd, dot ? (long long)(n - (size_t)(dot - buf) - 1) : 0);
        if (dec != LIQ_DEC_NONE && dot) CHECK((int)wd >= dec);
    }
}

static void test_double(void)
{
    int64_t v = 0;
    CHECK_EQ_I64(liq_fixed_from_double(60000.1, 1, &v), LIQ_OK);
    CHECK_EQ_I64(v, 600001);
    CHECK_EQ_I64(liq_fixed_from_double(0.1 + 0.2, 8, &v), LIQ_OK);
    CHECK_EQ_I64(v, 30000000);
    CHECK_EQ_I64(liq_fixed_from_double(0.1 + 0.2, 1, &v), LIQ_OK);
    CHECK_EQ_I64(v, 3);
    CHECK_EQ_I64(liq_fixed_from_double(-2.5, 1, &v), LIQ_OK);
    CHECK_EQ_I64(v, -25);
    CHECK_EQ_I64(liq_fixed_from_double(0.0, 18, &v), LIQ_OK);
    CHECK_EQ_I64(v, 0);
    CHECK_EQ_I64(liq_fixed_from_double(-0.0, 18, &v), LIQ_OK);
    CHECK_EQ_I64(v, 0);
    CHECK_EQ_I64(liq_fixed_from_double(1e-18, 18, &v), LIQ_OK);
    CHECK_EQ_I64(v, 1);
    CHECK_EQ_I64(liq_fixed_from_double(4.8e-7, 8, &v), LIQ_OK);
    CHECK_EQ_I64(v, 48);
    CHECK_EQ_I64(liq_fixed_from_double(9.0, 18, &v), LIQ_OK);
    CHECK_EQ_I64(v, 9000000000000000000LL);
    /* digits beyond the scale */
    v = 99;
    CHECK_EQ_I64(liq_fixed_from_double(1.005, 2, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(v, 99);   /* out untouched on error */
    CHECK_EQ_I64(liq_fixed_from_double(0.5, 0, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_fixed_from_double(-0.5, 0, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_fixed_from_double(0.25, 1, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_fixed_from_double(1e-9, 8, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_fixed_from_double(100.0001, 3, &v), LIQ_ERR_PRECISION);
    CHECK_EQ_I64(liq_fixed_from_double(5e-324, 0, &v), LIQ_OK);   /* denormal rounds to 0 within slack */
    CHECK_EQ_I64(v, 0);
    /* NaN / inf / range */
    CHECK_EQ_I64(liq_fixed_from_double(NAN, 2, &v), LIQ_ERR_NAN);
    CHECK_EQ_I64(liq_fixed_from_double(INFINITY, 2, &v), LIQ_ERR_INF);
    CHECK_EQ_I64(liq_fixed_from_double(-INFINITY, 2, &v), LIQ_ERR_INF);
    CHECK_EQ_I64(liq_fixed_from_double(1.7976931348623157e308, 0, &v), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_fixed_from_double(1e300, 2, &v), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_fixed_from_double(-1e300, 2, &v), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_fixed_from_double(9223372036854775808.0, 0, &v), LIQ_ERR_OVERFLOW);   /* 2^63 */
    CHECK_EQ_I64(liq_fixed_from_double(-9223372036854775808.0, 0, &v), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_fixed_from_double(9223372036854774784.0, 0, &v), LIQ_OK);    /* largest double < 2^63 */
    CHECK_EQ_I64(v, 9223372036854774784LL);
    CHECK_EQ_I64(liq_fixed_from_double(-9223372036854774784.0, 0, &v), LIQ_OK);
    CHECK_EQ_I64(v, -9223372036854774784LL);
    CHECK_EQ_I64(liq_fixed_from_double(9.3, 18, &v), LIQ_ERR_OVERFLOW);
    CHECK_EQ_I64(liq_fixed_from_double(92233720368.6, 8, &v), LIQ_ERR_OVERFLOW);
    /* to_double */
    CHECK(liq_fixed_to_double(6168599, 2) == 61685.99);
    CHECK(liq_fixed_to_double(-25, 1) == -2.5);
    CHECK(liq_fixed_to_double(48, 8) == 4.8e-7);
    CHECK(liq_fixed_to_double(0, 18) == 0.0);
}

/*
 * Tolerance property: the double nearest m / 10^s (what a JSON float parser or a
 * division gives) converts back to exactly m, for |m| < 2^49 at every scale; and
 * m + 1/2 unit (clearly off the grid) is rejected while |m| is small enough for a
 * double to tell (|m| < 2^40).
 */
static void test_double_tolerance(void)
{
    for (int it = 0; it < 300000; it++) {
        int scale = (int)(rnd() % (LIQ_MAX_SCALE + 1));
        uint64_t r = rnd();
        int64_t m = (int64_t)((r >> 15) >> (rnd() % 49));   /* < 2^49, all magnitudes */
        if (rnd() & 1) m = -m;
        double x = (double)m / (double)liq_pow10[scale];
        int64_t v = 0;
        liq_status st = liq_fixed_from_double(x, scale, &v);
        if (st != LIQ_OK || v != m) {
            fprintf(stderr, "from_double(%.17g, %d) = st %d v %lld, want %lld\n", x, scale, st, (long long)v,
                    (long long)m);
            liq_test_failures++;
            return;
        }
        /* the same through the shortest decimal string and strtod */
        char buf[LIQ_DECIMAL_BUF];
        liq_decimal_format(m, scale, LIQ_DEC_NONE, buf);
        double y = strtod(buf, NULL);
        if (liq_fixed_from_double(y, scale, &v) != LIQ_OK || v != m) {
            fprintf(stderr, "from_double(strtod('%s'), %d) != %lld\n", buf, scale, (long long)m);
            liq_test_failures++;
            return;
        }
        int64_t small = m % ((int64_t)1 << 40);
        double half = ((double)small + 0.5) / (double)liq_pow10[scale];
        if (scale <= 15 && liq_fixed_from_double(half, scale, &v) != LIQ_ERR_PRECISION) {
            fprintf(stderr, "from_double(%.17g, %d) accepted a half unit\n", half, scale);
            liq_test_failures++;
            return;
        }
    }
}

int main(void)
{
    test_pow10();
    test_status_str();
    test_parse_basic();
    test_parse_errors();
    test_parse_precision();
    test_parse_overflow();
    test_parse_exponent();
    test_parse_huge_exponent();
    test_wire_decimals();
    test_format();
    test_format_parse_roundtrip();
    test_double();
    test_double_tolerance();
    TEST_MAIN_END();
}
